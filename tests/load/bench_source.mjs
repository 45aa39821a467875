// make bench's sources (issue 17): a capacity run measures the relay, so by
// default its stream is a clip passed through (no encoder: the box's CPU
// goes to the viewers), and what our own encoder costs is measured apart,
// on the test source with no viewer.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack } from '../lib/stack.mjs';
import { httpMetric } from '../lib/metrics.mjs';
import { serverWindow, joinFleets, sleep } from './fleet.mjs';

export const STREAM_ARGS = ['--width', '1280', '--height', '720', '--fps', '30', '--bitrate-kbps', '2000'];

// The clip: 1280x720@30, H.264 High at 2000 kbps with no B-frames (what a
// clip passed through must be), a keyframe every 2 s, the moving SMPTE
// pattern of the test source (horizontal-speed=4: a picture that costs
// bits), 20 s looped. Made once (~20 s of x264 on two cores) and kept in `dir`.
export function benchClip(dir) {
  const file = path.join(dir, 'smpte-720p30-2mbps.mp4');
  if (fs.existsSync(file) && fs.statSync(file).size > 1e6) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.part`;
  execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=600', 'pattern=smpte', 'horizontal-speed=4', '!',
    'video/x-raw,format=I420,width=1280,height=720,framerate=30/1', '!',
    'x264enc', 'tune=zerolatency', 'speed-preset=veryfast', 'key-int-max=60', 'bframes=0', 'bitrate=2000', '!',
    'video/x-h264,profile=high', '!', 'mp4mux', '!', 'filesink', `location=${tmp}`],
  { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300000 });
  fs.renameSync(tmp, file);
  return file;
}

// Our VP8 encoder on the test source at the bench's size and rate, with no
// viewer: the daemon's CPU over a window, and the frames it made per second.
export async function encoderCost(windowS) {
  const s = await startStack({ daemonArgs: [...STREAM_ARGS, '--source', 'test:smpte', '--log-level', 'message'] });
  try {
    await sleep(2000);
    const frames = 'whepcam_encoder_frames_total{stream="cam"}';
    const w = await serverWindow(joinFleets(), s.daemon.pid, windowS * 1000, { extra: () => httpMetric(s.base, frames) });
    return { cpu: w.cpu, rssMb: w.rssMb, fps: (w.extra[1] - w.extra[0]) / w.secs };
  } finally {
    await s.stop();
  }
}
