/*
 * slab_cpu.c - the classic SLAB backend's array caches: the per-slot and
 * shared arrays' refill and flush, their lifetime (made on first use,
 * freed by kmm_drain_all), draining, reaping, and the bulk paths that
 * move whole batches through them.  The slabs, the single-object paths
 * and the overview of SLAB are in slab.c; the structures and helpers the
 * backend's files share in slab_classic.h.
 *
 * 1. Overview
 *    An array cache is a LIFO of free objects: one per CPU slot and cache
 *    (served and filled by the slot's owner without a lock), one shared
 *    per node and cache (under the node's list_lock).  slab.c's single
 *    paths call cache_alloc_refill when the slot's array is empty and
 *    cache_flusharray when it is full.
 *      bulk ([4.6+] kmem_cache_alloc_bulk / kmem_cache_free_bulk; Linux's
 *        SLAB looped over the single paths, kmm moves whole batches):
 *        alloc copies the newest objects of the slot's array, then under
 *        one list_lock those of the shared array and the slabs
 *        (kmm_slab_take_node), growing the node while it is empty; free
 *        checks each object as slab_free does (kmm_bulk_check_obj), pushes
 *        it on the slot's array and gives the rest to the node in one
 *        locked step (kmm_slab_free_run: the shared array as far as it has
 *        room, then free_block).  The malloc shim's tcache uses list
 *        variants of both (kmalloc_fast.h) for its refills and trims.
 *        Debug caches take the single paths object by object.
 *    The arrays are made on first use, not at cache creation as 2.6.24's
 *    enable_cpucache did for every possible CPU (kmm boots 64 and more
 *    slots; most caches see a few): a slot's array of a cache when the
 *    slot's owner first allocates or frees an object of it after boot
 *    (cpu_array_create, outside the slot, GFP_NOWAIT; without memory the
 *    locked paths serve and a later slow path tries again; the slab
 *    layer's own objects - arrays, descriptors - never make one), a node's
 *    shared array when a second slot of the node makes its array (one
 *    slot alone has nobody to share with, as on a 2.6 UP kernel).
 *    kmm_drain_all frees them all again (slab_drop_slot_caches), so a
 *    drained machine holds what a booted one does.  Their sizes are set
 *    by slab.c's enable_cpucache (slab.c section 2).
 *
 * 2. Numbers ([2.6.24])
 *    - A refill moves batchcount objects, at most BATCHREFILL_LIMIT (16)
 *      when the array was not touched since the last reap.
 *    - Reaping (cache_reap): no timer thread in a library, so a slot's
 *      slow path reaps every REAPTIMEOUT_CPUC (2 s): an untouched array
 *      gives back (limit + 4) / 5 objects (at most half); every
 *      REAPTIMEOUT_LIST3 (4 s) a node's shared array gets the same and, if
 *      slabs_free was not used meanwhile, (free_limit + 5*num - 1) / (5*num)
 *      free slabs are destroyed.  kmm_drain_all and the shrinker free every
 *      empty slab.
 *
 * 3. Locks
 *    The rules of slab.c section 4, and for the arrays:
 *    cachep->array[cpu] is written by the slot's owner inside the slot
 *    (publication, release store) and by kmm_drain_all while every slot
 *    is quiet (freeing, with slab_mutex); the owner reads it only inside
 *    the slot and never keeps it across kmm_cpu_exit, other readers
 *    (drains, kmm_check, destroy) hold the slot quiet and load it with
 *    acquire (slot_array).  A shared array is installed and freed under
 *    its node's list_lock.  A bulk path marks the objects it takes from
 *    or gives to an array (bufctl ACTIVE / FREE) before it leaves the
 *    slot, so that the invariant "FREE bufctls = the arrays' objects"
 *    (slab_check.c section 2) holds whenever the slot is quiet.
 */
#include "slab_classic.h"
#include "annotate.h"

#define BATCHREFILL_LIMIT 16
#define REAPTIMEOUT_CPUC_NS (2ULL * 1000 * 1000 * 1000)

uint64_t slot_next_reap[NR_CPUS];	/* per slot, read and written by its owner */

/* ------------------------------------------------------------------ */
/* Array caches                                                        */
/* ------------------------------------------------------------------ */

