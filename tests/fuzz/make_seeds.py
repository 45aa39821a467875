#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/{rtp,stun,sdpfrag}: real
shapes of what a viewer sends (RFC examples, what browsers put on the wire),
with valid lengths, HMACs and CRCs so that the fuzzers start deep in the
parsers. The DTLS seeds come from a real handshake: `make fuzz-seeds`.
Run from the top of the tree: python3 tests/fuzz/make_seeds.py"""
import hashlib, hmac, os, struct, zlib

def put(target, name, data):
    d = os.path.join('tests/fuzz/corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)

# ---- RTCP (RFC 3550, 4585, 5104) and RTP with VP8 (RFC 7741) ----
def rtcp(first, pt, body):
    assert len(body) % 4 == 0
    return struct.pack('!BBH', first, pt, len(body) // 4) + body

SENDER, MEDIA = 0x1a2b3c4d, 0x5e6f7081
report_block = struct.pack('!IBBHIIII', MEDIA, 3, 0, 42, 0x00011234, 17, 0x9abc0000, 0)
rr = rtcp(0x81, 201, struct.pack('!I', SENDER) + report_block)
sr = rtcp(0x81, 200, struct.pack('!IIIIII', SENDER, 0xe8a1b2c3, 0x40000000, 123456, 100, 120000) + report_block)
sdes = rtcp(0x81, 202, struct.pack('!I', SENDER) + b'\x01\x10' + b'abcdefghijklmnop' + b'\x00\x00')
bye = rtcp(0x81, 203, struct.pack('!I', SENDER))
def nack(*fcis):
    return rtcp(0x81, 205, struct.pack('!II', SENDER, MEDIA) + b''.join(struct.pack('!HH', p, b) for p, b in fcis))
pli = rtcp(0x81, 206, struct.pack('!II', SENDER, MEDIA))
fir = rtcp(0x84, 206, struct.pack('!II', SENDER, 0) + struct.pack('!IB3x', MEDIA, 7))
remb = rtcp(0x8f, 206, struct.pack('!II', SENDER, 0) + b'REMB' + struct.pack('!BBH', 1, 0x0b, 0x1234) + struct.pack('!I', MEDIA))
twcc = rtcp(0x8f, 205, struct.pack('!II', SENDER, MEDIA) + struct.pack('!HHIHH', 100, 4, 0x000010, 0x2004, 0x0101))
put('rtp', 'rr-nack', rr + nack((1000, 0x0005)))
put('rtp', 'rr-nack-4-full-fcis', rr + nack((1000, 0xffff), (1017, 0xffff), (1034, 0xffff), (1051, 0xffff)))
put('rtp', 'nack-repeats', nack((7, 0), (7, 0), (7, 1), (65535, 0x8001)))
put('rtp', 'sr-sdes-nack-pli', sr + sdes + nack((40000, 0x0100)) + pli)
put('rtp', 'rr-fir', rr + fir)
put('rtp', 'rr-remb-twcc', rr + remb + twcc)
put('rtp', 'rr-sdes-bye', rr + sdes + bye)
put('rtp', 'nack-zero-length-next', nack((1, 2)) + struct.pack('!BBH', 0x81, 205, 0))
def rtp(pt, marker, ext=b'', csrcs=0, payload=b''):
    first = 0x80 | (0x10 if ext else 0) | csrcs
    h = struct.pack('!BBHII', first, (0x80 if marker else 0) | pt, 4711, 90000, MEDIA)
    h += b''.join(struct.pack('!I', 0x100 + i) for i in range(csrcs))
    if ext:  # RFC 8285 one-byte header extension
        h += struct.pack('!HH', 0xbede, len(ext) // 4) + ext
    return h + payload
vp8_key_header = b'\x10\x02\x00\x9d\x01\x2a\x40\x01\xf0\x00'  # S=1 PID 0, P=0, start code, 320x240
put('rtp', 'vp8-key-ext-picid', rtp(96, False, ext=b'\x10\x01\x22\x00', payload=b'\x90\x80\x81\x23' + vp8_key_header[1:]))
put('rtp', 'vp8-key-tl0-tid', rtp(96, True, payload=b'\x90\xe0\x12\x05\x40' + vp8_key_header[1:]))
put('rtp', 'vp8-delta-csrc', rtp(96, True, csrcs=2, payload=b'\x10\x01\x02\x03'))

# ---- STUN (RFC 5389, 8445): a browser's connectivity checks, with valid HMAC and FINGERPRINT ----
def attr(t, v):
    return struct.pack('!HH', t, len(v)) + v + b'\x00' * (-len(v) % 4)
def stun(msg_type, txid, attrs, pwd):
    body = b''.join(attrs)
    head = lambda extra: struct.pack('!HHI', msg_type, len(body) + extra, 0x2112A442) + txid
    mac = hmac.new(pwd.encode(), head(24) + body, hashlib.sha1).digest()
    body += attr(0x0008, mac)
    crc = (zlib.crc32(head(8) + body) ^ 0x5354554e) & 0xffffffff
    return head(8) + body + attr(0x8028, struct.pack('!I', crc))
txid = bytes(range(1, 13))
common = [attr(0x0006, b'VOkJxbRl:Xk4m'), attr(0xc057, struct.pack('!HH', 1, 10)),
          attr(0x0024, struct.pack('!I', 0x6e7f1eff)), attr(0x802a, struct.pack('!Q', 0x1122334455667788))]
put('stun', 'chrome-check-use-candidate', stun(0x0001, txid, common + [attr(0x0025, b'')], 'VOkJxbRl1RmTxUk/WvJxBt'))
put('stun', 'check-wrong-password', stun(0x0001, txid, common, 'not the password'))
put('stun', 'consent-success-response', stun(0x0101, txid, [attr(0x0020, struct.pack('!HHI', 1, 40000 ^ 0x2112, 0x7f000001 ^ 0x2112A442))], 'pwd'))
put('stun', 'binding-no-integrity', struct.pack('!HHI', 0x0001, 0, 0x2112A442) + txid)

# ---- trickle-ice-sdpfrag (RFC 8840, WHEP PATCH bodies) ----
put('sdpfrag', 'rfc8840-example', 'a=ice-options:trickle ice2\r\na=group:BUNDLE 1\r\nm=audio 9 RTP/AVP 0\r\n'
    'a=mid:1\r\na=candidate:1 1 UDP 2130706431 10.0.1.1 8998 typ host\r\na=end-of-candidates\r\n')
put('sdpfrag', 'whep-chrome-trickle', 'a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n'
    'a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n'
    'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n'
    'a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r\n'
    'a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 ufrag EsAw network-id 1\r\n'
    'a=end-of-candidates\r\n')
put('sdpfrag', 'firefox-srflx-relay-v6', 'a=ice-ufrag:8f3b1c2d\r\na=ice-pwd:0123456789abcdef0123456789abcdef\r\n'
    'm=video 9 UDP/TLS/RTP/SAVPF 120\r\na=mid:0\r\n'
    'a=candidate:1 1 UDP 1686052607 203.0.113.7 54321 typ srflx raddr 10.0.0.2 rport 54321\r\n'
    'a=candidate:2 1 UDP 92217087 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 54321\r\n'
    'a=candidate:3 1 UDP 2122252543 2001:db8::1 40000 typ host\r\n')
put('sdpfrag', 'mdns-lf-only', 'a=candidate:2571336513 1 udp 2113937151 4f8c1a3e-3a0e-4b5f-9d62-0c8a5e7d9b11.local 57812 typ host generation 0\n')
put('sdpfrag', 'ice-restart-credentials', 'a=ice-ufrag:Zx9q\r\na=ice-pwd:Wn8cT3kP1sL6dJ4hG7fB2vQ5\r\n')
put('sdpfrag', 'end-only', 'a=end-of-candidates')
