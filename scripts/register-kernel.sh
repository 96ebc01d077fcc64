#!/usr/bin/env bash
# Registers the tslab (TypeScript) Jupyter kernel in a project-local prefix, so nothing outside the checkout changes.
# Use it with: export JUPYTER_PATH="$PWD/.jupyter/share/jupyter"
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
[ -x "$py" ] || py=python3
node_modules/.bin/tslab install --python="$py" --prefix="$PWD/.jupyter" --binary="$PWD/node_modules/.bin/tslab" >/dev/null
echo "tslab kernel registered in .jupyter/share/jupyter/kernels/ (export JUPYTER_PATH=\"$PWD/.jupyter/share/jupyter\")"
