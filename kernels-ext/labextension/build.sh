#!/bin/sh
# Build the prebuilt JupyterLab extension into wasmlab/notebook/labextension/ (see README.md).
# Needs Node >= 18 with npm, and a Python environment with JupyterLab 4 ($PYTHON, default: the repo's .venv).
set -eu
cd "$(dirname "$0")"
PYTHON=${PYTHON:-../../.venv/bin/python}
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc
# The shared-module versions come from the installed JupyterLab's own package metadata.
CORE_PATH=$("$PYTHON" -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')
node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path "$CORE_PATH" .
# Tells `jupyter labextension list` which Python package ships the extension.
cp install.json ../../wasmlab/notebook/labextension/install.json
