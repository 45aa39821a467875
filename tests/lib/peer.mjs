// A real WebRTC receiver (werift: pure TypeScript, no native code) that
// offers recvonly video (+ audio, as browsers do), counts the RTP it gets
// and tells keyframes apart (RFC 7741). Its ICE stays on 127.0.0.1 by default.
//
// Why not node-datachannel: with several peers, or under CPU load, its
// track callbacks stopped delivering packets that a capture showed on the
// wire (SSRC constant, ~200 pkt/s); werift received every one.
import { RTCPeerConnection, RTCRtpCodecParameters, RtpPacket, isMedia, isRtcp } from 'werift';

// RFC 7741 §4.2-4.3: payload descriptor, then (at a partition start) the
// VP8 payload header whose P bit is 0 on a keyframe.
export function vp8Info(payload) {
  if (payload.length < 1) return { start: false, keyframe: false };
  const d = payload[0];
  const start = (d & 0x10) !== 0 && (d & 0x07) === 0;
  let i = 1;
  if (d & 0x80) {
    const x = payload[i++];
    if (x & 0x80) i += (payload[i] & 0x80) ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID/Y/KEYIDX
  }
  return { start, keyframe: start && i < payload.length && (payload[i] & 0x01) === 0 };
}

// RFC 6386 §9.1: a keyframe's first partition starts with a 3-byte frame tag,
// the start code 9d 01 2a and 14-bit width and height. [width, height] or null.
export function vp8KeyframeSize(payload) {
  if (!vp8Info(payload).keyframe) return null;
  let i = 1;
  if (payload[0] & 0x80) {
    const x = payload[i++];
    if (x & 0x80) i += (payload[i] & 0x80) ? 2 : 1;
    if (x & 0x40) i += 1;
    if (x & 0x30) i += 1;
  }
  const h = payload.subarray(i);
  if (h.length < 10 || h[3] !== 0x9d || h[4] !== 0x01 || h[5] !== 0x2a) return null;
  return [(h[6] | (h[7] << 8)) & 0x3fff, (h[8] | (h[9] << 8)) & 0x3fff];
}

// RTP sequence numbers unwrapped (RFC 3550 A.1): the first keeps its own value,
// later ones count on past 65535 and reordered ones fall in place, so ranges
// and gaps are plain integer arithmetic.
function seqUnwrapper() {
  let top = null;
  return (seq) => {
    if (top === null) return (top = seq);
    const ext = top + (((seq - (top & 0xffff) + 0x8000) & 0xffff) - 0x8000);
    if (ext > top) top = ext;
    return ext;
  };
}

// Sees every datagram ICE delivers before DTLS/SRTP does. For each RTP packet
// (RFC 7983: first byte 128-191, not RTCP) it counts arrivals of a sequence
// number already seen (the sender's retransmissions) and, with `dropEvery`,
// drops the first arrival of every sequence number that is a multiple of it:
// deterministic loss, and a retransmission of a dropped packet gets through.
// With `dropRepeats` those retransmissions are counted and dropped unread:
// a viewer that floods NACKs need not spend its CPU on what they bring.
function tapIce(connection, dropEvery, dropRepeats, ext, s, notify) {
  const seen = new Set();
  const ev = connection.onData;
  const deliver = ev.execute;
  ev.execute = (data, ...rest) => {
    if (isMedia(data) && !isRtcp(data) && data.length >= 12) {
      const raw = data.readUInt16BE(2);
      const seq = ext(raw);
      if (seen.has(seq)) {
        s.wireRepeats++;
        if (dropRepeats) { notify(); return; }
      } else {
        seen.add(seq);
        if (dropEvery && raw % dropEvery === 0) { s.dropped.push(seq); notify(); return; }
      }
    }
    deliver(data, ...rest);
  };
}

