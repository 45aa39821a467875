// The page shows the server's one-line reason: an unknown stream (404) and a
// token-protected stream (401, then plays once the token is typed).
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--token', 's3cret'] });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(s.base + '/?stream=nope');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.state === 'error', null, { timeout: 10000 });
  assert.match(await page.textContent('#status'), /Error: no stream named nope/);
  assert.equal(await page.isDisabled('#start'), false, 'Start is usable again');

  await page.goto(s.base + '/?stream=cam');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.state === 'error', null, { timeout: 10000 });
  assert.match(await page.textContent('#status'), /needs a token.*Bearer token/);
  assert.equal(await page.isVisible('#token'), true, 'the token field appears on 401');
  await page.fill('#token', 's3cret');
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 10, null, { timeout: 20000 });
  await page.click('#stop');
} finally {
  await browser.close();
  await s.stop();
}
process.exit(0);
