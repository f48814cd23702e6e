#!/usr/bin/env bash
# Build the self-contained Debian packages: edge-gateway_<version>_{amd64,arm64}.deb.
#
#   npm run package                               both architectures into build/deb/
#   systemd/deb/build-deb.sh [--arch amd64|arm64]... [--version V] [--out DIR]
#
# Each package holds, under /opt/edge-gateway: the compiled app (dist/gateway, dist/drivers),
# production dependencies only, and the bundled Node runtime (.ci/node-lines) for that
# architecture. Native addons (better-sqlite3, @serialport/bindings-cpp, epoll) are compiled from
# source against that runtime's headers: arm64 with Debian's cross compiler
# (crossbuild-essential-arm64), so the Pi needs neither a compiler nor the network.
# Needs: dpkg-dev (dpkg-deb), g++ and g++-aarch64-linux-gnu, python3 (node-gyp), fakeroot not needed
# (dpkg-deb --root-owner-group).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
archs=()
version=
out=$repo/build/deb
while [[ $# -gt 0 ]]; do
  case $1 in
    --arch) archs+=("${2:?--arch needs amd64 or arm64}"); shift 2 ;;
    --version) version=${2:?--version needs a Debian version}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ ${#archs[@]} -gt 0 ]] || archs=(amd64 arm64)

fail() { echo "build-deb.sh: error: $*" >&2; exit 1; }
say() { echo "build-deb.sh: $*"; }

for tool in dpkg-deb python3 make; do command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install dpkg-dev python3 make)"; done
[[ -f $repo/dist/gateway/cli.js ]] || fail "dist/ is missing: run 'npm run build' first (npm run package does)"
[[ -d $repo/node_modules/typescript ]] || fail "run 'npm ci' first: the build uses npm's cache of the locked dependencies"

# The project's node-gyp (a devDependency): the one `npm ci` compiles the development tree's addons
# with (.ci/pinned-node/node-gyp.cjs), whichever npm the box has; Debian's npm has no bundled one,
# and Debian's own node-gyp links addons against the distribution's libnode.
node_gyp=$repo/node_modules/node-gyp/bin/node-gyp.js
[[ -f $node_gyp ]] || fail "node-gyp not found at $node_gyp: run 'npm ci' first"
node_release=$("$repo/.ci/node-runtime.sh" bundled)
pkg_version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
version=${version:-$pkg_version}
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || fail "'$version' is not a Debian version"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/edge-gateway-deb.XXXXXX")
[[ -n ${EDGE_GATEWAY_KEEP_WORK:-} ]] || trap 'rm -rf "$work"' EXIT

