/* kmm-test: backends */
/* kmm-test: threaded */
/*
 * tests/unit/slab_bulk.c - kmem_cache_alloc_bulk / kmem_cache_free_bulk
 * ([4.6+] API) under both backends: sizes around the array limits, the
 * all-or-nothing rule (failslab, memory exhausted), __GFP_ZERO,
 * constructors, debug caches, objects of another node, a thread without a
 * CPU slot, a producer / consumer pair moving batches between threads,
 * and misuse inside a bulk free (a double free within the array, one of
 * an object freed before, foreign, interior and other-cache pointers,
 * NULL entries): each reported as kmem_cache_free reports it, the other
 * objects still freed, kmm_check passing after every step and nothing
 * left behind (kmem_cache_destroy finds no object remaining).
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"

#define BOOT "mem=64M numa=1 cpus=2"
#define REPORT BOOT " on_error=report"

/* Every pointer distinct, non-NULL, an object boundary of c (ksize of
 * a kmalloc object does not apply: check writability instead). */
static void check_objs(struct kmem_cache *c, void **p, size_t n, int fill)
{
	unsigned int size = kmem_cache_size(c);
	for (size_t i = 0; i < n; i++) {
		assert_nonnull(p[i]);
		memset(p[i], fill, size);
	}
	/* distinct: sort a copy and compare neighbours */
	void **q = malloc(n * sizeof(*q));
	memcpy(q, p, n * sizeof(*q));
	for (size_t i = 1; i < n; i++) {	/* insertion sort: n is small */
		void *v = q[i];
		size_t j = i;
		while (j && (uintptr_t)q[j - 1] > (uintptr_t)v) {
			q[j] = q[j - 1];
			j--;
		}
		q[j] = v;
	}
	for (size_t i = 1; i < n; i++)
		if (q[i] == q[i - 1])
			kt_fail(0, __FILE__, __LINE__, "object %p handed out twice", q[i]);
	free(q);
}

/* free pages after kmm_drain_all (exact accounting) */
static unsigned long drained_free_pages(void)
{
	kmm_drain_all();
	return nr_free_pages();
}

static void bulk_ctor(void *obj)
{
	*(unsigned long *)obj = 0xc0ffeeUL;
}

/* destroy c and check that it had nothing left (no "objects remaining") */
static void destroy_clean(struct kmem_cache *c)
{
	unsigned long errors = kmm_error_count();
	kmem_cache_destroy(c);
	expect_eq(kmm_error_count(), errors);
	expect_eq(kmm_check(), 0);
}

/* ------------------------------------------------------------------ */

TEST(bulk_sizes)
{
	sh_boot(BOOT);
	unsigned long free0 = drained_free_pages();
	static const unsigned int sizes[] = { 32, 200, 1000, 5000 };
	static const size_t counts[] = { 1, 2, 7, 60, 119, 120, 121, 250, 1000, 3000 };
	static void *p[3000];
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		struct kmem_cache *c = kmem_cache_create("bulk", sizes[si], 0, 0, NULL);
		assert_nonnull(c);
		for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			size_t n = counts[ci];
			assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, n, p), (int)n);
			check_objs(c, p, n, (int)ci);
			expect_eq(kmm_check(), 0);
			/* half back in bulk, a few singly, the rest in bulk */
			kmem_cache_free_bulk(c, n / 2, p);
			expect_eq(kmm_check(), 0);
			for (size_t i = n / 2; i < n && i < n / 2 + 3; i++)
				kmem_cache_free(c, p[i]);
			if (n > n / 2 + 3)
				kmem_cache_free_bulk(c, n - (n / 2 + 3), p + n / 2 + 3);
			expect_eq(kmm_check(), 0);
		}
		/* bulk next to single allocations: nothing handed out twice */
		void *single[10];
		for (int i = 0; i < 10; i++)
			single[i] = kmem_cache_alloc(c, GFP_KERNEL);
		assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 500, p), 500);
		memcpy(p + 500, single, sizeof(single));
		check_objs(c, p, 510, 0x3c);
		kmem_cache_free_bulk(c, 510, p);
		if (!sh_slob()) {
			kmm_drain_all();
			expect_eq(sh_slabinfo("bulk").active_objs, 0);
		}
		destroy_clean(c);
	}
	/* size 0 and NULL arrays: nothing happens */
	struct kmem_cache *c = kmem_cache_create("bulk0", 64, 0, 0, NULL);
	expect_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 0, p), 0);
	kmem_cache_free_bulk(c, 0, p);
	kmem_cache_free_bulk(c, 0, NULL);
	destroy_clean(c);
	expect_eq(drained_free_pages(), free0);
	kmm_shutdown();
}

