/* kmm-test: backends */
/*
 * tests/unit/misuse_catalog.c - MISUSE.md cases 1-31, one TEST per case
 * (catalog_NN_...), each misuse run twice by misuse_helpers.h: under
 * on_error=report in this process (the exact report line, the error count
 * up by exactly one, kmm_check passing, nothing else changed, everything
 * back to the boot baseline afterwards) and under on_error=abort in a child
 * (SIGABRT with the line on stderr).  Cases that are not misuse reports
 * (kmalloc(0), failures under exhaustion, ...) check their documented
 * outcome the same two ways: a warning line or silence, never an abort.
 * The file runs under slab=slab and slab=slob; cases 32-37 are in
 * misuse_os.c, 38 in the shim's tests.  docs/misuse.md has the table.
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "misuse_helpers.h"
#include "mm/slab.h"
#include "mm/slab_classic.h"
#include <kmm/mempool.h>

static char global_buf[64];
static int variant;	/* which variant the next mc_run's function runs */

/* the kmalloc class name serving size bytes ("kmalloc-slob" on SLOB) */
static const char *kname(size_t size)
{
	if (sh_slob())
		return "kmalloc-slob";
	struct kmem_cache *s = kmalloc_slab(size, 0);
	return s ? s->name : "?";
}

static unsigned long pfn_of(const void *p) { return page_to_pfn(virt_to_page(p)); }

/* ------------------------------------------------------------------ */
/* 1. double free, immediately                                         */
/* ------------------------------------------------------------------ */

static void c01(void)
{
	if (variant == 0) {	/* a cache object */
		struct kmem_cache *c = kmem_cache_create("mc-df", 64, 0, 0, NULL);
		void *keep = kmem_cache_alloc(c, GFP_KERNEL);	/* keeps the page a slab page */
		void *o = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, o);
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: double free: kmem_cache_free: mc-df object %p is already free", o);
		else
			mc_begin(MC_MISUSE, "kmm: double free: kmem_cache_free(%p): mc-df object %p is already free", o, o);
		kmem_cache_free(c, o);
		mc_end();
		/* not handed out twice */
		void *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
		expect_true(a != b);
		kmem_cache_free(c, a), kmem_cache_free(c, b), kmem_cache_free(c, keep);
		kmem_cache_destroy(c);
	} else if (variant == 1) {	/* kmalloc */
		void *keep = kmalloc(100, GFP_KERNEL);
		void *p = kmalloc(100, GFP_KERNEL);
		kfree(p);
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: double free: kfree: kmalloc-slob object %p is already free", p);
		else
			mc_begin(MC_MISUSE, "kmm: double free: kfree(%p): %s object %p is already free", p, kname(100), p);
		kfree(p);
		mc_end();
		kfree(keep);
	} else {	/* a large kmalloc (pages) */
		void *p = kmalloc(256 * 1024, GFP_KERNEL);
		unsigned long pfn = pfn_of(p);
		kfree(p);
		mc_begin(MC_MISUSE, "kmm: double free: kfree(%p): the memory is already free (pfn %lu is in a free block)", p,
			 pfn);
		kfree(p);
		mc_end();
	}
}

TEST(catalog_01_double_free_immediate)
{
	for (variant = 0; variant < 3; variant++)
		mc_run(variant == 0 ? "kmem_cache_free twice" : variant == 1 ? "kfree twice" : "large kfree twice", c01, "");
}

/* ------------------------------------------------------------------ */
/* 2. double free after other frees                                    */
/* ------------------------------------------------------------------ */

static void c02(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-late", 128, 0, 0, NULL);
	if (variant == 0) {
		enum { N = 600 };
		static void *o[N];
		for (int i = 0; i < N; i++)
			o[i] = kmem_cache_alloc(c, GFP_KERNEL);
		void *victim = o[0];
		kmem_cache_free(c, victim);
		for (int i = 2; i < N; i += 2)	/* no slab becomes empty */
			kmem_cache_free(c, o[i]);
		kmm_drain_all();	/* back on its slab's free chain / merged */
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: double free: kmem_cache_free: mc-late object %p is already free", victim);
		else
			mc_begin(MC_MISUSE, "kmm: double free: kmem_cache_free(%p): mc-late object %p is already free", victim,
				 victim);
		kmem_cache_free(c, victim);
		mc_end();
		for (int i = 1; i < N; i += 2)
			kmem_cache_free(c, o[i]);
	} else {	/* its slab went back to the page allocator meanwhile */
		void *o = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, o);
		kmem_cache_shrink(c);
		kmm_drain_all();
		mc_begin(MC_MISUSE, "kmm: double free: kmem_cache_free(mc-late, %p): the memory is already free (its slab went back)",
			 o);
		kmem_cache_free(c, o);
		mc_end();
	}
	kmem_cache_destroy(c);
}

TEST(catalog_02_double_free_delayed)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant == 0 ? "after 300 other frees" : "after the slab went back", c02, "");
}

/* ------------------------------------------------------------------ */
/* 3. free of a pointer never allocated                                */
/* ------------------------------------------------------------------ */