build_arch() { # <debian arch>
  local deb_arch=$1 node_arch triplet runtime root app
  case $deb_arch in
    amd64) node_arch=x64; triplet= ;;
    arm64) node_arch=arm64; triplet=aarch64-linux-gnu ;;
    *) fail "unsupported architecture '$deb_arch' (amd64 or arm64)" ;;
  esac
  runtime=$("$repo/.ci/node-runtime.sh" dir "$node_release" "$node_arch")
  root=$work/$deb_arch
  app=$root/opt/edge-gateway
  mkdir -p "$app/bin" "$app/node/bin" "$app/dist"

  # --- the app: compiled code the daemon runs, not tests, rigs or benchmarks ------------------
  cp -R "$repo/dist/gateway" "$repo/dist/drivers" "$app/dist/"
  find "$app/dist" \( -name '*.test.js' -o -name '*.test.js.map' \) -delete
  # Not the daemon's either: the template new drivers start from, and modules only tests import.
  rm -rf "$app/dist/drivers/_template"
  rm -f "$app/dist/gateway/outbox/inspect".*
  cp "$repo/package.json" "$repo/package-lock.json" "$repo/README.md" "$app/"
  mkdir -p "$app/config" "$app/systemd"
  cp -R "$repo/config/examples" "$repo/config/schema" "$app/config/"
  cp "$repo/systemd/README.md" "$app/systemd/"
  cp -R "$repo/docs" "$app/docs"

  # --- production dependencies, native addons built from source for this runtime and arch ----
  # --ignore-scripts: nothing runs against the build machine's Node; the addons are built below.
  # The lockfile names the dev dependency .ci/pinned-node, installed as a copy (.npmrc): npm ci
  # checks it against both even when it omits dev, so they come along and leave again after.
  mkdir -p "$app/.ci"
  cp "$repo/.npmrc" "$app/"
  cp -R "$repo/.ci/pinned-node" "$app/.ci/"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund \
      --logs-max=0 >/dev/null) || fail "npm ci --omit=dev failed for $deb_arch"
  # The checkout's own Node (an optional dependency, node_modules/.bin/node): the package has its
  # runtime in node/, for its architecture.
  rm -rf "$app/node_modules"/node-linux-* "$app/node_modules/.bin/node" "$app/.npmrc" "$app/.ci"
  local env=(npm_config_nodedir="$runtime" npm_config_arch="$node_arch" npm_config_target_arch="$node_arch"
    npm_config_build_from_source=true)
  if [[ -n $triplet ]]; then
    command -v "$triplet-g++" >/dev/null || fail "$triplet-g++ is missing (apt-get install crossbuild-essential-$deb_arch)"
    env+=(CC="$triplet-gcc" CXX="$triplet-g++" LINK="$triplet-g++" AR="$triplet-ar" CC_host=gcc CXX_host=g++)
  fi
  local addon extra
  for addon in better-sqlite3 @serialport/bindings-cpp epoll; do
    [[ -d $app/node_modules/$addon ]] || fail "$addon is not a production dependency any more: update build-deb.sh"
    say "$deb_arch: compiling $addon against Node $node_release"
    # better-sqlite3 skips compiling when it ships a prebuilt binary, unless forced.
    extra=(); if [[ $addon == better-sqlite3 ]]; then extra=(--force_build=1); fi
    (cd "$app/node_modules/$addon" && env "${env[@]}" node "$node_gyp" rebuild --release \
        --nodedir="$runtime" --arch="$node_arch" -j 2 "${extra[@]}" >"$work/gyp-$deb_arch-${addon//\//_}.log" 2>&1) \
      || { tail -30 "$work/gyp-$deb_arch-${addon//\//_}.log" >&2; fail "compiling $addon for $deb_arch failed"; }
    local built
    built=$(find "$app/node_modules/$addon/build/Release" -maxdepth 1 -name '*.node' | head -1)
    [[ -n $built ]] || fail "$addon produced no .node file"
    file -b "$built" | grep -q "$( [[ $deb_arch == arm64 ]] && echo aarch64 || echo x86-64 )" \
      || fail "$built is not a $deb_arch binary: $(file -b "$built")"
    # Only the addon itself is loaded; objects and the bundled SQLite sources are build leftovers.
    find "$app/node_modules/$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$app/node_modules/$addon/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
    rm -rf "$app/node_modules/$addon/deps" "$app/node_modules/$addon/src" "$app/node_modules/$addon/prebuilds"
  done
  "$repo/systemd/deb/trim.sh" "$app/node_modules"

  # --- the Node runtime the addons were built for -----------------------------------------------
  install -m 0755 "$runtime/bin/node" "$app/node/bin/node"
  # The official binary carries its debug info (~30 MB); symbols are for debuggers, not the Pi.
  "${triplet:+$triplet-}strip" --strip-all "$app/node/bin/node"
  find "$app/node_modules" -name '*.node' -exec "${triplet:+$triplet-}strip" --strip-unneeded {} +
  install -m 0644 "$runtime/LICENSE" "$app/node/LICENSE"
  cat >"$app/bin/edge-gateway" <<'WRAP'
