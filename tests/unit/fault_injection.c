/* kmm-test: backends */
/*
 * tests/unit/fault_injection.c - fault injection in every layer that
 * allocates (MISUSE.md "Fault injection"; issue 6 part 2):
 *
 *   - the OOM loop (SQLite's, STYLE.md 6): kmm_set_fail_nth(n) for n = 1,
 *     2, 3 ... until the operation runs to its end, over compound
 *     operations: a cache created and filled, mempools of each kind, a
 *     vmalloc of 600 pages (its page array is itself vmalloc'ed), kvmalloc's
 *     fallback, a kmap, krealloc, and kmm_boot itself.  After every n the
 *     operation either failed cleanly or absorbed the failure, kmm_check
 *     passes, and after undoing it and kmm_drain_all every counter is back
 *     at its baseline: free pages, slabinfo, vmallocinfo (and, for boot,
 *     the host's descriptors and mappings);
 *   - __GFP_NOFAIL requests are never failed, and with ignore_gfp_wait=1
 *     blocking requests are never failed, in every layer (pages, slab,
 *     vmalloc, mempool refill, kmap);
 *   - the boot keys fail_vmalloc=, fail_mempool=, fail_kmap= and the knobs
 *     (cache filter, space, interval, times) through kmm_fault_config.
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"
#include <kmm/mempool.h>

#define FI_BOOT "mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=2 on_error=abort"

static void fi_boot(const char *extra)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s %s", FI_BOOT, extra ? extra : "");
	sh_boot(cmd);
	kmm_drain_all();
}

/* Everything "nothing lost" compares after kmm_drain_all. */
struct baseline {
	unsigned long free;
	char *slabinfo, *vmallocinfo;
};

static struct baseline take_baseline(void)
{
	struct baseline b;
	kmm_drain_all();
	b.free = nr_free_pages();
	b.slabinfo = report_text("slabinfo", NULL);
	b.vmallocinfo = report_text("vmallocinfo", NULL);
	return b;
}

static bool same_baseline(const struct baseline *a, const struct baseline *b, int n)
{
	bool ok = a->free == b->free && !strcmp(a->slabinfo, b->slabinfo) && !strcmp(a->vmallocinfo, b->vmallocinfo);
	if (!ok)
		kt_fail(0, __FILE__, __LINE__, "n=%d: not at the baseline: free %lu vs %lu\n%s\n---\n%s\n%s\n---\n%s", n,
			a->free, b->free, a->slabinfo, b->slabinfo, a->vmallocinfo, b->vmallocinfo);
	return ok;
}

static void drop_baseline(struct baseline *b)
{
	free(b->slabinfo);
	free(b->vmallocinfo);
}

struct sweep_result {
	int n;		/* calls with a fault point reached, +1: the first n that succeeded untouched */
	int failed;	/* n that made the operation fail */
	int absorbed;	/* n whose failure the operation recovered from */
};

/*
 * The OOM loop: op() with the n-th fault point failing, for n = 1, 2, ...
 * until op() succeeds without reaching the n-th point.  op returns true on
 * success (then undo() undoes it).
 */
static void quiet(void *ctx, const char *line) { (void)ctx, (void)line; }

static struct sweep_result sweep(const char *name, bool (*op)(void), void (*undo)(void))
{
	struct sweep_result r = { 0, 0, 0 };
	struct baseline base = take_baseline();
	kmm_set_log(quiet, NULL);	/* "fault injection: ... forcing a failure", warnings */
	for (int n = 1; n < 5000; n++) {
		kmm_set_fail_nth((unsigned)n);
		bool ok = op();
		unsigned int left = kmm_get_fail_nth();
		kmm_set_fail_nth(0);
		if (kmm_check() != 0)
			kt_fail(0, __FILE__, __LINE__, "%s: n=%d: kmm_check failed", name, n);
		if (ok)
			undo();
		struct baseline now = take_baseline();
		bool same = same_baseline(&now, &base, n);
		drop_baseline(&now);
		if (!same)
			break;
		if (ok && left) {
			r.n = n;
			break;
		}
		if (ok)
			r.absorbed++;
		else
			r.failed++;
	}
	drop_baseline(&base);
	kmm_set_log(NULL, NULL);
	printf("    %s: %d fault points, %d failed cleanly, %d absorbed\n", name, r.n - 1, r.failed, r.absorbed);
	expect_gt(r.n, 1);
	return r;
}

