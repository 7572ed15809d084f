/*
 * kmalloc_fast.h - inline fast paths of kmalloc and kfree for the malloc
 * shim (src/shim/malloc.c): the slot's array-cache pop and push of the
 * classic SLAB backend, with the size-class choice left to the caller.
 *
 * 1. Overview
 *    slab.c's slab_alloc / slab_free serve an object from (or return it
 *    to) the calling thread's CPU slot array cache.  Reaching them from
 *    malloc costs a chain of calls and checks that a malloc caller never
 *    needs: kmalloc's size dispatch through the backend ops, kmalloc_slab,
 *    kfree's page-kind lookup, the backend's kfree_small.  The functions
 *    here do the same work as slab_alloc's and slab_free's inline fast
 *    paths, for a cache the caller chose, in one place:
 *      kmm_cache_alloc_fast(cachep): pop the slot's array, mark the object
 *        ACTIVE in its bufctl (so a later double free is still caught);
 *      kmm_kfree_fast(p): p must be an ACTIVE object boundary of a slab of
 *        a cache without debug flags, of the slot's node; mark it FREE and
 *        push it on the slot's array.
 *    Either returns "not done" (NULL / false) instead of taking a slow
 *    path: then the caller calls kmalloc / kfree, which do everything
 *    (refill, flush, growing, misuse reports) exactly as before.  So the
 *    behaviour of the core does not change; only the common case is
 *    shorter.
 *    For the shim's per-thread lists, the batched paths of slab_cpu.c
 *    (kmem_cache_alloc_bulk / kmem_cache_free_bulk) with the list walk
 *    folded into their loops:
 *      kmm_cache_alloc_list_fast: up to n objects from the slot's array
 *        (newest first), then the node's shared array and slabs under one
 *        lock, each marked ACTIVE and handed to the caller's link();
 *      kmm_cache_free_list_fast: up to n objects of the caller's list,
 *        each checked as slab_free checks it (kmm_bulk_check_obj), marked
 *        FREE, pushed on the slot's array, the rest onto the node's shared
 *        array (then the slabs) in one locked step.
 *    They do less than the public bulk calls (no growing, no array
 *    making, no reports: they stop where those are needed) and say how
 *    far they got; the caller finishes with the public calls.
 *
 * 2. Conditions (checked here or by the caller)
 *    - The slab backend is SLAB (the caller looks its caches up only then)
 *      and the cache has no debug flag (kmm_cache_fast_ok: the caller
 *      checks it once per cache; debug caches always take kmalloc).
 *    - No fault injection armed (kmm_fast_paths_ok, also checked once by
 *      the caller: the shim's machine arms faults only at boot).
 *    - The calling thread owns a CPU slot of the booted machine (a thread
 *      without one takes the slow path, which binds one), and the slot
 *      has its array of the cache (made by the slot's first slow-path use
 *      of the cache, slab_cpu.c cpu_array_create; freed by kmm_drain_all
 *      while the slot is quiet): read inside the slot, never kept.
 *
 * 3. Invariants kept: those of slab_check.c section 2 - an object in an
 *    array cache is FREE in its bufctl, a live one ACTIVE.  The shim's own
 *    tcache reads two more things the slab layer keeps for it on caches
 *    it tagged (kmm_slab_cache_set_tag, slab.c): each slab page's
 *    slab_tag and s_mem in struct page (kmm_check verifies both), and
 *    the free mark in word 1 of free objects (a hint for free's fast
 *    path; kmm_fast_obj_state gives the exact state behind it).  A caller
 *    of kmm_kfree_fast on a tagged cache writes the mark first (slab_free
 *    writes it for kfree).
 *
 * 4. Locks: none; the slot protocol of pcp.c (busy / drain_pending, plain
 *    loads and stores).  The list variants take the node's list_lock once
 *    per batch inside the slot (slab_cpu.c kmm_slab_take_node /
 *    kmm_slab_free_run, as cache_alloc_refill and cache_flusharray do) and
 *    mark every object they move before leaving the slot.
 */
#ifndef KMM_KMALLOC_FAST_H
#define KMM_KMALLOC_FAST_H

#include "slab_classic.h"
#include "annotate.h"

/* The backend is SLAB and no fault attribute is armed. */
static inline bool kmm_fast_paths_ok(void)
{
	return kmm.booted && kmm_slab_ops == &kmm_slab_ops_slab && !kmm.fault_armed;
}

/* A cache the fast paths may serve: per-slot arrays, no debug flag. */
static inline bool kmm_cache_fast_ok(const struct kmem_cache *s)
{
	/* init_on_alloc= / init_on_free= and the ASan / Valgrind annotations
	 * (annotate.h) are done by slab.c's paths only */
	return s && ((const struct slab_cache *)s)->array && !(s->flags & SLAB_DEBUG_FLAGS) && !s->ctor &&
	       !s->init_on_alloc && !s->init_on_free && !KMM_ANNOTATE;
}

