/*
 * page_alloc.c - the zoned page frame allocator: GFP flags to zonelists,
 * watermarks and the pool of reserved page frames, lowmem_reserve, the
 * allocation path with its reclaim and sleep, freeing with the checks that
 * catch misuse, refcounts, and shrinkers.
 *
 * 1. Overview (ULK3 8.1.5-8.1.8; REFERENCE.md sections 2-3)
 *    alloc_pages_node(nid, gfp, order):
 *      a. order > MAX_PAGE_ORDER -> NULL ("page allocation failure" unless
 *         __GFP_NOWARN); fault injection (fail_page_alloc) may fail it.
 *      b. Fast path: walk nid's zonelist (ZONELIST_NOFALLBACK with
 *         __GFP_THISNODE) over zones whose index <= gfp_zone(gfp); take from
 *         the first zone that passes zone_watermark_ok at the LOW mark.
 *         Order <= pcp_max_order goes through the CPU slot's per-CPU lists.
 *      c. Slow path: the MIN mark with the reserve rights of the request:
 *         __GFP_HIGH may use half of the reserve, and a non-blocking
 *         __GFP_HIGH request (GFP_ATOMIC) a further quarter of the rest
 *         (min * 3/8 left); GFP_NOWAIT gets no rights [6.3+ rule, also used
 *         under profile=classic].  __GFP_MEMALLOC ignores watermarks.
 *      d. A request that may not sleep fails here.  A blocking one does
 *         direct reclaim: drain every CPU slot's lists, run the shrinkers,
 *         give back the HIGHATOMIC reserve, retry.  __GFP_NORETRY fails
 *         then; otherwise it sleeps on kmm.alloc_wait until frees wake it
 *         and retries, for at most oom_wait_ms in all (__GFP_NOFAIL: no
 *         limit), then logs "out of memory" and returns NULL.
 *    __free_pages validates the descriptor and the order before the
 *    refcount drops, checks the page is clean when it reaches zero
 *    (free_pages_check) and frees to the per-CPU list or the buddy lists.
 *
 * 2. Watermarks [2.6.11 classic; 4.6+ under profile=modern]
 *    min_free_kbytes = int_sqrt(lowmem_kbytes * 16) clamped to [128, 65536]
 *    ([128, 262144] modern).  Each lowmem zone gets the share of
 *    pages_min proportional to its managed pages; HIGHMEM gets
 *    clamp(pages / 1024, 32, 128).  classic: low = min * 5/4,
 *    high = min * 6/4; modern: gap = max(share/4, pages * 10/10000),
 *    low = min + gap, high = min + 2 * gap.  lowmem_reserve[j] of zone L =
 *    (pages of zones L+1..j of the node) / ratio[L], ratios {256, 256, 32}
 *    (modern: HIGHMEM 0).  "pages" is present_pages under classic (as
 *    2.6.11 sized everything) and managed_pages under modern.
 *
 *    Worst case of the reserve: a GFP_ATOMIC order-0 request in zone Z may
 *    take Z down to min*3/8 + lowmem_reserve free pages; a GFP_KERNEL one
 *    stops at min; so at least min*5/8 pages of every zone are kept for
 *    atomic callers (ULK3's "pool of reserved page frames").
 *
 *    deferred_init=on (machine.c): a zone's frames whose descriptors are not
 *    initialised yet (deferred_pages) count as free in the watermark checks
 *    (and as blocks of any order in the modern "one suitable block" test);
 *    a request that passes but finds the lists short grows the zone
 *    (kmm_deferred_grow_zone) and retries.  Linux [4.17+ deferred_grow_zone]
 *    grows on a failed watermark check instead: its deferred frames are
 *    all initialised by kthreads before user space runs, so only early
 *    boot meets them; in kmm they stay deferred until needed, and counting
 *    them keeps a boot from initialising a watermark's worth (8 MiB of
 *    frames for a 4 GiB zone) it does not use.
 *
 * 3. Invariants
 *    - An allocated block's head has refcount >= 1 and alloc_order = its
 *      order; every page of a free block has refcount 0.
 *    - watermark[MIN] <= watermark[LOW] <= watermark[HIGH] in every zone.
 *
 * 4. Locks
 *    zone->lock for the buddy lists (one zone at a time); shrinker_lock
 *    around the shrinker list (outermost: shrinkers take slab locks);
 *    the wait queue's own lock.  Nothing sleeps with a zone lock held.
 *
 * 5. Failure
 *    Allocators return NULL; misuse on free is reported through kmm_error
 *    ("invalid free", "page double free", "wrong order", "bad page state")
 *    and the page is left alone (leaked rather than corrupting the lists).
 */
#include "internal.h"
#include "annotate.h"

/* alloc_flags */
#define ALLOC_WMARK_MASK      0x03u	/* WMARK_MIN / LOW / HIGH */
#define ALLOC_NO_WATERMARKS   0x04u
#define ALLOC_MIN_RESERVE     0x08u	/* __GFP_HIGH: may use half the reserve */
#define ALLOC_NON_BLOCK       0x10u	/* cannot sleep: a further quarter with MIN_RESERVE */
#define ALLOC_HIGHATOMIC      0x20u	/* may use the HIGHATOMIC reserve */

