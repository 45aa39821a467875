#!/usr/bin/python3
# UDP datagrams with a forged source address, for tests that play an
# attacker on loopback (a raw socket with IP_HDRINCL: root only, as in CI).
# One datagram per line on stdin: "src_ip src_port dst_ip dst_port hex";
# one line back per datagram: "ok", or "error <why>".
import socket
import struct
import sys

raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
for line in sys.stdin:
    try:
        src, sport, dst, dport, data = line.split()
        payload = bytes.fromhex(data)
        # UDP checksum 0: none (RFC 768, IPv4); the kernel fills in the IP
        # header's checksum, and its total length and id when left 0.
        udp = struct.pack('!HHHH', int(sport), int(dport), 8 + len(payload), 0) + payload
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64,
                         socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
        raw.sendto(ip + udp, (dst, 0))
        print('ok', flush=True)
    except Exception as e:  # the test reads why
        print('error', e, flush=True)
