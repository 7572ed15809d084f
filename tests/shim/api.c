/*
 * tests/shim/api.c - the malloc shim's contract (src/shim/malloc.c), run
 * against libkmm-malloc.so twice: preloaded (LD_PRELOAD) and linked.
 *
 * glibc's errno and alignment rules, the size ranges (kmalloc classes,
 * buddy blocks, vmalloc), realloc in every direction, the C++ operators by
 * their ABI names, threads that exit, cross-thread frees, RSS after large
 * frees, fork while other threads allocate, and the misuse reports
 * (MISUSE.md 38), each misuse in a child process whose stderr is read.
 * The program never links kmm: it sees the shim only through malloc.
 */
/* kmm-test: threaded */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* the C++ operators, by their Itanium ABI names, looked up at run time
 * (the shim's when it is preloaded or linked; this C program has no
 * libstdc++) */
static void *(*_Znwm)(size_t);
static void *(*_Znam)(size_t);
static void (*_ZdlPv)(void *);
static void (*_ZdaPv)(void *);
static void (*_ZdlPvm)(void *, size_t);
static void *(*_ZnwmSt11align_val_t)(size_t, size_t);
static void (*_ZdlPvmSt11align_val_t)(void *, size_t, size_t);
static void *(*_ZnwmRKSt9nothrow_t)(size_t, const void *);

static int find_operators(void)
{
#define SYM(name) (*(void **)&name = dlsym(RTLD_DEFAULT, #name)) != NULL
	return SYM(_Znwm) && SYM(_Znam) && SYM(_ZdlPv) && SYM(_ZdaPv) && SYM(_ZdlPvm) &&
	       SYM(_ZnwmSt11align_val_t) && SYM(_ZdlPvmSt11align_val_t) && SYM(_ZnwmRKSt9nothrow_t);
#undef SYM
}

/* Is the shim serving malloc?  Its blocks carry the kmm reports; a quick
 * probe: KMM_STATS-free check that malloc_trim is the shim's (returns 1). */
static int shim_active(void)
{
	return malloc_trim(0) == 1;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static long rss_kb(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *s = strstr(buf, "VmRSS:");
	return s ? strtol(s + 6, NULL, 10) : -1;
}

TEST(preloaded_or_linked)
{
	if (!shim_active())
		skip_test("malloc is not the shim's (run with LD_PRELOAD=libkmm-malloc.so)");
}

TEST(malloc_zero_and_alignment)
{
	void *a = malloc(0), *b = malloc(0);
	assert_nonnull(a);
	assert_nonnull(b);
	expect_ne((uintptr_t)a, (uintptr_t)b);
	expect_ne((uintptr_t)a, 16);	/* never ZERO_SIZE_PTR */
	expect_eq((uintptr_t)a & 15, 0);
	memset(a, 1, malloc_usable_size(a));
	free(a);
	free(b);
	for (size_t n = 1; n < 20000; n += (n < 300 ? 1 : 37)) {
		unsigned char *p = malloc(n);
		assert_nonnull(p);
		if ((uintptr_t)p & 15)
			expect_eq((uintptr_t)p & 15, 0);
		expect_ge(malloc_usable_size(p), n);
		fill(p, n, (unsigned)n);
		expect_true(check(p, n, (unsigned)n));
		free(p);
	}
	expect_eq(malloc_usable_size(NULL), 0);
}

/* The fine size classes (malloc.c): at most 25 % slack above 128 bytes, 16
 * bytes below, where the fast paths serve (no sanitizer annotations), and
 * sized delete accepts every size of a fine class. */
TEST(fine_size_classes)
{
	if (!shim_active())
		skip_test("malloc is not the shim's");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip_test("sanitizer builds serve kmalloc's classes only");
#endif
	if (getenv("KMM_OPTIONS") && strstr(getenv("KMM_OPTIONS"), "slab_debug"))
		skip_test("slab_debug: kmalloc's classes only");
	int found = find_operators();
	for (size_t n = 17; n <= 8192; n += 13) {
		void *p = malloc(n);
		assert_nonnull(p);
		size_t u = malloc_usable_size(p);
		expect_ge(u, n);
		if (n <= 128)
			expect_lt(u, n + 16);
		else if (u > n + n / 4 + 16)
			expect_le(u, n + n / 4 + 16);
		free(p);
		if (found) {	/* sized delete of the same size: no "size mismatch" */
			p = _Znwm(n);
			_ZdlPvm(p, n);
		}
	}
}

TEST(sizes_up_to_huge)
{
	size_t sizes[] = { 8192, 8193, 65536, 1 << 20, (4 << 20) - 1, 4 << 20, (4 << 20) + 1, 12 << 20, 64 << 20 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);
		assert_nonnull(p);
		expect_eq((uintptr_t)p & 15, 0);
		expect_ge(malloc_usable_size(p), sizes[i]);
		fill(p, sizes[i], i);
		expect_true(check(p, sizes[i], i));
		free(p);
	}
	errno = 0;
	expect_null(malloc(SIZE_MAX));
	expect_eq(errno, ENOMEM);
	errno = 0;
	expect_null(malloc((size_t)1 << 50));
	expect_eq(errno, ENOMEM);
}