TEST(bulk_zero_and_ctor)
{
	sh_boot(BOOT);
	static void *p[400];
	struct kmem_cache *c = kmem_cache_create("bulk-zero", 96, 0, 0, NULL);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 400, p), 400);
	for (int i = 0; i < 400; i++)
		memset(p[i], 0xa5, 96);
	kmem_cache_free_bulk(c, 400, p);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL | __GFP_ZERO, 400, p), 400);
	for (int i = 0; i < 400; i++) {
		const unsigned char *b = p[i];
		for (int k = 0; k < 96; k++)
			if (b[k]) {
				kt_fail(0, __FILE__, __LINE__, "object %d byte %d is %#x after __GFP_ZERO", i, k, b[k]);
				break;
			}
	}
	kmem_cache_free_bulk(c, 400, p);
	destroy_clean(c);

	/* a constructor: every object handed out is constructed (SLAB: once
	 * per slab, so objects keep what their user left; SLOB: each time) */
	c = kmem_cache_create("bulk-ctor", 48, 0, 0, bulk_ctor);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	for (int i = 0; i < 300; i++)
		expect_eq(*(unsigned long *)p[i], 0xc0ffeeUL);
	kmem_cache_free_bulk(c, 300, p);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	for (int i = 0; i < 300; i++)
		expect_eq(*(unsigned long *)p[i], 0xc0ffeeUL);
	kmem_cache_free_bulk(c, 300, p);
	destroy_clean(c);
	kmm_shutdown();
}

/* red zones, poison, user tracking: the bulk paths check every object */
TEST(bulk_debug_cache)
{
	sh_boot(BOOT " slab_debug=FZPU,bulk-dbg");
	static void *p[300];
	struct kmem_cache *c = kmem_cache_create("bulk-dbg", 40, 0, 0, NULL);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	check_objs(c, p, 300, 0x11);
	expect_eq(kmm_check(), 0);
	kmem_cache_free_bulk(c, 300, p);
	expect_eq(kmm_check(), 0);	/* poison of the freed objects intact */
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	kmem_cache_free_bulk(c, 300, p);
	destroy_clean(c);
	kmm_shutdown();
}

/* all or nothing: failslab fails the whole call; so does memory running out */
TEST(bulk_all_or_nothing)
{
	sh_boot(BOOT);
	static void *p[4000];
	struct kmem_cache *c = kmem_cache_create("bulk-fail", 128, 0, 0, NULL);
	kmm_set_fail_nth(1);
	expect_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 100, p), 0);
	expect_eq(kmm_get_fail_nth(), 0);
	expect_eq(kmm_check(), 0);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 100, p), 100);
	kmem_cache_free_bulk(c, 100, p);
	destroy_clean(c);

	/* 16 KiB objects, more than the machine has: 0, and every page back */
	unsigned long free0 = drained_free_pages();
	c = kmem_cache_create("bulk-big", 16384, 0, 0, NULL);
	assert_nonnull(c);
	expect_eq(kmem_cache_alloc_bulk(c, GFP_NOWAIT | __GFP_NOWARN, 4000, p), 0);
	expect_eq(kmm_check(), 0);
	/* and a bulk that fits still works afterwards */
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 100, p), 100);
	kmem_cache_free_bulk(c, 100, p);
	destroy_clean(c);
	expect_eq(drained_free_pages(), free0);
	kmm_shutdown();
}

/* objects of another node, and a thread without a CPU slot */
TEST(bulk_nodes)
{
	sh_boot("mem=64M numa=2 cpus=2");
	static void *p[300];
	struct kmem_cache *c = kmem_cache_create("bulk-numa", 64, 0, 0, NULL);
	for (int i = 0; i < 300; i++)
		p[i] = kmem_cache_alloc_node(c, GFP_KERNEL, i & 1);
	check_objs(c, p, 300, 0x22);
	kmem_cache_free_bulk(c, 300, p);	/* half of them another node's */
	expect_eq(kmm_check(), 0);
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	kmem_cache_free_bulk(c, 300, p);
	destroy_clean(c);
	kmm_shutdown();
}

