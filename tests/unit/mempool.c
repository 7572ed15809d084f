/*
 * tests/unit/mempool.c - memory pools (issue 4): the reserve of min_nr
 * elements and the 6.x mempool_alloc algorithm - the guarantee on an
 * exhausted machine, sleeping until a mempool_free, GFP_ATOMIC on an empty
 * reserve, an allocator below that fails every call (fail_mempool,
 * failslab, a failing alloc_fn), create's unwinding under a fail-the-Nth
 * sweep, resize, the helper pools, misuse cases 29-31 of MISUSE.md under
 * on_error=report and one under on_error=abort, and a threaded run whose
 * pools end holding exactly min_nr.  Runs under both slab backends.
 */
/* kmm-test: threaded */
/* kmm-test: backends */
#include <signal.h>
#include <sys/wait.h>
#include "harness.h"
#include "page_helpers.h"

static char boot_line[256];
/* the test's machine plus the backend the run was registered for */
static const char *mp_boot(const char *line)
{
	const char *b = getenv("KMM_TEST_BOOT");
	snprintf(boot_line, sizeof(boot_line), "%s %s", line, b ? b : "");
	kmm_shutdown();	/* a test that stopped early left its machine up */
	kmm_set_log(NULL, NULL);
	return boot_line;
}

#define BASE "mem=64M numa=1 cpus=4 on_error=report"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fail_below(const char *attr, bool on)
{
	assert_eq(kmm_fault_config(attr, on ? "probability=100 interval=1 times=-1 verbose=0" : "probability=0"), 0);
}

/*
 * How many elements the reserve holds: with the allocator below failing,
 * take GFP_NOWAIT elements until NULL, then give them all back (they refill
 * the reserve first).  The pool ends as it was.
 */
static int reserve_count(mempool_t *pool)
{
	void *e[4096];
	int n = 0;
	fail_below("fail_mempool", true);
	while (n < 4096 && (e[n] = mempool_alloc(pool, GFP_NOWAIT)) != NULL)
		n++;
	fail_below("fail_mempool", false);
	for (int i = n - 1; i >= 0; i--)
		mempool_free(e[i], pool);
	return n;
}

static void stamp(void *p, size_t n, unsigned v)
{
	memset(p, (int)(v & 0xff), n);
}

static bool stamped(const void *p, size_t n, unsigned v)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)v)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Basics                                                              */
/* ------------------------------------------------------------------ */

TEST(helper_pools_hold_min_nr)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	struct kmem_cache *c = kmem_cache_create("mp_obj", 200, 0, 0, NULL);
	assert_nonnull(c);
	mempool_t *sp = mempool_create_slab_pool(5, c);
	mempool_t *kp = mempool_create_kmalloc_pool(7, 100);
	mempool_t *pp = mempool_create_page_pool(3, 1);
	assert_nonnull(sp);
	assert_nonnull(kp);
	assert_nonnull(pp);
	expect_eq(kmm_check(), 0);
	expect_eq(reserve_count(sp), 5);
	expect_eq(reserve_count(kp), 7);
	expect_eq(reserve_count(pp), 3);

	/* normal operation: the allocator below serves, the reserve stays full */
	void *o = mempool_alloc(sp, GFP_KERNEL);
	void *k = mempool_alloc(kp, GFP_KERNEL);
	struct page *pg = mempool_alloc(pp, GFP_KERNEL);
	assert_nonnull(o);
	assert_nonnull(k);
	assert_nonnull(pg);
	expect_ge(ksize(k), 100);
	stamp(o, 200, 1);
	stamp(k, 100, 2);
	stamp(page_address(pg), 2 * PAGE_SIZE, 3);	/* elements are struct page *, order 1 */
	expect_eq(page_count(pg), 1);
	expect_eq(kmm_check(), 0);
	expect_true(stamped(o, 200, 1));
	expect_true(stamped(k, 100, 2));
	expect_true(stamped(page_address(pg), 2 * PAGE_SIZE, 3));
	mempool_free(o, sp);
	mempool_free(k, kp);
	mempool_free(pg, pp);
	mempool_free(NULL, sp);	/* ignored */
	expect_eq(reserve_count(sp), 5);
	expect_eq(reserve_count(kp), 7);
	expect_eq(reserve_count(pp), 3);
	expect_eq(kmm_check(), 0);

	mempool_destroy(sp);
	mempool_destroy(kp);
	mempool_destroy(pp);
	mempool_destroy(NULL);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);

	/* bad arguments */
	expect_null(mempool_create(-1, mempool_kmalloc, mempool_kfree, (void *)64));
	expect_null(mempool_create(2, NULL, mempool_kfree, (void *)64));
	expect_null(mempool_create_slab_pool(2, NULL));
	expect_null(mempool_create_page_pool(2, MAX_PAGE_ORDER + 1));
	expect_null(mempool_create_kmalloc_pool(2, 0));
	kmm_shutdown();
}

