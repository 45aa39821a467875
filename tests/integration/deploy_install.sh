#!/bin/sh
# make install into a scratch root: every file lands where the units and the
# site expect it, the site passes nginx -t, and the example config starts the daemon.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap '[ -z "$pid" ] || kill $pid 2>/dev/null; rm -rf "$root"' EXIT
pid=
make -s -C "$top" install DESTDIR="$root" PREFIX=/usr >/dev/null
for f in usr/bin/whepcamd usr/bin/whepcam-fcgi usr/share/whepcam/web/index.html \
	usr/share/whepcam/web/player.js lib/systemd/system/whepcamd.service \
	lib/systemd/system/whepcam-fcgi.socket lib/systemd/system/whepcam-fcgi.service \
	etc/nginx/sites-available/whepcam.conf etc/whepcam/whepcam.conf usr/share/man/man8/whepcamd.8 \
	usr/share/man/man8/whepcam-fcgi.8 usr/share/man/man5/whepcam.conf.5; do
	[ -e "$root/$f" ] || { echo "missing $f"; exit 1; }
done
grep -q '^ExecStart=/usr/bin/whepcamd ' "$root/lib/systemd/system/whepcamd.service"
grep -q 'root /usr/share/whepcam/web;' "$root/etc/nginx/sites-available/whepcam.conf"
# nginx passes to the socket whepcam-fcgi.socket makes (deploy_permissions.mjs: who may open it).
fcgi_socket=$(sed -n 's/^ListenStream=//p' "$root/lib/systemd/system/whepcam-fcgi.socket")
grep -qx "    server unix:$fcgi_socket;" "$root/etc/nginx/sites-available/whepcam.conf" ||
	{ echo "the nginx site does not pass to $fcgi_socket"; exit 1; }
# The committed deploy/nginx/whepcam.conf is the template as installed, not a drifted copy.
HOST=0.0.0.0 PORT=80 TLS_PORT=443 FCGI_SOCKET="$fcgi_socket" WEB_ROOT=/usr/share/whepcam/web \
	sh "$top/nginx/render.sh" site "$root/expected-site.conf"
diff -u "$top/deploy/nginx/whepcam.conf" "$root/expected-site.conf" ||
	{ echo "deploy/nginx/whepcam.conf is stale: run make deploy/nginx/whepcam.conf"; exit 1; }
# The site inside a minimal nginx.conf passes nginx -t.
sed -e "s|/usr/share/whepcam/web|$root/usr/share/whepcam/web|" -e 's|listen 0.0.0.0:80;|listen 127.0.0.1:18999;|' \
	"$root/etc/nginx/sites-available/whepcam.conf" > "$root/site.conf"
printf 'pid %s/nginx.pid;\nerror_log %s/err.log;\nevents {}\nhttp { include /etc/nginx/mime.types; include %s/site.conf; }\n' \
	"$root" "$root" "$root" > "$root/nginx.conf"
nginx -t -c "$root/nginx.conf" -e "$root/err.log" 2>&1 | grep -q 'test is successful'
# A second install keeps an edited config.
echo '# edited' >> "$root/etc/whepcam/whepcam.conf"
make -s -C "$top" install DESTDIR="$root" PREFIX=/usr >/dev/null
grep -q '^# edited' "$root/etc/whepcam/whepcam.conf"
# The example config is one the daemon accepts.
"$root/usr/bin/whepcamd" --config "$root/etc/whepcam/whepcam.conf" --socket "$root/d.sock" \
	--source test: --width 320 --height 240 2>"$root/d.log" &
pid=$!
i=0; until grep -q 'ready:' "$root/d.log" || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
grep -q 'ready:' "$root/d.log" || { cat "$root/d.log"; exit 1; }
kill -TERM $pid; wait $pid; pid=
echo ok
