/*
 * kmm/snapshot.h - read-only views of the machine for tools: the layout of
 * nodes and zones, each zone's free counts per order, and the state of
 * every page frame (for memory maps such as `kmm demo`'s picture).
 *
 * Nothing here changes the machine.  Each call takes one zone lock at a
 * time (never two), so it may run while other threads allocate: the result
 * is exact for the free lists of each zone at the moment its lock was held,
 * and a recent value for pages other threads own (as /proc is).
 */
#ifndef KMM_SNAPSHOT_H
#define KMM_SNAPSHOT_H

#include <kmm/page.h>

/* What a page frame holds, as kmm_frame_states reports it. */
enum kmm_frame_state {
	KMM_FRAME_FREE = 0,		/* free in the buddy lists: FREE + order of its block (0..10) */
	KMM_FRAME_PCP = 16,		/* free, cached on a per-CPU list */
	KMM_FRAME_SLAB,			/* a slab page (SLAB or SLOB) */
	KMM_FRAME_LARGE_KMALLOC,	/* a kmalloc too large for the caches (compound) */
	KMM_FRAME_VMALLOC,		/* owned by a vmalloc area */
	KMM_FRAME_KMAPPED,		/* high memory with a kmap / kmap_local mapping */
	KMM_FRAME_PGTABLE,		/* kernel page-table page */
	KMM_FRAME_RESERVED,		/* boot reservation (mem_map, per-CPU areas) */
	KMM_FRAME_ALLOCATED,		/* any other allocated frame (alloc_pages users) */
	KMM_FRAME_DEFERRED,		/* free, descriptor not initialised yet (deferred_init=on) */
	KMM_FRAME_NR_STATES
};
#define KMM_FRAME_FREE_ORDER(s) ((s) <= MAX_PAGE_ORDER ? (int)(s) : -1)

/*
 * kmm_frame_states - the state of frames [start_pfn, start_pfn + nr).
 * @out: nr bytes, one enum kmm_frame_state per frame; frames past the end
 *       of memory are left untouched.
 * Context: any thread; takes each zone lock in turn (briefly, per 1024
 *          frames); may not be called with a kmm lock held.
 * Return: the number of frames written (nr clipped to memory), or -EINVAL
 *         before boot.
 */
long kmm_frame_states(unsigned long start_pfn, unsigned long nr, unsigned char *out);

/* One populated zone as kmm_zone_snapshot sees it. */
struct kmm_zone_snapshot {
	int nid;				/* node id */
	int zone_idx;				/* 0 DMA, 1 DMA32, 2 Normal, 3 HighMem */
	const char *name;			/* "DMA", "DMA32", "Normal", "HighMem" */
	unsigned long start_pfn;
	unsigned long spanned_pages, present_pages, managed_pages;
	unsigned long free_pages;		/* in the buddy lists (not per-CPU lists) */
	unsigned long pcp_pages;		/* cached on per-CPU lists (recent value) */
	unsigned long deferred_pages;		/* free, not yet initialised (deferred_init=on) */
	unsigned long nr_free[NR_PAGE_ORDERS];	/* free blocks per order (buddyinfo) */
	unsigned long watermark_min, watermark_low, watermark_high;
};

/*
 * kmm_zone_snapshot - copy the populated zones, nodes in id order, zones
 * in index order (as buddyinfo lists them), into out[0 .. max-1].
 * Context: any thread; each zone's lock while copying its free counts.
 * Return: the number of populated zones (may exceed max: then only max were
 *         written), or -EINVAL before boot.
 */
int kmm_zone_snapshot(struct kmm_zone_snapshot *out, int max);

/* Where the machine lives in the host's address space, and its size. */
struct kmm_layout {
	unsigned long max_pfn;			/* frames: pfn 0 .. max_pfn - 1 */
	unsigned long max_low_pfn;		/* first frame without a linear address */
	int nr_nodes, nr_cpus;
	const void *page_offset;		/* linear map: __va(phys) = page_offset + phys */
	const void *vmalloc_start, *vmalloc_end;
	const void *pkmap_base;
	int nr_pkmap;				/* pkmap= slots (permanent kmaps) */
	unsigned long vmalloc_bytes;		/* vmalloc= */
	int slab_backend;			/* 0 SLAB, 1 SLOB */
	int profile;				/* 0 classic, 1 modern */
};

/* kmm_get_layout - fill *out.  Return: 0, or -EINVAL before boot. */
int kmm_get_layout(struct kmm_layout *out);

#endif /* KMM_SNAPSHOT_H */
