/*
 * demo.c - `kmm demo`: boot a machine, run a multi-threaded workload
 * through every layer for a few seconds, print the reports, draw the
 * pictures.
 *
 * The workload is a sequence of rounds (ROUNDS_PER_SEC per second of
 * --seconds); each worker thread runs every round with its own PRNG
 * (seeded from --seed and its index), doing OPS_PER_ROUND operations
 * picked at random: page allocations of every order from every zone and
 * node, objects from three slab caches with constructors, kmalloc of
 * every size class, vmalloc areas, high-memory pages mapped with kmap,
 * kmap_local_page and kmap_atomic, mempool elements, GFP_ATOMIC requests.
 * Every PRESSURE_EVERY rounds worker 0 runs a pressure episode: it takes
 * low memory with GFP_NOWAIT until the zones sit at their min watermark,
 * then asks the mempools for elements (served from their reserves) and
 * takes GFP_ATOMIC pages below the min watermark (the reserve), and gives
 * everything back.  Rounds are paced to the wall clock (a round never
 * starts early), so --seconds is the duration on an idle machine.
 *
 * After the last round the workers park with what they hold (pages,
 * objects, kmaps, vmalloc areas); the main thread takes the snapshot for
 * the memory map and prints the reports, then lets them free everything.
 *
 * The machine boots with oom_wait_ms=200 (0 with one thread) unless the
 * options say otherwise: a machine too small for the working sets makes
 * requests fail quickly instead of stalling the demo.
 *
 * Determinism: with --threads 1 the demo installs a virtual clock
 * (kmm_set_clock) advanced by the operations themselves, and boots with
 * oom_wait_ms=0 (a single thread could never be woken by another's free),
 * so the same seed gives the same operations, the same machine state and
 * the same report text.  vmallocinfo is printed with addresses rebased to
 * x86-64's VMALLOC_START and callers as symbol+offset, so the host's
 * address-space randomisation does not show.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmm_tool.h"

#define ROUNDS_PER_SEC 20
#define ROUND_NS (1000000000ULL / ROUNDS_PER_SEC)
#define OPS_PER_ROUND 1000
#define PRESSURE_EVERY 20	/* rounds: one episode per second */
#define PRESSURE_PHASE 10	/* ... in the middle of each second */
#define MAX_THREADS 64
#define DEMO_OOM_WAIT_MS "200"	/* how long a GFP_KERNEL request waits for frees (multi-threaded runs) */
#define NR_CACHES 3
#define FAKE_VMALLOC_START 0xffffc90000000000ULL	/* x86-64 VMALLOC_START, for display */

/* ---- configuration and shared state ---------------------------------------- */

struct demo_opts {
	const char *options;
	double seconds;
	unsigned long seed;
	int threads;
	const char *out;
	bool quiet;
};

/* Counters every worker adds to (relaxed atomics); with one thread they
 * are exact and reproducible. */
static struct {
	unsigned long ops;
	unsigned long pages[NR_PAGE_ORDERS], page_fail;
	unsigned long zone_req[4];	/* normal, dma, highmem, node-bound */
	unsigned long slab_objs, ctor_calls;
	unsigned long kmalloc_objs, kmalloc_bytes, kmalloc_ksize, krealloc;
	unsigned long vmalloc_areas, vmalloc_pages, vmalloc_fail;
	unsigned long kmap, kmap_local, kmap_atomic;
	unsigned long pool_allocs, pool_from_reserve, pool_null;
	unsigned long episodes, hog_pages, atomic_reserve_pages, atomic_fail;
	unsigned long rounds_done;	/* worker 0 */
} st;

#define ADD(field, n) __atomic_add_fetch(&st.field, (unsigned long)(n), __ATOMIC_RELAXED)

static struct kmem_cache *caches[NR_CACHES];
static const struct {
	const char *name;
	unsigned int size, align;
	slab_flags_t flags;
} cache_def[NR_CACHES] = {
	{ "demo_inode", 600, 0, SLAB_HWCACHE_ALIGN },
	{ "demo_dentry", 192, 0, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT },
	{ "demo_buffer_head", 104, 8, 0 },
};
static mempool_t *pool_slab, *pool_kmalloc, *pool_pages;
#define POOL_SLAB_MIN 16
#define POOL_KMALLOC_MIN 32
#define POOL_KMALLOC_SIZE 256
#define POOL_PAGES_MIN 8
#define POOL_PAGES_ORDER 1

static __thread int pool_alloc_failed;	/* the allocator under a pool said no */

static void ctor(void *obj)
{
	/* a constructed object starts with a marker, as a kernel object
	 * starts with its initialised lock and list heads */
	memset(obj, 0, 16);
	((uint32_t *)obj)[0] = 0xc0ffee;
	ADD(ctor_calls, 1);
}

static void *pool_alloc_slab(gfp_t gfp, void *data)
{
	void *p = mempool_alloc_slab(gfp, data);
	if (!p)
		pool_alloc_failed = 1;
	return p;
}

static void *pool_alloc_kmalloc(gfp_t gfp, void *data)
{
	void *p = mempool_kmalloc(gfp, data);
	if (!p)
		pool_alloc_failed = 1;
	return p;
}

static void *pool_alloc_pages(gfp_t gfp, void *data)
{
	void *p = mempool_alloc_pages(gfp, data);
	if (!p)
		pool_alloc_failed = 1;
	return p;
}

