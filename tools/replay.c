/*
 * replay.c - `kmm replay TRACE [--options OPTS] [--compare OPTS2]`: replay
 * an allocation trace (docs/trace-format.md) on a simulated machine and
 * measure what the kernel's allocators make of the program's requests.
 *
 * Every call of the trace, in file order, on one thread (the trace's
 * thread numbers are counted, not simulated):
 *   malloc / calloc           kvmalloc(size, GFP_KERNEL): kmalloc up to
 *                             KMALLOC_MAX_SIZE (caches, then whole pages),
 *                             vmalloc above, as the kernel's kvmalloc does
 *   memalign & co.            kmalloc of the size rounded up to a power of
 *                             two >= the alignment (kmalloc's power-of-two
 *                             classes are naturally aligned); vmalloc for
 *                             more than KMALLOC_MAX_SIZE (page aligned)
 *   realloc                   krealloc while both sizes are kmalloc sizes,
 *                             else a new block, a copy and a free
 *   free                      kvfree
 * The machine runs on the trace's clock (kmm_set_clock), so slab reaping
 * happens at the program's times and a replay is reproducible.
 *
 * Measured: pages in use (managed pages not free in the buddy lists, so
 * per-CPU lists and empty slabs count: that is memory the allocator holds)
 * after every call, and its peak; the bytes requested and given (ksize, or
 * the page-rounded size of a vmalloc area) of the live blocks, so the waste
 * at the peak; free pages per order every few calls (the chart and the
 * unusable free space index per order, Linux's extfrag/unusable_index over
 * the whole machine); the frame states at the sampled peak (the map).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kmm_tool.h"
#include "trace.h"

#define KMALLOC_LIMIT (4UL << 20)	/* KMALLOC_MAX_SIZE: the largest buddy block */
#define TARGET_SAMPLES 240
#define REPLAY_MAX_BYTES (1ULL << 40)	/* larger requests fail at once */

/* ---- id -> block table (open addressing, linear probing) ------------------ */

struct blk {
	uint64_t id;		/* 0: empty; TOMB: deleted */
	void *p;
	uint64_t req, usable;
	bool vmalloced;
	bool failed;		/* the replay could not allocate it: frees of it are expected */
};
#define TOMB UINT64_MAX

struct blk_table {
	struct blk *t;
	size_t cap, used, live;	/* used: live + tombstones */
};

static size_t hash_id(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id;
}

static void table_insert_raw(struct blk_table *tb, const struct blk *b)
{
	size_t i = hash_id(b->id) & (tb->cap - 1);
	while (tb->t[i].id && tb->t[i].id != TOMB)
		i = (i + 1) & (tb->cap - 1);
	tb->t[i] = *b;
	tb->used++;
	tb->live++;
}

static void table_grow(struct blk_table *tb)
{
	struct blk *old = tb->t;
	size_t oldcap = tb->cap;
	tb->cap = oldcap ? oldcap * 2 : 4096;
	if (oldcap && tb->live * 4 < oldcap)	/* mostly tombstones: same size */
		tb->cap = oldcap;
	tb->t = xcalloc(tb->cap, sizeof(*tb->t));
	tb->used = tb->live = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].id && old[i].id != TOMB)
			table_insert_raw(tb, &old[i]);
	free(old);
}

static struct blk *table_find(struct blk_table *tb, uint64_t id)
{
	if (!tb->cap || !id || id == TOMB)
		return NULL;
	size_t i = hash_id(id) & (tb->cap - 1);
	while (tb->t[i].id) {
		if (tb->t[i].id == id)
			return &tb->t[i];
		i = (i + 1) & (tb->cap - 1);
	}
	return NULL;
}

static void table_insert(struct blk_table *tb, const struct blk *b)
{
	if ((tb->used + 1) * 4 > tb->cap * 3)
		table_grow(tb);
	table_insert_raw(tb, b);
}

static void table_remove(struct blk_table *tb, struct blk *b)
{
	b->id = TOMB;
	tb->live--;
}

/* ---- one replay ------------------------------------------------------------------ */

