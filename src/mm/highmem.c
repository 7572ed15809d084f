/*
 * highmem.c - kernel mappings of high-memory page frames: permanent kmaps
 * (kmap / kunmap), temporary per-thread mappings (kmap_local_page /
 * kmap_atomic) and the page_address() lookup of a kmapped highmem page.
 *
 * 1. Overview (ULK3 8.1.6; REFERENCE.md section 12)
 *    High memory has no linear address.  Three ways in:
 *    - kmap(page): a permanent mapping in the pkmap window, LAST_PKMAP =
 *      pkmap= pages at kmm.pkmap_base, shared by every thread; may sleep
 *      while every slot is in use.  Follows kmap_high / map_new_virtual /
 *      flush_all_zero_pkmaps / kunmap_high of mm/highmem.c [2.6.11 .. 6.x].
 *    - kmap_local_page(page) / kmap_atomic(page): a window in the fixmap
 *      area private to the calling thread, used as a stack of KM_MAX_IDX = 16
 *      entries and undone in reverse order; never sleeps, takes no global
 *      lock.  [5.11+] kmap_local semantics; kmap_atomic is the same thing
 *      (there is no preemption to disable in user space).
 *    - vmalloc / vmap (vmalloc.c).
 *    A low-memory page has its linear address; every variant returns it and
 *    the matching unmap does nothing.
 *
 * 2. Data structures
 *    pkmap_count[LAST_PKMAP]  per slot, as Linux:
 *        0    unused, no PTE: usable;
 *        1    no users, PTE and page_address still present (a TLB may
 *             hold it): reusable only after flush_all_zero_pkmaps;
 *        n>1  mapped with n-1 users.
 *    pkmap_state[nr]  kmm's addition, because the kernel page table's table
 *        pages come from the page allocator and kmap_lock is a leaf (the
 *        PTE is written and cleared outside the lock): STABLE, MAPPING (the
 *        slot is reserved for its page, the PTE is being installed by the
 *        thread that reserved it) or a flush token (>= PKMAP_FLUSH_BASE: the
 *        slot's PTE is being cleared by that flush).  A slot that is not
 *        STABLE is neither usable nor reusable.
 *    pkmap_page[nr]   the page of a slot with count >= 1 (or MAPPING).
 *    page_address_htable[1 << PA_HASH_ORDER]: 128 buckets, each a list and a
 *        lock, hashed by pfn; entries {page, virtual} come from a pool of
 *        LAST_PKMAP preallocated at boot (page_address_pool), so kmap never
 *        allocates for its bookkeeping.  kmm_highmem_page_address (the hook
 *        page_address() calls for highmem pages) reads it.
 *    fixmap windows: (nr_cpus + 1) * KM_MAX_IDX pages at kmm.fixmap_base.
 *        A thread that owns CPU slot c uses window c * KM_MAX_IDX + depth for
 *        its depth-th nested mapping (a slot has one owner until it exits,
 *        so the window is the thread's).  Threads without a slot share the
 *        last group: each mapping takes a free window of it from a bitmap
 *        under fixmap_shared_lock; when all 16 are taken, kmap_local_page
 *        logs the fact and returns NULL (it must not sleep).  The per-thread
 *        stack (struct kmm_thread: kmap_local_depth, kmap_local_addr[],
 *        kmap_local_page[]) records every mapping, so unmapping finds the
 *        window from the address whichever group it came from.
 *    PG_kmapped is set on a page while its pkmap slot has users
 *    (count >= 2); each kmap_local mapping adds one to page->_mapcount.
 *    Freeing a page in either state is "bad page state" (page_alloc.c).
 *    The pkmap PTEs themselves are not counted in _mapcount (pgtable.c), so
 *    a page may be freed after its last kunmap while its slot still holds
 *    the lazy mapping (count 1) - Linux allows the same; the next flush
 *    forgets it.
 *
 * 3. Invariants (highmem_check)
 *    - 0 <= pkmap_count[nr]; a STABLE slot with count 0 has no page, no PTE
 *      and no hash entry; a STABLE slot with count >= 1 has a page, the
 *      hash maps that page to PKMAP_ADDR(nr), the kernel page table maps
 *      PKMAP_ADDR(nr) to that page, and PG_kmapped == (count >= 2).
 *    - every hash entry points at a slot holding its page; hash entries +
 *      free pool entries = LAST_PKMAP; a page is in at most one slot.
 *    - a fixmap window records at most one page, whose _mapcount >= 0.
 *
 * 4. Locks
 *    kmap_lock (leaf): pkmap_count, pkmap_state, pkmap_page, last_pkmap_nr,
 *    the pool's free list and the waiter count.  Under it only a bucket lock
 *    is taken (kmap_lock -> bucket lock); page_address() takes a bucket lock
 *    alone.  The page table is written and cleared outside kmap_lock (its
 *    table pages come from the zone allocator); kmm_check reads it under
 *    kmap_lock.  fixmap_shared_lock (leaf) guards the shared group's bitmap.
 *    Sleeping: kmap waits on pkmap_map_wait (kmm_plat_wait, no timeout)
 *    after preparing the wait under kmap_lock; every change that can let a
 *    waiter on (a count dropping to 1, a slot becoming usable after a flush
 *    or a failed mapping, a MAPPING slot becoming STABLE) wakes the queue
 *    when the waiter count, read under kmap_lock, is non-zero - so no wake
 *    is lost.
 *
 * 5. Failure
 *    kmap sleeps until a slot frees up (as Linux); it returns NULL only
 *    when the page table cannot get a table page (GFP_KERNEL fails after
 *    oom_wait_ms), the host refuses the mapping, or fault injection
 *    (fail_kmap, a blocking request; kmap_local counts as atomic) says so,
 *    with a log line.
 *    kmap_local_page returns NULL after "kmap_local overflow" (a 17th
 *    nested mapping), when the slotless group is full, or when the host
 *    refuses the mapping.  kunmap / kunmap_local of something not mapped
 *    (or unmapped more often than mapped, or out of order) reports
 *    "kunmap not mapped" and changes nothing.  kmap/kmap_local of a pointer
 *    that is not a page descriptor reports "bad page state" and returns
 *    NULL.
 *
 * 6. Debug aids
 *    kmm_check walks the slots, the hash and the page table (section 3);
 *    kmm_drain_all flushes count-1 slots so "pkmap has no live entries"
 *    can be tested; shutdown reports pages still kmapped.
 *
 * Which Linux: pkmap counts and the scan with wrap-around flush [2.6.11,
 * unchanged in 6.x]; page_address hash [2.6.11 .. 6.x, PA_HASH_ORDER 7];
 * kmap_local stack of 16 per thread [5.11+] (not the fixed km_type slots
 * of 2.6.11).
 */
