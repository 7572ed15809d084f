/* kmm-test: standalone */
/*
 * tests/unit/lib.c - the core's little C library (src/mm/lib.c) against the
 * host's: kmm_vsnprintf byte for byte against glibc snprintf (a table of
 * cases, truncation, and a randomised loop with a fixed seed), the string
 * helpers, kmm_parse_size, kmm_int_sqrt and the kmm_textbuf.
 *
 * Standalone: it needs no booted machine and no harness.  Build alone:
 *   gcc -std=c11 -Wall -Wextra -I src -I include tests/unit/lib.c src/mm/lib.c -lm
 * Linked into the whole library (KMM_HOSTED defined) the platform provides
 * kmm_plat_memset/memcpy; alone, the stubs below do.
 * Prints "N passed, M failed"; exit status 1 when anything failed.
 */
#define _POSIX_C_SOURCE 200809L	/* strnlen */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>

#include "mm/lib.h"

#ifndef KMM_HOSTED
void kmm_plat_memset(void *dst, int c, size_t n) { memset(dst, c, n); }
void kmm_plat_memcpy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
#endif

static unsigned long n_pass, n_fail;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (cond) {                                                 \
			n_pass++;                                           \
		} else {                                                    \
			n_fail++;                                           \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
		}                                                           \
	} while (0)

/* ------------------------------------------------------------------ */
/* kmm_vsnprintf against vsnprintf                                     */
/* ------------------------------------------------------------------ */

/* Format with both at several buffer sizes; compare text and return value. */
static bool cmp_fmt_at(int line, const char *fmt, va_list ap)
{
	static const size_t sizes[] = { 512, 0, 1, 2, 7, 16 };
	bool ok = true;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char want[512], got[512];
		va_list a1, a2;
		int rw, rg;

		memset(want, 'W', sizeof(want));
		memset(got, 'W', sizeof(got));
		va_copy(a1, ap);
		va_copy(a2, ap);
		rw = vsnprintf(sizes[i] ? want : NULL, sizes[i], fmt, a1);
		rg = kmm_vsnprintf(sizes[i] ? got : NULL, sizes[i], fmt, a2);
		va_end(a1);
		va_end(a2);
		if (rw != rg || memcmp(want, got, sizeof(want)) != 0) {
			fprintf(stderr, "FAIL line %d: fmt \"%s\" size %zu: want %d [%.*s] got %d [%.*s]\n",
				line, fmt, sizes[i], rw, (int)(sizes[i] ? strnlen(want, sizes[i]) : 0), want,
				rg, (int)(sizes[i] ? strnlen(got, sizes[i]) : 0), got);
			ok = false;
			break;
		}
	}
	return ok;
}

