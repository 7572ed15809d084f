/*
 * tests/unit/highmem.c - kernel mappings of high memory (issue 4):
 * permanent kmaps (pkmap counts 0/1/n, the page_address hash, the
 * wrap-around flush, sleeping when every slot is taken), kmap_local_page /
 * kmap_atomic (nesting 16 deep, overflow, reverse-order unmapping, threads
 * without a CPU slot), data seen through every kind of mapping (kmap,
 * kmap_local, vmap), misuse cases 19, 27 and 28 of MISUSE.md under
 * on_error=report and one under on_error=abort, and the low-memory /
 * backing=private paths.
 */
/* kmm-test: threaded */
#include <signal.h>
#include <sys/wait.h>
#include "harness.h"
#include "page_helpers.h"

/* a small machine with a HighMem zone; pkmap= and extras appended */
#define HM_BOOT "mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=4 on_error=report"

static char boot_line[256];
static const char *hm_boot(const char *extra)
{
	snprintf(boot_line, sizeof(boot_line), "%s %s", HM_BOOT, extra ? extra : "");
	kmm_shutdown();	/* a test that stopped early left its machine up */
	kmm_set_log(NULL, NULL);
	return boot_line;
}

static struct page *highpage(void)
{
	struct page *p = alloc_page(GFP_HIGHUSER);
	assert_nonnull(p);
	assert_true(PageHighMem(p));
	return p;
}

static void fill(void *p, unsigned seed)
{
	uint32_t *w = p;
	for (size_t i = 0; i < PAGE_SIZE / 4; i++)
		w[i] = seed * 2654435761u + (uint32_t)i;
}

/* true when the page at p holds fill(seed) */
static bool holds(const void *p, unsigned seed)
{
	const uint32_t *w = p;
	for (size_t i = 0; i < PAGE_SIZE / 4; i++)
		if (w[i] != seed * 2654435761u + (uint32_t)i)
			return false;
	return true;
}

static bool in_pkmap(const void *a)
{
	const char *p = a;
	return p >= kmm.pkmap_base && p < kmm.pkmap_base + ((unsigned long)kmm.cfg.pkmap << PAGE_SHIFT);
}

static bool in_fixmap(const void *a)
{
	const char *p = a;
	return p >= kmm.fixmap_base && p < kmm.fixmap_base + ((unsigned long)(kmm.nr_cpus + 1) * KM_MAX_IDX << PAGE_SHIFT);
}

/* ------------------------------------------------------------------ */
/* Low memory and backing=private: every variant is page_address        */
/* ------------------------------------------------------------------ */

static void lowmem_variants(void)
{
	unsigned long errors = kmm_error_count();
	struct page *p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	void *lin = page_address(p);
	assert_nonnull(lin);
	expect_true(kmap(p) == lin);
	expect_true(kmap(p) == lin);
	void *l = kmap_local_page(p);
	void *a = kmap_atomic(p);
	expect_true(l == lin);
	expect_true(a == lin);
	kunmap_atomic(a);
	kunmap_local(l);
	kunmap(p);
	kunmap(p);
	kunmap(p);	/* lowmem: nothing is counted, nothing reported */
	expect_eq(kmm_check(), 0);
	__free_page(p);
	expect_eq(kmm_error_count(), errors);
	expect_eq(kmm_check(), 0);
}

TEST(lowmem_pages_return_their_linear_address)
{
	assert_eq(kmm_boot(hm_boot("pkmap=16")), 0);
	lowmem_variants();
	kmm_shutdown();
}

