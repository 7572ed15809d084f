/*
 * slab_bench.c - the object caches and kmalloc (issue 3), on both
 * backends (slab=slab, slab=slob), through the public API only.
 *
 * Cases (each backend on its own booted machine, mem=1G numa=1 cpus=4 by
 * default):
 *   cache     kmem_cache_alloc + kmem_cache_free pairs, object sizes 32,
 *             256, 1024; 1 and 2 threads (each thread its own pairs, one
 *             shared cache).
 *   kmalloc   a live working set of 10000 objects per thread, sizes 8..4096
 *             (log-uniform: a power-of-two class, then uniform inside it),
 *             each step frees a random live object and kmallocs a new one
 *             in its place (seeded xorshift, precomputed: the random
 *             numbers cost nothing in the timed loop); 1 and 2 threads.
 *   remote    cross-thread frees: thread 0 kmem_cache_allocs 256-byte
 *             objects and passes them through a single-producer /
 *             single-consumer ring to thread 1, which frees them; ns per
 *             object.
 *   footprint bytes of memory per live object: boot, then for each size
 *             kmm_drain_all(); free0 = nr_free_pages(); N kmallocs (and
 *             N kmem_cache_allocs of a cache of that size); kmm_drain_all();
 *             (free0 - nr_free_pages()) * PAGE_SIZE / N.  Sizes 16..512,
 *             N = 100 (a small heap) and 10000, plus mixed sizes 16..512.
 *   baseline  a bare inline free list of fixed-size objects (256 bytes),
 *             pop + push, one thread; glibc malloc + free of 256 bytes for
 *             reference.
 *
 * Callgrind mode (bench/callgrind.sh): --callgrind-case CASE --iters N,
 * CASE: baseline, glibc, cache<SIZE>-<slab|slob>, kmalloc-<slab|slob>.
 * `slab_bench --case CASE ...` times only the named cases (the same names
 * plus remote-<slab|slob>), one line each: for A/B comparisons.
 */
#include <kmm/kmm.h>

#include "bench.h"

#define DEFAULT_BOOT "mem=1G numa=1 cpus=4"
#define LIVE_OBJECTS 10000
#define NR_OPS 65536	/* precomputed (slot, size) steps, cycled */
#define RING_SIZE 4096	/* remote-free ring entries (power of two) */
#define SEED 0x6b6d6d2d62656e63ull

enum backend { BK_SLAB, BK_SLOB, NR_BK };
static const char *const bk_name[NR_BK] = { "slab", "slob" };
static const char *const bk_label[NR_BK] = { "SLAB", "SLOB" };

static const unsigned int cache_sizes[] = { 32, 256, 1024 };
#define NR_CACHE_SIZES (sizeof(cache_sizes) / sizeof(cache_sizes[0]))
static const unsigned int fp_sizes[] = { 16, 32, 64, 96, 128, 192, 256, 512 };
#define NR_FP_SIZES (sizeof(fp_sizes) / sizeof(fp_sizes[0]))
static const long fp_counts[] = { 100, 1000, 10000 };
#define NR_FP_COUNTS (sizeof(fp_counts) / sizeof(fp_counts[0]))

