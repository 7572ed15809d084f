/*
 * malloc.c - libkmm-malloc.so: the C and C++ allocation API of a process
 * served by kmm (LD_PRELOAD=libkmm-malloc.so, or linked).
 *
 * 1. Overview
 *    The shim boots a private kmm machine on the first call and serves
 *      malloc, free, calloc, realloc, reallocarray, memalign,
 *      posix_memalign, aligned_alloc, valloc, pvalloc, malloc_usable_size,
 *      malloc_trim, and C++ operator new / delete (every variant: plain,
 *      array, nothrow, sized, aligned; cxx.c)
 *    from it:
 *      - up to kmalloc's largest cache (8 KiB, profile=modern): the kmalloc
 *        size-class caches (SLAB).  In front of them a per-thread cache
 *        (the tcache: a short LIFO list per class, no lock, no atomic; see
 *        "The per-thread cache" below) serves the common case inline;
 *        it refills from and overflows to the CPU slot's array cache
 *        through src/mm/kmalloc_fast.h's inline pop / push, with kmalloc /
 *        kfree as the slow path;
 *      - up to KMALLOC_MAX_SIZE (4 MiB, the largest buddy block): kmalloc's
 *        large path, whole buddy blocks from the page allocator, with a
 *        bounded cache of freed blocks per order in front (32 MiB;
 *        large.c);
 *      - beyond: vmalloc (frames mapped contiguously in the vmalloc
 *        window), with one header page in front of the block (section 2;
 *        large.c).
 *    The core is compiled into the library a second time with hidden
 *    visibility (src/shim/CMakeLists.txt): the shim's machine is private
 *    to it, and a program that links libkmm itself boots its own.
 *
 * 2. Sizes and alignment (glibc's rules)
 *    Every block is 16-byte aligned (max_align_t): a request is served by
 *    the class of max(size, 16) (every modern kmalloc class from 16 on is
 *    a multiple of 16; the 96 and 192 classes are verified at boot and
 *    replaced by 128 / 256 where their objects would not be 16-aligned,
 *    as they are with slab_debug red zones).  malloc(0) is a distinct
 *    16-byte block, never ZERO_SIZE_PTR.  Alignments above 16: power-of-two
 *    classes are naturally aligned up to PAGE_SIZE, buddy blocks to their
 *    size, so an aligned request takes the power-of-two size that is at
 *    least both the size and the alignment (beyond 4 MiB: a vmalloc block
 *    over-allocated by the alignment).  vmalloc blocks carry a header page
 *    (magic, the area's start, usable bytes) just below the pointer.
 *    errno: ENOMEM on every failed allocation; posix_memalign returns
 *    EINVAL (output untouched) for an alignment that is not a power of two
 *    times sizeof(void *); aligned_alloc and memalign fail with EINVAL
 *    where glibc does; realloc(p, 0) frees p and returns NULL (glibc);
 *    calloc / reallocarray overflow: NULL and ENOMEM.
 *
 * 3. Start-up (never recursing)
 *    The first call boots the machine (shim_boot) under a state word:
 *    other threads wait; calls the booting thread makes meanwhile (nothing
 *    in the core calls malloc, but a libc function it uses might) are
 *    served from a static bootstrap arena whose blocks are never freed
 *    (host.c, with the probes of the host's shape).
 *    The command line is the defaults below followed by KMM_OPTIONS (later
 *    keys win):
 *      mem=<host RAM, at most SHIM_MEM_CAP (64 GiB)> numa=<host NUMA nodes>
 *      zones=dma:16M,dma32:4G,normal cpus=<max(64, 4 x host CPUs)>
 *      backing=private profile=modern deferred_init=on vmalloc=<mem>
 *      oom_wait_ms=10 slab_max_order=3
 *    plus failslab=KMM_FAILSLAB when that is set.  A machine that cannot
 *    boot (a bad KMM_OPTIONS) ends the process with the reason.
 *    slab_max_order=3 (SLUB's default largest order, [3.4+] boot key) lets
 *    the classes above 4 KiB pack several objects per slab instead of one
 *    per order-1 slab (the fine classes below need it).
 *    The boot's footprint does not grow with mem= (deferred_init=on leaves
 *    every descriptor, mem_map's own included, for the zone growth that
 *    needs it; slot arrays and per-CPU lists are made on a slot's first
 *    use): an empty program costs ~0.2 ms and ~0.8 MiB of RSS over glibc's
 *    malloc, most of it this library's code.
 *
 * 4. Misuse (MISUSE.md 38)
 *    free / realloc / malloc_usable_size of a pointer kmm did not hand out
 *    is reported ("invalid free", "invalid realloc"), double frees and
 *    interior pointers by kfree (or, for an object in this thread's
 *    cache, by the cache's list search); sized delete with a size whose
 *    class is not the object's: "size mismatch".  What free's fast path
 *    checks and its documented gaps: "The per-thread cache" below.
 *    Then on_error= decides (abort by
 *    default; on_error=report in KMM_OPTIONS reports and goes on).
 *    slab_debug= in KMM_OPTIONS turns on the kernel's red zones and
 *    poisoning: the fast paths step aside for the caches it marks.
 *
 * 5. Threads, fork, exit
 *    A thread owns a CPU slot from its first allocation until it exits,
 *    when the core drains the slot (its cached objects go back).  fork:
 *    pthread_atfork handlers call the core's kmm_fork_prepare / _parent /
 *    _child (src/mm/fork.c): every kmm lock taken in rank order and every
 *    slot held quiet across fork, the child re-initialises the locks and
 *    gives back the slots of the threads it does not have.  At exit,
 *    KMM_STATS=1 prints meminfo and slabinfo to stderr (KMM_STATS=/path/p:
 *    to the file /path/p.<pid> instead, one per process); KMM_TRACE=FILE
 *    records every call (docs/trace-format.md) when the trace writer of
 *    tools/ is built in.
 *
 * 6. Locks: the boot state word (atomic); the large-block cache's mutex
 *    (a leaf: nothing is called with it held but its own list work); the
 *    core's locks.  The tcache is the thread's own (no lock); like glibc's
 *    malloc, none of this is async-signal-safe.
 *
 * 7. Memory the shim keeps beyond what the program holds: per thread up to
 *    TC_CAP_MAX objects (about TC_CAP_BYTES) per class in its tcache; per
 *    process up to LARGE_CACHE_BYTES of large blocks; plus what the core
 *    keeps (slot arrays, per-CPU page lists, empty slabs, the free page
 *    reporting budget).  slabinfo counts tcache objects as active, as
 *    Linux's SLAB counts array-cached ones.  malloc_trim(0) gives back the
 *    caller's tcache, the large-block cache and everything the core caches.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mm/kmalloc_fast.h"
#include <kmm/kmm.h>
#include <kmm/vmalloc.h>
#include "shim.h"

#ifdef KMM_SHIM_TRACE
#include "trace.h"
#endif

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The largest machine the shim boots: host RAM, capped here (KMM_OPTIONS
 * mem= overrides).  With deferred_init=on the boot touches no descriptor
 * of mem_map beyond the first grow's (mem_map's own frames included:
 * machine.c), so the size costs address space only, plus the pageblock
 * flags the boot sets (one byte per 2 MiB: 32 KiB at the cap).  It was
 * 4 GiB while the boot still initialised mem_map's own descriptors (1/64
 * of mem_map: 6 MiB of RSS for a 23 GiB machine). */

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

enum { SHIM_DOWN, SHIM_BOOTING, SHIM_UP };
static int shim_state;			/* atomic */
static __thread __attribute__((tls_model("initial-exec"))) int shim_in_boot;

/* Size classes: the cache serving a request of n bytes (16 <= n <= small
 * max, n a multiple of 16) is shim_class[n >> 4]; shim_fast[n >> 4] is
 * the same cache when the fast paths may serve it, else NULL (debug
 * caches, fault injection, SLOB).  Filled at boot, read-only afterwards. */
