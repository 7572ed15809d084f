/*
 * fork.c - fork() while other threads allocate: the pthread_atfork
 * handlers of the core (the malloc shim registers them; MISUSE.md 34).
 *
 * 1. Overview
 *    fork copies the address space, not the threads: a lock another thread
 *    held, or a CPU slot array another thread was halfway through changing,
 *    would stay that way in the child forever.  So, as glibc's malloc and
 *    jemalloc do:
 *      prepare  take every kmm lock in the lock order, and hold every CPU
 *               slot quiet (no owner inside a fast path, none can enter);
 *      parent   release it all;
 *      child    re-initialise every lock and wait queue (the child's one
 *               thread "holds" them), give back the slots of the threads
 *               the child does not have (their cached objects and pages
 *               go back to the shared lists), release the rest.
 *    The order is internal.h's enum kmm_lock_class, outermost first:
 *      shrinker_lock; every slot's remote_lock (ascending), with
 *      drain_pending set, a heavy barrier, and a wait until no owner is
 *      busy (pcp.c's remote-drain protocol, held across the fork);
 *      pool_list_lock, every pool's lock (mempool.c); slab_mutex; every
 *      cache's node list_locks, the largest objects first (an off-slab
 *      descriptor's smaller cache nests inside: slab.c section 4); slob_lock;
 *      vmap_area_lock; kmap_lock, the page_address buckets,
 *      fixmap_shared_lock; every zone lock; the page table lock.
 *    Locks of one class that never nest (pools, buckets, zones) are taken
 *    in a fixed order by this thread only, so no cycle can form with the
 *    single-lock holders.  The locks are taken with kmm_plat_lock, outside
 *    the lock validator (it would see a non-nesting class taken twice).
 *
 * 2. Invariants: between prepare and parent/child, this thread holds every
 *    kmm lock and every slot has drain_pending set.  busy may still blink:
 *    an owner entering its fast path sets busy before it reads
 *    drain_pending and backs out, so fork can copy busy = 1 of a thread
 *    the child does not have.  The child clears busy on every slot but its
 *    own (no one else runs there); the slot would otherwise look occupied
 *    for ever and the child's first remote drain would wait on it.
 *
 * 3. Limits: the heavy barrier is membarrier(2); a host without it cannot
 *    prove a slot owner left its fast path (pcp.c section 2), as for
 *    remote drains.  Wait queue mutexes are private to the platform: they
 *    are held only for a few instructions and are re-initialised in the
 *    child rather than taken.
 */
#include "slab_classic.h"
#include "fork.h"

static bool fork_held;		/* prepare took everything (only the forking thread reads it) */

/* ---- the slab layer's locks (slab_common.c / slab.c) ---- */

static bool slab_backend(void) { return kmm_slab_ops == &kmm_slab_ops_slab; }

static void slab_nodes_lock_size(unsigned int size)
{
	struct kmem_cache *s;
	list_for_each_entry(s, &slab_caches, list)
		if (SC(s)->buffer_size == size && SC(s)->nodelists)
			for (int nid = 0; nid < kmm.nr_nodes; nid++)
				kmm_plat_lock(&SC(s)->nodelists[nid].list_lock);
}

/* Every node list_lock, by object size descending (distinct sizes one
 * after the other: a handful of passes over a short list). */
static void slab_nodes_lock_all(void)
{
	unsigned int prev = UINT_MAX;
	for (;;) {
		unsigned int next = 0;
		struct kmem_cache *s;
		list_for_each_entry(s, &slab_caches, list)
			if (SC(s)->buffer_size < prev && SC(s)->buffer_size > next)
				next = SC(s)->buffer_size;
		if (!next)
			return;
		slab_nodes_lock_size(next);
		prev = next;
	}
}

static void slab_nodes_release(bool child)
{
	struct kmem_cache *s;
	list_for_each_entry(s, &slab_caches, list) {
		if (!SC(s)->nodelists)
			continue;
		for (int nid = 0; nid < kmm.nr_nodes; nid++) {
			struct kmm_lock *l = &SC(s)->nodelists[nid].list_lock;
			if (child)
				kmm_plat_lock_init(l);
			else
				kmm_plat_unlock(l);
		}
	}
}

/* ---- CPU slots ---- */

static struct kmm_cpu *my_slot(void)
{
	const struct kmm_thread *t = kmm_plat_thread_state();
	return t->boot_gen == kmm.boot_gen ? t->cpu : NULL;
}

static void zones_lock(int how)	/* 0 lock, 1 unlock, 2 re-initialise */
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct kmm_lock *l = &NODE_DATA(nid)->node_zones[zi].lock;
			if (how == 0)
				kmm_plat_lock(l);
			else if (how == 1)
				kmm_plat_unlock(l);
			else
				kmm_plat_lock_init(l);
		}
}