TEST(resize_grows_and_shrinks_the_reserve)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	mempool_t *p = mempool_create_kmalloc_pool(4, 64);
	assert_nonnull(p);
	expect_eq(mempool_resize(p, 12), 0);
	expect_eq(reserve_count(p), 12);
	expect_eq(kmm_check(), 0);
	expect_eq(mempool_resize(p, 2), 0);
	expect_eq(reserve_count(p), 2);
	expect_eq(mempool_resize(p, 0), -EINVAL);
	expect_eq(mempool_resize(p, -3), -EINVAL);
	expect_eq(reserve_count(p), 2);
	/* growing with the allocator failing: the array grows, the elements
	 * come later from frees */
	fail_below("fail_mempool", true);
	expect_eq(mempool_resize(p, 6), 0);
	void *e[6];
	for (int i = 0; i < 2; i++)
		assert_nonnull(e[i] = mempool_alloc(p, GFP_NOWAIT));
	expect_null(mempool_alloc(p, GFP_NOWAIT));
	fail_below("fail_mempool", false);
	for (int i = 2; i < 6; i++)
		assert_nonnull(e[i] = mempool_alloc(p, GFP_KERNEL));
	for (int i = 0; i < 6; i++)
		mempool_free(e[i], p);	/* all six refill the reserve */
	expect_eq(reserve_count(p), 6);
	expect_eq(kmm_check(), 0);
	mempool_destroy(p);
	kmm_shutdown();
}

static int custom_ok;	/* the custom allocator succeeds while set */
static int custom_live;
static void *custom_alloc(gfp_t gfp, void *data)
{
	(void)gfp;
	if (!__atomic_load_n(&custom_ok, __ATOMIC_RELAXED))
		return NULL;
	__atomic_add_fetch(&custom_live, 1, __ATOMIC_RELAXED);
	return kmalloc((size_t)(uintptr_t)data, GFP_KERNEL);
}
static void custom_free(void *e, void *data)
{
	(void)data;
	__atomic_sub_fetch(&custom_live, 1, __ATOMIC_RELAXED);
	kfree(e);
}