#define SHIM_SMALL_LIMIT 8192			/* kmalloc-8k: the modern profile's largest class */
#define SHIM_NR_CLASS_IDX (SHIM_SMALL_LIMIT / SHIM_ALIGN + 1)
static struct slab_cache *shim_fast[SHIM_NR_CLASS_IDX];

/*
 * The per-thread cache (tcache): a LIFO list per fast class, threaded
 * through the free objects, in front of the CPU slot's array caches.
 *
 * Why: the slot array is a stack with a counter (SLAB's array_cache).  A
 * free must read the object's page to learn its cache, then the cache's
 * array of the slot, then the counter, before it knows where to store; the
 * next allocation's loads wait for those store addresses.  Measured on the
 * bench machine that chain alone costs ~9 ns per malloc/free pair with no
 * check at all, where a list threaded through the objects (the store
 * address is the object itself; the list head's address is one load from
 * the page) costs ~4 ns - tcmalloc's figure.  So the shim keeps a small
 * list per class and thread, and moves objects between it and the core in
 * batches, one call per batch (kmalloc_fast.h's list variants of
 * kmem_cache_alloc_bulk / kmem_cache_free_bulk, those two where the
 * variants stop): tc_refill, an empty list, takes up to half its cap from
 * the slot array and the node's shared array (and slabs) at once; tc_trim,
 * a full list, gives its newest half back the same way (onto the slot
 * array, what does not fit onto the shared array); tc_flush_all, thread
 * exit and malloc_trim, every list.  So objects freed by one thread and
 * allocated by another (a producer / consumer pair) cross through the
 * shared array a batch at a time, not object by object.
 *
 * For the core, an object in a tcache is allocated (its bufctl says
 * ACTIVE): kmm_check's invariants and slabinfo (which counts cached
 * objects as active, as Linux's SLAB does) are unchanged.  The next
 * pointers are mangled with the object's address (glibc's safe-linking)
 * and a pop that decodes a pointer outside the linear map reports
 * "freelist corrupt".
 *
 * What free checks, and where (docs/malloc.md has the long form).  Each
 * fast cache gets a bin b and the page tag TC_TAG(b) from the core
 * (kmm_slab_cache_set_tag): every page of its slabs carries the tag and
 * its slab's s_mem in the page descriptor, so tc_free_fast reads the
 * descriptor's line, shim_geom[tag] and word 1 of the object, nothing
 * else of the core:
 *   - p in the linear map, the page's tag a bin's (tag 0: every other
 *     page, whose geometry fails every check), p an object boundary
 *     (tc_obj_index: one multiply, one rotate, one compare), for a sized
 *     delete the size's bin ("size mismatch" otherwise, by the slow path);
 *   - word 1 holding neither key: shim_tc_key marks an object listed in a
 *     tcache (glibc's tcache key), shim_tc_key ^ TC_KEY_CORE one that may
 *     be free in the core: the core writes that mark (its free_mark) into
 *     every free object of a tagged cache (fresh ones, slab_free), and the
 *     shim writes it on every object it gives back itself (tc_release, the
 *     slow path after the thread's exit); every path that hands a tagged
 *     object to the program clears word 1 (the pop, tc_refill,
 *     shim_unmark).
 * shim_free_slow decides exactly: a listed object is searched for in this
 * thread's list ("double free"), then only an object whose bufctl says
 * ACTIVE is listed; anything else goes to kfree, which reports "double
 * free", "invalid free" or "interior pointer" as before.  Caught always:
 * pointers that are not kmm's, interior pointers, the wrong class for a
 * sized delete, a double free while listed in this thread, a double free
 * of an object back in the core (trim, flush, malloc_trim, thread exit),
 * a free of a boundary never handed out.  Not caught (glibc's tcache
 * documents gaps of the same kind): a double free after a use-after-free
 * write over word 1 (the mark is gone: the object is listed twice); a
 * double free by a second thread while the object sits in the first one's
 * list; a stale free of an object the core has meanwhile taken for its own
 * bookkeeping (an off-slab slab descriptor, an array: live, unmarked).
 *
 * Bins are indexed by the page tag: TC_TAG(b) is the byte offset of bin
 * b's geometry in shim_geom and of its list in shim_tc.bin plus one bin,
 * so the tag loaded from the page addresses both with no arithmetic (the
 * list's address is what the next malloc's load waits for when it cannot
 * tell it apart from the free's store).
 * A thread's lists are flushed when it exits (a pthread key made before
 * the machine boots, so its destructor runs before the core's slot drain)
 * and by malloc_trim; after exit the thread uses the core directly.
 * Like glibc's, a fork child keeps only the forking thread's lists.
 */
#define TC_BINS 64
#define TC_CAP_BYTES 65536		/* about this many bytes per bin ... */
#define TC_CAP_MIN 8			/* ... but at least this many objects */
#define TC_CAP_MAX 256			/* ... and at most this many */
struct tc_bin {
	void **head;			/* first free object; word 0: mangled next, word 1: key */
	unsigned int room;		/* objects the list may still take: 0 until the thread is
					 * registered (its exit flush armed), and after it exited */
};
struct shim_tc {
	struct tc_bin bin[TC_BINS];
	int registered;			/* the thread-exit destructor is armed */
	int dead;			/* flushed at thread exit: use the core directly */
};
static __thread __attribute__((tls_model("initial-exec"))) struct shim_tc shim_tc;
static unsigned char shim_bin_of[SHIM_NR_CLASS_IDX];	/* size index -> bin + 1 (0: no tcache) */
static struct kmem_cache *shim_bin_cache[TC_BINS];	/* bin -> its cache (NULL: unused) */
static unsigned int shim_bin_cap[TC_BINS];		/* most objects per thread and bin */
/* The free path's table: bin b's cache has the page tag TC_TAG(b)
 * (struct page slab_tag), the byte offset of its geometry in shim_geom
 * and of its list in shim_tc.bin plus one bin: the tag is both tables'
 * index, with no arithmetic between the page's descriptor and the list.
 * Tag 0 (every page but the tcache classes' slab pages) finds num 0, so
 * that every check fails there and the free goes slow. */
#define TC_TAG(b) (((b) + 1) * sizeof(struct tc_geom))
struct tc_geom {
	uint64_t inv;			/* the inverse of the slot size's odd part, mod 2^64 */
	uint32_t num;			/* objects per slab */
	uint32_t shift;			/* log2 of the slot size's power-of-two part */
};
static struct tc_geom shim_geom[TC_BINS + 1];	/* [b + 1]: bin b; [0]: zero */
/* What free reads besides the page and the tables, on one line; zero
 * before boot (linear_bytes 0: every free goes slow). */
static struct {
	uintptr_t page_offset;		/* kmm.page_offset */
	uintptr_t linear_bytes;		/* kmm.max_low_pfn << PAGE_SHIFT */
	uintptr_t page_base;		/* kmm.mem_map - (page_offset >> PAGE_SHIFT): the descriptor of the
					 * linear address p is at page_base + (p >> PAGE_SHIFT) * 64 */
	uintptr_t key;			/* shim_tc_key */
} _Alignas(64) shim_fp;
static uintptr_t shim_tc_key;		/* word 1 of a listed object; odd */
#define TC_KEY_CORE 1			/* shim_tc_key ^ TC_KEY_CORE: word 1 of an object the
					 * shim gave back to the core */
static pthread_key_t shim_tc_thread_key;
static bool shim_tc_key_ok;

static void tc_thread_exit(void *arg);
static inline bool tc_free_fast(void *p, unsigned int expect);
static inline void *tc_protect(void **pos, void *next) { return (void *)(((uintptr_t)pos >> 12) ^ (uintptr_t)next); }

