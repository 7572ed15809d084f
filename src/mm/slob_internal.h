/*
 * slob_internal.h - SLOB's private structures, its global state and the
 * helpers shared by slob.c (the block allocator, kmalloc and caches: the
 * allocation and free paths) and slob_check.c (verification for kmm_check,
 * slabinfo, counters, the leak listing).  Private to those two files.
 *
 * 1. Data structures
 *    struct page of a SLOB page (order 0, PG_slab):
 *      private     offset (units) of the first free block; SLOB_END when
 *                  the page is full
 *      page_aux    free units in the page (sp->units in Linux)
 *      page_aux2   SLOB_PG_SIG | SLOB_PG_BIG | SLOB_PG_BROKEN
 *      lru         link on free_slob_small/medium/large while PG_slob_free,
 *                  else on full or broken
 *      slab_cache  owner cache, NULL for kmalloc blocks
 *    A page of a big cache object (order >= 0, compound when > 0): PG_slab
 *    on the head, page_aux2 = SLOB_PG_SIG | SLOB_PG_BIG, slab_cache = cache,
 *    lru on the big list.
 *    Free block at unit offset off of a page, size in units:
 *      size > 1: word[0] = size, word[1] = offset of the next free block;
 *      size = 1: word[0] = -(offset of the next free block);
 *    the last block's next is SLOB_END, the offset of the page end.
 *    struct slob_cache: struct kmem_cache first, then SLOB's fields; all
 *    caches (the bootstrap one included) are on kmm_slob.caches.
 *
 * 2. Locks
 *    kmm_slob.lock (slob_lock()) guards everything in kmm_slob, every SLOB
 *    page's free blocks, bitmap and struct page fields, and the slob_cache
 *    fields marked (slob_lock); slob.c section 4 gives the rules and the
 *    order.  A __slob_ function expects the caller to hold it.
 */
#ifndef KMM_SLOB_INTERNAL_H
#define KMM_SLOB_INTERNAL_H

#include "slab.h"

/* The symbols slob.c and slob_check.c share: never exported from a shared
 * object (the malloc shim builds the core with hidden visibility anyway). */
#define SLOB_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------ */
/* Units, pages, constants                                             */
/* ------------------------------------------------------------------ */

#if KMM_PAGE_SHIFT <= 15	/* PAGE_SIZE <= 32767 * 2: offsets fit an s16 */
typedef int16_t slobidx_t;
#else
typedef int32_t slobidx_t;
#endif

#define SLOB_UNIT ((unsigned int)sizeof(slobidx_t))
#define SLOB_UNITS(size) ((unsigned int)(((size_t)(size) + SLOB_UNIT - 1) / SLOB_UNIT))
#define SLOB_BREAK1 256		/* free_slob_small below this request size */
#define SLOB_BREAK2 1024	/* free_slob_medium below this one */
/* ARCH_KMALLOC_MINALIGN = ARCH_SLAB_MINALIGN on x86-64: the kmalloc
 * header size, the smallest block alignment, and the bitmap granule. */
#define SLOB_MINALIGN ((unsigned int)KMALLOC_MIN_ALIGN)
#define SLOB_GRANULE SLOB_MINALIGN
#define SLOB_MAP_BYTES ((unsigned int)(PAGE_SIZE / SLOB_GRANULE / 8))	/* 64 with 4 KiB pages */
#define SLOB_END ((unsigned int)(PAGE_SIZE / SLOB_UNIT))	/* offset of the page end */
#define SLOB_FIRST (SLOB_MAP_BYTES / SLOB_UNIT)		/* first unit after the bitmap */
#define SLOB_PAGE_UNITS (SLOB_END - SLOB_FIRST)		/* units of an empty page */
#define SLOB_USABLE ((unsigned int)PAGE_SIZE - SLOB_MAP_BYTES)

/* page_aux2 of a SLOB page: a signature plus flags */
#define SLOB_PG_SIG     0x51b00000u
#define SLOB_PG_SIGMASK 0xfff00000u
#define SLOB_PG_BIG     0x1u	/* the page(s) of one object too big for a SLOB page */
#define SLOB_PG_BROKEN  0x2u	/* corrupt: off the lists, never allocated from */

/* kmalloc block header (SLOB_MINALIGN bytes) */
struct slob_khdr {
	unsigned int size;	/* bytes requested */
	unsigned int check;	/* slob_khdr_check(size, block offset) */
};
_Static_assert(sizeof(struct slob_khdr) == SLOB_MINALIGN, "kmalloc header must be SLOB_MINALIGN bytes");
#define SLOB_KHDR_MAGIC 0x5b10b0c5u
#define SLOB_KMALLOC_RZ 8u		/* slab_debug=Z: trailing red zone of kmalloc blocks */
#define SLOB_RED_ACTIVE 0xcc		/* its bytes (SLUB_RED_ACTIVE, REFERENCE 6.10) */
#define SLOB_KMALLOC_NAME "kmalloc-slob"	/* how reports and slabinfo name kmalloc blocks */
#define SLOB_CACHE_MAGIC 0x736c6f62u	/* "slob": a struct slob_cache */

