#!/bin/sh
# freestanding-check.sh - prove the core (src/mm/*.c) needs no libc.
#
# Compiles every src/mm/*.c with -ffreestanding, without the C library's
# headers (-nostdinc: only the compiler's own stddef.h, stdint.h, stdbool.h,
# stdarg.h, limits.h are reachable), without -DKMM_HOSTED and with
# -DKMM_FREESTANDING; links the objects into one relocatable object
# (cc -r -nostdlib) and lists its undefined symbols with nm -u.  Every one
# must start with kmm_plat_ (platform.h); the others are printed and the
# check fails.  Builtins stay on, but -fno-tree-loop-distribute-patterns
# keeps gcc from turning loops into memset/memcpy calls.
#
# usage: freestanding-check.sh --cc CC --nm NM --src SRCDIR --out OUTDIR [-- extra cflags]
set -eu

cc=cc nm=nm src=. out=freestanding
while [ $# -gt 0 ]; do
	case "$1" in
	--cc) cc=$2; shift 2 ;;
	--nm) nm=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "freestanding-check: unknown argument $1" >&2; exit 2 ;;
	esac
done

set -- "$@" -std=c11 -O2 -ffreestanding -fno-tree-loop-distribute-patterns \
	-fno-strict-aliasing -fno-stack-protector -fno-asynchronous-unwind-tables \
	-nostdinc -isystem "$("$cc" -print-file-name=include)" -D_LIBC_LIMITS_H_ \
	-DKMM_FREESTANDING -I"$src/include" -I"$src/src" -Wall -Wextra -Wno-unused-parameter

rm -rf "$out"
mkdir -p "$out"
objs=""
n=0
for f in "$src"/src/mm/*.c; do
	[ -e "$f" ] || continue
	o="$out/$(basename "$f" .c).o"
	echo "freestanding-check: $cc -c $(basename "$f")"
	"$cc" "$@" -c "$f" -o "$o"
	objs="$objs $o"
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "freestanding-check: no core sources in $src/src/mm: nothing to check"
	exit 0
fi

# shellcheck disable=SC2086
"$cc" -r -nostdlib -o "$out/kmm-core.o" $objs
"$nm" -u "$out/kmm-core.o" | awk '{ print $NF }' | sort -u > "$out/undefined.txt"
# _GLOBAL_OFFSET_TABLE_ is made by the linker for position-independent
# code, not a library dependency.
grep -v -e '^kmm_plat_' -e '^_GLOBAL_OFFSET_TABLE_$' "$out/undefined.txt" > "$out/bad.txt" || true
if [ -s "$out/bad.txt" ]; then
	echo "freestanding-check: FAILED: the core needs symbols the platform layer does not provide:"
	sed 's/^/  /' "$out/bad.txt"
	echo "(every undefined symbol of the core must be a kmm_plat_* hook of src/platform/platform.h)"
	exit 1
fi
echo "freestanding-check: OK: $n core files, undefined symbols: $(tr '\n' ' ' < "$out/undefined.txt")"
