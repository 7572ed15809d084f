/* kmm-test: backends */
/*
 * tests/unit/slab.c - object caches and kmalloc through the public API,
 * under both backends (CTest runs it with KMM_TEST_BOOT=slab=slab and
 * slab=slob): size classes of both profiles, ZERO_SIZE_PTR, large
 * kmallocs, the kmalloc family (kzalloc, kcalloc, krealloc, kstrdup,
 * kvmalloc), constructors (once per slab lifetime under SLAB, every
 * allocation under SLOB), colouring (SLAB), slabinfo 2.1, meminfo,
 * slab_debug=, failslab, nodes, thread exit, shrinking under memory
 * pressure, and the exact accounting after kmm_drain_all.
 */
/* kmm-test: threaded */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"

#define BOOT "mem=64M numa=1 cpus=2"

/* after kmm_drain_all: pages free and the buddy picture */
static unsigned long drained_free(void)
{
	kmm_drain_all();
	return nr_free_pages();
}

/* ------------------------------------------------------------------ */

TEST(kmalloc_size_classes_classic)
{
	sh_boot(BOOT " profile=classic");
	void *p = kmalloc(100, GFP_KERNEL);
	assert_nonnull(p);
	if (sh_slob())
		expect_ge(ksize(p), 100);
	else
		expect_eq(ksize(p), 128);
	kfree(p);

	/* every size up to 4 KiB: ksize covers it; SLAB gives the class */
	static const size_t classic[] = { 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192, 16384,
					  32768, 65536, 131072 };
	for (size_t size = 1; size <= 4096; size += (size < 300 ? 1 : 61)) {
		void *q = kmalloc(size, GFP_KERNEL);
		assert_nonnull(q);
		size_t ks = ksize(q);
		expect_ge(ks, size);
		if (!sh_slob()) {
			size_t want = 0;
			for (size_t i = 0; i < sizeof(classic) / sizeof(classic[0]) && !want; i++)
				if (classic[i] >= size)
					want = classic[i];
			if (ks != want)
				kt_fail(0, __FILE__, __LINE__, "ksize(kmalloc(%zu)) = %zu, class %zu", size, ks, want);
			expect_eq(kmalloc_size_roundup(size), want);
		}
		memset(q, 0x5c, ks);
		kfree(q);
	}
	/* 8193: a page multiple either way (size-16384 or pages) */
	p = kmalloc(8193, GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(ksize(p) % PAGE_SIZE, 0);
	expect_ge(ksize(p), 8193);
	kfree(p);
	if (!sh_slob()) {
		for (size_t i = 0; i < sizeof(classic) / sizeof(classic[0]); i++) {
			char name[32];
			snprintf(name, sizeof(name), "size-%zu", classic[i]);
			struct sh_row r = sh_slabinfo(name);
			expect_true(r.found);
			expect_eq(r.objsize, (long)classic[i]);
			snprintf(name, sizeof(name), "size-%zu(DMA)", classic[i]);
			expect_true(sh_slabinfo(name).found);
		}
		expect_false(sh_slabinfo("kmalloc-64").found);
		expect_false(sh_slabinfo("size-8").found);
	}
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(kmalloc_size_classes_modern)
{
	sh_boot(BOOT " profile=modern");
	static const char *const names[] = { "kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96",
					     "kmalloc-128", "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k",
					     "kmalloc-2k", "kmalloc-4k", "kmalloc-8k", "dma-kmalloc-8", "dma-kmalloc-8k" };
	void *p = kmalloc(100, GFP_KERNEL);
	assert_nonnull(p);
	expect_ge(ksize(p), 100);
	if (!sh_slob()) {
		expect_eq(ksize(p), 128);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!sh_slabinfo(names[i]).found)
				kt_fail(0, __FILE__, __LINE__, "slabinfo has no %s", names[i]);
		expect_false(sh_slabinfo("kmalloc-16k").found);
		/* the size_index table: 65..96 -> 96, 129..192 -> 192, 1..8 -> 8 */
		expect_eq(kmalloc_size_roundup(1), 8);
		expect_eq(kmalloc_size_roundup(65), 96);
		expect_eq(kmalloc_size_roundup(97), 128);
		expect_eq(kmalloc_size_roundup(129), 192);
		expect_eq(kmalloc_size_roundup(193), 256);
		expect_eq(kmalloc_size_roundup(8192), 8192);
	}
	kfree(p);
	/* above kmalloc-8k: pages, the whole block usable */
	p = kmalloc(8193, GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(ksize(p), 16384);
	expect_eq(kmalloc_size_roundup(8193), 16384);
	memset(p, 1, 16384);
	expect_true(PageLargeKmalloc(virt_to_page(p)));
	kfree(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(kmalloc_zero_large_and_limits)
{
	sh_boot(BOOT);
	struct sh_misuse m = sh_misuse_begin();
	expect_true(kmalloc(0, GFP_KERNEL) == ZERO_SIZE_PTR);
	expect_true(kzalloc(0, GFP_KERNEL) == ZERO_SIZE_PTR);
	expect_true(ZERO_OR_NULL_PTR(kmalloc(0, GFP_KERNEL)));
	expect_eq(ksize(ZERO_SIZE_PTR), 0);
	expect_eq(ksize(NULL), 0);
	kfree(ZERO_SIZE_PTR);
	kfree(NULL);
	kvfree(NULL);
	sh_no_misuse(m);

	/* the largest kmalloc (4 MiB) comes from the page allocator, compound */
	unsigned long before = drained_free();
	char *big = kmalloc(KMALLOC_MAX_SIZE, GFP_KERNEL);
	assert_nonnull(big);
	expect_eq(ksize(big), KMALLOC_MAX_SIZE);
	struct page *head = virt_to_page(big);
	expect_true(PageLargeKmalloc(head));
	expect_true(PageHead(head));
	expect_true(virt_to_page(big + PAGE_SIZE)->first_page == head);
	big[0] = 1;
	big[KMALLOC_MAX_SIZE - 1] = 2;
	expect_eq(kmm_check(), 0);
	kfree(big);
	expect_eq(drained_free(), before);

	/* above the maximum: NULL and a warning, none with __GFP_NOWARN */
	logcap_start();
	expect_null(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL));
	expect_null(kmalloc(SIZE_MAX, GFP_KERNEL));
	expect_ge(logcap_count("kmm: "), 1);
	logcap_clear();
	expect_null(kmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	expect_null(kvmalloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	expect_eq(logcap_lines(), 0);
	logcap_stop();
	/* natural alignment of power-of-two sizes */
	for (size_t size = 8; size <= 4096; size *= 2) {
		void *q = kmalloc(size, GFP_KERNEL);
		expect_eq((uintptr_t)q % size, 0);
		kfree(q);
	}
	expect_eq(drained_free(), before);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(kmalloc_family)
{
	sh_boot(BOOT " on_error=report");
	unsigned long before = drained_free();

	/* kzalloc / kcalloc zero; __GFP_ZERO through kmalloc_node */
	for (size_t size = 1; size < 9000; size = size * 3 + 1) {
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		memset(p, 0xee, size);
		kfree(p);
		p = kzalloc(size, GFP_KERNEL);
		for (size_t i = 0; i < size; i++)
			if (p[i]) {
				kt_fail(0, __FILE__, __LINE__, "kzalloc(%zu) byte %zu = %#x", size, i, p[i]);
				break;
			}
		kfree(p);
	}
	int *a = kcalloc(1000, sizeof(int), GFP_KERNEL);
	assert_nonnull(a);
	for (int i = 0; i < 1000; i++)
		expect_eq(a[i], 0);
	kfree(a);
	/* overflow: NULL, nothing allocated, nothing reported */
	struct sh_misuse m = sh_misuse_begin();
	expect_null(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));
	expect_null(kmalloc_array(SIZE_MAX / 3, 4, GFP_KERNEL));
	expect_null(kmalloc_array(2, SIZE_MAX, GFP_KERNEL));
	sh_no_misuse(m);
	void *arr = kmalloc_array(10, 12, GFP_KERNEL);
	expect_ge(ksize(arr), 120);
	kfree(arr);

	/* krealloc: in place within ksize, moves beyond, keeps the data */
	char *p = kmalloc(40, GFP_KERNEL);
	memcpy(p, "0123456789012345678901234567890123456789", 40);
	size_t ks = ksize(p);
	char *q = krealloc(p, ks, GFP_KERNEL);
	expect_true(q == p);
	q = krealloc(p, 5000, GFP_KERNEL);
	assert_nonnull(q);
	expect_true(memcmp(q, "0123456789012345678901234567890123456789", 40) == 0);
	expect_ge(ksize(q), 5000);
	char *r = krealloc(q, 20, GFP_KERNEL);	/* shrinking stays in place */
	expect_true(r == q);
	expect_true(memcmp(r, "01234567890123456789", 20) == 0);
	/* krealloc(NULL) = kmalloc; new size 0 frees */
	char *n = krealloc(NULL, 30, GFP_KERNEL);
	assert_nonnull(n);
	expect_true(krealloc(n, 0, GFP_KERNEL) == ZERO_SIZE_PTR);
	n = krealloc(ZERO_SIZE_PTR, 16, GFP_KERNEL);
	assert_nonnull(n);
	kfree(n);
	/* failure leaves p valid: ask for more than kmalloc can give */
	expect_null(krealloc(r, KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN));
	expect_true(memcmp(r, "01234567890123456789", 20) == 0);
	kfree(r);

	/* strings and copies */
	char *s = kstrdup("slab allocator", GFP_KERNEL);
	expect_str_eq(s, "slab allocator");
	kfree(s);
	expect_null(kstrdup(NULL, GFP_KERNEL));
	s = kstrndup("slab allocator", 4, GFP_KERNEL);
	expect_str_eq(s, "slab");
	kfree(s);
	s = kstrndup("ab", 10, GFP_KERNEL);
	expect_str_eq(s, "ab");
	kfree(s);
	int data[5] = { 1, 2, 3, 4, 5 };
	int *d = kmemdup(data, sizeof(data), GFP_KERNEL);
	expect_true(memcmp(d, data, sizeof(data)) == 0);
	kfree(d);

	/* kvmalloc: small and large, kvfree takes both */
	void *kv = kvmalloc(100, GFP_KERNEL);
	void *kvl = kvzalloc(3 * PAGE_SIZE + 5, GFP_KERNEL);
	assert_nonnull(kv);
	assert_nonnull(kvl);
	expect_eq(((char *)kvl)[3 * PAGE_SIZE + 4], 0);
	kvfree(kv);
	kvfree(kvl);

	/* GFP_DMA memory comes from ZONE_DMA */
	void *dma = kmalloc(200, GFP_KERNEL | GFP_DMA);
	assert_nonnull(dma);
	expect_str_eq(page_zone_name(virt_to_page(dma)), "DMA");
	kfree(dma);
	dma = kmalloc(20000, GFP_KERNEL | GFP_DMA);
	assert_nonnull(dma);
	expect_str_eq(page_zone_name(virt_to_page(dma)), "DMA");
	kfree(dma);

	expect_eq(kmm_check(), 0);
	expect_eq(drained_free(), before);
	expect_eq(kmm_error_count(), m.errors);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Caches                                                              */
/* ------------------------------------------------------------------ */

static int ctor_calls;
static void ctor_count(void *obj)
{
	__atomic_add_fetch(&ctor_calls, 1, __ATOMIC_RELAXED);
	memset(obj, 0xc7, 48);
}

TEST(constructor_runs_once_per_object_per_slab_lifetime)
{
	sh_boot(BOOT);
	ctor_calls = 0;
	struct kmem_cache *c = kmem_cache_create("ctor48", 48, 0, 0, ctor_count);
	assert_nonnull(c);
	enum { N = 300 };
	unsigned char *obj[N];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			obj[i] = kmem_cache_alloc(c, GFP_KERNEL);
			assert_nonnull(obj[i]);
			/* returned constructed, never zeroed */
			for (int b = 0; b < 48; b++)
				if (obj[i][b] != 0xc7) {
					kt_fail(0, __FILE__, __LINE__, "object %d byte %d = %#x, not constructed", i, b, obj[i][b]);
					break;
				}
		}
		expect_eq(kmm_check(), 0);
		for (int i = 0; i < N; i++)
			kmem_cache_free(c, obj[i]);	/* freed in the constructed state */
	}
	struct sh_row r = sh_slabinfo("ctor48");
	if (sh_slob()) {
		/* SLOB: at every allocation */
		expect_eq(ctor_calls, 3 * N);
	} else {
		/* SLAB: once per object when its slab was made, however often reused */
		expect_true(r.found);
		expect_ge(ctor_calls, N);
		expect_eq(ctor_calls % r.objperslab, 0);
		expect_le(ctor_calls, (N / r.objperslab + 3) * r.objperslab);
		int made = ctor_calls;
		for (int i = 0; i < N; i++)
			obj[i] = kmem_cache_alloc(c, GFP_KERNEL);
		expect_eq(ctor_calls, made);
		for (int i = 0; i < N; i++)
			kmem_cache_free(c, obj[i]);
	}
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* SLAB only: consecutive slabs of a node start their objects at colour
 * offsets 0, colour_off, 2*colour_off ... cycling (REFERENCE 6.5). */
TEST(colouring_cycles_across_slabs)
{
	if (sh_slob())
		skip_test("SLOB has no colouring");
	sh_boot("mem=64M numa=1 cpus=1");
	/* 256-byte objects, on slab: 15 per page, 152 bytes left = 2 colours of 64 */
	struct kmem_cache *c = kmem_cache_create("colour256", 256, 0, 0, NULL);
	assert_nonnull(c);
	struct sh_row r = sh_slabinfo("colour256");
	expect_eq(r.objperslab, 15);
	expect_eq(r.pagesperslab, 1);
	enum { SLABS = 6 };
	void *obj[SLABS * 15];
	for (int i = 0; i < SLABS * 15; i++)
		obj[i] = kmem_cache_alloc(c, GFP_KERNEL);
	/* the pages in the order they first appear (the order they were
	 * grown), and the lowest object offset in each */
	uintptr_t pages[SLABS + 2];
	unsigned long offs[SLABS + 2];
	int nslabs = 0;
	for (int i = 0; i < SLABS * 15; i++) {
		uintptr_t page = (uintptr_t)obj[i] & ~(uintptr_t)(PAGE_SIZE - 1);
		unsigned long off = (uintptr_t)obj[i] & (PAGE_SIZE - 1);
		int k = 0;
		while (k < nslabs && pages[k] != page)
			k++;
		if (k == nslabs) {
			if (nslabs == SLABS + 2)
				continue;
			pages[nslabs] = page;
			offs[nslabs++] = off;
		}
		if (off < offs[k])
			offs[k] = off;
	}
	expect_eq(nslabs, SLABS);
	/* descriptor + 15 bufctls (aligned to 8) come first, then the colour */
	for (int s = 1; s < SLABS; s++)
		expect_eq(offs[s] - offs[0], (unsigned long)((s % 2) * 64));
	for (int i = 0; i < SLABS * 15; i++)
		kmem_cache_free(c, obj[i]);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(cache_create_validates_and_copies_the_name)
{
	sh_boot(BOOT " on_error=report");
	struct sh_misuse m = sh_misuse_begin();
	expect_null(kmem_cache_create("zero", 0, 0, 0, NULL));
	expect_null(kmem_cache_create("huge", KMALLOC_MAX_SIZE + 1, 0, 0, NULL));
	expect_null(kmem_cache_create("align3", 64, 3, 0, NULL));
	expect_null(kmem_cache_create("align48", 64, 48, 0, NULL));
	expect_null(kmem_cache_create(NULL, 64, 0, 0, NULL));
	sh_no_misuse(m);
	char name[40];
	strcpy(name, "copied-name");
	struct kmem_cache *c = kmem_cache_create(name, 20, 0, SLAB_HWCACHE_ALIGN, NULL);
	assert_nonnull(c);
	strcpy(name, "XXXXXXXXXXX");
	expect_str_eq(kmem_cache_name(c), "copied-name");
	expect_eq(kmem_cache_size(c), 20);
	if (!sh_slob()) {
		/* HWCACHE_ALIGN halves the line while the object fits twice: 20 -> 32 */
		expect_eq(sh_slabinfo("copied-name").objsize, 32);
	}
	void *o = kmem_cache_alloc(c, GFP_KERNEL);
	expect_eq((uintptr_t)o % (sh_slob() ? 8 : 32), 0);
	kmem_cache_free(c, o);
	/* alignment honoured, a big object */
	struct kmem_cache *a = kmem_cache_create("align512", 100, 512, 0, NULL);
	struct kmem_cache *big = kmem_cache_create("big-obj", 300000, 0, SLAB_RECLAIM_ACCOUNT, NULL);
	assert_nonnull(a);
	assert_nonnull(big);
	for (int i = 0; i < 20; i++) {
		void *x = kmem_cache_alloc(a, GFP_KERNEL);
		expect_eq((uintptr_t)x % 512, 0);
		kmem_cache_free(a, x);
	}
	char *b = kmem_cache_alloc(big, GFP_KERNEL);
	assert_nonnull(b);
	memset(b, 7, 300000);
	if (!sh_slob()) {
		char *text = report_text("meminfo", NULL);
		expect_gt(report_value(text, "SReclaimable:"), 0);
		free(text);
	}
	kmem_cache_free(big, b);
	kmem_cache_destroy(big);
	kmem_cache_destroy(a);
	kmem_cache_destroy(c);
	kmem_cache_destroy(NULL);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

static void create_with_panic(void)
{
	if (kmm_boot("mem=16M numa=1 cpus=1") == 0)
		kmem_cache_create("panicky", 64, 7, SLAB_PANIC, NULL);
}

TEST(slab_panic_aborts_when_create_fails)
{
	sh_boot(BOOT);
	expect_true(sh_child_aborts(create_with_panic, "kmm: kmem_cache_create: failed to create slab 'panicky'"));
}

TEST(slabinfo_format_and_counts)
{
	sh_boot(BOOT);
	char *text = report_text("slabinfo", NULL);
	assert_nonnull(text);
	const char *hdr = "slabinfo - version: 2.1\n"
			  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
			  " : tunables <limit> <batchcount> <sharedfactor>"
			  " : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
	expect_true(strncmp(text, hdr, strlen(hdr)) == 0);
	free(text);
	struct kmem_cache *c = kmem_cache_create("info-cache", 100, 0, 0, NULL);
	void *obj[50];
	for (int i = 0; i < 50; i++)
		obj[i] = kmem_cache_alloc(c, GFP_KERNEL);
	struct sh_row r = sh_slabinfo("info-cache");
	assert_true(r.found);
	/* SLAB counts the objects its arrays hold as active, as Linux does */
	if (sh_slob())
		expect_eq(r.active_objs, 50);
	else
		expect_ge(r.active_objs, 50);
	expect_ge(r.num_objs, 50);
	if (!sh_slob())
		expect_eq(r.num_objs, r.num_slabs * r.objperslab);
	/* the row's columns, as 2.1 prints them */
	text = report_text("slabinfo", NULL);
	const char *row = strstr(text, "\ninfo-cache ");
	assert_nonnull(row);
	char want[200];
	snprintf(want, sizeof(want), "\n%-17s %6ld %6ld %6ld %4ld %4ld : tunables %4ld %4ld %4ld : slabdata %6ld %6ld %6ld\n",
		 "info-cache", r.active_objs, r.num_objs, r.objsize, r.objperslab, r.pagesperslab, r.limit,
		 r.batchcount, r.shared, r.active_slabs, r.num_slabs, r.sharedavail);
	expect_true(strncmp(row, want, strlen(want)) == 0);
	free(text);
	if (!sh_slob()) {
		/* 2.6 defaults for a 104-byte slot: limit 120, batch 60, shared 8 */
		expect_eq(r.objsize, 104);
		expect_eq(r.limit, 120);
		expect_eq(r.batchcount, 60);
		expect_eq(r.shared, 8);
		/* objects freed into the CPU array still count as active */
		for (int i = 0; i < 10; i++)
			kmem_cache_free(c, obj[i]);
		expect_eq(sh_slabinfo("info-cache").active_objs, r.active_objs);
		kmm_drain_all();
		expect_eq(sh_slabinfo("info-cache").active_objs, 40);
		for (int i = 0; i < 10; i++)
			obj[i] = kmem_cache_alloc(c, GFP_KERNEL);
	}
	long slab_pages = sh_slab_pages();
	expect_gt(slab_pages, 0);
	for (int i = 0; i < 50; i++)
		kmem_cache_free(c, obj[i]);
	expect_eq(kmem_cache_shrink(c), 0);
	r = sh_slabinfo("info-cache");
	expect_eq(r.active_objs, 0);
	expect_eq(r.num_slabs, 0);
	expect_le(sh_slab_pages(), slab_pages);
	kmem_cache_destroy(c);
	expect_false(sh_slabinfo("info-cache").found);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(slab_debug_boot_option_picks_caches)
{
	sh_boot(BOOT " slab_debug=ZP,picked-*");
	struct kmem_cache *a = kmem_cache_create("picked-one", 64, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("other-one", 64, 0, 0, NULL);
	assert_nonnull(a);
	assert_nonnull(b);
	expect_eq(a->flags & (SLAB_RED_ZONE | SLAB_POISON), SLAB_RED_ZONE | SLAB_POISON);
	expect_eq(b->flags & (SLAB_RED_ZONE | SLAB_POISON), 0);
	/* poisoned: a fresh object reads POISON_INUSE under SLAB */
	unsigned char *o = kmem_cache_alloc(a, GFP_KERNEL);
	if (!sh_slob()) {
		expect_eq(o[0], 0x5a);
		expect_eq(o[63], 0xa5);
	}
	kmem_cache_free(a, o);
	kmem_cache_destroy(a);
	kmem_cache_destroy(b);
	kmm_shutdown();
	/* no cache name: every cache, kmalloc's too */
	sh_boot(BOOT " slab_debug=FZPU");
	struct kmem_cache *c = kmem_cache_create("all-debug", 40, 0, 0, NULL);
	expect_eq(c->flags & (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER),
		  SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
	void *objs[100];
	for (int i = 0; i < 100; i++) {
		objs[i] = kmalloc(i * 13 + 1, GFP_KERNEL);
		memset(objs[i], 0x3c, i * 13 + 1);
	}
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < 100; i++)
		kfree(objs[i]);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

TEST(failslab_fails_cache_allocations)
{
	sh_boot(BOOT);
	struct kmem_cache *c = kmem_cache_create("flaky", 64, 0, 0, NULL);
	assert_eq(kmm_fault_config("failslab", "probability=100 interval=1 times=2 verbose=0 cache=flaky"), 0);
	expect_null(kmem_cache_alloc(c, GFP_KERNEL));
	void *k = kmalloc(64, GFP_KERNEL);	/* another cache: not filtered in */
	expect_nonnull(k);
	kfree(k);
	expect_null(kmem_cache_alloc(c, GFP_KERNEL));
	void *o = kmem_cache_alloc(c, GFP_KERNEL);	/* times=2 used up */
	expect_nonnull(o);
	kmem_cache_free(c, o);
	/* fail_nth: the next call reaching a fault point (failslab, before
	 * any page allocation) fails */
	assert_eq(kmm_fault_config("failslab", "probability=0 cache="), 0);
	kmm_set_fail_nth(1);
	expect_null(kmalloc(32, GFP_KERNEL));
	expect_eq(kmm_get_fail_nth(), 0);
	void *p = kmalloc(32, GFP_KERNEL);
	expect_nonnull(p);
	kfree(p);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(alloc_node_places_objects)
{
	sh_boot("mem=64M numa=2 cpus=2");
	struct kmem_cache *c = kmem_cache_create("nodes", 128, 0, 0, NULL);
	for (int nid = 0; nid < 2; nid++) {
		void *o[40];
		for (int i = 0; i < 40; i++) {
			o[i] = kmem_cache_alloc_node(c, GFP_KERNEL, nid);
			assert_nonnull(o[i]);
			expect_eq(page_to_nid(virt_to_page(o[i])), nid);
			void *k = kmalloc_node(300, GFP_KERNEL, nid);
			expect_eq(page_to_nid(virt_to_page(k)), nid);
			kfree(k);
		}
		expect_eq(kmm_check(), 0);
		for (int i = 0; i < 40; i++)
			kmem_cache_free(c, o[i]);	/* remote frees go home */
		expect_eq(kmm_check(), 0);
	}
	kmem_cache_destroy(c);
	kmm_shutdown();
}

static struct kmem_cache *thread_cache;
static void *thread_alloc_free(void *arg)
{
	void *o[200];
	for (int i = 0; i < 200; i++)
		o[i] = kmem_cache_alloc(thread_cache, GFP_KERNEL);
	for (int i = 0; i < 200; i++)
		kmem_cache_free(thread_cache, o[i]);
	return arg;
}

TEST(exiting_thread_drains_its_slot)
{
	sh_boot("mem=64M numa=1 cpus=4");
	thread_cache = kmem_cache_create("per-thread", 200, 0, 0, NULL);
	for (int t = 0; t < 20; t++) {
		pthread_t th;
		pthread_create(&th, NULL, thread_alloc_free, NULL);
		pthread_join(th, NULL);
	}
	/* nothing stays cached for threads that are gone */
	struct sh_row r = sh_slabinfo("per-thread");
	expect_eq(r.active_objs - r.sharedavail, 0);
	expect_eq(kmm_check(), 0);
	expect_eq(kmem_cache_shrink(thread_cache), 0);
	kmem_cache_destroy(thread_cache);
	kmm_shutdown();
}

/* Threads beyond the CPU slots run slot-less: the locked paths only. */
static void *slotless_worker(void *arg)
{
	struct kmem_cache *c = arg;
	void *o[300];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 300; i++) {
			o[i] = round % 2 ? kmem_cache_alloc(c, GFP_KERNEL) : kmalloc(64 + i, GFP_KERNEL);
			memset(o[i], i, 64);
		}
		for (int i = 0; i < 300; i++) {
			if (round % 2)
				kmem_cache_free(c, o[i]);
			else
				kfree(o[i]);
		}
	}
	return NULL;
}

TEST(slotless_threads_use_the_locked_path)
{
	sh_boot("mem=64M numa=1 cpus=1");
	struct kmem_cache *c = kmem_cache_create("slotless", 72, 0, 0, NULL);
	void *mine = kmem_cache_alloc(c, GFP_KERNEL);	/* this thread holds the only slot */
	pthread_t th[3];
	for (int t = 0; t < 3; t++)
		pthread_create(&th[t], NULL, slotless_worker, c);
	slotless_worker(c);
	for (int t = 0; t < 3; t++)
		pthread_join(th[t], NULL);
	expect_eq(kmm_check(), 0);
	kmem_cache_free(c, mine);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* cache_reap without a timer: an idle CPU array gives objects back in the
 * slow paths of its slot, one step per REAPTIMEOUT_CPUC (2 s): the first
 * round only clears "touched", the next frees (limit + 4) / 5 of them. */
TEST(reaping_shrinks_idle_arrays)
{
	if (sh_slob())
		skip_test("SLOB has no per-CPU arrays");
	sh_boot("mem=64M numa=1 cpus=1");
	struct kmem_cache *c = kmem_cache_create("reaped", 100, 0, 0, NULL);
	void *o[100];
	for (int i = 0; i < 100; i++)
		o[i] = kmem_cache_alloc(c, GFP_KERNEL);
	for (int i = 0; i < 100; i++)
		kmem_cache_free(c, o[i]);
	long before = sh_slabinfo("reaped").active_objs;
	expect_ge(before, 100);
	for (int round = 0; round < 2; round++) {
		sleep_ms(2100);
		/* a slow path on this slot: the first allocation from a new cache */
		struct kmem_cache *t = kmem_cache_create("reap-trigger", 50 + round * 8, 0, 0, NULL);
		kmem_cache_free(t, kmem_cache_alloc(t, GFP_KERNEL));
		kmem_cache_destroy(t);
	}
	long after = sh_slabinfo("reaped").active_objs;
	expect_eq(after, before - (120 + 4) / 5);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

/* MISUSE 22 for slabs: a blocking request on a full machine succeeds by
 * shrinking the caches' empty slabs (the slab shrinker in direct reclaim). */
TEST(memory_pressure_is_relieved_by_shrinking_caches)
{
	sh_boot("mem=64M numa=1 cpus=2 pcp=off oom_wait_ms=200");
	struct kmem_cache *c = kmem_cache_create("pressure", 1024, 0, 0, NULL);
	enum { N = 3000 };
	static void *obj[N];
	for (int i = 0; i < N; i++)
		assert_nonnull(obj[i] = kmem_cache_alloc(c, GFP_KERNEL));
	for (int i = 0; i < N; i++)
		kmem_cache_free(c, obj[i]);
	long held = sh_slabinfo("pressure").num_slabs;
	if (!sh_slob())
		expect_gt(held, 20);	/* arrays, shared array and free slabs keep memory */
	/* fill the machine down to the min watermark */
	static struct page *pages[20000];
	int np = 0;
	while (np < 20000 && (pages[np] = alloc_page(GFP_NOWAIT | __GFP_NOWARN)))
		np++;
	expect_gt(np, 10000);
	expect_null(alloc_page(GFP_NOWAIT | __GFP_NOWARN));
	if (!sh_slob()) {
		/* a GFP_KERNEL page: the shrinker gives the empty slabs back */
		struct page *p = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		expect_nonnull(p);
		expect_lt(sh_slabinfo("pressure").num_slabs, held);
		if (p)
			__free_page(p);
		/* and a kmalloc needing a new slab of another cache succeeds too */
		void *k = kmalloc(2000, GFP_KERNEL | __GFP_NOWARN);
		expect_nonnull(k);
		kfree(k);
	}
	expect_eq(kmm_check(), 0);
	while (np)
		__free_page(pages[--np]);
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* "Nothing lost": after all frees and kmm_drain_all, the page counts and
 * the buddy free lists are those of the drained boot state. */
TEST(accounting_back_to_baseline)
{
	sh_boot("mem=64M numa=2 cpus=2");
	char *base_buddy = (kmm_drain_all(), report_text("buddyinfo", NULL));
	unsigned long base_free = nr_free_pages();
	long base_slab = sh_slab_pages();
	struct kmem_cache *caches[4];
	for (int k = 0; k < 4; k++) {
		char name[32];
		snprintf(name, sizeof(name), "baseline-%d", k);
		caches[k] = kmem_cache_create(name, 24 + k * 300, k ? 8u << k : 0, k == 2 ? SLAB_HWCACHE_ALIGN : 0, NULL);
		assert_nonnull(caches[k]);
	}
	enum { N = 4000 };
	static void *obj[N];
	unsigned seed = (unsigned)kt_seed();
	for (int i = 0; i < N; i++) {
		unsigned r = (seed = seed * 1103515245 + 12345) >> 8;
		obj[i] = (r & 1) ? kmalloc(r % 9000 + 1, GFP_KERNEL) : kmem_cache_alloc(caches[(r >> 1) % 4], GFP_KERNEL);
		assert_nonnull(obj[i]);
	}
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < N; i++) {
		struct page *pg = virt_to_page(obj[i]);
		struct kmem_cache *owner = PageSlab(pg) ? pg->slab_cache : NULL;
		bool from_cache = false;
		for (int k = 0; k < 4; k++)
			from_cache |= owner && owner == caches[k];
		if (from_cache)
			kmem_cache_free(owner, obj[i]);
		else
			kfree(obj[i]);
	}
	for (int k = 0; k < 4; k++)
		kmem_cache_destroy(caches[k]);
	kmm_drain_all();
	expect_eq(nr_free_pages(), base_free);
	expect_eq(sh_slab_pages(), base_slab);
	char *buddy = report_text("buddyinfo", NULL);
	expect_str_eq(buddy, base_buddy);
	free(buddy);
	free(base_buddy);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(shutdown_lists_leaked_objects)
{
	sh_boot(BOOT);
	struct kmem_cache *c = kmem_cache_create("leaky", 32, 0, 0, NULL);
	void *a = kmem_cache_alloc(c, GFP_KERNEL);
	void *b = kmalloc(500, GFP_KERNEL);
	void *big = kmalloc(300000, GFP_KERNEL);	/* pages in both profiles */
	unsigned long errors = kmm_error_count();
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	char want[96];
	snprintf(want, sizeof(want), "kmm: shutdown: cache leaky: 1 object still allocated: %p", a);
	expect_nonnull(logcap_find(want));
	if (!sh_slob()) {
		snprintf(want, sizeof(want), "kmm: shutdown: cache size-512: 1 object still allocated: %p", b);
		expect_nonnull(logcap_find(want));
	}
	snprintf(want, sizeof(want), "kmm: shutdown: kmalloc: 1 large block (128 pages) still allocated: %p", big);
	expect_nonnull(logcap_find(want));
	expect_eq(kmm_error_count(), errors);	/* a leak report, not misuse */
	/* the slab layer gave every page back */
	expect_eq(logcap_count("pages still allocated"), 0);
}

TEST_MAIN()