static size_t shim_class_size[SHIM_NR_CLASS_IDX];	/* the size handed to kmalloc */
static struct kmem_cache *shim_class_cache[SHIM_NR_CLASS_IDX];	/* a fine class's cache, or NULL: kmalloc */
static size_t shim_small_max;		/* largest size served by a class (0 before boot) */
static size_t shim_large_min;		/* smallest kmalloc size served by the page allocator */
static bool shim_stats;
static int shim_stats_fd = -1;		/* a copy of stderr for KMM_STATS */
/* free may try __kmm_kfree_fast: the backend is SLAB and nothing traces */
static bool shim_fast_free;

#ifdef KMM_SHIM_TRACE
static struct kmm_trace_writer shim_tw;
static int shim_tracing;		/* written at boot and in a fork child */
#endif

/* ------------------------------------------------------------------ */
/* Boot                                                                */
/* ------------------------------------------------------------------ */

/* Write a line to stderr (no stdio: it may allocate). */
static void shim_say(const char *line)
{
	kmm_plat_log(line);
}

/*
 * The tcache bins: one per fast cache, in size order; bin b's cache gets
 * the page tag b + 1 (kmm_slab_cache_set_tag), which every page of its
 * slabs carries in struct page, and shim_geom[b + 1] its geometry, so
 * that free finds the bin and checks the object boundary from the page
 * descriptor's line alone.  A cache the core will not tag (or past
 * TC_BINS) stays without a tcache: the slot arrays serve it directly.
 */
static void shim_build_bins(void)
{
	unsigned int nbins = 0;
	for (size_t i = 0; i < SHIM_NR_CLASS_IDX; i++) {
		if (!shim_fast[i])
			continue;
		if (i && shim_fast[i] == shim_fast[i - 1]) {
			shim_bin_of[i] = shim_bin_of[i - 1];	/* runs of steps share a class: start-up time */
			continue;
		}
		struct slab_cache *cachep = shim_fast[i];
		struct kmem_cache *s = &cachep->common;
		unsigned int b = 0;
		while (b < nbins && shim_bin_cache[b] != s)
			b++;
		if (b == nbins) {
			unsigned int size = cachep->buffer_size, shift = (unsigned int)__builtin_ctz(size);
			if (nbins == TC_BINS || s->obj_offset || !cachep->num ||
			    !kmm_slab_cache_set_tag(s, (unsigned short)TC_TAG(b), shim_tc_key ^ TC_KEY_CORE))
				continue;
			/* the odd part's inverse mod 2^64: Newton's iteration doubles
			 * the correct low bits, from 3 (odd m: m * m = 1 mod 8) */
			uint64_t m = size >> shift, inv = m;
			for (int step = 0; step < 5; step++)
				inv *= 2 - m * inv;
			shim_geom[b + 1] = (struct tc_geom){ .inv = inv, .num = cachep->num, .shift = shift };
			unsigned int cap = TC_CAP_BYTES / size;
			shim_bin_cache[b] = s;
			shim_bin_cap[b] = cap < TC_CAP_MIN ? TC_CAP_MIN : cap > TC_CAP_MAX ? TC_CAP_MAX : cap;
			nbins++;
		}
		shim_bin_of[i] = (unsigned char)(b + 1);
	}
}

/*
 * The fine classes.  kmalloc's classes are powers of two (and 96, 192):
 * a 4.2 KiB request takes 8 KiB, and a program whose blocks fall just
 * above a power of two (SQLite's page cache: 4 KiB pages plus a header)
 * holds up to twice the memory it asked for, where glibc, jemalloc or
 * tcmalloc hold 1.0-1.25x.  So when the fast paths serve the classes
 * (SLAB, no slab_debug), the shim adds its own caches, "malloc-N", between
 * kmalloc's: every 16 bytes up to 128, then four per doubling (jemalloc's
 * and tcmalloc's spacing, at most 25 % slack).  They are ordinary
 * kmem_caches (kmem_cache_create, 16-byte alignment): slabinfo lists them,
 * kfree frees them [6.4+: kfree takes kmem_cache objects], ksize sizes
 * them.  KMM_OPTIONS cannot turn them off; slab_debug= (or the trace
 * writer) leaves kmalloc's classes alone serving every size, so a debug run
 * sees exactly the kernel's kmalloc.
 */
static const unsigned short shim_fine_sizes[] = {
	48, 80, 112, 160, 224, 320, 384, 448, 640, 768, 896, 1280, 1536, 1792,
	2560, 3072, 3584, 5120, 6144, 7168,
};

/* The fine class of n bytes (<= its size, smaller than kmalloc's class
 * size ks for n), made on first need at boot; NULL: kmalloc's class. */
static struct kmem_cache *shim_fine_class(size_t n, size_t ks)
{
	static struct kmem_cache *made[sizeof(shim_fine_sizes) / sizeof(shim_fine_sizes[0])];
	for (unsigned int i = 0; i < sizeof(shim_fine_sizes) / sizeof(shim_fine_sizes[0]); i++) {
		size_t fs = shim_fine_sizes[i];
		if (fs < n)
			continue;
		if (fs >= ks)
			return NULL;
		if (!made[i]) {
			char name[32];
			snprintf(name, sizeof(name), "malloc-%zu", fs);
			made[i] = kmem_cache_create(name, (unsigned int)fs, SHIM_ALIGN, 0, NULL);
			if (made[i] && (kmm_slab_obj_align(made[i]) < SHIM_ALIGN || !kmm_cache_fast_ok(made[i]))) {
				kmem_cache_destroy(made[i]);
				made[i] = NULL;
			}
		}
		return made[i];
	}
	return NULL;
}

/*
 * Fill the class tables: for each 16-byte step up to the largest kmalloc
 * class, the fine class when there is one (above), else the cache kmalloc
 * would use, unless that cache would hand out an
 * object that is not 16-aligned (the alignment its slab geometry gives
 * every object, kmm_slab_obj_align: only SLAB has kmalloc caches; asking
 * rather than allocating one object per class keeps start-up from growing
 * a slab and making the slot's array of every class), in which case the
 * next power-of-two class serves the step.
 */
static void shim_build_classes(bool fast_paths)
{
	size_t max = kmalloc_max_cache_size();
	bool fast = fast_paths && kmm_fast_paths_ok();
	if (max > SHIM_SMALL_LIMIT)
		max = SHIM_SMALL_LIMIT;
	struct kmem_cache *checked[SHIM_NR_CLASS_IDX] = { 0 };
	bool aligned[SHIM_NR_CLASS_IDX] = { 0 };
	int nchecked = 0;
	for (size_t n = SHIM_ALIGN; n <= max; n += SHIM_ALIGN) {
		size_t req = n;
		for (;;) {
			struct kmem_cache *s = kmalloc_slab(req, 0);
			if (!s)
				break;
			bool ok = false, found = false;
			for (int i = nchecked - 1; i >= 0 && !found; i--)	/* the latest first: runs of steps */
				if (checked[i] == s) {
					ok = aligned[i];
					found = true;
				}
			if (!found) {
				ok = kmm_slab_obj_align(s) >= SHIM_ALIGN;
				checked[nchecked] = s;
				aligned[nchecked++] = ok;
			}
			if (ok) {
				struct kmem_cache *fine = fast && kmm_cache_fast_ok(s) ? shim_fine_class(n, s->object_size) : NULL;
				if (fine) {
					shim_class_cache[n / SHIM_ALIGN] = fine;
					shim_class_size[n / SHIM_ALIGN] = fine->object_size;
					shim_fast[n / SHIM_ALIGN] = SC(fine);
					break;
				}
				shim_class_size[n / SHIM_ALIGN] = req;
				shim_fast[n / SHIM_ALIGN] = fast && kmm_cache_fast_ok(s) ? SC(s) : NULL;
				break;
			}
			req = kmm_roundup_pow_of_two(req + 1);	/* the next power-of-two class */
			if (req > max)
				break;
		}
		if (!shim_class_size[n / SHIM_ALIGN])
			break;	/* no class: the rest goes to the page allocator */
		shim_small_max = n;
	}
	shim_class_size[0] = shim_class_size[1];
	shim_class_cache[0] = shim_class_cache[1];
	shim_large_min = kmalloc_max_cache_size() + 1;
	shim_fast[0] = shim_fast[1];
	shim_build_bins();
}

