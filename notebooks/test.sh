#!/usr/bin/env bash
# `pnpm test:notebooks`: builds the packages, installs the tslab kernel into a local prefix
# and executes every notebook with run.py (pass --write to save the outputs in place).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! command -v jupyter-nbconvert >/dev/null || ! "$PY" -c "import nbclient, nbformat, jupyter_client, ipykernel" 2>/dev/null; then
  echo "test:notebooks needs Debian's jupyter-nbconvert python3-nbclient jupyter-client jupyter-core python3-ipykernel (.ci/run installs them)" >&2
  exit 1
fi
pnpm build >/dev/null
prefix="$PWD/node_modules/.cache/tslab-kernel"
export PATH="$PWD/packages/notebook/node_modules/.bin:$PATH"
tslab install --python "$PY" --prefix "$prefix" >/dev/null
export JUPYTER_PATH="$prefix/share/jupyter"
exec "$PY" notebooks/run.py "$@" ${NOTEBOOKS:-notebooks/*.ipynb}