TEST(reserve_serves_min_nr_when_the_allocator_below_fails)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	enum { MIN = 6 };
	void *e[MIN];

	/* a failing alloc_fn */
	custom_ok = 1;
	custom_live = 0;
	mempool_t *p = mempool_create(MIN, custom_alloc, custom_free, (void *)48);
	assert_nonnull(p);
	expect_eq(custom_live, MIN);
	custom_ok = 0;
	for (int i = 0; i < MIN; i++) {
		e[i] = mempool_alloc(p, GFP_KERNEL);	/* never sleeps: the reserve has it */
		assert_nonnull(e[i]);
		stamp(e[i], 48, (unsigned)i);
	}
	uint64_t t0 = now_ms();
	expect_null(mempool_alloc(p, GFP_ATOMIC));
	expect_null(mempool_alloc(p, GFP_NOWAIT));
	expect_lt(now_ms() - t0, 1000);	/* at once, not after a 5 s wait */
	for (int i = 0; i < MIN; i++) {
		expect_true(stamped(e[i], 48, (unsigned)i));
		mempool_free(e[i], p);
	}
	expect_eq(reserve_count(p), MIN);
	mempool_destroy(p);
	expect_eq(custom_live, 0);

	/* failslab under a slab pool: kmem_cache_alloc fails every call */
	struct kmem_cache *c = kmem_cache_create("mp_failslab", 96, 0, 0, NULL);
	assert_nonnull(c);
	p = mempool_create_slab_pool(MIN, c);
	assert_nonnull(p);
	fail_below("failslab", true);
	expect_null(kmem_cache_alloc(c, GFP_KERNEL));
	for (int i = 0; i < MIN; i++)
		assert_nonnull(e[i] = mempool_alloc(p, GFP_KERNEL));
	expect_null(mempool_alloc(p, GFP_ATOMIC));
	for (int i = 0; i < MIN; i++)
		mempool_free(e[i], p);
	fail_below("failslab", false);
	expect_eq(reserve_count(p), MIN);
	mempool_destroy(p);
	kmem_cache_destroy(c);

	/* fail_mempool on a kmalloc pool */
	p = mempool_create_kmalloc_pool(MIN, 300);
	assert_nonnull(p);
	fail_below("fail_mempool", true);
	for (int i = 0; i < MIN; i++)
		assert_nonnull(e[i] = mempool_alloc(p, GFP_KERNEL));
	expect_null(mempool_alloc(p, GFP_NOWAIT));
	fail_below("fail_mempool", false);
	for (int i = 0; i < MIN; i++)
		mempool_free(e[i], p);
	expect_eq(reserve_count(p), MIN);
	mempool_destroy(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(create_unwinds_under_a_fail_nth_sweep)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	struct kmem_cache *c = kmem_cache_create("mp_sweep", 512, 0, 0, NULL);
	assert_nonnull(c);
	kmm_drain_all();
	unsigned long base_free = nr_free_pages();
	mempool_t *p = NULL;
	int n, nulls = 0;
	for (n = 1; n < 2000; n++) {
		kmm_set_fail_nth((unsigned)n);
		p = mempool_create_slab_pool(20, c);
		unsigned int left = kmm_get_fail_nth();	/* not 0: the n-th fault point was never reached */
		kmm_set_fail_nth(0);
		expect_eq(kmm_check(), 0);
		if (p && left)
			break;	/* ran to the end without a failure */
		if (p) {
			/* a failure below was absorbed (a retry elsewhere): still whole */
			expect_eq(reserve_count(p), 20);
			mempool_destroy(p);
			p = NULL;
		} else {
			nulls++;
		}
		kmm_drain_all();
		expect_eq(nr_free_pages(), base_free);	/* nothing left behind */
	}
	assert_nonnull(p);
	expect_ge(nulls, 22);	/* descriptor, array, and each of the 20 elements */
	expect_eq(reserve_count(p), 20);
	mempool_destroy(p);
	kmem_cache_destroy(c);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(min_nr_zero_pool)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	mempool_t *p = mempool_create_kmalloc_pool(0, 40);
	assert_nonnull(p);
	expect_eq(reserve_count(p), 0);
	void *a = mempool_alloc(p, GFP_KERNEL);
	assert_nonnull(a);
	mempool_free(a, p);	/* [6.x] kept: one element for forward progress */
	expect_eq(reserve_count(p), 1);
	expect_eq(kmm_check(), 0);
	mempool_destroy(p);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* The guarantee on an exhausted machine, sleeping, waking              */
/* ------------------------------------------------------------------ */

struct hog {
	struct page **pg;
	size_t n, cap;
};

static void hog_all(struct hog *h, gfp_t gfp)
{
	struct page *p;
	while ((p = alloc_page(gfp)) != NULL) {
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 4096;
			h->pg = realloc(h->pg, h->cap * sizeof(*h->pg));
		}
		h->pg[h->n++] = p;
	}
}

static void hog_release(struct hog *h)
{
	for (size_t i = 0; i < h->n; i++)
		__free_page(h->pg[i]);
	free(h->pg);
	h->pg = NULL;
	h->n = h->cap = 0;
}

struct waiter {
	mempool_t *pool;
	void *got;
	uint64_t took_ms;
	int done;	/* atomic */
};

