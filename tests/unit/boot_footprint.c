/* kmm-test: threaded */
/*
 * tests/unit/boot_footprint.c - what a boot costs and what it defers:
 * deferred struct page initialisation (deferred_init=on initialises no
 * zone beyond its first aligned frame, grows on demand in sensible steps,
 * and leaves mem_map's own descriptors for the grow that reaches them,
 * with kmm_check, snapshots and misuse reports right all along), SLAB's
 * per-slot array caches made on a slot's first use of a cache (none at
 * boot for 64 slots, allocation failure falls back to the locked paths,
 * kmm_drain_all frees them, concurrent users and drainers), per-CPU page
 * lists set up on a slot's first bind, and no dma-kmalloc caches on a
 * machine without a DMA zone.
 */
#include <sys/mman.h>

#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab_classic.h"
#include <kmm/snapshot.h>

#define MiB (1UL << 20)
/* the malloc shim's machine (src/shim/malloc.c), at 4 GiB.  TSan's
 * deadlock detector holds at most 64 mutexes per thread, and a remote
 * drain holds every slot's remote_lock plus a zone lock: fewer slots. */
#ifdef __SANITIZE_THREAD__
#define SHIM_CPUS "48"
#else
#define SHIM_CPUS "64"
#endif
#define SHIM_LIKE "mem=4G numa=1 zones=dma32:4G,normal cpus=" SHIM_CPUS " backing=private profile=modern deferred_init=on"
#define SMALL_DEFERRED "mem=256M numa=1 zones=dma:16M,normal cpus=4 deferred_init=on on_error=report"

static struct zone *zone_of(int nid, int zi) { return &NODE_DATA(nid)->node_zones[zi]; }

static const struct kmm_reserved_range *reservation(const char *what)
{
	for (int i = 0; i < kmm.nr_reserved; i++)
		if (!strcmp(kmm.reserved[i].what, what))
			return &kmm.reserved[i];
	return NULL;
}

/* Resident pages of the host range [p, p + len) (mincore). */
static unsigned long resident_pages(const void *p, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~((uintptr_t)psz - 1), b = ((uintptr_t)p + len + psz - 1) & ~((uintptr_t)psz - 1);
	size_t n = (b - a) / psz;
	unsigned char *vec = malloc(n);
	unsigned long r = 0;
	if (vec && mincore((void *)a, b - a, vec) == 0)
		for (size_t i = 0; i < n; i++)
			r += vec[i] & 1;
	free(vec);
	return r;
}

/* Slots of cachep that have an array cache. */
static int slots_with_array(struct kmem_cache *s)
{
	struct slab_cache *cachep = SC(s);
	int n = 0;
	for (int cpu = 0; cachep->array && cpu < kmm.nr_cpus; cpu++)
		n += __atomic_load_n(&cachep->array[cpu], __ATOMIC_ACQUIRE) != NULL;
	return n;
}

