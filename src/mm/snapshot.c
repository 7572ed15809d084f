/*
 * snapshot.c - read-only views of the machine for tools (kmm/snapshot.h):
 * the layout, each zone's free counts, and the state of every page frame.
 *
 * 1. Overview
 *    kmm_frame_states() walks mem_map and classifies each frame from its
 *    descriptor, the way a kernel debugger (or /proc/kpageflags with
 *    page-types) reads struct page:
 *      - a PG_buddy head of order k covers its 2^k frames: FREE + k;
 *      - a PG_pcp head covers its 2^pcp_order frames: PCP;
 *      - otherwise the frame's own flags, first match: PG_reserved,
 *        PG_slab, PG_pgtable, PG_vmalloc, PG_kmapped or a kmap_local
 *        mapping (_mapcount >= 0) of a high-memory frame, PG_large_kmalloc
 *        (the head; its tails through first_page);
 *      - a frame inside an allocated block (a head with refcount >= 1 and
 *        alloc_order k > 0 covers 2^k frames) without flags of its own
 *        takes the head's state; anything else is ALLOCATED;
 *      - a frame at or above its zone's deferred_pfn (deferred_init=on:
 *        descriptor not initialised yet) is DEFERRED, free, without
 *        reading its descriptor; RESERVED when it lies in a boot
 *        reservation (mem_map's own frames: their descriptors are
 *        deferred too, machine.c).  deferred_pfn is read under the zone
 *        lock with the chunk (it only grows, in whole chunks).
 *    kmm_zone_snapshot() copies each zone's counters; kmm_get_layout()
 *    describes the machine.
 *
 * 2. Invariants relied on
 *    Free blocks never cross a 2^MAX_PAGE_ORDER-aligned boundary (they are
 *    naturally aligned), so a walk that starts at such a boundary sees the
 *    head of every block that covers a frame after it.  Zones and nodes are
 *    consecutive pfn ranges (machine.c).
 *
 * 3. Locks
 *    The walk holds the zone lock of the zone it reads, one chunk of 1024
 *    frames (2^MAX_PAGE_ORDER, aligned) at a time, so the buddy flags and
 *    orders it reads are consistent within the chunk.  Per-CPU lists are
 *    changed by their owners without that lock: a PG_pcp head's pcp_order
 *    is read once and clamped, so a racing owner can only make the answer
 *    stale, never out of range.  Flags of allocated frames are read with
 *    single relaxed loads (internal.h), as kmm_check does.
 *
 * 4. Failure
 *    Before boot every function returns -EINVAL; nothing allocates.
 *
 * Which Linux: none - this is kmm's stand-in for /proc/kpageflags and
 * /proc/zoneinfo read by tools; it adds no state to the machine.
 */
#include "internal.h"
#include <kmm/snapshot.h>

/* Frames walked per zone-lock hold: one maximal buddy block. */
#define SNAP_CHUNK (1UL << MAX_PAGE_ORDER)

/* The state a frame's own flags give it, or -1 when it has none. */
static int own_state(const struct page *page)
{
	unsigned long f = page_flags_read(page);
	if (f & (1UL << PG_reserved))
		return KMM_FRAME_RESERVED;
	if (f & (1UL << PG_slab))
		return KMM_FRAME_SLAB;
	if (f & (1UL << PG_pgtable))
		return KMM_FRAME_PGTABLE;
	if (f & (1UL << PG_vmalloc))
		return KMM_FRAME_VMALLOC;
	if ((f & (1UL << PG_kmapped)) ||
	    (page_zonenum(page) == ZONE_HIGHMEM && __atomic_load_n(&page->_mapcount, __ATOMIC_RELAXED) >= 0))
		return KMM_FRAME_KMAPPED;
	if (f & (1UL << PG_large_kmalloc))
		return KMM_FRAME_LARGE_KMALLOC;
	return -1;
}

/* Zone lock held on the zone of [lo, hi) (one chunk): classify the frames,
 * writing those inside [want_lo, want_hi) to out (indexed from want_lo). */
static void __walk_chunk(unsigned long lo, unsigned long hi, unsigned long want_lo, unsigned long want_hi,
			 unsigned char *out)
{
	unsigned long ext_end = 0;	/* allocated block being crossed */
	int ext_state = KMM_FRAME_ALLOCATED;
	unsigned long pfn = lo;

	while (pfn < hi) {
		struct page *page = kmm_pfn_to_page(pfn);
		unsigned long f = page_flags_read(page);
		unsigned long span = 1;
		int state;

		if (f & (1UL << PG_buddy)) {
			unsigned long order = READ_ONCE(page->private);
			if (order > MAX_PAGE_ORDER)
				order = 0;
			span = 1UL << order;
			state = KMM_FRAME_FREE + (int)order;
		} else if (f & (1UL << PG_pcp)) {
			unsigned int order = READ_ONCE(page->pcp_order);
			if (order > PCP_MAX_ORDER_LIMIT || (pfn & ((1UL << order) - 1)))
				order = 0;
			span = 1UL << order;
			state = KMM_FRAME_PCP;
		} else {
			state = own_state(page);
			if (state < 0 && (f & (1UL << PG_tail))) {
				struct page *head = READ_ONCE(page->first_page);
				state = kmm_is_page_desc(head) ? own_state(head) : -1;
			}
			if (__atomic_load_n(&page->_refcount, __ATOMIC_RELAXED) > 0 && !(f & (1UL << PG_tail))) {
				unsigned int order = READ_ONCE(page->alloc_order);
				if (order > 0 && order <= MAX_PAGE_ORDER && !(pfn & ((1UL << order) - 1))) {
					ext_end = pfn + (1UL << order);
					ext_state = state >= 0 ? state : KMM_FRAME_ALLOCATED;
				}
			}
			if (state < 0)
				state = pfn < ext_end ? ext_state : KMM_FRAME_ALLOCATED;
		}
		for (unsigned long i = 0; i < span && pfn + i < hi; i++)
			if (pfn + i >= want_lo && pfn + i < want_hi)
				out[pfn + i - want_lo] = (unsigned char)state;
		pfn += span;
	}
}

