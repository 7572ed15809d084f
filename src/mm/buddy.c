/*
 * buddy.c - the buddy system of one zone: free_area[0..MAX_PAGE_ORDER],
 * split and coalesce by the buddy pfn, migrate types grouped by pageblock
 * with fallback stealing, the high-order atomic reserve, and giving free
 * memory back to the host.
 *
 * 1. Overview
 *    A free block of order k is 2^k frames starting at a pfn that is a
 *    multiple of 2^k.  Only its first page (the head) is marked PG_buddy,
 *    with the order in page->private and the free list it sits on (its
 *    migrate type) in page->index.  Allocation takes the first block of the
 *    smallest order that has one and splits it, returning the upper halves
 *    to the lists ("expand"); freeing merges a block with its buddy
 *    (pfn ^ (1 << k)) as long as the buddy is a free head of the same order
 *    in the same zone.  ULK3 chapter 8.1.7; Knuth vol. 1, 2.5.
 *
 *    Mobility grouping [2.6.24+]: each pageblock (2^PAGEBLOCK_ORDER frames)
 *    has a migrate type; a freed block goes to the list of its pageblock's
 *    type; a request whose type's lists are empty steals from another type,
 *    largest blocks first, and takes the whole pageblock when it can
 *    ([6.x] fallback table and can_steal rule).  This keeps unmovable
 *    allocations packed and high orders available.
 *
 *    HIGHATOMIC [4.4+]: after a high-order atomic allocation its pageblock
 *    may be set aside (up to 1% of the zone + 1 pageblock) so later atomic
 *    high-order requests find blocks; given back when direct reclaim fails.
 *
 *    Giving memory back [the kernel's free page reporting]: free blocks of
 *    pageblock order and above that the host still backs are counted in
 *    zone->unreported_pages; past a budget the oldest are discarded
 *    (kmm_plat_discard) and marked PG_reported.  A reported block reads as
 *    zeroes, so an allocation served from one skips __GFP_ZERO's clearing.
 *
 * 2. Invariants (buddy_check_zone verifies each)
 *    a. A block on free_area[k].free_list[t] is PageBuddy, private == k,
 *       index == t, its pfn is a multiple of 2^k and the whole block lies in
 *       the zone; its pages have refcount 0 and no other page inside it is
 *       a buddy head.
 *    b. free_area[k].nr_free_mt[t] counts list t; nr_free is their sum;
 *       zone->free_pages = sum over k of nr_free[k] << k.
 *    c. No two free buddies of the same order below MAX_PAGE_ORDER stay
 *       unmerged (except across a HIGHATOMIC boundary at pageblock order).
 *    d. unreported_pages = pages in free blocks of order >= PAGEBLOCK_ORDER
 *       not marked PG_reported.
 *    e. nr_reserved_highatomic is a multiple of pageblock_nr_pages.
 *
 * 3. Locks
 *    Every __function runs with zone->lock held by its caller; nothing here
 *    sleeps; the host call of reporting happens under the lock (rare, and
 *    the zone lock is a sleeping lock on the hosted platform).
 *
 * 4. Failure
 *    __rmqueue returns NULL when no list can serve the order; nothing else
 *    fails.  A discard the host refuses leaves the block unreported.
 */
#include "internal.h"

