/*
 * tests/unit/page_alloc.c - the zoned page frame allocator (issue 2):
 * zone placement, fallback along the zonelists (node order, lowmem_reserve),
 * __GFP_THISNODE, watermarks, lowmem_reserve and min_free_kbytes against
 * the REFERENCE formulas, the reserve for atomic requests, blocking and
 * out-of-memory behaviour (sleep until a free, __GFP_NORETRY, oom_wait_ms,
 * __GFP_NOFAIL), __GFP_ZERO, refcounts, alloc_pages_exact, shrinkers, the
 * rate-limited failure warning and fault injection.
 */
/* kmm-test: threaded */
#include "harness.h"
#include "page_helpers.h"

#define MiB (1UL << 20)
#define PFN(bytes) ((unsigned long)(bytes) >> PAGE_SHIFT)
#define GFP_KERNEL_NORETRY (GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

/* ------------------------------------------------------------------ */
/* Zone placement                                                      */
/* ------------------------------------------------------------------ */

TEST(zone_placement)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=2"), 0);
	struct blist b = { 0 };
	for (int i = 0; i < 300; i++) {
		unsigned int order = (unsigned int)i % 4;
		/* GFP_DMA: below 16 MiB */
		struct page *p = alloc_pages(GFP_DMA, order);
		assert_nonnull(p);
		expect_lt(page_to_pfn(p) + (1UL << order), PFN(16 * MiB) + 1);
		expect_str_eq(page_zone_name(p), "DMA");
		expect_eq(page_to_nid(p), 0);
		blist_push(&b, p, order);
		/* GFP_DMA32 on a machine without DMA32: the zones below it (DMA) */
		p = alloc_pages(GFP_DMA32, order);
		assert_nonnull(p);
		expect_str_eq(page_zone_name(p), "DMA");
		blist_push(&b, p, order);
		/* no highmem flag: never HighMem, on either node */
		for (int nid = 0; nid < 2; nid++) {
			p = alloc_pages_node(nid, GFP_KERNEL, order);
			assert_nonnull(p);
			expect_false(PageHighMem(p));
			expect_str_eq(page_zone_name(p), "Normal");
			expect_eq(page_to_nid(p), nid);
			expect_nonnull(page_address(p));
			blist_push(&b, p, order);
		}
		/* highmem allowed, on node 1: HighMem first, without a linear address */
		p = alloc_pages_node(1, GFP_HIGHUSER_MOVABLE, order);
		assert_nonnull(p);
		expect_true(PageHighMem(p));
		expect_str_eq(page_zone_name(p), "HighMem");
		expect_null(page_address(p));
		expect_ge(page_to_pfn(p), PFN(896 * MiB));
		blist_push(&b, p, order);
		/* node 0 has no HighMem: its own Normal zone comes first (node order) */
		p = alloc_pages_node(0, GFP_HIGHUSER, order);
		assert_nonnull(p);
		expect_eq(page_to_nid(p), 0);
		expect_str_eq(page_zone_name(p), "Normal");
		blist_push(&b, p, order);
		/* the linear-address API never hands out highmem */
		unsigned long a = __get_free_pages(GFP_HIGHUSER, order);
		assert_ne(a, 0);
		struct page *ap = virt_to_page((void *)a);
		assert_nonnull(ap);
		expect_false(PageHighMem(ap));
		expect_true(page_address(ap) == (void *)a);
		free_pages(a, order);
	}
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Fallback along the zonelist                                         */
/* ------------------------------------------------------------------ */

struct phase {
	int nid, zi;
	long pages;
};

/* Allocate single pages from node nid with gfp until NULL, recording the
 * run of (node, zone) they came from. */
static int record_phases(int nid, gfp_t gfp, struct phase *ph, int max, struct blist *b)
{
	int n = 0;
	struct page *p;
	while ((p = alloc_pages_node(nid, gfp, 0))) {
		blist_push(b, p, 0);
		int pn = page_to_nid(p), pz = page_zone(p)->zone_idx;
		if (n && ph[n - 1].nid == pn && ph[n - 1].zi == pz) {
			ph[n - 1].pages++;
		} else if (n < max) {
			ph[n++] = (struct phase){ pn, pz, 1 };
		} else {
			kt_fail(1, __FILE__, __LINE__, "more than %d phases", max);
		}
	}
	return n;
}

static void expect_phases(const struct phase *got, int ngot, const struct phase *want, int nwant)
{
	bool same = ngot == nwant;
	for (int i = 0; same && i < ngot; i++)
		same = got[i].nid == want[i].nid && got[i].zi == want[i].zi && got[i].pages == want[i].pages;
	if (same)
		return;
	kt_fail(0, __FILE__, __LINE__, "the allocations came from other zones than the zonelist says");
	for (int i = 0; i < ngot; i++)
		printf("    got:      node %d %-8s %ld pages\n", got[i].nid, kmm_zone_names[got[i].zi], got[i].pages);
	for (int i = 0; i < nwant; i++)
		printf("    expected: node %d %-8s %ld pages\n", want[i].nid, kmm_zone_names[want[i].zi], want[i].pages);
}

static void push_phase(struct phase *ph, int *n, int nid, int zi, long pages)
{
	if (pages > 0)
		ph[(*n)++] = (struct phase){ nid, zi, pages };
}

