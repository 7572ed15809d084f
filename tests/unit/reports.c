/*
 * tests/unit/reports.c - the statistics reports of issue 2 in the Linux
 * /proc formats (REFERENCE section 13): buddyinfo, pagetypeinfo, zoneinfo,
 * meminfo, vmstat, extfrag (with a hand-made fragmentation checked against
 * the formulas of 13.6), slabinfo and vmallocinfo headers; unknown names
 * (-ENOENT) and reports before boot (-EINVAL).
 */
#include <regex.h>

#include "harness.h"
#include "page_helpers.h"

#define MiB (1UL << 20)

static const char *const all_reports[] = {
	"buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat", "slabinfo", "vmallocinfo", "extfrag",
};

/* every line of text matches re */
static void expect_lines_match(const char *text, const char *re_src, const char *what)
{
	regex_t re;
	assert_eq(regcomp(&re, re_src, REG_EXTENDED | REG_NOSUB), 0);
	char *copy = strdup(text);
	int n = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		if (regexec(&re, line, 0, NULL, 0) != 0)
			kt_fail(0, __FILE__, __LINE__, "%s line \"%s\" does not match /%s/", what, line, re_src);
	free(copy);
	regfree(&re);
}

static bool line_matches(const char *line, const char *re_src)
{
	regex_t re;
	if (regcomp(&re, re_src, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool ok = regexec(&re, line, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* the n-th line (0-based) of text, copied into buf */
static const char *nth_line(const char *text, int n, char *buf, size_t size)
{
	const char *p = text;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	size_t len = strcspn(p, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

TEST(before_boot_and_unknown_names)
{
	for (size_t i = 0; i < sizeof(all_reports) / sizeof(all_reports[0]); i++) {
		int rc = 0;
		char *t = report_text(all_reports[i], &rc);
		expect_null(t);
		expect_eq(rc, -22);
	}
	assert_eq(kt_boot("mem=16M numa=1 cpus=1"), 0);
	static const char *const unknown[] = { "", "buddy", "BUDDYINFO", "buddyinfo ", "slabinfo2", "proc/meminfo" };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int rc = 0;
		char *t = report_text(unknown[i], &rc);
		expect_null(t);
		expect_eq(rc, -2);
	}
	for (size_t i = 0; i < sizeof(all_reports) / sizeof(all_reports[0]); i++) {
		int rc = -1;
		char *t = report_text(all_reports[i], &rc);
		expect_eq(rc, 0);
		free(t);
	}
	kmm_shutdown();
	/* after shutdown: -EINVAL again */
	int rc = 0;
	expect_null(report_text("buddyinfo", &rc));
	expect_eq(rc, -22);
}

/* ------------------------------------------------------------------ */
/* buddyinfo                                                           */
/* ------------------------------------------------------------------ */

TEST(buddyinfo_format)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=2"), 0);
	int rc;
	char *t = report_text("buddyinfo", &rc);
	assert_nonnull(t);
	/* "Node %d, zone %8s " then 11 x "%6lu " */
	expect_lines_match(t, "^Node [0-9]+, zone [ A-Za-z0-9]{8} ( {0,5}[0-9]{1,6} ){11}$", "buddyinfo");
	/* rebuild each line with the exact format from its values */
	char *copy = strdup(t);
	int rows = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int nid, used;
		char name[16], rebuilt[256];
		assert_eq(sscanf(line, "Node %d, zone %15s%n", &nid, name, &used), 2);
		int len = snprintf(rebuilt, sizeof(rebuilt), "Node %d, zone %8s ", nid, name);
		char *q = line + used;
		struct zone *z = NULL;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			if (strcmp(wb_zone(nid, zi)->name, name) == 0 && populated_zone(wb_zone(nid, zi)))
				z = wb_zone(nid, zi);
		assert_nonnull(z);
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			unsigned long v = strtoul(q, &q, 10);
			expect_eq(v, z->free_area[o].nr_free);
			len += snprintf(rebuilt + len, sizeof(rebuilt) - (size_t)len, "%6lu ", v);
		}
		expect_str_eq(line, rebuilt);
		rows++;
	}
	expect_eq(rows, 4);
	free(copy);
	free(t);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* pagetypeinfo                                                        */
/* ------------------------------------------------------------------ */

TEST(pagetypeinfo_format)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=2"), 0);
	int rc;
	char *t = report_text("pagetypeinfo", &rc);
	assert_nonnull(t);
	char buf[512];
	/* per node: the header block, one row per (zone, type), the block counts */
	const char *p = t;
	for (int nid = 0; nid < 2; nid++) {
		assert_nonnull(nth_line(p, 0, buf, sizeof(buf)));
		expect_str_eq(buf, "Page block order: 9");
		nth_line(p, 1, buf, sizeof(buf));
		expect_str_eq(buf, "Pages per block:  512");
		nth_line(p, 2, buf, sizeof(buf));
		expect_str_eq(buf, "");
		nth_line(p, 3, buf, sizeof(buf));
		char want[512];
		int len = snprintf(want, sizeof(want), "%-43s ", "Free pages count per migrate type at order");
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			len += snprintf(want + len, sizeof(want) - (size_t)len, "%6d ", o);
		expect_str_eq(buf, want);
		int line = 4;
		int zones = 0;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			if (!populated_zone(z))
				continue;
			zones++;
			for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
				assert_nonnull(nth_line(p, line++, buf, sizeof(buf)));
				len = snprintf(want, sizeof(want), "Node %4d, zone %8s, type %12s ", nid, z->name,
					       kmm_migratetype_names[mt]);
				for (int o = 0; o < NR_PAGE_ORDERS; o++)
					len += snprintf(want + len, sizeof(want) - (size_t)len, "%6lu ",
							z->free_area[o].nr_free_mt[mt]);
				expect_str_eq(buf, want);
			}
		}
		nth_line(p, line++, buf, sizeof(buf));
		expect_str_eq(buf, "");
		nth_line(p, line++, buf, sizeof(buf));
		len = snprintf(want, sizeof(want), "%-23s", "Number of blocks type ");
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			len += snprintf(want + len, sizeof(want) - (size_t)len, "%12s ", kmm_migratetype_names[mt]);
		expect_str_eq(buf, want);
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			if (!populated_zone(z))
				continue;
			unsigned long blocks[MIGRATE_TYPES] = { 0 };
			for (unsigned long pfn = z->zone_start_pfn; pfn < z->zone_start_pfn + z->spanned_pages;
			     pfn += pageblock_nr_pages)
				blocks[get_pageblock_migratetype(pfn)]++;
			assert_nonnull(nth_line(p, line++, buf, sizeof(buf)));
			len = snprintf(want, sizeof(want), "Node %d, zone %8s ", nid, z->name);
			for (int mt = 0; mt < MIGRATE_TYPES; mt++)
				len += snprintf(want + len, sizeof(want) - (size_t)len, "%12lu ", blocks[mt]);
			expect_str_eq(buf, want);
		}
		expect_eq(zones, 2);
		/* the next node's block starts after this one */
		for (int i = 0; i < line && p; i++)
			p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
		if (nid == 0)
			assert_true(p && strncmp(p, "Page block order:", 17) == 0);
	}
	free(t);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* zoneinfo                                                            */
