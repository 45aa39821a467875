// Chromium forced to relay-only plays through a real coturn, using the TURN
// server and time-limited credentials the server hands out in Link headers.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { startCoturn } from '../lib/coturn.mjs';
import { launchChromium } from '../lib/browser.mjs';

const turn = await startCoturn();
const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--turn', turn.url, '--turn-secret', turn.secret] });
const browser = await launchChromium();
try {
  // A plain OPTIONS returns the servers, with REST credentials (RFC 9725 Link format).
  const opt = await fetch(`${s.base}/whep/cam`, { method: 'OPTIONS' });
  assert.equal(opt.status, 204);
  assert.match(opt.headers.get('link'), new RegExp(`^<turn:127\\.0\\.0\\.1:${turn.port}\\?transport=udp>; rel="ice-server"; username="\\d+:whepcam"; credential="[A-Za-z0-9+/=]+"; credential-type="password"$`));
  // A CORS preflight does not call the daemon for them.
  const pre = await fetch(`${s.base}/whep/cam`, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'POST', Origin: 'https://x.example' } });
  assert.equal(pre.headers.get('link'), null);

  const page = await browser.newPage();
  await page.goto(s.base + '/?relay=1');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30, null, { timeout: 30000 });
  const path = await page.evaluate(async () => {
    const stats = await window.whepcam.peerConnection().getStats();
    let pair = null;
    stats.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
    const local = pair && stats.get(pair.localCandidateId);
    const offer = window.whepcam.peerConnection().localDescription.sdp;
    return { type: local && local.candidateType, offerTypes: [...offer.matchAll(/ typ (\w+)/g)].map((m) => m[1]) };
  });
  console.log('selected local candidate:', path.type, 'offer candidate types:', path.offerTypes.join(','));
  assert.equal(path.type, 'relay', 'media goes through the TURN relay');
  assert.ok(path.offerTypes.length > 0 && path.offerTypes.every((t) => t === 'relay'), 'relay-only offer');
  assert.match(turn.log(), /ALLOCATE/i, 'coturn allocated a relay');
  await page.click('#stop');
} finally {
  await browser.close();
  await s.stop();
  await turn.stop();
}
process.exit(0);
