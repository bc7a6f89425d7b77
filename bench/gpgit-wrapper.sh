#!/bin/bash
# The tutorial's gpgit_postfix.sh minus spamc: argv is Postfix's `-oi -f ${sender} ${recipient}`.
# Bench only. GPGIT and SENDMAIL can be overridden (the bench passes a sendmail stand-in that discards).
SENDMAIL=${SENDMAIL:-/usr/sbin/sendmail}
GPGIT=${GPGIT:-"$(dirname "$0")/gpgit-reference.pl"}

set -o pipefail

${GPGIT} "$4" | ${SENDMAIL} "$@"

exit $?
