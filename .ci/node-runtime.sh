#!/usr/bin/env bash
# Project-local Node.js runtimes from the npm registry's official binary packages.
#
#   .ci/node-runtime.sh install [LINE|VERSION|all|bundled] [ARCH]  install, print the directory
#   .ci/node-runtime.sh dir     [LINE|VERSION|bundled] [ARCH]      print the directory (installs)
#   .ci/node-runtime.sh env     [LINE|VERSION|bundled]             print exports for `eval`
#   .ci/node-runtime.sh lines                                      print the supported releases
#   .ci/node-runtime.sh bundled                                    print the release the .debs bundle
#
# LINE is a major (24, 26) from .ci/node-lines; ARCH is x64 (default) or arm64. Runtimes land in
# .node/node-v<version>-linux-<arch>/ (git-ignored): bin/node plus include/node, the headers
# node-gyp builds native addons against (npm_config_nodedir), so nothing comes from nodejs.org.
# `eval "$(.ci/node-runtime.sh env 26)"` puts that Node first on PATH for npm, node-gyp and tests.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lines_file=$root/.ci/node-lines
store=${EDGE_GATEWAY_NODE_STORE:-$root/.node}

fail() { echo "node-runtime.sh: error: $*" >&2; exit 1; }

releases() { sed -e 's/#.*//' "$lines_file" | awk 'NF{print $1}'; }

# LINE|VERSION|bundled -> one pinned version from .ci/node-lines
resolve() {
  local want=${1:-bundled} v
  if [[ $want == bundled ]]; then
    v=$(sed -e 's/#.*//' "$lines_file" | awk '$2=="bundled"{print $1}')
    [[ -n $v ]] || fail "no release marked 'bundled' in $lines_file"
    echo "$v"; return
  fi
  want=${want#v}
  for v in $(releases); do
    if [[ $v == "$want" || ${v%%.*} == "$want" ]]; then echo "$v"; return; fi
  done
  fail "Node '$1' is not a supported line (have: $(releases | tr '\n' ' '); see $lines_file)"
}

install_one() { # <version> <arch>
  local version=$1 arch=$2 dir tmp
  [[ $arch == x64 || $arch == arm64 ]] || fail "arch must be x64 or arm64, not '$arch'"
  dir=$store/node-v$version-linux-$arch
  if [[ -x $dir/bin/node && -f $dir/include/node/node.h ]]; then echo "$dir"; return; fi
  mkdir -p "$store"
  tmp=$(mktemp -d "$store/.incoming.XXXXXX")
  # mktemp makes it 0700: the runtime is for every user of the checkout, not only who fetched it.
  chmod 0755 "$tmp"
  # npm pack checks the tarball against the registry's integrity hash and caches it, so a second
  # machine state (or CI re-run) works offline from the npm cache.
  if ! npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$version" >"$tmp/.name" 2>"$tmp/.err"; then
    cat "$tmp/.err" >&2; rm -rf "$tmp"; fail "could not fetch node-linux-$arch@$version from the npm registry"
  fi
  tar -xzf "$tmp/$(tail -n1 "$tmp/.name")" -C "$tmp" --strip-components=1 --no-same-owner
  rm -f "$tmp"/*.tgz "$tmp/.name" "$tmp/.err"
  [[ -x $tmp/bin/node && -f $tmp/include/node/node.h ]] || { rm -rf "$tmp"; fail "node-linux-$arch@$version has no bin/node or include/node"; }
  rm -rf "$dir"
  mv "$tmp" "$dir"
  echo "$dir"
}

cmd=${1:-}
case $cmd in
  install)
    if [[ ${2:-} == all ]]; then
      for v in $(releases); do install_one "$v" "${3:-x64}"; done
    else
      install_one "$(resolve "${2:-bundled}")" "${3:-x64}"
    fi ;;
  dir) install_one "$(resolve "${2:-bundled}")" "${3:-x64}" ;;
  env)
    dir=$(install_one "$(resolve "${2:-bundled}")" x64)
    printf 'export PATH=%q:"$PATH"\nexport npm_config_nodedir=%q\n' "$dir/bin" "$dir" ;;
  lines) releases ;;
  bundled) resolve bundled ;;
  -h|--help|'') sed -n '2,14s/^# \{0,1\}//p' "$0" ;;
  *) fail "unknown command '$cmd' (try --help)" ;;
esac