TEST(calloc_zero_and_overflow)
{
	size_t sizes[] = { 1, 24, 200, 4000, 8192, 20000, 1 << 20, 5 << 20 };
	for (int round = 0; round < 2; round++)
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			unsigned char *p = malloc(sizes[i]);
			assert_nonnull(p);
			memset(p, 0xa5, sizes[i]);	/* dirty it, so reuse is visible */
			free(p);
			p = calloc(1, sizes[i]);
			assert_nonnull(p);
			size_t bad = 0;
			for (size_t j = 0; j < sizes[i]; j++)
				bad += p[j] != 0;
			expect_eq(bad, 0);
			free(p);
		}
	errno = 0;
	expect_null(calloc(SIZE_MAX / 2, 3));
	expect_eq(errno, ENOMEM);
	void *z = calloc(0, 10);
	expect_nonnull(z);
	free(z);
}

TEST(realloc_rules)
{
	/* realloc(NULL, n) is malloc */
	unsigned char *p = realloc(NULL, 100);
	assert_nonnull(p);
	fill(p, 100, 3);
	/* grow through every range, contents kept */
	size_t steps[] = { 100, 300, 5000, 9000, 100000, 3 << 20, 6 << 20, 20 << 20, 70000, 200, 10 };
	size_t have = 100;
	for (unsigned i = 1; i < sizeof(steps) / sizeof(steps[0]); i++) {
		unsigned char *q = realloc(p, steps[i]);
		assert_nonnull(q);
		size_t keep = have < steps[i] ? have : steps[i];
		expect_true(check(q, keep, 3));
		fill(q, steps[i], 3);
		p = q;
		have = steps[i];
		expect_eq((uintptr_t)p & 15, 0);
	}
	/* glibc: realloc(p, 0) frees p and returns NULL */
	expect_null(realloc(p, 0));
	/* reallocarray: overflow leaves p alone */
	p = malloc(64);
	fill(p, 64, 9);
	errno = 0;
	expect_null(reallocarray(p, SIZE_MAX / 4, 8));
	expect_eq(errno, ENOMEM);
	expect_true(check(p, 64, 9));
	unsigned char *q = reallocarray(p, 10, 100);
	assert_nonnull(q);
	expect_true(check(q, 64, 9));
	free(q);
}

TEST(aligned_family)
{
	void *p = (void *)1;
	/* posix_memalign: EINVAL, output untouched */
	size_t bad[] = { 0, 1, 3, 4, 12, 24, 48 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_eq(posix_memalign(&p, bad[i], 10), EINVAL);
		expect_eq((uintptr_t)p, 1);
	}
	expect_eq(posix_memalign(&p, 64, SIZE_MAX / 2), ENOMEM);
	expect_eq((uintptr_t)p, 1);
	for (size_t al = sizeof(void *); al <= (16UL << 20); al <<= 1) {
		size_t sizes[] = { 1, al - 1, al + 1, 3 * al };
		for (unsigned i = 0; i < 4; i++) {
			if (sizes[i] > (64UL << 20))
				continue;
			assert_eq(posix_memalign(&p, al, sizes[i]), 0);
			expect_eq((uintptr_t)p & (al - 1), 0);
			expect_ge(malloc_usable_size(p), sizes[i]);
			memset(p, 0x5a, sizes[i]);
			free(p);
		}
	}
	/* aligned_alloc: a power of two, else EINVAL */
	errno = 0;
	expect_null(aligned_alloc(3, 10));
	expect_eq(errno, EINVAL);
	errno = 0;
	expect_null(aligned_alloc(0, 10));
	expect_eq(errno, EINVAL);
	p = aligned_alloc(256, 1000);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & 255, 0);
	free(p);
	/* memalign: not a power of two is rounded up (glibc), huge is EINVAL */
	p = memalign(24, 100);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & 31, 0);
	free(p);
	p = memalign(4, 100);	/* below 16: malloc's alignment */
	assert_nonnull(p);
	expect_eq((uintptr_t)p & 15, 0);
	free(p);
	errno = 0;
	expect_null(memalign(SIZE_MAX / 2 + 2, 1));
	expect_eq(errno, EINVAL);
	/* valloc, pvalloc */
	long page = sysconf(_SC_PAGESIZE);
	p = valloc(10);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & (uintptr_t)(page - 1), 0);
	free(p);
	p = pvalloc(page + 1);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & (uintptr_t)(page - 1), 0);
	expect_ge(malloc_usable_size(p), (size_t)(2 * page));
	free(p);
	errno = 0;
	expect_null(pvalloc(SIZE_MAX - 10));
	expect_eq(errno, ENOMEM);
}

