/*
 * tests/unit/buddy.c - the buddy system (issue 2): split and coalesce on
 * hand-computed cases (ULK3's example of an 8-page request served from a
 * 32-page block among them), boot free lists made of maximal aligned
 * blocks, exhaust-and-free restoring buddyinfo, no merge across a zone or
 * node boundary, mobility grouping (pageblocks by migrate type, fallback
 * stealing, high orders surviving a fragmenting workload) and free memory
 * given back to the host.
 */
#include "harness.h"
#include "page_helpers.h"

#define MiB (1UL << 20)
#define PFN(bytes) ((unsigned long)(bytes) >> PAGE_SHIFT)

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* expected nr_free per order of zone z: [0..10] */
static void expect_area(const struct zone *z, const unsigned long want[NR_PAGE_ORDERS], const char *when)
{
	bool same = true;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		same &= z->free_area[o].nr_free == want[o];
	if (!same) {
		char got[256] = "", exp[256] = "";
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			snprintf(got + strlen(got), sizeof(got) - strlen(got), " %lu", z->free_area[o].nr_free);
			snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), " %lu", want[o]);
		}
		kt_fail(0, __FILE__, __LINE__, "%s: zone %s free_area nr_free is%s, expected%s", when, z->name, got, exp);
	}
}

/* free_area counts a run of free pfns [a, b) of a zone decomposes into:
 * maximal naturally aligned blocks, at most MAX_PAGE_ORDER */
static void decompose(unsigned long a, unsigned long b, unsigned long counts[NR_PAGE_ORDERS])
{
	while (a < b) {
		int o = MAX_PAGE_ORDER;
		while (o > 0 && ((a & ((1UL << o) - 1)) || a + (1UL << o) > b))
			o--;
		counts[o]++;
		a += 1UL << o;
	}
}

/* The free lists zone z should have: the maximal blocks of the frames that
 * are neither reserved at boot nor part of an allocated block (the layers
 * above the page allocator keep some pages from boot on).  Call after
 * kmm_drain_all (no per-CPU pages). */
static void expected_maximal(const struct zone *z, unsigned long counts[NR_PAGE_ORDERS])
{
	unsigned long start = z->zone_start_pfn, end = start + z->spanned_pages;
	unsigned char *used = calloc(z->spanned_pages, 1);
	for (unsigned long pfn = start; pfn < end; pfn++) {
		struct page *p = pfn_to_page(pfn);
		if (PageReserved(p)) {
			used[pfn - start] = 1;
		} else if (p->_refcount > 0 && !PageTail(p) && !PageBuddy(p)) {
			for (unsigned long k = 0; k < (1UL << p->alloc_order) && pfn + k < end; k++)
				used[pfn + k - start] = 1;
		}
	}
	memset(counts, 0, sizeof(unsigned long) * NR_PAGE_ORDERS);
	unsigned long run = start;
	for (unsigned long pfn = start; pfn <= end; pfn++) {
		if (pfn == end || used[pfn - start]) {
			decompose(run, pfn, counts);
			run = pfn + 1;
		}
	}
	free(used);
}

/* every populated zone's free lists are the maximal blocks */
static void expect_all_maximal(const char *when)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = wb_zone(nid, zi);
			unsigned long want[NR_PAGE_ORDERS];
			if (!populated_zone(z))
				continue;
			expected_maximal(z, want);
			expect_area(z, want, when);
		}
}

/* parse buddyinfo: counts[nid*MAX_NR_ZONES + zone index][order] */
static int parse_buddyinfo(unsigned long counts[][NR_PAGE_ORDERS], int max_rows, int *nids, char names[][16])
{
	int rc, rows = 0;
	char *t = report_text("buddyinfo", &rc);
	if (!t)
		return -1;
	for (char *line = strtok(t, "\n"); line && rows < max_rows; line = strtok(NULL, "\n"), rows++) {
		int used;
		if (sscanf(line, "Node %d, zone %15s%n", &nids[rows], names[rows], &used) != 2)
			break;
		char *q = line + used;
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			counts[rows][o] = strtoul(q, &q, 10);
	}
	free(t);
	return rows;
}

static unsigned long bit(unsigned long v, int o) { return (v >> o) & 1; }

/* ------------------------------------------------------------------ */
/* Boot                                                                */
/* ------------------------------------------------------------------ */