/* The same for a chunk above the zone's deferred_pfn: no descriptor is
 * read (none is initialised); the boot reservations say which frames are
 * RESERVED, the rest are DEFERRED. */
static void __deferred_chunk(unsigned long lo, unsigned long hi, unsigned long want_lo, unsigned long want_hi,
			     unsigned char *out)
{
	for (unsigned long pfn = lo; pfn < hi; pfn++)
		if (pfn >= want_lo && pfn < want_hi)
			out[pfn - want_lo] = (unsigned char)(kmm_pfn_reserved(pfn) ? KMM_FRAME_RESERVED
										     : KMM_FRAME_DEFERRED);
}

/**
 * kmm_frame_states - see kmm/snapshot.h.
 */
long kmm_frame_states(unsigned long start_pfn, unsigned long nr, unsigned char *out)
{
	if (!kmm.booted || !out)
		return -KMM_EINVAL;
	if (start_pfn >= kmm.max_pfn || nr == 0)
		return 0;
	if (nr > kmm.max_pfn - start_pfn)
		nr = kmm.max_pfn - start_pfn;
	unsigned long end = start_pfn + nr;

	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			if (!populated_zone(z))
				continue;
			unsigned long zlo = z->zone_start_pfn, zhi = zlo + z->spanned_pages;
			if (zhi <= start_pfn || zlo >= end)
				continue;
			/* start at a chunk boundary (or the zone start) so every block
			 * covering a wanted frame is seen from its head */
			unsigned long pfn = ALIGN_DOWN(start_pfn > zlo ? start_pfn : zlo, SNAP_CHUNK);
			if (pfn < zlo)
				pfn = zlo;
			while (pfn < zhi && pfn < end) {
				unsigned long chunk_end = ALIGN_DOWN(pfn, SNAP_CHUNK) + SNAP_CHUNK;
				if (chunk_end > zhi)
					chunk_end = zhi;
				kmm_lock(&z->lock, KMM_LC_ZONE);
				unsigned long dpfn = z->deferred_pfn;	/* a multiple of SNAP_CHUNK, or zhi */
				if (pfn >= dpfn)
					__deferred_chunk(pfn, chunk_end, start_pfn, end, out);
				else
					__walk_chunk(pfn, chunk_end < dpfn ? chunk_end : dpfn, start_pfn, end, out);
				kmm_unlock(&z->lock);
				pfn = chunk_end;
			}
		}
	}
	return (long)nr;
}

/**
 * kmm_zone_snapshot - see kmm/snapshot.h.
 */
int kmm_zone_snapshot(struct kmm_zone_snapshot *out, int max)
{
	int n = 0;
	if (!kmm.booted || (max > 0 && !out))
		return -KMM_EINVAL;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			if (!populated_zone(z))
				continue;
			if (n < max) {
				struct kmm_zone_snapshot *s = &out[n];
				s->nid = nid;
				s->zone_idx = zi;
				s->name = z->name;
				s->start_pfn = z->zone_start_pfn;
				s->spanned_pages = z->spanned_pages;
				s->present_pages = z->present_pages;
				s->managed_pages = z->managed_pages;
				s->watermark_min = z->watermark[WMARK_MIN];
				s->watermark_low = z->watermark[WMARK_LOW];
				s->watermark_high = z->watermark[WMARK_HIGH];
				kmm_lock(&z->lock, KMM_LC_ZONE);
				s->free_pages = z->free_pages;
				for (int o = 0; o < NR_PAGE_ORDERS; o++)
					s->nr_free[o] = z->free_area[o].nr_free;
				kmm_unlock(&z->lock);
				s->pcp_pages = pcp_zone_pages(z);
			}
			n++;
		}
	}
	return n;
}

/**
 * kmm_get_layout - see kmm/snapshot.h.
 */
int kmm_get_layout(struct kmm_layout *out)
{
	if (!kmm.booted || !out)
		return -KMM_EINVAL;
	out->max_pfn = kmm.max_pfn;
	out->max_low_pfn = kmm.max_low_pfn;
	out->nr_nodes = kmm.nr_nodes;
	out->nr_cpus = kmm.nr_cpus;
	out->page_offset = kmm.page_offset;
	out->vmalloc_start = kmm.vmalloc_start;
	out->vmalloc_end = kmm.vmalloc_end;
	out->pkmap_base = kmm.pkmap_base;
	out->nr_pkmap = kmm.cfg.pkmap;
	out->vmalloc_bytes = kmm.cfg.vmalloc_bytes;
	out->slab_backend = kmm.cfg.slab == SLAB_BACKEND_SLOB;
	out->profile = kmm.cfg.profile == PROFILE_MODERN;
	return 0;
}
