/*
 * kmalloc.c - the general-purpose allocator: kmalloc and its family on top
 * of the kmalloc size-class caches (SLAB) or SLOB's blocks, with the large
 * sizes straight from the page allocator.
 *
 * 1. Overview (REFERENCE.md section 8)
 *    kmalloc(size, gfp):
 *      - 0 -> ZERO_SIZE_PTR ((void *)16: faults on access, kfree accepts it);
 *      - up to the backend's small limit -> the backend (SLAB: the size
 *        class cache from size_index / fls; SLOB: its own blocks);
 *      - up to KMALLOC_MAX_SIZE (4 MiB, the largest buddy block) -> pages
 *        of order get_order(size), compound (__GFP_COMP), the head marked
 *        PG_large_kmalloc (its order is the head's alloc_order);
 *      - larger -> NULL and a rate-limited warning unless __GFP_NOWARN.
 *    kfree looks the pointer up in kmm's own metadata before touching it:
 *    linear map?  PG_slab page (the backend frees it)?  head of a large
 *    kmalloc (an interior pointer is reported)?  Anything else is an
 *    "invalid free" (or a "double free" when it names a page already free).
 *
 * 2. Size classes (which Linux)
 *    profile=classic: the 2.6 SLAB table "size-32" ... "size-131072" with
 *    96 and 192, and the DMA twins "size-N(DMA)" (ULK3's 26 caches; 32 is
 *    KMALLOC_MIN_SIZE for SLAB).  profile=modern: [6.x] "kmalloc-8" ...
 *    "kmalloc-8k" with 96 and 192, twins "dma-kmalloc-N", the 6.x names
 *    (kmalloc-1k, -2k, -4k, -8k).  Above the largest class both profiles go
 *    to the page allocator (2.6.11 failed above 131072 instead; kmm keeps
 *    one rule).  Selection [2.6.23+]: size_index[(size - 1) / 8] up to 192
 *    (so 65..96 -> 96 and 129..192 -> 192), fls(size - 1) above.  Classes
 *    of a power-of-two size are naturally aligned [5.4+].  Either way
 *    ksize(kmalloc(100)) == 128.
 *    The DMA twins exist only on a machine with a DMA zone (some node has
 *    one populated), as Linux [2.6.21+ and 6.x] makes them only with
 *    CONFIG_ZONE_DMA.  Without one, Linux serves GFP_DMA from the normal
 *    caches (its __GFP_DMA means nothing then); kmm keeps its page
 *    allocator's rule instead (GFP_DMA memory comes from a DMA zone or not
 *    at all): kmalloc(GFP_DMA) finds no cache and fails, as it did before
 *    when the twins existed but could not grow.  The malloc shim boots
 *    without a DMA zone (it never asks for GFP_DMA), so its machine does
 *    not make 13 caches nothing would use.
 *
 * 3. Invariants
 *    - kmalloc_caches[t][i] is NULL or a live cache of object size
 *      kmalloc_size(i) (the table is filled at boot and never changes).
 *    - A large kmalloc block's head is PG_head (order > 0) and
 *      PG_large_kmalloc; PG_large_kmalloc is cleared before it is freed.
 *
 * 4. Locks: none here; the backends and the page allocator take theirs.
 *
 * 5. Failure
 *    Allocators return NULL (kmalloc_array / kcalloc on n * size overflow
 *    too, silently).  krealloc leaves p valid when it fails.  Misuse on
 *    free is reported through kmm_error and follows on_error=.
 */
#include "slab.h"
#include <kmm/vmalloc.h>	/* kvmalloc / kvfree fall back on vmalloc */

#define KMALLOC_SHIFT_HIGH_CLASSIC 17			/* size-131072 */
#define KMALLOC_SHIFT_HIGH_MODERN (PAGE_SHIFT + 1)	/* kmalloc-8k */
#define KMALLOC_SHIFT_LOW_CLASSIC 5			/* size-32 (KMALLOC_MIN_SIZE of SLAB) */
#define KMALLOC_SHIFT_LOW_MODERN 3			/* kmalloc-8 */
#define KMALLOC_TABLE_SIZE (KMALLOC_SHIFT_HIGH_CLASSIC + 1)

enum kmalloc_cache_type { KMALLOC_NORMAL, KMALLOC_DMA, NR_KMALLOC_TYPES };

static struct kmem_cache *kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_TABLE_SIZE];
static unsigned int kmalloc_shift_low, kmalloc_shift_high;