/* [6.x] fallback order when a type's lists are empty */
static const int fallbacks[MIGRATE_PCPTYPES][2] = {
	[MIGRATE_UNMOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
	[MIGRATE_MOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
};

void buddy_init_zone(struct zone *z)
{
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		for (int t = 0; t < MIGRATE_TYPES; t++) {
			INIT_LIST_HEAD(&z->free_area[o].free_list[t]);
			z->free_area[o].nr_free_mt[t] = 0;
		}
		z->free_area[o].nr_free = 0;
	}
	z->free_pages = 0;
	z->unreported_pages = 0;
	z->nr_reserved_highatomic = 0;
}

static inline bool counts_as_unreported(const struct page *page, unsigned int order)
{
	return order >= PAGEBLOCK_ORDER && !PageReported(page);
}

/* Put a free block on a list (head, or tail for blocks likely to merge or
 * already reported); zone lock held. */
static void add_to_free_list(struct page *page, struct zone *z, unsigned int order, int mt, bool tail)
{
	struct free_area *area = &z->free_area[order];
	SetPageBuddy(page);
	page->private = order;
	page->index = (unsigned long)mt;
	if (tail)
		list_add_tail(&page->lru, &area->free_list[mt]);
	else
		list_add(&page->lru, &area->free_list[mt]);
	/* counters are read without the lock (watermark checks): store once */
	WRITE_ONCE(area->nr_free, area->nr_free + 1);
	WRITE_ONCE(area->nr_free_mt[mt], area->nr_free_mt[mt] + 1);
	WRITE_ONCE(z->free_pages, z->free_pages + (1UL << order));
	if (counts_as_unreported(page, order))
		z->unreported_pages += 1UL << order;
}

static void del_page_from_free_list(struct page *page, struct zone *z, unsigned int order)
{
	struct free_area *area = &z->free_area[order];
	int mt = (int)page->index;
	list_del(&page->lru);
	ClearPageBuddy(page);
	page->private = 0;
	page->index = 0;
	WRITE_ONCE(area->nr_free, area->nr_free - 1);
	WRITE_ONCE(area->nr_free_mt[mt], area->nr_free_mt[mt] - 1);
	WRITE_ONCE(z->free_pages, z->free_pages - (1UL << order));
	if (counts_as_unreported(page, order))
		z->unreported_pages -= 1UL << order;
}

static void move_to_free_list(struct page *page, struct zone *z, unsigned int order, int mt)
{
	bool reported = PageReported(page);
	del_page_from_free_list(page, z, order);
	if (reported)
		SetPageReported(page);
	add_to_free_list(page, z, order, mt, false);
}

/* Set the type of every pageblock a block of order >= PAGEBLOCK_ORDER covers. */
static void change_pageblock_range(unsigned long pfn, unsigned int order, int mt)
{
	unsigned long nr = order >= PAGEBLOCK_ORDER ? 1UL << (order - PAGEBLOCK_ORDER) : 1;
	for (unsigned long i = 0; i < nr; i++)
		set_pageblock_migratetype(pfn + (i << PAGEBLOCK_ORDER), mt);
}

/* page_is_buddy: the buddy is a free head of this order in the same zone. */
static inline bool page_is_buddy(const struct page *buddy, unsigned long buddy_pfn,
				 const struct zone *z, unsigned int order)
{
	if (buddy_pfn < z->zone_start_pfn || buddy_pfn >= z->zone_start_pfn + z->spanned_pages)
		return false;
	return PageBuddy(buddy) && buddy->private == order;
}

/*
 * __free_one_page - put the block [pfn, pfn + 2^order) back, merging it
 * with free buddies; mt is the type of its pageblock.  The pages carry
 * refcount 0 and no state; PG_reported on the head means the memory is
 * untouched since it was discarded.  Zone lock held.
 */
void __free_one_page(struct page *page, unsigned long pfn, struct zone *z, unsigned int order, int mt)
{
	bool reported = PageReported(page);

	while (order < MAX_PAGE_ORDER) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy = page + ((long)buddy_pfn - (long)pfn);
		if (!page_is_buddy(buddy, buddy_pfn, z, order))
			break;
		/* [6.x] never merge a HIGHATOMIC pageblock with an ordinary one */
		if (order >= PAGEBLOCK_ORDER && ((int)buddy->index == MIGRATE_HIGHATOMIC) != (mt == MIGRATE_HIGHATOMIC))
			break;
		reported = reported && PageReported(buddy);
		del_page_from_free_list(buddy, z, order);
		ClearPageReported(buddy);
		ClearPageReported(page);
		pfn &= buddy_pfn;	/* = pfn & ~(1 << order) */
		page = kmm_pfn_to_page(pfn);
		order++;
	}
	ClearPageReported(page);
	if (reported)
		SetPageReported(page);
	if (order > PAGEBLOCK_ORDER)
		change_pageblock_range(pfn, order, mt);
	/* [6.x, profile=modern] buddy_merge_likely: if the next-higher buddy is
	 * free, keep this block at the tail so it is not handed out before it
	 * can merge ([2.6] always adds at the head); a reported block goes to
	 * the tail in both profiles (prefer memory the host backs). */
	bool tail = reported;
	if (!tail && order < MAX_PAGE_ORDER - 1 && kmm.cfg.profile == PROFILE_MODERN) {
		unsigned long higher = (pfn & ~((2UL << order) - 1)) ^ (2UL << order);
		struct page *hp = kmm_pfn_to_page(higher);
		if (higher >= z->zone_start_pfn && higher < z->deferred_pfn && PageBuddy(hp) && hp->private == order + 1)
			tail = true;
	}
	add_to_free_list(page, z, order, mt, tail);
}