/* the machine, as the workers size their working sets from it */
static struct {
	unsigned long total_pages, lowmem_pages, highmem_pages;
	bool has_highmem, has_dma;
	int nr_nodes, nr_pkmap;
	unsigned long vmalloc_bytes;
} mach;

/* ---- virtual clock (deterministic mode) ----------------------------------------- */

static uint64_t vclock;	/* ns */

static uint64_t virtual_now(void)
{
	/* every read advances a microsecond: time passes with the work */
	return __atomic_add_fetch(&vclock, 1000, __ATOMIC_RELAXED);
}

static void vclock_at_least(uint64_t t)
{
	uint64_t cur = __atomic_load_n(&vclock, __ATOMIC_RELAXED);
	while (cur < t && !__atomic_compare_exchange_n(&vclock, &cur, t, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* ---- workers --------------------------------------------------------------------- */

struct held_page {
	struct page *page;
	unsigned int order;
	bool kmapped;
};

struct held_obj {
	void *p;
	size_t size;
};

struct worker {
	int id;
	pthread_t thread;
	struct rng rng;
	/* working sets and their limits */
	struct held_page *pages;
	int nr_pages, max_pages;
	unsigned long held_page_frames, max_page_frames;
	void **objs[NR_CACHES];
	int nr_objs[NR_CACHES], max_objs;
	struct held_obj *kobjs;
	int nr_kobjs, max_kobjs;
	unsigned long kbytes, max_kbytes;	/* kmalloc bytes held */
	struct held_obj *vareas;
	int nr_vareas, max_vareas;
	unsigned long vbytes, max_vbytes;
	struct held_page *high;
	int nr_high, max_high, nr_kmapped, max_kmapped;
	void *pool_el[3][8];
	int nr_pool_el[3];
};

static struct worker workers[MAX_THREADS];
static int nr_workers;
static struct demo_opts opt;
static int total_rounds;
static double start_time;

/* samples of free pages per order, taken by worker 0 after each round */
static struct free_sample *samples;
static int nr_samples;

/* parking after the last round */
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static int parked, released;

static unsigned int pick_order(struct rng *r)
{
	unsigned int x = (unsigned int)rng_below(r, 100);
	if (x < 40) return 0;
	if (x < 55) return 1;
	if (x < 65) return 2;
	if (x < 75) return 3;
	if (x < 90) return 4 + (unsigned int)rng_below(r, 3);	/* 4..6 */
	if (x < 98) return 7 + (unsigned int)rng_below(r, 2);	/* 7..8 */
	return 9 + (unsigned int)rng_below(r, 2);		/* 9..10 */
}

/* log-uniform size between lo and hi */
static size_t pick_size(struct rng *r, size_t lo, size_t hi)
{
	int bits_lo = 63 - __builtin_clzll(lo), bits_hi = 63 - __builtin_clzll(hi);
	int b = bits_lo + (int)rng_below(r, (uint64_t)(bits_hi - bits_lo + 1));
	size_t base = (size_t)1 << b;
	size_t s = base + rng_below(r, base);
	return s < lo ? lo : s > hi ? hi : s;
}

static void touch(void *p, size_t n)
{
	/* write the first and last byte, as a user of the memory would */
	((volatile char *)p)[0] = 1;
	((volatile char *)p)[n - 1] = 2;
}

static void free_held_page(struct worker *w, int i)
{
	struct held_page *h = &w->pages[i];
	__free_pages(h->page, h->order);
	w->held_page_frames -= 1UL << h->order;
	w->pages[i] = w->pages[--w->nr_pages];
}

static void op_pages(struct worker *w)
{
	struct rng *r = &w->rng;
	/* grow towards the working-set target, then hover around it */
	unsigned int p_free = w->held_page_frames < w->max_page_frames ? 35 : 70;
	bool want_free = w->nr_pages > 0 && (w->nr_pages == w->max_pages || rng_below(r, 100) < p_free);
	if (want_free) {
		free_held_page(w, (int)rng_below(r, (uint64_t)w->nr_pages));
		return;
	}
	unsigned int order = pick_order(r);
	gfp_t gfp = GFP_KERNEL;
	unsigned int kind = (unsigned int)rng_below(r, 100);
	int zone_kind = 0;
	if (kind < 8 && mach.has_dma && order <= 3) {
		gfp = GFP_KERNEL | GFP_DMA;
		zone_kind = 1;
	} else if (kind < 30 && mach.has_highmem) {
		gfp = GFP_HIGHUSER_MOVABLE;
		zone_kind = 2;
	} else if (kind < 40) {
		gfp = GFP_KERNEL | __GFP_RECLAIMABLE;
	}
	gfp |= __GFP_NOWARN;
	/* opportunistic large blocks, as kernel code asks for them: fail
	 * rather than wait for the rest of the machine to free 2 MiB */
	if (order > 3)	/* PAGE_ALLOC_COSTLY_ORDER */
		gfp |= __GFP_NORETRY;
	struct page *page;
	if (mach.nr_nodes > 1 && rng_below(r, 100) < 25) {
		page = alloc_pages_node((int)rng_below(r, (uint64_t)mach.nr_nodes), gfp, order);
		ADD(zone_req[3], 1);
	} else {
		page = alloc_pages(gfp, order);
	}
	ADD(zone_req[zone_kind], 1);
	if (!page) {
		ADD(page_fail, 1);
		return;
	}
	ADD(pages[order], 1);
	if (!PageHighMem(page)) {
		touch(page_address(page), PAGE_SIZE << order);
	} else {
		/* high memory has no linear address (page_address may even
		 * show a stale permanent kmap of the first page): map a page */
		char *va = kmap_local_page(page);
		touch(va, PAGE_SIZE);
		kunmap_local(va);
		ADD(kmap_local, 1);
	}
	w->pages[w->nr_pages++] = (struct held_page){ page, order, false };
	w->held_page_frames += 1UL << order;
}

static void op_slab(struct worker *w)
{
	struct rng *r = &w->rng;
	int c = (int)rng_below(r, NR_CACHES);
	int n = w->nr_objs[c];
	if (n > 0 && (n == w->max_objs || rng_below(r, 100) < 45)) {
		int i = (int)rng_below(r, (uint64_t)n);
		void *obj = w->objs[c][i];
		if (((uint32_t *)obj)[1] != 0xabcd0000u + (uint32_t)c)
			tool_err("demo: slab object %p of %s was changed behind our back", obj, cache_def[c].name);
		kmem_cache_free(caches[c], obj);
		w->objs[c][i] = w->objs[c][--w->nr_objs[c]];
		return;
	}
	void *obj = kmem_cache_alloc(caches[c], GFP_KERNEL | __GFP_NOWARN);
	if (!obj)
		return;
	if (((uint32_t *)obj)[0] != 0xc0ffee)
		tool_err("demo: object from %s not constructed", cache_def[c].name);
	((uint32_t *)obj)[1] = 0xabcd0000u + (uint32_t)c;
	w->objs[c][w->nr_objs[c]++] = obj;
	ADD(slab_objs, 1);
}

static void op_kmalloc(struct worker *w)
{
	struct rng *r = &w->rng;
	int n = w->nr_kobjs;
	unsigned int x = (unsigned int)rng_below(r, 100);
	if (n > 0 && (n == w->max_kobjs || w->kbytes > w->max_kbytes || x < 40)) {
		int i = (int)rng_below(r, (uint64_t)n);
		kfree(w->kobjs[i].p);
		w->kbytes -= w->kobjs[i].size;
		w->kobjs[i] = w->kobjs[--w->nr_kobjs];
		return;
	}
	if (n > 0 && x < 48) {	/* grow or shrink one */
		int i = (int)rng_below(r, (uint64_t)n);
		size_t ns = pick_size(r, 8, 8192);
		void *q = krealloc(w->kobjs[i].p, ns, GFP_KERNEL | __GFP_NOWARN);
		if (q) {
			w->kbytes = w->kbytes - w->kobjs[i].size + ns;
			w->kobjs[i] = (struct held_obj){ q, ns };
			ADD(krealloc, 1);
		}
		return;
	}
	size_t size = rng_below(r, 100) < 97 ? pick_size(r, 8, 4096) : pick_size(r, 4096, 256 * 1024);
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | (size > 32768 ? __GFP_NORETRY : 0);	/* costly orders */
	void *p = (x & 1) ? kzalloc(size, gfp) : kmalloc(size, gfp);
	if (!p)
		return;
	touch(p, size);
	w->kobjs[w->nr_kobjs++] = (struct held_obj){ p, size };
	w->kbytes += size;
	ADD(kmalloc_objs, 1);
	ADD(kmalloc_bytes, size);
	ADD(kmalloc_ksize, ksize(p));
}

/* Not static: vmallocinfo shows the caller of vmalloc, and the demo
 * prints it as symbol+offset through the executable's exported symbols. */
void *demo_vmalloc(size_t size, bool zero);
__attribute__((noinline)) void *demo_vmalloc(size_t size, bool zero)
{
	void *p = zero ? vzalloc(size) : vmalloc(size);
	__asm__ __volatile__("" ::: "memory");	/* not a tail call: keep the frame */
	return p;
}

static void op_vmalloc(struct worker *w)
{
	struct rng *r = &w->rng;
	int n = w->nr_vareas;
	if (n > 0 && (n == w->max_vareas || w->vbytes > w->max_vbytes || rng_below(r, 100) < 45)) {
		int i = (int)rng_below(r, (uint64_t)n);
		vfree(w->vareas[i].p);
		w->vbytes -= w->vareas[i].size;
		w->vareas[i] = w->vareas[--w->nr_vareas];
		return;
	}
	size_t size = pick_size(r, 4096, 512 * 1024);
	void *p = demo_vmalloc(size, rng_below(r, 2));
	if (!p) {
		ADD(vmalloc_fail, 1);
		return;
	}
	touch(p, size);
	w->vareas[w->nr_vareas++] = (struct held_obj){ p, size };
	w->vbytes += size;
	ADD(vmalloc_areas, 1);
	ADD(vmalloc_pages, (size + PAGE_SIZE - 1) / PAGE_SIZE);
}

static void op_highmem(struct worker *w)
{
	struct rng *r = &w->rng;
	int n = w->nr_high;
	unsigned int x = (unsigned int)rng_below(r, 100);
	if (n > 0 && (n == w->max_high || x < 35)) {
		int i = (int)rng_below(r, (uint64_t)n);
		struct held_page *h = &w->high[i];
		if (h->kmapped) {
			kunmap(h->page);
			w->nr_kmapped--;
		}
		__free_page(h->page);
		w->high[i] = w->high[--w->nr_high];
		return;
	}
	if (n > 1 && x < 60) {
		/* nested short-lived mappings: kmap_local inside kmap_atomic */
		struct page *a = w->high[rng_below(r, (uint64_t)n)].page;
		struct page *b = w->high[rng_below(r, (uint64_t)n)].page;
		char *pa = kmap_atomic(a);
		char *pb = kmap_local_page(b);
		pa[rng_below(r, PAGE_SIZE)] ^= 1;
		pb[rng_below(r, PAGE_SIZE)] ^= 1;
		kunmap_local(pb);
		kunmap_atomic(pa);
		ADD(kmap_atomic, 1);
		ADD(kmap_local, 1);
		return;
	}
	struct page *page = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
	if (!page)
		return;
	bool keep_mapped = w->nr_kmapped < w->max_kmapped && rng_below(r, 100) < 50;
	char *va = kmap(page);
	memset(va, 0x5a, 64);
	ADD(kmap, 1);
	if (!keep_mapped)
		kunmap(page);
	else
		w->nr_kmapped++;
	w->high[w->nr_high++] = (struct held_page){ page, 0, keep_mapped };
}

static mempool_t *pool_of(int k) { return k == 0 ? pool_slab : k == 1 ? pool_kmalloc : pool_pages; }

static void pool_give_back(struct worker *w, int k)
{
	while (w->nr_pool_el[k] > 0)
		mempool_free(w->pool_el[k][--w->nr_pool_el[k]], pool_of(k));
}

static void op_mempool(struct worker *w)
{
	struct rng *r = &w->rng;
	int k = (int)rng_below(r, 3);
	if (w->nr_pool_el[k] == 8 || (w->nr_pool_el[k] > 0 && rng_below(r, 2))) {
		mempool_free(w->pool_el[k][--w->nr_pool_el[k]], pool_of(k));
		return;
	}
	void *el = mempool_alloc(pool_of(k), GFP_KERNEL);
	if (el) {
		w->pool_el[k][w->nr_pool_el[k]++] = el;
		ADD(pool_allocs, 1);
	}
}

static void op_atomic(struct worker *w)
{
	/* an interrupt handler's allocation: may not sleep, freed soon */
	struct rng *r = &w->rng;
	if (rng_below(r, 2)) {
		void *p = kmalloc(pick_size(r, 16, 1024), GFP_ATOMIC | __GFP_NOWARN);
		kfree(p);
	} else {
		struct page *p = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
		if (p)
			__free_page(p);
	}
}

/* Low memory down to the min watermark with GFP_NOWAIT, then the pools and
 * GFP_ATOMIC below it; everything is given back at the end. */
static void pressure_episode(struct worker *w, int round)
{
	size_t cap = 1u << 16, n = 0;
	struct held_page *hog = xmalloc(cap * sizeof(*hog));
	static const unsigned int orders[] = { 9, 5, 2, 0 };
	unsigned long hog_pages = 0;

	for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		for (;;) {
			if (n == cap) {
				cap *= 2;
				hog = xrealloc(hog, cap * sizeof(*hog));
			}
			struct page *p = alloc_pages(GFP_NOWAIT | __GFP_NOWARN, orders[k]);
			if (!p)
				break;
			hog[n++] = (struct held_page){ p, orders[k], false };
			hog_pages += 1UL << orders[k];
		}
	}
	ADD(hog_pages, hog_pages);

	/* the pools: the allocator below is out of pages, the reserve serves */
	void *el[3][POOL_KMALLOC_MIN + 4];
	int nel[3] = { 0, 0, 0 };
	static const int want[3] = { POOL_SLAB_MIN + 4, POOL_KMALLOC_MIN + 4, POOL_PAGES_MIN + 4 };
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < want[k]; i++) {
			pool_alloc_failed = 0;
			void *e = mempool_alloc(pool_of(k), GFP_NOWAIT);
			if (!e) {
				ADD(pool_null, 1);
				continue;
			}
			el[k][nel[k]++] = e;
			ADD(pool_allocs, 1);
			if (pool_alloc_failed)
				ADD(pool_from_reserve, 1);
		}
	}

	/* GFP_ATOMIC may go below the min watermark: the reserve */
	size_t atomic_start = n;
	for (int i = 0; i < 65536; i++) {
		if (n == cap) {
			cap *= 2;
			hog = xrealloc(hog, cap * sizeof(*hog));
		}
		struct page *p = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
		if (!p) {
			ADD(atomic_fail, 1);
			break;
		}
		hog[n++] = (struct held_page){ p, 0, false };
	}
	ADD(atomic_reserve_pages, n - atomic_start);
	/* the chart shows the episode at its deepest */
	take_free_sample(&samples[nr_samples], ((double)round + 0.5) / ROUNDS_PER_SEC);
	__atomic_store_n(&nr_samples, nr_samples + 1, __ATOMIC_RELEASE);

	for (int k = 0; k < 3; k++)
		while (nel[k] > 0)
			mempool_free(el[k][--nel[k]], pool_of(k));
	while (n > 0) {
		n--;
		__free_pages(hog[n].page, hog[n].order);
	}
	free(hog);
	ADD(episodes, 1);
	(void)w;
}

