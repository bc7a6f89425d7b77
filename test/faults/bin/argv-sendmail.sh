#!/bin/sh
# sendmail stand-in that keeps argv byte-exact (NUL-separated) — Node would re-decode non-UTF-8 bytes — and the
# message, in $RECORD_DIR/<pid>.argv / <pid>.eml. Test-only.
printf '%s\0' "$@" > "$RECORD_DIR/$$.argv"
cat > "$RECORD_DIR/$$.eml"
exit 0
