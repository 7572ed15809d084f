#!/bin/sh
# fuzz/run.sh - run the libFuzzer targets (issue 6 part 3).
#
#   sh fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Builds nothing: `make fuzz` / `make fuzz-smoke` configure BUILD_DIR with
# clang and KMM_FUZZ=ON first.  Each target runs SECONDS from its working
# corpus BUILD_DIR/fuzz-corpus/<target>, seeded from fuzz/corpus/<target>
# (the committed seeds; new inputs stay in the build directory).  Crashes
# are written to BUILD_DIR/fuzz-artifacts/.  Prints one summary line per
# target - executions, exec/s, coverage (libFuzzer's cov: and ft:), corpus
# size - and exits 1 if any target found a crash.
set -u
build=$1
secs=$2
shift 2
targets=${*:-"fuzz_ops_slab fuzz_ops_slob fuzz_bootline"}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz-artifacts"
status=0
summary=""
for t in $targets; do
	bin="$build/fuzz/$t"
	[ -x "$bin" ] || { echo "fuzz: $bin was not built"; exit 1; }
	work="$build/fuzz-corpus/$t"
	mkdir -p "$work"
	log="$build/fuzz-$t.log"
	echo "fuzz: $t for ${secs}s (log $log)"
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
		-artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "$src/corpus/$t" >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	line=$(printf '%-14s %6ss %10s execs %7s exec/s  cov %5s  ft %6s  corpus %5s' "$t" "$secs" "${execs:-?}" \
		"${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
	if [ $rc -ne 0 ]; then
		status=1
		line="$line  FAILED (rc $rc)"
		grep -E 'ERROR|fuzz_ops:|fuzz_bootline:|SUMMARY|Test unit written' "$log" | head -8
	fi
	summary="$summary$line
"
done
echo
echo "fuzz summary:"
printf '%s' "$summary"
exit $status