TEST(backing_private_has_no_highmem)
{
	kmm_shutdown();
	assert_eq(kmm_boot("mem=64M numa=1 backing=private cpus=2 on_error=report"), 0);
	struct page *p = alloc_page(GFP_HIGHUSER);	/* no HighMem zone: lowmem */
	assert_nonnull(p);
	expect_false(PageHighMem(p));
	expect_true(kmap(p) == page_address(p));
	kunmap(p);
	__free_page(p);
	lowmem_variants();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Permanent kmaps                                                     */
/* ------------------------------------------------------------------ */

TEST(kmap_data_survives_every_mapping)
{
	assert_eq(kmm_boot(hm_boot("pkmap=16")), 0);
	unsigned long errors = kmm_error_count();
	struct page *p = highpage();
	expect_null(page_address(p));

	char *a = kmap(p);
	assert_nonnull(a);
	expect_true(in_pkmap(a));
	expect_true(page_address(p) == a);
	expect_true(PageKmapped(p));
	fill(a, 1);
	expect_eq(kmm_check(), 0);
	kunmap(p);
	/* count 1: no users, still mapped until a flush (Linux keeps it) */
	expect_false(PageKmapped(p));
	expect_true(page_address(p) == a);
	expect_eq(kmm_check(), 0);

	/* a later kmap finds the same slot and the data */
	char *b = kmap(p);
	expect_true(b == a);
	expect_true(holds(b, 1));
	kunmap(p);

	/* through a temporary mapping */
	char *l = kmap_local_page(p);
	assert_nonnull(l);
	expect_true(in_fixmap(l));
	expect_true(holds(l, 1));
	fill(l, 2);
	expect_eq(kmm_check(), 0);
	kunmap_local(l);
	char *at = kmap_atomic(p);
	assert_nonnull(at);
	expect_true(holds(at, 2));
	kunmap_atomic(at);

	/* a flush forgets the unused mapping; a new kmap sees the data */
	kmm_drain_all();
	expect_null(page_address(p));
	expect_eq(kmm_check(), 0);
	char *c = kmap(p);
	assert_nonnull(c);
	expect_true(holds(c, 2));

	/* and so does vmap of the same frame, while kmapped */
	struct page *pages[1] = { p };
	char *v = vmap(pages, 1, VM_MAP, PAGE_KERNEL);
	assert_nonnull(v);
	expect_true(holds(v, 2));
	fill(v, 3);
	expect_true(holds(c, 3));
	expect_eq(kmm_check(), 0);
	vunmap(v);
	kunmap(p);

	/* freeing a page that was kunmapped is fine, even while its slot
	 * keeps the lazy mapping (count 1) until the next flush, as in Linux */
	expect_true(page_address(p) == c);
	__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	expect_null(page_address(p));
	expect_eq(kmm_check(), 0);
	expect_eq(kmm_error_count(), errors);
	kmm_shutdown();
}

TEST(pkmap_counts_0_1_n)
{
	assert_eq(kmm_boot(hm_boot("pkmap=8")), 0);
	unsigned long errors = kmm_error_count();
	struct page *p = highpage();
	char *a = kmap(p);
	assert_nonnull(a);
	/* n users: the same address every time */
	for (int i = 0; i < 5; i++)
		expect_true(kmap(p) == a);
	for (int i = 0; i < 6; i++) {
		expect_true(PageKmapped(p));
		kunmap(p);
		expect_eq(kmm_check(), 0);
	}
	/* count 1 */
	expect_false(PageKmapped(p));
	expect_true(page_address(p) == a);
	/* count 0 after the flush */
	kmm_drain_all();
	expect_null(page_address(p));
	expect_eq(kmm_check(), 0);
	expect_eq(kmm_error_count(), errors);
	__free_page(p);
	kmm_shutdown();
}

TEST(pkmap_wraps_and_flushes_without_sleeping)
{
	assert_eq(kmm_boot(hm_boot("pkmap=4")), 0);
	enum { N = 40 };
	struct page *pg[N];
	char *addr[N];
	for (int i = 0; i < N; i++)
		pg[i] = highpage();
	/* one at a time: the unused slots are recycled by the flush at wrap */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			addr[i] = kmap(pg[i]);
			assert_nonnull(addr[i]);
			expect_true(in_pkmap(addr[i]));
			if (round == 0)
				fill(addr[i], (unsigned)i + 100);
			else
				expect_true(holds(addr[i], (unsigned)i + 100));
			kunmap(pg[i]);
			expect_eq(kmm_check(), 0);
		}
	}
	/* three held, one more cycling through the fourth slot */
	for (int i = 0; i < 3; i++)
		assert_nonnull(kmap(pg[i]));
	for (int i = 3; i < N; i++) {
		char *x = kmap(pg[i]);
		assert_nonnull(x);
		for (int j = 0; j < 3; j++)
			expect_true(x != page_address(pg[j]));
		expect_true(holds(x, (unsigned)i + 100));
		kunmap(pg[i]);
	}
	for (int i = 0; i < 3; i++)
		kunmap(pg[i]);
	kmm_drain_all();
	for (int i = 0; i < N; i++) {
		expect_null(page_address(pg[i]));
		__free_page(pg[i]);
	}
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* every slot taken: the next kmap sleeps until a kunmap */
struct sleeper {
	struct page *page;
	void *addr;
	int done;	/* atomic */
};