static void run_round(struct worker *w, int round)
{
	if (w->id == 0 && round % PRESSURE_EVERY == PRESSURE_PHASE)
		pressure_episode(w, round);
	for (int k = 0; k < OPS_PER_ROUND; k++) {
		unsigned int x = (unsigned int)rng_below(&w->rng, 100);
		if (x < 28)
			op_slab(w);
		else if (x < 56)
			op_kmalloc(w);
		else if (x < 74)
			op_pages(w);
		else if (x < 78)
			op_vmalloc(w);
		else if (x < 88 && mach.has_highmem)
			op_highmem(w);
		else if (x < 94)
			op_mempool(w);
		else
			op_atomic(w);
	}
	ADD(ops, OPS_PER_ROUND);
}

static void sleep_until(double t)
{
	double d = t - now_seconds();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void release_all(struct worker *w)
{
	while (w->nr_pages > 0)
		free_held_page(w, w->nr_pages - 1);
	for (int c = 0; c < NR_CACHES; c++)
		while (w->nr_objs[c] > 0)
			kmem_cache_free(caches[c], w->objs[c][--w->nr_objs[c]]);
	while (w->nr_kobjs > 0)
		kfree(w->kobjs[--w->nr_kobjs].p);
	while (w->nr_vareas > 0)
		vfree(w->vareas[--w->nr_vareas].p);
	while (w->nr_high > 0) {
		struct held_page *h = &w->high[--w->nr_high];
		if (h->kmapped)
			kunmap(h->page);
		__free_page(h->page);
	}
	for (int k = 0; k < 3; k++)
		pool_give_back(w, k);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int round = 0; round < total_rounds; round++) {
		if (opt.threads == 1)
			vclock_at_least((uint64_t)round * ROUND_NS);
		run_round(w, round);
		if (w->id == 0) {
			take_free_sample(&samples[nr_samples], (double)(round + 1) / ROUNDS_PER_SEC);
			__atomic_store_n(&nr_samples, nr_samples + 1, __ATOMIC_RELEASE);
			__atomic_store_n(&st.rounds_done, (unsigned long)round + 1, __ATOMIC_RELEASE);
		}
		sleep_until(start_time + (double)(round + 1) / ROUNDS_PER_SEC);
	}
	/* park with everything held until the main thread took its pictures */
	pthread_mutex_lock(&park_lock);
	parked++;
	pthread_cond_broadcast(&park_cond);
	while (!released)
		pthread_cond_wait(&park_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
	release_all(w);
	return NULL;
}

static void worker_init(struct worker *w, int id)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	rng_seed(&w->rng, opt.seed * 1000003ULL + (uint64_t)id);
	/* working sets: about a quarter of memory in pages, shared by the workers */
	w->max_page_frames = mach.total_pages * 35 / 100 / (unsigned long)opt.threads;
	w->max_pages = 4096;
	w->pages = xcalloc((size_t)w->max_pages, sizeof(*w->pages));
	/* the rest scaled to the machine, so a small one is not overrun:
	 * slab objects about 5% of low memory, kmalloc 10%, vmalloc 5% (and a
	 * quarter of the window), high memory 20% of it */
	unsigned long low_bytes = mach.lowmem_pages * PAGE_SIZE / (unsigned long)opt.threads;
	w->max_objs = (int)(low_bytes / 20 / (NR_CACHES * 600));
	if (w->max_objs > 3000)
		w->max_objs = 3000;
	if (w->max_objs < 8)
		w->max_objs = 8;
	for (int c = 0; c < NR_CACHES; c++)
		w->objs[c] = xcalloc((size_t)w->max_objs, sizeof(void *));
	w->max_kobjs = 4000;
	w->max_kbytes = low_bytes / 10;
	w->kobjs = xcalloc((size_t)w->max_kobjs, sizeof(*w->kobjs));
	w->max_vareas = 24;
	w->vareas = xcalloc((size_t)w->max_vareas, sizeof(*w->vareas));
	w->max_vbytes = mach.vmalloc_bytes / 4 / (unsigned long)opt.threads;
	if (w->max_vbytes > mach.total_pages * PAGE_SIZE / 20 / (unsigned long)opt.threads)
		w->max_vbytes = mach.total_pages * PAGE_SIZE / 20 / (unsigned long)opt.threads;
	w->max_high = (int)(mach.highmem_pages / 5 / (unsigned long)opt.threads);
	if (w->max_high > 256)
		w->max_high = 256;
	if (w->max_high < 2)
		w->max_high = 2;
	w->high = xcalloc((size_t)w->max_high, sizeof(*w->high));
	w->max_kmapped = mach.nr_pkmap / 4 / opt.threads;
	if (w->max_kmapped > 48)
		w->max_kmapped = 48;
}

