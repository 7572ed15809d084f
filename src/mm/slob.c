/*
 * slob.c - SLOB, the Simple List Of Blocks allocator (boot key slab=slob):
 * a K&R-style first-fit heap made of order-0 pages, behind the same
 * kmem_cache and kmalloc API as the classic SLAB.
 *
 * This file holds the allocation and free paths: the block allocator,
 * kmalloc, the caches, init, shutdown and the fork hook.  Verification
 * (kmm_check), slabinfo, counters and the leak listing are in
 * slob_check.c; the structures both share are in slob_internal.h.
 *
 * 1. Overview (REFERENCE.md section 9; Linux mm/slob.c, 2.6.3x - 6.3 form
 *    with three lists and alignment offsets)
 *    Memory is handed out in blocks of whole units; a unit is one slobidx_t,
 *    an s16 while PAGE_SIZE <= 2 * 32767 (so SLOB_UNIT = 2 bytes with 4 KiB
 *    pages; 64 KiB pages need an s32).
 *    Every SLOB page keeps its own list of free blocks in address order,
 *    threaded through the free blocks themselves.  Pages with free room sit
 *    on one of three lists chosen by the size of the request that put them
 *    there: free_slob_small (< SLOB_BREAK1 = 256 bytes), free_slob_medium
 *    (< SLOB_BREAK2 = 1024) and free_slob_large (anything that fits a page).
 *      slob_alloc(size, align, align_offset): walk the list for the size,
 *        skip pages with fewer free units than needed, first fit inside a
 *        page (splitting off the head of a block when alignment asks for
 *        it), then rotate the list so the next search starts at that page
 *        (Knuth's next fit).  Nothing fits: a new order-0 page.
 *      slob_free(block, size): a page that becomes entirely free goes back
 *        to the page allocator; a full page gets a single free block and
 *        goes on the list for this size; otherwise the block is inserted in
 *        address order and merged with both neighbours.
 *    kmalloc: a header of SLOB_MINALIGN (8) bytes holds the size; natural
 *    alignment for power-of-two sizes (align = size, align_offset = the
 *    header); ksize = SLOB_UNITS(size) * SLOB_UNIT.  Sizes that do not fit a
 *    page (kmalloc_max_small) go to the page allocator through the front.
 *    kmem_cache: objects that fit a SLOB page come from slob_alloc(size,
 *    align); bigger ones get pages of their own; the constructor runs at
 *    every allocation; frees need the cache (the block size).  Cache
 *    descriptors are objects of the statically allocated cache of caches
 *    "kmem_cache" (bootstrap).
 *
 *    Where kmm differs from Linux's SLOB, and why:
 *    a. Each page belongs to one owner: the kmalloc blocks, or one cache
 *       (page->slab_cache; NULL for kmalloc).  The lists are still the
 *       three global ones; the walk skips pages of another owner (as it
 *       skips pages of another node).  This is what lets SLOB report
 *       "wrong cache", name the objects a destroyed cache still holds, free
 *       a cache object given to kfree ([6.4+] semantics), and honour
 *       SLAB_CACHE_DMA / GFP_DMA (Linux SLOB ignored the zone of partially
 *       free pages).  A page is also never used for a request whose zone is
 *       below the page's zone.
 *    b. The first SLOB_MAP_BYTES (PAGE_SIZE / 64: 64 bytes, 1.6%) of every
 *       SLOB page hold a bitmap with one bit per 8-byte granule: the bit of
 *       an allocated block's first granule is set.  Every allocated block
 *       starts on a granule (cache objects are aligned to at least
 *       ARCH_SLAB_MINALIGN = 8, kmalloc headers to 8), so a free can tell a
 *       live block from a double free, an interior pointer or a stray
 *       pointer without trusting anything stored in the heap, and kmm_check
 *       can verify that blocks tile the page exactly.  Consequence: the
 *       kmalloc limit is PAGE_SIZE - 64 - 8 bytes instead of PAGE_SIZE - 8.
 *    c. The kmalloc header is 8 bytes like Linux's, but the 4 bytes Linux
 *       leaves unused hold a check word (size ^ magic ^ offset), so a
 *       header overwritten by an overflow of the block before it is
 *       reported ("redzone overwritten") instead of freeing a wrong size.
 *    d. Every free-block header read is validated (size positive, block
 *       inside the page, next strictly after it and not past the page end):
 *       a corrupted header is reported as "freelist corrupt" and the page is
 *       taken out of use (off the lists, marked broken, never allocated
 *       from again); the live objects in it can still be freed, and the
 *       page goes back to the page allocator once its bitmap is empty.
 *    e. Every SLOB page is on exactly one list: one of the three free
 *       lists, or the bookkeeping lists full, broken and big.  So kmm_check,
 *       the leak listing and shutdown walk SLOB's own pages (never mem_map,
 *       never a page of another layer).
 *    f. The kmalloc header keeps Linux's meaning for ksize; with
 *       slab_debug=Z a trailing red zone follows the requested size, and a
 *       naturally aligned PAGE_SIZE/2 request no longer fits a page with
 *       it, so that one case is served as a large kmalloc (PG_large_kmalloc).
 *
 * 2. Data structures
 *    The struct page fields of a SLOB page, the free-block encoding,
 *    struct slob_cache and the global state kmm_slob: slob_internal.h.
 *
 * 3. Invariants
 *    Listed in slob_check.c (section 2), where slob_check verifies each
 *    under slob_lock.  A page's blocks, bitmap, list and the counters
 *    change here only with slob_lock held, and are consistent again
 *    before it is dropped.
 *
 * 4. Locks
 *    One global lock, slob_lock (a sleeping kmm_lock), guards the lists,
 *    every SLOB page's free blocks, bitmap and struct page fields, the
 *    caches' SLOB fields and the counters.  Nothing else is taken while it
 *    is held: pages are allocated and freed with the lock dropped, reports
 *    (kmm_error) are collected and emitted after unlocking, slabinfo rows
 *    are copied out before they are printed, and constructors, the
 *    slab_debug helpers and leak-listing callbacks run unlocked.  (The
 *    only lock taken inside is slab_mutex, once, at init.)  SLOB has no
 *    per-CPU caches: drain_slot does nothing and shrink finds nothing.
 *    Order: slab_mutex (front) -> slob_lock; zone locks are never nested.
 *
 * 5. Behaviour on failure
 *    Allocations return NULL when the page allocator does (GFP_KERNEL may
 *    sleep in it; never with slob_lock held).  Misuse and corruption are
 *    reported through kmm_error and follow on_error=: in report mode the
 *    bad free is ignored (the object stays allocated), a corrupt page is
 *    taken out of use, and the allocation retries elsewhere.
 *
 * 6. Debug aids (slab_debug=F, Z, P)
 *    Caches use the slab_debug.c helpers and the slot layout of
 *    slab_fill_common; a SLOB slot is carved from free space, so at each
 *    allocation it is first initialised as free (slab_debug_init_free) and
 *    then activated (slab_debug_alloc); at free the helpers check the red
 *    zones.  Poisoning (P) covers whole pages: a poisoned owner's new pages
 *    are filled with POISON_FREE, freed blocks are refilled with it, merged
 *    headers are scrubbed, and each allocation checks its block (past the
 *    two header units SLOB itself wrote) before handing it out.  kmalloc
 *    blocks follow slab_debug= when it names every cache or a name that
 *    starts with "kmalloc" or "size-" (e.g. slab_debug=ZP,kmalloc*):
 *    P as above, Z adds a trailing red zone of SLOB_KMALLOC_RZ bytes of
 *    SLOB_RED_ACTIVE after the requested size (ksize is then the requested
 *    size), checked at free and by kmm_check.  F (caches with
 *    SLAB_CONSISTENCY_CHECKS, or kmalloc) verifies the whole page at every
 *    allocation and free in it.  As slab_debug_check_free does for SLAB,
 *    damaged poison or red zones that kmm_check (or F) finds are reported
 *    as misuse and repaired; a broken structure is only reported by
 *    kmm_check (the next allocation or free that meets it takes the page
 *    out of use).
 *
 * 7. References
 *    Linux mm/slob.c (Matt Mackall, 2.6.16; three lists 2.6.26; removed in
 *    6.4); K&R 8.7; Knuth vol. 1, 2.5 (next fit, "roving pointer").
 */
