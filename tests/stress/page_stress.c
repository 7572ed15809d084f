/*
 * tests/stress/page_stress.c - the page allocator under concurrent load
 * (issue 2), checked for "nothing lost" (MISUSE.md): threads allocate
 * blocks of orders 0-5 from every zone, fill each with a pattern derived
 * from (pfn, order, generation), hand blocks to each other through a shared
 * array (cross-thread frees), and check every pattern completely before the
 * free.  At each checkpoint the threads stop: no two live blocks overlap
 * (sorted intervals), every live pattern is intact, kmm_check() passes.  At
 * the end everything is freed, kmm_drain_all() runs, and the free pages per
 * zone and order equal the counts right after boot.
 *
 * Scale with KMM_STRESS_SCALE (percent of the default work, default 100)
 * and KMM_STRESS_SECONDS (time budget per run, default 6; halved again under
 * sanitizers).  KMM_TEST_SEED repeats a run.
 */
/* kmm-test: threaded */
#include <stdatomic.h>

#include "harness.h"
#include "page_helpers.h"

#define NSLOTS 4096
#define MAX_ORDER_STRESS 5
#define MAX_THREADS 8

struct rec {
	struct page *page;
	unsigned long pfn;
	unsigned int order;
	unsigned long gen;
	gfp_t gfp;
	bool content;		/* lowmem: the pattern is in the block */
};

static struct {
	_Atomic(struct rec *) slot[NSLOTS];
	atomic_ulong gen;
	atomic_int failed;	/* a content or placement error was found */
	atomic_ulong allocs, frees, nulls, cross_frees, zeroed;
	unsigned long seed;
	int iters;
	pthread_barrier_t start, stop;
	atomic_int quit;
} st;

static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_word(const struct rec *r, size_t i)
{
	return mix(((uint64_t)r->pfn << 20) ^ ((uint64_t)r->order << 56) ^ ((uint64_t)r->gen << 8) ^ (uint64_t)i * 0x100000001b3ull);
}

static void fill(const struct rec *r)
{
	uint64_t *w = page_address(r->page);
	size_t n = (PAGE_SIZE << r->order) / 8;
	for (size_t i = 0; i < n; i++)
		w[i] = pattern_word(r, i);
}

static bool verify(const struct rec *r, const char *when)
{
	if (!r->content)
		return true;
	const uint64_t *w = page_address(r->page);
	size_t n = (PAGE_SIZE << r->order) / 8;
	for (size_t i = 0; i < n; i++) {
		if (w[i] != pattern_word(r, i)) {
			kt_fail(0, __FILE__, __LINE__, "%s: block pfn %lu order %u gen %lu: word at offset %zu is %#llx, expected %#llx",
				when, r->pfn, r->order, r->gen, i * 8, (unsigned long long)w[i],
				(unsigned long long)pattern_word(r, i));
			atomic_store(&st.failed, 1);
			return false;
		}
	}
	return true;
}

/* the request's zone rules: where the block may lie */
static bool placement_ok(const struct rec *r)
{
	const char *zone = page_zone_name(r->page);
	if ((r->gfp & __GFP_DMA) && strcmp(zone, "DMA") != 0)
		return false;
	if (!(r->gfp & __GFP_HIGHMEM) && PageHighMem(r->page))
		return false;
	return page_count(r->page) == 1 && page_to_pfn(r->page) == r->pfn && (r->pfn & ((1UL << r->order) - 1)) == 0;
}

static void release(struct rec *r, const char *when)
{
	verify(r, when);
	__free_pages(r->page, r->order);
	atomic_fetch_add(&st.frees, 1);
	free(r);
}

static gfp_t pick_gfp(unsigned long r, unsigned int order)
{
	static const gfp_t choices[] = {
		GFP_KERNEL, GFP_KERNEL, GFP_KERNEL | __GFP_ZERO, GFP_DMA | GFP_KERNEL, GFP_HIGHUSER_MOVABLE,
		GFP_HIGHUSER_MOVABLE | __GFP_ZERO, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_ATOMIC, GFP_NOWAIT,
		GFP_DMA32 | GFP_KERNEL,
	};
	gfp_t gfp = choices[r % (sizeof(choices) / sizeof(choices[0]))];
	/* high-order atomic requests set pageblocks aside as the HIGHATOMIC
	 * reserve (buddy.c exercises that); here atomic ones stay order 0 */
	if (!(gfp & __GFP_DIRECT_RECLAIM) && order > 0)
		gfp = GFP_KERNEL;
	if (gfp & __GFP_DIRECT_RECLAIM)
		gfp |= __GFP_NORETRY;	/* never sleep for oom_wait_ms: a NULL is counted */
	return gfp | __GFP_NOWARN;
}