#include "internal.h"
#include "fork.h"
#include "pgtable.h"
#include <kmm/highmem.h>

#define PA_HASH_ORDER 7
#define PA_HASH_SIZE (1u << PA_HASH_ORDER)

#define PKMAP_STABLE 0u
#define PKMAP_MAPPING 1u
#define PKMAP_FLUSH_BASE 2u	/* flush tokens are >= this */

#define LAST_PKMAP ((unsigned int)pkmap.last)
#define LAST_PKMAP_MASK (LAST_PKMAP - 1)
#define PKMAP_NR(va) ((unsigned int)(((const char *)(va) - kmm.pkmap_base) >> PAGE_SHIFT))
#define PKMAP_ADDR(nr) (kmm.pkmap_base + ((unsigned long)(nr) << PAGE_SHIFT))

#define MAX_PKMAP 4096		/* the largest pkmap= accepted by machine.c */
#define BITS_PER_LONG (8 * sizeof(unsigned long))
#define PKMAP_BITMAP_LONGS (MAX_PKMAP / BITS_PER_LONG)

static inline bool test_slot_bit(const unsigned long *map, unsigned int nr)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}
static inline void set_slot_bit(unsigned long *map, unsigned int nr) { map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG); }

struct page_address_map {
	struct page *page;
	void *virtual;
	struct list_head list;
};

/* one bucket of the page_address hash, on a cache line of its own */
struct page_address_slot {
	_Alignas(L1_CACHE_BYTES) struct list_head lh;
	struct kmm_lock lock;
};

static struct page_address_slot page_address_htable[PA_HASH_SIZE];

static struct {
	bool ready;			/* structures allocated: the machine has highmem */
	int last;			/* LAST_PKMAP */
	struct kmm_lock kmap_lock;
	struct kmm_waitq pkmap_map_wait;
	int waiters;			/* sleepers on pkmap_map_wait (kmap_lock) */
	unsigned int last_pkmap_nr;
	unsigned int flush_token;	/* last token handed out */
	int *pkmap_count;
	unsigned int *pkmap_state;
	struct page **pkmap_page;
	struct page_address_map *pool;
	struct list_head pool_free;	/* kmap_lock */
	unsigned int pool_nr_free;
	/* fixmap windows */
	int nr_fixmap;
	struct page **fixmap_page;	/* by window; written by the window's user */
	struct kmm_lock fixmap_shared_lock;
	unsigned long shared_used;	/* bitmap of the slotless group's windows */
	/* memory of the arrays above */
	struct page *backing;
	unsigned int backing_order;
	/* counters (kmap_lock, or atomic) */
	unsigned long nr_kmap, nr_flush, nr_sleep, nr_local;
} pkmap;

/* ------------------------------------------------------------------ */
/* page_address hash                                                   */
/* ------------------------------------------------------------------ */

static struct page_address_slot *page_slot(const struct page *page)
{
	unsigned long pfn = kmm_page_to_pfn(page);
	return &page_address_htable[(pfn * 0x61C8864680B583EBUL) >> (sizeof(long) * 8 - PA_HASH_ORDER)];
}

