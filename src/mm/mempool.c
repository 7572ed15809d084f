/*
 * mempool.c - memory pools: a reserve of min_nr preallocated elements that
 * lets a caller make progress when the allocator below it fails.
 *
 * 1. Overview (ULK3 8.2.15; REFERENCE.md section 10; Linux mm/mempool.c)
 *    A pool wraps an allocator pair (alloc_fn, free_fn) with pool_data and
 *    keeps up to min_nr elements in a LIFO array.  The reserve is the last
 *    resort, not the first: mempool_alloc [6.x algorithm]
 *      1. adds __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN to gfp and
 *         first tries alloc_fn without __GFP_DIRECT_RECLAIM and __GFP_IO
 *         (cheap: no reclaim, no sleeping);
 *      2. then pops an element from the reserve;
 *      3. then, once, retries alloc_fn with the full mask (reclaim allowed);
 *      4. a caller that cannot sleep gets NULL;
 *      5. a sleeping caller waits on the pool's wait queue for a
 *         mempool_free (at most MEMPOOL_WAIT_NS = 5 s per round, the
 *         io_schedule_timeout(5*HZ) of 2.6.18+) and starts again at 1 -
 *         forever: mempool_alloc with __GFP_DIRECT_RECLAIM never fails.
 *    mempool_free refills the reserve while it is below min_nr (and wakes
 *    the waiters), otherwise hands the element to free_fn.
 *    Helpers: slab pools (pool_data = the cache), kmalloc pools (pool_data
 *    = the size), page pools (pool_data = the order; elements are struct
 *    page *), with Linux's allocator pairs exported.
 *
 * 2. Data structures
 *    struct mempool_s (from kmalloc, aligned by hand: its lock and wait
 *    queue want 16 bytes and kmalloc promises 8): lock, min_nr, curr_nr,
 *    elements[max(min_nr, 1)] (kmalloc_array), pool_data, alloc, free, wait,
 *    the number of sleepers, the number of elements handed out and not yet
 *    freed (outstanding), counters, and a link on the list of live pools.
 *    The list (mempool_list, under pool_list_lock) lets kmm_check walk every
 *    pool and kmm_shutdown report those never destroyed.
 *
 * 3. Invariants (mempool_check)
 *    - 0 <= curr_nr <= min_nr (a pool with min_nr 0 may keep one element,
 *      as Linux 6.x does for forward progress);
 *    - elements[0 .. curr_nr) are non-NULL and, for the helper pools, owned
 *      by the pool's allocator: a live object of the pool's cache, a
 *      kmalloc object of at least the pool's size, a page block of the
 *      pool's order;
 *    - outstanding >= 0.
 *    Worst case of the reserve: a pool holds min_nr elements at all times
 *    except while they are handed out; with every element out, a sleeper
 *    needs one mempool_free to make progress, and the wake can not be lost
 *    (correctness argument of mempool_free: whenever curr_nr + outstanding
 *    == min_nr, the unlocked peek sees curr_nr < min_nr).
 *
 * 4. Locks
 *    pool->lock is a leaf: nothing is allocated or freed under it (the
 *    element allocators run outside; resize frees the old array after
 *    unlocking).  pool_list_lock is taken before a pool lock (kmm_check).
 *    The wait queue's own lock is taken after pool->lock is dropped.
 *
 * 5. Failure
 *    mempool_create returns NULL when the descriptor, the array or any of
 *    the min_nr elements cannot be had (everything made so far is freed).
 *    mempool_alloc returns NULL only to callers without
 *    __GFP_DIRECT_RECLAIM.  mempool_resize returns -EINVAL (new_min_nr <=
 *    0) or -ENOMEM (the new array); growing stops quietly when elements
 *    cannot be had (later frees top the reserve up).  Fault injection:
 *    every call of alloc_fn first asks fail_mempool (when armed), so the
 *    OOM-loop tests can fail the refills.
 *
 * 6. Debug aids
 *    With slab_debug=F, mempool_free checks that the element belongs to the
 *    pool's allocator and reports "mempool foreign element" otherwise (the
 *    element is then kept out of circulation).  mempool_destroy with
 *    elements still out reports "mempool elements outstanding" (and frees
 *    what the pool holds anyway).  mempool_destroy of something that is not
 *    a live pool reports "invalid free".
 *
 * Which Linux: the 6.x mempool_alloc (first try without reclaim, reserve,
 * retry with the full mask, 5 s waits) for both profiles; the 2.6.11
 * variant (full mask only when the pool is at most half full, no timeout)
 * is not offered.  Elements are not poisoned in the reserve (Linux does
 * that only with SLUB_DEBUG_ON / KASAN).
 */
