/*
 * pcp.c - CPU slots and the per-CPU page frame cache.
 *
 * 1. Overview
 *    The kernel keeps, per CPU and zone, short lists of free page frames
 *    so most order-0 requests never take the zone lock (ULK3 8.1.8).  In
 *    user space a *CPU slot* stands for a CPU: a thread is bound to a free
 *    slot on its first call (kmm_cpu_get) and keeps it until it exits,
 *    when its slot is drained and released (and runs slotless for
 *    whatever its remaining exit destructors allocate).  A thread that
 *    finds every slot taken runs "slotless": straight to the buddy lists
 *    under the zone lock.  Slots are spread over the nodes round-robin
 *    (slot i belongs to node i % nr_nodes).
 *
 *    List sizes.  classic [2.6.11]: batch = managed/1024 pages, capped at
 *    256 KiB worth, divided by 4, at least 1 (16 for zones of 256 MiB or
 *    more); high = 6 * batch (the hot list); only order 0 is cached.
 *    modern [6.x]: batch = min(managed >> 10, 1 MiB worth) / 4, rounded to
 *    2^n - 1 (63 for zones of 1 GiB); high = max(low watermark / slots of
 *    the node, 4 * batch); orders 0..3 are cached.  Lists are kept per
 *    migrate type [2.6.31+] so grouping by mobility survives the cache.
 *    Refill [2.6.24 rule, both profiles: 2.6.11 refilled its single hot
 *    list at count <= 2 * batch, which per-type lists make meaningless]:
 *    when the list for (order, type) is empty, `batch` blocks
 *    (batch >> order, at least 2, for order > 0) come from the buddy lists
 *    in one zone-lock hold.  Free: at the head; when count >= high, `batch`
 *    pages go back from the list tails, round-robin over the lists starting
 *    with the one just freed to, in one zone-lock hold.
 *
 * 2. The slot protocol (fast paths: no lock, no atomic read-modify-write)
 *    Owner:  busy = 1; compiler barrier; if drain_pending: busy = 0 and
 *            take the slow path; ... use the lists ...; busy = 0 (release).
 *    Remote drainer (reclaim, kmm_drain_all, kmm_check): takes the slot's
 *            remote_lock, sets drain_pending, runs kmm_plat_heavy_barrier
 *            (membarrier: a full barrier on every running thread), waits
 *            while busy, drains, clears drain_pending (release).
 *    After the heavy barrier either the owner's busy = 1 is visible to the
 *    drainer, or the owner's later load sees drain_pending: the two never
 *    use the lists at once.  Where the host has no such barrier, slots
 *    owned by other threads are not drained remotely.  Nested use (a signal
 *    handler interrupting a fast path) sees busy already set and takes the
 *    slow path.
 *
 * 3. Invariants (pcp_check)
 *    - pcp->count = sum over its lists of 2^order per block;
 *    - a block on list (order, mt) is PG_pcp, pcp_order == order,
 *      private == mt, refcount 0, in the zone the pcp belongs to;
 *    - a slot with owned == 0 holds nothing (drained at release).
 *    - a slot's lists exist once pcp_ready is set (its first bind:
 *      pcp_slot_init; 2.6 set up every possible CPU's pagesets at boot,
 *      kmm boots 64 or more slots where a process uses a few); until then
 *      it holds nothing and only its owner-to-be touches them.  Readers
 *      other than the owner (drains, kmm_check, zoneinfo) check pcp_ready
 *      (acquire) first.
 *
 * 4. Locks
 *    The fast paths take none.  Refill and drain take one zone lock at a
 *    time.  remote_lock (per slot) serialises drainers; slots are locked in
 *    index order by pcp_drain_all.
 */
#include "internal.h"

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

unsigned long kmm_sum_event(enum vm_event_item item)
{
	unsigned long n = __atomic_load_n(&kmm.slotless_events[item], __ATOMIC_RELAXED);
	for (int i = 0; i < kmm.nr_cpus; i++)
		n += __atomic_load_n(&kmm.cpus[i].events[item], __ATOMIC_RELAXED);
	return n;
}

/* ------------------------------------------------------------------ */
/* Sizes                                                               */
/* ------------------------------------------------------------------ */

static int slots_on_node(int nid)
{
	int n = 0;
	for (int i = 0; i < kmm.nr_cpus; i++)
		n += kmm.cpus[i].nid == nid;
	return n ? n : 1;
}