/* ------------------------------------------------------------------ */
/* The compound operations                                             */
/* ------------------------------------------------------------------ */

#define NOBJ 200
static struct kmem_cache *op_cache;
static void *op_obj[NOBJ];
static void ctor_mark(void *p) { memset(p, 0x77, 8); }

static void cache_undo(void)
{
	for (int i = 0; i < NOBJ; i++) {
		if (op_obj[i]) {
			expect_eq(((unsigned char *)op_obj[i])[0], 0x11);
			kmem_cache_free(op_cache, op_obj[i]);
		}
		op_obj[i] = NULL;
	}
	kmem_cache_destroy(op_cache);
	op_cache = NULL;
}

static bool cache_op(void)
{
	memset(op_obj, 0, sizeof(op_obj));
	op_cache = kmem_cache_create("fi-cache", 300, 0, 0, ctor_mark);
	if (!op_cache)
		return false;
	for (int i = 0; i < NOBJ; i++) {
		op_obj[i] = kmem_cache_alloc(op_cache, GFP_KERNEL);
		if (!op_obj[i]) {
			cache_undo();
			return false;
		}
		expect_eq(((unsigned char *)op_obj[i])[0], 0x77);	/* constructed */
		memset(op_obj[i], 0x11, 300);
	}
	return true;
}

static mempool_t *op_pool;
static int pool_kind;
static struct kmem_cache *pool_cache;

static bool pool_op(void)
{
	switch (pool_kind) {
	case 0:
		op_pool = mempool_create_kmalloc_pool(16, 700);
		break;
	case 1:
		op_pool = mempool_create_page_pool(4, 1);
		break;
	default:
		op_pool = mempool_create_slab_pool(12, pool_cache);
		break;
	}
	if (!op_pool)
		return false;
	/* a full reserve: every element can be taken and given back */
	void *e[16];
	int n = pool_kind == 0 ? 16 : pool_kind == 1 ? 4 : 12;
	for (int i = 0; i < n; i++)
		e[i] = mempool_alloc(op_pool, GFP_ATOMIC);
	for (int i = 0; i < n; i++) {
		expect_nonnull(e[i]);
		mempool_free(e[i], op_pool);
	}
	return true;
}

static void pool_undo(void)
{
	mempool_destroy(op_pool);
	op_pool = NULL;
}

static char *op_mem;
static size_t op_size;

static bool vmalloc_op(void)
{
	op_mem = vmalloc(op_size);
	if (!op_mem)
		return false;
	for (size_t i = 0; i < op_size; i += PAGE_SIZE)
		op_mem[i] = (char)(i >> PAGE_SHIFT);
	return true;
}

static void vmalloc_undo(void)
{
	for (size_t i = 0; i < op_size; i += PAGE_SIZE)
		if (op_mem[i] != (char)(i >> PAGE_SHIFT))
			kt_fail(0, __FILE__, __LINE__, "vmalloc page %zu lost its contents", i >> PAGE_SHIFT);
	vfree(op_mem);
}

static bool kvmalloc_op(void)
{
	op_mem = kvmalloc(op_size, GFP_KERNEL);
	if (!op_mem)
		return false;
	memset(op_mem, 0x42, op_size);
	return true;
}

static void kvmalloc_undo(void)
{
	expect_eq(op_mem[op_size - 1], 0x42);
	kvfree(op_mem);
}

static struct page *op_page;
static void *op_addr;

static bool kmap_op(void)
{
	op_addr = kmap(op_page);
	if (!op_addr)
		return false;
	memset(op_addr, 0x24, 64);
	return true;
}

static void kmap_undo(void)
{
	kunmap(op_page);
}

static char *op_kbuf;
static bool krealloc_op(void)
{
	char *n = krealloc(op_kbuf, 100000, GFP_KERNEL);
	if (!n) {
		/* the old block is still valid and intact */
		for (int i = 0; i < 100; i++)
			if (op_kbuf[i] != (char)i)
				kt_fail(0, __FILE__, __LINE__, "krealloc failure damaged the old block");
		return false;
	}
	op_kbuf = n;
	return true;
}