static struct kmem_cache *slotless_cache;
static void *slotless_thread(void *arg)
{
	static void *p[500];
	int *ok = arg;
	*ok = kmem_cache_alloc_bulk(slotless_cache, GFP_KERNEL, 500, p) == 500;
	for (int i = 0; *ok && i < 500; i++)
		memset(p[i], 0x33, 64);
	if (*ok)
		kmem_cache_free_bulk(slotless_cache, 500, p);
	return NULL;
}

TEST(bulk_slotless_thread)
{
	sh_boot("mem=64M numa=1 cpus=1");
	slotless_cache = kmem_cache_create("bulk-noslot", 64, 0, 0, NULL);
	void *mine = kmem_cache_alloc(slotless_cache, GFP_KERNEL);	/* this thread holds the one slot */
	pthread_t t;
	int ok = 0;
	pthread_create(&t, NULL, slotless_thread, &ok);
	pthread_join(t, NULL);
	expect_true(ok);
	kmem_cache_free(slotless_cache, mine);
	expect_eq(kmm_check(), 0);
	destroy_clean(slotless_cache);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* A producer and a consumer: batches cross threads both ways          */
/* ------------------------------------------------------------------ */

#define PC_BATCH 100
#define PC_RING 8
#define PC_ROUNDS 400
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void *ring[PC_RING][PC_BATCH];
	unsigned int n[PC_RING];
	unsigned long head, tail;
	struct kmem_cache *cache;
	int bad;
} pc = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *pc_consumer(void *arg)
{
	(void)arg;
	for (unsigned long r = 0; r < PC_ROUNDS; r++) {
		pthread_mutex_lock(&pc.lock);
		while (pc.tail == pc.head)
			pthread_cond_wait(&pc.cond, &pc.lock);
		unsigned int slot = pc.tail % PC_RING;
		pthread_mutex_unlock(&pc.lock);
		for (unsigned int i = 0; i < pc.n[slot]; i++)
			if (*(unsigned long *)pc.ring[slot][i] != (uintptr_t)pc.ring[slot][i])
				__atomic_store_n(&pc.bad, 1, __ATOMIC_RELAXED);
		/* every other batch in two halves, the rest singly and whole */
		if (r % 3 == 0) {
			kmem_cache_free_bulk(pc.cache, pc.n[slot] / 2, pc.ring[slot]);
			kmem_cache_free_bulk(pc.cache, pc.n[slot] - pc.n[slot] / 2, pc.ring[slot] + pc.n[slot] / 2);
		} else if (r % 3 == 1) {
			kmem_cache_free_bulk(pc.cache, pc.n[slot], pc.ring[slot]);
		} else {
			for (unsigned int i = 0; i < pc.n[slot]; i++)
				kmem_cache_free(pc.cache, pc.ring[slot][i]);
		}
		pthread_mutex_lock(&pc.lock);
		pc.tail++;
		pthread_cond_broadcast(&pc.cond);
		pthread_mutex_unlock(&pc.lock);
	}
	return NULL;
}

