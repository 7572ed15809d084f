# report_json.sh - kmm report prints every report as text, and as JSON that
# parses and has the documented structure.
. "$(dirname "$0")/lib.sh"

run text "$kmm" report buddyinfo
grep -q '^Node 0, zone' "$dir/text.out" || fail "kmm report buddyinfo printed no buddyinfo"
run all "$kmm" report
for r in buddyinfo pagetypeinfo zoneinfo meminfo vmstat extfrag slabinfo vmallocinfo; do
	grep -q "^==> $r <==" "$dir/all.out" || fail "kmm report (all) has no $r"
done
grep -q 'report_warmup' "$dir/all.out" || fail "the warm-up's slab cache is not in slabinfo"
run json "$kmm" report --json
run json_slob "$kmm" report --json --options 'slab=slob mem=128M numa=1'
run one "$kmm" report meminfo --json
if [ "$py" != none ]; then
	"$py" - "$dir/json.out" "$dir/json_slob.out" "$dir/one.out" <<'PY' || fail "the JSON is not what docs/tools.md says"
import json, sys
for path in sys.argv[1:3]:
    d = json.load(open(path))
    for name in ("buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat", "extfrag", "slabinfo", "vmallocinfo"):
        assert name in d, (path, name)
    b = d["buddyinfo"]["nodes"]
    assert b and all(len(z["free"]) == 11 for n in b for z in n["zones"]), b
    assert isinstance(d["meminfo"]["MemTotal"], int) and d["meminfo"]["MemTotal"] > 0
    assert isinstance(d["vmstat"]["nr_free_pages"], int)
    caches = d["slabinfo"]["caches"]
    assert any(c["name"] == "report_warmup" and c["active_objs"] >= 200 for c in caches), caches[:3]
    for other in ("zoneinfo", "extfrag", "vmallocinfo", "pagetypeinfo"):
        assert isinstance(d[other]["lines"], list) and all(isinstance(l, str) for l in d[other]["lines"])
    assert len(d["vmallocinfo"]["lines"]) >= 3
one = json.load(open(sys.argv[3]))
assert one["MemFree"] <= one["MemTotal"]
print("report json: ok")
PY
else
	grep -q '"buddyinfo": {"nodes": \[' "$dir/json.out" || fail "no buddyinfo object in the JSON"
	grep -q '"MemTotal": [0-9]' "$dir/json.out" || fail "no MemTotal number in the JSON"
	tail -n 1 "$dir/json.out" | grep -q '^}$' || fail "the JSON does not end with }"
	echo "report json: minimal checks ok (no python3)"
fi
set +e
"$kmm" report nosuch >/dev/null 2>&1
[ $? -eq 2 ] || fail "kmm report nosuch did not exit 2"
exit 0