#include "slob_internal.h"
#include "fork.h"
#include "annotate.h"

struct slob_state kmm_slob;	/* slob_internal.h */
static struct slob_cache slob_cache_cache;	/* "kmem_cache": the descriptors (bootstrap) */

/* annotate.h hooks for this owner's pages?  Not with red zones, poisoning
 * or user tracking: those read and write free memory themselves. */
static inline bool owner_annotated(const struct slob_cache *sc)
{
	/* nor the cache of caches: "invalid cache" reads a freed descriptor's magic */
	return KMM_ANNOTATE && !(owner_debug(sc) & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)) &&
	       sc != &slob_cache_cache;
}

static inline struct list_head *slob_list_for(size_t size)
{
	if (size < SLOB_BREAK1)
		return &kmm_slob.free_slob_small;
	if (size < SLOB_BREAK2)
		return &kmm_slob.free_slob_medium;
	return &kmm_slob.free_slob_large;
}

/* list_rotate_to_front: make e the first entry of head's list. */
static inline void slob_rotate_to_front(struct list_head *e, struct list_head *head) { list_move_tail(head, e); }

/* ------------------------------------------------------------------ */
/* Free-block headers (their encoding: slob_internal.h)                */
/* ------------------------------------------------------------------ */

static inline void slob_word_set(slobidx_t *w, int v)
{
	kmm_ann_meta(w, sizeof(*w));	/* a header in free (annotated) memory */
	*w = (slobidx_t)((slobidx_t)v ^ slob_key(w));
}

/* kmm_slob_word_key - white-box tests: the key of the header word at addr
 * (a stored word is value ^ key). */
int kmm_slob_word_key(const void *addr);
int kmm_slob_word_key(const void *addr)
{
	return slob_key(addr);
}

/* set_slob - write the header of the free block at off. */
static void set_slob(char *base, unsigned int off, unsigned int size, unsigned int next)
{
	slobidx_t *s = slob_word(base, off);
	if (size > 1) {
		slob_word_set(&s[0], (int)size);
		slob_word_set(&s[1], (int)next);
	} else {
		slob_word_set(&s[0], -(int)next);
	}
}

/*
 * slob_get - decode the free block at off into its size and next offset.
 * Returns false (and sets *why) when the header cannot belong to a valid
 * free list of this page: the caller reports it.  Never reads outside the
 * page: word[1] is read only once the block is known to hold two units.
 */
bool slob_get(char *base, unsigned int off, unsigned int *size, unsigned int *next, const char **why)
{
	int sz, nx;
	if (off < SLOB_FIRST || off >= SLOB_END) {
		*why = "block offset outside the page's heap";
		return false;
	}
	slobidx_t *s = slob_word(base, off);
	int w0 = slob_word_get(&s[0]);
	if (w0 < 0) {
		sz = 1;
		nx = -w0;
	} else if (w0 >= 2) {
		sz = w0;
		if (off + (unsigned int)sz > SLOB_END) {
			*why = "block size runs past the page end";
			return false;
		}
		nx = slob_word_get(&s[1]);
	} else {
		*why = "block size not positive";
		return false;
	}
	if (nx < (int)off + sz) {
		*why = nx <= (int)off ? "next block not after this one" : "next block overlaps this one";
		return false;
	}
	if (nx > (int)SLOB_END) {
		*why = "next block beyond the page end";
		return false;
	}
	*size = (unsigned int)sz;
	*next = (unsigned int)nx;
	return true;
}

/* Take a page out of use after its free list was found corrupt (reported
 * as "freelist corrupt" unless why is NULL: the caller reported it).
 * slob_lock held. */
void __slob_page_broken(struct page *sp, struct slob_report *rep, unsigned int off, const char *why)
{
	char *base = slob_base(sp);
	if (why)
		rep_add(rep, "freelist corrupt", "%s slob page pfn %lu: free block %p (page offset %u): %s; page taken out of use",
			owner_name(slob_owner(sp)), kmm_page_to_pfn(sp), (void *)(base + (size_t)off * SLOB_UNIT),
			off * SLOB_UNIT, why);
	if (PageSlobFree(sp))
		ClearPageSlobFree(sp);
	list_move(&sp->lru, &kmm_slob.broken);
	if (!slob_page_broken(sp))
		kmm_slob.nr_broken++;
	sp->page_aux2 |= SLOB_PG_BROKEN;
}

