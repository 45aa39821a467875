#!/bin/sh
# Installs the Debian packages whepcam needs, by profile:
#   run   (the default): what `make run` needs to build and run it;
#   test  run's, and what `make test` drives it with: browsers (chromium,
#         firefox-esr), players (python3-aiortc, webrtcbin through python3-gi),
#         coturn, Prometheus's promtool, node, iproute2, systemd-analyze, groff,
#         clang and its sanitizer runtimes (the ASan+UBSan and fuzz stages);
#   bench test's, and Janus and gnuplot beside it.
# Further arguments name extra packages. As root it runs apt-get; otherwise it
# prints the one command to run.
set -e
RUN="build-essential pkg-config libglib2.0-dev libjson-c-dev libfcgi-dev libnice-dev
 libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libssl-dev libsrtp2-dev
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
 gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-x gstreamer1.0-alsa
 fonts-dejavu-core nginx-light curl dpkg-dev"
TEST="nodejs npm chromium firefox-esr coturn prometheus python3 python3-aiortc python3-gi
 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 gstreamer1.0-tools
 gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0
 iproute2 systemd groff-base openssl clang libclang-rt-dev"
BENCH="janus gnuplot-nox"
case "${1:-run}" in
run) PKGS=$RUN ;;
test) PKGS="$RUN $TEST" ;;
bench) PKGS="$RUN $TEST $BENCH" ;;
*) PKGS=$RUN; set -- run "$@" ;;
esac
shift $(($# > 0 ? 1 : 0))
PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
# Programs that may come from elsewhere (nvm, nodesource, another nginx
# flavour) are fine as they are when they are on PATH.
for pair in node:nodejs npm:npm nginx:nginx-light; do
	command -v "${pair%%:*}" >/dev/null 2>&1 &&
		missing=$(echo "$missing" | tr ' ' '\n' | grep -vx "${pair#*:}" | tr '\n' ' ')
done
[ -z "$(echo $missing)" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "whepcam: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
	exit 0
fi
echo "whepcam: missing packages; run:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