TEST(boot_free_lists_are_maximal_aligned_blocks)
{
	static const char *const machines[] = {
		"mem=4M numa=1 pcp=off cpus=1",
		"mem=64M numa=1 zones=normal pcp=off cpus=1",
		"mem=16M numa=1 zones=dma:6M,normal cpus=1",
		"numa=8M,6M,10M zones=normal cpus=1",
		"mem=1G numa=2 cpus=2",
		"mem=96M numa=3 zones=dma:5M,dma32:33M,normal:80M,highmem cpus=3",
	};
	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
		assert_eq(kt_boot(machines[i]), 0);
		expect_all_maximal(machines[i]);
		/* black-box: buddyinfo agrees with the lists */
		unsigned long counts[16][NR_PAGE_ORDERS];
		int nids[16];
		char names[16][16];
		int rows = parse_buddyinfo(counts, 16, nids, names);
		int r = 0;
		for (int nid = 0; nid < kmm.nr_nodes; nid++)
			for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
				struct zone *z = wb_zone(nid, zi);
				if (!populated_zone(z))
					continue;
				if (r >= rows) {
					kt_fail(0, __FILE__, __LINE__, "%s: buddyinfo lacks node %d zone %s", machines[i], nid, z->name);
					continue;
				}
				expect_eq(nids[r], nid);
				expect_str_eq(names[r], z->name);
				for (int o = 0; o < NR_PAGE_ORDERS; o++)
					expect_eq(counts[r][o], z->free_area[o].nr_free);
				r++;
			}
		expect_eq(rows, r);
		expect_eq(kmm_check(), 0);
		kmm_shutdown();
	}
}

/* ------------------------------------------------------------------ */
/* Hand-computed split and coalesce on the tiny machine                */
/* ------------------------------------------------------------------ */

/* The tiny machine, everything allocated as single pages: by_pfn[pfn]. */
struct tiny {
	struct zone *z;
	struct page **by_pfn;
	unsigned long npfn;
};

static void tiny_boot_exhausted(struct tiny *t)
{
	assert_eq(kt_boot("mem=4M numa=1 pcp=off cpus=1"), 0);
	t->z = wb_zone(0, ZONE_DMA);
	t->npfn = kmm.max_pfn;
	t->by_pfn = calloc(t->npfn, sizeof(*t->by_pfn));
	unsigned long free0 = nr_free_pages();
	struct page *p;
	unsigned long n = 0;
	while ((p = alloc_page(GFP_TAKE_ALL))) {
		unsigned long pfn = page_to_pfn(p);
		if (pfn >= t->npfn || t->by_pfn[pfn]) {
			kt_fail(1, __FILE__, __LINE__, "pfn %lu handed out twice or out of range", pfn);
		}
		t->by_pfn[pfn] = p;
		n++;
	}
	expect_eq(n, free0);
	expect_eq(nr_free_pages(), 0);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		expect_eq(t->z->free_area[o].nr_free, 0);
	expect_eq(kmm_check(), 0);
}

static void tiny_free(struct tiny *t, unsigned long pfn)
{
	assert_nonnull(t->by_pfn[pfn]);
	__free_page(t->by_pfn[pfn]);
	t->by_pfn[pfn] = NULL;
}

static void tiny_shutdown(struct tiny *t)
{
	for (unsigned long pfn = 0; pfn < t->npfn; pfn++)
		if (t->by_pfn[pfn])
			tiny_free(t, pfn);
	expect_eq(kmm_check(), 0);
	expect_all_maximal("tiny machine after freeing everything");
	free(t->by_pfn);
	kmm_shutdown();
}

/* Freeing pfns 0 .. k-1 one by one leaves exactly the blocks of k's binary
 * representation: order o holds a block iff bit o of k is set. */
TEST(coalesce_follows_binary_counting)
{
	struct tiny t;
	tiny_boot_exhausted(&t);
	for (unsigned long k = 1; k <= 64; k++) {
		tiny_free(&t, k - 1);
		unsigned long want[NR_PAGE_ORDERS] = { 0 };
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			want[o] = bit(k, o);
		char when[64];
		snprintf(when, sizeof(when), "after freeing pfns 0..%lu", k - 1);
		expect_area(t.z, want, when);
		expect_eq(nr_free_pages(), k);
	}
	/* the single order-6 block is at pfn 0 */
	struct page *head = pfn_to_page(0);
	expect_true(PageBuddy(head));
	expect_eq(head->private, 6);
	expect_eq(kmm_check(), 0);
	tiny_shutdown(&t);
}

