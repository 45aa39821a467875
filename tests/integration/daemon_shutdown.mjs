// SIGTERM with a viewer playing: exit 0, socket removed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const r = await createReceiver();
const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
assert.equal(reply.status, 201);
await r.accept(reply.sdp);
await r.waitPackets(20);
assert.ok(fs.existsSync(d.socket));
assert.equal(await d.stop(), 0, 'clean exit');
assert.ok(!fs.existsSync(d.socket), 'socket removed');
await r.close();
process.exit(0);
