// The daemon's counters (docs/protocol.md `metrics` op, the text GET /metrics
// serves), read as numbers: what the delivery tests compare receivers with.

// Prometheus text -> { 'name' or 'name{labels}': value }.
export function parseMetrics(text) {
  const values = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

// One value of the stack's GET /metrics at `base` (NaN when it has none), as the bench reads it.
export async function httpMetric(base, name) {
  return parseMetrics(await (await fetch(`${base}/metrics`)).text())[name] ?? NaN;
}

// The daemon `d` (tests/lib/daemon.mjs) asked over its socket.
export async function daemonMetrics(d) {
  const reply = await d.request({ op: 'metrics' });
  if (reply.status !== 200 || typeof reply.text !== 'string') throw new Error(`metrics: ${JSON.stringify(reply)}`);
  return parseMetrics(reply.text);
}

// RTP packets sent to viewers (first sends, not NACK resends) and resent.
export async function sentCounters(d) {
  const m = await daemonMetrics(d);
  return { sent: m.whepcam_rtp_packets_sent_total, resent: m.whepcam_rtp_packets_resent_total };
}
