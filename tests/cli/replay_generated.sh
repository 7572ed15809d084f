# replay_generated.sh - a generated trace replays on SLAB and on SLOB (side
# by side with --compare), in the binary and the text form, reproducibly.
. "$(dirname "$0")/lib.sh"

m='mem=128M numa=1 zones=normal'
run gen "$kmm" trace-gen --seed 5 --ops 20000 --threads 3 "$dir/t.kmt"
head -c 8 "$dir/t.kmt" | grep -q KMMTRACE || fail "the trace has no KMMTRACE header"
run cmp "$kmm" replay "$dir/t.kmt" --options "$m" --compare "$m slab=slob" --out "$dir/out" --quiet
grep -q '^A: machine "mem=128M numa=1 zones=normal"' "$dir/cmp.out" || fail "no machine A line"
grep -q '^B: machine "mem=128M numa=1 zones=normal slab=slob"' "$dir/cmp.out" || fail "no machine B line"
grep -q '^peak pages in use  *[1-9][0-9]*  *[1-9][0-9]*' "$dir/cmp.out" || fail "no peak pages row"
grep -q '^wasted at peak' "$dir/cmp.out" || fail "no wasted bytes row"
grep -q '^allocation failures  *0  *0 ' "$dir/cmp.out" || fail "allocations failed on a 128M machine"
grep -q '^unusable index, order 3' "$dir/cmp.out" || fail "no fragmentation rows"
for f in replay-A-memory-map.svg replay-A-free-pages.svg replay-B-memory-map.svg replay-B-free-pages.svg; do
	check_svg "$dir/out/$f"
done

# one backend at a time, on the default machine; twice: same numbers
for b in slab slob; do
	run "one_$b" "$kmm" replay "$dir/t.kmt" --options "slab=$b" --no-pictures --quiet
	grep -q '^peak memory: [1-9][0-9]* pages in use' "$dir/one_$b.out" || fail "$b: no peak memory line"
	grep -q '^wasted at peak: [0-9]* bytes' "$dir/one_$b.out" || fail "$b: no wasted bytes line"
	grep -q '^fragmentation over time' "$dir/one_$b.out" || fail "$b: no fragmentation table"
done
run again "$kmm" replay "$dir/t.kmt" --options "slab=slob" --no-pictures --quiet
grep -v -e '^replayed' "$dir/one_slob.out" >"$dir/a.txt"
grep -v -e '^replayed' "$dir/again.out" >"$dir/b.txt"
cmp -s "$dir/a.txt" "$dir/b.txt" || { diff -u "$dir/a.txt" "$dir/b.txt" | head -20 >&2; fail "two replays differ"; }

# the text form replays to the same numbers as the binary form
run dump "$kmm" trace-dump "$dir/t.kmt"
cp "$dir/dump.out" "$dir/t.txt"
grep -q '^[0-9]* [0-9]* malloc 0x' "$dir/t.txt" || fail "trace-dump printed no malloc lines"
run text "$kmm" replay "$dir/t.txt" --options "slab=slob" --no-pictures --quiet
grep '^peak memory' "$dir/one_slob.out" >"$dir/p1"
grep '^peak memory' "$dir/text.out" >"$dir/p2"
cmp -s "$dir/p1" "$dir/p2" || fail "the text form replays differently: $(cat "$dir/p1") / $(cat "$dir/p2")"

# a trace that is not one
printf 'KMMTRACE\001\000\020\000\000\000\000\000\077' >"$dir/bad.kmt"
set +e
"$kmm" replay "$dir/bad.kmt" --no-pictures >/dev/null 2>"$dir/bad.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a malformed trace did not make kmm replay exit 1 (got $rc)"
grep -q 'unknown operation' "$dir/bad.err" || fail "no useful message for a malformed trace"
echo "replay generated: ok"
