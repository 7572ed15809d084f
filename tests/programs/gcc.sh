#!/bin/sh
# gcc on the malloc shim: compile a generated C file (many functions, a
# large initialised table) with -O2, run the program, compare its output
# with the value the generator computed.
. "$(dirname "$0")/lib.sh"
need gcc gcc
N=1500

if phase setup; then
	awk -v n=$N 'BEGIN {
		print "#include <stdio.h>"
		print "static const unsigned tab[] = {"
		for (i = 0; i < 20000; i++) printf "%d,%s", (i * 2654435761) % 1000003, (i % 16 == 15) ? "\n" : ""
		print "};"
		for (i = 0; i < n; i++) {
			printf "static unsigned long f%d(unsigned long x) {\n", i
			printf "\tunsigned long s = %d;\n\tfor (unsigned k = 0; k < %d; k++) {\n", i, 3 + i % 5
			printf "\t\tswitch ((x + k) %% 4) { case 0: s += x * %d + k; break; case 1: s ^= x << %d; break;\n", i % 13 + 1, i % 7
			printf "\t\tcase 2: s += tab[(x + k + %d) %% 20000]; break; default: s = s * 3 + %d; }\n\t}\n", i, i
			printf "\treturn s %% 1000003;\n}\n"
		}
		print "int main(void) {\n\tunsigned long total = 0;"
		for (i = 0; i < n; i++) printf "\ttotal = (total + f%d(%d)) %% 1000000007;\n", i, i
		print "\tprintf(\"%lu\\n\", total);\n\treturn 0;\n}"
	}' >"$WORK/gen.c"
	# the expected output: the same program compiled without the shim, at -O0
	gcc -O0 -o "$WORK/ref" "$WORK/gen.c"
	"$WORK/ref" >"$WORK/want"
fi

if phase run; then
	rm -f "$WORK/prog"
	on_kmm gcc -O2 -o "$WORK/prog" "$WORK/gen.c"
fi

if phase verify; then
	expect_eq "program output" "$("$WORK/prog")" "$(cat "$WORK/want")"
fi
