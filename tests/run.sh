#!/bin/sh
# Runs every suite and ends with one line "N passed, M failed".
# Unit binaries report per case (GTest TAP); each integration/e2e file is
# one scenario: exit 0 passes. Output of a failing scenario is shown.
# A skipped case (GTest "ok ... # SKIP") fails unless ALLOW_SKIP=1; a unit
# source without its binary fails; a run that ran nothing fails.
# Then the clang ASan+UBSan build ($ASAN_BUILD, `make asan`): its unit
# binaries (asan/unit/...) and the scenarios asan_scenario picks
# (asan/integration/...); and each libFuzzer target ($BUILD/fuzz, `make
# fuzz-build`) for FUZZ_SECONDS on a copy of its corpus (fuzz/...).
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-$BUILD-asan}
FUZZ_SECONDS=${FUZZ_SECONDS:-3}
OUT=${TEST_OUT:-$BUILD/test-out}
ONLY=${ONLY:-}
ALLOW_SKIP=${ALLOW_SKIP:-0}
rm -rf "$OUT" && mkdir -p "$OUT"
export TEST_OUT="$(cd "$OUT" && pwd)" BUILD="$(cd "$BUILD" && pwd)"
OUT=$TEST_OUT
case "$ASAN_BUILD" in /*) ;; *) ASAN_BUILD="$(pwd)/$ASAN_BUILD" ;; esac
pass=0 fail=0 skip=0

# The ASan run's environment (a command prefix). LeakSanitizer: whole stacks
# (Debian's libraries have no frame pointers) so that tests/asan/lsan.supp can
# name the libraries' own leaks at exit, and any other leak fails. UBSan: a
# report ends the process (the build also has -fno-sanitize-recover).
# ASAN_OPTIONS etc. given to make test come last, so they win.
asan_a="fast_unwind_on_malloc=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
asan_l="suppressions=$(pwd)/tests/asan/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
asan_u="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# Which scenarios also run against the ASan build: every daemon_* one (each
# starts whepcamd itself; a new one is in by default) and the http_* ones that
# push untrusted bodies through whepcam-fcgi into the daemon. Not these:
# daemon_layers.sh starts no process; daemon_join_leave.mjs asserts that RSS
# returns to its baseline, which ASan's quarantine and redzones keep ~20 MB
# above (LeakSanitizer at exit is this run's leak check); the other http_*
# ones test nginx's configuration and timing (~1.5 min more under ASan); e2e
# drives Chromium. rtsp_join_full.mjs is in: mode full's frames kept for a
# join are references shared by the tee, the cache and each viewer's probe.
# About 5 minutes in all on 2 cores.
asan_scenario() {
	case "$1" in
	daemon_layers.sh | daemon_join_leave.mjs) return 1 ;;
	daemon_* | http_errors.mjs | http_trickle.mjs | http_post_delete.mjs) return 0 ;;
	http_concurrent_posts.mjs | http_browser_offers.mjs | rtsp_join_full.mjs) return 0 ;;
	*) return 1 ;;
	esac
}

record() { # name status logfile
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok   $1"
	else
		fail=$((fail + 1)); echo "FAIL $1"; tail -n 40 "$3" | sed 's/^/     | /'
	fi
}

# After a failed scenario: the head and stack of a sanitizer's report in any
# log written since MARK (a daemon's own log; the scenario shows its tail only).
sanitizer_report() { # mark
	for f in $(find "$OUT" -maxdepth 1 -name '*.log' -newer "$1"); do
		grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error:' "$f" || continue
		echo "     | --- $f:"
		grep -m1 -A24 'ERROR: [A-Za-z]*Sanitizer\|runtime error:' "$f" | sed 's/^/     | /'
	done
}

# One binary per source, whatever else lies in $dir/tests. units DIR PREFIX [WRAPPER...]
units() {
dir=$1 prefix=$2
shift 2
for src in tests/unit/test_*.c; do
	[ -f "$src" ] || continue
	base=$(basename "$src" .c)
	name=${prefix}unit/$base bin="$dir/tests/$base"
	case "$name" in *$ONLY*) ;; *) continue ;; esac
	log="$OUT/${prefix%/}${prefix:+-}$base.log"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		fail=$((fail + 1)); echo "FAIL $name: $bin missing or older than $src (make unit asan)"
		continue
	fi
	"$@" "$bin" --tap >"$log" 2>&1
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
}

# Each file one scenario. scenarios SUITE PREFIX FILTER DAEMON [WRAPPER...]: the
# files FILTER takes, each run under WRAPPER; DAEMON (if not empty) must exist.
scenarios() {
suite=$1 prefix=$2 filter=$3 daemon=$4
shift 4
for t in tests/$suite/*.mjs tests/$suite/*.sh; do
	[ -f "$t" ] || continue
	name=$prefix$suite/$(basename "$t")
	case "$name" in *$ONLY*) ;; *) continue ;; esac
	$filter "$(basename "$t")" || continue
	log="$OUT/${prefix%/}${prefix:+-}$suite-$(basename "$t").log"
	if [ -n "$daemon" ] && [ ! -x "$daemon" ]; then
		fail=$((fail + 1)); echo "FAIL $name: $daemon missing (make asan)"
		continue
	fi
	case "$t" in *.mjs) run=node ;; *) run=sh ;; esac
	: >"$OUT/mark"
	# Its own process group, so whatever a failed scenario left running goes with it.
	setsid sh -c 'echo $$ >"$1"; shift; exec timeout 300 "$@"' _ "$OUT/pgid" "$@" $run "$t" >"$log" 2>&1
	rc=$?
	kill -KILL -- "-$(cat "$OUT/pgid")" 2>/dev/null
	record "$name" $rc "$log"
	[ "$rc" = 0 ] || sanitizer_report "$OUT/mark"
done
}

# Each libFuzzer target for FUZZ_SECONDS, from a copy of its checked-in corpus
# (what the run finds must not land in tests/fuzz/corpus). A crash, a leak, a
# UBSan report, a timeout (10 s per input) or an oracle's abort fails it; the
# input that did it is kept in $OUT.
fuzzers() {
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	base=$(basename "$src" .c) target=${base#fuzz_}
	name=fuzz/$base bin="$BUILD/fuzz/$base" corpus="$OUT/fuzz-corpus-$target"
	case "$name" in *$ONLY*) ;; *) continue ;; esac
	log="$OUT/fuzz-$target.log"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		fail=$((fail + 1)); echo "FAIL $name: $bin missing or older than $src (make fuzz-build)"
		continue
	fi
	if [ ! -d "tests/fuzz/corpus/$target" ]; then
		fail=$((fail + 1)); echo "FAIL $name: no checked-in corpus tests/fuzz/corpus/$target"
		continue
	fi
	rm -rf "$corpus" && cp -r "tests/fuzz/corpus/$target" "$corpus"
	(cd "$OUT" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 timeout $((FUZZ_SECONDS + 60)) \
		"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -max_len=70000 \
		-artifact_prefix="$OUT/fuzz-$target-" "$corpus") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		pass=$((pass + 1)); echo "ok   $name ($runs runs in $FUZZ_SECONDS s)"
	else
		fail=$((fail + 1)); echo "FAIL $name (exit $rc); to replay: $bin $(ls "$OUT/fuzz-$target-"* 2>/dev/null | head -n 1)"
		{ grep -A25 'ERROR\|fuzz_[a-z]*: \|runtime error' "$log" || tail -n 20 "$log"; } | tail -n 40 | sed 's/^/     | /'
	fi
done
}

any() { return 0; }
units "$BUILD" ""
units "$ASAN_BUILD" asan/ env ASAN_OPTIONS="$asan_a" LSAN_OPTIONS="$asan_l" UBSAN_OPTIONS="$asan_u"
fuzzers
scenarios integration "" any ""
scenarios e2e "" any ""
# Again, with whepcamd and whepcam-fcgi from the ASan build.
scenarios integration asan/ asan_scenario "$ASAN_BUILD/whepcamd" env BUILD="$ASAN_BUILD" \
	ASAN_OPTIONS="$asan_a" LSAN_OPTIONS="$asan_l" UBSAN_OPTIONS="$asan_u"

[ "$((pass + fail))" = 0 ] && echo "no test ran${ONLY:+ (ONLY=$ONLY matches nothing)}: that is a failure"
if [ "$skip" != 0 ]; then
	if [ "$ALLOW_SKIP" = 1 ]; then echo "$skip skipped (allowed by ALLOW_SKIP=1)"
	else echo "$skip skipped, counted as failed (ALLOW_SKIP=1 allows skips)"; fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$((pass + fail))" != 0 ]