// werift subscribes to SRTP only after its DTLS promise chain has settled
// (certificate parsing, fingerprint check), so media the daemon sends right
// after its own handshake ends can be dropped unseen; libwebrtc reads its
// socket in order and loses none of it. Keep what arrives in that gap and
// replay it once the keys exist, so "first packet" is the daemon's first.
function keepEarlyMedia(dtls, onRtp) {
  const early = [];
  const sub = dtls.iceTransport.connection.onData.subscribe((data) => {
    if (!dtls.srtpStarted && isMedia(data) && !isRtcp(data)) early.push(data);
  });
  const done = dtls.onStateChange.subscribe((st) => {
    if (st !== 'connected') return;
    sub.unSubscribe(); done.unSubscribe();
    for (const data of early.splice(0)) onRtp(RtpPacket.deSerialize(dtls.srtp.decrypt(data)), true);
  });
}

// RFC 6184: the NAL unit types an H.264 RTP payload carries (a STAP-A's
// inner ones, an FU-A's fragmented one), and whether it starts a keyframe
// (an IDR slice, or the SPS in front of one) or a frame at all.
export function h264Info(payload) {
  if (payload.length < 1) return { types: [], start: false, keyframe: false };
  const t = payload[0] & 0x1f;
  let types = [t];
  let start = true;
  if (t === 24) {
    types = [];
    for (let i = 1; i + 2 < payload.length;) {
      const n = payload.readUInt16BE(i);
      if (n === 0 || i + 2 + n > payload.length) break;
      types.push(payload[i + 2] & 0x1f);
      i += 2 + n;
    }
  } else if (t === 28) {
    if (payload.length < 2) return { types: [], start: false, keyframe: false };
    types = [payload[1] & 0x1f];
    start = (payload[1] & 0x80) !== 0;
  }
  const keyframe = start && types.some((x) => x === 5 || x === 7);
  return { types, start, keyframe };
}

// Only candidates on `host` (loopback unless told otherwise) leave the peer.
const onlyHost = (sdp, host) => sdp.split('\r\n')
  .filter((l) => !l.startsWith('a=candidate:') || l.includes(` ${host} `)).join('\r\n');

// Resolves when `pc`'s ICE gathering completes; rejects after `timeoutMs`: an
// offer must not go out with only the candidates gathered so far. Subscribe
// before setLocalDescription so the event cannot pass unseen.
function gatheringComplete(pc, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const sub = pc.iceGatheringStateChange.subscribe((st) => { if (st === 'complete') done(resolve); });
    const timer = setTimeout(() => done(() => reject(new Error(
      `ICE gathering not complete within ${timeoutMs} ms (state ${pc.iceGatheringState})`))), timeoutMs);
    function done(f) { clearTimeout(timer); sub.unSubscribe(); f(); }
    if (pc.iceGatheringState === 'complete') done(resolve);
  });
}