TEST(coalesce_out_of_order)
{
	struct tiny t;
	tiny_boot_exhausted(&t);
	unsigned long w[NR_PAGE_ORDERS];

	/* 1, 3, 2, 0: two singles, then 2+3 -> order 1, then 0+1 -> order 1 -> with 2..3 -> order 2 */
	tiny_free(&t, 1);
	memset(w, 0, sizeof(w)); w[0] = 1;
	expect_area(t.z, w, "free 1");
	tiny_free(&t, 3);
	memset(w, 0, sizeof(w)); w[0] = 2;
	expect_area(t.z, w, "free 1,3");
	tiny_free(&t, 2);
	memset(w, 0, sizeof(w)); w[0] = 1; w[1] = 1;
	expect_area(t.z, w, "free 1,3,2");
	expect_true(PageBuddy(pfn_to_page(2)));
	expect_eq(pfn_to_page(2)->private, 1);
	tiny_free(&t, 0);
	memset(w, 0, sizeof(w)); w[2] = 1;
	expect_area(t.z, w, "free 1,3,2,0");
	expect_eq(pfn_to_page(0)->private, 2);

	/* 4 and 6 are not buddies of each other (4^1 = 5, 6^1 = 7): no merge */
	tiny_free(&t, 4);
	tiny_free(&t, 6);
	memset(w, 0, sizeof(w)); w[0] = 2; w[2] = 1;
	expect_area(t.z, w, "free 0-3,4,6");
	/* 7 merges with 6 (order 1 at 6), whose buddy 4..5 is not free */
	tiny_free(&t, 7);
	memset(w, 0, sizeof(w)); w[0] = 1; w[1] = 1; w[2] = 1;
	expect_area(t.z, w, "free 0-4,6,7");
	/* 5: 4+5 -> order 1, + 6..7 -> order 2 at 4, + 0..3 -> order 3 at 0 */
	tiny_free(&t, 5);
	memset(w, 0, sizeof(w)); w[3] = 1;
	expect_area(t.z, w, "free 0-7");
	expect_eq(pfn_to_page(0)->private, 3);

	/* downwards from 15 to 8: ends as one order-4 block at 0 */
	for (unsigned long pfn = 15; pfn >= 8; pfn--)
		tiny_free(&t, pfn);
	memset(w, 0, sizeof(w)); w[4] = 1;
	expect_area(t.z, w, "free 0-15");
	expect_eq(kmm_check(), 0);
	tiny_shutdown(&t);
}

/* ULK3 8.1.7: a request for 8 pages (order 3) when the smallest free block
 * is 32 pages (order 5): the block is split, the 16-page remainder goes to
 * the order-4 list, the 8-page remainder to the order-3 list. */
TEST(ulk3_split_example)
{
	struct tiny t;
	tiny_boot_exhausted(&t);
	for (unsigned long pfn = 32; pfn < 64; pfn++)
		tiny_free(&t, pfn);
	unsigned long w[NR_PAGE_ORDERS] = { 0 };
	w[5] = 1;
	expect_area(t.z, w, "a 32-page block");

	struct page *p = alloc_pages(GFP_TAKE_ALL, 3);
	assert_nonnull(p);
	expect_eq(page_to_pfn(p), 32);
	memset(w, 0, sizeof(w));
	w[3] = 1;
	w[4] = 1;
	expect_area(t.z, w, "after the order-3 request");
	/* the remainders: 16 pages at 48 (order 4), 8 pages at 40 (order 3) */
	expect_true(PageBuddy(pfn_to_page(48)));
	expect_eq(pfn_to_page(48)->private, 4);
	expect_true(PageBuddy(pfn_to_page(40)));
	expect_eq(pfn_to_page(40)->private, 3);
	expect_eq(nr_free_pages(), 24);
	expect_eq(page_count(p), 1);
	expect_eq(kmm_check(), 0);

	/* a page request now takes the smallest block (order 3 at 40) */
	struct page *q = alloc_pages(GFP_TAKE_ALL, 0);
	assert_nonnull(q);
	expect_eq(page_to_pfn(q), 40);
	memset(w, 0, sizeof(w));
	w[0] = 1; w[1] = 1; w[2] = 1; w[4] = 1;
	expect_area(t.z, w, "after an order-0 request");
	__free_page(q);

	/* freeing the 8 pages coalesces back into the 32-page block */
	__free_pages(p, 3);
	memset(w, 0, sizeof(w));
	w[5] = 1;
	expect_area(t.z, w, "after freeing both");
	expect_true(PageBuddy(pfn_to_page(32)));
	expect_eq(pfn_to_page(32)->private, 5);

	/* order 0 from the 32-page block: one new block of each order 0..4 */
	p = alloc_pages(GFP_TAKE_ALL, 0);
	assert_nonnull(p);
	expect_eq(page_to_pfn(p), 32);
	memset(w, 0, sizeof(w));
	for (int o = 0; o <= 4; o++)
		w[o] = 1;
	expect_area(t.z, w, "order 0 out of order 5");
	__free_page(p);
	memset(w, 0, sizeof(w));
	w[5] = 1;
	expect_area(t.z, w, "back to one block");
	/* a request larger than any free block fails */
	expect_null(alloc_pages(GFP_TAKE_ALL, 6));
	expect_eq(kmm_check(), 0);
	tiny_shutdown(&t);
}

