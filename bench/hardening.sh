#!/bin/sh
# bench/hardening.sh - what the hardening options cost (issue 6 part 4):
# instructions per alloc+free pair counted by callgrind (exact, repeatable)
# and median timings, for slab_bench's steady-state cases on machines booted
# with each option against the default.
#
#   sh bench/hardening.sh [BUILD_DIR] [ITERS]     (default build-bench, 100000)
#
# Variants (added to the bench's default boot line): the default
# (slab_random=on), slab_random=off, init_on_alloc=1, init_on_free=1,
# lockdep=on.  SLOB's encoded free-block headers cannot be switched off at
# run time; BENCH_NOENC_DIR, when set, names a second build directory made
# from a tree whose slob_key() returns 0, for that A/B (bench/RESULTS.md
# says how it was made).  Prints markdown tables.
set -eu
BUILD=${1:-build-bench}
ITERS=${2:-100000}
BIN=$BUILD/bench/slab_bench
BASE="mem=1G numa=1 cpus=4"
[ -x "$BIN" ] || { echo "hardening.sh: $BIN not built (make bench first)" >&2; exit 1; }
command -v valgrind >/dev/null 2>&1 || { echo "hardening.sh: valgrind not found; skipped" >&2; exit 0; }

ir_per_pair() {	# BIN BOOT CASE
	out=$(mktemp)
	if [ "$("$1" --has-client-requests)" = 1 ]; then mode="--instr-atstart=no"; else mode="--toggle-collect=bench_measured_loop"; fi
	log=$(valgrind --tool=callgrind $mode --callgrind-out-file="$out" "$1" --boot "$2" --callgrind-case "$3" \
		--iters "$ITERS" 2>&1) || { echo "?"; rm -f "$out"; return; }
	units=$(echo "$log" | sed -n 's/^case .* units \([0-9]*\).*/\1/p' | tail -1)
	ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | tail -1)
	[ -n "$ir" ] || ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out" | tail -1)
	rm -f "$out"
	awk -v a="$ir" -v b="$units" 'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "?" }'
}

cases="cache32-slab cache256-slab kmalloc-slab cache256-slob kmalloc-slob"
variants="default slab_random=off init_on_alloc=1 init_on_free=1 lockdep=on"

echo "Instructions per alloc+free pair (callgrind, $ITERS pairs after a warm-up):"
echo
printf '| case |'; for v in $variants; do printf ' %s |' "$v"; done; echo
printf '|---|'; for v in $variants; do printf -- '---:|'; done; echo
for c in $cases; do
	printf '| %s |' "$c"
	for v in $variants; do
		boot=$BASE
		[ "$v" = default ] || boot="$BASE $v"
		printf ' %s |' "$(ir_per_pair "$BIN" "$boot" "$c")"
	done
	echo
done
if [ -n "${BENCH_NOENC_DIR:-}" ] && [ -x "$BENCH_NOENC_DIR/bench/slab_bench" ]; then
	echo
	echo "SLOB's encoded free-block headers (instructions per pair):"
	echo
	echo "| case | encoded (default) | plain (slob_key = 0) |"
	echo "|---|---:|---:|"
	for c in cache32-slob cache256-slob kmalloc-slob; do
		echo "| $c | $(ir_per_pair "$BIN" "$BASE" "$c") | $(ir_per_pair "$BENCH_NOENC_DIR/bench/slab_bench" "$BASE" "$c") |"
	done
fi