struct replay_result {
	char options[256];
	unsigned long records, ops[KMM_TRACE_NR_OPS], threads;
	unsigned long failed, unknown_frees, live_at_end, null_ids;
	unsigned long managed;
	unsigned long peak_pages;	/* pages in use */
	unsigned long peak_record;
	uint64_t peak_req, peak_usable, peak_blocks;	/* live blocks at the peak */
	uint64_t max_req;		/* most bytes requested at once */
	unsigned long final_pages;
	double peak_unusable[NR_PAGE_ORDERS];
	double seconds;
	struct free_sample *samples;
	int nr_samples;
	struct mem_picture pic;		/* at the sampled peak */
	bool have_pic;
};

static unsigned long managed_pages(void)
{
	struct kmm_zone_snapshot *z;
	int n = zones_snapshot(&z);
	unsigned long m = 0;
	for (int i = 0; i < n; i++)
		m += z[i].managed_pages;
	free(z);
	return m;
}

static uint64_t trace_clock_ns;
static uint64_t trace_clock(void)
{
	/* the program's time, plus a nanosecond per read so it always moves */
	return __atomic_add_fetch(&trace_clock_ns, 1, __ATOMIC_RELAXED);
}

static uint64_t roundup_pow2(uint64_t x)
{
	uint64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

static void *replay_alloc(uint64_t bytes, uint64_t align, bool zero, struct blk *b)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | (zero ? __GFP_ZERO : 0);
	void *p;
	if (bytes == 0)
		bytes = 1;	/* malloc(0) gives a unique block; kmalloc(0) would not */
	if (bytes > REPLAY_MAX_BYTES)
		return NULL;
	b->req = bytes;
	if (align > 8 && bytes <= KMALLOC_LIMIT) {
		uint64_t sz = roundup_pow2(bytes > align ? bytes : align);
		p = sz <= KMALLOC_LIMIT ? kmalloc(sz, gfp) : NULL;
		if (!p)
			return NULL;
	} else {
		p = kvmalloc(bytes, gfp);
		if (!p)
			return NULL;
	}
	b->p = p;
	b->vmalloced = is_vmalloc_addr(p);
	b->usable = b->vmalloced ? PAGE_ALIGN(bytes) : ksize(p);
	return p;
}

static void replay_free(struct blk *b)
{
	if (!b->failed)
		kvfree(b->p);
}

/* Forget block b (freeing its memory unless the replay never had it). */
static void drop_block(struct blk_table *tb, struct blk *b, uint64_t *live_req, uint64_t *live_usable)
{
	if (!b->failed) {
		replay_free(b);
		*live_req -= b->req;
		*live_usable -= b->usable;
	}
	table_remove(tb, b);
}

/* Remember block nb under its id; an id still live means a free we never
 * saw (the trace started late or lost a record): the old block goes. */
static void add_block(struct blk_table *tb, struct blk *nb, uint64_t *live_req, uint64_t *live_usable,
		      struct replay_result *res)
{
	struct blk *dup = table_find(tb, nb->id);
	if (dup) {
		res->unknown_frees++;
		drop_block(tb, dup, live_req, live_usable);
	}
	table_insert(tb, nb);
	if (!nb->failed) {
		*live_req += nb->req;
		*live_usable += nb->usable;
	}
}