static int shim_pid;
/* The tcache key: random bits from the kernel (getrandom; the clock and
 * addresses where that fails), never 0. */
static uintptr_t shim_random_key(void)
{
	uintptr_t k = 0;
	if (syscall(SYS_getrandom, &k, sizeof(k), 0) != (long)sizeof(k))
		k = (uintptr_t)kmm_plat_now_ns() * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)&k ^ (uintptr_t)getpid();
	return k | 1;
}

static void shim_atfork_prepare(void)
{
	kmm_shim_large_fork(0);	/* the large-block cache's lock: a leaf, outside kmm's locks */
	kmm_fork_prepare();
}
static void shim_atfork_parent(void)
{
	kmm_fork_parent();
	kmm_shim_large_fork(1);
}
static void shim_atfork_child(void)
{
	kmm_shim_large_fork(2);
#ifdef KMM_SHIM_TRACE
	/* the parent's buffered records are not the child's to write */
	shim_tracing = 0;
#endif
	kmm_fork_child();
	shim_pid = (int)getpid();
}

static void shim_boot_fail(int err, const char *cmdline)
{
	char line[600];
	kmm_snprintf(line, sizeof(line), "kmm-malloc: cannot boot the machine (error %d) from: %s", err, cmdline);
	shim_say(line);
	shim_say("kmm-malloc: check KMM_OPTIONS (docs/boot-options.md); stopping");
	_exit(127);
}

static void shim_boot(void)
{
	static char cmdline[1024];
	int expected = SHIM_DOWN;

	if (!__atomic_compare_exchange_n(&shim_state, &expected, SHIM_BOOTING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* another thread boots: wait for it */
		while (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_UP)
			sched_yield();
		return;
	}
	shim_in_boot = 1;
	unsigned long mem = kmm_shim_host_mem_bytes();
	const char *opts = getenv("KMM_OPTIONS");
	const char *failslab = getenv("KMM_FAILSLAB");
	int len = kmm_snprintf(cmdline, sizeof(cmdline),
			       "mem=%luM numa=%d zones=dma:16M,dma32:4G,normal cpus=%d backing=private "
			       "profile=modern deferred_init=on vmalloc=%luM oom_wait_ms=10 slab_max_order=3",
			       mem >> 20, kmm_shim_host_numa_nodes(), kmm_shim_slots(), mem >> 20);
	if (failslab && *failslab && len > 0 && (size_t)len < sizeof(cmdline))
		len += kmm_snprintf(cmdline + len, sizeof(cmdline) - (size_t)len, " failslab=%s", failslab);
	if (opts && *opts && len > 0 && (size_t)len < sizeof(cmdline))
		len += kmm_snprintf(cmdline + len, sizeof(cmdline) - (size_t)len, " %s", opts);
	if (len < 0 || (size_t)len >= sizeof(cmdline)) {
		shim_say("kmm-malloc: KMM_OPTIONS is too long");
		_exit(127);
	}
	/* the tcache's exit flush: a key made before the core's, so that its
	 * destructor runs first (glibc runs them in key order) */
	shim_tc_key_ok = pthread_key_create(&shim_tc_thread_key, tc_thread_exit) == 0;
	int err = kmm_boot(cmdline);
	if (err)
		shim_boot_fail(err, cmdline);
	bool tracing = false;
#ifdef KMM_SHIM_TRACE
	const char *trace = getenv("KMM_TRACE");
	if (trace && *trace) {
		if (kmm_trace_writer_open(&shim_tw, trace) == 0)
			tracing = true;
		else
			shim_say("kmm-malloc: KMM_TRACE: cannot open the trace file; not tracing");
	}
#endif
	shim_tc_key = shim_random_key();
	kmm_shim_large_init(shim_random_key() ^ 0x5a5a5a5a5a5a5a5aUL);
	shim_build_classes(!tracing);
	shim_fast_free = !tracing && kmm_fast_paths_ok();
	shim_fp.page_offset = (uintptr_t)kmm.page_offset;
	shim_fp.page_base = (uintptr_t)kmm.mem_map - ((uintptr_t)kmm.page_offset >> PAGE_SHIFT) * sizeof(struct page);
	shim_fp.key = shim_tc_key;
	/* last: opens the fast path, where there is a tcache (SLAB, no
	 * tracing): only then does every page's slab_tag index shim_geom */
	if (shim_bin_cache[0])
		shim_fp.linear_bytes = (uintptr_t)kmm.max_low_pfn << PAGE_SHIFT;
#ifdef KMM_SHIM_TRACE
	shim_tracing = tracing;
#endif
	shim_pid = (int)getpid();
	pthread_atfork(shim_atfork_prepare, shim_atfork_parent, shim_atfork_child);
	const char *stats = getenv("KMM_STATS");
	shim_stats = stats && *stats && strcmp(stats, "0") != 0;
	if (shim_stats && strchr(stats, '/')) {
		/* KMM_STATS=/path/prefix: the report goes to prefix.<pid> */
		char path[4096];
		int n = kmm_snprintf(path, sizeof(path), "%s.%d", stats, (int)getpid());
		shim_stats_fd = n > 0 && (size_t)n < sizeof(path)
					? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
		if (shim_stats_fd < 0)
			shim_stats = false;
		else if (shim_stats_fd < 100) {
			int hi = fcntl(shim_stats_fd, F_DUPFD_CLOEXEC, 100);
			if (hi >= 0) {
				close(shim_stats_fd);
				shim_stats_fd = hi;
			}
		}
	} else if (shim_stats) {
		/* programs close stderr at exit (gnulib's close_stdout): keep a copy */
		shim_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 100);
	}
	shim_in_boot = 0;
	__atomic_store_n(&shim_state, SHIM_UP, __ATOMIC_RELEASE);
}

/* true when the machine is up (booting it if needed); false while this
 * thread is booting it (the caller uses the bootstrap arena). */
static inline bool shim_ready(void)
{
	if (likely(__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_UP))
		return true;
	if (shim_in_boot)
		return false;
	shim_boot();
	return true;
}

/* ------------------------------------------------------------------ */
/* Tracing                                                             */
/* ------------------------------------------------------------------ */