/* ------------------------------------------------------------------ */

TEST(zoneinfo_fields)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=3"), 0);
	struct page *p = alloc_page(GFP_KERNEL);	/* something on a per-CPU list */
	assert_nonnull(p);
	__free_page(p);
	int rc;
	char *t = report_text("zoneinfo", &rc);
	assert_nonnull(t);
	/* the field lines, spelled as Linux 6.x spells them */
	static const char *const fields[] = {
		"^Node [0-9]+, zone +(DMA|DMA32|Normal|HighMem)$",
		"^  pages free +[0-9]+$",
		"^        min +[0-9]+$",
		"^        low +[0-9]+$",
		"^        high +[0-9]+$",
		"^        spanned +[0-9]+$",
		"^        present +[0-9]+$",
		"^        managed +[0-9]+$",
		"^        protection: \\(([0-9]+, ){3}[0-9]+\\)$",
		"^      nr_free_pages [0-9]+$",
		"^  pagesets$",
		"^    cpu: [0-9]+$",
		"^              count: +[0-9]+$",
		"^              high: +[0-9]+$",
		"^              batch: +[0-9]+$",
		"^  start_pfn: +[0-9]+$",
	};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		int hits = 0;
		char *copy = strdup(t);
		for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			hits += line_matches(line, fields[f]);
		free(copy);
		int per_zone = strstr(fields[f], "cpu:") || strstr(fields[f], "count:") || strstr(fields[f], "batch:") ||
					       strstr(fields[f], "  high:") ? 3 : 1;
		if (hits != 4 * per_zone)
			kt_fail(0, __FILE__, __LINE__, "zoneinfo: /%s/ matches %d lines, expected %d", fields[f], hits,
				4 * per_zone);
	}
	/* the values are the zones' */
	struct zi_zone zs[8];
	int nz = parse_zoneinfo(zs, 8);
	expect_eq(nz, 4);
	int cached = 0;
	for (int i = 0; i < nz; i++) {
		struct zone *z = NULL;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			if (!strcmp(wb_zone(zs[i].nid, zi)->name, zs[i].name))
				z = wb_zone(zs[i].nid, zi);
		assert_nonnull(z);
		expect_eq(zs[i].free, z->free_pages);
		expect_eq(zs[i].min, z->watermark[WMARK_MIN]);
		expect_eq(zs[i].low, z->watermark[WMARK_LOW]);
		expect_eq(zs[i].high, z->watermark[WMARK_HIGH]);
		expect_eq(zs[i].spanned, z->spanned_pages);
		expect_eq(zs[i].present, z->present_pages);
		expect_eq(zs[i].managed, z->managed_pages);
		expect_eq(zs[i].start_pfn, z->zone_start_pfn);
		expect_eq(zs[i].ncpus, 3);
		for (int c = 0; c < 3; c++) {
			expect_eq(zs[i].count[c], wb_pcp_count(c, z));
			cached += (int)zs[i].count[c];
		}
	}
	expect_gt(cached, 0);
	free(t);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* meminfo                                                             */