static void zone_pcp_sizes(struct zone *z)
{
	long batch;
	if (kmm.cfg.profile == PROFILE_MODERN) {
		batch = (long)(z->managed_pages >> 10);
		if (batch > (long)((1UL << 20) >> PAGE_SHIFT))
			batch = (long)((1UL << 20) >> PAGE_SHIFT);
		batch /= 4;
		if (batch < 1)
			batch = 1;
		batch = (long)kmm_rounddown_pow_of_two((unsigned long)(batch + batch / 2)) - 1;
		if (batch < 1)
			batch = 1;
		long high = (long)z->watermark[WMARK_LOW] / slots_on_node(z->zone_pgdat->node_id);
		if (high < 4 * batch)
			high = 4 * batch;
		z->pcp_batch = (int)batch;
		z->pcp_high = (int)high;
	} else {
		batch = (long)(z->present_pages / 1024);	/* [2.6.11] sized by present pages */
		if (batch * (long)PAGE_SIZE > 256 * 1024)
			batch = (256 * 1024) / (long)PAGE_SIZE;
		batch /= 4;
		if (batch < 1)
			batch = 1;
		z->pcp_batch = (int)batch;
		z->pcp_high = (int)(6 * batch);
	}
}

/* Boot: the list sizes of every zone (a slot's lists are set up when a
 * thread first binds it: pcp_slot_init). */
void pcp_init(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			zone_pcp_sizes(&NODE_DATA(nid)->node_zones[zi]);
}

/*
 * pcp_slot_init - slot c's lists for every zone, on its first bind (the
 * binder owns c; nobody used its lists yet).  Published by pcp_ready
 * (release), which every reader that is not the owner checks first
 * (acquire): a slot no thread ever bound holds nothing and its lists are
 * never walked, so a boot with many slots touches the lists of the slots
 * it uses only ([2.6] set up every possible CPU's pagesets at boot).
 */
static void pcp_slot_init(struct kmm_cpu *c)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			struct per_cpu_pages *pcp = &c->pcp[z->zone_id];
			pcp->count = 0;
			pcp->batch = z->pcp_batch;
			pcp->high = z->pcp_high;
			for (int l = 0; l < NR_PCP_LISTS; l++)
				INIT_LIST_HEAD(&pcp->lists[l]);
		}
	__atomic_store_n(&c->pcp_ready, 1, __ATOMIC_RELEASE);
}

/* Has slot c's owner (now or before) set its lists up?  For readers other
 * than the owner. */
