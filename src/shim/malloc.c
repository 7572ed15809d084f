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
 *        bounded cache of freed blocks per order in front (32 MiB: "Large
 *        blocks kept for reuse" below);
 *      - beyond: vmalloc (frames mapped contiguously in the vmalloc
 *        window), with one header page in front of the block (section 2).
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
 *    served from a static bootstrap arena whose blocks are never freed.
 *    The command line is the defaults below followed by KMM_OPTIONS (later
 *    keys win):
 *      mem=<host RAM, at most SHIM_MEM_CAP (4 GiB)> numa=<host NUMA nodes>
 *      zones=dma:16M,dma32:4G,normal cpus=<max(64, 4 x host CPUs)>
 *      backing=private profile=modern deferred_init=on vmalloc=<mem>
 *      oom_wait_ms=10
 *    plus failslab=KMM_FAILSLAB when that is set.  A machine that cannot
 *    boot (a bad KMM_OPTIONS) ends the process with the reason.
 *
 * 4. Misuse (MISUSE.md 38)
 *    free / realloc / malloc_usable_size of a pointer kmm did not hand out
 *    is reported ("invalid free", "invalid realloc"), double frees and
 *    interior pointers by kfree; sized delete with a size whose class is
 *    not the object's: "size mismatch".  Then on_error= decides (abort by
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
 * mem= overrides).  deferred_init=on keeps most of mem_map untouched, but
 * the boot still initialises the descriptors of mem_map's own frames (the
 * boot reservation): 1/64 of mem_map, 6 MiB of RSS for a 23 GiB machine,
 * where a small program's whole RSS is 1-2 MiB.  Until that is deferred as
 * well, the cap keeps the boot footprint near 1 MiB of descriptors; change
 * this one constant (~0UL: the host's RAM) when it is. */
#define SHIM_MEM_CAP (4UL << 30)
#define SHIM_MEM_MIN (64UL << 20)
#define SHIM_MIN_SLOTS 64
#define SHIM_ALIGN 16			/* glibc's MALLOC_ALIGNMENT on x86-64 */
#define SHIM_GFP (GFP_KERNEL | __GFP_NOWARN)
#define SHIM_HUGE_MAGIC 0x6b6d6d2d68756765UL	/* "kmm-huge" */

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
 * batches: refill from the slot array (kmm_cache_alloc_fast / kmalloc),
 * overflow straight to the core (kfree's fast path).
 *
 * For the core, an object in a tcache is allocated (its bufctl says
 * ACTIVE): kmm_check's invariants and slabinfo (which counts cached
 * objects as active, as Linux's SLAB does) are unchanged.  Every misuse
 * check stays: a free still needs a slab page of a fast cache at an object
 * boundary whose bufctl is ACTIVE; a double free while the object sits in
 * this thread's list is caught by the key word (glibc's tcache key:
 * word 1 of a listed object holds a per-process random value; a free that
 * finds it searches the list and reports "double free" if the object is
 * there); the next pointers are mangled with the object's address (glibc's
 * safe-linking) and a pop that decodes a pointer outside the linear map
 * reports "freelist corrupt".  Not caught: a double free by two threads
 * while the object sits in the first one's list (glibc's tcache has the
 * same gap; the core catches it once the object has gone back).
 *
 * Bins are indexed by the cache's address: bin = (cache >> shim_bin_shift)
 * & (TC_BINS - 1), the shift chosen at boot so that the fast caches get
 * distinct bins; a free needs only the page's slab_cache to find its bin.
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
static unsigned int shim_bin_shift;
static uintptr_t shim_tc_key;
static pthread_key_t shim_tc_thread_key;
static bool shim_tc_key_ok;

/* The large-block cache (its theory above large_alloc). */
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