static void boot_backend(enum backend b)
{
	char line[512];
	snprintf(line, sizeof(line), "%s slab=%s", bench_opt.boot, bk_name[b]);
	int rc = kmm_boot(line);
	if (rc)
		bench_die("kmm_boot(\"%s\") = %d", line, rc);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* log-uniform size in [lo, hi]: a power-of-two class, uniform inside it */
static size_t random_size(uint64_t *s, size_t lo, size_t hi)
{
	unsigned int elo = 0, ehi = 0;
	while ((1ul << elo) < lo)
		elo++;
	while ((1ul << ehi) < hi)
		ehi++;
	unsigned int e = elo + (unsigned int)(xorshift64(s) % (ehi - elo + 1));
	size_t top = 1ul << e, bottom = e ? (1ul << (e - 1)) + 1 : 1;
	if (bottom < lo)
		bottom = lo;
	if (top > hi)
		top = hi;
	return bottom + (size_t)(xorshift64(s) % (top - bottom + 1));
}

/* ------------------------------------------------------------------ */
/* Bodies                                                              */
/* ------------------------------------------------------------------ */

struct cache_ctx {
	struct kmem_cache *cache;
};

static void cache_body(void *ctx, int tid, long iters)
{
	struct kmem_cache *s = ((struct cache_ctx *)ctx)->cache;
	(void)tid;
	for (long i = 0; i < iters; i++) {
		void *p = kmem_cache_alloc(s, GFP_KERNEL);
		if (!p)
			bench_die("kmem_cache_alloc failed");
		bench_keep(p);
		kmem_cache_free(s, p);
	}
}

struct kmalloc_op {
	unsigned int slot;
	unsigned int size;
};

struct kmalloc_thread {
	void *live[LIVE_OBJECTS];
	unsigned long pos;	/* next op */
	uint64_t seed;
};

struct kmalloc_ctx {
	struct kmalloc_op *ops;	/* NR_OPS, shared (read-only) */
	struct kmalloc_thread th[BENCH_MAX_THREADS];
};

static void kmalloc_setup(void *ctx, int tid)
{
	struct kmalloc_ctx *k = ctx;
	struct kmalloc_thread *t = &k->th[tid];
	t->seed = SEED + (uint64_t)tid * 0x9e3779b97f4a7c15ull;
	t->pos = (unsigned long)tid * (NR_OPS / BENCH_MAX_THREADS);
	for (int i = 0; i < LIVE_OBJECTS; i++) {
		t->live[i] = kmalloc(random_size(&t->seed, 8, 4096), GFP_KERNEL);
		if (!t->live[i])
			bench_die("kmalloc (live set) failed");
	}
}

static void kmalloc_teardown(void *ctx, int tid)
{
	struct kmalloc_thread *t = &((struct kmalloc_ctx *)ctx)->th[tid];
	for (int i = 0; i < LIVE_OBJECTS; i++) {
		kfree(t->live[i]);
		t->live[i] = NULL;
	}
}

/* one iteration = kfree of a random live object + kmalloc in its place */
static void kmalloc_body(void *ctx, int tid, long iters)
{
	struct kmalloc_ctx *k = ctx;
	struct kmalloc_thread *t = &k->th[tid];
	unsigned long pos = t->pos;
	for (long i = 0; i < iters; i++) {
		const struct kmalloc_op *op = &k->ops[pos++ & (NR_OPS - 1)];
		kfree(t->live[op->slot]);
		void *p = kmalloc(op->size, GFP_KERNEL);
		if (!p)
			bench_die("kmalloc(%u) failed", op->size);
		t->live[op->slot] = p;
	}
	t->pos = pos;
}

static struct kmalloc_op *make_ops(void)
{
	struct kmalloc_op *ops = malloc(sizeof(*ops) * NR_OPS);
	uint64_t s = SEED;
	if (!ops)
		bench_die("out of memory");
	for (int i = 0; i < NR_OPS; i++) {
		ops[i].slot = (unsigned int)(xorshift64(&s) % LIVE_OBJECTS);
		ops[i].size = (unsigned int)random_size(&s, 8, 4096);
	}
	return ops;
}

/* Remote frees: a single-producer single-consumer ring. */
struct remote_ctx {
	struct kmem_cache *cache;
	_Alignas(64) unsigned long head;	/* written by the producer */
	_Alignas(64) unsigned long tail;	/* written by the consumer */
	_Alignas(64) void *ring[RING_SIZE];
};

static void spin_pause(unsigned int *spins)
{
	if (++*spins < 1000) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield();	/* the other side may be descheduled (2 cores, noisy host) */
	}
}