static void *mempool_waiter(void *arg)
{
	struct waiter *w = arg;
	uint64_t t0 = now_ms();
	w->got = mempool_alloc(w->pool, GFP_KERNEL);
	w->took_ms = now_ms() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST(exhausted_machine_pool_still_serves_min_nr)
{
	assert_eq(kmm_boot(mp_boot("mem=64M numa=1 cpus=4 on_error=report oom_wait_ms=100")), 0);
	enum { MIN = 8 };
	mempool_t *pp = mempool_create_page_pool(MIN, 0);
	mempool_t *kp = mempool_create_kmalloc_pool(MIN, 2048);
	assert_nonnull(pp);
	assert_nonnull(kp);

	/* every page of the machine, the atomic reserve included */
	struct hog h = { 0 };
	hog_all(&h, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	hog_all(&h, GFP_HIGHUSER | __GFP_NORETRY | __GFP_NOWARN);
	hog_all(&h, GFP_ATOMIC | __GFP_NOWARN);
	expect_gt(h.n, 10000);
	expect_null(alloc_page(GFP_ATOMIC | __GFP_NOWARN));
	/* the kmalloc-2048 cache has no free object left either */
	void *kx[4096];
	int nkx = 0;
	while (nkx < 4096 && (kx[nkx] = kmalloc(2048, GFP_NOWAIT | __GFP_NOWARN)) != NULL)
		nkx++;

	/* min_nr GFP_KERNEL allocations from each pool, without sleeping */
	struct page *pe[MIN + 1];
	void *ke[MIN];
	uint64_t t0 = now_ms();
	for (int i = 0; i < MIN; i++) {
		pe[i] = mempool_alloc(pp, GFP_KERNEL);
		ke[i] = mempool_alloc(kp, GFP_KERNEL);
		assert_nonnull(pe[i]);
		assert_nonnull(ke[i]);
		stamp(ke[i], 2048, (unsigned)i);
	}
	expect_lt(now_ms() - t0, 2000);
	expect_eq(kmm_check(), 0);

	/* the reserve is empty: GFP_ATOMIC gets NULL at once */
	t0 = now_ms();
	expect_null(mempool_alloc(pp, GFP_ATOMIC));
	expect_null(mempool_alloc(kp, GFP_ATOMIC));
	expect_lt(now_ms() - t0, 1000);

	/* one more GFP_KERNEL sleeps until another thread frees an element */
	struct waiter w = { .pool = pp };
	pthread_t t;
	assert_eq(pthread_create(&t, NULL, mempool_waiter, &w), 0);
	usleep(300 * 1000);
	expect_eq(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	struct page *given = pe[MIN - 1];
	mempool_free(given, pp);
	pthread_join(t, NULL);
	expect_eq(w.done, 1);
	expect_true(w.got == given);	/* the freed element, through the reserve */
	expect_lt(w.took_ms, 4500);	/* woken by the free, not by the 5 s timeout */
	pe[MIN - 1] = w.got;

	/* give everything back: the pools end holding exactly min_nr */
	for (int i = 0; i < MIN; i++) {
		expect_true(stamped(ke[i], 2048, (unsigned)i));
		mempool_free(pe[i], pp);
		mempool_free(ke[i], kp);
	}
	for (int i = 0; i < nkx; i++)
		kfree(kx[i]);
	hog_release(&h);
	expect_eq(reserve_count(pp), MIN);
	expect_eq(reserve_count(kp), MIN);
	expect_eq(kmm_check(), 0);
	mempool_destroy(pp);
	mempool_destroy(kp);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* many threads on one small pool with a flaky allocator below */
#define TH_THREADS 6
#define TH_MIN 4
static mempool_t *th_pool;

static void *pool_thread(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg;
	void *held[3];
	for (int it = 0; it < 2000; it++) {
		int n = (int)(seed % 3) + 1;
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		for (int i = 0; i < n; i++) {
			held[i] = mempool_alloc(th_pool, GFP_KERNEL);
			if (!held[i])
				abort();	/* GFP_KERNEL never fails */
			stamp(held[i], 128, (unsigned)(uintptr_t)&held[i]);
		}
		for (int i = n - 1; i >= 0; i--) {
			if (!stamped(held[i], 128, (unsigned)(uintptr_t)&held[i]))
				abort();
			mempool_free(held[i], th_pool);
		}
	}
	return NULL;
}

TEST(threads_share_a_pool_over_a_flaky_allocator)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	th_pool = mempool_create_kmalloc_pool(TH_MIN, 128);
	assert_nonnull(th_pool);
	/* half the calls below fail: the reserve and the waits carry on */
	assert_eq(kmm_fault_config("fail_mempool", "probability=50 interval=1 times=-1 verbose=0"), 0);
	pthread_t t[TH_THREADS];
	unsigned long seed = kt_seed();
	for (int i = 0; i < TH_THREADS; i++)
		assert_eq(pthread_create(&t[i], NULL, pool_thread, (void *)(uintptr_t)(seed + (unsigned long)i * 7919)), 0);
	for (int i = 0; i < TH_THREADS; i++)
		pthread_join(t[i], NULL);
	fail_below("fail_mempool", false);
	expect_eq(kmm_check(), 0);
	expect_eq(reserve_count(th_pool), TH_MIN);
	mempool_destroy(th_pool);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Misuse (MISUSE.md 29-31)                                            */
/* ------------------------------------------------------------------ */

TEST(foreign_element_is_reported_with_slab_debug_F)
{
	assert_eq(kmm_boot(mp_boot(BASE " slab_debug=F")), 0);
	struct kmem_cache *a = kmem_cache_create("mp_a", 64, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("mp_b", 64, 0, 0, NULL);
	assert_nonnull(a);
	assert_nonnull(b);
	mempool_t *sp = mempool_create_slab_pool(4, a);
	mempool_t *kp = mempool_create_kmalloc_pool(4, 100);
	mempool_t *pp = mempool_create_page_pool(4, 0);
	assert_nonnull(sp);
	assert_nonnull(kp);
	assert_nonnull(pp);
	unsigned long errors = kmm_error_count();
	logcap_start();

	void *ob = kmem_cache_alloc(b, GFP_KERNEL);	/* another cache's object */
	void *small = kmalloc(16, GFP_KERNEL);		/* a kmalloc object too small */
	struct page *two = alloc_pages(GFP_KERNEL, 1);	/* a block of another order */
	int on_stack;
	assert_nonnull(ob);
	assert_nonnull(small);
	assert_nonnull(two);
	mempool_free(ob, sp);
	mempool_free(small, kp);
	mempool_free(ob, kp);
	mempool_free(two, pp);
	mempool_free(&on_stack, pp);
	mempool_free(&on_stack, sp);
	expect_eq(kmm_error_count(), errors + 6);
	expect_eq(logcap_count("kmm: mempool foreign element: "), 6);
	/* nothing reached the pools: they still hold min_nr of their own */
	expect_eq(kmm_check(), 0);
	/* an element of the right kind is accepted (it joins the reserve) */
	void *mine = mempool_alloc(sp, GFP_KERNEL);
	mempool_free(mine, sp);
	expect_eq(kmm_error_count(), errors + 6);
	logcap_stop();
	expect_true(logcap_all_well_formed());
	expect_eq(reserve_count(sp), 4);
	expect_eq(reserve_count(kp), 4);
	expect_eq(reserve_count(pp), 4);

	kmem_cache_free(b, ob);
	kfree(small);
	__free_pages(two, 1);
	mempool_destroy(sp);
	mempool_destroy(kp);
	mempool_destroy(pp);
	kmem_cache_destroy(a);
	kmem_cache_destroy(b);
	expect_eq(kmm_check(), 0);
	expect_eq(kmm_error_count(), errors + 6);
	kmm_shutdown();
}

TEST(destroy_with_elements_outstanding_is_reported)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	mempool_t *p = mempool_create_kmalloc_pool(5, 256);
	assert_nonnull(p);
	void *e[3];
	for (int i = 0; i < 3; i++)
		assert_nonnull(e[i] = mempool_alloc(p, GFP_KERNEL));
	unsigned long errors = kmm_error_count();
	logcap_start();
	mempool_destroy(p);	/* reported; what it holds is freed anyway */
	logcap_stop();
	expect_eq(kmm_error_count(), errors + 1);
	const char *line = logcap_find("kmm: mempool elements outstanding: ");
	expect_nonnull(line);
	if (line)
		expect_true(strstr(line, " 3 elements") != NULL);
	expect_eq(kmm_check(), 0);
	/* the outstanding elements are still valid kmalloc memory, the caller's */
	for (int i = 0; i < 3; i++) {
		stamp(e[i], 256, 5);
		kfree(e[i]);
	}
	/* destroying it again: not a live pool */
	logcap_start();
	mempool_destroy(p);
	logcap_stop();
	expect_eq(kmm_error_count(), errors + 2);
	expect_eq(logcap_count("kmm: invalid free: "), 1);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(shutdown_reports_pools_not_destroyed)
{
	assert_eq(kmm_boot(mp_boot(BASE)), 0);
	mempool_t *p = mempool_create_kmalloc_pool(3, 64);
	assert_nonnull(p);
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_eq(logcap_count("was not destroyed"), 1);
	expect_eq(logcap_count("objects remaining"), 0);	/* its elements were given back */
}

/* 31 under on_error=abort: the process stops with the report */
TEST(outstanding_elements_abort_under_on_error_abort)
{
	int fds[2];
	kmm_shutdown();
	assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		if (kmm_boot(mp_boot("mem=64M numa=1 cpus=2 on_error=abort")))
			_exit(3);
		mempool_t *p = mempool_create_kmalloc_pool(2, 64);
		if (!p || !mempool_alloc(p, GFP_KERNEL))
			_exit(4);
		mempool_destroy(p);
		_exit(0);	/* not reached */
	}
	close(fds[1]);
	char buf[4096] = { 0 };
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	int status;
	assert_eq(waitpid(pid, &status, 0), pid);
	expect_true(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		expect_eq(WTERMSIG(status), SIGABRT);
	expect_true(strstr(buf, "kmm: mempool elements outstanding: ") != NULL);
}

TEST_MAIN()
