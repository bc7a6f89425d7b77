#!/bin/sh
# Sendmail stand-in for the bench's correctness pass: keeps the (encrypted) message in $BENCH_CAPTURE to check it.
exec cat >"$BENCH_CAPTURE"
