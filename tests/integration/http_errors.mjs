// Every refusal a user can get through nginx (the README's error list, docs/protocol.md's error table,
// fcgi/whep.c, fcgi/relay.c, nginx/whepcam-site.conf.in): status, headers,
// problem+json body, CORS, in the order the stack is taken apart.
//   400 404 405 406 413 415  the handler refuses the request itself
//   413                      nginx past client_max_body_size (64 KiB), and the
//                            handler's own past 16 KiB for a PATCH (under nginx's)
//   401 409 412 503          the daemon: token, offline source, If-Match,
//                            max-viewers (422, an ICE restart in mode full:
//                            http_trickle.mjs)
//   429                      nginx's limit_req on POST
//   503 504 502              the handler: daemon down, daemon silent, daemon's
//                            reply unreadable
//   502                      nginx: the handler is down
// Not reachable through the real stack, so not here: the handler's 413 for an
// offer (nginx's limit is the same 64 KiB and refuses first); 500 `internal`
// (no random bytes, GStreamer elements missing); 504 `answer-timeout` and 406
// `no-answer` (mode full's webrtcbin failing to answer); 503 `viewer-reaped`
// (a session ended before its answer, which the direct path gives at once).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startStack, curl } from '../lib/stack.mjs';

const config = `
[stream cam]
source = test:
width = 320
height = 240
max-viewers = 1
[stream locked]
source = v4l2:/dev/video-none
token = s3cret
[stream garage]
source = v4l2:/dev/video-none
`;
// nginx's POST limit of 50/s with a burst of 100 (the harness sets 1000): room for
// the requests below, and a burst of 200 still draws the 429 at the end.
process.env.POST_RATE ??= '50';
process.env.POST_BURST ??= '100';
const s = await startStack({ config, daemonArgs: ['--stun', 'stun:stun.example.org:3478'] });
const offer = new URL('../data/offer-chromium.sdp', import.meta.url).pathname;
const sid = '0123456789abcdef0123456789abcdef';
const sdpPost = (url, ...extra) => curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', ...extra, url]);
const patch = (url, body, ...headers) => curl(['-X', 'PATCH', '-H', 'Content-Type: application/trickle-ice-sdpfrag',
  ...headers.flatMap((h) => ['-H', h]), '--data-binary', body, url]);
function problem(res, status, detailRe) {
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['content-type']?.[0], 'application/problem+json', `problem+json for ${status}`);
  const p = JSON.parse(res.body);
  assert.equal(p.status, status);
  assert.ok(p.title);
  assert.match(p.detail, detailRe);
  assert.ok(!p.detail.includes('\n'), 'one-line detail');
  assert.equal(res.headers['access-control-allow-origin']?.[0], '*', `CORS on ${status}`);
  return p;
}
const retryAfter = (res) => Number(res.headers['retry-after']?.[0]);
// fetch, in curl()'s shape: for requests a fake daemon in this process must
// answer while they wait (curl() blocks the event loop).
async function fetchRes(url, init) {
  const r = await fetch(url, init);
  const headers = {};
  for (const [k, v] of r.headers) headers[k] = [v];
  return { status: r.status, headers, body: await r.text() };
}
// A fake daemon on the real daemon's socket path: `onConnection(socket)` decides what it says.
async function fakeDaemon(onConnection) {
  const server = net.createServer(onConnection);
  const conns = new Set();
  server.on('connection', (c) => { conns.add(c); c.on('close', () => conns.delete(c)); c.on('error', () => {}); });
  await new Promise((res, rej) => { server.once('error', rej); server.listen(s.daemon.socket, res); });
  return { close: () => new Promise((res) => { for (const c of conns) c.destroy(); server.close(res); }) };
}