#include "internal.h"
#include "fork.h"
#include "slab.h"
#include <kmm/mempool.h>
#include <kmm/slab.h>

#define MEMPOOL_MAGIC 0x6d706f6fu	/* "mpoo" while the pool lives */
#define MEMPOOL_WAIT_NS (5ULL * 1000 * 1000 * 1000)	/* io_schedule_timeout(5*HZ) [2.6.18+] */
#define MEMPOOL_DESC_ALIGN 16u		/* struct kmm_lock / kmm_waitq alignment */

struct mempool_s {
	unsigned int magic;
	int min_nr;			/* guaranteed elements */
	int curr_nr;			/* elements in the reserve now */
	int waiters;			/* sleepers on wait (lock) */
	void **elements;		/* LIFO stack of max(min_nr, 1) entries */
	void *pool_data;
	mempool_alloc_t *alloc;
	mempool_free_t *free;
	void *mem;			/* what kmalloc returned for this descriptor */
	long outstanding;		/* handed out, not yet freed (atomic) */
	struct list_head list;		/* mempool_list (pool_list_lock) */
	/* counters of the slow paths (relaxed atomics), for debugging; the
	 * fast path counts only outstanding */
	unsigned long nr_from_reserve, nr_fail, nr_wait, nr_refill;
	int min_curr;			/* low-water mark of curr_nr (lock) */
	struct kmm_lock lock;
	struct kmm_waitq wait;
};

static struct list_head mempool_list;
static struct kmm_lock pool_list_lock;
static unsigned long layer_gen;		/* boot generation the layer was registered for */
static bool list_lock_live;		/* pool_list_lock initialised and not destroyed */

static void mempool_layer_register(void);

/* ------------------------------------------------------------------ */
/* Element ownership (slab_debug=F, kmm_check)                         */
/* ------------------------------------------------------------------ */

static bool slab_object_owned(struct kmem_cache *s, const void *e)
{
	if (!kmm_is_linear_addr(e))
		return false;
	struct page *page = compound_head(kmm_pfn_to_page(kmm_virt_to_pfn(e)));
	/* the page's cache, and a live object start there (an interior
	 * pointer would pass the page test and drop outstanding) */
	return PageSlab(page) && kmm_slab_ops && kmm_slab_ops->page_cache(page) == s &&
	       kmm_slab_ops->object_live(kmm_pfn_to_page(kmm_virt_to_pfn(e)), e);
}

static bool kmalloc_object_owned(size_t size, const void *e)
{
	if (!kmm_is_linear_addr(e))
		return false;
	struct page *page = compound_head(kmm_pfn_to_page(kmm_virt_to_pfn(e)));
	if (PageLargeKmalloc(page))
		return e == kmm_pfn_to_virt(kmm_page_to_pfn(page)) && (PAGE_SIZE << page->alloc_order) >= size;
	if (!PageSlab(page) || !kmm_slab_ops || !kmm_slab_ops->object_live(kmm_pfn_to_page(kmm_virt_to_pfn(e)), e))
		return false;
	struct kmem_cache *s = kmm_slab_ops->page_cache(page);
	if (s)
		return (s->is_kmalloc || (s->flags & SLAB_KMALLOC)) && s->object_size >= size;
	/* a kmalloc block without a cache (SLOB): its size (a bad block is
	 * reported by ksize_small itself) */
	return kmm_slab_ops->ksize_small(page, e) >= size;
}