static void *worker(void *arg)
{
	int id = (int)(uintptr_t)arg;
	unsigned long rnd = mix(st.seed ^ ((uint64_t)id << 32)) | 1;
	for (;;) {
		pthread_barrier_wait(&st.start);
		if (atomic_load(&st.quit))
			break;
		for (int it = 0; it < st.iters && !atomic_load(&st.failed); it++) {
			unsigned long r = kmm_prng_next(&rnd);
			size_t i = (r >> 16) % NSLOTS;
			struct rec *old = atomic_exchange(&st.slot[i], NULL);
			if (old) {
				release(old, "before free");
				continue;
			}
			/* orders weighted towards small ones: 0 (1/2), 1 (1/4), ... */
			unsigned int order = (unsigned int)__builtin_ctzl((r >> 40) | (1UL << MAX_ORDER_STRESS));
			gfp_t gfp = pick_gfp(r >> 8, order);
			struct page *p = alloc_pages(gfp, order);
			if (!p) {
				atomic_fetch_add(&st.nulls, 1);
				continue;
			}
			atomic_fetch_add(&st.allocs, 1);
			struct rec *nr = malloc(sizeof(*nr));
			*nr = (struct rec){ .page = p, .pfn = page_to_pfn(p), .order = order,
					    .gen = atomic_fetch_add(&st.gen, 1), .gfp = gfp,
					    .content = page_address(p) != NULL };
			if (!placement_ok(nr)) {
				kt_fail(0, __FILE__, __LINE__, "gfp %#x order %u: got pfn %lu in %s (count %d)", gfp, order,
					nr->pfn, page_zone_name(p), page_count(p));
				atomic_store(&st.failed, 1);
			}
			if ((gfp & __GFP_ZERO) && nr->content) {
				const uint64_t *w = page_address(p);
				for (size_t k = 0; k < (PAGE_SIZE << order) / 8; k++)
					if (w[k]) {
						kt_fail(0, __FILE__, __LINE__, "__GFP_ZERO block pfn %lu order %u: word %zu is %#llx",
							nr->pfn, order, k, (unsigned long long)w[k]);
						atomic_store(&st.failed, 1);
						break;
					}
				atomic_fetch_add(&st.zeroed, 1);
			}
			if (nr->content)
				fill(nr);
			struct rec *expected = NULL;
			if (!atomic_compare_exchange_strong(&st.slot[(r >> 4) % NSLOTS], &expected, nr)) {
				release(nr, "before an immediate free");
			}
		}
		pthread_barrier_wait(&st.stop);
	}
	return NULL;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = *(struct rec *const *)a, *y = *(struct rec *const *)b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* With the workers stopped: intervals, patterns, placement, kmm_check. */
static void checkpoint(int phase)
{
	static struct rec *live[NSLOTS];
	int n = 0;
	for (int i = 0; i < NSLOTS; i++) {
		struct rec *r = atomic_load(&st.slot[i]);
		if (r)
			live[n++] = r;
	}
	qsort(live, (size_t)n, sizeof(live[0]), cmp_rec);
	for (int i = 1; i < n; i++) {
		if (live[i - 1]->pfn + (1UL << live[i - 1]->order) > live[i]->pfn) {
			kt_fail(0, __FILE__, __LINE__, "phase %d: live blocks [%lu, +%lu) and [%lu, +%lu) overlap", phase,
				live[i - 1]->pfn, 1UL << live[i - 1]->order, live[i]->pfn, 1UL << live[i]->order);
			atomic_store(&st.failed, 1);
		}
	}
	unsigned long pages = 0;
	for (int i = 0; i < n; i++) {
		verify(live[i], "at a checkpoint");
		if (!placement_ok(live[i]) || PageBuddy(live[i]->page) || PagePcp(live[i]->page)) {
			kt_fail(0, __FILE__, __LINE__, "phase %d: live block pfn %lu is in a bad state", phase, live[i]->pfn);
			atomic_store(&st.failed, 1);
		}
		pages += 1UL << live[i]->order;
	}
	int rc = kmm_check();
	if (rc)
		kt_fail(0, __FILE__, __LINE__, "phase %d: kmm_check() = %d", phase, rc);
	if (phase % 4 == 0)
		printf("  phase %d: %d live blocks, %lu pages; %lu allocs, %lu frees, %lu NULLs\n", phase, n, pages,
		       atomic_load(&st.allocs), atomic_load(&st.frees), atomic_load(&st.nulls));
}

static long env_long(const char *name, long def)
{
	const char *e = getenv(name);
	return e && *e ? strtol(e, NULL, 10) : def;
}

static void stress(const char *cmdline, int threads)
{
	long scale = env_long("KMM_STRESS_SCALE", 100);
	double budget = (double)env_long("KMM_STRESS_SECONDS", 6);
	if (KT_SANITIZED) {
		scale = scale / 4 ? scale / 4 : 1;
		budget /= 2;
	}
	memset(&st, 0, sizeof(st));
	st.seed = kt_seed() ^ (unsigned long)threads;
	st.iters = (int)(4000 * scale / 100);
	if (st.iters < 10)
		st.iters = 10;
	const int max_phases = 30;
	printf("  %s, %d threads, seed %lu, %d ops per thread per phase\n", cmdline, threads, st.seed, st.iters);

	assert_eq(kt_boot(cmdline), 0);
	int rc;
	char *boot_text = report_text("buddyinfo", &rc);
	assert_nonnull(boot_text);
	unsigned long free0 = nr_free_pages();
	pthread_barrier_init(&st.start, NULL, (unsigned)threads + 1);
	pthread_barrier_init(&st.stop, NULL, (unsigned)threads + 1);
	pthread_t th[MAX_THREADS];
	for (int i = 0; i < threads; i++)
		assert_eq(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i), 0);
	uint64_t t0 = now_ns();
	int phase;
	for (phase = 1; phase <= max_phases; phase++) {
		pthread_barrier_wait(&st.start);
		pthread_barrier_wait(&st.stop);
		checkpoint(phase);
		if (atomic_load(&st.failed) || ms_since(t0) > budget * 1000)
			break;
	}
	atomic_store(&st.quit, 1);
	pthread_barrier_wait(&st.start);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("  %d phases in %.1f s: %lu allocations (%lu zeroed), %lu frees, %lu NULLs\n", phase < max_phases ? phase : max_phases,
	       ms_since(t0) / 1000, atomic_load(&st.allocs), atomic_load(&st.zeroed), atomic_load(&st.frees),
	       atomic_load(&st.nulls));
	expect_gt(atomic_load(&st.allocs), 1000);

	/* the survivors, then everything back */
	for (int i = 0; i < NSLOTS; i++) {
		struct rec *r = atomic_exchange(&st.slot[i], NULL);
		if (r)
			release(r, "at the end");
	}
	expect_eq(atomic_load(&st.allocs), atomic_load(&st.frees));
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);
	char *end_text = report_text("buddyinfo", &rc);
	assert_nonnull(end_text);
	expect_str_eq(end_text, boot_text);
	expect_eq(kmm_check(), 0);
	expect_false(atomic_load(&st.failed));
	free(boot_text);
	free(end_text);
	pthread_barrier_destroy(&st.start);
	pthread_barrier_destroy(&st.stop);
	kmm_shutdown();
}

TEST(stress_2_threads)
{
	stress("mem=128M numa=2 zones=dma:16M,dma32:32M,normal:96M,highmem cpus=2 oom_wait_ms=100", 2);
}

TEST(stress_4_threads_modern)
{
	/* one slot fewer than threads: one of them runs slotless */
	stress("mem=128M numa=2 zones=dma:16M,dma32:32M,normal:96M,highmem cpus=3 profile=modern oom_wait_ms=100", 4);
}

TEST_MAIN()