/* ------------------------------------------------------------------ */
/* Exhaust every zone, free everything                                 */
/* ------------------------------------------------------------------ */

static void shuffle(struct blist *b, unsigned long *rnd)
{
	for (size_t i = b->n; i > 1; i--) {
		size_t j = kmm_prng_next(rnd) % i;
		struct page *p = b->p[i - 1];
		unsigned char o = b->order[i - 1];
		b->p[i - 1] = b->p[j];
		b->order[i - 1] = b->order[j];
		b->p[j] = p;
		b->order[j] = o;
	}
}

static void exhaust_and_restore(const char *cmdline, gfp_t gfp, unsigned int top, unsigned long seed)
{
	int rc;
	assert_eq(kt_boot(cmdline), 0);
	char *boot_text = report_text("buddyinfo", &rc);
	assert_nonnull(boot_text);
	unsigned long free0 = nr_free_pages();

	struct blist b = { 0 };
	unsigned long got = exhaust(&b, -1, __GFP_HIGHMEM | gfp, top);
	printf("  %s: %zu blocks, %lu pages\n", cmdline, b.n, got);
	expect_eq(got, free0);
	expect_eq(nr_free_pages(), 0);
	expect_eq(wb_all_pcp_pages(), 0);
	/* every block is allocated once: no pfn twice */
	unsigned char *seen = calloc(kmm.max_pfn, 1);
	for (size_t i = 0; i < b.n; i++) {
		unsigned long pfn = page_to_pfn(b.p[i]);
		expect_eq(pfn & ((1UL << b.order[i]) - 1), 0);
		for (unsigned long k = 0; k < (1UL << b.order[i]); k++) {
			if (seen[pfn + k]++)
				kt_fail(1, __FILE__, __LINE__, "pfn %lu handed out twice", pfn + k);
		}
	}
	free(seen);
	expect_eq(kmm_check(), 0);
	/* a full zone refuses anything, even with every right */
	expect_null(alloc_pages(__GFP_HIGHMEM | gfp, 0));

	shuffle(&b, &seed);
	blist_free_all(&b);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);
	char *end_text = report_text("buddyinfo", &rc);
	assert_nonnull(end_text);
	expect_str_eq(end_text, boot_text);
	expect_all_maximal(cmdline);
	expect_eq(kmm_check(), 0);
	free(boot_text);
	free(end_text);
	blist_release(&b);
	kmm_shutdown();
}

TEST(exhaust_every_zone_then_free_everything)
{
	unsigned long seed = kt_seed();
	exhaust_and_restore("mem=1G numa=2 cpus=2", GFP_TAKE_ALL, MAX_PAGE_ORDER, seed);
	exhaust_and_restore("mem=64M numa=2 cpus=2 profile=modern", GFP_TAKE_ALL, 0, seed + 1);
	exhaust_and_restore("mem=64M numa=1 zones=dma:16M,dma32:40M,normal cpus=1 pcp=off", GFP_TAKE_ALL, 3, seed + 2);
	exhaust_and_restore("mem=64M numa=2 cpus=2 profile=modern", GFP_TAKE_ALL, 3, seed + 3);
}

/* The same with GFP_ATOMIC high-order requests, which set pageblocks aside
 * as the HIGHATOMIC reserve: after everything is freed and kmm_drain_all
 * ("for exact accounting") the free lists must still be the boot ones
 * (MISUSE.md, "nothing lost" 4). */
TEST(exhaust_with_atomic_high_orders_then_free_everything)
{
	unsigned long seed = kt_seed();
	exhaust_and_restore("mem=64M numa=1 zones=dma:16M,dma32:40M,normal cpus=1 pcp=off", GFP_TAKE_ALL_ATOMIC, 3, seed);
	exhaust_and_restore("mem=1G numa=2 cpus=2", GFP_TAKE_ALL_ATOMIC, MAX_PAGE_ORDER, seed + 1);
}