static bool page_block_owned(unsigned int order, const void *e)
{
	const struct page *p = e;
	return kmm_is_page_desc(p) && !PageTail(p) && !PageBuddy(p) && !PagePcp(p) && !PageSlab(p) &&
	       p->_refcount > 0 && p->alloc_order == order;
}

/* Does e belong to the pool's allocator?  true for pools with other
 * allocators (nothing to check against). */
static bool element_owned(const mempool_t *pool, const void *e)
{
	if (!e)
		return false;
	if (pool->alloc == mempool_alloc_slab)
		return slab_object_owned(pool->pool_data, e);
	if (pool->alloc == mempool_kmalloc)
		return kmalloc_object_owned((size_t)(uintptr_t)pool->pool_data, e);
	if (pool->alloc == mempool_alloc_pages)
		return page_block_owned((unsigned int)(uintptr_t)pool->pool_data, e);
	return true;
}

/* Are the F (sanity check) debug checks on for this pool? */
static bool pool_debug_checks(const mempool_t *pool)
{
	const char *filter = kmm.cfg.slab_debug_cache;
	bool f = (kmm.cfg.slab_debug & SLAB_DEBUG_F) != 0;
	if (pool->alloc == mempool_alloc_slab) {
		const struct kmem_cache *s = pool->pool_data;
		return (s->flags & SLAB_CONSISTENCY_CHECKS) || (f && (!filter[0] || !kmm_strcmp(filter, s->name)));
	}
	if (pool->alloc == mempool_kmalloc)
		return f && (!filter[0] || !kmm_strncmp(filter, "kmalloc", 7));
	return f && !filter[0];
}

static const char *pool_kind(const mempool_t *pool)
{
	if (pool->alloc == mempool_alloc_slab)
		return "slab";
	if (pool->alloc == mempool_kmalloc)
		return "kmalloc";
	if (pool->alloc == mempool_alloc_pages)
		return "page";
	return "custom";
}

/* ------------------------------------------------------------------ */
/* The reserve                                                         */
/* ------------------------------------------------------------------ */

/* Lock held; curr_nr < max(min_nr, 1).  curr_nr is stored atomically:
 * mempool_free peeks at it without the lock. */
static void add_element(mempool_t *pool, void *element)
{
	pool->elements[pool->curr_nr] = element;
	__atomic_store_n(&pool->curr_nr, pool->curr_nr + 1, __ATOMIC_RELEASE);
}

/* Lock held; curr_nr > 0.  The release store is Linux's smp_wmb() after
 * taking an element: paired with the acquire peek in mempool_free, the
 * curr_nr a freer sees is not older than the allocation of its element. */
static void *remove_element(mempool_t *pool)
{
	int nr = pool->curr_nr - 1;
	void *element = pool->elements[nr];
	__atomic_store_n(&pool->curr_nr, nr, __ATOMIC_RELEASE);
	if (nr < pool->min_curr)
		pool->min_curr = nr;
	return element;
}

/* One call of the allocator below, unless fail_mempool says no. */
static void *pool_alloc_element(mempool_t *pool, gfp_t gfp)
{
	if (unlikely(READ_ONCE(kmm.fault_armed))) {
		unsigned int order = pool->alloc == mempool_alloc_pages ? (unsigned int)(uintptr_t)pool->pool_data : 0;
		const char *cache = pool->alloc == mempool_alloc_slab ? ((struct kmem_cache *)pool->pool_data)->name : NULL;
		if (kmm_should_fail(&kmm.fail_mempool, gfp, order, cache))
			return NULL;
	}
	return pool->alloc(gfp, pool->pool_data);
}