static void worker_fini(struct worker *w)
{
	free(w->pages);
	for (int c = 0; c < NR_CACHES; c++)
		free(w->objs[c]);
	free(w->kobjs);
	free(w->vareas);
	free(w->high);
}

/* ---- output ------------------------------------------------------------------------- */

static void print_report(const char *name, const char *title)
{
	char *t = report_text(name);
	if (!t)
		return;
	printf("\n==> %s <==\n%s", title, t);
	free(t);
}

/* zoneinfo, only the lines that describe sizes and watermarks */
static void print_short_zoneinfo(void)
{
	static const char *const keep[] = { "pages free", "min ", "low ", "high ", "spanned", "present", "managed",
					    "protection:", NULL };
	char *t = report_text("zoneinfo");
	if (!t)
		return;
	printf("\n==> zoneinfo (short: sizes and watermarks) <==\n");
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		const char *s = line;
		while (*s == ' ')
			s++;
		bool show = !strncmp(line, "Node ", 5);
		for (int i = 0; keep[i] && !show; i++)
			show = !strncmp(s, keep[i], strlen(keep[i]));
		if (show)
			printf("%s\n", line);
	}
	free(t);
}

/* slabinfo, the header and the caches that hold objects */
static void print_slabinfo(void)
{
	char *t = report_text("slabinfo");
	if (!t)
		return;
	printf("\n==> slabinfo (caches with objects) <==\n");
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64];
		unsigned long active, num;
		if (line[0] != '#' && strncmp(line, "slabinfo", 8) &&
		    sscanf(line, "%63s %lu %lu", name, &active, &num) == 3 && num == 0)
			continue;
		printf("%s\n", line);
	}
	free(t);
}

