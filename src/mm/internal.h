/*
 * internal.h - the core's shared types: page descriptors, nodes, zones,
 * CPU slots, the machine and its configuration, and the functions one
 * subsystem offers the others.  Only src/mm includes it.
 *
 * Which Linux: struct page, zones and nodes follow 2.6 (ULK3) with the
 * 2.6.24+ additions the issue asks for (migrate types, pageblocks); field
 * names are the kernel's so a reader of mm/ recognises them.
 */
#ifndef KMM_INTERNAL_H
#define KMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <limits.h>

#include <kmm/gfp.h>
#include <kmm/page.h>
#define KMM_CORE 1	/* the core never includes <stdio.h> */
#include <kmm/report.h>
#include "../platform/platform.h"
#include "list.h"
#include "lib.h"

/* ------------------------------------------------------------------ */
/* Build-time limits                                                   */
/* ------------------------------------------------------------------ */

#define MAX_NUMNODES     64	/* numa= accepts 1 .. 64 nodes */
#define NR_CPUS          256	/* cpus= accepts 1 .. 256 slots */
#define LOCAL_DISTANCE   10
#define REMOTE_DISTANCE  20
#define PAGE_ALLOC_COSTLY_ORDER 3
#define PAGEBLOCK_ORDER  9	/* x86 huge page order: 512 pages = 2 MiB */
#define pageblock_nr_pages (1UL << PAGEBLOCK_ORDER)
#define L1_CACHE_BYTES   64
#define KM_MAX_IDX       16	/* kmap_local / kmap_atomic nesting per thread */
#define VMALLOC_OFFSET   (8UL << 20)	/* hole between the linear map and vmalloc */

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier()   __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define KMM_EUCLEAN 117	/* kmm_check: a structure needs cleaning */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

/* ------------------------------------------------------------------ */
/* Zones, migrate types                                                */
/* ------------------------------------------------------------------ */

enum zone_type { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_HIGHMEM, MAX_NR_ZONES };

/* [6.x] numbering; HIGHATOMIC is the high-order atomic reserve. */
enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES,	/* the types that have per-CPU lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_TYPES
};

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

/* ------------------------------------------------------------------ */
/* struct page (at most 64 bytes: checked at compile time)             */
/* ------------------------------------------------------------------ */

enum pageflags {
	PG_reserved,	/* boot memory (mem_map, per-CPU areas): never freed */
	PG_buddy,	/* head of a free block in a free_area list; private = order */
	PG_slab,	/* belongs to a slab (SLAB or SLOB) */
	PG_head,	/* head of a compound allocation (__GFP_COMP) */
	PG_tail,	/* tail of a compound allocation; first_page points at the head */
	PG_reported,	/* free block whose memory was given back to the host (reads zero) */
	PG_pcp,		/* on a per-CPU list; private = migrate type */
	PG_slob_free,	/* SLOB page on a partially free list */
	PG_large_kmalloc, /* pages of a kmalloc too big for the caches */
	PG_vmalloc,	/* frame owned by a vmalloc area */
	PG_kmapped,	/* highmem frame with a permanent kmap */
	PG_pgtable,	/* kernel page-table page */
	__NR_PAGEFLAGS
};
/* The node id and zone index live in the top bits of flags, as in Linux. */
#define ZONES_PGSHIFT  62
#define NODES_PGSHIFT  56
#define NODES_MASK     0x3fUL

struct kmem_cache;

