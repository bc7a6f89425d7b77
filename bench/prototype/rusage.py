#!/usr/bin/env python3
# PROTOTYPE helper: runs a command (stdin/stdout inherited) and writes "wall_ms cpu_ms maxrss_kb exit" to the file
# named by $RUSAGE_OUT, with microsecond CPU resolution (GNU time prints 10 ms steps).
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = (time.perf_counter() - start) * 1000
with open(os.environ['RUSAGE_OUT'], 'w') as out:
    out.write(f"{wall:.2f} {(ru.ru_utime + ru.ru_stime) * 1000:.2f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")
sys.exit(0)
