// Players that are not browsers, against mode lite and mode full through
// nginx: aiortc (Debian's python3-aiortc) and a GStreamer webrtcbin offerer
// (python3-gi; its offer is audio first under max-bundle, the video m-line
// port 0 + bundle-only). Each decodes 30 frames at the configured size, and
// its DELETE, sent while playing, gets 200.
// WHEPCAM_SAVE_OFFERS=1 rewrites tests/data/offer-{aiortc,webrtcbin}.sdp from mode lite.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enterPrivateNetwork, TEST_ADDR } from '../lib/netns.mjs';
import { startStack } from '../lib/stack.mjs';
import { until } from '../lib/daemon.mjs';
import { deleteStatus } from '../lib/players.mjs';

enterPrivateNetwork();
const here = path.dirname(fileURLToPath(import.meta.url));
const W = 320, H = 240, FRAMES = 30;
// Debian's interpreter, whatever python3 comes first in PATH: the packages are its.
const PYTHON = process.env.WHEPCAM_PYTHON || '/usr/bin/python3';
const PLAYERS = [
  { name: 'aiortc', script: 'whep_aiortc.py' },
  { name: 'webrtcbin', script: 'whep_webrtcbin.py', bundleOnlyVideo: true },
];

function runPlayer(script, endpoint, offerFile) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [path.join(here, '../players', script), endpoint, String(FRAMES), offerFile],
      { timeout: 90000, env: { ...process.env, GST_DEBUG: process.env.GST_DEBUG || '1' } },
      (err, stdout, stderr) => {
        // err.message has the command and its stderr.
        if (err) { reject(new Error(`${err.message.slice(-3000)}\n${stdout}`)); return; }
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      });
  });
}

const failures = [];
for (const mode of ['lite', 'full']) {
  const s = await startStack({ daemonArgs: ['--width', String(W), '--height', String(H), '--fps', '30',
    '--ice-address', TEST_ADDR, '--ice-mode', mode] });
  try {
    for (const p of PLAYERS) {
      const what = `${p.name} ${mode}`;
      const offerFile = path.join(s.dir, `offer-${p.name}.sdp`); if (process.env.KEEP) fs.mkdirSync('/tmp/offers', { recursive: true });
      const t = Date.now();
      try {
        const got = await runPlayer(p.script, `${s.base}/whep/cam`, offerFile);
        const offer = fs.readFileSync(offerFile, 'utf8');
        if (mode === 'lite' && process.env.WHEPCAM_SAVE_OFFERS === '1')
          fs.copyFileSync(offerFile, path.join(here, '../data', `offer-${p.name}.sdp`));
        if (p.bundleOnlyVideo)
          assert.match(offer, /\r\nm=video 0 [^\r]*\r\n([ac]=[^\r]*\r\n)*a=bundle-only\r\n/, `${what}: the offer's video is bundle-only`);
        assert.ok(got.frames >= FRAMES, `${what}: ${got.frames} frames decoded`);
        assert.deepEqual([got.width, got.height], [W, H], `${what}: decoded size`);
        assert.equal(got.delete, 200, `${what}: DELETE`);
        assert.equal(await deleteStatus(s, got.session), 200, `${what}: nginx logged the DELETE`);
        await until(async () => (await s.daemon.request({ op: 'streams' })).streams[0].viewers === 0,
          { timeoutMs: 10000, what: `${what}: 0 viewers` });
        console.log(`ok   ${what}: ${got.frames} frames ${got.width}x${got.height}, DELETE ${got.delete}; ${Date.now() - t} ms`);
      } catch (e) {
        console.log(`FAIL ${what}: ${e.message}`);
        failures.push(what);
      }
    }
  } finally {
    await s.stop();
  }
}
assert.deepEqual(failures, [], 'every player plays in every mode');
process.exit(0);
