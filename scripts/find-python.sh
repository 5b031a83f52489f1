#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter: $PYTHON if set, then
# PATH, then pyenv. A pyenv shim named python3.10 can exist on PATH and still
# fail, so every candidate is actually run.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.10.*/bin/python3.10; do candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  candidates+=("$p")
done
for c in "${candidates[@]}"; do
  if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; then
    command -v "$c" 2>/dev/null || echo "$c"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: Python 3.10 was not found.
Rasa Open Source 3.6 runs on Python 3.8-3.10 only. Install Python 3.10, for example:
  pyenv install 3.10      (then run make again), or
  apt-get install python3.10 python3.10-venv
or point PYTHON at one:  make run PYTHON=/path/to/python3.10
MSG
exit 1