static int run_replay(const char *path, const char *options, const char *out_prefix, struct replay_result *res,
		      unsigned long total_records, bool quiet)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->options, sizeof(res->options), "%s", *options ? options : "default");

	struct strbuf cmd;
	sb_init(&cmd);
	sb_add(&cmd, "oom_wait_ms=0 ");	/* one thread: nobody else could free */
	sb_add(&cmd, options);
	trace_clock_ns = 0;
	kmm_set_clock(trace_clock);
	int rc = kmm_boot(cmd.s);
	sb_free(&cmd);
	if (rc) {
		tool_err("replay: kmm_boot(\"%s\") failed: %s", options, strerror(-rc));
		kmm_set_clock(NULL);
		return -1;
	}
	res->managed = managed_pages();

	struct kmm_trace_reader rd;
	if (kmm_trace_reader_open(&rd, path)) {
		tool_err("replay: %s", rd.err);
		kmm_shutdown();
		kmm_set_clock(NULL);
		return -1;
	}
	unsigned long sample_every = total_records / TARGET_SAMPLES + 1;
	res->samples = xcalloc(TARGET_SAMPLES + 8, sizeof(*res->samples));
	struct blk_table tb = { 0 };
	uint64_t live_req = 0, live_usable = 0;
	uint32_t max_thread = 0;
	struct kmm_trace_rec rec;
	double t0 = now_seconds();
	unsigned long pic_pages = 0;
	int err = 0;

	take_free_sample(&res->samples[res->nr_samples++], 0);
	while ((rc = kmm_trace_read(&rd, &rec)) == 1) {
		res->records++;
		if (rec.op < KMM_TRACE_NR_OPS)
			res->ops[rec.op]++;
		if (rec.thread > max_thread)
			max_thread = rec.thread;
		if (rec.time_ns > trace_clock_ns)
			__atomic_store_n(&trace_clock_ns, rec.time_ns, __ATOMIC_RELAXED);
		struct blk nb = { 0 };
		switch (rec.op) {
		case KMM_TRACE_META:
			break;
		case KMM_TRACE_FREE: {
			if (!rec.id) {
				res->null_ids++;
				break;
			}
			struct blk *b = table_find(&tb, rec.id);
			if (!b) {
				res->unknown_frees++;
				break;
			}
			drop_block(&tb, b, &live_req, &live_usable);
			break;
		}
		case KMM_TRACE_REALLOC: {
			struct blk *ob = rec.old_id ? table_find(&tb, rec.old_id) : NULL;
			if (rec.old_id && !ob)
				res->unknown_frees++;
			if (!rec.id) {
				/* realloc(p, 0) freeing p, or a failed realloc (p kept) */
				if (ob && rec.size == 0)
					drop_block(&tb, ob, &live_req, &live_usable);
				res->null_ids++;
				break;
			}
			uint64_t bytes = rec.size ? rec.size : 1;
			if (ob && !ob->failed && !ob->vmalloced && bytes <= KMALLOC_LIMIT) {
				void *q = krealloc(ob->p, bytes, GFP_KERNEL | __GFP_NOWARN);
				if (!q) {
					/* the program got its block: ours stays as it was */
					res->failed++;
					break;
				}
				ob->p = NULL;	/* krealloc took it */
				nb = (struct blk){ .id = rec.id, .p = q, .req = bytes, .usable = ksize(q) };
			} else {
				if (!replay_alloc(bytes, 0, false, &nb)) {
					res->failed++;
					nb.failed = true;
				} else if (ob && !ob->failed) {
					memcpy(nb.p, ob->p, ob->req < bytes ? ob->req : bytes);
				}
				nb.id = rec.id;
			}
			if (ob)
				drop_block(&tb, ob, &live_req, &live_usable);
			add_block(&tb, &nb, &live_req, &live_usable, res);
			break;
		}
		default: {	/* allocations */
			if (!rec.id) {
				res->null_ids++;	/* the program's allocation failed */
				break;
			}
			uint64_t bytes = kmm_trace_rec_bytes(&rec);
			uint64_t align = rec.op == KMM_TRACE_MALLOC || rec.op == KMM_TRACE_CALLOC ? 0 : rec.align;
			if (!replay_alloc(bytes, align, rec.op == KMM_TRACE_CALLOC, &nb)) {
				res->failed++;
				nb.failed = true;
			}
			nb.id = rec.id;
			add_block(&tb, &nb, &live_req, &live_usable, res);
			break;
		}
		}
		unsigned long in_use = res->managed - nr_free_pages();
		if (in_use > res->peak_pages) {
			res->peak_pages = in_use;
			res->peak_record = res->records;
			res->peak_req = live_req;
			res->peak_usable = live_usable;
			res->peak_blocks = tb.live;
		}
		if (live_req > res->max_req)
			res->max_req = live_req;
		if (res->records % sample_every == 0 && res->nr_samples < TARGET_SAMPLES + 4) {
			struct free_sample *s = &res->samples[res->nr_samples++];
			take_free_sample(s, (double)res->records);
			if (out_prefix && s->in_use > pic_pages) {
				if (res->have_pic)
					picture_free(&res->pic);
				res->have_pic = picture_take(&res->pic) == 0;
				pic_pages = s->in_use;
			}
			if (s->in_use >= res->peak_pages)
				for (int o = 0; o < NR_PAGE_ORDERS; o++)
					res->peak_unusable[o] = unusable_index(s->free_pages, o);
		}
		if (!quiet && stderr_is_tty() && res->records % 65536 == 0)
			fprintf(stderr, "\rkmm replay: %s: %lu/%lu records", res->options, res->records, total_records);
	}
	if (rc < 0) {
		tool_err("replay: %s: %s", path, rd.err);
		err = -1;
	}
	if (!quiet && stderr_is_tty())
		fprintf(stderr, "\r%60s\r", "");
	kmm_trace_reader_close(&rd);
	take_free_sample(&res->samples[res->nr_samples++], (double)res->records);
	if (res->peak_unusable[0] == 0 && res->nr_samples)
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			res->peak_unusable[o] = unusable_index(res->samples[res->nr_samples - 1].free_pages, o);
	res->final_pages = res->managed - nr_free_pages();
	res->threads = max_thread + 1;
	res->seconds = now_seconds() - t0;

	/* what the program never freed */
	for (size_t i = 0; i < tb.cap; i++) {
		struct blk *b = &tb.t[i];
		if (b->id && b->id != TOMB && !b->failed) {
			replay_free(b);
			res->live_at_end++;
		}
	}
	free(tb.t);
	if (kmm_check()) {
		tool_err("replay: kmm_check failed after the replay");
		err = -1;
	}
	kmm_shutdown();
	kmm_set_clock(NULL);
	return err;
}

