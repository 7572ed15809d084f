/*
 * slab.c - the classic SLAB allocator (Bonwick 1994 as Linux 2.6 built it;
 * ULK3 chapter 8.2), the default backend (slab=slab).
 *
 * 1. Overview
 *    A cache hands out objects of one size.  Objects live in slabs of
 *    2^gfporder pages taken from the page allocator; each slab has a
 *    descriptor (struct slab) followed by a bufctl array that chains its
 *    free objects.  Per node a cache keeps its slabs on three lists (full,
 *    partial, free: kmem_list3).  Per CPU slot it keeps an array cache, a
 *    LIFO of free object pointers that serves allocations and frees
 *    without a lock; per node a shared array sits between the CPU arrays
 *    and the slabs.
 *      alloc: pop the slot's array; empty -> cache_alloc_refill moves up to
 *        batchcount objects (16 if the array was not touched lately) from
 *        the shared array, else from partial then free slabs; nothing ->
 *        cache_grow (outside the slot: it may sleep) and retry; the node
 *        has no memory -> fallback_alloc takes one object from another
 *        node or grows wherever the page allocator finds memory.
 *      free: push on the slot's array; full -> cache_flusharray moves the
 *        oldest batchcount objects to the shared array (as many as fit),
 *        else free_block returns them to their slabs; an emptied slab is
 *        destroyed when the node holds more than free_limit free objects.
 *        An object of another node goes straight back to that node's lists
 *        (kmm has no alien caches: 2.6's use_alien_caches=0 behaviour).
 *      bulk ([4.6+] kmem_cache_alloc_bulk / kmem_cache_free_bulk): whole
 *        batches through the slot's array, one list_lock per batch for
 *        the node (slab_cpu.c section 1).
 *    A thread without a CPU slot uses the locked paths only.
 *    The arrays are made on a slot's first use of a cache and freed again
 *    by kmm_drain_all (slab_cpu.c section 1).
 *    Files: slab.c has the slabs, the single-object paths, caches,
 *    kmalloc and boot; slab_cpu.c the array caches (refill, flush,
 *    lifetime, draining, reaping) and the bulk paths; slab_check.c
 *    slab_check, slabinfo rows and the leak listing; slab_classic.h the
 *    structures and helpers the three share.
 *
 * 2. Numbers (REFERENCE.md 6; [2.6.24] unless marked)
 *    - Off slab when the slot size >= PAGE_SIZE/8, and the descriptor
 *      fits a kmalloc cache that exists (during kmalloc_init the small
 *      classes come first, as slab_early_init ends in 2.6.24); an off-slab
 *      layout whose left-over holds the descriptor moves it on slab.
 *    - Order: the smallest with objects whose waste is <= 1/8 of the slab,
 *      stopping at slab_break_gfp_order (1; 0 on machines of <= 32 MiB;
 *      the boot key slab_max_order= sets it, as [3.4+] slab_max_order),
 *      at order 0 for SLAB_RECLAIM_ACCOUNT, and (off slab) before the
 *      descriptor would outgrow the object.
 *    - Colour: colour_off = max(64, align), colour = left_over / colour_off;
 *      each node's colour_next cycles 0 .. colour-1 over consecutive slabs.
 *    - Array limits by slot size: > 131072: 1, > PAGE_SIZE: 8, > 1024: 24,
 *      > 256: 54, else 120; batchcount = (limit + 1) / 2; shared array
 *      8 * batchcount entries for sizes <= PAGE_SIZE with several slots
 *      (made when a second slot of the node uses the cache: section 1);
 *      free_limit = (1 + slots of the node) * batchcount + num.
 *    - Reaping every 2 s per slot, 4 s per node: slab_cpu.c section 2.
 *    - Constructors run once per object when its slab is made; with
 *      SLAB_POISON at every allocation instead, after the poison check.
 *
 * 3. Invariants
 *    Listed in slab_check.c (section 2), where slab_check verifies each.
 *
 * 4. Locks
 *    Fast paths: none (kmm_cpu_enter/exit, pcp.c's slot protocol).  A
 *    node's list_lock guards its lists, its slabs' free chains, its shared
 *    array and free_objects; it is taken inside the slot for refill and
 *    flush, and for the bulk paths' node step (kmm_slab_take_node,
 *    kmm_slab_free_run: once per batch).  Nothing allocates pages inside
 *    a slot or under list_lock: cache_grow runs outside both (a direct
 *    reclaim may drain this very slot).  Freeing an off-slab descriptor nests the descriptor cache's
 *    list_lock inside the slab cache's (the descriptor is always smaller
 *    than the object, so the nesting cannot cycle).  slab_mutex (chain)
 *    ranks above list_lock.
 *    The arrays' own rules (publication, freeing): slab_cpu.c section 3.
 *
 * 5. Misuse (always on: they cost a page lookup)
 *    A free checks that the pointer is an object boundary of a slab of its
 *    cache ("interior pointer", "invalid free") and that its bufctl says
 *    ACTIVE ("double free", however late), then marks it FREE before it
 *    reaches an array, so it is never handed out twice.  A free chain that
 *    leaves the slab is "freelist corrupt": the slab is taken out of
 *    circulation whole.  Objects failing a red-zone or poison check go to
 *    QUARANTINE (never reused, not counted as leaks).
 *    For a user outside the slab layer (the malloc shim's per-thread
 *    cache), a cache may carry a page tag and a free mark
 *    (kmm_slab_cache_set_tag): the tag in every slab page's descriptor,
 *    the mark in word 1 of every free object (written when a slab is made
 *    and by slab_free), so that a free can tell from the page line and
 *    the object alone that an object may be free; the bufctl stays the
 *    exact state.
 *
 * 6. References: Linux 2.6.24 mm/slab.c; ULK3 8.2; Bonwick, "The Slab
 *    Allocator: An Object-Caching Kernel Memory Allocator" (USENIX 1994).
 */
#include "slab_classic.h"
#include "annotate.h"

#define BOOT_SHARED_FACTOR 8
#define BREAK_GFP_ORDER_HI 1
#define BREAK_GFP_ORDER_LO 0
#define SLAB_SMALL_MACHINE (32UL << 20)	/* up to here slabs stay order 0 */
/* the user's gfp bits the page allocator may see for a slab */
#define GFP_SLAB_PASS (__GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | \
		       __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | \
		       __GFP_NOMEMALLOC | __GFP_HARDWALL | __GFP_THISNODE | __GFP_DMA32)

enum slab_state slab_state;
static unsigned int slab_break_gfp_order;
static unsigned long slab_pages_reclaimable, slab_pages_unreclaimable;	/* atomic */

/* The cache of caches (slab_classic.h). */
struct slab_boot_cache cache_cache;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static inline bool off_slab(struct slab_cache *cachep) { return cachep->dflags & CFLGS_OFF_SLAB; }

static int slots_on_node(int nid)
{
	int n = 0;
	for (int i = 0; i < kmm.nr_cpus; i++)
		n += kmm.cpus[i].nid == nid;
	return n;
}

/* ------------------------------------------------------------------ */
/* Geometry: cache_estimate, calculate_slab_order                      */
/* ------------------------------------------------------------------ */