static void tc_thread_exit(void *arg);
static inline bool tc_free_fast(void *p, int expect);
static inline void *tc_protect(void **pos, void *next) { return (void *)(((uintptr_t)pos >> 12) ^ (uintptr_t)next); }
static inline unsigned int tc_bin_of_cache(const struct kmem_cache *s)
{
	return (unsigned int)((uintptr_t)s >> shim_bin_shift) & (TC_BINS - 1);
}

static size_t shim_class_size[SHIM_NR_CLASS_IDX];	/* the size handed to kmalloc */
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
/* Bootstrap arena                                                     */
/* ------------------------------------------------------------------ */

/* Blocks handed out while the machine boots: bump allocated, never freed,
 * each after a 16-byte header holding its size. */
#define BOOT_ARENA_SIZE (64UL << 10)
static _Alignas(64) unsigned char boot_arena[BOOT_ARENA_SIZE];
static size_t boot_arena_used;		/* atomic */

static bool in_boot_arena(const void *p)
{
	return (const unsigned char *)p >= boot_arena && (const unsigned char *)p < boot_arena + BOOT_ARENA_SIZE;
}

static void *boot_arena_alloc(size_t size, size_t align)
{
	if (align < SHIM_ALIGN)
		align = SHIM_ALIGN;
	if (size > BOOT_ARENA_SIZE || align > BOOT_ARENA_SIZE / 4)
		goto nomem;
	for (;;) {
		size_t used = __atomic_load_n(&boot_arena_used, __ATOMIC_RELAXED);
		size_t start = (used + SHIM_ALIGN + align - 1) & ~(align - 1);
		size_t end = start + ((size + SHIM_ALIGN - 1) & ~(size_t)(SHIM_ALIGN - 1));
		if (end > BOOT_ARENA_SIZE)
			goto nomem;
		if (__atomic_compare_exchange_n(&boot_arena_used, &used, end, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			*(size_t *)(boot_arena + start - SHIM_ALIGN) = size;
			return boot_arena + start;
		}
	}
nomem:
	errno = ENOMEM;
	return NULL;
}

static size_t boot_arena_size(const void *p)
{
	return *(const size_t *)((const unsigned char *)p - SHIM_ALIGN);
}

/* ------------------------------------------------------------------ */
/* Boot                                                                */
/* ------------------------------------------------------------------ */

/* Read a small text file into buf (terminated); false when unreadable. */
static bool read_small_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Number of entries in a sysfs list such as "0-3,5" (0 if malformed). */
static unsigned long count_sysfs_list(const char *s)
{
	unsigned long count = 0;
	while (*s && *s != '\n') {
		unsigned long a = 0, b;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			a = a * 10 + (unsigned long)(*s++ - '0');
		b = a;
		if (*s == '-') {
			s++;
			b = 0;
			while (*s >= '0' && *s <= '9')
				b = b * 10 + (unsigned long)(*s++ - '0');
		}
		if (b < a)
			return 0;
		count += b - a + 1;
		if (*s == ',')
			s++;
	}
	return count;
}

static int host_numa_nodes(void)
{
	char buf[256];
	unsigned long n = 0;
	if (read_small_file("/sys/devices/system/node/online", buf, sizeof(buf)))
		n = count_sysfs_list(buf);
	if (n < 1)
		n = 1;
	if (n > MAX_NUMNODES)
		n = MAX_NUMNODES;
	return (int)n;
}

static unsigned long host_mem_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	unsigned long bytes = pages > 0 && psize > 0 ? (unsigned long)pages * (unsigned long)psize : 1UL << 30;
	if (bytes > SHIM_MEM_CAP)
		bytes = SHIM_MEM_CAP;
	if (bytes < SHIM_MEM_MIN)
		bytes = SHIM_MEM_MIN;
	return bytes & ~((1UL << 20) - 1);	/* whole MiB */
}

static int shim_slots(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long slots = cpus > 0 ? 4 * cpus : SHIM_MIN_SLOTS;
	if (slots < SHIM_MIN_SLOTS)
		slots = SHIM_MIN_SLOTS;
	if (slots > NR_CPUS)
		slots = NR_CPUS;
	return (int)slots;
}