/* [6.x] size_index: cache index for sizes 1..192 by (size - 1) / 8; index 1
 * is the 96-byte class, 2 the 192-byte one, others log2 of the size. */
static unsigned char size_index[24];
static const unsigned char size_index_init[24] = {
	3, 4, 5, 5, 6, 6, 6, 6,	/* 8 16 24 32 40 48 56 64 */
	1, 1, 1, 1,		/* 72 80 88 96 */
	7, 7, 7, 7,		/* 104 .. 128 */
	2, 2, 2, 2, 2, 2, 2, 2,	/* 136 .. 192 */
};

static inline unsigned int kmalloc_index(size_t size)
{
	return size <= 192 ? size_index[(size - 1) / 8] : (unsigned int)kmm_fls(size - 1);
}

static inline unsigned int kmalloc_size(unsigned int index)
{
	return index == 1 ? 96 : index == 2 ? 192 : 1U << index;
}

size_t kmalloc_max_cache_size(void)
{
	return (size_t)1 << (kmm.cfg.profile == PROFILE_MODERN ? KMALLOC_SHIFT_HIGH_MODERN : KMALLOC_SHIFT_HIGH_CLASSIC);
}

struct kmem_cache *kmalloc_slab(size_t size, gfp_t gfp)
{
	if (!size || size > ((size_t)1 << kmalloc_shift_high) || !kmalloc_shift_high)
		return NULL;
	return kmalloc_caches[(gfp & __GFP_DMA) ? KMALLOC_DMA : KMALLOC_NORMAL][kmalloc_index(size)];
}

/* "size-4096" / "size-4096(DMA)" classic; "kmalloc-4k" / "dma-kmalloc-4k" modern */
static void kmalloc_name(char *buf, size_t len, unsigned int size, int type)
{
	if (kmm.cfg.profile == PROFILE_MODERN) {
		const char *prefix = type == KMALLOC_DMA ? "dma-kmalloc-" : "kmalloc-";
		if (size >= 1024 && !(size & 1023))
			kmm_snprintf(buf, len, "%s%uk", prefix, size >> 10);
		else
			kmm_snprintf(buf, len, "%s%u", prefix, size);
	} else {
		kmm_snprintf(buf, len, "size-%u%s", size, type == KMALLOC_DMA ? "(DMA)" : "");
	}
}

/* The classes in ascending size, so each off-slab descriptor finds its
 * (smaller) kmalloc cache already made. */
static int create_kmalloc_caches(int type)
{
	for (unsigned int shift = kmalloc_shift_low; shift <= kmalloc_shift_high; shift++) {
		unsigned int idx[3] = { shift, 0, 0 }, n = 1;
		if (shift == 7)		/* 96 sorts between 64 and 128 */
			idx[0] = 1, idx[1] = 7, n = 2;
		if (shift == 8)		/* 192 between 128 and 256 */
			idx[0] = 2, idx[1] = 8, n = 2;
		for (unsigned int k = 0; k < n; k++) {
			unsigned int size = kmalloc_size(idx[k]);
			unsigned int align = (size & (size - 1)) ? 0 : (size < PAGE_SIZE ? size : PAGE_SIZE);
			char name[KMEM_CACHE_NAME_LEN];
			kmalloc_name(name, sizeof(name), size, type);
			struct kmem_cache *s = kmm_create_kmalloc_cache(name, size, align,
									type == KMALLOC_DMA ? SLAB_CACHE_DMA : 0);
			if (!s)
				return -KMM_ENOMEM;
			kmalloc_caches[type][idx[k]] = s;
		}
	}
	return 0;
}

/* Is ZONE_DMA populated on some node?  (CONFIG_ZONE_DMA for the twins.) */
static bool machine_has_dma_zone(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		if (populated_zone(&NODE_DATA(nid)->node_zones[ZONE_DMA]))
			return true;
	return false;
}

/*
 * kmalloc_init - at boot after slab_common_init: the size-class table,
 * and the caches when the backend serves kmalloc from caches (SLAB).
 */