static size_t slab_mgmt_size(size_t nr_objs, size_t align)
{
	return ALIGN_UP(sizeof(struct slab) + nr_objs * sizeof(kmem_bufctl_t), align);
}

/* Objects of `size` in a slab of 2^order pages, and the bytes left over. */
static void cache_estimate(unsigned int order, size_t size, size_t align, bool offslab,
			   size_t *left_over, unsigned int *num)
{
	size_t slab_bytes = PAGE_SIZE << order, nr, mgmt = 0;
	if (offslab) {
		nr = slab_bytes / size;
	} else {
		nr = (slab_bytes - sizeof(struct slab)) / (size + sizeof(kmem_bufctl_t));
		while (nr && slab_mgmt_size(nr, align) + nr * size > slab_bytes)
			nr--;
	}
	if (nr > SLAB_LIMIT)
		nr = SLAB_LIMIT;
	if (!offslab)
		mgmt = slab_mgmt_size(nr, align);
	*num = (unsigned int)nr;
	*left_over = nr ? slab_bytes - nr * size - mgmt : slab_bytes;
}

static size_t calculate_slab_order(struct slab_cache *cachep, size_t size, size_t align, bool offslab)
{
	size_t left_over = 0;
	cachep->num = 0;
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		unsigned int num;
		size_t remainder;
		cache_estimate(order, size, align, offslab, &remainder, &num);
		if (!num)
			continue;
		if (offslab) {
			/* the descriptor must stay smaller than an object, so
			 * off-slab descriptors never nest back into this cache */
			size_t offslab_limit = (size - sizeof(struct slab)) / sizeof(kmem_bufctl_t);
			if (num > offslab_limit)
				break;
		}
		cachep->num = num;
		cachep->gfporder = order;
		left_over = remainder;
		if (cachep->common.flags & SLAB_RECLAIM_ACCOUNT)
			break;
		if (order >= slab_break_gfp_order)
			break;
		if (left_over * 8 <= (PAGE_SIZE << order))
			break;
	}
	return left_over;
}

/* enable_cpucache's defaults ([2.6.24]). */
static unsigned int cpucache_limit(size_t size)
{
	if (size > 131072)
		return 1;
	if (size > PAGE_SIZE)
		return 8;
	if (size > 1024)
		return 24;
	if (size > 256)
		return 54;
	return 120;
}

/* ------------------------------------------------------------------ */
/* Internal objects (descriptors, arrays): not leaks, not user objects */
/* ------------------------------------------------------------------ */

static inline void *slab_alloc(struct slab_cache *cachep, gfp_t flags, int nid, void *caller, kmem_bufctl_t state);
static void slab_free(struct slab_cache *cachep, void *obj, void *caller, kmem_bufctl_t expect, const char *fn);

void *kmalloc_internal(size_t size, gfp_t gfp, int nid)
{
	struct kmem_cache *s = kmalloc_slab(size, 0);
	return s ? slab_alloc(SC(s), gfp, nid, kmm_caller(), BUFCTL_INTERNAL) : NULL;
}

void kfree_internal(void *obj)
{
	if (obj)
		slab_free(obj_page(obj)->slab_cache ? SC(obj_page(obj)->slab_cache) : NULL, obj, kmm_caller(),
			  BUFCTL_INTERNAL, "slab internal free");
}

/* ------------------------------------------------------------------ */
/* Slabs: pages, descriptors, objects                                  */
/* ------------------------------------------------------------------ */

static unsigned long *pages_counter(struct slab_cache *cachep)
{
	return (cachep->common.flags & SLAB_RECLAIM_ACCOUNT) ? &slab_pages_reclaimable : &slab_pages_unreclaimable;
}

/* kmem_getpages: 2^gfporder pages for a slab, never from high memory. */
static struct page *kmem_getpages(struct slab_cache *cachep, gfp_t flags, int nid)
{
	gfp_t gfp = (flags & GFP_SLAB_PASS) | cachep->gfpflags;
	struct page *page = alloc_pages_node(nid, gfp, cachep->gfporder);
	if (page)
		__atomic_add_fetch(pages_counter(cachep), 1UL << cachep->gfporder, __ATOMIC_RELAXED);
	return page;
}

static void kmem_freepages(struct slab_cache *cachep, struct page *page)
{
	unsigned long nr = 1UL << cachep->gfporder;
	for (unsigned long i = 0; i < nr; i++) {
		ClearPageSlab(page + i);
		page[i].slab_cache = NULL;
		page[i].slab_mgmt = NULL;
		page[i].s_mem = NULL;
		page[i].slab_tag = 0;
	}
	__atomic_sub_fetch(pages_counter(cachep), nr, __ATOMIC_RELAXED);
	__free_pages(page, cachep->gfporder);
}

/* slab_destroy: the slab's pages and (off slab) its descriptor go back.
 * The caller unlinked it; its node's list_lock may be held. */
static void slab_destroy(struct slab_cache *cachep, struct slab *slabp)
{
	struct page *page = slab_first_page(slabp);
	kmem_freepages(cachep, page);
	if (off_slab(cachep))
		kfree_internal(slabp);
	__atomic_add_fetch(&cachep->common.nr_reaped, 1, __ATOMIC_RELAXED);
}

/* alloc_slabmgmt: the descriptor on or off the slab; colour_off is the
 * colour offset into the first page, and s_mem follows. */
static struct slab *alloc_slabmgmt(struct slab_cache *cachep, void *addr, size_t colour_off, gfp_t flags, int nid)
{
	struct slab *slabp;
	if (off_slab(cachep)) {
		slabp = kmalloc_internal(cachep->slab_size, flags & ~__GFP_THISNODE, nid);
		if (!slabp)
			return NULL;
	} else {
		slabp = (struct slab *)((char *)addr + colour_off);
		colour_off += cachep->slab_size;
	}
	slabp->inuse = 0;
	slabp->colouroff = colour_off;
	slabp->s_mem = (char *)addr + colour_off;
	slabp->nodeid = (unsigned short)nid;
	slabp->free = 0;
	return slabp;
}

/*
 * kmm_slab_obj_align (slab_classic.h) - the largest power of two (at most
 * PAGE_SIZE) dividing the address of every object cachep ever hands out,
 * from the geometry alloc_slabmgmt lays out: a slab starts on a page,
 * then colour * colour_off (colour 0 .. colour-1), the on-slab descriptor
 * (slab_size), index * buffer_size, and obj_offset (red zone) to the
 * object.  Lets the malloc shim learn its classes' alignment without
 * allocating an object of each (which would grow a slab and make the
 * slot's array of every class at start-up).
 */
size_t kmm_slab_obj_align(const struct kmem_cache *s)
{
	const struct slab_cache *cachep = (const struct slab_cache *)s;
	size_t bits = PAGE_SIZE | cachep->buffer_size | s->obj_offset;
	if (cachep->colour > 1)
		bits |= cachep->colour_off;
	if (!(cachep->dflags & CFLGS_OFF_SLAB))
		bits |= cachep->slab_size;
	return bits & -bits;
}