/* ------------------------------------------------------------------ */

static void check_meminfo(const char *cmdline, bool highmem)
{
	assert_eq(kt_boot(cmdline), 0);
	struct blist b = { 0 };
	for (int i = 0; i < 100; i++) {
		struct page *p = alloc_pages_node(kmm.nr_nodes - 1, GFP_HIGHUSER, 1);
		assert_nonnull(p);
		blist_push(&b, p, 1);
	}
	int rc;
	char *t = report_text("meminfo", &rc);
	assert_nonnull(t);
	/* "Name:" padded to 16 columns, "%8lu kB" */
	expect_lines_match(t, "^[A-Za-z0-9_()]+: +[0-9]+( kB)?$", "meminfo");
	char buf[128];
	nth_line(t, 0, buf, sizeof(buf));
	expect_true(line_matches(buf, "^MemTotal: {7}[ 0-9]{7}[0-9] kB$"));
	nth_line(t, 1, buf, sizeof(buf));
	expect_true(line_matches(buf, "^MemFree: {8}[ 0-9]{7}[0-9] kB$"));
	nth_line(t, 2, buf, sizeof(buf));
	expect_true(line_matches(buf, "^MemAvailable: {3}[ 0-9]{7}[0-9] kB$"));
	unsigned long managed = 0, nfree = 0, hmanaged = 0, hfree = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			managed += z->managed_pages;
			nfree += z->free_pages;
			if (zi == ZONE_HIGHMEM) {
				hmanaged += z->managed_pages;
				hfree += z->free_pages;
			}
		}
	const long kb = PAGE_SIZE / 1024;
	expect_eq(report_value(t, "MemTotal:"), (long)managed * kb);
	expect_eq(report_value(t, "MemFree:"), (long)nfree * kb);
	expect_eq(report_value(t, "MemFree:"), (long)nr_free_pages() * kb);
	expect_le(report_value(t, "MemAvailable:"), report_value(t, "MemFree:"));
	if (highmem) {
		expect_eq(report_value(t, "HighTotal:"), (long)hmanaged * kb);
		expect_eq(report_value(t, "HighFree:"), (long)hfree * kb);
		expect_eq(report_value(t, "LowTotal:"), (long)(managed - hmanaged) * kb);
		expect_eq(report_value(t, "LowFree:"), (long)(nfree - hfree) * kb);
		expect_lt(hfree, hmanaged);	/* the GFP_HIGHUSER pages came from there */
	} else {
		expect_eq(report_value(t, "HighTotal:"), -1);
	}
	/* Linux's order for the lines present */
	static const char *const order[] = { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:",
					     "SwapTotal:", "Slab:", "SReclaimable:", "SUnreclaim:", "VmallocTotal:",
					     "VmallocUsed:" };
	const char *last = t;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *at = strstr(t, order[i]);
		if (!at) {
			kt_fail(0, __FILE__, __LINE__, "meminfo lacks %s", order[i]);
			continue;
		}
		expect_true(at >= last);
		last = at;
	}
	free(t);
	blist_free_all(&b);
	blist_release(&b);
	kmm_shutdown();
}