#define OOM_RETRY_SLICE_NS (100ULL * 1000 * 1000)	/* re-run reclaim at least this often */

static const unsigned int lowmem_reserve_ratio_classic[MAX_NR_ZONES] = { 256, 256, 32, 32 };
static const unsigned int lowmem_reserve_ratio_modern[MAX_NR_ZONES] = { 256, 256, 32, 0 };
#define WATERMARK_SCALE_FACTOR 10	/* [4.6+] per 10000 of the zone */

/* ------------------------------------------------------------------ */
/* Watermarks                                                          */
/* ------------------------------------------------------------------ */

static unsigned long compute_min_free_kbytes(unsigned long lowmem_kbytes)
{
	unsigned long max = kmm.cfg.profile == PROFILE_MODERN ? 262144 : 65536;
	unsigned long v;
	if (kmm.cfg.min_free_kbytes >= 0) {
		v = (unsigned long)kmm.cfg.min_free_kbytes;
		unsigned long cap = lowmem_kbytes / 4;	/* a reserve beyond a quarter of low memory would starve the machine */
		if (v > cap)
			v = cap;
		if (v < 128)
			v = 128;
		if (v != (unsigned long)kmm.cfg.min_free_kbytes)
			kmm_log("kmm: boot: min_free_kbytes=%ld clamped to %lu", kmm.cfg.min_free_kbytes, v);
		return v;
	}
	v = kmm_int_sqrt(lowmem_kbytes * 16);
	if (v < 128)
		v = 128;
	if (v > max)
		v = max;
	return v;
}

/* The pages a zone is sized by: present [2.6.11] or managed [6.x]. */
static unsigned long zone_sizing_pages(const struct zone *z)
{
	return kmm.cfg.profile == PROFILE_MODERN ? z->managed_pages : z->present_pages;
}

/* setup_per_zone_wmarks + setup_per_zone_lowmem_reserve + totalreserve */
void page_alloc_init_watermarks(void)
{
	unsigned long lowmem_pages = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < ZONE_HIGHMEM; z++)
			lowmem_pages += zone_sizing_pages(&NODE_DATA(nid)->node_zones[z]);

	kmm.min_free_kbytes = compute_min_free_kbytes(lowmem_pages << (PAGE_SHIFT - 10));
	unsigned long pages_min = kmm.min_free_kbytes >> (PAGE_SHIFT - 10);
	const unsigned int *ratio = kmm.cfg.profile == PROFILE_MODERN ? lowmem_reserve_ratio_modern
								       : lowmem_reserve_ratio_classic;
	kmm.totalreserve_pages = 0;

	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		pg_data_t *pgdat = NODE_DATA(nid);
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &pgdat->node_zones[zi];
			unsigned long pages = zone_sizing_pages(z);
			unsigned long share = lowmem_pages ? (unsigned long)((unsigned long long)pages_min * pages / lowmem_pages) : 0;
			unsigned long min;
			if (zi == ZONE_HIGHMEM) {
				min = pages / 1024;
				if (min < 32)
					min = 32;
				if (min > 128)
					min = 128;
			} else {
				min = share;
			}
			if (!pages)
				min = share = 0;
			z->watermark[WMARK_MIN] = min;
			if (kmm.cfg.profile == PROFILE_MODERN) {
				unsigned long gap = share / 4;
				unsigned long scaled = pages * WATERMARK_SCALE_FACTOR / 10000;
				if (scaled > gap)
					gap = scaled;
				z->watermark[WMARK_LOW] = min + gap;
				z->watermark[WMARK_HIGH] = min + 2 * gap;
			} else {
				/* [2.6.x-4.5] "pages_min == (pages_min * 4) / 4" */
				z->watermark[WMARK_LOW] = min * 5 / 4;
				z->watermark[WMARK_HIGH] = min * 6 / 4;
			}
			/* lowmem_reserve: protect this zone from requests that could use higher ones */
			unsigned long above = 0;
			for (int j = 0; j < MAX_NR_ZONES; j++)
				z->lowmem_reserve[j] = 0;
			for (int j = zi + 1; j < MAX_NR_ZONES; j++) {
				above += zone_sizing_pages(&pgdat->node_zones[j]);
				if (pages && ratio[zi])
					z->lowmem_reserve[j] = above / ratio[zi];
			}
			unsigned long max_reserve = 0;
			for (int j = 0; j < MAX_NR_ZONES; j++)
				if (z->lowmem_reserve[j] > max_reserve)
					max_reserve = z->lowmem_reserve[j];
			unsigned long r = z->watermark[WMARK_HIGH] + max_reserve;
			kmm.totalreserve_pages += r < z->managed_pages ? r : z->managed_pages;
		}
	}
}

static unsigned long free_highatomic_pages(const struct zone *z)
{
	unsigned long n = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		n += z->free_area[o].nr_free_mt[MIGRATE_HIGHATOMIC] << o;
	return n;
}

