/* kmm-test: backends */
/*
 * tests/unit/hardening.c - the hardening of issue 6 part 4:
 *   a. SLOB's free-block headers are stored encoded (value ^ a key from
 *      the boot secret and the word's address): a header forged in plain
 *      text (as a use after free would write one) decodes to garbage and is
 *      reported as "freelist corrupt" instead of being followed; classic
 *      SLAB keeps no pointer inside free objects at all (bufctl array), so
 *      scribbling over free objects cannot steer it;
 *   b. slab_random=on (the default) shuffles the free chain of each new
 *      SLAB slab; the order is reproducible with random_seed=, and off
 *      gives index order;
 *   c. the O(1) double-free check (per-object state) catches every double
 *      free, however late;
 *   d. init_on_alloc=1 / init_on_free=1 zero pages and objects (never
 *      objects of caches with constructors);
 *   e. vmalloc guard pages: see vmalloc.c (vmalloc_guard_page_faults);
 *   f. no pointer is dereferenced before it is validated: kfree,
 *      kmem_cache_free, ksize, krealloc, vfree, kunmap, kunmap_local,
 *      mempool_free, __free_pages, free_pages, put_page and get_page given
 *      thousands of garbage pointers (random, misaligned, stack, unmapped,
 *      inside mem_map, inside the vmalloc window) never crash and report
 *      each one (this test runs under ASan too).
 */
#include <sys/mman.h>

#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"
#include "mm/slab_classic.h"
#include <kmm/mempool.h>

#define HB "mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=2 on_error=report"

int kmm_slob_word_key(const void *addr);	/* slob.c (white-box) */

/* ------------------------------------------------------------------ */
/* a. encoded free-block headers (SLOB) / no in-object pointers (SLAB) */
/* ------------------------------------------------------------------ */

TEST(forged_free_headers_are_not_followed)
{
	sh_boot(HB " random_seed=12345");
	struct kmem_cache *c = kmem_cache_create("hd-forge", 120, 0, 0, NULL);
	int trials = 60, caught = 0;
	if (sh_slob()) {
		/* a use after free writes a plausible header in plain text: "this
		 * free block is twice as long (it covers the live object after
		 * it) and the last of the page" - followed, the allocator would
		 * hand out memory of a live object */
		for (int t = 0; t < trials; t++) {
			void *o[3];
			for (int i = 0; i < 3; i++)
				o[i] = kmem_cache_alloc(c, GFP_KERNEL);
			kmem_cache_free(c, o[1]);
			int16_t *w = o[1];
			kt_unpoison(w, 4);	/* the use after free */
			unsigned units = (unsigned)((uintptr_t)o[2] - (uintptr_t)o[1]) / 2;
			w[0] = (int16_t)(2 * units);
			w[1] = (int16_t)(PAGE_SIZE / 2);	/* SLOB_END */
			unsigned long e0 = kmm_error_count();
			logcap_start();
			void *n = kmem_cache_alloc(c, GFP_KERNEL);
			logcap_stop();
			bool reported = kmm_error_count() > e0 && logcap_find("kmm: freelist corrupt: hd-forge");
			caught += reported;
			if (reported)	/* the page is out of use: never a live object */
				expect_true(n != o[0] && n != o[2]);
			kmem_cache_free(c, n);
			kmem_cache_free(c, o[0]);
			kmem_cache_free(c, o[2]);
			expect_eq(kmm_check(), 0);
		}
		printf("    %d of %d forged headers reported\n", caught, trials);
		expect_ge(caught, trials * 9 / 10);
		/* encoded, the same value reads back through the key */
		void *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, a);
		int16_t *w = a;
		expect_ne((int16_t)(w[0] ^ kmm_slob_word_key(w)), 0);
		kmem_cache_free(c, b);
	} else {
		/* SLAB: free objects hold nothing the allocator reads */
		enum { N = 200 };
		void *o[N];
		for (int i = 0; i < N; i++)
			o[i] = kmem_cache_alloc(c, GFP_KERNEL);
		for (int i = 0; i < N; i += 2) {
			kmem_cache_free(c, o[i]);
			kt_unpoison(o[i], 120);
			memset(o[i], 0xff, 120);	/* write after free, everywhere */
		}
		kmm_drain_all();
		for (int i = 0; i < N; i += 2) {
			o[i] = kmem_cache_alloc(c, GFP_KERNEL);
			for (int j = 1; j < N; j += 2)
				expect_true(o[i] != o[j]);
		}
		expect_eq(kmm_check(), 0);
		for (int i = 0; i < N; i++)
			kmem_cache_free(c, o[i]);
	}
	kmem_cache_destroy(c);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* b. free chain order                                                 */