/* Move entries down over the first n (no overlap-safe memcpy in the core). */
static void ac_shift(struct array_cache *ac, unsigned int n)
{
	for (unsigned int i = 0; i + n < ac->avail; i++)
		ac->entry[i] = ac->entry[i + n];
	ac->avail -= n;
}

/* Move up to max of the newest objects of from into dst (one copy, their
 * order kept); returns how many. */
static unsigned int take_newest(struct array_cache *from, void **dst, unsigned int max)
{
	unsigned int nr = from->avail < max ? from->avail : max;
	void **src = from->entry + from->avail - nr;
	for (unsigned int i = 0; i < nr; i++)
		dst[i] = src[i];
	from->avail -= nr;
	return nr;
}

/* Move up to max of the newest objects of from into to. */
static unsigned int transfer_objects(struct array_cache *to, struct array_cache *from, unsigned int max)
{
	if (max > to->limit - to->avail)
		max = to->limit - to->avail;
	unsigned int nr = take_newest(from, to->entry + to->avail, max);
	to->avail += nr;
	return nr;
}

/*
 * cache_alloc_refill - the slot's array is empty: fill it from the shared
 * array or the node's slabs, without growing.  Inside the slot.  Returns
 * an object (FREE, popped) or NULL when the node has nothing free.
 */
void *cache_alloc_refill(struct slab_cache *cachep, struct array_cache *ac, int node)
{
	struct kmem_list3 *l3 = l3_of(cachep, node);
	unsigned int batchcount = ac->batchcount;
	if (!ac->touched && batchcount > BATCHREFILL_LIMIT)
		batchcount = BATCHREFILL_LIMIT;

	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	if (l3->shared && transfer_objects(ac, l3->shared, batchcount))
		l3->shared->touched = 1;
	else
		ac->avail += slabs_take_locked(cachep, l3, ac->entry + ac->avail, batchcount, BUFCTL_FREE);
	kmm_unlock(&l3->list_lock);
	if (!ac->avail)
		return NULL;
	ac->touched = 1;
	return ac->entry[--ac->avail];
}

/* cache_flusharray - the slot's array is full: its oldest batchcount
 * objects go to the shared array (as many as fit) or to their slabs.
 * Inside the slot. */
void cache_flusharray(struct slab_cache *cachep, struct array_cache *ac, int node)
{
	struct kmem_list3 *l3 = l3_of(cachep, node);
	unsigned int batchcount = ac->batchcount;
	if (batchcount > ac->avail)
		batchcount = ac->avail;
	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	struct array_cache *shared = l3->shared;
	if (shared && shared->avail < shared->limit) {
		unsigned int max = shared->limit - shared->avail;
		if (batchcount > max)
			batchcount = max;
		for (unsigned int i = 0; i < batchcount; i++)
			shared->entry[shared->avail + i] = ac->entry[i];
		shared->avail += batchcount;
	} else {
		free_block(cachep, ac->entry, batchcount, node);
	}
	kmm_unlock(&l3->list_lock);
	ac_shift(ac, batchcount);
}

/*
 * drain_array - give back objects of an array of node `node`: all of them
 * (force), or, reaping, nothing if it was touched (the mark is cleared)
 * and else (limit + 4) / 5, at most half.  The caller owns the array (its
 * slot, or a shared one: then list_lock is held and `locked` is true).
 */
void drain_array(struct slab_cache *cachep, struct array_cache *ac, int node, bool force, bool locked)
{
	struct kmem_list3 *l3 = l3_of(cachep, node);
	if (!ac || !ac->avail)
		return;
	if (ac->touched && !force) {
		ac->touched = 0;
		return;
	}
	unsigned int tofree = ac->avail;
	if (!force) {
		tofree = (ac->limit + 4) / 5;
		if (tofree > (ac->avail + 1) / 2)
			tofree = (ac->avail + 1) / 2;
	}
	if (!locked)
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	free_block(cachep, ac->entry, tofree, node);
	if (!locked)
		kmm_unlock(&l3->list_lock);
	ac_shift(ac, tofree);
}

/* ------------------------------------------------------------------ */
/* Reaping (cache_reap without a timer)                                */
/* ------------------------------------------------------------------ */

