/*
 * tracegen.c - `kmm trace-gen` writes a synthetic allocation trace with the
 * shape of a real program's, for tests and experiments; `kmm trace-dump`
 * prints any trace in the text form (docs/trace-format.md).
 *
 * The model (loosely after the size and lifetime distributions reported
 * for C programs: most blocks are small and die young, a few live as long
 * as the program, buffers grow by realloc):
 *   sizes      45% 8-64 B (list nodes, short strings), 32% 64-512 B,
 *              15% 512 B-4 KiB, 6.5% 4-64 KiB, 1.3% 64 KiB-1 MiB,
 *              0.2% 1-8 MiB
 *   lifetimes  60% short (mean 20 calls), 30% medium (mean 2,000),
 *              10% until the end (2% of all blocks are never freed);
 *              blocks above 64 KiB are short-lived (85%) or medium
 *   calls      calloc 5%, memalign / posix_memalign / aligned_alloc 2%,
 *              realloc growing a live buffer by 1.5-2x 8%, the rest malloc;
 *              each block is freed when its lifetime is up
 *   threads    --threads T (default 4): each block belongs to one thread,
 *              which frees it; calls are spaced ~300 ns apart
 *   ids        address-like values (16-byte steps), unique among live blocks
 * The same seed always writes the same file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmm_tool.h"
#include "trace.h"

struct gen_block {
	uint64_t id, size, death;	/* death: call index when it is freed (UINT64_MAX: never) */
	uint32_t thread;
	int heap_idx;
	long recent_idx;	/* index in the realloc candidates, or -1 */
};

/* a binary min-heap of live blocks by death time */
struct gen_heap {
	struct gen_block **a;
	size_t n, cap;
};

static void heap_swap(struct gen_heap *h, size_t i, size_t j)
{
	struct gen_block *t = h->a[i];
	h->a[i] = h->a[j];
	h->a[j] = t;
	h->a[i]->heap_idx = (int)i;
	h->a[j]->heap_idx = (int)j;
}

static void heap_up(struct gen_heap *h, size_t i)
{
	while (i > 0 && h->a[(i - 1) / 2]->death > h->a[i]->death) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct gen_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->a[l]->death < h->a[m]->death)
			m = l;
		if (r < h->n && h->a[r]->death < h->a[m]->death)
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

static void heap_push(struct gen_heap *h, struct gen_block *b)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->a = xrealloc(h->a, h->cap * sizeof(*h->a));
	}
	h->a[h->n] = b;
	b->heap_idx = (int)h->n;
	heap_up(h, h->n++);
}

static struct gen_block *heap_pop(struct gen_heap *h)
{
	struct gen_block *b = h->a[0];
	h->a[0] = h->a[--h->n];
	h->a[0]->heap_idx = 0;
	if (h->n)
		heap_down(h, 0);
	return b;
}

static uint64_t gen_size(struct rng *r)
{
	unsigned x = (unsigned)rng_below(r, 1000);
	uint64_t lo, hi;
	if (x < 450) {
		static const uint64_t common[] = { 8, 16, 16, 24, 24, 32, 32, 40, 48, 64 };
		if (rng_below(r, 2))
			return common[rng_below(r, 10)];
		lo = 8, hi = 64;
	} else if (x < 770) {
		lo = 64, hi = 512;
	} else if (x < 920) {
		lo = 512, hi = 4096;
	} else if (x < 985) {
		lo = 4096, hi = 65536;
	} else if (x < 998) {
		lo = 65536, hi = 1 << 20;
	} else {
		lo = 1 << 20, hi = 8 << 20;
	}
	/* log-uniform in [lo, hi] */
	double l = log((double)lo), h = log((double)hi);
	return (uint64_t)exp(l + (h - l) * rng_unit(r));
}

