/* kmm-test: backends */
/*
 * tests/stress/slab_stress.c - kmalloc and object caches under concurrent
 * load (issue 3), both backends, checked for "nothing lost" (MISUSE.md):
 *   - threads allocate from kmalloc (small and large sizes, kzalloc) and
 *     from three shared caches (one with a constructor), fill every object
 *     with a pattern derived from (id, size), krealloc some, and check each
 *     pattern completely before every free and realloc;
 *   - a third of the frees are cross-thread: the object goes to the other
 *     thread's inbox and is checked and freed there;
 *   - zeroing APIs return zeroes, constructed caches constructed objects;
 *   - one thread keeps draining every CPU slot, shrinking caches and
 *     reading slabinfo while the others run;
 *   - at each checkpoint the threads stop: no two live objects overlap
 *     (sorted intervals), kmm_check() passes;
 *   - the worker threads exit holding cached objects (their slots drain);
 *   - at the end everything is freed and, after kmm_drain_all, the free
 *     pages, the buddy free lists, the slab pages and every cache's active
 *     objects equal the drained boot state.
 * Arguments: THREADS SCALE (defaults 2 and 100; SCALE is a percentage).
 * KMM_TEST_SEED repeats a run.
 */
#include <stdatomic.h>

#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"

#define MAX_THREADS 8
#define NLIVE 1500
#define INBOX 512
#define CHECKPOINTS 12
#define CTOR_MAGIC 0x5eedc0de12345678ull

enum kind { K_KMALLOC, K_KZALLOC, K_CACHE0, K_CACHE1, K_CACHE2 };

struct obj {
	unsigned char *p;
	size_t size;
	uint64_t id;
	int kind;
};

struct inbox {
	pthread_mutex_t lock;
	struct obj q[INBOX];
	int n;
};

static struct {
	int threads;
	long ops_per_round;
	struct kmem_cache *cache[3];
	struct inbox inbox[MAX_THREADS];
	struct obj live[MAX_THREADS][NLIVE];
	pthread_barrier_t bar;
	atomic_ulong next_id;
	atomic_int failed;
	atomic_ulong allocs, frees, cross, reallocs, nulls;
	unsigned long seed;
} st;

static const unsigned cache_size[3] = { 40, 200, 1000 };

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline unsigned char pat(const struct obj *o, size_t i)
{
	return (unsigned char)((o->id * 0x9e3779b1u) ^ (i * 7) ^ (i >> 8) ^ o->size);
}

/* the part of the object the test owns (a constructed object keeps its
 * first 8 bytes) */
static inline size_t first_byte(const struct obj *o) { return o->kind == K_CACHE0 ? 8 : 0; }

static void fill(const struct obj *o)
{
	for (size_t i = first_byte(o); i < o->size; i++)
		o->p[i] = pat(o, i);
}

static bool verify(const struct obj *o, const char *when)
{
	if (o->kind == K_CACHE0 && *(uint64_t *)o->p != CTOR_MAGIC) {
		printf("  %s: object %p (cache 0) lost its constructed state\n", when, (void *)o->p);
		atomic_store(&st.failed, 1);
		return false;
	}
	for (size_t i = first_byte(o); i < o->size; i++) {
		if (o->p[i] != pat(o, i)) {
			printf("  %s: object %p id %llu size %zu: byte %zu is %#x, expected %#x (seed %lu)\n", when,
			       (void *)o->p, (unsigned long long)o->id, o->size, i, o->p[i], pat(o, i), st.seed);
			atomic_store(&st.failed, 1);
			return false;
		}
	}
	return true;
}

static void ctor0(void *p) { *(uint64_t *)p = CTOR_MAGIC; }

static void release(struct obj *o)
{
	verify(o, "before free");
	if (o->kind >= K_CACHE0)
		kmem_cache_free(st.cache[o->kind - K_CACHE0], o->p);
	else
		kfree(o->p);
	atomic_fetch_add(&st.frees, 1);
	o->p = NULL;
}