TEST(meminfo_values)
{
	check_meminfo("mem=1G numa=2 cpus=2", true);
	check_meminfo("mem=64M numa=1 zones=dma:16M,normal cpus=1", false);
}

/* ------------------------------------------------------------------ */
/* vmstat                                                              */
/* ------------------------------------------------------------------ */

TEST(vmstat_names_and_counts)
{
	assert_eq(kt_boot("mem=1G numa=2 cpus=2 pcp=off"), 0);
	int rc;
	char *t0 = report_text("vmstat", &rc);
	assert_nonnull(t0);
	expect_lines_match(t0, "^[a-z0-9_]+ [0-9]+$", "vmstat");
	static const char *const names[] = {
		"nr_free_pages", "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_page_table_pages",
		"numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
		"pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_high", "pgalloc_movable", "pgfree",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s ", names[i]);
		if (report_value(t0, key) < 0)
			kt_fail(0, __FILE__, __LINE__, "vmstat lacks %s", names[i]);
	}
	/* direct reclaim: allocstall (2.6) or allocstall_<zone> (4.x+) */
	expect_true(report_value(t0, "allocstall ") >= 0 || report_value(t0, "allocstall_normal ") >= 0);
	expect_eq(report_value(t0, "nr_free_pages "), (long)nr_free_pages());

	/* counts move with allocations: 10 DMA pages, 3 order-2 Normal blocks on
	 * node 0, 4 HighMem pages on node 1 */
	struct blist b = { 0 };
	for (int i = 0; i < 10; i++)
		blist_push(&b, alloc_page(GFP_DMA), 0);
	for (int i = 0; i < 3; i++)
		blist_push(&b, alloc_pages_node(0, GFP_KERNEL, 2), 2);
	for (int i = 0; i < 4; i++)
		blist_push(&b, alloc_pages_node(1, GFP_HIGHUSER, 0), 0);
	for (size_t i = 0; i < b.n; i++)
		assert_nonnull(b.p[i]);
	char *t1 = report_text("vmstat", &rc);
	assert_nonnull(t1);
	expect_eq(report_value(t1, "pgalloc_dma ") - report_value(t0, "pgalloc_dma "), 10);
	expect_eq(report_value(t1, "pgalloc_normal ") - report_value(t0, "pgalloc_normal "), 12);
	expect_eq(report_value(t1, "pgalloc_high ") - report_value(t0, "pgalloc_high "), 4);
	expect_eq(report_value(t1, "nr_free_pages "), (long)nr_free_pages());
	long hits = report_value(t1, "numa_hit ") - report_value(t0, "numa_hit ");
	long miss = report_value(t1, "numa_miss ") - report_value(t0, "numa_miss ");
	expect_eq(hits + miss, 17);
	/* the node-0 and node-1 requests were served by their own nodes */
	expect_ge(hits, 7);
	blist_free_all(&b);
	char *t2 = report_text("vmstat", &rc);
	assert_nonnull(t2);
	expect_eq(report_value(t2, "pgfree ") - report_value(t1, "pgfree "), 10 + 12 + 4);
	/* a miss: node 1 Normal exhausted, a node-1 request served by node 0 */
	struct zone *n1 = wb_zone(1, ZONE_NORMAL);
	struct page *p;
	while (n1->free_pages > n1->watermark[WMARK_LOW] && (p = alloc_pages_node(1, GFP_KERNEL, 0)))
		blist_push(&b, p, 0);
	char *t3 = report_text("vmstat", &rc);
	p = alloc_pages_node(1, GFP_KERNEL, 0);
	assert_nonnull(p);
	expect_eq(page_to_nid(p), 0);
	blist_push(&b, p, 0);
	char *t4 = report_text("vmstat", &rc);
	expect_eq(report_value(t4, "numa_miss ") - report_value(t3, "numa_miss "), 1);
	expect_eq(report_value(t4, "numa_foreign ") - report_value(t3, "numa_foreign "), 1);
	blist_free_all(&b);
	blist_release(&b);
	free(t0);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* extfrag                                                             */
/* ------------------------------------------------------------------ */

/* The rows of table `header` ("unusable_index" or "extfrag_index"): for each
 * zone line the 11 printed values (as text). */
static int extfrag_rows(const char *text, const char *header, char vals[][NR_PAGE_ORDERS][16], int max)
{
	const char *h = strstr(text, header);
	if (!h)
		return -1;
	const char *p = strchr(h, '\n');
	int rows = 0;
	while (p && p[1] == 'N' && rows < max) {
		p++;
		int nid, used;
		char name[16];
		if (sscanf(p, "Node %d, zone %15s%n", &nid, name, &used) != 2)
			break;
		const char *q = p + used;
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			while (*q == ' ')
				q++;
			size_t len = strcspn(q, " \n");
			snprintf(vals[rows][o], 16, "%.*s", (int)len, q);
			q += len;
		}
		rows++;
		p = strchr(p, '\n');
	}
	return rows;
}