/* The physical address of a linear-map pointer (0 for anything else):
 * seeds that do not depend on where the host put the linear map. */
static inline uintptr_t phys_of(const void *p)
{
	return kmm_is_linear_addr(p) ? (uintptr_t)((const char *)p - kmm.page_offset) : 0;
}

/*
 * random_seq_create - slab_random=on: the cache's shuffled object order
 * (Fisher-Yates with a PRNG seeded from the boot secret and the cache),
 * as [4.7+] cache_random_seq_create.  Without memory for it the cache
 * keeps index order.  The cache is not in use yet.
 */
static void random_seq_create(struct slab_cache *cachep)
{
	unsigned int n = cachep->num;
	if (!kmm.cfg.slab_random || n < 2 || cachep->random_seq)
		return;
	unsigned int *seq = kmalloc_internal((size_t)n * sizeof(*seq), GFP_KERNEL, -1);
	if (!seq)
		return;
	unsigned long rnd = kmm_mix64(kmm.random_secret ^ phys_of(cachep) ^ ((unsigned long)n << 32));
	for (unsigned int i = 0; i < n; i++)
		seq[i] = i;
	for (unsigned int i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(kmm_prng_next(&rnd) % (i + 1));
		unsigned int t = seq[i];
		seq[i] = seq[j];
		seq[j] = t;
	}
	cachep->random_seq = seq;
}

/* cache_init_objs: chain every object (index order, or the cache's
 * shuffled order from a start picked per slab: [4.7+] shuffle_freelist),
 * set up debug words, construct. */
static void cache_init_objs(struct slab_cache *cachep, struct slab *slabp)
{
	struct kmem_cache *s = &cachep->common;
	bool poison = s->flags & SLAB_POISON;
	kmem_bufctl_t *bufctl = slab_bufctl(slabp);
	const unsigned int *seq = cachep->random_seq;
	unsigned int n = cachep->num;
	for (unsigned int i = 0; i < n; i++) {
		void *obj = index_to_obj(cachep, slabp, i);
		slab_debug_init_free(s, obj_to_slot(s, obj));
		if (s->ctor && !poison)	/* with poison: at each allocation instead */
			s->ctor(obj);
		bufctl[i] = i + 1;
		if (cachep->free_mark)
			((uintptr_t *)obj)[1] = cachep->free_mark;	/* kmm_slab_cache_set_tag */
		if (ann_cache(s))
			kmm_ann_reserve(obj, cachep->buffer_size);	/* free: no access until handed out */
	}
	bufctl[n - 1] = BUFCTL_END;
	slabp->free = 0;
	if (seq) {
		unsigned int pos = (unsigned int)(kmm_mix64(kmm.random_secret ^ phys_of(slabp->s_mem)) % n);
		unsigned int prev = seq[pos];
		slabp->free = prev;
		for (unsigned int i = 1; i < n; i++) {
			unsigned int next = seq[(pos + i) % n];
			bufctl[prev] = next;
			prev = next;
		}
		bufctl[prev] = BUFCTL_END;
	}
}

/*
 * cache_grow - one more slab for the cache, preferably on node nid.
 * Runs outside every slot and lock (the page allocation may sleep and
 * reclaim).  The slab goes to the free list of the node its pages came
 * from.  Returns that node, or -1.
 */
int cache_grow(struct slab_cache *cachep, gfp_t flags, int nid)
{
	struct page *page = kmem_getpages(cachep, flags, nid);
	if (!page)
		return -1;
	nid = page_nid(page);
	void *addr = page_address(page);
	struct kmem_list3 *l3 = l3_of(cachep, nid);

	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	size_t offset = l3->colour_next;
	if (++l3->colour_next >= cachep->colour)
		l3->colour_next = 0;
	kmm_unlock(&l3->list_lock);
	offset *= cachep->colour_off;

	struct slab *slabp = alloc_slabmgmt(cachep, addr, offset, flags, nid);
	if (!slabp) {
		kmem_freepages(cachep, page);
		return -1;
	}
	for (unsigned long i = 0; i < (1UL << cachep->gfporder); i++) {
		SetPageSlab(page + i);
		page[i].slab_cache = &cachep->common;
		page[i].slab_mgmt = slabp;
		page[i].s_mem = slabp->s_mem;
		page[i].slab_tag = __atomic_load_n(&cachep->page_tag, __ATOMIC_RELAXED);
	}
	cache_init_objs(cachep, slabp);

	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	list_add_tail(&slabp->list, &l3->slabs_free);
	l3->free_objects += cachep->num;
	kmm_unlock(&l3->list_lock);
	__atomic_add_fetch(&cachep->common.nr_grown, 1, __ATOMIC_RELAXED);
	return nid;
}

/*
 * A free chain left its slab: report, then take the slab out of
 * circulation (every object still on the broken chain is quarantined, the
 * slab counts as full).  list_lock held; the caller re-files the slab.
 */
static void slab_freelist_corrupt(struct slab_cache *cachep, struct kmem_list3 *l3, struct slab *slabp,
				  unsigned int idx, kmem_bufctl_t bad)
{
	unsigned int lost = 0;
	__atomic_add_fetch(&cachep->common.nr_errors, 1, __ATOMIC_RELAXED);
	kmm_error("freelist corrupt", "%s slab %p (objects at %p): free chain entry %u reads %#x (%u objects per slab)",
		  cachep->common.name, (void *)slabp, slabp->s_mem, idx, bad, cachep->num);
	for (unsigned int i = 0; i < cachep->num; i++) {
		if (!bufctl_is_taken(bufctl_get(slabp, i))) {
			bufctl_set(slabp, i, BUFCTL_QUARANTINE);
			lost++;
		}
	}
	l3->free_objects -= cachep->num - slabp->inuse;
	slabp->inuse = cachep->num;
	slabp->free = BUFCTL_END;
	(void)lost;
}

/* slab_get_obj: the first object of the slab's free chain, now in `state`;
 * NULL when the chain is corrupt (the slab was isolated).  list_lock held. */
static void *slab_get_obj(struct slab_cache *cachep, struct kmem_list3 *l3, struct slab *slabp, kmem_bufctl_t state)
{
	unsigned int idx = slabp->free;
	if (unlikely(idx >= cachep->num || slabp->inuse >= cachep->num)) {
		slab_freelist_corrupt(cachep, l3, slabp, idx, idx);
		return NULL;
	}
	kmem_bufctl_t next = bufctl_get(slabp, idx);
	if (unlikely(next >= cachep->num && next != BUFCTL_END)) {
		slab_freelist_corrupt(cachep, l3, slabp, idx, next);
		return NULL;
	}
	bufctl_set(slabp, idx, state);
	slabp->free = next;
	slabp->inuse++;
	return index_to_obj(cachep, slabp, idx);
}

/* slab_put_obj: back on the chain head (LIFO within a slab).  list_lock held. */
static void slab_put_obj(struct slab_cache *cachep, struct slab *slabp, void *obj)
{
	unsigned int idx = obj_to_index(cachep, slabp, obj);
	bufctl_set(slabp, idx, slabp->free);
	slabp->free = idx;
	slabp->inuse--;
}

