#!/bin/sh
# `make run`: whepcamd, whepcam-fcgi and a private nginx on HOST:PORT, in
# the foreground; Ctrl-C or SIGTERM stops all three.
# Environment: BUILD (build dir), PORT (8080), HOST (127.0.0.1), CONFIG (ini file).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$top/build}" && pwd)
PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
CONFIG=${CONFIG:-}
RUN="$BUILD/run"

if curl -s -o /dev/null --max-time 1 "http://$HOST:$PORT/" 2>/dev/null ||
	(command -v ss >/dev/null && ss -Hltn "sport = :$PORT" | grep -q .); then
	echo "whepcam: port $PORT is busy: is another whepcam (or web server) running?" >&2
	echo "         try: PORT=8081 make run" >&2
	exit 1
fi
rm -rf "$RUN" && mkdir -p "$RUN"
pids=""
stop() {
	trap - INT TERM EXIT
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for p in $pids; do wait "$p" 2>/dev/null; done
	echo "whepcam: stopped"
	exit 0
}
trap stop INT TERM EXIT

set -- --socket "$RUN/whepcamd.sock"
[ -n "$CONFIG" ] && set -- --config "$CONFIG" "$@"
"$BUILD/whepcamd" "$@" 2>"$RUN/whepcamd.log" &
pids="$!"
# 0600: nginx runs as this same user (root: "user root;"), and nobody else may skip
# nginx's rate limit and /metrics allow-list by talking FastCGI to the socket.
"$BUILD/whepcam-fcgi" --listen "$RUN/fcgi.sock" --listen-mode 0600 \
	--daemon-socket "$RUN/whepcamd.sock" 2>"$RUN/whepcam-fcgi.log" &
pids="$pids $!"
HOST=$HOST PORT=$PORT FCGI_SOCKET="$RUN/fcgi.sock" WEB_ROOT="$top/web" \
	sh "$top/nginx/render.sh" local "$RUN/nginx"
nginx -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/nginx-error.log" &
pids="$pids $!"

# Wait (bounded) until the whole chain answers.
i=0
until list=$(curl -sf --max-time 1 "http://$HOST:$PORT/whep/" 2>/dev/null); do
	i=$((i + 1))
	if [ $i -ge 100 ]; then
		echo "whepcam: did not come up; logs in $RUN:" >&2
		tail -n 5 "$RUN"/*.log "$RUN"/nginx/nginx-error.log >&2
		exit 1
	fi
	sleep 0.1
done
source=$(echo "$list" | sed -n 's/.*"source":"\([^"]*\)".*/\1/p')
case "$source" in
test:*) what="a test pattern that beeps once a second (no camera found at /dev/video0)" ;;
*) what="$source" ;;
esac
shown=$HOST
[ "$HOST" = 0.0.0.0 ] && shown=$(hostname -I 2>/dev/null | cut -d' ' -f1)
echo "whepcam is running: open http://${shown:-$HOST}:$PORT/"
echo "  streaming $what"
echo "  logs in $RUN; Ctrl-C to stop"
# Until Ctrl-C/SIGTERM (the trap), one of the three exits, or our parent
# (make) is killed: then stop the others too, never leave them behind.
parent=$PPID
while kill -0 "$parent" 2>/dev/null; do
	for p in $pids; do
		if ! kill -0 "$p" 2>/dev/null; then
			echo "whepcam: a process exited; see the logs in $RUN" >&2
			stop
		fi
	done
	sleep 1 &
	wait $!
done
stop