#ifdef KMM_SHIM_TRACE
static __attribute__((noinline)) void shim_trace(int op, const void *id, const void *old, size_t size,
						 size_t nmemb, size_t align)
{
	struct kmm_trace_rec r = {
		.op = (uint8_t)op, .thread = kmm_trace_thread_id(), .id = (uintptr_t)id, .old_id = (uintptr_t)old,
		.size = size, .nmemb = nmemb, .align = align,
	};
	kmm_trace_write(&shim_tw, &r);
}
#define TRACE(op, id, old, size, nmemb, align)                                      \
	do {                                                                        \
		if (unlikely(shim_tracing))                                         \
			shim_trace(KMM_TRACE_##op, (id), (old), (size), (nmemb), (align)); \
	} while (0)
#else
#define TRACE(op, id, old, size, nmemb, align) do { } while (0)
#endif

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/* The kmalloc request that serves n bytes aligned to align (16 < align,
 * max(n, align) <= KMALLOC_MAX_SIZE): the power-of-two size of at least
 * both, from the page allocator when align is above a page or the size
 * above the classes. */
static size_t shim_aligned_request(size_t n, size_t align)
{
	size_t want = kmm_roundup_pow_of_two(n > align ? n : align);
	if (align > PAGE_SIZE || want > shim_small_max)
		want = want > shim_large_min ? want : shim_large_min;
	return want;
}

/* A fresh object p of n bytes from kmalloc: when its class has a tcache,
 * clear word 1, where the core leaves the free mark (free's fast path
 * would send every free of it to the slow path otherwise). */
static inline void *shim_unmark(void *p, size_t n)
{
	if (p && n <= shim_small_max && shim_bin_of[(n + SHIM_ALIGN - 1) / SHIM_ALIGN])
		((void **)p)[1] = NULL;
	return p;
}

/*
 * The slow allocation path: any size, alignment align (a power of two,
 * 0 or <= 16 for malloc's).  zero: the caller needs zeroes (calloc).
 * NULL with errno ENOMEM on failure.  The machine is up.
 */
static __attribute__((noinline)) void *shim_alloc_slow(size_t size, size_t align, bool zero)
{
	void *p;
	gfp_t gfp = SHIM_GFP | (zero ? __GFP_ZERO : 0);
	size_t n = size < SHIM_ALIGN ? SHIM_ALIGN : size;

	if (align <= SHIM_ALIGN) {
		if (n <= shim_small_max) {
			size_t i = (n + SHIM_ALIGN - 1) / SHIM_ALIGN, req = shim_class_size[i];
			/* the exact size when kmalloc picks the same class by
			 * itself: slab_debug's kmalloc red zone starts there */
			size_t ask = size > SHIM_ALIGN / 2 ? size : SHIM_ALIGN;
			if (shim_class_cache[i])
				p = shim_unmark(kmem_cache_alloc(shim_class_cache[i], gfp), n);
			else
				p = shim_unmark(kmalloc(kmalloc_slab(ask, 0) == kmalloc_slab(req, 0) ? ask : req, gfp), n);
		} else if (n <= KMALLOC_MAX_SIZE) {
			p = kmm_shim_large_alloc(n > shim_large_min ? n : shim_large_min, gfp);
		} else {
			p = kmm_shim_huge_alloc(n, 0);
			if (p && zero)
				memset(p, 0, n);	/* vmalloc frames are not zeroed */
		}
	} else {
		/* power-of-two classes are aligned to their size up to a page,
		 * buddy blocks to their size */
		size_t want = n > align ? n : align;
		if (want > KMALLOC_MAX_SIZE) {
			p = kmm_shim_huge_alloc(n, align);
			if (p && zero)
				memset(p, 0, n);
		} else {
			want = shim_aligned_request(n, align);
			p = want >= shim_large_min ? kmm_shim_large_alloc(want, gfp) : shim_unmark(kmalloc(want, gfp), want);
			if (p && ((uintptr_t)p & (align - 1))) {
				/* a debug layout moved the object: whole pages */
				kfree(p);
				p = kmalloc(want > shim_large_min ? want : shim_large_min, gfp);
			}
		}
	}
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

/* malloc's common case inline: pop the thread's list of the size's class;
 * NULL: take shim_malloc_any. */
static inline __attribute__((always_inline)) void *shim_malloc_fast(size_t size)
{
	if (likely(size <= SHIM_SMALL_LIMIT)) {
		unsigned int b = shim_bin_of[(size + SHIM_ALIGN - 1) / SHIM_ALIGN];
		if (likely(b != 0)) {
			struct tc_bin *bin = &shim_tc.bin[b - 1];
			/* the bin's linear address in a register: left alone, the
			 * compiler loads the head %fs-relative and stores it back
			 * through the linear address, and the next free's load of
			 * the head no longer forwards from that store quickly
			 * (measured: +2.3 ns per malloc/free pair of one class) */
			__asm__("" : "+r"(bin));
			void **p = bin->head;
			if (likely(p != NULL)) {
				void **next = tc_protect(p, p[0]);
				/* (shim_fp: kmm's linear map, on free's line; armed
				 * whenever a list can hold anything) */
				if (unlikely((uintptr_t)next - shim_fp.page_offset >= shim_fp.linear_bytes) && next)
					return NULL;	/* corrupt: the slow path reports it */
				bin->head = next;
				bin->room++;
				p[1] = NULL;	/* no longer listed */
				return p;
			}
		}
	}
	return NULL;
}

/* Arm the thread-exit flush for this thread and open its lists (first
 * refill or free).  Without the key (pthread_key_create failed) the lists
 * stay closed: nothing could flush them. */
static void tc_register(void)
{
	shim_tc.registered = 1;
	if (!shim_tc_key_ok || pthread_setspecific(shim_tc_thread_key, &shim_tc) != 0)
		return;
	for (unsigned int b = 0; b < TC_BINS; b++)
		shim_tc.bin[b].room = shim_bin_cap[b];
}

/* tc_release's walk of a list: the link of p decoded, p stamped as given
 * back to the core (free's slow path checks such an object exactly).
 * The link is not checked here: kmm_cache_free_list_fast checks the
 * object it leads to before it reads it, and stops there if it is none. */
static inline __attribute__((always_inline)) void **tc_walk_next(void **p, void *core_key)
{
	void **next = tc_protect(p, p[0]);
	p[1] = core_key;
	return next;
}

/*
 * Up to max objects from the head of bin b's list (at most TC_CAP_MAX:
 * no list is longer) back to the core, in batches: kmalloc_fast.h's
 * kmm_cache_free_list_fast walks the list, checks each object as kfree
 * would and pushes it on the slot array, the rest onto the node's shared
 * array, in one pass; whatever it stops at (misuse, an object of another
 * node, no slot) goes with the rest of the max to kmem_cache_free_bulk,
 * which reports.  A link that leads outside kmm's linear map (the list
 * was overwritten) ends the list with a "freelist corrupt" report (report
 * mode: the rest leaks).  Returns how many went back.
 */
static unsigned int tc_release(unsigned int b, unsigned int max)
{
	struct tc_bin *bin = &shim_tc.bin[b];
	struct kmem_cache *s = shim_bin_cache[b];
	void *batch[TC_CAP_MAX], *core_key = (void *)(shim_tc_key ^ TC_KEY_CORE);
	if (!bin->head)
		return 0;
	if (max > TC_CAP_MAX)
		max = TC_CAP_MAX;
	unsigned int n = kmm_cache_free_list_fast(SC(s), (void ***)&bin->head, max, batch, tc_walk_next, core_key);
	void **p = bin->head, **out = (void **)batch, **end = out + (max - n);
	while (p && out < end) {
		if (unlikely(!kmm_is_linear_addr(p))) {
			kmm_error("freelist corrupt", "free: %s free list of this thread: a link leads to %p, outside kmm's memory",
				  s->name, (void *)p);
			p = NULL;
			break;
		}
		void **next = tc_walk_next(p, core_key);
		*out++ = p;
		p = next;
	}
	bin->head = p;
	if (out != (void **)batch)
		kmem_cache_free_bulk(s, (size_t)(out - (void **)batch), batch);
	return n + (unsigned int)(out - (void **)batch);
}

/* Every object of the calling thread's lists back to the core, one
 * batch per list. */
static void tc_flush_all(void)
{
	for (unsigned int b = 0; b < TC_BINS; b++) {
		struct tc_bin *bin = &shim_tc.bin[b];
		tc_release(b, TC_CAP_MAX);
		bin->head = NULL;
		bin->room = shim_tc.registered && !shim_tc.dead ? shim_bin_cap[b] : 0;
	}
}

/*
 * Bin b is full: half of it goes back to the core in one batch, so the
 * frees that follow find room.  The newest half, from the head: those
 * objects were just written by this thread's frees, so collecting them
 * hits the cache, and the list needs no walk to its middle (the older
 * half, often cold, is not touched); the core's LIFO slot array hands
 * the same objects back first on the next refill.  A list cut short by
 * a corrupt link (reported) is empty afterwards: all its room back.
 */
static void tc_trim(unsigned int b)
{
	struct tc_bin *bin = &shim_tc.bin[b];
	bin->room += tc_release(b, shim_bin_cap[b] - shim_bin_cap[b] / 2);
	if (!bin->head)
		bin->room = shim_bin_cap[b];
}

/* pthread key destructor: the thread exits; from now on it uses the core
 * directly (a count that never goes below the cap, no list). */
static void tc_thread_exit(void *arg)
{
	(void)arg;
	shim_tc.dead = 1;
	tc_flush_all();
}

/* tc_refill's list building: obj goes on the front of the new list. */
struct tc_fill {
	void **head;
	void *key;
};
static inline __attribute__((always_inline)) void tc_fill_link(void **obj, void *ctx)
{
	struct tc_fill *f = ctx;
	obj[0] = tc_protect(obj, f->head);
	obj[1] = f->key;
	f->head = obj;
}

/*
 * A list was empty (or held a corrupt pointer): report corruption, else
 * refill it with up to half its cap in one batch from the core and return
 * one object; NULL: the caller goes on without the tcache.
 */
static __attribute__((noinline)) void *tc_refill(size_t size)
{
	unsigned int b = shim_bin_of[(size + SHIM_ALIGN - 1) / SHIM_ALIGN];
	if (!b || shim_tc.dead)
		return NULL;
	struct tc_bin *bin = &shim_tc.bin[b - 1];
	struct kmem_cache *s = shim_bin_cache[b - 1];
	if (bin->head) {
		void **next = tc_protect(bin->head, bin->head[0]);
		kmm_error("freelist corrupt", "malloc: %s free list of this thread: object %p links to %p, outside kmm's memory",
			  s->name, (void *)bin->head, (void *)next);
		bin->head = NULL;	/* report mode: drop the list (its objects leak) */
		bin->room = 0;
		return NULL;
	}
	if (!shim_tc.registered)
		tc_register();
	/* one batch from the core: the slot array's newest, then the node's
	 * shared array and slabs under one lock, each object listed as it is
	 * marked allocated (kmm_cache_alloc_list_fast); the first time (no
	 * slot array yet) or when the node is empty, kmem_cache_alloc_bulk,
	 * which grows the cache.  One object for the caller, the rest listed. */
	unsigned int want = bin->room / 2 + 1;
	void *objs[TC_CAP_MAX / 2 + 1];
	struct tc_fill f = { NULL, (void *)shim_tc_key };
	unsigned int got = want > 1 ? kmm_cache_alloc_list_fast(SC(s), want, objs, tc_fill_link, &f) : 0;
	if (got && got < want && kmem_cache_alloc_bulk(s, SHIM_GFP, want - got, objs)) {
		/* the node ran out: the rest from a grown cache, so that a
		 * refill always brings the same number */
		for (unsigned int i = 0; i < want - got; i++)
			tc_fill_link(objs[i], &f);
		got = want;
	}
	if (got) {
		void **p = f.head;
		bin->head = tc_protect(p, p[0]);
		bin->room -= got - 1;
		p[1] = NULL;	/* as a pop leaves it: not marked */
		return p;
	}
	if (want > 1 && kmem_cache_alloc_bulk(s, SHIM_GFP, want, objs)) {
		void **head = bin->head;
		for (unsigned int i = want - 1; i > 0; i--) {
			void **p = objs[i];
			p[0] = tc_protect(p, head);
			p[1] = (void *)shim_tc_key;
			head = p;
		}
		bin->head = head;
		bin->room -= want - 1;
		((void **)objs[0])[1] = NULL;	/* as a pop leaves it: not marked */
		return objs[0];
	}
	/* memory is short (or the list is closed): one object */
	void **p = kmm_cache_alloc_fast(SC(s));
	if (!p)
		p = kmem_cache_alloc(s, SHIM_GFP);
	if (p)
		p[1] = NULL;
	return p;
}

/* Everything else: boot, the bootstrap arena, refills, the slow paths. */
static __attribute__((noinline)) void *shim_malloc_any(size_t size)
{
	if (unlikely(!shim_ready()))
		return kmm_shim_boot_arena_alloc(size, 0);
	void *p = shim_malloc_fast(size);	/* the tables are filled now */
	if (!p && size <= SHIM_SMALL_LIMIT)
		p = tc_refill(size);
	return p ? p : shim_alloc_slow(size, 0, false);
}

static inline __attribute__((always_inline)) void *shim_malloc(size_t size)
{
	void *p = shim_malloc_fast(size);
	return likely(p != NULL) ? p : shim_malloc_any(size);
}

static void *shim_memalign(size_t align, size_t size)
{
	if (align <= SHIM_ALIGN)
		return shim_malloc(size);
	if (!shim_ready())
		return kmm_shim_boot_arena_alloc(size, align);
	return shim_alloc_slow(size, align, false);
}

/* ------------------------------------------------------------------ */
/* Freeing and sizing                                                  */
/* ------------------------------------------------------------------ */

/* Is p on the calling thread's list of bin b? */
static bool tc_listed(unsigned int b, const void *p)
{
	unsigned int n = 0;
	for (void **o = shim_tc.bin[b].head; o && n <= TC_CAP_MAX; o = tc_protect(o, o[0]), n++)
		if (o == p)
			return true;
	return false;
}

/*
 * The index of p among the objects of the slab whose page descriptor is
 * page, and in *tag the page's tag: p is an object boundary of a tcache
 * class exactly when the index is below the num of the geometry at byte
 * *tag of shim_geom.  With the slot size d = m * 2^shift (m odd) and
 * off = p - s_mem (mod 2^64), off * inv(m) rotated right by shift is
 * off / d when d divides off and above (2^64 - 1) / d, so above any num,
 * otherwise (Granlund and Montgomery's divisibility test; a negative off
 * is a huge one), so one compare checks the range and the boundary.
 * Reads the descriptor's line and shim_geom only.
 */
static inline __attribute__((always_inline)) uint64_t tc_obj_index(const struct page *page, const void *p,
								  unsigned int *tag)
{
	unsigned int t = page->slab_tag;
	const struct tc_geom *g = (const struct tc_geom *)((const char *)shim_geom + t);
	uint64_t q = (uint64_t)((uintptr_t)p - (uintptr_t)page->s_mem) * g->inv;
	*tag = t;
	return (q >> g->shift) | (q << (-g->shift & 63));
}
_Static_assert(sizeof(struct tc_geom) == sizeof(struct tc_bin), "free indexes both tables by tag * 16");

/* Push the live object o on bin b's list (room checked by the caller). */
static inline __attribute__((always_inline)) void tc_push(struct tc_bin *bin, void **o)
{
	o[0] = tc_protect(o, bin->head);
	o[1] = (void *)shim_tc_key;
	bin->head = o;
	bin->room--;
}

static __attribute__((noinline)) void shim_free_slow(void *p, const char *fn)
{
	if (kmm_is_linear_addr(p)) {
		struct page *page = kmm_fast_slab_page(p);
		unsigned int tag = 0;
		uint64_t idx = page ? tc_obj_index(page, p, &tag) : 0;
		if (page && idx < ((const struct tc_geom *)((const char *)shim_geom + tag))->num) {
			/* an object boundary of a tcache class: in this thread's
			 * list, live, or free in the core (word 1 says which it
			 * may be; the bufctl says which it is) */
			unsigned int b = tag / sizeof(struct tc_geom) - 1;
			void **o = p;
			if (o[1] == (void *)shim_tc_key && tc_listed(b, p)) {
				kmm_error("double free", "%s(%p): %s object %p is already free (in this thread's cache)", fn, p,
					  page->slab_cache->name, p);
				return;
			}
			if (kmm_fast_obj_state(page, (unsigned int)idx) == BUFCTL_ACTIVE) {
				if (!shim_tc.dead) {
					if (!shim_tc.registered)
						tc_register();
					else if (!shim_tc.bin[b].room)
						tc_trim(b);	/* full: the older half goes back, in one go */
					if (shim_tc.bin[b].room) {
						tc_push(&shim_tc.bin[b], o);
						return;
					}
				}
				/* no list (the thread exited, or no key for its exit
				 * flush): to the core, marked as there */
				o[1] = (void *)(shim_tc_key ^ TC_KEY_CORE);
				if (shim_fast_free && __kmm_kfree_fast(p))
					return;
			}
			/* else not live: kfree reports the double or invalid free */
		} else if (!page) {
			struct page *head = compound_head(kmm_pfn_to_page(kmm_virt_to_pfn(p)));
			bool reported;
			if (PageLargeKmalloc(head) && page_address(head) == p && (kmm_shim_large_put(p, head->alloc_order, fn, &reported) || reported))
				return;
		}
		kfree(p);	/* slab objects, large blocks; misuse reported there */
		return;
	}
	struct huge_hdr *h = kmm_shim_huge_lookup(p);
	if (h) {
		void *base = h->base;
		h->magic = 0;
		vfree(base);
		return;
	}
	if (kmm_shim_in_boot_arena(p))
		return;		/* bootstrap blocks are never freed */
	kmm_error("invalid free", "%s(%p): not memory from kmm-malloc", fn, p);
}

/*
 * Push p on the calling thread's list of its class when p is an object
 * boundary of a tcache class whose word 1 holds neither key (not listed,
 * not marked free in the core) and the list has room.  expect: the tag
 * (TC_TAG(bin)) a sized free says p's class has, 0: any.  false: nothing
 * done, the caller takes shim_free_slow, which decides exactly.  Reads
 * shim_fp, p's page descriptor line, shim_geom[tag], word 1 of p and the
 * list; dereferences p only once the descriptor says it is an object.
 */
static inline __attribute__((always_inline)) bool tc_free_fast(void *p, unsigned int expect)
{
	uintptr_t poff = (uintptr_t)p - shim_fp.page_offset;
	if (unlikely(poff >= shim_fp.linear_bytes))
		return false;
	const struct page *page = (const struct page *)(shim_fp.page_base + ((uintptr_t)p >> PAGE_SHIFT) * sizeof(struct page));
	/* tc_obj_index, inline */
	uintptr_t tag = page->slab_tag;
	const struct tc_geom *g = (const struct tc_geom *)((const char *)shim_geom + tag);
	uint64_t idx = (uint64_t)((uintptr_t)p - (uintptr_t)page->s_mem) * g->inv;
	idx = (idx >> g->shift) | (idx << (-g->shift & 63));
	if (unlikely(idx >= g->num) || unlikely(expect && expect != tag))
		return false;	/* not a boundary of a tcache class (or the wrong one) */
	void **o = p;
	uintptr_t key = shim_fp.key;
	if (unlikely(((uintptr_t)o[1] ^ key) <= TC_KEY_CORE))
		return false;	/* listed, or marked free in the core: the slow path decides */
	struct tc_bin *bin = (struct tc_bin *)((char *)shim_tc.bin + tag) - 1;	/* bin tag / 16 - 1 */
	unsigned int room = bin->room;
	if (unlikely(!room))
		return false;
	o[1] = (void *)key;
	__asm__("" ::: "memory");	/* two plain stores, not a vector built for one */
	o[0] = tc_protect(o, bin->head);
	bin->head = o;
	bin->room = room - 1;
	return true;
}

static inline __attribute__((always_inline)) void shim_free(void *p)
{
	if (likely(tc_free_fast(p, 0)))
		return;
	if (p)
		shim_free_slow(p, "free");
}

/* Usable bytes of a live block, 0 when p is none (reported as fn). */
static size_t shim_usable(const void *p, const char *category, const char *fn)
{
	struct page *page = kmm_fast_slab_page(p);
	if (page) {
		/* fast caches: the whole slot; ksize checks the object */
		size_t n = ksize(p);
		if (n)
			return n;
	} else if (kmm_is_linear_addr(p)) {
		size_t n = ksize(p);
		if (n)
			return n;
	} else {
		struct huge_hdr *h = kmm_shim_huge_lookup(p);
		if (h)
			return h->usable;
		if (kmm_shim_in_boot_arena(p))
			return kmm_shim_boot_arena_size(p);
	}
	kmm_error(category, "%s(%p): not a live block of kmm-malloc", fn, p);
	return 0;
}

/* The class a size maps to, for sized delete: the usable size a block of
 * that size gets (aligned requests: as shim_alloc_slow chose). */
static size_t shim_expected_usable(size_t size, size_t align)
{
	size_t n = size < SHIM_ALIGN ? SHIM_ALIGN : size;
	if ((align > SHIM_ALIGN ? (n > align ? n : align) : n) > KMALLOC_MAX_SIZE)
		return 0;	/* huge blocks: not checked */
	if (align > SHIM_ALIGN)
		n = shim_aligned_request(n, align);
	else if (n <= shim_small_max && shim_class_cache[(n + SHIM_ALIGN - 1) / SHIM_ALIGN])
		return shim_class_size[(n + SHIM_ALIGN - 1) / SHIM_ALIGN];	/* a fine class */
	else if (n <= shim_small_max)
		n = shim_class_size[(n + SHIM_ALIGN - 1) / SHIM_ALIGN];
	else if (n < shim_large_min)
		n = shim_large_min;
	return kmalloc_size_roundup(n);
}

static __attribute__((noinline)) void shim_sized_free_slow(void *p, size_t size, size_t align, const char *fn)
{
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_UP && !kmm_shim_in_boot_arena(p) &&
	    kmm_is_linear_addr(p)) {
		size_t want = shim_expected_usable(size, align);
		size_t have = want ? ksize(p) : 0;
		if (have && have != want) {
			kmm_error("size mismatch", "%s(%p, %zu): the block has %zu bytes; one of %zu bytes would have %zu",
				  fn, p, size, have, size, want);
			return;
		}
	}
	if (!tc_free_fast(p, 0))
		shim_free_slow(p, fn);	/* p is not NULL: the caller returned for it */
}

/*
 * kmm_shim_sized_free - free p, which the caller says has size bytes
 * (aligned to align, 0: malloc's).  The fast case: the object's cache is
 * the one that size maps to; anything else is checked against ksize and a
 * wrong size reported ("size mismatch") instead of freed.
 */
void kmm_shim_sized_free(void *p, size_t size, size_t align, const char *fn)
{
	TRACE(FREE, p, NULL, 0, 0, 0);
	if (!p)
		return;
	if (likely(size <= SHIM_SMALL_LIMIT && align <= SHIM_ALIGN)) {
		unsigned int b = shim_bin_of[(size + SHIM_ALIGN - 1) / SHIM_ALIGN];
		if (likely(b != 0) && likely(tc_free_fast(p, (unsigned int)TC_TAG(b - 1))))
			return;
	}
	shim_sized_free_slow(p, size, align, fn);
}

/* ------------------------------------------------------------------ */
/* The C API                                                           */
/* ------------------------------------------------------------------ */

static __attribute__((noinline)) void *malloc_slow(size_t size)
{
	void *p = shim_malloc_any(size);
	TRACE(MALLOC, p, NULL, size, 0, 0);
	return p;
}

/* While tracing, the fast paths are off (shim_fast empty, shim_fast_free
 * false), so every call reaches a slow function that records it. */
SHIM_EXPORT void *malloc(size_t size)
{
	void *p = shim_malloc_fast(size);
	if (likely(p != NULL))
		return p;
	return malloc_slow(size);
}

static __attribute__((noinline)) void free_slow(void *p)
{
	TRACE(FREE, p, NULL, 0, 0, 0);
	if (p)
		shim_free_slow(p, "free");
}

SHIM_EXPORT void free(void *p)
{
	if (likely(tc_free_fast(p, 0)))
		return;
	free_slow(p);
}

SHIM_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t bytes;
	void *p;
	if (unlikely(__builtin_mul_overflow(nmemb, size, &bytes))) {
		errno = ENOMEM;
		p = NULL;
	} else if (unlikely(!shim_ready())) {
		p = kmm_shim_boot_arena_alloc(bytes, 0);	/* static memory: zero */
	} else if (bytes <= shim_small_max) {
		p = shim_malloc(bytes);
		if (p)
			memset(p, 0, bytes);
	} else {
		/* fresh pages from the host are zero already: __GFP_ZERO lets
		 * the page allocator skip those */
		p = shim_alloc_slow(bytes, 0, true);
	}
	TRACE(CALLOC, p, NULL, size, nmemb, 0);
	return p;
}

