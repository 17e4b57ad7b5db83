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
prefix="$PWD/node_modules/.cache/tslab-kernel"
mkdir -p "$prefix"
# tslab loads the CommonJS bundles (dist/index.cjs): build them; show the log only on failure.
start=$SECONDS
pnpm build >"$prefix/build.log" 2>&1 || { cat "$prefix/build.log"; exit 1; }
echo "notebooks: packages built in $((SECONDS - start)) s"
export PATH="$PWD/packages/notebook/node_modules/.bin:$PATH"
tslab install --python "$PY" --prefix "$prefix" >/dev/null
export JUPYTER_PATH="$prefix/share/jupyter"
exec "$PY" notebooks/run.py "$@" ${NOTEBOOKS:-notebooks/*.ipynb}