/* Array caches of every cache (per-slot and shared). */
static int arrays_anywhere(void)
{
	struct kmem_cache *s;
	int n = 0;
	list_for_each_entry(s, &slab_caches, list) {
		n += slots_with_array(s);
		for (int nid = 0; nid < kmm.nr_nodes; nid++)
			n += SC(s)->nodelists[nid].shared != NULL;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Deferred struct page initialisation                                 */
/* ------------------------------------------------------------------ */

TEST(deferred_boot_touches_few_descriptors)
{
	assert_eq(kmm_boot(SHIM_LIKE), 0);
	expect_eq(kmm_check(), 0);
	/* no zone initialised beyond its first maximal block at boot, and
	 * the boot's own allocations took at most one grow step */
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = zone_of(0, zi);
		if (!populated_zone(z))
			continue;
		expect_le(z->deferred_pfn - z->zone_start_pfn, 2UL << MAX_PAGE_ORDER);
		expect_le(z->nr_deferred_grows, 1);
		expect_le(z->free_pages + z->deferred_pages, z->managed_pages);
	}
	/* mem_map (64 MiB for 4 GiB) is almost all untouched: at most the
	 * descriptors of the initialised blocks (64 bytes per frame) */
	const struct kmm_reserved_range *mm = reservation("mem_map");
	assert_nonnull(mm);
	size_t memmap_bytes = kmm.max_pfn * sizeof(struct page);
	expect_le(resident_pages(kmm.mem_map, memmap_bytes) * 4096, 256 * 1024);
	/* and none of the descriptors of mem_map's own frames */
	expect_eq(resident_pages(kmm_pfn_to_page(mm->start_pfn), mm->nr * sizeof(struct page)), 0);
	/* the pcp lists of the slots nobody bound are untouched */
	int ready = 0;
	for (int i = 0; i < kmm.nr_cpus; i++)
		ready += kmm.cpus[i].pcp_ready;
	expect_le(ready, 1);
	/* no DMA zone: no dma-kmalloc twins, and GFP_DMA finds nothing */
	expect_false(sh_slabinfo("dma-kmalloc-64").found);
	expect_true(sh_slabinfo("kmalloc-64").found);
	expect_null(kmalloc(64, GFP_KERNEL | GFP_DMA | __GFP_NOWARN));
	kmm_shutdown();
}

TEST(deferred_zone_grows_on_demand_in_few_steps)
{
	assert_eq(kmm_boot(SHIM_LIKE), 0);
	struct zone *z = zone_of(0, ZONE_DMA32);
	kmm_drain_all();
	unsigned long grows0 = z->nr_deferred_grows, base = nr_free_pages();
	/* 256 MiB of order-0 pages: the zone grows as the lists run dry */
	size_t n = (256 * MiB) >> PAGE_SHIFT;
	struct page **pages = calloc(n, sizeof(*pages));
	assert_nonnull(pages);
	for (size_t i = 0; i < n; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			kt_fail(0, __FILE__, __LINE__, "page %zu of %zu: allocation failed", i, n);
			break;
		}
	}
	unsigned long grows = z->nr_deferred_grows - grows0;
	/* steps of 4 MiB growing by a quarter: 256 MiB in about 20 steps,
	 * far fewer than 64 (fixed 4 MiB steps) */
	expect_le(grows, 24);
	expect_ge(grows, 4);
	/* the descriptors initialised stay within a quarter of what was
	 * needed (plus one step) */
	expect_le((z->deferred_pfn - z->zone_start_pfn) << PAGE_SHIFT, 256 * MiB + 256 * MiB / 4 + 64 * MiB);
	expect_eq(kmm_check(), 0);
	for (size_t i = 0; i < n && pages[i]; i++)
		__free_page(pages[i]);
	free(pages);
	kmm_drain_all();
	expect_eq(nr_free_pages(), base);
	expect_eq(kmm_check(), 0);
	/* one request larger than a step still gets its block */
	struct page *big = alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER);
	expect_nonnull(big);
	if (big)
		__free_pages(big, MAX_PAGE_ORDER);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(deferred_reservations_stay_right_until_and_after_the_grow)
{
	assert_eq(kmm_boot(SMALL_DEFERRED), 0);
	const struct kmm_reserved_range *mm = reservation("mem_map");
	assert_nonnull(mm);
	struct zone *z = zone_of(0, ZONE_NORMAL);
	/* mem_map sits at the top of low memory, above the initialised part */
	assert_ge(mm->start_pfn, z->deferred_pfn);
	/* the snapshot says RESERVED for its frames, DEFERRED for the free
	 * frames no grow reached yet, without reading their descriptors */
	unsigned char st[4];
	assert_eq(kmm_frame_states(mm->start_pfn, 1, st), 1);
	expect_eq(st[0], KMM_FRAME_RESERVED);
	assert_eq(kmm_frame_states(z->deferred_pfn, 1, st), 1);
	expect_eq(st[0], KMM_FRAME_DEFERRED);
	/* neither that nor kmm_check read mem_map's own descriptors */
	expect_eq(kmm_check(), 0);
	expect_eq(resident_pages(kmm_pfn_to_page(mm->start_pfn), mm->nr * sizeof(struct page)), 0);
	/* freeing a frame of mem_map is a reserved page, not a double free */
	logcap_start();
	unsigned long errs = kmm_error_count();
	__free_page(pfn_to_page(mm->start_pfn));
	logcap_stop();
	expect_eq(kmm_error_count(), errs + 1);
	expect_nonnull(logcap_find("reserved"));
	expect_eq(kmm_check(), 0);

	/* take every free page, the reserve too: the zone grows over the
	 * reservations (below the mark with its deferred frames counted,
	 * an ordinary request fails without growing the zone) */
	kmm_drain_all();
	unsigned long base = nr_free_pages();
	struct page *held[1024];
	unsigned int held_order[1024];
	int nheld = 0;
	for (unsigned int order = MAX_PAGE_ORDER + 1; order-- > 0;) {
		struct page *p;
		while (nheld < 1024 &&
		       (p = alloc_pages(GFP_KERNEL | __GFP_MEMALLOC | __GFP_NORETRY | __GFP_NOWARN, order))) {
			held_order[nheld] = order;
			held[nheld++] = p;
		}
	}
	expect_lt(nheld, 1024);
	expect_eq(z->deferred_pfn, z->zone_start_pfn + z->spanned_pages);
	expect_eq(z->deferred_pages, 0);
	expect_true(PageReserved(pfn_to_page(mm->start_pfn)));
	expect_eq(page_count(pfn_to_page(mm->start_pfn)), 1);
	assert_eq(kmm_frame_states(mm->start_pfn, 1, st), 1);
	expect_eq(st[0], KMM_FRAME_RESERVED);
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < nheld; i++)
		__free_pages(held[i], held_order[i]);
	kmm_drain_all();
	expect_eq(nr_free_pages(), base);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(deferred_off_initialises_everything_at_boot)
{
	assert_eq(kmm_boot("mem=64M numa=2 cpus=2"), 0);
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = zone_of(nid, zi);
			expect_eq(z->deferred_pfn, z->zone_start_pfn + z->spanned_pages);
			expect_eq(z->deferred_pages, 0);
		}
	const struct kmm_reserved_range *mm = reservation("mem_map");
	assert_nonnull(mm);
	expect_true(PageReserved(pfn_to_page(mm->start_pfn + mm->nr - 1)));
	expect_eq(kmm_check(), 0);
	/* a damaged reservation descriptor is reported */
	struct page *p = pfn_to_page(mm->start_pfn);
	ClearPageReserved(p);
	logcap_start();
	expect_ne(kmm_check(), 0);
	logcap_stop();
	expect_nonnull(logcap_find("reservation"));
	SetPageReserved(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Array caches made on a slot's first use                             */
/* ------------------------------------------------------------------ */

static void *alloc_from_new_thread(void *arg)
{
	struct kmem_cache *s = arg;
	void *p = kmem_cache_alloc(s, GFP_KERNEL);
	if (p)
		kmem_cache_free(s, p);
	return NULL;
}

TEST(arrays_are_made_on_first_use_by_each_slot)
{
	if (sh_slob())
		skip_test("SLAB only");
	assert_eq(kmm_boot(SHIM_LIKE), 0);
	/* 64 slots, 13 caches: not one array (nor shared array) at boot */
	expect_eq(arrays_anywhere(), 0);
	kmm_drain_all();
	unsigned long base = nr_free_pages();

	struct kmem_cache *s = kmem_cache_create("fp_objs", 200, 0, 0, NULL);
	assert_nonnull(s);
	expect_eq(slots_with_array(s), 0);
	void *p = kmem_cache_alloc(s, GFP_KERNEL);
	assert_nonnull(p);
	struct kmm_cpu *me = kmm_cpu_get();
	assert_nonnull(me);
	expect_eq(slots_with_array(s), 1);
	expect_nonnull(SC(s)->array[me->cpu]);
	/* one slot alone has nobody to share with: no shared array yet */
	expect_null(SC(s)->nodelists[me->nid].shared);
	expect_eq(kmm_check(), 0);
	kmem_cache_free(s, p);

	/* another thread: its own slot gets one, on its first use, and the
	 * node its shared array */
	pthread_t t;
	assert_eq(pthread_create(&t, NULL, alloc_from_new_thread, s), 0);
	pthread_join(t, NULL);
	expect_eq(slots_with_array(s), 2);
	expect_nonnull(SC(s)->nodelists[me->nid].shared);
	expect_eq(kmm_check(), 0);

	/* slabinfo still shows the tunables */
	struct sh_row r = sh_slabinfo("fp_objs");
	expect_true(r.found);
	expect_eq(r.limit, 120);
	expect_eq(r.batchcount, 60);

	/* kmm_drain_all frees them (exact accounting), the next use makes
	 * them again */
	kmem_cache_destroy(s);
	p = kmalloc(100, GFP_KERNEL);
	assert_nonnull(p);
	kfree(p);
	expect_gt(arrays_anywhere(), 0);
	kmm_drain_all();
	expect_eq(arrays_anywhere(), 0);
	expect_eq(nr_free_pages(), base);
	p = kmalloc(100, GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(slots_with_array(kmalloc_slab(100, GFP_KERNEL)), 1);
	kfree(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* In a thread of its own: allocate one object of s (its slot gets an
 * array), hand it over, exit (the slot is drained and released). */
struct handover {
	struct kmem_cache *s;
	void *obj;
	int keep;
};

static void *alloc_in_thread(void *arg)
{
	struct handover *h = arg;
	h->obj = kmem_cache_alloc(h->s, GFP_KERNEL);
	if (!h->keep && h->obj) {
		kmem_cache_free(h->s, h->obj);
		h->obj = NULL;
	}
	return NULL;
}

static bool my_slot_has_array(struct kmem_cache *s)
{
	struct kmm_cpu *me = kmm_cpu_get();
	return me && SC(s)->array[me->cpu] != NULL;
}

TEST(a_free_makes_the_array_too)
{
	if (sh_slob())
		skip_test("SLAB only");
	assert_eq(kmm_boot("mem=64M numa=1 cpus=4"), 0);
	struct kmem_cache *s = kmem_cache_create("fp_free", 64, 0, 0, NULL);
	assert_nonnull(s);
	struct handover h = { .s = s, .keep = 1 };
	pthread_t t;
	assert_eq(pthread_create(&t, NULL, alloc_in_thread, &h), 0);
	pthread_join(t, NULL);
	assert_nonnull(h.obj);
	expect_false(my_slot_has_array(s));
	kmem_cache_free(s, h.obj);	/* this slot's first use of s */
	expect_true(my_slot_has_array(s));
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(s);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(no_memory_for_an_array_takes_the_locked_path)
{
	if (sh_slob())
		skip_test("SLAB only");
	assert_eq(kmm_boot("mem=64M numa=1 cpus=4 on_error=report"), 0);
	struct kmem_cache *s = kmem_cache_create("fp_nomem", 200, 0, 0, NULL);
	assert_nonnull(s);
	/* a slab of s with free objects, grown by another slot */
	struct handover h = { .s = s };
	pthread_t t;
	assert_eq(pthread_create(&t, NULL, alloc_in_thread, &h), 0);
	pthread_join(t, NULL);
	expect_false(my_slot_has_array(s));
	/* no page for anyone from here on, and every free object of the
	 * array's kmalloc class (size-1024) taken: no array can be made */
	logcap_start();
	assert_eq(kmm_fault_config("fail_page_alloc", "100,1,-1"), 0);
	static void *hog[8192];
	int nhog = 0;
	while (nhog < 8192 && (hog[nhog] = kmalloc(1000, GFP_KERNEL | __GFP_NOWARN)))
		nhog++;
	expect_lt(nhog, 8192);
	void *p = kmem_cache_alloc(s, GFP_KERNEL | __GFP_NOWARN);
	expect_nonnull(p);			/* from the slab, by the locked path */
	expect_false(my_slot_has_array(s));
	expect_eq(kmm_check(), 0);
	if (p)
		kmem_cache_free(s, p);		/* no array either: to the slab */
	expect_false(my_slot_has_array(s));
	assert_eq(kmm_fault_config("fail_page_alloc", "0,1,0"), 0);
	logcap_stop();
	for (int i = 0; i < nhog; i++)
		kfree(hog[i]);
	/* memory again: the next use makes it */
	p = kmem_cache_alloc(s, GFP_KERNEL);
	assert_nonnull(p);
	expect_true(my_slot_has_array(s));
	kmem_cache_free(s, p);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(s);
	kmm_shutdown();
}

/* kmm_slab_obj_align (what the shim asks instead of allocating one object
 * per class at start-up) holds for every object of every kmalloc class,
 * across colours, off-slab descriptors and red zones. */
TEST(slab_geometry_alignment_holds_for_every_object)
{
	if (sh_slob())
		skip_test("SLAB only");
	static const char *const boots[] = {
		"mem=64M numa=1 cpus=2 profile=classic",
		"mem=64M numa=1 cpus=2 profile=modern",
		"mem=64M numa=1 cpus=2 profile=modern slab_debug=Z",
		"mem=64M numa=1 cpus=2 profile=classic slab_debug=FZPU",
	};
	for (size_t b = 0; b < sizeof(boots) / sizeof(boots[0]); b++) {
		assert_eq(kmm_boot(boots[b]), 0);
		for (size_t size = 8; size <= kmalloc_max_cache_size(); size = size < 256 ? size + 8 : size * 2) {
			struct kmem_cache *s = kmalloc_slab(size, GFP_KERNEL);
			if (!s)
				continue;
			size_t align = kmm_slab_obj_align(s);
			expect_ge(align, 8);
			/* enough objects for several slabs, so several colours */
			enum { N = 200 };
			void *objs[N];
			for (int i = 0; i < N; i++) {
				objs[i] = kmalloc(size, GFP_KERNEL);
				if (objs[i] && ((uintptr_t)objs[i] & (align - 1)))
					kt_fail(0, __FILE__, __LINE__, "%s: %s object %p not %zu-aligned", boots[b], s->name,
						objs[i], align);
			}
			for (int i = 0; i < N; i++)
				kfree(objs[i]);
		}
		expect_eq(kmm_check(), 0);
		kmm_shutdown();
	}
}

/* threads allocate and free while the test thread drains and checks: the
 * arrays are made, used and freed under them */
struct churn {
	struct kmem_cache *s;
	int stop;		/* atomic */
	unsigned long ops;	/* atomic */
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	void *objs[32], *blocks[32];
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 32; i++) {
			objs[i] = kmem_cache_alloc(c->s, GFP_KERNEL);
			blocks[i] = kmalloc(16 + (size_t)(i * 48), GFP_KERNEL);
		}
		for (int i = 0; i < 32; i++) {
			if (objs[i])
				kmem_cache_free(c->s, objs[i]);
			kfree(blocks[i]);
		}
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST(arrays_made_and_dropped_under_concurrent_use)
{
	if (sh_slob())
		skip_test("SLAB only");
	assert_eq(kmm_boot("mem=128M numa=2 cpus=8"), 0);
	struct churn c = { .s = kmem_cache_create("fp_churn", 96, 0, 0, NULL) };
	assert_nonnull(c.s);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_eq(pthread_create(&t[i], NULL, churn_thread, &c), 0);
	/* at least 40 rounds, and until the threads went round 20 times */
	for (int round = 0; round < 40 || (__atomic_load_n(&c.ops, __ATOMIC_RELAXED) < 20 && round < 100000); round++) {
		kmm_drain_all();
		if (kmm_check() != 0) {
			kt_fail(0, __FILE__, __LINE__, "kmm_check failed in round %d", round);
			break;
		}
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	expect_gt(__atomic_load_n(&c.ops, __ATOMIC_RELAXED), 0);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c.s);
	kmm_drain_all();
	expect_eq(arrays_anywhere(), 0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST_MAIN()
