/*
 * slab_check.c - the classic SLAB backend's verification and reports:
 * slab_check (kmm_check), the leak listing behind cache_live
 * (slab_cache_live) and slabinfo rows.  The allocator and the overview of
 * SLAB are in slab.c, the array caches in slab_cpu.c; the structures and
 * helpers the backend's files share in slab_classic.h.
 *
 * 1. Overview
 *    slab_check holds every slot it can quiet (kmm_with_slots_quiet;
 *    mark_quiet notes which), then walks the chain under slab_mutex and
 *    each cache's nodes under their list_lock: every slab of the three
 *    lists (check_slab), the shared array and the quiet slots' arrays
 *    (check_array), the node's counts (check_node).  The FREE bufctls are
 *    matched against the arrays' entries only when every slot was quiet.
 *
 * 2. Invariants (slab_check verifies each)
 *    - A slab on slabs_full has inuse == num, on slabs_partial 0 < inuse <
 *      num, on slabs_free inuse == 0; its nodeid is its list's node; every
 *      page of it is PG_slab with slab_cache/slab_mgmt pointing at the
 *      cache and the descriptor, s_mem equal to the descriptor's (object
 *      0) and slab_tag equal to the cache's page_tag
 *      (kmm_slab_cache_set_tag); a page leaving a slab has both cleared,
 *      so no other page carries a tag.
 *    - The free chain from slab->free stays inside the slab, ends in
 *      BUFCTL_END after exactly num - inuse objects (so it has no cycle),
 *      and the other inuse bufctls hold a state: FREE (in an array cache),
 *      ACTIVE, INTERNAL or QUARANTINE.
 *    - free_objects of a node = sum of num - inuse of its slabs.
 *    - Array caches (per slot and shared) hold only FREE objects of their
 *      cache on their node, each once: the FREE bufctls of a node are
 *      exactly the objects in its arrays.
 *    - cachep->array[cpu] is NULL or that slot's array (limit and
 *      batchcount the cache's); none exists before boot_done.
 *    - With red zones or poisoning, every free object's are intact.
 *
 * 3. Locks
 *    slab_mutex, then a node's list_lock (slab.c section 4).  slabinfo
 *    rows are formatted under slab_mutex and printed after it is dropped
 *    (printing may call back into kmm); slab_cache_live calls its listing
 *    callback under the node's list_lock.
 *
 * 4. Behaviour on failure
 *    A structural violation fails kmm_check (kmm_check_fail) and is left
 *    as found; a free object's damaged red zones or poison are reported by
 *    slab_debug_check_free (slab_debug.c), whose result slab_check returns.
 */
#include "slab_classic.h"

/* ------------------------------------------------------------------ */
/* Live objects, slabinfo                                              */
/* ------------------------------------------------------------------ */

/* Objects of s in state ACTIVE (user objects), listing up to max. */
unsigned long slab_cache_live(struct kmem_cache *s, void (*list_fn)(struct kmem_cache *, void *, void *),
			      void *arg, unsigned long max)
{
	struct slab_cache *cachep = SC(s);
	unsigned long live = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		struct list_head *lists[2] = { &l3->slabs_full, &l3->slabs_partial };
		struct slab *slabp;
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		for (int i = 0; i < 2; i++) {
			list_for_each_entry(slabp, lists[i], list) {
				for (unsigned int idx = 0; idx < cachep->num; idx++) {
					if (bufctl_get(slabp, idx) != BUFCTL_ACTIVE)
						continue;
					if (list_fn && live < max)
						list_fn(s, index_to_obj(cachep, slabp, idx), arg);
					live++;
				}
			}
		}
		kmm_unlock(&l3->list_lock);
	}
	return live;
}

static void slabinfo_row(struct slab_cache *cachep, char *buf, size_t len)
{
	unsigned long active_objs = 0, num_slabs = 0, active_slabs = 0, shared_avail = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = l3_of(cachep, nid);
		struct slab *slabp;
		kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
		list_for_each_entry(slabp, &l3->slabs_full, list) {
			active_objs += cachep->num;
			active_slabs++;
		}
		list_for_each_entry(slabp, &l3->slabs_partial, list) {
			active_objs += slabp->inuse;
			active_slabs++;
		}
		list_for_each_entry(slabp, &l3->slabs_free, list)
			num_slabs++;
		if (l3->shared)
			shared_avail += l3->shared->avail;
		kmm_unlock(&l3->list_lock);
	}
	num_slabs += active_slabs;
	kmm_snprintf(buf, len, "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n",
		     cachep->common.name, active_objs, num_slabs * cachep->num, cachep->buffer_size, cachep->num,
		     1 << cachep->gfporder, cachep->limit, cachep->batchcount, cachep->shared, active_slabs,
		     num_slabs, shared_avail);
}