/* ---- output --------------------------------------------------------------------------- */

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void print_result(const struct replay_result *r)
{
	printf("machine \"%s\": %lu pages managed (%.1f MiB)\n", r->options, r->managed, mib((uint64_t)r->managed * PAGE_SIZE));
	printf("replayed %lu records in %.2f s: %lu allocation failures, %lu frees of unknown blocks, "
	       "%lu blocks never freed (freed by kmm replay)\n",
	       r->records, r->seconds, r->failed, r->unknown_frees, r->live_at_end);
	printf("peak memory: %lu pages in use (%.1f MiB) at record %lu, holding %" PRIu64 " blocks, %.1f MiB requested\n",
	       r->peak_pages, mib((uint64_t)r->peak_pages * PAGE_SIZE), r->peak_record, r->peak_blocks, mib(r->peak_req));
	uint64_t waste = r->peak_usable > r->peak_req ? r->peak_usable - r->peak_req : 0;
	printf("wasted at peak: %" PRIu64 " bytes (ksize - requested, %.1f%% of requested); "
	       "allocator overhead (pages in use - requested): %.1f MiB\n",
	       waste, r->peak_req ? 100.0 * (double)waste / (double)r->peak_req : 0.0,
	       mib((uint64_t)r->peak_pages * PAGE_SIZE > r->peak_req ? (uint64_t)r->peak_pages * PAGE_SIZE - r->peak_req : 0));
	printf("after the last record: %lu pages in use (%.1f MiB)\n", r->final_pages,
	       mib((uint64_t)r->final_pages * PAGE_SIZE));
}

static void print_frag_table(const struct replay_result *r)
{
	printf("\nfragmentation over time: unusable free space index per order (whole machine;\n"
	       "the share of free memory in blocks too small for that order)\n");
	printf("%10s %9s", "record", "in use");
	for (int o = 1; o < NR_PAGE_ORDERS; o++)
		printf("  o%-4d", o);
	printf("\n");
	int rows = 12, n = r->nr_samples;
	for (int k = 0; k < rows && n > 0; k++) {
		int i = n == 1 ? 0 : (int)((long)k * (n - 1) / (rows - 1));
		if (k > 0 && i == (int)((long)(k - 1) * (n - 1) / (rows - 1)))
			continue;
		const struct free_sample *s = &r->samples[i];
		printf("%10.0f %9lu", s->t, s->in_use);
		for (int o = 1; o < NR_PAGE_ORDERS; o++)
			printf("  %.3f", unusable_index(s->free_pages, o));
		printf("\n");
	}
}

