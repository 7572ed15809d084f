/*
 * slab.h - the contract between the object-allocator front and its two
 * backends (classic SLAB in slab.c, SLOB in slob.c).
 *
 * Files:
 *   slab_common.c  public kmem_cache_* API: argument checks, the cache
 *                  chain (slab_caches, slab_mutex), the "invalid cache"
 *                  check (magic), dispatch to the booted backend, slabinfo,
 *                  the layer ops (drain, check, shutdown leak report), the
 *                  shrinker that frees empty slabs under memory pressure.
 *   kmalloc.c      the kmalloc family: ZERO_SIZE_PTR, overflow checks,
 *                  large sizes straight from the page allocator (compound
 *                  pages, PG_large_kmalloc), krealloc/kstrdup/kmemdup,
 *                  kvmalloc (vmalloc seam), and dispatch of small sizes.
 *   slab_debug.c   slab_debug= letters shared by both backends: object
 *                  layout with red zones, poisoning, caller tracking, the
 *                  checks and the one-line reports.
 *   slab.c / slob.c  the backends (SLAB's array caches and bulk paths in
 *                  slab_cpu.c, its verification and reports in slab_check.c,
 *                  its shared structures in slab_classic.h; SLOB's
 *                  verification and reports in slob_check.c, its shared
 *                  structures in slob_internal.h).
 *
 * Which backend runs is fixed at boot (slab=slab|slob); kmm_slab_ops points
 * at its ops table for the whole boot.
 *
 * A cache: each backend allocates its own descriptor whose FIRST member is
 * struct kmem_cache (so (struct kmem_cache *) casts both ways).
 * Descriptors come from the backend's cache of caches ("kmem_cache"), which
 * is itself a statically allocated descriptor (bootstrap, as Linux does).
 */
#ifndef KMM_SLAB_INTERNAL_H
#define KMM_SLAB_INTERNAL_H

#include "internal.h"
#include <kmm/slab.h>

#define KMEM_CACHE_MAGIC 0x6b6d6d63u	/* "kmmc" while alive; 0 after destroy */
#define KMEM_CACHE_NAME_LEN 32

/* Internal creation flag ([6.x] value): one of the kmalloc size classes.
 * With SLAB_RED_ZONE such a cache also keeps the requested size of each
 * object and red-zones the bytes between it and object_size. */
#define SLAB_KMALLOC 0x00001000U

/* kmalloc limits: the largest request (4 MiB = the largest buddy block) */
#define KMALLOC_MAX_SIZE (1UL << (MAX_PAGE_ORDER + PAGE_SHIFT))
#define KMALLOC_MIN_ALIGN 8	/* ARCH_KMALLOC_MINALIGN / ARCH_SLAB_MINALIGN on x86-64 */

/* The debug flags a cache may carry (from its creator or slab_debug=). */
#define SLAB_DEBUG_FLAGS (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)

/* Kernel byte values for poisoning and red zones (REFERENCE.md 6.10). */
#define POISON_INUSE 0x5a	/* written at allocation in poison mode */
#define POISON_FREE  0x6b	/* body of a free object */
#define POISON_END   0xa5	/* last byte of a poisoned object */
#define RED_INACTIVE 0x09F911029D74E35BULL	/* [2.6.24+] 64-bit red zone words */
#define RED_ACTIVE   0xD84156C5635688C0ULL

/*
 * Object slot layout with debugging (offsets from the slot start), the
 * [pad][redzone1][object][redzone2][last caller] of REFERENCE 6.10:
 *   [pad to align][red zone word][object: object_size rounded to a word]
 *   [red zone word][requested size word]   <- kmalloc caches with red zones
 *   [alloc track][free track]              <- SLAB_STORE_USER
 * Without debug flags the object is the whole slot (size = aligned
 * object_size) and the offsets below are 0.  A user pointer is
 * slot + obj_offset (a multiple of align, so objects stay aligned).
 */
struct kmm_track {
	void *addr;		/* caller (return address) */
	int cpu;		/* CPU slot, -1 slotless */
	unsigned long when_ns;	/* kmm_plat_now_ns() >> 0 */
};