/*
 * expand - split the block of order `high` at page down to `low`, putting
 * the upper halves on list mt; they inherit the block's reported state.
 */
static void expand(struct zone *z, struct page *page, unsigned int low, unsigned int high, int mt, bool reported)
{
	unsigned long size = 1UL << high;
	while (high > low) {
		high--;
		size >>= 1;
		struct page *half = page + size;
		if (reported)
			SetPageReported(half);
		add_to_free_list(half, z, high, mt, reported);
	}
}

/* __rmqueue_smallest: the first block of the smallest order >= order on list mt. */
static struct page *__rmqueue_smallest(struct zone *z, unsigned int order, int mt)
{
	for (unsigned int current = order; current < NR_PAGE_ORDERS; current++) {
		struct list_head *list = &z->free_area[current].free_list[mt];
		if (list_empty(list))
			continue;
		struct page *page = list_first_entry(list, struct page, lru);
		bool reported = PageReported(page);
		del_page_from_free_list(page, z, current);
		expand(z, page, order, current, mt, reported);
		if (reported)
			SetPageReported(page);	/* read by kmm_prep_new_page, then cleared */
		return page;
	}
	return NULL;
}

/*
 * move_freepages_block - move every free block inside the pageblock of pfn
 * to list mt; returns the number of free pages found there.
 */
static unsigned long move_freepages_block(struct zone *z, unsigned long pfn, int mt)
{
	unsigned long start = ALIGN_DOWN(pfn, pageblock_nr_pages), end = start + pageblock_nr_pages;
	unsigned long moved = 0;
	if (start < z->zone_start_pfn)
		start = z->zone_start_pfn;
	if (end > z->zone_start_pfn + z->spanned_pages)
		end = z->zone_start_pfn + z->spanned_pages;
	for (unsigned long p = start; p < end;) {
		struct page *page = kmm_pfn_to_page(p);
		if (!PageBuddy(page)) {
			p++;
			continue;
		}
		unsigned int order = (unsigned int)page->private;
		move_to_free_list(page, z, order, mt);
		moved += 1UL << order;
		p += 1UL << order;
	}
	return moved;
}

static bool can_steal_fallback(unsigned int order, int start_mt)
{
	return order >= PAGEBLOCK_ORDER / 2 || start_mt == MIGRATE_UNMOVABLE ||
	       start_mt == MIGRATE_RECLAIMABLE || !kmm.group_by_mobility;
}

/* Steal from another type: the largest block first, the whole pageblock
 * when allowed; then allocate from our own lists. */
static struct page *__rmqueue_fallback(struct zone *z, unsigned int order, int start_mt)
{
	if (start_mt >= MIGRATE_PCPTYPES)
		return NULL;
	for (int current = MAX_PAGE_ORDER; current >= (int)order; current--) {
		for (int i = 0; i < 2; i++) {
			int ft = fallbacks[start_mt][i];
			struct list_head *list = &z->free_area[current].free_list[ft];
			if (list_empty(list))
				continue;
			struct page *page = list_first_entry(list, struct page, lru);
			unsigned long pfn = kmm_page_to_pfn(page);
			if (!can_steal_fallback((unsigned int)current, start_mt)) {
				/* take the smallest suitable block instead, leave the pageblock alone */
				for (unsigned int o = order; o <= (unsigned int)current; o++) {
					struct list_head *l2 = &z->free_area[o].free_list[ft];
					if (list_empty(l2))
						continue;
					page = list_first_entry(l2, struct page, lru);
					move_to_free_list(page, z, o, start_mt);
					return __rmqueue_smallest(z, order, start_mt);
				}
			}
			z->stats.steals++;
			if (current >= PAGEBLOCK_ORDER) {
				change_pageblock_range(pfn, (unsigned int)current, start_mt);
				move_to_free_list(page, z, (unsigned int)current, start_mt);
			} else {
				unsigned long free = move_freepages_block(z, pfn, start_mt);
				if (free >= (1UL << (PAGEBLOCK_ORDER - 1)) || !kmm.group_by_mobility)
					set_pageblock_migratetype(pfn, start_mt);
			}
			return __rmqueue_smallest(z, order, start_mt);
		}
	}
	return NULL;
}