/*
 * zone_watermark_ok - may zone z serve an order-`order` request and stay
 * above `mark` (plus lowmem_reserve of the request's highest zone)?
 * classic: the per-order loop of 2.6.11; modern: "one suitable block".
 * Reads counters without the zone lock (a racy answer is fine, as in Linux).
 */
bool zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
		       int highest_zoneidx, unsigned int alloc_flags)
{
	long min = (long)mark;
	/* frames not initialised yet (deferred_init) are free memory too: the
	 * allocation that finds the lists short grows the zone */
	unsigned long deferred = READ_ONCE(z->deferred_pages);
	long free = (long)(READ_ONCE(z->free_pages) + deferred) - (1L << order) + 1;

	if (alloc_flags & ALLOC_MIN_RESERVE) {
		min -= min / 2;
		if (alloc_flags & ALLOC_NON_BLOCK)
			min -= min / 4;
	}
	if (kmm.cfg.profile == PROFILE_MODERN) {
		if (!(alloc_flags & ALLOC_MIN_RESERVE))
			free -= (long)free_highatomic_pages(z);
		if (free <= min + (long)z->lowmem_reserve[highest_zoneidx])
			return false;
		if (!order || deferred >= (1UL << order))
			return true;
		for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
			const struct free_area *area = &z->free_area[o];
			for (int t = 0; t < MIGRATE_PCPTYPES; t++)
				if (READ_ONCE(area->nr_free_mt[t]))
					return true;
			if ((alloc_flags & ALLOC_HIGHATOMIC) && READ_ONCE(area->nr_free_mt[MIGRATE_HIGHATOMIC]))
				return true;
		}
		return false;
	}
	if (free <= min + (long)z->lowmem_reserve[highest_zoneidx])
		return false;
	for (unsigned int o = 0; o < order; o++) {
		free -= (long)(READ_ONCE(z->free_area[o].nr_free) << o);
		min >>= 1;
		if (free <= min)
			return false;
	}
	return true;
}

/*
 * zone_watermark_fast - [4.x+ zone_watermark_fast] an order-0 request with
 * free pages above mark + lowmem_reserve, counting the whole HIGHATOMIC
 * reserve as unusable (an over-estimate of its free pages), passes every
 * profile's check; anything else gets the full zone_watermark_ok.
 */
