/*
 * large.c - the malloc shim's blocks beyond the size classes: large blocks
 * (a buddy block each, up to KMALLOC_MAX_SIZE) with the cache that keeps
 * freed ones for reuse, and huge blocks (vmalloc, beyond the largest buddy
 * block) with the header page in front of them.
 *
 * 1. Large blocks kept for reuse.  A large kmalloc (8 KiB .. 4 MiB) is a buddy
 * block of its own; freed, it would merge into bigger free blocks and the
 * buddy allocator, which knows nothing of which frames the host still
 * backs, would hand out never-touched (or given back) frames next, each
 * costing a page fault per page.  So freed large blocks stay here, per
 * order, for the next request of that order, up to LARGE_CACHE_BYTES in
 * all; a block freed into a full cache evicts the oldest cached blocks
 * (least recently freed, any order), which go back to the buddy allocator,
 * whose free page reporting returns big free blocks to the host;
 * malloc_trim empties it.  A cached block is still allocated for the core
 * (PG_large_kmalloc); its first words (struct lc_block) hold its order
 * list's links, a key and its age, so a free of a cached block is found
 * ("double free") by a search of its list.  One lock (a leaf,
 * held for a few instructions; taken across fork by the atfork handlers).
 *
 * 2. Huge blocks: vmalloc areas with one header page (struct huge_hdr:
 *    magic, the area's start, the usable bytes) just below the pointer;
 *    kmm_shim_huge_lookup recognises one by reading only memory the
 *    kernel page table maps.
 *
 * 3. Invariants: lc.count[o] is the length of order o's list, lc.bytes the
 *    bytes of every list, at most LARGE_CACHE_BYTES; a cached block's key
 *    word is lc.key (cleared when it leaves the cache).
 *
 * 4. Locks: lc.lock, a leaf (the core is called with it released); the
 *    atfork handlers take it across fork (kmm_shim_large_fork).
 */
#include <pthread.h>
#include <string.h>

#include <kmm/kmm.h>
#include <kmm/vmalloc.h>
#include "mm/internal.h"
#include "shim.h"

#ifndef LARGE_CACHE_BYTES
#define LARGE_CACHE_BYTES (32UL << 20)
#endif
#define LARGE_CACHE_PER_ORDER 64
struct lc_block {			/* the first words of a cached block */
	struct lc_block *older, *newer;	/* its order's list, newest at head */
	uintptr_t key;			/* lc.key while cached */
	unsigned long seq;		/* when it was cached (lc.seq) */
};
static struct {
	pthread_mutex_t lock;
	struct lc_block *head[MAX_PAGE_ORDER + 1], *tail[MAX_PAGE_ORDER + 1];
	unsigned int count[MAX_PAGE_ORDER + 1];
	unsigned long bytes, seq;
	uintptr_t key;
} lc = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Beyond the largest buddy block: vmalloc, a header page, the block
 * aligned to align (a power of two; <= PAGE_SIZE needs no slack). */
void *kmm_shim_huge_alloc(size_t size, size_t align)
{
	size_t slack = align > PAGE_SIZE ? align : 0, total;
	if (__builtin_add_overflow(size, PAGE_SIZE + slack, &total) || total > (size_t)ULONG_MAX - PAGE_SIZE)
		return NULL;
	total = ALIGN_UP(total, PAGE_SIZE);
	char *base = kmm_vmalloc_caller(total, SHIM_GFP, -1, kmm_caller());
	if (!base)
		return NULL;
	char *p = (char *)ALIGN_UP((uintptr_t)base + PAGE_SIZE, align > PAGE_SIZE ? align : PAGE_SIZE);
	struct huge_hdr *h = (struct huge_hdr *)(p - PAGE_SIZE);
	h->magic = SHIM_HUGE_MAGIC;
	h->base = base;
	h->usable = (size_t)(base + total - p);
	return p;
}

/* The header of a huge block, or NULL when p is not the start of one.
 * Reads only memory the kernel page table says is mapped. */
struct huge_hdr *kmm_shim_huge_lookup(const void *p)
{
	if (((uintptr_t)p & (PAGE_SIZE - 1)) || !is_vmalloc_addr(p) ||
	    (uintptr_t)p - PAGE_SIZE < (uintptr_t)kmm.vmalloc_start)
		return NULL;
	struct huge_hdr *h = (struct huge_hdr *)((const char *)p - PAGE_SIZE);
	if (!vmalloc_to_page(h) || h->magic != SHIM_HUGE_MAGIC)
		return NULL;
	return h;
}