/*
 * __rmqueue - take a block of 2^order frames of migrate type mt from zone z.
 * highatomic_ok: the caller may use the HIGHATOMIC reserve (atomic requests).
 * Returns the head page (not yet prepared) or NULL.  Zone lock held.
 */
struct page *__rmqueue(struct zone *z, unsigned int order, int mt, bool highatomic_ok)
{
	struct page *page = NULL;
	if (highatomic_ok && order > 0)
		page = __rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
	if (!page)
		page = __rmqueue_smallest(z, order, mt);
	if (!page)
		page = __rmqueue_fallback(z, order, mt);
	if (!page && highatomic_ok)
		page = __rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
	return page;
}

/* Free a block to its zone, taking the lock (bulk frees use __free_one_page). */
void __free_block_to_zone(struct zone *z, struct page *page, unsigned int order)
{
	unsigned long pfn = kmm_page_to_pfn(page);
	kmm_lock(&z->lock, KMM_LC_ZONE);
	__free_one_page(page, pfn, z, order, get_pageblock_migratetype(pfn));
	if (z->unreported_pages > kmm_report_budget_pages(z))
		__report_free_pages(z, kmm_report_budget_pages(z) / 2);
	kmm_unlock(&z->lock);
}

/* ------------------------------------------------------------------ */
/* HIGHATOMIC reserve                                                  */
/* ------------------------------------------------------------------ */

void __reserve_highatomic_pageblock(struct page *page, struct zone *z, unsigned int order)
{
	unsigned long max_managed = z->managed_pages / 100 + pageblock_nr_pages;
	unsigned long pfn = kmm_page_to_pfn(page);
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	int mt = get_pageblock_migratetype(pfn);
	if (mt == MIGRATE_HIGHATOMIC)
		return;
	if (order >= PAGEBLOCK_ORDER) {	/* [6.10+] a block may span pageblocks: reserve them all */
		change_pageblock_range(pfn, order, MIGRATE_HIGHATOMIC);
		z->nr_reserved_highatomic += 1UL << order;
	} else {
		set_pageblock_migratetype(pfn, MIGRATE_HIGHATOMIC);
		move_freepages_block(z, pfn, MIGRATE_HIGHATOMIC);
		z->nr_reserved_highatomic += pageblock_nr_pages;
	}
	z->stats.highatomic_reserved++;
}

/*
 * Give one HIGHATOMIC pageblock back to type mt; true if one was found.
 * Its free blocks are freed again under the new type, so they merge with
 * free neighbours that the reserve boundary kept apart.
 */