static inline bool zone_watermark_fast(struct zone *z, unsigned int order, unsigned long mark,
				       int highest_zoneidx, unsigned int alloc_flags)
{
	if (!order) {
		long fast_free = (long)(READ_ONCE(z->free_pages) + READ_ONCE(z->deferred_pages)) -
				 (long)READ_ONCE(z->nr_reserved_highatomic);
		if (fast_free > (long)mark + (long)z->lowmem_reserve[highest_zoneidx])
			return true;
	}
	return zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void count_alloc_events(struct kmm_cpu *c, struct page *page, int preferred_nid, unsigned int order)
{
	int nid = page_nid(page);
	kmm_count_event(c, (enum vm_event_item)(PGALLOC_DMA + page_zonenum(page)), 1UL << order);
	if (nid == preferred_nid) {
		kmm_count_event(c, NUMA_HIT, 1);
	} else {
		kmm_count_event(c, NUMA_MISS, 1);
		kmm_count_event(c, NUMA_FOREIGN, 1);
	}
	kmm_count_event(c, nid == (c ? c->nid : 0) ? NUMA_LOCAL : NUMA_OTHER, 1);
}

/* ------------------------------------------------------------------ */
/* Taking pages                                                        */
/* ------------------------------------------------------------------ */

static void bad_page(struct page *page, const char *reason)
{
	kmm_error("bad page state", "pfn %lu flags %#lx count %d mapcount %d: %s",
		  kmm_page_to_pfn(page), page_flags_read(page) & ((1UL << __NR_PAGEFLAGS) - 1), page->_refcount,
		  page->_mapcount, reason);
}

static void clear_frames(struct page *page, unsigned int order)
{
	unsigned long pfn = kmm_page_to_pfn(page);
	if (kmm_is_lowmem_pfn(pfn)) {
		kmm_memset(kmm_pfn_to_virt(pfn), 0, PAGE_SIZE << order);
		return;
	}
	/* High memory has no linear address: with the shared backing, punching
	 * the frames out of the memory file makes them read as zeroes. */
	kmm_plat_discard(NULL, pfn, 1UL << order);
}

/*
 * kmm_prep_new_page - turn a block just taken off a list into an allocated
 * one: refcount 1, order recorded, compound set up, zeroed if asked.
 */
void kmm_prep_new_page(struct page *page, unsigned int order, gfp_t gfp, bool was_reported)
{
	if (unlikely(page->_refcount != 0 || page->_mapcount != -1 || PageBuddy(page) ||
		     (page_flags_read(page) & PAGE_FLAGS_CHECK_AT_FREE)))
		bad_page(page, "allocated page not clean");
	ClearPageReported(page);
	page->_refcount = 1;
	page->alloc_order = (unsigned char)order;
	page->private = 0;
	/* init_on_alloc=1 zeroes every block ([5.3+] want_init_on_alloc),
	 * except where init_on_free=1 zeroed it already */
	bool zero = (gfp & __GFP_ZERO) || (kmm.cfg.init_on_alloc && !kmm.cfg.init_on_free);
	if (KMM_ANNOTATE && kmm_is_lowmem_pfn(kmm_page_to_pfn(page))) {
		void *va = kmm_pfn_to_virt(kmm_page_to_pfn(page));
		kmm_ann_pages_alloc(va, PAGE_SIZE << order);
		/* zero already; or meant to be mapped elsewhere (vmalloc, kmap):
		 * memcheck cannot follow a write through another alias */
		if ((zero && was_reported) || kmm.cfg.init_on_free || (gfp & __GFP_HIGHMEM))
			kmm_ann_pages_defined(va, PAGE_SIZE << order);
	}
	if (zero && !was_reported)
		clear_frames(page, order);
	if ((gfp & __GFP_COMP) && order) {
		SetPageHead(page);
		for (unsigned long i = 1; i < (1UL << order); i++) {
			struct page *tp = page + i;
			SetPageTail(tp);
			tp->first_page = page;
			tp->compound_order = order;
		}
	}
}

/* rmqueue: per-CPU lists for small orders, the buddy lists otherwise. */
static struct page *rmqueue(struct zone *z, unsigned int order, int mt, unsigned int alloc_flags, struct kmm_cpu *c)
{
	struct page *page;
	if (c && order <= (unsigned int)kmm.pcp_max_order && kmm.cfg.pcp && kmm_cpu_enter(c)) {
		page = pcp_rmqueue(c, z, order, mt);
		kmm_cpu_exit(c);
		if (page)
			return page;
	}
	kmm_lock(&z->lock, KMM_LC_ZONE);
	/* the HIGHATOMIC reserve: high-order atomic requests first, and any
	 * non-blocking __GFP_HIGH request as a last resort [6.x] */
	bool highatomic_ok = (alloc_flags & ALLOC_HIGHATOMIC) ||
			     (alloc_flags & (ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK)) == (ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK);
	page = __rmqueue(z, order, mt, highatomic_ok);
	if (page && order && (alloc_flags & ALLOC_HIGHATOMIC))
		__reserve_highatomic_pageblock(page, z, order);
	kmm_unlock(&z->lock);
	return page;
}

static struct page *get_page_from_freelist(gfp_t gfp, unsigned int order, unsigned int alloc_flags,
					   struct zonelist *zl, int highest_zoneidx, int mt, int preferred_nid)
{
	struct kmm_cpu *c = kmm_cpu_get();
	for (struct zoneref *zr = zl->_zonerefs; zr->zone; zr++) {
		struct zone *z = zr->zone;
		struct page *page;
		if (zr->zone_idx > highest_zoneidx)
			continue;
	try_this_zone:
		if (!(alloc_flags & ALLOC_NO_WATERMARKS) &&
		    !zone_watermark_fast(z, order, z->watermark[alloc_flags & ALLOC_WMARK_MASK], highest_zoneidx, alloc_flags))
			continue;	/* below the mark with its deferred frames counted: growing cannot help */
		page = rmqueue(z, order, mt, alloc_flags, c);
		if (!page) {
			/* deferred_grow_zone: the mark allows it, the lists are short
			 * of frames that are not initialised yet */
			if (unlikely(READ_ONCE(z->deferred_pages)) && kmm_deferred_grow_zone(z, order))
				goto try_this_zone;
			continue;
		}
		bool reported = PageReported(page);
		kmm_prep_new_page(page, order, gfp, reported);
		count_alloc_events(c, page, preferred_nid, order);
		return page;
	}
	return NULL;
}

static unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order)
{
	unsigned int flags = WMARK_MIN;
	if (gfp & __GFP_HIGH)	/* [6.3+] __GFP_NOMEMALLOC only takes ALLOC_NON_BLOCK away */
		flags |= ALLOC_MIN_RESERVE;
	if (!(gfp & __GFP_DIRECT_RECLAIM) && !(gfp & __GFP_NOMEMALLOC)) {
		flags |= ALLOC_NON_BLOCK;
		if (order > 0 && (flags & ALLOC_MIN_RESERVE))
			flags |= ALLOC_HIGHATOMIC;
	}
	return flags;
}