/* The calling thread's slot, or NULL (no slot yet: the slow path binds one).
 * The shim boots once per process, so the boot generation is not checked
 * here: a fresh thread's block is zero (cpu NULL). */
static inline struct kmm_cpu *kmm_fast_slot(void)
{
	return ((const struct kmm_thread *)kmm_plat_thread_state())->cpu;
}

static inline unsigned int kmm_fast_obj_index(const struct slab_cache *cachep, const struct slab *slabp,
					      const void *obj)
{
	return (unsigned int)(((uint64_t)((const char *)obj - (const char *)slabp->s_mem) *
			       cachep->reciprocal_buffer_size) >> 32);
}

/*
 * kmm_array_alloc_fast - pop an object of cachep from slot c's array of
 * that cache (c is the calling thread's slot), or NULL when that needs
 * more than a pop (no array yet, array empty, a remote drain pending,
 * nested use).  The array is read inside the slot, never kept: it is made
 * on the slot's first slow-path use of the cache (slab_cpu.c
 * cpu_array_create) and kmm_drain_all frees it while the slot is quiet.
 * cachep passed kmm_cache_fast_ok.
 */
static inline __attribute__((always_inline)) void *kmm_array_alloc_fast(struct slab_cache *cachep, struct kmm_cpu *c)
{
	if (unlikely(!kmm_cpu_enter(c)))
		return NULL;
	struct array_cache *ac = cachep->array[c->cpu];
	unsigned int avail = likely(ac != NULL) ? ac->avail : 0;
	if (unlikely(!avail)) {
		kmm_cpu_exit(c);
		return NULL;
	}
	void *obj = ac->entry[--avail];
	ac->avail = avail;
	if (unlikely(!ac->touched))
		ac->touched = 1;	/* cache_reap: the array is in use */
	struct slab *slabp = kmm_pfn_to_page(kmm_virt_to_pfn(obj))->slab_mgmt;
	__atomic_store_n(&slab_bufctl(slabp)[kmm_fast_obj_index(cachep, slabp, obj)], BUFCTL_ACTIVE,
			 __ATOMIC_RELAXED);
	kmm_cpu_exit(c);
	return obj;
}

/*
 * kmm_cache_alloc_fast - an object of cachep from the calling thread's
 * slot array, or NULL when that needs more than a pop (no slot, array
 * empty, a remote drain pending, nested use).  cachep passed
 * kmm_cache_fast_ok.
 */
static inline __attribute__((always_inline)) void *kmm_cache_alloc_fast(struct slab_cache *cachep)
{
	struct kmm_cpu *c = kmm_fast_slot();
	if (unlikely(!c))
		return NULL;
	return kmm_array_alloc_fast(cachep, c);
}

/*
 * __kmm_fast_slab_page - the slab page holding the linear-map address p,
 * or NULL (not linear, not a slab page).  The caller knows the backend is
 * SLAB (kmm_fast_slab_page checks).  Reads kmm's metadata only, never *p.
 */
static inline __attribute__((always_inline)) struct page *__kmm_fast_slab_page(const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)kmm.page_offset;
	if (unlikely(off >= ((uintptr_t)kmm.max_low_pfn << PAGE_SHIFT)))
		return NULL;
	struct page *page = kmm_pfn_to_page(off >> PAGE_SHIFT);
	if (unlikely(!(page_flags_read(page) & (1UL << PG_slab))))
		return NULL;
	return page;
}

/* The same for any caller: NULL too when not booted or the backend is
 * SLOB (whose pages do not point at a struct slab_cache). */
static inline struct page *kmm_fast_slab_page(const void *p)
{
	if (unlikely(kmm_slab_ops != &kmm_slab_ops_slab))
		return NULL;
	return __kmm_fast_slab_page(p);
}

/*
 * __kmm_kfree_fast - free p onto the calling thread's slot array when it
 * is a live object boundary of a cache without debug flags, of the slot's
 * node, and the array has room; false: nothing was done (the caller calls
 * kfree, which handles the rest and reports misuse).  The caller knows
 * the backend is SLAB (kmm_kfree_fast checks).
 */