TEST(fallback_follows_zonelist_and_lowmem_reserve)
{
	/* a node-1 GFP_KERNEL request: node 1 Normal, then node 0 Normal, then
	 * node 0 DMA down to its low mark plus lowmem_reserve[Normal]; then the
	 * same walk at the min mark; HighMem is never touched */
	for (int start = 1; start >= 0; start--) {
		assert_eq(kt_boot("mem=1G numa=2 cpus=2 pcp=off"), 0);
		struct zone *n0 = wb_zone(0, ZONE_NORMAL), *n1 = wb_zone(1, ZONE_NORMAL), *dma = wb_zone(0, ZONE_DMA);
		struct zone *hi = wb_zone(1, ZONE_HIGHMEM);
		unsigned long hi_free = hi->free_pages;
		long res = (long)dma->lowmem_reserve[ZONE_NORMAL];
		expect_gt(res, 0);
		struct phase want[8];
		int nw = 0;
		struct zone *order[3];
		if (start == 1) {
			order[0] = n1, order[1] = n0, order[2] = dma;
		} else {
			order[0] = n0, order[1] = dma, order[2] = n1;
		}
		for (int pass = 0; pass < 2; pass++) {
			for (int k = 0; k < 3; k++) {
				struct zone *z = order[k];
				long r = z == dma ? res : 0;
				long from = pass == 0 ? (long)z->free_pages : (long)z->watermark[WMARK_LOW] + r;
				long to = (long)z->watermark[pass == 0 ? WMARK_LOW : WMARK_MIN] + r;
				if (pass == 0 && from < to)
					to = from;
				push_phase(want, &nw, z->zone_pgdat->node_id, z->zone_idx, from - to);
			}
		}
		struct phase got[32];
		struct blist b = { 0 };
		int ng = record_phases(start, GFP_KERNEL_NORETRY, got, 32, &b);
		printf("  node-%d requests: %d phases, %zu pages\n", start, ng, b.n);
		expect_phases(got, ng, want, nw);
		expect_eq(dma->free_pages, dma->watermark[WMARK_MIN] + (unsigned long)res);
		expect_eq(n0->free_pages, n0->watermark[WMARK_MIN]);
		expect_eq(n1->free_pages, n1->watermark[WMARK_MIN]);
		expect_eq(hi->free_pages, hi_free);
		expect_eq(kmm_check(), 0);

		/* a DMA request may still use what the reserve kept for it */
		struct page *d = alloc_page(GFP_DMA | __GFP_NORETRY | __GFP_NOWARN);
		expect_nonnull(d);
		if (d) {
			expect_str_eq(page_zone_name(d), "DMA");
			__free_page(d);
		}
		/* a highmem request from node 1 takes HighMem */
		struct page *h = alloc_pages_node(1, GFP_HIGHUSER | __GFP_NORETRY, 0);
		expect_nonnull(h);
		if (h) {
			expect_true(PageHighMem(h));
			__free_page(h);
		}
		blist_free_all(&b);
		blist_release(&b);
		expect_eq(kmm_check(), 0);
		kmm_shutdown();
	}
}

TEST(thisnode_never_leaves_the_node)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=2 pcp=off oom_wait_ms=100"), 0);
	struct zone *n0 = wb_zone(0, ZONE_NORMAL), *n1 = wb_zone(1, ZONE_NORMAL), *dma = wb_zone(0, ZONE_DMA);
	unsigned long f0 = n0->free_pages, fd = dma->free_pages, fh = wb_zone(1, ZONE_HIGHMEM)->free_pages;
	struct blist b = { 0 };
	struct page *p;
	while ((p = alloc_pages_node(1, GFP_KERNEL_NORETRY | __GFP_THISNODE, 0))) {
		blist_push(&b, p, 0);
		if (page_to_nid(p) != 1 || PageHighMem(p))
			kt_fail(1, __FILE__, __LINE__, "__GFP_THISNODE request for node 1 got node %d %s", page_to_nid(p),
				page_zone_name(p));
	}
	expect_eq(n1->free_pages, n1->watermark[WMARK_MIN]);
	/* node 0 untouched */
	expect_eq(n0->free_pages, f0);
	expect_eq(dma->free_pages, fd);
	expect_eq(wb_zone(1, ZONE_HIGHMEM)->free_pages, fh);
	/* a sleeping request fails after oom_wait_ms instead of leaving the node */
	uint64_t t0 = now_ns();
	expect_null(alloc_pages_node(1, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0));
	expect_lt(ms_since(t0), 5000);
	expect_null(alloc_pages_node(1, GFP_NOWAIT | __GFP_THISNODE, 0));
	expect_null(alloc_pages_node(1, GFP_KERNEL_NORETRY | __GFP_THISNODE, 2));
	expect_eq(n0->free_pages, f0);
	expect_eq(dma->free_pages, fd);
	/* without the flag the same request goes to node 0 */
	p = alloc_pages_node(1, GFP_KERNEL_NORETRY, 0);
	assert_nonnull(p);
	expect_eq(page_to_nid(p), 0);
	__free_page(p);
	/* with highmem allowed, node 1's HighMem is its own */
	p = alloc_pages_node(1, GFP_HIGHUSER | __GFP_THISNODE | __GFP_NORETRY, 0);
	assert_nonnull(p);
	expect_true(PageHighMem(p));
	__free_page(p);
	/* node 0 with highmem allowed and THISNODE: its Normal zone */
	p = alloc_pages_node(0, GFP_HIGHUSER | __GFP_THISNODE, 0);
	assert_nonnull(p);
	expect_eq(page_to_nid(p), 0);
	__free_page(p);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Watermarks, lowmem_reserve, min_free_kbytes: REFERENCE section 3    */