/* realloc's work: the new block or NULL (p kept).  fn names the caller. */
static void *shim_realloc(void *p, size_t size, const char *fn)
{
	if (!p)
		return shim_malloc(size);
	if (size == 0) {
		shim_free(p);	/* glibc: realloc(p, 0) frees p and returns NULL */
		return NULL;
	}
	if (unlikely(!shim_ready()) || kmm_shim_in_boot_arena(p)) {
		void *q = shim_malloc(size);
		if (q) {
			size_t old = kmm_shim_in_boot_arena(p) ? kmm_shim_boot_arena_size(p) : shim_usable(p, "invalid realloc", fn);
			memcpy(q, p, old < size ? old : size);
			if (!kmm_shim_in_boot_arena(p))
				shim_free(p);
		}
		return q;
	}
	size_t have = shim_usable(p, "invalid realloc", fn);
	if (unlikely(!have)) {
		errno = ENOMEM;
		return NULL;
	}
	/* in place when it fits and does not waste more than half */
	if (size <= have && (size > have / 2 || have <= SHIM_ALIGN * 2)) {
		struct page *page = kmm_fast_slab_page(p);
		if (page && page->slab_cache && page->slab_cache->orig_offset)
			slab_debug_kmalloc_size(page->slab_cache, p, size);	/* the red zone follows */
		return p;
	}
	void *q = shim_malloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, have < size ? have : size);
	shim_free(p);
	return q;
}

