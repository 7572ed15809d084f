/*
 * slob_check.c - SLOB's verification and reports: slob_check (kmm_check),
 * __slob_sanity (slab_debug=F, called from slob.c's allocation and free
 * paths), the white-box kmm_slob_page_list, the leak listing behind
 * cache_live, slabinfo rows and the page counters of meminfo.  The
 * allocator itself, and the overview of SLOB, are in slob.c; the shared
 * structures in slob_internal.h.
 *
 * 1. Overview
 *    slob_check walks the six lists (every SLOB page is on one, so neither
 *    mem_map nor another layer's page is ever read) and checks each page
 *    against the invariants below; slob_verify_page checks one order-0
 *    page (b, c, f), and __slob_sanity uses it to take a bad page out of
 *    use before slob.c allocates from it or frees into it.
 *
 * 2. Invariants (slob_check verifies each under slob_lock)
 *    a. Every SLOB page is on exactly one of the six lists, and the lists
 *       hold nothing else.  A page is on one of the three free lists iff
 *       PG_slob_free iff it is an order-0 page, not broken, with 0 < units
 *       < SLOB_PAGE_UNITS; on full iff order 0, not broken, units 0; on
 *       broken iff SLOB_PG_BROKEN; on big iff SLOB_PG_BIG (and its order is
 *       its cache's).  The page counters match the lists.
 *    b. The free blocks of a page lie in [SLOB_FIRST, SLOB_END), in
 *       strictly increasing address order, do not overlap and are never
 *       adjacent (frees merge); their sizes add up to page_aux.
 *    c. Free blocks and allocated blocks tile [SLOB_FIRST, SLOB_END)
 *       exactly: every gap between free blocks is a run of allocated
 *       blocks, each starting at a set bitmap bit, of SLOB_UNITS(cache
 *       size) units for a cache page and SLOB_UNITS(header size + 8) for a
 *       kmalloc page; no bit is set anywhere else; kmalloc headers carry a
 *       valid check word.
 *    d. A full page (units 0) is off the lists; an entirely free page does
 *       not exist (it went back to the page allocator).
 *    e. The live objects found in pages of each owner equal the owner's
 *       count (sc_live, kmm_slob.kmalloc_live); its pages equal sc_pages.
 *    f. With poisoning, every free byte of a page past the block headers
 *       reads POISON_FREE.
 *
 * 3. Locks
 *    slob_check, __slob_sanity and kmm_slob_page_list run under slob_lock
 *    (__slob_sanity: the caller holds it).  Nothing here calls out with it
 *    held: reports are collected in a struct slob_report and emitted after
 *    unlocking, slabinfo rows are copied out before they are printed, and
 *    the leak-listing callback runs unlocked between batches.
 *
 * 4. Behaviour on failure
 *    A structural violation fails kmm_check (kmm_check_fail) and is left
 *    as found; damaged poison or red zones are reported as misuse,
 *    repaired, and make slob_check return -KMM_EUCLEAN.  __slob_sanity
 *    reports a bad page and takes it out of use (false return).
 */
#include "slob_internal.h"

/* The names of slob_all_lists(0 .. SLOB_NR_LISTS - 1), for kmm_check. */
static const char *const slob_list_names[SLOB_NR_LISTS] = {
	"free_slob_small", "free_slob_medium", "free_slob_large", "full", "broken", "big"
};

/* ------------------------------------------------------------------ */
/* Checking                                                            */
/* ------------------------------------------------------------------ */

/* What slob_verify_page found wrong. */
struct slob_fault {
	const char *category;	/* "freelist corrupt", "poison overwritten", "redzone overwritten" */
	const char *why;
	unsigned int at;	/* byte offset in the page */
};

static bool fault(struct slob_fault *f, const char *category, const char *why, unsigned int at)
{
	f->category = category;
	f->why = why;
	f->at = at;
	return false;
}

/*
 * slob_verify_page - invariants b, c and f of one order-0 SLOB page that is
 * not broken, and the red zones of its live kmalloc blocks.  slob_lock
 * held.  Returns false with *f describing the first structural violation;
 * *live (when non-NULL) gets the allocated blocks.  Damaged poison and red
 * zones are not structural: each is reported into rep ("poison
 * overwritten", "redzone overwritten"), repaired, and counted in *repaired
 * (as slab_debug_check_free does for SLAB).
 */