/* Write a line to stderr (no stdio: it may allocate). */
static void shim_say(const char *line)
{
	kmm_plat_log(line);
}

/*
 * The tcache bins: a shift that gives every fast cache a bin of its own
 * (the caches' descriptors are kmalloc objects a fixed stride apart, so
 * one exists); none found: no tcache, the slot arrays serve directly.
 */
static void shim_build_bins(void)
{
	for (unsigned int shift = 4; shift < 24; shift++) {
		struct kmem_cache *owner[TC_BINS] = { 0 };
		bool ok = true;
		for (size_t i = 0; i < SHIM_NR_CLASS_IDX && ok; i++) {
			struct kmem_cache *s = shim_fast[i] ? &shim_fast[i]->common : NULL;
			if (!s)
				continue;
			unsigned int b = (unsigned int)((uintptr_t)s >> shift) & (TC_BINS - 1);
			if (owner[b] && owner[b] != s)
				ok = false;
			owner[b] = s;
		}
		if (!ok)
			continue;
		shim_bin_shift = shift;
		for (size_t i = 0; i < SHIM_NR_CLASS_IDX; i++) {
			if (!shim_fast[i])
				continue;
			struct kmem_cache *s = &shim_fast[i]->common;
			unsigned int b = tc_bin_of_cache(s), cap = TC_CAP_BYTES / SC(s)->buffer_size;
			shim_bin_of[i] = (unsigned char)(b + 1);
			shim_bin_cache[b] = s;
			shim_bin_cap[b] = cap < TC_CAP_MIN ? TC_CAP_MIN : cap > TC_CAP_MAX ? TC_CAP_MAX : cap;
		}
		return;
	}
}

/*
 * Fill the class tables: for each 16-byte step up to the largest kmalloc
 * class, the cache kmalloc would use, unless that cache would hand out an
 * object that is not 16-aligned (checked on one live object: every object
 * of a cache has the same offset modulo 16), in which case the next
 * power-of-two class serves the step.
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
			for (int i = 0; i < nchecked; i++)
				if (checked[i] == s) {
					ok = aligned[i];
					found = true;
				}
			if (!found) {
				void *obj = kmalloc(req, SHIM_GFP);
				ok = obj && !((uintptr_t)obj & (SHIM_ALIGN - 1));
				kfree(obj);
				checked[nchecked] = s;
				aligned[nchecked++] = ok;
			}
			if (ok) {
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
	pthread_mutex_lock(&lc.lock);	/* the large-block cache: a leaf, outside kmm's locks */
	kmm_fork_prepare();
}
static void shim_atfork_parent(void)
{
	kmm_fork_parent();
	pthread_mutex_unlock(&lc.lock);
}
static void shim_atfork_child(void)
{
	pthread_mutex_init(&lc.lock, NULL);
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
	unsigned long mem = host_mem_bytes();
	const char *opts = getenv("KMM_OPTIONS");
	const char *failslab = getenv("KMM_FAILSLAB");
	int len = kmm_snprintf(cmdline, sizeof(cmdline),
			       "mem=%luM numa=%d zones=dma:16M,dma32:4G,normal cpus=%d backing=private "
			       "profile=modern deferred_init=on vmalloc=%luM oom_wait_ms=10",
			       mem >> 20, host_numa_nodes(), shim_slots(), mem >> 20);
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
	lc.key = shim_random_key() ^ 0x5a5a5a5a5a5a5a5aUL;
	shim_build_classes(!tracing);
	shim_fast_free = !tracing && kmm_fast_paths_ok();
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

struct huge_hdr {
	unsigned long magic;		/* SHIM_HUGE_MAGIC */
	void *base;			/* what vmalloc returned */
	size_t usable;			/* bytes from the user pointer to the end of the area */
};

/* Beyond the largest buddy block: vmalloc, a header page, the block
 * aligned to align (a power of two; <= PAGE_SIZE needs no slack). */
static void *huge_alloc(size_t size, size_t align)
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
static struct huge_hdr *huge_lookup(const void *p)
{
	if (((uintptr_t)p & (PAGE_SIZE - 1)) || !is_vmalloc_addr(p) ||
	    (uintptr_t)p - PAGE_SIZE < (uintptr_t)kmm.vmalloc_start)
		return NULL;
	struct huge_hdr *h = (struct huge_hdr *)((const char *)p - PAGE_SIZE);
	if (!vmalloc_to_page(h) || h->magic != SHIM_HUGE_MAGIC)
		return NULL;
	return h;
}

/*
 * Large blocks kept for reuse.  A large kmalloc (8 KiB .. 4 MiB) is a buddy
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
 * Its state, lc, is declared with the tcache's.
 */

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
static bool lc_put(void *p, unsigned int order, const char *fn, bool *reported)
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
static void lc_drain(void)
{
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER; o++) {
		void *p;
		while ((p = lc_get(o)) != NULL)
			kfree(p);
	}
}

