#!/usr/bin/env bash
# What `make test` needs from the system: Debian's Chromium (the browser tests
# drive it) and Node.js with npm (the widget is built with them). Installed
# with apt-get when missing (as root, or with sudo); nothing happens when both
# are there.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "Please install ${missing[*]} (apt-get install ${missing[*]}): the tests need them." >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing ${missing[*]} (apt-get)"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
