/*
 * fuzz/fuzz_ops.c - libFuzzer target: bytes become a sequence of
 * operations across every layer of one machine (issue 6 part 3).
 *
 * Built twice: fuzz_ops_slab and fuzz_ops_slob (-DFUZZ_SLOB).  The machine
 * is booted once per process (LLVMFuzzerInitialize); each input runs on
 * it and gives everything back, so an iteration costs microseconds, not a
 * boot.
 *
 * Input: a stream of operations, each an opcode byte and its argument
 * bytes (missing bytes read as 0).  The operations:
 *   pages      alloc_pages of order 0-3 from DMA, NORMAL or HIGHMEM,
 *              GFP_KERNEL or GFP_ATOMIC; __free_pages
 *   kmalloc    kmalloc / kzalloc of 0 .. 300 KiB, krealloc, kfree
 *   caches     kmem_cache_create (size, alignment, HWCACHE, constructor),
 *              kmem_cache_alloc / _free, kmem_cache_destroy (also with
 *              objects remaining: a report, the cache is kept)
 *   vmalloc    vmalloc / vzalloc of 1-16 pages, kvmalloc, vfree / kvfree
 *   kmap       kmap / kunmap, nested kmap_local_page / kunmap_local of
 *              page items (high memory too)
 *   mempool    create (kmalloc pools), alloc, free, destroy
 *   misuse     a double free, an interior-pointer free, a wrong-cache free:
 *              each must raise kmm_error_count by exactly one
 *   drain      kmm_drain_all
 * Every item carries a pattern derived from its id; the item an operation
 * touches is checked completely, every live item is checked every 16
 * operations and at the end, and kmm_check() runs with that check and
 * after every misuse and drain operation (after every operation, the
 * walker made an input cost ~10 ms: ~100 inputs a second).
 * At the end of the input everything is freed and, after kmm_drain_all,
 * the free pages (with the slab pages) are back at the boot baseline.
 * Any violation aborts: libFuzzer saves the input as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/kmm.h>
#include "mm/internal.h"

#ifdef FUZZ_SLOB
#define FUZZ_BACKEND "slab=slob"
#else
#define FUZZ_BACKEND "slab=slab"
#endif
#define FUZZ_MACHINE "mem=32M numa=2 zones=dma:8M,normal:16M,highmem cpus=2 on_error=report oom_wait_ms=0 " FUZZ_BACKEND

#define MAX_ITEMS 48
#define MAX_CACHES 4
#define MAX_POOLS 2

enum kind { K_NONE, K_PAGES, K_KMALLOC, K_CACHE, K_VMALLOC, K_KVMALLOC, K_POOL };

struct item {
	int kind;
	int owner;		/* cache or pool index */
	unsigned order;
	size_t size;
	uint64_t id;
	void *p;		/* memory, or struct page * */
};

static struct item items[MAX_ITEMS];
static struct kmem_cache *caches[MAX_CACHES];
static unsigned cache_size[MAX_CACHES];
static bool cache_ctor[MAX_CACHES];
static mempool_t *pools[MAX_POOLS];
static size_t pool_size[MAX_POOLS];
static uint64_t next_id;
static unsigned long base_total;	/* free + slab pages after boot */
static long base_slab;

#define FUZZ_CHECK(cond, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_ops: %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                               \
			fprintf(stderr, "\n");                                      \
			abort();                                                    \
		}                                                                   \
	} while (0)

static void sink(void *ctx, const char *line) { (void)ctx, (void)line; }

/* pages the layers keep for themselves after kmm_drain_all: slabs (whose
 * objects may have moved, see the stress test), page tables (pkmap's stay) */