static bool alloc_one(struct obj *o, uint64_t *rs)
{
	uint64_t r = rnd(rs);
	int kind = (int)(r % 8);
	kind = kind < 3 ? K_KMALLOC : kind == 3 ? K_KZALLOC : K_CACHE0 + (kind - 4) % 3;
	size_t size;
	if (kind >= K_CACHE0) {
		size = cache_size[kind - K_CACHE0];
		o->p = kmem_cache_alloc(st.cache[kind - K_CACHE0], GFP_KERNEL);
	} else {
		/* mostly small, sometimes pages */
		size = (r >> 8) % 16 == 0 ? (r >> 16) % 40000 + 1 : (r >> 16) % 700 + 1;
		o->p = kind == K_KZALLOC ? kzalloc(size, GFP_KERNEL) : kmalloc(size, GFP_KERNEL);
	}
	if (!o->p) {
		atomic_fetch_add(&st.nulls, 1);
		return false;
	}
	o->size = size;
	o->kind = kind;
	o->id = atomic_fetch_add(&st.next_id, 1);
	if (kind == K_KZALLOC) {
		for (size_t i = 0; i < size; i++)
			if (o->p[i]) {
				printf("  kzalloc(%zu) = %p: byte %zu is %#x\n", size, (void *)o->p, i, o->p[i]);
				atomic_store(&st.failed, 1);
				break;
			}
	}
	if (kind == K_CACHE0 && *(uint64_t *)o->p != CTOR_MAGIC) {
		printf("  cache 0 handed out %p unconstructed\n", (void *)o->p);
		atomic_store(&st.failed, 1);
	}
	if (ksize(o->p) < size) {
		printf("  ksize(%p) = %zu < %zu\n", (void *)o->p, ksize(o->p), size);
		atomic_store(&st.failed, 1);
	}
	fill(o);
	atomic_fetch_add(&st.allocs, 1);
	return true;
}

/* the objects other threads handed over: check and free them here */
static void drain_inbox(int me)
{
	struct obj local[INBOX];
	struct inbox *in = &st.inbox[me];
	pthread_mutex_lock(&in->lock);
	int n = in->n;
	memcpy(local, in->q, (size_t)n * sizeof(local[0]));
	in->n = 0;
	pthread_mutex_unlock(&in->lock);
	for (int i = 0; i < n; i++)
		release(&local[i]);
}

