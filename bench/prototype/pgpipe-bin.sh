#!/bin/sh
# PROPOSAL for bin/pgpipe (bench prototype; the lead owns bin/): start pgpipe as fast as this install allows —
# the V8 startup snapshot when it is newer than dist/ and was built by this very node binary, else the code-cached
# bundle when it is newer than dist/, else plain dist/cli.js (bin/pgpipe.js, today's bin/pgpipe). A blob from
# another node makes node exit 14 ("snapshot failure"), which Postfix would turn into a bounce: never risk it.
self=$(readlink -f "$0")
dist=${self%/*}/../dist
node=$(command -v node) || { echo "4.3.0 pgpipe: node not found" >&2; exit 75; }
if [ -r "$dist/pgpipe.blob.stamp" ] && [ "$dist/pgpipe.blob" -nt "$dist/cli.js" ]; then
  read -r stamp < "$dist/pgpipe.blob.stamp"
  if [ "$(stat -L -c '%d:%i:%s:%Y' "$node")" = "$stamp" ]; then
    exec "$node" --snapshot-blob "$dist/pgpipe.blob" "$@"
  fi
fi
if [ "$dist/pgpipe-bundle.cjs" -nt "$dist/cli.js" ] && [ -r "$dist/pgpipe-cached.cjs" ]; then
  exec "$node" "$dist/pgpipe-cached.cjs" "$@"
fi
exec "$node" "${self%/*}/pgpipe.js" "$@"