/*
 * struct slob_cache - SLOB's cache descriptor (struct kmem_cache first).
 */
struct slob_cache {
	struct kmem_cache c;
	unsigned int sc_magic;		/* SLOB_CACHE_MAGIC while on kmm_slob.caches */
	unsigned int sc_align;		/* block alignment: max(c.align, SLOB_MINALIGN) */
	int sc_order;			/* -1: blocks of SLOB pages; else order of each object's pages */
	unsigned long sc_live;		/* objects allocated (slob_lock) */
	unsigned long sc_pages;		/* pages owned (slob_lock) */
	struct list_head sc_node;	/* kmm_slob.caches (slob_lock) */
	unsigned long sc_check_live, sc_check_pages;	/* slob_check's tallies */
};

/*
 * struct slob_state - SLOB's lock, page lists and counters.  One instance,
 * kmm_slob, defined in slob.c.
 */
struct slob_state {
	struct kmm_lock lock;		/* slob_lock: everything below */
	struct list_head free_slob_small, free_slob_medium, free_slob_large;
	/* bookkeeping lists, so that every SLOB page is on exactly one list
	 * and SLOB never walks mem_map (nor reads other layers' pages) */
	struct list_head full;		/* order-0 pages with no free unit */
	struct list_head broken;	/* pages taken out of use */
	struct list_head big;		/* pages of big cache objects */
	struct list_head caches;	/* every slob_cache, newest first */
	unsigned long nr_pages;		/* order-0 SLOB pages, broken ones included */
	unsigned long nr_big_pages;	/* pages of big cache objects */
	unsigned long nr_reclaimable;	/* of both, pages of SLAB_RECLAIM_ACCOUNT caches */
	unsigned long nr_broken;	/* pages taken out of use */
	unsigned long kmalloc_live;	/* kmalloc blocks allocated */
	unsigned long kmalloc_pages;	/* pages holding them */
	unsigned long kmalloc_allocs, kmalloc_frees;
	slab_flags_t kmalloc_debug;	/* SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON */
};

SLOB_HIDDEN extern struct slob_state kmm_slob;

#define slob_lock() kmm_lock(&kmm_slob.lock, KMM_LC_SLOB)
#define slob_unlock() kmm_unlock(&kmm_slob.lock)

static inline bool is_slob_page(const struct page *sp)
{
	return PageSlab(sp) && (sp->page_aux2 & SLOB_PG_SIGMASK) == SLOB_PG_SIG;
}
static inline bool slob_page_big(const struct page *sp) { return sp->page_aux2 & SLOB_PG_BIG; }
static inline bool slob_page_broken(const struct page *sp) { return sp->page_aux2 & SLOB_PG_BROKEN; }
static inline char *slob_base(const struct page *sp) { return kmm_pfn_to_virt(kmm_page_to_pfn(sp)); }
static inline struct slob_cache *slob_owner(const struct page *sp) { return (struct slob_cache *)sp->slab_cache; }
static inline const char *owner_name(const struct slob_cache *sc) { return sc ? sc->c.name : SLOB_KMALLOC_NAME; }
static inline slab_flags_t owner_debug(const struct slob_cache *sc)
{
	return sc ? sc->c.flags : kmm_slob.kmalloc_debug;
}
static inline bool owner_poisoned(const struct slob_cache *sc) { return owner_debug(sc) & SLAB_POISON; }

/* Units of a kmalloc block of size bytes (header and red zone included). */
static inline unsigned int kmalloc_block_units(unsigned int size)
{
	size_t rz = (kmm_slob.kmalloc_debug & SLAB_RED_ZONE) ? SLOB_KMALLOC_RZ : 0;
	return SLOB_UNITS((size_t)size + SLOB_MINALIGN + rz);
}
static inline unsigned int slob_khdr_check(unsigned int size, unsigned int boff)
{
	return size ^ SLOB_KHDR_MAGIC ^ (boff * 0x9e3779b1u);
}

/* ------------------------------------------------------------------ */
/* Deferred reports: kmm_error runs after slob_lock is dropped         */
/* ------------------------------------------------------------------ */

#define SLOB_MAX_REPORTS 4
struct slob_report {
	int n;
	struct {
		const char *category;
		char msg[320];
	} r[SLOB_MAX_REPORTS];
};

__attribute__((format(printf, 3, 4)))
static inline void rep_add(struct slob_report *rep, const char *category, const char *fmt, ...)
{
	va_list ap;
	if (rep->n == SLOB_MAX_REPORTS)
		return;
	rep->r[rep->n].category = category;
	va_start(ap, fmt);
	kmm_vsnprintf(rep->r[rep->n].msg, sizeof(rep->r[0].msg), fmt, ap);
	va_end(ap);
	rep->n++;
}

static inline void rep_emit(struct slob_report *rep)
{
	for (int i = 0; i < rep->n; i++)
		kmm_error(rep->r[i].category, "%s", rep->r[i].msg);
	rep->n = 0;
}