struct page {
	unsigned long flags;
	int _refcount;		/* 0 when free (2.6.16+ rule); 1 after allocation */
	int _mapcount;		/* -1: no kernel mapping besides the linear one */
	union {
		unsigned long private;	/* buddy: order; pcp: migrate type; slab: backend data */
		void *s_mem;		/* SLAB slab pages (every page of the slab): the
					 * slab's object 0, as slab_mgmt->s_mem ([3.13+]
					 * keeps it here too), so a free can find the object
					 * boundaries from this line alone (the malloc
					 * shim's free; kmm_check verifies it) */
	};
	struct list_head lru;	/* buddy free list, pcp list, slab or SLOB list */
	union {
		struct {	/* generic / page-table use */
			void *mapping;
			unsigned long index;
		};
		struct {	/* slab pages: every page points at cache and slab */
			struct kmem_cache *slab_cache;
			void *slab_mgmt;
		};
		struct {	/* tails of compound pages */
			struct page *first_page;
			unsigned long compound_order;
		};
	};
	unsigned char alloc_order;	/* order the block was allocated with (head) */
	unsigned char pcp_order;	/* order of a block on a pcp list */
	union {
		unsigned short page_aux;	/* backend use (SLOB units, ...) */
		unsigned short slab_tag;	/* SLAB slab pages: their cache's page tag
						 * (kmm_slab_cache_set_tag; 0: none); 0 on every
						 * other page while SLAB is the backend */
	};
	unsigned int page_aux2;		/* backend use (slab inuse, ...) */
};
_Static_assert(sizeof(struct page) <= 64, "struct page must stay within 64 bytes");

/*
 * Page flags are written only by the page's owner (the zone lock holder for
 * free pages, the layer that allocated it otherwise), but read by others:
 * the buddy allocator looks at a neighbour's flags to decide whether it may
 * merge, kmm_check walks every frame.  So every access is a single relaxed
 * load or store (plain moves; no read-modify-write atomics, which would
 * cost the fast paths), like the kernel's non-atomic __SetPageX variants.
 */
static inline unsigned long page_flags_read(const struct page *p) { return __atomic_load_n(&p->flags, __ATOMIC_RELAXED); }
static inline bool test_bit_flag(const struct page *p, int nr) { return (page_flags_read(p) >> nr) & 1; }
static inline void set_bit_flag(struct page *p, int nr) { __atomic_store_n(&p->flags, page_flags_read(p) | (1UL << nr), __ATOMIC_RELAXED); }
static inline void clear_bit_flag(struct page *p, int nr) { __atomic_store_n(&p->flags, page_flags_read(p) & ~(1UL << nr), __ATOMIC_RELAXED); }

#define PAGEFLAG(name, bit)                                                              \
	static inline bool Page##name(const struct page *p) { return test_bit_flag(p, bit); } \
	static inline void SetPage##name(struct page *p) { set_bit_flag(p, bit); }            \
	static inline void ClearPage##name(struct page *p) { clear_bit_flag(p, bit); }
PAGEFLAG(Reserved, PG_reserved)
PAGEFLAG(Buddy, PG_buddy)
PAGEFLAG(Slab, PG_slab)
PAGEFLAG(Head, PG_head)
PAGEFLAG(Tail, PG_tail)
PAGEFLAG(Reported, PG_reported)
PAGEFLAG(Pcp, PG_pcp)
PAGEFLAG(SlobFree, PG_slob_free)
PAGEFLAG(LargeKmalloc, PG_large_kmalloc)
PAGEFLAG(Vmalloc, PG_vmalloc)
PAGEFLAG(Kmapped, PG_kmapped)
PAGEFLAG(Pgtable, PG_pgtable)

/* flags that must be clear when a page is freed (free_pages_check) */
#define PAGE_FLAGS_CHECK_AT_FREE                                                     \
	((1UL << PG_reserved) | (1UL << PG_buddy) | (1UL << PG_slab) | (1UL << PG_pcp) | \
	 (1UL << PG_slob_free) | (1UL << PG_tail) | (1UL << PG_vmalloc) | (1UL << PG_kmapped) | \
	 (1UL << PG_pgtable))

static inline enum zone_type page_zonenum(const struct page *p) { return (enum zone_type)(page_flags_read(p) >> ZONES_PGSHIFT); }
static inline int page_nid(const struct page *p) { return (int)((page_flags_read(p) >> NODES_PGSHIFT) & NODES_MASK); }

/* ------------------------------------------------------------------ */
/* Zones and nodes                                                     */
/* ------------------------------------------------------------------ */

struct free_area {
	struct list_head free_list[MIGRATE_TYPES];
	unsigned long nr_free;		/* blocks (not pages), all types */
	unsigned long nr_free_mt[MIGRATE_TYPES];	/* blocks per type (pagetypeinfo) */
};

/* Per-zone event counters updated under the zone lock. */
struct zone_stats {
	unsigned long alloc_fail;	/* requests this zone could not serve */
	unsigned long highatomic_reserved;
	unsigned long steals;		/* fallback steals of another type's pageblock */
	unsigned long reported_blocks;	/* blocks given back to the host */
	unsigned long reported_pages;
};

