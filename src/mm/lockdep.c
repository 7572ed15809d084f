/*
 * lockdep.c - the lock order validator: a small lockdep (Linux
 * kernel/locking/lockdep.c) or witness (jemalloc), for debug builds and
 * tests.
 *
 * 1. Overview
 *    Every lock of the core belongs to a class (enum kmm_lock_class in
 *    internal.h, ranked outermost first) and is taken through kmm_lock /
 *    kmm_trylock / kmm_unlock.  While the validator runs (kmm_lockdep_on:
 *    boot key lockdep=on, or any boot of a KMM_DEBUG >= 2 build, or a test
 *    that asked for it with kmm_lockdep_set_default), each acquisition is
 *    checked before the thread blocks on the lock:
 *      a. rank: every held class must rank below the new one (a class
 *         marked "nests" may also be held already: the code documents the
 *         order of its instances);
 *      b. history: the first time class B is taken while A is held, the
 *         pair A -> B is recorded; taking A while holding B after that is
 *         an inversion, reported even when both orders were each fine on
 *         their own thread (the two threads could deadlock);
 *      c. the same lock taken twice by one thread (a self-deadlock).
 *    A violation is reported once per pair of classes as misuse of category
 *    "lock order" (kmm_error: then on_error= decides: abort, or report and
 *    go on to take the lock anyway, which may hang, as Linux's lockdep
 *    warns and carries on).  A trylock never waits: it is recorded as held
 *    but neither checked nor recorded as an order.
 *
 * 2. Data structures
 *    - per thread (struct kmm_thread): the held locks and their classes,
 *      innermost last, KMM_LOCKDEP_DEPTH deep; deeper nesting is counted
 *      (ld_lost) and not tracked.
 *    - global: order[A][B] = 1 once B was taken under A; reported[A][B]
 *      once a violation of that pair was reported.  Bytes written with
 *      relaxed atomics: two threads recording the same pair store the
 *      same value.
 *
 * 3. Invariants
 *    - A thread's held stack lists exactly the tracked locks it holds;
 *      kmm_unlock of a lock it does not hold is reported ("lock order:
 *      ... not held").
 *
 * 4. Locks
 *    None: the per-thread stack is the thread's own, the matrices are
 *    atomic bytes.  A signal handler that takes locks on the interrupted
 *    thread pushes and pops above the interrupted code's entries (LIFO).
 *
 * 5. Cost
 *    Off (the default of release and KMM_DEBUG <= 1 builds): one load and
 *    a not-taken branch per lock and unlock.  On: a walk of the held stack
 *    (rarely more than three entries) per acquisition.
 */
#include "internal.h"

bool kmm_lockdep_on;
static bool lockdep_default;
static unsigned char order_seen[KMM_LC_NR][KMM_LC_NR];
static unsigned char order_reported[KMM_LC_NR][KMM_LC_NR];

static const struct {
	const char *name;
	bool nests;	/* may be taken while another lock of the class is held */
} lock_classes[KMM_LC_NR] = {
	[KMM_LC_SHRINKER] = { "shrinker_lock", false },
	[KMM_LC_SLOT_REMOTE] = { "slot remote_lock", true },	/* every slot, ascending */
	[KMM_LC_MEMPOOL_LIST] = { "pool_list_lock", false },
	[KMM_LC_MEMPOOL] = { "mempool lock", false },
	[KMM_LC_SLAB_MUTEX] = { "slab_mutex", false },
	[KMM_LC_SLAB_NODE] = { "cache node list_lock", true },	/* off-slab descriptor cache inside */
	[KMM_LC_SLOB] = { "slob_lock", false },
	[KMM_LC_VMAP_AREA] = { "vmap_area_lock", false },
	[KMM_LC_PKMAP] = { "kmap_lock", false },
	[KMM_LC_PKMAP_HASH] = { "page_address hash lock", false },
	[KMM_LC_FIXMAP] = { "fixmap_shared_lock", false },
	[KMM_LC_ZONE] = { "zone lock", false },
	[KMM_LC_PGTABLE] = { "page table lock", false },
};