static bool slob_verify_page(struct page *sp, struct slob_fault *f, unsigned long *live, struct slob_report *rep,
			     unsigned long *repaired)
{
	char *base = slob_base(sp);
	struct slob_cache *owner = slob_owner(sp);
	bool poison = owner_poisoned(owner), rz = !owner && (kmm_slob.kmalloc_debug & SLAB_RED_ZONE);
	char hex[32];
	unsigned int pos = SLOB_FIRST, off = (unsigned int)sp->private, sum = 0, size, next = 0;
	unsigned long nlive = 0;
	const char *why = NULL;

	if (off != SLOB_END && off < SLOB_FIRST)
		return fault(f, "freelist corrupt", "first free block inside the bitmap", off * SLOB_UNIT);
	for (;;) {
		unsigned int stop = off;	/* allocated blocks fill [pos, stop) */
		while (pos < stop) {
			unsigned int boff = pos * SLOB_UNIT, u;
			if (boff % SLOB_GRANULE || !map_test(base, boff))
				return fault(f, "freelist corrupt", "allocated space without an allocated block start", boff);
			u = __slob_block_units(sp, boff);
			if (!u)
				return fault(f, "redzone overwritten", "kmalloc block header overwritten", boff);
			if (pos + u > stop)
				return fault(f, "freelist corrupt", "allocated block overlaps the next free block", boff);
			if (map_find_next(base, boff + 1, (pos + u) * SLOB_UNIT))
				return fault(f, "freelist corrupt", "block start inside an allocated block", boff);
			if (rz) {
				unsigned int ks = ((const struct slob_khdr *)(const void *)(base + boff))->size;
				char *obj = base + boff + SLOB_MINALIGN, *end = base + (pos + u) * SLOB_UNIT;
				const unsigned char *bad = find_not(obj + ks, (size_t)(end - obj) - ks, SLOB_RED_ACTIVE);
				if (bad) {
					rep_add(rep, "redzone overwritten", "%s object %p offset %zu: %s", SLOB_KMALLOC_NAME,
						(void *)obj, (size_t)((const char *)bad - obj),
						hexbytes(hex, sizeof(hex), bad, (size_t)(end - (const char *)bad)));
					kmm_memset(obj + ks, SLOB_RED_ACTIVE, (size_t)(end - obj) - ks);
					(*repaired)++;
				}
			}
			nlive++;
			pos += u;
		}
		if (off == SLOB_END)
			break;
		if (!slob_get(base, off, &size, &next, &why))
			return fault(f, "freelist corrupt", why, off * SLOB_UNIT);
		if (off < pos)
			return fault(f, "freelist corrupt", "free blocks out of address order", off * SLOB_UNIT);
		if (map_find_next(base, off * SLOB_UNIT, (off + size) * SLOB_UNIT))
			return fault(f, "freelist corrupt", "allocated block start inside a free block", off * SLOB_UNIT);
		if (next != SLOB_END && next == off + size)
			return fault(f, "freelist corrupt", "adjacent free blocks not merged", off * SLOB_UNIT);
		if (poison) {
			size_t skip = (size < 2 ? size : 2) * SLOB_UNIT, n = (size_t)size * SLOB_UNIT;
			char *blk = base + (size_t)off * SLOB_UNIT;
			const unsigned char *b = find_not(blk + skip, n - skip, POISON_FREE);
			if (b) {
				rep_add(rep, "poison overwritten", "%s free block %p offset %zu: %s (slob page pfn %lu)",
					owner_name(owner), (void *)blk, (size_t)((const char *)b - blk),
					hexbytes(hex, sizeof(hex), b, (size_t)(blk + n - (const char *)b)), kmm_page_to_pfn(sp));
				kmm_memset(blk + skip, POISON_FREE, n - skip);
				(*repaired)++;
			}
		}
		sum += size;
		pos = off + size;
		off = next;
	}
	if (sum != sp->page_aux)
		return fault(f, "freelist corrupt", "free units do not add up to the page's count", (unsigned int)sp->private * SLOB_UNIT);
	if (live)
		*live = nlive;
	return true;
}

