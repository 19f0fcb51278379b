#!/usr/bin/env python3
"""Send the datagrams bench_netflow wrote (FILE) to 127.0.0.1:PORT, PASSES times over, as fast as one
Python thread can; prints how many and how long. Usage: udp_blast.py FILE PORT PASSES"""
import socket, struct, sys, time
data = open(sys.argv[1], "rb").read(); dgs = []; i = 0
while i < len(data):
    (n,) = struct.unpack_from("!H", data, i); dgs.append(data[i+2:i+2+n]); i += 2 + n
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); dest = ("127.0.0.1", int(sys.argv[2]))
t = time.perf_counter(); sent = 0
for _ in range(int(sys.argv[3])):
    for d in dgs:
        s.sendto(d, dest); sent += 1
print("sent", sent, "in", round(time.perf_counter() - t, 2), "s")