bool __unreserve_highatomic_pageblock(struct zone *z, int mt)
{
	if (!z->nr_reserved_highatomic)
		return false;
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct list_head *list = &z->free_area[o].free_list[MIGRATE_HIGHATOMIC];
		if (list_empty(list))
			continue;
		struct page *page = list_first_entry(list, struct page, lru);
		unsigned long pfn = kmm_page_to_pfn(page);
		unsigned long span = o > PAGEBLOCK_ORDER ? 1UL << o : pageblock_nr_pages;
		unsigned long start = ALIGN_DOWN(pfn, pageblock_nr_pages), end = start + span;
		for (unsigned long b = start; b < end; b += pageblock_nr_pages) {
			if (get_pageblock_migratetype(b) == MIGRATE_HIGHATOMIC) {
				z->nr_reserved_highatomic -= pageblock_nr_pages;
				set_pageblock_migratetype(b, mt);
			}
		}
		if (start < z->zone_start_pfn)
			start = z->zone_start_pfn;
		if (end > z->zone_start_pfn + z->spanned_pages)
			end = z->zone_start_pfn + z->spanned_pages;
		for (unsigned long p = start; p < end;) {
			struct page *fp = kmm_pfn_to_page(p);
			if (!PageBuddy(fp)) {
				p++;
				continue;
			}
			unsigned int fo = (unsigned int)fp->private;
			bool reported = PageReported(fp);
			del_page_from_free_list(fp, z, fo);
			if (reported)
				SetPageReported(fp);
			__free_one_page(fp, p, z, fo, mt);
			p += 1UL << fo;
		}
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Giving memory back to the host                                      */
/* ------------------------------------------------------------------ */

#define REPORT_BUDGET_MAX_PAGES ((32UL << 20) >> PAGE_SHIFT)	/* 32 MiB kept for reuse per zone */

/* How many pages of big free blocks a zone keeps backed before giving
 * them back: 1/8 of the zone, at least 4 pageblocks, at most 32 MiB. */
unsigned long kmm_report_budget_pages(const struct zone *z)
{
	unsigned long b = z->managed_pages / 8;
	if (b > REPORT_BUDGET_MAX_PAGES)
		b = REPORT_BUDGET_MAX_PAGES;
	if (b < 4 * pageblock_nr_pages)
		b = 4 * pageblock_nr_pages;
	return b;
}

/* Report one unreported block of order >= PAGEBLOCK_ORDER; false if none. */
static bool report_one(struct zone *z)
{
	for (int o = MAX_PAGE_ORDER; o >= PAGEBLOCK_ORDER; o--) {
		for (int t = 0; t < MIGRATE_TYPES; t++) {
			struct page *page;
			list_for_each_entry(page, &z->free_area[o].free_list[t], lru) {
				if (PageReported(page))
					continue;
				unsigned long pfn = kmm_page_to_pfn(page);
				void *va = kmm_is_lowmem_pfn(pfn) ? kmm_pfn_to_virt(pfn) : NULL;
				if (kmm_plat_discard(va, pfn, 1UL << o))
					return false;
				z->unreported_pages -= 1UL << o;
				SetPageReported(page);
				list_move_tail(&page->lru, &z->free_area[o].free_list[t]);
				z->stats.reported_blocks++;
				z->stats.reported_pages += 1UL << o;
				return true;
			}
		}
	}
	return false;
}

/* Give big free blocks back to the host until at most target pages of them
 * stay backed.  Zone lock held. */
void __report_free_pages(struct zone *z, unsigned long target)
{
	while (z->unreported_pages > target && report_one(z))
		;
}

/* ------------------------------------------------------------------ */
/* Invariant check                                                     */
/* ------------------------------------------------------------------ */

/*
 * buddy_check_zone - verify invariants 2a-2e of zone z; *pcp_pages gets the
 * pages found on per-CPU lists (PG_pcp) for pcp_check to compare.
 * Zone lock held.  Returns 0 or the negative result of kmm_check_fail.
 */
int buddy_check_zone(struct zone *z, unsigned long *pcp_pages)
{
	/* frames above deferred_pfn have no initialised descriptor yet */
	unsigned long start = z->zone_start_pfn, end = z->deferred_pfn;
	unsigned long free_pages = 0, unreported = 0, pcp = 0;

	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct free_area *area = &z->free_area[o];
		unsigned long total = 0;
		for (int t = 0; t < MIGRATE_TYPES; t++) {
			unsigned long n = 0;
			struct list_head *pos;
			list_for_each(pos, &area->free_list[t]) {
				struct page *page = list_entry(pos, struct page, lru);
				unsigned long pfn = kmm_page_to_pfn(page);
				if (!kmm_is_page_desc(page) || !PageBuddy(page) || page->private != o || page->index != (unsigned long)t)
					return kmm_check_fail("buddy", "node %d zone %s: page on free_area[%u] list %s is not a free head of that order/type",
							      page_nid(page), z->name, o, kmm_migratetype_names[t]);
				if ((pfn & ((1UL << o) - 1)) || pfn < start || pfn + (1UL << o) > end)
					return kmm_check_fail("buddy", "node %d zone %s: free block pfn %lu order %u misaligned or outside the zone",
							      page_nid(page), z->name, pfn, o);
				if (++n > z->spanned_pages)
					return kmm_check_fail("buddy", "zone %s: free list loops", z->name);
				if (counts_as_unreported(page, o))
					unreported += 1UL << o;
			}
			if (n != area->nr_free_mt[t])
				return kmm_check_fail("buddy", "node %d zone %s: free_area[%u] %s holds %lu blocks, counter says %lu",
						      page_nid(kmm_pfn_to_page(start)), z->name, o, kmm_migratetype_names[t], n, area->nr_free_mt[t]);
			total += n;
		}
		if (total != area->nr_free)
			return kmm_check_fail("buddy", "zone %s: free_area[%u].nr_free %lu, lists hold %lu", z->name, o, area->nr_free, total);
		free_pages += total << o;
	}
	if (free_pages != z->free_pages)
		return kmm_check_fail("buddy", "zone %s: free_pages %lu, free lists hold %lu", z->name, z->free_pages, free_pages);
	if (unreported != z->unreported_pages)
		return kmm_check_fail("buddy", "zone %s: unreported_pages %lu, lists hold %lu", z->name, z->unreported_pages, unreported);
	if (z->nr_reserved_highatomic % pageblock_nr_pages)
		return kmm_check_fail("buddy", "zone %s: highatomic reserve %lu not whole pageblocks", z->name, z->nr_reserved_highatomic);
	unsigned long ha = 0;
	for (unsigned long b = ALIGN_UP(z->zone_start_pfn, pageblock_nr_pages); b < z->zone_start_pfn + z->spanned_pages;
	     b += pageblock_nr_pages)
		ha += get_pageblock_migratetype(b) == MIGRATE_HIGHATOMIC;
	if (ha * pageblock_nr_pages != z->nr_reserved_highatomic)
		return kmm_check_fail("buddy", "zone %s: %lu HIGHATOMIC pageblocks, reserve counter %lu pages",
				      z->name, ha, z->nr_reserved_highatomic);

	/* walk every frame: free blocks, pcp blocks, reserved and allocated */
	for (unsigned long pfn = start; pfn < end;) {
		struct page *page = kmm_pfn_to_page(pfn);
		if (page_zone(page) != z)
			return kmm_check_fail("buddy", "pfn %lu: descriptor says node %d zone %s, lies in zone %s",
					      pfn, page_nid(page), kmm_zone_names[page_zonenum(page)], z->name);
		if (PageBuddy(page)) {
			unsigned int o = (unsigned int)page->private;
			if (page->_refcount != 0)
				return kmm_check_fail("buddy", "pfn %lu: free block head has refcount %d (free and in use)", pfn, page->_refcount);
			for (unsigned long i = 1; i < (1UL << o); i++) {
				struct page *tp = page + i;
				if (PageBuddy(tp) || PagePcp(tp) || tp->_refcount != 0 || PageReserved(tp))
					return kmm_check_fail("buddy", "pfn %lu lies inside free block %lu order %u but is in use", pfn + i, pfn, o);
			}
			if (o < MAX_PAGE_ORDER) {
				unsigned long bp = pfn ^ (1UL << o);
				struct page *b = kmm_pfn_to_page(bp);
				if (bp >= start && bp < end && PageBuddy(b) && b->private == o &&
				    !(o >= PAGEBLOCK_ORDER && ((b->index == MIGRATE_HIGHATOMIC) != (page->index == MIGRATE_HIGHATOMIC))))
					return kmm_check_fail("buddy", "zone %s: buddies %lu and %lu of order %u are both free but not merged",
							      z->name, pfn, bp, o);
			}
			pfn += 1UL << o;
		} else if (PagePcp(page)) {
			unsigned int o = page->pcp_order;
			if (page->_refcount != 0)
				return kmm_check_fail("pcp", "pfn %lu: page on a per-CPU list has refcount %d", pfn, page->_refcount);
			pcp += 1UL << o;
			pfn += 1UL << o;
		} else {
			if (PageReserved(page) && page->_refcount < 1)
				return kmm_check_fail("buddy", "pfn %lu: reserved page with refcount %d", pfn, page->_refcount);
			pfn++;
		}
	}
	*pcp_pages = pcp;
	return 0;
}
