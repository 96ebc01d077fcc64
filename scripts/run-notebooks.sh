#!/usr/bin/env bash
# Executes notebooks headless with Node alone (tslab as a library, one fresh kernel process per notebook:
# src/notebook/run.ts); no Jupyter or Python needed. Any failing cell fails the run.
# Usage: scripts/run-notebooks.sh [--in-place | --out DIR] [notebook ...]   (default: every notebooks/*.ipynb)
#   --in-place  write the executed notebooks (with outputs) back where they are; default: only check that they run.
#   --out DIR   write executed copies to DIR instead: NAME.ipynb, NAME.html, and one plotly.min.js for the figures.
# SSB_CT_NOTEBOOK_ENGINE=jupyter runs them through jupyter nbconvert and the tslab kernel instead (needs Debian's
# jupyter-nbconvert python3-nbclient python3-ipykernel; see environment.md).
set -euo pipefail
caller="$PWD"
cd "$(dirname "$0")/.."
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$caller/$1" ;; esac; }

inplace=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --in-place) inplace=1; shift ;;
    --out) [ $# -ge 2 ] || { echo "--out needs a folder" >&2; exit 2; }; out="$(abs "$2")"; shift 2 ;;
    --) shift; break ;;
    -*) echo "unknown option: $1 (usage: $0 [--in-place | --out DIR] [notebook ...])" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $inplace -eq 0 ] || [ -z "$out" ] || { echo "--in-place and --out exclude each other" >&2; exit 2; }
nbs=()
for nb in "$@"; do nbs+=("$(abs "$nb")"); done
[ ${#nbs[@]} -gt 0 ] || nbs=("$PWD"/notebooks/*.ipynb)

node scripts/build-cjs.mjs
export SSB_CT_PROGRESS_INTERVAL_S="${SSB_CT_PROGRESS_INTERVAL_S:-30}"

if [ "${SSB_CT_NOTEBOOK_ENGINE:-node}" != jupyter ]; then
  mode=()
  [ $inplace -eq 0 ] || mode=(--in-place)
  [ -z "$out" ] || mode=(--out "$out")
  exec node --import tsx src/notebook/cli.ts run "${mode[@]}" "${nbs[@]}"
fi

command -v jupyter >/dev/null || { echo "jupyter not found: install Debian's jupyter-nbconvert python3-nbclient python3-ipykernel (see environment.md)" >&2; exit 1; }
bash scripts/register-kernel.sh
export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
if [ -n "$out" ]; then mkdir -p "$out"; dest_root="$out"; else dest_root=$(mktemp -d); trap 'rm -rf "$dest_root"' EXIT; fi
written=()
for nb in "${nbs[@]}"; do
  echo "executing $nb"
  dest="$dest_root"
  [ $inplace -eq 1 ] && dest="$(dirname "$nb")"
  jupyter nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=1200 --ExecutePreprocessor.kernel_name=tslab \
    --output-dir="$dest" "$nb"
  written+=("$dest/$(basename "$nb")")
done
[ -z "$out" ] || node --import tsx src/notebook/cli.ts html --out "$out" "${written[@]}"
echo "all ${#nbs[@]} notebook(s) ran without error"