/* slab_debug=F: verify sp before using it.  A bad page is reported and
 * taken out of use; returns false then.  slob_lock held. */
bool __slob_sanity(struct page *sp, struct slob_report *rep)
{
	struct slob_fault f;
	unsigned long repaired = 0;
	char hex[32];
	if (slob_page_broken(sp) || slob_verify_page(sp, &f, NULL, rep, &repaired))
		return true;
	rep_add(rep, f.category, "%s slob page pfn %lu: %p (page offset %u): %s (%s); page taken out of use",
		owner_name(slob_owner(sp)), kmm_page_to_pfn(sp), (void *)(slob_base(sp) + f.at), f.at, f.why,
		hexbytes(hex, sizeof(hex), (const unsigned char *)slob_base(sp) + f.at, PAGE_SIZE - f.at));
	__slob_page_broken(sp, rep, f.at / SLOB_UNIT, NULL);
	return false;
}

/* kmm_check: invariants a-f (section 3), walking the lists (every SLOB
 * page is on one).  Damaged poison and red zones are reported as misuse
 * and repaired; the structure is not. */
int slob_check(void)
{
	unsigned long pages = 0, big = 0, broken = 0, reclaimable = 0, kmalloc_live = 0, kmalloc_pages = 0;
	unsigned long repaired = 0;
	struct slob_cache *sc;
	struct slob_report rep;
	int ret = 0;

	rep.n = 0;
	slob_lock();
	list_for_each_entry(sc, &kmm_slob.caches, sc_node)
		sc->sc_check_live = sc->sc_check_pages = 0;
	for (int i = 0; i < SLOB_NR_LISTS && !ret; i++) {
		const char *lname = slob_list_names[i];
		bool on_free = i < 3, on_full = i == 3, on_broken = i == 4, on_big = i == 5;
		unsigned long guard = 0;
		struct list_head *head = slob_all_lists(i), *e;
		for (e = head->next; e != head && !ret; e = e->next) {
			struct page *sp = list_entry(e, struct page, lru);
			unsigned long pfn;
			if (!kmm_is_page_desc(sp) || ++guard > kmm.max_pfn) {
				ret = kmm_check_fail("slob", "%s: entry %p is not a page descriptor", lname, (void *)sp);
				break;
			}
			pfn = kmm_page_to_pfn(sp);
			struct slob_cache *owner = slob_owner(sp);
			if (!is_slob_page(sp) || slob_page_big(sp) != on_big || slob_page_broken(sp) != on_broken ||
			    PageSlobFree(sp) != on_free) {
				ret = kmm_check_fail("slob", "%s: pfn %lu flags %#lx aux %#x does not belong on this list", lname,
						     pfn, sp->flags & ((1UL << __NR_PAGEFLAGS) - 1), sp->page_aux2);
				break;
			}
			if (owner && owner->sc_magic != SLOB_CACHE_MAGIC) {
				ret = kmm_check_fail("slob", "%s: pfn %lu: owner %p is not a live slob cache", lname, pfn,
						     (void *)owner);
				break;
			}
			unsigned long n = on_big ? 1UL << sp->alloc_order : 1;
			if (owner && (owner->c.flags & SLAB_RECLAIM_ACCOUNT))
				reclaimable += n;
			if (owner)
				owner->sc_check_pages += n;
			if (on_big) {
				if (!owner || owner->sc_order != (int)sp->alloc_order) {
					ret = kmm_check_fail("slob", "pfn %lu: big-object page of %s with order %u (cache order %d)",
							     pfn, owner_name(owner), sp->alloc_order, owner ? owner->sc_order : -1);
					break;
				}
				big += n;
				owner->sc_check_live++;
				continue;
			}
			pages++;
			if (!owner)
				kmalloc_pages++;
			unsigned long live = 0;
			if (on_broken) {	/* its live objects: the bitmap bits */
				for (unsigned int x = SLOB_MAP_BYTES; (x = map_find_next(slob_base(sp), x, PAGE_SIZE)); x += SLOB_GRANULE)
					live++;
				broken++;
			} else {
				struct slob_fault f;
				if (sp->alloc_order != 0 || (on_full && sp->page_aux != 0) ||
				    (on_free && (sp->page_aux == 0 || sp->page_aux >= SLOB_PAGE_UNITS))) {
					ret = kmm_check_fail("slob", "%s: pfn %lu of order %u has %u free units", lname, pfn,
							     sp->alloc_order, sp->page_aux);
					break;
				}
				if (!slob_verify_page(sp, &f, &live, &rep, &repaired)) {
					ret = kmm_check_fail("slob", "%s slob page pfn %lu: %p (page offset %u): %s: %s",
							     owner_name(owner), pfn, (void *)(slob_base(sp) + f.at), f.at,
							     f.category, f.why);
					break;
				}
			}
			if (owner)
				owner->sc_check_live += live;
			else
				kmalloc_live += live;
		}
	}
	if (!ret && (pages != kmm_slob.nr_pages || big != kmm_slob.nr_big_pages || broken != kmm_slob.nr_broken ||
		     reclaimable != kmm_slob.nr_reclaimable || kmalloc_pages != kmm_slob.kmalloc_pages))
		ret = kmm_check_fail("slob", "page counts: found %lu/%lu/%lu/%lu/%lu, counted %lu/%lu/%lu/%lu/%lu (slob, big, broken, reclaimable, kmalloc)",
				     pages, big, broken, reclaimable, kmalloc_pages, kmm_slob.nr_pages,
				     kmm_slob.nr_big_pages, kmm_slob.nr_broken, kmm_slob.nr_reclaimable,
				     kmm_slob.kmalloc_pages);
	if (!ret && kmalloc_live != kmm_slob.kmalloc_live)
		ret = kmm_check_fail("slob", "%lu kmalloc blocks found, %lu counted", kmalloc_live,
				     kmm_slob.kmalloc_live);
	if (!ret) {
		list_for_each_entry(sc, &kmm_slob.caches, sc_node) {
			if (sc->sc_check_live != sc->sc_live || sc->sc_check_pages != sc->sc_pages) {
				ret = kmm_check_fail("slob", "cache %s: found %lu objects in %lu pages, counted %lu in %lu",
						     sc->c.name, sc->sc_check_live, sc->sc_check_pages, sc->sc_live,
						     sc->sc_pages);
				break;
			}
		}
	}
	slob_unlock();
	rep_emit(&rep);	/* poison and red zones: misuse, repaired */
	return ret ? ret : repaired ? -KMM_EUCLEAN : 0;
}

