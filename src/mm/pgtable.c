/*
 * pgtable.c - the kernel page table of the simulated machine: a software
 * 3-level table (pgd -> pmd -> pte) describing the vmalloc and pkmap
 * windows, kept in step with the host mappings of those windows.
 *
 * 1. Overview
 *    ULK3 chapter 2 describes the 3-level shape (Page Global Directory,
 *    Page Middle Directory, Page Table) that x86 PAE uses; kmm keeps that
 *    shape for the part of the kernel address space that is not linearly
 *    mapped.  vmalloc.c (vmalloc, vmap) and highmem.c (kmap's pkmap window)
 *    map frames with kmm_kernel_map_pages(): the PTEs are written here and
 *    the host is asked to make the frames visible at those addresses
 *    (shared backing: an alias of the frame in the memory file; private
 *    backing: the frame's page itself moves from its linear address, see
 *    section 6).  vmalloc_to_page() walks the table (kmm_pgtable_lookup),
 *    as the kernel's does.
 *
 * 2. Geometry (every number is a named constant below)
 *    The table indexes the offset of an address from the start of the
 *    kernel window, kmm.vmalloc_start; the window runs to the end of the
 *    pkmap area:
 *
 *       vmalloc_start .. vmalloc_end   vmalloc= bytes (vmalloc, vmap)
 *       2 pages                         hole (never mapped)
 *       pkmap_base .. + pkmap= pages    permanent kmaps
 *
 *    A table page holds PAGE_SIZE / sizeof(entry) entries: 512 with 4 KiB
 *    pages on a 64-bit host (PT_INDEX_BITS = 9).  So
 *       offset bits [PAGE_SHIFT, PMD_SHIFT)   = [12, 21): pte index
 *       offset bits [PMD_SHIFT, PGDIR_SHIFT)  = [21, 30): pmd index
 *       offset bits [PGDIR_SHIFT, ...)        = [30, ..): pgd index
 *    A pte table maps 2 MiB, a pmd table 1 GiB.  The pgd has at least
 *    PTRS_PER_PTE entries (one page, 512 GiB of window); a larger vmalloc=
 *    window gets a pgd of as many pages as it needs (at boot, one block).
 *    With PAGE_SHIFT 16 the same formulas give 8192-entry tables.
 *
 *    An entry is one unsigned long: pfn << PAGE_SHIFT | flag bits, with the
 *    x86 bit values: _PAGE_PRESENT, _PAGE_RW, _PAGE_ACCESSED, _PAGE_DIRTY,
 *    _PAGE_GLOBAL.  Leaf entries carry PAGE_KERNEL's bits (0x163), table
 *    entries _KERNPG_TABLE's (0x063).  An empty entry is 0.
 *
 * 3. Data structures
 *    - pgt.pgd: the directory (lowmem pages from the page allocator at
 *      boot, PG_pgtable), never freed before shutdown.
 *    - pmd and pte tables: one lowmem page each (alloc_page with the
 *      caller's gfp minus __GFP_HIGHMEM, zeroed), PG_pgtable, page_aux2 =
 *      number of present entries in the table.  A table whose count drops
 *      to 0 is unlinked from its parent and freed.
 *    - struct page of a frame mapped in the vmalloc window: _mapcount
 *      counts those entries (-1 = none), so freeing a frame that is still
 *      vmalloc'ed or vmapped is reported as "bad page state" by the page
 *      allocator (the private backing depends on it: such a frame is not at
 *      its linear address).  pkmap entries are not counted: as in Linux, a
 *      permanent kmap slot keeps its entry after the last kunmap until the
 *      next flush, and the page may be freed meanwhile; highmem.c tracks
 *      kmap users with PG_kmapped instead.  With the private backing
 *      (no high memory, so no kmap use of pkmap) every entry counts.
 *
 * 4. Invariants (kmm_pgtable_check tests each)
 *    a. A present pgd/pmd entry points at a valid lowmem frame marked
 *       PG_pgtable with refcount 1; the frame's page_aux2 equals the number
 *       of present entries in it, and is never 0 (empty tables are freed).
 *    b. A present pte lies in the vmalloc or pkmap window (never in the
 *       hole between them) and points at a valid frame; in the vmalloc
 *       window that frame is allocated (refcount > 0, not on a free list)
 *       with _mapcount >= 0 (pkmap entries may outlive their page's
 *       allocation until the next pkmap flush, see above).
 *    c. pgt.nr_table_pages = pgd pages + linked pmd and pte tables (meminfo
 *       PageTables); pgt.nr_ptes = present ptes.
 *    That the entries agree with what vmalloc and pkmap believe they mapped
 *    is checked by their own checkers (through kmm_pgtable_lookup).
 *
 * 5. Locks
 *    pgt.lock protects the table structure: entries, per-table counts and
 *    the totals.  It is a leaf: the vmalloc area lock and the pkmap lock
 *    may be held around any call here, and nothing here takes another kmm
 *    lock while holding it.  Table pages are allocated before the lock is
 *    taken (count what is missing, unlock, allocate, retry) and freed after
 *    it is dropped, so the page allocator (zone locks, reclaim, sleeping)
 *    never runs under it.  Host mapping calls (mmap, mremap) are made
 *    outside the lock too: a caller owns the address range it maps or
 *    unmaps, and the leaf entries of an owned range only change through
 *    that caller.  For the same reason kmm_kernel_unmap_pages reads its own
 *    ptes without the lock: the tables holding them cannot be freed while
 *    they are present, and no other thread writes those words.
 *
 * 6. Backings
 *    shared:  mapping = kmm_plat_map_frames(va, pfn) (the frame stays at its
 *             linear address too, if it has one: an alias, as the kernel's
 *             vmalloc aliases the direct map); unmapping = kmm_plat_unmap.
 *             High memory frames have only these mappings.
 *    private: a frame can be at one address only.  Mapping moves the page
 *             from its linear address to va (kmm_plat_move_pages), so the
 *             linear address faults until the unmap moves it back.  There
 *             is no high memory with this backing, every frame mapped here
 *             is lowmem, and a frame that is already mapped in the window
 *             (_mapcount >= 0) cannot be mapped again: -EBUSY.
 *    Consecutive frames are handed to the host as one run.  Note that every
 *    run of a shared mapping is a host VMA: a window of scattered frames
 *    costs one VMA per frame against the host's vm.max_map_count (65530 by
 *    default); a host refusal comes back as -ENOMEM.
 *
 * 7. Failure
 *    kmm_kernel_map_pages returns -ENOMEM (table page or host mapping
 *    failed) with nothing left mapped, -EINVAL for a range outside the
 *    windows or one that already has present entries, -EBUSY as above.
 *    kmm_kernel_unmap_pages cannot fail; entries that are not present are
 *    skipped.
 *
 * 8. References
 *    ULK3 2.4 (paging in Linux), 8.3 (noncontiguous areas, vmalloc_to_page);
 *    Linux mm/vmalloc.c vmap_pages_range / vunmap_range, mm/memory.c
 *    __pte_alloc_kernel, arch/x86/include/asm/pgtable_types.h (bit values).
 */
