/*
 * slab_classic.h - the classic SLAB backend's structures, after Linux
 * 2.6.24 mm/slab.c, and what its files share: slab.c (slabs, the
 * single-object paths, caches, boot), slab_cpu.c (array caches, reaping,
 * the bulk paths), slab_check.c (slab_check, slabinfo, the leak listing).
 * Private to them (and kmalloc_fast.h's batched paths); white-box tests
 * include it to look at slab descriptors and free chains.
 */
#ifndef KMM_SLAB_CLASSIC_H
#define KMM_SLAB_CLASSIC_H

#include "slab.h"
#include "annotate.h"

/* The symbols slab.c, slab_cpu.c and slab_check.c share: never exported
 * from a shared object (the malloc shim builds the core with hidden
 * visibility anyway). */
#define SLAB_HIDDEN __attribute__((visibility("hidden")))

/*
 * kmem_bufctl_t: one per object, after the slab descriptor.  For an object
 * on its slab's free chain it holds the index of the next free object
 * (BUFCTL_END ends the chain); otherwise it holds the object's state, so a
 * free can tell a live object from a free one in O(1) and double frees are
 * caught however late they come (MISUSE 1 and 2).  The [2.6.24] values,
 * plus two of kmm's own below them.
 */
typedef unsigned int kmem_bufctl_t;
#define BUFCTL_END        (((kmem_bufctl_t)(~0U)) - 0)	/* end of a free chain */
#define BUFCTL_FREE       (((kmem_bufctl_t)(~0U)) - 1)	/* free, held by an array cache */
#define BUFCTL_ACTIVE     (((kmem_bufctl_t)(~0U)) - 2)	/* allocated by a user */
#define BUFCTL_INTERNAL   (((kmem_bufctl_t)(~0U)) - 3)	/* allocated for the slab layer itself */
#define BUFCTL_QUARANTINE (((kmem_bufctl_t)(~0U)) - 4)	/* kept out of circulation after a report */
#define SLAB_LIMIT        (((kmem_bufctl_t)(~0U)) - 5)	/* objects per slab are below this */

/* true for the states of an object that is off its slab's free chain */
static inline bool bufctl_is_taken(kmem_bufctl_t v) { return v >= BUFCTL_QUARANTINE && v <= BUFCTL_FREE; }

/*
 * struct slab: one per slab (2^gfporder pages).  On-slab it sits at the
 * start of the first page after the colour offset; off-slab it is an
 * object of a kmalloc cache (slabp_cache).  The bufctl array follows it.
 */
struct slab {
	struct list_head list;		/* on slabs_full / slabs_partial / slabs_free */
	unsigned long colouroff;	/* s_mem - first page's address */
	void *s_mem;			/* slot of object 0 */
	unsigned int inuse;		/* objects off the free chain (any taken state) */
	kmem_bufctl_t free;		/* first object of the free chain */
	unsigned short nodeid;
};
static inline kmem_bufctl_t *slab_bufctl(struct slab *slabp) { return (kmem_bufctl_t *)(slabp + 1); }

/*
 * struct array_cache: a LIFO of free objects (user pointers); entry[avail-1]
 * is the hottest.  Per cache: one per CPU slot (touched only by its owner
 * inside kmm_cpu_enter/exit, or by a remote drainer while the slot is
 * quiet) and one shared per node (under that node's list_lock).
 */
struct array_cache {
	unsigned int avail;
	unsigned int limit;
	unsigned int batchcount;
	unsigned int touched;
	void *entry[];
};

/* Per-node lists of a cache ([2.6.14+] kmem_list3). */
struct kmem_list3 {
	struct kmm_lock list_lock;	/* everything below, and the slabs' free chains */
	struct list_head slabs_partial;	/* partial first: allocation takes from here */
	struct list_head slabs_full;
	struct list_head slabs_free;
	unsigned long free_objects;	/* on the free chains of this node's slabs */
	unsigned int free_limit;	/* above it, an emptied slab is destroyed */
	unsigned int colour_next;	/* colour of the next slab grown here */
	struct array_cache *shared;	/* NULL: none */
	uint64_t next_reap;		/* ns: next slabs_free / shared reap */
	int free_touched;		/* slabs_free was used since the last reap */
};

#define CFLGS_OFF_SLAB 0x80000000U	/* descriptor from slabp_cache */