/* A node's periodic work: shared array and empty slabs.  list_lock held. */
static void reap_node(struct slab_cache *cachep, struct kmem_list3 *l3, int node, uint64_t now)
{
	if (now < l3->next_reap)
		return;
	l3->next_reap = now + REAPTIMEOUT_LIST3_NS;
	drain_array(cachep, l3->shared, node, false, true);
	if (l3->free_touched) {
		l3->free_touched = 0;
	} else {
		unsigned long per = 5UL * cachep->num;
		drain_freelist(cachep, l3, (l3->free_limit + per - 1) / per);
	}
}

/* cache_reap for slot c: every cache's array of c, and c's node.  Skipped
 * when the chain is busy, as Linux skips a round.  Outside the slot. */
static void cache_reap(struct kmm_cpu *c, uint64_t now)
{
	struct kmem_cache *s;
	if (!kmm_trylock(&slab_mutex, KMM_LC_SLAB_MUTEX))
		return;
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		if (cachep->array && kmm_cpu_enter(c)) {
			drain_array(cachep, cachep->array[c->cpu], c->nid, false, false);
			kmm_cpu_exit(c);
		}
		struct kmem_list3 *l3 = l3_of(cachep, c->nid);
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		reap_node(cachep, l3, c->nid, now);
		kmm_unlock(&l3->list_lock);
	}
	kmm_unlock(&slab_mutex);
}

/* From a slow path, outside the slot: reap when this slot's 2 s are up. */
void maybe_reap(struct kmm_cpu *c)
{
	uint64_t now = kmm_plat_now_ns();
	if (now < slot_next_reap[c->cpu])
		return;
	/* stagger the slots, as Linux staggers its per-CPU timers */
	slot_next_reap[c->cpu] = now + REAPTIMEOUT_CPUC_NS + (uint64_t)c->cpu * 1000 * 1000;
	cache_reap(c, now);
}

/* ------------------------------------------------------------------ */
/* Bulk allocation and free                                            */
/* ------------------------------------------------------------------ */

/* Set the bufctl of n objects of cachep to state. */
static void objs_set_state(struct slab_cache *cachep, void **objs, unsigned int n, kmem_bufctl_t state)
{
	/* invariants in locals: the bufctl stores may alias them */
	const uintptr_t base = (uintptr_t)kmm.page_offset;
	struct page *const mem_map = kmm.mem_map;
	const uint64_t recip = cachep->reciprocal_buffer_size;
	const size_t obj_offset = cachep->common.obj_offset;
	for (unsigned int i = 0; i < n; i++) {
		const char *obj = objs[i];
		/* s_mem from the page: one line for both (slab_check.c section 2) */
		const struct page *page = &mem_map[((uintptr_t)obj - base) >> PAGE_SHIFT];
		unsigned int idx = (unsigned int)(((size_t)(obj - obj_offset - (const char *)page->s_mem) * recip) >> 32);
		__atomic_store_n(&slab_bufctl(page->slab_mgmt)[idx], state, __ATOMIC_RELAXED);
	}
}

/* kmm_slab_take_node (slab_classic.h): a batched allocation's objects
 * from the node, under one lock. */
unsigned int kmm_slab_take_node(struct slab_cache *cachep, int nid, void **buf, unsigned int want,
				unsigned int *from_shared)
{
	struct kmem_list3 *l3 = l3_of(cachep, nid);
	unsigned int got = 0;
	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	if (l3->shared) {
		got = take_newest(l3->shared, buf, want);
		if (got)
			l3->shared->touched = 1;
	}
	*from_shared = got;
	if (got < want)
		got += slabs_take_locked(cachep, l3, buf + got, want - got, BUFCTL_ACTIVE);
	kmm_unlock(&l3->list_lock);
	return got;
}

/*
 * slab_alloc_bulk_local - up to size objects of cachep into p, ACTIVE,
 * from the slot's node: the slot's array (newest, one copy), then under
 * one lock the shared array (one copy) and the slabs, growing the node
 * (outside the slot) while it is empty.  A slot without an array of the
 * cache yet makes it first (cpu_array_create), as a single allocation
 * would; if it cannot, the node serves directly.
 * Returns how many; fewer when the slot cannot be entered or the node has
 * no memory left: the caller takes the single-object path for the rest
 * (it falls back on other nodes).
 * The cache has no red zone, poison or user tracking.
 */