static void c03(void)
{
	int on_stack = 0;
	struct page *pg = alloc_page(GFP_KERNEL);
	void *vm = vmalloc(PAGE_SIZE);
	void *cands[] = { &on_stack, global_buf, (void *)0x12345678, (void *)(uintptr_t)-4096,
			  page_address(pg), (char *)page_address(pg) + 24, vm };
	if (variant < (int)(sizeof(cands) / sizeof(cands[0]))) {
		void *p = cands[variant];
		mc_begin(MC_MISUSE, "kmm: invalid free: kfree(%p): not memory from kmalloc", p);
		kfree(p);
		mc_end();
	} else if (variant == 7) {	/* a cache given a stack pointer */
		struct kmem_cache *c = kmem_cache_create("mc-inv", 32, 0, 0, NULL);
		mc_begin(MC_MISUSE, "kmm: invalid free: kmem_cache_free(mc-inv, %p): not a slab object", (void *)&on_stack);
		kmem_cache_free(c, &on_stack);
		mc_end();
		kmem_cache_destroy(c);
	} else {	/* the start of a slab page: slab metadata, no object */
		void *k = kmalloc(64, GFP_KERNEL);
		char *page = page_address(virt_to_page(k));
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: invalid free: kfree: %p is not an allocated kmalloc-slob object (slob page pfn %lu offset 0)",
				 (void *)page, pfn_of(page));
		else	/* small objects keep their slab descriptor on the slab, before s_mem */
			mc_begin(MC_MISUSE, "kmm: invalid free: kfree(%p): inside a slab of %s but not in an object", (void *)page,
				 kname(64));
		kfree(page);
		mc_end();
		kfree(k);
	}
	vfree(vm);
	__free_page(pg);
}

TEST(catalog_03_invalid_free)
{
	static const char *const what[] = { "stack", "global", "random", "unmapped", "a page from alloc_pages",
					    "inside such a page", "a vmalloc address", "kmem_cache_free of the stack",
					    "slab metadata" };
	for (variant = 0; variant < 9; variant++)
		mc_run(what[variant], c03, "");
}

/* ------------------------------------------------------------------ */
/* 4. interior pointer                                                 */
/* ------------------------------------------------------------------ */

static void c04(void)
{
	if (variant == 0) {
		char *p = kmalloc(64, GFP_KERNEL);
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: interior pointer: kfree: %p is inside kmalloc-slob object %p (offset 8)",
				 (void *)(p + 8), (void *)p);
		else
			mc_begin(MC_MISUSE, "kmm: interior pointer: kfree(%p): %s object %p offset 8", (void *)(p + 8), kname(64),
				 (void *)p);
		kfree(p + 8);
		mc_end();
		kfree(p);
	} else if (variant == 1) {
		char *big = kmalloc(200000, GFP_KERNEL);	/* above every kmalloc cache: pages */
		mc_begin(MC_MISUSE, "kmm: interior pointer: kfree(%p): offset %lu into the 262144-byte kmalloc block at %p",
			 (void *)(big + PAGE_SIZE + 8), PAGE_SIZE + 8, (void *)big);
		kfree(big + PAGE_SIZE + 8);
		mc_end();
		kfree(big);
	} else {
		struct kmem_cache *c = kmem_cache_create("mc-int", 200, 0, 0, NULL);
		char *o = kmem_cache_alloc(c, GFP_KERNEL);
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: interior pointer: kmem_cache_free: %p is inside mc-int object %p (offset 100)",
				 (void *)(o + 100), (void *)o);
		else
			mc_begin(MC_MISUSE, "kmm: interior pointer: kmem_cache_free(%p): mc-int object %p offset 100",
				 (void *)(o + 100), (void *)o);
		kmem_cache_free(c, o + 100);
		mc_end();
		kmem_cache_free(c, o);
		kmem_cache_destroy(c);
	}
}

TEST(catalog_04_interior_pointer)
{
	for (variant = 0; variant < 3; variant++)
		mc_run(variant == 0 ? "kmalloc" : variant == 1 ? "large kmalloc" : "cache", c04, "");
}

/* ------------------------------------------------------------------ */
/* 5. wrong cache                                                      */
/* ------------------------------------------------------------------ */

static void c05(void)
{
	struct kmem_cache *a = kmem_cache_create("cache-A", 96, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("cache-B", 96, 0, 0, NULL);
	mc.changes_state = true;	/* report mode frees it to its true cache */
	if (variant == 0) {
		void *ob = kmem_cache_alloc(b, GFP_KERNEL);
		mc_begin(MC_MISUSE, "kmm: wrong cache: kmem_cache_free: object %p freed to cache cache-A, belongs to cache-B", ob);
		kmem_cache_free(a, ob);
		mc_end();
	} else {
		void *k = kmalloc(64, GFP_KERNEL);
		if (sh_slob())
			mc_begin(MC_MISUSE, "kmm: wrong cache: kmem_cache_free: object %p freed to cache-A, belongs to kmalloc-slob", k);
		else
			mc_begin(MC_MISUSE, "kmm: wrong cache: kmem_cache_free: object %p freed to cache cache-A, belongs to %s", k,
				 kname(64));
		kmem_cache_free(a, k);
		mc_end();
	}
	/* destroying both finds nothing remaining: the object went home */
	unsigned long e0 = kmm_error_count();
	kmem_cache_destroy(b);
	kmem_cache_destroy(a);
	expect_eq(kmm_error_count(), e0);
}

TEST(catalog_05_wrong_cache)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant == 0 ? "object of another cache" : "a kmalloc object", c05, "");
}