static void cmp_fmt(int line, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = cmp_fmt_at(line, fmt, ap);
	va_end(ap);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

/* the table: every conversion, flag and length the reports and logs use,
 * plus the corners C leaves to the library */
#define F(...) cmp_fmt(__LINE__, __VA_ARGS__)

static void test_printf_table(void)
{
	int x = 42;
	void *p = &x;
	const char *nul = NULL;

	F("");
	F("plain text");
	F("%%");
	F("100%% done %5%|%-5%|%05%");
	F("%d %d %d %d", 0, 1, -1, 123456);
	F("%d %d", INT_MAX, INT_MIN);
	F("%i|%5i|%-5i|%05i|%+i|% i", -7, -7, -7, -7, 7, 7);
	F("%ld %ld %ld", 0L, LONG_MAX, LONG_MIN);
	F("%lld %lld %llu", LLONG_MAX, LLONG_MIN, ULLONG_MAX);
	F("%u %u %u", 0u, 1u, UINT_MAX);
	F("%lu|%8lu|%6lu|%-8lu|%08lu", 1031432UL, 1031432UL, 0UL, 17UL, 99UL);
	F("%zu %zd %zx", (size_t)12345, (ptrdiff_t)-12345, SIZE_MAX);
	F("%td %tu", (ptrdiff_t)-5, (ptrdiff_t)5);
	F("%hhd %hhu %hhx %hd %hu %hx", 300, 300, -1, 70000, 70000, -1);
	F("%jd %ju", (intmax_t)-1, (uintmax_t)UINTMAX_MAX);
	F("%x %X %#x %#X %08lx %#08lx %#-8x|", 0xbeefu, 0xbeefu, 0xbeefu, 0xbeefu, 0xabcUL, 0xabcUL, 255u);
	F("%lx %lX %#lx", ULONG_MAX, ULONG_MAX, 0UL);
	F("%o %#o %#o %#.0o %.0o %#5o %#05o %#.3o", 8u, 8u, 0u, 0u, 0u, 8u, 8u, 8u);
	F("%.0d|%5.0d|%+.0d|% .0d|%.0x|%#.0x|%.0u", 0, 0, 0, 0, 0u, 0u, 0u);
	F("%.3d|%8.3d|%-8.3d|%08.3d|%.10ld", 5, -5, 5, -5, -123L);
	F("%+d|%+d|% d|% d|%+ d|% +d", 5, -5, 5, -5, 5, 5);
	F("%+u|% u|%+x|% x|%+o", 1u, 1u, 1u, 1u, 1u);
	F("%-08d|%0-8d|%-+8d|", -5, -5, 5);
	F("%*d|%-*d|%*d|%.*d|%.*d|%*.*d", 6, 42, 6, 42, -6, 42, 4, 42, -4, 42, 8, 3, 7);
	F("%c|%3c|%-3c|%03c|%c", 'a', 'b', 'c', 'd', 0xe9);
	F("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|%.0s|", "hello", "hello", "hello", "hello", "hello", "hello", "hello");
	F("%-17s|%17s|%*s|%-*s|%.*s", "kmalloc-64", "kmalloc-64", 8, "ab", 8, "ab", 3, "abcdef");
	F("%05s|%-05s|%s", "ab", "ab", "");
	F("%s|%10s|%-10s|%.3s|%.6s|%.8s", nul, nul, nul, nul, nul, nul);
	F("%p|%20p|%-20p|%020p|%.16p|%+p|% p|%#p", p, p, p, p, p, p, p, p);
	F("%p|%10p|%-10p|%.2p|%010p|%+p", (void *)0, (void *)0, (void *)0, (void *)0, (void *)0, (void *)0);
	F("%p", (void *)UINTPTR_MAX);
	F("%y|%5y|%");
	F("Node %d, zone %8s %6lu %6lu \n", 0, "DMA", 1UL, 3UL);
	F("Node %4d, zone %8s, type %12s ", 1, "Normal", "Reclaimable");
	F("%-43s %6d %6d", "Free pages count per migrate type at order", 0, 1);
	F("%d.%03d %2d.%03d %2d.%03d", 0, 987, -1000 / 1000, -1000 % 1000 < 0 ? 0 : 0, 0, 12);
	F("%-16s%8lu kB", "MemTotal:", 1031432UL);
	F("HugePages_Total:   %5lu", 0UL);
	F("%s: %s", "kmm: double free", "kmalloc-64 object 0x7f3a4c001040");
	F("%5d%-5d%05d", 12, 34, 56);
	F("%.100d", 1);
	F("%300s|", "wide");
}

/* Variadic shims: pass 0, 1 or 2 '*' ints before the value. */
#define DEF_CALL(name, type)                                                              \
	static bool name(int line, const char *fmt, int n, int s0, int s1, type v)        \
	{                                                                                 \
		return n == 0 ? callv(line, fmt, v)                                       \
		       : n == 1 ? callv(line, fmt, s0, v)                                 \
				: callv(line, fmt, s0, s1, v);                            \
	}

static bool callv(int line, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = cmp_fmt_at(line, fmt, ap);
	va_end(ap);
	return ok;
}

DEF_CALL(call_i, int)
DEF_CALL(call_l, long)
DEF_CALL(call_ll, long long)
DEF_CALL(call_s, const char *)
DEF_CALL(call_p, void *)

/* Randomised specs: flags, width and precision (literal or '*'), length
 * and conversion, with values that stress signs and limits. */
static unsigned long long rng = 0x2545F4914F6CDD1DULL;

static unsigned long long rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static long long pick_value(void)
{
	static const long long edge[] = {
		0, 1, -1, 7, -7, 9, 10, 99, 100, 255, 256, -128, 127, 32767, -32768, 65535, 65536,
		INT_MAX, INT_MIN, (long long)UINT_MAX, LLONG_MAX, LLONG_MIN, 0x7f, 0x80, 0xff00ff,
	};
	unsigned long long r = rnd();

	switch (r % 4) {
	case 0: return edge[(r >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	case 1: return (long long)(rnd() % 1000) - 500;
	case 2: return (long long)rnd();
	default: return (long long)(rnd() >> (rnd() % 64));
	}
}

static void test_printf_random(void)
{
	static const char *const strs[] = { "", "a", "hello", "Reclaimable", "kmalloc-8192", "x y z", NULL };
	static const char flagch[] = "-+ #0";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };
	static const char convs[] = "diuxXocsp";
	unsigned long fails_before = n_fail;

	for (int iter = 0; iter < 200000; iter++) {
		char fmt[64];
		size_t k = 0;
		int nstar = 0, stars[2] = { 0, 0 };
		char conv = convs[rnd() % (sizeof(convs) - 1)];
		const char *len = "";

		/* some literal text around the spec */
		if (rnd() % 4 == 0)
			fmt[k++] = '<';
		fmt[k++] = '%';
		for (int i = 0; i < 5; i++)
			if (rnd() % 4 == 0)
				fmt[k++] = flagch[i];
		switch (rnd() % 4) {
		case 0: break;
		case 1: k += (size_t)sprintf(fmt + k, "%d", (int)(rnd() % 30)); break;
		case 2: k += (size_t)sprintf(fmt + k, "%d", 1 + (int)(rnd() % 9)); break;
		default:
			fmt[k++] = '*';
			stars[nstar++] = (int)(rnd() % 41) - 20;
			break;
		}
		switch (rnd() % 4) {
		case 0: case 1: break;
		case 2: k += (size_t)sprintf(fmt + k, ".%d", (int)(rnd() % 25)); break;
		default:
			fmt[k++] = '.';
			fmt[k++] = '*';
			stars[nstar++] = (int)(rnd() % 31) - 5;
			break;
		}
		if (conv != 'c' && conv != 's' && conv != 'p')
			len = lens[rnd() % (sizeof(lens) / sizeof(lens[0]))];
		k += (size_t)sprintf(fmt + k, "%s%c", len, conv);
		if (rnd() % 4 == 0)
			fmt[k++] = '>';
		fmt[k] = '\0';

		long long v = pick_value();
		int line = __LINE__;
		bool ok;

#define RUN(arg)                                                                          \
	do {                                                                              \
		if (nstar == 0)                                                           \
			ok = call3(line, fmt, 0, 0, 0, arg);                              \
		else if (nstar == 1)                                                      \
			ok = call3(line, fmt, 1, stars[0], 0, arg);                       \
		else                                                                      \
			ok = call3(line, fmt, 2, stars[0], stars[1], arg);                \
	} while (0)
		/* the argument's type follows the length modifier */
		if (conv == 's') {
			const char *s = strs[rnd() % (sizeof(strs) / sizeof(strs[0]))];
#define call3 call_s
			RUN(s);
#undef call3
		} else if (conv == 'p') {
			void *pv = (rnd() % 5 == 0) ? NULL : (void *)(uintptr_t)v;
#define call3 call_p
			RUN(pv);
#undef call3
		} else if (conv == 'c') {
#define call3 call_i
			RUN((int)(32 + rnd() % 95));
#undef call3
		} else if (!strcmp(len, "l") || !strcmp(len, "z") || !strcmp(len, "t")) {
#define call3 call_l
			RUN((long)v);
#undef call3
		} else if (!strcmp(len, "ll") || !strcmp(len, "j")) {
#define call3 call_ll
			RUN(v);
#undef call3
		} else {
#define call3 call_i
			RUN((int)v);
#undef call3
		}
#undef RUN
		if (ok) {
			n_pass++;
		} else {
			n_fail++;
			if (n_fail - fails_before > 20) {
				fprintf(stderr, "too many random failures, stopping\n");
				return;
			}
		}
	}
}


/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

static int sgn(int x) { return (x > 0) - (x < 0); }

static void test_strings(void)
{
	static const char *const s[] = { "", "a", "ab", "abc", "abd", "b", "\xff", "a\xff", "kmm: x" };
	char buf[8];

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		CHECK(kmm_strlen(s[i]) == strlen(s[i]), "strlen \"%s\"", s[i]);
		CHECK(kmm_strchr(s[i], 0) == strchr(s[i], 0), "strchr nul");
		CHECK(kmm_strchr(s[i], 'b') == strchr(s[i], 'b'), "strchr b in \"%s\"", s[i]);
		CHECK(kmm_strchr(s[i], 0xff) == strchr(s[i], 0xff), "strchr 0xff in \"%s\"", s[i]);
		for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++) {
			CHECK(sgn(kmm_strcmp(s[i], s[j])) == sgn(strcmp(s[i], s[j])), "strcmp %zu %zu", i, j);
			for (size_t n = 0; n < 4; n++)
				CHECK(sgn(kmm_strncmp(s[i], s[j], n)) == sgn(strncmp(s[i], s[j], n)),
				      "strncmp %zu %zu %zu", i, j, n);
			size_t l = strlen(s[i]) < strlen(s[j]) ? strlen(s[i]) : strlen(s[j]);
			CHECK(sgn(kmm_memcmp(s[i], s[j], l + 1)) == sgn(memcmp(s[i], s[j], l + 1)), "memcmp %zu %zu", i, j);
		}
	}
	CHECK(kmm_memcmp("abc", "abd", 0) == 0, "memcmp 0");

	memset(buf, 'X', sizeof(buf));
	CHECK(kmm_strlcpy(buf, "hello world", sizeof(buf)) == 11, "strlcpy return");
	CHECK(strcmp(buf, "hello w") == 0, "strlcpy truncates: [%s]", buf);
	CHECK(kmm_strlcpy(buf, "hi", sizeof(buf)) == 2 && strcmp(buf, "hi") == 0, "strlcpy short");
	memset(buf, 'X', sizeof(buf));
	CHECK(kmm_strlcpy(buf, "hi", 0) == 2 && buf[0] == 'X', "strlcpy size 0 writes nothing");
	CHECK(kmm_strlcpy(buf, "hi", 1) == 2 && buf[0] == '\0', "strlcpy size 1");
}