static inline __attribute__((always_inline)) bool __kmm_kfree_fast(const void *p)
{
	uintptr_t poff = (uintptr_t)p - (uintptr_t)kmm.page_offset;
	if (unlikely(poff >= ((uintptr_t)kmm.max_low_pfn << PAGE_SHIFT)))
		return false;
	struct page *page = kmm_pfn_to_page(poff >> PAGE_SHIFT);
	if (unlikely(!(page_flags_read(page) & (1UL << PG_slab))))
		return false;
	struct slab_cache *cachep = SC(page->slab_cache);
	if (unlikely(cachep->common.flags & SLAB_DEBUG_FLAGS) || unlikely(!cachep->array) ||
	    unlikely(cachep->common.init_on_free) || KMM_ANNOTATE)
		return false;
	struct slab *slabp = page->slab_mgmt;
	size_t off = (size_t)((const char *)p - (const char *)slabp->s_mem);
	if (unlikely(off >= (size_t)cachep->num * cachep->buffer_size))
		return false;
	unsigned int idx = (unsigned int)(((uint64_t)off * cachep->reciprocal_buffer_size) >> 32);
	if (unlikely((size_t)idx * cachep->buffer_size != off))
		return false;	/* interior pointer (or rounding): kfree decides */
	kmem_bufctl_t *bufctl = &slab_bufctl(slabp)[idx];
	if (unlikely(__atomic_load_n(bufctl, __ATOMIC_RELAXED) != BUFCTL_ACTIVE))
		return false;	/* double free, internal object: kfree reports */
	struct kmm_cpu *c = kmm_fast_slot();
	if (unlikely(!c) || unlikely(slabp->nodeid != c->nid) || unlikely(!kmm_cpu_enter(c)))
		return false;
	struct array_cache *ac = cachep->array[c->cpu];	/* NULL: the slot's first use, kfree makes it */
	if (unlikely(!ac)) {
		kmm_cpu_exit(c);
		return false;
	}
	unsigned int avail = ac->avail;
	if (unlikely(avail >= ac->limit)) {
		kmm_cpu_exit(c);
		return false;
	}
	__atomic_store_n(bufctl, BUFCTL_FREE, __ATOMIC_RELAXED);
	ac->entry[avail] = (void *)p;
	ac->avail = avail + 1;
	kmm_cpu_exit(c);
	return true;
}

/*
 * The loop of kmm_cache_free_list_fast, in a function of its own (the
 * caller's values live across it would otherwise take the registers the
 * checker's belong in): objects from *pp on, checked and marked FREE,
 * into buf up to end; *pp is left at the first one not taken.  Returns
 * the end of what was stored.  GCC specialises it for the caller's
 * constant next() and inlines that.
 */
static __attribute__((noinline)) void **kmm_free_list_walk(const struct kmm_bulk_check *xp, void ***pp, void **buf,
							   void **end, void **(*next)(void **obj, void *ctx),
							   void *ctx)
{
	const struct kmm_bulk_check x = *xp;
	void **p = *pp, **dst = buf;
	while (p && dst < end) {
		if (unlikely(!kmm_bulk_check_linear(&x, p)))
			break;	/* never read outside kmm's memory */
		void **after = next(p, ctx);
		kmem_bufctl_t *bufctl = kmm_bulk_check_linear_obj(&x, p);
		if (unlikely(!bufctl))
			break;
		__atomic_store_n(bufctl, BUFCTL_FREE, __ATOMIC_RELAXED);
		*dst++ = p;
		p = after;
	}
	*pp = p;
	return dst;
}

/*
 * kmm_cache_free_list_fast - give back up to max objects of cachep from a
 * list the caller threads through them (a free list of its own, such as
 * the shim's tcache), in one pass inside the slot: each object is checked
 * as slab_free checks it (kmm_bulk_check_obj: a live object boundary of
 * the cache on the slot's node), marked FREE and collected in buf (room
 * for max); then as many as fit go onto the slot's array, the rest to the
 * node in one locked step (the shared array, then the slabs).  The walk
 * and the checks are one loop, so that loading an object's link overlaps
 * with checking it (a separate walk is bound by the chain of loads).
 * next(obj, ctx) returns the object after obj (NULL: the list ends; it may
 * write obj's other words).  It runs once obj is known to lie in kmm's
 * linear map, before the rest of obj's checks.
 * Stops at the first object that needs more than this (misuse, another
 * node, no slot or no slot array yet): *headp is left there (or at what
 * follows the max-th, or NULL), for the caller to give the rest to
 * kmem_cache_free_bulk, which reports.  Returns how many were freed.
 * cachep passed kmm_cache_fast_ok.
 */
