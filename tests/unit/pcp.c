/*
 * tests/unit/pcp.c - the per-CPU page frame cache (issue 2): list sizes
 * (classic batch/high per REFERENCE 5.1, modern 2^n-1 batch per 5.3),
 * refill in batches, trimming at high, kmm_drain_all emptying every slot
 * while its owner lives, exiting threads giving their slot's pages back,
 * slotless threads, and pcp=off never caching.
 */
/* kmm-test: threaded */
#include "harness.h"
#include "page_helpers.h"

#define MiB (1UL << 20)

/* ------------------------------------------------------------------ */
/* Sizes                                                               */
/* ------------------------------------------------------------------ */

static int slots_on_node(int nid)
{
	int n = 0;
	for (int i = 0; i < kmm.nr_cpus; i++)
		n += kmm.cpus[i].nid == nid;
	return n ? n : 1;
}

static unsigned long rounddown_pow2(unsigned long x)
{
	unsigned long r = 1;
	while (r * 2 <= x)
		r *= 2;
	return x ? r : 0;
}

static void check_sizes(const char *cmdline, bool modern)
{
	assert_eq(kt_boot(cmdline), 0);
	struct zi_zone zs[32];
	int nz = parse_zoneinfo(zs, 32);
	assert_gt(nz, 0);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			if (!populated_zone(z))
				continue;
			long batch, high;
			if (modern) {
				/* REFERENCE 5.3 */
				batch = (long)(z->managed_pages >> 10);
				if (batch > (long)((1UL << 20) / PAGE_SIZE))
					batch = (long)((1UL << 20) / PAGE_SIZE);
				batch /= 4;
				if (batch < 1)
					batch = 1;
				batch = (long)rounddown_pow2((unsigned long)(batch + batch / 2)) - 1;
				if (batch < 1)
					batch = 1;
				high = (long)z->watermark[WMARK_LOW] / slots_on_node(nid);
				if (high < 4 * batch)
					high = 4 * batch;
				/* 2^n - 1 */
				expect_eq((batch + 1) & batch, 0);
			} else {
				/* REFERENCE 5.1 [2.6.11]: present pages, 256 KiB cap, /4, hot high = 6 * batch */
				batch = (long)(z->present_pages / 1024);
				if (batch * (long)PAGE_SIZE > 256 * 1024)
					batch = 256 * 1024 / (long)PAGE_SIZE;
				batch /= 4;
				if (batch < 1)
					batch = 1;
				high = 6 * batch;
			}
			if (z->pcp_batch != batch || z->pcp_high != high)
				kt_fail(0, __FILE__, __LINE__, "%s: node %d %s (%lu present, %lu managed): batch/high %d/%d, REFERENCE 5.%d gives %ld/%ld",
					cmdline, nid, z->name, z->present_pages, z->managed_pages, z->pcp_batch, z->pcp_high,
					modern ? 3 : 1, batch, high);
			struct zi_zone *r = zi_find(zs, nz, nid, z->name);
			if (!r) {
				kt_fail(0, __FILE__, __LINE__, "zoneinfo lacks node %d %s", nid, z->name);
				continue;
			}
			expect_eq(r->ncpus, kmm.nr_cpus);
			for (int c = 0; c < r->ncpus && c < ZI_MAX_CPUS; c++) {
				expect_eq(r->batch[c], z->pcp_batch);
				expect_eq(r->pcp_high[c], z->pcp_high);
				expect_eq(r->count[c], 0);
			}
		}
	}
	kmm_shutdown();
}

TEST(list_sizes_classic)
{
	check_sizes("mem=1G numa=2 cpus=2", false);
	assert_eq(kt_boot("mem=1G numa=2 cpus=2"), 0);
	/* any zone of 256 MiB or more: 16 */
	expect_eq(wb_zone(0, ZONE_NORMAL)->pcp_batch, 16);
	expect_eq(wb_zone(0, ZONE_NORMAL)->pcp_high, 96);
	expect_eq(wb_zone(1, ZONE_NORMAL)->pcp_batch, 16);
	expect_eq(wb_zone(0, ZONE_DMA)->pcp_batch, 1);
	kmm_shutdown();
	check_sizes("mem=64M numa=1 zones=normal cpus=1", false);
	check_sizes("mem=96M numa=2 zones=dma:16M,dma32:32M,normal:64M,highmem cpus=4", false);
}