/* The address the hash records for page, or NULL; takes the bucket lock. */
static void *hash_lookup(const struct page *page)
{
	struct page_address_slot *pas = page_slot(page);
	void *ret = NULL;
	kmm_lock(&pas->lock, KMM_LC_PKMAP_HASH);
	struct list_head *pos;
	list_for_each(pos, &pas->lh) {
		struct page_address_map *pam = list_entry(pos, struct page_address_map, list);
		if (pam->page == page) {
			ret = pam->virtual;
			break;
		}
	}
	kmm_unlock(&pas->lock);
	return ret;
}

/* page_address() of a highmem page: its pkmap address, or NULL. */
static void *highmem_page_address(const struct page *page)
{
	if (!READ_ONCE(pkmap.ready))
		return NULL;
	return hash_lookup(page);
}

/*
 * set_page_address - record (virtual != NULL) or forget (NULL) the pkmap
 * address of page.  kmap_lock held (it guards the pool); a page is
 * recorded at most once.
 */
static void set_page_address(struct page *page, void *virtual)
{
	struct page_address_slot *pas = page_slot(page);
	if (virtual) {
		/* the pool has LAST_PKMAP entries and a page per slot: never empty */
		struct page_address_map *pam = list_first_entry(&pkmap.pool_free, struct page_address_map, list);
		list_del(&pam->list);
		pkmap.pool_nr_free--;
		pam->page = page;
		pam->virtual = virtual;
		kmm_lock(&pas->lock, KMM_LC_PKMAP_HASH);
		list_add_tail(&pam->list, &pas->lh);
		kmm_unlock(&pas->lock);
		return;
	}
	struct page_address_map *found = NULL;
	kmm_lock(&pas->lock, KMM_LC_PKMAP_HASH);
	struct list_head *pos;
	list_for_each(pos, &pas->lh) {
		struct page_address_map *pam = list_entry(pos, struct page_address_map, list);
		if (pam->page == page) {
			list_del(&pam->list);
			found = pam;
			break;
		}
	}
	kmm_unlock(&pas->lock);
	if (found) {
		found->page = NULL;
		found->virtual = NULL;
		list_add(&found->list, &pkmap.pool_free);
		pkmap.pool_nr_free++;
	}
}

/* ------------------------------------------------------------------ */
/* Permanent kmaps                                                     */
/* ------------------------------------------------------------------ */

static void set_kmapped(struct page *page) { __atomic_fetch_or(&page->flags, 1UL << PG_kmapped, __ATOMIC_RELAXED); }
static void clear_kmapped(struct page *page) { __atomic_fetch_and(&page->flags, ~(1UL << PG_kmapped), __ATOMIC_RELAXED); }

/* Sleep on pkmap_map_wait until something changes; kmap_lock held on entry
 * and on return (dropped while asleep).  The wait is prepared under the
 * lock, and every waker decides to wake under it: no lost wake-up. */
static void pkmap_wait_locked(void)
{
	unsigned long gen = kmm_plat_wait_prepare(&pkmap.pkmap_map_wait);
	pkmap.waiters++;
	pkmap.nr_sleep++;
	kmm_unlock(&pkmap.kmap_lock);
	kmm_plat_wait(&pkmap.pkmap_map_wait, gen, 0);
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	pkmap.waiters--;
}

/* Unlock kmap_lock, waking the sleepers if there are any. */
static void pkmap_unlock_wake(void)
{
	bool wake = pkmap.waiters > 0;
	kmm_unlock(&pkmap.kmap_lock);
	if (wake)
		kmm_plat_wake_all(&pkmap.pkmap_map_wait);
}

/* Unmap every slot whose bit is set in map, coalescing runs; kmap_lock not
 * held (the slots carry a flush token: nobody else touches them). */
static void unmap_slots(const unsigned long *map)
{
	unsigned int nr = 0;
	while (nr < LAST_PKMAP) {
		if (!test_slot_bit(map, nr)) {
			nr++;
			continue;
		}
		unsigned int end = nr + 1;
		while (end < LAST_PKMAP && test_slot_bit(map, end))
			end++;
		kmm_kernel_unmap_pages(PKMAP_ADDR(nr), end - nr);
		nr = end;
	}
}

/* kmap_lock held: a token marking the slots one flush is clearing. */
static unsigned int new_flush_token(void)
{
	unsigned int token = ++pkmap.flush_token;
	if (token < PKMAP_FLUSH_BASE)
		token = pkmap.flush_token = PKMAP_FLUSH_BASE;
	return token;
}

/* kmap_lock held: slot nr (count 1, STABLE) stops being the page's
 * address: count 0, hash entry gone, busy with token until its PTE is
 * cleared. */
static void retire_slot(unsigned int nr, unsigned int token)
{
	pkmap.pkmap_count[nr] = 0;
	pkmap.pkmap_state[nr] = token;
	set_page_address(pkmap.pkmap_page[nr], NULL);
	pkmap.pkmap_page[nr] = NULL;
}

/* kmap_lock held: the PTE of a retired slot is gone: usable again. */
static void finish_slot(unsigned int nr)
{
	pkmap.pkmap_state[nr] = PKMAP_STABLE;
}