static inline bool pcp_slot_ready(const struct kmm_cpu *c)
{
	return __atomic_load_n(&c->pcp_ready, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ */
/* The lists                                                           */
/* ------------------------------------------------------------------ */

/*
 * pcp_rmqueue - take a block of the given order and type from slot c's
 * list for zone z, refilling the list from the buddy lists when empty.
 * The caller is inside kmm_cpu_enter/exit.  Returns NULL when the zone
 * had nothing for the refill.
 */
struct page *pcp_rmqueue(struct kmm_cpu *c, struct zone *z, unsigned int order, int mt)
{
	struct per_cpu_pages *pcp = &c->pcp[z->zone_id];
	struct list_head *list = &pcp->lists[pcp_list_index(order, mt)];

	if (list_empty(list)) {
		int want = order ? pcp->batch >> order : pcp->batch;
		int got = 0;
		if (want < (order ? 2 : 1))
			want = order ? 2 : 1;
		kmm_lock(&z->lock, KMM_LC_ZONE);
		for (; got < want; got++) {
			struct page *page = __rmqueue(z, order, mt, false);
			if (!page)
				break;
			SetPagePcp(page);
			page->pcp_order = (unsigned char)order;
			page->private = (unsigned long)mt;
			list_add_tail(&page->lru, list);
		}
		kmm_unlock(&z->lock);
		WRITE_ONCE(pcp->count, pcp->count + (got << order));
		kmm_count_event(c, PCP_REFILL, 1);
		if (!got)
			return NULL;
	}
	struct page *page = list_first_entry(list, struct page, lru);
	list_del(&page->lru);
	WRITE_ONCE(pcp->count, pcp->count - (1 << order));
	ClearPagePcp(page);
	page->pcp_order = 0;
	page->private = 0;
	return page;
}

/* Give `count` pages from the list tails back to the buddy lists, starting
 * with list `start` and going round-robin; one zone-lock hold. */
static void free_pcppages_bulk(struct per_cpu_pages *pcp, struct zone *z, int count, int start)
{
	int list = start, empty_rounds = 0;
	kmm_lock(&z->lock, KMM_LC_ZONE);
	/* [6.x] take from one list (its tail) until it is empty or count is
	 * reached, then go on to the next; empty_rounds stops a walk whose
	 * count disagrees with the lists (kmm_check reports that). */
	while (count > 0 && pcp->count > 0 && empty_rounds < NR_PCP_LISTS) {
		struct list_head *l = &pcp->lists[list];
		empty_rounds = list_empty(l) ? empty_rounds + 1 : 0;
		while (count > 0 && !list_empty(l)) {
			struct page *page = list_last_entry(l, struct page, lru);
			unsigned int order = page->pcp_order;
			list_del(&page->lru);
			ClearPagePcp(page);
			page->pcp_order = 0;
			page->private = 0;
			WRITE_ONCE(pcp->count, pcp->count - (1 << order));
			count -= 1 << order;
			unsigned long pfn = kmm_page_to_pfn(page);
			__free_one_page(page, pfn, z, order, get_pageblock_migratetype(pfn));
		}
		if (++list == NR_PCP_LISTS)
			list = 0;
	}
	unsigned long budget = kmm_report_budget_pages(z);
	if (z->unreported_pages > budget)
		__report_free_pages(z, budget / 2);
	kmm_unlock(&z->lock);
	kmm_page_alloc_wake();
}

/*
 * pcp_free - put a freed block on slot c's list; trims the list when it
 * reaches high.  Returns false when the block does not belong on a
 * per-CPU list (HIGHATOMIC pageblock): the caller frees it to the buddy.
 */
bool pcp_free(struct kmm_cpu *c, struct page *page, unsigned int order)
{
	unsigned long pfn = kmm_page_to_pfn(page);
	int mt = get_pageblock_migratetype(pfn);
	if (mt >= MIGRATE_PCPTYPES)
		return false;
	struct zone *z = page_zone(page);
	struct per_cpu_pages *pcp = &c->pcp[z->zone_id];
	int idx = pcp_list_index(order, mt);
	SetPagePcp(page);
	page->pcp_order = (unsigned char)order;
	page->private = (unsigned long)mt;
	list_add(&page->lru, &pcp->lists[idx]);
	WRITE_ONCE(pcp->count, pcp->count + (1 << order));
	if (pcp->count >= pcp->high) {
		kmm_count_event(c, PCP_DRAIN, 1);
		free_pcppages_bulk(pcp, z, pcp->batch, idx);
	}
	return true;
}

void pcp_drain_zone_lists(struct per_cpu_pages *pcp, struct zone *z)
{
	if (pcp->count)
		free_pcppages_bulk(pcp, z, pcp->count, 0);
}

/* Drain everything slot c caches: the layers' caches, then the page lists.
 * The caller has exclusive use of the slot (its owner is outside every
 * fast path, or gone). */
void pcp_drain_slot(struct kmm_cpu *c)
{
	for (int i = kmm_nr_layers - 1; i >= 0; i--)
		if (kmm_layers[i]->drain_slot)
			kmm_layers[i]->drain_slot(c);
	if (!pcp_slot_ready(c))
		return;	/* never bound: no lists */
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			if (populated_zone(z))
				pcp_drain_zone_lists(&c->pcp[z->zone_id], z);
		}
}

/* ------------------------------------------------------------------ */
/* Binding slots to threads                                            */
/* ------------------------------------------------------------------ */

static unsigned int next_slot_hint;

static struct kmm_cpu *bind_slot(struct kmm_thread *t)
{
	unsigned long gen = __atomic_load_n(&kmm.slot_release_gen, __ATOMIC_ACQUIRE);
	if (t->slotless_gen == gen + 1)
		return NULL;	/* every slot was taken and none was released since */
	unsigned int start = __atomic_fetch_add(&next_slot_hint, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < kmm.nr_cpus; i++) {
		struct kmm_cpu *c = &kmm.cpus[(start + (unsigned int)i) % (unsigned int)kmm.nr_cpus];
		int expected = 0;
		if (__atomic_load_n(&c->owned, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&c->owned, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			if (!__atomic_load_n(&c->pcp_ready, __ATOMIC_RELAXED))
				pcp_slot_init(c);
			t->cpu = c;
			kmm_plat_thread_watch();
			return c;
		}
	}
	t->slotless_gen = gen + 1;
	return NULL;
}

/* kmm_cpu_get_slow - kmm_cpu_get when the thread has no slot of this
 * boot yet: bind one; NULL before boot or when every slot is owned. */
struct kmm_cpu *kmm_cpu_get_slow(void)
{
	struct kmm_thread *t = kmm_thread();
	if (likely(t->cpu))
		return t->cpu;
	if (!kmm.booted || !kmm.cpus || t->exited)
		return NULL;
	return bind_slot(t);
}

static void release_slot(struct kmm_cpu *c)
{
	__atomic_store_n(&c->owned, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&kmm.slot_release_gen, 1, __ATOMIC_RELEASE);
}

/*
 * pcp_thread_exit - the platform's thread-exit destructor: drain the
 * exiting thread's slot and release it, so no page or object stays cached
 * for a thread that is gone.  The thread runs slotless from here on: a
 * destructor that runs later (another pthread key's, libc's own
 * thread-exit frees through a malloc shim) must not bind a slot again,
 * which nothing would release once the destructor rounds are over.
 */
void pcp_thread_exit(void *thread_state)
{
	struct kmm_thread *t = thread_state;
	if (!kmm.booted || t->boot_gen != kmm.boot_gen || !t->cpu)
		return;
	t->exited = true;
	struct kmm_cpu *c = t->cpu;
	/* a remote drainer may hold the slot right now: wait for it */
	while (!kmm_cpu_enter(c))
		kmm_plat_relax();
	pcp_drain_slot(c);
	kmm_cpu_exit(c);
	t->cpu = NULL;
	release_slot(c);
}

/* ------------------------------------------------------------------ */
/* Remote draining                                                     */
/* ------------------------------------------------------------------ */

/*
 * with_all_slots_quiet - run fn on every slot while its owner is outside
 * every fast path (the protocol in section 2).  Slots owned by other
 * threads are skipped when the host has no heavy barrier.
 */
static void with_all_slots_quiet(void (*fn)(struct kmm_cpu *c, void *arg), void (*after)(void *arg), void *arg)
{
	struct kmm_thread *t = kmm_thread();
	for (int i = 0; i < kmm.nr_cpus; i++) {
		kmm_lock(&kmm.cpus[i].remote_lock, KMM_LC_SLOT_REMOTE);
		__atomic_store_n(&kmm.cpus[i].drain_pending, 1, __ATOMIC_SEQ_CST);
	}
	bool barrier_ok = kmm_plat_heavy_barrier();
	for (int i = 0; i < kmm.nr_cpus; i++) {
		struct kmm_cpu *c = &kmm.cpus[i];
		if (c != t->cpu) {
			if (!barrier_ok && __atomic_load_n(&c->owned, __ATOMIC_SEQ_CST))
				continue;
			while (__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE))
				kmm_plat_relax();
		}
		if (fn)
			fn(c, arg);
	}
	if (after)
		after(arg);
	for (int i = kmm.nr_cpus - 1; i >= 0; i--) {
		__atomic_store_n(&kmm.cpus[i].drain_pending, 0, __ATOMIC_RELEASE);
		kmm_unlock(&kmm.cpus[i].remote_lock);
	}
}

/*
 * kmm_with_slots_quiet - for the layers above (slab array caches): run fn
 * (may be NULL) on every slot held quiet, then after() while all still are.
 * fn sees only slots whose owner is outside every fast path; a slot owned
 * by another thread is skipped where the host has no heavy barrier.  The
 * caller holds no slab or zone lock (remote_lock ranks above them).
 */
void kmm_with_slots_quiet(void (*fn)(struct kmm_cpu *c, void *arg), void (*after)(void *arg), void *arg)
{
	if (kmm.booted)
		with_all_slots_quiet(fn, after, arg);
}

static void drain_slot_cb(struct kmm_cpu *c, void *arg)
{
	(void)arg;
	pcp_drain_slot(c);
}

/* drain_all_pages + the layers' per-slot caches, for every slot. */
void pcp_drain_all(void)
{
	if (!kmm.booted)
		return;
	with_all_slots_quiet(drain_slot_cb, NULL, NULL);
}

/* kmm_drain_all - see kmm/kmm.h. */
void kmm_drain_all(void)
{
	if (!kmm.booted)
		return;
	pcp_drain_all();
	/* the layers' drains free objects and pages (vmalloc's lazily freed
	 * descriptors, empty slabs), which land in this thread's CPU slot:
	 * drain it again, and run the layers a second time for the slabs
	 * those objects emptied */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = kmm_nr_layers - 1; i >= 0; i--)
			if (kmm_layers[i]->drain_all)
				kmm_layers[i]->drain_all();
		if (pass == 0)
			pcp_drain_all();
	}
	/* exact accounting: the HIGHATOMIC reserve goes back too, so fully
	 * free pageblocks merge into the blocks they came from */
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			kmm_lock(&z->lock, KMM_LC_ZONE);
			while (__unreserve_highatomic_pageblock(z, MIGRATE_MOVABLE))
				;
			kmm_unlock(&z->lock);
		}
	/* the layers' drains free pages (empty slabs, vmalloc descriptors),
	 * which land on this thread's per-CPU lists: drain those too */
	pcp_drain_all();
}

