#!/bin/sh
# redis-server and redis-benchmark on the malloc shim.
#
# Debian's redis-server links libjemalloc.so.2 and calls malloc, calloc,
# realloc, free and malloc_usable_size by their plain names (plus
# mallctl / nallocx / malloc_stats_print for its INFO and MEMORY
# commands).  LD_PRELOAD puts the shim first in the symbol lookup order, so
# the plain names bind to the shim, not to jemalloc: every block redis
# allocates is kmm's (the KMM_STATS report at the server's exit proves
# it).  jemalloc stays loaded and answers only the mallctl family, about
# its own (idle) arenas, so INFO's allocator figures are jemalloc's view,
# not the shim's.
. "$(dirname "$0")/lib.sh"
need redis-server redis-server
need redis-benchmark redis-tools
need redis-cli redis-tools

PORT=$((20000 + $$ % 20000))

if phase run; then
	rm -f "$WORK/server.rc"
	(
		rc=0
		on_kmm redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize no --dir "$WORK" --logfile "$WORK/server.log" || rc=$?
		echo $rc >"$WORK/server.rc"
	) &
	up=0
	for i in $(seq 1 100); do
		if redis-cli -p $PORT ping >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ $up = 1 ] || { cat "$WORK/server.log" 2>/dev/null | tail -20; fail "redis-server did not start"; }
	on_kmm redis-benchmark -p $PORT -q -n 20000 -c 20 -P 8 -r 10000 -d 64 \
		-t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100 >"$WORK/bench.out"
	on_kmm redis-cli -p $PORT set kmm:check "value-of-the-shim" >/dev/null
	on_kmm redis-cli -p $PORT get kmm:check >"$WORK/get.out"
	on_kmm redis-cli -p $PORT rpush kmm:list a b c d e >/dev/null
	on_kmm redis-cli -p $PORT lrange kmm:list 0 -1 >"$WORK/list.out"
	on_kmm redis-cli -p $PORT debug reload >/dev/null 2>&1 || true
	on_kmm redis-cli -p $PORT dbsize >"$WORK/dbsize.out"
	redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true
	wait
fi

if phase verify; then
	expect_eq "server exit status" "$(cat "$WORK/server.rc")" 0
	expect_eq "GET" "$(cat "$WORK/get.out")" "value-of-the-shim"
	expect_eq "LRANGE" "$(tr '\n' ' ' <"$WORK/list.out")" "a b c d e "
	n=$(grep -c 'requests per second' "$WORK/bench.out" || true)
	[ "$n" -ge 10 ] || { cat "$WORK/bench.out"; fail "redis-benchmark reported $n tests, want 11"; }
	echo "ok: redis-benchmark ran $n tests"
	keys=$(cat "$WORK/dbsize.out")
	[ "$keys" -gt 1000 ] || fail "DBSIZE $keys after the benchmark"
	echo "ok: DBSIZE $keys"
fi
