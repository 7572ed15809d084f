#!/bin/sh
# fuzz/have-libfuzzer.sh CC - exit 0 when CC can build a libFuzzer target
# (clang with its fuzzer runtime, Debian's libclang-rt-14-dev).  When it
# cannot and we are root with apt-get, try to install the runtime once.
cc=${1:-clang}
try() {
	dir=$(mktemp -d)
	printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$dir/t.c"
	"$cc" -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" >/dev/null 2>&1
	rc=$?
	rm -rf "$dir"
	return $rc
}
command -v "$cc" >/dev/null 2>&1 || {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "fuzz: installing clang (apt-get install -y clang libclang-rt-14-dev)"
		apt-get install -y clang libclang-rt-14-dev >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 &&
			apt-get install -y clang libclang-rt-14-dev >/dev/null 2>&1; }
	fi
	command -v "$cc" >/dev/null 2>&1 || exit 1
}
try && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "fuzz: installing clang's fuzzer runtime (apt-get install -y libclang-rt-14-dev)"
	apt-get install -y libclang-rt-14-dev >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 &&
		apt-get install -y libclang-rt-14-dev >/dev/null 2>&1; }
	try && exit 0
fi
exit 1