/* The backend's cache descriptor; the common part comes first. */
struct slab_cache {
	struct kmem_cache common;
	/* per-CPU data: array[slot] (NULL before late_init or for none) */
	struct array_cache **array;
	unsigned int batchcount;
	unsigned int limit;
	unsigned int shared;
	/* slab geometry */
	unsigned int buffer_size;	/* = common.size: bytes per slot */
	uint32_t reciprocal_buffer_size;	/* [2.6.24] offset -> index without a divide */
	unsigned int num;		/* objects per slab */
	unsigned int gfporder;		/* slab = 2^gfporder pages */
	gfp_t gfpflags;			/* __GFP_DMA, __GFP_RECLAIMABLE */
	unsigned int colour;		/* colours: 0 .. colour-1 */
	unsigned int colour_off;	/* bytes per colour step */
	unsigned int slab_size;		/* descriptor + bufctl bytes */
	unsigned int dflags;		/* CFLGS_OFF_SLAB */
	struct slab_cache *slabp_cache;	/* off-slab descriptors come from here */
	struct kmem_list3 *nodelists;	/* [nr_nodes] */
	/* slab_random=on: a shuffled order of the num objects; each new slab
	 * chains its free objects in this order from a random start
	 * ([4.7+] CONFIG_SLAB_FREELIST_RANDOM); NULL: index order */
	unsigned int *random_seq;
	/* kmm_slab_cache_set_tag: copied into every slab page's slab_tag (0:
	 * none), and written into word 1 of every object that becomes free
	 * (0: nothing written) */
	unsigned short page_tag;
	uintptr_t free_mark;
};

static inline struct slab_cache *SC(struct kmem_cache *s) { return (struct slab_cache *)s; }

/* ------------------------------------------------------------------ */
/* Shared by slab.c, slab_cpu.c and slab_check.c                       */
/* ------------------------------------------------------------------ */

#define REAPTIMEOUT_LIST3_NS (4ULL * 1000 * 1000 * 1000)

enum slab_state { SLAB_DOWN, SLAB_PARTIAL, SLAB_UP, SLAB_SHUTDOWN };
SLAB_HIDDEN extern enum slab_state slab_state;	/* slab.c */

/* The cache of caches (slab.c), static (bootstrap), with room for every
 * slot and node. */
struct slab_boot_cache {
	struct slab_cache sc;
	struct array_cache *array[NR_CPUS];
	struct kmem_list3 nodelists[MAX_NUMNODES];
};
SLAB_HIDDEN extern struct slab_boot_cache cache_cache;

/* slab_cpu.c: per slot, the next cache_reap (ns) */
SLAB_HIDDEN extern uint64_t slot_next_reap[NR_CPUS];

static inline struct page *obj_page(const void *obj) { return kmm_pfn_to_page(kmm_virt_to_pfn(obj)); }
static inline struct slab *obj_slab(const void *obj) { return obj_page(obj)->slab_mgmt; }
static inline void *index_to_obj(struct slab_cache *cachep, struct slab *slabp, unsigned int idx)
{
	return (char *)slabp->s_mem + (size_t)idx * cachep->buffer_size + cachep->common.obj_offset;
}
/* reciprocal_value / reciprocal_divide [2.6.24]: ceil(2^32 / size), then a
 * multiply and a shift.  Exact for offsets that are multiples of size
 * below 2^32 (a slab is at most 4 MiB); for other offsets it may be one
 * too high, which offset_to_index corrects. */
static inline uint32_t reciprocal_value(unsigned int size) { return (uint32_t)(((1ULL << 32) + size - 1) / size); }
static inline unsigned int reciprocal_divide(size_t off, uint32_t r) { return (unsigned int)(((uint64_t)off * r) >> 32); }

/* index of the slot holding byte `off` of the slab's object area */
static inline unsigned int offset_to_index(struct slab_cache *cachep, size_t off)
{
	unsigned int idx = reciprocal_divide(off, cachep->reciprocal_buffer_size);
	return (size_t)idx * cachep->buffer_size > off ? idx - 1 : idx;
}
static inline unsigned int obj_to_index(struct slab_cache *cachep, struct slab *slabp, const void *obj)
{
	return reciprocal_divide((size_t)((const char *)obj - cachep->common.obj_offset - (const char *)slabp->s_mem),
				 cachep->reciprocal_buffer_size);
}
/* annotate.h hooks for this cache?  Not with red zones, poisoning or user
 * tracking: those read and write their free objects' slots themselves. */
