/*
 * kmm/page.h - page frames: descriptors, the zoned page frame allocator and
 * conversions between page descriptors, frame numbers and addresses.
 *
 * struct page is opaque to users: use the accessors below.  All functions
 * need a booted machine (kmm_boot); they return NULL / 0 before boot.
 */
#ifndef KMM_PAGE_H
#define KMM_PAGE_H

#include <stddef.h>
#include <kmm/gfp.h>

#ifndef KMM_PAGE_SHIFT
#define KMM_PAGE_SHIFT 12
#endif
#define PAGE_SHIFT      KMM_PAGE_SHIFT
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define PAGE_MASK       (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x)   (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define MAX_PAGE_ORDER  10
#define NR_PAGE_ORDERS  (MAX_PAGE_ORDER + 1)

struct page;

/*
 * alloc_pages - allocate 2^order physically contiguous page frames.
 * @gfp: zone, reclaim and mobility flags (kmm/gfp.h)
 * @order: 0 .. MAX_PAGE_ORDER
 * Context: may sleep when @gfp allows blocking (GFP_KERNEL); never sleeps for
 *          GFP_ATOMIC / GFP_NOWAIT.
 * Return: the first page descriptor, with refcount 1, or NULL.
 */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
/* alloc_pages_node - as alloc_pages, preferring node @nid (-1: the caller's
 * CPU slot's node); __GFP_THISNODE forbids other nodes. */
struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
struct page *alloc_page(gfp_t gfp);
/* __free_pages - drop a reference; at zero the 2^order frames go back. */
void __free_pages(struct page *page, unsigned int order);
void __free_page(struct page *page);
/* Linear (low memory) address variants: highmem is refused. */
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
unsigned long __get_free_page(gfp_t gfp);
unsigned long get_zeroed_page(gfp_t gfp);
void free_pages(unsigned long addr, unsigned int order);
void free_page(unsigned long addr);
/* alloc_pages_exact - PAGE_ALIGN(size) bytes; the unused tail of the
 * power-of-two block is given back at once. */
void *alloc_pages_exact(size_t size, gfp_t gfp);
void free_pages_exact(void *virt, size_t size);

void *page_address(const struct page *page);   /* NULL: unmapped highmem */
struct page *virt_to_page(const void *addr);   /* linear-map addresses */
struct page *pfn_to_page(unsigned long pfn);
unsigned long page_to_pfn(const struct page *page);
int page_to_nid(const struct page *page);
/* "DMA", "DMA32", "Normal", "HighMem", as /proc spells them */
const char *page_zone_name(const struct page *page);
int PageHighMem(const struct page *page);
void get_page(struct page *page);
void put_page(struct page *page);
int page_count(const struct page *page);
unsigned long nr_free_pages(void);
int numa_node_count(void);

/*
 * Shrinkers: callbacks the page allocator runs when a blocking request finds
 * no memory (direct reclaim).  As in Linux: count_objects returns how many
 * objects could be freed (0: nothing to do), scan_objects frees up to
 * sc->nr_to_scan of them and returns how many it freed, or SHRINK_STOP.
 */
struct shrink_control {
	gfp_t gfp_mask;
	int nid;
	unsigned long nr_to_scan;
	unsigned long nr_scanned;
};
#define SHRINK_STOP (~0UL - 1)
#define SHRINK_EMPTY (~0UL - 2)
#define DEFAULT_SEEKS 2
struct shrinker {
	unsigned long (*count_objects)(struct shrinker *, struct shrink_control *sc);
	unsigned long (*scan_objects)(struct shrinker *, struct shrink_control *sc);
	long batch;		/* objects per scan_objects call; 0: 128 */
	int seeks;
	unsigned int flags;
	void *private_data;
	/* kmm's own fields */
	const char *name;
	struct shrinker *next;
	int registered;
};
struct shrinker *shrinker_alloc(unsigned int flags, const char *name);
void shrinker_register(struct shrinker *s);
void shrinker_free(struct shrinker *s);

#endif /* KMM_PAGE_H */