static void format_gfp(char *buf, size_t size, gfp_t gfp)
{
	static const struct { gfp_t bit; const char *name; } names[] = {
		{ __GFP_DMA, "__GFP_DMA" }, { __GFP_HIGHMEM, "__GFP_HIGHMEM" }, { __GFP_DMA32, "__GFP_DMA32" },
		{ __GFP_MOVABLE, "__GFP_MOVABLE" }, { __GFP_RECLAIMABLE, "__GFP_RECLAIMABLE" },
		{ __GFP_HIGH, "__GFP_HIGH" }, { __GFP_IO, "__GFP_IO" }, { __GFP_FS, "__GFP_FS" },
		{ __GFP_ZERO, "__GFP_ZERO" }, { __GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM" },
		{ __GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM" }, { __GFP_NOWARN, "__GFP_NOWARN" },
		{ __GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL" }, { __GFP_NOFAIL, "__GFP_NOFAIL" },
		{ __GFP_NORETRY, "__GFP_NORETRY" }, { __GFP_MEMALLOC, "__GFP_MEMALLOC" }, { __GFP_COMP, "__GFP_COMP" },
		{ __GFP_NOMEMALLOC, "__GFP_NOMEMALLOC" }, { __GFP_HARDWALL, "__GFP_HARDWALL" },
		{ __GFP_THISNODE, "__GFP_THISNODE" }, { __GFP_ACCOUNT, "__GFP_ACCOUNT" },
	};
	size_t len = 0;
	buf[0] = '\0';
	/* the kernel prints the well-known combinations by name first */
	if ((gfp & GFP_KERNEL) == GFP_KERNEL) {
		len += (size_t)kmm_snprintf(buf + len, size - len, "GFP_KERNEL");
		gfp &= ~GFP_KERNEL;
	} else if ((gfp & GFP_ATOMIC) == GFP_ATOMIC) {
		len += (size_t)kmm_snprintf(buf + len, size - len, "GFP_ATOMIC");
		gfp &= ~GFP_ATOMIC;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names) && len < size; i++)
		if (gfp & names[i].bit)
			len += (size_t)kmm_snprintf(buf + len, size - len, "%s%s", len ? "|" : "", names[i].name);
}

/* warn_alloc: the rate-limited "page allocation failure" line */
static void warn_alloc(gfp_t gfp, unsigned int order, int nid, const char *why)
{
	char names[192];
	if (gfp & __GFP_NOWARN)
		return;
	format_gfp(names, sizeof(names), gfp);
	kmm_warn_ratelimited("kmm: page allocation failure: order:%u, mode:%#x(%s), nid=%d: %s",
			     order, gfp, names, nid, why);
}

static void unreserve_highatomic(struct zonelist *zl, int highest_zoneidx, int mt)
{
	for (struct zoneref *zr = zl->_zonerefs; zr->zone; zr++) {
		if (zr->zone_idx > highest_zoneidx || !zr->zone->nr_reserved_highatomic)
			continue;
		kmm_lock(&zr->zone->lock, KMM_LC_ZONE);
		__unreserve_highatomic_pageblock(zr->zone, mt);
		kmm_unlock(&zr->zone->lock);
	}
}

static struct page *alloc_pages_slowpath(gfp_t gfp, unsigned int order, struct zonelist *zl,
					 int highest_zoneidx, int mt, int nid)
{
	unsigned int flags = gfp_to_alloc_flags(gfp, order);
	struct kmm_thread *t = kmm_thread();
	struct page *page;

	page = get_page_from_freelist(gfp, order, flags, zl, highest_zoneidx, mt, nid);
	if (page)
		return page;
	/* a reclaimer (PF_MEMALLOC) or an explicit __GFP_MEMALLOC may use everything */
	if (((gfp & __GFP_MEMALLOC) || t->in_reclaim) && !(gfp & __GFP_NOMEMALLOC)) {
		page = get_page_from_freelist(gfp, order, flags | ALLOC_NO_WATERMARKS, zl, highest_zoneidx, mt, nid);
		if (page)
			return page;
	}
	if (!(gfp & __GFP_DIRECT_RECLAIM) || t->in_reclaim) {
		kmm_count_event(kmm_cpu_get(), PGALLOC_FAIL, 1);
		warn_alloc(gfp, order, nid, t->in_reclaim ? "reclaim may not recurse" : "no memory above the watermark and the request may not sleep");
		return NULL;
	}

	uint64_t deadline = kmm_plat_now_ns() + (uint64_t)kmm.cfg.oom_wait_ms * 1000000ULL;
	bool unreserved = false;
	for (;;) {
		/* direct reclaim */
		kmm_count_event(kmm_cpu_get(), ALLOCSTALL, 1);
		t->in_reclaim = 1;
		pcp_drain_all();
		kmm_run_shrinkers(gfp, nid);
		t->in_reclaim = 0;
		page = get_page_from_freelist(gfp, order, flags, zl, highest_zoneidx, mt, nid);
		if (page)
			return page;
		if (!unreserved) {
			unreserved = true;
			unreserve_highatomic(zl, highest_zoneidx, mt);
			continue;
		}
		if (gfp & __GFP_NORETRY)
			break;

		/* sleep until a free lifts a zone above its watermark */
		uint64_t now = kmm_plat_now_ns();
		if (!(gfp & __GFP_NOFAIL) && now >= deadline)
			break;
		uint64_t slice = OOM_RETRY_SLICE_NS;
		if (!(gfp & __GFP_NOFAIL) && deadline - now < slice)
			slice = deadline - now;
		uint64_t until = now + slice;
		__atomic_fetch_add(&kmm.alloc_waiters, 1, __ATOMIC_SEQ_CST);
		for (;;) {
			unsigned long gen = kmm_plat_wait_prepare(&kmm.alloc_wait);
			page = get_page_from_freelist(gfp, order, flags, zl, highest_zoneidx, mt, nid);
			now = kmm_plat_now_ns();
			if (page || now >= until)
				break;
			kmm_plat_wait(&kmm.alloc_wait, gen, until - now);
		}
		__atomic_fetch_sub(&kmm.alloc_waiters, 1, __ATOMIC_SEQ_CST);
		if (page)
			return page;
	}
	kmm_count_event(kmm_cpu_get(), PGALLOC_FAIL, 1);
	if (gfp & __GFP_NORETRY) {
		warn_alloc(gfp, order, nid, "__GFP_NORETRY and reclaim freed too little");
	} else if (!(gfp & __GFP_NOWARN)) {
		char names[192];
		format_gfp(names, sizeof(names), gfp);
		kmm_warn_ratelimited("kmm: out of memory: order:%u mode:%#x(%s) after %lu ms", order, gfp, names,
				     kmm.cfg.oom_wait_ms);
	}
	return NULL;
}

/*
 * alloc_pages_node - the zoned page frame allocator (see kmm/page.h).
 * Context: sleeps only when gfp has __GFP_DIRECT_RECLAIM.
 * Return: head page with refcount 1, or NULL.
 */
struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	if (unlikely(!kmm.booted))
		return NULL;
	if (unlikely(order > MAX_PAGE_ORDER)) {
		warn_alloc(gfp, order, nid, "order above MAX_PAGE_ORDER (10)");
		return NULL;
	}
	if (nid < 0 || nid >= kmm.nr_nodes) {
		struct kmm_cpu *c = kmm_cpu_get();	/* inline; kmm_numa_node_id is a call */
		nid = c ? c->nid : 0;
	}
	if (unlikely(READ_ONCE(kmm.fault_armed)) && kmm_should_fail(&kmm.fail_page_alloc, gfp, order, NULL))
		return NULL;

	struct zonelist *zl = &NODE_DATA(nid)->node_zonelists[(gfp & __GFP_THISNODE) ? ZONELIST_NOFALLBACK : ZONELIST_FALLBACK];
	int highest = gfp_zone(gfp);
	int mt = gfp_migratetype(gfp);
	struct page *page = get_page_from_freelist(gfp, order, WMARK_LOW, zl, highest, mt, nid);
	if (likely(page))
		return page;
	return alloc_pages_slowpath(gfp, order, zl, highest, mt, nid);
}

struct page *alloc_pages(gfp_t gfp, unsigned int order) { return alloc_pages_node(-1, gfp, order); }
struct page *alloc_page(gfp_t gfp) { return alloc_pages_node(-1, gfp, 0); }

/* ------------------------------------------------------------------ */
/* Freeing                                                             */
/* ------------------------------------------------------------------ */

/* Wake GFP_KERNEL sleepers; called after pages reach the buddy lists. */
void kmm_page_alloc_wake(void)
{
	if (__atomic_load_n(&kmm.alloc_waiters, __ATOMIC_SEQ_CST))
		kmm_plat_wake_all(&kmm.alloc_wait);
}

/*
 * kmm_free_pages_prepared - the refcount reached zero: check the block is
 * clean and give it back (per-CPU list or buddy).  Used by the layers above
 * for pages whose refcount they manage.
 */
void kmm_free_pages_prepared(struct page *page, unsigned int order)
{
	unsigned long bad = page_flags_read(page) & PAGE_FLAGS_CHECK_AT_FREE;
	if (unlikely(bad || page->_mapcount != -1)) {
		bad_page(page, PageSlab(page) ? "still marked slab" : PageKmapped(page) || page->_mapcount != -1 ?
			 "still mapped (kmap or vmap)" : PageReserved(page) ? "reserved page" : "flags set at free");
		return;	/* leaked: taken out of circulation */
	}
	if (PageHead(page)) {
		ClearPageHead(page);
		for (unsigned long i = 1; i < (1UL << order); i++) {
			struct page *tp = page + i;
			ClearPageTail(tp);
			tp->first_page = NULL;
			tp->compound_order = 0;
		}
	}
	page->alloc_order = 0;
	page->private = 0;
	page->mapping = NULL;
	page->index = 0;
	bool lowmem = kmm_is_lowmem_pfn(kmm_page_to_pfn(page));
	if (unlikely(kmm.cfg.init_on_free)) {	/* [5.3+] init_on_free=1 */
		if (KMM_ANNOTATE && lowmem)	/* a slab's free objects were off limits */
			kmm_ann_pages_alloc(kmm_pfn_to_virt(kmm_page_to_pfn(page)), PAGE_SIZE << order);
		clear_frames(page, order);
	}
	if (KMM_ANNOTATE && lowmem)
		kmm_ann_pages_free(kmm_pfn_to_virt(kmm_page_to_pfn(page)), PAGE_SIZE << order);

	struct kmm_cpu *c = kmm_cpu_get();
	kmm_count_event(c, PGFREE, 1UL << order);
	if (c && order <= (unsigned int)kmm.pcp_max_order && kmm.cfg.pcp &&
	    !__atomic_load_n(&kmm.alloc_waiters, __ATOMIC_RELAXED) && kmm_cpu_enter(c)) {
		bool done = pcp_free(c, page, order);
		kmm_cpu_exit(c);
		if (done)
			return;
	}
	__free_block_to_zone(page_zone(page), page, order);
	kmm_page_alloc_wake();
}

/* Validate a page handed to a free function; false: reported, do nothing. */
static bool free_page_valid(struct page *page, unsigned int order, const char *fn)
{
	if (unlikely(!kmm_is_page_desc(page))) {
		kmm_error("invalid free", "%s(%p): not a page descriptor of this machine", fn, (void *)page);
		return false;
	}
	unsigned long pfn = kmm_page_to_pfn(page);
	if (unlikely(PageTail(page))) {
		kmm_error("invalid free", "%s: pfn %lu is a tail page of the block at pfn %lu", fn, pfn,
			  kmm_page_to_pfn(page->first_page));
		return false;
	}
	if (unlikely(PageBuddy(page) || PagePcp(page) || page->_refcount <= 0)) {
		/* a boot reservation whose descriptor deferred_init has not
		 * initialised yet (machine.c) reads as zeroes */
		if (kmm_pfn_reserved(pfn) && !PageBuddy(page) && !PagePcp(page))
			bad_page(page, "freeing a reserved (boot) page");
		else
			kmm_error("page double free", "%s: pfn %lu order %u is already free", fn, pfn, order);
		return false;
	}
	if (unlikely(PageReserved(page))) {
		bad_page(page, "freeing a reserved (boot) page");
		return false;
	}
	if (unlikely(order != page->alloc_order)) {
		kmm_error("wrong order", "%s: pfn %lu allocated with order %u, freed as order %u", fn, pfn,
			  page->alloc_order, order);
		return false;
	}
	return true;
}

/*
 * __free_pages - drop one reference to the block of 2^order frames at page;
 * the last reference frees it.  Context: any; never sleeps.
 */
void __free_pages(struct page *page, unsigned int order)
{
	if (!page || !free_page_valid(page, order, "__free_pages"))
		return;
	if (__atomic_sub_fetch(&page->_refcount, 1, __ATOMIC_ACQ_REL) == 0)
		kmm_free_pages_prepared(page, order);
}

void __free_page(struct page *page) { __free_pages(page, 0); }

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp & ~__GFP_HIGHMEM, order);	/* [6.x]: never highmem */
	return page ? (unsigned long)page_address(page) : 0;
}

