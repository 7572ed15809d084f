#!/bin/sh
# run.sh - run every benchmark and write one results table (markdown).
#
#   bench/run.sh [BUILD_DIR] [bench options...]     (make bench runs it)
#
# BUILD_DIR (default build-bench) holds the programs in BUILD_DIR/bench/.
# Options after it go to page_bench and slab_bench (--quick, --ms N,
# --runs N, --threads N, --boot LINE, --pin, -v; --quick reaches
# malloc_bench too).  Environment:
#   MALLOC_BENCH=0|micro   skip the malloc comparison / only its micro part
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

# The malloc shim against the peers (malloc_bench --compare): micro
# workloads and the real programs of tests/programs.  MALLOC_BENCH=0 skips
# it, MALLOC_BENCH=micro leaves the programs out; MALLOC_BENCH_ARGS adds
# options (--runs N, --ms N, --only sqlite3,gcc).  Missing peers are
# installed with apt-get when we are root (Debian: libjemalloc-dev,
# libgoogle-perftools-dev, libmimalloc-dev); a peer still missing is left
# out of the table, with a note.
MALLOC_BENCH=${MALLOC_BENCH:-1}
SHIM_LIB=$BUILD/libkmm-malloc.so
if [ "$MALLOC_BENCH" != 0 ] && [ -x "$BUILD/bench/malloc_bench" ] && [ -f "$SHIM_LIB" ]; then
	missing=""
	for p in libjemalloc.so.2:libjemalloc-dev libtcmalloc_minimal.so.4:libgoogle-perftools-dev \
		 libmimalloc.so.2:libmimalloc-dev; do
		ls /usr/lib/*/"${p%%:*}" /usr/lib/"${p%%:*}" >/dev/null 2>&1 || missing="$missing ${p#*:}"
	done
	if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "run.sh: installing the malloc peers:$missing" >&2
		timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
			{ timeout 180 apt-get update -qq >/dev/null 2>&1;
			  timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1; } ||
			echo "run.sh: could not install$missing; those peers are left out" >&2
	fi
	margs=""
	case " $* " in *" --quick "*) margs="--quick" ;; esac
	[ "$MALLOC_BENCH" = micro ] || margs="$margs --programs $HERE/../tests/programs --workdir $BUILD/malloc-bench-work"
	echo "run.sh: malloc_bench --compare $margs ${MALLOC_BENCH_ARGS:-}" >&2
	# shellcheck disable=SC2086
	"$BUILD/bench/malloc_bench" --compare --shim "$SHIM_LIB" $margs ${MALLOC_BENCH_ARGS:-} >>"$tmp"
elif [ "$MALLOC_BENCH" != 0 ]; then
	printf '## malloc shim vs the peers\n\nskipped: %s/bench/malloc_bench or %s is not built.\n\n' "$BUILD" "$SHIM_LIB" >>"$tmp"
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