static void remote_body(void *ctx, int tid, long iters)
{
	struct remote_ctx *r = ctx;
	unsigned int spins = 0;
	if (tid == 0) {
		unsigned long head = r->head;
		for (long i = 0; i < iters; i++) {
			void *p = kmem_cache_alloc(r->cache, GFP_KERNEL);
			if (!p)
				bench_die("kmem_cache_alloc (remote) failed");
			while (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= RING_SIZE)
				spin_pause(&spins);
			r->ring[head & (RING_SIZE - 1)] = p;
			__atomic_store_n(&r->head, ++head, __ATOMIC_RELEASE);
		}
	} else if (tid == 1) {
		unsigned long tail = r->tail;
		for (long i = 0; i < iters; i++) {
			while (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == tail)
				spin_pause(&spins);
			void *p = r->ring[tail & (RING_SIZE - 1)];
			__atomic_store_n(&r->tail, ++tail, __ATOMIC_RELEASE);
			kmem_cache_free(r->cache, p);
		}
	}
}

/* The baselines: a bare inline free list of 256-byte objects; glibc. */
#define BASE_OBJ 256
#define BASE_OBJS 1024
struct base_ctx {
	void *head;
	char *arena;
};

static void base_body(void *ctx, int tid, long iters)
{
	struct base_ctx *b = ctx;
	(void)tid;
	for (long i = 0; i < iters; i++) {
		void *p = b->head;		/* pop */
		b->head = *(void **)p;
		bench_keep(p);
		*(void **)p = b->head;		/* push */
		b->head = p;
		bench_keep(b);
	}
}

static void base_init(struct base_ctx *b)
{
	b->arena = aligned_alloc(64, (size_t)BASE_OBJ * BASE_OBJS);
	if (!b->arena)
		bench_die("out of memory");
	b->head = NULL;
	for (int i = 0; i < BASE_OBJS; i++) {
		void *p = b->arena + (size_t)i * BASE_OBJ;
		*(void **)p = b->head;
		b->head = p;
	}
}

static void glibc_body(void *ctx, int tid, long iters)
{
	(void)ctx;
	(void)tid;
	for (long i = 0; i < iters; i++) {
		void *p = malloc(BASE_OBJ);
		bench_keep(p);
		free(p);
	}
}

/* ------------------------------------------------------------------ */
/* Footprint                                                           */
/* ------------------------------------------------------------------ */

/* size 0: mixed sizes 16..512.  Returns bytes of memory per live object;
 * *req gets the bytes requested per object (mean). */
static double footprint(int use_cache, unsigned int size, long n, double *req)
{
	static void *obj[10000];
	struct kmem_cache *s = NULL;
	uint64_t seed = SEED;
	double requested = 0;
	if (n > (long)(sizeof(obj) / sizeof(obj[0])))
		bench_die("footprint: too many objects");
	if (use_cache) {
		s = kmem_cache_create("bench-fp", size, 0, 0, NULL);
		if (!s)
			bench_die("kmem_cache_create(%u) failed", size);
	}
	kmm_drain_all();
	unsigned long free0 = nr_free_pages();
	for (long i = 0; i < n; i++) {
		size_t sz = size ? size : random_size(&seed, 16, 512);
		obj[i] = s ? kmem_cache_alloc(s, GFP_KERNEL) : kmalloc(sz, GFP_KERNEL);
		if (!obj[i])
			bench_die("footprint: allocation failed");
		requested += (double)sz;
	}
	kmm_drain_all();
	unsigned long free1 = nr_free_pages();
	for (long i = 0; i < n; i++) {
		if (s)
			kmem_cache_free(s, obj[i]);
		else
			kfree(obj[i]);
	}
	if (s)
		kmem_cache_destroy(s);
	*req = requested / (double)n;
	return free0 >= free1 ? (double)(free0 - free1) * (double)PAGE_SIZE / (double)n : 0;
}

/* ------------------------------------------------------------------ */
/* Named cases: callgrind mode and --case                              */
/* ------------------------------------------------------------------ */

struct named_case {
	struct bench_case c;
	int backend;		/* -1: no kmm machine (baseline, glibc) */
	unsigned int size;	/* cache object size */
	int remote;		/* 2 threads only */
};

static struct named_case parse_case(const char *name)
{
	static struct kmalloc_ctx kctx;
	static struct cache_ctx cctx;
	static struct base_ctx bctx;
	static struct remote_ctx rctx;
	struct named_case n = { .c = { .name = name }, .backend = -1 };
	char bk[16] = "";

