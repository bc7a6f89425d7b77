#!/bin/sh
# sendmail stand-in that finishes like the recording stand-in (same records, same exit status) but leaves a sleeping
# grandchild holding its stdout and stderr, as a sendmail whose background delivery inherits them would. Test-only.
#   LINGER_MODE=after (default: fork the sleeper after reading the message) | before (fork it first, then read)
#             | stdout (the sleeper holds stdout only)
#   LINGER_PID_FILE: where the sleeper's pid goes, so the test can end it.
here=$(dirname "$0")
sleeper() {
  if [ "${LINGER_MODE:-after}" = stdout ]; then sleep "${LINGER_SECONDS:-30}" 2>/dev/null & else sleep "${LINGER_SECONDS:-30}" & fi
  [ -n "$LINGER_PID_FILE" ] && echo $! >> "$LINGER_PID_FILE"
}
[ "${LINGER_MODE:-after}" = before ] && sleeper
"$here/../../fixtures/bin/recording-sendmail.mjs" "$@"
status=$?
[ "${LINGER_MODE:-after}" != before ] && sleeper
exit $status
