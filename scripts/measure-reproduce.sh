#!/usr/bin/env bash
# Measures the README's first command as a new user meets it: a fresh clone of this checkout, Python and Jupyter
# hidden in a private mount namespace (so Node alone must do), then `npm ci` and `npm run reproduce`, timed, a
# rerun (nothing changed), and `git status` (must be clean). Needs root (unshare --mount). Prints one line per phase.
# Usage: bash scripts/measure-reproduce.sh [WORKDIR]   (default: a new temp folder)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
git clone -q "$src" "$work/p"
cd "$work/p"
unshare --mount bash -c '
  for f in /usr/bin/python3* /usr/bin/python /usr/local/bin/python* "$HOME"/.pyenv/shims/python* "$HOME"/.pyenv/versions/*/bin/python* /usr/bin/jupyter*; do
    [ -e "$f" ] && mount --bind /dev/null "$f"
  done
  if python3 -c 1 2>/dev/null; then echo "python still runs: cannot measure without it"; exit 1; fi
  echo "python and jupyter hidden"
  s=$(date +%s); npm ci --no-audit --no-fund > npm-ci.log 2>&1; echo "npm ci: $(( $(date +%s) - s )) s"
  s=$(date +%s); npm run reproduce > reproduce.log 2>&1; echo "npm run reproduce: $(( $(date +%s) - s )) s"
  s=$(date +%s); npm run reproduce > reproduce-again.log 2>&1; echo "rerun: $(( $(date +%s) - s )) s"
  grep -E "^\[[0-9]+/[0-9]+\]" reproduce.log
  dirty=$(git status --short --untracked-files=all -- . ":!npm-ci.log" ":!reproduce.log" ":!reproduce-again.log")
  if [ -n "$dirty" ]; then echo "git status not clean:"; echo "$dirty"; exit 1; fi
  echo "git status clean"
'