static size_t slab_alloc_bulk_local(struct slab_cache *cachep, gfp_t flags, size_t size, void **p)
{
	struct kmm_cpu *c = kmm_cpu_get();
	size_t done = 0;
	bool made = false;
	if (!c || !cachep->array)
		return 0;
	while (done < size && kmm_cpu_enter(c)) {
		struct array_cache *ac = cachep->array[c->cpu];
		if (unlikely(!ac) && !made) {
			/* the slot's first use of the cache: its array (and the
			 * node's shared one when another slot has an array), made
			 * outside the slot; without one the node serves directly */
			kmm_cpu_exit(c);
			cpu_array_create(cachep, c);
			made = true;
			continue;
		}
		unsigned int want = size - done > UINT_MAX ? UINT_MAX : (unsigned int)(size - done);
		void **dst = p + done;
		unsigned int got = ac ? take_newest(ac, dst, want) : 0, from_slabs = 0;
		bool slow = got < want;
		if (got)
			ac->touched = 1;
		if (slow) {
			unsigned int from_shared;
			from_slabs = kmm_slab_take_node(cachep, c->nid, dst + got, want - got, &from_shared);
			from_slabs -= from_shared;
			got += from_shared;
		}
		/* the arrays' objects were FREE; the slabs' are ACTIVE already */
		objs_set_state(cachep, dst, got, BUFCTL_ACTIVE);
		kmm_cpu_exit(c);
		done += got + from_slabs;
		if (slow)
			maybe_reap(c);
		if (done < size && got + from_slabs < want &&
		    cache_grow(cachep, thisnode_flags(flags), c->nid) < 0)
			break;	/* the node is full: fallback_alloc's business */
	}
	return done;
}

/* The backend's kmem_cache_alloc_bulk: as many as the local node gives in
 * batches (caches without red zone, poison or user tracking), each handled
 * as slab_alloc hands out an object; the front loops for the rest. */
size_t slab_cache_alloc_bulk(struct kmem_cache *s, gfp_t flags, size_t size, void **p, void *caller)
{
	(void)caller;
	if (s->flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER))
		return 0;
	size_t done = slab_alloc_bulk_local(SC(s), flags, size, p);
	bool zero = (flags & __GFP_ZERO) || s->init_on_alloc;
	if (ann_cache(s) || zero) {
		for (size_t i = 0; i < done; i++) {
			if (ann_cache(s))
				kmm_ann_obj_alloc(p[i], s->object_size, s->ctor != NULL);
			if (zero)
				kmm_memset(p[i], 0, s->object_size);
		}
	}
	return done;
}

/* kmm_slab_free_run (slab_classic.h): what a batched free could not push
 * on the slot's array, in one locked step. */
void kmm_slab_free_run(struct slab_cache *cachep, void **objs, unsigned int n, int nid)
{
	struct kmem_list3 *l3 = l3_of(cachep, nid);
	struct array_cache *shared;
	unsigned int put = 0;
	kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
	shared = l3->shared;
	if (shared) {
		put = shared->limit - shared->avail;
		if (put > n)
			put = n;
		for (unsigned int k = 0; k < put; k++)
			shared->entry[shared->avail + k] = objs[k];
		shared->avail += put;
	}
	free_block(cachep, objs + put, n - put, nid);
	kmm_unlock(&l3->list_lock);
}

void kmm_slab_reap_tick(struct kmm_cpu *c)
{
	maybe_reap(c);
}

/* Check obj as slab_free would (kmm_bulk_check_obj) and mark it FREE;
 * false: it needs kmem_cache_free's own path. */
static inline bool bulk_mark_free(struct kmm_bulk_check *x, void *obj, const struct kmem_cache *s, bool ann)
{
	kmem_bufctl_t *bufctl = kmm_bulk_check_obj(x, obj);
	if (unlikely(!bufctl))
		return false;
	if (ann)
		kmm_ann_obj_free(obj, s->object_size);
	__atomic_store_n(bufctl, BUFCTL_FREE, __ATOMIC_RELAXED);
	return true;
}

/*
 * The backend's kmem_cache_free_bulk: p[0], p[1], ... while each passes
 * slab_free's checks (kmm_bulk_check_obj) and lies on the slot's node:
 * marked FREE and pushed on the slot's array; once the array is full the
 * rest go to the node in one locked step (kmm_slab_free_run), onto the
 * shared array as far as it has room (what cache_flusharray would move
 * there, in one batch), then to their slabs.  Stops at the first object
 * that needs more - NULL, misuse, another node, a cache with debug flags
 * or init_on_free, a slot that cannot be entered - for the front to free
 * it through kmem_cache_free's checks.  Returns how many were freed.
 */
