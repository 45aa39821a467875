#!/bin/sh
# deploy/install-deps.sh by profile, on a machine where nothing is installed
# (a stand-in dpkg-query says so, a stand-in apt-get records what it is asked):
# `make run`'s profile brings no browser, player, TURN server, Prometheus or
# node; `make test`'s brings them; `make bench`'s adds Janus.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/bin"
printf '#!/bin/sh\nexit 1\n' >"$dir/bin/dpkg-query"
printf '#!/bin/sh\n[ "$1" = install ] && echo "$@" >>"%s/asked"\nexit 0\n' "$dir" >"$dir/bin/apt-get"
printf '#!/bin/sh\necho 0\n' >"$dir/bin/id"
chmod +x "$dir/bin/"*
asked() { # profile -> the packages apt-get was asked for, one a line
	: >"$dir/asked"
	PATH="$dir/bin:$PATH" sh "$top/deploy/install-deps.sh" "$@" >/dev/null
	tr ' ' '\n' <"$dir/asked" | grep -v '^-' | grep -v '^install$' | grep . | sort
}
fail=0
run=$(asked)
for p in chromium firefox-esr coturn prometheus python3-aiortc python3-gi janus npm; do
	if echo "$run" | grep -qx "$p"; then echo "make run would install $p"; fail=1; fi
done
echo "$run" | grep -qx nginx-light || echo "$run" | grep -qx build-essential || { echo "make run installs nothing to build and serve"; fail=1; }
test=$(asked test)
for p in chromium firefox-esr coturn prometheus python3-aiortc python3-gi gir1.2-gst-plugins-bad-1.0 iproute2 build-essential; do
	echo "$test" | grep -qx "$p" || { echo "make test would not install $p"; fail=1; }
done
bench=$(asked bench)
for p in janus gnuplot-nox chromium; do
	echo "$bench" | grep -qx "$p" || { echo "make bench would not install $p"; fail=1; }
done
# Extra names still add to the run profile.
asked run extra-pkg | grep -qx extra-pkg || { echo "an extra package name is dropped"; fail=1; }
[ $fail = 0 ] && echo "run: $(echo "$run" | wc -l) packages, test: $(echo "$test" | wc -l), bench: $(echo "$bench" | wc -l)"
exit $fail