struct pglist_data;

struct zone {
	struct kmm_lock lock;		/* free_area, counters, pageblock types */
	struct free_area free_area[NR_PAGE_ORDERS];
	unsigned long free_pages;	/* NR_FREE_PAGES: pages in the buddy lists */
	unsigned long watermark[NR_WMARK];
	unsigned long lowmem_reserve[MAX_NR_ZONES];
	unsigned long zone_start_pfn;
	unsigned long spanned_pages;
	unsigned long present_pages;
	unsigned long managed_pages;	/* present minus boot reservations */
	unsigned long nr_reserved_highatomic;
	unsigned long unreported_pages;	/* free pages in blocks >= pageblock not yet given back */
	unsigned long deferred_pfn;	/* first pfn whose descriptor is not initialised yet (deferred_init) */
	unsigned long deferred_pages;	/* free frames above deferred_pfn, not yet in the buddy lists */
	unsigned long nr_deferred_grows;	/* kmm_deferred_grow_zone steps taken (zone lock) */
	int pcp_batch, pcp_high;
	int zone_idx;			/* enum zone_type */
	int zone_id;			/* nid * MAX_NR_ZONES + zone_idx: index of per-CPU data */
	const char *name;
	struct pglist_data *zone_pgdat;
	struct zone_stats stats;
};

static inline bool populated_zone(const struct zone *z) { return z->present_pages != 0; }

struct zoneref {
	struct zone *zone;
	int zone_idx;
};
#define MAX_ZONES_PER_ZONELIST (MAX_NUMNODES * MAX_NR_ZONES)
enum { ZONELIST_FALLBACK, ZONELIST_NOFALLBACK, MAX_ZONELISTS };
struct zonelist {
	struct zoneref _zonerefs[MAX_ZONES_PER_ZONELIST + 1];	/* NULL-terminated */
};

typedef struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];
	struct zonelist node_zonelists[MAX_ZONELISTS];
	int nr_zones;
	unsigned long node_start_pfn;
	unsigned long node_present_pages;
	unsigned long node_spanned_pages;
	int node_id;
	int node_order[MAX_NUMNODES];	/* node preference, for reports */
} pg_data_t;

/* ------------------------------------------------------------------ */
/* CPU slots                                                           */
/* ------------------------------------------------------------------ */

/* Per-CPU page lists of one zone ([6.x] shape: per order up to
 * pcp_max_order and per migrate type). */
#define PCP_MAX_ORDER_LIMIT 3
#define NR_PCP_LISTS ((PCP_MAX_ORDER_LIMIT + 1) * MIGRATE_PCPTYPES)
struct per_cpu_pages {
	int count;		/* pages (not blocks) on all lists */
	int high;
	int batch;
	int pad;
	struct list_head lists[NR_PCP_LISTS];
};
static inline int pcp_list_index(unsigned int order, int mt) { return (int)order * MIGRATE_PCPTYPES + mt; }

/* Events counted per CPU slot without atomics and summed by vmstat. */
enum vm_event_item {
	PGALLOC_DMA, PGALLOC_DMA32, PGALLOC_NORMAL, PGALLOC_HIGH,	/* by zone index */
	PGFREE,
	NUMA_HIT, NUMA_MISS, NUMA_FOREIGN, NUMA_LOCAL, NUMA_OTHER,
	ALLOCSTALL, PGALLOC_FAIL, PCP_REFILL, PCP_DRAIN,
	NR_VM_EVENTS
};

struct kmm_cpu {
	int cpu;			/* slot number */
	int nid;			/* node this slot belongs to */
	int busy;			/* owner inside a fast path (see pcp.c) */
	int drain_pending;		/* a remote drainer waits for busy == 0 */
	int owned;			/* a thread owns the slot (atomic) */
	int pcp_ready;			/* pcp lists initialised: on the first bind (release; pcp.c) */
	struct per_cpu_pages *pcp;	/* [MAX_NUMNODES * MAX_NR_ZONES] by zone_id */
	struct kmm_lock remote_lock;	/* serialises remote drainers of this slot */
	unsigned long events[NR_VM_EVENTS];
	void *slab_cpu;			/* the slab layer's per-slot data */
};

