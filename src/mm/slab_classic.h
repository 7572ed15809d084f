/*
 * slab_classic.h - the classic SLAB backend's structures (slab.c), after
 * Linux 2.6.24 mm/slab.c.  Private to slab.c; white-box tests include it
 * to look at slab descriptors and free chains.
 */
#ifndef KMM_SLAB_CLASSIC_H
#define KMM_SLAB_CLASSIC_H

#include "slab.h"

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

/* The alignment every object of the SLAB cache s has (slab.c). */
size_t kmm_slab_obj_align(const struct kmem_cache *s);

/* The page tag of a cache (slab.c): see the function's comment. */
bool kmm_slab_cache_set_tag(struct kmem_cache *s, unsigned short tag, uintptr_t free_mark);

/*
 * Batched frees (slab.c's kmem_cache_free_bulk, kmalloc_fast.h's list
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

/* slab.c, for the batched frees: n FREE objects of node nid onto its
 * shared array as far as it has room, the rest to their slabs (takes the
 * node's list_lock; inside the caller's slot) ... */
void kmm_slab_free_run(struct slab_cache *cachep, void **objs, unsigned int n, int nid);
/* ... and, after leaving the slot, the periodic reaping a slow path does */
void kmm_slab_reap_tick(struct kmm_cpu *c);
/* slab.c, for the batched allocations: up to want objects of node nid
 * into buf (takes the node's list_lock; inside the caller's slot): first
 * from the shared array, the newest, still FREE (the caller marks them
 * ACTIVE before it leaves the slot), *from_shared of them; then from the
 * slabs, partial ones first, already ACTIVE.  Returns how many in all
 * (fewer than want: the node has no more free objects). */
unsigned int kmm_slab_take_node(struct slab_cache *cachep, int nid, void **buf, unsigned int want,
				unsigned int *from_shared);

#endif /* KMM_SLAB_CLASSIC_H */
