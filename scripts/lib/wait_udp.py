#!/usr/bin/env python3
"""Wait until every given UDP port is bound on this host, or a deadline passes.

Usage: wait_udp.py SECONDS PORT...

Reads the kernel's table of UDP sockets (/proc/net/udp and /proc/net/udp6) instead of
probing the ports: a probe that binds a port could take it from the process starting on
it. Exits 0 once all are bound, 1 (naming the missing ones) at the deadline. Lets an
interop script start its exporter once its collectors listen, instead of after a fixed
sleep that a loaded machine can outlast.
"""
import sys
import time


def bound_ports():
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 1:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


def main():
    deadline = time.monotonic() + float(sys.argv[1])
    wanted = {int(p) for p in sys.argv[2:]}
    while True:
        missing = wanted - bound_ports()
        if not missing:
            return 0
        if time.monotonic() > deadline:
            print("not bound: " + " ".join(map(str, sorted(missing))), file=sys.stderr)
            return 1
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
