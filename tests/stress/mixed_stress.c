/* kmm-test: backends */
/* kmm-test: timeout=600 */
/*
 * tests/stress/mixed_stress.c - every layer at once, in the style of
 * mimalloc's test-stress (issue 6 part 5), checked for "nothing lost"
 * (MISUSE.md):
 *   - THREADS chains of worker threads; each worker runs one round and
 *     then spawns its successor, which joins it and takes over its items:
 *     threads outlive their creators and every round's threads are new;
 *   - a worker allocates through every layer: kmalloc (small, cache-sized,
 *     large), kzalloc (must read zero), kmem_cache_alloc from shared caches
 *     (one with a constructor: objects arrive constructed), alloc_pages of
 *     orders 0-3 (high memory too, written and checked through
 *     kmap_local_page), vmalloc, kvmalloc, a shared mempool; it fills each
 *     item with a pattern derived from (id, offset), kreallocs some
 *     (keeping the pattern), and checks every word before every free;
 *   - items pass between threads through a shared transfer array (atomic
 *     exchange): most frees happen in another thread than the allocation,
 *     often after the allocating thread has exited;
 *   - no two live items overlap: every allocation is checked against the
 *     live ranges (a sorted table under a mutex) before it is used;
 *   - at the end everything is freed; after kmm_drain_all the free pages,
 *     slabinfo, vmallocinfo, the pkmap, the mempool reserve and kmm_check
 *     are as they were after boot.
 * With KMM_STRESS_FAIL=P (and the second test, at 10%), every allocating
 * layer fails P% of its calls (fault injection): each NULL is handled,
 * contents stay intact, __GFP_NOFAIL requests still never fail.
 *
 * Usage: stress_mixed_stress [THREADS [SCALE [ITER]]] (also KMM_STRESS_THREADS,
 * KMM_STRESS_SCALE, KMM_STRESS_ITER): THREADS chains, SCALE live items per
 * thread, ITER rounds.  The default is a short run (4 200 30; 4 100 10 under the
 * sanitizers); README "Reliability" gives the long one.  KMM_TEST_SEED
 * repeats a run.
 */
#include <stdatomic.h>

#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include <kmm/mempool.h>

#define MAX_THREADS 32
#define TRANSFERS 1000
#define CTOR_WORD 0xc0c0c0c0deadbeefULL

enum kind { K_KMALLOC, K_KZALLOC, K_CACHE, K_CACHE_CTOR, K_PAGES, K_HIGHPAGES, K_VMALLOC, K_KVMALLOC, K_MEMPOOL, K_NOFAIL,
	    NR_KINDS };

struct item {
	int kind;
	unsigned order;		/* pages */
	size_t size;
	uint64_t id;
	void *p;		/* the memory, or the struct page * for K_PAGES / K_HIGHPAGES */
};

static struct {
	int threads, scale, iter, fail_pct;
	unsigned long seed;
	struct kmem_cache *cache, *ctor_cache;
	mempool_t *pool;
	_Atomic(struct item *) transfer[TRANSFERS];
	atomic_ulong next_id, allocs, frees, nulls, reallocs, checked_words;
	atomic_int failed;
	/* live ranges, sorted by start */
	pthread_mutex_t live_lock;
	uintptr_t *live_lo, *live_hi;
	size_t nlive, live_cap;
	/* chains */
	struct chain {
		pthread_t tid;		/* the current worker (written by its creator) */
		atomic_int done;	/* the last round finished */
		struct item **data;	/* the last worker's items, left to this thread */
	} chain[MAX_THREADS];
} st;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	char msg[256];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_fetch_add(&st.failed, 1) < 10)
		printf("  FAIL (seed %lu): %s\n", st.seed, msg);
}

static inline uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t pattern(uint64_t id, size_t word) { return (id * 0x9e3779b97f4a7c15ULL) ^ (word * 0xff51afd7ed558ccdULL) ^ word; }

/* ------------------------------------------------------------------ */
/* Live ranges (no two live items overlap)                             */
/* ------------------------------------------------------------------ */

