/*
 * tests/unit/slob.c - SLOB (slab=slob) white-box: the three page lists
 * chosen by request size, first fit in address order, the kmalloc block
 * header and ksize as the block size, 8-byte and natural alignment, large
 * kmallocs from the page allocator, pages going back when empty, merging
 * of free blocks, a corrupted free-block header ("freelist corrupt", the
 * heap still usable), constructors at every allocation, misuse specific to
 * SLOB's in-block metadata, the slab_debug letters F, Z and P, node and
 * zone placement, and the footprint against slab=slab.
 *
 * The layout constants below mirror src/mm/slob_internal.h: 2-byte units
 * (s16 offsets), a PAGE_SIZE/64-byte allocation bitmap at the start of
 * each page, 8-byte kmalloc headers holding the size.
 */
/* kmm-test: threaded */
#include "harness.h"
#include "page_helpers.h"
#include "mm/slab.h"

#define SLOB_BOOT "mem=64M numa=1 zones=normal slab=slob on_error=report"
#define UNIT 2u				/* sizeof(slobidx_t) with 4 KiB pages */
#define MAP_BYTES ((unsigned)(PAGE_SIZE / 64))	/* the bitmap at the page start */
#define HDR 8u				/* kmalloc header (minalign) */
#define USABLE ((unsigned)PAGE_SIZE - MAP_BYTES)

int kmm_slob_page_list(const void *addr);	/* slob_check.c: 0 small, 1 medium, 2 large, -1 none */
int kmm_slob_word_key(const void *addr);	/* slob.c: a header word is stored as value ^ key */

/* free-block header words are stored encoded (slob.c): read and write
 * their values */
static int hdr_get(const void *w) { return (int16_t)(*(const int16_t *)w ^ kmm_slob_word_key(w)); }
static void hdr_set(void *w, int v) { *(int16_t *)w = (int16_t)((int16_t)v ^ kmm_slob_word_key(w)); }

static void boot(const char *extra)
{
	char cmd[256];
	kmm_shutdown();
	snprintf(cmd, sizeof(cmd), "%s %s", SLOB_BOOT, extra ? extra : "");
	assert_eq(kmm_boot(cmd), 0);
	assert_eq(kmm_check(), 0);
}

static unsigned long free_after_drain(void)
{
	kmm_drain_all();
	return nr_free_pages();
}

static struct page *pg(const void *p) { return virt_to_page(p); }
static unsigned poff(const void *p) { return (unsigned)((uintptr_t)p & (PAGE_SIZE - 1)); }
static bool same_page(const void *a, const void *b) { return ((uintptr_t)a ^ (uintptr_t)b) < PAGE_SIZE; }

/* The free blocks of the SLOB page holding addr, decoded from the page
 * (byte offsets and sizes). */
struct fblk { unsigned off, size; };
static int free_blocks(const void *addr, struct fblk *out, int max)
{
	struct page *page = pg(addr);
	char *base = page_address(page);
	unsigned off = (unsigned)page->private;
	int n = 0;
	while (off != PAGE_SIZE / UNIT && n < max) {
		int16_t *w = (int16_t *)(base + off * UNIT);
		int w0 = hdr_get(&w[0]);
		unsigned size = w0 < 0 ? 1 : (unsigned)w0;
		unsigned next = w0 < 0 ? (unsigned)-w0 : (unsigned)hdr_get(&w[1]);
		out[n].off = off * UNIT;
		out[n].size = size * UNIT;
		n++;
		off = next;
	}
	return n;
}
static bool has_free_block(const void *addr, unsigned off, unsigned size)
{
	struct fblk b[600];
	int n = free_blocks(addr, b, 600);
	for (int i = 0; i < n; i++)
		if (b[i].off == off && b[i].size == size)
			return true;
	return false;
}
static unsigned free_units(const void *p) { return pg(p)->page_aux; }

/*
 * kmalloc(size) until a block opens a fresh SLOB page (its header right
 * after the bitmap).  The blocks allocated on the way are put in junk[];
 * the fresh page is first on its list, so the next requests of this list
 * start there.
 */
static char *fresh_kmalloc(size_t size, void **junk, int *njunk, int max)
{
	for (;;) {
		char *p = kmalloc(size, GFP_KERNEL);
		assert_nonnull(p);
		if (poff(p) == MAP_BYTES + HDR)
			return p;
		assert_lt(*njunk, max);
		junk[(*njunk)++] = p;
	}
}

/* ------------------------------------------------------------------ */

