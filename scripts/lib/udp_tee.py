#!/usr/bin/env python3
"""Forward every UDP datagram received on a port to several destinations, unchanged.

Usage: udp_tee.py LISTEN_PORT IDLE_SECONDS HOST:PORT...

Lets one exporter run feed two collectors the identical stream (softflowd sends to one
destination). Exits after IDLE_SECONDS without a datagram (after the first one) and
prints how many datagrams it forwarded.
"""
import socket
import sys


def main():
    port, idle = int(sys.argv[1]), float(sys.argv[2])
    dests = []
    for d in sys.argv[3:]:
        host, p = d.rsplit(":", 1)
        dests.append((host, int(p)))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(("127.0.0.1", port))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    rx.settimeout(30)
    while True:
        try:
            data, _ = rx.recvfrom(65535)
        except socket.timeout:
            break
        for d in dests:
            tx.sendto(data, d)
        n += 1
        rx.settimeout(idle)
    print(n)


if __name__ == "__main__":
    main()