/* ------------------------------------------------------------------ */
/* kmm_parse_size                                                      */
/* ------------------------------------------------------------------ */

static void ps(int line, const char *s, bool suffix_ok, bool want_ok, unsigned long want, size_t want_end)
{
	const char *end = NULL;
	unsigned long v = 0xdeadUL;
	bool ok = kmm_parse_size(s, &end, &v, suffix_ok);

	if (ok != want_ok || (ok && (v != want || end != s + want_end))) {
		n_fail++;
		fprintf(stderr, "FAIL line %d: parse_size(\"%s\", %d) = %d %lu end+%td; want %d %lu end+%zu\n",
			line, s, suffix_ok, ok, v, end ? end - s : -1, want_ok, want, want_end);
	} else {
		n_pass++;
	}
}
#define PS(...) ps(__LINE__, __VA_ARGS__)

static void test_parse_size(void)
{
	PS("0", true, true, 0, 1);
	PS("123", true, true, 123, 3);
	PS("123abc", false, true, 123, 3);
	PS("0x10", true, true, 16, 4);
	PS("0X1f", true, true, 31, 4);
	PS("0xABCdef", true, true, 0xabcdef, 8);
	PS("0x", true, true, 0, 1);		/* as strtoul: "0", stop at 'x' */
	PS("0xg", true, true, 0, 1);
	PS("007", true, true, 7, 3);		/* decimal, not octal */
	PS("4K", true, true, 4096, 2);
	PS("4k", true, true, 4096, 2);
	PS("4K", false, true, 4, 1);
	PS("16M,normal", true, true, 16UL << 20, 3);
	PS("16m", true, true, 16UL << 20, 3);
	PS("2G", true, true, 2UL << 30, 2);
	PS("2g ", true, true, 2UL << 30, 2);
	PS("0x10M", true, true, 16UL << 20, 5);
	PS("3X", true, true, 3, 1);
	PS("1KB", true, true, 1024, 2);
	PS("", true, false, 0, 0);
	PS("K", true, false, 0, 0);
	PS("abc", true, false, 0, 0);
	PS("-1", true, false, 0, 0);
	PS(" 1", true, false, 0, 0);
	PS("+1", true, false, 0, 0);
	if (sizeof(long) == 8) {
		PS("1T", true, true, 1UL << 40, 2);
		PS("1t", true, true, 1UL << 40, 2);
		PS("18446744073709551615", true, true, ULONG_MAX, 20);
		PS("18446744073709551616", true, false, 0, 0);
		PS("99999999999999999999999", true, false, 0, 0);
		PS("0xffffffffffffffff", true, true, ULONG_MAX, 18);
		PS("0x10000000000000000", true, false, 0, 0);
		PS("16777215T", true, true, 16777215UL << 40, 9);
		PS("16777216T", true, false, 0, 0);
		PS("17179869183G", true, true, 17179869183UL << 30, 12);
		PS("17179869184G", true, false, 0, 0);
		PS("17592186044415K", true, true, 17592186044415UL << 10, 15);
		PS("18014398509481983K", true, true, 18014398509481983UL << 10, 18);
		PS("18014398509481984K", true, false, 0, 0);
		PS("18014398509481984K", false, true, 18014398509481984UL, 17);
	}
	/* a NULL end pointer is allowed */
	unsigned long v = 0;
	CHECK(kmm_parse_size("5M", NULL, &v, true) && v == 5UL << 20, "parse_size without end");
}