/* Free everything a pool holds and the pool itself (no longer listed). */
static void free_pool(mempool_t *pool)
{
	while (pool->curr_nr) {
		void *element = remove_element(pool);
		pool->free(element, pool->pool_data);
	}
	kfree(pool->elements);
	pool->magic = 0;
	kmm_plat_lock_destroy(&pool->lock);
	kmm_plat_waitq_destroy(&pool->wait);
	kfree(pool->mem);
}

/* ------------------------------------------------------------------ */
/* Create, destroy, resize                                             */
/* ------------------------------------------------------------------ */

/**
 * mempool_create - a pool that guarantees min_nr elements.
 * @min_nr: elements preallocated (>= 0)
 * @alloc_fn: the element allocator (called with gfp and pool_data)
 * @free_fn: its counterpart
 * @pool_data: passed to both
 * Context: may sleep (GFP_KERNEL for the descriptor and the elements).
 * Return: the pool, or NULL when anything could not be allocated (nothing
 * is left behind) or an argument is bad.
 */
mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn, void *pool_data)
{
	if (!kmm.booted || min_nr < 0 || !alloc_fn || !free_fn)
		return NULL;
	void *mem = kzalloc(sizeof(mempool_t) + MEMPOOL_DESC_ALIGN, GFP_KERNEL);
	if (!mem)
		return NULL;
	mempool_t *pool = (mempool_t *)ALIGN_UP((uintptr_t)mem, MEMPOOL_DESC_ALIGN);
	pool->mem = mem;
	pool->elements = kmalloc_array(min_nr > 0 ? (size_t)min_nr : 1, sizeof(void *), GFP_KERNEL);
	if (!pool->elements) {
		kfree(mem);
		return NULL;
	}
	pool->magic = MEMPOOL_MAGIC;
	pool->min_nr = min_nr;
	pool->pool_data = pool_data;
	pool->alloc = alloc_fn;
	pool->free = free_fn;
	kmm_plat_lock_init(&pool->lock);
	kmm_plat_waitq_init(&pool->wait);
	INIT_LIST_HEAD(&pool->list);

	/* First pre-allocate the guaranteed number of elements. */
	while (pool->curr_nr < pool->min_nr) {
		void *element = pool_alloc_element(pool, GFP_KERNEL);
		if (unlikely(!element)) {
			free_pool(pool);
			return NULL;
		}
		add_element(pool, element);
	}
	pool->min_curr = pool->curr_nr;
	mempool_layer_register();
	kmm_lock(&pool_list_lock, KMM_LC_MEMPOOL_LIST);
	list_add_tail(&pool->list, &mempool_list);
	kmm_unlock(&pool_list_lock);
	return pool;
}

/**
 * mempool_destroy - free a pool's reserve and the pool.
 * @pool: a pool from mempool_create, or NULL (nothing happens)
 * Context: may sleep (free_fn).  Every element should be back.
 * Misuse: elements still out are reported as "mempool elements
 * outstanding" (the pool is freed anyway: the outstanding elements stay
 * the caller's, to free with the allocator below); a pointer that is not
 * a live pool is reported as "invalid free" and left alone.
 */
void mempool_destroy(mempool_t *pool)
{
	if (!pool)
		return;
	bool live = false;
	kmm_lock(&pool_list_lock, KMM_LC_MEMPOOL_LIST);
	struct list_head *pos;
	if (layer_gen == kmm.boot_gen && kmm.booted) {
		list_for_each(pos, &mempool_list) {
			if (list_entry(pos, mempool_t, list) == pool) {
				live = true;
				list_del_init(&pool->list);
				break;
			}
		}
	}
	kmm_unlock(&pool_list_lock);
	if (!live) {
		kmm_error("invalid free", "mempool_destroy(%p): not a live mempool", (void *)pool);
		return;
	}
	long out = __atomic_load_n(&pool->outstanding, __ATOMIC_RELAXED);
	if (out > 0)
		kmm_error("mempool elements outstanding", "mempool %p (%s, min_nr %d): %ld element%s still allocated",
			  (void *)pool, pool_kind(pool), pool->min_nr, out, out == 1 ? "" : "s");
	free_pool(pool);
}

