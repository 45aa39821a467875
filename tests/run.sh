#!/bin/sh
# Runs every suite and ends with one line "N passed, M failed".
# Unit binaries report per case (GTest TAP); each integration/e2e file is
# one scenario: exit 0 passes. Output of a failing scenario is shown.
# A skipped case (GTest "ok ... # SKIP") fails unless ALLOW_SKIP=1; a unit
# source without its binary fails; a run that ran nothing fails.
BUILD=${BUILD:-build}
OUT=${TEST_OUT:-$BUILD/test-out}
ONLY=${ONLY:-}
ALLOW_SKIP=${ALLOW_SKIP:-0}
rm -rf "$OUT" && mkdir -p "$OUT"
export TEST_OUT="$(cd "$OUT" && pwd)" BUILD="$(cd "$BUILD" && pwd)"
pass=0 fail=0 skip=0

record() { # name status logfile
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok   $1"
	else
		fail=$((fail + 1)); echo "FAIL $1"; tail -n 40 "$3" | sed 's/^/     | /'
	fi
}

# One binary per source, whatever else lies in $BUILD/tests.
for src in tests/unit/test_*.c; do
	[ -f "$src" ] || continue
	base=$(basename "$src" .c)
	name=unit/$base bin="$BUILD/tests/$base"
	case "$name" in *$ONLY*) ;; *) continue ;; esac
	log="$OUT/$base.log"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		fail=$((fail + 1)); echo "FAIL $name: $bin missing or older than $src (make unit)"
		continue
	fi
	"$bin" --tap >"$log" 2>&1
	rc=$?
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
	n_skip=$(grep -c '^ok .* # SKIP' "$log")
	n_ok=$(($(grep -c '^ok ' "$log") - n_skip)); n_bad=$(grep -c '^not ok ' "$log")
	pass=$((pass + n_ok)); fail=$((fail + n_bad)); skip=$((skip + n_skip))
	[ "$ALLOW_SKIP" = 1 ] || fail=$((fail + n_skip))
	bad=$n_bad
	# A crash, an abort or a plan not carried out is one more failure.
	if [ "$rc" != 0 ] || [ "${plan:-x}" != $((n_ok + n_bad + n_skip)) ]; then
		[ "$n_bad" = 0 ] && fail=$((fail + 1)); bad=$((bad + 1))
	fi
	grep '^ok .* # SKIP' "$log" | sed "s|^ok [0-9]* \(.*\) # SKIP|SKIP $name \1:|"
	if [ "$bad" = 0 ] && { [ "$n_skip" = 0 ] || [ "$ALLOW_SKIP" = 1 ]; }; then
		extra=; [ "$n_skip" = 0 ] || extra=", $n_skip skipped"
		echo "ok   $name ($n_ok cases$extra)"
	elif [ "$bad" = 0 ]; then
		echo "FAIL $name: $n_skip skipped (ALLOW_SKIP=1 lets skips pass)"
	else
		echo "FAIL $name (exit $rc, plan ${plan:-none}, $n_ok ok, $n_bad not ok)"
		{ grep -B2 -A10 '^not ok\|Bail\|ERROR' "$log" || tail -n 20 "$log"; } | tail -n 40 | sed 's/^/     | /'
	fi
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

[ "$((pass + fail))" = 0 ] && echo "no test ran${ONLY:+ (ONLY=$ONLY matches nothing)}: that is a failure"
if [ "$skip" != 0 ]; then
	if [ "$ALLOW_SKIP" = 1 ]; then echo "$skip skipped (allowed by ALLOW_SKIP=1)"
	else echo "$skip skipped, counted as failed (ALLOW_SKIP=1 allows skips)"; fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$((pass + fail))" != 0 ]
