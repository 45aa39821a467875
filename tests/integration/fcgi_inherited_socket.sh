#!/bin/sh
# whepcam-fcgi takes its listening socket on fd 0 (systemd socket activation,
# spawn-fcgi) and answers through it; without one it refuses with a reason.
set -eu
BUILD=${BUILD:-build}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
python3 - "$BUILD/whepcam-fcgi" "$dir/fcgi.sock" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[2]); s.listen(16)
os.dup2(s.fileno(), 0)
os.execv(sys.argv[1], [sys.argv[1], "--daemon-socket", "/nonexistent/whepcamd.sock"])
PY
pid=$!
i=0; until [ -S "$dir/fcgi.sock" ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
# A minimal FastCGI request (GET /whep/) over the inherited socket: the daemon is absent, so 503.
reply=$(python3 - "$dir/fcgi.sock" <<'PY'
import socket, struct, sys
def rec(t, rid, body): return struct.pack('>BBHHBx', 1, t, rid, len(body), 0) + body
def nv(k, v): return bytes([len(k), len(v)]) + k + v
params = nv(b'REQUEST_METHOD', b'GET') + nv(b'DOCUMENT_URI', b'/whep/')
msg = rec(1, 1, struct.pack('>HB5x', 1, 0)) + rec(4, 1, params) + rec(4, 1, b'') + rec(5, 1, b'')
c = socket.socket(socket.AF_UNIX); c.settimeout(15); c.connect(sys.argv[1]); c.sendall(msg)
out = b''
while True:
    h = c.recv(8)
    if len(h) < 8: break
    _, t, _, n, pad = struct.unpack('>BBHHBx', h)
    body = b''
    while len(body) < n + pad: body += c.recv(n + pad - len(body))
    if t == 6: out += body[:n]
    if t == 3: break
print(out.decode(errors='replace'))
PY
)
echo "$reply" | head -3
echo "$reply" | grep -q '^Status: 503' || { echo "expected 503 through the inherited socket"; exit 1; }
echo "$reply" | grep -q '^Retry-After: 5' || { echo "expected Retry-After"; exit 1; }
# Without --listen and without a socket on fd 0 it says why and exits 2.
set +e
"$BUILD/whepcam-fcgi" < /dev/null 2> "$dir/err"
rc=$?
set -e
[ "$rc" = 2 ] || { echo "expected exit 2, got $rc"; exit 1; }
grep -q 'fd 0 is not a listening socket' "$dir/err"
echo ok
