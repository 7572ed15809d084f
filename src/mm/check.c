/*
 * check.c - kmm_check(): the invariant walker.
 *
 * 1. Overview
 *    Tests and fuzzers call kmm_check() after every operation.  It checks
 *    the machine's layout (zones contiguous and ascending inside each node,
 *    watermarks ordered, managed = present - reserved), the boot
 *    reservations (PG_reserved wherever their descriptors are initialised;
 *    deferred_init leaves the rest unread), then every CPU
 *    slot's per-CPU lists and every zone's buddy lists with a frame-by-frame
 *    walk (pcp.c, buddy.c), then each layer registered above the page
 *    allocator (slab, vmalloc, ...).  The first broken invariant is
 *    reported as one "kmm: check: <part>: ..." line and kmm_check returns
 *    -EUCLEAN; nothing is repaired.
 *
 * 2. Locks
 *    The per-CPU and buddy walks hold each slot quiet (the drain protocol of
 *    pcp.c) and one zone lock at a time, so kmm_check may run while other
 *    threads allocate; the layers document their own.
 */
#include "internal.h"

/* kmm_check_fail - report a broken invariant; returns -EUCLEAN for the
 * caller to pass up. */
int kmm_check_fail(const char *what, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	kmm_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kmm_log("kmm: check: %s: %s", what, msg);
	return -KMM_EUCLEAN;
}

static unsigned long reserved_in_zone(const struct zone *z)
{
	unsigned long n = 0, lo = z->zone_start_pfn, hi = lo + z->spanned_pages;
	for (int i = 0; i < kmm.nr_reserved; i++) {
		const struct kmm_reserved_range *r = &kmm.reserved[i];
		unsigned long a = r->start_pfn > lo ? r->start_pfn : lo;
		unsigned long b = r->start_pfn + r->nr < hi ? r->start_pfn + r->nr : hi;
		if (a < b)
			n += b - a;
	}
	return n;
}

static int check_layout(void)
{
	unsigned long next = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		pg_data_t *pgdat = NODE_DATA(nid);
		if (pgdat->node_start_pfn != next)
			return kmm_check_fail("machine", "node %d starts at pfn %lu, previous node ends at %lu",
					      nid, pgdat->node_start_pfn, next);
		unsigned long pfn = pgdat->node_start_pfn;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &pgdat->node_zones[zi];
			if (!populated_zone(z))
				continue;
			if (z->zone_start_pfn != pfn)
				return kmm_check_fail("machine", "node %d zone %s starts at pfn %lu, expected %lu",
						      nid, z->name, z->zone_start_pfn, pfn);
			pfn += z->spanned_pages;
			if (z->watermark[WMARK_MIN] > z->watermark[WMARK_LOW] ||
			    z->watermark[WMARK_LOW] > z->watermark[WMARK_HIGH])
				return kmm_check_fail("machine", "node %d zone %s: watermarks min %lu low %lu high %lu out of order",
						      nid, z->name, z->watermark[WMARK_MIN], z->watermark[WMARK_LOW],
						      z->watermark[WMARK_HIGH]);
			if (z->managed_pages + reserved_in_zone(z) != z->present_pages)
				return kmm_check_fail("machine", "node %d zone %s: managed %lu + reserved %lu != present %lu",
						      nid, z->name, z->managed_pages, reserved_in_zone(z), z->present_pages);
		}
		next = pgdat->node_start_pfn + pgdat->node_spanned_pages;
		if (pfn != next)
			return kmm_check_fail("machine", "node %d: zones end at pfn %lu, node at %lu", nid, pfn, next);
	}
	if (next != kmm.max_pfn)
		return kmm_check_fail("machine", "nodes end at pfn %lu, memory at %lu", next, kmm.max_pfn);
	return 0;
}

/*
 * Every frame of a boot reservation whose descriptor is initialised (below
 * its zone's deferred_pfn) is PG_reserved with refcount >= 1, in its zone.
 * Those above are not read: with deferred_init=on (machine.c) they become
 * reserved when the zone grows over them, and reading them would make the
 * host back pages of mem_map that nothing uses.  Zone lock held per zone,
 * so deferred_pfn and the descriptors below it are read together.
 */
static int check_reservations(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			if (!populated_zone(z))
				continue;
			int err = 0;
			kmm_lock(&z->lock, KMM_LC_ZONE);
			unsigned long lo = z->zone_start_pfn, hi = z->deferred_pfn;
			for (int i = 0; i < kmm.nr_reserved && !err; i++) {
				const struct kmm_reserved_range *r = &kmm.reserved[i];
				unsigned long a = r->start_pfn > lo ? r->start_pfn : lo;
				unsigned long b = r->start_pfn + r->nr < hi ? r->start_pfn + r->nr : hi;
				for (unsigned long pfn = a; pfn < b && !err; pfn++) {
					const struct page *page = kmm_pfn_to_page(pfn);
					if (!PageReserved(page) || page->_refcount < 1 || page_zone(page) != z)
						err = kmm_check_fail("machine", "pfn %lu of the %s reservation is not a reserved page of zone %s (flags %#lx, refcount %d)",
								     pfn, r->what, z->name, page_flags_read(page), page->_refcount);
				}
			}
			kmm_unlock(&z->lock);
			if (err)
				return err;
		}
	}
	return 0;
}

/* kmm_check - see kmm/kmm.h. */
int kmm_check(void)
{
	int err;
	if (!kmm.booted)
		return -KMM_EINVAL;
	err = check_layout();
	if (!err)
		err = check_reservations();
	if (!err)
		err = pcp_check();
	for (int i = 0; !err && i < kmm_nr_layers; i++)
		if (kmm_layers[i]->check)
			err = kmm_layers[i]->check();
	return err;
}