static int write_pictures(const struct replay_result *r, const char *dir, const char *prefix, const char *trace)
{
	char name[64];
	int rc = 0;
	snprintf(name, sizeof(name), "%smemory-map.svg", prefix);
	char *map = path_join(dir, name);
	snprintf(name, sizeof(name), "%sfree-pages.svg", prefix);
	char *chart = path_join(dir, name);
	char title[512], sub[512];
	const char *base = strrchr(trace, '/') ? strrchr(trace, '/') + 1 : trace;
	if (r->have_pic) {
		snprintf(title, sizeof(title), "Physical memory at the peak of %s", base);
		snprintf(sub, sizeof(sub), "kmm replay on \"%s\"", r->options);
		rc |= svg_memory_map(map, &r->pic, title, sub);
	}
	snprintf(title, sizeof(title), "Free pages per order: %s on \"%s\"", base, r->options);
	rc |= svg_free_chart(chart, r->samples, r->nr_samples, title, "trace records replayed");
	if (!rc) {
		if (r->have_pic)
			printf("  %s\n", map);
		printf("  %s\n", chart);
	}
	free(map);
	free(chart);
	return rc ? -1 : 0;
}

static void free_result(struct replay_result *r)
{
	free(r->samples);
	if (r->have_pic)
		picture_free(&r->pic);
}

static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: kmm replay TRACE [--options 'BOOT OPTIONS'] [--compare 'BOOT OPTIONS 2'] [--out DIR]\n"
		"                        [--no-pictures] [--quiet]\n"
		"  Replays TRACE (binary or text form, docs/trace-format.md) with kmalloc / kvmalloc / kfree\n"
		"  on the machine the options describe (default: the default machine), and reports peak\n"
		"  memory, wasted bytes and fragmentation; --compare replays on a second machine too and\n"
		"  prints the two side by side.  Pictures go to DIR (default ./kmm-out).\n");
}

/* Records in the trace, and its first META text. */
static unsigned long count_records(const char *path, char *meta, size_t metalen)
{
	struct kmm_trace_reader rd;
	struct kmm_trace_rec rec;
	unsigned long n = 0;
	if (kmm_trace_reader_open(&rd, path))
		return 0;
	while (kmm_trace_read(&rd, &rec) == 1) {
		if (rec.op == KMM_TRACE_META && !meta[0])
			snprintf(meta, metalen, "%.*s", (int)rec.meta_len, rec.meta);
		n++;
	}
	kmm_trace_reader_close(&rd);
	return n;
}

