#!/bin/sh
# sqlite3 on the malloc shim: bulk inserts, an index, deletes, updates,
# VACUUM, then PRAGMA integrity_check == ok and the aggregates recomputed
# independently (awk).
. "$(dirname "$0")/lib.sh"
need sqlite3 sqlite3
N=150000

if phase setup; then
	cat >"$WORK/load.sql" <<SQL
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-65536;
BEGIN;
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER, pad TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $N)
INSERT INTO t SELECT x, printf('key%08d', (x * 7919) % $N), x % 1000,
	substr(printf('%x%x%x%x', x * 2654435761, x * 40503, x * 97, x), 1, 10 + x % 50) FROM c;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v, pad);
COMMIT;
BEGIN;
DELETE FROM t WHERE id % 3 = 0;
UPDATE t SET pad = pad || pad WHERE id % 7 = 1;
COMMIT;
VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(v), sum(length(pad)) > 0 FROM t;
SELECT count(*) FROM t WHERE k LIKE 'key0001%';
SQL
fi

if phase run; then
	rm -f "$WORK/db" "$WORK/out"
	on_kmm sqlite3 -batch "$WORK/db" <"$WORK/load.sql" >"$WORK/out"
fi

if phase verify; then
	want_agg=$(awk -v n=$N 'BEGIN { c = 0; s = 0; for (x = 1; x <= n; x++) if (x % 3) { c++; s += x % 1000 } printf "%d|%d|1\n", c, s }')
	# the output ends with the integrity check and the two SELECTs
	got_check=$(tail -3 "$WORK/out" | sed -n 1p)
	got_agg=$(tail -3 "$WORK/out" | sed -n 2p)
	expect_eq "PRAGMA integrity_check" "$got_check" ok
	expect_eq "count, sum" "$got_agg" "$want_agg"
	expect_eq "index lookups" "$(tail -1 "$WORK/out" | grep -c '^[1-9][0-9]*$')" 1
fi