static inline bool ann_cache(const struct kmem_cache *s)
{
	/* nor the cache of caches: "invalid cache" reads a freed descriptor's magic */
	return KMM_ANNOTATE && !(s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)) &&
	       s != &cache_cache.sc.common;
}
static inline struct kmem_list3 *l3_of(struct slab_cache *cachep, int nid) { return &cachep->nodelists[nid]; }
static inline void bufctl_set(struct slab *slabp, unsigned int idx, kmem_bufctl_t v)
{
	__atomic_store_n(&slab_bufctl(slabp)[idx], v, __ATOMIC_RELAXED);
}
static inline kmem_bufctl_t bufctl_get(struct slab *slabp, unsigned int idx)
{
	return __atomic_load_n(&slab_bufctl(slabp)[idx], __ATOMIC_RELAXED);
}
static inline struct page *slab_first_page(struct slab *slabp)
{
	return obj_page((char *)slabp->s_mem - slabp->colouroff);
}
/* First try at growing on a node: no direct reclaim and no other node, so
 * a full node is left for fallback_alloc rather than reclaimed. */
static inline gfp_t thisnode_flags(gfp_t flags)
{
	return (flags & ~(__GFP_DIRECT_RECLAIM | __GFP_NOFAIL)) | __GFP_THISNODE | __GFP_NOWARN | __GFP_NORETRY;
}

/* Slot cpu's array of cachep as a thread other than the slot's owner reads
 * it (drainers, kmm_check, destroy): NULL, or the array the owner
 * published (acquire pairs with cpu_array_create's release). */
static inline struct array_cache *slot_array(struct slab_cache *cachep, int cpu)
{
	return __atomic_load_n(&cachep->array[cpu], __ATOMIC_ACQUIRE);
}

/* slab.c: the slab layer's own objects (descriptors, arrays) */
SLAB_HIDDEN void *kmalloc_internal(size_t size, gfp_t gfp, int nid);
SLAB_HIDDEN void kfree_internal(void *obj);
/* slab.c: slabs (list_lock held, but cache_grow: outside every lock and slot) */
SLAB_HIDDEN int cache_grow(struct slab_cache *cachep, gfp_t flags, int nid);
SLAB_HIDDEN unsigned int slabs_take_locked(struct slab_cache *cachep, struct kmem_list3 *l3, void **dst,
					   unsigned int want, kmem_bufctl_t state);
SLAB_HIDDEN void free_block(struct slab_cache *cachep, void **objpp, unsigned int nr, int node);
SLAB_HIDDEN unsigned long drain_freelist(struct slab_cache *cachep, struct kmem_list3 *l3, unsigned long max);

/* slab_cpu.c: array caches, reaping, the bulk paths */
SLAB_HIDDEN void *cache_alloc_refill(struct slab_cache *cachep, struct array_cache *ac, int node);
SLAB_HIDDEN void cache_flusharray(struct slab_cache *cachep, struct array_cache *ac, int node);
SLAB_HIDDEN void drain_array(struct slab_cache *cachep, struct array_cache *ac, int node, bool force, bool locked);
SLAB_HIDDEN void maybe_reap(struct kmm_cpu *c);
SLAB_HIDDEN bool cpu_array_create(struct slab_cache *cachep, struct kmm_cpu *c);
SLAB_HIDDEN void free_arrays(struct slab_cache *cachep);
SLAB_HIDDEN void slab_drain_slot(struct kmm_cpu *c);
SLAB_HIDDEN void slab_drop_slot_caches(void);
SLAB_HIDDEN size_t slab_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t size, void **p, void *caller);
SLAB_HIDDEN size_t slab_cache_free_bulk(struct kmem_cache *s, size_t size, void **p, void *caller);

/* slab_check.c: verification, the leak listing, slabinfo */
SLAB_HIDDEN int slab_check(void);
SLAB_HIDDEN unsigned long slab_cache_live(struct kmem_cache *s,
					  void (*list_fn)(struct kmem_cache *, void *obj, void *arg), void *arg,
					  unsigned long max);
SLAB_HIDDEN void slab_slabinfo(struct kmm_textbuf *tb);

/* The alignment every object of the SLAB cache s has (slab.c). */
size_t kmm_slab_obj_align(const struct kmem_cache *s);

/* The page tag of a cache (slab.c): see the function's comment. */
bool kmm_slab_cache_set_tag(struct kmem_cache *s, unsigned short tag, uintptr_t free_mark);

/*
 * Batched frees (slab_cpu.c's kmem_cache_free_bulk, kmalloc_fast.h's list
 * variant for the malloc shim): slab_free's checks for one object after
 * another, with what they read kept in locals (registers) - the loops'
 * stores (bufctls, arrays) would otherwise make the compiler reload it
 * from memory every time.  For caches without debug flags (objects fill
 * their slots: obj_offset 0).
 */
