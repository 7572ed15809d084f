# freestanding.sh - the freestanding example (no libc, own _start) runs,
# prints buddyinfo through write(2), and exits 0.
set -u
bin=$1
out=$("$bin")
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: $bin exited with status $rc"; exit 1; }
echo "$out" | grep -q '^Node 0, zone' || { echo "FAIL: no 'Node 0, zone' line"; exit 1; }
echo "$out" | grep -q 'all checks passed' || { echo "FAIL: a check failed"; exit 1; }