size_t slab_cache_free_bulk(struct kmem_cache *s, size_t size, void **p, void *caller)
{
	struct slab_cache *cachep = SC(s);
	struct kmm_cpu *c = kmm_cpu_get();
	struct kmm_bulk_check x;
	size_t i = 0, over;
	(void)caller;
	if ((s->flags & SLAB_DEBUG_FLAGS) || s->init_on_free || !c || !cachep->array || !kmm_cpu_enter(c))
		return 0;
	struct array_cache *ac = cachep->array[c->cpu];
	if (unlikely(!ac)) {
		/* the slot's first use of the cache: its array first, as a
		 * single free would make it (without one: all to the node) */
		kmm_cpu_exit(c);
		cpu_array_create(cachep, c);
		if (!kmm_cpu_enter(c))
			return 0;
		ac = cachep->array[c->cpu];
	}
	if (size > UINT_MAX)
		size = UINT_MAX;	/* free_block's count; the front calls again */
	kmm_bulk_check_init(&x, cachep, c->nid);
	const bool ann = ann_cache(s);
	/* onto the slot's array while it has room */
	if (likely(ac != NULL)) {
		unsigned int avail = ac->avail, limit = ac->limit;
		for (; i < size && avail < limit && bulk_mark_free(&x, p[i], s, ann); i++)
			ac->entry[avail++] = p[i];
		ac->avail = avail;
	}
	/* the rest, checked and marked, go to the node below */
	for (over = i; i < size && bulk_mark_free(&x, p[i], s, ann); i++)
		;
	if (over < i)
		kmm_slab_free_run(cachep, p + over, (unsigned int)(i - over), c->nid);
	kmm_cpu_exit(c);
	if (over < i)
		maybe_reap(c);
	return i;
}

/* ------------------------------------------------------------------ */
/* Lifetime: made on first use, freed by kmm_drain_all                 */
/* ------------------------------------------------------------------ */

/* The arrays are made on first use, from whatever context the use comes:
 * never sleep, never dip into the reserve, never warn (no array only
 * means the locked path). */
#define ARRAY_GFP (GFP_NOWAIT | __GFP_NOWARN)

static struct array_cache *alloc_arraycache(int nid, unsigned int entries, unsigned int batchcount)
{
	struct array_cache *ac = kmalloc_internal(sizeof(*ac) + entries * sizeof(void *), ARRAY_GFP, nid);
	if (ac) {
		ac->avail = 0;
		ac->limit = entries;
		ac->batchcount = batchcount;
		ac->touched = 0;
	}
	return ac;
}

/* Has another slot of c's node an array of cachep?  A hint, read without
 * the other slots' protocol: a stale answer only makes the node's shared
 * array one array creation earlier or later. */