/* File a slab by its fill after objects were taken.  list_lock held. */
static void refile_slab(struct slab_cache *cachep, struct kmem_list3 *l3, struct slab *slabp)
{
	list_del(&slabp->list);
	if (slabp->free == BUFCTL_END || slabp->inuse == cachep->num)
		list_add(&slabp->list, &l3->slabs_full);
	else
		list_add(&slabp->list, &l3->slabs_partial);
}

/* The slab to take objects from: partial first, then free.  list_lock held. */
static struct slab *pick_slab(struct kmem_list3 *l3)
{
	if (!list_empty(&l3->slabs_partial))
		return list_first_entry(&l3->slabs_partial, struct slab, list);
	if (!list_empty(&l3->slabs_free)) {
		l3->free_touched = 1;
		return list_first_entry(&l3->slabs_free, struct slab, list);
	}
	return NULL;
}

/*
 * free_block - nr FREE objects of node `node` back to their slabs; an
 * emptied slab is destroyed when the node holds more than free_limit free
 * objects, else it goes to slabs_free.  list_lock held.
 */
void free_block(struct slab_cache *cachep, void **objpp, unsigned int nr, int node)
{
	struct kmem_list3 *l3 = l3_of(cachep, node);
	struct slab *last = NULL;	/* just moved to the tail of slabs_partial */
	for (unsigned int i = 0; i < nr; i++) {
		void *obj = objpp[i];
		struct slab *slabp = obj_slab(obj);
		slab_put_obj(cachep, slabp, obj);
		l3->free_objects++;
		if (slabp == last && slabp->inuse) {
			/* objects of one slab in a row (a batch freed in
			 * allocation order): it is at the tail already */
			continue;
		}
		list_del(&slabp->list);
		last = NULL;
		if (slabp->inuse == 0) {
			if (l3->free_objects > l3->free_limit) {
				l3->free_objects -= cachep->num;
				slab_destroy(cachep, slabp);
			} else {
				list_add(&slabp->list, &l3->slabs_free);
			}
		} else {
			/* tail: the partial slabs at the head fill up first */
			list_add_tail(&slabp->list, &l3->slabs_partial);
			last = slabp;
		}
	}
}

/* Free every slab on slabs_free, at most max of them; returns pages freed.
 * list_lock held. */
unsigned long drain_freelist(struct slab_cache *cachep, struct kmem_list3 *l3, unsigned long max)
{
	unsigned long pages = 0;
	while (max-- && !list_empty(&l3->slabs_free)) {
		struct slab *slabp = list_last_entry(&l3->slabs_free, struct slab, list);
		list_del(&slabp->list);
		l3->free_objects -= cachep->num;
		slab_destroy(cachep, slabp);
		pages += 1UL << cachep->gfporder;
	}
	return pages;
}

/* Up to want objects of the node's slabs into dst, partial slabs first,
 * each taken in `state`; returns how many (fewer: the node ran out).
 * list_lock held. */
unsigned int slabs_take_locked(struct slab_cache *cachep, struct kmem_list3 *l3, void **dst, unsigned int want,
			       kmem_bufctl_t state)
{
	unsigned int got = 0;
	while (got < want) {
		struct slab *slabp = pick_slab(l3);
		if (!slabp)
			break;
		unsigned int took = 0;
		while (slabp->inuse < cachep->num && got < want) {
			void *obj = slab_get_obj(cachep, l3, slabp, state);
			if (!obj)
				break;
			dst[got++] = obj;
			took++;
		}
		l3->free_objects -= took;
		refile_slab(cachep, l3, slabp);
	}
	return got;
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/* One object from node nid's slabs, under its lock, already in `state`;
 * NULL when the node has none free. */
static void *take_one_locked(struct slab_cache *cachep, int nid, kmem_bufctl_t state)
{
	struct kmem_list3 *l3 = l3_of(cachep, nid);
	void *obj = NULL;
	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	for (;;) {
		struct slab *slabp = pick_slab(l3);
		if (!slabp)
			break;
		obj = slab_get_obj(cachep, l3, slabp, state);
		if (obj)
			l3->free_objects--;
		refile_slab(cachep, l3, slabp);
		if (obj)
			break;
	}
	kmm_unlock(&l3->list_lock);
	return obj;
}

/*
 * fallback_alloc - node nid has no free object and no memory of its own:
 * take one from the other nodes' slabs in zonelist order, else grow with
 * the caller's full flags wherever the page allocator finds memory
 * (reclaiming and sleeping as they allow).  __GFP_THISNODE stays on nid.
 */
static void *fallback_alloc(struct slab_cache *cachep, gfp_t flags, int nid, kmem_bufctl_t state)
{
	void *obj;
	if (!(flags & __GFP_THISNODE)) {
		for (int i = 0; i < kmm.nr_nodes; i++) {
			int n = NODE_DATA(nid)->node_order[i];
			if (n != nid && (obj = take_one_locked(cachep, n, state)))
				return obj;
		}
	}
	for (;;) {
		int got = cache_grow(cachep, flags, nid);
		if (got < 0)
			return NULL;
		obj = take_one_locked(cachep, got, state);
		if (obj)
			return obj;
		/* another thread took the new slab's objects: grow again */
	}
}

/* ____cache_alloc_node: the locked path (slotless threads, other nodes). */
static void *cache_alloc_node(struct slab_cache *cachep, gfp_t flags, int nid, kmem_bufctl_t state)
{
	for (;;) {
		void *obj = take_one_locked(cachep, nid, state);
		if (obj)
			return obj;
		if (cache_grow(cachep, thisnode_flags(flags), nid) < 0)
			return fallback_alloc(cachep, flags, nid, state);
	}
}

/*
 * One object in `state`, from the slot's array when it can be used (the
 * local node), else by the locked path.  Growing happens outside the slot.
 */
static void *do_cache_alloc(struct slab_cache *cachep, gfp_t flags, int nid, kmem_bufctl_t state)
{
	struct kmm_cpu *c = kmm_cpu_get();
	if (nid >= kmm.nr_nodes)
		nid = -1;
	for (;;) {
		if (!c || !cachep->array || (nid >= 0 && nid != c->nid) || !kmm_cpu_enter(c))
			break;
		struct array_cache *ac = cachep->array[c->cpu];
		if (unlikely(!ac)) {
			/* the slot's first use of the cache (since boot or the last
			 * kmm_drain_all) makes its array, outside the slot; the
			 * slab layer's own objects never do: an array is one */
			kmm_cpu_exit(c);
			if (state == BUFCTL_INTERNAL || !cpu_array_create(cachep, c))
				break;
			continue;
		}
		void *obj;
		bool slow = false;
		if (likely(ac->avail)) {
			ac->touched = 1;
			obj = ac->entry[--ac->avail];
		} else {
			obj = cache_alloc_refill(cachep, ac, c->nid);
			slow = true;
		}
		if (obj)
			bufctl_set(obj_slab(obj), obj_to_index(cachep, obj_slab(obj), obj), state);
		kmm_cpu_exit(c);
		if (slow)
			maybe_reap(c);
		if (obj)
			return obj;
		/* nothing on the node: grow it (may sleep), or fall back */
		if (cache_grow(cachep, thisnode_flags(flags), c->nid) < 0)
			return fallback_alloc(cachep, flags, c->nid, state);
	}
	return cache_alloc_node(cachep, flags, nid >= 0 ? nid : (c ? c->nid : kmm_numa_node_id()), state);
}

static void quarantine(struct slab_cache *cachep, void *obj)
{
	struct slab *slabp = obj_slab(obj);
	bufctl_set(slabp, obj_to_index(cachep, slabp, obj), BUFCTL_QUARANTINE);
}

/* __cache_alloc: an object, debug-checked and (re)constructed. */
static __attribute__((noinline)) void *slab_alloc_slow(struct slab_cache *cachep, gfp_t flags, int nid,
						       void *caller, kmem_bufctl_t state)
{
	struct kmem_cache *s = &cachep->common;
	void *obj;
	for (;;) {
		obj = do_cache_alloc(cachep, flags, nid, state);
		if (!obj)
			return NULL;
		if (likely(!(s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER))) ||
		    slab_debug_alloc(s, obj_to_slot(s, obj), caller))
			break;
		quarantine(cachep, obj);	/* reported; never handed out */
	}
	if (ann_cache(s))
		kmm_ann_obj_alloc(obj, s->object_size, s->ctor != NULL);
	if (s->ctor && (s->flags & SLAB_POISON))
		s->ctor(obj);
	if ((flags & __GFP_ZERO) || s->init_on_alloc)
		kmm_memset(obj, 0, s->object_size);
	return obj;
}

