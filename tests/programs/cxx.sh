#!/bin/sh
# A C++ program on the malloc shim: containers, strings, every operator
# new / delete form (plain, array, nothrow, sized, aligned), exceptions;
# compiled by g++ on the shim too.  The output must match the same
# program run on glibc's malloc.
. "$(dirname "$0")/lib.sh"
need g++ g++

if phase setup; then
	cat >"$WORK/prog.cc" <<'CXX'
#include <cstdio>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>
struct alignas(64) Line { char b[64]; };
struct alignas(4096) Page { char b[100]; };
int main() {
	unsigned long sum = 0;
	std::unordered_map<std::string, std::vector<int>> m;
	for (int i = 0; i < 100000; i++)
		m[std::to_string(i % 5000)].push_back(i);
	for (auto &kv : m) sum += kv.second.size() * kv.first.size();
	std::map<int, std::string> t;
	for (int i = 0; i < 50000; i++) t[(i * 7919) % 50000] = std::string(i % 100, 'x');
	for (auto &kv : t) sum += kv.second.size();
	for (int i = 0; i < 2000; i++) {
		auto *l = new Line[3];                       // aligned new[]
		if (reinterpret_cast<uintptr_t>(l) % 64) return 2;
		delete[] l;
		auto *p = new Page;                          // aligned new, sized aligned delete
		if (reinterpret_cast<uintptr_t>(p) % 4096) return 3;
		delete p;
		auto *q = new (std::nothrow) int[i + 1];
		if (!q) return 4;
		q[i] = i; sum += q[i];
		delete[] q;
		auto u = std::make_unique<std::string>(i, 'y');
		sum += u->size();
	}
	try {
		std::vector<char> huge;
		huge.reserve(static_cast<size_t>(1) << 62);    // throws std::length_error or bad_alloc
		return 5;
	} catch (const std::exception &) { sum += 1; }
	try {
		void *p = ::operator new(static_cast<size_t>(1) << 50);   // too big: std::bad_alloc
		::operator delete(p);
		return 6;
	} catch (const std::bad_alloc &) { sum += 1; }
	std::printf("ok %lu\n", sum);
	return 0;
}
CXX
fi

if phase run; then
	rm -f "$WORK/prog" "$WORK/out"
	on_kmm g++ -O2 -std=c++17 -o "$WORK/prog" "$WORK/prog.cc"
	on_kmm "$WORK/prog" >"$WORK/out"
fi

if phase verify; then
	want=$("$WORK/prog")
	expect_eq "output" "$(cat "$WORK/out")" "$want"
fi