/* Rows in chain order; each is formatted under slab_mutex and emitted
 * after it is dropped (emit may call back into kmm). */
void slab_slabinfo(struct kmm_textbuf *tb)
{
	char row[192];
	for (unsigned int i = 0;; i++) {
		struct kmem_cache *s;
		unsigned int k = 0;
		bool found = false;
		kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
		list_for_each_entry(s, &slab_caches, list) {
			if (k++ == i) {
				slabinfo_row(SC(s), row, sizeof(row));
				found = true;
				break;
			}
		}
		kmm_unlock(&slab_mutex);
		if (!found)
			break;
		kmm_tb_printf(tb, "%s", row);
	}
}

/* ------------------------------------------------------------------ */
/* Check                                                               */
/* ------------------------------------------------------------------ */

struct slab_check_state {
	bool quiet[NR_CPUS];
	bool all_quiet;
	int err;
};

static void mark_quiet(struct kmm_cpu *c, void *arg)
{
	struct slab_check_state *st = arg;
	st->quiet[c->cpu] = true;
}

/* One slab of node nid found on list `which` (0 full, 1 partial, 2 free). */
static int check_slab(struct slab_cache *cachep, struct slab *slabp, int nid, int which, unsigned long *free_state)
{
	const char *name = cachep->common.name;
	struct kmem_cache *s = &cachep->common;
	if (slabp->nodeid != nid)
		return kmm_check_fail("slab", "%s: slab %p on node %d's lists says node %u", name, (void *)slabp, nid,
				      slabp->nodeid);
	bool bad_list = which == 0 ? slabp->inuse != cachep->num
				   : which == 1 ? (slabp->inuse == 0 || slabp->inuse >= cachep->num) : slabp->inuse != 0;
	if (bad_list)
		return kmm_check_fail("slab", "%s: slab %p with %u of %u objects in use is on slabs_%s", name,
				      (void *)slabp, slabp->inuse, cachep->num,
				      which == 0 ? "full" : which == 1 ? "partial" : "free");
	struct page *page = slab_first_page(slabp);
	for (unsigned long i = 0; i < (1UL << cachep->gfporder); i++)
		if (!PageSlab(page + i) || page[i].slab_cache != s || page[i].slab_mgmt != slabp ||
		    page[i].s_mem != slabp->s_mem || page[i].slab_tag != cachep->page_tag)
			return kmm_check_fail("slab", "%s: page %lu of slab %p is not marked as the slab's", name, i,
					      (void *)slabp);
	/* the free chain: inside the slab, exactly num - inuse long */
	unsigned int steps = 0;
	for (kmem_bufctl_t idx = slabp->free; idx != BUFCTL_END; idx = bufctl_get(slabp, idx)) {
		if (idx >= cachep->num || ++steps > cachep->num - slabp->inuse)
			return kmm_check_fail("slab", "%s: freelist corrupt in slab %p: chain leaves the slab or loops",
					      name, (void *)slabp);
	}
	if (steps != cachep->num - slabp->inuse)
		return kmm_check_fail("slab", "%s: slab %p: %u objects on the free chain, %u expected", name,
				      (void *)slabp, steps, cachep->num - slabp->inuse);
	unsigned int taken = 0;
	int err = 0;
	for (unsigned int idx = 0; idx < cachep->num; idx++) {
		kmem_bufctl_t v = bufctl_get(slabp, idx);
		if (bufctl_is_taken(v)) {
			taken++;
			if (v == BUFCTL_FREE)
				(*free_state)++;
		} else if (v >= cachep->num && v != BUFCTL_END) {
			return kmm_check_fail("slab", "%s: slab %p object %u has bufctl %#x", name, (void *)slabp, idx, v);
		}
		bool is_free = !bufctl_is_taken(v) || v == BUFCTL_FREE;
		if (is_free && (s->flags & (SLAB_RED_ZONE | SLAB_POISON)) && !err)
			err = slab_debug_check_free(s, obj_to_slot(s, index_to_obj(cachep, slabp, idx)));
	}
	if (taken != slabp->inuse)
		return kmm_check_fail("slab", "%s: slab %p: inuse %u but %u objects off the free chain", name,
				      (void *)slabp, slabp->inuse, taken);
	return err;
}