/* The common case inline: no debug flag, any node, the slot's array has
 * an object.  Everything else takes slab_alloc_slow. */
static inline void *slab_alloc(struct slab_cache *cachep, gfp_t flags, int nid, void *caller, kmem_bufctl_t state)
{
	struct kmem_cache *s = &cachep->common;
	if (likely(nid < 0 && !(s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)))) {
		struct kmm_cpu *c = kmm_cpu_get();
		if (likely(c && cachep->array) && kmm_cpu_enter(c)) {
			struct array_cache *ac = cachep->array[c->cpu];
			if (likely(ac && ac->avail)) {	/* no array yet: the slow path makes it */
				void *obj = ac->entry[--ac->avail];
				struct slab *slabp = obj_slab(obj);
				ac->touched = 1;
				bufctl_set(slabp, obj_to_index(cachep, slabp, obj), state);
				kmm_cpu_exit(c);
				if (KMM_ANNOTATE)
					kmm_ann_obj_alloc(obj, s->object_size, s->ctor != NULL);
				if (unlikely((flags & __GFP_ZERO) || s->init_on_alloc))
					kmm_memset(obj, 0, s->object_size);
				return obj;
			}
			kmm_cpu_exit(c);
		}
	}
	return slab_alloc_slow(cachep, flags, nid, caller, state);
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */
/* ------------------------------------------------------------------ */

/*
 * slab_debug F: the object's slab descriptor and free chain are sane
 * (inuse in range, the chain inside the slab and no longer than it should
 * be).  Takes the node's list_lock: a walk of num entries per free, the
 * price of the letter.  false: reported ("freelist corrupt").
 */
static bool slab_sane(struct slab_cache *cachep, struct slab *slabp, void *obj, const char *fn)
{
	const char *why = NULL;
	unsigned int node = slabp->nodeid, steps = 0;
	if (node >= (unsigned int)kmm.nr_nodes || slab_first_page(slabp)->slab_mgmt != slabp) {
		why = "descriptor damaged";
	} else {
		struct kmem_list3 *l3 = l3_of(cachep, (int)node);
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		if (slabp->inuse == 0 || slabp->inuse > cachep->num)
			why = "in-use count out of range";
		for (kmem_bufctl_t i = slabp->free; !why && i != BUFCTL_END; i = bufctl_get(slabp, i))
			if (i >= cachep->num || ++steps > cachep->num - slabp->inuse)
				why = "free chain leaves the slab or loops";
		kmm_unlock(&l3->list_lock);
	}
	if (!why)
		return true;
	__atomic_add_fetch(&cachep->common.nr_errors, 1, __ATOMIC_RELAXED);
	kmm_error("freelist corrupt", "%s(%p): %s slab %p: %s", fn, obj, cachep->common.name, (void *)slabp, why);
	return false;
}

/*
 * slab_free - free obj to cachep.  Checks: a slab page of this cache, an
 * object boundary, the object in state `expect` (else "double free");
 * debug checks; then FREE before it reaches an array.
 */
static void slab_free(struct slab_cache *cachep, void *obj, void *caller, kmem_bufctl_t expect, const char *fn)
{
	struct page *page = obj_page(obj);
	struct kmem_cache *s;
	if (unlikely(!cachep || !PageSlab(page) || page->slab_cache != &cachep->common)) {
		kmm_error("invalid free", "%s(%p): not an object of cache %s", fn, obj, cachep ? cachep->common.name : "?");
		return;
	}
	s = &cachep->common;
	struct slab *slabp = page->slab_mgmt;
	size_t off = (size_t)((char *)obj - (char *)slabp->s_mem);
	if (unlikely((char *)obj < (char *)slabp->s_mem || off >= (size_t)cachep->num * cachep->buffer_size)) {
		kmm_error("invalid free", "%s(%p): inside a slab of %s but not in an object", fn, obj, s->name);
		return;
	}
	unsigned int idx = offset_to_index(cachep, off);
	long into = (long)(off - (size_t)idx * cachep->buffer_size) - (long)s->obj_offset;
	if (unlikely(into != 0)) {
		kmm_error("interior pointer", "%s(%p): %s object %p offset %ld", fn, obj, s->name,
			  index_to_obj(cachep, slabp, idx), into);
		return;
	}
	kmem_bufctl_t state = bufctl_get(slabp, idx);
	if (unlikely(state != expect)) {
		__atomic_add_fetch(&s->nr_errors, 1, __ATOMIC_RELAXED);
		if (state == BUFCTL_ACTIVE || state == BUFCTL_INTERNAL)
			kmm_error("invalid free", "%s(%p): %s object %p belongs to %s", fn, obj, s->name, obj,
				  state == BUFCTL_ACTIVE ? "a user, not the slab layer" : "the slab layer itself");
		else if (state == BUFCTL_QUARANTINE)
			kmm_error("double free", "%s(%p): %s object %p was quarantined after an earlier report", fn, obj,
				  s->name, obj);
		else
			kmm_error("double free", "%s(%p): %s object %p is already free", fn, obj, s->name, obj);
		return;
	}
	if (unlikely(s->flags & SLAB_CONSISTENCY_CHECKS) && !slab_sane(cachep, slabp, obj, fn))
		return;
	if (unlikely(s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)) &&
	    !slab_debug_free(s, obj_to_slot(s, obj), caller)) {
		bufctl_set(slabp, idx, BUFCTL_QUARANTINE);
		return;
	}

	if (unlikely(s->init_on_free))
		kmm_memset(obj, 0, s->object_size);
	if (cachep->free_mark)
		((uintptr_t *)obj)[1] = cachep->free_mark;	/* kmm_slab_cache_set_tag */
	if (ann_cache(s))
		kmm_ann_obj_free(obj, s->object_size);
	int node = slabp->nodeid;
	/* internal frees (descriptors, arrays: slab and cache teardown) skip
	 * the arrays, so a shrink leaves nothing cached behind it */
	struct kmm_cpu *c = expect == BUFCTL_INTERNAL ? NULL : kmm_cpu_get();
	struct array_cache *ac = NULL;
	if (c && node == c->nid && cachep->array && kmm_cpu_enter(c)) {
		ac = cachep->array[c->cpu];
		if (unlikely(!ac)) {
			/* the slot's first use of the cache: make its array (outside
			 * the slot), then read it again inside */
			kmm_cpu_exit(c);
			if (cpu_array_create(cachep, c) && kmm_cpu_enter(c)) {
				ac = cachep->array[c->cpu];
				if (!ac)
					kmm_cpu_exit(c);	/* a kmm_drain_all freed it meanwhile */
			}
		}
	}
	if (ac) {	/* inside the slot */
		bool slow = false;
		bufctl_set(slabp, idx, BUFCTL_FREE);
		if (unlikely(ac->avail >= ac->limit)) {
			cache_flusharray(cachep, ac, node);
			slow = true;
		}
		ac->entry[ac->avail++] = obj;
		kmm_cpu_exit(c);
		if (slow)
			maybe_reap(c);
		return;
	}
	/* slotless, another node's object, or a nested call: to the slab */
	struct kmem_list3 *l3 = l3_of(cachep, node);
	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	free_block(cachep, &obj, 1, node);
	kmm_unlock(&l3->list_lock);
}

