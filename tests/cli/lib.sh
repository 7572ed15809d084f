# lib.sh - helpers for the shell-driven CLI tests (sourced).
# Every test script is run as: sh SCRIPT KMM_BINARY SCRATCH_DIR PYTHON3|none
# and exits 0 (pass), 1 (fail) or 77 (skipped, with a message).
set -eu
kmm=$1
dir=$2
py=${3:-none}
rm -rf "$dir"
mkdir -p "$dir"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIPPED: $*"
	exit 77
}

# run a command, keeping its stdout and stderr in $dir/NAME.out / .err
run() {
	name=$1
	shift
	set +e
	"$@" >"$dir/$name.out" 2>"$dir/$name.err"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		echo "--- stderr of $name:" >&2
		tail -20 "$dir/$name.err" >&2
		fail "$name: '$*' exited with status $rc"
	fi
}

# an SVG file we wrote: present, begins with <svg, ends with </svg>, < 2 MB,
# and well-formed XML where a checker exists
check_svg() {
	f=$1
	[ -s "$f" ] || fail "$f is missing or empty"
	head -c 4 "$f" | grep -q '^<svg' || fail "$f does not start with <svg"
	tail -n 1 "$f" | grep -q '</svg>' || fail "$f does not end with </svg>"
	size=$(wc -c <"$f")
	[ "$size" -lt 2000000 ] || fail "$f is $size bytes (limit 2 MB)"
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$f" || fail "$f is not well-formed XML"
	elif [ "$py" != none ]; then
		"$py" -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$f" ||
			fail "$f is not well-formed XML"
	fi
}

# where the malloc shim would be, next to the kmm binary (build tree or install)
find_shim() {
	if [ -n "${KMM_MALLOC_LIB:-}" ] && [ -r "$KMM_MALLOC_LIB" ]; then
		echo "$KMM_MALLOC_LIB"
		return 0
	fi
	bindir=$(dirname "$kmm")
	for f in "$bindir/../lib/libkmm-malloc.so" "$bindir/libkmm-malloc.so" "$bindir/src/shim/libkmm-malloc.so" \
		 "$bindir/lib/libkmm-malloc.so"; do
		if [ -r "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}
