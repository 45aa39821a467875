// 50 malformed requests each get a 4xx with a detail; a silent client is
// dropped while others are served; afterwards a good viewer still plays.
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const sid = '0123456789abcdef0123456789abcdef';
const offer = fs.readFileSync(new URL('../data/offer-video-audio.sdp', import.meta.url), 'utf8');
const j = (o) => JSON.stringify(o) + '\n';
const deep = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const audioOnly = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';
const h264Only = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n';

// [name, raw bytes, expected status]
const cases = [
  ['not json', 'hello\n', 400], ['truncated json', '{"op":"offer"\n', 400],
  ['empty line', '\n', 400], ['array', '[1,2,3]\n', 400], ['string', '"offer"\n', 400],
  ['number', '42\n', 400], ['null', 'null\n', 400], ['trailing bytes', '{"op":"health"} x\n', 400],
  ['second object', '{"op":"health"}\n{"op":"health"}\n', 400],
  ['trailing comma', '{"op":"health",}\n', 400], ['single quotes', "{'op':'health'}\n", 400],
  ['unknown op', j({ op: 'reboot' }), 400], ['empty op', j({ op: '' }), 400],
  ['op not string', j({ op: 5 }), 400], ['op array', j({ op: ['offer'] }), 400],
  ['missing op', j({ stream: 'cam' }), 400], ['unknown field', j({ op: 'health', extra: 1 }), 400],
  ['missing sdp', j({ op: 'offer', stream: 'cam' }), 400],
  ['missing stream', j({ op: 'offer', sdp: offer }), 400],
  ['sdp number', j({ op: 'offer', stream: 'cam', sdp: 7 }), 400],
  ['sdp null', j({ op: 'offer', stream: 'cam', sdp: null }), 400],
  ['sdp object', j({ op: 'offer', stream: 'cam', sdp: { v: 0 } }), 400],
  ['stream number', j({ op: 'offer', stream: 1, sdp: offer }), 400],
  ['long stream name', j({ op: 'offer', stream: 'c'.repeat(65), sdp: offer }), 400],
  ['stream with slash', j({ op: 'offer', stream: '../etc', sdp: offer }), 404],
  ['stream with space', j({ op: 'offer', stream: 'a b', sdp: offer }), 404],
  ['empty stream', j({ op: 'offer', stream: '', sdp: offer }), 404],
  ['unknown stream', j({ op: 'offer', stream: 'nope', sdp: offer }), 404],
  ['session not hex', j({ op: 'delete', stream: 'cam', session: 'X'.repeat(32) }), 404],
  ['session uppercase', j({ op: 'delete', stream: 'cam', session: sid.toUpperCase() }), 404],
  ['session short', j({ op: 'delete', stream: 'cam', session: 'abc' }), 404],
  ['session too long', j({ op: 'delete', stream: 'cam', session: sid + '0' }), 400],
  ['unknown session', j({ op: 'delete', stream: 'cam', session: sid }), 404],
  ['delete missing session', j({ op: 'delete', stream: 'cam' }), 400],
  ['token not string', j({ op: 'offer', stream: 'cam', sdp: offer, token: true }), 400],
  ['long token', j({ op: 'offer', stream: 'cam', sdp: offer, token: 't'.repeat(1025) }), 400],
  ['long peer', j({ op: 'offer', stream: 'cam', sdp: offer, peer: '1'.repeat(65) }), 400],
  ['over-deep json', deep(9) + '\n', 400], ['deep in a field', j({ op: 'health', x: JSON.parse(deep(3)) }), 400],
  ['NUL in sdp', '{"op":"offer","stream":"cam","sdp":"v=0\\u0000"}\n', 400],
  ['invalid utf-8', Buffer.concat([Buffer.from('{"op":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]), 400],
  ['sdp garbage', j({ op: 'offer', stream: 'cam', sdp: 'hello world' }), 400],
  ['sdp empty', j({ op: 'offer', stream: 'cam', sdp: '' }), 400],
  ['sdp v=0 only', j({ op: 'offer', stream: 'cam', sdp: 'v=0\r\n' }), 400],
  ['sdp audio only', j({ op: 'offer', stream: 'cam', sdp: audioOnly }), 400],
  ['sdp h264 only', j({ op: 'offer', stream: 'cam', sdp: h264Only }), 406],
  ['sdp video port 0', j({ op: 'offer', stream: 'cam', sdp: offer.replace('m=video 9', 'm=video 0') }), 400],
  ['sdp too long', j({ op: 'offer', stream: 'cam', sdp: 'v=0\r\n' + 'a'.repeat(64 * 1024) }), 400],
  ['patch frag too long', j({ op: 'patch', stream: 'cam', session: sid, frag: 'a'.repeat(16 * 1024 + 1) }), 400],
  ['message over 256 KiB', '{"op":"offer","stream":"cam","sdp":"' + 'a'.repeat(300 * 1024) + '"}\n', 413],
];
assert.equal(cases.length, 50);

let failures = [];
for (const [name, bytes, want] of cases) {
  const raw = await d.requestRaw(bytes);
  let reply;
  try { reply = JSON.parse(raw); } catch { reply = null; }
  if (want === 413 && raw === '') continue; // closed after refusing to read more: also fine
  if (!reply || reply.status !== want || typeof reply.detail !== 'string' || reply.detail.length === 0 || reply.detail.includes('\n'))
    failures.push(`${name}: wanted ${want}, got ${raw.slice(0, 200)}`);
}
assert.deepEqual(failures, [], failures.join('\n'));

// A client that connects and says nothing is dropped; meanwhile others are served.
const silentClosed = new Promise((resolve) => {
  const c = net.createConnection(d.socket);
  const t0 = Date.now();
  c.on('close', () => resolve(Date.now() - t0));
  c.on('error', () => {});
});
const health = await d.request({ op: 'health' });
assert.equal(health.status, 200, 'served while a silent client is connected');
const silentMs = await Promise.race([silentClosed, new Promise((r) => setTimeout(() => r(-1), 9000))]);
assert.ok(silentMs > 0 && silentMs < 8000, `silent client dropped after ${silentMs} ms`);

// A request that arrives a byte at a time still works (no assumption of one read).
const slow = await new Promise((resolve) => {
  const c = net.createConnection(d.socket);
  const msg = j({ op: 'health' });
  let i = 0, buf = '';
  c.on('data', (x) => { buf += x; });
  c.on('close', () => resolve(buf));
  const tick = setInterval(() => { if (i < msg.length) c.write(msg[i++]); else clearInterval(tick); }, 2);
});
assert.equal(JSON.parse(slow).status, 200);

// The daemon still serves a good viewer with media.
const r = await createReceiver();
const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
assert.equal(reply.status, 201);
await r.accept(reply.sdp);
await r.waitPackets(30);
await r.close();
assert.equal(await d.stop(), 0, 'clean exit after all of it');
process.exit(0);