TEST(list_sizes_modern)
{
	check_sizes("mem=1G numa=2 cpus=2 profile=modern", true);
	check_sizes("mem=64M numa=1 zones=normal cpus=1 profile=modern", true);
	check_sizes("mem=96M numa=2 zones=dma:16M,dma32:32M,normal:64M,highmem cpus=4 profile=modern", true);
	/* zones of 1 GiB or more: 63 */
	assert_eq(kt_boot("mem=2G numa=1 zones=normal cpus=2 profile=modern"), 0);
	expect_eq(wb_zone(0, ZONE_NORMAL)->pcp_batch, 63);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Refill and trim                                                     */
/* ------------------------------------------------------------------ */

TEST(refill_in_batches_trim_at_high)
{
	assert_eq(kt_boot("mem=512M numa=1 zones=normal cpus=1"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	const int batch = z->pcp_batch, high = z->pcp_high;
	expect_eq(batch, 16);
	expect_eq(high, 96);
	unsigned long free0 = nr_free_pages();
	expect_eq(wb_pcp_count(0, z), 0);

	struct page *p[400];
	int c = 0;		/* the model of the slot's list */
	unsigned long buddy = free0;
	for (int i = 0; i < 400; i++) {
		p[i] = alloc_page(GFP_KERNEL);
		assert_nonnull(p[i]);
		if (c == 0) {	/* empty list: one refill of `batch` pages */
			c += batch;
			buddy -= (unsigned long)batch;
		}
		c--;
		if (wb_pcp_count(0, z) != c || nr_free_pages() != buddy)
			kt_fail(1, __FILE__, __LINE__, "alloc %d: pcp count %d (model %d), buddy %lu (model %lu)", i,
				wb_pcp_count(0, z), c, nr_free_pages(), buddy);
	}
	struct zi_zone zs[4];
	int nz = parse_zoneinfo(zs, 4);
	assert_eq(nz, 1);
	expect_eq(zs[0].count[0], c);
	expect_eq(zs[0].free, (long)buddy);
	int max_seen = 0;
	for (int i = 0; i < 400; i++) {
		__free_page(p[i]);
		c++;
		if (c >= high) {	/* trimmed: `batch` pages back to the buddy lists */
			c -= batch;
			buddy += (unsigned long)batch;
		}
		if (c > max_seen)
			max_seen = c;
		if (wb_pcp_count(0, z) != c || nr_free_pages() != buddy)
			kt_fail(1, __FILE__, __LINE__, "free %d: pcp count %d (model %d), buddy %lu (model %lu)", i,
				wb_pcp_count(0, z), c, nr_free_pages(), buddy);
		expect_lt(wb_pcp_count(0, z), high);
	}
	expect_eq(max_seen, high - 1);
	expect_eq(nr_free_pages() + (unsigned long)wb_pcp_count(0, z), free0);
	expect_eq(kmm_check(), 0);
	/* higher orders bypass the lists (classic caches order 0 only) */
	int before = wb_pcp_count(0, z);
	struct page *q = alloc_pages(GFP_KERNEL, 1);
	assert_nonnull(q);
	expect_eq(wb_pcp_count(0, z), before);
	__free_pages(q, 1);
	expect_eq(wb_pcp_count(0, z), before);
	kmm_drain_all();
	expect_eq(wb_pcp_count(0, z), 0);
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(modern_caches_orders_up_to_3)
{
	assert_eq(kt_boot("mem=512M numa=1 zones=normal cpus=1 profile=modern"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	const int batch = z->pcp_batch;
	unsigned long free0 = nr_free_pages();
	for (unsigned int order = 1; order <= 3; order++) {
		int want = batch >> order;
		if (want < 2)
			want = 2;
		int before = wb_pcp_count(0, z);
		unsigned long buddy = nr_free_pages();
		struct page *p = alloc_pages(GFP_KERNEL, order);
		assert_nonnull(p);
		/* one refill of `want` blocks, one handed out */
		expect_eq(wb_pcp_count(0, z), before + (want - 1) * (1 << order));
		expect_eq(nr_free_pages(), buddy - (unsigned long)want * (1UL << order));
		__free_pages(p, order);
		expect_eq(wb_pcp_count(0, z), before + want * (1 << order));
	}
	/* order 4 is never cached */
	int before = wb_pcp_count(0, z);
	struct page *p = alloc_pages(GFP_KERNEL, 4);
	assert_nonnull(p);
	expect_eq(wb_pcp_count(0, z), before);
	__free_pages(p, 4);
	expect_eq(wb_pcp_count(0, z), before);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	expect_eq(wb_pcp_count(0, z), 0);
	expect_eq(nr_free_pages(), free0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* kmm_drain_all while the owners live                                 */
/* ------------------------------------------------------------------ */

struct holder_thread {
	pthread_t th;
	pthread_barrier_t *filled, *go;
	unsigned int max_order;
	int ok;
};

static void *fill_and_wait(void *arg)
{
	struct holder_thread *h = arg;
	struct page *p[64];
	unsigned int ord[64];
	h->ok = 1;
	for (int i = 0; i < 64; i++) {
		ord[i] = (unsigned int)i % (h->max_order + 1);
		p[i] = alloc_pages(GFP_KERNEL | (i % 2 ? __GFP_MOVABLE : 0), ord[i]);
		if (!p[i])
			h->ok = 0;
	}
	for (int i = 0; i < 64; i++)
		if (p[i])
			__free_pages(p[i], ord[i]);
	pthread_barrier_wait(h->filled);	/* the pages now sit on this thread's slot */
	pthread_barrier_wait(h->go);		/* until the main thread has drained */
	return NULL;
}

static void drain_with_live_owners(const char *cmdline, unsigned int max_order)
{
	assert_eq(kt_boot(cmdline), 0);
	unsigned long free0 = nr_free_pages();
	enum { N = 3 };
	pthread_barrier_t filled, go;
	pthread_barrier_init(&filled, NULL, N + 1);
	pthread_barrier_init(&go, NULL, N + 1);
	struct holder_thread h[N];
	for (int i = 0; i < N; i++) {
		h[i] = (struct holder_thread){ .filled = &filled, .go = &go, .max_order = max_order };
		assert_eq(pthread_create(&h[i].th, NULL, fill_and_wait, &h[i]), 0);
	}
	pthread_barrier_wait(&filled);
	unsigned long cached = wb_all_pcp_pages();
	printf("  %s: %lu pages cached on the slots of %d live threads\n", cmdline, cached, N);
	expect_gt(cached, 0);
	expect_eq(nr_free_pages() + cached, free0);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	expect_eq(wb_all_pcp_pages(), 0);
	expect_eq(nr_free_pages(), free0);
	struct zi_zone zs[16];
	int nz = parse_zoneinfo(zs, 16);
	for (int i = 0; i < nz; i++)
		for (int c = 0; c < zs[i].ncpus; c++)
			expect_eq(zs[i].count[c], 0);
	expect_eq(kmm_check(), 0);
	pthread_barrier_wait(&go);
	for (int i = 0; i < N; i++) {
		pthread_join(h[i].th, NULL);
		expect_true(h[i].ok);
	}
	expect_eq(nr_free_pages(), free0);
	pthread_barrier_destroy(&filled);
	pthread_barrier_destroy(&go);
	kmm_shutdown();
}

TEST(drain_all_empties_every_slot)
{
	drain_with_live_owners("mem=256M numa=2 cpus=4", 0);
	drain_with_live_owners("mem=256M numa=2 cpus=4 profile=modern", 3);
}

/* ------------------------------------------------------------------ */
/* Exiting threads give their pages back                               */
/* ------------------------------------------------------------------ */

static void *one_page(void *arg)
{
	unsigned int order = (unsigned int)(uintptr_t)arg;
	struct page *p = alloc_pages(GFP_KERNEL, order);
	if (p)
		__free_pages(p, order);
	return p ? (void *)1 : NULL;
}

static void thread_exit_returns(const char *cmdline, unsigned int max_order)
{
	assert_eq(kt_boot(cmdline), 0);
	unsigned long free0 = nr_free_pages();
	expect_eq(wb_all_pcp_pages(), 0);
	const int total = 1000, wave = 8;	/* more threads at once than slots: some run slotless */
	int ok = 0;
	uint64_t t0 = now_ns();
	for (int done = 0; done < total; done += wave) {
		pthread_t th[8];
		for (int i = 0; i < wave; i++)
			assert_eq(pthread_create(&th[i], NULL, one_page, (void *)(uintptr_t)((done + i) % (max_order + 1))), 0);
		for (int i = 0; i < wave; i++) {
			void *r;
			pthread_join(th[i], &r);
			ok += r != NULL;
		}
	}
	expect_eq(ok, total);
	/* no kmm_drain_all: the exits gave everything back */
	expect_eq(wb_all_pcp_pages(), 0);
	expect_eq(nr_free_pages(), free0);
	/* every slot but the main thread's own (if it has one) is free again */
	struct kmm_cpu *mine = kmm_thread()->cpu;
	for (int i = 0; i < kmm.nr_cpus; i++)
		if (&kmm.cpus[i] != mine)
			expect_eq(kmm.cpus[i].owned, 0);
	printf("  %s: %d threads in %.0f ms\n", cmdline, total, ms_since(t0));
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(exiting_threads_give_their_pages_back)
{
	thread_exit_returns("mem=64M numa=1 cpus=4", 0);
	thread_exit_returns("mem=64M numa=2 cpus=4 profile=modern", 3);
}

/*
 * Allocations after the exit drain: a pthread key destructor that re-arms
 * itself runs in every destructor round, also after kmm's own in the last
 * one; what it allocates and frees then must not bind (and so leak) a slot.
 */
static pthread_key_t late_key;

static void late_destructor(void *arg)
{
	uintptr_t round = (uintptr_t)arg;
	struct page *p = alloc_pages(GFP_KERNEL, 0);
	if (p)
		__free_pages(p, 0);
	kfree(kmalloc(100, GFP_KERNEL));
	if (round < 8)
		pthread_setspecific(late_key, (void *)(round + 1));
}

static void *late_allocator(void *arg)
{
	(void)arg;
	kfree(kmalloc(64, GFP_KERNEL));	/* binds a slot, arms kmm's destructor */
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

TEST(destructors_after_the_exit_drain_run_slotless)
{
#if defined(__SANITIZE_THREAD__)
	/* TSan's runtime has finished the thread by its last destructor round:
	 * a lock taken there crashes the runtime itself */
	skip_test("locks in late pthread key destructors are not supported under ThreadSanitizer");
#endif
	assert_eq(kt_boot("mem=64M numa=1 cpus=4"), 0);
	assert_eq(pthread_key_create(&late_key, late_destructor), 0);
	for (int i = 0; i < 20; i++) {
		pthread_t th;
		assert_eq(pthread_create(&th, NULL, late_allocator, NULL), 0);
		pthread_join(th, NULL);
	}
	struct kmm_cpu *mine = kmm_thread()->cpu;
	for (int i = 0; i < kmm.nr_cpus; i++)
		if (&kmm.cpus[i] != mine)
			expect_eq(kmm.cpus[i].owned, 0);
	expect_eq(kmm_check(), 0);
	pthread_key_delete(late_key);
	kmm_shutdown();
}

/* A thread that finds every slot taken runs slotless: nothing cached. */
static void *slotless(void *arg)
{
	(void)arg;
	unsigned long free0 = nr_free_pages();
	struct page *p = alloc_page(GFP_KERNEL);
	if (!p || nr_free_pages() != free0 - 1)
		return NULL;
	__free_page(p);
	return nr_free_pages() == free0 ? (void *)1 : NULL;
}

TEST(slotless_threads_use_the_buddy_lists)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal cpus=1"), 0);
	struct page *p = alloc_page(GFP_KERNEL);	/* the main thread owns the only slot */
	assert_nonnull(p);
	__free_page(p);
	int cached = wb_all_pcp_pages();
	expect_gt(cached, 0);
	pthread_t th;
	void *r = NULL;
	assert_eq(pthread_create(&th, NULL, slotless, NULL), 0);
	pthread_join(th, &r);
	expect_nonnull(r);
	expect_eq((int)wb_all_pcp_pages(), cached);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* pcp=off                                                             */
/* ------------------------------------------------------------------ */

TEST(pcp_off_never_caches)
{
	assert_eq(kt_boot("mem=64M numa=2 cpus=2 pcp=off"), 0);
	unsigned long free0 = nr_free_pages();
	struct blist b = { 0 };
	unsigned long expect_free = free0;
	for (int i = 0; i < 500; i++) {
		unsigned int order = (unsigned int)i % 3;
		struct page *p = alloc_pages_node(i % 2, GFP_KERNEL, order);
		assert_nonnull(p);
		expect_false(PagePcp(p));
		blist_push(&b, p, order);
		expect_free -= 1UL << order;
		if (nr_free_pages() != expect_free || wb_all_pcp_pages() != 0)
			kt_fail(1, __FILE__, __LINE__, "alloc %d: nr_free_pages %lu, expected %lu; cached %lu", i,
				nr_free_pages(), expect_free, wb_all_pcp_pages());
	}
	for (size_t i = 0; i < b.n; i++) {
		__free_pages(b.p[i], b.order[i]);
		expect_free += 1UL << b.order[i];
		if (nr_free_pages() != expect_free || wb_all_pcp_pages() != 0)
			kt_fail(1, __FILE__, __LINE__, "free %zu: nr_free_pages %lu, expected %lu", i, nr_free_pages(),
				expect_free);
	}
	b.n = 0;
	/* other threads too */
	pthread_t th;
	void *r;
	assert_eq(pthread_create(&th, NULL, one_page, (void *)0), 0);
	pthread_join(th, &r);
	expect_eq(wb_all_pcp_pages(), 0);
	expect_eq(nr_free_pages(), free0);
	struct zi_zone zs[8];
	int nz = parse_zoneinfo(zs, 8);
	for (int i = 0; i < nz; i++)
		for (int c = 0; c < zs[i].ncpus; c++)
			expect_eq(zs[i].count[c], 0);
	expect_eq(kmm_check(), 0);
	blist_release(&b);
	kmm_shutdown();
}

TEST_MAIN()