TEST(extfrag_hand_made_fragmentation)
{
	/* the tiny machine, everything allocated, then a chosen pattern freed */
	assert_eq(kt_boot("mem=4M numa=1 cpus=1 pcp=off"), 0);
	struct page **by_pfn = calloc(kmm.max_pfn, sizeof(*by_pfn));
	struct page *p;
	while ((p = alloc_page(GFP_TAKE_ALL)))
		by_pfn[page_to_pfn(p)] = p;
	assert_eq(nr_free_pages(), 0);
	/* a 256-page aligned window that this test allocated entirely (the
	 * layers above may hold a few pages since boot) */
	unsigned long base = ~0UL;
	for (unsigned long b = 0; b + 256 <= kmm.max_pfn && base == ~0UL; b += 256) {
		bool all = true;
		for (unsigned long k = 0; k < 256 && all; k++)
			all = by_pfn[b + k] != NULL;
		if (all)
			base = b;
	}
	assert_ne(base, ~0UL);
	/* 32 single pages (every other one of base..base+63), an order-2 block
	 * at base+64, an order-4 block at base+128 */
	for (unsigned long pfn = base; pfn < base + 64; pfn += 2)
		__free_page(by_pfn[pfn]), by_pfn[pfn] = NULL;
	for (unsigned long pfn = base + 64; pfn < base + 68; pfn++)
		__free_page(by_pfn[pfn]), by_pfn[pfn] = NULL;
	for (unsigned long pfn = base + 128; pfn < base + 144; pfn++)
		__free_page(by_pfn[pfn]), by_pfn[pfn] = NULL;
	unsigned long nr_free[NR_PAGE_ORDERS] = { 0 };
	nr_free[0] = 32;
	nr_free[2] = 1;
	nr_free[4] = 1;
	struct zone *z = wb_zone(0, ZONE_DMA);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		expect_eq(z->free_area[o].nr_free, nr_free[o]);

	/* REFERENCE 13.6, computed here */
	unsigned long free_pages = 0, blocks = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		free_pages += nr_free[o] << o;
		blocks += nr_free[o];
	}
	expect_eq(free_pages, 52);
	char want_u[NR_PAGE_ORDERS][16], want_e[NR_PAGE_ORDERS][16];
	for (int order = 0; order < NR_PAGE_ORDERS; order++) {
		unsigned long suitable = 0;
		for (int o = order; o < NR_PAGE_ORDERS; o++)
			suitable += nr_free[o] << (o - order);
		long u = (long)((free_pages - (suitable << order)) * 1000 / free_pages);
		snprintf(want_u[order], 16, "%d.%03d", (int)(u / 1000), (int)(u % 1000));
		long e;
		if (!blocks)
			e = 0;
		else if (suitable)
			e = -1000;
		else
			e = 1000 - (long)((1000 + free_pages * 1000 / (1UL << order)) / blocks);
		if (e < 0)
			snprintf(want_e[order], 16, "-%d.%03d", (int)(-e / 1000), (int)(-e % 1000));
		else
			snprintf(want_e[order], 16, "%d.%03d", (int)(e / 1000), (int)(e % 1000));
	}
	/* spot checks of the hand computation itself */
	expect_str_eq(want_u[0], "0.000");
	expect_str_eq(want_u[1], "0.615");	/* (52 - 20) / 52 */
	expect_str_eq(want_u[3], "0.692");	/* (52 - 16) / 52 */
	expect_str_eq(want_u[5], "1.000");
	expect_str_eq(want_e[4], "-1.000");
	expect_str_eq(want_e[5], "0.923");	/* 1 - (1 + 52/32) / 34 */
	expect_str_eq(want_e[10], "0.970");

	int rc;
	char *t = report_text("extfrag", &rc);
	assert_nonnull(t);
	char got[4][NR_PAGE_ORDERS][16];
	int nu = extfrag_rows(t, "unusable_index", got, 4);
	expect_eq(nu, 1);
	for (int o = 0; nu == 1 && o < NR_PAGE_ORDERS; o++)
		expect_str_eq(got[0][o], want_u[o]);
	int ne = extfrag_rows(t, "extfrag_index", got, 4);
	expect_eq(ne, 1);
	for (int o = 0; ne == 1 && o < NR_PAGE_ORDERS; o++)
		expect_str_eq(got[0][o], want_e[o]);
	/* the row format: "Node %d, zone %8s " then the values */
	const char *row = strstr(t, "Node 0, zone      DMA ");
	expect_nonnull(row);
	free(t);

	/* nothing free at all: unusable 1.000, extfrag 0.000 */
	while ((p = alloc_page(GFP_TAKE_ALL)))
		by_pfn[page_to_pfn(p)] = p;
	expect_eq(nr_free_pages(), 0);
	t = report_text("extfrag", &rc);
	assert_nonnull(t);
	nu = extfrag_rows(t, "unusable_index", got, 4);
	for (int o = 0; nu == 1 && o < NR_PAGE_ORDERS; o++)
		expect_str_eq(got[0][o], "1.000");
	ne = extfrag_rows(t, "extfrag_index", got, 4);
	for (int o = 0; ne == 1 && o < NR_PAGE_ORDERS; o++)
		expect_str_eq(got[0][o], "0.000");
	free(t);
	for (unsigned long pfn = 0; pfn < kmm.max_pfn; pfn++)
		if (by_pfn[pfn])
			__free_page(by_pfn[pfn]);
	free(by_pfn);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* The layers' reports before their layers have anything to list       */
/* ------------------------------------------------------------------ */

TEST(slabinfo_and_vmallocinfo_headers)
{
	assert_eq(kt_boot("mem=16M numa=1 cpus=1"), 0);
	int rc;
	char *t = report_text("slabinfo", &rc);
	assert_nonnull(t);
	expect_eq(strncmp(t, "slabinfo - version: 2.1\n", 24), 0);
	expect_nonnull(strstr(t, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
				 " : tunables <limit> <batchcount> <sharedfactor>"
				 " : slabdata <active_slabs> <num_slabs> <sharedavail>\n"));
	free(t);
	t = report_text("vmallocinfo", &rc);
	expect_eq(rc, 0);
	free(t);
	kmm_shutdown();
}

TEST_MAIN()
