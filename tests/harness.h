/*
 * harness.h - the tiny test harness: one test binary = one .c file.
 *
 *   #include "harness.h"
 *   TEST(buddy_splits) { assert_eq(kmm_boot("mem=64M numa=1"), 0); ...; kmm_shutdown(); }
 *   TEST_MAIN()
 *
 * TEST(name) registers name() (in file order).  expect_*() records a failure
 * and goes on; assert_*() records it and ends the test (from helpers too; in
 * a thread other than the test's own it aborts the binary).  skip_test(why)
 * ends a test as skipped.  Arguments to the binary select tests whose name
 * contains one of them.  The last line is "N passed, M failed[, K skipped]";
 * the exit status is 1 when any test failed.  kt_seed() gives a PRNG seed
 * (KMM_TEST_SEED or the clock), printed once, so a failing run can be
 * repeated.  Checks are thread-safe.  Put the test's own setup (kmm_boot
 * with its command line) inside each TEST: tests must not depend on order.
 */
#ifndef KMM_TEST_HARNESS_H
#define KMM_TEST_HARNESS_H

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KT_MAX_TESTS 256

static struct {
	const char *name[KT_MAX_TESTS];
	void (*fn[KT_MAX_TESTS])(void);
	int n;
	int cur_failed, cur_skipped;	/* atomic */
	jmp_buf jmp;
	pthread_t test_thread;
	unsigned long seed, seeded;
} kt;

static inline void kt_register(const char *name, void (*fn)(void))
{
	if (kt.n == KT_MAX_TESTS)
		fprintf(stderr, "harness: more than %d tests\n", KT_MAX_TESTS), exit(2);
	kt.name[kt.n] = name;
	kt.fn[kt.n++] = fn;
}

/* Constructor priorities follow __COUNTER__, so tests run in file order. */
#define KT_REG(name, prio) __attribute__((constructor(prio))) static void kt_reg_##name(void) { kt_register(#name, name); }
#define TEST(name) static void name(void); KT_REG(name, 1000 + __COUNTER__) static void name(void)

/* Record a failure; fatal ones leave the test (or the binary, off-thread). */
__attribute__((format(printf, 4, 5))) static inline int kt_fail(int fatal, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, msg);
	__atomic_store_n(&kt.cur_failed, 1, __ATOMIC_RELAXED);
	if (fatal && !pthread_equal(pthread_self(), kt.test_thread))
		fprintf(stderr, "  assertion failed off the test thread: aborting\n"), abort();
	if (fatal)
		longjmp(kt.jmp, 1);
	return 0;
}

#define KT_CHECK(fatal, cond, ...) ((cond) ? 1 : kt_fail((fatal), __FILE__, __LINE__, __VA_ARGS__))
#define KT_CMP(fatal, a, op, b) do { intmax_t kt_a_ = (intmax_t)(a), kt_b_ = (intmax_t)(b); \
	KT_CHECK(fatal, kt_a_ op kt_b_, "%s %s %s (%jd vs %jd)", #a, #op, #b, kt_a_, kt_b_); } while (0)
#define KT_STR(fatal, a, b) do { const char *kt_a_ = (a), *kt_b_ = (b);                         \
	KT_CHECK(fatal, kt_a_ && kt_b_ && strcmp(kt_a_, kt_b_) == 0, "%s == %s (\"%s\" vs \"%s\")", \
		 #a, #b, kt_a_ ? kt_a_ : "(null)", kt_b_ ? kt_b_ : "(null)"); } while (0)

#define expect_true(c)      ((void)KT_CHECK(0, (c), "%s", #c))
#define expect_false(c)     ((void)KT_CHECK(0, !(c), "!(%s)", #c))
#define expect_null(p)      ((void)KT_CHECK(0, (p) == NULL, "%s == NULL (%p)", #p, (void *)(p)))
#define expect_nonnull(p)   ((void)KT_CHECK(0, (p) != NULL, "%s != NULL", #p))
#define expect_eq(a, b)     KT_CMP(0, a, ==, b)
#define expect_ne(a, b)     KT_CMP(0, a, !=, b)
#define expect_lt(a, b)     KT_CMP(0, a, <, b)
#define expect_le(a, b)     KT_CMP(0, a, <=, b)
#define expect_gt(a, b)     KT_CMP(0, a, >, b)
#define expect_ge(a, b)     KT_CMP(0, a, >=, b)
#define expect_str_eq(a, b) KT_STR(0, a, b)
#define assert_true(c)      ((void)KT_CHECK(1, (c), "%s", #c))
#define assert_false(c)     ((void)KT_CHECK(1, !(c), "!(%s)", #c))
#define assert_null(p)      ((void)KT_CHECK(1, (p) == NULL, "%s == NULL (%p)", #p, (void *)(p)))
#define assert_nonnull(p)   ((void)KT_CHECK(1, (p) != NULL, "%s != NULL", #p))
#define assert_eq(a, b)     KT_CMP(1, a, ==, b)
#define assert_ne(a, b)     KT_CMP(1, a, !=, b)
#define assert_lt(a, b)     KT_CMP(1, a, <, b)
#define assert_le(a, b)     KT_CMP(1, a, <=, b)
#define assert_gt(a, b)     KT_CMP(1, a, >, b)
#define assert_ge(a, b)     KT_CMP(1, a, >=, b)
#define assert_str_eq(a, b) KT_STR(1, a, b)
#define skip_test(why) do { printf("  SKIP %s\n", (why)); kt.cur_skipped = 1; longjmp(kt.jmp, 1); } while (0)

static inline unsigned long kt_seed(void)
{
	const char *e = getenv("KMM_TEST_SEED");

	if (!kt.seeded++)
		kt.seed = e ? strtoul(e, NULL, 0) : (unsigned long)time(NULL), printf("seed: KMM_TEST_SEED=%lu\n", kt.seed);
	return kt.seed;
}

/* setjmp in a frame of its own: nothing here lives across the longjmp */
static inline void kt_run_one(int i)
{
	if (setjmp(kt.jmp) == 0)
		kt.fn[i]();
}

static inline int kt_run(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kt.test_thread = pthread_self();
	for (int i = 0; i < kt.n; i++) {
		int selected = argc < 2;
		for (int a = 1; a < argc; a++)
			selected |= strstr(kt.name[i], argv[a]) != NULL;
		if (!selected)
			continue;
		kt.cur_failed = kt.cur_skipped = 0;
		printf("== %s\n", kt.name[i]);
		kt_run_one(i);
		if (kt.cur_skipped && !kt.cur_failed)
			skipped++;
		else if (kt.cur_failed)
			failed++, printf("FAILED %s\n", kt.name[i]);
		else
			passed++;
	}
	printf(skipped ? "%d passed, %d failed, %d skipped\n" : "%d passed, %d failed\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

#define TEST_MAIN() int main(int argc, char **argv) { return kt_run(argc, argv); }

#endif /* KMM_TEST_HARNESS_H */
