// Offers shaped like Chromium's, Firefox's and Safari's (tests/data) are each
// answered 201 with candidates and the offer's own VP8 payload type.
import assert from 'node:assert/strict';
import { startStack, curl } from '../lib/stack.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
try {
  for (const [name, pt] of [['chromium', 96], ['firefox', 120], ['safari', 100]]) {
    const file = new URL(`../data/offer-${name}.sdp`, import.meta.url).pathname;
    const res = curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${file}`, `${s.base}/whep/cam`]);
    assert.equal(res.status, 201, `${name}: ${res.body}`);
    assert.match(res.body, /\r\na=candidate:/, `${name}: candidates in the answer`);
    assert.match(res.body, /\r\na=end-of-candidates\r\n/, name);
    assert.match(res.body, new RegExp(`\\r\\na=rtpmap:${pt} VP8/90000\\r\\n`), `${name}: VP8 with pt ${pt}`);
    assert.match(res.body, /a=group:BUNDLE/, name);
    assert.equal(curl(['-X', 'DELETE', s.base + res.headers.location[0]]).status, 200);
  }
} finally {
  await s.stop();
}
process.exit(0);
