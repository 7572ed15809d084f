# demo_pictures.sh - a multi-threaded demo (and one on a small SLOB machine)
# writes the memory map and the free-pages chart, and prints their paths.
. "$(dirname "$0")/lib.sh"

run threads "$kmm" demo --threads 3 --seconds 1 --seed 3 --out "$dir/a"
check_svg "$dir/a/memory-map.svg"
check_svg "$dir/a/free-pages.svg"
grep -q "$dir/a/memory-map.svg" "$dir/threads.out" || fail "the demo did not print the map's path"
grep -q "$dir/a/free-pages.svg" "$dir/threads.out" || fail "the demo did not print the chart's path"
grep -q 'kmm demo:.*round' "$dir/threads.err" || fail "no progress line on stderr"
grep -q 'Node 1' "$dir/a/memory-map.svg" || fail "the map does not label node 1"
grep -q 'HighMem' "$dir/a/memory-map.svg" || fail "the map does not label the HighMem zone"

run small "$kmm" demo --options 'mem=64M numa=2 zones=dma:16M,normal slab=slob cpus=2' --threads 2 \
	--seconds 0.5 --out "$dir/b" --quiet
check_svg "$dir/b/memory-map.svg"
check_svg "$dir/b/free-pages.svg"
grep -q 'SLOB' "$dir/small.out" || fail "the small machine was not booted with SLOB"

# bad arguments are usage errors (status 2)
set +e
"$kmm" demo --threads 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "kmm demo --threads 0 did not exit 2"
"$kmm" demo --options 'mem=banana' --seconds 0.1 --quiet --out "$dir/c" >/dev/null 2>&1
[ $? -eq 1 ] || fail "kmm demo with a bad boot option did not exit 1"
echo "demo pictures: ok"