/* ------------------------------------------------------------------ */
/* 6. heap overflow into the red zone                                  */
/* ------------------------------------------------------------------ */

static void hex8(char *buf, const unsigned char *p)
{
	for (int i = 0; i < 8; i++)
		sprintf(buf + (i ? 3 * i - 1 : 0), i ? " %02x" : "%02x", p[i]);
}

static void c06(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-rz", 40, 0, 0, NULL);
	char *keep = kmem_cache_alloc(c, GFP_KERNEL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	char bytes[32], saved[8];
	int n = variant + 1;	/* 1..8 bytes past the object */
	memcpy(saved, o + 40, sizeof(saved));
	memset(o + 40, 0, (size_t)n);
	hex8(bytes, (unsigned char *)o + 40);
	mc_begin(MC_MISUSE, "kmm: redzone overwritten: mc-rz object %p offset 40: %s", (void *)o, bytes);
	kmem_cache_free(c, o);
	mc_end();
	if (sh_slob() && mc_report_mode()) {
		/* SLOB keeps the object allocated (out of circulation): undo the
		 * overflow and free it for real */
		memcpy(o + 40, saved, sizeof(saved));
		kmem_cache_free(c, o);
	}
	kmem_cache_free(c, keep);
	kmem_cache_destroy(c);	/* SLAB: the quarantined object is no leak */
}

TEST(catalog_06_redzone_overwritten)
{
	for (variant = 0; variant < 8; variant += 7)
		mc_run(variant ? "8 bytes past" : "1 byte past", c06, "slab_debug=Z");
}

/* ------------------------------------------------------------------ */
/* 7. write after free                                                 */
/* ------------------------------------------------------------------ */

static void c07(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-uaf", 80, 0, 0, NULL);
	char *keep = kmem_cache_alloc(c, GFP_KERNEL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	char bytes[32];
	kmem_cache_free(c, o);
	o[30] = 1;	/* write after free */
	hex8(bytes, (unsigned char *)o + 30);
	if (sh_slob())
		mc_begin(MC_MISUSE, "kmm: poison overwritten: mc-uaf free block %p offset 30: %s (slob page pfn %lu)", (void *)o,
			 bytes, pfn_of(o));
	else
		mc_begin(MC_MISUSE, "kmm: poison overwritten: mc-uaf object %p offset 30: %s", (void *)o, bytes);
	int rc = kmm_check();	/* the validation finds it (reports, repairs, fails once) */
	mc_end();
	expect_lt(rc, 0);
	kmem_cache_free(c, keep);
	kmem_cache_destroy(c);
}

TEST(catalog_07_poison_overwritten)
{
	mc_run("found by kmm_check", c07, "slab_debug=P");
}

/* ------------------------------------------------------------------ */
/* 8. read after free: poison or zero, never the old contents          */
/* ------------------------------------------------------------------ */

static void c08(void)
{
	bool zero = variant == 1;
	for (size_t size = 16; size <= 2048; size *= 2) {
		unsigned char *keep = kmalloc(size, GFP_KERNEL);
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		memset(p, 0x11, size);
		if (size == 16) {
			mc_begin(MC_SILENT, NULL);
			mc.changes_state = true;	/* a real free */
		}
		kfree(p);
		if (size == 16)
			mc_end();
		kt_unpoison(p, size);	/* read after free, on purpose */
		/* SLOB keeps its free-block header (2 words, encoded) at the start */
		size_t skip = sh_slob() ? 4 : 0, secret = 0, other = 0;
		for (size_t i = skip; i < size; i++) {
			secret += p[i] == 0x11;
			if (zero)
				other += p[i] != 0;
			else
				other += p[i] != 0x6b && !(p[i] == 0xa5 && !sh_slob());
		}
		expect_eq(secret, 0);
		expect_eq(other, 0);
		kfree(keep);
	}
}

TEST(catalog_08_read_after_free_sees_poison_or_zero)
{
	variant = 0;
	mc_run("slab_debug=P", c08, "slab_debug=P");
	variant = 1;
	mc_run("init_on_free=1", c08, "init_on_free=1");
}

/* ------------------------------------------------------------------ */
/* 9. corrupted free list                                              */
/* ------------------------------------------------------------------ */

int kmm_slob_word_key(const void *addr);	/* slob.c (white-box) */

static void c09(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-chain", 256, 0, 0, NULL);
	void *o[3];
	for (int i = 0; i < 3; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_free(c, o[1]);
	kmm_drain_all();	/* o[1] is on its slab's free chain / in a free block */
	mc.leak_ok = true;	/* the broken slab's objects stay out of circulation */
	if (sh_slob()) {
		int16_t *w = o[1];
		kt_unpoison(w, 2);
		*w = (int16_t)(0x7fff ^ kmm_slob_word_key(w));	/* size 32767 units, decoded */
		mc_begin(MC_MISUSE, "kmm: freelist corrupt: mc-chain slob page pfn %lu: free block %p (page offset %lu): block size runs past the page end; page taken out of use",
			 pfn_of(o[1]), o[1], (unsigned long)((uintptr_t)o[1] & (PAGE_SIZE - 1)));
	} else {
		struct slab *slabp = virt_to_page(o[0])->slab_mgmt;
		struct slab_cache *cachep = SC(c);
		unsigned int idx = slabp->free;
		slab_bufctl(slabp)[idx] = 0x7777;	/* points far outside the slab */
		mc_begin(MC_MISUSE, "kmm: freelist corrupt: mc-chain slab %p (objects at %p): free chain entry %u reads 0x7777 (%u objects per slab)",
			 (void *)slabp, slabp->s_mem, idx, cachep->num);
	}
	void *n = kmem_cache_alloc(c, GFP_KERNEL);	/* walks the chain */
	mc.changes_state = true;	/* the slab is taken out of use; the allocation goes elsewhere */
	mc_end();
	expect_nonnull(n);
	expect_true(n != o[1]);
	kmem_cache_free(c, n);
	kmem_cache_free(c, o[0]);
	kmem_cache_free(c, o[2]);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
}

TEST(catalog_09_freelist_corrupt)
{
	mc_run("free chain leaves the slab / free-block header damaged", c09, "");
}

/* ------------------------------------------------------------------ */
/* 10. kmalloc(0)                                                      */
/* ------------------------------------------------------------------ */

static void c10(void)
{
	mc_begin(MC_SILENT, NULL);
	void *z = kmalloc(0, GFP_KERNEL);
	kfree(z);
	kfree(z);
	void *z2 = krealloc(NULL, 0, GFP_KERNEL);
	mc_end();
	expect_true(z == ZERO_SIZE_PTR && z != NULL);
	expect_true(z2 == ZERO_SIZE_PTR);
	expect_eq(ksize(z), 0);
}

static void touch_zero_size_ptr(void)
{
	if (kmm_boot("mem=16M numa=1 cpus=1"))
		_exit(2);
	volatile char *z = kmalloc(0, GFP_KERNEL);
	signal(SIGSEGV, SIG_DFL);
	(void)z[0];
	_exit(0);
}

TEST(catalog_10_kmalloc_zero)
{
	mc_run("ZERO_SIZE_PTR, kfree accepts it", c10, "");
	kmm_shutdown();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		touch_zero_size_ptr();
	int status;
	waitpid(pid, &status, 0);
	expect_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);	/* any access faults */
}

/* ------------------------------------------------------------------ */
/* 11. too big: NULL, a warning unless __GFP_NOWARN                    */
/* ------------------------------------------------------------------ */

static void c11(void)
{
	if (variant == 0) {
		mc_begin(MC_WARN, "kmm: kmalloc: %zu bytes is above KMALLOC_MAX_SIZE (%lu): mode:%#x", SIZE_MAX,
			 (unsigned long)(PAGE_SIZE << MAX_PAGE_ORDER), (unsigned int)GFP_KERNEL);
		void *p = kmalloc(SIZE_MAX, GFP_KERNEL);
		mc_end();
		expect_null(p);
	} else {
		mc_begin(MC_SILENT, NULL);
		void *p = kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN);
		void *q = kmalloc_node(SIZE_MAX / 2, GFP_ATOMIC | __GFP_NOWARN, 0);
		mc_end();
		expect_null(p);
		expect_null(q);
	}
}

TEST(catalog_11_too_big)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant ? "__GFP_NOWARN" : "warning", c11, "");
}