/* Poisoned pages: a header absorbed by a merge becomes free bytes again. */
static inline void scrub_header(char *base, unsigned int off, unsigned int size, bool poison)
{
	if (poison)
		kmm_memset(base + (size_t)off * SLOB_UNIT, POISON_FREE, (size < 2 ? size : 2) * SLOB_UNIT);
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/*
 * __slob_page_alloc - first fit in sp for size bytes placed so that
 * (address + align_offset) is a multiple of align (a power of two <=
 * PAGE_SIZE, or 0).  slob_lock held.  Returns the block's unit offset, or 0
 * when nothing fits; a corrupt header makes the page broken (also 0).
 * The block's first two units may hold a stale free-block header.
 */
static unsigned int __slob_page_alloc(struct page *sp, size_t size, unsigned int align, unsigned int align_offset,
				      struct slob_report *rep)
{
	char *base = slob_base(sp);
	unsigned int units = SLOB_UNITS(size);
	unsigned int prev = 0, prev_size = 0, cur = (unsigned int)sp->private;
	const char *why;

	if (cur == SLOB_END)	/* full (not on a list; defensive) */
		return 0;
	for (;;) {
		unsigned int avail, next, delta = 0;
		if (!slob_get(base, cur, &avail, &next, &why)) {
			__slob_page_broken(sp, rep, cur, why);
			return 0;
		}
		if (align) {
			unsigned int boff = cur * SLOB_UNIT;
			delta = ((unsigned int)ALIGN_UP((unsigned long)boff + align_offset, align) - align_offset - boff) / SLOB_UNIT;
		}
		if (avail >= units + delta) {	/* room enough? */
			if (delta) {	/* split off the head to align */
				set_slob(base, cur + delta, avail - delta, next);
				set_slob(base, cur, delta, cur + delta);
				prev = cur;
				prev_size = delta;
				cur += delta;
				avail -= delta;
			}
			if (avail == units) {	/* exact fit: unlink */
				if (prev)
					set_slob(base, prev, prev_size, next);
				else
					sp->private = next;
			} else {		/* fragment */
				if (prev)
					set_slob(base, prev, prev_size, cur + units);
				else
					sp->private = cur + units;
				set_slob(base, cur + units, avail - units, next);
			}
			sp->page_aux = (unsigned short)(sp->page_aux - units);
			if (!sp->page_aux) {	/* full: off the free lists */
				list_move(&sp->lru, &kmm_slob.full);
				ClearPageSlobFree(sp);
			}
			return cur;
		}
		if (next == SLOB_END)
			return 0;
		prev = cur;
		prev_size = avail;
		cur = next;
	}
}

static void __slob_account_page(struct page *sp, struct slob_cache *owner, long nr)
{
	if (slob_page_big(sp))
		kmm_slob.nr_big_pages += (unsigned long)nr;
	else
		kmm_slob.nr_pages += (unsigned long)nr;
	if (owner) {
		owner->sc_pages += (unsigned long)nr;
		if (owner->c.flags & SLAB_RECLAIM_ACCOUNT)
			kmm_slob.nr_reclaimable += (unsigned long)nr;
	} else {
		kmm_slob.kmalloc_pages += (unsigned long)nr;
	}
}

/*
 * __slob_block_poison_ok - a block just carved from a poisoned page must
 * read POISON_FREE past the header units SLOB wrote at its start.
 */
static bool __slob_block_poison_ok(struct page *sp, unsigned int off, size_t size, struct slob_report *rep)
{
	char *base = slob_base(sp);
	size_t skip = 2 * SLOB_UNIT, n = (size_t)SLOB_UNITS(size) * SLOB_UNIT;
	if (n <= skip)
		return true;
	const unsigned char *bad = find_not(base + (size_t)off * SLOB_UNIT + skip, n - skip, POISON_FREE);
	if (!bad)
		return true;
	char hex[32];
	struct slob_cache *owner = slob_owner(sp);
	char *obj = base + (size_t)off * SLOB_UNIT + (owner ? owner->c.obj_offset : SLOB_MINALIGN);
	rep_add(rep, "poison overwritten", "%s object %p offset %ld: %s (freed memory written to; slob page pfn %lu taken out of use)",
		owner_name(owner), (void *)obj, (long)((const char *)bad - obj),
		hexbytes(hex, sizeof(hex), bad, (size_t)(base + (size_t)(off + SLOB_UNITS(size)) * SLOB_UNIT - (const char *)bad)),
		kmm_page_to_pfn(sp));
	return false;
}

static void __slob_detach_page(struct page *sp);

/*
 * __slob_claim - the block of size bytes at unit offset off of sp is now
 * allocated: set its bit and count it; a kmalloc block gets its header
 * (and red zone) here, so kmm_check never sees a half-made block.
 * slob_lock held.
 */
static char *__slob_claim(struct page *sp, unsigned int off, size_t size, struct slob_cache *owner)
{
	char *base = slob_base(sp), *b = base + (size_t)off * SLOB_UNIT;
	map_set(base, off * SLOB_UNIT);
	if (owner) {
		owner->sc_live++;
		return b;
	}
	bool rz = kmm_slob.kmalloc_debug & SLAB_RED_ZONE;
	struct slob_khdr *h = (struct slob_khdr *)(void *)b;
	kmm_ann_meta(h, sizeof(*h));
	h->size = (unsigned int)(size - SLOB_MINALIGN - (rz ? SLOB_KMALLOC_RZ : 0));
	h->check = slob_khdr_check(h->size, off * SLOB_UNIT);
	if (rz)
		kmm_memset(b + SLOB_MINALIGN + h->size, SLOB_RED_ACTIVE,
			   (size_t)SLOB_UNITS(size) * SLOB_UNIT - SLOB_MINALIGN - h->size);
	kmm_slob.kmalloc_live++;
	kmm_slob.kmalloc_allocs++;
	return b;
}

/*
 * slob_alloc - a block of size bytes for owner (NULL: kmalloc, size
 * including the header) with (address + align_offset) a multiple of
 * align, from node (-1: any).  Not zeroed: the callers zero what is theirs.
 * Context: may sleep in the page allocator when gfp allows it; takes
 * slob_lock.  Return: the block, or NULL.
 */
static void *slob_alloc(size_t size, gfp_t gfp, unsigned int align, int node, unsigned int align_offset,
			struct slob_cache *owner, struct slob_report *rep)
{
	struct list_head *slob_list = slob_list_for(size);
	struct page *sp, *n;
	enum zone_type maxzone = gfp_zone(gfp & ~__GFP_HIGHMEM);
	unsigned int units = SLOB_UNITS(size), off = 0;
	bool poison = owner_poisoned(owner), checks = owner_debug(owner) & SLAB_CONSISTENCY_CHECKS;
	char *b = NULL;

	if (node >= kmm.nr_nodes)	/* no such node: any (alloc_pages_node would) */
		node = -1;
	slob_lock();
	list_for_each_entry_safe(sp, n, slob_list, lru) {
		if (slob_owner(sp) != owner)
			continue;
		if (node >= 0 && page_nid(sp) != node)	/* Linux: node != NUMA_NO_NODE */
			continue;
		if (page_zonenum(sp) > maxzone)
			continue;
		if (sp->page_aux < units)	/* enough room on this page? */
			continue;
		if (checks && !__slob_sanity(sp, rep))
			continue;	/* reported and taken out of use */
		off = __slob_page_alloc(sp, size, align, align_offset, rep);
		if (!off)
			continue;
		if (poison && !__slob_block_poison_ok(sp, off, size, rep)) {
			__slob_page_broken(sp, rep, off, NULL);
			off = 0;
			continue;
		}
		/* Improve fragment distribution and reduce the average search
		 * time by starting the next search here (Knuth vol. 1, 2.5). */
		if (PageSlobFree(sp) && slob_list->next != &sp->lru)
			slob_rotate_to_front(&sp->lru, slob_list);
		b = slob_base(sp);
		break;
	}
	if (b)
		b = __slob_claim(sp, off, size, owner);
	slob_unlock();

	if (!b) {
		gfp_t pgfp = (gfp & ~(__GFP_ZERO | __GFP_HIGHMEM | __GFP_MOVABLE | __GFP_COMP)) |
			     (owner ? owner->c.allocflags : 0);
		sp = alloc_pages_node(node, pgfp, 0);
		if (!sp)
			return NULL;
		b = slob_base(sp);
		kmm_memset(b, 0, SLOB_MAP_BYTES);
		if (poison)
			kmm_memset(b + SLOB_MAP_BYTES, POISON_FREE, SLOB_USABLE);
		if (owner_annotated(owner))
			kmm_ann_reserve(b + SLOB_MAP_BYTES, SLOB_USABLE);	/* free: no access */
		slob_lock();
		SetPageSlab(sp);
		sp->page_aux2 = SLOB_PG_SIG;
		sp->slab_cache = owner ? &owner->c : NULL;
		sp->slab_mgmt = NULL;
		sp->page_aux = (unsigned short)SLOB_PAGE_UNITS;
		sp->private = SLOB_FIRST;
		set_slob(b, SLOB_FIRST, SLOB_PAGE_UNITS, SLOB_END);
		list_add(&sp->lru, slob_list);
		SetPageSlobFree(sp);
		__slob_account_page(sp, owner, 1);
		off = __slob_page_alloc(sp, size, align, align_offset, rep);
		if (!off) {	/* the callers keep sizes within a page: cannot happen */
			__slob_detach_page(sp);
			slob_unlock();
			__free_pages(sp, 0);
			rep_add(rep, "internal error", "slob: %zu bytes aligned %u+%u do not fit an empty page",
				size, align, align_offset);
			return NULL;
		}
		b = __slob_claim(sp, off, size, owner);
		slob_unlock();
	}
	return b;
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */
/* ------------------------------------------------------------------ */

/*
 * __slob_free - give the allocated block at unit offset b of sp (size
 * bytes; its bitmap bit already cleared) back to the page's free list.
 * slob_lock held.  Returns true when the page became entirely free and was
 * unlinked: the caller releases it (slob_release_page) after unlocking.
 */
static bool __slob_free(struct page *sp, unsigned int b, size_t size, struct slob_report *rep)
{
	char *base = slob_base(sp);
	unsigned int units = SLOB_UNITS(size);
	bool poison = owner_poisoned(slob_owner(sp));
	const char *why;

	if (slob_page_broken(sp))
		return map_empty(base);
	if (sp->page_aux + units == SLOB_PAGE_UNITS)
		return true;	/* go directly to the page allocator */
	if (!PageSlobFree(sp)) {
		/* A full page is about to become partially free. */
		sp->page_aux = (unsigned short)units;
		sp->private = b;
		set_slob(base, b, units, SLOB_END);
		list_move(&sp->lru, slob_list_for(size));
		SetPageSlobFree(sp);
		return false;
	}

	/* Otherwise the page is already partially free: find the
	 * reinsertion point, keeping the list in address order. */
	unsigned int head = (unsigned int)sp->private, hsize, hnext;
	if (b < head) {
		if (b + units > head) {
			__slob_page_broken(sp, rep, head, "freed block overlaps the first free block");
			return map_empty(base);
		}
		if (b + units == head) {
			if (!slob_get(base, head, &hsize, &hnext, &why)) {
				__slob_page_broken(sp, rep, head, why);
				return map_empty(base);
			}
			scrub_header(base, head, hsize, poison);
			set_slob(base, b, units + hsize, hnext);
		} else {
			set_slob(base, b, units, head);
		}
		sp->private = b;
	} else {
		unsigned int prev = head, psize, next;
		if (!slob_get(base, prev, &psize, &next, &why)) {
			__slob_page_broken(sp, rep, prev, why);
			return map_empty(base);
		}
		while (b > next) {
			prev = next;
			if (!slob_get(base, prev, &psize, &next, &why)) {
				__slob_page_broken(sp, rep, prev, why);
				return map_empty(base);
			}
		}
		if (b < prev + psize || b + units > next) {
			__slob_page_broken(sp, rep, prev, "freed block overlaps a free block");
			return map_empty(base);
		}
		unsigned int bsize = units, bnext = next;
		if (next != SLOB_END && b + units == next) {	/* merge with the following block */
			unsigned int nsize, nnext;
			if (!slob_get(base, next, &nsize, &nnext, &why)) {
				__slob_page_broken(sp, rep, next, why);
				return map_empty(base);
			}
			scrub_header(base, next, nsize, poison);
			bsize += nsize;
			bnext = nnext;
		}
		if (prev + psize == b) {	/* merge with the preceding block */
			/* b's own header was never written here.  (When prev is
			 * a 1-unit block, its new header's second word is b's
			 * first unit: nothing may be scrubbed there.) */
			set_slob(base, prev, psize + bsize, bnext);
		} else {
			set_slob(base, b, bsize, bnext);
			set_slob(base, prev, psize, b);
		}
	}
	sp->page_aux = (unsigned short)(sp->page_aux + units);
	return false;
}

/* Make sp an ordinary allocated page again (off its list, flags and
 * fields cleared, counters down); the caller frees it after unlocking.
 * slob_lock held. */
static void __slob_detach_page(struct page *sp)
{
	struct slob_cache *owner = slob_owner(sp);
	list_del(&sp->lru);
	if (PageSlobFree(sp))
		ClearPageSlobFree(sp);
	if (slob_page_broken(sp))
		kmm_slob.nr_broken--;
	__slob_account_page(sp, owner, slob_page_big(sp) ? -(1L << sp->alloc_order) : -1L);
	ClearPageSlab(sp);
	sp->page_aux = 0;
	sp->page_aux2 = 0;
	sp->private = 0;
	sp->slab_cache = NULL;
	sp->slab_mgmt = NULL;
}

/* ------------------------------------------------------------------ */
/* Pointer validation                                                  */
/* ------------------------------------------------------------------ */

enum slob_where { SLOB_IN_FREE, SLOB_IN_BLOCK, SLOB_NOWHERE };

/* Units of the allocated block starting at byte boff (its bit is set);
 * 0 when a kmalloc header there is not valid. */
unsigned int __slob_block_units(struct page *sp, unsigned int boff)
{
	struct slob_cache *owner = slob_owner(sp);
	if (owner)
		return SLOB_UNITS(owner->c.size);
	const struct slob_khdr *h = (const struct slob_khdr *)(const void *)(slob_base(sp) + boff);
	if (h->check != slob_khdr_check(h->size, boff) || h->size > SLOB_USABLE)
		return 0;
	return kmalloc_block_units(h->size);
}

/*
 * __slob_where - where byte offset x of sp lies: in a free block, in an
 * allocated block (*blk = its start), or neither.  slob_lock held; the
 * free list of a broken page is not trusted (never "free" there).
 */
static enum slob_where __slob_where(struct page *sp, unsigned int x, unsigned int *blk, struct slob_report *rep)
{
	char *base = slob_base(sp);
	const char *why;
	if (x < SLOB_MAP_BYTES || x >= PAGE_SIZE)
		return SLOB_NOWHERE;
	if (!slob_page_broken(sp)) {
		unsigned int off = (unsigned int)sp->private, size, next;
		while (off != SLOB_END) {
			if (!slob_get(base, off, &size, &next, &why)) {
				__slob_page_broken(sp, rep, off, why);
				break;
			}
			if (x < off * SLOB_UNIT)
				break;
			if (x < (off + size) * SLOB_UNIT)
				return SLOB_IN_FREE;
			off = next;
		}
	}
	unsigned int start = map_find_prev(base, x);
	if (start) {
		unsigned int u = __slob_block_units(sp, start);
		if (u && x < start + u * SLOB_UNIT) {
			*blk = start;
			return SLOB_IN_BLOCK;
		}
	}
	return SLOB_NOWHERE;
}

/*
 * __slob_bad_pointer - classify and report a pointer p of sp that is not a
 * live block start: "double free" (inside a free block), "interior
 * pointer" (inside an allocated block), "invalid free" otherwise.
 */
static void __slob_bad_pointer(struct page *sp, const void *p, const char *fn, struct slob_report *rep)
{
	char *base = slob_base(sp);
	unsigned int x = (unsigned int)((const char *)p - base), blk = 0;
	const char *name = owner_name(slob_owner(sp));
	switch (__slob_where(sp, x, &blk, rep)) {
	case SLOB_IN_FREE:
		rep_add(rep, "double free", "%s: %s object %p is already free", fn, name, p);
		break;
	case SLOB_IN_BLOCK: {
		unsigned int obj = blk + (slob_owner(sp) ? slob_owner(sp)->c.obj_offset : SLOB_MINALIGN);
		rep_add(rep, "interior pointer", "%s: %p is inside %s object %p (offset %d)", fn, p, name,
			(void *)(base + obj), (int)x - (int)obj);
		break;
	}
	default:
		rep_add(rep, "invalid free", "%s: %p is not an allocated %s object (slob page pfn %lu offset %u)", fn, p,
			name, kmm_page_to_pfn(sp), x);
	}
}

/* ------------------------------------------------------------------ */
/* kmalloc                                                             */
/* ------------------------------------------------------------------ */

static size_t slob_kmalloc_max_small(void)
{
	return SLOB_USABLE - SLOB_MINALIGN - ((kmm_slob.kmalloc_debug & SLAB_RED_ZONE) ? SLOB_KMALLOC_RZ : 0);
}

/*
 * slob_kmalloc_small - size bytes (1 .. slob_kmalloc_max_small()) behind an
 * SLOB_MINALIGN-byte header holding the size; power-of-two sizes are
 * naturally aligned.  Context: may sleep when gfp allows.  Return: the
 * memory, or NULL.
 */
static void *slob_kmalloc_small(size_t size, gfp_t gfp, int nid, void *caller)
{
	struct slob_report rep;
	unsigned int align = SLOB_MINALIGN;
	bool rz = kmm_slob.kmalloc_debug & SLAB_RED_ZONE;

	rep.n = 0;
	if (size == 0 || size > slob_kmalloc_max_small())
		return NULL;
	if ((size & (size - 1)) == 0 && size > align)	/* natural alignment */
		align = (unsigned int)size;
	size_t bsize = size + SLOB_MINALIGN + (rz ? SLOB_KMALLOC_RZ : 0);
	if (ALIGN_UP(SLOB_MAP_BYTES + SLOB_MINALIGN, align) - SLOB_MINALIGN + SLOB_UNITS(bsize) * SLOB_UNIT > PAGE_SIZE) {
		/* Only with the red zone (PAGE_SIZE / 2, naturally aligned):
		 * no SLOB page can hold it, so it takes the front's large
		 * path: a page marked PG_large_kmalloc, which kfree and ksize
		 * know. */
		struct page *page = alloc_pages_node(nid, gfp & ~(__GFP_HIGHMEM | __GFP_MOVABLE | __GFP_COMP), 0);
		if (!page)
			return NULL;
		SetPageLargeKmalloc(page);
		return page_address(page);
	}
	char *m = slob_alloc(bsize, gfp, align, nid, SLOB_MINALIGN, NULL, &rep);
	rep_emit(&rep);
	if (!m)
		return NULL;
	if (owner_annotated(NULL))	/* the usable size: ksize */
		kmm_ann_obj_alloc(m + SLOB_MINALIGN, (size_t)SLOB_UNITS(size) * SLOB_UNIT, 0);
	if ((gfp & __GFP_ZERO) || (kmm.cfg.init_on_alloc && !(kmm_slob.kmalloc_debug & SLAB_POISON)))
		kmm_memset(m + SLOB_MINALIGN, 0, size);
	return m + SLOB_MINALIGN;
}

/*
 * __slob_kmalloc_block - validate p as a live kmalloc block of sp (a
 * kmalloc page): its header offset, bit and check word.  slob_lock held.
 * Returns the header's byte offset, or 0 after adding a report.
 */
static unsigned int __slob_kmalloc_block(struct page *sp, const void *p, const char *fn, struct slob_report *rep)
{
	char *base = slob_base(sp);
	unsigned int x = (unsigned int)((const char *)p - base), boff = x - SLOB_MINALIGN;
	if (x < SLOB_MAP_BYTES + SLOB_MINALIGN || x % SLOB_MINALIGN || !map_test(base, boff)) {
		__slob_bad_pointer(sp, p, fn, rep);
		return 0;
	}
	const struct slob_khdr *h = (const struct slob_khdr *)(const void *)(base + boff);
	if (h->check != slob_khdr_check(h->size, boff) || h->size == 0 || h->size > slob_kmalloc_max_small() ||
	    boff + kmalloc_block_units(h->size) * SLOB_UNIT > PAGE_SIZE) {
		char hex[32];
		rep_add(rep, "redzone overwritten", "%s: %s object %p offset -%u: header %s (size %u) overwritten; object not freed",
			fn, SLOB_KMALLOC_NAME, p, SLOB_MINALIGN, hexbytes(hex, sizeof(hex), (const unsigned char *)h, 8),
			h->size);
		return 0;
	}
	return boff;
}

/* slab_debug=Z on kmalloc blocks: the bytes after the requested size.
 * A damaged red zone is reported and restored (the block is then kept out
 * of circulation by the caller). */
static bool slob_kmalloc_rz_ok(const char *p, unsigned int size, const char *fn, struct slob_report *rep)
{
	size_t n = (size_t)kmalloc_block_units(size) * SLOB_UNIT - SLOB_MINALIGN - size;
	const unsigned char *bad = find_not(p + size, n, SLOB_RED_ACTIVE);
	if (!bad)
		return true;
	char hex[32];
	rep_add(rep, "redzone overwritten", "%s: %s object %p offset %zu: %s", fn, SLOB_KMALLOC_NAME, (const void *)p,
		(size_t)((const char *)bad - p), hexbytes(hex, sizeof(hex), bad, (size_t)(p + size + n - (const char *)bad)));
	kmm_memset((char *)p + size, SLOB_RED_ACTIVE, n);	/* repaired: reported once */
	return false;
}

static void slob_release_page(struct page *sp)
{
	__free_pages(sp, 0);
}

static void slob_cache_free_obj(struct slob_cache *sc, struct page *sp, void *obj, void *caller, const char *fn);

/*
 * slob_kfree_small - kfree of p in a PG_slab page: a kmalloc block, or an
 * object of a cache (freed to its cache, as kfree may since 6.4).
 */
static void slob_kfree_small(struct page *page, const void *p, void *caller)
{
	struct slob_report rep;
	struct page *sp = compound_head(page);
	struct page *to_free = NULL;

	rep.n = 0;
	if (!is_slob_page(sp)) {
		kmm_error("invalid free", "kfree: %p is not in a slob page", p);
		return;
	}
	if (slob_owner(sp)) {
		slob_cache_free_obj(slob_owner(sp), sp, (void *)p, caller, "kfree");
		return;
	}
	slab_flags_t dbg = kmm_slob.kmalloc_debug;
	char *base = slob_base(sp);

	slob_lock();
	unsigned int boff = __slob_kmalloc_block(sp, p, "kfree", &rep);
	if (!boff)
		goto out;
	unsigned int size = ((const struct slob_khdr *)(const void *)(base + boff))->size;
	if ((dbg & SLAB_RED_ZONE) && !slob_kmalloc_rz_ok(p, size, "kfree", &rep))
		goto out;	/* not freed: kept out of circulation */
	if (dbg & SLAB_CONSISTENCY_CHECKS)
		__slob_sanity(sp, &rep);	/* a bad page is taken out of use */
	map_clear(base, boff);
	kmm_slob.kmalloc_live--;
	kmm_slob.kmalloc_frees++;
	size_t bsize = (size_t)kmalloc_block_units(size) * SLOB_UNIT;
	if (kmm.cfg.init_on_free && !(dbg & SLAB_POISON))
		kmm_memset(base + boff + SLOB_MINALIGN, 0, bsize - SLOB_MINALIGN);
	if (owner_annotated(NULL)) {
		kmm_ann_obj_free(base + boff + SLOB_MINALIGN, size);
		kmm_ann_reserve(base + boff, bsize);	/* the header and the slack too */
	}
	if (dbg & SLAB_POISON)
		kmm_memset(base + boff, POISON_FREE, bsize);
	if (__slob_free(sp, boff / SLOB_UNIT, bsize, &rep)) {
		__slob_detach_page(sp);
		to_free = sp;
	}
out:
	slob_unlock();
	rep_emit(&rep);
	if (to_free)
		slob_release_page(to_free);
}

/* kmalloc_size_roundup on SLOB: the block's usable size (exact under Z). */
static size_t slob_kmalloc_roundup(size_t size)
{
	return (kmm_slob.kmalloc_debug & SLAB_RED_ZONE) ? size : (size_t)SLOB_UNITS(size) * SLOB_UNIT;
}

/*
 * slob_ksize_small - usable size of p in a PG_slab page: SLOB_UNITS(size) *
 * SLOB_UNIT for a kmalloc block (the requested size with slab_debug=Z), the
 * slot for a cache object; 0 (after a report) for a bad pointer.
 */
static size_t slob_ksize_small(struct page *page, const void *p)
{
	struct slob_report rep;
	struct page *sp = compound_head(page);
	size_t ret = 0;

	rep.n = 0;
	if (!is_slob_page(sp)) {
		kmm_error("invalid free", "ksize: %p is not in a slob page", p);
		return 0;
	}
	struct slob_cache *sc = slob_owner(sp);
	char *base = slob_base(sp);
	slob_lock();
	if (sc) {
		unsigned int x = (unsigned int)((const char *)p - base);
		unsigned int slot = x - sc->c.obj_offset;
		if (slob_page_big(sp)) {
			if (x == sc->c.obj_offset)
				ret = (sc->c.flags & SLAB_DEBUG_FLAGS) ? sc->c.object_size : sc->c.size;
			else
				rep_add(&rep, "invalid free", "ksize: %p is not a %s object", p, sc->c.name);
		} else if (x >= sc->c.obj_offset && slot >= SLOB_MAP_BYTES && slot % SLOB_GRANULE == 0 &&
			   map_test(base, slot)) {
			ret = (sc->c.flags & SLAB_DEBUG_FLAGS) ? sc->c.object_size : sc->c.size;
		} else {
			__slob_bad_pointer(sp, p, "ksize", &rep);
		}
	} else {
		unsigned int boff = __slob_kmalloc_block(sp, p, "ksize", &rep);
		if (boff) {
			unsigned int size = ((const struct slob_khdr *)(const void *)(base + boff))->size;
			ret = (kmm_slob.kmalloc_debug & SLAB_RED_ZONE) ? size : (size_t)SLOB_UNITS(size) * SLOB_UNIT;
		}
	}
	slob_unlock();
	rep_emit(&rep);
	return ret;
}

/* ------------------------------------------------------------------ */
/* kmem_cache                                                          */
/* ------------------------------------------------------------------ */

/* Does an object of size bytes aligned to align fit a SLOB page? */
static bool slob_fits(unsigned int size, unsigned int align)
{
	return align < PAGE_SIZE && ALIGN_UP(SLOB_MAP_BYTES, align) + size <= PAGE_SIZE;
}

/* SLOB's fields of a descriptor whose common part is filled; links it. */
static void slob_cache_setup(struct slob_cache *sc)
{
	unsigned int size = sc->c.size, align = sc->c.align;
	sc->sc_align = align > SLOB_MINALIGN ? align : SLOB_MINALIGN;
	if (slob_fits(size, sc->sc_align)) {
		sc->sc_order = -1;
	} else {
		unsigned long need = size > align ? size : align;
		sc->sc_order = (int)kmm_get_order(need, PAGE_SHIFT);
	}
	sc->sc_live = 0;
	sc->sc_pages = 0;
	sc->sc_magic = SLOB_CACHE_MAGIC;
	slob_lock();
	list_add(&sc->sc_node, &kmm_slob.caches);
	slob_unlock();
}

static void *slob_cache_alloc(struct kmem_cache *s, gfp_t gfp, int nid, void *caller)
{
	struct slob_cache *sc = (struct slob_cache *)s;
	struct slob_report rep;
	char *slot;

	rep.n = 0;
	if (sc->sc_order >= 0) {
		unsigned int order = (unsigned int)sc->sc_order;
		gfp_t pgfp = (gfp & ~(__GFP_HIGHMEM | __GFP_MOVABLE | __GFP_ZERO | __GFP_COMP)) | s->allocflags |
			     (order ? __GFP_COMP : 0);
		struct page *page = alloc_pages_node(nid, pgfp, order);
		if (!page)
			return NULL;
		slob_lock();
		SetPageSlab(page);
		page->page_aux2 = SLOB_PG_SIG | SLOB_PG_BIG;
		page->slab_cache = s;
		page->slab_mgmt = NULL;
		page->private = 0;
		page->page_aux = 0;
		list_add(&page->lru, &kmm_slob.big);
		__slob_account_page(page, sc, 1L << order);
		sc->sc_live++;
		slob_unlock();
		slot = slob_base(page);
	} else {
		slot = slob_alloc(s->size, gfp | s->allocflags, sc->sc_align, nid, 0, sc, &rep);
	}
	rep_emit(&rep);
	if (!slot)
		return NULL;
	__atomic_fetch_add(&s->nr_allocs, 1, __ATOMIC_RELAXED);
	if (owner_annotated(sc))
		kmm_ann_obj_alloc(slot_to_obj(s, slot), s->object_size, 0);
	if (s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)) {
		/* A SLOB slot is carved from free space: make it a free slot,
		 * then hand it out as the common code expects. */
		slab_debug_init_free(s, slot);
		slab_debug_alloc(s, slot, caller);
	}
	void *obj = slot_to_obj(s, slot);
	if ((gfp & __GFP_ZERO) || s->init_on_alloc)
		kmm_memset(obj, 0, s->object_size);
	if (s->ctor)	/* SLOB: at every allocation */
		s->ctor(obj);
	return obj;
}

/*
 * __slob_cache_slot - validate obj as a live object of the cache page sp.
 * slob_lock held.  Returns the slot's byte offset, or 0 after a report.
 */
static unsigned int __slob_cache_slot(struct slob_cache *sc, struct page *sp, const void *obj, const char *fn,
				      struct slob_report *rep)
{
	char *base = slob_base(sp);
	unsigned int x = (unsigned int)((const char *)obj - base);
	unsigned int slot = x - sc->c.obj_offset;
	if (x < sc->c.obj_offset || slot < SLOB_MAP_BYTES || slot % SLOB_GRANULE || !map_test(base, slot)) {
		__slob_bad_pointer(sp, obj, fn, rep);
		return 0;
	}
	return slot;
}

/* Free obj, an object of sc in sp (a SLOB page of sc, or sc's big page). */
static void slob_cache_free_obj(struct slob_cache *sc, struct page *sp, void *obj, void *caller, const char *fn)
{
	struct kmem_cache *s = &sc->c;
	struct slob_report rep;
	struct page *to_free = NULL;
	unsigned int order = 0;
	char *base = slob_base(sp);
	bool debug = s->flags & SLAB_DEBUG_FLAGS;

	rep.n = 0;
	if (slob_page_big(sp)) {
		if ((char *)obj != base + s->obj_offset) {
			unsigned long x = (unsigned long)((char *)obj - base);
			if (x < s->size)
				kmm_error("interior pointer", "%s: %p is inside %s object %p (offset %ld)", fn, obj, s->name,
					  (void *)(base + s->obj_offset), (long)x - (long)s->obj_offset);
			else
				kmm_error("invalid free", "%s: %p is not a %s object", fn, obj, s->name);
			return;
		}
		if (debug && !slab_debug_free(s, base, caller))
			return;
		slob_lock();
		if (!is_slob_page(sp)) {	/* freed meanwhile by another thread */
			slob_unlock();
			kmm_error("double free", "%s: %s object %p is already free", fn, s->name, obj);
			return;
		}
		order = sp->alloc_order;
		sc->sc_live--;
		__slob_detach_page(sp);
		slob_unlock();
		if (owner_annotated(sc))
			kmm_ann_obj_free(obj, s->object_size);
		__atomic_fetch_add(&s->nr_frees, 1, __ATOMIC_RELAXED);
		__free_pages(sp, order);
		return;
	}

	if (debug) {
		/* Validate first: the helpers must only see a live slot. */
		slob_lock();
		unsigned int slot = __slob_cache_slot(sc, sp, obj, fn, &rep);
		slob_unlock();
		if (!slot) {
			rep_emit(&rep);
			return;
		}
		if (!slab_debug_free(s, base + slot, caller))
			return;	/* reported; kept out of circulation */
		if (s->flags & SLAB_POISON)
			kmm_memset(base + slot, POISON_FREE, (size_t)SLOB_UNITS(s->size) * SLOB_UNIT);
	}
	slob_lock();
	unsigned int slot = __slob_cache_slot(sc, sp, obj, fn, &rep);
	if (slot && (s->flags & SLAB_CONSISTENCY_CHECKS))
		__slob_sanity(sp, &rep);	/* a bad page is taken out of use */
	if (slot) {
		if (s->init_on_free)
			kmm_memset(base + slot + s->obj_offset, 0, s->object_size);
		if (owner_annotated(sc)) {
			kmm_ann_obj_free(base + slot + s->obj_offset, s->object_size);
			kmm_ann_reserve(base + slot, (size_t)SLOB_UNITS(s->size) * SLOB_UNIT);
		}
		map_clear(base, slot);
		sc->sc_live--;
		if (__slob_free(sp, slot / SLOB_UNIT, s->size, &rep)) {
			__slob_detach_page(sp);
			to_free = sp;
		}
	}
	slob_unlock();
	rep_emit(&rep);
	if (slot)
		__atomic_fetch_add(&s->nr_frees, 1, __ATOMIC_RELAXED);
	if (to_free)
		slob_release_page(to_free);
}

static void slob_cache_free(struct kmem_cache *s, void *obj, void *caller)
{
	struct slob_cache *sc = (struct slob_cache *)s;
	struct page *page = virt_to_page(obj);
	if (!page) {
		kmm_error("invalid free", "kmem_cache_free(%s): %p is not a linear-map address", s->name, obj);
		return;
	}
	struct page *sp = compound_head(page);
	if (!is_slob_page(sp)) {
		if (page_count(sp) == 0)
			kmm_error("double free", "kmem_cache_free(%s): object %p is in a free page (pfn %lu)", s->name, obj,
				  kmm_page_to_pfn(sp));
		else
			kmm_error("invalid free", "kmem_cache_free(%s): %p is not a slab object (pfn %lu)", s->name, obj,
				  kmm_page_to_pfn(sp));
		return;
	}
	struct slob_cache *owner = slob_owner(sp);
	if (owner != sc) {
		kmm_error("wrong cache", "kmem_cache_free: object %p freed to %s, belongs to %s", obj, s->name,
			  owner_name(owner));
		/* report mode: free it to its true owner */
		if (owner)
			slob_cache_free_obj(owner, sp, obj, caller, "kmem_cache_free");
		else
			slob_kfree_small(sp, obj, caller);
		return;
	}
	slob_cache_free_obj(sc, sp, obj, caller, "kmem_cache_free");
}

static struct kmem_cache *slob_cache_create(const char *name, unsigned int size, unsigned int align,
					     slab_flags_t flags, void (*ctor)(void *))
{
	struct slob_cache *sc = slob_cache_alloc(&slob_cache_cache.c, GFP_KERNEL, -1, __builtin_return_address(0));
	if (!sc)
		return NULL;
	kmm_memset(sc, 0, sizeof(*sc));
	slab_fill_common(&sc->c, name, size, align, flags, ctor);
	slob_cache_setup(sc);
	return &sc->c;
}

/* The cache has no live objects, so it owns no pages (a page goes back as
 * soon as it is empty): unlink it and free the descriptor. */
static void slob_cache_release(struct kmem_cache *s)
{
	struct slob_cache *sc = (struct slob_cache *)s;
	if (sc == &slob_cache_cache)
		return;
	slob_lock();
	list_del(&sc->sc_node);
	sc->sc_magic = 0;
	slob_unlock();
	s->magic = 0;
	struct page *sp = virt_to_page(sc);
	if (sp)
		slob_cache_free_obj(&slob_cache_cache, compound_head(sp), sc, __builtin_return_address(0), "kmem_cache_destroy");
}

static int slob_cache_shrink(struct kmem_cache *s) { return 0; }	/* SLOB keeps no empty pages */
static unsigned long slob_shrink_all(void) { return 0; }
static void slob_drain_slot(struct kmm_cpu *c) { (void)c; }		/* no per-CPU caches */

static struct kmem_cache *slob_page_cache(struct page *page)
{
	struct page *sp = compound_head(page);
	return is_slob_page(sp) ? sp->slab_cache : NULL;
}

/* Is p a live block start of sp (no report)?  The checks of
 * __slob_cache_slot / __slob_kmalloc_block, silent. */
static bool slob_object_live(struct page *page, const void *p)
{
	struct page *sp = compound_head(page);
	bool live = false;
	slob_lock();
	if (is_slob_page(sp)) {
		struct slob_cache *sc = slob_owner(sp);
		char *base = slob_base(sp);
		unsigned int x = (unsigned int)((const char *)p - base);
		if (sc && slob_page_big(sp)) {
			live = x == sc->c.obj_offset;
		} else if (sc) {
			unsigned int slot = x - sc->c.obj_offset;
			live = x >= sc->c.obj_offset && slot >= SLOB_MAP_BYTES && slot % SLOB_GRANULE == 0 &&
			       map_test(base, slot);
		} else if (x >= SLOB_MAP_BYTES + SLOB_MINALIGN && x % SLOB_MINALIGN == 0) {
			unsigned int boff = x - SLOB_MINALIGN;
			const struct slob_khdr *h = (const struct slob_khdr *)(const void *)(base + boff);
			live = map_test(base, boff) && h->check == slob_khdr_check(h->size, boff);
		}
	}
	slob_unlock();
	return live;
}

/* kmalloc blocks follow slab_debug= when it names every cache or a
 * kmalloc one (F, Z, P; U has no place in a SLOB block). */
static slab_flags_t slob_kmalloc_debug_flags(void)
{
	const char *only = kmm.cfg.slab_debug_cache;
	unsigned int d = kmm.cfg.slab_debug;
	slab_flags_t f = 0;
	if (only[0] && kmm_strncmp(only, "kmalloc", 7) && kmm_strncmp(only, "size-", 5))
		return 0;
	if (d & SLAB_DEBUG_F)
		f |= SLAB_CONSISTENCY_CHECKS;
	if (d & SLAB_DEBUG_Z)
		f |= SLAB_RED_ZONE;
	if (d & SLAB_DEBUG_P)
		f |= SLAB_POISON;
	return f;
}

static int slob_init(void)
{
	kmm_memset(&kmm_slob, 0, sizeof(kmm_slob));
	kmm_plat_lock_init(&kmm_slob.lock);
	INIT_LIST_HEAD(&kmm_slob.free_slob_small);
	INIT_LIST_HEAD(&kmm_slob.free_slob_medium);
	INIT_LIST_HEAD(&kmm_slob.free_slob_large);
	INIT_LIST_HEAD(&kmm_slob.full);
	INIT_LIST_HEAD(&kmm_slob.broken);
	INIT_LIST_HEAD(&kmm_slob.big);
	INIT_LIST_HEAD(&kmm_slob.caches);
	kmm_slob.kmalloc_debug = slob_kmalloc_debug_flags();

	kmm_memset(&slob_cache_cache, 0, sizeof(slob_cache_cache));
	slab_fill_common(&slob_cache_cache.c, "kmem_cache", sizeof(struct slob_cache), 0, 0, NULL);
	slob_cache_setup(&slob_cache_cache);
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_add(&slob_cache_cache.c.list, &slab_caches);
	kmm_unlock(&slab_mutex);
	return 0;
}

/*
 * slob_shutdown - kmm_shutdown, after the front listed leaked objects:
 * every SLOB page goes back to the page allocator, live objects or not,
 * so the machine's page-leak report shows only what is not SLOB's.
 */
static void slob_shutdown(void)
{
	slob_lock();
	for (int i = 0; i < SLOB_NR_LISTS; i++) {
		while (!list_empty(slob_all_lists(i))) {
			struct page *sp = list_first_entry(slob_all_lists(i), struct page, lru);
			unsigned int order = slob_page_big(sp) ? sp->alloc_order : 0;
			__slob_detach_page(sp);
			slob_unlock();
			__free_pages(sp, order);
			slob_lock();
		}
	}
	INIT_LIST_HEAD(&kmm_slob.caches);
	slob_unlock();
}

const struct kmm_slab_ops kmm_slab_ops_slob = {
	.name = "slob",
	.init = slob_init,
	.cache_create = slob_cache_create,
	.cache_live = slob_cache_live,
	.cache_release = slob_cache_release,
	.cache_alloc = slob_cache_alloc,
	.cache_free = slob_cache_free,
	.cache_shrink = slob_cache_shrink,
	.kmalloc_max_small = slob_kmalloc_max_small,
	.kmalloc_small = slob_kmalloc_small,
	.kfree_small = slob_kfree_small,
	.ksize_small = slob_ksize_small,
	.kmalloc_roundup = slob_kmalloc_roundup,
	.page_cache = slob_page_cache,
	.object_live = slob_object_live,
	.drain_slot = slob_drain_slot,
	.shrink_all = slob_shrink_all,
	.check = slob_check,
	.slabinfo = slob_slabinfo,
	.reclaimable_pages = slob_reclaimable_pages,
	.unreclaimable_pages = slob_unreclaimable_pages,
	.kmalloc_caches = false,	/* kmalloc blocks come from slob_alloc */
	.shutdown = slob_shutdown,
};

/* kmm_slob_fork - fork.c's hook (fork.h): slob_lock, when SLOB runs. */
void kmm_slob_fork(enum kmm_fork_phase phase)
{
	if (kmm_slab_ops != &kmm_slab_ops_slob)
		return;
	if (phase == KMM_FORK_PREPARE)
		kmm_plat_lock(&kmm_slob.lock);
	else if (phase == KMM_FORK_PARENT)
		kmm_plat_unlock(&kmm_slob.lock);
	else
		kmm_plat_lock_init(&kmm_slob.lock);
}