	if (!strcmp(name, "baseline")) {
		base_init(&bctx);
		n.c.body = base_body;
		n.c.ctx = &bctx;
	} else if (!strcmp(name, "glibc")) {
		n.c.body = glibc_body;
	} else if (sscanf(name, "cache%u-%15s", &n.size, bk) == 2 && n.size > 0) {
		n.c.body = cache_body;
		n.c.ctx = &cctx;
	} else if (sscanf(name, "kmalloc-%15s", bk) == 1) {
		if (!kctx.ops)
			kctx.ops = make_ops();
		n.c.body = kmalloc_body;
		n.c.ctx = &kctx;
		n.c.setup = kmalloc_setup;
		n.c.teardown = kmalloc_teardown;
	} else if (sscanf(name, "remote-%15s", bk) == 1) {
		n.c.body = remote_body;
		n.c.ctx = &rctx;
		n.size = 256;
		n.remote = 1;
	} else {
		bench_die("unknown case %s (baseline, glibc, cache<SIZE>-<bk>, kmalloc-<bk>, remote-<bk>)", name);
	}
	if (bk[0]) {
		for (int b = 0; b < NR_BK; b++)
			if (!strcmp(bk, bk_name[b]))
				n.backend = b;
		if (n.backend < 0)
			bench_die("unknown backend '%s' in %s (slab, slob)", bk, name);
	}
	return n;
}

/* Boot the case's machine and create its cache. */
static void case_begin(struct named_case *n)
{
	if (n->backend < 0)
		return;
	boot_backend((enum backend)n->backend);
	if (n->c.body == cache_body || n->remote) {
		struct kmem_cache *s = kmem_cache_create(n->c.name, n->size, 0, 0, NULL);
		if (!s)
			bench_die("kmem_cache_create(%u) failed", n->size);
		if (n->remote) {
			struct remote_ctx *r = n->c.ctx;
			r->cache = s;
			r->head = r->tail = 0;
		} else {
			((struct cache_ctx *)n->c.ctx)->cache = s;
		}
	}
}

static void case_end(struct named_case *n)
{
	if (n->backend < 0)
		return;
	if (n->c.body == cache_body)
		kmem_cache_destroy(((struct cache_ctx *)n->c.ctx)->cache);
	else if (n->remote)
		kmem_cache_destroy(((struct remote_ctx *)n->c.ctx)->cache);
	kmm_shutdown();
}

static int callgrind_case(const char *name, long iters)
{
	struct named_case n = parse_case(name);
	if (n.remote)
		bench_die("%s needs two threads: no callgrind mode", name);
	case_begin(&n);
	if (n.c.setup)
		n.c.setup(n.c.ctx, 0);
	n.c.body(n.c.ctx, 0, iters / 10 > 1000 ? iters / 10 : 1000);

	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	bench_measured_loop(&n.c, 0, iters);
	CALLGRIND_STOP_INSTRUMENTATION;

	if (n.c.teardown)
		n.c.teardown(n.c.ctx, 0);
	case_end(&n);
	printf("case %s iters %ld units %ld\n", name, iters, iters);
	return 0;
}

/* Iterations for the remote case: bench_calibrate runs one thread, and a
 * producer alone would fill the ring and wait forever; calibrate on two. */
static long calibrate_remote(const struct bench_case *c)
{
	double ns = bench_run_once(c, 2, 100000);
	long iters = (long)(bench_opt.target_ms * 1e6 / (ns > 1 ? ns : 1));
	return iters < 10000 ? 10000 : iters;
}

/* --case NAME: time one case, 1..max_threads threads (baselines: 1;
 * remote: 2). */