/*
 * flush_all_zero_pkmaps - every slot with count 1 (no users, still mapped)
 * loses its PTE and its page address and becomes usable (count 0).  Called
 * with kmap_lock held; returns with it held.  Returns true when it dropped
 * the lock meanwhile (it had slots to unmap): the caller must re-check
 * what it read before.  Linux ends with one TLB flush of the whole window;
 * here the host mapping goes away with the PTE.
 */
static bool flush_all_zero_pkmaps(void)
{
	unsigned long map[PKMAP_BITMAP_LONGS];
	unsigned int token, n = 0;

	kmm_memset(map, 0, sizeof(map));
	token = new_flush_token();
	for (unsigned int i = 0; i < LAST_PKMAP; i++) {
		if (pkmap.pkmap_count[i] != 1 || pkmap.pkmap_state[i] != PKMAP_STABLE)
			continue;
		retire_slot(i, token);
		set_slot_bit(map, i);
		n++;
	}
	if (!n)
		return false;
	pkmap.nr_flush++;
	kmm_unlock(&pkmap.kmap_lock);
	unmap_slots(map);
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	for (unsigned int i = 0; i < LAST_PKMAP; i++)
		if (test_slot_bit(map, i))
			finish_slot(i);
	/* slots became usable: wake the sleepers (the caller goes on under
	 * the lock; they take it after us) */
	if (pkmap.waiters)
		kmm_plat_wake_all(&pkmap.pkmap_map_wait);
	return true;
}

/*
 * map_new_virtual - find a usable slot for page and reserve it (count 2 =
 * one user, state MAPPING, page address recorded).  kmap_lock held on entry
 * and return.  Returns the slot, or -1 when the lock was dropped (after a
 * flush that found the page mapped meanwhile, or after sleeping): the
 * caller looks the page up again.
 */
static int map_new_virtual(struct page *page)
{
	unsigned int count = LAST_PKMAP;
	unsigned int nr;

	for (;;) {
		pkmap.last_pkmap_nr = (pkmap.last_pkmap_nr + 1) & LAST_PKMAP_MASK;
		if (!pkmap.last_pkmap_nr) {
			if (flush_all_zero_pkmaps() && hash_lookup(page))
				return -1;	/* someone mapped it while we flushed */
			count = LAST_PKMAP;
		}
		nr = pkmap.last_pkmap_nr;
		if (!pkmap.pkmap_count[nr] && pkmap.pkmap_state[nr] == PKMAP_STABLE)
			break;	/* found a usable entry */
		if (--count)
			continue;
		/* every slot is busy: sleep until a kunmap frees one */
		pkmap_wait_locked();
		return -1;
	}
	pkmap.pkmap_count[nr] = 2;
	pkmap.pkmap_state[nr] = PKMAP_MAPPING;
	pkmap.pkmap_page[nr] = page;
	set_page_address(page, PKMAP_ADDR(nr));
	set_kmapped(page);
	return (int)nr;
}

/* kmap_high - the permanent mapping of a highmem page; may sleep. */
static void *kmap_high(struct page *page)
{
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	for (;;) {
		char *vaddr = hash_lookup(page);
		if (vaddr) {
			unsigned int nr = PKMAP_NR(vaddr);
			if (pkmap.pkmap_state[nr] == PKMAP_STABLE) {
				if (pkmap.pkmap_count[nr]++ == 1)
					set_kmapped(page);
				pkmap.nr_kmap++;
				kmm_unlock(&pkmap.kmap_lock);
				return vaddr;
			}
			/* another thread is installing this page's PTE */
			pkmap_wait_locked();
			continue;
		}
		int nr = map_new_virtual(page);
		if (nr < 0)
			continue;
		vaddr = PKMAP_ADDR(nr);
		kmm_unlock(&pkmap.kmap_lock);

		/* The slot is ours (MAPPING): write the PTE without the lock. */
		int err = unlikely(READ_ONCE(kmm.fault_armed)) && kmm_should_fail(&kmm.fail_kmap, GFP_KERNEL, 0, NULL)
				  ? -KMM_ENOMEM
				  : kmm_kernel_map_pages(vaddr, &page, 1, GFP_KERNEL);

		kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
		if (unlikely(err)) {
			pkmap.pkmap_count[nr] = 0;
			pkmap.pkmap_page[nr] = NULL;
			set_page_address(page, NULL);
			clear_kmapped(page);
			pkmap.pkmap_state[nr] = PKMAP_STABLE;
			pkmap_unlock_wake();
			kmm_log("kmm: kmap: cannot map pfn %lu at %p (error %d): returning NULL",
				kmm_page_to_pfn(page), (void *)vaddr, err);
			return NULL;
		}
		pkmap.pkmap_state[nr] = PKMAP_STABLE;
		pkmap.nr_kmap++;
		pkmap_unlock_wake();
		return vaddr;
	}
}