static long kept_pages(void)
{
	return (long)(kmm_meminfo_hooks.slab_reclaimable ? kmm_meminfo_hooks.slab_reclaimable() : 0) +
	       (long)(kmm_meminfo_hooks.slab_unreclaimable ? kmm_meminfo_hooks.slab_unreclaimable() : 0) +
	       (long)(kmm_meminfo_hooks.pagetable_pages ? kmm_meminfo_hooks.pagetable_pages() : 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	kmm_set_log(sink, NULL);	/* reports and warnings are expected */
	if (kmm_boot(FUZZ_MACHINE " random_seed=1") != 0)
		abort();
	kmm_drain_all();
	base_slab = kept_pages();
	base_total = nr_free_pages() + (unsigned long)base_slab;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Contents                                                            */
/* ------------------------------------------------------------------ */

static inline uint8_t pat(uint64_t id, size_t i) { return (uint8_t)(id * 131 + i * 7 + (i >> 8)); }

/* The byte loops over the items' contents are the harness, not code under
 * test: without coverage tracing on each compare they run ~5x faster. */
#define HARNESS_LOOP __attribute__((no_sanitize("coverage")))

HARNESS_LOOP static void fill_bytes(uint8_t *p, size_t n, uint64_t id, size_t from)
{
	for (size_t i = from; i < n; i++)
		p[i] = pat(id, i);
}

HARNESS_LOOP static void check_bytes(const uint8_t *p, size_t n, uint64_t id, size_t from, const char *what)
{
	for (size_t i = from; i < n; i++)
		FUZZ_CHECK(p[i] == pat(id, i), "%s item %llu: byte %zu of %zu is %#x", what, (unsigned long long)id, i, n, p[i]);
}

/* pages: the first and last 64 bytes of every frame, through kmap_local */
static void pages_touch(struct item *it, bool check)
{
	struct page *pg = it->p;
	for (unsigned long f = 0; f < (1UL << it->order); f++) {
		uint8_t *w = kmap_local_page(pfn_to_page(page_to_pfn(pg) + f));
		FUZZ_CHECK(w, "kmap_local_page failed");
		uint64_t id = it->id + f * 1000003;
		if (check) {
			check_bytes(w, 64, id, 0, "page");
			check_bytes(w + PAGE_SIZE - 64, 64, id + 1, 0, "page end");
		} else {
			fill_bytes(w, 64, id, 0);
			fill_bytes(w + PAGE_SIZE - 64, 64, id + 1, 0);
		}
		kunmap_local(w);
	}
}

/* a constructed object keeps its first 8 bytes as the constructor left them */
#define CTOR_BYTES 8
static void ctor(void *p) { memset(p, 0xc7, CTOR_BYTES); }

static size_t first_byte(const struct item *it)
{
	return it->kind == K_CACHE && cache_ctor[it->owner] ? CTOR_BYTES : 0;
}

static void item_fill(struct item *it)
{
	if (it->kind == K_PAGES)
		pages_touch(it, false);
	else if (it->p != ZERO_SIZE_PTR)
		fill_bytes(it->p, it->size, it->id, first_byte(it));
}

static void item_check(struct item *it)
{
	if (it->kind == K_PAGES)
		pages_touch(it, true);
	else if (it->p != ZERO_SIZE_PTR)
		check_bytes(it->p, it->size, it->id, first_byte(it), "object");
	if (it->kind == K_CACHE && cache_ctor[it->owner])
		for (int i = 0; i < CTOR_BYTES; i++)
			FUZZ_CHECK(((uint8_t *)it->p)[i] == 0xc7, "constructed bytes lost");
}

/* ------------------------------------------------------------------ */
/* Items                                                               */
/* ------------------------------------------------------------------ */

static void item_release(struct item *it)
{
	item_check(it);
	switch (it->kind) {
	case K_PAGES:
		__free_pages(it->p, it->order);
		break;
	case K_KMALLOC:
		kfree(it->p);
		break;
	case K_CACHE:
		kmem_cache_free(caches[it->owner], it->p);
		break;
	case K_VMALLOC:
		vfree(it->p);
		break;
	case K_KVMALLOC:
		kvfree(it->p);
		break;
	case K_POOL:
		mempool_free(it->p, pools[it->owner]);
		break;
	}
	memset(it, 0, sizeof(*it));
}

static int live_in_cache(int c)
{
	int n = 0;
	for (int i = 0; i < MAX_ITEMS; i++)
		n += items[i].kind == K_CACHE && items[i].owner == c;
	return n;
}

static int live_in_pool(int c)
{
	int n = 0;
	for (int i = 0; i < MAX_ITEMS; i++)
		n += items[i].kind == K_POOL && items[i].owner == c;
	return n;
}

static gfp_t gfp_of(uint8_t b)
{
	static const gfp_t zone[4] = { 0, __GFP_DMA, __GFP_HIGHMEM, 0 };
	gfp_t g = (b & 4) ? GFP_ATOMIC : GFP_KERNEL;
	return g | zone[b & 3] | __GFP_NOWARN | ((b & 8) ? __GFP_ZERO : 0);
}

/* The input reader */
struct in {
	const uint8_t *p;
	size_t n;
};
static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}
static unsigned u16(struct in *in) { return byte(in) | (unsigned)byte(in) << 8; }

static void set(struct item *it, int kind, void *p, size_t size)
{
	it->kind = kind;
	it->p = p;
	it->size = size;
	it->id = ++next_id;
	item_fill(it);
}

HARNESS_LOOP static void zeroed(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(b[i] == 0, "zeroing allocation: byte %zu of %zu is %#x", i, n, b[i]);
}

static void op_alloc(struct in *in, struct item *it)
{
	uint8_t what = byte(in), flags = byte(in);
	gfp_t gfp = gfp_of(flags);
	switch (what % 7) {
	case 0: {	/* pages */
		unsigned order = byte(in) % 4;
		struct page *pg = alloc_pages(gfp, order);
		if (pg) {
			if (gfp & __GFP_ZERO) {
				void *w = kmap_local_page(pg);
				zeroed(w, PAGE_SIZE);
				kunmap_local(w);
			}
			it->order = order;
			set(it, K_PAGES, pg, PAGE_SIZE << order);
		}
		break;
	}
	case 1:
	case 2: {	/* kmalloc / kzalloc */
		unsigned s = u16(in);
		size_t size = (what & 0x80) ? (size_t)s * 5 : s % 4096;	/* large ones sometimes */
		void *p = (what % 7 == 2) ? kzalloc(size, gfp & ~__GFP_HIGHMEM) : kmalloc(size, gfp & ~__GFP_HIGHMEM);
		if (p) {
			if (what % 7 == 2 || (gfp & __GFP_ZERO))
				zeroed(p == ZERO_SIZE_PTR ? NULL : p, p == ZERO_SIZE_PTR ? 0 : size);
			FUZZ_CHECK(size || p == ZERO_SIZE_PTR, "kmalloc(0) is not ZERO_SIZE_PTR");
			set(it, K_KMALLOC, p, size);
		}
		break;
	}
	case 3: {	/* cache object */
		int c = byte(in) % MAX_CACHES;
		if (!caches[c])
			break;
		if (cache_ctor[c])
			gfp &= ~__GFP_ZERO;	/* zeroing would undo the constructor (Linux WARNs) */
		void *p = kmem_cache_alloc(caches[c], gfp & ~(__GFP_HIGHMEM | __GFP_DMA));
		if (p) {
			if (cache_ctor[c])
				FUZZ_CHECK(((uint8_t *)p)[0] == 0xc7, "object of a constructor cache not constructed");
			else if (gfp & __GFP_ZERO)
				zeroed(p, cache_size[c]);
			it->owner = c;
			set(it, K_CACHE, p, cache_size[c]);
		}
		break;
	}
	case 4: {	/* vmalloc / vzalloc */
		size_t size = (1 + byte(in) % 16) * PAGE_SIZE - byte(in);
		bool z = flags & 16;
		void *p = z ? vzalloc(size) : vmalloc(size);
		if (p) {
			if (z)
				zeroed(p, size);
			set(it, K_VMALLOC, p, size);
		}
		break;
	}
	case 5: {	/* kvmalloc */
		size_t size = (size_t)u16(in) * 4;
		void *p = kvmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		if (p && p != ZERO_SIZE_PTR)
			set(it, K_KVMALLOC, p, size);
		else if (p)
			kvfree(p);
		break;
	}
	case 6: {	/* mempool element */
		int c = byte(in) % MAX_POOLS;
		if (!pools[c])
			break;
		void *p = mempool_alloc(pools[c], GFP_NOWAIT);
		if (p) {
			it->owner = c;
			set(it, K_POOL, p, pool_size[c]);
		}
		break;
	}
	}
}

static void op_realloc(struct in *in, struct item *it)
{
	if (it->kind != K_KMALLOC)
		return;
	size_t size = u16(in) % 8192;
	item_check(it);
	void *p = krealloc(it->p, size, GFP_KERNEL | __GFP_NOWARN);
	if (!p) {
		item_check(it);	/* the old block is intact */
		return;
	}
	if (p == ZERO_SIZE_PTR) {	/* krealloc(p, 0) freed it */
		memset(it, 0, sizeof(*it));
		return;
	}
	size_t keep = it->p == ZERO_SIZE_PTR ? 0 : size < it->size ? size : it->size;
	check_bytes(p, keep, it->id, 0, "krealloc kept");
	it->p = p;
	it->size = size;
	fill_bytes(p, size, it->id, keep);
}

static void op_cache(struct in *in)
{
	int c = byte(in) % MAX_CACHES;
	uint8_t how = byte(in);
	if (!caches[c]) {
		unsigned size = 1 + u16(in) % 3000;
		unsigned align = (how & 3) == 1 ? 1u << (byte(in) % 8) : 0;
		slab_flags_t flags = (how & 4) ? SLAB_HWCACHE_ALIGN : 0;
		char name[24];
		snprintf(name, sizeof(name), "fuzz-%d", c);
		cache_ctor[c] = (how & 8) && size >= CTOR_BYTES;
		caches[c] = kmem_cache_create(name, size, align, flags, cache_ctor[c] ? ctor : NULL);
		cache_size[c] = size;
		return;
	}
	int live = live_in_cache(c);
	if (live == 0 || (how & 0x30) == 0x30) {
		unsigned long e0 = kmm_error_count();
		kmem_cache_destroy(caches[c]);
		if (live) {	/* "objects remaining": reported, the cache kept */
			FUZZ_CHECK(kmm_error_count() == e0 + 1, "destroy with %d objects: %lu reports", live,
				   kmm_error_count() - e0);
			return;
		}
		FUZZ_CHECK(kmm_error_count() == e0, "destroy of an empty cache reported something");
		caches[c] = NULL;
	}
}

static void op_pool(struct in *in)
{
	int c = byte(in) % MAX_POOLS;
	if (!pools[c]) {
		pool_size[c] = 8 + byte(in) * 4;
		pools[c] = mempool_create_kmalloc_pool(1 + byte(in) % 8, pool_size[c]);
	} else if (!live_in_pool(c)) {
		mempool_destroy(pools[c]);
		pools[c] = NULL;
	}
}

static void op_kmap(struct in *in)
{
	/* nested kmap_local of up to 3 page items, kmap of one, unmapped in order */
	void *m[3];
	struct page *pg[3];
	int n = 0;
	for (int k = 0; k < 3; k++) {
		struct item *it = &items[byte(in) % MAX_ITEMS];
		if (it->kind != K_PAGES)
			continue;
		pg[n] = it->p;
		m[n] = kmap_local_page(pg[n]);
		FUZZ_CHECK(m[n], "kmap_local_page failed");
		check_bytes(m[n], 64, it->id, 0, "kmap_local");
		n++;
	}
	struct item *it = &items[byte(in) % MAX_ITEMS];
	if (it->kind == K_PAGES) {
		uint8_t *v = kmap(it->p);	/* NULL when no page-table page can be had */
		if (v) {
			check_bytes(v, 64, it->id, 0, "kmap");
			kunmap(it->p);
		}
	}
	while (n--)
		kunmap_local(m[n]);
}

/* One misuse; exactly one report, nothing else changes. */
static void op_misuse(struct in *in, struct item *it)
{
	uint8_t how = byte(in);
	if (!it->kind || it->kind == K_POOL)
		return;	/* mempool_free does not check ownership without slab_debug=F */
	unsigned long e0 = kmm_error_count();
	switch (how % 3) {
	case 0: {	/* double free */
		struct item copy = *it;
		item_release(it);
		if (copy.p == ZERO_SIZE_PTR)
			return;
		switch (copy.kind) {
		case K_PAGES: __free_pages(copy.p, copy.order); break;
		case K_KMALLOC: kfree(copy.p); break;
		case K_CACHE: kmem_cache_free(caches[copy.owner], copy.p); break;
		case K_VMALLOC: vfree(copy.p); break;
		case K_KVMALLOC: kvfree(copy.p); break;
		}
		break;
	}
	case 1:		/* interior pointer */
		if (it->kind == K_PAGES || it->p == ZERO_SIZE_PTR || it->size < 16)
			return;
		if (it->kind == K_CACHE)
			kmem_cache_free(caches[it->owner], (char *)it->p + 8);
		else if (it->kind == K_VMALLOC || it->kind == K_KVMALLOC)
			kvfree((char *)it->p + 8);
		else
			kfree((char *)it->p + 8);
		break;
	default: {	/* a cache object freed to another cache: reported, goes home */
		if (it->kind != K_CACHE)
			return;
		int other = -1;
		for (int c = 0; c < MAX_CACHES; c++)
			if (caches[c] && c != it->owner)
				other = c;
		if (other < 0)
			return;
		item_check(it);
		kmem_cache_free(caches[other], it->p);
		memset(it, 0, sizeof(*it));
		break;
	}
	}
	FUZZ_CHECK(kmm_error_count() == e0 + 1, "misuse %d of kind %d: %lu reports", how % 3, it->kind,
		   kmm_error_count() - e0);
}

static void check_all(void)
{
	for (int i = 0; i < MAX_ITEMS; i++)
		if (items[i].kind)
			item_check(&items[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	int steps = 0;
	while (in.n && steps < 400) {
		uint8_t op = byte(&in);
		struct item *it = &items[byte(&in) % MAX_ITEMS];
		switch (op % 10) {
		case 0: case 1: case 2:
			if (it->kind)
				item_release(it);
			op_alloc(&in, it);
			break;
		case 3:
			if (it->kind)
				item_release(it);
			break;
		case 4:
			op_realloc(&in, it);
			break;
		case 5:
			op_cache(&in);
			break;
		case 6:
			op_pool(&in);
			break;
		case 7:
			op_kmap(&in);
			break;
		case 8:
			op_misuse(&in, it);
			break;
		case 9:
			if (op & 0x80)
				kmm_drain_all();
			else if (it->kind)
				item_check(it);
			break;
		}
		/* the walker costs a pass over every frame and slab: after a
		 * misuse or a drain (the operations that change the most), and
		 * every 16 operations with the items' own check */
		if (++steps % 16 == 0 || op % 10 == 8 || op % 10 == 9) {
			FUZZ_CHECK(kmm_check() == 0, "kmm_check failed after operation %d (%u)", steps, op);
			check_all();
		}
	}
	/* everything back */
	for (int i = 0; i < MAX_ITEMS; i++)
		if (items[i].kind)
			item_release(&items[i]);
	for (int c = 0; c < MAX_POOLS; c++)
		if (pools[c]) {
			mempool_destroy(pools[c]);
			pools[c] = NULL;
		}
	for (int c = 0; c < MAX_CACHES; c++)
		if (caches[c]) {
			kmem_cache_destroy(caches[c]);
			caches[c] = NULL;
		}
	kmm_drain_all();
	FUZZ_CHECK(kmm_check() == 0, "kmm_check failed at the end");
	long kept = kept_pages();
	FUZZ_CHECK(nr_free_pages() + (unsigned long)kept == base_total, "pages lost: %lu free + %ld slab/page-table, %lu at boot",
		   nr_free_pages(), kept, base_total);
	FUZZ_CHECK(kept <= base_slab + 16, "%ld slab and page-table pages, %ld at boot", kept, base_slab);
	return 0;
}
