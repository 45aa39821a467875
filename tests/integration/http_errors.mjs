// Refusals of the README's HTTP API (its error list): status, headers, problem+json body, CORS.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, curl } from '../lib/stack.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
const offer = new URL('../data/offer-chromium.sdp', import.meta.url).pathname;
const sid = '0123456789abcdef0123456789abcdef';
function problem(res, status, detailRe) {
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['content-type']?.[0], 'application/problem+json', `problem+json for ${status}`);
  const p = JSON.parse(res.body);
  assert.equal(p.status, status);
  assert.ok(p.title);
  assert.match(p.detail, detailRe);
  assert.ok(!p.detail.includes('\n'), 'one-line detail');
  assert.equal(res.headers['access-control-allow-origin']?.[0], '*', `CORS on ${status}`);
}
try {
  // OPTIONS: CORS preflight answers.
  let res = curl(['-X', 'OPTIONS', '-H', 'Origin: https://player.example', `${s.base}/whep/cam`]);
  assert.equal(res.status, 204);
  assert.equal(res.headers['accept-post'][0], 'application/sdp');
  assert.match(res.headers['access-control-allow-methods'][0], /POST/);
  assert.equal(res.headers['access-control-allow-headers'][0], 'Content-Type, Authorization, If-Match');
  assert.match(res.headers['access-control-expose-headers'][0], /Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After/);
  assert.ok(Number(res.headers['access-control-max-age'][0]) > 0);
  res = curl(['-X', 'OPTIONS', `${s.base}/whep/cam/${sid}`]);
  assert.equal(res.status, 204);
  assert.match(res.headers['access-control-allow-methods'][0], /DELETE/);

  // GET/HEAD on a stream (draft-03 §4.1) and the list.
  assert.equal(curl([`${s.base}/whep/cam`]).status, 204);
  assert.equal(curl(['-I', `${s.base}/whep/cam`]).status, 200);
  problem(curl([`${s.base}/whep/nope`]), 404, /stream/);
  res = curl([`${s.base}/whep/`]);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'][0], 'application/json');
  const list = JSON.parse(res.body).streams;
  assert.equal(list[0].name, 'cam');
  assert.deepEqual([list[0].codec, list[0].width, list[0].height, list[0].viewers], ['VP8', 320, 240, 0]);

  // Paths and methods.
  for (const p of ['/whep/a%20b', '/whep/cam/xyz', '/whep/cam/' + sid + '/more', '/whep/' + 'c'.repeat(65)])
    problem(curl([s.base + p]), 404, /WHEP resource/);
  res = curl(['-X', 'PUT', `${s.base}/whep/cam`]);
  problem(res, 405, /not allowed/);
  assert.equal(res.headers.allow[0], 'POST, GET, HEAD, OPTIONS');
  res = curl(['-X', 'POST', `${s.base}/whep/cam/${sid}`]);
  problem(res, 405, /not allowed/);
  assert.equal(res.headers.allow[0], 'PATCH, DELETE, OPTIONS');

  // Bodies.
  problem(curl(['-X', 'POST', '-H', 'Content-Type: text/plain', '--data-binary', `@${offer}`, `${s.base}/whep/cam`]), 415, /application\/sdp/);
  problem(curl(['-X', 'POST', `${s.base}/whep/cam`, '--data-binary', `@${offer}`]), 415, /application\/sdp/);
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', `${s.base}/whep/cam`]), 400, /no body/);
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data', 'hello', `${s.base}/whep/cam`]), 400, /not an SDP/);
  const big = path.join(s.dir, 'big.sdp');
  fs.writeFileSync(big, 'v=0\r\n' + 'a=x\r\n'.repeat(14000));
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${big}`, `${s.base}/whep/cam`]), 413, /64 KiB/);
  const bad = path.join(s.dir, 'bad.sdp');
  fs.writeFileSync(bad, Buffer.concat([Buffer.from('v=0\r\n'), Buffer.from([0xff, 0xfe])]));
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${bad}`, `${s.base}/whep/cam`]), 400, /UTF-8/);
  const h264 = path.join(s.dir, 'h264.sdp');
  fs.writeFileSync(h264, fs.readFileSync(new URL('../data/offer-safari.sdp', import.meta.url), 'utf8').replace(/a=rtpmap:100 VP8\/90000\r\n/, ''));
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${h264}`, `${s.base}/whep/cam`]), 406, /VP8/);
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp; charset=utf-8', '--data', 'v=0\r\nm=audio 9 RTP/AVP 0\r\n', `${s.base}/whep/nope`]), 404, /no stream/);
  // The content type may carry parameters.
  res = curl(['-X', 'POST', '-H', 'Content-Type: application/SDP; charset=utf-8', '--data-binary', `@${offer}`, `${s.base}/whep/cam`]);
  assert.equal(res.status, 201);
  // Unknown session.
  problem(curl(['-X', 'DELETE', `${s.base}/whep/cam/${sid}`]), 404, /no session/);
  // Trickle: malformed fragments are refused with a reason.
  res = curl(['-X', 'PATCH', '-H', 'Content-Type: application/trickle-ice-sdpfrag', '--data', 'a=candidate:1 1 udp 1 127.0.0.1', s.base + res.headers.location[0]]);
  problem(res, 400, /malformed candidate/);
  problem(curl(['-X', 'PATCH', '-H', 'Content-Type: text/plain', '--data', 'x', `${s.base}/whep/cam/${sid}`]), 415, /sdpfrag/);
} finally {
  await s.stop();
}
process.exit(0);