/* ------------------------------------------------------------------ */
/* 12. n * size overflow                                               */
/* ------------------------------------------------------------------ */

static void c12(void)
{
	mc_begin(MC_SILENT, NULL);
	void *a = kcalloc(SIZE_MAX / 4 + 1, 4, GFP_KERNEL);
	void *b = kmalloc_array(SIZE_MAX, SIZE_MAX, GFP_KERNEL);
	void *c = kcalloc((size_t)1 << 33, (size_t)1 << 31, GFP_KERNEL);
	mc_end();	/* nothing allocated: the fingerprint is unchanged */
	expect_null(a);
	expect_null(b);
	expect_null(c);
}

TEST(catalog_12_array_overflow)
{
	mc_run("kcalloc / kmalloc_array", c12, "");
}

/* ------------------------------------------------------------------ */
/* 13. bad cache geometry                                              */
/* ------------------------------------------------------------------ */

static void c13(void)
{
	mc_begin(MC_SILENT, NULL);
	struct kmem_cache *r[5] = {
		kmem_cache_create("align-3", 64, 3, 0, NULL),
		kmem_cache_create("align-100", 64, 100, 0, NULL),
		kmem_cache_create("size-0", 0, 8, 0, NULL),
		kmem_cache_create("too-big", 64u << 20, 0, 0, NULL),
		kmem_cache_create(NULL, 64, 0, 0, NULL),
	};
	mc_end();
	for (int i = 0; i < 5; i++)
		expect_null(r[i]);
}

TEST(catalog_13_bad_cache_arguments)
{
	mc_run("alignment, size, name", c13, "");
}