/* Up to 8 bytes at p as "xx xx ..." for a report. */
static inline const char *hexbytes(char *buf, size_t size, const unsigned char *p, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 8 && len + 4 < size; i++)
		len += (size_t)kmm_snprintf(buf + len, size - len, i ? " %02x" : "%02x", p[i]);
	return buf;
}

/* first byte of [p, p + n) that is not c, or NULL */
static inline const unsigned char *find_not(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return b + i;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The allocation bitmap                                               */
/* ------------------------------------------------------------------ */

static inline bool map_test(const char *base, unsigned int boff)
{
	unsigned int g = boff / SLOB_GRANULE;
	return ((const unsigned char *)base)[g >> 3] >> (g & 7) & 1;
}
static inline void map_set(char *base, unsigned int boff)
{
	unsigned int g = boff / SLOB_GRANULE;
	((unsigned char *)base)[g >> 3] |= (unsigned char)(1u << (g & 7));
}
static inline void map_clear(char *base, unsigned int boff)
{
	unsigned int g = boff / SLOB_GRANULE;
	((unsigned char *)base)[g >> 3] &= (unsigned char)~(1u << (g & 7));
}
static inline bool map_empty(const char *base)
{
	for (unsigned int i = 0; i < SLOB_MAP_BYTES; i++)
		if (base[i])
			return false;
	return true;
}
/* Byte offset of the last set bit at or below boff, or 0 for none (the
 * bitmap's own granules are never set). */
static inline unsigned int map_find_prev(const char *base, unsigned int boff)
{
	for (unsigned int g = boff / SLOB_GRANULE + 1; g-- > SLOB_MAP_BYTES / SLOB_GRANULE;)
		if (map_test(base, g * SLOB_GRANULE))
			return g * SLOB_GRANULE;
	return 0;
}
/* Byte offset of the first set bit in [from, to) bytes, or 0 for none. */
static inline unsigned int map_find_next(const char *base, unsigned int from, unsigned int to)
{
	for (unsigned int g = (from + SLOB_GRANULE - 1) / SLOB_GRANULE; g * SLOB_GRANULE < to; g++)
		if (map_test(base, g * SLOB_GRANULE))
			return g * SLOB_GRANULE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Free-block encoding                                                 */
/* ------------------------------------------------------------------ */

static inline slobidx_t *slob_word(char *base, unsigned int off) { return (slobidx_t *)(void *)(base + (size_t)off * SLOB_UNIT); }

/*
 * Free-block header words are stored encoded, as SLUB stores its free
 * pointers ([4.14+] CONFIG_SLAB_FREELIST_HARDENED: ptr ^ s->random ^
 * swab(ptr_addr)): word ^ key, the key folded from the per-boot secret
 * XOR the byte-swapped physical address of the word.  A use after free or
 * an overflow that writes a plausible header in plain text decodes to
 * garbage, which slob_get's checks reject ("freelist corrupt") instead of
 * following; and the headers no longer leak heap offsets in clear.
 */
static inline slobidx_t slob_key(const slobidx_t *w)
{
	unsigned long x = kmm.random_secret ^ __builtin_bswap64((uint64_t)((const char *)w - kmm.page_offset));
	x ^= x >> 32;
	x ^= x >> 16;
	return (slobidx_t)x;
}
static inline int slob_word_get(const slobidx_t *w) { return (slobidx_t)(*w ^ slob_key(w)); }

/* Every list a SLOB page can be on, in a fixed order. */
#define SLOB_NR_LISTS 6
static inline struct list_head *slob_all_lists(int i)
{
	struct list_head *l[SLOB_NR_LISTS] = { &kmm_slob.free_slob_small, &kmm_slob.free_slob_medium,
					       &kmm_slob.free_slob_large, &kmm_slob.full, &kmm_slob.broken,
					       &kmm_slob.big };
	return l[i];
}

/* slob.c: free-list primitives that slob_check.c needs too (slob_lock held) */
SLOB_HIDDEN bool slob_get(char *base, unsigned int off, unsigned int *size, unsigned int *next, const char **why);
SLOB_HIDDEN void __slob_page_broken(struct page *sp, struct slob_report *rep, unsigned int off, const char *why);
SLOB_HIDDEN unsigned int __slob_block_units(struct page *sp, unsigned int boff);

/* slob_check.c: verification, the leak listing, reports and counters */
SLOB_HIDDEN bool __slob_sanity(struct page *sp, struct slob_report *rep);
SLOB_HIDDEN int slob_check(void);
SLOB_HIDDEN unsigned long slob_cache_live(struct kmem_cache *s,
					  void (*list_fn)(struct kmem_cache *, void *obj, void *arg), void *arg,
					  unsigned long max);
SLOB_HIDDEN void slob_slabinfo(struct kmm_textbuf *tb);
SLOB_HIDDEN unsigned long slob_reclaimable_pages(void);
SLOB_HIDDEN unsigned long slob_unreclaimable_pages(void);

#endif /* KMM_SLOB_INTERNAL_H */