struct kmem_cache {
	unsigned int magic;		/* KMEM_CACHE_MAGIC while the cache lives */
	unsigned int object_size;	/* what the creator asked for */
	unsigned int size;		/* bytes per slot, debug words and alignment included */
	unsigned int align;		/* object alignment */
	unsigned int obj_offset;	/* user pointer = slot + obj_offset */
	unsigned int track_offset;	/* SLAB_STORE_USER records (0: none) */
	unsigned int orig_offset;	/* kmalloc red zone: requested size word (0: none) */
	slab_flags_t flags;		/* creator's flags | debug flags */
	gfp_t allocflags;		/* __GFP_DMA, __GFP_RECLAIMABLE from flags */
	void (*ctor)(void *);
	char name[KMEM_CACHE_NAME_LEN];
	struct list_head list;		/* slab_caches, under slab_mutex */
	bool is_kmalloc;		/* one of the kmalloc size classes */
	/* init_on_alloc= / init_on_free= for this cache: never with a
	 * constructor or poisoning ([5.3+] slab_want_init_on_alloc/free) */
	bool init_on_alloc, init_on_free;
	/* statistics (the backend updates them; races are tolerated) */
	unsigned long nr_allocs, nr_frees, nr_grown, nr_reaped, nr_errors;
};

/* The backend interface.  The front validated the arguments: caches are
 * live (magic), sizes and alignments sane, objects non-NULL. */
struct kmm_slab_ops {
	const char *name;		/* "slab" or "slob" */
	int (*init)(void);		/* at boot, after the page allocator; 0 or -ENOMEM */
	/* a new cache of the backend's descriptor type, with the common
	 * fields filled from the arguments; NULL on -ENOMEM */
	struct kmem_cache *(*cache_create)(const char *name, unsigned int size, unsigned int align,
					   slab_flags_t flags, void (*ctor)(void *));
	/* objects still allocated in s (for destroy and the leak report);
	 * when list_fn is non-NULL it is called for each of up to `max` of them */
	unsigned long (*cache_live)(struct kmem_cache *s, void (*list_fn)(struct kmem_cache *, void *obj, void *arg),
				    void *arg, unsigned long max);
	void (*cache_release)(struct kmem_cache *s);	/* no live objects: free everything */
	void *(*cache_alloc)(struct kmem_cache *s, gfp_t gfp, int nid, void *caller);
	/* obj belongs to s and is a live object (checked per slab_debug F) */
	void (*cache_free)(struct kmem_cache *s, void *obj, void *caller);
	int (*cache_shrink)(struct kmem_cache *s);	/* 0 when no slab is left, 1 while some hold objects */
	/* optional batched paths (NULL: the front loops over cache_alloc /
	 * cache_free, as Linux's SLOB does).  cache_alloc_bulk fills p[0..size)
	 * with objects as cache_alloc would hand them out and returns how many
	 * it got (fewer only when memory ran out: the front frees those).
	 * cache_free_bulk frees p[0], p[1], ... while each is a live object of
	 * s that its fast path can take, and returns how many it freed; it
	 * never reports: the front frees the object it stopped at through
	 * kmem_cache_free's checks (misuse reported there) and calls again */
	size_t (*cache_alloc_bulk)(struct kmem_cache *s, gfp_t gfp, size_t size, void **p, void *caller);
	size_t (*cache_free_bulk)(struct kmem_cache *s, size_t size, void **p, void *caller);
	/* kmalloc sizes up to kmalloc_max_small() go to these */
	size_t (*kmalloc_max_small)(void);
	void *(*kmalloc_small)(size_t size, gfp_t gfp, int nid, void *caller);
	/* p lies in a PG_slab page of this backend: free / size it, reporting
	 * "invalid free", "interior pointer", "double free" as it finds them */
	void (*kfree_small)(struct page *page, const void *p, void *caller);
	size_t (*ksize_small)(struct page *page, const void *p);
	/* backends without kmalloc caches: what ksize(kmalloc(size)) will be */
	size_t (*kmalloc_roundup)(size_t size);
	/* which cache an object of a PG_slab page belongs to (NULL: a
	 * kmalloc block without a cache, as SLOB's) */
	struct kmem_cache *(*page_cache)(struct page *page);
	void (*drain_slot)(struct kmm_cpu *c);	/* a CPU slot's cached objects back */
	unsigned long (*shrink_all)(void);	/* every empty slab back; pages freed */
	int (*check)(void);			/* kmm_check of every cache */
	void (*slabinfo)(struct kmm_textbuf *tb);	/* the rows (header printed by the front) */
	unsigned long (*reclaimable_pages)(void);	/* meminfo SReclaimable */
	unsigned long (*unreclaimable_pages)(void);	/* meminfo SUnreclaim */
	/* is p the start of a live object (or kmalloc block) of this PG_slab
	 * page?  Never reports: an ownership test (mempool's slab_debug=F) */
	bool (*object_live)(struct page *page, const void *p);
	/* optional (NULL / false where a backend has no use for them): */
	bool kmalloc_caches;		/* kmalloc_init creates the kmalloc-N caches (SLAB) */
	int (*late_init)(void);		/* after kmalloc_init: per-CPU caches on; 0 or -ENOMEM */
	/* kmm_drain_all, before shrink_all: free the per-slot caches' own
	 * memory (SLAB's array caches, made again on the next use), so that
	 * a drain gets back to the boot's accounting */
	void (*drop_slot_caches)(void);
	/* kmm_shutdown, after the front listed leaked objects: release every
	 * cache, live objects or not.  NULL: the front calls cache_release on
	 * each cache in chain order (newest first). */
	void (*shutdown)(void);
};