/* "0x7f...-0x7f... size 0x55... pages=..." -> kernel-looking, stable text */
static void print_vmallocinfo(void)
{
	struct kmm_layout lay;
	char *t = report_text("vmallocinfo");
	if (!t || kmm_get_layout(&lay)) {
		free(t);
		return;
	}
	uintptr_t base = (uintptr_t)lay.vmalloc_start;
	printf("\n==> vmallocinfo (addresses rebased to 0x%llx, callers as symbol+offset) <==\n",
	       (unsigned long long)FAKE_VMALLOC_START);
	unsigned long lazy = 0, lazy_bytes = 0;
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long a, b;
		unsigned long size;
		int used = 0;
		if (strstr(line, "unpurged vm_area") && sscanf(line, "0x%llx-0x%llx %lu", &a, &b, &size) == 3) {
			lazy++;
			lazy_bytes += size;
			continue;
		}
		if (sscanf(line, "0x%llx-0x%llx %lu %n", &a, &b, &size, &used) < 3) {
			printf("%s\n", line);
			continue;
		}
		printf("0x%016llx-0x%016llx %7lu", FAKE_VMALLOC_START + (a - base), FAKE_VMALLOC_START + (b - base), size);
		char *rest = line + used;
		unsigned long long caller;
		int cu = 0;
		if (sscanf(rest, "0x%llx%n", &caller, &cu) == 1) {
			Dl_info info;
			if (dladdr((void *)(uintptr_t)caller, &info) && info.dli_sname && info.dli_saddr)
				printf(" %s+0x%llx", info.dli_sname, caller - (unsigned long long)(uintptr_t)info.dli_saddr);
			else if (dladdr((void *)(uintptr_t)caller, &info) && info.dli_fname)
				printf(" %s+0x%llx", strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname,
				       caller - (unsigned long long)(uintptr_t)info.dli_fbase);
			else
				printf(" ?");
			rest += cu;
		}
		printf("%s%s\n", *rest && *rest != ' ' ? " " : "", rest);
	}
	if (lazy)
		printf("(and %lu lazily freed areas, %lu KiB, waiting to be purged: \"unpurged vm_area\" lines not shown)\n",
		       lazy, lazy_bytes >> 10);
	free(t);
}

