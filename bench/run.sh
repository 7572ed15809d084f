#!/bin/sh
# run.sh - run every benchmark and write one results table (markdown).
#
#   bench/run.sh [BUILD_DIR] [bench options...]     (make bench runs it)
#
# BUILD_DIR (default build-bench) holds the programs in BUILD_DIR/bench/.
# Options after it go to page_bench and slab_bench (--quick, --ms N,
# --runs N, --threads N, --boot LINE, --pin, -v).  Environment:
#   CALLGRIND=0        skip the instruction counts (bench/callgrind.sh)
#   CALLGRIND_ITERS=N  iterations per callgrind case (default 100000)
#   RESULTS=FILE       where the table goes (default BUILD_DIR/results.md)
# Progress goes to stderr; the table to RESULTS, and its path is printed.
set -eu

BUILD=${1:-build-bench}
[ $# -gt 0 ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=${RESULTS:-$BUILD/results.md}
CALLGRIND=${CALLGRIND:-1}
CALLGRIND_ITERS=${CALLGRIND_ITERS:-100000}

[ -x "$BUILD/bench/page_bench" ] || { echo "run.sh: $BUILD/bench/page_bench not built (make bench)" >&2; exit 1; }

tmp=$RESULTS.tmp
{
	echo "# kmm benchmark results"
	echo
	echo "- host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
	echo "- compiler: $(${CC:-cc} --version 2>/dev/null | head -1); build: $BUILD (Release, benches -O2)"
	echo "- commit: $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo unknown)"
	echo "- options: ${*:-(defaults)}"
	echo
} >"$tmp"

echo "run.sh: page_bench $*" >&2
"$BUILD/bench/page_bench" "$@" >>"$tmp"

if [ -x "$BUILD/bench/slab_bench" ]; then
	echo "run.sh: slab_bench $*" >&2
	"$BUILD/bench/slab_bench" "$@" >>"$tmp"
else
	echo "run.sh: slab_bench not built (the slab layer is missing); skipped" >&2
	printf '## slab_bench\n\nnot built: the slab layer (src/mm/slab_common.c, kmalloc.c, slab.c, slob.c) is missing.\n\n' >>"$tmp"
fi

if [ "$CALLGRIND" != 0 ]; then
	if command -v valgrind >/dev/null 2>&1; then
		echo "run.sh: bench/callgrind.sh (instructions per pair)" >&2
		{
			echo "## instructions per pair (valgrind --tool=callgrind, $CALLGRIND_ITERS iterations after warm-up)"
			echo
			sh "$HERE/callgrind.sh" -b "$BUILD" -n "$CALLGRIND_ITERS"
			echo
			echo "Per-function costs of each case: $BUILD/callgrind/*.top.txt"
			echo
		} >>"$tmp"
	else
		printf '## instructions per pair\n\nskipped: valgrind is not installed (Debian: apt-get install valgrind).\n\n' >>"$tmp"
	fi
fi

echo "- load average at the end (/proc/loadavg): $(cat /proc/loadavg 2>/dev/null)" >>"$tmp"
mv "$tmp" "$RESULTS"
echo "run.sh: results in $RESULTS" >&2
