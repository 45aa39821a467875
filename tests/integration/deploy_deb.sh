#!/bin/sh
# make deb builds a package that declares what whepcam needs and installs into
# a scratch root (dpkg --root, maintainer scripts run chrootless against
# $DPKG_ROOT): files in place, the whepcam user in group video, the units
# enabled, the nginx site enabled in place of the stock default; remove and
# purge take it all away again. Nothing on this machine is touched.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make -s -C "$top" deb BUILD="$BUILD" >"$root.log" 2>&1 || { cat "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
deb=$(ls "$BUILD"/whepcam_*.deb)
echo "built $deb"

# What it declares: the libraries it links and the plugins it loads at run time.
deps=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $deps"
for p in libgstreamer1.0-0 libgstreamer-plugins-bad1.0-0 libjson-c5 libfcgi0ldbl libnice10 \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice nginx-light passwd systemd; do
	echo "$deps" | tr ',|' '\n\n' | sed 's/ *(.*//; s/^ *//; s/ *$//' | grep -qx "$p" || { echo "Depends lacks $p"; exit 1; }
done
# Every package named exists in this box's archive (a typo would never install).
for p in $(echo "$deps" | tr ',|' '\n\n' | sed 's/ *(.*//; s/^ *//; s/ *$//'); do
	[ -n "$(apt-cache policy "$p" 2>/dev/null | grep 'Candidate: [^(]')" ] ||
		dpkg-query -W "$p" >/dev/null 2>&1 || { echo "no package $p in the archive"; exit 1; }
done
# apt resolves every dependency against this box's archive (simulation only).
apt-get install -s "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")" >"$root/apt.log" 2>&1 ||
	{ cat "$root/apt.log"; exit 1; }
grep -q '^Inst whepcam ' "$root/apt.log"
rm "$root/apt.log"
[ "$(dpkg-deb -f "$deb" Package)" = whepcam ]
dpkg-deb -I "$deb" conffiles | grep -qx /etc/whepcam/whepcam.conf

# A scratch root with what a bookworm box has before the package comes.
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc/nginx/sites-available" \
	"$root/etc/nginx/sites-enabled"
: >"$root/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:x:0:\nvideo:x:44:\nwww-data:x:33:\n' >"$root/etc/group"
printf 'root:*::\nvideo:!::\nwww-data:!::\n' >"$root/etc/gshadow"
echo 'server { listen 80 default_server; }' >"$root/etc/nginx/sites-available/default"
ln -s /etc/nginx/sites-available/default "$root/etc/nginx/sites-enabled/default"
dpkgr() { dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root --log=/dev/null "$@"; }

dpkgr -i "$deb"
dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}\n' whepcam | grep -qx 'install ok installed'
for f in usr/bin/whepcamd usr/bin/whepcam-fcgi usr/share/whepcam/web/index.html usr/share/whepcam/web/player.js \
	lib/systemd/system/whepcamd.service lib/systemd/system/whepcam-fcgi.socket \
	lib/systemd/system/whepcam-fcgi.service etc/whepcam/whepcam.conf etc/nginx/sites-available/whepcam.conf \
	usr/share/man/man8/whepcamd.8.gz usr/share/man/man8/whepcam-fcgi.8.gz usr/share/man/man5/whepcam.conf.5.gz; do
	[ -e "$root/$f" ] || { echo "not installed: $f"; exit 1; }
done
grep -q '^whepcam:x:[0-9]*:[0-9]*::/nonexistent:/usr/sbin/nologin$' "$root/etc/passwd" || { cat "$root/etc/passwd"; exit 1; }
grep -q '^video:x:44:whepcam$' "$root/etc/group" || { echo "whepcam is not in group video"; cat "$root/etc/group"; exit 1; }
[ -L "$root/etc/systemd/system/multi-user.target.wants/whepcamd.service" ] || { echo "whepcamd.service not enabled"; exit 1; }
[ -L "$root/etc/systemd/system/sockets.target.wants/whepcam-fcgi.socket" ] || { echo "whepcam-fcgi.socket not enabled"; exit 1; }
[ "$(readlink "$root/etc/nginx/sites-enabled/whepcam.conf")" = ../sites-available/whepcam.conf ]
[ ! -e "$root/etc/nginx/sites-enabled/default" ] || { echo "the stock default site still claims port 80"; exit 1; }
grep -q '^ExecStart=/usr/bin/whepcamd ' "$root/lib/systemd/system/whepcamd.service"
zcat "$root/usr/share/man/man8/whepcamd.8.gz" | grep -q '^\.TH'

# Reinstalling (an upgrade) keeps an edited config and adds no second user.
echo '# edited' >>"$root/etc/whepcam/whepcam.conf"
dpkgr -i "$deb" </dev/null
grep -q '^# edited' "$root/etc/whepcam/whepcam.conf"
[ "$(grep -c '^whepcam:' "$root/etc/passwd")" = 1 ]

dpkgr -r whepcam
[ ! -e "$root/usr/bin/whepcamd" ] && [ ! -e "$root/lib/systemd/system/whepcamd.service" ]
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/whepcamd.service" ] || { echo "unit still enabled after remove"; exit 1; }
[ ! -e "$root/etc/nginx/sites-enabled/whepcam.conf" ]
[ -e "$root/etc/whepcam/whepcam.conf" ]  # remove keeps configuration, purge does not
dpkgr -P whepcam
[ ! -e "$root/etc/whepcam" ] || { echo "purge left /etc/whepcam"; exit 1; }
echo ok