static inline __attribute__((always_inline)) unsigned int
kmm_cache_free_list_fast(struct slab_cache *cachep, void ***headp, unsigned int max, void **buf,
			 void **(*next)(void **obj, void *ctx), void *ctx)
{
	struct kmm_cpu *c = kmm_fast_slot();
	void **p = *headp;
	if (unlikely(!p || !c) || unlikely(!kmm_cpu_enter(c)))
		return 0;
	struct array_cache *ac = cachep->array[c->cpu];
	if (unlikely(!ac)) {
		kmm_cpu_exit(c);	/* the slot's first use: kmem_cache_free_bulk makes the array */
		return 0;
	}
	struct kmm_bulk_check x;
	kmm_bulk_check_init(&x, cachep, c->nid);
	void **dst = kmm_free_list_walk(&x, &p, buf, buf + max, next, ctx);
	unsigned int n = (unsigned int)(dst - buf), room = ac->limit - ac->avail, put = n < room ? n : room;
	for (unsigned int i = 0; i < put; i++)
		ac->entry[ac->avail + i] = buf[i];
	ac->avail += put;
	if (put < n)
		kmm_slab_free_run(cachep, buf + put, n - put, c->nid);
	kmm_cpu_exit(c);
	if (put < n)
		kmm_slab_reap_tick(c);
	*headp = p;
	return n;
}

/*
 * kmm_cache_alloc_list_fast - up to want objects of cachep for a free list
 * of the caller's own (the shim's tcache refill), in one pass inside the
 * slot: the newest of the slot's array, then under one lock the node's
 * shared array and slabs (kmm_slab_take_node, into buf: room for want).
 * Each object is marked ACTIVE, as kmem_cache_alloc hands it out, and
 * given to link(obj, ctx) in the same loop, so that the writes to the
 * bufctl and to the object of one overlap with the next one's.  Returns
 * how many were linked; 0 when the slot has no array of the cache yet or
 * cannot be entered, or the node has nothing free: the caller takes
 * kmem_cache_alloc_bulk, which makes the array, grows the cache, falls
 * back on other nodes.  cachep passed kmm_cache_fast_ok.
 */
static inline __attribute__((always_inline)) unsigned int
kmm_cache_alloc_list_fast(struct slab_cache *cachep, unsigned int want, void **buf,
			  void (*link)(void **obj, void *ctx), void *ctx)
{
	struct kmm_cpu *c = kmm_fast_slot();
	if (unlikely(!c) || unlikely(!kmm_cpu_enter(c)))
		return 0;
	struct array_cache *ac = cachep->array[c->cpu];
	if (unlikely(!ac)) {
		kmm_cpu_exit(c);	/* the slot's first use: kmem_cache_alloc_bulk makes the array */
		return 0;
	}
	unsigned int from_ac = ac->avail < want ? ac->avail : want, from_shared = 0, total = from_ac;
	void **src = ac->entry + ac->avail - from_ac;	/* the array's newest, read in place */
	ac->avail -= from_ac;
	if (from_ac)
		ac->touched = 1;
	if (from_ac < want)
		total += kmm_slab_take_node(cachep, c->nid, buf, want - from_ac, &from_shared);
	const uintptr_t base = (uintptr_t)kmm.page_offset;
	struct page *const mem_map = kmm.mem_map;
	const uint64_t recip = cachep->reciprocal_buffer_size;
	/* the arrays' objects are FREE: ACTIVE now (the slabs' are already) */
	for (unsigned int i = 0; i < from_ac + from_shared; i++) {
		void **obj = i < from_ac ? src[i] : buf[i - from_ac];
		const struct page *page = mem_map + (((uintptr_t)obj - base) >> PAGE_SHIFT);
		unsigned int idx = (unsigned int)(((uint64_t)((uintptr_t)obj - (uintptr_t)page->s_mem) * recip) >> 32);
		__atomic_store_n(&slab_bufctl(page->slab_mgmt)[idx], BUFCTL_ACTIVE, __ATOMIC_RELAXED);
		link(obj, ctx);
	}
	for (unsigned int i = from_shared; i < total - from_ac; i++)
		link(buf[i], ctx);
	kmm_cpu_exit(c);
	if (from_ac < want)
		kmm_slab_reap_tick(c);
	return total;
}

/* kmm_kfree_fast - __kmm_kfree_fast for any caller (SLOB, not booted: false). */
static inline bool kmm_kfree_fast(const void *p)
{
	if (unlikely(kmm_slab_ops != &kmm_slab_ops_slab))
		return false;
	return __kmm_kfree_fast(p);
}

/* The bufctl state of object idx (< num) of the slab whose page is page,
 * a slab page of a SLAB cache. */
static inline kmem_bufctl_t kmm_fast_obj_state(const struct page *page, unsigned int idx)
{
	return __atomic_load_n(&slab_bufctl(page->slab_mgmt)[idx], __ATOMIC_RELAXED);
}

/* The cache of a fast slab page's object, for sizing (usable size). */
static inline unsigned int kmm_fast_page_objsize(const struct page *page)
{
	return SC(page->slab_cache)->buffer_size;
}

#endif /* KMM_KMALLOC_FAST_H */