#include "pgtable.h"
#include "fork.h"

/* ------------------------------------------------------------------ */
/* Geometry                                                            */
/* ------------------------------------------------------------------ */

typedef unsigned long pgtentry_t;	/* pgd, pmd and pte entries alike */

#define PT_ENTRY_SIZE   sizeof(pgtentry_t)
#define PT_INDEX_BITS   (PAGE_SHIFT - 3)		/* log2(entries per table page): 9 */
#define PTRS_PER_PTE    (1UL << PT_INDEX_BITS)		/* 512 */
#define PTRS_PER_PMD    PTRS_PER_PTE
#define PMD_SHIFT       (PAGE_SHIFT + PT_INDEX_BITS)	/* 21: a pte table maps 2 MiB */
#define PGDIR_SHIFT     (PMD_SHIFT + PT_INDEX_BITS)	/* 30: a pmd table maps 1 GiB */
#define PMD_SIZE        (1UL << PMD_SHIFT)
#define PGDIR_SIZE      (1UL << PGDIR_SHIFT)
#define MIN_PTRS_PER_PGD PTRS_PER_PTE			/* the pgd is at least one page */
_Static_assert((1UL << PT_INDEX_BITS) * sizeof(pgtentry_t) == PAGE_SIZE, "a table is one page");

/* x86 page-table bits (arch/x86/include/asm/pgtable_types.h) */
#define _PAGE_PRESENT   0x001UL
#define _PAGE_RW        0x002UL
#define _PAGE_ACCESSED  0x020UL
#define _PAGE_DIRTY     0x040UL
#define _PAGE_GLOBAL    0x100UL
#define _PAGE_KERNEL    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL) /* 0x163 */
#define _KERNPG_TABLE   (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)		  /* 0x063 */
#define PTE_FLAGS_MASK  ((1UL << PAGE_SHIFT) - 1)

/* An empty list declared on the stack (list.h has no LIST_HEAD). */
#define PGT_LIST_HEAD(name) struct list_head name = { &(name), &(name) }

static inline bool entry_present(pgtentry_t e) { return e & _PAGE_PRESENT; }
static inline unsigned long entry_pfn(pgtentry_t e) { return e >> PAGE_SHIFT; }
static inline pgtentry_t mk_entry(unsigned long pfn, unsigned long flags) { return (pfn << PAGE_SHIFT) | flags; }

