#!/bin/sh
# check_layers.sh - whepcamd's folders are layers whose includes only go down
# (docs/architecture.md):
#
#     main.c -> ctl -> session -> lite | full -> media -> wire -> base
#
# A file may include headers of its own folder and of any folder below it,
# and common/ (shared with whepcam-fcgi). lite/ and full/ are the two media
# paths: they never include each other, and main.c alone includes them from
# outside (the session layer reaches them through media/session_ops.h). Each
# violation is printed with its file, line and the rule; exit 1 if any.
# Usage: sh tests/check_layers.sh [TOP]   (TOP: the tree holding daemon/, common/)
set -u
top=$(cd "${1:-$(dirname "$0")/..}" && pwd) || exit 2
order='main.c -> ctl -> session -> lite | full -> media -> wire -> base'
list=$(mktemp) || exit 2
trap 'rm -f "$list"' EXIT

rank() {
	case $1 in
	base) echo 1 ;; wire) echo 2 ;; media) echo 3 ;; lite | full) echo 4 ;;
	session) echo 5 ;; ctl) echo 6 ;; main) echo 7 ;; *) echo 0 ;;
	esac
}

bad=0
fail() { # file line message
	echo "daemon/$1:$2: $3"
	bad=1
}

cd "$top/daemon" || exit 2
find . -name '*.[ch]' | sed 's|^\./||' | sort >"$list"
while read -r f; do
	case $f in
	main.c) layer=main ;;
	*/*/*) fail "$f" 1 "layers are one folder deep: move it up to daemon/${f%%/*}/"; continue ;;
	*/*) layer=${f%%/*} ;;
	*) fail "$f" 1 "only main.c lives at the top of daemon/: put it in a layer folder"; continue ;;
	esac
	if [ "$(rank "$layer")" = 0 ]; then
		fail "$f" 1 "$layer/ is not a layer (base wire media lite full session ctl)"
		continue
	fi
	here=$(dirname "$f")
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"$list.inc"
	while read -r line h; do
		case $h in
		*/*)
			target=${h%%/*}
			if [ ! -f "$h" ]; then
				[ -f "$top/common/$h" ] ||
					fail "$f" "$line" "\"$h\" is in no daemon/ folder (and not in common/)"
				continue
			fi ;;
		*)
			if [ -f "$here/$h" ]; then
				target=$layer
			elif [ -f "$top/common/$h" ]; then
				continue
			else
				fail "$f" "$line" "\"$h\" is neither in daemon/$here/ nor in common/: include it as \"FOLDER/$h\""
				continue
			fi ;;
		esac
		[ "$target" = "$layer" ] && continue
		case $target in
		lite | full)
			[ "$layer" = main ] ||
				fail "$f" "$line" "includes \"$h\": $target/ is a media path, which only main.c includes (lite/ and full/ never include each other; session/ calls them through media/session_ops.h)"
			continue ;;
		esac
		if [ "$(rank "$target")" = 0 ]; then
			fail "$f" "$line" "includes \"$h\": $target/ is not a layer"
		elif [ "$(rank "$target")" -gt "$(rank "$layer")" ]; then
			fail "$f" "$line" "includes \"$h\": $layer/ may not include $target/, a layer above it ($order); pass a struct of callbacks down instead"
		fi
	done <"$list.inc"
	rm -f "$list.inc"
done <"$list"
[ "$bad" = 0 ] && echo "daemon/ layers: every include goes down ($order)"
exit "$bad"
