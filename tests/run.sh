#!/bin/sh
# Runs every suite and ends with one line "N passed, M failed".
# Unit binaries report per case (GTest TAP); each integration/e2e file is
# one scenario: exit 0 passes. Output of a failing scenario is shown.
BUILD=${BUILD:-build}
OUT=${TEST_OUT:-$BUILD/test-out}
ONLY=${ONLY:-}
rm -rf "$OUT" && mkdir -p "$OUT"
export TEST_OUT="$(cd "$OUT" && pwd)" BUILD="$(cd "$BUILD" && pwd)"
pass=0 fail=0

record() { # name status logfile
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok   $1"
	else
		fail=$((fail + 1)); echo "FAIL $1"; tail -n 40 "$3" | sed 's/^/     | /'
	fi
}

for bin in "$BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	case "$name" in *$ONLY*) ;; *) continue ;; esac
	log="$OUT/$(basename "$bin").log"
	"$bin" --tap >"$log" 2>&1
	rc=$?
	n_ok=$(grep -c '^ok ' "$log"); n_bad=$(grep -c '^not ok ' "$log")
	pass=$((pass + n_ok)); fail=$((fail + n_bad))
	if [ "$rc" != 0 ] && [ "$n_bad" = 0 ]; then fail=$((fail + 1)); fi
	if [ "$rc" = 0 ] && [ "$n_bad" = 0 ]; then echo "ok   $name ($n_ok cases)"; else echo "FAIL $name"; grep -B2 -A10 '^not ok\|Bail\|ERROR' "$log" | tail -n 40 | sed 's/^/     | /'; fi
done

for suite in integration e2e; do
	for t in tests/$suite/*.mjs tests/$suite/*.sh; do
		[ -f "$t" ] || continue
		name=$suite/$(basename "$t")
		case "$name" in *$ONLY*) ;; *) continue ;; esac
		log="$OUT/$suite-$(basename "$t").log"
		case "$t" in *.mjs) run=node ;; *) run=sh ;; esac
		# Its own process group, so whatever a failed scenario left running goes with it.
		setsid sh -c 'echo $$ >"$1"; shift; exec timeout 300 "$@"' _ "$OUT/pgid" $run "$t" >"$log" 2>&1
		rc=$?
		kill -KILL -- "-$(cat "$OUT/pgid")" 2>/dev/null
		record "$name" $rc "$log"
	done
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