/* gfp bits a table-page allocation keeps from the caller's request: how
 * hard to try, never where from (lowmem, unmovable) nor its form. */
#define PGT_GFP_KEEP (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH | __GFP_NOWARN | __GFP_NORETRY | \
		      __GFP_NOFAIL | __GFP_RETRY_MAYFAIL | __GFP_MEMALLOC | __GFP_NOMEMALLOC)

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

static struct {
	bool ready;			/* initialised for boot generation boot_gen */
	unsigned long boot_gen;
	struct kmm_lock lock;
	pgtentry_t *pgd;
	struct page *pgd_page;		/* head of the pgd block */
	unsigned int pgd_order;
	unsigned long ptrs_per_pgd;
	unsigned long pgd_used;		/* present pgd entries */
	unsigned long nr_table_pages;	/* pgd pages + pmd + pte tables (atomic reads) */
	unsigned long nr_ptes;		/* present leaf entries */
} pgt;

/* The table belongs to the machine booted now (a boot that failed after
 * kmm_pgtable_init leaves stale state behind, never used). */
static inline bool pgt_live(void)
{
	return pgt.ready && pgt.boot_gen == kmm.boot_gen && kmm.booted;
}

static inline pgtentry_t *table_of(pgtentry_t e) { return kmm_pfn_to_virt(entry_pfn(e)); }
static inline struct page *table_page(pgtentry_t e) { return kmm_pfn_to_page(entry_pfn(e)); }