TEST(bulk_producer_consumer)
{
	sh_boot("mem=64M numa=1 cpus=4");
	pc.cache = kmem_cache_create("bulk-pc", 200, 0, 0, NULL);
	pc.head = pc.tail = 0;
	pc.bad = 0;
	pthread_t t;
	pthread_create(&t, NULL, pc_consumer, NULL);
	for (unsigned long r = 0; r < PC_ROUNDS; r++) {
		pthread_mutex_lock(&pc.lock);
		while (pc.head - pc.tail >= PC_RING)
			pthread_cond_wait(&pc.cond, &pc.lock);
		unsigned int slot = pc.head % PC_RING;
		pthread_mutex_unlock(&pc.lock);
		unsigned int n = 1 + (unsigned int)(r * 37 % PC_BATCH);
		if (kmem_cache_alloc_bulk(pc.cache, GFP_KERNEL, n, pc.ring[slot]) != (int)n) {
			kt_fail(0, __FILE__, __LINE__, "bulk of %u failed", n);
			n = 0;
		}
		for (unsigned int i = 0; i < n; i++)
			*(unsigned long *)pc.ring[slot][i] = (uintptr_t)pc.ring[slot][i];
		pc.n[slot] = n;
		pthread_mutex_lock(&pc.lock);
		pc.head++;
		pthread_cond_broadcast(&pc.cond);
		pthread_mutex_unlock(&pc.lock);
	}
	pthread_join(t, NULL);
	expect_false(pc.bad);
	expect_eq(kmm_check(), 0);
	destroy_clean(pc.cache);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Misuse inside a bulk free                                           */
/* ------------------------------------------------------------------ */

/* a double free inside the array: reported once, the others freed */
TEST(bulk_misuse_double_free_in_array)
{
	sh_boot(REPORT);
	struct kmem_cache *c = kmem_cache_create("bulk-df", 64, 0, 0, NULL);
	void *p[300];
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	void *q[302];
	memcpy(q, p, sizeof(p));
	q[300] = p[7];		/* freed earlier in the same call */
	q[301] = p[299];
	unsigned long e0 = kmm_error_count();
	struct sh_misuse m = sh_misuse_begin();
	kmem_cache_free_bulk(c, 302, q);
	sh_misuse_expect(m, "double free");
	expect_eq(kmm_error_count(), e0 + 2);
	expect_eq(kmm_check(), 0);
	/* nothing handed out twice afterwards */
	assert_eq(kmem_cache_alloc_bulk(c, GFP_KERNEL, 300, p), 300);
	check_objs(c, p, 300, 0x44);
	/* a double free of an object freed by an earlier call, mid-array */
	void *gone = p[150];
	kmem_cache_free(c, gone);
	p[150] = gone;
	e0 = kmm_error_count();
	m = sh_misuse_begin();
	kmem_cache_free_bulk(c, 300, p);
	sh_misuse_expect(m, "double free");
	expect_eq(kmm_error_count(), e0 + 1);
	expect_eq(kmm_check(), 0);
	destroy_clean(c);
	kmm_shutdown();
}

static char bulk_global[256];

/* foreign, interior, other-cache and NULL pointers among good ones */
TEST(bulk_misuse_foreign_pointers)
{
	sh_boot(REPORT);
	struct kmem_cache *a = kmem_cache_create("bulk-a", 64, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("bulk-b", 64, 0, 0, NULL);
	int on_stack;
	void *victim = kmem_cache_alloc(a, GFP_KERNEL);
	void *ob = kmem_cache_alloc(b, GFP_KERNEL);
	struct page *pg = alloc_page(GFP_KERNEL);
	struct { void *ptr; const char *category; } bad[] = {
		{ &on_stack, "invalid free" },
		{ bulk_global, "invalid free" },
		{ page_address(pg), "invalid free" },
		{ (char *)victim + 8, "interior pointer" },
		{ ob, "wrong cache" },	/* freed to b under on_error=report */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		/* the bad pointer and a NULL in the middle of 200 good ones */
		void *q[202];
		assert_eq(kmem_cache_alloc_bulk(a, GFP_KERNEL, 100, q), 100);
		q[100] = bad[k].ptr;
		q[101] = NULL;
		assert_eq(kmem_cache_alloc_bulk(a, GFP_KERNEL, 100, q + 102), 100);
		unsigned long e0 = kmm_error_count();
		struct sh_misuse m = sh_misuse_begin();
		kmem_cache_free_bulk(a, 202, q);
		sh_misuse_expect(m, bad[k].category);
		expect_eq(kmm_error_count(), e0 + 1);
		expect_eq(kmm_check(), 0);
	}
	kmem_cache_free(a, victim);
	__free_page(pg);
	destroy_clean(a);
	destroy_clean(b);
	kmm_shutdown();
}

static void child_bulk_double_free(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "mem=64M numa=1 cpus=2 on_error=abort %s", sh_extra());
	if (kmm_boot(cmd))
		return;
	struct kmem_cache *c = kmem_cache_create("bulk-abort", 64, 0, 0, NULL);
	void *p[10];
	if (kmem_cache_alloc_bulk(c, GFP_KERNEL, 10, p) != 10)
		return;
	p[9] = p[3];
	kmem_cache_free_bulk(c, 10, p);
}

/* on_error=abort: the process dies at the double free, with its line */
TEST(bulk_misuse_abort)
{
	expect_true(sh_child_aborts(child_bulk_double_free, "kmm: double free: "));
}

TEST_MAIN()
