/* kmm-test: backends */
/*
 * tests/unit/slab_misuse.c - MISUSE.md cases 1-16 (slab and kmalloc),
 * under both backends: each case is provoked under on_error=report and
 * must raise kmm_error_count, log its exact category ("kmm: <category>: "),
 * leave the heap passing kmm_check, and keep working; a few are repeated
 * under on_error=abort in a forked child, which must die of SIGABRT with
 * the report on stderr.
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"
#include "mm/slab_classic.h"

#define REPORT "mem=64M numa=1 cpus=2 on_error=report"

static char global_buf[64];

/* 1. free twice, immediately */
TEST(misuse_01_double_free_immediate)
{
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("df", 64, 0, 0, NULL);
	void *o = kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_free(c, o);
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_free(c, o);
	sh_misuse_expect(m, "double free");
	expect_eq(kmm_check(), 0);

	void *p = kmalloc(100, GFP_KERNEL);
	kfree(p);
	m = sh_misuse_begin();
	kfree(p);
	sh_misuse_expect(m, "double free");
	/* a large kmalloc too */
	void *big = kmalloc(64 * 1024 * 4, GFP_KERNEL);
	kfree(big);
	m = sh_misuse_begin();
	kfree(big);
	sh_misuse_expect(m, "double free");
	expect_eq(kmm_check(), 0);
	/* the object is not handed out twice */
	void *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
	expect_true(a != b);
	kmem_cache_free(c, a);
	kmem_cache_free(c, b);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 2. free twice with other frees in between (the object may sit in a CPU
 * array, in the shared array, or back on its slab) */
TEST(misuse_02_double_free_delayed)
{
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("df-late", 128, 0, 0, NULL);
	enum { N = 600 };
	static void *o[N];
	for (int i = 0; i < N; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	/* freed early, then hundreds of frees push it out of the CPU array */
	for (int late = 0; late < 3; late++) {
		void *victim = o[late];
		kmem_cache_free(c, victim);
		for (int i = 3 + late * 150; i < 3 + (late + 1) * 150; i++)
			kmem_cache_free(c, o[i]);
		if (late == 2)
			kmm_drain_all();	/* back on its slab's free chain */
		struct sh_misuse m = sh_misuse_begin();
		kmem_cache_free(c, victim);
		sh_misuse_expect(m, "double free");
		expect_eq(kmm_check(), 0);
	}
	for (int i = 3 + 3 * 150; i < N; i++)
		kmem_cache_free(c, o[i]);
	kmem_cache_destroy(c);	/* nothing remaining: the double frees changed nothing */
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 3. kfree of pointers kmm never handed out: never dereferenced */
TEST(misuse_03_invalid_free)
{
	sh_boot(REPORT);
	int on_stack;
	struct page *pg = alloc_page(GFP_KERNEL);
	void *candidates[] = {
		&on_stack, global_buf, (void *)0x12345678, (void *)0x1000, (void *)(uintptr_t)-4096,
		page_address(pg),	/* a page from the page allocator, not from kmalloc */
		(char *)page_address(pg) + 24,
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		struct sh_misuse m = sh_misuse_begin();
		kfree(candidates[i]);
		sh_misuse_expect(m, "invalid free");
	}
	struct kmem_cache *c = kmem_cache_create("inv", 32, 0, 0, NULL);
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_free(c, &on_stack);
	sh_misuse_expect(m, "invalid free");
	m = sh_misuse_begin();
	kmem_cache_free(c, page_address(pg));
	sh_misuse_expect(m, "invalid free");
	__free_page(pg);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 4. interior pointers */
TEST(misuse_04_interior_pointer)
{
	sh_boot(REPORT);
	char *p = kmalloc(64, GFP_KERNEL);
	struct sh_misuse m = sh_misuse_begin();
	kfree(p + 8);
	sh_misuse_expect(m, "interior pointer");
	char *big = kmalloc(100000, GFP_KERNEL);
	m = sh_misuse_begin();
	kfree(big + PAGE_SIZE + 8);
	sh_misuse_expect(m, "interior pointer");
	struct kmem_cache *c = kmem_cache_create("interior", 200, 0, 0, NULL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	m = sh_misuse_begin();
	kmem_cache_free(c, o + 100);
	sh_misuse_expect(m, "interior pointer");
	expect_eq(kmm_check(), 0);
	/* the objects are still live and free normally */
	kfree(p);
	kfree(big);
	kmem_cache_free(c, o);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 5. kmem_cache_free(A, object of B): reported, freed to B */
TEST(misuse_05_wrong_cache)
{
	sh_boot(REPORT);
	struct kmem_cache *a = kmem_cache_create("cache-A", 96, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("cache-B", 96, 0, 0, NULL);
	void *ob = kmem_cache_alloc(b, GFP_KERNEL);
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_free(a, ob);
	const char *line = logcap_find("kmm: wrong cache: ");
	expect_true(line && strstr(line, "cache-A") && strstr(line, "cache-B"));
	sh_misuse_expect(m, "wrong cache");
	expect_eq(kmm_check(), 0);
	/* B got it back: destroying B finds nothing remaining */
	m = sh_misuse_begin();
	kmem_cache_destroy(b);
	kmem_cache_destroy(a);
	sh_no_misuse(m);
	/* a kmalloc object given to a cache */
	struct kmem_cache *c = kmem_cache_create("cache-C", 64, 0, 0, NULL);
	void *k = kmalloc(64, GFP_KERNEL);
	m = sh_misuse_begin();
	kmem_cache_free(c, k);	/* reported, and freed as the kmalloc object it is */
	sh_misuse_expect(m, "wrong cache");
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 6. heap overflow into the red zone: found at free, with the offset */
TEST(misuse_06_redzone_overwritten)
{
	sh_boot(REPORT " slab_debug=Z");
	char *p = kmalloc(64, GFP_KERNEL);
	struct kmem_cache *c = kmem_cache_create("rz40", 40, 0, 0, NULL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	for (int n = 1; n <= 8; n++) {
		/* 1..8 bytes past the object */
		char *q = kmem_cache_alloc(c, GFP_KERNEL);
		memset(q + 40, 0, (size_t)n);
		struct sh_misuse m = sh_misuse_begin();
		kmem_cache_free(c, q);
		const char *line = logcap_find("kmm: redzone overwritten: ");
		expect_true(line && strstr(line, "rz40") && strstr(line, "offset 40"));
		sh_misuse_expect(m, "redzone overwritten");
		expect_eq(kmm_check(), 0);
	}
	p[64] = 0;
	struct sh_misuse m = sh_misuse_begin();
	kfree(p);
	if (!sh_slob())
		expect_nonnull(logcap_find("size-64 object"));
	sh_misuse_expect(m, "redzone overwritten");
	if (!sh_slob()) {
		/* kmalloc's own red zone: 1 byte past a 100-byte request in size-128 */
		char *r = kmalloc(100, GFP_KERNEL);
		r[100] = 'x';
		m = sh_misuse_begin();
		kfree(r);
		expect_nonnull(logcap_find("offset 100"));
		sh_misuse_expect(m, "redzone overwritten");
		/* ksize hands the whole object to the caller: no report then */
		r = kmalloc(100, GFP_KERNEL);
		memset(r, 1, ksize(r));
		m = sh_misuse_begin();
		kfree(r);
		sh_no_misuse(m);
		/* krealloc in place moves the red zone with the size */
		r = kmalloc(50, GFP_KERNEL);
		r = krealloc(r, 120, GFP_KERNEL);
		memset(r, 2, 120);
		m = sh_misuse_begin();
		kfree(r);
		sh_no_misuse(m);
	}
	/* an underflow into the leading red zone */
	m = sh_misuse_begin();
	o[-1] = 0;
	kmem_cache_free(c, o);
	sh_misuse_expect(m, "redzone overwritten");
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 7. write after free: found at the next allocation of the slot, or by
 * kmm_check (which reports it once, repairs the poison, and fails once) */
TEST(misuse_07_poison_overwritten)
{
	sh_boot(REPORT " slab_debug=P");
	struct kmem_cache *c = kmem_cache_create("uaf", 80, 0, 0, NULL);
	char *keep = kmem_cache_alloc(c, GFP_KERNEL);	/* keeps the slab (SLOB page) */
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_free(c, o);
	o[30] = 1;	/* write after free */
	struct sh_misuse m = sh_misuse_begin();
	expect_lt(kmm_check(), 0);
	const char *line = logcap_find("kmm: poison overwritten: ");
	expect_true(line && strstr(line, "uaf") && strstr(line, "offset 30"));
	sh_misuse_expect(m, "poison overwritten");
	expect_eq(kmm_check(), 0);
	if (!sh_slob()) {
		/* at allocation: the CPU array hands the same slot out next (LIFO) */
		o = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, o);
		o[79] = 0;
		m = sh_misuse_begin();
		char *n = kmem_cache_alloc(c, GFP_KERNEL);
		sh_misuse_expect(m, "poison overwritten");
		expect_true(n != o);	/* the bad object stays out of circulation */
		kmem_cache_free(c, n);
		expect_eq(kmm_check(), 0);
	}
	kmem_cache_free(c, keep);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 8. read after free: freed bytes read back as poison, never the secret */
TEST(misuse_08_read_after_free_sees_poison)
{
	sh_boot(REPORT " slab_debug=P");
	for (size_t size = 16; size <= 2048; size *= 2) {
		unsigned char *keep = kmalloc(size, GFP_KERNEL);	/* keeps the page a slab page */
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		size_t class = kmalloc_size_roundup(size);
		memset(p, 0x11, size);
		kfree(p);
		kt_unpoison(p, class);	/* read after free, on purpose */
		size_t secret = 0;
		for (size_t i = 0; i < size; i++)
			secret += p[i] == 0x11;
		expect_eq(secret, 0);
		if (!sh_slob()) {
			expect_eq(p[0], 0x6b);
			expect_eq(p[class - 1], 0xa5);
		}
		kfree(keep);
	}
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 9. a corrupted free chain: classic SLAB keeps its bufctls outside the
 * objects, so only a stray write into the descriptor breaks one; the bad
 * slab is reported and taken out of use, the heap carries on.  (SLOB's
 * in-block headers: tests/unit/slob.c.) */
TEST(misuse_09_freelist_corrupt)
{
	if (sh_slob())
		skip_test("SLOB's free-block headers: tests/unit/slob.c");
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("chain", 256, 0, 0, NULL);
	enum { N = 15 };
	void *o[N];
	for (int i = 0; i < N; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	/* half of one slab free, back on its chain */
	struct slab *slabp = virt_to_page(o[0])->slab_mgmt;
	for (int i = 0; i < N; i++)
		if (virt_to_page(o[i])->slab_mgmt == slabp && i % 2)
			kmem_cache_free(c, o[i]), o[i] = NULL;
	kmm_drain_all();
	assert_true(slabp->free != BUFCTL_END);
	slab_bufctl(slabp)[slabp->free] = 0x7777;	/* points far outside the slab */
	struct sh_misuse m = sh_misuse_begin();
	expect_lt(kmm_check(), 0);	/* the walk sees it */
	logcap_stop();
	m = sh_misuse_begin();
	void *n[40];
	for (int i = 0; i < 40; i++) {
		n[i] = kmem_cache_alloc(c, GFP_KERNEL);
		assert_nonnull(n[i]);
		expect_true(virt_to_page(n[i])->slab_mgmt != slabp || slabp->inuse == 0);
	}
	sh_misuse_expect(m, "freelist corrupt");
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < 40; i++)
		kmem_cache_free(c, n[i]);
	for (int i = 0; i < N; i++)
		if (o[i])
			kmem_cache_free(c, o[i]);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);	/* the quarantined objects are no leak */
	kmm_shutdown();
}

/* 10. kmalloc(0) */
static void touch_zero_size_ptr(void)
{
	if (kmm_boot("mem=16M numa=1 cpus=1"))
		return;
	volatile char *z = kmalloc(0, GFP_KERNEL);
	signal(SIGSEGV, SIG_DFL);
	(void)z[0];
}

TEST(misuse_10_kmalloc_zero)
{
	sh_boot(REPORT);
	struct sh_misuse m = sh_misuse_begin();
	void *z = kmalloc(0, GFP_KERNEL);
	expect_true(z == ZERO_SIZE_PTR);
	expect_true(z != NULL);
	kfree(z);
	kfree(z);	/* as often as one likes */
	sh_no_misuse(m);
	kmm_shutdown();
	/* any access faults */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		touch_zero_size_ptr();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	expect_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

/* 11. too big: NULL, no abort; a warning unless __GFP_NOWARN */
TEST(misuse_11_too_big)
{
	sh_boot("mem=64M numa=1 cpus=2 on_error=abort");
	logcap_start();
	expect_null(kmalloc(SIZE_MAX, GFP_KERNEL));
	expect_null(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_ATOMIC));
	expect_null(kmalloc_node(SIZE_MAX / 2, GFP_KERNEL, 0));
	expect_ge(logcap_lines(), 1);
	int lines = logcap_lines();
	expect_null(kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	expect_eq(logcap_lines(), lines);
	logcap_stop();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 12. n * size overflow: NULL, nothing allocated */
TEST(misuse_12_array_overflow)
{
	sh_boot(REPORT);
	kmm_drain_all();
	unsigned long before = nr_free_pages();
	struct sh_misuse m = sh_misuse_begin();
	expect_null(kcalloc(SIZE_MAX / 4 + 1, 4, GFP_KERNEL));
	expect_null(kmalloc_array(SIZE_MAX, SIZE_MAX, GFP_KERNEL));
	expect_null(kcalloc((size_t)1 << 33, (size_t)1 << 31, GFP_KERNEL));
	sh_no_misuse(m);
	kmm_drain_all();
	expect_eq(nr_free_pages(), before);
	kmm_shutdown();
}

/* 13. bad cache geometry: NULL */
TEST(misuse_13_bad_cache_arguments)
{
	sh_boot(REPORT);
	struct sh_misuse m = sh_misuse_begin();
	expect_null(kmem_cache_create("align-3", 64, 3, 0, NULL));
	expect_null(kmem_cache_create("align-100", 64, 100, 0, NULL));
	expect_null(kmem_cache_create("size-0", 0, 8, 0, NULL));
	expect_null(kmem_cache_create("too-big", 64u << 20, 0, 0, NULL));
	sh_no_misuse(m);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 14. destroy with live objects: reported with count and addresses, kept */
TEST(misuse_14_objects_remaining)
{
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("remaining", 48, 0, 0, NULL);
	void *o[3];
	for (int i = 0; i < 3; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_destroy(c);
	const char *line = logcap_find("kmm: objects remaining: ");
	expect_true(line && strstr(line, "remaining") && strstr(line, " 3 "));
	for (int i = 0; i < 3; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "%p", o[i]);
		expect_true(line && strstr(line, addr));
	}
	sh_misuse_expect(m, "objects remaining");
	/* still a valid cache */
	void *x = kmem_cache_alloc(c, GFP_KERNEL);
	expect_nonnull(x);
	expect_true(sh_slabinfo("remaining").found);
	kmem_cache_free(c, x);
	for (int i = 0; i < 3; i++)
		kmem_cache_free(c, o[i]);
	m = sh_misuse_begin();
	kmem_cache_destroy(c);
	sh_no_misuse(m);
	expect_false(sh_slabinfo("remaining").found);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 15. a destroyed or bogus cache: "invalid cache", nothing followed */
TEST(misuse_15_invalid_cache)
{
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("gone", 48, 0, 0, NULL);
	kmem_cache_destroy(c);
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_destroy(c);
	sh_misuse_expect(m, "invalid cache");
	m = sh_misuse_begin();
	expect_null(kmem_cache_alloc(c, GFP_KERNEL));
	sh_misuse_expect(m, "invalid cache");
	long fake[64] = { 0 };
	m = sh_misuse_begin();
	expect_null(kmem_cache_alloc((struct kmem_cache *)fake, GFP_KERNEL));
	kmem_cache_destroy((struct kmem_cache *)fake);
	kmem_cache_free((struct kmem_cache *)(uintptr_t)0x1234, fake);
	expect_eq(kmem_cache_shrink((struct kmem_cache *)global_buf), -KMM_EINVAL);
	sh_misuse_expect(m, "invalid cache");
	/* a pointer into a live slab page that is no cache */
	void *k = kmalloc(512, GFP_KERNEL);
	memset(k, 0, 512);
	m = sh_misuse_begin();
	expect_null(kmem_cache_alloc(k, GFP_KERNEL));
	sh_misuse_expect(m, "invalid cache");
	kfree(k);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 16. the constructor contract: constructed once per slab lifetime (SLAB;
 * SLOB: at every allocation), returned constructed, never zeroed, also
 * with poisoning (the ctor then runs after the poison check) */
struct ctor_obj {
	unsigned magic;
	unsigned gen;
	char pad[56];
};
static unsigned ctor_runs;
static void ctor_fn(void *p)
{
	struct ctor_obj *o = p;
	o->magic = 0xc0ffee;
	o->gen = 0;
	memset(o->pad, 'c', sizeof(o->pad));
	ctor_runs++;
}

TEST(misuse_16_constructor_contract)
{
	for (int poison = 0; poison < 2; poison++) {
		sh_boot(poison ? REPORT " slab_debug=P" : REPORT);
		ctor_runs = 0;
		struct kmem_cache *c = kmem_cache_create("ctor-contract", sizeof(struct ctor_obj), 0, 0, ctor_fn);
		struct ctor_obj *o[100];
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < 100; i++) {
				o[i] = kmem_cache_alloc(c, GFP_KERNEL | (round == 3 ? 0 : 0));
				expect_eq(o[i]->magic, 0xc0ffee);
				expect_eq(o[i]->pad[0], 'c');
				expect_eq(o[i]->gen, 0);
				o[i]->gen = 7;	/* used ... */
			}
			for (int i = 0; i < 100; i++) {
				o[i]->gen = 0;	/* ... and restored before free */
				kmem_cache_free(c, o[i]);
			}
		}
		if (sh_slob() || poison)
			expect_eq(ctor_runs, 400);
		else
			expect_lt(ctor_runs, 200);
		expect_eq(kmm_check(), 0);
		kmem_cache_destroy(c);
		kmm_shutdown();
	}
}

/* ------------------------------------------------------------------ */
/* on_error=abort: the report, then SIGABRT                           */
/* ------------------------------------------------------------------ */

static char child_boot[256];
static void child_double_free(void)
{
	if (kmm_boot(child_boot))
		return;
	void *p = kmalloc(40, GFP_KERNEL);
	kfree(p);
	kfree(p);
}

static void child_invalid_free(void)
{
	int x;
	if (kmm_boot(child_boot))
		return;
	kfree(&x);
}

static void child_redzone(void)
{
	if (kmm_boot(child_boot))
		return;
	struct kmem_cache *c = kmem_cache_create("abort-rz", 24, 0, SLAB_RED_ZONE, NULL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	o[24] = 0;
	kmem_cache_free(c, o);
}

static void child_invalid_cache(void)
{
	if (kmm_boot(child_boot))
		return;
	struct kmem_cache *c = kmem_cache_create("abort-gone", 24, 0, 0, NULL);
	kmem_cache_destroy(c);
	kmem_cache_destroy(c);
}

static void child_objects_remaining(void)
{
	if (kmm_boot(child_boot))
		return;
	struct kmem_cache *c = kmem_cache_create("abort-live", 24, 0, 0, NULL);
	kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_destroy(c);
}

TEST(abort_mode_reports_then_aborts)
{
	snprintf(child_boot, sizeof(child_boot), "mem=16M numa=1 cpus=1 on_error=abort %s", sh_extra());
	expect_true(sh_child_aborts(child_double_free, "kmm: double free: "));
	expect_true(sh_child_aborts(child_invalid_free, "kmm: invalid free: "));
	expect_true(sh_child_aborts(child_redzone, "kmm: redzone overwritten: abort-rz object"));
	expect_true(sh_child_aborts(child_invalid_cache, "kmm: invalid cache: "));
	expect_true(sh_child_aborts(child_objects_remaining, "kmm: objects remaining: abort-live"));
}

TEST_MAIN()