static void *kmap_sleeper(void *arg)
{
	struct sleeper *s = arg;
	s->addr = kmap(s->page);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST(kmap_sleeps_when_every_slot_is_taken)
{
	assert_eq(kmm_boot(hm_boot("pkmap=4")), 0);
	struct page *held[4];
	for (int i = 0; i < 4; i++) {
		held[i] = highpage();
		assert_nonnull(kmap(held[i]));
	}
	for (int round = 0; round < 4; round++) {
		struct sleeper s = { .page = highpage() };
		pthread_t t;
		assert_eq(pthread_create(&t, NULL, kmap_sleeper, &s), 0);
		usleep(200 * 1000);
		expect_eq(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE), 0);	/* asleep */
		expect_eq(kmm_check(), 0);
		/* a second kmap of a held page does not need a slot: no sleep */
		expect_true(kmap(held[round]) == page_address(held[round]));
		kunmap(held[round]);
		usleep(50 * 1000);
		expect_eq(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE), 0);
		/* the last user goes: the sleeper gets that slot */
		void *freed_slot = page_address(held[round]);
		kunmap(held[round]);
		pthread_join(t, NULL);
		expect_eq(s.done, 1);
		assert_nonnull(s.addr);
		expect_true(s.addr == freed_slot);
		expect_true(page_address(s.page) == s.addr);
		expect_null(page_address(held[round]));
		expect_eq(kmm_check(), 0);
		/* the new page keeps the slot; the old one becomes the sleeper's page */
		__free_page(held[round]);
		held[round] = s.page;
	}
	for (int i = 0; i < 4; i++) {
		kunmap(held[i]);
		__free_page(held[i]);
	}
	kmm_drain_all();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* many threads, few slots: sleeping, flushing and sharing under contention */
#define ST_THREADS 6
#define ST_PAGES 12
static struct page *st_pages[ST_PAGES];
static pthread_mutex_t st_page_lock[ST_PAGES];
static int st_gen[ST_PAGES];

static void *kmap_stress(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg;
	for (int it = 0; it < 400; it++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		int i = (int)((seed >> 33) % ST_PAGES);
		char *a = kmap(st_pages[i]);
		if (!a)
			abort();
		pthread_mutex_lock(&st_page_lock[i]);
		if (!holds(a, (unsigned)st_gen[i])) {
			fprintf(stderr, "page %d: contents lost (gen %d)\n", i, st_gen[i]);
			abort();
		}
		if (it % 3 == 0) {
			st_gen[i]++;
			fill(a, (unsigned)st_gen[i]);
		}
		pthread_mutex_unlock(&st_page_lock[i]);
		/* a temporary mapping of another page on top */
		int j = (i + 1) % ST_PAGES;
		char *l = kmap_local_page(st_pages[j]);
		if (!l)
			abort();
		pthread_mutex_lock(&st_page_lock[j]);
		if (!holds(l, (unsigned)st_gen[j]))
			abort();
		pthread_mutex_unlock(&st_page_lock[j]);
		kunmap_local(l);
		kunmap(st_pages[i]);
	}
	return NULL;
}