/* ------------------------------------------------------------------ */
/* Caches                                                              */
/* ------------------------------------------------------------------ */

/*
 * enable_cpucache: the sizes of the per-slot and shared arrays, by the
 * slot size.  The arrays themselves are made on each slot's first use of
 * the cache (cpu_array_create): 2.6.24 allocated every CPU's at creation,
 * which for kmm's 64 or more slots is most of a boot's memory (26 kmalloc
 * caches x 64 slots x ~1 KiB) for slots no thread may ever use.  The
 * cache is not in use yet (creation, or late_init at boot).
 */
static int enable_cpucache(struct slab_cache *cachep, struct array_cache **array)
{
	unsigned int limit = cpucache_limit(cachep->buffer_size);
	unsigned int batchcount = (limit + 1) / 2;
	unsigned int shared = (cachep->buffer_size <= PAGE_SIZE && kmm.nr_cpus > 1) ? BOOT_SHARED_FACTOR : 0;

	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		l3_of(cachep, nid)->free_limit = (unsigned int)(1 + slots_on_node(nid)) * batchcount + cachep->num;
	cachep->limit = limit;
	cachep->batchcount = batchcount;
	cachep->shared = shared;
	cachep->array = array;
	random_seq_create(cachep);
	return 0;
}

static void init_nodelists(struct slab_cache *cachep, struct kmem_list3 *nodelists)
{
	uint64_t now = kmm_plat_now_ns();
	cachep->nodelists = nodelists;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = &nodelists[nid];
		kmm_memset(l3, 0, sizeof(*l3));
		kmm_plat_lock_init(&l3->list_lock);
		INIT_LIST_HEAD(&l3->slabs_partial);
		INIT_LIST_HEAD(&l3->slabs_full);
		INIT_LIST_HEAD(&l3->slabs_free);
		/* boot value (batchcount 1); enable_cpucache sets the real one */
		l3->free_limit = (unsigned int)(1 + slots_on_node(nid)) + cachep->num;
		/* staggered by the cache's address, as 2.6.24 does; its
		 * physical address (0 for the static boot cache), so the
		 * stagger does not depend on where the host put the linear
		 * map or the library: runs stay reproducible */
		l3->next_reap = now + REAPTIMEOUT_LIST3_NS + (phys_of(cachep) % REAPTIMEOUT_LIST3_NS);
	}
}

/*
 * setup_geometry: the 2.6.24 kmem_cache_create after the alignment step
 * (done by slab_fill_common): off-slab choice, order, colour.
 * Returns false when no slab can hold an object.
 */
static bool setup_geometry(struct slab_cache *cachep)
{
	size_t size = cachep->common.size, align = cachep->common.align;
	bool offslab = size >= (PAGE_SIZE >> 3) && slab_state >= SLAB_PARTIAL;
	size_t left_over;

	cachep->buffer_size = (unsigned int)size;
	cachep->reciprocal_buffer_size = reciprocal_value((unsigned int)size);
	for (;;) {
		left_over = calculate_slab_order(cachep, size, align, offslab);
		if (!cachep->num)
			return false;
		cachep->slab_size = (unsigned int)slab_mgmt_size(cachep->num, align);
		cachep->dflags = 0;
		cachep->slabp_cache = NULL;
		if (!offslab)
			break;
		if (left_over >= cachep->slab_size) {
			/* the descriptor fits in what is left: keep it on slab */
			left_over -= cachep->slab_size;
			break;
		}
		cachep->slab_size = (unsigned int)(sizeof(struct slab) + cachep->num * sizeof(kmem_bufctl_t));
		struct kmem_cache *d = kmalloc_slab(cachep->slab_size, 0);
		if (d) {
			cachep->dflags = CFLGS_OFF_SLAB;
			cachep->slabp_cache = SC(d);
			break;
		}
		offslab = false;	/* no kmalloc cache for it yet (boot): on slab */
	}
	cachep->colour_off = L1_CACHE_BYTES;
	if (cachep->colour_off < align)
		cachep->colour_off = (unsigned int)align;
	cachep->colour = (unsigned int)(left_over / cachep->colour_off);
	cachep->gfpflags = cachep->common.allocflags;
	return true;
}

/* Bytes of a descriptor: the struct, array pointers, node lists. */
static size_t cache_desc_size(void)
{
	size_t n = sizeof(struct slab_cache) + (size_t)kmm.nr_cpus * sizeof(struct array_cache *);
	return ALIGN_UP(n, _Alignof(struct kmem_list3)) + (size_t)kmm.nr_nodes * sizeof(struct kmem_list3);
}

static void release_descriptor_locks(struct slab_cache *cachep)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		kmm_plat_lock_destroy(&l3_of(cachep, nid)->list_lock);
}

static struct kmem_cache *slab_cache_create(const char *name, unsigned int size, unsigned int align,
					    slab_flags_t flags, void (*ctor)(void *))
{
	size_t desc = cache_desc_size();
	struct slab_cache *cachep = slab_alloc(&cache_cache.sc, GFP_KERNEL, -1, kmm_caller(), BUFCTL_INTERNAL);
	if (!cachep)
		return NULL;
	kmm_memset(cachep, 0, desc);
	slab_fill_common(&cachep->common, name, size, align, flags, ctor);
	struct array_cache **array = (struct array_cache **)(cachep + 1);
	struct kmem_list3 *nodelists =
		(struct kmem_list3 *)ALIGN_UP((uintptr_t)(array + kmm.nr_cpus), _Alignof(struct kmem_list3));
	if (!setup_geometry(cachep)) {
		kfree_internal(cachep);
		return NULL;
	}
	init_nodelists(cachep, nodelists);
	if (slab_state >= SLAB_UP && enable_cpucache(cachep, array)) {
		release_descriptor_locks(cachep);
		kfree_internal(cachep);
		return NULL;
	}
	return &cachep->common;
}