/* Odd layouts (node and zone bounds off pageblock and MAX_ORDER
 * alignment), every migrate type, random orders, random free order. */
TEST(odd_layouts_mixed_types_restore)
{
	static const char *const machines[] = {
		"numa=5M,11M zones=dma:3M,normal cpus=2",
		"mem=37M numa=3 zones=dma:7M,dma32:19M,normal cpus=3",
		"numa=6M,7M,9M zones=dma:5M,normal:13M,highmem cpus=2 profile=modern",
	};
	static const gfp_t types[] = { 0, __GFP_MOVABLE, __GFP_RECLAIMABLE };
	unsigned long rnd = kt_seed() | 1;
	for (size_t m = 0; m < sizeof(machines) / sizeof(machines[0]); m++) {
		int rc;
		assert_eq(kt_boot(machines[m]), 0);
		char *boot_text = report_text("buddyinfo", &rc);
		assert_nonnull(boot_text);
		unsigned long free0 = nr_free_pages();
		struct blist b = { 0 };
		for (int round = 0; round < 3; round++) {
			/* take everything, random types, orders from 10 down */
			for (int o = MAX_PAGE_ORDER; o >= 0; o--) {
				struct page *p;
				while ((p = alloc_pages(__GFP_HIGHMEM | GFP_TAKE_ALL | types[kmm_prng_next(&rnd) % 3],
							(unsigned int)o)))
					blist_push(&b, p, (unsigned int)o);
			}
			expect_eq(nr_free_pages(), 0);
			expect_eq(kmm_check(), 0);
			/* give back a random half, then take again with small orders */
			shuffle(&b, &rnd);
			size_t keep = b.n / 2;
			while (b.n > keep) {
				b.n--;
				__free_pages(b.p[b.n], b.order[b.n]);
			}
			expect_eq(kmm_check(), 0);
			for (int i = 0; i < 2000; i++) {
				unsigned int o = (unsigned int)(kmm_prng_next(&rnd) % 4);
				struct page *p = alloc_pages(__GFP_HIGHMEM | GFP_TAKE_ALL | types[kmm_prng_next(&rnd) % 3], o);
				if (p)
					blist_push(&b, p, o);
			}
			shuffle(&b, &rnd);
			blist_free_all(&b);
			expect_eq(kmm_check(), 0);
			kmm_drain_all();
			expect_eq(nr_free_pages(), free0);
			char *end_text = report_text("buddyinfo", &rc);
			assert_nonnull(end_text);
			if (strcmp(end_text, boot_text) != 0) {
				kt_fail(0, __FILE__, __LINE__, "%s round %d: buddyinfo after freeing everything:\n%sat boot:\n%s",
					machines[m], round, end_text, boot_text);
			}
			free(end_text);
		}
		expect_all_maximal(machines[m]);
		free(boot_text);
		blist_release(&b);
		kmm_shutdown();
	}
}

/* ------------------------------------------------------------------ */
/* Boundaries                                                          */
/* ------------------------------------------------------------------ */

/* Allocate everything as single pages, free all but the two frames around
 * `boundary`, then those two: the blocks on both sides must not merge. */
static void free_around_boundary(unsigned long boundary)
{
	struct page **by_pfn = calloc(kmm.max_pfn, sizeof(*by_pfn));
	struct page *p;
	while ((p = alloc_pages(__GFP_HIGHMEM | GFP_TAKE_ALL, 0)))
		by_pfn[page_to_pfn(p)] = p;
	expect_eq(nr_free_pages(), 0);
	for (unsigned long pfn = 0; pfn < kmm.max_pfn; pfn++)
		if (by_pfn[pfn] && pfn != boundary - 1 && pfn != boundary)
			__free_page(by_pfn[pfn]);
	expect_eq(kmm_check(), 0);
	__free_page(by_pfn[boundary - 1]);
	__free_page(by_pfn[boundary]);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	free(by_pfn);
}