/* ------------------------------------------------------------------ */
/* 14. destroy with live objects                                       */
/* ------------------------------------------------------------------ */

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static void c14(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-live", 48, 0, 0, NULL);
	void *o[3], *sorted[3];
	for (int i = 0; i < 3; i++)
		sorted[i] = o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	qsort(sorted, 3, sizeof(void *), cmp_ptr);
	mc_begin(MC_MISUSE, "kmm: objects remaining: mc-live: 3 objects remaining on kmem_cache_destroy, cache kept: %p %p %p",
		 sorted[0], sorted[1], sorted[2]);
	kmem_cache_destroy(c);
	mc_end();
	/* still a valid cache */
	void *x = kmem_cache_alloc(c, GFP_KERNEL);
	expect_nonnull(x);
	kmem_cache_free(c, x);
	for (int i = 0; i < 3; i++)
		kmem_cache_free(c, o[i]);
	kmem_cache_destroy(c);
	expect_false(sh_slabinfo("mc-live").found);
}

TEST(catalog_14_objects_remaining)
{
	mc_run("three objects", c14, "");
}

/* ------------------------------------------------------------------ */
/* 15. destroyed or bogus cache                                        */
/* ------------------------------------------------------------------ */

static void c15(void)
{
	if (variant < 2) {
		struct kmem_cache *c = kmem_cache_create("mc-gone", 48, 0, 0, NULL);
		kmem_cache_destroy(c);
		const char *why = PageSlab(virt_to_page(c)) ? "destroyed or not a cache"
							    : "not a cache descriptor (not on a slab page)";
		if (variant == 0) {
			mc_begin(MC_MISUSE, "kmm: invalid cache: kmem_cache_destroy(%p): %s", (void *)c, why);
			kmem_cache_destroy(c);
			mc_end();
		} else {
			mc_begin(MC_MISUSE, "kmm: invalid cache: kmem_cache_alloc(%p): %s", (void *)c, why);
			void *o = kmem_cache_alloc(c, GFP_KERNEL);
			mc_end();
			expect_null(o);
		}
	} else {
		long fake[64] = { 0 };
		mc_begin(MC_MISUSE, "kmm: invalid cache: kmem_cache_alloc(%p): not a cache descriptor", (void *)fake);
		void *o = kmem_cache_alloc((struct kmem_cache *)fake, GFP_KERNEL);
		mc_end();
		expect_null(o);
	}
}

TEST(catalog_15_invalid_cache)
{
	for (variant = 0; variant < 3; variant++)
		mc_run(variant == 0 ? "destroy twice" : variant == 1 ? "alloc from a destroyed cache" : "a stack array as cache",
		       c15, "");
}

/* ------------------------------------------------------------------ */
/* 16. constructor contract                                            */
/* ------------------------------------------------------------------ */

struct ctor_obj {
	unsigned magic, gen;
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

static void c16(void)
{
	ctor_runs = 0;
	struct kmem_cache *c = kmem_cache_create("mc-ctor", sizeof(struct ctor_obj), 0, 0, ctor_fn);
	struct ctor_obj *o[100];
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 100; i++) {
			o[i] = kmem_cache_alloc(c, GFP_KERNEL);
			expect_eq(o[i]->magic, 0xc0ffee);
			expect_eq(o[i]->pad[55], 'c');
			expect_eq(o[i]->gen, 0);
			o[i]->gen = 7;
		}
		for (int i = 0; i < 100; i++) {
			o[i]->gen = 0;	/* back to the constructed state before free */
			kmem_cache_free(c, o[i]);
		}
	}
	mc_end();
	if (sh_slob())
		expect_eq(ctor_runs, 400);	/* SLOB: at every allocation */
	else
		expect_lt(ctor_runs, 200);	/* SLAB: once per slab lifetime */
	kmem_cache_destroy(c);
}

TEST(catalog_16_constructor_contract)
{
	mc_run("constructed once, never zeroed", c16, "init_on_alloc=1 init_on_free=1");
}

/* ------------------------------------------------------------------ */
/* 17-20. the page allocator                                           */
/* ------------------------------------------------------------------ */

static void c17(void)
{
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	mc_begin(MC_MISUSE, "kmm: wrong order: __free_pages: pfn %lu allocated with order 2, freed as order 1", page_to_pfn(p));
	__free_pages(p, 1);
	mc_end();
	__free_pages(p, 2);
}

TEST(catalog_17_wrong_order)
{
	mc_run("order 2 freed as 1", c17, "");
}

static void c18(void)
{
	struct page *p = alloc_pages(GFP_KERNEL, variant);
	__free_pages(p, variant);
	mc_begin(MC_MISUSE, "kmm: page double free: __free_pages: pfn %lu order %d is already free", page_to_pfn(p), variant);
	__free_pages(p, variant);
	mc_end();
}

TEST(catalog_18_page_double_free)
{
	for (variant = 0; variant < 4; variant += 3)
		mc_run(variant ? "order 3" : "order 0", c18, "");
}