/* kmm_lockdep_set_default - whether boots without a lockdep= key validate
 * (tests turn it on for every boot; a KMM_DEBUG >= 2 build always does). */
void kmm_lockdep_set_default(bool on)
{
	lockdep_default = on;
}

/* kmm_lockdep_boot - at boot, before any lock is taken: the boot key
 * (1 on, 0 off, -1 none given). */
void kmm_lockdep_boot(int mode)
{
	bool on = mode > 0 || (mode < 0 && (lockdep_default || KMM_DEBUG >= 2));
	/* a new machine, new locks: the order history starts again */
	kmm_memset(order_seen, 0, sizeof(order_seen));
	kmm_memset(order_reported, 0, sizeof(order_reported));
	WRITE_ONCE(kmm_lockdep_on, on);
}

static const char *class_name(unsigned int c)
{
	return c < KMM_LC_NR ? lock_classes[c].name : "?";
}

/* Report a violation of the pair (held, taken) once. */
static void violation(unsigned int held, unsigned int taken, const char *fmt, struct kmm_lock *l)
{
	if (__atomic_exchange_n(&order_reported[held][taken], 1, __ATOMIC_RELAXED))
		return;
	kmm_error("lock order", fmt, class_name(taken), (void *)l, class_name(held));
}

void kmm_lockdep_acquire(struct kmm_lock *l, enum kmm_lock_class c, bool trylock)
{
	struct kmm_thread *t = kmm_thread();
	unsigned int depth = t->ld_depth;

	if (!trylock) {
		for (unsigned int i = 0; i < depth; i++) {
			unsigned int h = t->ld_class[i];
			if (t->ld_lock[i] == l) {
				violation(h, c, "%s %p taken twice by one thread (held since it was taken as %s)", l);
				continue;
			}
			if (h == (unsigned int)c && lock_classes[c].nests)
				continue;
			if (__atomic_load_n(&order_seen[c][h], __ATOMIC_RELAXED))
				violation(h, c, "%s %p taken while holding %s: the opposite order was seen before", l);
			else if (h >= (unsigned int)c)
				violation(h, c, "%s %p taken while holding %s, which must be taken after it", l);
			if (!__atomic_load_n(&order_seen[h][c], __ATOMIC_RELAXED))
				__atomic_store_n(&order_seen[h][c], 1, __ATOMIC_RELAXED);
		}
	}
	if (depth >= KMM_LOCKDEP_DEPTH) {
		t->ld_lost++;
		return;
	}
	t->ld_lock[depth] = l;
	t->ld_class[depth] = (unsigned char)c;
	t->ld_depth = (unsigned char)(depth + 1);
}

void kmm_lockdep_release(struct kmm_lock *l)
{
	struct kmm_thread *t = kmm_thread();
	for (int i = (int)t->ld_depth - 1; i >= 0; i--) {
		if (t->ld_lock[i] != l)
			continue;
		for (unsigned int j = (unsigned int)i; j + 1 < t->ld_depth; j++) {
			t->ld_lock[j] = t->ld_lock[j + 1];
			t->ld_class[j] = t->ld_class[j + 1];
		}
		t->ld_depth--;
		return;
	}
	if (t->ld_lost) {	/* one of the untracked ones */
		t->ld_lost--;
		return;
	}
	kmm_error("lock order", "unlock of lock %p, which this thread does not hold", (void *)l);
}

/* kmm_lockdep_held - is l held by the calling thread?  (Always true while
 * the validator is off: a _locked function's assertion then costs nothing.) */
bool kmm_lockdep_held(const struct kmm_lock *l)
{
	if (!READ_ONCE(kmm_lockdep_on))
		return true;
	struct kmm_thread *t = kmm_thread();
	for (unsigned int i = 0; i < t->ld_depth; i++)
		if (t->ld_lock[i] == l)
			return true;
	return t->ld_lost != 0;
}