#!/bin/sh
# Runs the daemon/CLI on the bundled Node runtime the native addons were compiled for.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../node/bin/node" "$here/../dist/gateway/cli.js" "$@"
WRAP
  chmod 0755 "$app/bin/edge-gateway"
  mkdir -p "$root/usr/bin"
  ln -s /opt/edge-gateway/bin/edge-gateway "$root/usr/bin/edge-gateway"

  # --- systemd unit, boot-time modules, conffiles, docs -----------------------------------------
  mkdir -p "$root/usr/lib/systemd/system" "$root/usr/lib/modules-load.d"
  # The package owns /opt/edge-gateway itself (no versioned directories: dpkg swaps the files).
  sed -e 's|/opt/edge-gateway/current/|/opt/edge-gateway/|g' \
      -e 's|^# Installed by systemd/install.sh;|# Installed by the edge-gateway .deb;|' \
      "$repo/systemd/edge-gateway.service" >"$root/usr/lib/systemd/system/edge-gateway.service"
  printf '# edge-gateway: USB serial adapters must have a device major before the service starts\nusbserial\ncdc_acm\n' \
    >"$root/usr/lib/modules-load.d/edge-gateway.conf"
  mkdir -p "$root/etc/edge-gateway"
  cp -R "$repo/config/examples/intersection/." "$root/etc/edge-gateway/"
  mkdir -p "$root/usr/share/doc/edge-gateway"
  install -m 0644 "$repo/systemd/deb/debian/copyright" "$root/usr/share/doc/edge-gateway/copyright"
  gzip -9n -c "$repo/systemd/deb/debian/changelog" >"$root/usr/share/doc/edge-gateway/changelog.gz"
  mkdir -p "$root/usr/share/lintian/overrides"
  install -m 0644 "$repo/systemd/deb/debian/lintian-overrides" "$root/usr/share/lintian/overrides/edge-gateway"

  # --- control ----------------------------------------------------------------------------------
  mkdir -p "$root/DEBIAN"
  (cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
  local f
  for f in postinst prerm postrm; do install -m 0755 "$repo/systemd/deb/debian/$f" "$root/DEBIAN/$f"; done
  sed -i "s|@CONFFILES@|$(tr '\n' ' ' <"$root/DEBIAN/conffiles" | sed 's/ $//')|" "$root/DEBIAN/postinst"
  find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
  # Executable: the runtime, the launcher and scripts with a #! line; nothing else (npm tarballs
  # carry stray exec bits, and .node shared objects are loaded, never executed).
  find "$root" -path "$root/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
  chmod 0755 "$app/node/bin/node" "$app/bin/edge-gateway"
  find "$app/dist" "$app/node_modules" -type f ! -name '*.node' -exec awk 'FNR == 1 { if (/^#!/) print FILENAME; nextfile }' {} + \
    | while IFS= read -r f; do chmod 0755 "$f"; done
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  # The newest glibc symbol version the runtime or an addon needs (the addons are built against
  # this machine's glibc): dpkg then refuses a box too old instead of the daemon failing to load.
  local glibc
  glibc=$( { "${triplet:+$triplet-}objdump" -T "$app/node/bin/node"; \
      find "$app/node_modules" -type f -name '*.node' -exec "${triplet:+$triplet-}objdump" -T {} +; } \
      | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -n1 || true)
  [[ -n $glibc ]] || fail "could not read the glibc version the binaries need"
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size/" -e "s/@GLIBC@/$glibc/" \
      -e "s/@NODE@/$node_release/" "$repo/systemd/deb/debian/control" >"$root/DEBIAN/control"
  local deb=$out/edge-gateway_${version}_${deb_arch}.deb
  dpkg-deb --root-owner-group -Zxz -b "$root" "$deb" >/dev/null
  say "built $deb ($(du -h "$deb" | cut -f1) compressed, $((size / 1024)) MB installed; Node $node_release)"
}

for a in "${archs[@]}"; do build_arch "$a"; done