try {
  // A CORS preflight (Fetch §4.8): what a browser sends before a POST with
  // Content-Type application/sdp and an Authorization header.
  let res = curl(['-X', 'OPTIONS', '-H', 'Origin: https://player.example', '-H', 'Access-Control-Request-Method: POST',
    '-H', 'Access-Control-Request-Headers: content-type, authorization', `${s.base}/whep/cam`]);
  assert.equal(res.status, 204);
  assert.equal(res.headers['access-control-allow-origin'][0], '*');
  assert.ok(res.headers['access-control-allow-methods'][0].split(/, */).includes('POST'));
  const allowed = res.headers['access-control-allow-headers'][0].toLowerCase().split(/, */);
  for (const h of ['content-type', 'authorization', 'if-match']) assert.ok(allowed.includes(h), `preflight allows ${h}`);
  assert.match(res.headers['access-control-expose-headers'][0], /Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After/);
  assert.ok(Number(res.headers['access-control-max-age'][0]) > 0);
  assert.equal(res.headers['accept-post'][0], 'application/sdp');
  assert.equal(res.headers.link, undefined, 'a preflight does not ask the daemon for ICE servers');
  // The session resource's preflights: PATCH with If-Match, DELETE.
  res = curl(['-X', 'OPTIONS', '-H', 'Origin: https://player.example', '-H', 'Access-Control-Request-Method: PATCH',
    '-H', 'Access-Control-Request-Headers: content-type, if-match', `${s.base}/whep/cam/${sid}`]);
  assert.equal(res.status, 204);
  assert.deepEqual(res.headers['access-control-allow-methods'][0].split(/, */).sort(), ['DELETE', 'OPTIONS', 'PATCH']);
  assert.equal(res.headers['accept-patch'][0], 'application/trickle-ice-sdpfrag');
  // A plain OPTIONS (WHEP §4.4) learns the ICE servers.
  res = curl(['-X', 'OPTIONS', `${s.base}/whep/cam`]);
  assert.equal(res.status, 204);
  assert.deepEqual(res.headers.link, ['<stun:stun.example.org:3478>; rel="ice-server"']);

  // GET/HEAD on a stream (draft-03 §4.1) and the list.
  assert.equal(curl([`${s.base}/whep/cam`]).status, 204);
  assert.equal(curl(['-I', `${s.base}/whep/cam`]).status, 200);
  problem(curl([`${s.base}/whep/nope`]), 404, /stream/);
  res = curl([`${s.base}/whep/`]);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'][0], 'application/json');
  const list = JSON.parse(res.body).streams;
  assert.deepEqual(list.map((x) => [x.name, x.protected]), [['cam', false], ['locked', true], ['garage', false]]);
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
  problem(sdpPost(`${s.base}/whep/cam`), 400, /no body/);
  problem(sdpPost(`${s.base}/whep/cam`, '--data', 'hello'), 400, /not an SDP/);
  // nginx's 413 (client_max_body_size), in the handler's shape.
  const big = path.join(s.dir, 'big.sdp');
  fs.writeFileSync(big, 'v=0\r\n' + 'a=x\r\n'.repeat(14000));
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${big}`), 413, /^the body is larger than 64 KiB$/);
  const bad = path.join(s.dir, 'bad.sdp');
  fs.writeFileSync(bad, Buffer.concat([Buffer.from('v=0\r\n'), Buffer.from([0xff, 0xfe])]));
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${bad}`), 400, /UTF-8/);
  // Control characters: JSON escapes each to six bytes, so 64 KiB of them once outgrew the
  // daemon's 256 KiB socket message (413 "request longer than 256 KiB"): refused as text.
  const controls = path.join(s.dir, 'controls.sdp');
  fs.writeFileSync(controls, Buffer.concat([Buffer.from('v=0\r\n'), Buffer.alloc(60000, 1)]));
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${controls}`), 400, /control characters/);
  const h264 = path.join(s.dir, 'h264.sdp');
  // Safari's offer without its VP8, and its H.264 only in packetization-mode 0 (no FU-A).
  fs.writeFileSync(h264, fs.readFileSync(new URL('../data/offer-safari.sdp', import.meta.url), 'utf8')
    .replace(/a=rtpmap:100 VP8\/90000\r\n/, '').replaceAll('packetization-mode=1', 'packetization-mode=0'));
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${h264}`), 406, /packetization-mode 0 only; this server sends VP8/);
  problem(curl(['-X', 'POST', '-H', 'Content-Type: application/sdp; charset=utf-8', '--data', 'v=0\r\nm=audio 9 RTP/AVP 0\r\n', `${s.base}/whep/nope`]), 404, /no stream/);

  // The content type may carry parameters. This session fills cam (max-viewers = 1).
  res = curl(['-X', 'POST', '-H', 'Content-Type: application/SDP; charset=utf-8', '--data-binary', `@${offer}`, `${s.base}/whep/cam`]);
  assert.equal(res.status, 201, res.body);
  const session = s.base + res.headers.location[0];
  const etag = res.headers.etag[0];
  // 503: at capacity, with Retry-After.
  res = sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${offer}`);
  problem(res, 503, /at capacity: 1 viewers/);
  assert.ok(retryAfter(res) > 0, 'Retry-After on 503');

  // Trickle (RFC 8840 through WHEP §4.3).
  problem(patch(session, 'a=end-of-candidates\r\n', 'If-Match: "not-the-etag"'), 412, /If-Match .* is not this session's ETag/);
  assert.equal(patch(session, 'a=end-of-candidates\r\n', `If-Match: ${etag}`).status, 204);
  assert.equal(patch(session, 'a=end-of-candidates\r\n', 'If-Match: *').status, 204);
  // An ICE restart is 200 in mode lite (http_trickle.mjs), 422 in mode full; one without a password is 400.
  problem(patch(session, 'a=ice-ufrag:newU\r\na=end-of-candidates\r\n'), 400, /with ice-ufrag needs ice-pwd/);
  problem(patch(session, 'a=candidate:1 1 udp 1 127.0.0.1'), 400, /malformed candidate/);
  problem(curl(['-X', 'PATCH', '-H', 'Content-Type: text/plain', '--data', 'x', session]), 415, /sdpfrag/);
  // The handler's own 413: 17 KiB passes nginx's 64 KiB and is over the fragment limit.
  const frag = path.join(s.dir, 'big.frag');
  fs.writeFileSync(frag, 'a=end-of-candidates\r\n'.repeat(820));
  problem(patch(session, `@${frag}`), 413, /^the fragment is 17220 bytes; the limit is 16384$/);
  // Unknown session.
  problem(curl(['-X', 'DELETE', `${s.base}/whep/cam/${sid}`]), 404, /no session/);
  problem(patch(`${s.base}/whep/cam/${sid}`, 'a=end-of-candidates\r\n'), 404, /no session/);

  // 401: a stream with a token, without it and with a wrong one.
  for (const auth of [[], ['-H', 'Authorization: Bearer nope']]) {
    res = sdpPost(`${s.base}/whep/locked`, ...auth, '--data-binary', `@${offer}`);
    problem(res, 401, auth.length ? /token is not valid/ : /needs a Bearer token/);
    assert.match(res.headers['www-authenticate'][0], /^Bearer realm="whepcam"$/);
  }
  // 409: the right token, but the source (a camera that does not exist) is not producing.
  res = sdpPost(`${s.base}/whep/locked`, '-H', 'Authorization: Bearer s3cret', '--data-binary', `@${offer}`);
  problem(res, 409, /stream locked is offline/);
  res = sdpPost(`${s.base}/whep/garage`, '--data-binary', `@${offer}`);
  problem(res, 409, /stream garage is offline/);
  assert.ok(retryAfter(res) > 0, 'Retry-After on 409');

  // 503: the daemon is down (its socket is gone).
  assert.equal(await s.stopDaemon(), 0, 'whepcamd exits cleanly');
  res = curl([`${s.base}/whep/`]);
  problem(res, 503, /daemon is not running/);
  assert.ok(retryAfter(res) > 0, 'Retry-After on 503');
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${offer}`), 503, /daemon is not running/);
  // 504: a daemon that accepts and never answers: the handler's relay timeout.
  let fake = await fakeDaemon(() => {});
  const t0 = Date.now();
  problem(sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${offer}`), 504, /did not answer in time/);
  assert.ok(Date.now() - t0 >= 9000, 'after WHEPCAM_RELAY_TIMEOUT_MS');
  await fake.close();
  // 502: a daemon whose reply is not the protocol's.
  fake = await fakeDaemon((c) => c.end('this is not JSON\n'));
  problem(await fetchRes(`${s.base}/whep/`), 502, /^invalid JSON/);
  await fake.close();

  // 502 from nginx: the handler is down.
  s.fcgi.child.kill('SIGTERM');
  assert.equal(await s.fcgi.exited, 0, 'whepcam-fcgi exits cleanly on SIGTERM');
  res = sdpPost(`${s.base}/whep/cam`, '--data-binary', `@${offer}`);
  problem(res, 502, /FastCGI handler is not running/);
  assert.ok(retryAfter(res) > 0, 'Retry-After on 502');

  // 429: nginx's limit_req (POST_RATE 50/s, burst 100 per address), checked
  // before the handler is asked: POSTs (502 now) until nginx refuses some.
  // Last, since the address stays limited for a while after.
  let limited = null, round = 0;
  for (; round < 20 && !limited; round++) {
    const batch = await Promise.all(Array.from({ length: 200 }, () => fetch(`${s.base}/whep/cam`,
      { method: 'POST', headers: { 'Content-Type': 'application/sdp' } })
      .then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() }))));
    assert.ok(batch.every((r) => r.status === 502 || r.status === 429), `only 502 and 429: ${[...new Set(batch.map((r) => r.status))]}`);
    limited = batch.find((r) => r.status === 429);
  }
  assert.ok(limited, 'nginx limited the POST burst');
  console.log(`429 within ${round} burst(s) of 200 POSTs`);
  assert.equal(limited.headers.get('content-type'), 'application/problem+json');
  assert.equal(limited.headers.get('access-control-allow-origin'), '*');
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.match(JSON.parse(limited.body).detail, /too many offers/);
  assert.equal(curl([`${s.base}/whep/`]).status, 502, 'GET is not rate limited (and gets the handler-down 502)');
} finally {
  await s.stop();
}
process.exit(0);