static void c19(void)
{
	struct page *p;
	const char *why;
	if (variant == 0) {
		p = alloc_page(GFP_HIGHUSER);
		assert_true(PageHighMem(p));
		assert_nonnull(kmap(p));
		why = "still mapped (kmap or vmap)";
	} else {
		p = alloc_page(GFP_KERNEL);
		SetPageSlab(p);	/* a page the slab layer still claims */
		why = "still marked slab";
	}
	mc_begin(MC_MISUSE, "kmm: bad page state: pfn %lu flags %#lx count 0 mapcount %d: %s", page_to_pfn(p),
		 page_flags_read(p) & ((1UL << __NR_PAGEFLAGS) - 1), p->_mapcount, why);
	__free_pages(p, 0);
	mc_end();
	/* the page was taken out of circulation (leaked); give it back by hand */
	expect_eq(page_count(p), 0);
	if (variant == 0)
		kunmap(p);
	else
		ClearPageSlab(p);
	p->_refcount = 1;
	__free_pages(p, 0);
}

TEST(catalog_19_bad_page_state)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant ? "still marked slab" : "still kmapped", c19, "");
}

static void c20(void)
{
	if (variant == 0) {
		mc_begin(MC_WARN, "kmm: page allocation failure: order:11, mode:%#x(GFP_KERNEL), nid=-1: order above MAX_PAGE_ORDER (10)",
			 (unsigned int)GFP_KERNEL);
		struct page *p = alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER + 1);
		mc_end();
		expect_null(p);
	} else {
		mc_begin(MC_SILENT, NULL);
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 40);
		mc_end();
		expect_null(p);
	}
}

TEST(catalog_20_order_above_max)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant ? "__GFP_NOWARN" : "warning", c20, "");
}

/* ------------------------------------------------------------------ */
/* 21-23. exhaustion and fallback                                      */
/* ------------------------------------------------------------------ */

static void c21(void)
{
	struct blist b = { 0 };
	exhaust(&b, -1, GFP_TAKE_ALL, MAX_PAGE_ORDER);
	uint64_t t0 = now_ns();
	mc_begin(MC_WARN, "kmm: page allocation failure: order:0, mode:%#x(GFP_ATOMIC), nid=0: no memory above the watermark and the request may not sleep",
		 (unsigned int)GFP_ATOMIC);
	struct page *p = alloc_page(GFP_ATOMIC);
	mc_end();
	expect_null(p);
	expect_lt(ms_since(t0), 1000.0);	/* never blocks */
	blist_free_all(&b);
	blist_release(&b);
	/* and recovers at once */
	p = alloc_page(GFP_ATOMIC);
	expect_nonnull(p);
	__free_page(p);
}

TEST(catalog_21_atomic_under_exhaustion)
{
	mc_run("GFP_ATOMIC fails fast", c21, "");
}

struct late_free {
	struct blist *b;
	long ms;
};
static void *free_later(void *arg)	/* lifts the zones above their watermarks */
{
	struct late_free *lf = arg;
	sleep_ms(lf->ms);
	blist_free_all(lf->b);
	return NULL;
}

static void c22(void)
{
	struct blist b = { 0 };
	exhaust(&b, -1, GFP_TAKE_ALL, MAX_PAGE_ORDER);
	if (variant == 0) {
		mc_begin(MC_WARN, "kmm: out of memory: order:0 mode:%#x(GFP_KERNEL) after 50 ms", (unsigned int)GFP_KERNEL);
		struct page *p = alloc_page(GFP_KERNEL);
		mc_end();
		expect_null(p);
	} else {
		/* __GFP_NOFAIL waits past oom_wait_ms for a page another thread frees */
		struct late_free lf = { &b, 200 };
		pthread_t t;
		mc_begin(MC_SILENT, NULL);
		mc.changes_state = true;
		pthread_create(&t, NULL, free_later, &lf);
		struct page *p = alloc_page(GFP_KERNEL | __GFP_NOFAIL);
		pthread_join(t, NULL);
		mc_end();
		expect_nonnull(p);
		__free_page(p);
	}
	blist_free_all(&b);
	blist_release(&b);
}

TEST(catalog_22_blocking_under_exhaustion)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant ? "__GFP_NOFAIL waits" : "NULL after oom_wait_ms", c22, "oom_wait_ms=50");
}

static void c23(void)
{
	struct blist normal = { 0 };
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	/* NORMAL exhausted: GFP_KERNEL falls back to DMA ... */
	exhaust(&normal, -1, GFP_TAKE_ALL & ~__GFP_MEMALLOC, MAX_PAGE_ORDER);
	/* ... DMA requests never take NORMAL pages */
	struct blist dma = { 0 };
	exhaust(&dma, -1, GFP_TAKE_ALL | __GFP_DMA, MAX_PAGE_ORDER);
	for (size_t i = 0; i < dma.n; i++)
		if (page_zonenum(dma.p[i]) != ZONE_DMA)
			kt_fail(0, __FILE__, __LINE__, "a __GFP_DMA request got a %s page", page_zone_name(dma.p[i]));
	for (size_t i = 0; i < normal.n; i++)
		if (page_zonenum(normal.p[i]) == ZONE_HIGHMEM)
			kt_fail(0, __FILE__, __LINE__, "a GFP_KERNEL request got a HighMem page");
	mc_end();
	bool normal_fell_back = false;
	for (size_t i = 0; i < normal.n; i++)
		normal_fell_back |= page_zonenum(normal.p[i]) == ZONE_DMA;
	expect_true(normal_fell_back);
	blist_free_all(&dma);
	blist_free_all(&normal);
	blist_release(&dma);
	blist_release(&normal);
}

