# tests/programs/lib.sh - shared by the real-program tests (sourced).
#
# Every tests/programs/NAME.sh is run by CTest as
#     sh NAME.sh /path/to/libkmm-malloc.so WORKDIR [PHASE]
# PHASE: all (the default: setup, run, verify), or one of setup, run,
# verify - the benchmark (bench/programs.sh) runs setup once, then times
# "run" under each allocator (KMM_BENCH_PRELOAD=the library to preload, ""
# for glibc) and checks every run with "verify".  A script uses:
#   phase P            true when phase P is to run now
#   need CMD PACKAGE   make CMD available: when missing and we are root,
#                      apt-get install PACKAGE (one quiet, time-boxed
#                      apt-get update per day, shared by parallel tests);
#                      otherwise print "SKIPPED: ..." and exit 77.
#   skip REASON        print "SKIPPED: REASON" and exit 77 (CTest: skipped).
#   fail MSG           print "FAILED: MSG" and exit 1.
#   on_kmm CMD...      run CMD with the shim preloaded and KMM_STATS set to a
#                      file prefix: a run without any process's exit report
#                      (one that silently bypassed kmm) fails, and so does
#                      one whose stderr has a "kmm: " report line.
#   expect_eq WHAT GOT WANT
# The bench (bench/programs.sh) runs the same workloads to time them.
set -eu

SHIM=${1:?usage: $0 /path/to/libkmm-malloc.so WORKDIR [all|setup|run|verify]}
WORK=${2:?usage: $0 /path/to/libkmm-malloc.so WORKDIR [all|setup|run|verify]}
PHASE=${3:-all}
[ -f "$SHIM" ] || { echo "FAILED: no shim at $SHIM"; exit 1; }
SHIM=$(cd "$(dirname "$SHIM")" && pwd)/$(basename "$SHIM")
case $PHASE in
all | setup) rm -rf "$WORK"; mkdir -p "$WORK" ;;
run | verify) [ -d "$WORK" ] || { echo "FAILED: $WORK: run the setup phase first"; exit 1; } ;;
*) echo "FAILED: unknown phase $PHASE"; exit 1 ;;
esac
WORK=$(cd "$WORK" && pwd)
NAME=$(basename "$0" .sh)

phase() { [ "$PHASE" = all ] || [ "$PHASE" = "$1" ]; }

skip() { echo "SKIPPED: $NAME: $*"; exit 77; }
fail() { echo "FAILED: $NAME: $*"; exit 1; }

# apt-get update at most once a day, one at a time (flock), time-boxed.
apt_update_once() {
	stamp=/tmp/kmm-programs-apt-updated
	if [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	if command -v flock >/dev/null 2>&1; then
		flock /tmp/kmm-programs-apt.lock sh -c "
			[ -n \"\$(find '$stamp' -mmin -1440 2>/dev/null)\" ] && exit 0
			timeout 180 apt-get update -qq >/dev/null 2>&1 && touch '$stamp'" || true
	else
		timeout 180 apt-get update -qq >/dev/null 2>&1 && touch "$stamp" || true
	fi
}

apt_install() {
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
	echo "$NAME: installing $* (apt-get)"
	if command -v flock >/dev/null 2>&1; then
		flock /tmp/kmm-programs-apt.lock timeout 300 env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
		apt_update_once
		flock /tmp/kmm-programs-apt.lock timeout 300 env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq "$@" >/dev/null 2>&1
	else
		timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
		apt_update_once
		timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
	fi
}

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	apt_install "$2" || true
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed and package $2 could not be installed (not root, no apt-get, or no network)"
}

STATS_N=0
on_kmm() {
	if [ -n "${KMM_BENCH_PRELOAD+set}" ]; then
		env LD_PRELOAD="$KMM_BENCH_PRELOAD" "$@"
		return
	fi
	STATS_N=$((STATS_N + 1))
	err="$WORK/stderr.$STATS_N"
	# each process writes its exit report to its own file (KMM_STATS with
	# a path), so the programs' own stderr stays theirs
	rm -rf "$WORK/kmmstats.$STATS_N"
	mkdir -p "$WORK/kmmstats.$STATS_N"
	rc=0
	env LD_PRELOAD="$SHIM" KMM_STATS="$WORK/kmmstats.$STATS_N/report" "$@" 2>"$err" || rc=$?
	if ! cat "$WORK/kmmstats.$STATS_N"/report.* 2>/dev/null | grep -q '^kmm-malloc: statistics at exit'; then
		echo "--- stderr of: $*"
		tail -20 "$err"
		fail "the program did not run on the shim (no KMM_STATS report at exit): $*"
	fi
	if grep -q '^kmm: ' "$err"; then
		echo "--- kmm reported, running: $*"
		grep '^kmm: ' "$err" | head -20
		fail "kmm reported misuse or an error"
	fi
	cat "$err" >&2
	return $rc
}

expect_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
	fi
	echo "ok: $1 = $3"
}