TEST(cxx_operators)
{
	if (!find_operators())
		skip_test("the C++ operators are not the shim's");
	void *p = _Znwm(40);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & 15, 0);
	_ZdlPvm(p, 40);		/* sized delete, right size */
	p = _Znam(0);
	assert_nonnull(p);
	_ZdaPv(p);
	p = _ZnwmSt11align_val_t(100, 4096);
	assert_nonnull(p);
	expect_eq((uintptr_t)p & 4095, 0);
	_ZdlPvmSt11align_val_t(p, 100, 4096);
	p = _ZnwmRKSt9nothrow_t(1000, NULL);
	assert_nonnull(p);
	_ZdlPv(p);
	for (size_t n = 1; n < 70000; n = n * 3 + 1) {
		p = _Znwm(n);
		assert_nonnull(p);
		_ZdlPvm(p, n);
	}
}

/* ---- threads ---- */

#define RING 1024
static void *ring[RING];
static volatile unsigned long ring_head, ring_tail;

static void *producer(void *arg)
{
	unsigned long n = (unsigned long)arg;
	for (unsigned long i = 0; i < n; i++) {
		size_t sz = 16 + (i * 37) % 1000;
		unsigned char *p = malloc(sz);
		if (!p)
			abort();
		p[0] = (unsigned char)i;
		p[sz - 1] = (unsigned char)i;
		while (ring_head - __atomic_load_n(&ring_tail, __ATOMIC_ACQUIRE) >= RING)
			sched_yield();
		ring[ring_head % RING] = p;
		__atomic_store_n(&ring_head, ring_head + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

TEST(cross_thread_frees)
{
	unsigned long n = 200000, got = 0, bad = 0;
	pthread_t t;
	assert_eq(pthread_create(&t, NULL, producer, (void *)n), 0);
	while (got < n) {
		if (ring_tail == __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE)) {
			sched_yield();
			continue;
		}
		unsigned char *p = ring[ring_tail % RING];
		size_t sz = 16 + (got * 37) % 1000;
		bad += p[0] != (unsigned char)got || p[sz - 1] != (unsigned char)got;
		free(p);
		__atomic_store_n(&ring_tail, ring_tail + 1, __ATOMIC_RELEASE);
		got++;
	}
	pthread_join(t, NULL);
	expect_eq(bad, 0);
}

static void *short_lived(void *arg)
{
	void *keep[64];
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(16 + (size_t)i * 8);
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return arg;
}

TEST(many_short_threads)
{
	/* 1000 threads, more than the shim's CPU slots: each exiting thread
	 * gives its slot (and what it cached) back */
	for (int round = 0; round < 10; round++) {
		pthread_t t[100];
		for (int i = 0; i < 100; i++)
			assert_eq(pthread_create(&t[i], NULL, short_lived, NULL), 0);
		for (int i = 0; i < 100; i++)
			pthread_join(t[i], NULL);
	}
}

TEST(rss_falls_after_large_frees)
{
	enum { N = 64 };
	void *blocks[N];
	long before = rss_kb();
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(4 << 20);
		assert_nonnull(blocks[i]);
		memset(blocks[i], 1, 4 << 20);
	}
	long peak = rss_kb();
	for (int i = 0; i < N; i++)
		free(blocks[i]);
	long after = rss_kb();
	printf("  RSS: %ld kB before, %ld kB with 256 MiB live, %ld kB after free\n", before, peak, after);
	expect_ge(peak - before, 200 * 1024);
	/* the buddy allocator keeps a bounded budget of free memory backed and
	 * gives the rest back */
	expect_lt(after - before, 96 * 1024);
}

/* ---- fork while other threads allocate ---- */

static volatile int stop_alloc;

static void *allocator(void *arg)
{
	unsigned long i = (unsigned long)arg;
	void *keep[32] = { 0 };
	while (!stop_alloc) {
		unsigned k = (unsigned)(i++ % 32);
		free(keep[k]);
		keep[k] = malloc(16 + (i * 131) % (i % 64 == 0 ? 200000 : 2000));
	}
	for (int k = 0; k < 32; k++)
		free(keep[k]);
	return NULL;
}

TEST(fork_while_allocating)
{
	pthread_t t[3];
	stop_alloc = 0;
	for (unsigned long i = 0; i < 3; i++)
		assert_eq(pthread_create(&t[i], NULL, allocator, (void *)(i * 1000)), 0);
	int failed = 0;
	for (int i = 0; i < 100; i++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* the child allocates at once, then execs */
			for (int j = 0; j < 1000; j++) {
				char *p = malloc(16 + (size_t)j * 5);
				if (!p)
					_exit(3);
				p[0] = 1;
				free(p);
			}
			char *big = malloc(1 << 20);
			if (!big)
				_exit(4);
			free(big);
			if (i % 10 == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(5);
			}
			_exit(0);
		}
		int st;
		assert_eq(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	stop_alloc = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	expect_eq(failed, 0);
}

/* ---- misuse, in child processes ---- */

/* Run this binary again with SHIM_CHILD=mode and KMM_OPTIONS=opts; return
 * its exit status (wait status) and its stderr in err. */
static int run_child(const char *mode, const char *opts, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe(pfd))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		setenv("SHIM_CHILD", mode, 1);
		if (opts)
			setenv("KMM_OPTIONS", opts, 1);
		else
			unsetenv("KMM_OPTIONS");
		execl("/proc/self/exe", "shim-child", (char *)NULL);
		_exit(99);
	}
	close(pfd[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < errlen && (n = read(pfd[0], err + len, errlen - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = 0;
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return st;
}

/* A thread that frees its block and exits: its per-thread cache goes back
 * to the core at exit (the block with it). */
static void *free_and_exit(void *arg)
{
	void *p = malloc(40);
	free(p);
	*(void **)arg = p;
	return NULL;
}

static int child_main(const char *mode)
{
	char stack[32];
	if (!strcmp(mode, "invalid_free")) {
		free(stack + 8);
	} else if (!strcmp(mode, "double_free")) {
		void *p = malloc(40);
		free(p);
		free(p);
	} else if (!strcmp(mode, "late_double_free")) {
		void *p = malloc(40), *q[100];
		free(p);
		for (int i = 0; i < 100; i++)
			q[i] = malloc(40 + (size_t)i);
		free(p);
		for (int i = 0; i < 100; i++)
			free(q[i]);
	} else if (!strcmp(mode, "flushed_double_free")) {
		/* freed into this thread's cache, which malloc_trim gives back
		 * to the core (the block marked as there); neighbours stay live
		 * so the slab does */
		void *keep[64], *p;
		for (int i = 0; i < 32; i++)
			keep[i] = malloc(40);
		p = malloc(40);
		for (int i = 32; i < 64; i++)
			keep[i] = malloc(40);
		free(p);
		malloc_trim(0);
		free(p);
		for (int i = 0; i < 64; i++)
			free(keep[i]);
	} else if (!strcmp(mode, "exited_double_free")) {
		/* freed by a thread that exited since: back in the core */
		void *keep[64], *p = NULL;
		pthread_t t;
		for (int i = 0; i < 64; i++)
			keep[i] = malloc(40);
		if (pthread_create(&t, NULL, free_and_exit, &p) || pthread_join(t, NULL))
			return 3;
		free(p);
		for (int i = 0; i < 64; i++)
			free(keep[i]);
	} else if (!strcmp(mode, "sized_double_free")) {
		/* the sized fast path checks the same things */
		if (!find_operators())
			return 97;
		void *p = _Znwm(40);
		_ZdlPvm(p, 40);
		_ZdlPvm(p, 40);
	} else if (!strcmp(mode, "sized_flushed_double_free")) {
		if (!find_operators())
			return 97;
		void *keep = _Znwm(40), *p = _Znwm(40);
		_ZdlPvm(p, 40);
		malloc_trim(0);
		_ZdlPvm(p, 40);
		_ZdlPvm(keep, 40);
	} else if (!strcmp(mode, "large_double_free")) {
		void *p = malloc(1 << 20);	/* kept in the large-block cache when freed */
		free(p);
		free(p);
	} else if (!strcmp(mode, "evicted_double_free")) {
		void *p = malloc(1 << 20), *q[16];
		free(p);
		for (int i = 0; i < 16; i++)	/* 64 MiB of newer frees evict p */
			q[i] = malloc(4 << 20);
		for (int i = 0; i < 16; i++)
			free(q[i]);
		free(p);
	} else if (!strcmp(mode, "freelist_corrupt")) {
		void **p = malloc(40);
		free(p);
		p[0] = (void *)0x1234;	/* write after free over the per-thread list link */
		void *q = malloc(40);
		free(q);
	} else if (!strcmp(mode, "trim_corrupt")) {
		/* writes after free over the link of every freed object: the
		 * batch that makes room in the full list (tc_trim) walks into
		 * the first one */
		static void *v[1024];
		for (int i = 0; i < 1024; i++)
			v[i] = malloc(40);
		for (int i = 0; i < 1024; i++) {
			free(v[i]);
			((void **)v[i])[0] = (void *)0x1234;
		}
	} else if (!strcmp(mode, "interior_free")) {
		char *p = malloc(64);
		free(p + 16);
	} else if (!strcmp(mode, "invalid_realloc")) {
		void *r = realloc(stack + 8, 100);
		if (r)
			return 2;
	} else if (!strcmp(mode, "size_mismatch")) {
		if (!find_operators())
			return 97;
		void *p = _Znwm(40);
		_ZdlPvm(p, 400);
	} else if (!strcmp(mode, "usable_invalid")) {
		(void)malloc_usable_size(stack + 8);
	} else if (!strcmp(mode, "redzone")) {
		char *p = malloc(24);
		size_t n = 24;
		__asm__("" : "+r"(n));	/* hide the overflow from the compiler */
		p[n] = 'x';	/* one byte past the request */
		free(p);
	} else if (!strcmp(mode, "stats")) {
		void *p = malloc(100);
		free(p);
	} else {
		return 98;
	}
	return 0;
}

__attribute__((constructor(200))) static void maybe_child(void)
{
	const char *mode = getenv("SHIM_CHILD");
	if (mode)
		exit(child_main(mode));
}

static void expect_report(const char *mode, const char *category)
{
	char err[8192], want[128];
	snprintf(want, sizeof(want), "kmm: %s:", category);
	/* default policy: report, then abort */
	int st = run_child(mode, NULL, err, sizeof(err));
	expect_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	if (!strstr(err, want))
		printf("  %s: stderr was: %s\n", mode, err);
	expect_true(strstr(err, want) != NULL);
	/* on_error=report: the report, and the program goes on */
	st = run_child(mode, "on_error=report", err, sizeof(err));
	expect_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_true(strstr(err, want) != NULL);
}

TEST(misuse_reports)
{
	expect_report("invalid_free", "invalid free");
	expect_report("double_free", "double free");
	expect_report("late_double_free", "double free");
	expect_report("flushed_double_free", "double free");
	expect_report("exited_double_free", "double free");
	expect_report("sized_double_free", "double free");
	expect_report("sized_flushed_double_free", "double free");
	expect_report("large_double_free", "double free");
	expect_report("evicted_double_free", "double free");
	expect_report("interior_free", "interior pointer");
	expect_report("freelist_corrupt", "freelist corrupt");
	expect_report("trim_corrupt", "freelist corrupt");
	expect_report("invalid_realloc", "invalid realloc");
	expect_report("size_mismatch", "size mismatch");
	expect_report("usable_invalid", "invalid free");
}

TEST(slab_debug_redzone)
{
	char err[8192];
	int st = run_child("redzone", "slab_debug=FZP on_error=report", err, sizeof(err));
	expect_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!strstr(err, "kmm: redzone overwritten:"))
		printf("  stderr was: %s\n", err);
	expect_true(strstr(err, "kmm: redzone overwritten:") != NULL);
}

TEST(stats_at_exit)
{
	char err[65536];
	setenv("KMM_STATS", "1", 1);
	int st = run_child("stats", NULL, err, sizeof(err));
	unsetenv("KMM_STATS");
	expect_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_true(strstr(err, "MemTotal:") != NULL);
	expect_true(strstr(err, "slabinfo - version: 2.1") != NULL);
	expect_true(strstr(err, "kmalloc-128") != NULL);
}

TEST_MAIN()
