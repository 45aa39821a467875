#!/bin/sh
# Installs the Debian packages whepcam builds, runs and tests with.
# As root it runs apt-get; otherwise it prints the one command to run.
# Arguments name extra packages (make bench adds Janus and gnuplot).
set -e
PKGS="build-essential pkg-config libglib2.0-dev libjson-c-dev libfcgi-dev libnice-dev
 libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libssl-dev libsrtp2-dev
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
 gstreamer1.0-nice gstreamer1.0-x fonts-dejavu-core gstreamer1.0-tools nginx-light curl coturn prometheus systemd
 nodejs npm chromium python3 dpkg-dev groff-base openssl clang libclang-rt-dev $*"
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