/* ------------------------------------------------------------------ */
/* Lock classes and the lock order validator (lockdep.c)               */
/* ------------------------------------------------------------------ */

/*
 * Every lock of the core has a class, ranked outermost first: a thread may
 * take a lock only while every lock it holds has a lower rank (classes
 * marked "nests" in lockdep.c may also be taken inside themselves, in the
 * order their callers document).  DESIGN.md's order is the skeleton:
 * cache node list lock -> zone lock -> mapping locks, with the vmalloc
 * area lock and the pkmap locks near the leaves.
 */
enum kmm_lock_class {
	KMM_LC_SHRINKER,	/* kmm.shrinker_lock: shrinkers take slab locks */
	KMM_LC_SLOT_REMOTE,	/* kmm_cpu.remote_lock (all of them, slot order) */
	KMM_LC_MEMPOOL_LIST,	/* mempool.c pool_list_lock */
	KMM_LC_MEMPOOL,		/* mempool_s.lock */
	KMM_LC_SLAB_MUTEX,	/* slab_mutex: the cache chain */
	KMM_LC_SLAB_NODE,	/* kmem_list3.list_lock (off-slab descriptors nest) */
	KMM_LC_SLOB,		/* slob_lock */
	KMM_LC_VMAP_AREA,	/* vmalloc.c vmap_area_lock */
	KMM_LC_PKMAP,		/* highmem.c kmap_lock */
	KMM_LC_PKMAP_HASH,	/* highmem.c page_address hash buckets */
	KMM_LC_FIXMAP,		/* highmem.c fixmap_shared_lock */
	KMM_LC_ZONE,		/* zone->lock */
	KMM_LC_PGTABLE,		/* pgtable.c: the kernel page table */
	KMM_LC_NR
};

#define KMM_LOCKDEP_DEPTH 12	/* locks one thread holds at once, tracked */

extern bool kmm_lockdep_on;	/* the validator runs (boot: lockdep=on, KMM_DEBUG >= 2) */
void kmm_lockdep_acquire(struct kmm_lock *l, enum kmm_lock_class c, bool trylock);
void kmm_lockdep_release(struct kmm_lock *l);
void kmm_lockdep_boot(int mode);	/* machine.c: -1 default, 0 off, 1 on */
void kmm_lockdep_set_default(bool on);	/* tests: the default of later boots */
bool kmm_lockdep_held(const struct kmm_lock *l);	/* (lockdep on) held by this thread */

/* kmm_lock - take l, a lock of class c (checked against the order when the
 * validator runs: before blocking, so an inversion is reported, not hung). */
static inline void kmm_lock(struct kmm_lock *l, enum kmm_lock_class c)
{
	if (__builtin_expect(kmm_lockdep_on, 0))
		kmm_lockdep_acquire(l, c, false);
	kmm_plat_lock(l);
}

/* kmm_trylock - true: taken.  A trylock never waits, so it records the lock
 * as held without checking the order. */
static inline bool kmm_trylock(struct kmm_lock *l, enum kmm_lock_class c)
{
	bool ok = kmm_plat_trylock(l);
	if (ok && __builtin_expect(kmm_lockdep_on, 0))
		kmm_lockdep_acquire(l, c, true);
	return ok;
}

static inline void kmm_unlock(struct kmm_lock *l)
{
	if (__builtin_expect(kmm_lockdep_on, 0))
		kmm_lockdep_release(l);
	kmm_plat_unlock(l);
}

/* The per-thread block (kmm_plat_thread_state), KMM_THREAD_STATE_SIZE bytes. */
struct kmm_thread {
	unsigned long boot_gen;		/* machine generation the fields belong to */
	struct kmm_cpu *cpu;		/* owned slot, or NULL (slotless) */
	unsigned long slotless_gen;	/* slot release generation last scanned */
	unsigned int fail_nth;		/* fault injection: fail the n-th call from now */
	unsigned long fault_rnd;	/* fault injection: this thread's PRNG state */
	int in_reclaim;			/* PF_MEMALLOC: reclaim may not recurse */
	int kmap_local_depth;
	void *kmap_local_addr[KM_MAX_IDX];
	struct page *kmap_local_page[KM_MAX_IDX];
	/* lockdep.c: the locks this thread holds, innermost last */
	struct kmm_lock *ld_lock[KMM_LOCKDEP_DEPTH];
	unsigned char ld_class[KMM_LOCKDEP_DEPTH];
	unsigned char ld_depth;		/* entries used */
	unsigned char ld_lost;		/* acquisitions beyond KMM_LOCKDEP_DEPTH, untracked */
	bool exited;			/* pcp_thread_exit ran: slotless from now on */
};