/* Shutdown: the machine is quiet; drain every slot and free them all. */
void pcp_release_all_slots(void)
{
	for (int i = 0; i < kmm.nr_cpus; i++) {
		pcp_drain_slot(&kmm.cpus[i]);
		kmm.cpus[i].owned = 0;
	}
}

unsigned long pcp_zone_pages(const struct zone *z)
{
	unsigned long n = 0;
	for (int i = 0; i < kmm.nr_cpus; i++)
		if (pcp_slot_ready(&kmm.cpus[i]))
			n += (unsigned long)__atomic_load_n(&kmm.cpus[i].pcp[z->zone_id].count, __ATOMIC_RELAXED);
	return n;
}

/* ------------------------------------------------------------------ */
/* Check                                                               */
/* ------------------------------------------------------------------ */

struct pcp_check_state {
	int err;
	unsigned long pages[MAX_NUMNODES * MAX_NR_ZONES];
};

static void check_slot(struct kmm_cpu *c, void *arg)
{
	struct pcp_check_state *st = arg;
	if (st->err)
		return;
	if (!pcp_slot_ready(c))
		return;	/* never bound (or being bound right now): its lists are empty */
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			struct per_cpu_pages *pcp = &c->pcp[z->zone_id];
			long count = 0;
			for (int l = 0; l < NR_PCP_LISTS; l++) {
				unsigned int order = (unsigned int)(l / MIGRATE_PCPTYPES);
				int mt = l % MIGRATE_PCPTYPES;
				struct page *page;
				list_for_each_entry(page, &pcp->lists[l], lru) {
					if (!kmm_is_page_desc(page) || !PagePcp(page) || page->pcp_order != order ||
					    page->private != (unsigned long)mt || page_zone(page) != z || page->_refcount) {
						st->err = kmm_check_fail("pcp", "slot %d zone %s node %d: a block on list (order %u, %s) is not a free pcp block of that list",
									 c->cpu, z->name, nid, order, kmm_migratetype_names[mt]);
						return;
					}
					count += 1L << order;
					if (count > (long)z->spanned_pages) {
						st->err = kmm_check_fail("pcp", "slot %d zone %s: list loops", c->cpu, z->name);
						return;
					}
				}
			}
			if (count != pcp->count) {
				st->err = kmm_check_fail("pcp", "slot %d node %d zone %s: count %d, lists hold %ld pages",
							 c->cpu, nid, z->name, pcp->count, count);
				return;
			}
			if (!__atomic_load_n(&c->owned, __ATOMIC_RELAXED) && count) {
				st->err = kmm_check_fail("pcp", "slot %d is free but still caches %ld pages", c->cpu, count);
				return;
			}
			st->pages[z->zone_id] += (unsigned long)count;
		}
	}
}

/* With every slot still quiet: walk the zones and compare the pcp pages
 * they found with what the lists hold. */
static void check_zones(void *arg)
{
	struct pcp_check_state *st = arg;
	for (int nid = 0; nid < kmm.nr_nodes && !st->err; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES && !st->err; zi++) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			unsigned long walked = 0;
			if (!populated_zone(z))
				continue;
			kmm_lock(&z->lock, KMM_LC_ZONE);
			st->err = buddy_check_zone(z, &walked);
			kmm_unlock(&z->lock);
			if (!st->err && walked != st->pages[z->zone_id])
				st->err = kmm_check_fail("pcp", "node %d zone %s: %lu pages marked per-CPU, lists hold %lu",
							 nid, z->name, walked, st->pages[z->zone_id]);
		}
	}
}

/*
 * pcp_check - verify section 3's invariants on every slot, every zone's
 * buddy invariants, and that the pages marked PG_pcp are exactly those on
 * the lists.  Safe while other threads allocate: their slots are held
 * quiet for the walk.
 */
int pcp_check(void)
{
	struct pcp_check_state st;
	kmm_memset(&st, 0, sizeof(st));
	with_all_slots_quiet(check_slot, check_zones, &st);
	return st.err;
}
