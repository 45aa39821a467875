// whepcam player: a WHEP client (draft-ietf-wish-whep) with Start/Stop, a
// status line, getStats() figures and retries, and sound: muted at first
// (browsers let only muted media start by itself), an unmute button and a
// level meter once the answer carries sound. No framework, no build step.
// ?stream=NAME picks a stream; ?endpoint=URL plays any WHEP server.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const video = $('video'), screen = $('screen'), statusEl = $('status');
  const startBtn = $('start'), stopBtn = $('stop'), streamSel = $('stream');
  const tokenField = $('token-field'), tokenInput = $('token'), overlayText = $('overlay-text');
  const soundBox = $('sound'), unmuteBtn = $('unmute'), levelEl = $('level'), levelBar = $('level-bar');
  const params = new URLSearchParams(location.search);
  const DISCONNECT_GRACE_MS = 5000;
  const BACKOFF_MIN_MS = 1000, BACKOFF_MAX_MS = 30000;

  // One playback attempt's state; everything Stop must free lives here.
  let s = null;
  let backoff = BACKOFF_MIN_MS, retryTimer = null, wanted = false;

  const api = window.whepcam = {
    state: 'stopped', firstFrameMs: null, postToFirstFrameMs: null, session: null, frames: 0,
    // Milliseconds from the click to each step of the last Start: where the
    // time to the first frame goes (post, answer, connected, firstFrame).
    timings: {},
    framesDecoded: () => api.frames,
    // Sound: whether this session has any (the answer's audio m-line sends,
    // or an audio track came), whether the page plays it, the level meter's
    // value (0..1, what its bar shows) and the last getStats() of the audio.
    hasAudio: false, muted: true, audioLevel: 0, audioStats: null,
    setMuted: (m) => setMuted(m),
    // The live RTCPeerConnection, for tests and the curious (null when stopped).
    peerConnection: () => (s && s.pc) || null,
  };

  function setStatus(kind, text) {
    api.state = kind;
    statusEl.dataset.kind = kind;
    statusEl.textContent = text;
    screen.dataset.state = kind;
    document.body.dataset.state = kind;
    if (kind !== 'playing') overlayText.textContent = text;
  }

  function endpointFor(name) {
    if (params.get('endpoint')) return new URL(params.get('endpoint'), location.href).href;
    return new URL('whep/' + encodeURIComponent(name), location.href).href;
  }

  async function loadStreams() {
    const wantedName = params.get('stream');
    if (params.get('endpoint')) {
      streamSel.innerHTML = '<option>custom endpoint</option>';
      streamSel.disabled = true;
      $('endpoint').textContent = endpointFor('');
      prepareWarmPeer(endpointFor(''));
      return;
    }
    let list = [];
    try {
      const r = await fetch('whep/', { cache: 'no-store' });
      if (r.ok) list = (await r.json()).streams || [];
    } catch (e) { /* the page still works with ?stream= or the default */ }
    if (wantedName && !list.some((x) => x.name === wantedName)) list.unshift({ name: wantedName });
    if (list.length === 0) list.push({ name: 'cam' });
    streamSel.innerHTML = '';
    for (const st of list) {
      const o = document.createElement('option');
      o.value = st.name;
      const size = st.width ? ` · ${st.width}×${st.height} ${st.fps} fps` : '';
      const state = st.state && st.state !== 'live' ? ` (${st.state})` : '';
      o.textContent = `${st.name}${size}${state}${st.protected ? ' · 🔒' : ''}`;
      streamSel.appendChild(o);
      if (st.protected) tokenField.hidden = false;
    }
    if (wantedName) streamSel.value = wantedName;
    $('endpoint').textContent = endpointFor(streamSel.value);
    prepareWarmPeer(endpointFor(streamSel.value));
  }

  // Link: <turn:…>; rel="ice-server"; username="…"; credential="…" (RFC 9725 §4.6).
  function parseIceServers(header) {
    if (!header) return [];
    return header.split(/,\s*(?=<)/).map((link) => {
      const m = /^\s*<([^>]+)>(.*)$/.exec(link);
      if (!m) return null;
      const attrs = {};
      for (const part of m[2].split(';')) {
        const kv = /^\s*([\w-]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
        if (kv) attrs[kv[1].toLowerCase()] = kv[2];
      }
      if (attrs.rel !== 'ice-server') return null;
      const server = { urls: m[1] };
      if (attrs.username) { server.username = attrs.username; server.credential = attrs.credential || ''; }
      return server;
    }).filter(Boolean);
  }

  // Ask the endpoint for its STUN/TURN servers (a plain OPTIONS). Asked
  // ahead, when the stream is picked and after each Start, so that a click
  // does not wait a round trip for them; an answer older than
  // ICE_SERVERS_MAX_AGE_MS is asked again (TURN credentials expire).
  const ICE_SERVERS_MAX_AGE_MS = 60000;
  const iceServersAsked = new Map(); // endpoint -> { at, servers: Promise }
  function prefetchIceServers(endpoint) {
    const servers = fetch(endpoint, { method: 'OPTIONS' })
      .then((r) => parseIceServers(r.headers.get('Link')), () => []);
    iceServersAsked.set(endpoint, { at: performance.now(), servers });
    return servers;
  }
  function fetchIceServers(endpoint) {
    const asked = iceServersAsked.get(endpoint);
    if (asked && performance.now() - asked.at < ICE_SERVERS_MAX_AGE_MS) return asked.servers;
    return prefetchIceServers(endpoint);
  }

  // Trickle ICE (RFC 8840, WHEP §4.3): the offer goes out as soon as it is
  // made, before any candidate is gathered. An ICE-lite server (whepcam's
  // mode lite) learns our addresses from our checks and needs none; any other
  // server gets our candidates by PATCH, in order, one request at a time.
  function onCandidate(cur, ev) {
    if (cur !== s) return;
    if (ev.candidate && ev.candidate.candidate) cur.pending.push(ev.candidate);
    else if (!ev.candidate) cur.gathered = true; // null: gathering is complete
    sendCandidates(cur);
  }

  async function sendCandidates(cur) {
    if (cur !== s || !cur.trickle || !cur.location || cur.patching || cur.endSent || cur.restarting) return;
    // Candidates already in the offer we sent need no PATCH.
    const cands = cur.pending.splice(0).filter((c) => !cur.offerSdp.includes(c.candidate));
    const end = cur.gathered;
    if (cands.length === 0 && !end) return;
    const local = cur.pc.localDescription.sdp;
    const ufrag = /^a=ice-ufrag:(.+?)\r?$/m.exec(local), pwd = /^a=ice-pwd:(.+?)\r?$/m.exec(local);
    const lines = [];
    if (ufrag && pwd) lines.push(`a=ice-ufrag:${ufrag[1]}`, `a=ice-pwd:${pwd[1]}`);
    for (const mid of new Set(cands.map((c) => c.sdpMid))) {
      const t = cur.pc.getTransceivers().find((x) => x.mid === mid);
      lines.push(`m=${t ? t.receiver.track.kind : 'video'} 9 UDP/TLS/RTP/SAVPF 0`, `a=mid:${mid}`);
      for (const c of cands) if (c.sdpMid === mid) lines.push(`a=${c.candidate}`);
    }
    if (end) lines.push('a=end-of-candidates');
    const headers = { 'Content-Type': 'application/trickle-ice-sdpfrag' };
    if (cur.etag) headers['If-Match'] = cur.etag;
    if (tokenInput.value) headers.Authorization = `Bearer ${tokenInput.value}`;
    cur.patching = true;
    cur.endSent = end;
    try {
      const res = await fetch(cur.location, { method: 'PATCH', headers, body: lines.join('\r\n') + '\r\n' });
      if (!res.ok) console.warn(`whepcam: trickle PATCH: ${await problemDetail(res)}`);
    } catch (e) { /* the session's own state tells whether ICE still works */ }
    cur.patching = false;
    sendCandidates(cur);
  }

  // ICE restart (WHEP §4.3, RFC 8840): pc.restartIce() asks for negotiation;
  // our new ICE credentials go by PATCH, and the server's new ones come back
  // in a 200 fragment with a new ETag. Media and DTLS go on over the new path.
  // A server that cannot restart (422, or anything else) gets a new session.
  async function onNegotiationNeeded(cur) {
    const pc = cur.pc;
    if (cur !== s || !cur.location || cur.restarting || pc.signalingState !== 'stable') return;
    const ufragOf = (sdp) => (/^a=ice-ufrag:(.+?)\r?$/m.exec(sdp) || [])[1];
    const offer = await pc.createOffer();
    if (cur !== s || ufragOf(offer.sdp) === ufragOf(pc.localDescription.sdp)) return; // not a restart
    cur.restarting = true;
    try {
      await pc.setLocalDescription(offer);
      cur.offerSdp = pc.localDescription.sdp;
      cur.pending = []; cur.gathered = false; cur.endSent = false;
      const local = cur.offerSdp;
      const mid = (/^a=mid:(.+?)\r?$/m.exec(local) || [])[1];
      const headers = { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': cur.etag || '*' };
      if (tokenInput.value) headers.Authorization = `Bearer ${tokenInput.value}`;
      const lines = [`a=ice-ufrag:${ufragOf(local)}`, `a=ice-pwd:${(/^a=ice-pwd:(.+?)\r?$/m.exec(local) || [])[1]}`];
      if (mid !== undefined) lines.push(`m=${(/^m=(\w+)/m.exec(local) || [])[1]} 9 UDP/TLS/RTP/SAVPF 0`, `a=mid:${mid}`);
      for (const m of local.matchAll(/^a=(candidate:.+?)\r?$/gm)) lines.push(`a=${m[1]}`);
      const res = await fetch(cur.location, { method: 'PATCH', headers, body: lines.join('\r\n') + '\r\n' });
      if (cur !== s) return;
      if (res.status !== 200) {
        fail(cur, `ICE restart refused: ${await problemDetail(res)}`, true);
        return;
      }
      cur.etag = res.headers.get('ETag') || cur.etag;
      await pc.setRemoteDescription({ type: 'answer', sdp: restartedAnswer(pc.remoteDescription.sdp, await res.text()) });
      sendCandidates(cur);
    } catch (e) {
      fail(cur, `ICE restart failed: ${e && e.message ? e.message : e}`, true);
    } finally {
      cur.restarting = false;
    }
  }

  // The current answer with the server's new ICE credentials and, when the
  // fragment has any, its new candidates in place of the old ones.
  function restartedAnswer(answer, frag) {
    const ufrag = /^a=ice-ufrag:(.+?)\r?$/m.exec(frag), pwd = /^a=ice-pwd:(.+?)\r?$/m.exec(frag);
    if (!ufrag || !pwd) throw new Error('the server sent no new ICE credentials');
    const cands = [...frag.matchAll(/^(a=candidate:.+?)\r?$/gm)].map((m) => m[1]);
    const out = [];
    let placed = false;
    for (const line of answer.split(/\r?\n/)) {
      if (line.startsWith('m=')) placed = false;
      if (line.startsWith('o=')) out.push(line.replace(/^(o=\S+ \S+ )(\d+)/, (m, a, v) => a + (BigInt(v) + 1n)));
      else if (line.startsWith('a=ice-ufrag:')) out.push(`a=ice-ufrag:${ufrag[1]}`);
      else if (line.startsWith('a=ice-pwd:')) out.push(`a=ice-pwd:${pwd[1]}`);
      else if (line.startsWith('a=candidate:') && cands.length > 0) {
        if (!placed) out.push(...cands);
        placed = true;
      } else out.push(line);
    }
    return out.join('\r\n');
  }

  // Read an RFC 9457 problem body (or whatever text came) into one line.
  async function problemDetail(res) {
    const text = await res.text().catch(() => '');
    try { const p = JSON.parse(text); return p.detail || p.title || `HTTP ${res.status}`; }
    catch (e) { return text.split('\n')[0].slice(0, 200) || `HTTP ${res.status}`; }
  }

  // A peer connection with our two receivers and its offer: what a Start
  // needs before it can POST. ?relay=1 forces TURN, to check a relay path.
  // Made ahead with no STUN or TURN server to ask, the offer is applied too
  // (gathering host addresses only: nothing leaves the machine), so that a
  // click only POSTs: applying it costs Chromium ~20 ms. With one, that
  // waits for the click (an idle page holds no TURN allocation).
  async function makePeer(endpoint, ahead = false) {
    const iceServers = await fetchIceServers(endpoint);
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers,
      iceTransportPolicy: params.get('relay') === '1' ? 'relay' : 'all' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const offer = await pc.createOffer();
    if (!ahead || iceServers.length > 0) return { pc, offer, applied: false };
    await pc.setLocalDescription(offer);
    return { pc, offer, applied: true };
  }

  // One made ahead (when the page is ready and after each attempt), so that
  // a click goes straight to the POST: making one costs Chromium ~20 ms.
  // Nothing is gathered or sent before setLocalDescription, at the click.
  // It is remade when older than ICE_SERVERS_MAX_AGE_MS (its TURN
  // credentials) or made for another endpoint.
  let warm = null; // { endpoint, at, made: Promise }
  function dropWarmPeer() {
    if (!warm) return;
    warm.made.then(({ pc }) => pc.close(), () => {});
    clearTimeout(warm.timer);
    warm = null;
  }
  function prepareWarmPeer(endpoint) {
    dropWarmPeer();
    const w = warm = { endpoint, at: performance.now(), made: makePeer(endpoint, true) };
    w.made.catch(() => { if (warm === w) warm = null; });
    w.timer = setTimeout(() => { if (warm === w && !s) prepareWarmPeer(endpoint); }, ICE_SERVERS_MAX_AGE_MS);
  }
  async function takeWarmPeer(endpoint) {
    const w = warm;
    if (!w || w.endpoint !== endpoint || performance.now() - w.at >= ICE_SERVERS_MAX_AGE_MS) {
      dropWarmPeer();
      return null;
    }
    warm = null;
    clearTimeout(w.timer);
    try { return await w.made; } catch (e) { return null; }
  }

  function mark(cur, step) {
    if (cur === s && api.timings[step] === undefined) api.timings[step] = Math.round(performance.now() - cur.clickAt);
  }

  function watchFrames(cur) {
    // shownAt: when the compositor presented the frame (requestVideoFrameCallback
    // says; its callback runs up to a frame later).
    const first = (shownAt) => {
      if (cur !== s || cur.firstFrameAt) return;
      cur.firstFrameAt = shownAt || performance.now();
      api.timings.firstFrame = Math.round(cur.firstFrameAt - cur.clickAt);
      api.firstFrameMs = Math.round(cur.firstFrameAt - cur.clickAt);
      // The server's share: from sending the offer to a decoded frame.
      api.postToFirstFrameMs = Math.round(cur.firstFrameAt - cur.postAt);
      $('s-ttff').textContent = `${api.firstFrameMs} ms`;
      setStatus('playing', `Playing ${cur.name}`);
      backoff = BACKOFF_MIN_MS;
      startMeter(cur);
    };
    if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
      const tick = (now, meta) => {
        if (cur !== s) return;
        api.frames++;
        // WebRTC frames carry when their last packet came.
        if (!cur.firstFrameAt && meta && meta.receiveTime) api.timings.received = Math.round(meta.receiveTime - cur.clickAt);
        first(meta && meta.presentationTime);
        video.requestVideoFrameCallback(tick);
      };
      video.requestVideoFrameCallback(tick);
    } else {
      // Firefox before 132 and older Safari: no per-frame callback.
      video.addEventListener('loadeddata', first, { once: true });
    }
  }

  async function start() {
    clearTimeout(retryTimer);
    wanted = true;
    const name = streamSel.value || 'cam';
    const endpoint = endpointFor(name);
    $('endpoint').textContent = endpoint;
    const cur = { name, endpoint, clickAt: performance.now(), pc: null, location: null, etag: null,
      statsTimer: null, lostTimer: null, meterTimer: null, meter: null, last: null, firstFrameAt: null,
      offerSdp: '', pending: [], gathered: false, trickle: false, patching: false, endSent: false,
      restarting: false };
    s = cur;
    api.frames = 0; api.firstFrameMs = null; api.postToFirstFrameMs = null; api.timings = {};
    api.hasAudio = false; api.audioStats = null;
    soundBox.hidden = true;
    $('s-audio').textContent = '–';
    startBtn.disabled = true; stopBtn.disabled = false;
    setStatus('connecting', `Connecting to ${name}…`);
    try {
      const made = (await takeWarmPeer(endpoint)) || (await makePeer(endpoint));
      if (cur !== s) { made.pc.close(); return; }
      mark(cur, 'offer');
      const pc = cur.pc = made.pc;
      const media = new MediaStream();
      pc.ontrack = (ev) => {
        const stream = ev.streams && ev.streams[0];
        if (stream) { if (video.srcObject !== stream) video.srcObject = stream; }
        else { media.addTrack(ev.track); if (video.srcObject !== media) video.srcObject = media; }
        video.play().catch(() => {});
        if (ev.track.kind === 'audio') soundArrived(cur);
      };
      pc.onconnectionstatechange = () => onConnectionState(cur);
      pc.onicecandidate = (ev) => onCandidate(cur, ev);
      watchFrames(cur);
      // Not applied ahead: the offer goes out while Chromium applies it (the
      // SDP is the same), and the answer is applied after it. Applied ahead:
      // it goes out with the candidates gathered so far; later ones trickle.
      const applied = made.applied ? Promise.resolve() : pc.setLocalDescription(made.offer);
      cur.offerSdp = made.applied ? pc.localDescription.sdp : made.offer.sdp;
      cur.gathered = made.applied && pc.iceGatheringState === 'complete';
      const headers = { 'Content-Type': 'application/sdp' };
      if (tokenInput.value) headers.Authorization = `Bearer ${tokenInput.value}`;
      cur.postAt = performance.now();
      mark(cur, 'post');
      const posted = fetch(endpoint, { method: 'POST', headers, body: cur.offerSdp });
      posted.catch(() => {}); // a failure is read below, after the offer is applied
      await applied;
      const res = await posted;
      if (cur !== s) return;
      if (res.status !== 201) {
        const detail = await problemDetail(res);
        if (res.status === 401) {
          tokenField.hidden = false;
          tokenInput.focus();
          fail(cur, `This stream needs a token: ${detail}`, false);
        } else {
          const retryAfter = Number(res.headers.get('Retry-After')) * 1000;
          fail(cur, detail, res.status >= 500 || res.status === 409 || res.status === 429, retryAfter);
        }
        return;
      }
      cur.location = new URL(res.headers.get('Location'), endpoint).href;
      cur.etag = res.headers.get('ETag');
      api.session = cur.location;
      const answer = await res.text();
      if (cur !== s) return;
      mark(cur, 'answer');
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      if (answerSendsAudio(answer)) soundArrived(cur);
      cur.trickle = !/^a=ice-lite\r?$/m.test(answer);
      if (cur.trickle) sendCandidates(cur); else cur.pending = [];
      pc.onnegotiationneeded = () => onNegotiationNeeded(cur);
      prefetchIceServers(endpoint); // fresh ones for the next Start, off its path
      cur.statsTimer = setInterval(() => updateStats(cur), 1000);
    } catch (e) {
      fail(cur, e && e.message ? e.message : String(e), true);
    }
  }

  function onConnectionState(cur) {
    if (cur !== s) return;
    const st = cur.pc.connectionState;
    if (st === 'connected') {
      mark(cur, 'connected');
      clearTimeout(cur.lostTimer);
      // A stream with no picture (another server's) still gets its meter.
      clearTimeout(cur.meterTimer);
      cur.meterTimer = setTimeout(() => startMeter(cur), 1000);
      if (!cur.firstFrameAt) setStatus('connecting', `Connected to ${cur.name}, waiting for the first frame…`);
      else setStatus('playing', `Playing ${cur.name}`);
    } else if (st === 'disconnected') {
      clearTimeout(cur.lostTimer);
      cur.lostTimer = setTimeout(() => fail(cur, 'the connection was lost', true), DISCONNECT_GRACE_MS);
    } else if (st === 'failed') {
      fail(cur, 'the connection failed (is UDP blocked between you and the camera?)', true);
    }
  }

  // End this attempt; retry with backoff when it may work later.
  function fail(cur, detail, retry, retryAfterMs) {
    if (cur !== s) return;
    teardown(cur);
    if (retry && wanted) {
      const wait = Math.max(backoff, retryAfterMs || 0);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      setStatus('retrying', `Error: ${detail}. Retrying in ${Math.round(wait / 1000)} s…`);
      retryTimer = setTimeout(() => { if (wanted) start(); }, wait);
      startBtn.disabled = true; stopBtn.disabled = false;
    } else {
      wanted = false;
      setStatus('error', `Error: ${detail}`);
      startBtn.disabled = false; stopBtn.disabled = true;
    }
  }

  // Free everything of one attempt, here and (by DELETE) on the server.
  function teardown(cur, { keepalive = false } = {}) {
    if (!cur) return;
    clearInterval(cur.statsTimer);
    clearTimeout(cur.lostTimer);
    clearTimeout(cur.meterTimer);
    stopMeter(cur);
    if (cur.location) {
      const headers = tokenInput.value ? { Authorization: `Bearer ${tokenInput.value}` } : {};
      fetch(cur.location, { method: 'DELETE', headers, keepalive }).catch(() => {});
      cur.location = null;
    }
    if (cur.pc) {
      cur.pc.ontrack = null;
      cur.pc.onconnectionstatechange = null;
      cur.pc.onicecandidate = null;
      cur.pc.onnegotiationneeded = null;
      cur.pc.getReceivers().forEach((r) => r.track && r.track.stop());
      cur.pc.close();
      cur.pc = null;
    }
    if (video.srcObject) {
      video.srcObject.getTracks().forEach((t) => t.stop());
      video.srcObject = null;
    }
    api.session = null;
    if (s === cur) { s = null; soundBox.hidden = true; api.hasAudio = false; }
    if (!keepalive) prepareWarmPeer(cur.endpoint); // the next Start's
  }

  function stop() {
    wanted = false;
    clearTimeout(retryTimer);
    teardown(s);
    backoff = BACKOFF_MIN_MS;
    setStatus('stopped', 'Stopped');
    startBtn.disabled = false; stopBtn.disabled = true;
    startBtn.focus();
  }

  async function updateStats(cur) {
    if (cur !== s || !cur.pc) return;
    const report = await cur.pc.getStats();
    if (cur !== s) return;
    let inbound = null, pair = null, codec = null, audio = null;
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'video') inbound = r;
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'audio') audio = r;
      if (r.type === 'candidate-pair' && (r.nominated || r.selected) && r.state === 'succeeded') pair = r;
    });
    if (inbound && inbound.codecId) codec = report.get(inbound.codecId);
    if (audio) audioStats(report, audio);
    if (!inbound) return;
    const last = cur.last;
    cur.last = { t: inbound.timestamp, bytes: inbound.bytesReceived, frames: inbound.framesDecoded };
    if (inbound.frameWidth) $('s-resolution').textContent = `${inbound.frameWidth}×${inbound.frameHeight}`;
    else if (video.videoWidth) $('s-resolution').textContent = `${video.videoWidth}×${video.videoHeight}`;
    if (last && inbound.timestamp > last.t) {
      const dt = (inbound.timestamp - last.t) / 1000;
      $('s-bitrate').textContent = `${(((inbound.bytesReceived - last.bytes) * 8) / dt / 1000).toFixed(0)} kbit/s`;
      const fps = inbound.framesPerSecond || (inbound.framesDecoded - last.frames) / dt;
      if (!Number.isNaN(fps)) $('s-fps').textContent = fps.toFixed(1);
    }
    if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype) && inbound.framesDecoded) api.frames = inbound.framesDecoded;
    $('s-lost').textContent = String(inbound.packetsLost ?? '–');
    if (inbound.jitter !== undefined) $('s-jitter').textContent = `${(inbound.jitter * 1000).toFixed(1)} ms`;
    if (pair && pair.currentRoundTripTime !== undefined) $('s-rtt').textContent = `${(pair.currentRoundTripTime * 1000).toFixed(1)} ms`;
    if (codec && codec.mimeType) $('s-codec').textContent = codec.mimeType.replace('video/', '');
  }

  // The sound's line of the stats: its codec and how many of its packets
  // were lost (RTCP's cumulative count against what arrived).
  function audioStats(report, r) {
    const codec = r.codecId && report.get(r.codecId);
    const name = codec && codec.mimeType ? codec.mimeType.replace(/^audio\//i, '').toLowerCase() : 'audio';
    const got = r.packetsReceived || 0, lost = Math.max(0, r.packetsLost || 0);
    api.audioStats = { codec: name, packetsReceived: got, packetsLost: lost };
    const share = got + lost ? ` (${((100 * lost) / (got + lost)).toFixed(1)} %)` : '';
    $('s-audio').textContent = `${name} · ${lost} lost${share}`;
  }

  // Does the answer send us sound? Its audio m-line with a port and a
  // direction that sends (sendonly, or sendrecv: the default).
  function answerSendsAudio(sdp) {
    return sdp.split(/\r?\nm=/).slice(1).some((sec) => /^audio [1-9]/.test(sec) &&
      !/^a=(recvonly|inactive)\r?$/m.test(sec));
  }

  function soundArrived(cur) {
    if (cur !== s || api.hasAudio) return;
    api.hasAudio = true;
    soundBox.hidden = false;
    showMuted();
  }

  function showMuted() {
    api.muted = video.muted;
    unmuteBtn.textContent = video.muted ? 'Unmute' : 'Mute';
    unmuteBtn.dataset.muted = String(video.muted);
  }

  // The page's video element plays the sound too; it starts muted, which is
  // what lets it start without a click. A click on Unmute is a user gesture,
  // so the browser lets the sound (and a suspended meter) start.
  function setMuted(muted) {
    video.muted = muted;
    if (!muted) video.play().catch(() => {});
    if (s) {
      if (!s.meter) startMeter(s);
      if (s.meter && s.meter.ctx.state === 'suspended') s.meter.ctx.resume().catch(() => {});
    }
    showMuted();
  }

  // The level meter: an AnalyserNode on the received audio track (not
  // connected to any output: the video element plays the sound), read once
  // per animation frame. Started after the first frame so that it costs the
  // first frame nothing; stopped with the attempt.
  function startMeter(cur) {
    if (cur !== s || cur.meter || !api.hasAudio || !window.AudioContext) return;
    const track = video.srcObject && video.srcObject.getAudioTracks()[0];
    if (!track) return;
    let ctx;
    try { ctx = new AudioContext(); } catch (e) { return; }
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    const m = cur.meter = { ctx, source, analyser, raf: 0 };
    const draw = () => {
      if (cur.meter !== m) return;
      analyser.getFloatTimeDomainData(buf);
      let peak = 0;
      for (let i = 0; i < buf.length; i++) peak = Math.max(peak, Math.abs(buf[i]));
      // -60 dBFS .. 0 dBFS over the bar; it falls back slowly, as meters do.
      const level = peak > 0 ? Math.min(1, Math.max(0, 1 + (20 * Math.log10(peak)) / 60)) : 0;
      api.audioLevel = Math.max(level, api.audioLevel * 0.85);
      if (api.audioLevel < 0.01) api.audioLevel = 0;
      levelBar.style.transform = `scaleX(${api.audioLevel.toFixed(3)})`;
      levelEl.setAttribute('aria-valuenow', String(Math.round(api.audioLevel * 100)));
      m.raf = requestAnimationFrame(draw);
    };
    m.raf = requestAnimationFrame(draw);
  }

  function stopMeter(cur) {
    const m = cur.meter;
    if (!m) return;
    cur.meter = null;
    cancelAnimationFrame(m.raf);
    m.source.disconnect();
    m.ctx.close().catch(() => {});
    api.audioLevel = 0;
    levelBar.style.transform = 'scaleX(0)';
    levelEl.setAttribute('aria-valuenow', '0');
  }

  unmuteBtn.addEventListener('click', () => setMuted(!video.muted));
  $('controls').addEventListener('submit', (e) => { e.preventDefault(); start(); });
  stopBtn.addEventListener('click', stop);
  streamSel.addEventListener('change', () => {
    $('endpoint').textContent = endpointFor(streamSel.value);
    prepareWarmPeer(endpointFor(streamSel.value));
  });
  // Leaving the page frees the session on the server too.
  window.addEventListener('pagehide', () => { dropWarmPeer(); teardown(s, { keepalive: true }); });

  loadStreams().then(() => { if (params.get('autoplay') === '1') start(); });
})();