/* Every slab of every list of every node, live objects or not. */
static void destroy_all_slabs(struct slab_cache *cachep)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		struct list_head *lists[3] = { &l3->slabs_full, &l3->slabs_partial, &l3->slabs_free };
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		for (int i = 0; i < 3; i++) {
			while (!list_empty(lists[i])) {
				struct slab *slabp = list_first_entry(lists[i], struct slab, list);
				list_del(&slabp->list);
				slab_destroy(cachep, slabp);
			}
		}
		l3->free_objects = 0;
		kmm_unlock(&l3->list_lock);
	}
}

/* cache_release: the cache is unlinked and unused: everything goes back. */
static void slab_cache_release(struct kmem_cache *s)
{
	struct slab_cache *cachep = SC(s);
	free_arrays(cachep);
	destroy_all_slabs(cachep);
	release_descriptor_locks(cachep);
	kfree_internal(cachep->random_seq);
	cachep->random_seq = NULL;
	if (cachep != &cache_cache.sc)
		kfree_internal(cachep);
}

static void *slab_cache_alloc(struct kmem_cache *s, gfp_t gfp, int nid, void *caller)
{
	return slab_alloc(SC(s), gfp, nid, caller, BUFCTL_ACTIVE);
}

static void slab_cache_free(struct kmem_cache *s, void *obj, void *caller)
{
	slab_free(SC(s), obj, caller, BUFCTL_ACTIVE, "kmem_cache_free");
}

/* ------------------------------------------------------------------ */
/* Draining and shrinking                                              */
/* ------------------------------------------------------------------ */

/* Shared arrays and empty slabs of one cache back; returns pages freed. */
static unsigned long shrink_cache(struct slab_cache *cachep)
{
	unsigned long pages = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		drain_array(cachep, l3->shared, nid, true, true);
		pages += drain_freelist(cachep, l3, ~0UL);
		kmm_unlock(&l3->list_lock);
	}
	return pages;
}

static unsigned long slab_shrink_all(void)
{
	struct kmem_cache *s;
	unsigned long pages = 0;
	if (slab_state == SLAB_DOWN || slab_state == SLAB_SHUTDOWN)
		return 0;
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_for_each_entry(s, &slab_caches, list)
		pages += shrink_cache(SC(s));
	kmm_unlock(&slab_mutex);
	return pages;
}

static void drain_one_cache_slot(struct kmm_cpu *c, void *arg)
{
	struct slab_cache *cachep = arg;
	drain_array(cachep, slot_array(cachep, c->cpu), c->nid, true, false);
}

/* kmem_cache_shrink: every slot's array of s, the shared arrays, every
 * empty slab.  Returns 1 when slabs (with objects) remain, else 0. */
