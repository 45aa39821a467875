// The media port is open to anyone: garbage on it disturbs nothing. While a
// viewer plays, thousands of random datagrams (every RFC 7983 range), STUN
// checks for unknown users, checks with the viewer's username and a wrong
// key, and unauthenticated checks arrive from another socket. The viewer
// keeps its rate, the daemon answers wrong keys with 401 (RFC 8445 §7.3) and
// stays silent to checks with no credentials (no reflection), and a new viewer
// still joins.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { startDaemon } from '../lib/daemon.mjs';
import { playFrom, packetsOver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const sock = dgram.createSocket('udp4');
try {
  const play = () => playFrom(d);
  const { r, reply } = await play();
  const port = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(reply.sdp)[1]);
  const ufrag = /\r\na=ice-ufrag:(\S+)\r\n/.exec(reply.sdp)[1];
  const before = await packetsOver(r, 2000);

  // A binding request: 20-byte header, then USERNAME and a bogus MESSAGE-INTEGRITY when asked.
  const stun = (username) => {
    const attrs = [];
    if (username !== undefined) {
      const u = Buffer.from(username);
      const pad = Buffer.alloc((4 - (u.length % 4)) % 4);
      attrs.push(Buffer.from([0x00, 0x06, u.length >> 8, u.length & 255]), u, pad);
      attrs.push(Buffer.from([0x00, 0x08, 0x00, 0x14]), crypto.randomBytes(20));
    }
    const body = Buffer.concat(attrs);
    const head = Buffer.alloc(20);
    head.writeUInt16BE(0x0001, 0);
    head.writeUInt16BE(body.length, 2);
    head.writeUInt32BE(0x2112a442, 4);
    crypto.randomBytes(12).copy(head, 8);
    return Buffer.concat([head, body]);
  };
  const replies = [];
  sock.on('message', (m) => replies.push(m));
  await new Promise((res) => sock.bind(0, '127.0.0.1', res));
  const send = (buf) => new Promise((res) => sock.send(buf, port, '127.0.0.1', res));
  for (let i = 0; i < 3000; i++) {
    const buf = crypto.randomBytes(Math.floor(Math.random() * 1500));
    if (buf.length) buf[0] = [0, 1, 2, 3, 20, 22, 23, 63, 128, 129, 144, 191, 200, 255][i % 14];
    await send(buf);
  }
  for (let i = 0; i < 50; i++) await send(stun(`nobody${i}:x`));
  for (let i = 0; i < 50; i++) await send(stun(`${ufrag}:x`));
  for (let i = 0; i < 50; i++) await send(stun());
  const during = await packetsOver(r, 2000);
  console.log(`viewer packets in 2 s: ${before} before, ${during} after the garbage; ${replies.length} replies to the garbage`);
  assert.ok(during >= 0.8 * before, `the viewer keeps its rate (${during} vs ${before})`);
  const errors = replies.filter((m) => m.length >= 20 && m.readUInt16BE(0) === 0x0111);
  assert.equal(errors.length, 100, '401 for each of the 50 unknown users and 50 wrong keys, nothing for the 50 checks without credentials');
  assert.ok(errors.every((m) => m.length <= 64), 'error responses stay small');
  assert.ok(replies.every((m) => m.length >= 20 && m.readUInt16BE(0) === 0x0111),
    'nothing else answered: no success for a wrong key, nothing for garbage or unauthenticated checks');
  const h = await d.request({ op: 'health' });
  assert.equal(h.viewers, 1);
  const second = await play();
  await second.r.close();
  await r.close();
} finally {
  sock.close();
  assert.equal(await d.stop(), 0);
}
process.exit(0);
