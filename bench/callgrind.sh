#!/bin/sh
# callgrind.sh - instructions per pair (repeatable, unlike timings) for the
# page_bench and slab_bench cases, counted by valgrind --tool=callgrind.
#
#   bench/callgrind.sh [-b BUILD_DIR] [-o OUT_DIR] [-n ITERS] [CASE...]
#
# Each case runs once under callgrind: the bench boots the case's machine,
# warms up uninstrumented, then runs ITERS iterations with instrumentation
# on (CALLGRIND_START/STOP_INSTRUMENTATION from <valgrind/callgrind.h>, or,
# when the bench was built without that header, --toggle-collect on
# bench_measured_loop).  The instruction count (Ir) of that loop divided by
# the units the bench reports (pairs, or pages for batch cases) is printed
# as a markdown table on stdout.  OUT_DIR (default BUILD_DIR/callgrind)
# keeps every callgrind.out.CASE and CASE.top.txt: the 25 costliest
# functions (self cost), for profiling.
#
# Default cases: every page_bench case of the issue's goals, and the
# slab_bench cases when slab_bench was built.
set -eu

BUILD=build-bench
OUT=
ITERS=100000
while [ $# -gt 0 ]; do
	case "$1" in
	-b) BUILD=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	-n) ITERS=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$OUT" ] || OUT=$BUILD/callgrind

if ! command -v valgrind >/dev/null 2>&1; then
	echo "callgrind.sh: valgrind not found (Debian: apt-get install valgrind); skipped" >&2
	exit 0
fi
PAGE=$BUILD/bench/page_bench
SLAB=$BUILD/bench/slab_bench
[ -x "$PAGE" ] || { echo "callgrind.sh: $PAGE not built" >&2; exit 1; }

if [ $# -eq 0 ]; then
	set -- page:baseline page:baseline-call \
		page:order0-pcp page:order0-nopcp page:order0-modern \
		page:order1-pcp page:order1-modern \
		page:order3-pcp page:order3-nopcp page:order3-modern \
		page:order10-nopcp \
		page:batch-pcp page:batch-nopcp page:batch-modern
	if [ -x "$SLAB" ]; then
		set -- "$@" slab:baseline \
			slab:cache32-slab slab:cache256-slab slab:cache1024-slab \
			slab:cache32-slob slab:cache256-slob slab:cache1024-slob \
			slab:kmalloc-slab slab:kmalloc-slob
	fi
fi

mkdir -p "$OUT"
echo "| case | iterations | instructions | per pair |"
echo "|---|---:|---:|---:|"
for spec in "$@"; do
	case "$spec" in
	page:*) bin=$PAGE; c=${spec#page:} ;;
	slab:*) bin=$SLAB; c=${spec#slab:} ;;
	*) bin=$PAGE; c=$spec ;;
	esac
	if [ ! -x "$bin" ]; then
		echo "callgrind.sh: $bin not built; $spec skipped" >&2
		continue
	fi
	tag=$(basename "$bin" _bench)-$c
	file=$OUT/callgrind.out.$tag
	rm -f "$file"
	if [ "$("$bin" --has-client-requests)" = 1 ]; then
		mode="--instr-atstart=no"
	else
		mode="--toggle-collect=bench_measured_loop"
	fi
	# --dump-instr=yes keeps per-instruction costs for callgrind_annotate
	if ! log=$(valgrind --tool=callgrind $mode --dump-instr=yes --callgrind-out-file="$file" \
		"$bin" --callgrind-case "$c" --iters "$ITERS" 2>&1); then
		echo "callgrind.sh: $spec failed:" >&2
		echo "$log" | tail -20 >&2
		continue
	fi
	units=$(echo "$log" | sed -n 's/^case .* units \([0-9]*\).*/\1/p' | tail -1)
	ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$file" | tail -1)
	[ -n "$ir" ] || ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$file" | tail -1)
	if [ -z "$units" ] || [ -z "$ir" ]; then
		echo "callgrind.sh: $spec: no count (units='$units' Ir='$ir')" >&2
		continue
	fi
	per=$(awk -v a="$ir" -v b="$units" 'BEGIN { printf "%.1f", a / b }')
	echo "| $tag | $units | $ir | $per |"
	if command -v callgrind_annotate >/dev/null 2>&1; then
		callgrind_annotate --inclusive=no "$file" 2>/dev/null | head -45 >"$OUT/$tag.top.txt" || true
	fi
done
