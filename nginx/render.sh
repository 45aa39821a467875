#!/bin/sh
# Renders nginx configs from the templates beside this script.
#   render.sh local RUN_DIR   -> RUN_DIR/nginx.conf + RUN_DIR/whepcam-site.conf
#   render.sh site OUT_FILE   -> the server block alone (for /etc/nginx/sites-available)
# Settings from the environment: HOST, PORT, TLS_PORT (for the commented HTTPS
# listener), FCGI_SOCKET, WEB_ROOT, CORS_ORIGIN, POST_RATE, POST_BURST.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 out=$2
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8080}
TLS_PORT=${TLS_PORT:-8443}
FCGI_SOCKET=${FCGI_SOCKET:-/run/whepcam-fcgi.sock}
WEB_ROOT=${WEB_ROOT:-$(cd "$here/../web" && pwd)}
CORS_ORIGIN=${CORS_ORIGIN:-*}
# Offers per second and burst from one address: a player POSTs once per
# session and a page reload a few times; whepcamd caps sessions per address too.
POST_RATE=${POST_RATE:-10}
POST_BURST=${POST_BURST:-20}
case "$HOST" in *:*) ADDR="[$HOST]" ;; *) ADDR="$HOST" ;; esac
LISTEN="$ADDR:$PORT" TLS_LISTEN="$ADDR:$TLS_PORT"

fill() {
	sed -e "s|@LISTEN@|$LISTEN|g" -e "s|@TLS_LISTEN@|$TLS_LISTEN|g" -e "s|@FCGI_SOCKET@|$FCGI_SOCKET|g" \
	    -e "s|@WEB_ROOT@|$WEB_ROOT|g" -e "s|@CORS_ORIGIN@|$CORS_ORIGIN|g" \
	    -e "s|@POST_RATE@|$POST_RATE|g" -e "s|@POST_BURST@|$POST_BURST|g" \
	    -e "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g" \
	    -e "s|@RUN_DIR@|${RUN_DIR:-}|g" -e "s|@USER_LINE@|${USER_LINE:-}|g" "$1"
}

case "$mode" in
local)
	RUN_DIR=$(mkdir -p "$out" && cd "$out" && pwd)
	mkdir -p "$RUN_DIR/tmp"
	# As root, workers would drop to nobody and lose the run dir's sockets.
	USER_LINE=""
	[ "$(id -u)" = 0 ] && USER_LINE="user root;"
	fill "$here/whepcam-site.conf.in" > "$RUN_DIR/whepcam-site.conf"
	fill "$here/nginx-local.conf.in" > "$RUN_DIR/nginx.conf"
	;;
site)
	fill "$here/whepcam-site.conf.in" > "$out"
	;;
*)
	echo "usage: render.sh local RUN_DIR | site OUT_FILE" >&2
	exit 2
	;;
esac
