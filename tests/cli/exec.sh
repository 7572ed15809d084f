# exec.sh - kmm exec runs a program on the malloc shim, or, while the shim
# is not built, says so clearly and exits 2.
. "$(dirname "$0")/lib.sh"

set +e
"$kmm" exec >/dev/null 2>&1
[ $? -eq 2 ] || fail "kmm exec without a command did not exit 2"
set -e
if shim=$(find_shim); then
	run ok "$kmm" exec -- sh -c 'exit 0'
	set +e
	"$kmm" exec -- sh -c 'exit 3' >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 3 ] || fail "kmm exec did not pass the command's exit status on (got $rc)"
	run stats "$kmm" exec --stats -- sh -c 'echo hello'
	grep -q hello "$dir/stats.out" || fail "the command's output is lost"
	grep -q 'MemTotal' "$dir/stats.err" || fail "--stats printed no meminfo on stderr (KMM_STATS=1)"
	echo "exec: ok with $shim"
else
	set +e
	KMM_MALLOC_LIB= "$kmm" exec -- sh -c 'exit 0' >/dev/null 2>"$dir/missing.err"
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "kmm exec without a shim exited $rc (expected 2)"
	grep -q 'libkmm-malloc.so was not found' "$dir/missing.err" || fail "no clear message about the missing shim"
	echo "exec: the shim is not built yet; kmm exec says so and exits 2 (checked)"
fi
