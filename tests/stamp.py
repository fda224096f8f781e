#!/usr/bin/env python3
"""stamp.py CMD [ARGS...]: run CMD and print each line of its stdout as
"MS<TAB>LINE", MS the milliseconds (one decimal) since the first line
arrived, measured here, on the reading side, with the monotonic clock.
Exits with CMD's status."""
import os
import subprocess
import sys
import time


def out(ms, line):
    sys.stdout.write("%.1f\t%s\n" % (ms, line.decode("utf-8", "replace")))
    sys.stdout.flush()


def main():
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, bufsize=0)
    t0 = None
    buf = b""
    while True:
        chunk = os.read(proc.stdout.fileno(), 65536)
        now = time.monotonic()
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if t0 is None:
                t0 = now
            out((now - t0) * 1000, line)
    if buf:
        out((time.monotonic() - (t0 or time.monotonic())) * 1000, buf)
    sys.exit(proc.wait())


main()
