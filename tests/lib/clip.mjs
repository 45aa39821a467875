// Clips for `file:` sources, made with gst-launch-1.0 (gstreamer1.0-tools),
// and what a receiver's RTP timestamps say about how a clip was played.
import { execFileSync } from 'node:child_process';

// Writes a clip of `seconds` at `fps` with a keyframe every `gop` frames:
// H.264 (x264enc, High, no B-frames: tune=zerolatency) in MP4, or VP8 in WebM; `audio` adds an
// AAC (MP4) or Opus (WebM) track, which a `file:` source must leave alone.
export function makeClip(file, { codec = 'h264', seconds = 2.5, fps = 30, gop = 30, size = '320x240', audio = false } = {}) {
  const [w, h] = size.split('x');
  const frames = Math.round(seconds * fps);
  const video = codec === 'h264'
    ? ['x264enc', `key-int-max=${gop}`, 'tune=zerolatency', 'bitrate=300', '!', 'video/x-h264,profile=high']
    : ['vp8enc', `keyframe-max-dist=${gop}`, 'deadline=1', 'target-bitrate=300000'];
  const mux = codec === 'h264' ? 'mp4mux' : 'webmmux';
  const args = ['-q', 'videotestsrc', `num-buffers=${frames}`, 'pattern=ball', '!',
    `video/x-raw,format=I420,width=${w},height=${h},framerate=${fps}/1`, '!', ...video, '!', mux, 'name=mux', '!',
    'filesink', `location=${file}`];
  if (audio) {
    // 1024 samples a buffer at 44.1 kHz: as long as the video.
    args.push('audiotestsrc', `num-buffers=${Math.ceil((seconds * 44100) / 1024)}`, '!',
      codec === 'h264' ? 'avenc_aac' : 'opusenc', '!', 'mux.');
  }
  execFileSync('gst-launch-1.0', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
  return file;
}

// Watches the RTP a receiver (tests/lib/peer.mjs createReceiver, before
// accept()) gets: per sequence number its timestamp and arrival time.
// check(fromFrame, since) then says, in sequence order, whether a timestamp
// ever went back, how far they advanced against the arrival times from the
// `fromFrame`th distinct timestamp on, among those first seen at or after
// `since` (a performance.now() time): 90 kHz, so ratio ~1 when played in
// real time; and the longest time between two of those frames' arrivals
// (before the maxGapAt'th frame). `kind` 'audio' watches the sound instead (48 kHz).
export function watchTimestamps(receiver, kind = 'video') {
  const rate = kind === 'audio' ? 48000 : 90000;
  const bySeq = new Map();
  let top = null;
  const unwrap = (seq) => {
    if (top === null) return (top = seq);
    const ext = top + (((seq - (top & 0xffff) + 0x8000) & 0xffff) - 0x8000);
    if (ext > top) top = ext;
    return ext;
  };
  receiver.pc.onTrack.subscribe((track) => {
    if (track.kind !== kind) return;
    track.onReceiveRtp.subscribe((rtp) => {
      const seq = unwrap(rtp.header.sequenceNumber);
      if (!bySeq.has(seq)) bySeq.set(seq, { ts: rtp.header.timestamp, at: performance.now() });
    });
  });
  return {
    count: () => bySeq.size,
    check(fromFrame = 0, since = 0) {
      const seqs = [...bySeq.keys()].sort((a, b) => a - b);
      const frames = []; // { ts (unwrapped), at (first packet's arrival) } per distinct timestamp
      let back = 0, ext = 0, prev = null;
      for (const seq of seqs) {
        const { ts, at } = bySeq.get(seq);
        if (prev !== null) {
          const d = (ts - prev) | 0; // signed 32-bit: wraps are steps forward
          if (d < 0) back++;
          ext += d;
        }
        if (prev === null || ts !== prev) frames.push({ ts: ext, at });
        prev = ts;
      }
      const first = frames.findIndex((f) => f.at >= since);
      const seen = first < 0 ? [] : frames.slice(first);
      let maxGapMs = 0, maxGapAt = 0;
      for (let i = fromFrame + 1; i < seen.length; i++) {
        if (seen[i].at - seen[i - 1].at > maxGapMs) [maxGapMs, maxGapAt] = [seen[i].at - seen[i - 1].at, i];
      }
      const a = seen[Math.min(fromFrame, seen.length - 1)] ?? { ts: 0, at: 0 }, z = seen[seen.length - 1] ?? a;
      const wallS = (z.at - a.at) / 1000, rtpS = (z.ts - a.ts) / rate;
      return { packets: seqs.length, frames: seen.length, back, wallS, rtpS, ratio: rtpS / wallS, maxGapMs, maxGapAt };
    },
  };
}