/* kunmap_high - drop one user; the slot stays mapped (count 1) until a flush. */
static void kunmap_high(struct page *page)
{
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	char *vaddr = hash_lookup(page);
	if (!vaddr) {
		kmm_unlock(&pkmap.kmap_lock);
		kmm_error("kunmap not mapped", "kunmap: pfn %lu has no permanent kmap", kmm_page_to_pfn(page));
		return;
	}
	unsigned int nr = PKMAP_NR(vaddr);
	int count = pkmap.pkmap_count[nr];
	if (count < 2 || pkmap.pkmap_state[nr] != PKMAP_STABLE) {
		kmm_unlock(&pkmap.kmap_lock);
		kmm_error("kunmap not mapped", "kunmap: pfn %lu at %p: unmapped more times than mapped (pkmap_count %d)",
			  kmm_page_to_pfn(page), (void *)vaddr, count);
		return;
	}
	/* A count of 1 means "no users, still mapped": the slot is reusable
	 * after the next flush_all_zero_pkmaps.  Never 0 here. */
	if (--pkmap.pkmap_count[nr] == 1) {
		clear_kmapped(page);
		pkmap_unlock_wake();
		return;
	}
	kmm_unlock(&pkmap.kmap_lock);
}

static bool page_ok(const struct page *page, const char *fn)
{
	if (likely(kmm_is_page_desc(page)))
		return true;
	kmm_error("bad page state", "%s(%p): not a page descriptor of this machine", fn, (const void *)page);
	return false;
}

/**
 * kmap - a permanent kernel mapping of page.
 * @page: any page of the machine
 * Context: may sleep (while every pkmap slot is in use); takes kmap_lock.
 * Return: the page's linear address for low memory, else its pkmap
 * address; NULL for a bad page pointer (reported) or when the page table
 * cannot be extended (logged).
 */
void *kmap(struct page *page)
{
	if (!page_ok(page, "kmap"))
		return NULL;
	if (kmm_is_lowmem_pfn(kmm_page_to_pfn(page)))
		return page_address(page);
	return kmap_high(page);
}

/**
 * kunmap - undo one kmap of page.
 * @page: a page kmapped by the caller
 * Context: any; never sleeps.
 * Misuse: a highmem page without a kmap, or more kunmaps than kmaps,
 * reports "kunmap not mapped" and changes nothing.
 */
void kunmap(struct page *page)
{
	if (!kmm_is_page_desc(page)) {
		kmm_error("kunmap not mapped", "kunmap(%p): not a page descriptor of this machine", (void *)page);
		return;
	}
	if (kmm_is_lowmem_pfn(kmm_page_to_pfn(page)))
		return;
	kunmap_high(page);
}

/* ------------------------------------------------------------------ */
/* Temporary mappings: kmap_local_page / kmap_atomic                    */
/* ------------------------------------------------------------------ */

static int shared_group_base(void) { return kmm.nr_cpus * KM_MAX_IDX; }

/* A free window of the slotless group, or -1. */
static int shared_window_get(void)
{
	int idx = -1;
	kmm_lock(&pkmap.fixmap_shared_lock, KMM_LC_FIXMAP);
	for (int i = 0; i < KM_MAX_IDX; i++) {
		if (!(pkmap.shared_used & (1UL << i))) {
			pkmap.shared_used |= 1UL << i;
			idx = shared_group_base() + i;
			break;
		}
	}
	kmm_unlock(&pkmap.fixmap_shared_lock);
	return idx;
}

static void shared_window_put(int idx)
{
	kmm_lock(&pkmap.fixmap_shared_lock, KMM_LC_FIXMAP);
	pkmap.shared_used &= ~(1UL << (idx - shared_group_base()));
	kmm_unlock(&pkmap.fixmap_shared_lock);
}

/**
 * kmap_local_page - a temporary mapping of page for the calling thread.
 * @page: any page of the machine
 * Context: never sleeps; nests up to KM_MAX_IDX (16) deep per thread;
 * undo with kunmap_local in reverse order, on the same thread.
 * Return: the linear address of a lowmem page (not counted against the
 * 16), else a fixmap address; NULL after "kmap_local overflow", for a bad
 * page pointer, or when a thread without a CPU slot finds the shared group
 * full (logged).
 */
void *kmap_local_page(struct page *page)
{
	if (!page_ok(page, "kmap_local_page"))
		return NULL;
	unsigned long pfn = kmm_page_to_pfn(page);
	if (kmm_is_lowmem_pfn(pfn))
		return kmm_pfn_to_virt(pfn);

	struct kmm_thread *t = kmm_thread();
	int depth = t->kmap_local_depth;
	if (unlikely(depth >= KM_MAX_IDX)) {
		kmm_error("kmap_local overflow", "pfn %lu: this thread already holds %d kmap_local/kmap_atomic mappings",
			  pfn, depth);
		return NULL;
	}
	struct kmm_cpu *c = kmm_cpu_get();
	int idx = c ? c->cpu * KM_MAX_IDX + depth : shared_window_get();
	if (unlikely(idx < 0)) {
		kmm_log("kmm: kmap_local: pfn %lu: the %d windows of threads without a CPU slot are all in use",
			pfn, KM_MAX_IDX);
		return NULL;
	}
	void *va;
	int err = unlikely(READ_ONCE(kmm.fault_armed)) && kmm_should_fail(&kmm.fail_kmap, GFP_ATOMIC, 0, NULL)
			  ? -KMM_ENOMEM
			  : kmm_fixmap_map(idx, pfn, &va);
	if (unlikely(err)) {
		if (!c)
			shared_window_put(idx);
		kmm_log("kmm: kmap_local: cannot map pfn %lu (error %d)", pfn, err);
		return NULL;
	}
	t->kmap_local_addr[depth] = va;
	t->kmap_local_page[depth] = page;
	t->kmap_local_depth = depth + 1;
	__atomic_store_n(&pkmap.fixmap_page[idx], page, __ATOMIC_RELAXED);
	__atomic_add_fetch(&page->_mapcount, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&pkmap.nr_local, 1, __ATOMIC_RELAXED);
	return va;
}

