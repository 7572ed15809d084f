/*
 * highmem_bench.c - the cost of mapping a high-memory page (issue 4).
 *
 * Cases, each a map + unmap pair, 1 and 2 threads (each its own pages), on
 * a booted machine with a HighMem zone (mem=1G numa=1 cpus=4 pkmap=512 by
 * default):
 *   kmap-hot      kmap + kunmap of one page again and again: the page keeps
 *                 its pkmap slot (count 2 -> 1), so this is the page_address
 *                 hash lookup and kmap_lock twice, no page-table work;
 *   kmap-cycle    kmap + kunmap over 2 * pkmap= pages per thread: every
 *                 pair takes a new slot (PTE written, host mapping made) and
 *                 the scan's wrap-around flush unmaps the unused ones;
 *   kmap_local    kmap_local_page + kunmap_local of a highmem page: the
 *                 thread's fixmap window mapped and unmapped on the host
 *                 (no lock, no page table);
 *   kmap_local-lowmem  the same for a lowmem page: just page_address
 *                 (the floor every variant pays).
 * The figure is ns per pair, median of --runs runs (default 5).
 *
 * Written against the public API only (kmm/kmm.h).  `highmem_bench --case
 * NAME` times one case only.
 */
#include <kmm/kmm.h>

#include "bench.h"

#define DEFAULT_BOOT "mem=1G numa=1 cpus=4 pkmap=512"
#define CYCLE_PAGES_PER_SLOT 2	/* kmap-cycle: pages per pkmap slot, per thread */

enum hm_kind { HM_KMAP_HOT, HM_KMAP_CYCLE, HM_LOCAL, HM_LOCAL_LOWMEM, HM_NR_KINDS };
static const char *const hm_names[HM_NR_KINDS] = { "kmap-hot", "kmap-cycle", "kmap_local", "kmap_local-lowmem" };

struct hm_ctx {
	enum hm_kind kind;
	unsigned long npages;			/* pages per thread */
	struct page **pages[BENCH_MAX_THREADS];	/* per thread */
};

static void hm_setup(void *ctx, int tid)
{
	struct hm_ctx *c = ctx;
	gfp_t gfp = c->kind == HM_LOCAL_LOWMEM ? GFP_KERNEL : GFP_HIGHUSER;
	c->pages[tid] = calloc(c->npages, sizeof(struct page *));
	if (!c->pages[tid])
		bench_die("out of host memory");
	for (unsigned long i = 0; i < c->npages; i++) {
		c->pages[tid][i] = alloc_page(gfp);
		if (!c->pages[tid][i])
			bench_die("alloc_page failed");
		if (c->kind != HM_LOCAL_LOWMEM && !PageHighMem(c->pages[tid][i]))
			bench_die("the machine has no high memory left (boot with a HighMem zone)");
	}
}

static void hm_teardown(void *ctx, int tid)
{
	struct hm_ctx *c = ctx;
	for (unsigned long i = 0; i < c->npages; i++)
		__free_page(c->pages[tid][i]);
	free(c->pages[tid]);
	c->pages[tid] = NULL;
}

static void hm_body(void *ctx, int tid, long iters)
{
	struct hm_ctx *c = ctx;
	struct page **pg = c->pages[tid];
	unsigned long n = c->npages, i = 0;
	switch (c->kind) {
	case HM_KMAP_HOT:
	case HM_KMAP_CYCLE:
		for (long it = 0; it < iters; it++) {
			struct page *p = pg[i];
			char *a = kmap(p);
			if (!a)
				bench_die("kmap failed");
			bench_keep(a);
			kunmap(p);
			if (++i == n)
				i = 0;
		}
		break;
	case HM_LOCAL:
	case HM_LOCAL_LOWMEM:
		for (long it = 0; it < iters; it++) {
			char *a = kmap_local_page(pg[0]);
			if (!a)
				bench_die("kmap_local_page failed");
			bench_keep(a);
			kunmap_local(a);
		}
		break;
	default:
		break;
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [options]\n"
		"  case names: (kmap-hot, kmap-cycle, kmap_local, kmap_local-lowmem)\n"
		BENCH_COMMON_USAGE, prog);
	exit(2);
}

/* the pkmap= value of the boot line (512 when absent) */
static unsigned long boot_pkmap(const char *boot)
{
	const char *p = strstr(boot, "pkmap=");
	return p ? strtoul(p + 6, NULL, 10) : 512;
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

	bench_print_header("highmem_bench: kmap / kmap_local map + unmap pairs (issue 4)", bench_opt.boot);
	printf("| case | threads | ns/pair | min | max |\n");
	printf("|------|--------:|--------:|----:|----:|\n");
	for (int k = 0; k < HM_NR_KINDS; k++) {
		if (!bench_case_selected(hm_names[k]))
			continue;
		for (int t = 1; t <= bench_opt.max_threads && t <= 2; t++) {
			struct hm_ctx ctx = { .kind = (enum hm_kind)k, .npages = 1 };
			if (k == HM_KMAP_CYCLE)
				ctx.npages = boot_pkmap(bench_opt.boot) * CYCLE_PAGES_PER_SLOT;
			struct bench_case c = { .name = hm_names[k], .body = hm_body, .setup = hm_setup,
						.teardown = hm_teardown, .ctx = &ctx };
			fprintf(stderr, "bench: %s T=%d\n", hm_names[k], t);
			struct bench_result r = bench_measure(&c, t, 0);
			printf("| %s | %d | %.1f | %.1f | %.1f |\n", hm_names[k], t, r.median, r.min, r.max);
			fflush(stdout);
		}
	}
	printf("\n");
	kmm_drain_all();
	if (kmm_check())
		bench_die("kmm_check failed after the runs");
	kmm_shutdown();
	return 0;
}
