#!/bin/sh
# spamc stand-in: answers like spamc -x with spamd's headers (test/fixtures/bin/fake-spamc.js, scan mode), then
# exits 0 leaving a grandchild that holds its stdout. LINGER_WRITE=1: the grandchild writes more of the "message"
# later, so what was read by spamc's exit is cut short. LINGER_PID_FILE: the grandchild's pid. Test-only.
here=$(dirname "$0")
FAKE_SPAMC_MODE=scan "$here/../../fixtures/bin/fake-spamc.js" "$@"
status=$?
if [ -n "$LINGER_WRITE" ]; then
  (sleep 1; echo "late line of the message") &
else
  sleep "${LINGER_SECONDS:-30}" &
fi
[ -n "$LINGER_PID_FILE" ] && echo $! >> "$LINGER_PID_FILE"
exit $status