/**
 * kunmap_local - undo the calling thread's most recent kmap_local_page.
 * @addr: any address inside that mapping (or a lowmem linear address: no-op)
 * Context: never sleeps.
 * Misuse: an address that is not this thread's last mapping (not mapped,
 * already unmapped, or out of order) reports "kunmap not mapped" and
 * changes nothing.
 */
void kunmap_local(void *addr)
{
	if (kmm.booted && kmm_is_linear_addr(addr))
		return;
	struct kmm_thread *t = kmm_thread();
	char *va = (char *)((uintptr_t)addr & PAGE_MASK);
	int depth = t->kmap_local_depth;
	if (unlikely(!kmm.booted || depth == 0 || t->kmap_local_addr[depth - 1] != va)) {
		int found = -1;
		for (int i = 0; i < depth - 1; i++)
			if (t->kmap_local_addr[i] == va)
				found = i;
		if (found >= 0)
			kmm_error("kunmap not mapped", "kunmap_local(%p): out of order: mapping %d of %d, the last is %p",
				  addr, found + 1, depth, t->kmap_local_addr[depth - 1]);
		else
			kmm_error("kunmap not mapped", "kunmap_local(%p): not a kmap_local/kmap_atomic mapping of this thread (%d held)",
				  addr, depth);
		return;
	}
	struct page *page = t->kmap_local_page[depth - 1];
	int idx = (int)((unsigned long)(va - kmm.fixmap_base) >> PAGE_SHIFT);
	kmm_fixmap_unmap(idx);
	__atomic_store_n(&pkmap.fixmap_page[idx], NULL, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&page->_mapcount, 1, __ATOMIC_RELAXED);
	if (idx >= shared_group_base())
		shared_window_put(idx);
	t->kmap_local_addr[depth - 1] = NULL;
	t->kmap_local_page[depth - 1] = NULL;
	t->kmap_local_depth = depth - 1;
}

/* kmap_atomic - [5.11+] kmap_local_page (no preemption to disable here). */
void *kmap_atomic(struct page *page) { return kmap_local_page(page); }
void kunmap_atomic(void *addr) { kunmap_local(addr); }

/* ------------------------------------------------------------------ */
/* Layer hooks: check, drain, shutdown                                 */
/* ------------------------------------------------------------------ */