/**
 * mempool_resize - change the guaranteed number of elements.
 * @pool: the pool
 * @new_min_nr: the new minimum (> 0)
 * Context: may sleep (GFP_KERNEL); do not call it while elements are
 * being allocated from the pool by the same thread's caller chain.
 * Return: 0; -EINVAL for new_min_nr <= 0; -ENOMEM when the new element
 * array cannot be allocated (the pool is unchanged).  Growing allocates
 * the new elements with GFP_KERNEL and stops quietly when that fails.
 */
int mempool_resize(mempool_t *pool, int new_min_nr)
{
	if (!pool || new_min_nr <= 0)
		return -KMM_EINVAL;

	kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
	if (new_min_nr <= pool->min_nr) {
		while (new_min_nr < pool->curr_nr) {
			void *element = remove_element(pool);
			kmm_unlock(&pool->lock);
			pool->free(element, pool->pool_data);
			kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		}
		WRITE_ONCE(pool->min_nr, new_min_nr);	/* mempool_free peeks at it */
		if (pool->min_curr > pool->curr_nr)
			pool->min_curr = pool->curr_nr;
		kmm_unlock(&pool->lock);
		return 0;
	}
	kmm_unlock(&pool->lock);

	/* Grow the pool */
	void **new_elements = kmalloc_array((size_t)new_min_nr, sizeof(void *), GFP_KERNEL);
	if (!new_elements)
		return -KMM_ENOMEM;

	kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
	if (unlikely(new_min_nr <= pool->min_nr)) {
		/* Raced, other resize will do our work */
		kmm_unlock(&pool->lock);
		kfree(new_elements);
		return 0;
	}
	kmm_memcpy(new_elements, pool->elements, (size_t)pool->curr_nr * sizeof(void *));
	void **old = pool->elements;
	pool->elements = new_elements;
	WRITE_ONCE(pool->min_nr, new_min_nr);
	kmm_unlock(&pool->lock);
	kfree(old);	/* freed outside the leaf lock */

	kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
	while (pool->curr_nr < pool->min_nr) {
		kmm_unlock(&pool->lock);
		void *element = pool_alloc_element(pool, GFP_KERNEL);
		if (!element)
			return 0;	/* later frees top the reserve up */
		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		if (pool->curr_nr < pool->min_nr) {
			add_element(pool, element);
		} else {
			kmm_unlock(&pool->lock);
			pool->free(element, pool->pool_data);	/* Raced */
			return 0;
		}
	}
	kmm_unlock(&pool->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Alloc and free                                                      */
/* ------------------------------------------------------------------ */

static void *handed_out(mempool_t *pool, void *element)
{
	__atomic_add_fetch(&pool->outstanding, 1, __ATOMIC_RELAXED);
	return element;
}

/**
 * mempool_alloc - an element from the allocator below, else from the reserve.
 * @pool: the pool
 * @gfp: GFP_KERNEL-like (may sleep: never fails) or GFP_ATOMIC/GFP_NOWAIT
 *       (never sleeps: NULL when the allocator and the reserve are empty);
 *       __GFP_ZERO is not supported (warned and ignored, as Linux warns)
 * Context: sleeps only with __GFP_DIRECT_RECLAIM, in rounds of at most 5 s
 * on the pool's wait queue; the caller holds no kmm lock.
 * Return: an element, or NULL (only without __GFP_DIRECT_RECLAIM).
 */
void *mempool_alloc(mempool_t *pool, gfp_t gfp)
{
	void *element;
	gfp_t gfp_temp;

	if (unlikely(!pool))
		return NULL;
	if (unlikely(gfp & __GFP_ZERO)) {
		kmm_warn_ratelimited("kmm: mempool_alloc: __GFP_ZERO is not supported (ignored)");
		gfp &= ~__GFP_ZERO;
	}
	gfp |= __GFP_NOMEMALLOC;	/* don't allocate emergency reserves */
	gfp |= __GFP_NORETRY;		/* don't loop in the allocator below */
	gfp |= __GFP_NOWARN;		/* failures are OK */
	gfp_temp = gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);

	for (;;) {
		element = pool_alloc_element(pool, gfp_temp);
		if (likely(element))
			return handed_out(pool, element);

		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		if (likely(pool->curr_nr)) {
			element = remove_element(pool);	/* smp_wmb() inside */
			kmm_unlock(&pool->lock);
			__atomic_add_fetch(&pool->nr_from_reserve, 1, __ATOMIC_RELAXED);
			return handed_out(pool, element);
		}

		/* We must not sleep before trying the allocator with the
		 * full mask: retry at once, reclaim allowed. */
		if (gfp_temp != gfp) {
			kmm_unlock(&pool->lock);
			gfp_temp = gfp;
			continue;
		}

		/* We must not sleep if !__GFP_DIRECT_RECLAIM */
		if (!(gfp & __GFP_DIRECT_RECLAIM)) {
			kmm_unlock(&pool->lock);
			__atomic_add_fetch(&pool->nr_fail, 1, __ATOMIC_RELAXED);
			return NULL;
		}

		/* Wait for a mempool_free, at most 5 s: the element may also
		 * come back to the allocator below instead of the pool. */
		unsigned long gen = kmm_plat_wait_prepare(&pool->wait);
		pool->waiters++;
		__atomic_add_fetch(&pool->nr_wait, 1, __ATOMIC_RELAXED);
		kmm_unlock(&pool->lock);
		kmm_plat_wait(&pool->wait, gen, MEMPOOL_WAIT_NS);
		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		pool->waiters--;
		kmm_unlock(&pool->lock);
	}
}

/* Lock held on entry, dropped on return: the element went into the
 * reserve; wake the sleepers. */
static void refill_and_wake(mempool_t *pool, void *element)
{
	add_element(pool, element);
	bool wake = pool->waiters > 0;
	kmm_unlock(&pool->lock);
	__atomic_sub_fetch(&pool->outstanding, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&pool->nr_refill, 1, __ATOMIC_RELAXED);
	if (wake)
		kmm_plat_wake_all(&pool->wait);
}

/**
 * mempool_free - give an element back: to the reserve while it is below
 * min_nr (waking the sleepers), else to the allocator below.
 * @element: from mempool_alloc of this pool, or NULL (ignored)
 * @pool: the pool
 * Context: never sleeps unless free_fn does.
 * Misuse (slab_debug=F): an element the pool's allocator does not own is
 * reported as "mempool foreign element" and kept out of circulation.
 */
void mempool_free(void *element, mempool_t *pool)
{
	if (unlikely(element == NULL))
		return;
	if (unlikely(!pool)) {
		kmm_error("mempool foreign element", "mempool_free(%p, NULL): no pool", element);
		return;
	}
	if (unlikely(pool_debug_checks(pool)) && !element_owned(pool, element)) {
		kmm_error("mempool foreign element", "mempool %p (%s%s%s): element %p was not allocated by its allocator",
			  (void *)pool, pool_kind(pool), pool->alloc == mempool_alloc_slab ? " " : "",
			  pool->alloc == mempool_alloc_slab ? ((struct kmem_cache *)pool->pool_data)->name : "",
			  element);
		return;
	}

	/*
	 * The acquire load is Linux's smp_rmb(), paired with the release store
	 * in remove_element: the curr_nr seen here is not older than the one
	 * at the allocation of this element.  When curr_nr + outstanding ==
	 * min_nr, this test sees curr_nr < min_nr, so a waiter is always woken.
	 */
	if (unlikely(__atomic_load_n(&pool->curr_nr, __ATOMIC_ACQUIRE) < READ_ONCE(pool->min_nr))) {
		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		if (likely(pool->curr_nr < pool->min_nr)) {
			refill_and_wake(pool, element);
			return;
		}
		kmm_unlock(&pool->lock);
	}

	/* [6.x] a pool with min_nr 0 keeps one element for forward progress */
	if (unlikely(READ_ONCE(pool->min_nr) == 0 && __atomic_load_n(&pool->curr_nr, __ATOMIC_ACQUIRE) == 0)) {
		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		if (likely(pool->curr_nr == 0)) {
			refill_and_wake(pool, element);
			return;
		}
		kmm_unlock(&pool->lock);
	}

	__atomic_sub_fetch(&pool->outstanding, 1, __ATOMIC_RELAXED);
	pool->free(element, pool->pool_data);
}

/* ------------------------------------------------------------------ */
/* Helper pools                                                        */
/* ------------------------------------------------------------------ */

/* A pool of objects of cache s (pool_data = s). */
void *mempool_alloc_slab(gfp_t gfp, void *pool_data)
{
	return kmem_cache_alloc(pool_data, gfp);
}

void mempool_free_slab(void *element, void *pool_data)
{
	kmem_cache_free(pool_data, element);
}

/* A pool of kmalloc objects (pool_data = the size). */
void *mempool_kmalloc(gfp_t gfp, void *pool_data)
{
	return kmalloc((size_t)(uintptr_t)pool_data, gfp);
}

void mempool_kfree(void *element, void *pool_data)
{
	(void)pool_data;
	kfree(element);
}

/* A pool of 2^order page blocks (pool_data = the order); elements are
 * struct page *. */
void *mempool_alloc_pages(gfp_t gfp, void *pool_data)
{
	return alloc_pages(gfp, (unsigned int)(uintptr_t)pool_data);
}

void mempool_free_pages(void *element, void *pool_data)
{
	__free_pages(element, (unsigned int)(uintptr_t)pool_data);
}

/** mempool_create_slab_pool - min_nr objects of cache s. */
mempool_t *mempool_create_slab_pool(int min_nr, struct kmem_cache *s)
{
	if (!s)
		return NULL;
	return mempool_create(min_nr, mempool_alloc_slab, mempool_free_slab, s);
}

/** mempool_create_kmalloc_pool - min_nr kmalloc objects of size bytes. */
mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size)
{
	if (!size)
		return NULL;
	return mempool_create(min_nr, mempool_kmalloc, mempool_kfree, (void *)(uintptr_t)size);
}