int kmalloc_init(void)
{
	int err = 0;
	kmm_memset(kmalloc_caches, 0, sizeof(kmalloc_caches));
	kmm_memcpy(size_index, size_index_init, sizeof(size_index));
	bool modern = kmm.cfg.profile == PROFILE_MODERN;
	kmalloc_shift_low = modern ? KMALLOC_SHIFT_LOW_MODERN : KMALLOC_SHIFT_LOW_CLASSIC;
	kmalloc_shift_high = modern ? KMALLOC_SHIFT_HIGH_MODERN : KMALLOC_SHIFT_HIGH_CLASSIC;
	/* setup_kmalloc_cache_index_table: sizes below the smallest class use it */
	for (unsigned int sz = 8; sz < (1U << kmalloc_shift_low); sz += 8)
		size_index[(sz - 1) / 8] = (unsigned char)kmalloc_shift_low;
	if (!kmm_slab_ops->kmalloc_caches)
		return 0;
	err = create_kmalloc_caches(KMALLOC_NORMAL);
	if (!err && machine_has_dma_zone())
		err = create_kmalloc_caches(KMALLOC_DMA);
	if (!err && kmm_slab_ops->late_init)
		err = kmm_slab_ops->late_init();
	return err;
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/* Large kmalloc: a compound block from the page allocator (never highmem). */
static void *kmalloc_large(size_t size, gfp_t gfp, int nid)
{
	if (size > KMALLOC_MAX_SIZE) {
		if (!(gfp & __GFP_NOWARN))
			kmm_warn_ratelimited("kmm: kmalloc: %zu bytes is above KMALLOC_MAX_SIZE (%lu): mode:%#x",
					     size, KMALLOC_MAX_SIZE, gfp);
		return NULL;
	}
	unsigned int order = kmm_get_order(size, PAGE_SHIFT);
	struct page *page = alloc_pages_node(nid, (gfp & ~(__GFP_HIGHMEM | __GFP_MOVABLE)) | __GFP_COMP, order);
	if (!page)
		return NULL;
	SetPageLargeKmalloc(page);
	return page_address(page);
}

static void *do_kmalloc(size_t size, gfp_t gfp, int nid, void *caller)
{
	if (unlikely(!kmm.booted || !kmm_slab_ops))
		return NULL;
	if (unlikely(!size))
		return ZERO_SIZE_PTR;
	if (likely(size <= kmm_slab_ops->kmalloc_max_small())) {
		if (unlikely(kmm.fault_armed)) {
			struct kmem_cache *s = kmm_slab_ops->kmalloc_caches ? kmalloc_slab(size, gfp) : NULL;
			if (kmm_should_fail(&kmm.failslab, gfp, 0, s ? s->name : NULL))
				return NULL;
		}
		return kmm_slab_ops->kmalloc_small(size, gfp, nid, caller);
	}
	return kmalloc_large(size, gfp, nid);
}

/**
 * kmalloc - @size bytes of kernel memory
 * @gfp: GFP_KERNEL (may sleep), GFP_ATOMIC (never sleeps, may use the
 *       reserve), __GFP_DMA (the DMA class), __GFP_ZERO, __GFP_NOWARN ...
 * Return: the memory, ZERO_SIZE_PTR for 0 bytes, or NULL.
 */
void *kmalloc(size_t size, gfp_t gfp) { return do_kmalloc(size, gfp, -1, kmm_caller()); }
void *kzalloc(size_t size, gfp_t gfp) { return do_kmalloc(size, gfp | __GFP_ZERO, -1, kmm_caller()); }
void *kmalloc_node(size_t size, gfp_t gfp, int nid) { return do_kmalloc(size, gfp, nid, kmm_caller()); }
void *kzalloc_node(size_t size, gfp_t gfp, int nid) { return do_kmalloc(size, gfp | __GFP_ZERO, nid, kmm_caller()); }

/* kmalloc_array - n * size bytes; NULL (and nothing allocated) on overflow. */
void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return do_kmalloc(bytes, gfp, -1, kmm_caller());
}

void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return do_kmalloc(bytes, gfp | __GFP_ZERO, -1, kmm_caller());
}

/* ------------------------------------------------------------------ */
/* Freeing and sizing                                                  */
/* ------------------------------------------------------------------ */

/*
 * kmm_page_is_free - is the frame in a free block (buddy lists or a
 * per-CPU list)?  A pointer into such memory names memory freed earlier:
 * a late double free (its slab went back meanwhile) or a stale pointer.
 * Reads the descriptors without the zone lock: a diagnosis, not a fact
 * anyone relies on.
 */
bool kmm_page_is_free(const struct page *page)
{
	unsigned long pfn = kmm_page_to_pfn(page);
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER; o++) {
		const struct page *h = kmm_pfn_to_page(pfn & ~((1UL << o) - 1));
		unsigned long flags = READ_ONCE(h->flags);
		if ((flags & (1UL << PG_buddy)) && READ_ONCE(h->private) == o)
			return true;
		if ((flags & (1UL << PG_pcp)) && READ_ONCE(h->pcp_order) == o)
			return true;
	}
	return false;
}

