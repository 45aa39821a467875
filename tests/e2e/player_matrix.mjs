// The offer matrix: real Chromium and real Firefox, each against mode lite
// and mode full, with every offer shape players send: video only, video then
// audio, audio first under max-bundle (Firefox marks the video m-line
// bundle-only, port 0), audio first under the balanced policy; each with the
// candidates in the offer and with trickle (the offer at once, candidates by
// PATCH with If-Match). Plus the project's page (Start, Stop). Every cell
// decodes frames at the configured size, the answer's BUNDLE group keeps the
// offer's mid order, and its DELETE gets 200. One browser of each kind and
// one page per browser and mode; a failed cell does not stop the others, and
// the table at the end says which failed and why.
// WHEPCAM_SAVE_OFFERS=1 rewrites the tests/data/offer-<browser>-<shape>.sdp
// fixtures (the unit tests of sdp.c and answer.c read them) from mode lite's
// cells without trickle.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enterPrivateNetwork, TEST_ADDR } from '../lib/netns.mjs';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { launchFirefox } from '../lib/firefox.mjs';
import { until } from '../lib/daemon.mjs';
import { accessLog, deleteStatus, pageStart, pageFrames, pageStop } from '../lib/players.mjs';

enterPrivateNetwork();
const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../data');
const W = 320, H = 240, FRAMES = 10;

const SHAPES = [
  { name: 'video', kinds: ['video'], bundlePolicy: 'max-bundle' },
  { name: 'video-audio', kinds: ['video', 'audio'], bundlePolicy: 'max-bundle' },
  { name: 'audio-first-max-bundle', kinds: ['audio', 'video'], bundlePolicy: 'max-bundle' },
  { name: 'audio-first-balanced', kinds: ['audio', 'video'], bundlePolicy: 'balanced' },
];
const BROWSERS = [
  { name: 'chromium', fixture: 'chromium', launch: launchChromium },
  { name: 'firefox', fixture: 'firefox-esr', launch: launchFirefox },
];

const bundleOf = (sdp) => (/^a=group:BUNDLE (.*?)\r?$/m.exec(sdp) || [])[1]?.split(' ') ?? [];
const midsOf = (sdp) => [...sdp.matchAll(/^a=mid:(\S+?)\r?$/gm)].map((m) => m[1]);

async function waitFrames(page, what) {
  let last;
  await until(async () => {
    last = await page.evaluate(pageFrames);
    return last.decoded >= FRAMES && last.width > 0;
  }, { timeoutMs: 20000, everyMs: 100, what: `${what}: ${FRAMES} frames decoded` }).catch((e) => {
    throw new Error(`${e.message}; last ${JSON.stringify(last)}`);
  });
  return last;
}

async function viewersZero(stack, what) {
  await until(async () => (await stack.daemon.request({ op: 'streams' })).streams[0].viewers === 0,
    { timeoutMs: 10000, what: `${what}: the daemon back to 0 viewers` });
}

// One WHEP session in the page: plays, keeps the BUNDLE order, DELETE 200.
async function cell(stack, page, browser, mode, shape, trickle) {
  const what = `${browser.name} ${mode} ${shape.name}${trickle ? ' trickle' : ''}`;
  const r = await page.evaluate(pageStart, { endpoint: `${stack.base}/whep/cam`, trickle, ...shape });
  if (!trickle && mode === 'lite' && process.env.WHEPCAM_SAVE_OFFERS === '1')
    fs.writeFileSync(path.join(dataDir, `offer-${browser.fixture}-${shape.name}.sdp`), r.offer);
  if (browser.name === 'firefox' && shape.name === 'audio-first-max-bundle')
    assert.match(r.offer, /\r\nm=video 0 [^\r]*\r\n(a=[^\r]*\r\n|c=[^\r]*\r\n)*a=bundle-only\r\n/, `${what}: the offer's video is bundle-only`);
  assert.equal(r.status, 201, `${what}: POST: ${r.answer}`);
  try {
    assert.deepEqual(bundleOf(r.answer), bundleOf(r.offer).filter((m) => midsOf(r.answer).includes(m)),
      `${what}: the answer's BUNDLE group in the offer's order`);
    const got = await waitFrames(page, what);
    assert.deepEqual([got.width, got.height], [W, H], `${what}: the size shown`);
    if (trickle) {
      await until(async () => (await page.evaluate(pageFrames)).patches.some((p) => p.end),
        { timeoutMs: 10000, what: `${what}: end-of-candidates sent` });
      const { patches } = await page.evaluate(pageFrames);
      assert.deepEqual(patches.map((p) => p.status).filter((s) => s !== 204), [], `${what}: every PATCH 204`);
    }
  } finally {
    const status = await page.evaluate(pageStop);
    assert.equal(status, 200, `${what}: DELETE`);
  }
  await viewersZero(stack, what);
  return `${r.offer.match(/\r\nm=/g).length} m-lines${trickle ? `, ${(await countPatches(stack, r.session))} PATCH` : ''}`;
}

