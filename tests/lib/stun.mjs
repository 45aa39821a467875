// STUN (RFC 8489) as an attacker or a test peer writes and reads it: Binding
// requests signed with a short-term password (MESSAGE-INTEGRITY, then
// FINGERPRINT), and a parser for what comes back.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

const COOKIE = 0x2112a442;
export const BINDING_REQUEST = 0x0001, BINDING_SUCCESS = 0x0101, BINDING_ERROR = 0x0111;
export const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, PRIORITY: 0x0024, USE_CANDIDATE: 0x0025,
  FINGERPRINT: 0x8028, ICE_CONTROLLED: 0x8029, ICE_CONTROLLING: 0x802a };

function attr(type, value) {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

// A Binding request as a controlling browser sends it: USERNAME
// "theirUfrag:myUfrag", PRIORITY, ICE-CONTROLLING, USE-CANDIDATE when
// asked, MESSAGE-INTEGRITY keyed with `pwd` (the receiver's), FINGERPRINT.
export function bindingRequest({ username, pwd, useCandidate = false, txid = crypto.randomBytes(12) }) {
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e7f1eff, 0);
  const body = [attr(ATTR.USERNAME, Buffer.from(username)), attr(ATTR.PRIORITY, prio),
    attr(ATTR.ICE_CONTROLLING, crypto.randomBytes(8))];
  if (useCandidate) body.push(attr(ATTR.USE_CANDIDATE, Buffer.alloc(0)));
  const head = Buffer.alloc(20);
  head.writeUInt16BE(BINDING_REQUEST, 0);
  head.writeUInt32BE(COOKIE, 4);
  txid.copy(head, 8);
  let msg = Buffer.concat([head, ...body]);
  // RFC 8489 §14.5: the length counts MESSAGE-INTEGRITY itself; the HMAC covers what precedes it.
  msg.writeUInt16BE(msg.length - 20 + 24, 2);
  const mac = crypto.createHmac('sha1', Buffer.from(pwd)).update(msg).digest();
  msg = Buffer.concat([msg, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
  msg.writeUInt16BE(msg.length - 20 + 8, 2);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((zlib.crc32(msg) ^ 0x5354554e) >>> 0, 0);
  return Buffer.concat([msg, attr(ATTR.FINGERPRINT, crc)]);
}

// { type, txid, attrs: Map(type -> Buffer) }, or null when it is not STUN.
export function parse(buf) {
  if (buf.length < 20 || buf[0] > 3 || buf.readUInt32BE(4) !== COOKIE) return null;
  const attrs = new Map();
  for (let at = 20; at + 4 <= buf.length;) {
    const type = buf.readUInt16BE(at), len = buf.readUInt16BE(at + 2);
    attrs.set(type, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), txid: buf.subarray(8, 20), attrs };
}

// The ICE credentials of an SDP: { ufrag, pwd } of its first a=ice-ufrag/a=ice-pwd.
export function iceCredentials(sdp) {
  return { ufrag: /\r\na=ice-ufrag:(\S+)\r\n/.exec(sdp)[1], pwd: /\r\na=ice-pwd:(\S+)\r\n/.exec(sdp)[1] };
}