static void krealloc_undo(void)
{
	for (int i = 0; i < 100; i++)
		if (op_kbuf[i] != (char)i)
			kt_fail(0, __FILE__, __LINE__, "krealloc lost the contents");
	/* back to a 100-byte block (krealloc would shrink in place) */
	char *small = kmalloc(100, GFP_KERNEL | __GFP_NOFAIL);
	memcpy(small, op_kbuf, 100);
	kfree(op_kbuf);
	op_kbuf = small;
}

/* ------------------------------------------------------------------ */
/* Sweeps                                                              */
/* ------------------------------------------------------------------ */

TEST(fail_nth_sweep_cache_create_and_fill)
{
	fi_boot("");
	struct sweep_result r = sweep("kmem_cache_create + 200 objects", cache_op, cache_undo);
	expect_gt(r.failed, 1);
	kmm_shutdown();
}

TEST(fail_nth_sweep_mempool_create)
{
	fi_boot("");
	pool_cache = kmem_cache_create("fi-pool", 128, 0, 0, NULL);
	static const char *const name[] = { "mempool_create_kmalloc_pool(16, 700)", "mempool_create_page_pool(4, 1)",
					    "mempool_create_slab_pool(12)" };
	for (pool_kind = 0; pool_kind < 3; pool_kind++) {
		struct sweep_result r = sweep(name[pool_kind], pool_op, pool_undo);
		expect_ge(r.failed, pool_kind == 1 ? 5 : 13);	/* the pool and each element */
	}
	kmem_cache_destroy(pool_cache);
	kmm_shutdown();
}

TEST(fail_nth_sweep_vmalloc_600_pages)
{
	fi_boot("");
	op_size = 600 * PAGE_SIZE;	/* the page array (4800 bytes) is vmalloc'ed too */
	struct sweep_result r = sweep("vmalloc(600 pages)", vmalloc_op, vmalloc_undo);
	expect_gt(r.failed, 600);
	kmm_shutdown();
}

TEST(fail_nth_sweep_kvmalloc)
{
	fi_boot("");
	op_size = 1 << 20;
	sweep("kvmalloc(1 MiB)", kvmalloc_op, kvmalloc_undo);
	op_size = 3000;
	sweep("kvmalloc(3000)", kvmalloc_op, kvmalloc_undo);
	kmm_shutdown();
}

TEST(fail_nth_sweep_kmap_and_krealloc)
{
	fi_boot("");
	op_page = alloc_page(GFP_HIGHUSER);
	assert_true(PageHighMem(op_page));
	struct sweep_result r = sweep("kmap of a highmem page", kmap_op, kmap_undo);
	expect_ge(r.failed, 1);	/* fail_kmap, and the page table page when one is needed */
	__free_page(op_page);
	op_kbuf = kmalloc(100, GFP_KERNEL);
	for (int i = 0; i < 100; i++)
		op_kbuf[i] = (char)i;
	sweep("krealloc(100 -> 100000)", krealloc_op, krealloc_undo);
	kfree(op_kbuf);
	kmm_shutdown();
}

TEST(fail_nth_sweep_boot)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s %s", FI_BOOT, sh_extra());
	kmm_shutdown();
	logcap_start();	/* warm up the capture's own allocations */
	logcap_stop();
	int fds0 = fd_count(), maps0 = maps_count();
	int n, failed = 0;
	for (n = 1; n < 5000; n++) {
		kmm_set_fail_nth((unsigned)n);
		logcap_start();
		int rc = kmm_boot(cmd);
		logcap_stop();
		unsigned int left = kmm_get_fail_nth();
		kmm_set_fail_nth(0);
		if (rc == 0) {
			expect_eq(kmm_check(), 0);
			kmm_shutdown();
			if (left)
				break;
			continue;
		}
		failed++;
		expect_eq(rc, -KMM_ENOMEM);
		/* nothing left behind on the host, and the next boot works (the
		 * sanitizers map memory of their own meanwhile; so does memcheck,
		 * whose arenas merge with each other as they grow) */
		expect_eq(fd_count(), fds0);
		if (!KT_SANITIZED && !getenv("KMM_TEST_VALGRIND"))
			expect_eq(maps_count(), maps0);
	}
	printf("    kmm_boot: %d fault points, %d failed cleanly\n", n - 1, failed);
	expect_gt(n, 1);
	expect_eq(kmm_boot(cmd), 0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	expect_eq(fd_count(), fds0);
	if (!KT_SANITIZED && !getenv("KMM_TEST_VALGRIND"))
		expect_eq(maps_count(), maps0);
}

