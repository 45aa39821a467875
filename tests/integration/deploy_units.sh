#!/bin/sh
# The systemd units, rendered for an install prefix, pass systemd-analyze verify.
set -eu
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (make installs systemd)"; exit 1; }
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for u in "$top"/deploy/systemd/*.in; do
	sed -e "s|@BINDIR@|$BUILD|g" -e "s|@DOCDIR@|$top|g" "$u" > "$dir/$(basename "${u%.in}")"
done
ls "$dir"
# verify checks ExecStart binaries exist, unit syntax, and the socket/service pairing.
out=$(cd "$dir" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	./whepcamd.service ./whepcam-fcgi.socket ./whepcam-fcgi.service 2>&1) || { echo "$out"; exit 1; }
# Unknown users/groups are fine here (the package creates them); anything else is not.
bad=$(echo "$out" | grep -v -e "^$" -e "user" -e "group" -e "Failed to resolve" || true)
[ -z "$bad" ] || { echo "$bad"; exit 1; }
grep -q '^StandardInput=socket' "$dir/whepcam-fcgi.service"
grep -q '^DeviceAllow=char-video4linux rw' "$dir/whepcamd.service"
echo ok