/* Where a non-NULL pointer from kmalloc points, checked in kmm's own
 * metadata only (the pointer itself is never read). */
enum kmalloc_kind { KM_SLAB, KM_LARGE, KM_LARGE_INTERIOR, KM_FREE_PAGE, KM_FOREIGN };

static enum kmalloc_kind kmalloc_lookup(const void *p, struct page **pagep)
{
	if (!kmm.booted || !kmm_slab_ops || !kmm_is_linear_addr(p))
		return KM_FOREIGN;	/* vmalloc addresses too: kvfree sends them to vfree */
	struct page *page = virt_to_page(p);
	if (PageSlab(page)) {
		*pagep = page;
		return KM_SLAB;
	}
	struct page *head = compound_head(page);
	*pagep = head;
	if (PageLargeKmalloc(head))
		return p == page_address(head) ? KM_LARGE : KM_LARGE_INTERIOR;
	if (kmm_page_is_free(page))
		return KM_FREE_PAGE;
	return KM_FOREIGN;
}

static void do_kfree(const void *p, void *caller, const char *fn)
{
	struct page *page = NULL;
	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return;
	switch (kmalloc_lookup(p, &page)) {
	case KM_SLAB:
		kmm_slab_ops->kfree_small(page, p, caller);
		return;
	case KM_LARGE:
		ClearPageLargeKmalloc(page);
		__free_pages(page, page->alloc_order);
		return;
	case KM_LARGE_INTERIOR:
		kmm_error("interior pointer", "%s(%p): offset %lu into the %lu-byte kmalloc block at %p", fn, p,
			  (unsigned long)((const char *)p - (const char *)page_address(page)),
			  PAGE_SIZE << page->alloc_order, page_address(page));
		return;
	case KM_FREE_PAGE:
		kmm_error("double free", "%s(%p): the memory is already free (pfn %lu is in a free block)", fn, p,
			  kmm_page_to_pfn(page));
		return;
	case KM_FOREIGN:
		break;
	}
	kmm_error("invalid free", "%s(%p): not memory from kmalloc", fn, p);
}

/**
 * kfree - free memory from kmalloc (or, [6.4+], kmem_cache_alloc)
 * @p: NULL and ZERO_SIZE_PTR are accepted and ignored
 * Misuse (a pointer kmm never handed out, an interior pointer, a double
 * free) is reported, never followed.  Context: any; never sleeps.
 */
void kfree(const void *p)
{
	do_kfree(p, kmm_caller(), "kfree");
}

/* Usable size, 0 for anything that is not a live kmalloc object. */
static size_t usable_size(const void *p, struct page **pagep)
{
	if (ZERO_OR_NULL_PTR(p))
		return 0;
	switch (kmalloc_lookup(p, pagep)) {
	case KM_SLAB:
		return kmm_slab_ops->ksize_small(*pagep, p);
	case KM_LARGE:
		return PAGE_SIZE << (*pagep)->alloc_order;
	default:
		return 0;
	}
}

/**
 * ksize - how many bytes @p really has (the size class, or the whole block
 * for a large kmalloc); all of them may be used ([6.x]: the kmalloc red
 * zone moves to the end).  Return: 0 for NULL, ZERO_SIZE_PTR or a pointer
 * that is not a live kmalloc object.
 */
size_t ksize(const void *p)
{
	struct page *page;
	size_t n = usable_size(p, &page);
	if (n && PageSlab(page)) {
		struct kmem_cache *s = kmm_slab_ops->page_cache(page);
		if (s)
			slab_debug_kmalloc_size(s, (void *)p, n);
	}
	return n;
}

/* kmalloc_size_roundup - the size kmalloc(size) really gives. */
size_t kmalloc_size_roundup(size_t size)
{
	if (!size || size > KMALLOC_MAX_SIZE || !kmm_slab_ops)
		return size;
	if (size <= kmm_slab_ops->kmalloc_max_small()) {
		if (!kmm_slab_ops->kmalloc_caches)
			return kmm_slab_ops->kmalloc_roundup(size);	/* SLOB: its block size */
		struct kmem_cache *s = kmalloc_slab(size, 0);
		return s ? s->object_size : size;
	}
	return PAGE_SIZE << kmm_get_order(size, PAGE_SHIFT);
}

/**
 * krealloc - resize @p to @new_size bytes
 * Reuses @p when @new_size fits its ksize; otherwise allocates, copies and
 * frees.  @new_size 0 frees @p and returns ZERO_SIZE_PTR; @p NULL or
 * ZERO_SIZE_PTR behaves as kmalloc.  A @p that is no live kmalloc object
 * is reported ("invalid realloc") and NULL returned.
 * Return: the memory, or NULL with @p left valid.
 */