/** mempool_create_page_pool - min_nr blocks of 2^order pages (struct page *). */
mempool_t *mempool_create_page_pool(int min_nr, int order)
{
	if (order < 0 || order > MAX_PAGE_ORDER)
		return NULL;
	return mempool_create(min_nr, mempool_alloc_pages, mempool_free_pages, (void *)(uintptr_t)order);
}

/* ------------------------------------------------------------------ */
/* Layer: check and shutdown                                           */
/* ------------------------------------------------------------------ */

static int mempool_check(void)
{
	int err = 0;
	kmm_lock(&pool_list_lock, KMM_LC_MEMPOOL_LIST);
	struct list_head *pos;
	list_for_each(pos, &mempool_list) {
		mempool_t *pool = list_entry(pos, mempool_t, list);
		kmm_lock(&pool->lock, KMM_LC_MEMPOOL);
		int cap = pool->min_nr > 0 ? pool->min_nr : 1;
		if (pool->magic != MEMPOOL_MAGIC)
			err = kmm_check_fail("mempool", "pool %p: magic %#x", (void *)pool, pool->magic);
		else if (pool->curr_nr < 0 || pool->curr_nr > cap)
			err = kmm_check_fail("mempool", "pool %p (%s): curr_nr %d, min_nr %d", (void *)pool,
					     pool_kind(pool), pool->curr_nr, pool->min_nr);
		else if (__atomic_load_n(&pool->outstanding, __ATOMIC_RELAXED) < 0)
			err = kmm_check_fail("mempool", "pool %p (%s): %ld elements outstanding", (void *)pool,
					     pool_kind(pool), pool->outstanding);
		for (int i = 0; !err && i < pool->curr_nr; i++)
			if (!element_owned(pool, pool->elements[i]))
				err = kmm_check_fail("mempool", "pool %p (%s): reserve element %d (%p) is not the pool's",
						     (void *)pool, pool_kind(pool), i, pool->elements[i]);
		kmm_unlock(&pool->lock);
		if (err)
			break;
	}
	kmm_unlock(&pool_list_lock);
	return err;
}

