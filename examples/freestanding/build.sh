#!/bin/sh
# build.sh - build the freestanding example: the kmm core (src/mm/*.c) and
# this directory's platform_fixed.c, main.c and libc_min.c, compiled
# -ffreestanding without libc headers and linked -nostdlib -static
# -nostartfiles into one static x86-64 program with its own _start.
# libgcc (the compiler's own helpers, not a C library) is linked for any
# arithmetic helper gcc may call.  The link fails if anything else is
# missing; the undefined symbols are listed first.
#
# usage: build.sh [--cc CC] [--src REPO] [--out DIR] [-- extra cflags]
# (CMake runs it for the kmm-freestanding target; by hand from the repo
#  root: sh examples/freestanding/build.sh --out build/freestanding-example)
set -eu

cc=cc src=. out=build/freestanding-example
while [ $# -gt 0 ]; do
	case "$1" in
	--cc) cc=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

case "$(uname -m)" in
x86_64|amd64) ;;
*) echo "build.sh: the freestanding example is x86-64 only (raw system calls, _start)" >&2; exit 2 ;;
esac

ex="$src/examples/freestanding"
set -- "$@" -std=c11 -O2 -g -ffreestanding -fno-builtin-malloc -fno-tree-loop-distribute-patterns \
	-fno-strict-aliasing -fno-stack-protector -fno-asynchronous-unwind-tables -fno-pie \
	-fcf-protection=none -nostdinc -isystem "$("$cc" -print-file-name=include)" -D_LIBC_LIMITS_H_ \
	-DKMM_FREESTANDING -DKMM_DEBUG=1 -I"$src/include" -I"$src/src" -I"$ex" \
	-Wall -Wextra -Wno-unused-parameter

mkdir -p "$out/obj"
rm -f "$out"/obj/*.o
for f in "$src"/src/mm/*.c "$ex"/platform_fixed.c "$ex"/main.c "$ex"/libc_min.c; do
	o="$out/obj/$(basename "$f" .c).o"
	"$cc" "$@" -c "$f" -o "$o"
done

# one relocatable object first, to list what the program needs from outside
objs=$(ls "$out"/obj/*.o)
# shellcheck disable=SC2086
"$cc" -r -nostdlib -o "$out/program.o" $objs
undef=$("${NM:-nm}" -u "$out/program.o" | awk '{ print $NF }' | sort -u | tr '\n' ' ')
echo "build.sh: undefined before libgcc: ${undef:-none}"
# shellcheck disable=SC2086
"$cc" -nostdlib -static -nostartfiles -no-pie -Wl,-e,_start -o "$out/kmm-freestanding" $objs -lgcc
echo "build.sh: $out/kmm-freestanding"