static uint64_t gen_lifetime(struct rng *r, uint64_t now, uint64_t total, uint64_t size)
{
	unsigned x = (unsigned)rng_below(r, 100);
	if (size > 65536)	/* big buffers are temporary */
		x = x < 85 ? 0 : 60;
	if (x < 60)
		return now + 1 + (uint64_t)(-20.0 * log(1.0 - rng_unit(r)));
	if (x < 90)
		return now + 1 + (uint64_t)(-2000.0 * log(1.0 - rng_unit(r)));
	if (x < 98)
		return total + 1 + rng_below(r, 1000);	/* freed at the end */
	return UINT64_MAX;				/* leaked */
}

static void gen_usage(FILE *f)
{
	fprintf(f, "usage: kmm trace-gen [--seed S] [--ops N] [--threads T] FILE\n"
		   "  Writes a synthetic trace of about N calls (default 100000) in the binary format\n"
		   "  of docs/trace-format.md; FILE '-' is standard output.\n");
}

int cmd_trace_gen(int argc, char **argv)
{
	unsigned long seed = 1, ops = 100000, threads = 4;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = opt_value(argc, argv, &i, "--seed"))) {
			if (!parse_ulong(v, &seed, false))
				goto bad;
		} else if ((v = opt_value(argc, argv, &i, "--ops"))) {
			if (!parse_ulong(v, &ops, true) || ops < 1 || ops > 100000000)
				goto bad;
		} else if ((v = opt_value(argc, argv, &i, "--threads"))) {
			if (!parse_ulong(v, &threads, false) || threads < 1 || threads > 1024)
				goto bad;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			gen_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			goto bad;
		} else if (!path) {
			path = argv[i];
		} else {
			goto bad;
		}
	}
	if (!path)
		goto bad;

	static struct kmm_trace_writer w;
	int rc = strcmp(path, "-") ? kmm_trace_writer_open(&w, path) : kmm_trace_writer_open_fd(&w, dup(STDOUT_FILENO));
	if (rc) {
		tool_err("trace-gen: %s: %s", path, strerror(-rc));
		return 1;
	}
	struct rng r;
	rng_seed(&r, seed);
	struct gen_heap heap = { 0 };
	struct gen_block **bythread;	/* realloc candidates: a sample of live blocks */
	size_t nrecent = 0, caprecent = 4096;
	bythread = xcalloc(caprecent, sizeof(*bythread));
	uint64_t next_addr = 0x555555560000ULL, now_ns = 1000;
	unsigned long records = 0;
	char meta[128];
	int ml = snprintf(meta, sizeof(meta), "generator=kmm-trace-gen seed=%lu ops=%lu threads=%lu", seed, ops, threads);
	kmm_trace_write(&w, &(struct kmm_trace_rec){ .op = KMM_TRACE_META, .time_ns = now_ns, .meta = meta,
						     .meta_len = (size_t)ml });

	for (uint64_t call = 0; call < ops; call++) {
		now_ns += 1 + (uint64_t)(-300.0 * log(1.0 - rng_unit(&r)));
		struct kmm_trace_rec rec = { .time_ns = now_ns };
		if (heap.n && heap.a[0]->death <= call) {
			struct gen_block *b = heap_pop(&heap);
			rec.op = KMM_TRACE_FREE;
			rec.id = b->id;
			rec.thread = rng_below(&r, 10) ? b->thread : (uint32_t)rng_below(&r, threads);
			if (b->recent_idx >= 0) {
				bythread[b->recent_idx] = bythread[--nrecent];
				bythread[b->recent_idx]->recent_idx = b->recent_idx;
			}
			free(b);
			kmm_trace_write(&w, &rec);
			records++;
			continue;
		}
		unsigned x = (unsigned)rng_below(&r, 100);
		if (x < 8 && nrecent) {
			/* grow a live buffer: realloc returns a new address */
			struct gen_block *b = bythread[rng_below(&r, nrecent)];
			uint64_t ns = b->size + b->size / 2 + rng_below(&r, b->size / 2 + 1);
			if (ns > (64ULL << 20))
				ns = b->size;
			rec.op = KMM_TRACE_REALLOC;
			rec.old_id = b->id;
			rec.id = next_addr;
			next_addr += (ns + 31) & ~15ULL;
			rec.size = ns;
			rec.thread = b->thread;
			b->id = rec.id;
			b->size = ns;
			kmm_trace_write(&w, &rec);
			records++;
			continue;
		}
		struct gen_block *b = xcalloc(1, sizeof(*b));
		b->size = gen_size(&r);
		b->thread = (uint32_t)rng_below(&r, threads);
		b->death = gen_lifetime(&r, call, ops, b->size);
		b->id = next_addr;
		next_addr += (b->size + 31) & ~15ULL;
		rec.id = b->id;
		rec.thread = b->thread;
		if (x < 13) {
			rec.op = KMM_TRACE_CALLOC;
			rec.size = b->size < 64 ? b->size : 8;
			rec.nmemb = (b->size + rec.size - 1) / rec.size;
			b->size = rec.nmemb * rec.size;
		} else if (x < 15) {
			static const uint8_t kinds[] = { KMM_TRACE_MEMALIGN, KMM_TRACE_POSIX_MEMALIGN, KMM_TRACE_ALIGNED_ALLOC };
			rec.op = kinds[rng_below(&r, 3)];
			rec.align = rng_below(&r, 4) ? 64 : 4096;
			rec.size = b->size;
		} else {
			rec.op = KMM_TRACE_MALLOC;
			rec.size = b->size;
		}
		kmm_trace_write(&w, &rec);
		records++;
		heap_push(&heap, b);
		if (nrecent < caprecent) {
			b->recent_idx = (long)nrecent;
			bythread[nrecent++] = b;
		} else {
			size_t k = rng_below(&r, caprecent);
			bythread[k]->recent_idx = -1;
			bythread[k] = b;
			b->recent_idx = (long)k;
		}
	}
	/* the end: free what is due, leak the rest */
	while (heap.n) {
		struct gen_block *b = heap_pop(&heap);
		if (b->death != UINT64_MAX) {
			now_ns += 50;
			kmm_trace_write(&w, &(struct kmm_trace_rec){ .op = KMM_TRACE_FREE, .id = b->id, .thread = b->thread,
								     .time_ns = now_ns });
			records++;
		}
		free(b);
	}
	free(heap.a);
	free(bythread);
	rc = kmm_trace_writer_close(&w);
	if (rc) {
		tool_err("trace-gen: writing %s: %s", path, strerror(-rc));
		return 1;
	}
	if (strcmp(path, "-"))
		fprintf(stderr, "kmm trace-gen: %s: %lu records\n", path, records + 1);
	return 0;
bad:
	gen_usage(stderr);
	return 2;
}

int cmd_trace_dump(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: kmm trace-dump TRACE   (prints the trace in the text form; '-' reads stdin)\n");
			return 0;
		}
		if (path) {
			tool_err("trace-dump: one trace at a time");
			return 2;
		}
		path = argv[i];
	}
	if (!path) {
		tool_err("usage: kmm trace-dump TRACE");
		return 2;
	}
	struct kmm_trace_reader r;
	if (kmm_trace_reader_open(&r, path)) {
		tool_err("trace-dump: %s", r.err);
		return 1;
	}
	printf("# kmm trace v%d, text form: TIME_NS THREAD OP ARGS (docs/trace-format.md)\n", KMM_TRACE_VERSION);
	struct kmm_trace_rec rec;
	int rc;
	while ((rc = kmm_trace_read(&r, &rec)) == 1)
		kmm_trace_print(stdout, &rec);
	kmm_trace_reader_close(&r);
	if (rc < 0) {
		tool_err("trace-dump: %s: %s", path, r.err);
		return 1;
	}
	return 0;
}