/* ------------------------------------------------------------------ */
/* Configuration (boot command line)                                   */
/* ------------------------------------------------------------------ */

enum kmm_profile { PROFILE_CLASSIC, PROFILE_MODERN };
enum kmm_slab_backend { SLAB_BACKEND_SLAB, SLAB_BACKEND_SLOB };
enum kmm_on_error { ON_ERROR_ABORT, ON_ERROR_REPORT };

struct kmm_fault_attr {
	const char *name;
	unsigned long probability;	/* percent */
	unsigned long interval;
	long times;			/* -1: no limit */
	long space;
	unsigned long verbose;
	bool ignore_gfp_wait;
	unsigned long min_order;
	char cache[32];
	/* state */
	unsigned long count;		/* calls seen (atomic) */
	unsigned long fired;
	uint64_t rnd;
};

struct kmm_config {
	unsigned long mem_bytes;
	int nr_nodes;
	unsigned long node_bytes[MAX_NUMNODES];	/* 0: split mem equally */
	unsigned long zone_end[MAX_NR_ZONES];	/* upper bound (bytes); ULONG_MAX: unbounded */
	bool zone_present[MAX_NR_ZONES];
	int cpus;
	enum kmm_slab_backend slab;
	bool pcp;
	long min_free_kbytes;			/* -1: computed */
	unsigned int slab_debug;		/* SLAB_DEBUG_* letters */
	char slab_debug_cache[32];		/* "" = every cache */
	enum kmm_on_error on_error;
	enum kmm_backing backing;
	unsigned long vmalloc_bytes;
	int pkmap;
	enum kmm_profile profile;
	unsigned long oom_wait_ms;
	int slab_max_order;		/* slab_max_order= [3.4+]; -1: by memory size */
	bool deferred_init;			/* deferred struct page initialisation */
	char fail_page_alloc[64], failslab[64];
	char fail_vmalloc[64], fail_mempool[64], fail_kmap[64];
	int lockdep;				/* lockdep=: -1 default, 0 off, 1 on */
	bool init_on_alloc, init_on_free;	/* zero pages and objects at allocation / free */
	bool slab_random;			/* SLAB: shuffled free chain in each new slab */
	unsigned long random_seed;		/* 0: from the clock at boot */
};

/* slab_debug letters */
#define SLAB_DEBUG_F 0x1u	/* sanity checks */
#define SLAB_DEBUG_Z 0x2u	/* red zones */
#define SLAB_DEBUG_P 0x4u	/* poisoning */
#define SLAB_DEBUG_U 0x8u	/* last alloc/free caller */

/* ------------------------------------------------------------------ */
/* The machine                                                         */
/* ------------------------------------------------------------------ */

struct kmm_reserved_range { unsigned long start_pfn, nr; const char *what; };

struct kmm_machine {
	bool booted;
	bool boot_done;			/* kmm_boot returned 0: every layer is up (slab.c makes
					 * slot arrays only from here on) */
	bool locks_ready, cpu_locks_ready;	/* what teardown must destroy */
	unsigned long boot_gen;		/* bumped at every boot */
	struct kmm_config cfg;

	/* physical memory */
	unsigned long max_pfn;		/* frames: pfn 0 .. max_pfn-1 */
	unsigned long max_low_pfn;	/* first pfn without a linear address */
	struct page *mem_map;		/* FLATMEM: pfn_to_page(pfn) = mem_map + pfn */
	unsigned char *pageblock_mt;	/* migrate type of each pageblock, by pfn >> PAGEBLOCK_ORDER */
	bool group_by_mobility;		/* false: machine too small, every block UNMOVABLE */

