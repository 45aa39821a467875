#!/bin/sh
# `make run` as a new user types it (deploy/run-local.sh under make): the
# three programs come up on a free port, it prints the URL and the test
# pattern, the page and /whep/ answer through nginx, the FastCGI socket is
# private to the user running the stack (issue 13 item 7: it was 0666, so any
# local user could skip nginx's rate limit and the /metrics allow-list), and
# SIGTERM stops all three.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run="$BUILD/run-test-$$"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out" "$BUILD/run-test-$$"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$out/stdout" "$out/stderr"; tail -n 20 "$run"/*.log 2>/dev/null; exit 1; }

# A build directory of its own for the run files, pointing at the real binaries.
mkdir -p "$run"
ln -s "$(cd "$BUILD" && pwd)/whepcamd" "$(cd "$BUILD" && pwd)/whepcam-fcgi" "$run/"
BUILD="$run" PORT=$port HOST=127.0.0.1 sh "$top/deploy/run-local.sh" >"$out/stdout" 2>"$out/stderr" &
pid=$!
i=0
until grep -q 'whepcam is running' "$out/stdout"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no 'whepcam is running' line within 30 s"
	kill -0 $pid 2>/dev/null || fail "make run exited"
	sleep 0.1
done
grep -q "open http://127.0.0.1:$port/" "$out/stdout" || fail "no URL printed"
grep -q 'streaming a test pattern' "$out/stdout" || fail "does not say it streams the test pattern"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 200 ] || fail "page not served"
curl -s "http://127.0.0.1:$port/whep/" | grep -q '"name":"cam"' || fail "/whep/ does not list cam"

sock="$run/run/fcgi.sock"
[ -S "$sock" ] || fail "no FastCGI socket at $sock"
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "FastCGI socket mode $mode, want 600"
# Another local user cannot connect to it (nobody: every Debian has it).
if runuser -u nobody -- python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])" "$sock" 2>/dev/null; then
	fail "user nobody connected to the FastCGI socket"
fi

kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do i=$((i + 1)); [ $i -lt 150 ] || fail "did not stop within 15 s"; sleep 0.1; done
pid=
grep -q 'whepcam: stopped' "$out/stdout" || fail "no 'stopped' line"
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then fail "nginx still answers after stop"; fi
echo "make run: up on $port, socket $mode, stopped cleanly"