/* An array cache of node nid: FREE objects of this cache, on this node. */
static int check_array(struct slab_cache *cachep, struct array_cache *ac, int nid, const char *what,
		       unsigned long *entries)
{
	const char *name = cachep->common.name;
	if (!ac)
		return 0;
	if (ac->avail > ac->limit)
		return kmm_check_fail("slab", "%s: %s array holds %u of %u", name, what, ac->avail, ac->limit);
	for (unsigned int i = 0; i < ac->avail; i++) {
		void *obj = ac->entry[i];
		if (!kmm_is_linear_addr(obj) || !PageSlab(obj_page(obj)) || obj_page(obj)->slab_cache != &cachep->common)
			return kmm_check_fail("slab", "%s: %s array entry %u (%p) is not an object of the cache", name,
					      what, i, obj);
		struct slab *slabp = obj_slab(obj);
		size_t off = (size_t)((char *)obj - (char *)slabp->s_mem);
		unsigned int idx = offset_to_index(cachep, off);
		if (slabp->nodeid != nid || (char *)obj < (char *)slabp->s_mem ||
		    off >= (size_t)cachep->num * cachep->buffer_size ||
		    off - (size_t)idx * cachep->buffer_size != cachep->common.obj_offset ||
		    bufctl_get(slabp, idx) != BUFCTL_FREE)
			return kmm_check_fail("slab", "%s: %s array entry %u (%p) is not a free object of node %d", name,
					      what, i, obj, nid);
	}
	*entries += ac->avail;
	return 0;
}

static int check_node(struct slab_cache *cachep, int nid, struct slab_check_state *st)
{
	struct kmem_list3 *l3 = l3_of(cachep, nid);
	struct list_head *lists[3] = { &l3->slabs_full, &l3->slabs_partial, &l3->slabs_free };
	unsigned long free_objects = 0, free_state = 0, entries = 0, limit = kmm.max_pfn;
	int err = 0;
	for (int w = 0; w < 3 && !err; w++) {
		struct slab *slabp;
		list_for_each_entry(slabp, lists[w], list) {
			if (!limit--) {
				err = kmm_check_fail("slab", "%s: node %d: slab list loops", cachep->common.name, nid);
				break;
			}
			err = check_slab(cachep, slabp, nid, w, &free_state);
			if (err)
				break;
			free_objects += cachep->num - slabp->inuse;
		}
	}
	if (!err && free_objects != l3->free_objects)
		err = kmm_check_fail("slab", "%s: node %d: free_objects %lu, slabs hold %lu free", cachep->common.name,
				     nid, l3->free_objects, free_objects);
	if (!err)
		err = check_array(cachep, l3->shared, nid, "shared", &entries);
	for (int cpu = 0; !err && cachep->array && cpu < kmm.nr_cpus; cpu++)
		if (kmm.cpus[cpu].nid == nid && st->quiet[cpu])
			err = check_array(cachep, slot_array(cachep, cpu), nid, "per-CPU", &entries);
	if (!err && st->all_quiet && entries != free_state)
		err = kmm_check_fail("slab", "%s: node %d: %lu objects marked free-in-array, arrays hold %lu",
				     cachep->common.name, nid, free_state, entries);
	return err;
}

static void check_caches(void *arg)
{
	struct slab_check_state *st = arg;
	struct kmem_cache *s;
	st->all_quiet = true;
	for (int cpu = 0; cpu < kmm.nr_cpus; cpu++)
		st->all_quiet &= st->quiet[cpu];
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_for_each_entry(s, &slab_caches, list) {
		struct slab_cache *cachep = SC(s);
		if (s->magic != KMEM_CACHE_MAGIC) {
			st->err = kmm_check_fail("slab", "cache %p on the chain has a bad magic", (void *)s);
			break;
		}
		for (int nid = 0; nid < kmm.nr_nodes && !st->err; nid++) {
			struct kmem_list3 *l3 = l3_of(cachep, nid);
			kmm_lock(&l3->list_lock, KMM_LC_SLAB_NODE);
			st->err = check_node(cachep, nid, st);
			kmm_unlock(&l3->list_lock);
		}
		if (st->err)
			break;
	}
	kmm_unlock(&slab_mutex);
}

int slab_check(void)
{
	struct slab_check_state st;
	if (slab_state == SLAB_DOWN || slab_state == SLAB_SHUTDOWN)
		return 0;
	kmm_memset(&st, 0, sizeof(st));
	kmm_with_slots_quiet(mark_quiet, check_caches, &st);
	return st.err;
}
