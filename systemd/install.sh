#!/usr/bin/env bash
# Install edge-gateway from a built repository checkout as a systemd service.
#
#   sudo systemd/install.sh [--root DIR] [--source DIR] [--example NAME] [--no-start]
#
# Idempotent: a second run with the same checkout changes nothing. Example config is copied
# into /etc/edge-gateway only while that holds no files; existing config is never touched.
# --example picks which config/examples/<NAME> set to seed (needed only if there are several).
# --root (or DESTDIR) installs into another filesystem tree, e.g. an image being prepared or a
# test directory; users/groups are then created in that tree's /etc and the service is enabled
# offline (systemctl --root), never on the running system.
set -euo pipefail

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "$0"
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${DESTDIR:-/}
source_dir=$(dirname "$script_dir")
start=yes
example=

while [[ $# -gt 0 ]]; do
  case $1 in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --source) source_dir=${2:?--source needs a directory}; shift 2 ;;
    --source=*) source_dir=${1#--source=}; shift ;;
    --example) example=${2:?--example needs a name}; shift 2 ;;
    --example=*) example=${1#--example=}; shift ;;
    --no-start) start=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

[[ -d $root ]] || fail "root directory '$root' does not exist"
root=$(cd "$root" && pwd)
source_dir=$(cd "$source_dir" && pwd)
# Paths inside the target tree; "$root" is "/" for a real install.
at() { if [[ $root == / ]]; then echo "$1"; else echo "$root$1"; fi; }

[[ -f $source_dir/package.json ]] || fail "no package.json in '$source_dir' (pass --source <checkout>)"
[[ -f $source_dir/dist/gateway/cli.js ]] || fail "'$source_dir/dist/gateway/cli.js' is missing: run 'npm ci && npm run build' in the checkout first"
[[ -d $source_dir/node_modules ]] || fail "'$source_dir/node_modules' is missing: run 'npm ci' in the checkout first"
[[ -f $source_dir/systemd/edge-gateway.service ]] || fail "'$source_dir/systemd/edge-gateway.service' is missing"

is_root=no
if [[ $(id -u) -eq 0 ]]; then is_root=yes; fi
[[ $root != / || $is_root == yes ]] || fail "installing onto the running system needs root (sudo)"

# The Node the checkout's native modules were built for: its own, which `npm ci` links as
# node_modules/.bin/node (README, "Quick start"); else the first on PATH.
if [[ -x $source_dir/node_modules/.bin/node ]]; then
  node_bin=$source_dir/node_modules/.bin/node
else
  node_bin=$(command -v node) || fail "node is not on PATH; install Node.js 24 first (or use the .deb, which bundles it)"
fi
node_bin=$(readlink -f "$node_bin")
# The lines package.json's engines admits (.ci/node-lines): the ones the whole suite runs on.
"$node_bin" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a===24&&b>=21?0:1)' \
  || fail "$node_bin is Node $("$node_bin" -p process.versions.node); edge-gateway needs Node 24.21+ (24.x; see README)"
version=$("$node_bin" -p 'require(process.argv[1]).version' "$source_dir/package.json")
[[ $version =~ ^[0-9A-Za-z.+-]+$ ]] || fail "package.json version '$version' is not usable as a directory name"

changed=no

# --- system user and groups -------------------------------------------------------------------
prefix_args=()
if [[ $root != / ]]; then prefix_args=(--prefix "$root"); fi

has_group() { [[ -f $(at /etc/group) ]] && grep -q "^$1:" "$(at /etc/group)"; }
has_user() { [[ -f $(at /etc/passwd) ]] && grep -q "^$1:" "$(at /etc/passwd)"; }
in_group() { grep -q "^$1:[^:]*:[^:]*:\(.*,\)\{0,1\}$2\(,.*\)\{0,1\}$" "$(at /etc/group)"; }