/* ------------------------------------------------------------------ */

/* the pages REFERENCE 3.2/3.3 size a zone by: present [classic], managed [modern] */
static unsigned long ref_pages(const struct zone *z, bool modern)
{
	return modern ? z->managed_pages : z->present_pages;
}

static unsigned long ref_min_free_kbytes(bool modern)
{
	unsigned long lowmem = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < ZONE_HIGHMEM; zi++)
			lowmem += ref_pages(wb_zone(nid, zi), modern);
	unsigned long kb = lowmem * (PAGE_SIZE / 1024);
	unsigned long v = t_int_sqrt(kb * 16);
	unsigned long max = modern ? 262144 : 65536;
	return v < 128 ? 128 : v > max ? max : v;
}

/* Check every zone's min/low/high and lowmem_reserve against the formulas,
 * through zoneinfo (the report) and the zone itself. */
static void check_watermarks(const char *cmdline, bool modern, long want_mfk)
{
	assert_eq(kt_boot(cmdline), 0);
	unsigned long mfk = ref_min_free_kbytes(modern);
	if (want_mfk >= 0)
		mfk = (unsigned long)want_mfk;
	if (kmm.min_free_kbytes != mfk)
		kt_fail(0, __FILE__, __LINE__, "%s: min_free_kbytes %lu, REFERENCE 3.1 gives %lu", cmdline,
			kmm.min_free_kbytes, mfk);
	unsigned long pages_min = mfk >> (PAGE_SHIFT - 10);
	unsigned long lowmem_pages = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < ZONE_HIGHMEM; zi++)
			lowmem_pages += ref_pages(wb_zone(nid, zi), modern);

	struct zi_zone zs[32];
	int nz = parse_zoneinfo(zs, 32);
	static const unsigned int ratio_classic[MAX_NR_ZONES] = { 256, 256, 32, 32 };
	static const unsigned int ratio_modern[MAX_NR_ZONES] = { 256, 256, 32, 0 };
	const unsigned int *ratio = modern ? ratio_modern : ratio_classic;

	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			if (!populated_zone(z))
				continue;
			unsigned long pages = ref_pages(z, modern);
			unsigned long share = pages_min * pages / lowmem_pages;
			unsigned long min, low, high;
			if (zi == ZONE_HIGHMEM) {
				min = pages / 1024;
				min = min < 32 ? 32 : min > 128 ? 128 : min;
			} else {
				min = share;
			}
			if (modern) {
				unsigned long gap = share / 4, scaled = pages * 10 / 10000;
				if (scaled > gap)
					gap = scaled;
				low = min + gap;
				high = min + 2 * gap;
			} else {
				low = min * 5 / 4;
				high = min * 6 / 4;
			}
			unsigned long reserve[MAX_NR_ZONES] = { 0 };
			unsigned long above = 0;
			for (int j = zi + 1; j < MAX_NR_ZONES; j++) {
				above += ref_pages(wb_zone(nid, j), modern);
				if (ratio[zi])
					reserve[j] = above / ratio[zi];
			}
			const char *what = cmdline;
			if (z->watermark[WMARK_MIN] != min || z->watermark[WMARK_LOW] != low ||
			    z->watermark[WMARK_HIGH] != high)
				kt_fail(0, __FILE__, __LINE__,
					"%s: node %d %s: min/low/high %lu/%lu/%lu, REFERENCE 3.2 (%s) gives %lu/%lu/%lu", what,
					nid, z->name, z->watermark[WMARK_MIN], z->watermark[WMARK_LOW],
					z->watermark[WMARK_HIGH], modern ? "4.6+ gap rule" : "classic", min, low, high);
			for (int j = 0; j < MAX_NR_ZONES; j++)
				if (z->lowmem_reserve[j] != reserve[j])
					kt_fail(0, __FILE__, __LINE__,
						"%s: node %d %s: lowmem_reserve[%s] %lu, REFERENCE 3.3 gives %lu", what, nid,
						z->name, kmm_zone_names[j], z->lowmem_reserve[j], reserve[j]);
			/* the report shows the zone's own values */
			struct zi_zone *r = zi_find(zs, nz, nid, z->name);
			if (!r) {
				kt_fail(0, __FILE__, __LINE__, "zoneinfo lacks node %d zone %s", nid, z->name);
				continue;
			}
			expect_eq(r->min, z->watermark[WMARK_MIN]);
			expect_eq(r->low, z->watermark[WMARK_LOW]);
			expect_eq(r->high, z->watermark[WMARK_HIGH]);
			expect_eq(r->present, z->present_pages);
			expect_eq(r->managed, z->managed_pages);
			expect_eq(r->spanned, z->spanned_pages);
			expect_eq(r->start_pfn, z->zone_start_pfn);
			expect_eq(r->nprot, MAX_NR_ZONES);
			for (int j = 0; j < MAX_NR_ZONES && j < r->nprot; j++)
				expect_eq(r->prot[j], z->lowmem_reserve[j]);
		}
	}
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(min_free_kbytes_reference_examples)
{
	/* REFERENCE 3.1: 16 MiB -> 512, 64 MiB -> 1024, 1 GiB -> 4096 KiB (classic) */
	static const struct { const char *cmdline; unsigned long kb; } ex[] = {
		{ "mem=16M numa=1 cpus=1", 512 },
		{ "mem=64M numa=1 zones=normal cpus=1", 1024 },
		{ "mem=1G numa=1 zones=dma:16M,normal cpus=1", 4096 },
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		assert_eq(kt_boot(ex[i].cmdline), 0);
		if (kmm.min_free_kbytes != ex[i].kb)
			kt_fail(0, __FILE__, __LINE__, "%s: min_free_kbytes %lu, REFERENCE 3.1 example says %lu",
				ex[i].cmdline, kmm.min_free_kbytes, ex[i].kb);
		kmm_shutdown();
	}
}