static void print_summary(void)
{
	unsigned long pages = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		pages += st.pages[o];
	printf("\n==> workload <==\n");
	printf("operations          %lu in %d rounds, %d thread%s, seed %lu\n", st.ops, total_rounds, opt.threads,
	       opt.threads > 1 ? "s" : "", opt.seed);
	printf("page allocations    %lu by order:", pages);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		printf(" %lu", st.pages[o]);
	printf("; failed %lu\n", st.page_fail);
	printf("                    requests for Normal %lu, DMA %lu, HighMem %lu; %lu bound to a node\n",
	       st.zone_req[0], st.zone_req[1], st.zone_req[2], st.zone_req[3]);
	printf("slab objects        %lu from %d caches; constructor calls %lu\n", st.slab_objs, NR_CACHES, st.ctor_calls);
	printf("kmalloc             %lu objects, %lu bytes asked, %lu bytes given (ksize); %lu krealloc\n",
	       st.kmalloc_objs, st.kmalloc_bytes, st.kmalloc_ksize, st.krealloc);
	printf("vmalloc             %lu areas, %lu pages; %lu failed\n", st.vmalloc_areas, st.vmalloc_pages, st.vmalloc_fail);
	printf("highmem             %lu kmap, %lu kmap_local_page, %lu kmap_atomic\n", st.kmap, st.kmap_local,
	       st.kmap_atomic);
	printf("mempools            %lu elements handed out; under pressure %lu came from the reserve, %lu requests got NULL\n",
	       st.pool_allocs, st.pool_from_reserve, st.pool_null);
	printf("memory pressure     %lu episodes: %lu pages taken with GFP_NOWAIT down to the min watermark,\n"
	       "                    then %lu pages with GFP_ATOMIC below it (the reserve)\n",
	       st.episodes, st.hog_pages, st.atomic_reserve_pages);
}