if [[ $is_root == yes ]]; then
  if ! has_group edge-gateway; then
    groupadd "${prefix_args[@]}" --system edge-gateway
    say "created group edge-gateway"; changed=yes
  fi
  # Technicians: control socket only (status, tail, reload), never the secrets group above.
  if ! has_group edge-gateway-ops; then
    groupadd "${prefix_args[@]}" --system edge-gateway-ops
    say "created group edge-gateway-ops (add technicians: usermod -a -G edge-gateway-ops NAME)"; changed=yes
  fi
  if ! has_user edge-gateway; then
    useradd "${prefix_args[@]}" --system --gid edge-gateway --home-dir /var/lib/edge-gateway \
      --no-create-home --shell /usr/sbin/nologin --comment "edge-gateway daemon" edge-gateway
    say "created system user edge-gateway"; changed=yes
  fi
  # Actuation (edge-gateway write/pulse on actuate.sock): a bigger right than reading status, so a
  # group of its own. The daemon joins it only to hand the socket to it (chgrp needs membership);
  # a member also needs edge-gateway-ops to pass through /run/edge-gateway (2750, group ops).
  if ! has_group edge-gateway-actuate; then
    groupadd "${prefix_args[@]}" --system edge-gateway-actuate
    say "created group edge-gateway-actuate (technicians who may move equipment need it AND edge-gateway-ops:" \
      "usermod -a -G edge-gateway-ops,edge-gateway-actuate NAME)"; changed=yes
  fi
  if ! in_group edge-gateway-actuate edge-gateway; then
    usermod "${prefix_args[@]}" -a -G edge-gateway-actuate edge-gateway
    say "added edge-gateway to group edge-gateway-actuate (to hand it the actuate socket)"; changed=yes
  fi
  # Serial ports, evdev scanners and GPIO. Groups that do not exist on this box are skipped:
  # the unit lists only dialout, so a missing gpio group cannot break the start.
  for g in dialout gpio input; do
    if has_group "$g" && ! in_group "$g" edge-gateway; then
      usermod "${prefix_args[@]}" -a -G "$g" edge-gateway
      say "added edge-gateway to group $g"; changed=yes
    fi
  done
  gid=$(awk -F: '$1=="edge-gateway"{print $3}' "$(at /etc/group)")
  # Older docs put technicians in edge-gateway, which reads every secret. Said on each run, not fixed:
  # removing someone from a group is the administrator's decision.
  people=$(awk -F: '$1=="edge-gateway"{print $4}' "$(at /etc/group)")
  if [[ -n $people ]]; then
    say "warning: group edge-gateway (reads the secrets) has members: $people; technicians belong in" \
      "edge-gateway-ops instead: gpasswd -d NAME edge-gateway && usermod -a -G edge-gateway-ops NAME"
  fi
else
  say "not root: skipping user/group creation and ownership (files stay owned by $(id -un))"
  gid=
fi

# --- package into /opt/edge-gateway/<version> --------------------------------------------------
opt=$(at /opt/edge-gateway)
mkdir -p "$opt"
# Staged outside /opt, so a run that finds nothing to change leaves /opt untouched (not even a
# directory mtime). Only a changed tree is copied next to its final place and renamed in.
# /var/tmp, not /tmp: /tmp may be RAM-backed, and node_modules is large for a 1 GB Pi.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/edge-gateway-install.XXXXXX")
incoming=
replaced=
cleanup() {
  rm -rf "$work"
  if [[ -n $incoming ]]; then rm -rf "$incoming"; fi
  if [[ -n $replaced ]]; then rm -rf "$replaced"; fi
}
trap cleanup EXIT
stage=$work/$version
mkdir -p "$stage/bin"
for item in package.json package-lock.json dist config systemd docs README.md LICENSE node_modules; do
  if [[ -e $source_dir/$item ]]; then cp -R --preserve=mode,timestamps "$source_dir/$item" "$stage/"; fi
done
# Drop dev dependencies from the copy without network access: native modules stay exactly as
# built for this Node in the checkout. A private cache keeps npm's logs out of root's home.
# NODE_DISABLE_COMPILE_CACHE: npm 11 on Node >= 22 enables Node's module compile cache, which
# would leave a node-compile-cache directory in $TMPDIR after every install.
if [[ -f $stage/package-lock.json ]]; then
  (cd "$stage" && NODE_DISABLE_COMPILE_CACHE=1 npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund \
      --cache "$work/.npm-cache" --logs-max=0 >/dev/null) \
    || fail "npm prune --omit=dev failed in $stage"
  # npm leaves the emptied scope directories (@vitest, ...) behind.
  find "$stage/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
fi
# The Node binary is pinned: better-sqlite3 and serialport were compiled for its ABI, and a
# different node found first on the service's PATH would fail to load them.
cat >"$stage/bin/edge-gateway" <<EOF
#!/bin/sh
# Generated by systemd/install.sh. Pins the Node binary the native modules were built for.
here=\$(dirname "\$(readlink -f "\$0")")
exec "$node_bin" "\$here/../dist/gateway/cli.js" "\$@"
EOF
chmod 0755 "$stage/bin/edge-gateway"
if [[ $is_root == yes ]]; then chown -R 0:0 "$stage"; fi
chmod -R go-w "$stage"

target=$opt/$version
if [[ -d $target ]] && diff -r --no-dereference -q "$stage" "$target" >/dev/null 2>&1; then
  say "unchanged: /opt/edge-gateway/$version"
else
  incoming=$(mktemp -d "$opt/.incoming.XXXXXX")
  cp -a "$stage/." "$incoming/"
  chmod 0755 "$incoming"
  if [[ -e $target ]]; then
    # Same version, different build: swap the tree. The running daemon has its code loaded;
    # 'current' dangles only between these two renames.
    replaced=$(mktemp -d "$opt/.replaced.XXXXXX")
    mv "$target" "$replaced/"
    say "replacing /opt/edge-gateway/$version (same version, different contents)"
  fi
  mv "$incoming" "$target"
  incoming=
  say "installed /opt/edge-gateway/$version"; changed=yes
fi

# Atomic flip: rename(2) of a new symlink over the old one, so 'current' is never missing.
# The target is relative so the link also resolves inside a --root tree.
if [[ $(readlink "$opt/current" 2>/dev/null || true) != "$version" ]]; then
  ln -sfn "$version" "$opt/.current.new"
  mv -Tf "$opt/.current.new" "$opt/current"
  say "current -> $version"; changed=yes
