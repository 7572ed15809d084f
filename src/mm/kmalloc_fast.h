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
 *
 * 2. Conditions (checked here or by the caller)
 *    - The slab backend is SLAB (the caller looks its caches up only then)
 *      and the cache has no debug flag (kmm_cache_fast_ok: the caller
 *      checks it once per cache; debug caches always take kmalloc).
 *    - No fault injection armed (kmm_fast_paths_ok, also checked once by
 *      the caller: the shim's machine arms faults only at boot).
 *    - The calling thread owns a CPU slot of the booted machine (a thread
 *      without one takes the slow path, which binds one).
 *
 * 3. Invariants kept: those of slab.c section 3 - an object in an array
 *    cache is FREE in its bufctl, a live one ACTIVE.
 *
 * 4. Locks: none; the slot protocol of pcp.c (busy / drain_pending, plain
 *    loads and stores).
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
 * kmm_array_alloc_fast - pop an object of cachep from ac, slot c's array
 * of that cache (c is the calling thread's slot; the caller may keep the
 * array's address: it does not change while the cache lives), or NULL when
 * that needs more than a pop (array empty, a remote drain pending, nested
 * use).  cachep passed kmm_cache_fast_ok.
 */
static inline __attribute__((always_inline)) void *kmm_array_alloc_fast(struct slab_cache *cachep, struct kmm_cpu *c,
									 struct array_cache *ac)
{
	if (unlikely(!kmm_cpu_enter(c)))
		return NULL;
	unsigned int avail = ac->avail;
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
	return kmm_array_alloc_fast(cachep, c, cachep->array[c->cpu]);
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
	struct array_cache *ac = cachep->array[c->cpu];
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

/* kmm_kfree_fast - __kmm_kfree_fast for any caller (SLOB, not booted: false). */
static inline bool kmm_kfree_fast(const void *p)
{
	if (unlikely(kmm_slab_ops != &kmm_slab_ops_slab))
		return false;
	return __kmm_kfree_fast(p);
}

/* The cache of a fast slab page's object, for sizing (usable size). */
static inline unsigned int kmm_fast_page_objsize(const struct page *page)
{
	return SC(page->slab_cache)->buffer_size;
}

#endif /* KMM_KMALLOC_FAST_H */