static int highmem_check(void)
{
	int err = 0;
	unsigned int with_page = 0, hashed = 0;

	if (!pkmap.ready)
		return 0;
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	for (unsigned int nr = 0; nr < LAST_PKMAP && !err; nr++) {
		int count = pkmap.pkmap_count[nr];
		unsigned int state = pkmap.pkmap_state[nr];
		struct page *page = pkmap.pkmap_page[nr];
		char *addr = PKMAP_ADDR(nr);
		if (page)
			with_page++;
		if (count < 0) {
			err = kmm_check_fail("pkmap", "slot %u: pkmap_count %d", nr, count);
		} else if (state != PKMAP_STABLE) {
			continue;	/* a PTE is being written or cleared right now */
		} else if (count == 0) {
			if (page)
				err = kmm_check_fail("pkmap", "slot %u: count 0 but holds pfn %lu", nr, kmm_page_to_pfn(page));
			else if (kmm_pgtable_lookup(addr))
				err = kmm_check_fail("pkmap", "slot %u (%p): count 0 but the page table maps pfn %lu",
						     nr, (void *)addr, kmm_page_to_pfn(kmm_pgtable_lookup(addr)));
		} else if (!page || !kmm_is_page_desc(page)) {
			err = kmm_check_fail("pkmap", "slot %u: count %d without a page", nr, count);
		} else if (hash_lookup(page) != addr) {
			err = kmm_check_fail("pkmap", "slot %u: pfn %lu: page_address %p, slot address %p", nr,
					     kmm_page_to_pfn(page), hash_lookup(page), (void *)addr);
		} else if (kmm_pgtable_lookup(addr) != page) {
			struct page *pte = kmm_pgtable_lookup(addr);
			err = kmm_check_fail("pkmap", "slot %u (%p): count %d for pfn %lu but the PTE maps %s%lu", nr,
					     (void *)addr, count, kmm_page_to_pfn(page), pte ? "pfn " : "nothing",
					     pte ? kmm_page_to_pfn(pte) : 0UL);
		} else if ((count >= 2) != PageKmapped(page)) {
			err = kmm_check_fail("pkmap", "slot %u: pfn %lu count %d but PG_kmapped %s", nr,
					     kmm_page_to_pfn(page), count, PageKmapped(page) ? "set" : "clear");
		} else if (page_zonenum(page) != ZONE_HIGHMEM) {
			err = kmm_check_fail("pkmap", "slot %u: pfn %lu is not a highmem page", nr, kmm_page_to_pfn(page));
		}
	}
	for (unsigned int b = 0; b < PA_HASH_SIZE && !err; b++) {
		struct page_address_slot *pas = &page_address_htable[b];
		kmm_lock(&pas->lock, KMM_LC_PKMAP_HASH);
		struct list_head *pos;
		list_for_each(pos, &pas->lh) {
			struct page_address_map *pam = list_entry(pos, struct page_address_map, list);
			hashed++;
			char *v = pam->virtual;
			if (v < kmm.pkmap_base || v >= PKMAP_ADDR(LAST_PKMAP) || ((uintptr_t)v & (PAGE_SIZE - 1))) {
				err = kmm_check_fail("pkmap", "hash entry for pfn %lu: address %p outside the pkmap window",
						     kmm_page_to_pfn(pam->page), (void *)v);
				break;
			}
			unsigned int nr = PKMAP_NR(v);
			if (pkmap.pkmap_page[nr] != pam->page || pkmap.pkmap_count[nr] < 1) {
				err = kmm_check_fail("pkmap", "hash entry pfn %lu -> slot %u, which holds %s (count %d)",
						     kmm_page_to_pfn(pam->page), nr, pkmap.pkmap_page[nr] ? "another page" : "nothing",
						     pkmap.pkmap_count[nr]);
				break;
			}
		}
		kmm_unlock(&pas->lock);
	}
	if (!err && (hashed != with_page || hashed + pkmap.pool_nr_free != LAST_PKMAP))
		err = kmm_check_fail("pkmap", "%u hash entries, %u slots with a page, %u free pool entries, LAST_PKMAP %u",
				     hashed, with_page, pkmap.pool_nr_free, LAST_PKMAP);
	kmm_unlock(&pkmap.kmap_lock);

	for (int idx = 0; idx < pkmap.nr_fixmap && !err; idx++) {
		struct page *page = __atomic_load_n(&pkmap.fixmap_page[idx], __ATOMIC_RELAXED);
		if (page && __atomic_load_n(&page->_mapcount, __ATOMIC_RELAXED) < 0)
			err = kmm_check_fail("pkmap", "fixmap window %d maps pfn %lu whose _mapcount is %d", idx,
					     kmm_page_to_pfn(page), page->_mapcount);
	}
	return err;
}

/* kmm_drain_all: forget every unused mapping, so pkmap holds only live ones. */
static void highmem_drain_all(void)
{
	if (!pkmap.ready)
		return;
	kmm_lock(&pkmap.kmap_lock, KMM_LC_PKMAP);
	flush_all_zero_pkmaps();
	kmm_unlock(&pkmap.kmap_lock);
}

/* Shutdown (the machine is quiet): report and undo what is still mapped. */
static void highmem_shutdown(void)
{
	kmm_highmem_page_address = NULL;
	if (!pkmap.ready)
		return;
	for (unsigned int nr = 0; nr < LAST_PKMAP; nr++) {
		struct page *page = pkmap.pkmap_page[nr];
		if (!page)
			continue;
		if (pkmap.pkmap_count[nr] >= 2)
			kmm_log("kmm: shutdown: pfn %lu still kmapped at %p (%d users)", kmm_page_to_pfn(page),
				(void *)PKMAP_ADDR(nr), pkmap.pkmap_count[nr] - 1);
		kmm_kernel_unmap_pages(PKMAP_ADDR(nr), 1);
		set_page_address(page, NULL);
		clear_kmapped(page);
		pkmap.pkmap_page[nr] = NULL;
		pkmap.pkmap_count[nr] = 0;
	}
	for (int idx = 0; idx < pkmap.nr_fixmap; idx++) {
		struct page *page = pkmap.fixmap_page[idx];
		if (!page)
			continue;
		kmm_log("kmm: shutdown: pfn %lu still mapped by kmap_local/kmap_atomic (fixmap window %d)",
			kmm_page_to_pfn(page), idx);
		kmm_fixmap_unmap(idx);
		page->_mapcount = -1;
		pkmap.fixmap_page[idx] = NULL;
	}
	pkmap.ready = false;
	__free_pages(pkmap.backing, pkmap.backing_order);
	for (unsigned int b = 0; b < PA_HASH_SIZE; b++)
		kmm_plat_lock_destroy(&page_address_htable[b].lock);
	kmm_plat_lock_destroy(&pkmap.kmap_lock);
	kmm_plat_lock_destroy(&pkmap.fixmap_shared_lock);
	kmm_plat_waitq_destroy(&pkmap.pkmap_map_wait);
	kmm_memset(&pkmap, 0, sizeof(pkmap));
}

