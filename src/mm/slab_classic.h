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
};

static inline struct slab_cache *SC(struct kmem_cache *s) { return (struct slab_cache *)s; }

#endif /* KMM_SLAB_CLASSIC_H */