TEST(kmap_contention)
{
	assert_eq(kmm_boot(hm_boot("pkmap=4")), 0);
	unsigned long errors = kmm_error_count();
	for (int i = 0; i < ST_PAGES; i++) {
		st_pages[i] = highpage();
		pthread_mutex_init(&st_page_lock[i], NULL);
		st_gen[i] = 0;
		char *a = kmap(st_pages[i]);
		fill(a, 0);
		kunmap(st_pages[i]);
	}
	pthread_t t[ST_THREADS];
	unsigned long seed = kt_seed();
	for (int i = 0; i < ST_THREADS; i++)
		assert_eq(pthread_create(&t[i], NULL, kmap_stress, (void *)(uintptr_t)(seed + (unsigned long)i)), 0);
	for (int i = 0; i < ST_THREADS; i++)
		pthread_join(t[i], NULL);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	for (int i = 0; i < ST_PAGES; i++) {
		expect_null(page_address(st_pages[i]));	/* no live entry left */
		expect_false(PageKmapped(st_pages[i]));
		expect_eq(st_pages[i]->_mapcount, -1);
		__free_page(st_pages[i]);
	}
	expect_eq(kmm_check(), 0);
	expect_eq(kmm_error_count(), errors);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* kmap_local_page / kmap_atomic                                        */
/* ------------------------------------------------------------------ */

TEST(kmap_local_nests_16_deep_then_overflows)
{
	assert_eq(kmm_boot(hm_boot("pkmap=16")), 0);
	struct page *pg[KM_MAX_IDX + 1];
	char *a[KM_MAX_IDX + 1];
	for (int i = 0; i <= KM_MAX_IDX; i++)
		pg[i] = highpage();
	unsigned long errors = kmm_error_count();
	logcap_start();
	for (int i = 0; i < KM_MAX_IDX; i++) {
		a[i] = i % 2 ? kmap_atomic(pg[i]) : kmap_local_page(pg[i]);
		assert_nonnull(a[i]);
		expect_true(in_fixmap(a[i]));
		for (int j = 0; j < i; j++)
			expect_true(a[j] != a[i]);
		fill(a[i], (unsigned)i + 7);
		expect_eq(pg[i]->_mapcount, 0);
	}
	for (int i = 0; i < KM_MAX_IDX; i++)
		expect_true(holds(a[i], (unsigned)i + 7));
	expect_eq(kmm_check(), 0);
	/* the 17th */
	expect_null(kmap_local_page(pg[KM_MAX_IDX]));
	expect_null(kmap_atomic(pg[KM_MAX_IDX]));
	expect_eq(kmm_error_count(), errors + 2);
	expect_eq(logcap_count("kmm: kmap_local overflow: "), 2);
	expect_eq(pg[KM_MAX_IDX]->_mapcount, -1);
	/* a lowmem page still works (it takes no window) */
	struct page *low = alloc_page(GFP_KERNEL);
	expect_true(kmap_local_page(low) == page_address(low));
	kunmap_local(page_address(low));
	__free_page(low);
	expect_eq(kmm_check(), 0);
	/* reverse order, with interior addresses as Linux allows */
	for (int i = KM_MAX_IDX - 1; i >= 0; i--) {
		if (i % 2)
			kunmap_atomic(a[i] + 123);
		else
			kunmap_local(a[i]);
		expect_eq(pg[i]->_mapcount, -1);
	}
	/* the same windows again, pages in another order: the data follows the pages */
	for (int i = 0; i < KM_MAX_IDX; i++) {
		a[i] = kmap_local_page(pg[KM_MAX_IDX - 1 - i]);
		expect_true(holds(a[i], (unsigned)(KM_MAX_IDX - 1 - i) + 7));
	}
	for (int i = KM_MAX_IDX - 1; i >= 0; i--)
		kunmap_local(a[i]);
	logcap_stop();
	expect_eq(kmm_error_count(), errors + 2);
	expect_eq(kmm_check(), 0);
	for (int i = 0; i <= KM_MAX_IDX; i++)
		__free_page(pg[i]);
	kmm_shutdown();
}

/* one thread per CPU slot and more: the slotless ones share a locked group */
static int slotless_seen;	/* atomic: mappings made in the shared group */

struct local_arg {
	struct page *page[4];
	int ok;
	pthread_barrier_t *barrier;
};

static void *local_worker(void *p)
{
	struct local_arg *a = p;
	char *m[4];
	a->ok = 1;
	for (int it = 0; it < 200; it++) {
		for (int i = 0; i < 4; i++) {
			m[i] = kmap_local_page(a->page[i]);
			if (!m[i] || !holds(m[i], (unsigned)(uintptr_t)a->page[i])) {
				a->ok = 0;
				return NULL;
			}
		}
		if (it == 0) {
			if (m[0] >= kmm.fixmap_base + ((unsigned long)kmm.nr_cpus * KM_MAX_IDX << PAGE_SHIFT))
				__atomic_add_fetch(&slotless_seen, 1, __ATOMIC_RELAXED);
			pthread_barrier_wait(a->barrier);	/* everybody holds 4 at once */
		}
		for (int i = 3; i >= 0; i--)
			kunmap_local(m[i]);
	}
	return NULL;
}

TEST(kmap_local_threads_with_and_without_a_slot)
{
	/* two slots, four threads: two of them run slotless (4 + 4 windows of
	 * the shared group of 16) */
	kmm_shutdown();
	assert_eq(kmm_boot("mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=2 on_error=report"), 0);
	unsigned long errors = kmm_error_count();
	enum { T = 4 };
	struct local_arg arg[T];
	pthread_t t[T];
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, T);
	for (int i = 0; i < T; i++) {
		arg[i].barrier = &barrier;
		for (int j = 0; j < 4; j++) {
			arg[i].page[j] = highpage();
			void *m = kmap(arg[i].page[j]);
			fill(m, (unsigned)(uintptr_t)arg[i].page[j]);
			kunmap(arg[i].page[j]);
		}
	}
	slotless_seen = 0;
	for (int i = 0; i < T; i++)
		assert_eq(pthread_create(&t[i], NULL, local_worker, &arg[i]), 0);
	for (int i = 0; i < T; i++) {
		pthread_join(t[i], NULL);
		expect_eq(arg[i].ok, 1);
	}
	expect_ge(slotless_seen, 2);	/* main and one worker own the two slots */
	pthread_barrier_destroy(&barrier);
	expect_eq(kmm_check(), 0);
	for (int i = 0; i < T; i++)
		for (int j = 0; j < 4; j++) {
			expect_eq(arg[i].page[j]->_mapcount, -1);
			__free_page(arg[i].page[j]);
		}
	expect_eq(kmm_error_count(), errors);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* two slotless threads: one takes the whole shared group, the other's
 * kmap_local_page fails clearly instead of sleeping */
struct group_arg {
	struct page **pages;
	int n;			/* mappings to hold */
	int got;		/* how many succeeded */
	pthread_barrier_t *b;
};

static void *group_worker(void *p)
{
	struct group_arg *a = p;
	char *m[KM_MAX_IDX];
	pthread_barrier_wait(a->b);	/* 1: both threads exist (both slotless) */
	for (int i = 0; i < a->n; i++)
		if ((m[a->got] = kmap_local_page(a->pages[i])) != NULL)
			a->got++;
	pthread_barrier_wait(a->b);	/* 2: the first holds its 16 */
	pthread_barrier_wait(a->b);	/* 3: the second tried */
	for (int i = a->got - 1; i >= 0; i--)
		kunmap_local(m[i]);
	return NULL;
}

TEST(slotless_group_full_fails_without_sleeping)
{
	kmm_shutdown();
	assert_eq(kmm_boot("mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=1 on_error=report"), 0);
	struct page *pg[KM_MAX_IDX + 1];
	for (int i = 0; i <= KM_MAX_IDX; i++)
		pg[i] = highpage();	/* the main thread owns the only slot */
	pthread_barrier_t b1, b2;
	pthread_barrier_init(&b1, NULL, 2);	/* main and one worker each */
	pthread_barrier_init(&b2, NULL, 2);
	struct group_arg first = { .pages = pg, .n = KM_MAX_IDX, .b = &b1 };
	struct group_arg second = { .pages = pg + KM_MAX_IDX, .n = 1, .b = &b2 };
	pthread_t t1, t2;
	unsigned long errors = kmm_error_count();
	logcap_start();
	assert_eq(pthread_create(&t1, NULL, group_worker, &first), 0);
	pthread_barrier_wait(&b1);	/* 1 */
	pthread_barrier_wait(&b1);	/* 2: the first holds the 16 shared windows */
	assert_eq(pthread_create(&t2, NULL, group_worker, &second), 0);
	pthread_barrier_wait(&b2);	/* 1 */
	pthread_barrier_wait(&b2);	/* 2: the second tried */
	pthread_barrier_wait(&b2);	/* 3 */
	pthread_join(t2, NULL);
	pthread_barrier_wait(&b1);	/* 3 */
	pthread_join(t1, NULL);
	logcap_stop();
	expect_eq(first.got, KM_MAX_IDX);
	expect_eq(second.got, 0);
	expect_eq(logcap_count("threads without a CPU slot are all in use"), 1);
	expect_eq(kmm_error_count(), errors);	/* not misuse: a limit */
	pthread_barrier_destroy(&b1);
	pthread_barrier_destroy(&b2);
	expect_eq(kmm_check(), 0);
	for (int i = 0; i <= KM_MAX_IDX; i++) {
		expect_eq(pg[i]->_mapcount, -1);
		__free_page(pg[i]);
	}
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Misuse (MISUSE.md 19, 27, 28) under on_error=report                  */
/* ------------------------------------------------------------------ */

TEST(kunmap_not_mapped_is_reported_and_changes_nothing)
{
	assert_eq(kmm_boot(hm_boot("pkmap=8")), 0);
	struct page *p = highpage(), *q = highpage();
	unsigned long errors = kmm_error_count();
	logcap_start();

	/* 27: never mapped */
	kunmap(q);
	expect_eq(kmm_error_count(), errors + 1);
	expect_eq(logcap_count("kmm: kunmap not mapped: "), 1);
	expect_null(page_address(q));

	/* 27: unmapped more times than mapped */
	char *a = kmap(p);
	assert_nonnull(a);
	kunmap(p);
	kunmap(p);
	expect_eq(kmm_error_count(), errors + 2);
	expect_eq(logcap_count("kmm: kunmap not mapped: "), 2);
	expect_true(page_address(p) == a);	/* still count 1, untouched */
	expect_eq(kmm_check(), 0);
	/* the slot still works normally */
	expect_true(kmap(p) == a);
	expect_true(PageKmapped(p));
	kunmap(p);
	expect_eq(kmm_check(), 0);

	/* not a page descriptor */
	kunmap((struct page *)(void *)&errors);
	expect_eq(kmm_error_count(), errors + 3);
	expect_eq(logcap_count("kmm: kunmap not mapped: "), 3);

	/* kunmap_local of an address that is not mapped, or out of order */
	char *l1 = kmap_local_page(p), *l2 = kmap_local_page(q);
	assert_nonnull(l1);
	assert_nonnull(l2);
	kunmap_local(l1);	/* out of order */
	expect_eq(kmm_error_count(), errors + 4);
	expect_true(logcap_find("out of order") != NULL);
	char stack_byte;
	kunmap_local(&stack_byte);	/* not a mapping at all */
	kunmap_local(kmm.fixmap_base + (3UL << PAGE_SHIFT) * 5);	/* a window not ours */
	expect_eq(kmm_error_count(), errors + 6);
	expect_eq(logcap_count("kmm: kunmap not mapped: "), 6);
	expect_eq(kmm_check(), 0);
	/* nothing changed: the data is there, the right order works */
	fill(l2, 9);
	fill(l1, 8);
	kunmap_local(l2);
	kunmap_local(l1);
	kunmap_local(l1);	/* once more: nothing left */
	expect_eq(kmm_error_count(), errors + 7);
	expect_eq(p->_mapcount, -1);	/* pkmap PTEs are not counted; the local ones are gone */
	expect_eq(q->_mapcount, -1);

	/* kmap of a bad pointer */
	expect_null(kmap((struct page *)(void *)&errors));
	expect_null(kmap_local_page((struct page *)(void *)&errors));
	expect_eq(kmm_error_count(), errors + 9);
	expect_eq(logcap_count("kmm: bad page state: "), 2);
	logcap_stop();
	expect_true(logcap_all_well_formed());
	expect_eq(kmm_check(), 0);

	char *x = kmap(q);
	expect_true(holds(x, 9));
	kunmap(q);
	__free_page(p);
	__free_page(q);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(freeing_a_kmapped_page_is_bad_page_state)
{
	assert_eq(kmm_boot(hm_boot("pkmap=8")), 0);
	unsigned long errors = kmm_error_count();
	logcap_start();
	/* 19: still kmapped */
	struct page *p = highpage();
	assert_nonnull(kmap(p));
	__free_page(p);
	expect_eq(kmm_error_count(), errors + 1);
	expect_eq(logcap_count("kmm: bad page state: "), 1);
	expect_eq(kmm_check(), 0);
	kunmap(p);	/* the page is leaked (out of circulation); the mapping goes */
	kmm_drain_all();
	expect_null(page_address(p));
	expect_eq(kmm_check(), 0);

	/* 19: still mapped by kmap_local */
	struct page *q = highpage();
	char *l = kmap_local_page(q);
	assert_nonnull(l);
	__free_page(q);
	expect_eq(kmm_error_count(), errors + 2);
	expect_eq(logcap_count("kmm: bad page state: "), 2);
	kunmap_local(l);
	expect_eq(kmm_error_count(), errors + 2);
	logcap_stop();
	expect_eq(kmm_check(), 0);
	logcap_start();
	kmm_shutdown();	/* reports the two leaked pages */
	logcap_stop();
}

TEST(shutdown_reports_pages_still_kmapped)
{
	assert_eq(kmm_boot(hm_boot("pkmap=8")), 0);
	struct page *p = highpage();
	assert_nonnull(kmap(p));
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_eq(logcap_count("still kmapped"), 1);
	/* the next boot starts clean */
	assert_eq(kmm_boot(hm_boot("pkmap=8")), 0);
	p = highpage();
	void *a = kmap(p);
	assert_nonnull(a);
	kunmap(p);
	__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* 27 under on_error=abort: the process stops with the report */
TEST(kunmap_not_mapped_aborts_under_on_error_abort)
{
	int fds[2];
	kmm_shutdown();
	assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		if (kmm_boot("mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=2 on_error=abort"))
			_exit(3);
		struct page *p = alloc_page(GFP_HIGHUSER);
		kunmap(p);	/* never mapped */
		_exit(0);	/* not reached */
	}
	close(fds[1]);
	char buf[4096] = { 0 };
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	int status;
	assert_eq(waitpid(pid, &status, 0), pid);
	expect_true(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		expect_eq(WTERMSIG(status), SIGABRT);
	expect_true(strstr(buf, "kmm: kunmap not mapped: ") != NULL);
}

TEST_MAIN()