static bool hand_over(int to, struct obj *o)
{
	struct inbox *in = &st.inbox[to];
	bool ok = false;
	pthread_mutex_lock(&in->lock);
	if (in->n < INBOX) {
		in->q[in->n++] = *o;
		ok = true;
	}
	pthread_mutex_unlock(&in->lock);
	if (ok) {
		o->p = NULL;
		atomic_fetch_add(&st.cross, 1);
	}
	return ok;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* all threads stopped: no two live objects overlap, the heap checks out */
static void checkpoint(int round)
{
	static struct obj all[MAX_THREADS * (NLIVE + INBOX)];
	size_t n = 0;
	for (int t = 0; t < st.threads; t++) {
		for (int i = 0; i < NLIVE; i++)
			if (st.live[t][i].p)
				all[n++] = st.live[t][i];
		for (int i = 0; i < st.inbox[t].n; i++)
			all[n++] = st.inbox[t].q[i];
	}
	qsort(all, n, sizeof(all[0]), cmp_iv);
	for (size_t i = 1; i < n; i++) {
		if (all[i - 1].p + all[i - 1].size > all[i].p) {
			printf("  checkpoint %d: %p (+%zu) overlaps %p (seed %lu)\n", round, (void *)all[i - 1].p,
			       all[i - 1].size, (void *)all[i].p, st.seed);
			atomic_store(&st.failed, 1);
		}
	}
	for (size_t i = 0; i < n; i++)
		verify(&all[i], "checkpoint");
	if (kmm_check() != 0)
		atomic_store(&st.failed, 1);
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t rs = st.seed * 2654435761u + (uint64_t)me * 0x9e3779b97f4a7c15ull + 1;
	struct obj *live = st.live[me];
	for (int round = 0; round < CHECKPOINTS; round++) {
		for (long op = 0; op < st.ops_per_round; op++) {
			uint64_t r = rnd(&rs);
			struct obj *o = &live[r % NLIVE];
			if ((r >> 20) % 64 == 0)
				drain_inbox(me);
			/* remote drains, shrinks and reports while the others
			 * are inside their fast paths */
			if (me == st.threads - 1 && op % 1500 == 0) {
				if (op % 3000)
					kmm_drain_all();
				else
					kmem_cache_shrink(st.cache[(op / 3000) % 3]);
				free(report_text("slabinfo", NULL));
			}
			if (!o->p) {
				alloc_one(o, &rs);
				continue;
			}
			unsigned action = (unsigned)((r >> 32) % 10);
			if (action < 3 && st.threads > 1 && hand_over((me + 1 + (int)((r >> 40) % (st.threads - 1))) % st.threads, o))
				continue;
			if (action == 3 && o->kind <= K_KZALLOC) {
				/* krealloc: the old contents survive */
				size_t nsize = (r >> 44) % 3000 + 1;
				if (!verify(o, "before krealloc"))
					continue;
				unsigned char *np = krealloc(o->p, nsize, GFP_KERNEL);
				if (!np) {
					atomic_fetch_add(&st.nulls, 1);
					continue;
				}
				size_t keep = nsize < o->size ? nsize : o->size;
				struct obj old = *o;
				old.p = np;
				for (size_t i = 0; i < keep; i++)
					if (np[i] != pat(&old, i)) {
						printf("  krealloc lost byte %zu (seed %lu)\n", i, st.seed);
						atomic_store(&st.failed, 1);
						break;
					}
				o->p = np;
				o->size = nsize;
				o->kind = K_KMALLOC;
				fill(o);
				atomic_fetch_add(&st.reallocs, 1);
				continue;
			}
			release(o);
		}
		pthread_barrier_wait(&st.bar);
		if (me == 0)
			checkpoint(round);
		pthread_barrier_wait(&st.bar);
	}
	/* free half here; the rest goes to thread 0 after this thread exited */
	for (int i = 0; i < NLIVE; i += 2)
		if (live[i].p)
			release(&live[i]);
	drain_inbox(me);
	return NULL;
}

TEST(slab_stress_nothing_lost)
{
	int threads = st.threads;
	sh_boot("mem=256M numa=2 cpus=4");
	st.seed = kt_seed();
	kmm_drain_all();
	unsigned long base_free = nr_free_pages();
	long base_slab = sh_slab_pages();
	char *base_buddy = report_text("buddyinfo", NULL);
	char *base_info = report_text("slabinfo", NULL);

	st.cache[0] = kmem_cache_create("stress-ctor", cache_size[0], 0, 0, ctor0);
	st.cache[1] = kmem_cache_create("stress-200", cache_size[1], 0, SLAB_HWCACHE_ALIGN, NULL);
	st.cache[2] = kmem_cache_create("stress-1000", cache_size[2], 64, 0, NULL);
	for (int k = 0; k < 3; k++)
		assert_nonnull(st.cache[k]);
	for (int t = 0; t < threads; t++)
		pthread_mutex_init(&st.inbox[t].lock, NULL);
	pthread_barrier_init(&st.bar, NULL, (unsigned)threads);
	pthread_t th[MAX_THREADS];
	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&st.bar);

	/* the survivors, freed by this thread (their allocators are gone) */
	for (int t = 0; t < threads; t++) {
		for (int i = 0; i < NLIVE; i++)
			if (st.live[t][i].p)
				release(&st.live[t][i]);
		drain_inbox(t);
	}
	printf("  %lu allocations, %lu frees (%lu cross-thread), %lu kreallocs, %lu NULLs\n",
	       atomic_load(&st.allocs), atomic_load(&st.frees), atomic_load(&st.cross), atomic_load(&st.reallocs),
	       atomic_load(&st.nulls));
	expect_eq(atomic_load(&st.failed), 0);
	expect_eq(atomic_load(&st.allocs), atomic_load(&st.frees) - 0);
	expect_eq(kmm_check(), 0);
	for (int k = 0; k < 3; k++)
		kmem_cache_destroy(st.cache[k]);

	/* accounting back to the drained boot state */
	kmm_drain_all();
	expect_eq(nr_free_pages(), base_free);
	expect_eq(sh_slab_pages(), base_slab);
	char *buddy = report_text("buddyinfo", NULL);
	expect_str_eq(buddy, base_buddy);
	char *info = report_text("slabinfo", NULL);
	expect_str_eq(info, base_info);	/* every cache's counts as they were */
	free(info);
	free(buddy);
	free(base_info);
	free(base_buddy);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

int main(int argc, char **argv)
{
	st.threads = argc > 1 ? atoi(argv[1]) : 2;
	int scale = argc > 2 ? atoi(argv[2]) : 100;
	if (st.threads < 1)
		st.threads = 1;
	if (st.threads > MAX_THREADS)
		st.threads = MAX_THREADS;
	st.ops_per_round = 20000L * (scale > 0 ? scale : 100) / 100;
	if (KT_SANITIZED)
		st.ops_per_round /= 3;
	char *args[] = { argv[0], NULL };
	return kt_run(1, args);
}