TEST(no_merge_across_a_zone_boundary)
{
	int rc;
	/* DMA [0, 6M) = pfns 0..1535, Normal from 1536: the order-9 blocks at
	 * 1024 (DMA) and 1536 (Normal) are buddies of each other */
	assert_eq(kt_boot("mem=16M numa=1 zones=dma:6M,normal cpus=1 pcp=off"), 0);
	struct zone *dma = wb_zone(0, ZONE_DMA), *normal = wb_zone(0, ZONE_NORMAL);
	expect_eq(dma->spanned_pages, 1536);
	expect_eq(normal->zone_start_pfn, 1536);
	char *boot_text = report_text("buddyinfo", &rc);
	assert_nonnull(boot_text);
	unsigned long w[NR_PAGE_ORDERS] = { 0 };
	w[9] = 1;
	w[10] = 1;
	expect_area(dma, w, "DMA at boot");
	expect_true(PageBuddy(pfn_to_page(1024)));
	expect_eq(pfn_to_page(1024)->private, 9);
	expect_true(PageBuddy(pfn_to_page(1536)));
	expect_eq(pfn_to_page(1536)->private, 9);

	free_around_boundary(1536);
	expect_area(dma, w, "DMA after exhausting and freeing");
	expect_eq(pfn_to_page(1024)->private, 9);
	expect_eq(pfn_to_page(1536)->private, 9);
	expect_str_eq(page_zone_name(pfn_to_page(1535)), "DMA");
	expect_str_eq(page_zone_name(pfn_to_page(1536)), "Normal");
	char *end_text = report_text("buddyinfo", &rc);
	assert_nonnull(end_text);
	expect_str_eq(end_text, boot_text);
	free(boot_text);
	free(end_text);
	kmm_shutdown();
}