async function countPatches(stack, session) {
  const p = new URL(session).pathname;
  return accessLog(stack).filter((e) => e.method === 'PATCH' && e.path === p).length;
}

// The project's page: Start, frames, Stop; trickles by PATCH only to a full-ICE server.
async function projectPage(stack, page, browser, mode) {
  const what = `${browser.name} ${mode} project page`;
  await page.goto(stack.base + '/');
  await until(() => page.evaluate(() => document.querySelector('#stream option') !== null), { what: `${what}: streams listed` });
  await page.click('#start');
  let st;
  await until(async () => {
    st = await page.evaluate(() => ({ frames: window.whepcam.framesDecoded(), state: window.whepcam.state,
      session: window.whepcam.session, status: document.querySelector('#status').textContent,
      w: document.querySelector('video').videoWidth, h: document.querySelector('video').videoHeight }));
    return st.frames >= FRAMES && st.state === 'playing';
  }, { timeoutMs: 20000, everyMs: 100, what: `${what}: playing` }).catch((e) => { throw new Error(`${e.message}; last ${JSON.stringify(st)}`); });
  assert.deepEqual([st.w, st.h], [W, H], `${what}: the size shown`);
  await page.click('#stop');
  assert.equal(await deleteStatus(stack, st.session), 200, `${what}: the DELETE after Stop`);
  await viewersZero(stack, what);
  const patches = await countPatches(stack, st.session);
  if (mode === 'lite') assert.equal(patches, 0, `${what}: no PATCH to an ICE-lite server`);
  else assert.ok(patches >= 1, `${what}: candidates trickled by PATCH`);
  return `${patches} PATCH, first frame ${await page.evaluate(() => window.whepcam.firstFrameMs)} ms`;
}

const t0 = Date.now();
const results = [];
const browsers = [];
try {
  for (const b of BROWSERS) browsers.push({ ...b, instance: await b.launch() });
  for (const mode of ['lite', 'full']) {
    const stack = await startStack({ daemonArgs: ['--width', String(W), '--height', String(H), '--fps', '30',
      '--ice-address', TEST_ADDR, '--ice-mode', mode] });
    try {
      for (const b of browsers) {
        const page = await b.instance.newPage();
        page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning' || m.type() === 'warn') console.log(`${b.name} page:`, m.text()); });
        await page.goto(stack.base + '/');
        const run = async (name, fn) => {
          const t = Date.now();
          try {
            const note = await fn();
            results.push({ browser: b.name, mode, name, ok: true, note: `${note}; ${Date.now() - t} ms` });
          } catch (e) {
            results.push({ browser: b.name, mode, name, ok: false, note: e.message.split('\n')[0] });
            // Whatever the cell left: the next one starts from 0 viewers.
            const left = await page.evaluate(() => {
              const w = window.__whep;
              if (w && w.pc) w.pc.close();
              return [w && w.url, window.whepcam && window.whepcam.session];
            }).catch(() => []);
            for (const url of left.filter(Boolean)) await fetch(url, { method: 'DELETE' }).catch(() => {});
            await viewersZero(stack, name).catch(() => {});
          }
          const last = results[results.length - 1];
          console.log(`${last.ok ? 'ok  ' : 'FAIL'} ${b.name} ${mode} ${name}: ${last.note}`);
        };
        for (const shape of SHAPES)
          for (const trickle of [false, true])
            await run(`${shape.name}${trickle ? ' trickle' : ''}`, () => cell(stack, page, b, mode, shape, trickle));
        await run('project page', () => projectPage(stack, page, b, mode));
        await page.close();
      }
    } finally {
      await stack.stop();
    }
  }
} finally {
  for (const b of browsers) await b.instance.close().catch(() => {});
}
const failed = results.filter((r) => !r.ok);
console.log(`\nmatrix: ${results.length - failed.length} of ${results.length} cells pass in ${Math.round((Date.now() - t0) / 1000)} s`);
for (const r of failed) console.log(`  FAIL ${r.browser} ${r.mode} ${r.name}: ${r.note}`);
process.exit(failed.length === 0 ? 0 : 1);