	/* host address space: one reservation holding every kernel window */
	char *va_base;
	size_t va_size;
	char *page_offset;		/* linear map: __va(phys) = page_offset + phys */
	char *vmalloc_start, *vmalloc_end;
	char *pkmap_base;		/* LAST_PKMAP pages */
	char *fixmap_base;		/* kmap_atomic windows: NR slots * KM_MAX_IDX pages */

	/* nodes */
	int nr_nodes;
	pg_data_t *node_data[MAX_NUMNODES];
	unsigned char node_distance[MAX_NUMNODES][MAX_NUMNODES];

	/* boot reservations (memblock) */
	struct kmm_reserved_range reserved[16];
	int nr_reserved;
	unsigned long reserved_pages;

	/* CPU slots */
	int nr_cpus;
	struct kmm_cpu *cpus;
	unsigned long slot_release_gen;
	unsigned long slotless_events[NR_VM_EVENTS];	/* events of threads without a slot (atomic) */
	int pcp_max_order;		/* 0 classic, 3 modern */

	/* page allocator */
	unsigned long min_free_kbytes;
	unsigned long totalreserve_pages;
	struct kmm_waitq alloc_wait;	/* GFP_KERNEL sleepers waiting for frees */
	int alloc_waiters;		/* atomic */
	struct kmm_lock shrinker_lock;
	struct shrinker *shrinkers;
	uint64_t last_warn_ns;		/* rate limit of failure lines */
	unsigned long warn_suppressed;

	/* hardening: the per-boot secret (SLOB free-block encoding, SLAB
	 * free-chain shuffling), from random_seed= or the clock at boot */
	unsigned long random_secret;

	/* fault injection */
	struct kmm_fault_attr fail_page_alloc, failslab, fail_vmalloc, fail_mempool, fail_kmap;
	bool fault_armed;		/* any attribute active: the fast paths test this */
};

extern struct kmm_machine kmm;

#define NODE_DATA(nid) (kmm.node_data[nid])

/* ------------------------------------------------------------------ */
/* Conversions                                                         */
/* ------------------------------------------------------------------ */

static inline struct zone *page_zone(const struct page *p) { return &NODE_DATA(page_nid(p))->node_zones[page_zonenum(p)]; }
static inline unsigned long kmm_page_to_pfn(const struct page *p) { return (unsigned long)(p - kmm.mem_map); }
static inline struct page *kmm_pfn_to_page(unsigned long pfn) { return kmm.mem_map + pfn; }
static inline bool kmm_pfn_valid(unsigned long pfn) { return pfn < kmm.max_pfn; }
static inline bool kmm_is_lowmem_pfn(unsigned long pfn) { return pfn < kmm.max_low_pfn; }
static inline void *kmm_pfn_to_virt(unsigned long pfn) { return kmm.page_offset + (pfn << PAGE_SHIFT); }
static inline bool kmm_is_linear_addr(const void *a)
{
	return (const char *)a >= kmm.page_offset &&
	       (const char *)a < kmm.page_offset + (kmm.max_low_pfn << PAGE_SHIFT);
}
static inline unsigned long kmm_virt_to_pfn(const void *a) { return (unsigned long)((const char *)a - kmm.page_offset) >> PAGE_SHIFT; }
/* true when p points at a descriptor inside mem_map (never dereferences p) */
static inline bool kmm_is_page_desc(const struct page *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)kmm.mem_map;
	return kmm.booted && a >= b && a < b + kmm.max_pfn * sizeof(struct page) && (a - b) % sizeof(struct page) == 0;
}
static inline struct page *compound_head(struct page *p) { return PageTail(p) ? p->first_page : p; }

static inline int get_pageblock_migratetype(unsigned long pfn) { return kmm.pageblock_mt[pfn >> PAGEBLOCK_ORDER]; }
static inline void set_pageblock_migratetype(unsigned long pfn, int mt) { kmm.pageblock_mt[pfn >> PAGEBLOCK_ORDER] = (unsigned char)mt; }

