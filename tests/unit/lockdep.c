/* kmm-test: threaded */
/*
 * tests/unit/lockdep.c - the lock order validator (src/mm/lockdep.c):
 *   - a lock taken while holding one of a later class is reported ("lock
 *     order: ... which must be taken after it"), once per pair;
 *   - two locks taken in one order by one thread and in the other order by
 *     another are reported the second time (the AB-BA deadlock that never
 *     happened in this run, but could);
 *   - a lock taken twice by one thread, and an unlock of a lock not held,
 *     are reported (in an on_error=abort child: the report, then SIGABRT,
 *     instead of a hang);
 *   - lockdep=off checks nothing; trylocks are recorded, never checked;
 *   - the whole suite runs with the validator on (CTest sets
 *     KMM_TEST_LOCKDEP=1): every other test is a no-false-positive test.
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"

#define LB "mem=32M numa=1 cpus=2 on_error=report lockdep=on"

static struct zone *normal(void) { return &NODE_DATA(0)->node_zones[ZONE_NORMAL]; }

/* ThreadSanitizer has a lock-order detector of its own, which reports the
 * inversions these tests make on purpose (and stops the run) */
#ifdef __SANITIZE_THREAD__
#define SKIP_UNDER_TSAN() skip_test("ThreadSanitizer reports this inversion itself")
#else
#define SKIP_UNDER_TSAN() ((void)0)
#endif

TEST(rank_inversion_is_reported_once)
{
	SKIP_UNDER_TSAN();
	assert_eq(kt_boot(LB), 0);
	expect_true(kmm_lockdep_on);
	struct zone *z = normal();
	logcap_start();
	unsigned long e0 = kmm_error_count();
	for (int i = 0; i < 3; i++) {
		kmm_lock(&z->lock, KMM_LC_ZONE);
		kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);	/* outer lock inside an inner one */
		kmm_unlock(&kmm.shrinker_lock);
		kmm_unlock(&z->lock);
	}
	logcap_stop();
	expect_eq(kmm_error_count(), e0 + 1);	/* once per pair of classes */
	char want[160];
	snprintf(want, sizeof(want), "kmm: lock order: shrinker_lock %p taken while holding zone lock, which must be taken after it",
		 (void *)&kmm.shrinker_lock);
	expect_eq(logcap_count(want), 1);
	if (logcap_count(want) != 1)
		logcap_dump();
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	/* on a new machine (the history starts again), the right order is silent */
	assert_eq(kt_boot(LB), 0);
	z = normal();
	e0 = kmm_error_count();
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	kmm_lock(&z->lock, KMM_LC_ZONE);
	kmm_unlock(&z->lock);
	kmm_unlock(&kmm.shrinker_lock);
	expect_eq(kmm_error_count(), e0);
	kmm_shutdown();
}

/* AB in one thread (slab_mutex, then a zone lock: the right order), BA in
 * another: reported as the reverse of an order seen before */
static void *take_ab(void *arg)
{
	struct kmm_lock *a = &slab_mutex, *b = &normal()->lock;
	if (arg) {
		kmm_lock(b, KMM_LC_ZONE);
		kmm_lock(a, KMM_LC_SLAB_MUTEX);
	} else {
		kmm_lock(a, KMM_LC_SLAB_MUTEX);
		kmm_lock(b, KMM_LC_ZONE);
	}
	kmm_unlock(arg ? a : b);
	kmm_unlock(arg ? b : a);
	return NULL;
}

TEST(ab_ba_between_threads_is_reported)
{
	SKIP_UNDER_TSAN();
	assert_eq(kt_boot(LB), 0);
	logcap_start();
	unsigned long e0 = kmm_error_count();
	pthread_t t;
	pthread_create(&t, NULL, take_ab, NULL);	/* A then B */
	pthread_join(t, NULL);
	expect_eq(kmm_error_count(), e0);	/* one order alone is fine */
	pthread_create(&t, NULL, take_ab, (void *)1);	/* B then A */
	pthread_join(t, NULL);
	logcap_stop();
	expect_eq(kmm_error_count(), e0 + 1);
	expect_eq(logcap_count("kmm: lock order: slab_mutex "), 1);
	expect_eq(logcap_count("taken while holding zone lock: the opposite order was seen before"), 1);
	kmm_shutdown();
}

static void child_self_deadlock(void)
{
	if (kmm_boot("mem=32M numa=1 cpus=1 lockdep=on"))
		_exit(2);
	kmm_lock(&normal()->lock, KMM_LC_ZONE);
	kmm_lock(&normal()->lock, KMM_LC_ZONE);	/* would hang forever */
	_exit(0);
}

static void child_unlock_not_held(void)
{
	if (kmm_boot("mem=32M numa=1 cpus=1 lockdep=on"))
		_exit(2);
	kmm_unlock(&kmm.shrinker_lock);
	_exit(0);
}

TEST(self_deadlock_and_stray_unlock_abort_with_a_report)
{
	expect_true(sh_child_aborts(child_self_deadlock, "kmm: lock order: zone lock "));
	expect_true(sh_child_aborts(child_self_deadlock, "taken twice by one thread"));
	expect_true(sh_child_aborts(child_unlock_not_held, "kmm: lock order: unlock of lock "));
}

TEST(off_checks_nothing_and_trylock_is_not_checked)
{
	SKIP_UNDER_TSAN();
	assert_eq(kt_boot("mem=32M numa=1 cpus=1 on_error=report lockdep=off"), 0);
	expect_false(kmm_lockdep_on);
	unsigned long e0 = kmm_error_count();
	kmm_lock(&normal()->lock, KMM_LC_ZONE);
	kmm_lock(&kmm.shrinker_lock, KMM_LC_SHRINKER);
	kmm_unlock(&kmm.shrinker_lock);
	kmm_unlock(&normal()->lock);
	expect_eq(kmm_error_count(), e0);
	kmm_shutdown();

	assert_eq(kt_boot(LB), 0);
	kmm_lock(&normal()->lock, KMM_LC_ZONE);
	expect_true(kmm_trylock(&kmm.shrinker_lock, KMM_LC_SHRINKER));	/* cannot wait: no order */
	expect_true(kmm_lockdep_held(&kmm.shrinker_lock));
	kmm_unlock(&kmm.shrinker_lock);
	kmm_unlock(&normal()->lock);
	expect_false(kmm_lockdep_held(&normal()->lock));
	expect_eq(kmm_error_count(), e0);
	kmm_shutdown();
}

TEST_MAIN()