TEST(catalog_23_zone_fallback_only_downwards)
{
	mc_run("NORMAL -> DMA, never DMA -> NORMAL", c23, "");
}

/* ------------------------------------------------------------------ */
/* 24-26. vmalloc                                                      */
/* ------------------------------------------------------------------ */

static void c24(void)
{
	char *v = vmalloc(3 * PAGE_SIZE);
	void *k = kmalloc(64, GFP_KERNEL);
	int local;
	switch (variant) {
	case 0:	/* the alignment is checked first */
		mc_begin(MC_MISUSE, "kmm: vfree bad address: vfree(%p): %s", k,
			 ((uintptr_t)k & (PAGE_SIZE - 1)) ? "not page aligned" : "not in the vmalloc range");
		vfree(k);
		break;
	case 5: {
		unsigned long a = __get_free_page(GFP_KERNEL);
		mc_begin(MC_MISUSE, "kmm: vfree bad address: vfree(%p): not in the vmalloc range", (void *)a);
		vfree((void *)a);
		mc_end();
		free_page(a);
		vfree(v);
		kfree(k);
		return;
	}
	case 1:
		mc_begin(MC_MISUSE, "kmm: vfree bad address: vfree(%p): not page aligned", (void *)(v + 8));
		vfree(v + 8);
		break;
	case 2:
		mc_begin(MC_MISUSE, "kmm: vfree bad address: vfree(%p): not page aligned", (void *)&local);
		vfree(&local);
		break;
	case 3:
		mc_begin(MC_MISUSE, "kmm: vfree nonexistent area: vfree(%p): not the start of a live vm area",
			 (void *)(v + PAGE_SIZE));
		vfree(v + PAGE_SIZE);
		break;
	default:
		mc_begin(MC_SILENT, NULL);
		vfree(NULL);
		break;
	}
	mc_end();
	vfree(v);
	kfree(k);
}

TEST(catalog_24_vfree_bad_address)
{
	static const char *const what[] = { "a kmalloc pointer", "misaligned", "the stack", "inside an area",
					    "vfree(NULL)", "a page of the linear map" };
	for (variant = 0; variant < 6; variant++)
		mc_run(what[variant], c24, "");
}

static void c25(void)
{
	void *v = vmalloc(2 * PAGE_SIZE);
	vfree(v);
	mc_begin(MC_MISUSE, "kmm: vfree nonexistent area: vfree(%p): not the start of a live vm area", v);
	vfree(v);
	mc_end();
}

TEST(catalog_25_double_vfree)
{
	mc_run("vfree twice", c25, "");
}

static void c26(void)
{
	void *a[8];
	int n = 0;
	while (n < 3 && (a[n] = vmalloc(1 << 20)) != NULL)
		n++;
	expect_eq(n, 3);
	mc_begin(MC_WARN, "kmm: vmap allocation for size %lu failed: use vmalloc=<size> to increase size",
		 (1UL << 20) + PAGE_SIZE);
	void *p = vmalloc(1 << 20);
	mc_end();
	expect_null(p);
	/* a freed range is purged and reused: no sticky failure */
	vfree(a[1]);
	a[1] = vmalloc(1 << 20);
	expect_nonnull(a[1]);
	for (int i = 0; i < n; i++)
		vfree(a[i]);
}

TEST(catalog_26_vmalloc_space_exhausted)
{
	mc_run("3 MiB of a 4 MiB window", c26, "vmalloc=4M");
}

/* ------------------------------------------------------------------ */
/* 27-28. highmem                                                      */
/* ------------------------------------------------------------------ */

static void c27(void)
{
	struct page *p = alloc_page(GFP_HIGHUSER);
	assert_true(PageHighMem(p));
	if (variant == 1) {
		assert_nonnull(kmap(p));
		kunmap(p);
	}
	mc_begin(MC_MISUSE, variant == 0 ? "kmm: kunmap not mapped: kunmap: pfn %lu has no permanent kmap"
					 : "kmm: kunmap not mapped: kunmap: pfn %lu at %p: unmapped more times than mapped (pkmap_count 1)",
		 page_to_pfn(p), page_address(p));
	kunmap(p);
	mc_end();
	kmm_drain_all();
	__free_page(p);
}

TEST(catalog_27_kunmap_not_mapped)
{
	for (variant = 0; variant < 2; variant++)
		mc_run(variant ? "one kunmap too many" : "never mapped", c27, "");
}