/* ------------------------------------------------------------------ */
/* __GFP_NOFAIL and ignore_gfp_wait                                    */
/* ------------------------------------------------------------------ */

static void config(const char *attr, const char *spec)
{
	if (kmm_fault_config(attr, spec) != 0)
		kt_fail(1, __FILE__, __LINE__, "kmm_fault_config(%s, \"%s\") failed", attr, spec);
}

TEST(nofail_is_never_failed_in_any_layer)
{
	fi_boot("");
	static const char *const attrs[] = { "fail_page_alloc", "failslab", "fail_vmalloc", "fail_mempool", "fail_kmap" };
	struct kmem_cache *c = kmem_cache_create("fi-nofail", 64, 0, 0, NULL);
	assert_nonnull(c);
	for (size_t i = 0; i < 5; i++)
		config(attrs[i], "probability=100 interval=1 times=-1 verbose=0");
	for (int i = 0; i < 50; i++) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOFAIL, (unsigned)(i % 3));
		void *k = kmalloc(100 + (size_t)i * 30, GFP_KERNEL | __GFP_NOFAIL);
		void *o = kmem_cache_alloc(c, GFP_KERNEL | __GFP_NOFAIL);
		expect_nonnull(p);
		expect_nonnull(k);
		expect_nonnull(o);
		__free_pages(p, (unsigned)(i % 3));
		kfree(k);
		kmem_cache_free(c, o);
	}
	/* the same requests without __GFP_NOFAIL fail */
	expect_null(alloc_page(GFP_KERNEL));
	expect_null(kmalloc(100, GFP_KERNEL));
	expect_null(kmem_cache_alloc(c, GFP_KERNEL));
	for (size_t i = 0; i < 5; i++)
		config(attrs[i], "probability=0");
	kmem_cache_destroy(c);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(ignore_gfp_wait_spares_blocking_requests_in_every_layer)
{
	fi_boot("");
	static const char *const attrs[] = { "fail_page_alloc", "failslab", "fail_vmalloc", "fail_mempool", "fail_kmap" };
	struct kmem_cache *c = kmem_cache_create("fi-wait", 64, 0, 0, NULL);
	assert_nonnull(c);
	mempool_t *pool = mempool_create_slab_pool(2, c);
	assert_nonnull(pool);
	struct page *hp = alloc_page(GFP_HIGHUSER);
	assert_nonnull(hp);
	for (size_t i = 0; i < 5; i++)
		config(attrs[i], "probability=100 interval=1 times=-1 verbose=0 ignore_gfp_wait=1");
	for (int i = 0; i < 30; i++) {
		/* blocking: never failed */
		struct page *p = alloc_page(GFP_KERNEL);
		void *k = kmalloc(64, GFP_KERNEL), *o = kmem_cache_alloc(c, GFP_KERNEL);
		void *v = vmalloc(2 * PAGE_SIZE);
		void *m = kmap(hp);
		expect_nonnull(p), expect_nonnull(k), expect_nonnull(o), expect_nonnull(v), expect_nonnull(m);
		__free_page(p), kfree(k), kmem_cache_free(c, o), vfree(v);
		if (m)
			kunmap(hp);
		/* atomic ones are */
		expect_null(alloc_page(GFP_ATOMIC));
		expect_null(kmalloc(64, GFP_ATOMIC));
		expect_null(kmem_cache_alloc(c, GFP_ATOMIC));
		expect_null(kmap_local_page(hp));
	}
	/* the mempool: a blocking refill is not failed, so the reserve stays
	 * full; an atomic one is, and the reserve serves it */
	void *e = mempool_alloc(pool, GFP_KERNEL);
	expect_nonnull(e);
	void *a = mempool_alloc(pool, GFP_ATOMIC);
	expect_nonnull(a);	/* from the reserve */
	mempool_free(a, pool);
	mempool_free(e, pool);
	for (size_t i = 0; i < 5; i++)
		config(attrs[i], "probability=0 ignore_gfp_wait=0");
	mempool_destroy(pool);
	kmem_cache_destroy(c);
	__free_page(hp);
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(mempool_serves_min_nr_under_total_slab_failure)
{
	fi_boot("");
	struct kmem_cache *c = kmem_cache_create("fi-res", 64, 0, 0, NULL);
	mempool_t *pool = mempool_create_slab_pool(8, c);
	assert_nonnull(pool);
	config("failslab", "probability=100 interval=1 times=-1 verbose=0");
	void *e[8];
	for (int i = 0; i < 8; i++)
		expect_nonnull(e[i] = mempool_alloc(pool, GFP_KERNEL));
	expect_null(mempool_alloc(pool, GFP_ATOMIC));	/* the 9th: nothing left, no sleep */
	for (int i = 0; i < 8; i++)
		mempool_free(e[i], pool);
	config("failslab", "probability=0");
	mempool_destroy(pool);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Boot keys and knobs                                                 */
/* ------------------------------------------------------------------ */

TEST(boot_keys_for_every_layer)
{
	fi_boot("fail_vmalloc=100,1,2 fail_mempool=100,1,-1 fail_kmap=100,1,1 failslab=100,1,1 fail_page_alloc=100,1,1");
	logcap_start();
	expect_null(alloc_page(GFP_KERNEL));	/* fail_page_alloc: once */
	struct page *p = alloc_page(GFP_HIGHUSER);
	expect_nonnull(p);
	expect_null(kmalloc(32, GFP_KERNEL));	/* failslab: once */
	void *k = kmalloc(32, GFP_KERNEL);
	expect_nonnull(k);
	expect_null(vmalloc(PAGE_SIZE));	/* fail_vmalloc: twice */
	expect_null(vmalloc(PAGE_SIZE));
	void *v = vmalloc(PAGE_SIZE);
	expect_nonnull(v);
	expect_null(kmap(p));			/* fail_kmap: once */
	void *m = kmap(p);
	expect_nonnull(m);
	mempool_t *pool = mempool_create_kmalloc_pool(2, 64);	/* the reserve is filled by create... */
	expect_null(pool);	/* ... through the allocator, which fail_mempool fails */
	logcap_stop();
	expect_eq(logcap_count("kmm: fault injection: fail_page_alloc"), 1);
	expect_eq(logcap_count("kmm: fault injection: failslab"), 1);
	expect_eq(logcap_count("kmm: fault injection: fail_vmalloc"), 2);
	expect_eq(logcap_count("kmm: fault injection: fail_kmap"), 1);
	expect_ge(logcap_count("kmm: fault injection: fail_mempool"), 1);
	kunmap(p);
	vfree(v);
	kfree(k);
	__free_page(p);
	kmm_shutdown();
	/* a bad value is refused at boot */
	logcap_start();
	expect_eq(kmm_boot(FI_BOOT " fail_kmap=101,1,1"), -22);
	expect_eq(kmm_boot(FI_BOOT " fail_vmalloc=x"), -22);
	logcap_stop();
	expect_eq(logcap_count("kmm: boot: fail_"), 2);
}

TEST(knobs_cache_filter_space_interval)
{
	fi_boot("");
	struct kmem_cache *a = kmem_cache_create("fi-a", 64, 0, 0, NULL), *b = kmem_cache_create("fi-b", 64, 0, 0, NULL);
	config("failslab", "probability=100 times=-1 verbose=0 cache=fi-a");
	for (int i = 0; i < 10; i++) {
		expect_null(kmem_cache_alloc(a, GFP_KERNEL));
		void *o = kmem_cache_alloc(b, GFP_KERNEL);
		expect_nonnull(o);
		kmem_cache_free(b, o);
	}
	/* space: the first 8 pages' worth succeed, then failures */
	config("failslab", "probability=0");
	config("fail_page_alloc", "probability=100 times=-1 verbose=0 space=32768");
	int ok = 0;
	struct page *p[12];
	for (int i = 0; i < 12; i++)
		ok += (p[i] = alloc_page(GFP_KERNEL)) != NULL;
	expect_eq(ok, 8);
	for (int i = 0; i < 12; i++)
		if (p[i])
			__free_page(p[i]);
	/* interval: every 3rd vmalloc fails */
	config("fail_page_alloc", "probability=0 space=0");
	config("fail_vmalloc", "probability=100 interval=3 times=-1 verbose=0");
	int fails = 0;
	for (int i = 0; i < 9; i++) {
		void *v = vmalloc(PAGE_SIZE);
		fails += !v;
		vfree(v);
	}
	expect_eq(fails, 3);
	config("fail_vmalloc", "probability=0");
	kmem_cache_destroy(a);
	kmem_cache_destroy(b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST_MAIN()