/* ------------------------------------------------------------------ */
/* kmm_int_sqrt                                                        */
/* ------------------------------------------------------------------ */

/* r*r and (r+1)^2 need twice the bits of unsigned long */
#if ULONG_MAX > 0xffffffffUL
__extension__ typedef unsigned __int128 wide_t;
#else
typedef unsigned long long wide_t;
#endif

static bool sqrt_ok(unsigned long x, unsigned long r)
{
	wide_t rr = (wide_t)r * r, r1 = (wide_t)(r + 1) * (r + 1);

	return rr <= x && x < r1;
}

static void test_int_sqrt(void)
{
	unsigned long bad = 0;

	for (unsigned long x = 0; x < (1UL << 22); x++) {
		unsigned long r = kmm_int_sqrt(x);

		if (!sqrt_ok(x, r) || r != (unsigned long)sqrtl((long double)x)) {
			if (bad++ < 5)
				fprintf(stderr, "FAIL int_sqrt(%lu) = %lu\n", x, r);
		}
	}
	CHECK(bad == 0, "int_sqrt exhaustive below 2^22: %lu wrong", bad);

	/* perfect squares and their neighbours up to the top of the range */
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		unsigned long r = (unsigned long)rnd() >> (rnd() % (4 * sizeof(long) + 1));

		if (r > (sizeof(long) == 8 ? 0xffffffffUL : 0xffffUL))
			r = sizeof(long) == 8 ? 0xffffffffUL : 0xffffUL;
		unsigned long sq = r * r;
		unsigned long xs[3] = { sq, sq - 1, sq + 1 };

		for (int k = 0; k < 3; k++) {
			unsigned long x = xs[k];

			if (r == 0 && k == 1)
				continue;
			if (!sqrt_ok(x, kmm_int_sqrt(x)))
				bad++;
		}
	}
	CHECK(bad == 0, "int_sqrt near squares: %lu wrong", bad);

	bad = 0;
	for (int i = 0; i < 1000000; i++) {
		unsigned long x = (unsigned long)rnd() >> (rnd() % 64);

		if (!sqrt_ok(x, kmm_int_sqrt(x)))
			bad++;
	}
	CHECK(bad == 0, "int_sqrt random: %lu wrong", bad);

	CHECK(kmm_int_sqrt(ULONG_MAX) == (sizeof(long) == 8 ? 0xffffffffUL : 0xffffUL), "int_sqrt(ULONG_MAX)");
	CHECK(kmm_int_sqrt(ULONG_MAX - 1) == (sizeof(long) == 8 ? 0xffffffffUL : 0xffffUL), "int_sqrt(ULONG_MAX-1)");
	/* REFERENCE 3.1: min_free_kbytes = int_sqrt(lowmem_kbytes * 16) */
	CHECK(kmm_int_sqrt(16384UL * 16) == 512, "16 MiB -> 512");
	CHECK(kmm_int_sqrt(1048576UL * 16) == 4096, "1 GiB -> 4096");
	CHECK(kmm_int_sqrt(4194304UL * 16) == 8192, "4 GiB -> 8192");
}