unsigned long __get_free_page(gfp_t gfp) { return __get_free_pages(gfp, 0); }
unsigned long get_zeroed_page(gfp_t gfp) { return __get_free_pages(gfp | __GFP_ZERO, 0); }

static struct page *linear_addr_to_page(unsigned long addr, const char *fn)
{
	if (!kmm.booted || !kmm_is_linear_addr((void *)addr) || (addr & (PAGE_SIZE - 1))) {
		kmm_error("invalid free", "%s(%#lx): not a page-aligned address of the linear map", fn, addr);
		return NULL;
	}
	return kmm_pfn_to_page(kmm_virt_to_pfn((void *)addr));
}

void free_pages(unsigned long addr, unsigned int order)
{
	if (!addr)
		return;
	struct page *page = linear_addr_to_page(addr, "free_pages");
	if (page)
		__free_pages(page, order);
}

void free_page(unsigned long addr) { free_pages(addr, 0); }

/*
 * alloc_pages_exact - PAGE_ALIGN(size) bytes of contiguous low memory: the
 * power-of-two block is split into single pages and the tail beyond the
 * size is freed at once (make_alloc_exact).
 */
void *alloc_pages_exact(size_t size, gfp_t gfp)
{
	if (!size || size > (PAGE_SIZE << MAX_PAGE_ORDER)) {
		if (size)
			warn_alloc(gfp, kmm_get_order(size, PAGE_SHIFT), -1, "alloc_pages_exact size above the largest block");
		return NULL;
	}
	unsigned int order = kmm_get_order(size, PAGE_SHIFT);
	unsigned long addr = __get_free_pages(gfp & ~__GFP_COMP, order);
	if (!addr)
		return NULL;
	struct page *page = virt_to_page((void *)addr);
	unsigned long used = PAGE_ALIGN(size) >> PAGE_SHIFT;
	for (unsigned long i = 0; i < (1UL << order); i++) {	/* split_page */
		page[i]._refcount = 1;
		page[i].alloc_order = 0;
	}
	for (unsigned long i = used; i < (1UL << order); i++)
		__free_pages(page + i, 0);
	return (void *)addr;
}