/**
 * kmm_fork_prepare - before fork(): take every kmm lock and hold every
 * CPU slot quiet.  Context: a pthread_atfork prepare handler; the caller
 * holds no kmm lock and is outside every kmm call.  Blocks until the
 * threads inside kmm leave their critical sections.
 */
void kmm_fork_prepare(void)
{
	if (!kmm.booted)
		return;
	kmm_plat_lock(&kmm.shrinker_lock);
	for (int i = 0; i < kmm.nr_cpus; i++) {
		kmm_plat_lock(&kmm.cpus[i].remote_lock);
		__atomic_store_n(&kmm.cpus[i].drain_pending, 1, __ATOMIC_SEQ_CST);
	}
	kmm_plat_heavy_barrier();
	struct kmm_cpu *me = my_slot();
	for (int i = 0; i < kmm.nr_cpus; i++)
		if (&kmm.cpus[i] != me)
			while (__atomic_load_n(&kmm.cpus[i].busy, __ATOMIC_ACQUIRE))
				kmm_plat_relax();
	kmm_mempool_fork(KMM_FORK_PREPARE);
	kmm_plat_lock(&slab_mutex);
	if (slab_backend())
		slab_nodes_lock_all();
	kmm_slob_fork(KMM_FORK_PREPARE);
	kmm_vmalloc_fork(KMM_FORK_PREPARE);
	kmm_highmem_fork(KMM_FORK_PREPARE);
	zones_lock(0);
	kmm_pgtable_fork(KMM_FORK_PREPARE);
	fork_held = true;
}

/** kmm_fork_parent - after fork(), in the parent: release everything. */
void kmm_fork_parent(void)
{
	if (!fork_held)
		return;
	fork_held = false;
	kmm_pgtable_fork(KMM_FORK_PARENT);
	zones_lock(1);
	kmm_highmem_fork(KMM_FORK_PARENT);
	kmm_vmalloc_fork(KMM_FORK_PARENT);
	kmm_slob_fork(KMM_FORK_PARENT);
	if (slab_backend())
		slab_nodes_release(false);
	kmm_plat_unlock(&slab_mutex);
	kmm_mempool_fork(KMM_FORK_PARENT);
	for (int i = kmm.nr_cpus - 1; i >= 0; i--) {
		__atomic_store_n(&kmm.cpus[i].drain_pending, 0, __ATOMIC_RELEASE);
		kmm_plat_unlock(&kmm.cpus[i].remote_lock);
	}
	kmm_plat_unlock(&kmm.shrinker_lock);
}

/**
 * kmm_fork_child - after fork(), in the child: re-initialise every lock and
 * wait queue, give back what the slots of the parent's other threads held
 * and release those slots.  The calling thread keeps its own slot.
 */
void kmm_fork_child(void)
{
	if (!fork_held)
		return;
	fork_held = false;
	kmm_pgtable_fork(KMM_FORK_CHILD);
	zones_lock(2);
	kmm_highmem_fork(KMM_FORK_CHILD);
	kmm_vmalloc_fork(KMM_FORK_CHILD);
	kmm_slob_fork(KMM_FORK_CHILD);
	if (slab_backend())
		slab_nodes_release(true);
	kmm_plat_lock_init(&slab_mutex);
	kmm_mempool_fork(KMM_FORK_CHILD);
	kmm_plat_lock_init(&kmm.shrinker_lock);
	kmm_plat_waitq_init(&kmm.alloc_wait);
	__atomic_store_n(&kmm.alloc_waiters, 0, __ATOMIC_RELAXED);
	for (int i = 0; i < kmm.nr_cpus; i++)
		kmm_plat_lock_init(&kmm.cpus[i].remote_lock);

	/* the other threads' slots: quiet (drain_pending still set), owners gone */
	struct kmm_cpu *me = my_slot();
	for (int i = 0; i < kmm.nr_cpus; i++) {
		struct kmm_cpu *c = &kmm.cpus[i];
		if (c == me || !__atomic_load_n(&c->owned, __ATOMIC_RELAXED))
			continue;
		pcp_drain_slot(c);
		__atomic_store_n(&c->owned, 0, __ATOMIC_RELEASE);
		__atomic_fetch_add(&kmm.slot_release_gen, 1, __ATOMIC_RELEASE);
	}
	for (int i = 0; i < kmm.nr_cpus; i++) {
		if (&kmm.cpus[i] != me)
			__atomic_store_n(&kmm.cpus[i].busy, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&kmm.cpus[i].drain_pending, 0, __ATOMIC_RELEASE);
	}
}