static const struct kmm_layer_ops highmem_layer = {
	.name = "highmem",
	.drain_all = highmem_drain_all,
	.check = highmem_check,
	.shutdown = highmem_shutdown,
};

/*
 * highmem_init - at boot, after the page allocator: allocate the pkmap
 * arrays and the page_address pool (only when the machine has high
 * memory), set the page_address and free hooks, register the layer after
 * the page table's (shutdown runs in reverse order).
 * Return: 0 or -ENOMEM.
 */
int highmem_init(void)
{
	kmm_memset(&pkmap, 0, sizeof(pkmap));
	if (kmm.max_low_pfn >= kmm.max_pfn) {
		kmm_register_layer(&highmem_layer);
		return 0;	/* no high memory: every kmap is page_address */
	}
	/* The first caller of kmm_pgtable_init registers the page table's
	 * layer; registering ours after it makes our shutdown (reverse
	 * order) clear the pkmap PTEs while the table still exists. */
	int err = kmm_pgtable_init();
	if (err)
		return err;
	kmm_register_layer(&highmem_layer);
	pkmap.last = kmm.cfg.pkmap;
	pkmap.nr_fixmap = (kmm.nr_cpus + 1) * KM_MAX_IDX;
	size_t last = (size_t)pkmap.last;
	size_t bytes = last * sizeof(struct page_address_map) + last * sizeof(struct page *) +
		       (size_t)pkmap.nr_fixmap * sizeof(struct page *) + last * sizeof(int) + last * sizeof(unsigned int);
	unsigned int order = kmm_get_order(bytes, PAGE_SHIFT);
	struct page *backing = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
	if (!backing) {
		kmm_log("kmm: boot: no memory for the pkmap tables (%lu bytes)", (unsigned long)bytes);
		return -KMM_ENOMEM;
	}
	char *p = page_address(backing);
	kmm_memset(p, 0, PAGE_SIZE << order);
	pkmap.backing = backing;
	pkmap.backing_order = order;
	pkmap.pool = (struct page_address_map *)(void *)p;
	p += last * sizeof(struct page_address_map);
	pkmap.pkmap_page = (struct page **)(void *)p;
	p += last * sizeof(struct page *);
	pkmap.fixmap_page = (struct page **)(void *)p;
	p += (size_t)pkmap.nr_fixmap * sizeof(struct page *);
	pkmap.pkmap_count = (int *)(void *)p;
	p += last * sizeof(int);
	pkmap.pkmap_state = (unsigned int *)(void *)p;

	INIT_LIST_HEAD(&pkmap.pool_free);
	for (size_t i = 0; i < last; i++)
		list_add_tail(&pkmap.pool[i].list, &pkmap.pool_free);
	pkmap.pool_nr_free = (unsigned int)last;
	for (unsigned int b = 0; b < PA_HASH_SIZE; b++) {
		INIT_LIST_HEAD(&page_address_htable[b].lh);
		kmm_plat_lock_init(&page_address_htable[b].lock);
	}
	kmm_plat_lock_init(&pkmap.kmap_lock);
	kmm_plat_lock_init(&pkmap.fixmap_shared_lock);
	kmm_plat_waitq_init(&pkmap.pkmap_map_wait);
	pkmap.ready = true;
	kmm_highmem_page_address = highmem_page_address;
	return 0;
}

/*
 * kmm_highmem_fork - fork.c's hook (fork.h): kmap_lock, the page_address
 * buckets (ascending), fixmap_shared_lock; the child re-initialises them
 * and the pkmap wait queue (its sleepers were other threads).
 */
void kmm_highmem_fork(enum kmm_fork_phase phase)
{
	if (!pkmap.ready)
		return;
	if (phase == KMM_FORK_PREPARE) {
		kmm_plat_lock(&pkmap.kmap_lock);
		for (unsigned int b = 0; b < PA_HASH_SIZE; b++)
			kmm_plat_lock(&page_address_htable[b].lock);
		kmm_plat_lock(&pkmap.fixmap_shared_lock);
	} else if (phase == KMM_FORK_PARENT) {
		kmm_plat_unlock(&pkmap.fixmap_shared_lock);
		for (unsigned int b = PA_HASH_SIZE; b-- > 0;)
			kmm_plat_unlock(&page_address_htable[b].lock);
		kmm_plat_unlock(&pkmap.kmap_lock);
	} else {
		kmm_plat_lock_init(&pkmap.fixmap_shared_lock);
		for (unsigned int b = 0; b < PA_HASH_SIZE; b++)
			kmm_plat_lock_init(&page_address_htable[b].lock);
		kmm_plat_lock_init(&pkmap.kmap_lock);
		kmm_plat_waitq_init(&pkmap.pkmap_map_wait);
		pkmap.waiters = 0;
	}
}
