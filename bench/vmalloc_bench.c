/*
 * vmalloc_bench.c - the speed of noncontiguous areas (issue 4).
 *
 * Case: vmalloc(size) + vfree, sizes 64 KiB .. 64 MiB (powers of 4), on a
 * booted machine (mem=1G numa=1 cpus=4 vmalloc=512M by default), 1 and 2
 * threads (each its own areas).  Two variants:
 *   plain   vmalloc + vfree: reserve the range, take the frames one by one,
 *           write the page table and map them on the host, then unmap, free
 *           the frames, and (every lazy_max_pages) purge the ranges;
 *   touch   the same plus one byte written per page, so the host really
 *           backs each mapping (a first touch is a host page fault).
 * The figure is ns per vmalloc+vfree pair (median of --runs runs), and
 * the same divided by the pages of the area.
 *
 * Written against the public API only (kmm/kmm.h).  `vmalloc_bench --case
 * SIZE_KIB` times one size only (both variants).
 */
#include <kmm/kmm.h>

#include "bench.h"

#define DEFAULT_BOOT "mem=1G numa=1 cpus=4 vmalloc=512M"
#define KiB 1024UL
#define MiB (1024UL * 1024UL)

static const unsigned long sizes[] = { 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB, 64 * MiB };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct vm_ctx {
	unsigned long size;
	int touch;
};

static void vm_body(void *ctx, int tid, long iters)
{
	const struct vm_ctx *c = ctx;
	(void)tid;
	for (long i = 0; i < iters; i++) {
		char *p = vmalloc(c->size);
		if (!p)
			bench_die("vmalloc(%lu) failed", c->size);
		if (c->touch)
			for (unsigned long off = 0; off < c->size; off += PAGE_SIZE)
				p[off] = (char)off;
		bench_keep(p);
		vfree(p);
	}
}

/* Iterations for one run: calibrate, but never fewer than 3 pairs. */
static long iters_for(const struct bench_case *c)
{
	long it = 0;
	/* a 64 MiB pair takes milliseconds: calibrate on the case itself */
	for (it = 1;; it *= 2) {
		uint64_t t0 = bench_now_ns();
		bench_measured_loop(c, 0, it);
		double ms = (double)(bench_now_ns() - t0) / 1e6;
		if (ms >= 20 || it >= (1L << 20)) {
			long want = (long)((double)it * bench_opt.target_ms / (ms > 0.001 ? ms : 0.001));
			return want < 3 ? 3 : want;
		}
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [options]\n"
		"  case names: area sizes in KiB\n" BENCH_COMMON_USAGE, prog);
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
	/* one machine for every case (bench_run_once warms each run up with
	 * min(iters, 1000) pairs of its own) */
	int rc = kmm_boot(bench_opt.boot);
	if (rc)
		bench_die("kmm_boot(\"%s\") = %d", bench_opt.boot, rc);

	bench_print_header("vmalloc_bench: vmalloc + vfree (issue 4)", bench_opt.boot);
	printf("| size | threads | plain ns/pair | plain ns/page | touch ns/pair | touch ns/page |\n");
	printf("|-----:|--------:|--------------:|--------------:|--------------:|--------------:|\n");
	for (size_t s = 0; s < NR_SIZES; s++) {
		char name[32];
		snprintf(name, sizeof(name), "%lu", sizes[s] / KiB);
		if (!bench_case_selected(name))
			continue;
		for (int t = 1; t <= bench_opt.max_threads && t <= 2; t++) {
			struct bench_result r[2];
			for (int touch = 0; touch < 2; touch++) {
				struct vm_ctx ctx = { .size = sizes[s], .touch = touch };
				char name[64];
				snprintf(name, sizeof(name), "vmalloc-%luK%s", sizes[s] / KiB, touch ? "-touch" : "");
				struct bench_case c = { .name = name, .body = vm_body, .ctx = &ctx };
				fprintf(stderr, "bench: %s T=%d\n", name, t);
				r[touch] = bench_measure(&c, t, iters_for(&c));
			}
			unsigned long pages = sizes[s] / PAGE_SIZE;
			printf("| %lu KiB | %d | %.0f | %.1f | %.0f | %.1f |\n", sizes[s] / KiB, t, r[0].median,
			       r[0].median / (double)pages, r[1].median, r[1].median / (double)pages);
			fflush(stdout);
		}
	}
	printf("\n");
	if (kmm_check())
		bench_die("kmm_check failed after the runs");
	kmm_shutdown();
	return 0;
}