static inline int gfp_migratetype(gfp_t gfp)
{
	if (!kmm.group_by_mobility)
		return MIGRATE_UNMOVABLE;
	if (gfp & __GFP_MOVABLE)
		return MIGRATE_MOVABLE;
	if (gfp & __GFP_RECLAIMABLE)
		return MIGRATE_RECLAIMABLE;
	return MIGRATE_UNMOVABLE;
}
static inline enum zone_type gfp_zone(gfp_t gfp)
{
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
	if (gfp & __GFP_DMA32)
		return ZONE_DMA32;
	if (gfp & __GFP_HIGHMEM)
		return ZONE_HIGHMEM;
	return ZONE_NORMAL;
}

/* A 64-bit finaliser (splitmix64): a secret or a seed from anything. */
static inline unsigned long kmm_mix64(unsigned long x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9UL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebUL;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------------ */
/* Subsystem entry points                                              */
/* ------------------------------------------------------------------ */

/* machine.c */
int kmm_parse_cmdline(const char *cmdline, struct kmm_config *cfg);
void kmm_default_config(struct kmm_config *cfg);
unsigned long kmm_memblock_alloc(unsigned long nr_pages, int nid, const char *what); /* pfn, 0 on failure */
extern const char *const kmm_zone_names[MAX_NR_ZONES];
extern const char *const kmm_migratetype_names[MIGRATE_TYPES];
int kmm_fixmap_map(int idx, unsigned long pfn, void **va);	/* kmap_atomic windows */
void kmm_fixmap_unmap(int idx);
int kmm_numa_node_id(void);	/* node of the calling thread's CPU slot */
bool kmm_deferred_grow_zone(struct zone *z, unsigned int order);
bool kmm_pfn_reserved(unsigned long pfn);	/* in a boot reservation (deferred descriptors too) */

/* buddy.c: zone lock held by the caller of every __ function */
struct page *__rmqueue(struct zone *z, unsigned int order, int migratetype, bool highatomic_ok);
void __free_one_page(struct page *page, unsigned long pfn, struct zone *z, unsigned int order, int migratetype);
void __free_block_to_zone(struct zone *z, struct page *page, unsigned int order);	/* takes the lock */
void __report_free_pages(struct zone *z, unsigned long target);
void __reserve_highatomic_pageblock(struct page *page, struct zone *z, unsigned int order);
bool __unreserve_highatomic_pageblock(struct zone *z, int migratetype);
unsigned long kmm_report_budget_pages(const struct zone *z);
void buddy_init_zone(struct zone *z);
int buddy_check_zone(struct zone *z, unsigned long *pcp_pages);

/* page_alloc.c */
extern void *(*kmm_highmem_page_address)(const struct page *page);	/* set by highmem.c */
void page_alloc_init_watermarks(void);
bool zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
		       int highest_zoneidx, unsigned int alloc_flags);
void kmm_free_pages_prepared(struct page *page, unsigned int order);
void kmm_page_alloc_wake(void);
void kmm_run_shrinkers(gfp_t gfp, int nid);
void kmm_shrinkers_reset(void);
unsigned long kmm_nr_free_pages_zone_type(int zone_idx);
void kmm_prep_new_page(struct page *page, unsigned int order, gfp_t gfp, bool was_reported);

/* pcp.c */
void pcp_init(void);
struct kmm_cpu *kmm_cpu_get_slow(void);	/* binds a slot; see kmm_cpu_get */
/* kmm_cpu_get - this thread's slot (binding one on first use), or NULL.
 * Inline: every allocation and free asks, and the answer is almost always
 * the slot the thread already owns in this boot. */