static void progress(bool final)
{
	static bool printed;
	bool tty = stderr_is_tty();
	unsigned long rounds = __atomic_load_n(&st.rounds_done, __ATOMIC_ACQUIRE);
	int ns = __atomic_load_n(&nr_samples, __ATOMIC_ACQUIRE);
	unsigned long free_mib = ns > 0 ? (samples[ns - 1].total_free * PAGE_SIZE) >> 20 : 0;
	fprintf(stderr, "%skmm demo: %4.1f s  round %lu/%d  %lu ops  %lu MiB free  %lu pressure episodes%s",
		tty && printed ? "\r" : "", now_seconds() - start_time, rounds, total_rounds,
		__atomic_load_n(&st.ops, __ATOMIC_RELAXED), free_mib, __atomic_load_n(&st.episodes, __ATOMIC_RELAXED),
		tty ? (final ? "\n" : "   ") : "\n");
	printed = true;
	fflush(stderr);
}

/* ---- main ------------------------------------------------------------------------------ */

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: kmm demo [--options 'BOOT OPTIONS'] [--seconds N] [--seed S] [--threads T] [--out DIR] [--quiet]\n"
		"  Boots the default machine (1 GiB, two nodes, DMA/Normal/HighMem) or the one --options\n"
		"  describes, runs a workload through every layer for N seconds (default 5) on T threads\n"
		"  (default 4), prints buddyinfo, zoneinfo, slabinfo, vmallocinfo and meminfo and writes\n"
		"  DIR/memory-map.svg and DIR/free-pages.svg (default DIR: ./kmm-out).  With --threads 1\n"
		"  the same seed gives the same reports.\n");
}

static int setup_pools_and_caches(void)
{
	for (int c = 0; c < NR_CACHES; c++) {
		caches[c] = kmem_cache_create(cache_def[c].name, cache_def[c].size, cache_def[c].align,
					      cache_def[c].flags, ctor);
		if (!caches[c]) {
			tool_err("demo: kmem_cache_create(%s) failed", cache_def[c].name);
			return -1;
		}
	}
	pool_slab = mempool_create(POOL_SLAB_MIN, pool_alloc_slab, mempool_free_slab, caches[0]);
	pool_kmalloc = mempool_create(POOL_KMALLOC_MIN, pool_alloc_kmalloc, mempool_kfree,
				      (void *)(uintptr_t)POOL_KMALLOC_SIZE);
	pool_pages = mempool_create(POOL_PAGES_MIN, pool_alloc_pages, mempool_free_pages,
				    (void *)(uintptr_t)POOL_PAGES_ORDER);
	if (!pool_slab || !pool_kmalloc || !pool_pages) {
		tool_err("demo: mempool_create failed");
		return -1;
	}
	return 0;
}

static void teardown_pools_and_caches(void)
{
	mempool_destroy(pool_slab);
	mempool_destroy(pool_kmalloc);
	mempool_destroy(pool_pages);
	for (int c = 0; c < NR_CACHES; c++)
		if (caches[c])
			kmem_cache_destroy(caches[c]);
}

