// Garbage for a media port, from its own process so it is in flight while the
// test's process receives a viewer's packets. Started with fork(); told
// { port, ufrag } it sends rounds until told 'stop' (and at least `minRounds`):
// each round is GARBAGE random datagrams (first bytes across every RFC 7983
// range), one binding request without credentials, one for an unknown user
// and one with the viewer's ufrag and a wrong key. A round ends when the 401s
// of its two credentialed checks have come back: the daemon reads its socket
// in order, so by then it has read the whole round (and answered anything it
// was going to), and the flood never outruns the socket's buffer, which keeps
// the counts exact. Messages to the parent: { started }, { minRounds },
// then { rounds, replies: [{ kind, type, len }] } or { error }.
import crypto from 'node:crypto';
import dgram from 'node:dgram';

const GARBAGE = 60;
const FIRST_BYTES = [0, 1, 2, 3, 20, 22, 23, 63, 128, 129, 144, 191, 200, 255];
const ROUND_TIMEOUT_MS = 10000;

// A binding request: 20-byte header, then USERNAME and a bogus MESSAGE-INTEGRITY when asked.
function stun(txid, username) {
  const attrs = [];
  if (username !== undefined) {
    const u = Buffer.from(username);
    attrs.push(Buffer.from([0x00, 0x06, u.length >> 8, u.length & 255]), u, Buffer.alloc((4 - (u.length % 4)) % 4));
    attrs.push(Buffer.from([0x00, 0x08, 0x00, 0x14]), crypto.randomBytes(20));
  }
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(0x0001, 0);
  head.writeUInt16BE(body.length, 2);
  head.writeUInt32BE(0x2112a442, 4);
  txid.copy(head, 8);
  return Buffer.concat([head, body]);
}

async function flood({ port, ufrag, minRounds }) {
  const sock = dgram.createSocket('udp4');
  await new Promise((res) => sock.bind(0, '127.0.0.1', res));
  const kinds = new Map(); // txid hex -> what it asked
  const replies = [];
  let answered = 0; // replies to the credentialed checks
  let wake = null;
  sock.on('message', (m) => {
    const kind = m.length >= 20 ? kinds.get(m.subarray(8, 20).toString('hex')) ?? 'none' : 'none';
    replies.push({ kind, type: m.length >= 2 ? m.readUInt16BE(0) : -1, len: m.length });
    if (kind === 'unknown' || kind === 'wrongkey') answered++;
    wake?.();
  });
  const send = (buf) => new Promise((res, rej) => sock.send(buf, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  const check = (kind, username) => {
    const txid = crypto.randomBytes(12);
    kinds.set(txid.toString('hex'), kind);
    return send(stun(txid, username));
  };
  let stop = false;
  process.on('message', (m) => { if (m === 'stop') stop = true; });
  let rounds = 0;
  while (!stop || rounds < minRounds) {
    for (let i = 0; i < GARBAGE; i++) {
      const buf = crypto.randomBytes(Math.floor(Math.random() * 1500));
      if (buf.length) buf[0] = FIRST_BYTES[i % FIRST_BYTES.length];
      await send(buf);
    }
    await check('nocred');
    await check('unknown', `nobody${rounds}:x`);
    await check('wrongkey', `${ufrag}:x`);
    rounds++;
    const want = 2 * rounds;
    const deadline = Date.now() + ROUND_TIMEOUT_MS;
    while (answered < want) {
      if (Date.now() > deadline) throw new Error(`round ${rounds}: ${answered} of ${want} credentialed checks answered`);
      await new Promise((res) => { wake = res; setTimeout(res, 100); });
    }
    if (rounds === 1) process.send({ started: true });
    if (rounds === minRounds) process.send({ minRounds: true });
  }
  sock.close();
  return { rounds, replies };
}

process.once('message', (args) => {
  flood(args).then((r) => process.send(r, () => process.exit(0)),
    (e) => process.send({ error: e.message }, () => process.exit(1)));
});
