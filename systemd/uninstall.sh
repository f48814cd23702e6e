#!/usr/bin/env bash
# Remove the edge-gateway service.
#
#   sudo systemd/uninstall.sh [--root DIR] [--purge]
#
# Stops and disables the service and removes the unit and /opt/edge-gateway. The buffered
# readings (/var/lib/edge-gateway) and the configuration (/etc/edge-gateway) are kept, so a
# reinstall carries on where it left off, unless --purge is given; --purge also removes the
# edge-gateway user and groups (edge-gateway, edge-gateway-ops, edge-gateway-actuate). --root/DESTDIR: another tree.
set -euo pipefail

root=${DESTDIR:-/}
purge=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --purge) purge=yes; shift ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "uninstall.sh: error: $*" >&2; exit 1; }
say() { echo "uninstall.sh: $*"; }

[[ -d $root ]] || fail "root directory '$root' does not exist"
root=$(cd "$root" && pwd)
at() { if [[ $root == / ]]; then echo "$1"; else echo "$root$1"; fi; }
if [[ $root == / && $(id -u) -ne 0 ]]; then fail "uninstalling from the running system needs root (sudo)"; fi

unit=$(at /etc/systemd/system/edge-gateway.service)
if [[ $root != / ]]; then
  if [[ -L $(at /etc/systemd/system/multi-user.target.wants/edge-gateway.service) ]]; then
    rm -f "$(at /etc/systemd/system/multi-user.target.wants/edge-gateway.service)"
    say "disabled edge-gateway.service in $root"
  fi
elif [[ -d /run/systemd/system ]]; then
  if systemctl --quiet is-active edge-gateway.service 2>/dev/null; then
    systemctl stop edge-gateway.service
    say "stopped edge-gateway.service"
  fi
  if systemctl --quiet is-enabled edge-gateway.service 2>/dev/null; then
    systemctl --quiet disable edge-gateway.service
    say "disabled edge-gateway.service"
  fi
else
  say "systemd is not running here: nothing to stop"
  rm -f /etc/systemd/system/multi-user.target.wants/edge-gateway.service
fi

for path in "$unit" "$(at /etc/modules-load.d/edge-gateway.conf)"; do
  if [[ -e $path ]]; then rm -f "$path"; say "removed ${path#"${root%/}"}"; fi
done
if [[ -e $(at /opt/edge-gateway) ]]; then
  rm -rf "$(at /opt/edge-gateway)"
  say "removed /opt/edge-gateway"
fi
if [[ $root == / && -d /run/systemd/system ]]; then systemctl daemon-reload; fi

if [[ $purge == yes ]]; then
  for dir in /var/lib/edge-gateway /etc/edge-gateway /var/lib/private/edge-gateway; do
    if [[ -e $(at "$dir") ]]; then rm -rf "$(at "$dir")"; say "purged $dir"; fi
  done
  prefix_args=()
  if [[ $root != / ]]; then prefix_args=(--prefix "$root"); fi
  if [[ -f $(at /etc/passwd) ]] && grep -q '^edge-gateway:' "$(at /etc/passwd)"; then
    userdel "${prefix_args[@]}" edge-gateway
    say "removed user edge-gateway"
  fi
  for g in edge-gateway edge-gateway-ops edge-gateway-actuate; do
    if [[ -f $(at /etc/group) ]] && grep -q "^$g:" "$(at /etc/group)"; then
      groupdel "${prefix_args[@]}" "$g"
      say "removed group $g"
    fi
  done
else
  say "kept /var/lib/edge-gateway (buffered readings) and /etc/edge-gateway (config); --purge removes them"
fi
