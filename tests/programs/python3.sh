#!/bin/sh
# python3 on the malloc shim: a slice of CPython's own test suite
# (python3 -m test), or, where the interpreter has no test package and
# it cannot be installed (Debian: libpython3.X-testsuite), a workload whose
# results are checked.
. "$(dirname "$0")/lib.sh"
need python3 python3
TESTS="test_list test_dict test_set test_deque test_heapq test_bisect test_json test_re test_collections test_string"

has_suite() { python3 -c 'import test.test_list, test.test_dict, test.test_json' >/dev/null 2>&1; }

if phase setup; then
	if ! has_suite; then
		ver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
		apt_install "libpython$ver-testsuite" || true
	fi
	cat >"$WORK/work.py" <<'PY'
import json, collections, heapq, random
random.seed(7)
d = {i: str(i) * (i % 7 + 1) for i in range(200000)}
s = sum(len(v) for v in d.values())
lst = sorted(random.random() for _ in range(200000))
assert all(lst[i] <= lst[i + 1] for i in range(len(lst) - 1))
h = list(range(100000, 0, -1)); heapq.heapify(h)
first = [heapq.heappop(h) for _ in range(10)]
c = collections.Counter(x % 97 for x in range(300000))
blob = json.dumps({str(k): v for k, v in list(d.items())[:50000]})
back = json.loads(blob)
print(s, first == list(range(1, 11)), c[0], len(back))
PY
fi

if phase run; then
	if has_suite; then
		on_kmm python3 -m test -q $TESTS >"$WORK/out" 2>&1 || true
	else
		echo "python3 has no test suite here: running the workload instead" >"$WORK/mode"
		on_kmm python3 "$WORK/work.py" >"$WORK/out"
	fi
fi

if phase verify; then
	if [ -f "$WORK/mode" ]; then
		cat "$WORK/mode"
		want=$(awk 'BEGIN { s = 0; for (i = 0; i < 200000; i++) s += length(i "") * (i % 7 + 1); printf "%d True %d 50000\n", s, int((300000 + 96) / 97) }')
		expect_eq "workload figures" "$(cat "$WORK/out")" "$want"
	else
		if ! grep -q '^Result: SUCCESS' "$WORK/out"; then
			tail -30 "$WORK/out"
			fail "python3 -m test $TESTS did not succeed"
		fi
		echo "ok: python3 -m test $TESTS: $(grep '^Total tests' "$WORK/out")"
	fi
fi