/* ------------------------------------------------------------------ */

/* indices (by address) of the first n objects of a fresh cache's slab */
static int slab_order(const char *opts, int *idx, int n)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "%s %s", HB, opts);
	sh_boot(cmd);
	struct kmem_cache *c = kmem_cache_create("hd-order", 256, 0, 0, NULL);
	void *o[64];
	char *lo = NULL;
	for (int i = 0; i < n; i++) {
		o[i] = kmem_cache_alloc_node(c, GFP_KERNEL, 0);	/* the locked path: straight from the chain */
		if (!lo || (char *)o[i] < lo)
			lo = o[i];
	}
	int up = 1, down = 1;	/* index order, either way (the CPU array is a LIFO) */
	for (int i = 0; i < n; i++) {
		idx[i] = (int)(((char *)o[i] - lo) / 256);
		up &= i == 0 || idx[i] == idx[i - 1] + 1;
		down &= i == 0 || idx[i] == idx[i - 1] - 1;
	}
	for (int i = 0; i < n; i++)
		kmem_cache_free(c, o[i]);
	kmem_cache_destroy(c);
	kmm_shutdown();
	return up || down;
}

TEST(freelist_order_is_randomised)
{
	if (sh_slob())
		skip_test("SLOB is first fit in address order by design");
	int a[12], b[12], c[12], d[12];
	expect_false(slab_order("random_seed=7", a, 12));
	slab_order("random_seed=7", b, 12);
	expect_true(memcmp(a, b, sizeof(a)) == 0);	/* reproducible with a seed */
	slab_order("random_seed=8", c, 12);
	expect_true(memcmp(a, c, sizeof(a)) != 0);	/* another seed, another order */
	expect_true(slab_order("slab_random=off", d, 12));	/* index order */
}

/* ------------------------------------------------------------------ */
/* c. every double free is caught                                       */
/* ------------------------------------------------------------------ */

