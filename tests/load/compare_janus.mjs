// whepcam and Janus side by side: the same viewer counts, the same werift
// receivers, the same 1280x720@30 picture (whepcamd passes make bench's clip
// through, or encodes VP8 in-process; Janus relays gst-launch's twin of that
// encoder), at 2 Mbps and at a low
// bitrate. Each server runs alone on the box in turn; per-viewer CPU is its
// CPU above its own 0-viewer window, divided by the viewers. For whepcamd that
// CPU leaves out the source+encoder threads (Janus's encoder is gst-launch,
// another process), so both figures are the relay path alone; whepcamd's
// whole-process figure is kept beside it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { createNetns, startJanus } from './janus.mjs';
import { startFleet, setViewers, serverWindow, sleep, median } from './fleet.mjs';

// One server under `steps` viewer counts, `reps` times: medians per count.
async function measure(fleet, target, pid, { steps, windowS, reps }, skipThreads = /^$/) {
  const windows = [];
  const firstKey = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const n of steps) {
      const j = await setViewers(fleet, target, n);
      firstKey.push(...j.joined.map((x) => x.firstKey));
      await sleep(2000);
      const w = await serverWindow(fleet, pid, windowS * 1000, { skip: skipThreads });
      windows.push({ rep, n: fleet.held(), total: w.cpu, cpu: w.relayCpu, rssMb: w.rssMb, threads: w.threads,
        pktMedian: median(w.rates), clientCpu: w.clientCpu, joinFailed: j.failed });
    }
    await setViewers(fleet, target, 0);
  }
  for (const w of windows) {
    const base = windows.find((x) => x.rep === w.rep && x.n === 0);
    w.cpuPerViewer = w.n && base ? (w.cpu - base.cpu) / w.n : null;
    w.totalPerViewer = w.n && base ? (w.total - base.total) / w.n : null;
    w.rssPerViewerMb = w.n && base ? (w.rssMb - base.rssMb) / w.n : null;
    w.threadsPerViewer = w.n && base ? (w.threads - base.threads) / w.n : null;
  }
  const rows = steps.map((n) => {
    const ws = windows.filter((w) => w.n === n);
    const m = (k) => median(ws.map((w) => w[k]));
    return { n, got: ws.map((w) => w.n), cpu: m('cpu'), cpuPerViewer: n ? m('cpuPerViewer') : null,
      total: m('total'), totalPerViewer: n ? m('totalPerViewer') : null, rssMb: m('rssMb'),
      rssPerViewerMb: n ? m('rssPerViewerMb') : null, threads: m('threads'), threadsPerViewer: n ? m('threadsPerViewer') : null,
      pktMedian: m('pktMedian'), clientCpu: m('clientCpu') };
  });
  return { rows, firstKeyP50: median(firstKey) };
}

// `clip` (a file: source passed through, make bench's): no encoder in the
// process, as none is in Janus's, so the whole process is the relay; else the
// test source, its encoder's threads left out (their ±5 % of a core swamps
// a relay of 50 viewers at 2 Mbps: the figure came out below zero).
async function whepcamSide({ kbps, pattern, clip }, opts) {
  const s = await startStack({ daemonArgs: ['--width', '1280', '--height', '720', '--fps', '30', '--bitrate-kbps',
    String(kbps), '--source', clip ? `file:${clip}` : `test:${pattern}`, '--max-viewers', '400', '--log-level', 'warning',
    '--ice-mode', process.env.BENCH_ICE_MODE ?? 'auto'] });
  const fleet = await startFleet(opts.workers);
  try {
    return await measure(fleet, { kind: 'whep', base: s.base }, s.daemon.pid, opts, /^videotestsrc/);
  } finally {
    fleet.stop();
    await s.stop();
  }
}

async function janusSide({ kbps, pattern }, opts) {
  const ns = createNetns(`whepcam-bench-${process.pid}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-janus-'));
  let janus = null, fleet = null;
  try {
    janus = await startJanus(dir, [{ id: 1, width: 1280, height: 720, fps: 30, bitrateKbps: kbps, pattern }], ns);
    fleet = await startFleet(opts.workers, ns);
    return await measure(fleet, { kind: 'janus', base: janus.base, id: 1 }, janus.pid, opts);
  } finally {
    fleet?.stop();
    await janus?.stop();
    ns.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// streams: [{ kbps, pattern }]: the pattern decides what the encoder can
// reach (moving SMPTE bars stay near 2 Mbps at any target; `ball` ≈ 150 kbps).
// -> [{ bitrateKbps, pattern, n, whepcam, janus, ratio }], ratio at the largest count.
export async function compareWithJanus({ streams, steps, windowS, reps, workers, log = console.log }) {
  const opts = { steps, windowS, reps, workers };
  const out = [];
  for (const st of streams) {
    const kbps = st.kbps;
    log(`janus comparison at ${kbps} kbps (${st.pattern}): whepcam ...`);
    const w = await whepcamSide(st, opts);
    log(`janus comparison at ${kbps} kbps (${st.pattern}): Janus ...`);
    const j = await janusSide(st, opts);
    const n = Math.max(...steps);
    const wr = w.rows.find((r) => r.n === n), jr = j.rows.find((r) => r.n === n);
    // A per-viewer figure at or below zero is noise swamping the signal, not a win.
    const valid = wr.cpuPerViewer > 0 && jr.cpuPerViewer > 0;
    out.push({ bitrateKbps: kbps, pattern: st.pattern, n, whepcam: w, janus: j, ratio: valid ? wr.cpuPerViewer / jr.cpuPerViewer : NaN });
  }
  return out;
}
