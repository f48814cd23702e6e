#!/usr/bin/env bash
# `npm run setup`: install the Debian / Raspberry Pi OS packages that `npm ci` and `npm test`
# need (listed, with why, in .ci/debian-packages.txt). Installs only what is missing; uses sudo
# when not run as root. Safe to run again. `.ci/setup-debian.sh FILE` installs another list the
# same way (.ci/run: .ci/debian-packages-packaging.txt, for `npm run package`).
set -euo pipefail
cd "$(dirname "$0")/.."
list=${1:-.ci/debian-packages.txt}

mapfile -t packages < <(sed -e 's/#.*//' "$list" | awk 'NF { print $1 }')
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages of $list are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup: no apt-get here; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root, or install sudo: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