static inline struct kmm_cpu *kmm_cpu_get(void)
{
	const struct kmm_thread *t = kmm_plat_thread_state();
	if (likely(t->boot_gen == kmm.boot_gen && t->cpu))
		return t->cpu;
	return kmm_cpu_get_slow();
}
static inline bool kmm_cpu_enter(struct kmm_cpu *c)
{
	/* Owner-side of the asymmetric protocol in pcp.c.  Returns false when
	 * the slot must not be used now (nested use from a signal handler, or
	 * a remote drain waits). */
	if (unlikely(c->busy))
		return false;
	WRITE_ONCE(c->busy, 1);
	barrier();
	if (unlikely(__atomic_load_n(&c->drain_pending, __ATOMIC_ACQUIRE))) {
		__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}
static inline void kmm_cpu_exit(struct kmm_cpu *c)
{
	barrier();
	__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
}
struct page *pcp_rmqueue(struct kmm_cpu *c, struct zone *z, unsigned int order, int mt);
bool pcp_free(struct kmm_cpu *c, struct page *page, unsigned int order);
void pcp_drain_zone_lists(struct per_cpu_pages *pcp, struct zone *z);
void pcp_drain_all(void);
void pcp_drain_slot(struct kmm_cpu *c);
void kmm_with_slots_quiet(void (*fn)(struct kmm_cpu *c, void *arg), void (*after)(void *arg), void *arg);
void pcp_release_all_slots(void);
void pcp_thread_exit(void *thread_state);
unsigned long pcp_zone_pages(const struct zone *z);
int pcp_check(void);
/* Count an event: only the owner writes its slot's counters (a relaxed load
 * and store, no atomic read-modify-write); slotless threads add atomically. */
static inline void kmm_count_event(struct kmm_cpu *c, enum vm_event_item item, unsigned long n)
{
	if (likely(c))
		__atomic_store_n(&c->events[item], __atomic_load_n(&c->events[item], __ATOMIC_RELAXED) + n,
				 __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&kmm.slotless_events[item], n, __ATOMIC_RELAXED);
}
unsigned long kmm_sum_event(enum vm_event_item item);

/* report.c */
void kmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kmm_error(const char *category, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmm_warn_ratelimited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
typedef int (*kmm_report_fn)(kmm_emit_fn emit, void *ctx);
void kmm_register_report(const char *name, kmm_report_fn fn);	/* slab, vmalloc add theirs */
/* [added for report.c] meminfo / vmstat numbers owned by the layers above
 * the page allocator, in pages; a NULL hook reads as 0.  Slab, vmalloc and
 * the page-table code set theirs at init; report.c defines the variable. */
struct kmm_meminfo_hooks {
	unsigned long (*slab_reclaimable)(void);
	unsigned long (*slab_unreclaimable)(void);
	unsigned long (*vmalloc_used_pages)(void);
	unsigned long (*pagetable_pages)(void);
};
extern struct kmm_meminfo_hooks kmm_meminfo_hooks;

/* check.c */
int kmm_check_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Layers above the page allocator (slab, vmalloc, highmem, mempool) register
 * their hooks at boot; machine.c calls them in registration order (shutdown
 * and drain_all in reverse order).  Any hook may be NULL.
 *   drain_slot: give back what CPU slot c caches (the caller has exclusive
 *               use of the slot: its owner is outside every fast path);
 *   drain_all:  after every slot was drained (empty slabs, lazy areas);
 *   check:      kmm_check's walk of the layer (0 or kmm_check_fail's value);
 *   shutdown:   report leaks and release the layer's resources.
 */
struct kmm_layer_ops {
	const char *name;
	void (*drain_slot)(struct kmm_cpu *c);
	void (*drain_all)(void);
	int (*check)(void);
	void (*shutdown)(void);
};
#define KMM_MAX_LAYERS 8
void kmm_register_layer(const struct kmm_layer_ops *ops);
extern const struct kmm_layer_ops *kmm_layers[KMM_MAX_LAYERS];
extern int kmm_nr_layers;

/* fault.c */
void kmm_fault_reset(void);
void kmm_fault_arm_boot_keys(void);
bool kmm_should_fail(struct kmm_fault_attr *attr, gfp_t gfp, unsigned int order, const char *cache);
int kmm_fault_parse_boot(struct kmm_fault_attr *attr, const char *spec);

/* vmalloc.c: boot (machine.c), after kmalloc_init; sets up the kernel
 * page table (pgtable.c) too */
int vmalloc_init(void);
/* vmalloc with the caller's gfp (reclaim and warning bits; __GFP_ZERO;
 * frames from high memory unless __GFP_DMA/__GFP_DMA32) and the return
 * address to show in vmallocinfo: kvmalloc's fallback */
void *kmm_vmalloc_caller(unsigned long size, gfp_t gfp, int node, void *caller);

/* highmem.c, mempool.c: boot (machine.c) */
int highmem_init(void);
int mempool_init(void);

/* thread state */
struct kmm_thread *kmm_thread(void);

#endif /* KMM_INTERNAL_H */