/* Shutdown: report pools never destroyed, then free them. */
static void mempool_shutdown(void)
{
	while (!list_empty(&mempool_list)) {
		mempool_t *pool = list_first_entry(&mempool_list, mempool_t, list);
		list_del_init(&pool->list);
		kmm_log("kmm: shutdown: mempool %p (%s, min_nr %d, %d in reserve, %ld outstanding) was not destroyed",
			(void *)pool, pool_kind(pool), pool->min_nr, pool->curr_nr, pool->outstanding);
		free_pool(pool);
	}
	kmm_plat_lock_destroy(&pool_list_lock);
	list_lock_live = false;
	layer_gen = 0;
}

static const struct kmm_layer_ops mempool_layer = {
	.name = "mempool",
	.check = mempool_check,
	.shutdown = mempool_shutdown,
};

/*
 * The layer registers at the first pool of a boot, not at boot: pools are
 * built on slab, so their shutdown must run before slab's, and layers shut
 * down in reverse registration order.
 */
static void mempool_layer_register(void)
{
	kmm_lock(&pool_list_lock, KMM_LC_MEMPOOL_LIST);
	if (layer_gen != kmm.boot_gen) {
		layer_gen = kmm.boot_gen;
		kmm_register_layer(&mempool_layer);
	}
	kmm_unlock(&pool_list_lock);
}