/* ------------------------------------------------------------------ */
/* kmm_textbuf                                                         */
/* ------------------------------------------------------------------ */

struct collect {
	char text[16384];
	size_t len;
	int pieces;
	size_t max_piece;
	bool piece_ends_line;	/* every piece ended with '\n' */
};

static void collect_emit(void *ctx, const char *t)
{
	struct collect *c = ctx;
	size_t n = strlen(t);

	if (n == 0 || t[n - 1] != '\n')
		c->piece_ends_line = false;
	if (n > c->max_piece)
		c->max_piece = n;
	if (c->len + n < sizeof(c->text)) {
		memcpy(c->text + c->len, t, n);
		c->len += n;
		c->text[c->len] = '\0';
	}
	c->pieces++;
}

static void test_textbuf(void)
{
	static struct collect c;
	static char want[16384];
	struct kmm_textbuf tb;
	size_t wl = 0;

	memset(&c, 0, sizeof(c));
	c.piece_ends_line = true;
	kmm_tb_init(&tb, collect_emit, &c);
	kmm_tb_flush(&tb);
	CHECK(c.pieces == 0, "flushing an empty buffer emits nothing");

	for (int i = 0; i < 200; i++) {
		kmm_tb_printf(&tb, "Node %d, zone %8s %6lu %6lu\n", i % 2, "Normal", (unsigned long)i * 7, 3UL);
		wl += (size_t)sprintf(want + wl, "Node %d, zone %8s %6lu %6lu\n", i % 2, "Normal", (unsigned long)i * 7, 3UL);
	}
	kmm_tb_flush(&tb);
	CHECK(c.len == wl && strcmp(c.text, want) == 0, "textbuf lines come out in order and whole");
	CHECK(c.piece_ends_line, "every piece is whole lines");
	CHECK(c.max_piece < sizeof(tb.buf), "pieces fit the buffer");
	CHECK(c.pieces > 1, "a long report is emitted in several pieces");

	/* a single piece longer than the buffer still comes out whole */
	memset(&c, 0, sizeof(c));
	c.piece_ends_line = true;
	wl = 0;
	kmm_tb_init(&tb, collect_emit, &c);
	kmm_tb_printf(&tb, "first line\n");
	wl += (size_t)sprintf(want + wl, "first line\n");
	kmm_tb_printf(&tb, "%3000s|%s\n", "wide", "end");
	wl += (size_t)sprintf(want + wl, "%3000s|%s\n", "wide", "end");
	kmm_tb_printf(&tb, "after %d\n", 1);
	wl += (size_t)sprintf(want + wl, "after %d\n", 1);
	kmm_tb_printf(&tb, "%*s\n", 1023, "x");	/* exactly fills: 1024 with the newline */
	wl += (size_t)sprintf(want + wl, "%*s\n", 1023, "x");
	kmm_tb_printf(&tb, "%*s\n", 1022, "y");	/* 1023 bytes: fits an empty buffer */
	wl += (size_t)sprintf(want + wl, "%*s\n", 1022, "y");
	kmm_tb_printf(&tb, "tail\n");
	wl += (size_t)sprintf(want + wl, "tail\n");
	kmm_tb_flush(&tb);
	CHECK(c.len == wl && strcmp(c.text, want) == 0, "oversized pieces come out whole (%zu vs %zu)", c.len, wl);
	CHECK(strncmp(c.text, "first line\n", 11) == 0, "pending text goes before an oversized piece");
}

int main(void)
{
	test_printf_table();
	test_printf_random();
	test_strings();
	test_parse_size();
	test_int_sqrt();
	test_textbuf();
	printf("%lu passed, %lu failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