SHIM_EXPORT void *realloc(void *p, size_t size)
{
	void *q = shim_realloc(p, size, "realloc");
	TRACE(REALLOC, q, p, size, 0, 0);
	return q;
}

SHIM_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(nmemb, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	void *q = shim_realloc(p, bytes, "reallocarray");
	TRACE(REALLOC, q, p, bytes, 0, 0);
	return q;
}

/* glibc's memalign: an alignment that is not a power of two is rounded
 * up to one; above SIZE_MAX / 2 + 1 it is EINVAL. */
SHIM_EXPORT void *memalign(size_t align, size_t size)
{
	void *p;
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (align & (align - 1))
		align = kmm_roundup_pow_of_two(align);
	p = shim_memalign(align, size);
	TRACE(MEMALIGN, p, NULL, size, 0, align);
	return p;
}

SHIM_EXPORT int posix_memalign(void **memptr, size_t align, size_t size)
{
	if (align == 0 || (align % sizeof(void *)) != 0 || ((align / sizeof(void *)) & (align / sizeof(void *) - 1)))
		return EINVAL;
	void *p = shim_memalign(align, size);
	TRACE(POSIX_MEMALIGN, p, NULL, size, 0, align);
	if (!p)
		return ENOMEM;
	*memptr = p;
	return 0;
}