fi

# --- configuration: examples only into an empty /etc/edge-gateway -----------------------------
# Seeding per missing file would bring back an example device a technician deleted on purpose
# (and the daemon would start polling it), so an existing config tree is never touched.
etc=$(at /etc/edge-gateway)
mkdir -p "$etc"
examples=$source_dir/config/examples
# An example set is a directory laid out like /etc/edge-gateway: gateway.yaml + devices/*.yaml,
# and secrets/ for the password files its config names.
example_sets=()
if [[ -d $examples ]]; then
  while IFS= read -r -d '' f; do example_sets+=("$(basename "$(dirname "$f")")"); done \
    < <(find "$examples" -mindepth 2 -maxdepth 2 -name gateway.yaml -print0 | sort -z)
fi
if [[ -n $example && ! -f $examples/$example/gateway.yaml ]]; then
  fail "no example set '$example' in $examples (have: ${example_sets[*]:-none})"
fi
if [[ -z $example && ${#example_sets[@]} -eq 1 ]]; then example=${example_sets[0]}; fi

if [[ -n $(find "$etc" -type f -print -quit) ]]; then
  say "kept existing /etc/edge-gateway (examples: /opt/edge-gateway/current/config/examples)"
elif [[ -z $example ]]; then
  say "left /etc/edge-gateway empty: ${#example_sets[@]} example sets (${example_sets[*]:-none});" \
    "pass --example NAME or write gateway.yaml yourself (the service refuses to start without it)"
else
  while IFS= read -r -d '' file; do
    rel=${file#"$examples/$example/"}
    dest=$etc/$rel
    # 0640 root:edge-gateway: config may hold broker credentials; the daemon only reads it.
    mkdir -p "$(dirname "$dest")"
    install -m 0640 "$file" "$dest"
    if [[ -n $gid ]]; then chown "0:$gid" "$dest"; fi
    say "added example config /etc/edge-gateway/$rel (from example '$example')"; changed=yes
  done < <(find "$examples/$example" -type f \( -name '*.yaml' -o -name '*.yml' -o -path "$examples/$example/secrets/*" \) -print0 | sort -z)
  # The example's passwordFile targets live in secrets/: without them the seeded config is invalid.
  # The folder is closed to others like the files in it (0750), whatever the installer's umask.
  if [[ -d $etc/secrets ]]; then
    chmod 0750 "$etc/secrets"
    if [[ -n $gid ]]; then chown "0:$gid" "$etc/secrets"; fi
  fi
fi

# --- unit and boot-time kernel modules ---------------------------------------------------------
install_if_changed() { # <source file> <dest> <mode> <label>
  if [[ -f $2 ]] && cmp -s "$1" "$2"; then return 1; fi
  mkdir -p "$(dirname "$2")"
  install -m "$3" "$1" "$2"
  say "installed $4"; changed=yes
}
unit_changed=no
if install_if_changed "$source_dir/systemd/edge-gateway.service" "$(at /etc/systemd/system/edge-gateway.service)" 0644 \
  /etc/systemd/system/edge-gateway.service; then unit_changed=yes; fi
# DeviceAllow=char-ttyUSB/char-ttyACM is resolved from /proc/devices when the service starts;
# loading the USB serial drivers at boot keeps adapters plugged in later usable.
modules_conf=$work/modules-load.conf
printf '# edge-gateway: USB serial adapters must have a device major before the service starts\nusbserial\ncdc_acm\n' >"$modules_conf"
install_if_changed "$modules_conf" "$(at /etc/modules-load.d/edge-gateway.conf)" 0644 /etc/modules-load.d/edge-gateway.conf || true

# --- systemd -----------------------------------------------------------------------------------
if [[ $root != / ]]; then
  if command -v systemctl >/dev/null; then
    if [[ ! -L $(at /etc/systemd/system/multi-user.target.wants/edge-gateway.service) ]]; then
      systemctl --root="$root" --quiet enable edge-gateway.service
      say "enabled edge-gateway.service in $root (offline)"; changed=yes
    fi
  else
    say "systemctl not found: enable edge-gateway.service in $root yourself"
  fi
elif [[ ! -d /run/systemd/system ]]; then
  say "systemd is not running here (no /run/systemd/system, e.g. a container): skipped" \
    "'systemctl daemon-reload && systemctl enable --now edge-gateway'"
else
  if [[ $unit_changed == yes ]]; then systemctl daemon-reload; fi
  if ! systemctl --quiet is-enabled edge-gateway.service 2>/dev/null; then
    systemctl --quiet enable edge-gateway.service
    say "enabled edge-gateway.service"
  fi
  if [[ $start == yes ]]; then
    if systemctl --quiet is-active edge-gateway.service; then
      if [[ $changed == yes ]]; then
        systemctl restart edge-gateway.service
        say "restarted edge-gateway.service"
      fi
    else
      systemctl start edge-gateway.service
      say "started edge-gateway.service"
    fi
  fi
fi

if [[ $changed == no ]]; then say "nothing to do: edge-gateway $version is installed"; fi
