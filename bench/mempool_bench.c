/*
 * mempool_bench.c - what a memory pool costs over the allocator it wraps
 * (issue 4).
 *
 * Cases, each an alloc + free pair of 256-byte objects, 1 and 2 threads
 * (each its own pool), on mem=1G numa=1 cpus=4 by default:
 *   cache          kmem_cache_alloc + kmem_cache_free (the plain cache);
 *   slab-pool      mempool_alloc + mempool_free of a slab pool over that
 *                  cache (min_nr 16): the cache serves, the reserve stays
 *                  full, so this is the pool's overhead on the common path;
 *   kmalloc        kmalloc(256) + kfree;
 *   kmalloc-pool   the same through mempool_create_kmalloc_pool;
 *   reserve        a pool whose allocator always fails: every pair pops the
 *                  reserve and pushes it back under the pool lock (the path
 *                  a pool exists for).
 * The figure is ns per pair, median of --runs runs (default 5), and the
 * ratio to the plain allocator.
 *
 * Written against the public API only (kmm/kmm.h).  `mempool_bench --case
 * NAME` times one case only.
 */
#include <kmm/kmm.h>

#include "bench.h"

#define DEFAULT_BOOT "mem=1G numa=1 cpus=4"
#define OBJ_SIZE 256
#define POOL_MIN 16

enum mp_kind { MP_CACHE, MP_SLAB_POOL, MP_KMALLOC, MP_KMALLOC_POOL, MP_RESERVE, MP_NR_KINDS };
static const char *const mp_names[MP_NR_KINDS] = { "cache", "slab-pool", "kmalloc", "kmalloc-pool", "reserve" };
/* the plain allocator each case is compared with (-1: none) */
static const int mp_base[MP_NR_KINDS] = { -1, MP_CACHE, -1, MP_KMALLOC, MP_CACHE };

static struct kmem_cache *cache;

/* an allocator that has nothing once the pool is full: every element
 * then comes from the reserve (one per thread's pool) */
struct failing {
	struct kmem_cache *cache;
	int ready;	/* set after mempool_create filled the reserve */
};
static void *failing_alloc(gfp_t gfp, void *data)
{
	struct failing *f = data;
	return f->ready ? NULL : kmem_cache_alloc(f->cache, gfp);
}
static void failing_free(void *e, void *data) { kmem_cache_free(((struct failing *)data)->cache, e); }

struct mp_ctx {
	enum mp_kind kind;
	mempool_t *pool[BENCH_MAX_THREADS];
	struct failing failing[BENCH_MAX_THREADS];
};

static void mp_setup(void *ctx, int tid)
{
	struct mp_ctx *c = ctx;
	switch (c->kind) {
	case MP_SLAB_POOL:
		c->pool[tid] = mempool_create_slab_pool(POOL_MIN, cache);
		break;
	case MP_KMALLOC_POOL:
		c->pool[tid] = mempool_create_kmalloc_pool(POOL_MIN, OBJ_SIZE);
		break;
	case MP_RESERVE:
		c->failing[tid] = (struct failing){ .cache = cache, .ready = 0 };
		c->pool[tid] = mempool_create(POOL_MIN, failing_alloc, failing_free, &c->failing[tid]);
		c->failing[tid].ready = 1;
		break;
	default:
		return;
	}
	if (!c->pool[tid])
		bench_die("mempool_create failed");
}

static void mp_teardown(void *ctx, int tid)
{
	struct mp_ctx *c = ctx;
	if (c->pool[tid])
		mempool_destroy(c->pool[tid]);
	c->pool[tid] = NULL;
}

static void mp_body(void *ctx, int tid, long iters)
{
	struct mp_ctx *c = ctx;
	mempool_t *pool = c->pool[tid];
	void *p;
	switch (c->kind) {
	case MP_CACHE:
		for (long i = 0; i < iters; i++) {
			p = kmem_cache_alloc(cache, GFP_KERNEL);
			bench_keep(p);
			kmem_cache_free(cache, p);
		}
		break;
	case MP_KMALLOC:
		for (long i = 0; i < iters; i++) {
			p = kmalloc(OBJ_SIZE, GFP_KERNEL);
			bench_keep(p);
			kfree(p);
		}
		break;
	default:
		for (long i = 0; i < iters; i++) {
			p = mempool_alloc(pool, GFP_KERNEL);
			if (!p)
				bench_die("mempool_alloc(GFP_KERNEL) returned NULL");
			bench_keep(p);
			mempool_free(p, pool);
		}
		break;
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [options]\n"
		"  case names: (cache, slab-pool, kmalloc, kmalloc-pool, reserve)\n"
		BENCH_COMMON_USAGE, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	bench_opt.boot = DEFAULT_BOOT;
	for (int i = 1; i < argc; i++)
		if (!bench_common_opt(argc, argv, &i))
			usage(argv[0]);
	if (bench_opt.cg_case)
		usage(argv[0]);
	int rc = kmm_boot(bench_opt.boot);
	if (rc)
		bench_die("kmm_boot(\"%s\") = %d", bench_opt.boot, rc);
	cache = kmem_cache_create("bench-256", OBJ_SIZE, 0, 0, NULL);
	if (!cache)
		bench_die("kmem_cache_create failed");

	bench_print_header("mempool_bench: mempool_alloc + mempool_free against the plain allocator (issue 4)",
			   bench_opt.boot);
	printf("| case | threads | ns/pair | min | max | vs plain |\n");
	printf("|------|--------:|--------:|----:|----:|---------:|\n");
	double median[MP_NR_KINDS][3] = { { 0 } };
	for (int k = 0; k < MP_NR_KINDS; k++) {
		if (!bench_case_selected(mp_names[k]))
			continue;
		for (int t = 1; t <= bench_opt.max_threads && t <= 2; t++) {
			struct mp_ctx ctx = { .kind = (enum mp_kind)k };
			struct bench_case c = { .name = mp_names[k], .body = mp_body, .setup = mp_setup,
						.teardown = mp_teardown, .ctx = &ctx };
			fprintf(stderr, "bench: %s T=%d\n", mp_names[k], t);
			struct bench_result r = bench_measure(&c, t, 0);
			median[k][t] = r.median;
			int b = mp_base[k];
			char ratio[32] = "-";
			if (b >= 0 && median[b][t] > 0)
				snprintf(ratio, sizeof(ratio), "%.2fx", r.median / median[b][t]);
			printf("| %s | %d | %.1f | %.1f | %.1f | %s |\n", mp_names[k], t, r.median, r.min, r.max, ratio);
			fflush(stdout);
		}
	}
	printf("\n");
	kmem_cache_destroy(cache);
	kmm_drain_all();
	if (kmm_check())
		bench_die("kmm_check failed after the runs");
	kmm_shutdown();
	return 0;
}