TEST(watermarks_classic)
{
	check_watermarks("mem=1G numa=2 cpus=2", false, -1);
	check_watermarks("mem=64M numa=1 zones=normal cpus=1", false, -1);
	check_watermarks("mem=16M numa=1 cpus=1", false, -1);
	check_watermarks("mem=96M numa=1 zones=dma:16M,dma32:32M,normal:64M,highmem cpus=1", false, -1);
	check_watermarks("mem=2G numa=1 cpus=2", false, -1);
	check_watermarks("mem=64M numa=2 cpus=2 min_free_kbytes=2048", false, 2048);
}

TEST(watermarks_modern)
{
	check_watermarks("mem=1G numa=2 cpus=2 profile=modern", true, -1);
	check_watermarks("mem=64M numa=1 zones=normal cpus=1 profile=modern", true, -1);
	check_watermarks("mem=96M numa=1 zones=dma:16M,dma32:32M,normal:64M,highmem cpus=1 profile=modern", true, -1);
	check_watermarks("mem=2G numa=1 cpus=2 profile=modern", true, -1);
	check_watermarks("mem=64M numa=2 cpus=2 min_free_kbytes=2048 profile=modern", true, 2048);
}

TEST(min_free_kbytes_out_of_range_is_clamped)
{
	logcap_start();
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 min_free_kbytes=1"), 0);
	logcap_stop();
	expect_ge(kmm.min_free_kbytes, 1);
	expect_le(kmm.min_free_kbytes, 128);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	/* a reserve larger than the machine cannot be honoured: clamped, the
	 * machine still allocates */
	logcap_start();
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 min_free_kbytes=10000000"), 0);
	logcap_stop();
	expect_lt(kmm.min_free_kbytes, 64 * 1024);
	struct page *p = alloc_page(GFP_KERNEL);
	expect_nonnull(p);
	if (p)
		__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* The reserve                                                         */
/* ------------------------------------------------------------------ */

/* take pages with gfp until NULL; returns how many */
static unsigned long take(struct blist *b, gfp_t gfp)
{
	unsigned long n = 0;
	struct page *p;
	while ((p = alloc_page(gfp))) {
		blist_push(b, p, 0);
		n++;
	}
	return n;
}

TEST(reserve_for_atomic_requests)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal pcp=off cpus=1"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	unsigned long min = z->watermark[WMARK_MIN];
	struct blist b = { 0 };

	/* GFP_KERNEL stops at the min mark */
	take(&b, GFP_KERNEL_NORETRY);
	expect_eq(z->free_pages, min);
	expect_eq(nr_free_pages(), min);
	/* GFP_NOWAIT has no reserve rights */
	logcap_start();
	expect_null(alloc_page(GFP_NOWAIT));
	expect_eq(logcap_count("page allocation failure"), 0);	/* GFP_NOWAIT has __GFP_NOWARN */
	logcap_stop();
	expect_eq(z->free_pages, min);
	/* [6.3+] __GFP_NOMEMALLOC takes only the non-blocking quarter away:
	 * GFP_ATOMIC | __GFP_NOMEMALLOC still has __GFP_HIGH's half */
	struct page *nm = alloc_page(GFP_ATOMIC | __GFP_NOMEMALLOC | __GFP_NOWARN);
	expect_nonnull(nm);
	if (nm)
		__free_page(nm);
	expect_eq(z->free_pages, min);

	/* __GFP_HIGH (blocking): half the reserve */
	unsigned long m1 = min - min / 2;
	take(&b, GFP_KERNEL_NORETRY | __GFP_HIGH);
	expect_eq(z->free_pages, m1);
	/* GFP_ATOMIC (__GFP_HIGH, cannot sleep): a further quarter, min*3/8 left */
	unsigned long m2 = m1 - m1 / 4;
	struct page *p = alloc_page(GFP_ATOMIC);
	expect_nonnull(p);
	if (p)
		blist_push(&b, p, 0);
	take(&b, GFP_ATOMIC | __GFP_NOWARN);
	printf("  min %lu: GFP_KERNEL stops at %lu, __GFP_HIGH at %lu, GFP_ATOMIC at %lu (min*3/8 = %lu)\n", min, min,
	       m1, z->free_pages, min * 3 / 8);
	expect_eq(z->free_pages, m2);
	/* "about min*3/8": the integer steps round each part down */
	expect_le(z->free_pages, min * 3 / 8 + 2);
	expect_ge(z->free_pages + 2, min * 3 / 8);
	/* the failure is reported, once, with order and mode */
	logcap_start();
	expect_null(alloc_page(GFP_ATOMIC));
	logcap_stop();
	char want[64];
	snprintf(want, sizeof(want), "kmm: page allocation failure: order:0, mode:%#x", GFP_ATOMIC);
	expect_eq(logcap_count(want), 1);
	if (logcap_count(want) != 1)
		logcap_dump();
	/* __GFP_MEMALLOC ignores the watermarks: takes the rest */
	take(&b, GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN);
	expect_eq(z->free_pages, 0);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Blocking                                                            */
/* ------------------------------------------------------------------ */

struct sleeper {
	gfp_t gfp;
	struct page *page;
	uint64_t t_start, t_end;
	int started, done;	/* atomic */
};

static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	s->t_start = now_ns();
	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	s->page = alloc_page(s->gfp);
	s->t_end = now_ns();
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* boot, take everything GFP_KERNEL may take; returns one page to free later */
static struct page *boot_exhausted(const char *cmdline, struct blist *b)
{
	if (kt_boot(cmdline) != 0)
		kt_fail(1, __FILE__, __LINE__, "boot %s failed", cmdline);
	take(b, GFP_KERNEL_NORETRY);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	expect_eq(z->free_pages, z->watermark[WMARK_MIN]);
	assert_gt(b->n, 0);
	return b->p[--b->n];
}

TEST(blocking_request_sleeps_until_a_free)
{
	struct blist b = { 0 };
	struct page *spare = boot_exhausted("mem=64M numa=1 zones=normal pcp=off cpus=2 oom_wait_ms=10000", &b);

	/* __GFP_NORETRY fails at once instead of sleeping */
	uint64_t t0 = now_ns();
	expect_null(alloc_page(GFP_KERNEL_NORETRY));
	expect_lt(ms_since(t0), 1000);
	/* GFP_NOWAIT never sleeps, nor does GFP_ATOMIC once the reserve is gone */
	t0 = now_ns();
	expect_null(alloc_page(GFP_NOWAIT));
	expect_lt(ms_since(t0), 100);
	struct blist reserve = { 0 };
	take(&reserve, GFP_ATOMIC | __GFP_NOWARN);
	t0 = now_ns();
	expect_null(alloc_page(GFP_ATOMIC | __GFP_NOWARN));
	expect_null(alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 3));
	expect_lt(ms_since(t0), 100);
	blist_free_all(&reserve);
	blist_release(&reserve);

	struct sleeper s = { .gfp = GFP_KERNEL };
	pthread_t th;
	assert_eq(pthread_create(&th, NULL, sleeper_fn, &s), 0);
	while (!__atomic_load_n(&s.started, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	sleep_ms(300);
	expect_false(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE));
	uint64_t t_free = now_ns();
	__free_page(spare);
	pthread_join(th, NULL);
	expect_nonnull(s.page);
	expect_ge(s.t_end, t_free);
	double waited = (double)(s.t_end - s.t_start) / 1e6, after = (double)(s.t_end - t_free) / 1e6;
	printf("  the GFP_KERNEL request slept %.0f ms, returned %.1f ms after the free\n", waited, after);
	expect_gt(waited, 250);
	expect_lt(after, 2000);
	if (s.page)
		blist_push(&b, s.page, 0);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(out_of_memory_after_oom_wait_ms)
{
	struct blist b = { 0 };
	struct page *spare = boot_exhausted("mem=64M numa=1 zones=normal pcp=off cpus=2 oom_wait_ms=200", &b);
	logcap_start();
	uint64_t t0 = now_ns();
	struct page *p = alloc_page(GFP_KERNEL);
	double ms = ms_since(t0);
	logcap_stop();
	printf("  GFP_KERNEL gave up after %.0f ms\n", ms);
	expect_null(p);
	expect_ge(ms, 180);
	expect_lt(ms, 3000);
	char want[64];
	snprintf(want, sizeof(want), "kmm: out of memory: order:0 mode:%#x", GFP_KERNEL);
	expect_eq(logcap_count(want), 1);
	if (logcap_count(want) != 1)
		logcap_dump();
	expect_true(logcap_all_well_formed());
	/* with __GFP_NOWARN: the same wait, no line */
	logcap_start();
	t0 = now_ns();
	expect_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0));
	expect_ge(ms_since(t0), 180);
	logcap_stop();
	expect_eq(logcap_count("out of memory"), 0);
	__free_page(spare);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	kmm_shutdown();

	/* oom_wait_ms=0: no sleep at all */
	spare = boot_exhausted("mem=64M numa=1 zones=normal pcp=off cpus=2 oom_wait_ms=0", &b);
	logcap_start();
	t0 = now_ns();
	expect_null(alloc_page(GFP_KERNEL));
	expect_lt(ms_since(t0), 150);
	logcap_stop();
	expect_eq(logcap_count("kmm: out of memory: order:0"), 1);
	__free_page(spare);
	blist_free_all(&b);
	blist_release(&b);
	kmm_shutdown();
}

