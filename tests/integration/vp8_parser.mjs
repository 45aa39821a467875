// The receivers' VP8 keyframe detection (RFC 7741 §4.2-4.3) against
// hand-made payloads: the daemon tests trust it to say "first packet is a keyframe".
import assert from 'node:assert/strict';
import { vp8Info } from '../lib/peer.mjs';

const b = (...x) => Uint8Array.from(x);
const KEY = 0x90; // VP8 payload header byte 0: P bit (bit 0) clear = keyframe (show_frame set)
const DELTA = 0x91; // P bit set = interframe

const cases = [
  // [name, payload, start of frame, keyframe]
  ['empty', b(), false, false],
  ['S=1 PID=0, no X, key', b(0x10, KEY, 0x01, 0x9d), true, true],
  ['S=1 PID=0, no X, delta', b(0x10, DELTA, 0x01), true, false],
  ['S=0 continuation that looks like a key', b(0x00, KEY), false, false],
  ['S=1 PID=1 (not the first partition)', b(0x11, KEY), false, false],
  ['N bit set does not matter', b(0x30, KEY), true, true],
  ['X, I, 7-bit PictureID, key', b(0x90, 0x80, 0x05, KEY), true, true],
  ['X, I, 7-bit PictureID, delta', b(0x90, 0x80, 0x05, DELTA), true, false],
  ['X, I, 15-bit PictureID, key', b(0x90, 0x80, 0x81, 0x23, KEY), true, true],
  ['X, I, 15-bit PictureID, delta', b(0x90, 0x80, 0x81, 0x23, DELTA), true, false],
  // A 15-bit PictureID whose low byte has bit 0 clear: read as the header, it would say "key".
  ['X, I 15-bit, low byte even, delta', b(0x90, 0x80, 0xff, 0x22, DELTA), true, false],
  ['X, I 7-bit, id even, delta', b(0x90, 0x80, 0x22, DELTA), true, false],
  ['X, I+L 15-bit, key', b(0x90, 0xc0, 0x80, 0x01, 0x07, KEY), true, true],
  ['X, I+L+T, delta', b(0x90, 0xe0, 0x01, 0x07, 0x40, DELTA), true, false],
  ['X, I+L+T+K 15-bit, key', b(0x90, 0xf0, 0x80, 0x02, 0x07, 0x40, KEY), true, true],
  ['X, K only, delta (TID/KEYIDX byte even)', b(0x90, 0x10, 0x20, DELTA), true, false],
  ['X, L only, delta (TL0PICIDX even)', b(0x90, 0x40, 0x00, DELTA), true, false],
  ['X, no I/L/T/K, key', b(0x90, 0x00, KEY), true, true],
  ['X, nothing after the descriptor', b(0x90, 0x80, 0x05), true, false],
  ['descriptor only', b(0x10), true, false],
];
for (const [name, payload, start, keyframe] of cases) {
  assert.deepEqual(vp8Info(payload), { start, keyframe }, name);
  assert.deepEqual(vp8Info(Buffer.from(payload)), { start, keyframe }, `${name} (Buffer)`);
}
console.log(`${cases.length} VP8 payload cases ok`);
process.exit(0);