/* C11 / C17 (DR 460) and glibc 2.38: an alignment that is not a power of
 * two fails with EINVAL. */
SHIM_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p;
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	p = shim_memalign(align, size);
	TRACE(ALIGNED_ALLOC, p, NULL, size, 0, align);
	return p;
}

SHIM_EXPORT void *valloc(size_t size)
{
	void *p = shim_memalign(PAGE_SIZE, size);
	TRACE(VALLOC, p, NULL, size, 0, PAGE_SIZE);
	return p;
}

SHIM_EXPORT void *pvalloc(size_t size)
{
	size_t rounded;
	void *p;
	if (__builtin_add_overflow(size, PAGE_SIZE - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= ~(size_t)(PAGE_SIZE - 1);
	p = shim_memalign(PAGE_SIZE, rounded ? rounded : PAGE_SIZE);
	TRACE(PVALLOC, p, NULL, size, 0, PAGE_SIZE);
	return p;
}

SHIM_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (!shim_ready() || kmm_shim_in_boot_arena(p))
		return kmm_shim_in_boot_arena(p) ? kmm_shim_boot_arena_size(p) : 0;
	return shim_usable(p, "invalid free", "malloc_usable_size");
}

/* malloc_trim: give every cached object and free page back (kmm_drain_all:
 * slot arrays, per-CPU lists, empty slabs, lazy vmalloc areas; the buddy
 * allocator then returns whole free blocks to the host).  1: done. */
SHIM_EXPORT int malloc_trim(size_t pad)
{
	(void)pad;
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_UP)
		return 0;
	tc_flush_all();		/* this thread's lists (other threads' stay theirs) */
	kmm_shim_large_drain();
	kmm_drain_all();
	return 1;
}

/* ------------------------------------------------------------------ */
/* For the C++ operators (cxx.c)                                       */
/* ------------------------------------------------------------------ */

void *kmm_shim_malloc(size_t size)
{
	void *p = shim_malloc(size);
	TRACE(MALLOC, p, NULL, size, 0, 0);
	return p;
}
void *kmm_shim_memalign(size_t align, size_t size)
{
	void *p = shim_memalign(align, size);
	TRACE(MEMALIGN, p, NULL, size, 0, align);
	return p;
}
void kmm_shim_free(void *p)
{
	TRACE(FREE, p, NULL, 0, 0, 0);
	shim_free(p);
}

/* ------------------------------------------------------------------ */
/* Exit                                                                */
/* ------------------------------------------------------------------ */

static void emit_stderr(void *ctx, const char *text)
{
	(void)ctx;
	size_t len = strlen(text);
	int fd = shim_stats_fd >= 0 ? shim_stats_fd : STDERR_FILENO;
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		text += n;
		len -= (size_t)n;
	}
}

/* Boot before main (single-threaded), so KMM_STATS reports even for a
 * program that never allocates. */
static __attribute__((constructor)) void shim_init(void)
{
	if (!shim_in_boot)
		shim_ready();
}

/* The exit report, once per process: not in a vfork child (posix_spawn),
 * which shares the parent's memory and has another pid. */
static int shim_reported;		/* atomic */

static void shim_exit_report(void)
{
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_UP || shim_pid != (int)getpid())
		return;
	if (__atomic_exchange_n(&shim_reported, 1, __ATOMIC_ACQ_REL))
		return;
#ifdef KMM_SHIM_TRACE
	if (shim_tracing) {
		shim_tracing = 0;
		kmm_trace_writer_close(&shim_tw);
	}
#endif
	if (shim_stats) {
		int saved = errno;
		emit_stderr(NULL, "kmm-malloc: statistics at exit\n");
		kmm_report("meminfo", emit_stderr, NULL);
		kmm_report("slabinfo", emit_stderr, NULL);
		errno = saved;
	}
}

/* Runs at exit after the program's destructors (the shim is loaded
 * first, so it is finalised last). */
static __attribute__((destructor)) void shim_exit(void)
{
	shim_exit_report();
}

/* Programs that end with _exit (dash does) skip the destructors: the
 * report is written here then.  glibc's exit() reaches the system call by
 * its own internal path, not through this symbol. */
SHIM_EXPORT _Noreturn void _exit(int status)
{
	shim_exit_report();
	for (;;)
		syscall(SYS_exit_group, status);
}

SHIM_EXPORT _Noreturn void _Exit(int status)
{
	shim_exit_report();
	for (;;)
		syscall(SYS_exit_group, status);
}