TEST(nofail_waits_past_oom_wait_ms)
{
	struct blist b = { 0 };
	/* pcp on: a free while someone waits must reach the buddy lists */
	struct page *spare = boot_exhausted("mem=64M numa=1 zones=normal cpus=2 oom_wait_ms=200", &b);
	kmm_drain_all();
	struct sleeper s = { .gfp = GFP_KERNEL | __GFP_NOFAIL };
	pthread_t th;
	assert_eq(pthread_create(&th, NULL, sleeper_fn, &s), 0);
	while (!__atomic_load_n(&s.started, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	sleep_ms(700);
	expect_false(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE));
	uint64_t t_free = now_ns();
	__free_page(spare);
	pthread_join(th, NULL);
	expect_nonnull(s.page);
	expect_ge(s.t_end, t_free);
	printf("  the __GFP_NOFAIL request returned after %.0f ms\n", (double)(s.t_end - s.t_start) / 1e6);
	if (s.page)
		blist_push(&b, s.page, 0);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* __GFP_ZERO, refcounts, alloc_pages_exact                            */
/* ------------------------------------------------------------------ */

static bool all_bytes(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return false;
	return true;
}

TEST(gfp_zero_clears)
{
	assert_eq(kt_boot("mem=64M numa=1 cpus=1"), 0);
	for (unsigned int order = 0; order <= 4; order++) {
		for (int round = 0; round < 8; round++) {
			struct page *p = alloc_pages(GFP_KERNEL, order);
			assert_nonnull(p);
			memset(page_address(p), 0xaa, PAGE_SIZE << order);
			__free_pages(p, order);
			/* likely the same frames again (per-CPU lists are LIFO) */
			p = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
			assert_nonnull(p);
			expect_true(all_bytes(page_address(p), PAGE_SIZE << order, 0));
			memset(page_address(p), 0x55, PAGE_SIZE << order);
			__free_pages(p, order);
		}
	}
	unsigned long a = get_zeroed_page(GFP_KERNEL);
	assert_ne(a, 0);
	expect_true(all_bytes((void *)a, PAGE_SIZE, 0));
	free_page(a);
	a = __get_free_pages(GFP_KERNEL | __GFP_ZERO, 2);
	assert_ne(a, 0);
	expect_true(all_bytes((void *)a, 4 * PAGE_SIZE, 0));
	free_pages(a, 2);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(refcounts)
{
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 pcp=off"), 0);
	unsigned long free0 = nr_free_pages();
	struct page *p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	expect_eq(page_count(p), 1);
	expect_eq(nr_free_pages(), free0 - 1);
	get_page(p);
	expect_eq(page_count(p), 2);
	__free_page(p);			/* drops one reference: not freed */
	expect_eq(page_count(p), 1);
	expect_eq(nr_free_pages(), free0 - 1);
	get_page(p);
	get_page(p);
	put_page(p);
	put_page(p);
	expect_eq(nr_free_pages(), free0 - 1);
	expect_eq(kmm_check(), 0);
	put_page(p);			/* the last one frees */
	expect_eq(nr_free_pages(), free0);
	expect_eq(page_count(p), 0);
	expect_eq(kmm_check(), 0);

	/* a block of order 3: put_page frees all 8 pages */
	p = alloc_pages(GFP_KERNEL, 3);
	assert_nonnull(p);
	expect_eq(nr_free_pages(), free0 - 8);
	get_page(p);
	__free_pages(p, 3);
	expect_eq(nr_free_pages(), free0 - 8);
	put_page(p);
	expect_eq(nr_free_pages(), free0);

	/* a compound block: references through a tail page count on the head */
	p = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	assert_nonnull(p);
	struct page *tail = pfn_to_page(page_to_pfn(p) + 3);
	get_page(tail);
	expect_eq(page_count(p), 2);
	expect_eq(page_count(tail), 2);
	put_page(tail);
	expect_eq(page_count(p), 1);
	expect_eq(nr_free_pages(), free0 - 4);
	put_page(tail);
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(alloc_pages_exact_frees_its_tail)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal cpus=1 pcp=off"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	unsigned long area0[NR_PAGE_ORDERS];
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		area0[o] = z->free_area[o].nr_free;
	unsigned long free0 = nr_free_pages();
	static const size_t sizes[] = { 1, PAGE_SIZE, PAGE_SIZE + 1, 5 * PAGE_SIZE - 100, 8 * PAGE_SIZE,
					9 * PAGE_SIZE, 1000 * PAGE_SIZE, 1024 * PAGE_SIZE };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		unsigned long n = (size + PAGE_SIZE - 1) / PAGE_SIZE;
		unsigned char *v = alloc_pages_exact(size, GFP_KERNEL);
		assert_nonnull(v);
		expect_eq(nr_free_pages(), free0 - n);
		struct page *head = virt_to_page(v);
		assert_nonnull(head);
		for (unsigned long k = 0; k < n; k++) {
			struct page *pk = virt_to_page(v + k * PAGE_SIZE);
			expect_eq(page_to_pfn(pk), page_to_pfn(head) + k);
			expect_eq(page_count(pk), 1);
		}
		memset(v, 0x3c, n * PAGE_SIZE);
		expect_eq(kmm_check(), 0);
		free_pages_exact(v, size);
		expect_eq(nr_free_pages(), free0);
		/* and the free lists coalesced back */
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			expect_eq(z->free_area[o].nr_free, area0[o]);
	}
	/* zeroed on request */
	unsigned char *v = alloc_pages_exact(3 * PAGE_SIZE, GFP_KERNEL | __GFP_ZERO);
	assert_nonnull(v);
	expect_true(all_bytes(v, 3 * PAGE_SIZE, 0));
	free_pages_exact(v, 3 * PAGE_SIZE);
	/* beyond the largest block: NULL */
	expect_null(alloc_pages_exact((PAGE_SIZE << MAX_PAGE_ORDER) + 1, GFP_KERNEL | __GFP_NOWARN));
	expect_null(alloc_pages_exact(0, GFP_KERNEL));
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Shrinkers                                                           */
/* ------------------------------------------------------------------ */

struct holder {
	struct page *pages[256];
	int n;
	int counts, scans;
	unsigned long max_scan;
	gfp_t seen_gfp;
};

static unsigned long holder_count(struct shrinker *s, struct shrink_control *sc)
{
	struct holder *h = s->private_data;
	h->counts++;
	h->seen_gfp = sc->gfp_mask;
	return (unsigned long)h->n;
}

static unsigned long holder_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct holder *h = s->private_data;
	unsigned long freed = 0;
	h->scans++;
	if (sc->nr_to_scan > h->max_scan)
		h->max_scan = sc->nr_to_scan;
	while (freed < sc->nr_to_scan && h->n > 0) {
		__free_page(h->pages[--h->n]);
		freed++;
	}
	return freed;
}

TEST(shrinkers_run_under_pressure)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal pcp=off cpus=1 oom_wait_ms=5000"), 0);
	static struct holder h;
	memset(&h, 0, sizeof(h));
	for (h.n = 0; h.n < 200; h.n++) {
		h.pages[h.n] = alloc_page(GFP_KERNEL);
		assert_nonnull(h.pages[h.n]);
	}
	struct blist b = { 0 };
	take(&b, GFP_KERNEL_NORETRY);	/* before the shrinker exists */
	struct shrinker *s = shrinker_alloc(0, "test-holder");
	assert_nonnull(s);
	s->count_objects = holder_count;
	s->scan_objects = holder_scan;
	s->batch = 32;
	s->private_data = &h;
	shrinker_register(s);

	/* atomic requests never reclaim */
	expect_null(alloc_page(GFP_NOWAIT));
	expect_eq(h.counts, 0);
	expect_eq(h.scans, 0);

	/* a blocking one runs the shrinker, which frees what it holds */
	uint64_t t0 = now_ns();
	struct page *p = alloc_page(GFP_KERNEL);
	double ms = ms_since(t0);
	expect_nonnull(p);
	if (p)
		blist_push(&b, p, 0);
	printf("  shrinker: %d counts, %d scans (largest %lu), %d pages left; allocation took %.1f ms\n", h.counts,
	       h.scans, h.max_scan, h.n, ms);
	expect_gt(h.counts, 0);
	expect_gt(h.scans, 0);
	expect_lt(h.n, 200);
	expect_le(h.max_scan, 32);
	expect_true((h.seen_gfp & GFP_KERNEL) == GFP_KERNEL);
	expect_lt(ms, 1000);	/* no sleep was needed */

	shrinker_free(s);
	int scans = h.scans;
	take(&b, GFP_KERNEL_NORETRY);
	expect_eq(h.scans, scans);	/* unregistered: no longer called */
	expect_eq(kmm_check(), 0);
	while (h.n > 0)
		__free_page(h.pages[--h.n]);
	blist_free_all(&b);
	blist_release(&b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* The failure warning                                                 */
/* ------------------------------------------------------------------ */

TEST(failure_warning_is_rate_limited)
{
	assert_eq(kt_boot("mem=16M numa=1 cpus=1"), 0);
	char want[64];
	snprintf(want, sizeof(want), "kmm: page allocation failure: order:11, mode:%#x", GFP_KERNEL);
	logcap_start();
	for (int i = 0; i < 30; i++)
		expect_null(alloc_pages(GFP_KERNEL, 11));
	logcap_stop();
	int lines = logcap_count(want);
	printf("  30 failures, %d lines\n", lines);
	expect_ge(lines, 1);
	expect_le(lines, 10);
	expect_true(logcap_all_well_formed());
	logcap_start();
	for (int i = 0; i < 30; i++)
		expect_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 11));
	logcap_stop();
	expect_eq(logcap_lines(), 0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Fault injection                                                     */
/* ------------------------------------------------------------------ */

/* n allocation calls: bit i set when call i failed */
static unsigned long pattern(int n, gfp_t gfp, unsigned int order)
{
	unsigned long bits = 0;
	for (int i = 0; i < n; i++) {
		struct page *p = alloc_pages(gfp, order);
		if (p)
			__free_pages(p, order);
		else
			bits |= 1UL << i;
	}
	return bits;
}

TEST(fault_injection_fail_page_alloc)
{
	assert_eq(kt_boot("mem=64M numa=1 cpus=1"), 0);
	expect_eq(pattern(10, GFP_KERNEL, 0), 0);
	logcap_start();
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=100 times=3 verbose=1"), 0);
	expect_eq(pattern(10, GFP_KERNEL, 0), 0x7);	/* exactly the first 3 */
	logcap_stop();
	expect_eq(logcap_count("fail_page_alloc"), 3);
	expect_true(logcap_all_well_formed());

	logcap_start();
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=100 interval=2 times=-1 verbose=0"), 0);
	unsigned long bits = pattern(8, GFP_KERNEL, 0);
	logcap_stop();
	expect_eq(__builtin_popcountl(bits), 4);	/* every second call */
	expect_eq(bits & (bits >> 1), 0);
	expect_eq(logcap_lines(), 0);			/* verbose=0 */
	/* __GFP_NOFAIL never fails */
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=100 interval=1 times=-1 verbose=0"), 0);
	expect_eq(pattern(5, GFP_KERNEL, 0), 0x1f);
	expect_eq(pattern(5, GFP_KERNEL | __GFP_NOFAIL, 0), 0);
	/* ignore_gfp_wait=1: blocking requests are left alone */
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=100 times=-1 ignore_gfp_wait=1 verbose=0"), 0);
	expect_eq(pattern(5, GFP_KERNEL, 0), 0);
	expect_eq(pattern(5, GFP_ATOMIC, 0), 0x1f);
	/* min_order=2: smaller requests pass */
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=100 times=-1 ignore_gfp_wait=0 min_order=2 verbose=0"), 0);
	expect_eq(pattern(3, GFP_KERNEL, 0), 0);
	expect_eq(pattern(3, GFP_KERNEL, 1), 0);
	expect_eq(pattern(3, GFP_KERNEL, 2), 0x7);
	/* the boot syntax as the first word */
	assert_eq(kmm_fault_config("fail_page_alloc", "100,1,2 min_order=0 verbose=0"), 0);
	expect_eq(pattern(6, GFP_KERNEL, 0), 0x3);
	/* off again */
	assert_eq(kmm_fault_config("fail_page_alloc", "probability=0"), 0);
	expect_eq(pattern(10, GFP_KERNEL, 0), 0);

	/* bad settings: -EINVAL, nothing changed */
	logcap_start();
	expect_eq(kmm_fault_config("no_such_attr", "probability=1"), -22);
	expect_eq(kmm_fault_config("fail_page_alloc", "probability=101"), -22);
	expect_eq(kmm_fault_config("fail_page_alloc", "times=abc"), -22);
	expect_eq(kmm_fault_config("fail_page_alloc", "bogus=1"), -22);
	expect_eq(kmm_fault_config("fail_page_alloc", "probability=100 interval=0"), -22);
	logcap_stop();
	expect_true(logcap_all_well_formed());
	expect_eq(pattern(10, GFP_KERNEL, 0), 0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	/* before boot */
	logcap_start();
	expect_eq(kmm_fault_config("fail_page_alloc", "probability=1"), -22);
	logcap_stop();
}

TEST(fault_injection_fail_nth)
{
	assert_eq(kt_boot("mem=64M numa=1 cpus=1"), 0);
	logcap_start();
	expect_eq(kmm_get_fail_nth(), 0);
	kmm_set_fail_nth(3);
	expect_eq(kmm_get_fail_nth(), 3);
	struct page *p = alloc_page(GFP_KERNEL);
	expect_nonnull(p);
	__free_page(p);
	p = alloc_page(GFP_KERNEL);
	expect_nonnull(p);
	__free_page(p);
	expect_ne(kmm_get_fail_nth(), 0);
	expect_null(alloc_page(GFP_KERNEL));		/* the third */
	expect_eq(kmm_get_fail_nth(), 0);
	p = alloc_page(GFP_KERNEL);
	expect_nonnull(p);
	__free_page(p);
	/* n = 1: the next one; 0 disarms */
	kmm_set_fail_nth(1);
	expect_null(alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 2));
	kmm_set_fail_nth(2);
	kmm_set_fail_nth(0);
	expect_eq(pattern(5, GFP_KERNEL, 0), 0);
	/* per thread: another thread's calls do not count */
	kmm_set_fail_nth(2);
	pthread_t th;
	struct sleeper s = { .gfp = GFP_KERNEL };
	assert_eq(pthread_create(&th, NULL, sleeper_fn, &s), 0);
	pthread_join(th, NULL);
	expect_nonnull(s.page);
	if (s.page)
		__free_page(s.page);
	expect_eq(kmm_get_fail_nth(), 2);
	expect_eq(pattern(2, GFP_KERNEL, 0), 0x2);
	logcap_stop();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(fault_injection_boot_key)
{
	logcap_start();
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 fail_page_alloc=100,1,2"), 0);
	/* white-box: boot itself may have used some of the failures */
	unsigned long fired0 = kmm.fail_page_alloc.fired;
	expect_le(fired0, 2);
	unsigned long bits = pattern(10, GFP_KERNEL, 0);
	unsigned long want = (1UL << (2 - fired0)) - 1;
	expect_eq(bits, want);
	expect_eq(kmm.fail_page_alloc.fired, 2);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	/* a new boot without the key has no faults */
	assert_eq(kt_boot("mem=64M numa=1 cpus=1"), 0);
	expect_eq(pattern(10, GFP_KERNEL, 0), 0);
	kmm_shutdown();
	/* interval: every third call, no limit */
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 fail_page_alloc=100,3,-1"), 0);
	bits = pattern(12, GFP_KERNEL, 0);
	expect_eq(__builtin_popcountl(bits), 4);
	kmm_shutdown();
	logcap_stop();
}

TEST_MAIN()