static inline unsigned long va_offset(const void *va) { return (unsigned long)((const char *)va - kmm.vmalloc_start); }
static inline unsigned long pgd_index(unsigned long off) { return off >> PGDIR_SHIFT; }
static inline unsigned long pmd_index(unsigned long off) { return (off >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline unsigned long pte_index(unsigned long off) { return (off >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

static char *pkmap_end(void) { return kmm.pkmap_base + ((unsigned long)kmm.cfg.pkmap << PAGE_SHIFT); }

/* [va, va + nr pages) lies inside one of the two windows the table maps. */
static bool range_in_window(const char *va, unsigned long nr)
{
	if (((uintptr_t)va & (PAGE_SIZE - 1)) || nr == 0 || nr > (kmm.va_size >> PAGE_SHIFT))
		return false;
	unsigned long len = nr << PAGE_SHIFT;
	if (va >= kmm.vmalloc_start && va < kmm.vmalloc_end)
		return len <= (unsigned long)(kmm.vmalloc_end - va);
	if (va >= kmm.pkmap_base && va < pkmap_end())
		return len <= (unsigned long)(pkmap_end() - va);
	return false;
}

static bool private_backing(void) { return kmm.cfg.backing == KMM_BACKING_PRIVATE; }

/* Mappings of the vmalloc window count in the frame's _mapcount; pkmap's
 * do not (section 3), except with the private backing, which has no high
 * memory (highmem.c never uses pkmap there) and needs the count to keep a
 * frame at one address. */
static bool off_counted(unsigned long off)
{
	return private_backing() || off < (unsigned long)(kmm.vmalloc_end - kmm.vmalloc_start);
}

static bool addr_in_window(const void *va)
{
	const char *a = va;
	return (a >= kmm.vmalloc_start && a < kmm.vmalloc_end) || (a >= kmm.pkmap_base && a < pkmap_end());
}

/* ------------------------------------------------------------------ */
/* Table pages                                                         */
/* ------------------------------------------------------------------ */

/* A zeroed lowmem page for a pmd or pte table; no lock held. */
static struct page *alloc_table_page(gfp_t gfp)
{
	struct page *p = alloc_page((gfp & PGT_GFP_KEEP) | __GFP_ZERO);
	if (p) {
		SetPagePgtable(p);
		p->page_aux2 = 0;
	}
	return p;
}

/* Give a table page back; no lock held. */
static void free_table_page(struct page *p)
{
	ClearPagePgtable(p);
	p->page_aux2 = 0;
	__free_page(p);
}

static void free_table_list(struct list_head *list)
{
	while (!list_empty(list)) {
		struct page *p = list_first_entry(list, struct page, lru);
		list_del_init(&p->lru);
		free_table_page(p);
	}
}

/* Lock held: take a spare page, link it into *slot (empty) as a table. */
static void __install_table(pgtentry_t *slot, struct list_head *spare)
{
	struct page *p = list_first_entry(spare, struct page, lru);
	list_del_init(&p->lru);
	WRITE_ONCE(*slot, mk_entry(kmm_page_to_pfn(p), _KERNPG_TABLE));
	pgt.nr_table_pages++;
}

/*
 * Lock held: how many table pages mapping [va, va + nr pages) still needs.
 * Sets *busy when some pte of the range is already present (the caller
 * maps over a live mapping: refused).
 */
static unsigned long __missing_tables(const char *va, unsigned long nr, bool *busy)
{
	unsigned long need = 0, off = va_offset(va), end = off + (nr << PAGE_SHIFT);
	*busy = false;
	while (off < end) {
		pgtentry_t pgde = pgt.pgd[pgd_index(off)];
		unsigned long pgd_end = (off | (PGDIR_SIZE - 1)) + 1;
		if (!entry_present(pgde)) {
			/* a pmd table, plus one pte table per 2 MiB slice touched */
			unsigned long stop = pgd_end < end ? pgd_end : end;
			need += 1 + (((stop - 1) >> PMD_SHIFT) - (off >> PMD_SHIFT) + 1);
			off = stop;
			continue;
		}
		pgtentry_t *pmd = table_of(pgde);
		while (off < end && off < pgd_end) {
			pgtentry_t pmde = pmd[pmd_index(off)];
			unsigned long pmd_end = (off | (PMD_SIZE - 1)) + 1;
			unsigned long stop = pmd_end < end ? pmd_end : end;
			if (!entry_present(pmde)) {
				need++;
			} else {
				pgtentry_t *pte = table_of(pmde);
				for (unsigned long o = off; o < stop; o += PAGE_SIZE)
					if (entry_present(pte[pte_index(o)]))
						*busy = true;
			}
			off = stop;
		}
	}
	return need;
}

/*
 * Lock held: write the pte for off (empty) mapping frame, creating tables
 * from spare on the way (__missing_tables counted enough under the same
 * hold of the lock), and count the entry in its table and in the frame's
 * _mapcount.  Returns the new _mapcount (0: the frame's only kernel mapping).
 */
static int __set_pte(unsigned long off, struct page *frame, struct list_head *spare)
{
	pgtentry_t *pgde = &pgt.pgd[pgd_index(off)];
	if (!entry_present(*pgde)) {
		__install_table(pgde, spare);
		pgt.pgd_used++;
	}
	pgtentry_t *pmde = &table_of(*pgde)[pmd_index(off)];
	if (!entry_present(*pmde)) {
		__install_table(pmde, spare);
		table_page(*pgde)->page_aux2++;
	}
	pgtentry_t *pte = &table_of(*pmde)[pte_index(off)];
	WRITE_ONCE(*pte, mk_entry(kmm_page_to_pfn(frame), _PAGE_KERNEL));
	table_page(*pmde)->page_aux2++;
	pgt.nr_ptes++;
	if (!off_counted(off))
		return 0;
	return __atomic_add_fetch(&frame->_mapcount, 1, __ATOMIC_RELAXED);
}

/* The pte slot for off, or NULL when a table on the way is missing.  Lock
 * held, or the caller owns a present entry there (section 5). */
static pgtentry_t *pte_lookup(unsigned long off)
{
	if (!pgt.pgd || pgd_index(off) >= pgt.ptrs_per_pgd)
		return NULL;
	pgtentry_t pgde = READ_ONCE(pgt.pgd[pgd_index(off)]);
	if (!entry_present(pgde))
		return NULL;
	pgtentry_t pmde = READ_ONCE(table_of(pgde)[pmd_index(off)]);
	if (!entry_present(pmde))
		return NULL;
	return &table_of(pmde)[pte_index(off)];
}

/*
 * Lock held: clear the pte at off (present), drop the frame's map count,
 * and unlink tables that became empty onto *freed (freed by the caller
 * after unlocking).
 */
static void __clear_pte(unsigned long off, struct list_head *freed)
{
	pgtentry_t *pgde = &pgt.pgd[pgd_index(off)];
	pgtentry_t *pmde = &table_of(*pgde)[pmd_index(off)];
	pgtentry_t *pte = &table_of(*pmde)[pte_index(off)];
	struct page *frame = kmm_pfn_to_page(entry_pfn(*pte));

	WRITE_ONCE(*pte, 0);
	pgt.nr_ptes--;
	if (off_counted(off))
		__atomic_sub_fetch(&frame->_mapcount, 1, __ATOMIC_RELAXED);

	struct page *ptp = table_page(*pmde);
	if (--ptp->page_aux2)
		return;
	WRITE_ONCE(*pmde, 0);
	pgt.nr_table_pages--;
	list_add(&ptp->lru, freed);

	struct page *pmdp = table_page(*pgde);
	if (--pmdp->page_aux2)
		return;
	WRITE_ONCE(*pgde, 0);
	pgt.pgd_used--;
	pgt.nr_table_pages--;
	list_add(&pmdp->lru, freed);
}

/* ------------------------------------------------------------------ */
/* Host mappings                                                       */
/* ------------------------------------------------------------------ */

/* Length of the run of consecutive frames starting at pages[i]. */
static unsigned long frame_run(struct page **pages, unsigned long i, unsigned long nr)
{
	unsigned long pfn = kmm_page_to_pfn(pages[i]), n = 1;
	while (i + n < nr && kmm_page_to_pfn(pages[i + n]) == pfn + n)
		n++;
	return n;
}

/* Undo host_map for pages [0, done) at va. */
static void host_unmap_done(char *va, struct page **pages, unsigned long done)
{
	if (!done)
		return;
	if (!private_backing()) {
		kmm_plat_unmap(va, done);
		return;
	}
	for (unsigned long i = 0; i < done;) {
		unsigned long n = frame_run(pages, i, done);
		unsigned long pfn = kmm_page_to_pfn(pages[i]);
		if (kmm_plat_move_pages(kmm_pfn_to_virt(pfn), va + (i << PAGE_SHIFT), n))
			kmm_plat_abort("kmm: internal error: pgtable: cannot move frames back to the linear map");
		i += n;
	}
}

/* Make pages[0..nr) visible at va on the host.  0, or -ENOMEM with
 * nothing mapped. */
static int host_map(char *va, struct page **pages, unsigned long nr)
{
	for (unsigned long i = 0; i < nr;) {
		unsigned long n = frame_run(pages, i, nr);
		unsigned long pfn = kmm_page_to_pfn(pages[i]);
		char *at = va + (i << PAGE_SHIFT);
		int err = private_backing() ? kmm_plat_move_pages(at, kmm_pfn_to_virt(pfn), n)
					    : kmm_plat_map_frames(at, pfn, n);
		if (err) {
			host_unmap_done(va, pages, i);
			return -KMM_ENOMEM;
		}
		i += n;
	}
	return 0;
}

/* Private backing: move the frames mapped (per the ptes) at
 * [va, va + nr pages) back to their linear addresses.  The caller owns the
 * range (section 5: lockless reads of its own ptes). */
static void host_move_back(char *va, unsigned long nr)
{
	unsigned long off = va_offset(va);
	for (unsigned long i = 0; i < nr;) {
		pgtentry_t *pte = pte_lookup(off + (i << PAGE_SHIFT));
		pgtentry_t e = pte ? READ_ONCE(*pte) : 0;
		if (!entry_present(e)) {
			i++;
			continue;
		}
		unsigned long pfn = entry_pfn(e), n = 1;
		while (i + n < nr) {
			pgtentry_t *p2 = pte_lookup(off + ((i + n) << PAGE_SHIFT));
			pgtentry_t e2 = p2 ? READ_ONCE(*p2) : 0;
			if (!entry_present(e2) || entry_pfn(e2) != pfn + n)
				break;
			n++;
		}
		if (kmm_plat_move_pages(kmm_pfn_to_virt(pfn), va + (i << PAGE_SHIFT), n))
			kmm_plat_abort("kmm: internal error: pgtable: cannot move frames back to the linear map");
		i += n;
	}
}

/* ------------------------------------------------------------------ */
/* Mapping and unmapping                                               */
/* ------------------------------------------------------------------ */

/*
 * kmm_kernel_map_pages - see pgtable.h.
 * Context: may sleep when gfp allows (table pages); the caller may hold the
 * vmalloc area lock or the pkmap lock only with a gfp that does not sleep,
 * and no zone lock.
 */
int kmm_kernel_map_pages(char *va, struct page **pages, unsigned long nr, gfp_t gfp)
{
	PGT_LIST_HEAD(spare);
	unsigned long nspare = 0;
	bool busy = false;
	int err;

	if (!pgt_live() || !pages || !range_in_window(va, nr))
		return -KMM_EINVAL;
	for (unsigned long i = 0; i < nr; i++) {
		if (!kmm_is_page_desc(pages[i]))
			return -KMM_EINVAL;
		if (private_backing() && !kmm_is_lowmem_pfn(kmm_page_to_pfn(pages[i])))
			return -KMM_EINVAL;
	}

	/* Count the missing tables under the lock, allocate them without it,
	 * and retry until the spares cover what is missing. */
	for (;;) {
		kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
		unsigned long need = __missing_tables(va, nr, &busy);
		if (busy || need <= nspare)
			break;
		kmm_unlock(&pgt.lock);
		while (nspare < need) {
			struct page *p = alloc_table_page(gfp);
			if (!p) {
				free_table_list(&spare);
				return -KMM_ENOMEM;
			}
			list_add(&p->lru, &spare);
			nspare++;
		}
	}
	if (busy) {
		kmm_unlock(&pgt.lock);
		free_table_list(&spare);
		return -KMM_EINVAL;
	}
	unsigned long off = va_offset(va);
	for (unsigned long i = 0; i < nr; i++) {
		if (__set_pte(off + (i << PAGE_SHIFT), pages[i], &spare) > 0 && private_backing()) {
			/* A private frame lives at one address: it is mapped
			 * elsewhere already (or twice in this request). */
			for (unsigned long j = 0; j <= i; j++)
				__clear_pte(off + (j << PAGE_SHIFT), &spare);
			kmm_unlock(&pgt.lock);
			free_table_list(&spare);
			return -KMM_EBUSY;
		}
	}
	kmm_unlock(&pgt.lock);
	free_table_list(&spare);

	err = host_map(va, pages, nr);
	if (err) {
		PGT_LIST_HEAD(freed);
		kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
		for (unsigned long i = 0; i < nr; i++)
			__clear_pte(off + (i << PAGE_SHIFT), &freed);
		kmm_unlock(&pgt.lock);
		free_table_list(&freed);
	}
	return err;
}

/*
 * kmm_kernel_unmap_pages - see pgtable.h.
 * Context: never sleeps; the caller owns the range (it mapped it) and may
 * hold the vmalloc area lock or the pkmap lock.
 */
void kmm_kernel_unmap_pages(char *va, unsigned long nr)
{
	PGT_LIST_HEAD(freed);

	if (!range_in_window(va, nr)) {
		kmm_log("kmm: internal error: pgtable: unmap of %lu pages at %p outside the kernel window",
			nr, (void *)va);
		return;
	}
	if (!pgt_live()) {
		/* the table is gone (shutdown order): only the host view is left */
		if (!private_backing())
			kmm_plat_unmap(va, nr);
		return;
	}
	if (private_backing())
		host_move_back(va, nr);
	else
		kmm_plat_unmap(va, nr);

	unsigned long off = va_offset(va);
	kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
	for (unsigned long i = 0; i < nr; i++) {
		pgtentry_t *pte = pte_lookup(off + (i << PAGE_SHIFT));
		if (pte && entry_present(*pte))
			__clear_pte(off + (i << PAGE_SHIFT), &freed);
	}
	kmm_unlock(&pgt.lock);
	free_table_list(&freed);
}

/*
 * kmm_pgtable_lookup - the walk vmalloc_to_page does: pgd -> pmd -> pte.
 * Return: the frame mapped at va (any byte of the page), or NULL when va
 * is outside the windows or not mapped.  Context: any; takes pgt.lock.
 */
struct page *kmm_pgtable_lookup(const void *va)
{
	struct page *page = NULL;

	if (!pgt_live() || !addr_in_window(va))
		return NULL;
	kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
	pgtentry_t *pte = pte_lookup(va_offset(va) & ~(PAGE_SIZE - 1));
	if (pte && entry_present(*pte))
		page = kmm_pfn_to_page(entry_pfn(*pte));
	kmm_unlock(&pgt.lock);
	return page;
}

/*
 * kmm_pgtable_count_present - present ptes for [va, va + nr pages), walking
 * only the tables that exist.  Context: takes pgt.lock.
 */
unsigned long kmm_pgtable_count_present(const void *va, unsigned long nr)
{
	unsigned long n = 0;

	if (!pgt_live() || !range_in_window(va, nr))
		return 0;
	unsigned long off = va_offset(va), end = off + (nr << PAGE_SHIFT);
	kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
	while (off < end) {
		pgtentry_t pgde = pgt.pgd[pgd_index(off)];
		if (!entry_present(pgde)) {
			off = (off | (PGDIR_SIZE - 1)) + 1;
			continue;
		}
		pgtentry_t pmde = table_of(pgde)[pmd_index(off)];
		if (!entry_present(pmde)) {
			off = (off | (PMD_SIZE - 1)) + 1;
			continue;
		}
		n += entry_present(table_of(pmde)[pte_index(off)]);
		off += PAGE_SIZE;
	}
	kmm_unlock(&pgt.lock);
	return n;
}

/* kmm_pgtable_pages - table pages in use, pgd included (meminfo PageTables). */
unsigned long kmm_pgtable_pages(void)
{
	return pgt_live() ? __atomic_load_n(&pgt.nr_table_pages, __ATOMIC_RELAXED) : 0;
}

/* ------------------------------------------------------------------ */
/* Boot, shutdown, check                                               */
/* ------------------------------------------------------------------ */

static const struct kmm_layer_ops pgtable_layer = {
	.name = "pgtable",
	.check = kmm_pgtable_check,
	.shutdown = kmm_pgtable_shutdown,
};

/*
 * kmm_pgtable_init - allocate the pgd and register the page table's layer
 * (its check and its shutdown).  Idempotent within one boot: vmalloc_init
 * calls it, and highmem's init may call it too; the first call registers
 * the layer, so the table is torn down after the layers that use it when
 * those registered later.
 * Return: 0 or -ENOMEM.
 */
int kmm_pgtable_init(void)
{
	if (pgt.ready && pgt.boot_gen == kmm.boot_gen)
		return 0;	/* (kmm.booted is set before the layers init) */
	kmm_memset(&pgt, 0, sizeof(pgt));
	kmm_plat_lock_init(&pgt.lock);

	unsigned long span = (unsigned long)(pkmap_end() - kmm.vmalloc_start);
	unsigned long ptrs = (span + PGDIR_SIZE - 1) >> PGDIR_SHIFT;
	if (ptrs < MIN_PTRS_PER_PGD)
		ptrs = MIN_PTRS_PER_PGD;
	unsigned int order = kmm_get_order(ptrs * PT_ENTRY_SIZE, PAGE_SHIFT);
	struct page *page = order <= MAX_PAGE_ORDER ? alloc_pages(GFP_KERNEL | __GFP_ZERO, order) : NULL;
	if (!page) {
		kmm_log("kmm: boot: no memory for the kernel page directory (%lu entries)", ptrs);
		kmm_plat_lock_destroy(&pgt.lock);
		return -KMM_ENOMEM;
	}
	for (unsigned long i = 0; i < (1UL << order); i++)
		SetPagePgtable(page + i);
	pgt.pgd_page = page;
	pgt.pgd_order = order;
	pgt.pgd = page_address(page);
	pgt.ptrs_per_pgd = (PAGE_SIZE << order) / PT_ENTRY_SIZE;
	pgt.nr_table_pages = 1UL << order;
	pgt.boot_gen = kmm.boot_gen;
	pgt.ready = true;
	kmm_meminfo_hooks.pagetable_pages = kmm_pgtable_pages;
	kmm_register_layer(&pgtable_layer);
	return 0;
}

/*
 * kmm_pgtable_shutdown - tear the table down: entries still present (a
 * mapping somebody leaked) are unmapped on the host (moved back with the
 * private backing) and reported in one line, every table page is freed.
 * Context: shutdown, machine quiet.
 */
void kmm_pgtable_shutdown(void)
{
	unsigned long left = 0;
	char *first = NULL;
	PGT_LIST_HEAD(freed);

	if (!pgt_live())
		return;
	for (unsigned long i = 0; i < pgt.ptrs_per_pgd; i++) {
		for (unsigned long j = 0; j < PTRS_PER_PMD && entry_present(pgt.pgd[i]); j++) {
			for (unsigned long k = 0; k < PTRS_PER_PTE; k++) {
				pgtentry_t pmde = table_of(pgt.pgd[i])[j];
				if (!entry_present(pmde))
					break;
				if (!entry_present(table_of(pmde)[k]))
					continue;
				unsigned long off = (i << PGDIR_SHIFT) | (j << PMD_SHIFT) | (k << PAGE_SHIFT);
				char *va = kmm.vmalloc_start + off;
				if (!left++)
					first = va;
				if (private_backing())
					host_move_back(va, 1);
				else
					kmm_plat_unmap(va, 1);
				__clear_pte(off, &freed);
			}
		}
	}
	free_table_list(&freed);
	if (left)
		kmm_log("kmm: shutdown: page table: %lu kernel mappings still present (first at %p)", left,
			(void *)first);
	for (unsigned long i = 0; i < (1UL << pgt.pgd_order); i++)
		ClearPagePgtable(pgt.pgd_page + i);
	__free_pages(pgt.pgd_page, pgt.pgd_order);
	if (kmm_meminfo_hooks.pagetable_pages == kmm_pgtable_pages)
		kmm_meminfo_hooks.pagetable_pages = NULL;
	kmm_plat_lock_destroy(&pgt.lock);
	kmm_memset(&pgt, 0, sizeof(pgt));
}

/* A table entry (pgd or pmd level) points at a live table page. */
static bool table_entry_ok(pgtentry_t e, char *why, size_t len, const char *level, unsigned long idx)
{
	unsigned long pfn = entry_pfn(e);
	if ((e & PTE_FLAGS_MASK) != _KERNPG_TABLE) {
		kmm_snprintf(why, len, "%s entry %lu: flags %#lx, expected %#lx", level, idx, e & PTE_FLAGS_MASK,
			     _KERNPG_TABLE);
		return false;
	}
	if (!kmm_pfn_valid(pfn) || !kmm_is_lowmem_pfn(pfn)) {
		kmm_snprintf(why, len, "%s entry %lu: pfn %lu is not a lowmem frame", level, idx, pfn);
		return false;
	}
	struct page *p = kmm_pfn_to_page(pfn);
	if (!PagePgtable(p) || p->_refcount != 1) {
		kmm_snprintf(why, len, "%s entry %lu: table pfn %lu not a page-table page (flags %#lx count %d)",
			     level, idx, pfn, p->flags & ((1UL << __NR_PAGEFLAGS) - 1), p->_refcount);
		return false;
	}
	return true;
}

static unsigned long count_present(const pgtentry_t *t, unsigned long n)
{
	unsigned long c = 0;
	for (unsigned long i = 0; i < n; i++)
		c += entry_present(t[i]);
	return c;
}

/* Lock held: invariants a-c of the header; false with *why filled. */
static bool __pgtable_check(char *why, size_t len)
{
	unsigned long tables = 1UL << pgt.pgd_order, ptes = 0, used = 0;

	for (unsigned long i = 0; i < pgt.ptrs_per_pgd; i++) {
		pgtentry_t pgde = pgt.pgd[i];
		if (!entry_present(pgde))
			continue;
		used++;
		if (!table_entry_ok(pgde, why, len, "pgd", i))
			return false;
		pgtentry_t *pmd = table_of(pgde);
		unsigned long n = count_present(pmd, PTRS_PER_PMD);
		tables++;
		if (n == 0 || n != table_page(pgde)->page_aux2) {
			kmm_snprintf(why, len, "pmd table of pgd entry %lu: %lu entries present, count says %u",
				     i, n, table_page(pgde)->page_aux2);
			return false;
		}
		for (unsigned long j = 0; j < PTRS_PER_PMD; j++) {
			pgtentry_t pmde = pmd[j];
			if (!entry_present(pmde))
				continue;
			if (!table_entry_ok(pmde, why, len, "pmd", (i << PT_INDEX_BITS) | j))
				return false;
			pgtentry_t *pte = table_of(pmde);
			n = count_present(pte, PTRS_PER_PTE);
			tables++;
			if (n == 0 || n != table_page(pmde)->page_aux2) {
				kmm_snprintf(why, len, "pte table at %p: %lu entries present, count says %u",
					     (void *)(kmm.vmalloc_start + ((i << PGDIR_SHIFT) | (j << PMD_SHIFT))), n,
					     table_page(pmde)->page_aux2);
				return false;
			}
			for (unsigned long k = 0; k < PTRS_PER_PTE; k++) {
				pgtentry_t e = pte[k];
				if (!entry_present(e))
					continue;
				char *va = kmm.vmalloc_start + ((i << PGDIR_SHIFT) | (j << PMD_SHIFT) | (k << PAGE_SHIFT));
				unsigned long pfn = entry_pfn(e);
				ptes++;
				if (!addr_in_window(va)) {
					kmm_snprintf(why, len, "pte at %p lies outside the vmalloc and pkmap windows",
						     (void *)va);
					return false;
				}
				if ((e & PTE_FLAGS_MASK) != _PAGE_KERNEL || !kmm_pfn_valid(pfn)) {
					kmm_snprintf(why, len, "pte at %p: bad entry %#lx", (void *)va, e);
					return false;
				}
				struct page *f = kmm_pfn_to_page(pfn);
				bool counted = off_counted((unsigned long)(va - kmm.vmalloc_start));
				if (counted && (f->_refcount <= 0 || PageBuddy(f) || PagePcp(f) || f->_mapcount < 0)) {
					kmm_snprintf(why, len, "pte at %p maps pfn %lu, which is free or unmapped "
						     "(count %d mapcount %d flags %#lx)", (void *)va, pfn, f->_refcount,
						     f->_mapcount, f->flags & ((1UL << __NR_PAGEFLAGS) - 1));
					return false;
				}
			}
		}
	}
	if (used != pgt.pgd_used || tables != pgt.nr_table_pages || ptes != pgt.nr_ptes) {
		kmm_snprintf(why, len, "counts: pgd entries %lu (recorded %lu), table pages %lu (recorded %lu), "
			     "ptes %lu (recorded %lu)", used, pgt.pgd_used, tables, pgt.nr_table_pages, ptes, pgt.nr_ptes);
		return false;
	}
	return true;
}

/*
 * kmm_pgtable_check - kmm_check's walk of the page table (header section
 * 4).  Context: takes pgt.lock; reports after dropping it.
 * Return: 0 or -EUCLEAN after a "kmm: check: pgtable: ..." line.
 */
int kmm_pgtable_check(void)
{
	char why[256];
	bool ok;

	if (!pgt_live())
		return 0;
	kmm_lock(&pgt.lock, KMM_LC_PGTABLE);
	ok = __pgtable_check(why, sizeof(why));
	kmm_unlock(&pgt.lock);
	return ok ? 0 : kmm_check_fail("pgtable", "%s", why);
}

/* kmm_pgtable_fork - fork.c's hook (fork.h): the page table lock. */
void kmm_pgtable_fork(enum kmm_fork_phase phase)
{
	if (!pgt_live())
		return;
	if (phase == KMM_FORK_PREPARE)
		kmm_plat_lock(&pgt.lock);
	else if (phase == KMM_FORK_PARENT)
		kmm_plat_unlock(&pgt.lock);
	else
		kmm_plat_lock_init(&pgt.lock);
}