static size_t live_find(uintptr_t lo)	/* first index with live_lo >= lo */
{
	size_t a = 0, b = st.nlive;
	while (a < b) {
		size_t m = (a + b) / 2;
		if (st.live_lo[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static void live_add(uintptr_t lo, size_t len, uint64_t id)
{
	uintptr_t hi = lo + len;
	pthread_mutex_lock(&st.live_lock);
	size_t i = live_find(lo);
	if ((i < st.nlive && st.live_lo[i] < hi) || (i > 0 && st.live_hi[i - 1] > lo))
		fail("item %llu [%#lx, %#lx) overlaps a live item", (unsigned long long)id, (unsigned long)lo, (unsigned long)hi);
	if (st.nlive == st.live_cap) {
		st.live_cap = st.live_cap ? 2 * st.live_cap : 4096;
		st.live_lo = realloc(st.live_lo, st.live_cap * sizeof(uintptr_t));
		st.live_hi = realloc(st.live_hi, st.live_cap * sizeof(uintptr_t));
	}
	memmove(&st.live_lo[i + 1], &st.live_lo[i], (st.nlive - i) * sizeof(uintptr_t));
	memmove(&st.live_hi[i + 1], &st.live_hi[i], (st.nlive - i) * sizeof(uintptr_t));
	st.live_lo[i] = lo;
	st.live_hi[i] = hi;
	st.nlive++;
	pthread_mutex_unlock(&st.live_lock);
}

static void live_del(uintptr_t lo)
{
	pthread_mutex_lock(&st.live_lock);
	size_t i = live_find(lo);
	if (i == st.nlive || st.live_lo[i] != lo) {
		fail("freeing %#lx, which is not live", (unsigned long)lo);
	} else {
		memmove(&st.live_lo[i], &st.live_lo[i + 1], (st.nlive - i - 1) * sizeof(uintptr_t));
		memmove(&st.live_hi[i], &st.live_hi[i + 1], (st.nlive - i - 1) * sizeof(uintptr_t));
		st.nlive--;
	}
	pthread_mutex_unlock(&st.live_lock);
}

/* the range an item occupies: its memory, or for pages the frame range
 * (in a key space of its own: pfn << PAGE_SHIFT | top bit) */
static uintptr_t item_key(const struct item *it, size_t *len)
{
	if (it->kind == K_PAGES || it->kind == K_HIGHPAGES) {
		*len = PAGE_SIZE << it->order;
		return ((uintptr_t)1 << 63) | (page_to_pfn(it->p) << PAGE_SHIFT);
	}
	*len = it->size ? it->size : 1;
	return (uintptr_t)it->p;
}

/* ------------------------------------------------------------------ */
/* Contents                                                            */
/* ------------------------------------------------------------------ */

static void fill(uint64_t *w, size_t bytes, uint64_t id, size_t first)
{
	for (size_t i = first; i < bytes / 8; i++)
		w[i] = pattern(id, i);
}

static bool check_words(const uint64_t *w, size_t bytes, uint64_t id, size_t first, const char *what)
{
	for (size_t i = first; i < bytes / 8; i++) {
		if (w[i] != pattern(id, i)) {
			fail("%s item %llu at %p: word %zu of %zu is %#llx", what, (unsigned long long)id, (const void *)w, i,
			     bytes / 8, (unsigned long long)w[i]);
			return false;
		}
	}
	atomic_fetch_add(&st.checked_words, bytes / 8);
	return true;
}

/* page items: each frame written (through kmap_local for high memory) */
static void pages_fill(struct item *it, bool check)
{
	struct page *pg = it->p;
	for (unsigned long f = 0; f < (1UL << it->order); f++) {
		struct page *p = pfn_to_page(page_to_pfn(pg) + f);
		uint64_t *w = kmap_local_page(p);
		for (int tries = 0; !w && st.fail_pct && tries < 1000; tries++)
			w = kmap_local_page(p);	/* fail_kmap refuses some atomic mappings */
		if (!w) {
			fail("kmap_local_page keeps returning NULL");
			return;
		}
		size_t words = PAGE_SIZE / 8;
		if (check)
			check_words(w, PAGE_SIZE, it->id + f * 7919, words - 8, "page");
		else
			fill(w, PAGE_SIZE, it->id + f * 7919, words - 8);	/* the last 64 bytes */
		kunmap_local(w);
	}
}

/* ------------------------------------------------------------------ */
/* Items                                                               */
/* ------------------------------------------------------------------ */

static size_t kmalloc_size(uint64_t r)
{
	unsigned k = (unsigned)(r % 100);
	if (k < 60)
		return 8 + (r >> 8) % 256;
	if (k < 90)
		return 256 + (r >> 8) % 4096;
	if (k < 98)
		return 4096 + (r >> 8) % 32768;
	return 65536 + (r >> 8) % (300 * 1024);
}

static struct item *item_new(uint64_t *r)
{
	struct item *it = calloc(1, sizeof(*it));
	uint64_t x = rnd(r);
	it->id = atomic_fetch_add(&st.next_id, 1) + 1;
	it->kind = (int)(x % 100 < 30 ? K_KMALLOC : x % 100 < 40 ? K_KZALLOC : x % 100 < 52 ? K_CACHE : x % 100 < 60 ? K_CACHE_CTOR
			 : x % 100 < 70 ? K_PAGES : x % 100 < 75 ? K_HIGHPAGES : x % 100 < 82 ? K_VMALLOC : x % 100 < 88 ? K_KVMALLOC
			 : x % 100 < 96 ? K_MEMPOOL : K_NOFAIL);
	x = rnd(r);
	switch (it->kind) {
	case K_KMALLOC:
		it->size = kmalloc_size(x);
		it->p = kmalloc(it->size, GFP_KERNEL);
		break;
	case K_KZALLOC:
		it->size = kmalloc_size(x);
		it->p = kzalloc(it->size, GFP_KERNEL);
		break;
	case K_CACHE:
		it->size = 192;
		it->p = kmem_cache_alloc(st.cache, GFP_KERNEL);
		break;
	case K_CACHE_CTOR:
		it->size = 64;
		it->p = kmem_cache_alloc(st.ctor_cache, GFP_KERNEL);
		break;
	case K_PAGES:
	case K_HIGHPAGES:
		it->order = (unsigned)(x % 4);
		it->p = alloc_pages(it->kind == K_HIGHPAGES ? GFP_HIGHUSER : GFP_KERNEL, it->order);
		break;
	case K_VMALLOC:
		it->size = (1 + x % 8) * PAGE_SIZE - (x >> 20) % 64;
		it->p = vmalloc(it->size);
		break;
	case K_KVMALLOC:
		it->size = 2000 + (x >> 4) % (200 * 1024);
		it->p = kvmalloc(it->size, GFP_KERNEL);
		break;
	case K_MEMPOOL:
		it->size = 512;
		it->p = mempool_alloc(st.pool, GFP_NOWAIT);	/* never sleeps: all threads may hold elements */
		break;
	case K_NOFAIL:
		it->size = 16 + x % 2000;
		it->p = kmalloc(it->size, GFP_KERNEL | __GFP_NOFAIL);
		if (!it->p)
			fail("kmalloc(__GFP_NOFAIL) returned NULL");
		break;
	}
	if (!it->p) {
		atomic_fetch_add(&st.nulls, 1);
		if (!st.fail_pct && it->kind != K_MEMPOOL)
			fail("kind %d size %zu: NULL without fault injection", it->kind, it->size);
		free(it);
		return NULL;
	}
	atomic_fetch_add(&st.allocs, 1);
	size_t len;
	uintptr_t key = item_key(it, &len);
	live_add(key, len, it->id);
	if (it->kind == K_KZALLOC) {
		const unsigned char *b = it->p;
		for (size_t i = 0; i < it->size; i++)
			if (b[i]) {
				fail("kzalloc(%zu) byte %zu is %#x", it->size, i, b[i]);
				break;
			}
	}
	if (it->kind == K_CACHE_CTOR && *(uint64_t *)it->p != CTOR_WORD)
		fail("object of the constructor cache arrived unconstructed");
	if (it->kind == K_PAGES || it->kind == K_HIGHPAGES)
		pages_fill(it, false);
	else
		fill(it->p, it->size, it->id, it->kind == K_CACHE_CTOR ? 1 : 0);
	return it;
}

static void item_free(struct item *it)
{
	size_t len;
	uintptr_t key = item_key(it, &len);
	if (it->kind == K_PAGES || it->kind == K_HIGHPAGES)
		pages_fill(it, true);
	else
		check_words(it->p, it->size, it->id, it->kind == K_CACHE_CTOR ? 1 : 0, "object");
	live_del(key);
	switch (it->kind) {
	case K_KMALLOC:
	case K_KZALLOC:
	case K_NOFAIL:
		kfree(it->p);
		break;
	case K_CACHE:
		kmem_cache_free(st.cache, it->p);
		break;
	case K_CACHE_CTOR:
		*(uint64_t *)it->p = CTOR_WORD;	/* back to the constructed state */
		kmem_cache_free(st.ctor_cache, it->p);
		break;
	case K_PAGES:
	case K_HIGHPAGES:
		__free_pages(it->p, it->order);
		break;
	case K_VMALLOC:
		vfree(it->p);
		break;
	case K_KVMALLOC:
		kvfree(it->p);
		break;
	case K_MEMPOOL:
		mempool_free(it->p, st.pool);
		break;
	}
	atomic_fetch_add(&st.frees, 1);
	free(it);
}

/* krealloc a kmalloc item: the pattern of the common part survives */
static void item_realloc(struct item *it, uint64_t *r)
{
	if (it->kind != K_KMALLOC)
		return;
	size_t len, nsize = kmalloc_size(rnd(r));
	if (!check_words(it->p, it->size, it->id, 0, "before krealloc"))
		return;
	/* off the live table first: krealloc frees the old block before it
	 * returns, and another thread may get it at once */
	uintptr_t old = item_key(it, &len);
	live_del(old);
	void *n = krealloc(it->p, nsize, GFP_KERNEL);
	if (!n) {
		live_add(old, len, it->id);
		atomic_fetch_add(&st.nulls, 1);
		if (!st.fail_pct)
			fail("krealloc(%zu) returned NULL without fault injection", nsize);
		check_words(it->p, it->size, it->id, 0, "after a failed krealloc");
		return;
	}
	size_t keep = nsize < it->size ? nsize : it->size;
	it->p = n;
	check_words(n, keep, it->id, 0, "after krealloc");
	it->size = nsize;
	fill(n, nsize, it->id, keep / 8);
	live_add(item_key(it, &len), len, it->id);
	atomic_fetch_add(&st.reallocs, 1);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

struct worker {
	int chain, round;
	pthread_t prev;		/* the creator, joined first */
	bool has_prev;
	struct item **data;	/* the chain's items, handed down */
	uint64_t rnd;
};

static void *worker_main(void *arg);

static void stress_round(struct worker *w)
{
	size_t n = (size_t)st.scale;
	uint64_t *r = &w->rnd;
	for (size_t step = 0; step < 4 * n; step++) {
		size_t i = rnd(r) % n;
		uint64_t op = rnd(r) % 100;
		if (op < 50) {			/* allocate (replacing what was there) */
			if (w->data[i])
				item_free(w->data[i]);
			w->data[i] = item_new(r);
		} else if (op < 65) {		/* free */
			if (w->data[i]) {
				item_free(w->data[i]);
				w->data[i] = NULL;
			}
		} else if (op < 70) {		/* krealloc */
			if (w->data[i])
				item_realloc(w->data[i], r);
		} else {			/* swap with the transfer array */
			size_t t = rnd(r) % TRANSFERS;
			struct item *mine = w->data[i];
			w->data[i] = atomic_exchange(&st.transfer[t], mine);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->has_prev)
		pthread_join(w->prev, NULL);	/* the creator has exited now */
	stress_round(w);
	if (w->round + 1 < st.iter) {
		/* the successor takes over; this thread exits while its items live on */
		struct worker *next = malloc(sizeof(*next));
		*next = *w;
		next->round++;
		next->prev = pthread_self();
		next->has_prev = true;
		pthread_t t;
		if (pthread_create(&t, NULL, worker_main, next) != 0)
			abort();
		__atomic_store_n(&st.chain[w->chain].tid, t, __ATOMIC_RELEASE);
	} else {
		/* the last round: leave half the items in the transfer array */
		for (int i = 0; i < st.scale; i += 2)
			if (w->data[i]) {
				item_free(w->data[i]);
				w->data[i] = NULL;
			}
		st.chain[w->chain].data = w->data;	/* the rest: freed by the main thread */
		atomic_store(&st.chain[w->chain].done, 1);
	}
	free(w);
	return NULL;
}

static void ctor(void *p) { *(uint64_t *)p = CTOR_WORD; }
static void count_line(void *ctx, const char *line) { (void)line, atomic_fetch_add((atomic_ulong *)ctx, 1); }

/* slabinfo rows as "name active_objs" lines: a cache may end with its
 * objects on other slabs than it started with (vmalloc's free-range
 * descriptors are kmalloc objects that move), but never with more */
static char *active_objs(char *slabinfo)
{
	size_t len = 0;
	char *out = calloc(1, strlen(slabinfo) + 1), *save = NULL;
	for (char *l = strtok_r(slabinfo, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[64];
		long active;
		if (l[0] != '#' && sscanf(l, "%63s %ld", name, &active) == 2)
			len += (size_t)sprintf(out + len, "%s %ld\n", name, active);
	}
	free(slabinfo);
	return out;
}

/* two report texts must be equal: print the lines that differ */
static void same_text(const char *what, char *now, char *base)
{
	if (!strcmp(now, base))
		return;
	kt_fail(0, __FILE__, __LINE__, "%s differs from the baseline:", what);
	char *sa = NULL, *sb = NULL;
	char *a = strtok_r(now, "\n", &sa), *b = strtok_r(base, "\n", &sb);
	while (a || b) {
		if (!a || !b || strcmp(a, b))
			printf("    now:  %s\n    base: %s\n", a ? a : "", b ? b : "");
		a = strtok_r(NULL, "\n", &sa);
		b = strtok_r(NULL, "\n", &sb);
	}
}

static int env_int(const char *name, int def)
{
	const char *e = getenv(name);
	return e && *e ? atoi(e) : def;
}

static void run(int fail_pct)
{
	st.fail_pct = fail_pct;
	st.seed = kt_seed();
	/* room for the live items (about 10 KiB each on average, the large
	 * kmallocs needing contiguous blocks): 64 KiB per item, at least 256M */
	unsigned long mb = (unsigned long)st.threads * (unsigned long)st.scale / 16;
	char boot[160];
	snprintf(boot, sizeof(boot), "mem=%luM numa=2 zones=dma:16M,normal:128M,highmem cpus=4 on_error=abort",
		 mb < 256 ? 256 : mb > 4096 ? 4096 : mb);
	sh_boot(boot);
	kmm_drain_all();
	long base_slab_pages = sh_slab_pages();
	unsigned long base_free = nr_free_pages() + (unsigned long)base_slab_pages;
	char *base_slab = active_objs(report_text("slabinfo", NULL)), *base_vm = report_text("vmallocinfo", NULL);

	st.cache = kmem_cache_create("mixed-192", 192, 0, 0, NULL);
	st.ctor_cache = kmem_cache_create("mixed-ctor", 64, 0, 0, ctor);
	st.pool = mempool_create_kmalloc_pool(32, 512);
	assert_nonnull(st.cache);
	assert_nonnull(st.ctor_cache);
	assert_nonnull(st.pool);
	static atomic_ulong log_lines;
	if (fail_pct) {
		/* the failures' log lines ("kmap_local: cannot map", "vmalloc
		 * error") are expected: counted, not printed */
		kmm_set_log(count_line, &log_lines);
		char spec[64];
		snprintf(spec, sizeof(spec), "probability=%d interval=1 times=-1 verbose=0", fail_pct);
		static const char *const attrs[] = { "fail_page_alloc", "failslab", "fail_vmalloc", "fail_mempool", "fail_kmap" };
		for (int i = 0; i < 5; i++)
			assert_eq(kmm_fault_config(attrs[i], spec), 0);
	}
	atomic_store(&st.failed, 0);
	atomic_store(&st.allocs, 0), atomic_store(&st.frees, 0), atomic_store(&st.nulls, 0);
	atomic_store(&st.reallocs, 0), atomic_store(&st.checked_words, 0);
	pthread_mutex_init(&st.live_lock, NULL);
	uint64_t t0 = now_ns();

	for (int c = 0; c < st.threads; c++) {
		struct worker *w = calloc(1, sizeof(*w));
		w->chain = c;
		w->data = calloc((size_t)st.scale, sizeof(struct item *));
		w->rnd = st.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)c * 7 + 1;
		atomic_store(&st.chain[c].done, 0);
		pthread_create(&st.chain[c].tid, NULL, worker_main, w);
	}
	for (int c = 0; c < st.threads; c++) {
		while (!atomic_load(&st.chain[c].done))
			sleep_ms(2);
		pthread_join(__atomic_load_n(&st.chain[c].tid, __ATOMIC_ACQUIRE), NULL);
	}
	double secs = ms_since(t0) / 1000.0;

	/* the survivors, allocated by threads that are all gone: the last
	 * workers' items and the transfer array, freed by this thread */
	for (int c = 0; c < st.threads; c++) {
		for (int i = 0; i < st.scale; i++)
			if (st.chain[c].data[i])
				item_free(st.chain[c].data[i]);
		free(st.chain[c].data);
		st.chain[c].data = NULL;
	}
	for (int t = 0; t < TRANSFERS; t++) {
		struct item *it = atomic_exchange(&st.transfer[t], NULL);
		if (it)
			item_free(it);
	}
	printf("  %d chains x %d rounds, %d items each: %lu allocations, %lu frees, %lu kreallocs, %lu NULLs, %.1f M words checked, %.2f s%s\n",
	       st.threads, st.iter, st.scale, atomic_load(&st.allocs), atomic_load(&st.frees), atomic_load(&st.reallocs),
	       atomic_load(&st.nulls), (double)atomic_load(&st.checked_words) / 1e6, secs,
	       fail_pct ? " (fault injection)" : "");
	if (fail_pct) {
		static const char *const attrs[] = { "fail_page_alloc", "failslab", "fail_vmalloc", "fail_mempool", "fail_kmap" };
		for (int i = 0; i < 5; i++)
			assert_eq(kmm_fault_config(attrs[i], "probability=0"), 0);
		kmm_set_log(NULL, NULL);
		expect_gt(atomic_load(&st.nulls), 0);
	}
	expect_eq(atomic_load(&st.failed), 0);
	expect_eq(st.nlive, 0);
	expect_eq(kmm_check(), 0);

	/* "nothing lost": the mempool holds min_nr, caches are empty, every
	 * page and the vmalloc space are back */
	mempool_destroy(st.pool);
	kmem_cache_destroy(st.cache);
	kmem_cache_destroy(st.ctor_cache);
	kmm_drain_all();
	expect_eq(nr_free_pages() + (unsigned long)sh_slab_pages(), base_free);	/* every page free or a slab page */
	expect_le(sh_slab_pages(), base_slab_pages + 4);	/* a few slabs of moved objects at most */
	char *slab = active_objs(report_text("slabinfo", NULL)), *vm = report_text("vmallocinfo", NULL);
	same_text("slabinfo", slab, base_slab);
	same_text("vmallocinfo", vm, base_vm);
	free(slab), free(vm), free(base_slab), free(base_vm);
	expect_eq(kmm_check(), 0);
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_eq(logcap_count("kmm: shutdown:"), 0);	/* no leak, no mapping left */
	pthread_mutex_destroy(&st.live_lock);
	free(st.live_lo), free(st.live_hi);
	st.live_lo = st.live_hi = NULL;
	st.nlive = st.live_cap = 0;
}

TEST(mixed_stress_nothing_lost)
{
	run(0);
}

TEST(mixed_stress_under_fault_injection)
{
	run(env_int("KMM_STRESS_FAIL", 10) ? env_int("KMM_STRESS_FAIL", 10) : 10);
}

int main(int argc, char **argv)
{
	st.threads = argc > 1 ? atoi(argv[1]) : env_int("KMM_STRESS_THREADS", 4);
	st.scale = argc > 2 ? atoi(argv[2]) : env_int("KMM_STRESS_SCALE", KT_SANITIZED ? 100 : 200);
	st.iter = argc > 3 ? atoi(argv[3]) : env_int("KMM_STRESS_ITER", KT_SANITIZED ? 10 : 30);
	if (st.threads < 1)
		st.threads = 1;
	if (st.threads > MAX_THREADS)
		st.threads = MAX_THREADS;
	if (st.scale < 2)
		st.scale = 2;
	if (st.iter < 1)
		st.iter = 1;
	char *args[] = { argv[0], NULL };
	return kt_run(1, args);
}