int cmd_replay(int argc, char **argv)
{
	const char *trace = NULL, *opts = "", *compare = NULL, *out = "kmm-out";
	bool pictures = true, quiet = false;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = opt_value(argc, argv, &i, "--options")))
			opts = v;
		else if ((v = opt_value(argc, argv, &i, "--compare")))
			compare = v;
		else if ((v = opt_value(argc, argv, &i, "--out")))
			out = v;
		else if (!strcmp(argv[i], "--no-pictures"))
			pictures = false;
		else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			quiet = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			replay_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			tool_err("replay: unknown option '%s'", argv[i]);
			replay_usage(stderr);
			return 2;
		} else if (!trace) {
			trace = argv[i];
		} else {
			tool_err("replay: one trace at a time ('%s')", argv[i]);
			return 2;
		}
	}
	if (!trace) {
		replay_usage(stderr);
		return 2;
	}
	if (!strcmp(trace, "-")) {
		tool_err("replay: the trace is read twice: give a file, not '-'");
		return 2;
	}
	struct kmm_trace_reader probe;
	if (kmm_trace_reader_open(&probe, trace)) {
		tool_err("replay: %s", probe.err);
		return 1;
	}
	kmm_trace_reader_close(&probe);
	char meta[256] = "";
	unsigned long total = count_records(trace, meta, sizeof(meta));
	if (pictures && make_dirs(out))
		return 1;

	struct replay_result a, b;
	int rc = run_replay(trace, opts, pictures ? "A" : NULL, &a, total, quiet);
	if (rc) {
		free_result(&a);
		return 1;
	}
	printf("kmm replay: %s: %lu records", trace, a.records);
	static const int shown[] = { KMM_TRACE_MALLOC, KMM_TRACE_CALLOC, KMM_TRACE_REALLOC, KMM_TRACE_FREE };
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++)
		printf(", %lu %s", a.ops[shown[k]], kmm_trace_op_name((unsigned)shown[k]));
	unsigned long aligned = 0;
	for (int op = KMM_TRACE_MEMALIGN; op <= KMM_TRACE_PVALLOC; op++)
		aligned += a.ops[op];
	printf(", %lu aligned; %lu thread%s; most requested at once %.1f MiB\n", aligned, a.threads,
	       a.threads > 1 ? "s" : "", mib(a.max_req));
	if (meta[0])
		printf("kmm replay: trace says: %s\n", meta);

	if (!compare) {
		printf("\n");
		print_result(&a);
		print_frag_table(&a);
		if (pictures) {
			printf("\npictures:\n");
			rc = write_pictures(&a, out, "replay-", trace);
		}
		free_result(&a);
		return rc ? 1 : 0;
	}

	rc = run_replay(trace, compare, pictures ? "B" : NULL, &b, total, quiet);
	if (rc) {
		free_result(&a);
		free_result(&b);
		return 1;
	}
	printf("\nA: machine \"%s\"\nB: machine \"%s\"\n", a.options, b.options);
	printf("\n%-34s %-22s %-22s %s\n", "", "A", "B", "B/A");
#define ROW(label, fmt, va, vb)                                                                     \
	do {                                                                                        \
		char x[64], y[64];                                                                  \
		snprintf(x, sizeof(x), fmt, va);                                                    \
		snprintf(y, sizeof(y), fmt, vb);                                                    \
		double ra = (double)(va), rb = (double)(vb);                                        \
		if (ra != 0)                                                                        \
			printf("%-34s %-22s %-22s %.3f\n", label, x, y, rb / ra);                   \
		else                                                                                \
			printf("%-34s %-22s %-22s %s\n", label, x, y, rb == 0 ? "1.000" : "-");     \
	} while (0)
	ROW("managed pages", "%lu", a.managed, b.managed);
	ROW("peak pages in use", "%lu", a.peak_pages, b.peak_pages);
	ROW("peak MiB in use", "%.2f", mib((uint64_t)a.peak_pages * PAGE_SIZE), mib((uint64_t)b.peak_pages * PAGE_SIZE));
	ROW("requested at peak (MiB)", "%.2f", mib(a.peak_req), mib(b.peak_req));
	uint64_t wa = a.peak_usable > a.peak_req ? a.peak_usable - a.peak_req : 0;
	uint64_t wb = b.peak_usable > b.peak_req ? b.peak_usable - b.peak_req : 0;
	ROW("wasted at peak (ksize - req, B)", "%" PRIu64, wa, wb);
	ROW("wasted / requested (%)", "%.2f", a.peak_req ? 100.0 * (double)wa / (double)a.peak_req : 0.0,
	    b.peak_req ? 100.0 * (double)wb / (double)b.peak_req : 0.0);
	ROW("pages in use after last record", "%lu", a.final_pages, b.final_pages);
	ROW("allocation failures", "%lu", a.failed, b.failed);
	for (int o = 1; o < NR_PAGE_ORDERS; o += 2) {
		char label[64];
		snprintf(label, sizeof(label), "unusable index, order %d, at peak", o);
		ROW(label, "%.3f", a.peak_unusable[o], b.peak_unusable[o]);
	}
	ROW("replay time (s)", "%.2f", a.seconds, b.seconds);
#undef ROW
	if (pictures) {
		printf("\npictures (A: %s, B: %s):\n", a.options, b.options);
		rc = write_pictures(&a, out, "replay-A-", trace) | write_pictures(&b, out, "replay-B-", trace);
	}
	free_result(&a);
	free_result(&b);
	return rc ? 1 : 0;
}