struct kmm_bulk_check {
	uintptr_t base, lowmem;		/* the linear map */
	struct page *mem_map;
	const struct kmem_cache *s;
	uint64_t inv;			/* inverse of the slot size's odd part, mod 2^64 */
	unsigned int shift;		/* log2 of the slot size's power-of-two part */
	unsigned int num;
	unsigned long nid;		/* the node the objects must be on */
};

static inline void kmm_bulk_check_init(struct kmm_bulk_check *x, struct slab_cache *cachep, int nid)
{
	unsigned int shift = (unsigned int)__builtin_ctz(cachep->buffer_size);
	uint64_t m = cachep->buffer_size >> shift, inv = m;
	/* Newton's iteration doubles the correct low bits of the inverse of
	 * odd m each step, from 3 (m * m = 1 mod 8) */
	for (int step = 0; step < 5; step++)
		inv *= 2 - m * inv;
	x->base = (uintptr_t)kmm.page_offset;
	x->lowmem = (uintptr_t)kmm.max_low_pfn << PAGE_SHIFT;
	x->mem_map = kmm.mem_map;
	x->s = &cachep->common;
	x->inv = inv;
	x->shift = shift;
	x->num = cachep->num;
	x->nid = (unsigned long)nid;
}

/* Does obj lie in the linear map (so its page descriptor exists)? */
static inline __attribute__((always_inline)) bool kmm_bulk_check_linear(const struct kmm_bulk_check *x,
									const void *obj)
{
	return (uintptr_t)obj - x->base < x->lowmem;	/* false: NULL, or not in the linear map */
}

/*
 * kmm_bulk_check_obj for an obj that passed kmm_bulk_check_linear.
 * kmm_bulk_check_obj: the bufctl of obj when it is an ACTIVE object
 * boundary of a slab of the cache on the checker's node - a slab page of
 * the cache, the object index from the page's s_mem, the state - else
 * NULL (the caller leaves obj to slab_free, which reports what is wrong).
 * With the slot size d = m * 2^shift (m odd) and off = obj - s_mem,
 * off * inv(m) rotated right by shift is off / d when d divides off, and
 * at least 2^64 / d otherwise, a negative off included (Granlund and
 * Montgomery's divisibility test): one compare with num checks range and
 * boundary.
 */
static inline __attribute__((always_inline)) kmem_bufctl_t *kmm_bulk_check_linear_obj(const struct kmm_bulk_check *x,
										       const void *obj)
{
	const struct page *page = x->mem_map + (((uintptr_t)obj - x->base) >> PAGE_SHIFT);
	unsigned long flags = page_flags_read(page);
	if (unlikely(!(flags & (1UL << PG_slab)) || ((flags >> NODES_PGSHIFT) & NODES_MASK) != x->nid ||
		     page->slab_cache != x->s))
		return NULL;
	uint64_t q = (uint64_t)((uintptr_t)obj - (uintptr_t)page->s_mem) * x->inv;
	uint64_t idx = (q >> x->shift) | (q << (-x->shift & 63));
	if (unlikely(idx >= x->num))
		return NULL;
	kmem_bufctl_t *bufctl = &slab_bufctl(page->slab_mgmt)[idx];
	if (unlikely(__atomic_load_n(bufctl, __ATOMIC_RELAXED) != BUFCTL_ACTIVE))
		return NULL;
	return bufctl;
}

static inline __attribute__((always_inline)) kmem_bufctl_t *kmm_bulk_check_obj(const struct kmm_bulk_check *x,
										const void *obj)
{
	return kmm_bulk_check_linear(x, obj) ? kmm_bulk_check_linear_obj(x, obj) : NULL;
}

/* slab_cpu.c, for the batched frees: n FREE objects of node nid onto its
 * shared array as far as it has room, the rest to their slabs (takes the
 * node's list_lock; inside the caller's slot) ... */
void kmm_slab_free_run(struct slab_cache *cachep, void **objs, unsigned int n, int nid);
/* ... and, after leaving the slot, the periodic reaping a slow path does */
void kmm_slab_reap_tick(struct kmm_cpu *c);
/* slab_cpu.c, for the batched allocations: up to want objects of node nid
 * into buf (takes the node's list_lock; inside the caller's slot): first
 * from the shared array, the newest, still FREE (the caller marks them
 * ACTIVE before it leaves the slot), *from_shared of them; then from the
 * slabs, partial ones first, already ACTIVE.  Returns how many in all
 * (fewer than want: the node has no more free objects). */
unsigned int kmm_slab_take_node(struct slab_cache *cachep, int nid, void **buf, unsigned int want,
				unsigned int *from_shared);

#endif /* KMM_SLAB_CLASSIC_H */