int cmd_demo(int argc, char **argv)
{
	opt = (struct demo_opts){ .options = "", .seconds = 5, .seed = 1, .threads = 4, .out = "kmm-out" };
	for (int i = 1; i < argc; i++) {
		const char *v;
		unsigned long n;
		if ((v = opt_value(argc, argv, &i, "--options"))) {
			opt.options = v;
		} else if ((v = opt_value(argc, argv, &i, "--seconds"))) {
			char *end;
			opt.seconds = strtod(v, &end);
			if (*end || opt.seconds <= 0 || opt.seconds > 3600) {
				tool_err("demo: --seconds %s: expected a duration from 0.05 to 3600", v);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--seed"))) {
			if (!parse_ulong(v, &opt.seed, false)) {
				tool_err("demo: --seed %s: expected a number", v);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--threads"))) {
			if (!parse_ulong(v, &n, false) || n < 1 || n > MAX_THREADS) {
				tool_err("demo: --threads %s: expected 1 to %d", v, MAX_THREADS);
				return 2;
			}
			opt.threads = (int)n;
		} else if ((v = opt_value(argc, argv, &i, "--out"))) {
			opt.out = v;
		} else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
			opt.quiet = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			demo_usage(stdout);
			return 0;
		} else {
			tool_err("demo: unknown argument '%s'", argv[i]);
			demo_usage(stderr);
			return 2;
		}
	}
	total_rounds = (int)(opt.seconds * ROUNDS_PER_SEC + 0.5);
	if (total_rounds < 1)
		total_rounds = 1;

	/* the machine: the options as given; one CPU slot per worker plus the
	 * main thread unless cpus= says otherwise; a single-threaded run never
	 * waits for memory another thread might free */
	struct strbuf cmd;
	sb_init(&cmd);
	long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!strstr(opt.options, "cpus=") && host_cpus < opt.threads + 1)
		sb_printf(&cmd, "cpus=%d ", opt.threads + 1);
	if (opt.threads == 1) {
		sb_add(&cmd, "oom_wait_ms=0 ");
		kmm_set_clock(virtual_now);
	} else {
		/* a machine too small for the working sets must not stall the
		 * demo for 5 s per request (the options may say otherwise) */
		sb_add(&cmd, "oom_wait_ms=" DEMO_OOM_WAIT_MS " ");
	}
	sb_add(&cmd, opt.options);
	int rc = kmm_boot(cmd.s);
	if (rc) {
		tool_err("demo: kmm_boot(\"%s\") failed: %s", cmd.s, strerror(-rc));
		sb_free(&cmd);
		kmm_set_clock(NULL);
		return 1;
	}

	struct kmm_layout lay;
	kmm_get_layout(&lay);
	struct kmm_zone_snapshot *zones;
	int nz = zones_snapshot(&zones);
	memset(&mach, 0, sizeof(mach));
	for (int i = 0; i < nz; i++) {
		mach.total_pages += zones[i].managed_pages;
		if (zones[i].zone_idx == 3) {
			mach.has_highmem = true;
			mach.highmem_pages += zones[i].managed_pages;
		} else
			mach.lowmem_pages += zones[i].managed_pages;
		if (zones[i].zone_idx == 0)
			mach.has_dma = true;
	}
	mach.nr_nodes = lay.nr_nodes;
	mach.nr_pkmap = lay.nr_pkmap;
	mach.vmalloc_bytes = lay.vmalloc_bytes;
	free(zones);

	printf("kmm demo: machine \"%s\": %lu MiB, %d node%s, %d zones, %d CPU slots, %s, %s profile\n",
	       *opt.options ? opt.options : "default", (lay.max_pfn * PAGE_SIZE) >> 20, lay.nr_nodes,
	       lay.nr_nodes > 1 ? "s" : "", nz, lay.nr_cpus, lay.slab_backend ? "SLOB" : "SLAB",
	       lay.profile ? "modern" : "classic");
	printf("kmm demo: %d thread%s, %.2g s, seed %lu%s\n", opt.threads, opt.threads > 1 ? "s" : "", opt.seconds,
	       opt.seed, opt.threads == 1 ? " (deterministic: virtual clock, oom_wait_ms=0)"
					  : " (oom_wait_ms=" DEMO_OOM_WAIT_MS ")");
	fflush(stdout);
	sb_free(&cmd);

	if (setup_pools_and_caches()) {
		teardown_pools_and_caches();
		kmm_shutdown();
		kmm_set_clock(NULL);
		return 1;
	}

	samples = xcalloc((size_t)total_rounds * 2 + 2, sizeof(*samples));
	take_free_sample(&samples[0], 0);
	nr_samples = 1;
	nr_workers = opt.threads;
	start_time = now_seconds();
	for (int i = 0; i < nr_workers; i++) {
		worker_init(&workers[i], i);
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i])) {
			tool_err("demo: cannot start thread %d", i);
			exit(1);
		}
	}
	/* progress until every worker is parked */
	double last_plain = 0;
	for (;;) {
		pthread_mutex_lock(&park_lock);
		bool done = parked == nr_workers;
		pthread_mutex_unlock(&park_lock);
		if (done)
			break;
		if (!opt.quiet && (stderr_is_tty() || now_seconds() - last_plain >= 1.0)) {
			progress(false);
			last_plain = now_seconds();
		}
		sleep_until(now_seconds() + 0.1);
	}
	if (!opt.quiet)
		progress(true);

	/* everything held: pictures and reports */
	struct mem_picture pic;
	int pic_rc = picture_take(&pic);
	print_summary();
	print_report("buddyinfo", "buddyinfo");
	print_short_zoneinfo();
	print_slabinfo();
	print_vmallocinfo();
	print_report("meminfo", "meminfo");

	int out_rc = 0;
	char *map_path = path_join(opt.out, "memory-map.svg");
	char *chart_path = path_join(opt.out, "free-pages.svg");
	if (pic_rc || make_dirs(opt.out)) {
		out_rc = 1;
	} else {
		char sub[256];
		snprintf(sub, sizeof(sub), "kmm demo, seed %lu, %d thread%s, after %d rounds (%.2g s)", opt.seed, opt.threads,
			 opt.threads > 1 ? "s" : "", total_rounds, opt.seconds);
		if (svg_memory_map(map_path, &pic, "Physical memory of the simulated machine", sub))
			out_rc = 1;
		char title[128];
		snprintf(title, sizeof(title), "Free pages per order during kmm demo (seed %lu)", opt.seed);
		if (svg_free_chart(chart_path, samples, nr_samples, title, "seconds (workload time)"))
			out_rc = 1;
		if (!out_rc)
			printf("\npictures:\n  %s\n  %s\n", map_path, chart_path);
	}
	picture_free(&pic);
	free(map_path);
	free(chart_path);

	/* let the workers free what they hold, then check and shut down */
	pthread_mutex_lock(&park_lock);
	released = 1;
	pthread_cond_broadcast(&park_cond);
	pthread_mutex_unlock(&park_lock);
	for (int i = 0; i < nr_workers; i++) {
		pthread_join(workers[i].thread, NULL);
		worker_fini(&workers[i]);
	}
	teardown_pools_and_caches();
	int check = kmm_check();
	printf("\nkmm_check: %s\n", check ? "FAILED (see the log above)" : "every invariant holds");
	kmm_shutdown();
	kmm_set_clock(NULL);
	free(samples);
	fflush(stdout);
	if (kmm_error_count())
		return 1;
	return check || out_rc ? 1 : 0;
}