/* Unlink b from its order's list.  lc.lock held. */
static void lc_unlink(struct lc_block *b, unsigned int order)
{
	if (b->newer)
		b->newer->older = b->older;
	else
		lc.head[order] = b->older;
	if (b->older)
		b->older->newer = b->newer;
	else
		lc.tail[order] = b->newer;
	lc.count[order]--;
	lc.bytes -= PAGE_SIZE << order;
	b->older = b->newer = NULL;
	b->key = 0;
	b->seq = 0;
}

/* A cached block of this order (the newest: its frames are the most
 * likely still backed and in the CPU caches), or NULL. */
static void *lc_get(unsigned int order)
{
	struct lc_block *b;
	if (!__atomic_load_n(&lc.count[order], __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&lc.lock);
	b = lc.head[order];
	if (b)
		lc_unlink(b, order);
	pthread_mutex_unlock(&lc.lock);
	return b;
}

/* The order whose oldest block is the oldest of all, or -1 (empty).
 * lc.lock held. */
static int lc_oldest_order(void)
{
	int best = -1;
	for (int o = 0; o <= MAX_PAGE_ORDER; o++)
		if (lc.tail[o] && (best < 0 || lc.tail[o]->seq < lc.tail[best]->seq))
			best = o;
	return best;
}

/*
 * Keep the large block p (the head address of an order-order block).
 * Room is made by evicting the oldest blocks (of this order when the
 * order's list is full, else of any order): a cache that refused new
 * blocks once full would keep the orders nobody asks for.  The evicted
 * blocks go back to the buddy allocator.  false: p is cached already
 * (reported as a double free; *reported set), or it alone exceeds the
 * budget (the caller frees it).
 */
bool kmm_shim_large_put(void *p, unsigned int order, const char *fn, bool *reported)
{
	struct lc_block *b = p, *evicted = NULL;
	unsigned long size = PAGE_SIZE << order;
	bool kept = false;
	*reported = false;
	pthread_mutex_lock(&lc.lock);
	if (b->key == lc.key) {
		for (struct lc_block *q = lc.head[order]; q; q = q->older)
			if (q == b) {
				*reported = true;
				break;
			}
	}
	if (!*reported && size <= LARGE_CACHE_BYTES) {
		while (lc.count[order] >= LARGE_CACHE_PER_ORDER || lc.bytes + size > LARGE_CACHE_BYTES) {
			int o = lc.count[order] >= LARGE_CACHE_PER_ORDER ? (int)order : lc_oldest_order();
			struct lc_block *old = lc.tail[o];
			lc_unlink(old, (unsigned int)o);
			old->older = evicted;	/* a private list, freed below */
			evicted = old;
		}
		b->older = lc.head[order];
		b->newer = NULL;
		if (b->older)
			b->older->newer = b;
		else
			lc.tail[order] = b;
		lc.head[order] = b;
		b->key = lc.key;
		b->seq = ++lc.seq;
		lc.count[order]++;
		lc.bytes += size;
		kept = true;
	}
	pthread_mutex_unlock(&lc.lock);
	while (evicted) {
		struct lc_block *next = evicted->older;
		evicted->older = NULL;
		kfree(evicted);
		evicted = next;
	}
	if (*reported)
		kmm_error("double free", "%s(%p): the %lu-byte block is already free (kept for reuse)", fn, p, size);
	return kept;
}

/* Every cached block back to the buddy allocator (malloc_trim). */
void kmm_shim_large_drain(void)
{
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER; o++) {
		void *p;
		while ((p = lc_get(o)) != NULL)
			kfree(p);
	}
}

/* A large kmalloc of n bytes (shim_large_min <= n <= KMALLOC_MAX_SIZE),
 * from the cache when it has that order. */
void *kmm_shim_large_alloc(size_t n, gfp_t gfp)
{
	void *p = lc_get(kmm_get_order(n, PAGE_SHIFT));
	if (p) {
		if (gfp & __GFP_ZERO)
			memset(p, 0, n);
		return p;
	}
	return kmalloc(n, gfp);
}

/* The key of cached blocks, from the shim's boot. */
void kmm_shim_large_init(uintptr_t key)
{
	lc.key = key;
}

/* fork: 0 prepare (take the lock), 1 parent (release), 2 child (re-init). */
void kmm_shim_large_fork(int phase)
{
	if (phase == 0)
		pthread_mutex_lock(&lc.lock);
	else if (phase == 1)
		pthread_mutex_unlock(&lc.lock);
	else
		pthread_mutex_init(&lc.lock, NULL);
}