void free_pages_exact(void *virt, size_t size)
{
	unsigned long addr = (unsigned long)virt, end = addr + PAGE_ALIGN(size);
	if (!virt)
		return;
	for (; addr < end; addr += PAGE_SIZE)
		free_page(addr);
}

/* ------------------------------------------------------------------ */
/* Reference counts and addresses                                      */
/* ------------------------------------------------------------------ */

void get_page(struct page *page)
{
	if (!kmm_is_page_desc(page)) {
		kmm_error("bad page state", "get_page(%p): not a page descriptor of this machine", (void *)page);
		return;
	}
	page = compound_head(page);
	if (page->_refcount <= 0) {
		bad_page(page, "get_page on a free page");
		return;
	}
	__atomic_add_fetch(&page->_refcount, 1, __ATOMIC_RELAXED);
}

void put_page(struct page *page)
{
	if (!kmm_is_page_desc(page)) {
		kmm_error("invalid free", "put_page(%p): not a page descriptor of this machine", (void *)page);
		return;
	}
	page = compound_head(page);
	__free_pages(page, page->alloc_order);
}

int page_count(const struct page *page)
{
	if (!kmm_is_page_desc(page))
		return 0;
	return __atomic_load_n(&compound_head((struct page *)page)->_refcount, __ATOMIC_RELAXED);
}