// With `remoteOffer` (a server that offers, as Janus does) the receiver
// answers instead: `answer` holds its SDP and accept() is not needed.
// `host` is the one local address ICE uses (the bench's Janus cannot use
// loopback, so it and its receivers share a veth pair in a namespace).
// `lossPercent` drops that share of the SRTP/SRTCP arriving (werift's own
// debug hook, random); `dropEvery: n` drops the first arrival of each RTP
// packet whose sequence number is a multiple of n (stats().dropped), before
// SRTP; `nack: false` offers no generic NACK; `trackSeqs` keeps every
// sequence number received (stats().seqs, unwrapped: see seqUnwrapper),
// for missing(); stats().wireRepeats counts retransmissions that arrived,
// which `dropRepeats` then drops before SRTP. `trackFrames` keeps each H.264
// frame in arrival order (stats().frameLog: its RTP timestamp, whether it is
// a keyframe, its first sequence number). `h264Pt`: H.264's payload type
// (Chromium offers its High profiles below 96). `video: false` offers sound
// only; `audioFirst` puts the audio m-line first.
export async function createReceiver({ audio = true, video: wantVideo = true, audioFirst = false, vp8 = true, h264 = true, h264First = false, h264Profile = '42e01f', h264Pt = 102,
  trickle = false, remoteOffer = null, trackFrames = false,
  host = '127.0.0.1', lossPercent = 0, nack = true, trackSeqs = false, dropEvery = 0, dropRepeats = false } = {}) {
  const video = [];
  if (vp8) video.push(new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96,
    rtcpFeedback: [...(nack ? [{ type: 'nack' }] : []), { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }));
  if (h264) video[h264First ? 'unshift' : 'push'](new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, payloadType: h264Pt,
    rtcpFeedback: [...(nack ? [{ type: 'nack' }] : []), { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${h264Profile}` }));
  const pc = new RTCPeerConnection({
    iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: host },
    iceAdditionalHostAddresses: [host],
    codecs: { video, audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })] },
    // werift drops an inbound packet when inboundPacketLoss / 100 < Math.random():
    // the opposite of its name, so 100 - p drops p %.
    ...(lossPercent ? { debug: { inboundPacketLoss: 100 - lossPercent } } : {}),
  });
  const createdAt = performance.now();
  const s = { packets: 0, bytes: 0, frames: 0, keyframes: 0, firstPacketAt: null, firstKeyframeAt: null,
    firstIsKeyframe: null, payloadType: null, ssrc: null, connectedAt: null, state: 'new', createdAt, early: 0,
    seqs: trackSeqs ? new Set() : null, firstSeq: null, maxSeq: null, dropped: [], wireRepeats: 0,
    width: null, height: null, frameLog: trackFrames ? [] : null,
    // sound: Opus packets, which SSRC and payload type, how many came before the first video packet
    audioPackets: 0, audioFirstAt: null, audioPayloadType: null, audioSsrc: null, audioBeforeVideo: 0,
    // RTCP sender reports: { ssrc, ntpMs, rtp, packets, octets, at }
    reports: [] };
  const waiters = new Set();
  const notify = () => { for (const w of waiters) w(); };
  const ext = seqUnwrapper();
  // Resolve once `pred(stats)` holds, checked as each packet arrives (or is
  // dropped); reject after timeoutMs.
  function waitFor(pred, { timeoutMs = 10000, what = 'condition' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => { if (pred(s)) { done(); resolve({ ...s }); } };
      const timer = setTimeout(() => { done(); reject(new Error(`${what}: not within ${timeoutMs} ms (${s.packets} packets, state ${s.state})`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); waiters.delete(check); };
      waiters.add(check);
      check();
    });
  }
  let lastTs = null, lastKey = false;
  const onRtp = (rtp, early = false) => {
    const now = performance.now();
    if (early) s.early++;
    const isH264 = h264 && rtp.header.payloadType === h264Pt;
    const info = isH264 ? h264Info(rtp.payload) : vp8Info(rtp.payload);
    if (s.packets === 0) {
      s.firstPacketAt = now; s.firstIsKeyframe = info.keyframe;
      s.payloadType = rtp.header.payloadType; s.ssrc = rtp.header.ssrc;
      s.codec = isH264 ? 'H264' : 'VP8';
      if (isH264) s.firstNalTypes = info.types;
    }
    s.packets++; s.bytes += rtp.payload.length;
    const seq = ext(rtp.header.sequenceNumber);
    s.firstSeq ??= seq;
    if (s.maxSeq === null || seq > s.maxSeq) s.maxSeq = seq;
    s.seqs?.add(seq);
    if (isH264) {
      // A frame is a timestamp; it is a keyframe once one of its packets says so.
      if (rtp.header.timestamp !== lastTs) {
        s.frames++; lastTs = rtp.header.timestamp; lastKey = false;
        s.frameLog?.push({ ts: rtp.header.timestamp, key: false, seq });
      }
      if (info.keyframe && !lastKey) {
        lastKey = true; s.keyframes++; s.firstKeyframeAt ??= now;
        if (s.frameLog) s.frameLog[s.frameLog.length - 1].key = true;
      }
    } else if (info.start) { s.frames++; if (info.keyframe) { s.keyframes++; s.firstKeyframeAt ??= now; } }
    if (info.keyframe && !isH264) [s.width, s.height] = vp8KeyframeSize(rtp.payload) ?? [null, null];
    notify();
  };
  const onAudio = (rtp) => {
    if (s.audioPackets === 0) {
      s.audioFirstAt = performance.now(); s.audioPayloadType = rtp.header.payloadType; s.audioSsrc = rtp.header.ssrc;
    }
    s.audioPackets++;
    if (s.packets === 0) s.audioBeforeVideo++;
    notify();
  };
  pc.onTrack.subscribe((track) => {
    if (track.kind === 'video') track.onReceiveRtp.subscribe((rtp) => onRtp(rtp));
    else if (track.kind === 'audio') track.onReceiveRtp.subscribe(onAudio);
  });
  const watchReports = () => {
    for (const t of pc.getTransceivers()) {
      t.receiver.onRtcp.subscribe((p) => {
        if (p.type !== 200) return; // SR
        const si = p.senderInfo;
        s.reports.push({ ssrc: p.ssrc, ntpMs: Number(si.ntpTimestamp >> 32n) * 1000 - 2208988800000 + Number(si.ntpTimestamp & 0xffffffffn) / 4294967.296,
          rtp: si.rtpTimestamp, packets: si.packetCount, octets: si.octetCount, at: performance.now() });
        notify();
      });
    }
  };
  pc.connectionStateChange.subscribe((st) => {
    s.state = st;
    if (st === 'connected') s.connectedAt ??= performance.now();
  });
  let tv;
  const gathered = trickle ? null : gatheringComplete(pc);
  gathered?.catch(() => {}); // awaited below; a rejection before then is not unhandled
  if (remoteOffer) {
    await pc.setRemoteDescription({ type: 'offer', sdp: remoteOffer });
    tv = pc.getTransceivers().find((t) => t.kind === 'video');
    if (dropEvery || trackSeqs || dropRepeats) tapIce(tv.dtlsTransport.iceTransport.connection, dropEvery, dropRepeats, ext, s, notify);
    await pc.setLocalDescription(await pc.createAnswer());
    keepEarlyMedia(tv.dtlsTransport, onRtp);
  } else {
    // m-lines in order; the first one's transport is the bundle's
    const kinds = !wantVideo ? ['audio'] : !audio ? ['video'] : audioFirst ? ['audio', 'video'] : ['video', 'audio'];
    for (const kind of kinds) {
      const t = pc.addTransceiver(kind, { direction: 'recvonly' });
      tv ??= t;
    }
    if (dropEvery || trackSeqs || dropRepeats) tapIce(tv.dtlsTransport.iceTransport.connection, dropEvery, dropRepeats, ext, s, notify);
    await pc.setLocalDescription(await pc.createOffer());
  }
  watchReports();
  if (gathered) {
    try { await gathered; } catch (e) { await pc.close(); throw e; }
  }
  const sdp = onlyHost(pc.localDescription.sdp, host);
  return {
    pc, offer: remoteOffer ? null : sdp, answer: remoteOffer ? sdp : null,
    async accept(answerSdp) {
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
      if (tv.dtlsTransport.state === 'connected') throw new Error('DTLS connected before the receiver could watch it');
      keepEarlyMedia(tv.dtlsTransport, onRtp);
    },
    stats: () => ({ ...s }),
    // Resolve once `n` packets in total have arrived; reject after timeoutMs.
    waitPackets: (n, timeoutMs = 10000) => waitFor((st) => st.packets >= n, { timeoutMs, what: `${n} packets` }),
    waitFor,
    // Sequence numbers in [from, to] never received (needs trackSeqs).
    missing(from = s.firstSeq, to = s.maxSeq) {
      const out = [];
      for (let i = from; i <= to; i++) if (!s.seqs.has(i)) out.push(i);
      return out;
    },
    async close() { await pc.close(); },
  };
}

// Packets received over a window of `ms`, for rate checks.
// A receiver that offers to daemon `d` over its socket, connects and has
// `packets` packets; throws unless the offer got a 201.
export async function playFrom(d, { packets = 20, stream = 'cam', ...opts } = {}) {
  const r = await createReceiver(opts);
  const reply = await d.request({ op: 'offer', stream, sdp: r.offer });
  if (reply.status !== 201) throw new Error(`offer: ${JSON.stringify(reply)}`);
  await r.accept(reply.sdp);
  await r.waitPackets(packets, 15000);
  return { r, reply, session: reply.session };
}

export async function packetsOver(receiver, ms) {
  const a = receiver.stats().packets;
  await new Promise((r) => setTimeout(r, ms));
  return receiver.stats().packets - a;
}
