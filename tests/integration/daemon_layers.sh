#!/bin/sh
# whepcamd's folders stay layers whose includes only go down
# (tests/check_layers.sh, docs/architecture.md): the tree passes, and a copy
# of it with an include that breaks each rule fails, naming the file and the rule.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
check=$top/tests/check_layers.sh
sh "$check" "$top"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# expect_fail FILE AFTER_LINE INCLUDE PATTERN: add `#include INCLUDE` to a fresh copy after AFTER_LINE
expect_fail() {
	rm -rf "$tmp/daemon" "$tmp/common"
	cp -r "$top/daemon" "$top/common" "$tmp/"
	sed -i "s|^$2\$|&\n#include $3|" "$tmp/daemon/$1"
	grep -q "^#include $3\$" "$tmp/daemon/$1" || { echo "could not plant $3 in $1"; exit 1; }
	if out=$(sh "$check" "$tmp"); then
		echo "check_layers.sh passed with $3 in daemon/$1"
		exit 1
	fi
	echo "$out" | grep -q "^daemon/$1:[0-9]*: .*$4" || { echo "unexpected message for $3 in $1:"; echo "$out"; exit 1; }
	echo "ok: $out"
}
expect_fail media/stream.c '#include "stream.h"' '"session/viewer.h"' 'media/ may not include session/, a layer above it'
expect_fail wire/sdp.c '#include "sdp.h"' '"media/track.h"' 'wire/ may not include media/'
expect_fail full/full.c '#include "full.h"' '"lite/lite.h"' 'lite/ is a media path, which only main.c includes'
expect_fail session/viewer.c '#include "viewer_priv.h"' '"full/full.h"' 'full/ is a media path'
expect_fail ctl/ctl.c '#include "ctl.h"' '"lite/lite.h"' 'lite/ is a media path'
expect_fail lite/udp.c '#include "udp.h"' '"stun.h"' '"stun.h" is neither in daemon/lite/ nor in common/'
echo "daemon layers: the tree passes, and each planted violation fails with its rule"