/* Where a layer above keeps highmem addresses (kmap); NULL: none mapped. */
void *(*kmm_highmem_page_address)(const struct page *page);

void *page_address(const struct page *page)
{
	if (!kmm_is_page_desc(page))
		return NULL;
	unsigned long pfn = kmm_page_to_pfn(page);
	if (kmm_is_lowmem_pfn(pfn))
		return kmm_pfn_to_virt(pfn);
	return kmm_highmem_page_address ? kmm_highmem_page_address(page) : NULL;
}

unsigned long nr_free_pages(void)
{
	unsigned long n = 0;
	if (!kmm.booted)
		return 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			n += READ_ONCE(zone->free_pages) + READ_ONCE(zone->deferred_pages);
		}
	return n;
}

unsigned long kmm_nr_free_pages_zone_type(int zone_idx)
{
	unsigned long n = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		n += READ_ONCE(NODE_DATA(nid)->node_zones[zone_idx].free_pages);
	return n;
}

/* ------------------------------------------------------------------ */
/* Shrinkers                                                           */
/* ------------------------------------------------------------------ */

/* The core has no general allocator below the slab layer, so shrinker
 * descriptors come from a fixed pool (Linux kzallocs them). */
#define MAX_SHRINKERS 64
static struct shrinker shrinker_pool[MAX_SHRINKERS];
static bool shrinker_used[MAX_SHRINKERS];

struct shrinker *shrinker_alloc(unsigned int flags, const char *name)
{
	if (!kmm.booted)
		return NULL;
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	for (int i = 0; i < MAX_SHRINKERS; i++) {
		if (shrinker_used[i])
			continue;
		shrinker_used[i] = true;
		struct shrinker *s = &shrinker_pool[i];
		kmm_memset(s, 0, sizeof(*s));
		s->flags = flags;
		s->name = name;
		s->seeks = DEFAULT_SEEKS;
		kmm_unlock(&kmm.shrinker_lock);
		return s;
	}
	kmm_unlock(&kmm.shrinker_lock);
	kmm_log("kmm: shrinker_alloc(%s): all %d shrinker slots in use", name ? name : "?", MAX_SHRINKERS);
	return NULL;
}

void shrinker_register(struct shrinker *s)
{
	if (!s || s->registered || !s->count_objects || !s->scan_objects)
		return;
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	s->next = kmm.shrinkers;
	kmm.shrinkers = s;
	s->registered = 1;
	kmm_unlock(&kmm.shrinker_lock);
}

void shrinker_free(struct shrinker *s)
{
	if (!s)
		return;
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	if (s->registered) {
		for (struct shrinker **pp = &kmm.shrinkers; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		}
	}
	for (int i = 0; i < MAX_SHRINKERS; i++)
		if (s == &shrinker_pool[i])
			shrinker_used[i] = false;
	s->registered = 0;
	kmm_unlock(&kmm.shrinker_lock);
}

/* do_shrink_slab for every registered shrinker: in direct reclaim we want
 * everything that can go, so the scan target is the whole count. */
void kmm_run_shrinkers(gfp_t gfp, int nid)
{
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	for (struct shrinker *s = kmm.shrinkers; s; s = s->next) {
		struct shrink_control sc = { .gfp_mask = gfp, .nid = nid };
		unsigned long count = s->count_objects(s, &sc);
		if (!count || count == SHRINK_EMPTY)
			continue;
		unsigned long batch = s->batch > 0 ? (unsigned long)s->batch : 128;
		while (count) {
			sc.nr_to_scan = count < batch ? count : batch;
			sc.nr_scanned = sc.nr_to_scan;
			unsigned long freed = s->scan_objects(s, &sc);
			if (freed == SHRINK_STOP)
				break;
			count -= sc.nr_scanned < count ? sc.nr_scanned : count;
		}
	}
	kmm_unlock(&kmm.shrinker_lock);
}

void kmm_shrinkers_reset(void)
{
	kmm.shrinkers = NULL;
	for (int i = 0; i < MAX_SHRINKERS; i++)
		shrinker_used[i] = false;
}