TEST(no_merge_across_a_node_boundary)
{
	int rc;
	/* node 1 = pfns 2048..3583, node 2 = 3584..6143: the order-9 blocks at
	 * 3072 (node 1) and 3584 (node 2) are buddies of each other */
	assert_eq(kt_boot("numa=8M,6M,10M zones=normal cpus=1 pcp=off"), 0);
	struct zone *n1 = wb_zone(1, ZONE_NORMAL), *n2 = wb_zone(2, ZONE_NORMAL);
	expect_eq(n1->zone_start_pfn, 2048);
	expect_eq(n2->zone_start_pfn, 3584);
	char *boot_text = report_text("buddyinfo", &rc);
	assert_nonnull(boot_text);
	unsigned long w1[NR_PAGE_ORDERS] = { 0 }, w2[NR_PAGE_ORDERS] = { 0 };
	w1[9] = 1; w1[10] = 1;		/* 2048 (order 10), 3072 (order 9) */
	w2[9] = 1; w2[10] = 2;		/* 3584 (order 9), 4096 and 5120 (order 10) */
	expect_area(n1, w1, "node 1 at boot");
	expect_area(n2, w2, "node 2 at boot");

	free_around_boundary(3584);
	expect_area(n1, w1, "node 1 after exhausting and freeing");
	expect_area(n2, w2, "node 2 after exhausting and freeing");
	expect_eq(page_to_nid(pfn_to_page(3583)), 1);
	expect_eq(page_to_nid(pfn_to_page(3584)), 2);
	char *end_text = report_text("buddyinfo", &rc);
	assert_nonnull(end_text);
	expect_str_eq(end_text, boot_text);
	free(boot_text);
	free(end_text);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Migrate types                                                       */
/* ------------------------------------------------------------------ */

/* pagetypeinfo's "Number of blocks type" row of node 0's first zone */
static void pageblock_counts(unsigned long out[MIGRATE_TYPES])
{
	int rc;
	char *t = report_text("pagetypeinfo", &rc);
	memset(out, 0, sizeof(unsigned long) * MIGRATE_TYPES);
	if (!t) {
		kt_fail(0, __FILE__, __LINE__, "pagetypeinfo failed: %d", rc);
		return;
	}
	char *h = strstr(t, "Number of blocks type");
	char *row = h ? strstr(h, "\nNode 0, zone ") : NULL;
	if (!row) {
		kt_fail(0, __FILE__, __LINE__, "pagetypeinfo has no block count row");
		free(t);
		return;
	}
	char zone[16];
	int nid, used;
	if (sscanf(row + 1, "Node %d, zone %15s%n", &nid, zone, &used) == 2) {
		char *q = row + 1 + used;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			out[mt] = strtoul(q, &q, 10);
	}
	free(t);
}

static const char *mt_name(int mt) { return kmm_migratetype_names[mt]; }

TEST(allocations_land_in_pageblocks_of_their_type)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal pcp=off cpus=1"), 0);
	expect_true(kmm.group_by_mobility);
	static const gfp_t gfps[3] = { GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE };
	static const int mts[3] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE };
	struct blist b = { 0 };
	unsigned long nblocks = (kmm.max_pfn + pageblock_nr_pages - 1) / pageblock_nr_pages;
	unsigned char *users = calloc(nblocks, 1);	/* bit mt: a page of type mt lives here */
	for (int i = 0; i < 3000; i++) {
		int k = i % 3;
		unsigned int order = (unsigned int)(i / 3) % 3;
		struct page *p = alloc_pages(gfps[k], order);
		assert_nonnull(p);
		unsigned long pfn = page_to_pfn(p);
		int mt = get_pageblock_migratetype(pfn);
		if (mt != mts[k])
			kt_fail(0, __FILE__, __LINE__, "%s allocation at pfn %lu lies in a %s pageblock", mt_name(mts[k]),
				pfn, mt_name(mt));
		users[pfn >> PAGEBLOCK_ORDER] |= (unsigned char)(1u << mts[k]);
		blist_push(&b, p, order);
	}
	/* no pageblock serves two types */
	for (unsigned long i = 0; i < nblocks; i++)
		if (users[i] & (users[i] - 1))
			kt_fail(0, __FILE__, __LINE__, "pageblock %lu holds pages of several types (%#x)", i, users[i]);
	/* pagetypeinfo counts the pageblocks the same way as the bitmap */
	unsigned long counts[MIGRATE_TYPES], bitmap[MIGRATE_TYPES] = { 0 };
	pageblock_counts(counts);
	for (unsigned long i = 0; i < nblocks; i++)
		bitmap[kmm.pageblock_mt[i]]++;
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		expect_eq(counts[mt], bitmap[mt]);
	expect_gt(counts[MIGRATE_RECLAIMABLE], 0);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	free(users);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(fallback_steals_a_pageblock)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal pcp=off cpus=1"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	unsigned long c0[MIGRATE_TYPES], c1[MIGRATE_TYPES], c2[MIGRATE_TYPES];
	pageblock_counts(c0);
	/* at boot only the block(s) holding boot reservations are unmovable */
	expect_ge(c0[MIGRATE_UNMOVABLE], 1);
	expect_gt(c0[MIGRATE_MOVABLE], c0[MIGRATE_UNMOVABLE]);
	unsigned long unmovable_free = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		unmovable_free += z->free_area[o].nr_free_mt[MIGRATE_UNMOVABLE] << o;
	unsigned long steals0 = z->stats.steals;

	/* use up the unmovable free lists, then one more page must steal */
	struct blist b = { 0 };
	for (unsigned long i = 0; i < unmovable_free; i++) {
		struct page *p = alloc_page(GFP_KERNEL);
		assert_nonnull(p);
		blist_push(&b, p, 0);
	}
	pageblock_counts(c1);
	expect_eq(c1[MIGRATE_UNMOVABLE], c0[MIGRATE_UNMOVABLE]);
	expect_eq(z->stats.steals, steals0);
	struct page *p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	blist_push(&b, p, 0);
	pageblock_counts(c2);
	printf("  blocks unmovable/movable: boot %lu/%lu, after the steal %lu/%lu\n", c0[MIGRATE_UNMOVABLE],
	       c0[MIGRATE_MOVABLE], c2[MIGRATE_UNMOVABLE], c2[MIGRATE_MOVABLE]);
	expect_gt(c2[MIGRATE_UNMOVABLE], c1[MIGRATE_UNMOVABLE]);
	expect_eq(c2[MIGRATE_UNMOVABLE] + c2[MIGRATE_MOVABLE], c1[MIGRATE_UNMOVABLE] + c1[MIGRATE_MOVABLE]);
	expect_eq(get_pageblock_migratetype(page_to_pfn(p)), MIGRATE_UNMOVABLE);
	expect_eq(z->stats.steals, steals0 + 1);

	/* the stolen block serves the next unmovable requests: no new steal
	 * until its pages are used */
	for (int i = 0; i < 400; i++) {
		struct page *q = alloc_page(GFP_KERNEL);
		assert_nonnull(q);
		blist_push(&b, q, 0);
	}
	unsigned long c3[MIGRATE_TYPES];
	pageblock_counts(c3);
	expect_eq(c3[MIGRATE_UNMOVABLE], c2[MIGRATE_UNMOVABLE]);
	expect_eq(z->stats.steals, steals0 + 1);
	expect_eq(kmm_check(), 0);
	blist_free_all(&b);
	blist_release(&b);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(grouping_keeps_high_orders_available)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=normal pcp=off cpus=1"), 0);
	struct zone *z = wb_zone(0, ZONE_NORMAL);
	unsigned long seed = kt_seed();
	unsigned long rnd = seed | 1;
	struct blist movable = { 0 }, unmovable = { 0 };
	unsigned long target = z->managed_pages * 3 / 4, used = 0;
	/* a mixed workload: one unmovable page in eight, random orders 0-2 */
	while (used < target) {
		unsigned long r = kmm_prng_next(&rnd);
		unsigned int order = (unsigned int)(r >> 8) % 3;
		bool um = (r & 7) == 0;
		struct page *p = alloc_pages(um ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE, order);
		assert_nonnull(p);
		blist_push(um ? &unmovable : &movable, p, order);
		used += 1UL << order;
	}
	unsigned long um_pages = 0;
	unsigned long nblocks = (kmm.max_pfn + pageblock_nr_pages - 1) / pageblock_nr_pages;
	unsigned char *has_um = calloc(nblocks, 1);
	for (size_t i = 0; i < unmovable.n; i++) {
		has_um[page_to_pfn(unmovable.p[i]) >> PAGEBLOCK_ORDER] = 1;
		um_pages += 1UL << unmovable.order[i];
	}
	unsigned long um_blocks = 0;
	for (unsigned long i = 0; i < nblocks; i++)
		um_blocks += has_um[i];
	/* free every movable page: what the unmovable ones pin is all that stays */
	blist_free_all(&movable);
	unsigned long free_pages = nr_free_pages(), high = 0;
	for (int o = PAGEBLOCK_ORDER; o < NR_PAGE_ORDERS; o++)
		high += z->free_area[o].nr_free << o;
	unsigned long min_blocks = (um_pages + pageblock_nr_pages - 1) / pageblock_nr_pages;
	printf("  %lu unmovable pages in %lu pageblocks (at least %lu needed); %lu of %lu free pages in blocks of order >= %d\n",
	       um_pages, um_blocks, min_blocks, high, free_pages, PAGEBLOCK_ORDER);
	/* unmovable pages are packed: at most two pageblocks more than needed
	 * (plus the boot block) instead of being spread over all of them */
	expect_le(um_blocks, min_blocks + 3);
	expect_ge(high * 10, free_pages * 8);
	/* and an order-10 request succeeds */
	struct page *big = alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER);
	expect_nonnull(big);
	if (big)
		__free_pages(big, MAX_PAGE_ORDER);
	expect_eq(kmm_check(), 0);
	blist_free_all(&unmovable);
	blist_release(&movable);
	blist_release(&unmovable);
	free(has_um);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Giving memory back to the host                                      */
