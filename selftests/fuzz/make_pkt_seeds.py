#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
"""Write the seed frames of fuzz_pkt (corpus/fuzz_pkt/): well-formed frames
the example applications act on (IPv4/IPv6 TCP, UDP, ICMP, ARP, VLAN) and a
few truncated ones, after byte 0 (bit 0: ingress on port 1).  Addresses
from 198.18.0.0/15 and 2001:2::/48.  (The found-* files beside them are
inputs libFuzzer found reaching further datapath counters: `-merge=1`.)"""
import os
import struct
import sys

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def eth(t, payload, vlan=None, dst=b'\x02\0\0\0\0\x02', src=b'\x02\0\0\0\0\x01'):
    h = dst + src
    if vlan is not None:
        h += struct.pack('!HH', 0x8100, vlan)
    return h + struct.pack('!H', t) + payload

def ip4(proto, l4, src=(198, 18, 0, 1), dst=(198, 18, 0, 2), ttl=64, flags=0x4000):
    h = struct.pack('!BBHHHBBH4B4B', 0x45, 0, 20 + len(l4), 1, flags, ttl, proto, 0, *src, *dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + l4

def ip6(nh, l4, src=b'\x20\x01\0\x02' + b'\0' * 11 + b'\x01', dst=b'\x20\x01\0\x02' + b'\0' * 11 + b'\x02'):
    return struct.pack('!IHBB', 6 << 28, len(l4), nh, 64) + src + dst + l4

def tcp(sport, dport, flags):
    return struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)

def udp(sport, dport, data=b'knock'):
    return struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data

def icmp(t=8):
    return struct.pack('!BBHHH', t, 0, 0, 1, 1) + b'ping'

ARP = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, b'\x02\0\0\0\0\x01', bytes([198, 18, 0, 1]),
                  b'\0' * 6, bytes([198, 18, 0, 2]))

frames = {
    'tcp_syn_22': eth(0x0800, ip4(6, tcp(40000, 22, 0x02))),
    'tcp_ack_80': eth(0x0800, ip4(6, tcp(40000, 80, 0x10))),
    'udp_1111': eth(0x0800, ip4(17, udp(40000, 1111))),
    'udp_2222': eth(0x0800, ip4(17, udp(40000, 2222))),
    'icmp': eth(0x0800, ip4(1, icmp())),
    'frag': eth(0x0800, ip4(17, udp(1, 2), flags=0x2000)),
    'ttl1': eth(0x0800, ip4(17, udp(1, 53), ttl=1)),
    'ip6_tcp': eth(0x86dd, ip6(6, tcp(40000, 443, 0x02))),
    'ip6_udp': eth(0x86dd, ip6(17, udp(5353, 53))),
    'ip6_icmp6': eth(0x86dd, ip6(58, icmp(128))),
    'arp': eth(0x0806, ARP),
    'vlan_udp': eth(0x0800, ip4(17, udp(1, 9)), vlan=100),
    'qinq': eth(0x8100, struct.pack('!HH', 7, 0x0800) + ip4(6, tcp(1, 2, 0x12)), vlan=5),
    'short_ip': eth(0x0800, ip4(6, tcp(1, 22, 2))[:30]),
    'short_ip6': eth(0x86dd, ip6(6, tcp(1, 22, 2))[:20]),
    'bad_ihl': eth(0x0800, b'\x4f' + ip4(6, tcp(1, 22, 2))[1:]),
    'eth_only': eth(0x88b5, b''),
}

out = sys.argv[1] if len(sys.argv) > 1 else 'corpus/fuzz_pkt'
os.makedirs(out, exist_ok=True)
for name, f in frames.items():
    for ingress in (0, 1) if name in ('tcp_syn_22', 'udp_1111', 'arp') else (0,):
        with open(os.path.join(out, '%s%s' % (name, '_port1' if ingress else '')), 'wb') as fh:
            fh.write(bytes([ingress]) + f)