static void timed_case(const char *name)
{
	struct named_case n = parse_case(name);
	case_begin(&n);
	long iters = n.remote ? calibrate_remote(&n.c) : bench_calibrate(&n.c);
	int t0 = n.remote ? 2 : 1, t1 = n.remote ? 2 : n.backend < 0 ? 1 : bench_opt.max_threads;
	for (int t = t0; t <= t1; t++) {
		struct bench_result r = bench_measure(&n.c, t, iters);
		printf("%-16s %dT %9.2f ns per %s (min %.2f, max %.2f)\n", name, t, r.median,
		       n.remote ? "object" : "pair", r.min, r.max);
	}
	case_end(&n);
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static struct bench_result cache_res[NR_BK][NR_CACHE_SIZES][BENCH_MAX_THREADS + 1];
static struct bench_result kmalloc_res[NR_BK][BENCH_MAX_THREADS + 1];
static struct bench_result remote_res[NR_BK];
static double fp_kmalloc[NR_BK][NR_FP_SIZES + 1][NR_FP_COUNTS], fp_cache[NR_BK][NR_FP_SIZES][NR_FP_COUNTS];
static double fp_mixed_req;
static unsigned long boot_free[NR_BK];	/* nr_free_pages after boot + kmm_drain_all */
static struct bench_result base_res, glibc_res;

static void print_tables(void)
{
	int T = bench_opt.max_threads;
	printf("### kmem_cache_alloc + kmem_cache_free, ns per pair\n\n| object size |");
	for (int b = 0; b < NR_BK; b++)
		for (int t = 1; t <= T; t++)
			printf(" %s %dT |", bk_label[b], t);
	for (int b = 0; b < NR_BK; b++)
		printf(" %s 1T / baseline |", bk_label[b]);
	printf("\n|---:|");
	for (int i = 0; i < NR_BK * T + NR_BK; i++)
		printf("---:|");
	printf("\n");
	for (size_t s = 0; s < NR_CACHE_SIZES; s++) {
		printf("| %u |", cache_sizes[s]);
		for (int b = 0; b < NR_BK; b++)
			for (int t = 1; t <= T; t++)
				printf(" %.1f |", cache_res[b][s][t].median);
		for (int b = 0; b < NR_BK; b++)
			printf(" %.1fx |", cache_res[b][s][1].median / base_res.median);
		printf("\n");
	}
	printf("\nbaseline: bare inline free list of %d-byte objects, pop + push: %.2f ns per pair; "
	       "glibc malloc(%d) + free: %.2f ns per pair\n\n", BASE_OBJ, base_res.median, BASE_OBJ, glibc_res.median);

	printf("### kmalloc + kfree, sizes 8..4096, %d live objects per thread, random replace; ns per pair\n\n",
	       LIVE_OBJECTS);
	printf("| backend |");
	for (int t = 1; t <= T; t++)
		printf(" %dT |", t);
	printf("\n|---|");
	for (int t = 1; t <= T; t++)
		printf("---:|");
	printf("\n");
	for (int b = 0; b < NR_BK; b++) {
		printf("| %s |", bk_label[b]);
		for (int t = 1; t <= T; t++)
			printf(" %.1f |", kmalloc_res[b][t].median);
		printf("\n");
	}

	if (T >= 2) {
		printf("\n### cross-thread frees: kmem_cache_alloc(256) in thread 0, kmem_cache_free in thread 1 "
		       "(through a ring); ns per object\n\n| backend | ns per object |\n|---|---:|\n");
		for (int b = 0; b < NR_BK; b++)
			printf("| %s | %.1f |\n", bk_label[b], remote_res[b].median);
	}

	for (int kind = 0; kind < 2; kind++) {
		printf("\n### footprint, %s: bytes of memory per live object\n\n",
		       kind ? "kmem_cache_alloc from a cache of that object size" : "kmalloc");
		printf("(pages taken from the buddy allocator, after kmm_drain_all, x %lu / objects; N objects live)\n\n",
		       PAGE_SIZE);
		printf("| request |");
		for (size_t n = 0; n < NR_FP_COUNTS; n++)
			for (int b = 0; b < NR_BK; b++)
				printf(" %s N=%ld |", bk_label[b], fp_counts[n]);
		printf("\n|---:|");
		for (size_t i = 0; i < NR_FP_COUNTS * NR_BK; i++)
			printf("---:|");
		printf("\n");
		for (size_t sz = 0; sz < NR_FP_SIZES + (kind ? 0 : 1); sz++) {
			if (sz < NR_FP_SIZES)
				printf("| %u |", fp_sizes[sz]);
			else
				printf("| mixed 16..512 (mean %.0f) |", fp_mixed_req);
			for (size_t n = 0; n < NR_FP_COUNTS; n++)
				for (int b = 0; b < NR_BK; b++)
					printf(" %.1f |", kind ? fp_cache[b][sz][n] : fp_kmalloc[b][sz][n]);
			printf("\n");
		}
	}
	printf("\nfree pages right after boot + kmm_drain_all (same machine, nothing allocated by the bench): "
	       "SLAB %lu, SLOB %lu; SLAB's own structures (kmalloc caches, array caches) hold %ld KiB more\n",
	       boot_free[BK_SLAB], boot_free[BK_SLOB],
	       ((long)boot_free[BK_SLOB] - (long)boot_free[BK_SLAB]) * (long)(PAGE_SIZE / 1024));

	printf("\n### goals (issue 3)\n\n");
	double r = cache_res[BK_SLAB][0][1].median / base_res.median;
	printf("- SLAB kmem_cache pair (32 bytes, 1T): %.1f ns = %.1fx the bare inline free list "
	       "(goal: within 2x): %s\n", cache_res[BK_SLAB][0][1].median, r, r <= 2 ? "met" : "MISSED");
	r = cache_res[BK_SLOB][0][1].median / base_res.median;
	printf("- SLOB kmem_cache pair (32 bytes, 1T): %.1f ns = %.1fx the baseline\n",
	       cache_res[BK_SLOB][0][1].median, r);
	int slob_smaller = 0, rows = 0;
	for (size_t sz = 0; sz <= NR_FP_SIZES; sz++) {
		rows++;
		slob_smaller += fp_kmalloc[BK_SLOB][sz][1] < fp_kmalloc[BK_SLAB][sz][1];
	}
	/* a small heap: the boot structures plus 100 mixed kmallocs */
	double slab_kib = (double)((long)boot_free[BK_SLOB] - (long)boot_free[BK_SLAB]) * (double)PAGE_SIZE / 1024 +
			  (fp_kmalloc[BK_SLAB][NR_FP_SIZES][0] - fp_kmalloc[BK_SLOB][NR_FP_SIZES][0]) *
				  (double)fp_counts[0] / 1024;
	printf("- small heap (boot structures + %ld mixed kmallocs 16..512): SLOB uses %.0f KiB %s than SLAB: %s\n",
	       fp_counts[0], slab_kib < 0 ? -slab_kib : slab_kib, slab_kib >= 0 ? "less" : "MORE",
	       slab_kib > 0 ? "met" : "MISSED");
	printf("- per object (N=%ld kmallocs): SLOB smaller than SLAB in %d of %d rows\n", fp_counts[1],
	       slob_smaller, rows);
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: slab_bench [options]\n"
		"       slab_bench --case CASE [--case CASE ...] [options]\n"
		"       slab_bench --callgrind-case CASE [--iters N]\n"
		BENCH_COMMON_USAGE
		"  --backend slab|slob  only this backend\n"
		"  case names (--case): baseline, glibc, cache<SIZE>-<slab|slob>,\n"
		"                  kmalloc-<slab|slob>, remote-<slab|slob>\n"
		"  --callgrind-case CASE  baseline, glibc, cache<SIZE>-<slab|slob>, kmalloc-<slab|slob>\n"
		"  --iters N       iterations of the callgrind case (default 100000)\n"
		"  --has-client-requests  print 1 if built with <valgrind/callgrind.h>, else 0\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int only = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (bench_common_opt(argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			i++;
			only = !strcmp(argv[i], "slab") ? BK_SLAB : !strcmp(argv[i], "slob") ? BK_SLOB : -2;
			if (only == -2)
				usage();
		} else
			usage();
	}
	if (!bench_opt.boot)
		bench_opt.boot = DEFAULT_BOOT;
	if (bench_opt.cg_case)
		return callgrind_case(bench_opt.cg_case, bench_opt.cg_iters);
	if (bench_opt.nr_cases) {
		for (int i = 0; i < bench_opt.nr_cases; i++)
			timed_case(bench_opt.cases[i]);
		return 0;
	}

	int T = bench_opt.max_threads;
	char hdr[600];
	snprintf(hdr, sizeof(hdr), "%s + slab=slab | slab=slob", bench_opt.boot);
	bench_print_header("slab_bench: object caches and kmalloc (issue 3)", hdr);

	{
		static struct base_ctx b;
		base_init(&b);
		struct bench_case c = { .name = "baseline", .body = base_body, .ctx = &b };
		base_res = bench_measure(&c, 1, 0);
		c.name = "glibc";
		c.body = glibc_body;
		glibc_res = bench_measure(&c, 1, 0);
		free(b.arena);
		fprintf(stderr, "slab_bench: baseline %.2f ns, glibc %.2f ns\n", base_res.median, glibc_res.median);
	}

	static struct kmalloc_ctx kctx;
	kctx.ops = make_ops();
	for (int b = 0; b < NR_BK; b++) {
		if (only >= 0 && b != only)
			continue;
		boot_backend((enum backend)b);
		kmm_drain_all();
		boot_free[b] = nr_free_pages();
		for (size_t s = 0; s < NR_CACHE_SIZES; s++) {
			char name[64];
			snprintf(name, sizeof(name), "cache%u-%s", cache_sizes[s], bk_name[b]);
			struct cache_ctx cc = { kmem_cache_create(name, cache_sizes[s], 0, 0, NULL) };
			if (!cc.cache)
				bench_die("kmem_cache_create(%u) failed", cache_sizes[s]);
			struct bench_case c = { .name = name, .body = cache_body, .ctx = &cc };
			long iters = bench_calibrate(&c);
			for (int t = 1; t <= T; t++) {
				cache_res[b][s][t] = bench_measure(&c, t, iters);
				fprintf(stderr, "slab_bench: %-16s %dT %8.1f ns per pair\n", name, t, cache_res[b][s][t].median);
			}
			kmem_cache_destroy(cc.cache);
		}
		{
			char name[64];
			snprintf(name, sizeof(name), "kmalloc-%s", bk_name[b]);
			struct bench_case c = { .name = name, .body = kmalloc_body, .ctx = &kctx,
						.setup = kmalloc_setup, .teardown = kmalloc_teardown };
			long iters = bench_calibrate(&c);
			for (int t = 1; t <= T; t++) {
				kmalloc_res[b][t] = bench_measure(&c, t, iters);
				fprintf(stderr, "slab_bench: %-16s %dT %8.1f ns per pair\n", name, t, kmalloc_res[b][t].median);
			}
		}
		if (T >= 2) {
			static struct remote_ctx rc;
			char name[64];
			snprintf(name, sizeof(name), "remote-%s", bk_name[b]);
			rc.cache = kmem_cache_create(name, 256, 0, 0, NULL);
			rc.head = rc.tail = 0;
			if (!rc.cache)
				bench_die("kmem_cache_create(remote) failed");
			struct bench_case c = { .name = name, .body = remote_body, .ctx = &rc };
			remote_res[b] = bench_measure(&c, 2, calibrate_remote(&c));
			fprintf(stderr, "slab_bench: %-16s 2T %8.1f ns per object\n", name, remote_res[b].median);
			kmem_cache_destroy(rc.cache);
		}
		for (size_t n = 0; n < NR_FP_COUNTS; n++) {
			double req;
			for (size_t s = 0; s < NR_FP_SIZES; s++) {
				fp_kmalloc[b][s][n] = footprint(0, fp_sizes[s], fp_counts[n], &req);
				fp_cache[b][s][n] = footprint(1, fp_sizes[s], fp_counts[n], &req);
			}
			fp_kmalloc[b][NR_FP_SIZES][n] = footprint(0, 0, fp_counts[n], &fp_mixed_req);
		}
		fprintf(stderr, "slab_bench: %s footprint done\n", bk_label[b]);
		if (kmm_check() != 0)
			bench_die("kmm_check failed after the %s cases", bk_label[b]);
		kmm_shutdown();
	}
	print_tables();
	return 0;
}