/*
 * kmm_slob_page_list - white-box tests: which list the SLOB page holding
 * addr is on: 0 free_slob_small, 1 free_slob_medium, 2 free_slob_large,
 * -1 none (full, broken, big, or not a SLOB page).
 */
int kmm_slob_page_list(const void *addr);
int kmm_slob_page_list(const void *addr)
{
	struct page *page = virt_to_page(addr);
	int ret = -1;
	if (!page)
		return -1;
	slob_lock();
	if (is_slob_page(page) && PageSlobFree(page)) {
		struct list_head *lists[3] = { &kmm_slob.free_slob_small, &kmm_slob.free_slob_medium,
					       &kmm_slob.free_slob_large };
		for (int i = 0; i < 3 && ret < 0; i++) {
			struct list_head *e;
			list_for_each(e, lists[i])
				if (e == &page->lru) {
					ret = i;
					break;
				}
		}
	}
	slob_unlock();
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reports and counters                                                */
/* ------------------------------------------------------------------ */

/*
 * Call fn for up to max live objects of sc (page by page, each page in
 * address order) without holding slob_lock while fn runs: batches of
 * BATCH, each batch re-walking past the objects already listed.  Meant for
 * leak reports, while nobody else uses the cache.
 */
static void slob_list_objects(struct slob_cache *sc, void (*fn)(struct kmem_cache *, void *, void *), void *arg,
			      unsigned long max)
{
	enum { BATCH = 32 };
	void *objs[BATCH];
	unsigned long listed = 0;

	while (listed < max) {
		unsigned long skip = listed;
		int n = 0;
		slob_lock();
		for (int i = 0; i < SLOB_NR_LISTS; i++) {
			struct page *sp;
			list_for_each_entry(sp, slob_all_lists(i), lru) {
				if (slob_owner(sp) != sc)
					continue;
				char *base = slob_base(sp);
				unsigned int x = slob_page_big(sp) ? 0 : SLOB_MAP_BYTES;
				while (slob_page_big(sp) ? x == 0 : (x = map_find_next(base, x, PAGE_SIZE)) != 0) {
					if (skip) {
						skip--;
					} else {
						if (n == BATCH || listed + (unsigned long)n == max)
							goto batch_done;
						objs[n++] = base + x + sc->c.obj_offset;
					}
					x += SLOB_GRANULE;
				}
			}
		}
batch_done:
		slob_unlock();
		for (int i = 0; i < n; i++)
			fn(&sc->c, objs[i], arg);
		listed += (unsigned long)n;
		if (n < BATCH)
			break;
	}
}

unsigned long slob_cache_live(struct kmem_cache *s, void (*list_fn)(struct kmem_cache *, void *obj, void *arg),
				     void *arg, unsigned long max)
{
	struct slob_cache *sc = (struct slob_cache *)s;
	slob_lock();
	unsigned long live = sc->sc_live;
	slob_unlock();
	if (list_fn && live && max)
		slob_list_objects(sc, list_fn, arg, max < live ? max : live);
	return live;
}

/*
 * slabinfo rows with the figures SLOB has: objects allocated (active and
 * "num" alike: SLOB keeps no free objects), the slot size, pages owned as
 * slabs; zeros where SLOB has no such notion (objects per slab, tunables,
 * shared).  Big-object caches show 1 object per slab of 2^order pages.  A
 * last row, "kmalloc-slob", sums the kmalloc blocks (objsize 0: sizes
 * vary).  Rows are copied under slob_lock and printed after it (printing
 * may emit to a user callback).
 */
void slob_slabinfo(struct kmm_textbuf *tb)
{
	enum { BATCH = 16 };
	struct {
		char name[KMEM_CACHE_NAME_LEN];
		unsigned long live, pages;
		unsigned int size;
		int order;
	} row[BATCH];
	unsigned long done = 0, km_live = 0, km_pages = 0;
	bool more = true;

	while (more) {
		struct slob_cache *sc;
		unsigned long idx = 0;
		int n = 0;
		more = false;
		slob_lock();
		list_for_each_entry(sc, &kmm_slob.caches, sc_node) {
			if (idx++ < done)
				continue;
			if (n == BATCH) {
				more = true;
				break;
			}
			kmm_strlcpy(row[n].name, sc->c.name, sizeof(row[n].name));
			row[n].live = sc->sc_live;
			row[n].pages = sc->sc_pages;
			row[n].size = sc->c.size;
			row[n].order = sc->sc_order;
			n++;
		}
		km_live = kmm_slob.kmalloc_live;
		km_pages = kmm_slob.kmalloc_pages;
		slob_unlock();
		for (int i = 0; i < n; i++) {
			unsigned int pps = row[i].order >= 0 ? 1u << row[i].order : 0;
			kmm_tb_printf(tb, "%-17s %6lu %6lu %6u %4u %4u : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n",
				      row[i].name, row[i].live, row[i].live, row[i].size, pps ? 1u : 0u, pps, 0u, 0u, 0u,
				      pps ? row[i].pages >> row[i].order : row[i].pages,
				      pps ? row[i].pages >> row[i].order : row[i].pages, 0UL);
		}
		done += (unsigned long)n;
	}
	kmm_tb_printf(tb, "%-17s %6lu %6lu %6u %4u %4u : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n",
		      SLOB_KMALLOC_NAME, km_live, km_live, 0u, 0u, 0u, 0u, 0u, 0u, km_pages, km_pages, 0UL);
}

unsigned long slob_reclaimable_pages(void) { return READ_ONCE(kmm_slob.nr_reclaimable); }
unsigned long slob_unreclaimable_pages(void)
{
	return READ_ONCE(kmm_slob.nr_pages) + READ_ONCE(kmm_slob.nr_big_pages) - READ_ONCE(kmm_slob.nr_reclaimable);
}