/* ------------------------------------------------------------------ */

static bool all_zero(const void *p, size_t n)
{
	const uint64_t *w = p;
	for (size_t i = 0; i < n / 8; i++)
		if (w[i])
			return false;
	return true;
}

TEST(free_memory_goes_back_to_the_host)
{
	assert_eq(kt_boot("mem=512M numa=1 zones=normal cpus=2"), 0);
	const unsigned long npages = (200 * MiB) >> PAGE_SHIFT;
	struct page **pages = calloc(npages, sizeof(*pages));
	long rss0 = vmrss_kb();
	for (unsigned long i = 0; i < npages; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		assert_nonnull(pages[i]);
		memset(page_address(pages[i]), 0x5a, PAGE_SIZE);
	}
	long rss1 = vmrss_kb();
	for (unsigned long i = 0; i < npages; i++)
		__free_page(pages[i]);
	kmm_drain_all();
	long rss2 = vmrss_kb();
	printf("  VmRSS: %ld kB at start, %ld kB with 200 MiB touched, %ld kB after freeing\n", rss0, rss1, rss2);
	expect_ge(rss1 - rss0, 190 * 1024);
	expect_ge(rss1 - rss2, 150 * 1024);
	expect_eq(kmm_check(), 0);

	/* the memory comes back, zeroed where asked */
	for (unsigned long i = 0; i < npages; i++) {
		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		assert_nonnull(pages[i]);
		if (!all_zero(page_address(pages[i]), PAGE_SIZE)) {
			kt_fail(0, __FILE__, __LINE__, "__GFP_ZERO page pfn %lu is not zero", page_to_pfn(pages[i]));
			break;
		}
	}
	for (unsigned long i = 0; i < npages; i++)
		if (pages[i])
			__free_page(pages[i]);
	/* large blocks too */
	for (int i = 0; i < 50; i++) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_ZERO, 9);
		assert_nonnull(p);
		expect_true(all_zero(page_address(p), PAGE_SIZE << 9));
		memset(page_address(p), 0xa5, PAGE_SIZE << 9);
		__free_pages(p, 9);
	}
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	free(pages);
	kmm_shutdown();
}

TEST_MAIN()
