#!/usr/bin/env bash
# Executes every notebook headless through Jupyter with the tslab kernel; any failing cell fails the run.
# Usage: scripts/run-notebooks.sh [--in-place] [notebook ...]
#   --in-place  write the executed notebooks (with outputs) back to notebooks/; default: a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
inplace=0
if [ "${1:-}" = "--in-place" ]; then inplace=1; shift; fi
nbs=("$@")
[ ${#nbs[@]} -gt 0 ] || nbs=(notebooks/*.ipynb)
command -v jupyter >/dev/null || { echo "jupyter not found: install Debian's jupyter-nbconvert python3-nbclient python3-ipykernel (see environment.md)" >&2; exit 1; }
node scripts/build-cjs.mjs
bash scripts/register-kernel.sh
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
out=$(mktemp -d)
for nb in "${nbs[@]}"; do
  echo "executing $nb"
  dest="$out"
  [ $inplace -eq 1 ] && dest="$(dirname "$nb")"
  SSB_CT_PROGRESS_INTERVAL_S=30 jupyter nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=1200 --ExecutePreprocessor.kernel_name=tslab \
    --output-dir="$dest" "$nb"
done
[ $inplace -eq 1 ] || rm -rf "$out"
echo "all ${#nbs[@]} notebook(s) ran without error"