/* A large kmalloc of n bytes (shim_large_min <= n <= KMALLOC_MAX_SIZE),
 * from the cache when it has that order. */
static void *large_alloc(size_t n, gfp_t gfp)
{
	void *p = lc_get(kmm_get_order(n, PAGE_SHIFT));
	if (p) {
		if (gfp & __GFP_ZERO)
			memset(p, 0, n);
		return p;
	}
	return kmalloc(n, gfp);
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
			size_t req = shim_class_size[(n + SHIM_ALIGN - 1) / SHIM_ALIGN];
			/* the exact size when kmalloc picks the same class by
			 * itself: slab_debug's kmalloc red zone starts there */
			size_t ask = size > SHIM_ALIGN / 2 ? size : SHIM_ALIGN;
			p = kmalloc(kmalloc_slab(ask, 0) == kmalloc_slab(req, 0) ? ask : req, gfp);
		} else if (n <= KMALLOC_MAX_SIZE) {
			p = large_alloc(n > shim_large_min ? n : shim_large_min, gfp);
		} else {
			p = huge_alloc(n, 0);
			if (p && zero)
				memset(p, 0, n);	/* vmalloc frames are not zeroed */
		}
	} else {
		/* power-of-two classes are aligned to their size up to a page,
		 * buddy blocks to their size */
		size_t want = n > align ? n : align;
		if (want > KMALLOC_MAX_SIZE) {
			p = huge_alloc(n, align);
			if (p && zero)
				memset(p, 0, n);
		} else {
			want = shim_aligned_request(n, align);
			p = want >= shim_large_min ? large_alloc(want, gfp) : kmalloc(want, gfp);
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
			void **p = bin->head;
			if (likely(p != NULL)) {
				void **next = tc_protect(p, p[0]);
				if (unlikely((uintptr_t)next - (uintptr_t)kmm.page_offset >=
					     ((uintptr_t)kmm.max_low_pfn << PAGE_SHIFT)) && next)
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

/* Give one object of the bin's cache back to the core. */
static void tc_release(void *p)
{
	if (!(shim_fast_free && __kmm_kfree_fast(p)))
		kfree(p);
}

/* Every object of the calling thread's lists back to the core. */
static void tc_flush_all(void)
{
	for (unsigned int b = 0; b < TC_BINS; b++) {
		struct tc_bin *bin = &shim_tc.bin[b];
		void **p = bin->head;
		bin->head = NULL;
		bin->room = shim_tc.registered && !shim_tc.dead ? shim_bin_cap[b] : 0;
		while (p) {
			void **next = tc_protect(p, p[0]);
			p[1] = NULL;
			tc_release(p);
			p = next;
		}
	}
}

/* Bin b is full: keep its newest half (the cache-warm objects), give the
 * older half back to the core, so the frees that follow find room. */
static void tc_trim(unsigned int b)
{
	struct tc_bin *bin = &shim_tc.bin[b];
	unsigned int keep = shim_bin_cap[b] / 2, n = 0;
	void **p = bin->head, **last = NULL;
	while (p && n < keep) {
		last = p;
		p = tc_protect(p, p[0]);
		n++;
	}
	if (!last)
		return;
	last[0] = tc_protect(last, NULL);	/* the list ends after the kept half */
	while (p) {
		void **next = tc_protect(p, p[0]);
		p[1] = NULL;
		tc_release(p);
		bin->room++;
		p = next;
	}
}

/* pthread key destructor: the thread exits; from now on it uses the core
 * directly (a count that never goes below the cap, no list). */
static void tc_thread_exit(void *arg)
{
	(void)arg;
	shim_tc.dead = 1;
	tc_flush_all();
}

/*
 * A list was empty (or held a corrupt pointer): report corruption, else
 * refill it with up to half its cap from the slot array (or kmalloc's
 * slow path) and return one object; NULL: the caller goes on without the
 * tcache.
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
	unsigned int want = bin->room / 2 + 1;
	void *first = NULL;
	for (unsigned int i = 0; i < want; i++) {
		void **p = kmm_cache_alloc_fast(SC(s));
		if (!p)
			p = kmem_cache_alloc(s, SHIM_GFP);
		if (!p)
			break;
		if (!first) {
			first = p;
			continue;
		}
		p[0] = tc_protect(p, bin->head);
		p[1] = (void *)shim_tc_key;
		bin->head = p;
		bin->room--;
	}
	return first;
}

/* Everything else: boot, the bootstrap arena, refills, the slow paths. */
static __attribute__((noinline)) void *shim_malloc_any(size_t size)
{
	if (unlikely(!shim_ready()))
		return boot_arena_alloc(size, 0);
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
		return boot_arena_alloc(size, align);
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

static __attribute__((noinline)) void shim_free_slow(void *p, const char *fn)
{
	if (kmm_is_linear_addr(p)) {
		struct page *page = kmm_fast_slab_page(p);
		if (page && page->slab_cache && shim_bin_cache[tc_bin_of_cache(page->slab_cache)] == page->slab_cache) {
			unsigned int b = tc_bin_of_cache(page->slab_cache);
			if (((void **)p)[1] == (void *)shim_tc_key && tc_listed(b, p)) {
				kmm_error("double free", "%s(%p): %s object %p is already free (in this thread's cache)", fn, p,
					  page->slab_cache->name, p);
				return;
			}
			if (!shim_tc.dead) {
				if (!shim_tc.registered)
					tc_register();
				else if (!shim_tc.bin[b].room)
					tc_trim(b);	/* full: the older half goes back, in one go */
				if (tc_free_fast(p, -1))
					return;
			}
			/* the list is full (or p is no live object: kfree reports) */
			if (shim_fast_free && __kmm_kfree_fast(p))
				return;
		} else if (!page) {
			struct page *head = compound_head(kmm_pfn_to_page(kmm_virt_to_pfn(p)));
			bool reported;
			if (PageLargeKmalloc(head) && page_address(head) == p && (lc_put(p, head->alloc_order, fn, &reported) || reported))
				return;
		}
		kfree(p);	/* slab objects, large blocks; misuse reported there */
		return;
	}
	struct huge_hdr *h = huge_lookup(p);
	if (h) {
		void *base = h->base;
		h->magic = 0;
		vfree(base);
		return;
	}
	if (in_boot_arena(p))
		return;		/* bootstrap blocks are never freed */
	kmm_error("invalid free", "%s(%p): not memory from kmm-malloc", fn, p);
}

/*
 * Push p on the calling thread's list of its class when p is a live object
 * boundary of a fast cache (its bufctl ACTIVE) and the list has room; not
 * listed already (the key).  expect: the bin a sized free says p belongs
 * to, or -1.  false: nothing done, the caller takes shim_free_slow.
 */
static inline __attribute__((always_inline)) bool tc_free_fast(void *p, int expect)
{
	uintptr_t poff = (uintptr_t)p - (uintptr_t)kmm.page_offset;
	if (unlikely(poff >= ((uintptr_t)kmm.max_low_pfn << PAGE_SHIFT)))
		return false;
	struct page *page = kmm_pfn_to_page(poff >> PAGE_SHIFT);
	struct kmem_cache *s = page->slab_cache;
	unsigned int b = tc_bin_of_cache(s);
	struct tc_bin *bin = &shim_tc.bin[b];
	unsigned int room = bin->room;
	if (unlikely(!room) || unlikely(!(page_flags_read(page) & (1UL << PG_slab))) ||
	    unlikely(shim_bin_cache[b] != s) || unlikely(expect >= 0 && (unsigned int)expect != b))
		return false;
	struct slab_cache *cachep = SC(s);
	struct slab *slabp = page->slab_mgmt;
	size_t off = (size_t)((const char *)p - (const char *)slabp->s_mem);
	if (unlikely(off >= (size_t)cachep->num * cachep->buffer_size))
		return false;
	unsigned int idx = (unsigned int)(((uint64_t)off * cachep->reciprocal_buffer_size) >> 32);
	if (unlikely((size_t)idx * cachep->buffer_size != off))
		return false;	/* interior pointer: kfree reports */
	if (unlikely(__atomic_load_n(&slab_bufctl(slabp)[idx], __ATOMIC_RELAXED) != BUFCTL_ACTIVE))
		return false;	/* free in the core: a late double free, kfree reports */
	void **o = p;
	if (unlikely(o[1] == (void *)shim_tc_key))
		return false;	/* maybe listed: the slow path searches */
	o[0] = tc_protect(o, bin->head);
	o[1] = (void *)shim_tc_key;
	bin->head = o;
	bin->room = room - 1;
	return true;
}

static inline __attribute__((always_inline)) void shim_free(void *p)
{
	if (likely(tc_free_fast(p, -1)))
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
		struct huge_hdr *h = huge_lookup(p);
		if (h)
			return h->usable;
		if (in_boot_arena(p))
			return boot_arena_size(p);
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
	else if (n <= shim_small_max)
		n = shim_class_size[(n + SHIM_ALIGN - 1) / SHIM_ALIGN];
	else if (n < shim_large_min)
		n = shim_large_min;
	return kmalloc_size_roundup(n);
}

static __attribute__((noinline)) void shim_sized_free_slow(void *p, size_t size, size_t align, const char *fn)
{
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_UP && !in_boot_arena(p) &&
	    kmm_is_linear_addr(p)) {
		size_t want = shim_expected_usable(size, align);
		size_t have = want ? ksize(p) : 0;
		if (have && have != want) {
			kmm_error("size mismatch", "%s(%p, %zu): the block has %zu bytes; one of %zu bytes would have %zu",
				  fn, p, size, have, size, want);
			return;
		}
	}
	shim_free(p);
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
		if (likely(b != 0) && likely(tc_free_fast(p, (int)b - 1)))
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
	if (likely(tc_free_fast(p, -1)))
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
		p = boot_arena_alloc(bytes, 0);	/* static memory: zero */
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
	if (unlikely(!shim_ready()) || in_boot_arena(p)) {
		void *q = shim_malloc(size);
		if (q) {
			size_t old = in_boot_arena(p) ? boot_arena_size(p) : shim_usable(p, "invalid realloc", fn);
			memcpy(q, p, old < size ? old : size);
			if (!in_boot_arena(p))
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
	if (!shim_ready() || in_boot_arena(p))
		return in_boot_arena(p) ? boot_arena_size(p) : 0;
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
	lc_drain();
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