void *krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	void *caller = kmm_caller();
	struct page *page;
	if (!new_size) {
		do_kfree(p, caller, "krealloc");
		return ZERO_SIZE_PTR;
	}
	if (ZERO_OR_NULL_PTR(p))
		return do_kmalloc(new_size, gfp, -1, caller);
	size_t ks = usable_size(p, &page);
	if (!ks) {
		kmm_error("invalid realloc", "krealloc(%p, %zu): not a live kmalloc object", p, new_size);
		return NULL;
	}
	if (new_size <= ks) {
		if (PageSlab(page)) {
			struct kmem_cache *s = kmm_slab_ops->page_cache(page);
			if (s)
				slab_debug_kmalloc_size(s, (void *)p, new_size);
		}
		return (void *)p;
	}
	void *ret = do_kmalloc(new_size, gfp, -1, caller);
	if (!ret)
		return NULL;
	kmm_memcpy(ret, p, ks);
	do_kfree(p, caller, "krealloc");
	return ret;
}

/*
 * kmalloc_shutdown - at kmm_shutdown (the machine is quiet): name the
 * large kmallocs still allocated, in one "kmm: shutdown:" line, and give
 * their pages back.  The slab objects are listed per cache by the front.
 */
void kmalloc_shutdown(void)
{
	char list[8 * 20 + 8];
	size_t len = 0;
	unsigned long n = 0, pages = 0;
	list[0] = '\0';
	for (unsigned long pfn = 0; pfn < kmm.max_pfn; pfn++) {
		struct page *page = kmm_pfn_to_page(pfn);
		if (!PageLargeKmalloc(page))
			continue;
		if (n++ < 8)
			len += (size_t)kmm_snprintf(list + len, sizeof(list) - len, " %p", page_address(page));
		unsigned int order = page->alloc_order;
		pages += 1UL << order;
		ClearPageLargeKmalloc(page);
		__free_pages(page, order);
		pfn += (1UL << order) - 1;
	}
	if (n)
		kmm_log("kmm: shutdown: kmalloc: %lu large block%s (%lu pages) still allocated:%s%s", n,
			n == 1 ? "" : "s", pages, list, n > 8 ? " ..." : "");
}

/* ------------------------------------------------------------------ */
/* Strings, copies, kvmalloc                                           */
/* ------------------------------------------------------------------ */

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = do_kmalloc(len, gfp, -1, kmm_caller());
	if (p && !ZERO_OR_NULL_PTR(p))
		kmm_memcpy(p, src, len);
	return p;
}

char *kstrdup(const char *s, gfp_t gfp)
{
	if (!s)
		return NULL;
	size_t len = kmm_strlen(s) + 1;
	char *p = do_kmalloc(len, gfp, -1, kmm_caller());
	if (p)
		kmm_memcpy(p, s, len);
	return p;
}

char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
	if (!s)
		return NULL;
	size_t len = 0;
	while (len < max && s[len])
		len++;
	char *p = do_kmalloc(len + 1, gfp, -1, kmm_caller());
	if (p) {
		kmm_memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/**
 * kvmalloc - kmalloc, and for sizes above a page a fallback to vmalloc
 * when contiguous memory is short (or the size is above what kmalloc
 * serves).  [6.x] kvmalloc_node: the kmalloc try neither warns nor retries
 * hard; a request that may not sleep gets no fallback (vmalloc sleeps);
 * sizes above INT_MAX are refused.
 */
void *kvmalloc(size_t size, gfp_t gfp)
{
	void *caller = kmm_caller();
	if (size <= PAGE_SIZE)
		return do_kmalloc(size, gfp, -1, caller);
	void *p = do_kmalloc(size, gfp | __GFP_NOWARN | __GFP_NORETRY, -1, caller);
	if (p || !gfpflags_allow_blocking(gfp) || size > INT_MAX)
		return p;
	return kmm_vmalloc_caller(size, gfp, -1, caller);
}

void *kvzalloc(size_t size, gfp_t gfp)
{
	return kvmalloc(size, gfp | __GFP_ZERO);
}

/* kvfree - free memory from kvmalloc. */
void kvfree(const void *p)
{
	if (is_vmalloc_addr(p)) {
		vfree(p);
		return;
	}
	do_kfree(p, kmm_caller(), "kvfree");
}