TEST(slob_boots_without_kmalloc_caches)
{
	boot(NULL);
	char *text = report_text("slabinfo", NULL);
	assert_nonnull(text);
	expect_true(strstr(text, "kmem_cache") != NULL);
	expect_true(strstr(text, "kmalloc-slob") != NULL);
	expect_true(strstr(text, "size-32") == NULL);	/* SLOB has no size classes */
	free(text);
	kmm_shutdown();
}

TEST(slob_three_lists_by_request_size)
{
	boot(NULL);
	struct kmem_cache *small = kmem_cache_create("slob-100", 100, 0, 0, NULL);
	struct kmem_cache *medium = kmem_cache_create("slob-500", 500, 0, 0, NULL);
	struct kmem_cache *large = kmem_cache_create("slob-2000", 2000, 0, 0, NULL);
	assert_nonnull(small);
	assert_nonnull(medium);
	assert_nonnull(large);
	void *a = kmem_cache_alloc(small, GFP_KERNEL), *b = kmem_cache_alloc(medium, GFP_KERNEL);
	void *c = kmem_cache_alloc(large, GFP_KERNEL);
	assert_true(a && b && c);
	/* a fresh page for each (pages belong to one owner), on the list for the size */
	expect_eq(kmm_slob_page_list(a), 0);
	expect_eq(kmm_slob_page_list(b), 1);
	expect_eq(kmm_slob_page_list(c), 2);
	expect_true(PageSlab(pg(a)) && PageSlobFree(pg(a)));
	expect_eq(poff(a), MAP_BYTES);
	expect_eq(free_units(c), (USABLE - 2000) / UNIT);
	expect_eq(kmm_check(), 0);

	/* kmalloc picks the list by size + header: 247 -> 255 small, 248 -> 256 medium */
	char *k1 = kmalloc(200, GFP_KERNEL), *k2 = kmalloc(248, GFP_KERNEL), *k3 = kmalloc(1016, GFP_KERNEL);
	char *k4 = kmalloc(3000, GFP_KERNEL);
	assert_true(k1 && k2 && k3 && k4);
	int l1 = kmm_slob_page_list(k1), l2 = kmm_slob_page_list(k2), l3 = kmm_slob_page_list(k3);
	int l4 = kmm_slob_page_list(k4);
	expect_true(l1 == 0 || free_units(k1) == 0);
	expect_true(l2 == 1 || free_units(k2) == 0);
	expect_true(l3 == 2 || free_units(k3) == 0);
	expect_true(l4 == 2 || free_units(k4) == 0);

	/* a full page leaves the lists; one free puts it on the list for
	 * the size of the freed block */
	struct kmem_cache *half = kmem_cache_create("slob-half", USABLE / 2, 0, 0, NULL);
	void *h1 = kmem_cache_alloc(half, GFP_KERNEL), *h2 = kmem_cache_alloc(half, GFP_KERNEL);
	assert_true(h1 && h2 && same_page(h1, h2));
	expect_eq(free_units(h1), 0);
	expect_false(PageSlobFree(pg(h1)));
	expect_eq(kmm_slob_page_list(h1), -1);
	expect_eq(kmm_check(), 0);
	kmem_cache_free(half, h2);
	expect_eq(kmm_slob_page_list(h1), 2);
	expect_eq(free_units(h1), USABLE / 2 / UNIT);
	struct kmem_cache *tiny = kmem_cache_create("slob-224", 224, 0, 0, NULL);	/* 18 fill a page */
	void *t[18];
	for (int i = 0; i < 18; i++)
		assert_nonnull(t[i] = kmem_cache_alloc(tiny, GFP_KERNEL));
	expect_true(same_page(t[0], t[17]));
	expect_eq(kmm_slob_page_list(t[0]), -1);
	kmem_cache_free(tiny, t[5]);
	expect_eq(kmm_slob_page_list(t[0]), 0);
	expect_eq(kmm_check(), 0);

	for (int i = 0; i < 18; i++)
		if (i != 5)
			kmem_cache_free(tiny, t[i]);
	kmem_cache_free(half, h1);
	kmem_cache_free(small, a);
	kmem_cache_free(medium, b);
	kmem_cache_free(large, c);
	kfree(k1), kfree(k2), kfree(k3), kfree(k4);
	kmem_cache_destroy(tiny);
	kmem_cache_destroy(half);
	kmem_cache_destroy(small);
	kmem_cache_destroy(medium);
	kmem_cache_destroy(large);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_first_fit_in_address_order)
{
	boot(NULL);
	/* a cache: its own pages, objects packed from the bitmap on */
	struct kmem_cache *c = kmem_cache_create("slob-ff", 120, 0, 0, NULL);
	assert_nonnull(c);
	char *o[8];
	for (int i = 0; i < 8; i++)
		assert_nonnull(o[i] = kmem_cache_alloc(c, GFP_KERNEL));
	expect_eq(poff(o[0]), MAP_BYTES);
	for (int i = 1; i < 8; i++)
		expect_true(o[i] == o[i - 1] + 120);
	kmem_cache_free(c, o[5]);
	kmem_cache_free(c, o[2]);
	expect_eq(kmm_check(), 0);
	char *x = kmem_cache_alloc(c, GFP_KERNEL), *y = kmem_cache_alloc(c, GFP_KERNEL);
	expect_true(x == o[2]);	/* the lowest hole first, not the last freed */
	expect_true(y == o[5]);
	char *z = kmem_cache_alloc(c, GFP_KERNEL);
	expect_true(z == o[7] + 120);	/* then the tail of the page */

	/* kmalloc: 128-byte blocks (120 + header) in a fresh page */
	void *junk[4096];
	int nj = 0;
	char *b[8];
	b[0] = fresh_kmalloc(120, junk, &nj, 4096);
	for (int i = 1; i < 8; i++) {
		assert_nonnull(b[i] = kmalloc(120, GFP_KERNEL));
		expect_true(b[i] == b[i - 1] + 128);
	}
	kfree(b[1]);			/* hole of 128 */
	kfree(b[3]), kfree(b[4]);	/* hole of 256 */
	expect_eq(kmm_check(), 0);
	char *big = kmalloc(200, GFP_KERNEL);	/* 208 bytes: skips the 128 hole */
	expect_true(big == b[3]);
	char *sm = kmalloc(100, GFP_KERNEL);	/* 108 bytes: the first hole */
	expect_true(sm == b[1]);
	expect_eq(kmm_check(), 0);

	kfree(big), kfree(sm);
	for (int i = 0; i < 8; i++)
		if (i != 1 && i != 3 && i != 4)
			kfree(b[i]);
	for (int i = 0; i < nj; i++)
		kfree(junk[i]);
	for (int i = 0; i < 8; i++)
		if (i != 2 && i != 5)
			kmem_cache_free(c, o[i]);
	kmem_cache_free(c, x), kmem_cache_free(c, y), kmem_cache_free(c, z);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_kmalloc_header_and_ksize)
{
	boot(NULL);
	static const size_t sizes[] = { 1, 2, 7, 8, 13, 100, 101, 255, 1000, 2047, 4000, 4024 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		char *p = kmalloc(n, GFP_KERNEL);
		assert_nonnull(p);
		expect_true(PageSlab(pg(p)));
		expect_eq(*(unsigned int *)(p - HDR), n);	/* the size, in the header */
		expect_eq(ksize(p), (n + UNIT - 1) / UNIT * UNIT);	/* SLOB_UNITS(size) * SLOB_UNIT */
		memset(p, 0x5c, ksize(p));
		expect_eq(kmm_check(), 0);
		kfree(p);
	}
	char *p = kmalloc(101, GFP_KERNEL);
	expect_eq(ksize(p), 102);
	expect_eq(((unsigned int *)(p - HDR))[0], 101);
	kfree(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_alignment)
{
	boot(NULL);
	void *keep[800];
	int n = 0;
	for (size_t size = 1; size <= 4024; size += (size < 64 ? 1 : size / 5)) {
		char *p = kmalloc(size, GFP_KERNEL);
		assert_nonnull(p);
		expect_eq((uintptr_t)p % 8, 0);
		keep[n++] = p;
	}
	for (size_t size = 8; size <= 2048; size *= 2) {	/* natural alignment */
		for (int k = 0; k < 3; k++) {
			char *p = kmalloc(size, GFP_KERNEL);
			assert_nonnull(p);
			expect_eq((uintptr_t)p % size, 0);
			expect_eq(ksize(p), size);
			keep[n++] = p;
		}
	}
	struct kmem_cache *c = kmem_cache_create("slob-al256", 40, 256, 0, NULL);
	for (int k = 0; k < 10; k++) {
		char *p = kmem_cache_alloc(c, GFP_KERNEL);
		assert_nonnull(p);
		expect_eq((uintptr_t)p % 256, 0);
		keep[n++] = p;
	}
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < n; i++)
		if (PageSlab(pg(keep[i])) && kmm_slab_ops->page_cache(pg(keep[i])) == c)
			kmem_cache_free(c, keep[i]);
		else
			kfree(keep[i]);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_large_kmalloc_from_page_allocator)
{
	boot(NULL);
	size_t max_small = kmm_slab_ops->kmalloc_max_small();
	expect_eq(max_small, USABLE - HDR);
	unsigned long f0 = free_after_drain();
	char *p = kmalloc(PAGE_SIZE, GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(poff(p), 0);
	expect_false(PageSlab(pg(p)));
	expect_true(PageLargeKmalloc(pg(p)));
	expect_eq(ksize(p), PAGE_SIZE);
	expect_eq(f0 - free_after_drain(), 1);
	char *q = kmalloc(3 * PAGE_SIZE, GFP_KERNEL);	/* order 2 */
	assert_nonnull(q);
	expect_eq(ksize(q), 4 * PAGE_SIZE);
	expect_eq(f0 - free_after_drain(), 5);
	char *r = kmalloc(max_small + 1, GFP_KERNEL);	/* just past SLOB's limit */
	assert_nonnull(r);
	expect_false(PageSlab(pg(r)));
	expect_eq(ksize(r), PAGE_SIZE);
	char *s = kmalloc(max_small, GFP_KERNEL);	/* the largest SLOB block: a page of its own */
	assert_nonnull(s);
	expect_true(PageSlab(pg(s)));
	expect_eq(free_units(s), 0);
	kfree(p), kfree(q), kfree(r), kfree(s);
	expect_eq(free_after_drain(), f0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_pages_go_back_when_empty)
{
	boot(NULL);
	unsigned long f0 = free_after_drain();
	unsigned long seed = kt_seed();
	enum { N = 6000 };
	static void *p[N];
	struct kmem_cache *c = kmem_cache_create("slob-back", 72, 0, 0, NULL);
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		if (i % 3 == 0)
			p[i] = kmem_cache_alloc(c, GFP_KERNEL);
		else
			p[i] = kmalloc(1 + (seed >> 33) % ((seed & 7) ? 300 : 4024), GFP_KERNEL);
		assert_nonnull(p[i]);
	}
	expect_eq(kmm_check(), 0);
	unsigned long used = f0 - free_after_drain();
	expect_gt(used, 0);
	for (int i = 0; i < N; i += 2)	/* every other first: lots of merging */
		i % 3 == 0 ? kmem_cache_free(c, p[i]) : kfree(p[i]);
	expect_eq(kmm_check(), 0);
	for (int i = 1; i < N; i += 2)
		i % 3 == 0 ? kmem_cache_free(c, p[i]) : kfree(p[i]);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
	expect_eq(free_after_drain(), f0);
	/* one block alone in a page: its page comes and goes with it */
	struct kmem_cache *d = kmem_cache_create("slob-one", 64, 0, 0, NULL);
	unsigned long f1 = free_after_drain();
	void *o = kmem_cache_alloc(d, GFP_KERNEL);
	expect_eq(f1 - free_after_drain(), 1);
	kmem_cache_free(d, o);
	expect_eq(free_after_drain(), f1);
	kmem_cache_destroy(d);
	expect_eq(free_after_drain(), f0);
	kmm_shutdown();
}

TEST(slob_merges_adjacent_free_blocks)
{
	boot(NULL);
	void *junk[4096];
	int nj = 0;
	char *b[6];
	b[0] = fresh_kmalloc(120, junk, &nj, 4096);
	for (int i = 1; i < 6; i++) {
		assert_nonnull(b[i] = kmalloc(120, GFP_KERNEL));
		assert_true(b[i] == b[i - 1] + 128);
	}
	unsigned h[6];
	for (int i = 0; i < 6; i++)
		h[i] = poff(b[i]) - HDR;	/* block (header) offsets */
	unsigned tail = h[5] + 128;
	expect_true(has_free_block(b[0], tail, PAGE_SIZE - tail));
	unsigned units0 = free_units(b[0]);

	kfree(b[1]);
	expect_true(has_free_block(b[0], h[1], 128));
	kfree(b[3]);
	expect_true(has_free_block(b[0], h[3], 128));
	expect_eq(kmm_check(), 0);
	kfree(b[2]);	/* merges with both neighbours */
	expect_true(has_free_block(b[0], h[1], 384));
	expect_false(has_free_block(b[0], h[2], 128));
	expect_false(has_free_block(b[0], h[3], 128));
	kfree(b[0]);	/* before the first free block: merges forward */
	expect_true(has_free_block(b[0], h[0], 512));
	kfree(b[5]);	/* merges with the tail */
	expect_true(has_free_block(b[0], h[5], PAGE_SIZE - h[5]));
	expect_eq(free_units(b[4]), units0 + 5 * 128 / UNIT);
	struct fblk fb[16];
	expect_eq(free_blocks(b[4], fb, 16), 2);	/* [h0, h4) and [h5, end) */
	expect_eq(kmm_check(), 0);
	unsigned long f0 = free_after_drain();
	kfree(b[4]);	/* the page was only ours: it goes back */
	expect_eq(free_after_drain(), f0 + 1);
	for (int i = 0; i < nj; i++)
		kfree(junk[i]);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_corrupt_free_block_header_is_reported)
{
	boot(NULL);
	unsigned long f0 = free_after_drain();
	struct kmem_cache *c = kmem_cache_create("slob-corrupt", 120, 0, 0, NULL);
	char *o[4];
	for (int i = 0; i < 4; i++)
		assert_nonnull(o[i] = kmem_cache_alloc(c, GFP_KERNEL));
	kmem_cache_free(c, o[1]);
	expect_true(has_free_block(o[0], poff(o[1]), 120));
	/* a use after free writes over the free-block header: size 32767 units */
	hdr_set(o[1], 0x7fff);
	logcap_start();
	expect_lt(kmm_check(), 0);	/* the walk sees it (and repairs nothing) */
	unsigned long e0 = kmm_error_count();
	char *n = kmem_cache_alloc(c, GFP_KERNEL);	/* walks that page */
	logcap_stop();
	assert_nonnull(n);
	expect_false(same_page(n, o[0]));	/* the page was taken out of use */
	expect_eq(kmm_error_count(), e0 + 1);
	expect_true(logcap_find("kmm: freelist corrupt: slob-corrupt") != NULL);
	expect_eq(kmm_check(), 0);
	/* still usable: the live objects of the broken page can be freed, and
	 * once the last one goes, the page goes back */
	void *more[300];
	for (int i = 0; i < 300; i++)
		assert_nonnull(more[i] = kmem_cache_alloc(c, GFP_KERNEL));
	for (int i = 0; i < 300; i++)
		kmem_cache_free(c, more[i]);
	kmem_cache_free(c, o[0]), kmem_cache_free(c, o[2]), kmem_cache_free(c, o[3]);
	kmem_cache_free(c, n);
	expect_eq(kmm_error_count(), e0 + 1);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
	expect_eq(free_after_drain(), f0);

	/* kmalloc: the next pointer of a free block made to point backwards;
	 * the free of a later block walks over it */
	void *junk[4096];
	int nj = 0;
	char *b[4];
	b[0] = fresh_kmalloc(120, junk, &nj, 4096);
	for (int i = 1; i < 4; i++)
		assert_nonnull(b[i] = kmalloc(120, GFP_KERNEL));
	kfree(b[1]);
	hdr_set((int16_t *)(b[1] - HDR) + 1, 3);	/* next = unit 3, inside the bitmap */
	logcap_start();
	e0 = kmm_error_count();
	kfree(b[3]);
	logcap_stop();
	expect_eq(kmm_error_count(), e0 + 1);
	expect_true(logcap_find("kmm: freelist corrupt: kmalloc-slob") != NULL);
	expect_eq(kmm_check(), 0);
	char *again = kmalloc(120, GFP_KERNEL);	/* served elsewhere */
	assert_nonnull(again);
	expect_false(same_page(again, b[0]));
	kfree(again), kfree(b[0]), kfree(b[2]);
	for (int i = 0; i < nj; i++)
		kfree(junk[i]);
	expect_eq(kmm_check(), 0);
	expect_eq(free_after_drain(), f0);
	kmm_shutdown();
}

static int ctor_calls;
static void count_ctor(void *obj)
{
	ctor_calls++;
	memset(obj, 0x42, 32);
}

TEST(slob_ctor_runs_at_every_allocation)
{
	boot(NULL);
	struct kmem_cache *c = kmem_cache_create("slob-ctor", 32, 0, 0, count_ctor);
	ctor_calls = 0;
	char *a = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(a);
	expect_eq(ctor_calls, 1);
	expect_eq((unsigned char)a[31], 0x42);
	memset(a, 0, 32);	/* not returned to the constructed state */
	kmem_cache_free(c, a);
	char *b = kmem_cache_alloc(c, GFP_KERNEL);
	expect_true(b == a);
	expect_eq(ctor_calls, 2);	/* SLOB: constructed again */
	expect_eq((unsigned char)b[0], 0x42);
	kmem_cache_free(c, b);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

TEST(slob_misuse_on_block_metadata)
{
	boot(NULL);
	struct kmem_cache *c = kmem_cache_create("slob-mis", 48, 0, 0, NULL);
	char *o[6];
	for (int i = 0; i < 6; i++)
		assert_nonnull(o[i] = kmem_cache_alloc(c, GFP_KERNEL));
	void *junk[4096];
	int nj = 0;
	char *k = fresh_kmalloc(60, junk, &nj, 4096), *k2 = kmalloc(60, GFP_KERNEL);
	assert_nonnull(k2);
	logcap_start();
	unsigned long e0 = kmm_error_count();

	kmem_cache_free(c, o[1]);
	kmem_cache_free(c, o[2]);	/* merged with o[1] */
	kmem_cache_free(c, o[1]);	/* delayed double free, inside a merged block */
	expect_eq(kmm_error_count(), e0 + 1);
	expect_true(logcap_find("kmm: double free: ") != NULL);
	kmem_cache_free(c, o[3] + 8);	/* interior pointer */
	expect_eq(kmm_error_count(), e0 + 2);
	expect_true(logcap_find("kmm: interior pointer: ") != NULL);
	kfree(k + 16);	/* interior pointer into a kmalloc block */
	expect_eq(kmm_error_count(), e0 + 3);
	kfree(k - HDR);	/* the header address is not the object */
	expect_eq(kmm_error_count(), e0 + 4);
	kmem_cache_free(c, k);	/* a kmalloc block given to a cache: reported, freed as kmalloc */
	expect_eq(kmm_error_count(), e0 + 5);
	expect_true(logcap_find("kmm: wrong cache: ") != NULL);
	kfree(k);	/* ... so this is a double free now (k2 keeps the page) */
	expect_eq(kmm_error_count(), e0 + 6);
	kfree(o[4]);	/* kfree of a cache object: freed to its cache ([6.4+]) */
	expect_eq(kmm_error_count(), e0 + 6);
	kmem_cache_free(c, o[4]);
	expect_eq(kmm_error_count(), e0 + 7);
	logcap_stop();
	expect_true(logcap_all_well_formed());
	expect_eq(kmm_check(), 0);
	expect_eq(kmm_slab_ops->cache_live(c, NULL, NULL, 0), 3);
	kmem_cache_free(c, o[0]), kmem_cache_free(c, o[3]), kmem_cache_free(c, o[5]);
	kfree(k2);
	for (int i = 0; i < nj; i++)
		kfree(junk[i]);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

static void list_obj(struct kmem_cache *s, void *obj, void *arg)
{
	void **seen = arg;
	for (int i = 0; i < 8; i++)
		if (!seen[i]) {
			seen[i] = obj;
			break;
		}
}

TEST(slob_live_objects_listed_and_big_objects)
{
	boot(NULL);
	struct kmem_cache *c = kmem_cache_create("slob-live", 200, 0, 0, NULL);
	void *o[5];
	for (int i = 0; i < 5; i++)
		assert_nonnull(o[i] = kmem_cache_alloc(c, GFP_KERNEL));
	kmem_cache_free(c, o[2]);
	void *seen[8] = { 0 };
	expect_eq(kmm_slab_ops->cache_live(c, list_obj, seen, 8), 4);
	expect_true(seen[0] == o[0] && seen[1] == o[1] && seen[2] == o[3] && seen[3] == o[4]);
	logcap_start();
	kmem_cache_destroy(c);	/* kept: objects remaining, named */
	logcap_stop();
	const char *line = logcap_find("kmm: objects remaining: slob-live");
	expect_nonnull(line);
	char addr[32];
	snprintf(addr, sizeof(addr), "%p", o[4]);
	expect_true(line && strstr(line, addr));
	for (int i = 0; i < 5; i++)
		if (i != 2)
			kmem_cache_free(c, o[i]);
	kmem_cache_destroy(c);

	/* objects too big for a SLOB page get pages of their own */
	unsigned long f0 = free_after_drain();
	struct kmem_cache *big = kmem_cache_create("slob-big", 5000, 0, 0, count_ctor);
	ctor_calls = 0;
	char *x = kmem_cache_alloc(big, GFP_KERNEL), *y = kmem_cache_alloc(big, GFP_KERNEL);
	assert_true(x && y);
	expect_eq(ctor_calls, 2);
	expect_eq(poff(x), 0);
	expect_true(PageSlab(pg(x)));
	expect_true(kmm_slab_ops->page_cache(pg(x)) == big);
	memset(x, 1, 5000);
	expect_eq(kmm_check(), 0);
	kmem_cache_free(big, x);
	kmem_cache_free(big, y);
	kmem_cache_destroy(big);
	expect_eq(free_after_drain(), f0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_debug_poison)
{
	boot("slab_debug=P");
	struct kmem_cache *c = kmem_cache_create("slob-poison", 64, 0, 0, NULL);
	assert_true(c && (c->flags & SLAB_POISON));
	char *a = kmem_cache_alloc(c, GFP_KERNEL), *b = kmem_cache_alloc(c, GFP_KERNEL);
	assert_true(a && b);
	kmem_cache_free(c, a);
	expect_eq(kmm_check(), 0);
	logcap_start();
	unsigned long e0 = kmm_error_count();
	a[20] = 1;	/* write after free */
	expect_lt(kmm_check(), 0);	/* found, reported, repaired */
	expect_eq(kmm_error_count(), e0 + 1);
	expect_true(logcap_find("kmm: poison overwritten: slob-poison") != NULL);
	expect_eq(kmm_check(), 0);
	a[30] = 2;	/* again: now the next allocation finds it */
	char *n = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(n);
	expect_eq(kmm_error_count(), e0 + 2);
	expect_eq(kmm_check(), 0);
	/* kmalloc blocks are poisoned too */
	char *k = kmalloc(100, GFP_KERNEL), *k2 = kmalloc(100, GFP_KERNEL);
	assert_true(k && k2);
	kfree(k);
	k[50] = 0;
	expect_lt(kmm_check(), 0);
	expect_eq(kmm_error_count(), e0 + 3);
	logcap_stop();
	expect_eq(kmm_check(), 0);
	kfree(k2);
	kmem_cache_free(c, b), kmem_cache_free(c, n);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_debug_redzone_and_checks)
{
	boot("slab_debug=FZ");
	char *p = kmalloc(24, GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(ksize(p), 24);	/* the red zone starts right after the request */
	logcap_start();
	unsigned long e0 = kmm_error_count();
	p[24] = 'x';	/* one byte too far */
	expect_lt(kmm_check(), 0);	/* found, reported, repaired */
	expect_eq(kmm_error_count(), e0 + 1);
	p[25] = 'y';
	kfree(p);	/* found at free: not freed */
	expect_eq(kmm_error_count(), e0 + 2);
	expect_true(logcap_find("kmm: redzone overwritten: kmalloc-slob") != NULL);
	struct kmem_cache *c = kmem_cache_create("slob-rz", 40, 0, 0, NULL);
	assert_true(c && (c->flags & SLAB_RED_ZONE));
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(o);
	o[40] = 1;	/* the red zone word after the object */
	kmem_cache_free(c, o);
	expect_eq(kmm_error_count(), e0 + 3);
	expect_true(logcap_find("kmm: redzone overwritten: slob-rz") != NULL);
	char *o2 = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(o2);
	kmem_cache_free(c, o2);
	kmem_cache_free(c, o2);	/* double free: caught by SLOB's map first */
	expect_eq(kmm_error_count(), e0 + 4);
	logcap_stop();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slob_node_and_zone_placement)
{
	kmm_shutdown();
	assert_eq(kmm_boot("mem=128M numa=2 zones=dma:16M,normal slab=slob on_error=report"), 0);
	char *a = kmalloc_node(100, GFP_KERNEL, 1), *b = kmalloc_node(100, GFP_KERNEL, 0);
	assert_true(a && b);
	expect_eq(page_to_nid(pg(a)), 1);
	expect_eq(page_to_nid(pg(b)), 0);
	char *d = kmalloc(100, GFP_KERNEL | GFP_DMA);
	assert_nonnull(d);
	expect_str_eq(page_zone_name(pg(d)), "DMA");
	struct kmem_cache *c = kmem_cache_create("slob-dma", 64, 0, SLAB_CACHE_DMA, NULL);
	char *o = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(o);
	expect_str_eq(page_zone_name(pg(o)), "DMA");
	char *o1 = kmem_cache_alloc_node(c, GFP_KERNEL, 0);
	expect_eq(page_to_nid(pg(o1)), 0);
	expect_eq(kmm_check(), 0);
	kfree(a), kfree(b), kfree(d);
	kmem_cache_free(c, o), kmem_cache_free(c, o1);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

struct footprint { double kmalloc_bytes, cache_bytes; };

static bool measure(const char *backend, struct footprint *fp)
{
	char cmd[128];
	enum { N = 10000, SIZE = 40 };
	static void *p[N];
	kmm_shutdown();
	snprintf(cmd, sizeof(cmd), "mem=64M numa=1 zones=normal cpus=1 slab=%s", backend);
	if (kmm_boot(cmd) != 0)
		return false;
	unsigned long f0 = free_after_drain();
	for (int i = 0; i < N; i++)
		if (!(p[i] = kmalloc(SIZE, GFP_KERNEL)))
			return false;
	unsigned long f1 = free_after_drain();
	fp->kmalloc_bytes = (double)(f0 - f1) * PAGE_SIZE / N;
	for (int i = 0; i < N; i++)
		kfree(p[i]);
	f1 = free_after_drain();
	struct kmem_cache *c = kmem_cache_create("footprint-40", SIZE, 0, 0, NULL);
	if (!c)
		return false;
	unsigned long f2 = free_after_drain();
	for (int i = 0; i < N; i++)
		if (!(p[i] = kmem_cache_alloc(c, GFP_KERNEL)))
			return false;
	unsigned long f3 = free_after_drain();
	fp->cache_bytes = (double)(f2 - f3) * PAGE_SIZE / N;
	for (int i = 0; i < N; i++)
		kmem_cache_free(c, p[i]);
	kmem_cache_destroy(c);
	bool back = free_after_drain() == f1;
	kmm_shutdown();
	return back;
}

TEST(slob_footprint_smaller_than_slab)
{
	struct footprint slob = { 0, 0 }, slab = { 0, 0 };
	assert_true(measure("slob", &slob));
	if (!measure("slab", &slab))
		skip_test("slab=slab does not boot in this build");
	printf("  footprint of 10000 live 40-byte objects, bytes per object:\n"
	       "    kmalloc(40):        slab %.1f  slob %.1f\n"
	       "    kmem_cache (40 B):  slab %.1f  slob %.1f\n",
	       slab.kmalloc_bytes, slob.kmalloc_bytes, slab.cache_bytes, slob.cache_bytes);
	expect_true(slob.kmalloc_bytes < slab.kmalloc_bytes);
	expect_true(slob.cache_bytes < slab.cache_bytes);
	/* 40 + header, plus the 1.6% bitmap and a page of rounding */
	expect_true(slob.kmalloc_bytes < 48 * 1.05);
	expect_true(slob.cache_bytes < 40 * 1.05);
}

/* Threads share the one lock; contents and invariants survive. */
struct worker { unsigned long seed; int bad; };

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	enum { SLOTS = 256 };
	char *p[SLOTS] = { 0 };
	size_t sz[SLOTS] = { 0 };
	for (int it = 0; it < 20000; it++) {
		w->seed = w->seed * 6364136223846793005UL + 1442695040888963407UL;
		int i = (int)((w->seed >> 33) % SLOTS);
		if (p[i]) {
			for (size_t k = 0; k < sz[i]; k++)
				if ((unsigned char)p[i][k] != (unsigned char)(i ^ k))
					w->bad++;
			kfree(p[i]);
			p[i] = NULL;
		} else {
			sz[i] = 1 + (w->seed >> 40) % 600;
			p[i] = kmalloc(sz[i], GFP_KERNEL);
			if (!p[i]) {
				w->bad++;
				continue;
			}
			for (size_t k = 0; k < sz[i]; k++)
				p[i][k] = (char)(i ^ k);
		}
	}
	for (int i = 0; i < SLOTS; i++)
		kfree(p[i]);
	return NULL;
}

TEST(slob_threads_share_the_lock)
{
	boot(NULL);
	unsigned long f0 = free_after_drain();
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i].seed = kt_seed() + (unsigned long)i * 7919;
		w[i].bad = 0;
		assert_eq(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	/* SLOB's walk, concurrently with the workers (kmm_check as a whole
	 * also walks the buddy lists frame by frame) */
	for (int k = 0; k < 50; k++)
		expect_eq(kmm_slab_ops->check(), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		expect_eq(w[i].bad, 0);
	}
	expect_eq(kmm_check(), 0);
	expect_eq(free_after_drain(), f0);
	kmm_shutdown();
}

TEST_MAIN()