static int slab_cache_shrink(struct kmem_cache *s)
{
	struct slab_cache *cachep = SC(s);
	int ret = 0;
	if (cachep->array)
		kmm_with_slots_quiet(drain_one_cache_slot, NULL, cachep);
	shrink_cache(cachep);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		ret |= !list_empty(&l3->slabs_full) || !list_empty(&l3->slabs_partial);
		kmm_unlock(&l3->list_lock);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* kmalloc on SLAB                                                     */
/* ------------------------------------------------------------------ */

static size_t slab_kmalloc_max_small(void)
{
	return kmalloc_max_cache_size();
}

static void *slab_kmalloc_small(size_t size, gfp_t gfp, int nid, void *caller)
{
	struct kmem_cache *s = kmalloc_slab(size, gfp);
	if (!s)
		return NULL;
	void *obj = slab_alloc(SC(s), gfp, nid, caller, BUFCTL_ACTIVE);
	if (obj && s->orig_offset)
		slab_debug_kmalloc_size(s, obj, size);
	return obj;
}

static void slab_kfree_small(struct page *page, const void *p, void *caller)
{
	slab_free(SC(page->slab_cache), (void *)p, caller, BUFCTL_ACTIVE, "kfree");
}

/* ksize of a live object at an object boundary, else 0.  With red zones
 * or poison only object_size bytes are the caller's. */
static size_t slab_ksize_small(struct page *page, const void *p)
{
	struct slab_cache *cachep = SC(page->slab_cache);
	struct slab *slabp = page->slab_mgmt;
	size_t off = (size_t)((const char *)p - (const char *)slabp->s_mem);
	if ((const char *)p < (const char *)slabp->s_mem || off >= (size_t)cachep->num * cachep->buffer_size)
		return 0;
	unsigned int idx = offset_to_index(cachep, off);
	if (off - (size_t)idx * cachep->buffer_size != cachep->common.obj_offset || bufctl_get(slabp, idx) != BUFCTL_ACTIVE)
		return 0;
	if (cachep->common.flags & SLAB_DEBUG_FLAGS)
		return cachep->common.object_size;
	return cachep->buffer_size;
}

static struct kmem_cache *slab_page_cache(struct page *page)
{
	return page->slab_cache;
}

static bool slab_object_live(struct page *page, const void *p)
{
	return slab_ksize_small(page, p) != 0;	/* silent: a live object boundary */
}

/* ------------------------------------------------------------------ */
/* meminfo, page tags                                                  */
/* ------------------------------------------------------------------ */

static unsigned long slab_reclaimable_pages(void)
{
	return __atomic_load_n(&slab_pages_reclaimable, __ATOMIC_RELAXED);
}

static unsigned long slab_unreclaimable_pages(void)
{
	return __atomic_load_n(&slab_pages_unreclaimable, __ATOMIC_RELAXED);
}

/*
 * kmm_slab_cache_set_tag - give cache s a page tag (1..65535; 0: none) and
 * a free mark (0: none).  Every page of its slabs carries the tag in
 * struct page (slab_tag, next to s_mem), so a caller with a table indexed
 * by tag learns everything it needs about an object's cache from the
 * page's descriptor line alone; every object of s that is free (fresh in
 * a new slab, or freed: slab_free) carries the mark in its word 1, so a
 * caller can tell an object that may be free from a live one by reading
 * the object alone (a hint: a use-after-free write may change it; the
 * bufctl says exactly).  The malloc shim (src/shim/malloc.c) uses both in
 * free's fast path.  Slabs that exist are tagged now (the slots' and the
 * shared arrays are drained first, so that every free object is on a
 * free chain to be marked), new ones by cache_grow.  The caller makes
 * sure no other thread uses s meanwhile (the shim calls it while it boots)
 * and gives distinct caches distinct tags.  Returns false (nothing done)
 * when s is not a SLAB cache, or a free mark is asked of a cache whose
 * free objects are not the slab layer's to write: debug flags (poison,
 * red zones), a constructor, init_on_free, ASan / Valgrind annotations,
 * or slots below 16 bytes.
 */
bool kmm_slab_cache_set_tag(struct kmem_cache *s, unsigned short tag, uintptr_t free_mark)
{
	if (!s || kmm_slab_ops != &kmm_slab_ops_slab)
		return false;
	struct slab_cache *cachep = SC(s);
	if (free_mark && ((s->flags & SLAB_DEBUG_FLAGS) || s->ctor || s->init_on_free || ann_cache(s) ||
			  cachep->buffer_size < 2 * sizeof(uintptr_t) || s->obj_offset))
		return false;
	__atomic_store_n(&cachep->page_tag, tag, __ATOMIC_RELAXED);
	__atomic_store_n(&cachep->free_mark, free_mark, __ATOMIC_RELAXED);
	/* (arrays are made on first use: at the shim's boot no slot has one,
	 * and the quiet round - a heavy barrier per cache - is skipped) */
	bool any_array = false;
	for (int cpu = 0; cachep->array && cpu < kmm.nr_cpus && !any_array; cpu++)
		any_array = slot_array(cachep, cpu) != NULL;
	if (free_mark && any_array)
		kmm_with_slots_quiet(drain_one_cache_slot, NULL, cachep);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		struct list_head *lists[3] = { &l3->slabs_full, &l3->slabs_partial, &l3->slabs_free };
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		if (free_mark)
			drain_array(cachep, l3->shared, nid, true, true);
		for (int w = 0; w < 3; w++) {
			struct slab *slabp;
			list_for_each_entry(slabp, lists[w], list) {
				struct page *page = slab_first_page(slabp);
				for (unsigned long i = 0; i < (1UL << cachep->gfporder); i++)
					page[i].slab_tag = tag;
				unsigned int steps = 0;
				for (kmem_bufctl_t idx = slabp->free; free_mark && idx < cachep->num && steps++ < cachep->num;
				     idx = bufctl_get(slabp, idx))
					((uintptr_t *)index_to_obj(cachep, slabp, idx))[1] = free_mark;
			}
		}
		kmm_unlock(&l3->list_lock);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Boot and shutdown                                                   */
/* ------------------------------------------------------------------ */

/* kmem_cache_init: the static cache of caches, linked first. */
static int slab_init(void)
{
	struct slab_cache *cachep = &cache_cache.sc;
	slab_state = SLAB_DOWN;
	slab_pages_reclaimable = slab_pages_unreclaimable = 0;
	kmm_memset(slot_next_reap, 0, sizeof(slot_next_reap));
	kmm_memset(&cache_cache, 0, sizeof(cache_cache));
	unsigned long total = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			total += NODE_DATA(nid)->node_zones[z].managed_pages;
	slab_break_gfp_order = (total << PAGE_SHIFT) > SLAB_SMALL_MACHINE ? BREAK_GFP_ORDER_HI : BREAK_GFP_ORDER_LO;
	if (kmm.cfg.slab_max_order >= 0)	/* boot: slab_max_order= [3.4+] */
		slab_break_gfp_order = (unsigned int)kmm.cfg.slab_max_order;

	slab_fill_common(&cachep->common, "kmem_cache", (unsigned int)cache_desc_size(), 0, SLAB_HWCACHE_ALIGN, NULL);
	if (!setup_geometry(cachep))
		return -KMM_ENOMEM;
	init_nodelists(cachep, cache_cache.nodelists);
	list_add(&cachep->common.list, &slab_caches);
	slab_state = SLAB_PARTIAL;
	return 0;
}

/* kmem_cache_init_late: the kmalloc caches exist, so every cache made so
 * far gets its per-CPU arrays.  Boot runs alone: no lock needed. */
static int slab_late_init(void)
{
	struct kmem_cache *s;
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		struct array_cache **array = cachep == &cache_cache.sc ? cache_cache.array
								       : (struct array_cache **)(cachep + 1);
		if (enable_cpucache(cachep, array))
			return -KMM_ENOMEM;
	}
	slab_state = SLAB_UP;
	return 0;
}

/*
 * shutdown: the machine is quiet and the leaks were listed.  Two passes,
 * so no descriptor is read after a page holding one went back: first
 * collect every slab's first page (on its unused lru link), then clear
 * and free them all.
 */
static void slab_shutdown(void)
{
	struct list_head pages;
	struct kmem_cache *s;
	INIT_LIST_HEAD(&pages);
	slab_state = SLAB_SHUTDOWN;
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		for (int nid = 0; nid < kmm.nr_nodes; nid++) {
			struct kmem_list3 *l3 = l3_of(cachep, nid);
			struct list_head *lists[3] = { &l3->slabs_full, &l3->slabs_partial, &l3->slabs_free };
			for (int i = 0; i < 3; i++) {
				struct slab *slabp;
				list_for_each_entry(slabp, lists[i], list) {
					struct page *page = slab_first_page(slabp);
					page->private = (cachep->common.flags & SLAB_RECLAIM_ACCOUNT) != 0;
					list_add_tail(&page->lru, &pages);
				}
			}
		}
		release_descriptor_locks(cachep);
	}
	while (!list_empty(&pages)) {
		struct page *page = list_first_entry(&pages, struct page, lru);
		list_del_init(&page->lru);
		unsigned int order = page->alloc_order;
		bool reclaimable = page->private;	/* the descriptor may be gone by now */
		page->private = 0;
		for (unsigned long i = 0; i < (1UL << order); i++) {
			ClearPageSlab(page + i);
			page[i].slab_cache = NULL;
			page[i].slab_mgmt = NULL;
			page[i].s_mem = NULL;	/* page 0: the reclaimable flag above (shares private) */
			page[i].slab_tag = 0;
		}
		__atomic_sub_fetch(reclaimable ? &slab_pages_reclaimable : &slab_pages_unreclaimable, 1UL << order,
				   __ATOMIC_RELAXED);
		__free_pages(page, order);
	}
	slab_state = SLAB_DOWN;
}

const struct kmm_slab_ops kmm_slab_ops_slab = {
	.name = "slab",
	.init = slab_init,
	.cache_create = slab_cache_create,
	.cache_live = slab_cache_live,
	.cache_release = slab_cache_release,
	.cache_alloc = slab_cache_alloc,
	.cache_free = slab_cache_free,
	.cache_shrink = slab_cache_shrink,
	.cache_alloc_bulk = slab_cache_alloc_bulk,
	.cache_free_bulk = slab_cache_free_bulk,
	.kmalloc_max_small = slab_kmalloc_max_small,
	.kmalloc_small = slab_kmalloc_small,
	.kfree_small = slab_kfree_small,
	.ksize_small = slab_ksize_small,
	.page_cache = slab_page_cache,
	.object_live = slab_object_live,
	.drain_slot = slab_drain_slot,
	.shrink_all = slab_shrink_all,
	.check = slab_check,
	.slabinfo = slab_slabinfo,
	.reclaimable_pages = slab_reclaimable_pages,
	.unreclaimable_pages = slab_unreclaimable_pages,
	.kmalloc_caches = true,
	.late_init = slab_late_init,
	.drop_slot_caches = slab_drop_slot_caches,
	.shutdown = slab_shutdown,
};
