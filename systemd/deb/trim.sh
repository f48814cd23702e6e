#!/usr/bin/env bash
# Remove from a production node_modules what Node never loads at run time.
#   systemd/deb/trim.sh <node_modules dir>
# - type declarations, source maps, TypeScript sources: read by compilers and debuggers only;
# node-opcua-nodesets' NodeSet2 files (~17 MB) are NOT trimmed, although only an OPC-UA server
# reads them: importing node-opcua checks at load time that each one exists and throws when it
# does not (nodeset_nodejs.js, unless process.argv[1] is set), as the package test found.
# - prebuilt addons of the other platforms shipped inside packages.
set -euo pipefail
nm=${1:?usage: trim.sh <node_modules>}
[[ -d $nm ]] || { echo "trim.sh: '$nm' is not a directory" >&2; exit 1; }
find "$nm" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o \( -name '*.ts' ! -name '*.d.ts' \) -o -name '*.tsbuildinfo' \) -delete
find "$nm" -type d -name prebuilds -prune -exec rm -rf {} +
# Packaging leftovers of the modules (npm/eslint/git metadata) and HTML docs that pull scripts from
# CDNs (lintian: privacy-breach-generic); better-sqlite3's test extension is only for its own tests.
find "$nm" -type f \( -name '.npmignore' -o -name '.eslintrc*' -o -name '.gitattributes' -o -name '.gitignore' \
  -o -name '*.html' -o -name 'test_extension.node' \) -delete
find "$nm" -mindepth 1 -type d -empty -delete