static bool node_has_other_array(struct slab_cache *cachep, const struct kmm_cpu *c)
{
	for (int i = 0; i < kmm.nr_cpus; i++)
		if (i != c->cpu && kmm.cpus[i].nid == c->nid && __atomic_load_n(&cachep->array[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

/*
 * cpu_array_create - slot c's first use of cachep (an allocation or a
 * free by the slot's owner): make the slot's array cache, and the node's
 * shared array when the cache has one, the node has none yet and another
 * slot of the node has an array (one slot alone has nobody to share with:
 * it runs as 2.6 does on one CPU, without a shared array), and publish
 * them.  The owner calls it outside the slot and every lock (it
 * allocates).  The array is published inside the slot (so a nested use,
 * a signal handler, cannot publish a second one) with a release store (so
 * a remote drainer's acquire load sees it whole, or NULL: it starts
 * empty).  Returns true when the slot has an array now; false when there
 * is no memory for it or the slot is held by a drainer: the caller takes
 * the locked path, and a later slow path tries again.  The caller reads
 * the array again inside the slot: kmm_drain_all may free it whenever
 * the slot is quiet (slab_drop_slot_caches).
 */
bool cpu_array_create(struct slab_cache *cachep, struct kmm_cpu *c)
{
	struct kmem_list3 *l3 = l3_of(cachep, c->nid);
	/* the boot's own allocations (the layers' init) take the locked
	 * paths: a booted machine caches nothing, as after kmm_drain_all */
	if (unlikely(!kmm.boot_done))
		return false;
	if (cachep->shared && node_has_other_array(cachep, c)) {
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		bool need = !l3->shared;
		kmm_unlock(&l3->list_lock);
		struct array_cache *sh = need ? alloc_arraycache(c->nid, cachep->shared * cachep->batchcount, 0xbaadf00d)
					      : NULL;
		if (sh) {
			kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
			if (!l3->shared) {
				l3->shared = sh;
				sh = NULL;
			}
			kmm_unlock(&l3->list_lock);
			kfree_internal(sh);	/* another slot of the node was first */
		}
	}
	struct array_cache *ac = alloc_arraycache(c->nid, cachep->limit, cachep->batchcount);
	if (!ac)
		return false;
	bool have = false;
	if (kmm_cpu_enter(c)) {
		if (!cachep->array[c->cpu]) {
			__atomic_store_n(&cachep->array[c->cpu], ac, __ATOMIC_RELEASE);
			ac = NULL;
		}
		have = true;
		kmm_cpu_exit(c);
	}
	kfree_internal(ac);	/* not published */
	return have;
}

/* Every node's shared array of the cache back to the slabs and freed
 * (read only under list_lock). */
static void free_shared_arrays(struct slab_cache *cachep)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		struct array_cache *shared = l3->shared;
		l3->shared = NULL;
		if (shared)
			free_block(cachep, shared->entry, shared->avail, nid);
		kmm_unlock(&l3->list_lock);
		kfree_internal(shared);
	}
}

/* Every array of the cache back to the slabs and freed (no other user). */
void free_arrays(struct slab_cache *cachep)
{
	if (!cachep->array)
		return;
	free_shared_arrays(cachep);
	for (int cpu = 0; cpu < kmm.nr_cpus; cpu++) {
		struct array_cache *ac = slot_array(cachep, cpu);
		if (!ac)
			continue;
		int nid = kmm.cpus[cpu].nid;
		kmm_lock(&l3_of(cachep, nid)->list_lock, KMM_LC_SLAB_NODE);
		free_block(cachep, ac->entry, ac->avail, nid);
		kmm_unlock(&l3_of(cachep, nid)->list_lock);
		__atomic_store_n(&cachep->array[cpu], NULL, __ATOMIC_RELAXED);
		kfree_internal(ac);
	}
}

/* drain_slot: slot c's arrays of every cache back to the slabs.  The
 * slot is quiet (its owner is outside every fast path). */
void slab_drain_slot(struct kmm_cpu *c)
{
	struct kmem_cache *s;
	if (slab_state < SLAB_UP || slab_state == SLAB_SHUTDOWN)
		return;
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		if (cachep->array)
			drain_array(cachep, slot_array(cachep, c->cpu), c->nid, true, false);
	}
	kmm_unlock(&slab_mutex);
}

/* kmm_drain_all: slot c's arrays of every cache back to the slabs and
 * freed; c is quiet (every slot is held), and its owner reads its arrays
 * only inside the slot, so it finds NULL next and makes a new one. */
static void drop_slot_arrays(struct kmm_cpu *c, void *arg)
{
	struct kmem_cache *s;
	(void)arg;
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		struct array_cache *ac = cachep->array ? slot_array(cachep, c->cpu) : NULL;
		if (!ac)
			continue;
		drain_array(cachep, ac, c->nid, true, false);
		__atomic_store_n(&cachep->array[c->cpu], NULL, __ATOMIC_RELAXED);
		kfree_internal(ac);
	}
	kmm_unlock(&slab_mutex);
}

/* ... and every node's shared arrays (read only under list_lock). */
static void drop_shared_arrays(void *arg)
{
	struct kmem_cache *s;
	(void)arg;
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_for_each_entry(s, &slab_caches, list)
		free_shared_arrays(SC(s));
	kmm_unlock(&slab_mutex);
}

/*
 * kmm_drain_all's first step: free the array caches themselves, so the
 * drain gets the machine back to the boot's accounting (the arrays are
 * made on first use, cpu_array_create, and would otherwise stay as
 * memory no boot had).  Linux never frees them (it has no such drain);
 * the cost is one array allocation per slot and cache used afterwards.
 */
void slab_drop_slot_caches(void)
{
	if (slab_state != SLAB_UP)
		return;
	kmm_with_slots_quiet(drop_slot_arrays, drop_shared_arrays, NULL);
}
