// What the player tests share: the server's own record of each request
// (nginx's access log), a second origin to serve a third-party page from, and
// a WHEP client that runs inside any browser page (Chromium by playwright,
// Firefox by puppeteer: both take page.evaluate(fn, arg)).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { until } from './daemon.mjs';

// nginx's access log as [{ method, path, status }], oldest first.
export function accessLog(stack) {
  let text = '';
  try { text = fs.readFileSync(path.join(stack.dir, 'nginx', 'nginx-access.log'), 'utf8'); } catch { /* none yet */ }
  return text.split('\n').map((l) => /"(\w+) (\S+) HTTP\/[\d.]+" (\d{3}) /.exec(l))
    .filter(Boolean).map((m) => ({ method: m[1], path: m[2], status: Number(m[3]) }));
}

// The statuses nginx logged for `method` on `url` (a URL or a path), oldest first.
export function statuses(stack, method, url) {
  const p = new URL(url, stack.base).pathname;
  return accessLog(stack).filter((e) => e.method === method && e.path === p).map((e) => e.status);
}

// The status nginx logged for the DELETE of `session` (a URL or a path):
// what the player got, whichever player sent it.
export async function deleteStatus(stack, session, timeoutMs = 10000) {
  const p = new URL(session, stack.base).pathname;
  const hit = await until(() => accessLog(stack).find((e) => e.method === 'DELETE' && e.path === p),
    { timeoutMs, what: `DELETE ${p} in nginx's access log` });
  return hit.status;
}

// A static server on another loopback port: a page served from here calls the
// WHEP endpoint cross-origin, as a third-party player does (CORS, preflight).
export function serveFiles(files) {
  const server = http.createServer((req, res) => {
    const name = new URL(req.url, 'http://x').pathname.slice(1);
    if (!files[name]) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(files[name]));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  })));
}

// In the page: one WHEP session shaped by `o` = { endpoint, kinds: ['audio',
// 'video'] in transceiver order, bundlePolicy, trickle }. trickle false: the
// offer waits for ICE gathering and carries every candidate. trickle true: it
// goes at once and the candidates follow by PATCH (If-Match: the ETag), as a
// generic WHEP client does whatever the server is. Resolves with { offer,
// answer, session, patches } and keeps the peer in window.__whep.
export function pageStart(o) {
  return (async () => {
    const prev = window.__whep;
    if (prev && prev.pc) prev.pc.close();
    const w = window.__whep = { pc: null, patches: [], errors: [] };
    const pc = w.pc = new RTCPeerConnection({ bundlePolicy: o.bundlePolicy });
    for (const k of o.kinds) pc.addTransceiver(k, { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true; video.autoplay = true; video.playsInline = true;
    document.body.appendChild(video);
    w.video = video;
    pc.ontrack = (ev) => {
      if (ev.track.kind !== 'video') return;
      video.srcObject = new MediaStream([ev.track]);
      video.play().catch(() => {});
    };
    const gathered = new Promise((resolve) => {
      const pending = [];
      let location = null, etag = null, busy = false, ended = false;
      const flush = async () => {
        if (!o.trickle || !location || busy || ended) return;
        const cands = pending.splice(0);
        const end = pc.iceGatheringState === 'complete';
        if (cands.length === 0 && !end) return;
        const sdp = pc.localDescription.sdp;
        const lines = [/^a=ice-ufrag:.*$/m.exec(sdp)[0].trim(), /^a=ice-pwd:.*$/m.exec(sdp)[0].trim()];
        for (const mid of new Set(cands.map((c) => c.sdpMid))) {
          lines.push(`m=${o.kinds[0]} 9 UDP/TLS/RTP/SAVPF 0`, `a=mid:${mid}`);
          for (const c of cands) if (c.sdpMid === mid) lines.push(`a=${c.candidate}`);
        }
        if (end) lines.push('a=end-of-candidates');
        busy = true; ended = end;
        const r = await fetch(location, { method: 'PATCH', body: lines.join('\r\n') + '\r\n',
          headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': etag } });
        w.patches.push({ status: r.status, candidates: cands.length, end });
        busy = false;
        flush();
      };
      w.session = (loc, tag) => { location = loc; etag = tag; flush(); };
      pc.onicecandidate = (ev) => {
        if (ev.candidate && ev.candidate.candidate) pending.push(ev.candidate);
        if (!ev.candidate) { resolve(); flush(); } else flush();
      };
    });
    await pc.setLocalDescription(await pc.createOffer());
    if (!o.trickle) await gathered;
    const offer = pc.localDescription.sdp;
    const res = await fetch(o.endpoint, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
    const answer = await res.text();
    if (res.status !== 201) return { offer, status: res.status, answer };
    const session = new URL(res.headers.get('Location'), o.endpoint).href;
    w.url = session;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    w.session(session, res.headers.get('ETag'));
    return { offer, status: res.status, answer, session };
  })();
}

// In the page: frames decoded so far on the video track (getStats), and the
// size the <video> shows.
export function pageFrames() {
  return (async () => {
    const w = window.__whep;
    if (!w || !w.pc) return { decoded: 0 };
    let decoded = 0;
    (await w.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'video') decoded += r.framesDecoded || 0;
    });
    return { decoded, width: w.video.videoWidth, height: w.video.videoHeight, state: w.pc.connectionState, patches: w.patches };
  })();
}

// In the page: DELETE the session, then close the peer (the order a player
// that frees the server first uses). Resolves with the DELETE's status.
export function pageStop() {
  return (async () => {
    const w = window.__whep;
    const r = await fetch(w.url, { method: 'DELETE' });
    w.pc.close();
    w.video.remove();
    w.pc = null;
    return r.status;
  })();
}