extern const struct kmm_slab_ops *kmm_slab_ops;
extern const struct kmm_slab_ops kmm_slab_ops_slab;	/* slab.c */
extern const struct kmm_slab_ops kmm_slab_ops_slob;	/* slob.c */

/* slab_common.c */
int slab_common_init(void);		/* boot: picks the backend, registers layer, report, shrinker */
/* The cache chain, newest first.  Changed only under slab_mutex, which is
 * never held while allocating (it is taken inside the CPU-slot drain).
 * A backend's init() links its boot cache of caches itself. */
extern struct kmm_lock slab_mutex;	/* the cache chain; outermost slab lock */
extern struct list_head slab_caches;
void slab_fill_common(struct kmem_cache *s, const char *name, unsigned int size, unsigned int align,
		      slab_flags_t flags, void (*ctor)(void *));	/* name, sizes, layout, debug flags, magic */
/* kmem_cache_create for kmalloc.c: a kmalloc size class (SLAB_KMALLOC) */
struct kmem_cache *kmm_create_kmalloc_cache(const char *name, unsigned int size, unsigned int align,
					    slab_flags_t flags);

/* kmalloc.c */
int kmalloc_init(void);		/* after slab_common_init */
/* the kmalloc cache serving size bytes with gfp's zone (DMA twin for
 * __GFP_DMA); NULL above kmalloc_max_cache_size() or before that cache exists */
struct kmem_cache *kmalloc_slab(size_t size, gfp_t gfp);
size_t kmalloc_max_cache_size(void);	/* 131072 classic, 2 * PAGE_SIZE modern */
void kmalloc_shutdown(void);		/* list and free leaked large kmallocs */
bool kmm_page_is_free(const struct page *page);	/* in a free buddy block or on a pcp list */

/* slab_debug.c: every function is a no-op unless the cache has the flag */
void slab_debug_init_free(struct kmem_cache *s, void *slot);	/* new slab / object freed: red zones inactive, poison */
/* an object is about to be handed out: check red zones and poison
 * (reporting "redzone overwritten" / "poison overwritten"), then mark it
 * active; returns false if the object must not be used (report mode) */
bool slab_debug_alloc(struct kmem_cache *s, void *slot, void *caller);
/* an object comes back: check red zones (ACTIVE, else "double free" or
 * "redzone overwritten"), record the caller, poison; false: keep it out */
bool slab_debug_free(struct kmem_cache *s, void *slot, void *caller);
/* kmm_check on a free object: a broken red zone or poison is reported as
 * misuse (kmm_error), repaired, and -EUCLEAN returned; else 0 */
int slab_debug_check_free(struct kmem_cache *s, void *slot);
/* kmalloc caches with red zones: remember the requested size of obj and
 * red-zone the bytes up to object_size (ksize() passes object_size) */
void slab_debug_kmalloc_size(struct kmem_cache *s, void *obj, size_t size);
static inline void *slot_to_obj(const struct kmem_cache *s, void *slot) { return (char *)slot + s->obj_offset; }
static inline void *obj_to_slot(const struct kmem_cache *s, const void *obj) { return (char *)obj - s->obj_offset; }

#endif /* KMM_SLAB_INTERNAL_H */