TEST(every_double_free_is_caught)
{
	sh_boot(HB);
	struct kmem_cache *c = kmem_cache_create("hd-df", 48, 0, 0, NULL);
	enum { N = 500 };
	static void *o[N];
	for (int i = 0; i < N; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	void *keep = kmem_cache_alloc(c, GFP_KERNEL);	/* keeps SLOB's last page */
	for (int i = 0; i < N; i++)
		kmem_cache_free(c, o[i]);
	unsigned long seed = kt_seed(), e0 = kmm_error_count();
	logcap_start();
	int n = 0;
	for (int i = 0; i < 200; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		void *p = o[(seed >> 33) % N];
		if (i == 100)
			kmm_drain_all();	/* array caches to the slabs: late double frees */
		kmem_cache_free(c, p);
		n++;
	}
	logcap_stop();
	expect_eq(kmm_error_count() - e0, (unsigned long)n);
	expect_eq(logcap_count("kmm: double free: "), n);
	expect_eq(kmm_check(), 0);
	kmem_cache_free(c, keep);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* d. init_on_alloc / init_on_free                                      */
/* ------------------------------------------------------------------ */

static void ctor_a5(void *p) { memset(p, 0xa5, 40); }

static bool all(const void *p, size_t n, unsigned char v)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

TEST(init_on_alloc_zeroes)
{
	sh_boot(HB " init_on_alloc=1");
	struct kmem_cache *c = kmem_cache_create("hd-ioa", 200, 0, 0, NULL);
	struct kmem_cache *cc = kmem_cache_create("hd-ioa-ctor", 40, 0, 0, ctor_a5);
	for (int round = 0; round < 3; round++) {
		char *k = kmalloc(300, GFP_KERNEL), *o = kmem_cache_alloc(c, GFP_KERNEL), *x = kmem_cache_alloc(cc, GFP_KERNEL);
		struct page *pg = alloc_pages(GFP_KERNEL, 1);
		char *big = kmalloc(200000, GFP_KERNEL), *v = vmalloc(3 * PAGE_SIZE);
		expect_true(all(k, 300, 0));
		expect_true(all(o, 200, 0));
		expect_true(all(x, 40, 0xa5));	/* constructed, not zeroed */
		expect_true(all(page_address(pg), 2 * PAGE_SIZE, 0));
		expect_true(all(big, 200000, 0));
		expect_true(all(v, 3 * PAGE_SIZE, 0));
		memset(k, 0x99, 300), memset(o, 0x99, 200), memset(page_address(pg), 0x99, 2 * PAGE_SIZE);
		memset(big, 0x99, 200000), memset(v, 0x99, 3 * PAGE_SIZE);
		kfree(k), kmem_cache_free(c, o), kmem_cache_free(cc, x), __free_pages(pg, 1), kfree(big), vfree(v);
	}
	kmem_cache_destroy(c);
	kmem_cache_destroy(cc);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(init_on_free_zeroes)
{
	sh_boot(HB " init_on_free=1");
	struct kmem_cache *c = kmem_cache_create("hd-iof", 200, 0, 0, NULL);
	struct kmem_cache *cc = kmem_cache_create("hd-iof-ctor", 40, 0, 0, ctor_a5);
	char *keep = kmem_cache_alloc(c, GFP_KERNEL), *keepk = kmalloc(300, GFP_KERNEL);
	char *keepx = kmem_cache_alloc(cc, GFP_KERNEL);
	char *k = kmalloc(300, GFP_KERNEL), *o = kmem_cache_alloc(c, GFP_KERNEL), *x = kmem_cache_alloc(cc, GFP_KERNEL);
	unsigned long pa = __get_free_pages(GFP_KERNEL, 2);
	memset(k, 0x99, 300), memset(o, 0x99, 200), memset(x, 0x99, 40), memset((void *)pa, 0x99, 4 * PAGE_SIZE);
	kfree(k), kmem_cache_free(c, o), kmem_cache_free(cc, x), free_pages(pa, 2);
	kt_unpoison(k, 300), kt_unpoison(o, 200), kt_unpoison(x, 40), kt_unpoison((void *)pa, 4 * PAGE_SIZE);
	/* read after free: zero, never the old contents (SLOB keeps its
	 * 4-byte free-block header at a block's start) */
	size_t skip = sh_slob() ? 4 : 0;
	expect_true(all(k + skip, 300 - skip, 0));
	expect_true(all(o + skip, 200 - skip, 0));
	expect_false(all(x + skip, 40 - skip, 0));	/* a constructor's cache is left alone */
	expect_true(all((void *)pa, 4 * PAGE_SIZE, 0));
	kmem_cache_free(c, keep), kfree(keepk), kmem_cache_free(cc, keepx);
	kmem_cache_destroy(c);
	kmem_cache_destroy(cc);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* f. garbage pointers                                                  */
/* ------------------------------------------------------------------ */

static unsigned long g_seed;
static void *garbage(int i, char *stack, char *unmapped)
{
	g_seed = g_seed * 6364136223846793005UL + 1442695040888963407UL;
	uint64_t r = g_seed ^ (g_seed >> 29);
	char *mm = (char *)kmm.mem_map, *lin = kmm.page_offset, *vm = kmm.vmalloc_start;
	switch (i % 9) {
	case 0:
		return (void *)(uintptr_t)r;					/* anywhere */
	case 1:
		return (void *)(uintptr_t)(r & 0xffff);				/* near NULL */
	case 2:
		return stack + (r % 64);					/* the stack */
	case 3:
		return unmapped + (r % (16 * 4096));				/* an unmapped region */
	case 4:
		return (void *)((uintptr_t)(mm + r % (kmm.max_pfn * sizeof(struct page))) | 1);	/* mem_map, misaligned */
	case 5:
		return lin + ((r % (kmm.max_low_pfn << PAGE_SHIFT)) | 3);	/* linear map, misaligned */
	case 6:
		return vm + (r % (size_t)(kmm.vmalloc_end - kmm.vmalloc_start));	/* the vmalloc window */
	case 7:
		return (void *)(uintptr_t)(r | 0xffff800000000000ULL);		/* kernel-looking */
	default:
		return (void *)(uintptr_t)((r & ~0xfffUL) & 0x7fffffffffffUL);	/* page aligned, anywhere */
	}
}

/* is the pointer free of any live object of this test (random pointers
 * into the linear map may land on memory allocated at boot) */
static bool harmless(const void *p)
{
	if (!kmm_is_linear_addr(p))
		return true;
	return ((uintptr_t)p & 3) != 0;	/* misaligned: never an object or a page */
}

TEST(garbage_pointers_never_crash)
{
	sh_boot(HB " slab_debug=F");
	g_seed = kt_seed();
	char stack[128];
	char *unmapped = mmap(NULL, 16 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(unmapped != MAP_FAILED);
	struct kmem_cache *c = kmem_cache_create("hd-garbage", 64, 0, 0, NULL);
	mempool_t *pool = mempool_create_slab_pool(4, c);
	assert_nonnull(pool);
	kmm_drain_all();
	unsigned long free0 = nr_free_pages();
	static const char *const fns[] = { "kfree", "kmem_cache_free", "ksize", "krealloc", "vfree", "kunmap",
					   "kunmap_local", "mempool_free", "__free_pages", "free_pages", "put_page",
					   "get_page" };
	int per = KT_SANITIZED ? 300 : 2000;
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		unsigned long e0 = kmm_error_count();
		int calls = 0;
		logcap_start();
		for (int i = 0; i < per; i++) {
			void *p = garbage(i, stack, unmapped);
			if (ZERO_OR_NULL_PTR(p) || !harmless(p))	/* NULL .. 16: accepted as no-ops */
				continue;
			calls += f != 6 || !kmm_is_linear_addr(p);	/* kunmap_local of lowmem: a no-op */
			unsigned long before = kmm_error_count();
			switch (f) {
			case 0: kfree(p); break;
			case 1: kmem_cache_free(c, p); break;
			case 2: expect_eq(ksize(p), 0); break;
			case 3: expect_null(krealloc(p, 100, GFP_KERNEL)); break;
			case 4: vfree(p); break;
			case 5: kunmap(p); break;
			case 6: kunmap_local(p); break;
			case 7: mempool_free(p, pool); break;
			case 8: __free_pages(p, (unsigned)(i % 3)); break;
			case 9: free_pages((unsigned long)p, 0); break;
			case 10: put_page(p); break;
			case 11: get_page(p); break;
			}
			if (kmm_error_count() == before && f != 2 && (f != 6 || !kmm_is_linear_addr(p)))
				printf("    %s(%p): no report (case %d)\n", fns[f], p, i % 9);
		}
		logcap_stop();
		unsigned long reports = kmm_error_count() - e0;
		printf("    %-16s %d garbage pointers, %lu reports\n", fns[f], calls, reports);
		/* ksize reports only what looks like its own (a slab page);
		 * kmem_cache_free reports a pointer into another cache's slab
		 * as "wrong cache", then as what it is in that cache; SLOB's
		 * ksize (under krealloc) reports a bad pointer before krealloc
		 * says "invalid realloc" */
		if (f == 2)
			expect_le(reports, (unsigned long)calls);
		else if (f == 1 || f == 3)
			expect_ge(reports, (unsigned long)calls);
		else
			expect_eq(reports, (unsigned long)calls);
		expect_true(logcap_all_well_formed());
		expect_eq(kmm_check(), 0);
	}
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);	/* nothing was freed or taken */
	mempool_destroy(pool);
	kmem_cache_destroy(c);
	munmap(unmapped, 16 * 4096);
	kmm_shutdown();
}

TEST_MAIN()
