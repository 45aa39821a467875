// Issue 13 (8): a refused request leaves one log line with its status and
// reason, in the daemon (with the player's address) and in whepcam-fcgi; a
// flood of them is rate-limited: a burst, then a few a second, and a count
// of the lines held back, so the disk cannot fill. Before, a 400's reason
// was only in the HTTP body.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { until } from '../lib/daemon.mjs';

const FLOOD = 300;
const BURST = 20; // WHEPCAM_REFUSAL_LOG_BURST (common/ratelimit.h)
const noVideo = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';
process.env.POST_RATE = '100000'; // nginx must let the flood through to the handler
process.env.POST_BURST = '100000';
const s = await startStack();
const post = () => fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: noVideo });
try {
  const first = await post();
  assert.equal(first.status, 400);
  const detail = (await first.json()).detail;
  assert.match(detail, /no active video m-line/);
  const refused = (log) => log.split('\n').filter((l) => l.includes('refused offer from 127.0.0.1: 400 bad-offer: ' + detail));
  // The log line is written before the reply, but reaches this process on another pipe.
  await until(() => refused(s.daemon.log()).length === 1, { what: 'the daemon logs the refusal with its reason' });

  const started = Date.now();
  for (let i = 0; i < FLOOD; i += 10) await Promise.all(Array.from({ length: 10 }, post));
  const seconds = (Date.now() - started) / 1000;
  const lines = refused(s.daemon.log()).length;
  // The burst, plus at most 5 a second for as long as the flood took (and one of slack).
  assert.ok(lines >= BURST && lines <= 1 + BURST + Math.ceil(5 * seconds) + 1,
    `${lines} refusal lines for ${FLOOD + 1} refusals in ${seconds.toFixed(1)} s`);
  // The next line that goes out says how many were held back.
  await new Promise((r) => setTimeout(r, 400));
  await post();
  await until(() => /\d+ refusals not logged \(more than 5 a second\)/.test(s.daemon.log()), { what: 'the count of lines held back' });
  await until(() => /\d+ requests not logged/.test(s.fcgi.logs.join('')), { what: 'whepcam-fcgi: the count of lines held back' });

  const fcgiLog = s.fcgi.logs.join('');
  assert.match(fcgiLog, /POST \/whep\/cam 400 [\d.]+ ms: .*no active video m-line/, 'whepcam-fcgi logs the reason too');
  const fcgiLines = fcgiLog.split('\n').filter((l) => l.includes('POST /whep/cam 400')).length;
  assert.ok(fcgiLines <= 2 + BURST + Math.ceil(5 * seconds) + 1, `${fcgiLines} fcgi lines`);
  console.log(`${FLOOD + 2} refusals in ${seconds.toFixed(1)} s: ${lines} daemon lines, ${fcgiLines} fcgi lines`);
} finally {
  await s.stop();
}
process.exit(0);
