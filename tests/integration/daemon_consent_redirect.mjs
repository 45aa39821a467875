// RFC 7675 consent (issue 13 item 2): a viewer knows its own ICE password, so
// it can sign a check with any source address it forges. It forges checks
// with USE-CANDIDATE from a victim's address (a socket on 127.0.0.9 that
// only listens) while its real receiver plays and, for a second session of
// its own that has not shaken hands yet, a DTLS ClientHello from the victim
// too. The victim gets no media and no DTLS, only small STUN: the answers
// ICE-lite owes every valid check and our consent checks, no more requests
// than forged datagrams and a few in all, none bigger than a forged check,
// fewer bytes in all than were forged. The real receiver keeps playing throughout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver, packetsOver, playFrom } from '../lib/peer.mjs';
import { startSpoofer } from '../lib/spoof.mjs';
import { BINDING_REQUEST, BINDING_SUCCESS, bindingRequest, iceCredentials, parse } from '../lib/stun.mjs';

const ROUNDS = 20, EVERY_MS = 250; // 5 s of forging
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A real DTLS 1.2 ClientHello (with use_srtp), as OpenSSL's client sends it first.
async function clientHello() {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const child = spawn('openssl', ['s_client', '-dtls1_2', '-quiet', '-connect', `127.0.0.1:${sock.address().port}`,
    '-use_srtp', 'SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80'], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ClientHello from openssl s_client within 5 s')), 5000);
      sock.once('message', (m) => { clearTimeout(t); resolve(m); });
    });
  } finally {
    child.kill();
    sock.close();
  }
}

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const spoof = startSpoofer();
const victim = dgram.createSocket('udp4');
let quiet = null;
try {
  await new Promise((r) => victim.bind(0, '127.0.0.9', r));
  const vport = victim.address().port;
  const atVictim = [];
  victim.on('message', (m) => atVictim.push(m));

  const { r, reply } = await playFrom(d, { packets: 20 });
  const port = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(reply.sdp)[1]);
  const ours = iceCredentials(reply.sdp), theirs = iceCredentials(r.offer);
  quiet = await createReceiver(); // its answer is never accepted: no handshake of its own
  const reply2 = await d.request({ op: 'offer', stream: 'cam', sdp: quiet.offer });
  assert.equal(reply2.status, 201);
  const ours2 = iceCredentials(reply2.sdp), theirs2 = iceCredentials(quiet.offer);
  const hello = await clientHello();
  assert.equal(hello[0], 22, 'a DTLS handshake record');

  let forgedBytes = 0, forgedCount = 0, smallestCheck = Infinity;
  const forge = async (buf) => {
    forgedBytes += buf.length; forgedCount++;
    await spoof.send('127.0.0.9', vport, '127.0.0.1', port, buf);
  };
  const check = (o, t) => {
    const b = bindingRequest({ username: `${o.ufrag}:${t.ufrag}`, pwd: o.pwd, useCandidate: true });
    smallestCheck = Math.min(smallestCheck, b.length);
    return b;
  };
  const before = r.stats().packets, t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    await forge(check(ours, theirs)); // "send my media there"
    await forge(check(ours2, theirs2)); // "and shake hands there"
    await forge(hello);
    await sleep(EVERY_MS);
  }
  const during = r.stats().packets - before, forgingS = (performance.now() - t0) / 1000;
  await sleep(2500); // a DTLS flight would be retransmitted 1 s after it went, media keeps coming
  const after = await packetsOver(r, 1000);

  const kinds = atVictim.map((m) => parse(m)?.type ?? `first byte ${m[0]}`);
  const requests = atVictim.filter((m) => parse(m)?.type === BINDING_REQUEST);
  const received = atVictim.reduce((n, m) => n + m.length, 0);
  console.log(`forged ${forgedCount} datagrams (${forgedBytes} bytes); the victim got ${atVictim.length} `
    + `(${received} bytes: ${requests.length} consent checks of ${[...new Set(requests.map((m) => m.length))]} bytes); `
    + `the real receiver got ${during} packets while forging, ${after} in the second after`);
  const foreign = kinds.filter((k) => k !== BINDING_REQUEST && k !== BINDING_SUCCESS);
  assert.deepEqual(foreign, [], 'nothing but STUN reaches the victim: no SRTP, no DTLS');
  assert.ok(requests.length > 0, 'the victim was asked for its consent');
  assert.ok(requests.length <= forgedCount, `${requests.length} checks: not more than the ${forgedCount} forged datagrams`);
  // Unanswered, the checks back off: at once, then after 0.5, 1, 2, 4 s, then one every 5 s (x1.2).
  const few = 5 + Math.ceil(forgingS / 4);
  assert.ok(requests.length <= few, `${requests.length} checks in ${forgingS.toFixed(1)} s of forging: a few (at most ${few})`);
  for (const m of requests) assert.ok(m.length <= smallestCheck, `a consent check of ${m.length} bytes: not bigger than a forged check (${smallestCheck})`);
  assert.ok(received < forgedBytes, `${received} bytes at the victim: less than the ${forgedBytes} forged`);
  assert.ok(during > 0 && after > 0, 'the real receiver kept playing');
  assert.equal((await d.request({ op: 'health' })).viewers, 2, 'forged checks end no session');
  await r.close();
} finally {
  await quiet?.close();
  victim.close();
  await spoof.close();
  assert.equal(await d.stop(), 0);
}
process.exit(0);