/* mempool_init - at boot: the empty list of pools. */
int mempool_init(void)
{
	/* a boot that created no pool never registered the layer, so its
	 * shutdown did not destroy the lock: do it now */
	if (list_lock_live)
		kmm_plat_lock_destroy(&pool_list_lock);
	INIT_LIST_HEAD(&mempool_list);
	kmm_plat_lock_init(&pool_list_lock);
	list_lock_live = true;
	layer_gen = 0;
	return 0;
}

/*
 * kmm_mempool_fork - fork.c's hook (fork.h): pool_list_lock, then every
 * pool's lock in list order (one thread takes them all, always in that
 * order, so no cycle forms with single-lock holders); the child
 * re-initialises them and the pools' wait queues.
 */
void kmm_mempool_fork(enum kmm_fork_phase phase)
{
	struct list_head *pos;
	if (!list_lock_live)
		return;
	if (phase == KMM_FORK_PREPARE)
		kmm_plat_lock(&pool_list_lock);
	list_for_each(pos, &mempool_list) {
		mempool_t *pool = list_entry(pos, mempool_t, list);
		if (phase == KMM_FORK_PREPARE) {
			kmm_plat_lock(&pool->lock);
		} else if (phase == KMM_FORK_PARENT) {
			kmm_plat_unlock(&pool->lock);
		} else {
			kmm_plat_lock_init(&pool->lock);
			kmm_plat_waitq_init(&pool->wait);
		}
	}
	if (phase == KMM_FORK_PARENT)
		kmm_plat_unlock(&pool_list_lock);
	else if (phase == KMM_FORK_CHILD)
		kmm_plat_lock_init(&pool_list_lock);
}