struct kmap_waiter {
	struct page *page;
	void *addr;
	int done;
};
static void *kmap_blocking(void *arg)
{
	struct kmap_waiter *w = arg;
	w->addr = kmap(w->page);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void c28(void)
{
	if (variant == 0) {	/* kmap_local past its 16 slots */
		struct page *p[KM_MAX_IDX + 1];
		void *a[KM_MAX_IDX];
		for (int i = 0; i <= KM_MAX_IDX; i++)
			p[i] = alloc_page(GFP_HIGHUSER);
		for (int i = 0; i < KM_MAX_IDX; i++)
			a[i] = kmap_local_page(p[i]);
		mc_begin(MC_MISUSE, "kmm: kmap_local overflow: pfn %lu: this thread already holds 16 kmap_local/kmap_atomic mappings",
			 page_to_pfn(p[KM_MAX_IDX]));
		void *x = kmap_local_page(p[KM_MAX_IDX]);
		mc_end();
		expect_null(x);
		for (int i = KM_MAX_IDX - 1; i >= 0; i--)
			kunmap_local(a[i]);
		for (int i = 0; i <= KM_MAX_IDX; i++)
			__free_page(p[i]);
	} else {	/* kmap with every pkmap slot taken waits for a kunmap */
		struct page *p[5];
		for (int i = 0; i < 5; i++)
			p[i] = alloc_page(GFP_HIGHUSER);
		for (int i = 0; i < 4; i++)
			assert_nonnull(kmap(p[i]));
		struct kmap_waiter w = { p[4], NULL, 0 };
		pthread_t t;
		mc_begin(MC_SILENT, NULL);
		mc.changes_state = true;
		pthread_create(&t, NULL, kmap_blocking, &w);
		sleep_ms(100);
		expect_eq(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);	/* asleep */
		kunmap(p[0]);
		pthread_join(t, NULL);
		mc_end();
		expect_nonnull(w.addr);
		kunmap(p[4]);
		for (int i = 1; i < 4; i++)
			kunmap(p[i]);
		kmm_drain_all();
		for (int i = 0; i < 5; i++)
			__free_page(p[i]);
	}
}

TEST(catalog_28_kmap_full)
{
	variant = 0;
	mc_run("kmap_local overflow", c28, "");
	variant = 1;
	mc_run("kmap waits for a kunmap", c28, "pkmap=4");
}

/* ------------------------------------------------------------------ */
/* 29-31. mempools                                                     */
/* ------------------------------------------------------------------ */

static void c29(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-pool", 64, 0, 0, NULL);
	mempool_t *pool = mempool_create_slab_pool(2, c);
	assert_nonnull(pool);
	void *foreign = kmalloc(64, GFP_KERNEL);
	if (variant == 0) {
		mc_begin(MC_MISUSE, "kmm: mempool foreign element: mempool %p (slab mc-pool): element %p was not allocated by its allocator",
			 (void *)pool, foreign);
		mempool_free(foreign, pool);
	} else {
		mc_begin(MC_SILENT, NULL);
		mempool_free(NULL, pool);
	}
	mc_end();
	kfree(foreign);
	mempool_destroy(pool);
	kmem_cache_destroy(c);
}

TEST(catalog_29_mempool_foreign_element)
{
	variant = 0;
	mc_run("a kmalloc object to a slab pool", c29, "slab_debug=F");
	variant = 1;
	mc_run("mempool_free(NULL)", c29, "");
}

struct pool_free_later {
	mempool_t *pool;
	void *e;
};
static void *pool_free_later(void *arg)
{
	struct pool_free_later *f = arg;
	sleep_ms(100);
	mempool_free(f->e, f->pool);
	return NULL;
}

static void c30(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-res", 64, 0, 0, NULL);
	mempool_t *pool = mempool_create_slab_pool(2, c);
	assert_nonnull(pool);
	assert_eq(kmm_fault_config("fail_mempool", "probability=100 interval=1 times=-1 verbose=0"), 0);
	void *a = mempool_alloc(pool, GFP_KERNEL), *b = mempool_alloc(pool, GFP_KERNEL);
	expect_nonnull(a);
	expect_nonnull(b);	/* the reserve serves min_nr while the allocator fails */
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	void *x = mempool_alloc(pool, GFP_ATOMIC);	/* empty reserve: NULL at once */
	struct pool_free_later f = { pool, b };
	pthread_t t;
	pthread_create(&t, NULL, pool_free_later, &f);
	void *y = mempool_alloc(pool, GFP_KERNEL);	/* waits for that free */
	pthread_join(t, NULL);
	mc_end();
	expect_null(x);
	expect_true(y == b);
	assert_eq(kmm_fault_config("fail_mempool", "probability=0"), 0);
	mempool_free(a, pool);
	mempool_free(y, pool);
	mempool_destroy(pool);
	kmem_cache_destroy(c);
}

TEST(catalog_30_mempool_empty_reserve)
{
	mc_run("atomic NULL, blocking waits", c30, "");
}

static void c31(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-out", 64, 0, 0, NULL);
	mempool_t *pool = mempool_create_slab_pool(2, c);
	void *e = mempool_alloc(pool, GFP_KERNEL);
	mc.changes_state = true;	/* the pool goes away; the element stays the caller's */
	mc_begin(MC_MISUSE, "kmm: mempool elements outstanding: mempool %p (slab, min_nr 2): 1 element still allocated",
		 (void *)pool);
	mempool_destroy(pool);
	mc_end();
	kmem_cache_free(c, e);
	kmem_cache_destroy(c);
}

TEST(catalog_31_mempool_elements_outstanding)
{
	mc_run("one element out", c31, "");
}

TEST_MAIN()
