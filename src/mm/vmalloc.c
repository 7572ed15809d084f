/*
 * vmalloc.c - noncontiguous memory areas: vmalloc, vzalloc, vmalloc_node,
 * vfree, vmap, vunmap, vmalloc_to_page, is_vmalloc_addr, /proc/vmallocinfo.
 *
 * 1. Overview
 *    An area is a run of addresses in the vmalloc window [kmm.vmalloc_start,
 *    kmm.vmalloc_end) followed by one unmapped guard page (counted in the
 *    area's size, as Linux counts it).  vmalloc takes order-0 frames one by
 *    one (GFP_KERNEL | __GFP_HIGHMEM: high memory is welcome, the frames
 *    need not be contiguous) and maps them consecutively through the kernel
 *    page table (pgtable.c), which also makes them visible at those
 *    addresses on the host; touching the guard page faults.  vmap maps
 *    pages the caller owns; vunmap unmaps them and leaves them to the caller.
 *
 *    Address space management follows Linux 5.2+ (REFERENCE 11.2/11.3):
 *    busy areas in an address-ordered balanced tree (lookup by address for
 *    vfree in O(log n)); free space in a second address-ordered tree whose
 *    nodes carry the largest free size in their subtree, so the
 *    lowest-address fit is found in O(log n) and freed ranges merge with
 *    their neighbours.  The trees are AVL trees written here (no libc), one
 *    implementation with an optional "augment" callback.
 *
 *    Lazy purging (REFERENCE 11.5, 2.6.28+): vfree unmaps the area at once
 *    (PTEs cleared, host mapping gone, frames freed) but its address range
 *    goes to a purge tree instead of back to the free tree.  The ranges
 *    return when the lazily freed pages exceed lazy_max_pages =
 *    fls(nr_cpus) * 32 MiB / PAGE_SIZE, when an allocation finds no room
 *    (purge and retry once), and at kmm_drain_all (the layer's drain_all).
 *    In Linux the saving is the TLB flush; here it is the tree work, and a
 *    freed range is not handed out again at once, so a stale pointer keeps
 *    faulting for a while.
 *
 * 2. Data structures
 *    struct vmap_area: one descriptor per range, in exactly one of three
 *    trees: busy (allocated areas, with the vm_struct fields: flags, pages,
 *    nr_pages, caller), free (free space; subtree_max_size augmented),
 *    lazy (freed, waiting for a purge).  The descriptors come from kmalloc
 *    (kzalloc), allocated before the area lock is taken and freed after it
 *    is dropped.  The page array of an area comes from kmalloc when it fits
 *    in a page, else from vmalloc itself (REFERENCE 11.4: bounded recursion,
 *    each level 512 times smaller; vmallocinfo says "vpages").
 *    Counters: lazy_nr (pages in the lazy tree, guard pages included, as
 *    Linux's vmap_lazy_nr), nr_vmalloc_pages (meminfo VmallocUsed [5.3+]:
 *    frames owned by vmalloc areas), in_flight (areas being set up or torn
 *    down outside the lock).
 *
 * 3. Invariants (vmalloc_check, reached from kmm_check)
 *    a. Each tree is a valid AVL tree: ordered by start, parent links
 *       right, heights exact and balanced; in the free tree every node's
 *       subtree_max_size is the largest size in its subtree.
 *    b. The busy, lazy and free ranges tile the window exactly: page
 *       aligned, no overlap, no gap, and no two free ranges adjacent (they
 *       would have been merged).
 *    c. A busy area is at least one page plus its guard page; the guard
 *       page has no PTE.  An initialised VM_ALLOC area maps pages[i] at
 *       start + i pages for every i, each PG_vmalloc with refcount 1; an
 *       initialised vmap area has every page mapped.  Lazy ranges have no
 *       PTE.  When nothing is in flight, the present PTEs of the window are
 *       exactly those of the busy areas.
 *    d. lazy_nr = pages of the lazy ranges; nr_vmalloc_pages = sum of
 *       nr_pages over VM_ALLOC areas.
 *
 * 4. Locks
 *    vmap_area_lock (vm.lock) protects the three trees, the descriptors'
 *    tree fields and state flags, and the counters.  It is a leaf (DESIGN.md:
 *    "vmalloc area lock and pkmap lock are leaves") except for the page
 *    table lock, which vmalloc_check takes inside it through
 *    kmm_pgtable_lookup.  Nothing that can allocate, sleep or log runs
 *    under it: frames, page arrays and descriptors are allocated before,
 *    released descriptors freed after, PTEs written after it is dropped.
 *    An area being set up carries VM_UNINITIALIZED, one being torn down
 *    VM_FREEING: both stay in the busy tree (so the tiling invariant holds
 *    under the lock), neither can be vfree'd (the lookup reports
 *    "vfree nonexistent area") and neither is shown by vmallocinfo.
 *
 * 5. Failure
 *    vmalloc/vzalloc/vmalloc_node/vmap return NULL: size 0, size above total
 *    RAM, fault injection (fail_vmalloc), no address space after one purge
 *    (a rate-limited "kmm: vmap allocation for size N failed: use
 *    vmalloc=<size> to increase size" line, N including the guard page), no
 *    frame or page table page (a rate-limited "kmm: vmalloc error: ..."
 *    line unless __GFP_NOWARN).  Everything taken so far is given back.
 *    vfree/vunmap never crash on bad input (MISUSE 24, 25): NULL is a
 *    no-op; a misaligned address or one outside the window is "vfree bad
 *    address"; one that is not the start of a live area (double vfree
 *    included) is "vfree nonexistent area"; vunmap of a vmalloc'ed area is
 *    "invalid free" (Linux would unmap it and leak its pages).  Under
 *    on_error=report the call then does nothing.
 *
 * 6. Backings
 *    shared (default): frames are mapped at their vmalloc address as
 *    aliases (their lowmem linear address, if any, stays valid, as the
 *    kernel's direct map does); vmap of caller pages gives a second,
 *    writable view of the same memory.  private: a frame can only be at
 *    one address, so mapping moves it from its linear address (which then
 *    faults) and unmapping moves it back before the frame is freed; there
 *    is no high memory, and vmap of a page that is already mapped in the
 *    window fails (NULL).  docs/vmalloc.md has the longer story.
 *
 * 7. Which Linux
 *    Areas, guard page, flags and vmallocinfo as 6.x (REFERENCE 11.2-11.6);
 *    free-space search as 5.2+ (augmented tree, lowest fit); lazy purge as
 *    2.6.28+; VmallocUsed as 5.3+; frames allocated one at a time as 2.6
 *    (no bulk allocator, no huge mappings).
 *
 * 8. References
 *    ULK3 8.3 "Noncontiguous Memory Area Management"; Linux mm/vmalloc.c
 *    (alloc_vmap_area, __purge_vmap_area_lazy, __vmalloc_area_node,
 *    vmalloc_info_show); Adelson-Velsky and Landis (1962) for the trees.
 */
#include "pgtable.h"
#include "fork.h"
#include "annotate.h"
#include <kmm/vmalloc.h>
#include <kmm/slab.h>

/* ------------------------------------------------------------------ */
/* Constants                                                           */
/* ------------------------------------------------------------------ */

#define VM_UNINITIALIZED 0x00000020UL	/* Linux: set up in progress */
#define VM_NO_GUARD      0x00000040UL	/* Linux flag; never set here */
/* kmm-private flags (above Linux's) */
#define VM_FREEING       0x00010000UL	/* being torn down outside the lock */
#define VM_PAGES_ARRAY   0x00040000UL	/* this area is another area's page array */
#define VM_PUBLIC_FLAGS  (VM_IOREMAP | VM_MAP)	/* what vmap() keeps of its flags */

#define GUARD_SIZE       PAGE_SIZE	/* one unmapped page after every area */
#define LAZY_MAX_BYTES   (32UL << 20)	/* lazy_max_pages = fls(cpus) * this / PAGE_SIZE */

/* gfp bits the descriptor and page-array allocations keep from the
 * request (Linux GFP_RECLAIM_MASK): how hard to try, not where from. */
#define VM_GFP_RECLAIM_MASK (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH | __GFP_NOWARN | \
			     __GFP_NORETRY | __GFP_NOFAIL | __GFP_RETRY_MAYFAIL | __GFP_MEMALLOC | \
			     __GFP_NOMEMALLOC)

/* ------------------------------------------------------------------ */
/* AVL trees                                                           */
/* ------------------------------------------------------------------ */

struct avl_node {
	struct avl_node *left, *right, *parent;
	int height;			/* of the subtree: a leaf is 1 */
};

struct avl_tree {
	struct avl_node *root;
	/* recompute a node's augmented value from its children (NULL: none) */
	void (*augment)(struct avl_node *n);
	unsigned long count;
};

static inline int avl_h(const struct avl_node *n) { return n ? n->height : 0; }

static void avl_update(struct avl_tree *t, struct avl_node *n)
{
	int l = avl_h(n->left), r = avl_h(n->right);
	n->height = 1 + (l > r ? l : r);
	if (t->augment)
		t->augment(n);
}

/* Point parent's link that held old at new (or the root). */
static void avl_replace_child(struct avl_tree *t, struct avl_node *parent, struct avl_node *old,
			      struct avl_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* Rotations: return the new subtree root; heights and augments redone. */
static struct avl_node *avl_rotate_left(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *y = x->right;
	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->parent = x->parent;
	avl_replace_child(t, x->parent, x, y);
	y->left = x;
	x->parent = y;
	avl_update(t, x);
	avl_update(t, y);
	return y;
}

static struct avl_node *avl_rotate_right(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *y = x->left;
	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->parent = x->parent;
	avl_replace_child(t, x->parent, x, y);
	y->right = x;
	x->parent = y;
	avl_update(t, x);
	avl_update(t, y);
	return y;
}

/* Update n and rebalance its subtree; returns the subtree's root. */
static struct avl_node *avl_fix(struct avl_tree *t, struct avl_node *n)
{
	avl_update(t, n);
	int bal = avl_h(n->left) - avl_h(n->right);
	if (bal > 1) {
		if (avl_h(n->left->left) < avl_h(n->left->right))
			avl_rotate_left(t, n->left);
		return avl_rotate_right(t, n);
	}
	if (bal < -1) {
		if (avl_h(n->right->right) < avl_h(n->right->left))
			avl_rotate_right(t, n->right);
		return avl_rotate_left(t, n);
	}
	return n;
}

/* From n up to the root: heights, balance and augmented values.  Always
 * goes all the way (O(log n)) so augmented values stay exact. */
static void avl_retrace(struct avl_tree *t, struct avl_node *n)
{
	while (n)
		n = avl_fix(t, n)->parent;
}

/* Insert n below parent (as the left child when left), then rebalance. */
static void avl_link(struct avl_tree *t, struct avl_node *n, struct avl_node *parent, bool left)
{
	n->left = n->right = NULL;
	n->parent = parent;
	n->height = 1;
	if (!parent)
		t->root = n;
	else if (left)
		parent->left = n;
	else
		parent->right = n;
	t->count++;
	avl_retrace(t, n);
}

static void avl_erase(struct avl_tree *t, struct avl_node *n)
{
	struct avl_node *from;

	if (n->left && n->right) {
		/* replace n by its successor s (leftmost of the right subtree) */
		struct avl_node *s = n->right;
		while (s->left)
			s = s->left;
		if (s->parent == n) {
			from = s;
		} else {
			from = s->parent;
			from->left = s->right;
			if (s->right)
				s->right->parent = from;
			s->right = n->right;
			n->right->parent = s;
		}
		s->left = n->left;
		n->left->parent = s;
		s->parent = n->parent;
		avl_replace_child(t, n->parent, n, s);
	} else {
		struct avl_node *child = n->left ? n->left : n->right;
		from = n->parent;
		if (child)
			child->parent = from;
		avl_replace_child(t, from, n, child);
	}
	n->left = n->right = n->parent = NULL;
	t->count--;
	avl_retrace(t, from);
}

static struct avl_node *avl_first(const struct avl_tree *t)
{
	struct avl_node *n = t->root;
	while (n && n->left)
		n = n->left;
	return n;
}

static struct avl_node *avl_next(struct avl_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return n;
	}
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

/* ------------------------------------------------------------------ */
/* Areas                                                               */
/* ------------------------------------------------------------------ */

struct vmap_area {
	unsigned long va_start, va_end;	/* [start, end); busy: guard page included */
	struct avl_node node;		/* in the busy, free or lazy tree */
	unsigned long subtree_max_size;	/* free tree: largest size below */
	struct list_head release;	/* out of every tree, waiting for kfree */
	/* vm_struct (busy areas) */
	unsigned long flags;		/* VM_ALLOC, VM_MAP, VM_UNINITIALIZED, ... */
	struct page **pages;		/* VM_ALLOC: nr_pages frames, owned */
	unsigned long nr_pages;
	bool vpages;			/* the page array was vmalloc'ed ("vpages") */
	void *caller;			/* return address of the public entry point */
};

static inline struct vmap_area *node_va(const struct avl_node *n)
{
	return n ? container_of(n, struct vmap_area, node) : NULL;
}
static inline unsigned long va_size(const struct vmap_area *va) { return va->va_end - va->va_start; }

static void free_augment(struct avl_node *n)
{
	struct vmap_area *va = node_va(n);
	unsigned long m = va_size(va);
	if (n->left && node_va(n->left)->subtree_max_size > m)
		m = node_va(n->left)->subtree_max_size;
	if (n->right && node_va(n->right)->subtree_max_size > m)
		m = node_va(n->right)->subtree_max_size;
	va->subtree_max_size = m;
}

static struct {
	bool ready;
	unsigned long boot_gen;		/* the boot ready belongs to */
	struct kmm_lock lock;		/* vmap_area_lock */
	struct avl_tree busy, free, lazy;
	unsigned long start, end;	/* the window, as numbers */
	unsigned long lazy_nr;		/* pages in the lazy tree */
	unsigned long lazy_max;		/* lazy_max_pages() */
	unsigned long nr_vmalloc_pages;	/* VmallocUsed (atomic reads) */
	unsigned long in_flight;	/* VM_UNINITIALIZED + VM_FREEING areas */
	unsigned long totalram_pages;	/* managed pages at boot */
	unsigned long nr_purges, nr_alloc_fail;
} vm;

/* The layer is set up for the machine that is booted now (a boot that
 * failed after vmalloc_init leaves stale state behind, never used). */
static inline bool vm_live(void)
{
	return vm.ready && kmm.booted && vm.boot_gen == kmm.boot_gen;
}

/* Lock held: insert va into a tree keyed by va_start. */
static void __insert_by_start(struct avl_tree *t, struct vmap_area *va)
{
	struct avl_node *parent = NULL, *n = t->root;
	bool left = false;
	while (n) {
		parent = n;
		left = va->va_start < node_va(n)->va_start;
		n = left ? n->left : n->right;
	}
	if (t->augment)
		va->subtree_max_size = va_size(va);
	avl_link(t, &va->node, parent, left);
}

/* Lock held: the busy area starting exactly at addr, or NULL. */
static struct vmap_area *__find_busy(unsigned long addr)
{
	struct avl_node *n = vm.busy.root;
	while (n) {
		struct vmap_area *va = node_va(n);
		if (addr == va->va_start)
			return va;
		n = addr < va->va_start ? n->left : n->right;
	}
	return NULL;
}

/* Lock held: the lowest-address free range of at least size bytes. */
static struct vmap_area *__find_lowest_fit(unsigned long size)
{
	struct avl_node *n = vm.free.root;
	while (n) {
		if (n->left && node_va(n->left)->subtree_max_size >= size) {
			n = n->left;
			continue;
		}
		if (va_size(node_va(n)) >= size)
			return node_va(n);
		if (n->right && node_va(n->right)->subtree_max_size >= size) {
			n = n->right;
			continue;
		}
		return NULL;
	}
	return NULL;
}

/* Lock held: the free ranges just below and just above [start, end). */
static void __free_neighbours(unsigned long start, struct vmap_area **prev, struct vmap_area **next)
{
	struct avl_node *n = vm.free.root;
	*prev = *next = NULL;
	while (n) {
		struct vmap_area *va = node_va(n);
		if (va->va_start < start) {
			*prev = va;
			n = n->right;
		} else {
			*next = va;
			n = n->left;
		}
	}
}

/*
 * Lock held: give [va->va_start, va->va_end) back to the free tree, merged
 * with its free neighbours.  Descriptors that are no longer needed go on
 * *release (the caller kfrees them after unlocking).
 */
static void __merge_free(struct vmap_area *va, struct list_head *release)
{
	struct vmap_area *prev, *next;

	__free_neighbours(va->va_start, &prev, &next);
	bool join_prev = prev && prev->va_end == va->va_start;
	bool join_next = next && next->va_start == va->va_end;
	va->flags = 0;
	va->pages = NULL;
	va->nr_pages = 0;
	va->vpages = false;
	va->caller = NULL;
	if (join_prev && join_next) {
		unsigned long end = next->va_end;
		avl_erase(&vm.free, &next->node);
		list_add(&next->release, release);
		prev->va_end = end;
		avl_retrace(&vm.free, &prev->node);
		list_add(&va->release, release);
	} else if (join_prev) {
		prev->va_end = va->va_end;
		avl_retrace(&vm.free, &prev->node);
		list_add(&va->release, release);
	} else if (join_next) {
		next->va_start = va->va_start;	/* order kept: nothing lies between */
		avl_retrace(&vm.free, &next->node);
		list_add(&va->release, release);
	} else {
		__insert_by_start(&vm.free, va);
	}
}

/* Lock held: every lazily freed range back to the free tree. */
static void __purge_lazy(struct list_head *release)
{
	struct avl_node *n;
	if (!vm.lazy.count)
		return;
	while ((n = avl_first(&vm.lazy)) != NULL) {
		struct vmap_area *va = node_va(n);
		avl_erase(&vm.lazy, n);
		vm.lazy_nr -= va_size(va) >> PAGE_SHIFT;
		__merge_free(va, release);
	}
	vm.nr_purges++;
}

/* After unlocking: free the descriptors the tree operations let go. */
static void release_descriptors(struct list_head *release)
{
	while (!list_empty(release)) {
		struct vmap_area *va = list_first_entry(release, struct vmap_area, release);
		list_del(&va->release);
		kfree(va);
	}
}

#define VM_LIST_HEAD(name) struct list_head name = { &(name), &(name) }

/*
 * alloc_vmap_area - reserve size bytes (guard included) of the window:
 * lowest fit; when nothing fits, purge the lazy ranges and retry once,
 * then warn (rate-limited, unless __GFP_NOWARN) and fail.  The area is
 * busy and VM_UNINITIALIZED on return.  Context: may sleep per gfp
 * (descriptor allocation); no lock held.
 * Return: the area, or NULL.
 */
static struct vmap_area *alloc_vmap_area(unsigned long size, unsigned long flags, gfp_t gfp, void *caller)
{
	VM_LIST_HEAD(release);
	struct vmap_area *va = kzalloc(sizeof(*va), gfp & VM_GFP_RECLAIM_MASK);
	bool purged = false;

	if (!va)
		return NULL;
	for (;;) {
		kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
		struct vmap_area *fit = __find_lowest_fit(size);
		if (fit) {
			va->va_start = fit->va_start;
			va->va_end = fit->va_start + size;
			if (va_size(fit) == size) {
				avl_erase(&vm.free, &fit->node);
				list_add(&fit->release, &release);
			} else {
				fit->va_start += size;	/* stays between its neighbours */
				avl_retrace(&vm.free, &fit->node);
			}
			va->flags = flags | VM_UNINITIALIZED;
			va->caller = caller;
			__insert_by_start(&vm.busy, va);
			vm.in_flight++;
			kmm_unlock(&vm.lock);
			release_descriptors(&release);
			return va;
		}
		if (purged || !vm.lazy.count) {
			vm.nr_alloc_fail++;
			kmm_unlock(&vm.lock);
			break;
		}
		__purge_lazy(&release);
		purged = true;
		kmm_unlock(&vm.lock);
		release_descriptors(&release);
	}
	release_descriptors(&release);
	kfree(va);
	if (!(gfp & __GFP_NOWARN))
		kmm_warn_ratelimited("kmm: vmap allocation for size %lu failed: use vmalloc=<size> to increase size",
				     size);
	return NULL;
}

/* The area is set up: visible to vfree and vmallocinfo. */
static void publish_area(struct vmap_area *va)
{
	kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
	va->flags &= ~VM_UNINITIALIZED;
	vm.in_flight--;
	kmm_unlock(&vm.lock);
}

/*
 * Send the range of a busy area that is being given up (VM_UNINITIALIZED
 * or VM_FREEING, already unmapped) to the lazy tree; purge when the lazy
 * pages exceed lazy_max_pages.  Frees the descriptors that a purge lets go.
 */
static void free_vmap_area_lazy(struct vmap_area *va)
{
	VM_LIST_HEAD(release);

	kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
	avl_erase(&vm.busy, &va->node);
	vm.in_flight--;
	va->flags = 0;
	va->pages = NULL;
	va->nr_pages = 0;
	va->vpages = false;
	__insert_by_start(&vm.lazy, va);
	vm.lazy_nr += va_size(va) >> PAGE_SHIFT;
	if (vm.lazy_nr > vm.lazy_max)
		__purge_lazy(&release);
	kmm_unlock(&vm.lock);
	release_descriptors(&release);
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

static void vm_warn(gfp_t gfp, const char *what, unsigned long size)
{
	if (!(gfp & __GFP_NOWARN))
		kmm_warn_ratelimited("kmm: vmalloc error: size %lu, %s", size, what);
}

/* Free the frames pages[0..n) of a VM_ALLOC area (already unmapped). */
static void free_area_pages(struct page **pages, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		ClearPageVmalloc(pages[i]);
		__free_page(pages[i]);
	}
	if (n)
		__atomic_sub_fetch(&vm.nr_vmalloc_pages, n, __ATOMIC_RELAXED);
}

static void free_pages_array(struct vmap_area *va);

/*
 * __vmalloc_node - the common path of vmalloc, vzalloc, vmalloc_node and
 * kvmalloc's fallback (REFERENCE 11.4).  @extra_flags: VM_PAGES_ARRAY when
 * this area holds another area's page array (the recursion is bounded:
 * each level needs 512 times fewer bytes, and a page's worth comes from
 * kmalloc).  No lock held; sleeps as @gfp allows.
 */
static void *__vmalloc_node(unsigned long size, gfp_t gfp, int node, void *caller, unsigned long extra_flags)
{
	unsigned long real_size = size;

	if (unlikely(!vm_live() || !size))
		return NULL;
	if (size > ULONG_MAX - PAGE_SIZE - GUARD_SIZE)
		goto too_big;
	size = ALIGN_UP(size, PAGE_SIZE);
	unsigned long nr_pages = size >> PAGE_SHIFT;
	if (nr_pages > vm.totalram_pages)
		goto too_big;
	if (unlikely(READ_ONCE(kmm.fault_armed)) && kmm_should_fail(&kmm.fail_vmalloc, gfp, 0, NULL))
		return NULL;
	if (node < 0 || node >= kmm.nr_nodes)
		node = -1;

	struct vmap_area *va = alloc_vmap_area(size + GUARD_SIZE, VM_ALLOC | extra_flags, gfp, caller);
	if (!va)
		return NULL;

	/* the page-pointer array: kmalloc up to a page, else vmalloc */
	unsigned long array_size = nr_pages * sizeof(struct page *);
	gfp_t nested_gfp = (gfp & VM_GFP_RECLAIM_MASK) | __GFP_ZERO;
	if (array_size > PAGE_SIZE) {
		va->pages = __vmalloc_node(array_size, nested_gfp | __GFP_HIGHMEM, node, caller, VM_PAGES_ARRAY);
		va->vpages = true;
	} else {
		va->pages = kmalloc(array_size, nested_gfp);
	}
	if (!va->pages) {
		vm_warn(gfp, "failed to allocate page array", real_size);
		goto fail_area;
	}

	/* the frames, one at a time, high memory allowed unless the caller
	 * asked for a DMA zone ([6.x] __vmalloc_area_node) */
	gfp_t page_gfp = (gfp & (__GFP_DMA | __GFP_DMA32)) ? gfp : gfp | __GFP_HIGHMEM;
	for (unsigned long i = 0; i < nr_pages; i++) {
		struct page *p = alloc_pages_node(node, page_gfp, 0);
		if (!p) {
			free_area_pages(va->pages, i);
			vm_warn(gfp, "failed to allocate pages", real_size);
			goto fail_array;
		}
		SetPageVmalloc(p);
		va->pages[i] = p;
		va->nr_pages = i + 1;
		__atomic_add_fetch(&vm.nr_vmalloc_pages, 1, __ATOMIC_RELAXED);
	}

	if (kmm_kernel_map_pages((char *)va->va_start, va->pages, nr_pages, gfp)) {
		free_area_pages(va->pages, nr_pages);
		vm_warn(gfp, "failed to map pages", real_size);
		goto fail_array;
	}
	publish_area(va);
	return (void *)va->va_start;

fail_array:
	free_pages_array(va);
fail_area:
	free_vmap_area_lazy(va);
	return NULL;

too_big:
	vm_warn(gfp, "exceeds total pages", real_size);
	return NULL;
}

/* Give the page array of an area back (kfree, or vfree when vmalloc'ed). */
static void free_pages_array(struct vmap_area *va)
{
	void *pages = va->pages;
	bool vpages = va->vpages;
	va->pages = NULL;
	va->nr_pages = 0;
	va->vpages = false;
	if (!pages)
		return;
	if (vpages)
		vfree(pages);
	else
		kfree(pages);
}

/**
 * vmalloc - allocate virtually contiguous memory
 * @size: bytes (rounded up to whole pages)
 *
 * Order-0 frames (GFP_KERNEL | __GFP_HIGHMEM) mapped consecutively in the
 * vmalloc window, followed by an unmapped guard page.
 * Context: may sleep; no kmm lock held.
 * Return: the address, or NULL (size 0 or above total RAM, no address
 * space after a purge, no memory, fault injected).
 */
void *vmalloc(unsigned long size)
{
	return __vmalloc_node(size, GFP_KERNEL | __GFP_HIGHMEM, -1, __builtin_return_address(0), 0);
}

/**
 * vzalloc - vmalloc, zero-filled
 * @size: bytes (rounded up to whole pages)
 * Context: may sleep.  Return: the address, or NULL.
 */
void *vzalloc(unsigned long size)
{
	return __vmalloc_node(size, GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO, -1, __builtin_return_address(0), 0);
}

/**
 * vmalloc_node - vmalloc with frames preferably from node @node
 * @size: bytes (rounded up to whole pages)
 * @node: node id; out of range means the calling CPU slot's node
 * Context: may sleep.  Return: the address, or NULL.
 */
void *vmalloc_node(unsigned long size, int node)
{
	return __vmalloc_node(size, GFP_KERNEL | __GFP_HIGHMEM, node, __builtin_return_address(0), 0);
}

/*
 * kmm_vmalloc_caller - vmalloc with the caller's gfp and return address
 * (internal.h): kvmalloc's fallback.
 */
void *kmm_vmalloc_caller(unsigned long size, gfp_t gfp, int node, void *caller)
{
	return __vmalloc_node(size, gfp, node, caller, 0);
}

/**
 * vmap - map an array of pages into a virtually contiguous area
 * @pages: @count page descriptors; the area does not own them
 * @count: number of pages (> 0)
 * @flags: VM_MAP (Linux callers may add VM_IOREMAP; other bits ignored)
 * @prot: PAGE_KERNEL (the only protection the window has)
 * Context: may sleep.
 * Return: the address, or NULL (bad arguments, no address space, a page
 * table page could not be allocated; private backing: a page already
 * mapped in the window).
 */
void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot)
{
	void *caller = __builtin_return_address(0);
	(void)prot;

	if (unlikely(!vm_live() || !pages || count == 0 || count > vm.totalram_pages))
		return NULL;
	for (unsigned int i = 0; i < count; i++)
		if (!kmm_is_page_desc(pages[i]))
			return NULL;
	if (unlikely(READ_ONCE(kmm.fault_armed)) && kmm_should_fail(&kmm.fail_vmalloc, GFP_KERNEL, 0, NULL))
		return NULL;
	unsigned long size = (unsigned long)count << PAGE_SHIFT;
	struct vmap_area *va = alloc_vmap_area(size + GUARD_SIZE, flags & VM_PUBLIC_FLAGS, GFP_KERNEL, caller);
	if (!va)
		return NULL;
	va->nr_pages = 0;	/* not owned: vmallocinfo shows no pages= (as Linux) */
	if (kmm_kernel_map_pages((char *)va->va_start, pages, count, GFP_KERNEL)) {
		free_vmap_area_lazy(va);
		return NULL;
	}
	/* memcheck follows addresses, not frames: the caller's low-memory
	 * pages now have a second address, written through either */
	if (KMM_ANNOTATE)
		for (unsigned int i = 0; i < count; i++)
			if (kmm_is_lowmem_pfn(kmm_page_to_pfn(pages[i])))
				kmm_ann_pages_defined(kmm_pfn_to_virt(kmm_page_to_pfn(pages[i])), PAGE_SIZE);
	publish_area(va);
	return (void *)va->va_start;
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */
/* ------------------------------------------------------------------ */

/*
 * Find the live area starting at addr for vfree/vunmap (@fn names the
 * caller in reports) and mark it VM_FREEING.  Reports misuse and returns
 * NULL when there is none.
 */
static struct vmap_area *claim_area(const void *addr, const char *fn, bool want_alloc)
{
	unsigned long a = (unsigned long)(uintptr_t)addr;

	if (unlikely(!vm_live())) {
		kmm_error("vfree bad address", "%s(%p): no machine is booted", fn, addr);
		return NULL;
	}
	if (unlikely((a & (PAGE_SIZE - 1)) || a < vm.start || a >= vm.end)) {
		kmm_error("vfree bad address", "%s(%p): %s", fn, addr,
			  (a & (PAGE_SIZE - 1)) ? "not page aligned" : "not in the vmalloc range");
		return NULL;
	}
	kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
	struct vmap_area *va = __find_busy(a);
	if (unlikely(!va || (va->flags & (VM_UNINITIALIZED | VM_FREEING)))) {
		kmm_unlock(&vm.lock);
		kmm_error("vfree nonexistent area", "%s(%p): not the start of a live vm area%s", fn, addr,
			  va && (va->flags & VM_FREEING) ? " (being freed)" : "");
		return NULL;
	}
	if (unlikely(!want_alloc && (va->flags & VM_ALLOC))) {
		kmm_unlock(&vm.lock);
		kmm_error("invalid free", "%s(%p): area of %lu bytes was allocated by vmalloc: free it with vfree",
			  fn, addr, va_size(va));
		return NULL;
	}
	va->flags |= VM_FREEING;
	vm.in_flight++;
	kmm_unlock(&vm.lock);
	return va;
}

/* Tear a claimed area down: unmap, free what it owns, lazy range. */
static void release_area(struct vmap_area *va)
{
	unsigned long mapped = (va_size(va) - GUARD_SIZE) >> PAGE_SHIFT;
	kmm_kernel_unmap_pages((char *)va->va_start, mapped);
	if (va->flags & VM_ALLOC) {
		free_area_pages(va->pages, va->nr_pages);
		free_pages_array(va);
	}
	free_vmap_area_lazy(va);
}

/**
 * vfree - release memory allocated by vmalloc (or a vmap area: unmapped)
 * @addr: the start of the area; NULL does nothing
 * Context: may not be called with a kmm lock held; never sleeps long.
 * Misuse: "vfree bad address" (misaligned, outside the window) or "vfree
 * nonexistent area" (not a live area's start, double vfree); the call then
 * does nothing.
 */
void vfree(const void *addr)
{
	if (!addr)
		return;
	struct vmap_area *va = claim_area(addr, "vfree", true);
	if (va)
		release_area(va);
}

/**
 * vunmap - release a mapping obtained by vmap; the pages stay the caller's
 * @addr: the start of the area; NULL does nothing
 * Context: as vfree.  Misuse: as vfree, and "invalid free" for an area
 * made by vmalloc (left alone: it must be vfree'd).
 */
void vunmap(const void *addr)
{
	if (!addr)
		return;
	struct vmap_area *va = claim_area(addr, "vunmap", false);
	if (va)
		release_area(va);
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

/**
 * vmalloc_to_page - the frame mapped at a vmalloc (or pkmap) address
 * @addr: any byte of the page
 * Context: any.  Return: the page, or NULL when nothing is mapped there.
 */
struct page *vmalloc_to_page(const void *addr)
{
	if (!kmm.booted)
		return NULL;
	return kmm_pgtable_lookup(addr);
}

/**
 * is_vmalloc_addr - whether @addr lies in the vmalloc window
 * Return: 1 for VMALLOC_START <= addr < VMALLOC_END, else 0.
 */
int is_vmalloc_addr(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	return kmm.booted && a >= (uintptr_t)kmm.vmalloc_start && a < (uintptr_t)kmm.vmalloc_end;
}

static unsigned long vmalloc_used_pages(void)
{
	return vm_live() ? __atomic_load_n(&vm.nr_vmalloc_pages, __ATOMIC_RELAXED) : 0;
}

/* ------------------------------------------------------------------ */
/* /proc/vmallocinfo                                                   */
/* ------------------------------------------------------------------ */

/* One line's worth of an area, copied under the lock. */
struct vm_line {
	unsigned long start, end, flags, nr_pages;
	void *caller;
	bool lazy, vpages;
	unsigned int node_pages[MAX_NUMNODES];
};

/* Lock held: the first steady area of tree t starting at or above from. */
static struct vmap_area *__first_from(struct avl_tree *t, unsigned long from, bool skip_unsteady)
{
	struct avl_node *n = t->root, *best = NULL;
	while (n) {
		if (node_va(n)->va_start >= from) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	while (best && skip_unsteady && (node_va(best)->flags & (VM_UNINITIALIZED | VM_FREEING)))
		best = avl_next(best);
	return node_va(best);
}

static void print_line(struct kmm_textbuf *tb, const struct vm_line *l)
{
	char buf[96 + 12 * MAX_NUMNODES];
	size_t n = 0;
	int w;

#define VM_ADD(...) do { w = kmm_snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__); \
			 if (w > 0) n += (size_t)w < sizeof(buf) - n ? (size_t)w : sizeof(buf) - 1 - n; } while (0)
	VM_ADD("0x%016lx-0x%016lx %7lu", l->start, l->end, l->end - l->start);
	if (l->lazy) {
		VM_ADD(" unpurged vm_area");
	} else {
		if (l->caller)
			VM_ADD(" 0x%lx", (unsigned long)(uintptr_t)l->caller);
		if (l->nr_pages)
			VM_ADD(" pages=%lu", l->nr_pages);
		if (l->flags & VM_IOREMAP)
			VM_ADD(" ioremap");
		if (l->flags & VM_ALLOC)
			VM_ADD(" vmalloc");
		if (l->flags & VM_MAP)
			VM_ADD(" vmap");
		if (l->vpages)
			VM_ADD(" vpages");
		if (kmm.nr_nodes > 1 && l->nr_pages)
			for (int nid = 0; nid < kmm.nr_nodes; nid++)
				if (l->node_pages[nid])
					VM_ADD(" N%d=%u", nid, l->node_pages[nid]);
	}
#undef VM_ADD
	kmm_tb_printf(tb, "%s\n", buf);
}

/*
 * The "vmallocinfo" report (REFERENCE 11.6): busy areas by address, then
 * the lazily freed ones as "unpurged vm_area".  One area is copied under
 * the lock at a time and printed after dropping it (emit may call kmm).
 */
static int report_vmallocinfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	struct vm_line l;

	kmm_tb_init(&tb, emit, ctx);
	for (int pass = 0; pass < 2; pass++) {
		unsigned long from = 0;
		for (;;) {
			kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
			struct vmap_area *va = __first_from(pass ? &vm.lazy : &vm.busy, from, pass == 0);
			if (!va) {
				kmm_unlock(&vm.lock);
				break;
			}
			l.start = va->va_start;
			l.end = va->va_end;
			l.flags = va->flags;
			l.nr_pages = va->nr_pages;
			l.caller = va->caller;
			l.vpages = va->vpages;
			l.lazy = pass == 1;
			for (int nid = 0; nid < kmm.nr_nodes; nid++)
				l.node_pages[nid] = 0;
			if (!l.lazy && kmm.nr_nodes > 1 && (va->flags & VM_ALLOC) && va->pages)
				for (unsigned long i = 0; i < va->nr_pages; i++)
					l.node_pages[page_nid(va->pages[i])]++;
			kmm_unlock(&vm.lock);
			print_line(&tb, &l);
			from = l.end;
		}
	}
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* kmm_check                                                           */
/* ------------------------------------------------------------------ */

/* Lock held: AVL shape, order and (free tree) augmented values of the
 * subtree at n, whose keys must lie in [lo, hi).  Returns its height, or
 * -1 with *why filled. */
static int __check_avl(const struct avl_tree *t, const struct avl_node *n, const struct avl_node *parent,
		       unsigned long lo, unsigned long hi, char *why, size_t len)
{
	if (!n)
		return 0;
	const struct vmap_area *va = node_va(n);
	if (n->parent != parent) {
		kmm_snprintf(why, len, "node 0x%lx: wrong parent link", va->va_start);
		return -1;
	}
	if (va->va_start < lo || va->va_start >= hi || va->va_end <= va->va_start) {
		kmm_snprintf(why, len, "node 0x%lx-0x%lx out of order (allowed [0x%lx, 0x%lx))", va->va_start,
			     va->va_end, lo, hi);
		return -1;
	}
	int l = __check_avl(t, n->left, n, lo, va->va_start, why, len);
	if (l < 0)
		return -1;
	int r = __check_avl(t, n->right, n, va->va_start + 1, hi, why, len);
	if (r < 0)
		return -1;
	int h = 1 + (l > r ? l : r);
	if (n->height != h || l - r > 1 || r - l > 1) {
		kmm_snprintf(why, len, "node 0x%lx: height %d (computed %d), children %d and %d", va->va_start,
			     n->height, h, l, r);
		return -1;
	}
	if (t->augment) {
		unsigned long m = va_size(va);
		if (n->left && node_va(n->left)->subtree_max_size > m)
			m = node_va(n->left)->subtree_max_size;
		if (n->right && node_va(n->right)->subtree_max_size > m)
			m = node_va(n->right)->subtree_max_size;
		if (va->subtree_max_size != m) {
			kmm_snprintf(why, len, "free node 0x%lx: subtree_max_size %lu, computed %lu", va->va_start,
				     va->subtree_max_size, m);
			return -1;
		}
	}
	return h;
}

static unsigned long __tree_count(const struct avl_tree *t)
{
	unsigned long c = 0;
	for (struct avl_node *n = avl_first(t); n; n = avl_next(n))
		c++;
	return c;
}

/* Lock held: invariants a-d of the header. */
static bool __vmalloc_check(char *why, size_t len)
{
	const struct avl_tree *trees[3] = { &vm.busy, &vm.lazy, &vm.free };
	static const char *const names[3] = { "busy", "lazy", "free" };

	for (int i = 0; i < 3; i++) {
		char sub[200];
		if (__check_avl(trees[i], trees[i]->root, NULL, 0, ULONG_MAX, sub, sizeof(sub)) < 0) {
			kmm_snprintf(why, len, "%s tree: %s", names[i], sub);
			return false;
		}
		if (__tree_count(trees[i]) != trees[i]->count) {
			kmm_snprintf(why, len, "%s tree: %lu nodes, count says %lu", names[i], __tree_count(trees[i]),
				     trees[i]->count);
			return false;
		}
	}

	/* b: the three sets tile the window */
	struct avl_node *cur[3] = { avl_first(&vm.busy), avl_first(&vm.lazy), avl_first(&vm.free) };
	unsigned long at = vm.start, lazy_pages = 0, alloc_pages = 0, mapped = 0, in_flight = 0;
	int prev_kind = -1;
	for (;;) {
		int k = -1;
		for (int i = 0; i < 3; i++)
			if (cur[i] && (k < 0 || node_va(cur[i])->va_start < node_va(cur[k])->va_start))
				k = i;
		if (k < 0)
			break;
		struct vmap_area *va = node_va(cur[k]);
		if (va->va_start != at || ((va->va_start | va->va_end) & (PAGE_SIZE - 1)) || va->va_end > vm.end) {
			kmm_snprintf(why, len, "%s range 0x%lx-0x%lx: expected to start at 0x%lx (gap, overlap or "
				     "misalignment; window ends at 0x%lx)", names[k], va->va_start, va->va_end, at, vm.end);
			return false;
		}
		if (k == 2 && prev_kind == 2) {
			kmm_snprintf(why, len, "free ranges meet at 0x%lx without being merged", va->va_start);
			return false;
		}
		if (k == 1)
			lazy_pages += va_size(va) >> PAGE_SHIFT;
		if (k == 0) {
			/* c: busy areas */
			if (va_size(va) < PAGE_SIZE + GUARD_SIZE) {
				kmm_snprintf(why, len, "area 0x%lx: %lu bytes, less than a page and its guard",
					     va->va_start, va_size(va));
				return false;
			}
			if (va->flags & (VM_UNINITIALIZED | VM_FREEING)) {
				in_flight++;	/* its fields belong to the thread setting it up or down */
			} else {
				if (va->flags & VM_ALLOC)
					alloc_pages += va->nr_pages;
				unsigned long n = (va_size(va) - GUARD_SIZE) >> PAGE_SHIFT;
				char *base = (char *)va->va_start;
				if ((va->flags & VM_ALLOC) && (!va->pages || va->nr_pages != n)) {
					kmm_snprintf(why, len, "vmalloc area 0x%lx: %lu pages recorded for %lu mapped",
						     va->va_start, va->nr_pages, n);
					return false;
				}
				for (unsigned long i = 0; i < n; i++) {
					struct page *p = kmm_pgtable_lookup(base + (i << PAGE_SHIFT));
					bool ok = p != NULL;
					if (ok && (va->flags & VM_ALLOC))
						ok = p == va->pages[i] && PageVmalloc(p) && p->_refcount == 1;
					if (!ok) {
						kmm_snprintf(why, len, "area 0x%lx page %lu: page table maps %s%lu, area "
							     "holds pfn %lu", va->va_start, i, p ? "pfn " : "nothing ",
							     p ? kmm_page_to_pfn(p) : 0UL,
							     (va->flags & VM_ALLOC) ? kmm_page_to_pfn(va->pages[i]) : 0UL);
						return false;
					}
				}
				mapped += n;
				if (kmm_pgtable_lookup(base + (n << PAGE_SHIFT))) {
					kmm_snprintf(why, len, "area 0x%lx: its guard page at %p is mapped", va->va_start,
						     (void *)(base + (n << PAGE_SHIFT)));
					return false;
				}
			}
		}
		if (k == 1 && kmm_pgtable_count_present((void *)va->va_start, va_size(va) >> PAGE_SHIFT)) {
			kmm_snprintf(why, len, "lazily freed range 0x%lx-0x%lx still has page table entries",
				     va->va_start, va->va_end);
			return false;
		}
		at = va->va_end;
		prev_kind = k;
		cur[k] = avl_next(cur[k]);
	}
	if (at != vm.end) {
		kmm_snprintf(why, len, "ranges end at 0x%lx, the window at 0x%lx", at, vm.end);
		return false;
	}
	/* d: counters (frames of areas in flight are counted as they come and go) */
	if (lazy_pages != vm.lazy_nr || in_flight != vm.in_flight ||
	    (!in_flight && alloc_pages != __atomic_load_n(&vm.nr_vmalloc_pages, __ATOMIC_RELAXED))) {
		kmm_snprintf(why, len, "counters: lazy pages %lu (recorded %lu), in flight %lu (recorded %lu), "
			     "vmalloc pages %lu (recorded %lu)", lazy_pages, vm.lazy_nr, in_flight, vm.in_flight,
			     alloc_pages, vm.nr_vmalloc_pages);
		return false;
	}
	if (!in_flight) {
		unsigned long present = kmm_pgtable_count_present((void *)vm.start, (vm.end - vm.start) >> PAGE_SHIFT);
		if (present != mapped) {
			kmm_snprintf(why, len, "the page table has %lu entries in the vmalloc window, the areas "
				     "account for %lu", present, mapped);
			return false;
		}
	}
	return true;
}

static int vmalloc_check(void)
{
	char why[320];
	bool ok;

	if (!vm_live())
		return 0;
	kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
	ok = __vmalloc_check(why, sizeof(why));
	kmm_unlock(&vm.lock);
	return ok ? 0 : kmm_check_fail("vmalloc", "%s", why);
}

/* ------------------------------------------------------------------ */
/* Layer: drain, shutdown, init                                        */
/* ------------------------------------------------------------------ */

/* kmm_drain_all: every lazily freed range back to the free tree. */
static void vmalloc_drain_all(void)
{
	VM_LIST_HEAD(release);
	if (!vm_live())
		return;
	kmm_lock(&vm.lock, KMM_LC_VMAP_AREA);
	__purge_lazy(&release);
	kmm_unlock(&vm.lock);
	release_descriptors(&release);
}

/* Shutdown (machine quiet): report and free the areas still allocated,
 * purge, free the free-tree descriptors. */
static void vmalloc_shutdown(void)
{
	if (!vm_live())
		return;
	for (;;) {
		struct vmap_area *va = NULL;
		for (struct avl_node *n = avl_first(&vm.busy); n; n = avl_next(n)) {
			if (!(node_va(n)->flags & VM_PAGES_ARRAY)) {	/* freed with its owner */
				va = node_va(n);
				break;
			}
		}
		if (!va)
			break;
		kmm_log("kmm: shutdown: vmalloc: area 0x%lx-0x%lx (%lu bytes%s, %s) from caller 0x%lx was not freed",
			va->va_start, va->va_end, va_size(va),
			(va->flags & VM_ALLOC) ? ", vmalloc" : ", vmap",
			(va->flags & VM_UNINITIALIZED) ? "never set up" : "mapped",
			(unsigned long)(uintptr_t)va->caller);
		if (va->flags & VM_UNINITIALIZED) {
			va->flags = (va->flags & ~VM_UNINITIALIZED) | VM_FREEING;
		} else {
			va->flags |= VM_FREEING;
			vm.in_flight++;
		}
		release_area(va);
	}
	vmalloc_drain_all();
	struct avl_node *n;
	while ((n = avl_first(&vm.free)) != NULL) {
		avl_erase(&vm.free, n);
		kfree(node_va(n));
	}
	if (kmm_meminfo_hooks.vmalloc_used_pages == vmalloc_used_pages)
		kmm_meminfo_hooks.vmalloc_used_pages = NULL;
	kmm_register_report("vmallocinfo", NULL);
	kmm_plat_lock_destroy(&vm.lock);
	kmm_memset(&vm, 0, sizeof(vm));
}

static const struct kmm_layer_ops vmalloc_layer = {
	.name = "vmalloc",
	.drain_all = vmalloc_drain_all,
	.check = vmalloc_check,
	.shutdown = vmalloc_shutdown,
};

/*
 * vmalloc_init - at boot, after kmalloc: the page table, one free range
 * covering the window, the layer, the report and the meminfo hook.
 * Return: 0 or -ENOMEM.
 */
int vmalloc_init(void)
{
	int err;

	kmm_memset(&vm, 0, sizeof(vm));
	err = kmm_pgtable_init();
	if (err)
		return err;
	vm.start = (unsigned long)(uintptr_t)kmm.vmalloc_start;
	vm.end = (unsigned long)(uintptr_t)kmm.vmalloc_end;
	vm.free.augment = free_augment;
	vm.lazy_max = (unsigned long)kmm_fls((unsigned long)kmm.nr_cpus) * (LAZY_MAX_BYTES >> PAGE_SHIFT);
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			vm.totalram_pages += NODE_DATA(nid)->node_zones[z].managed_pages;

	struct vmap_area *all = kzalloc(sizeof(*all), GFP_KERNEL);
	if (!all) {
		kmm_log("kmm: boot: no memory for the vmalloc free-space tree");
		return -KMM_ENOMEM;
	}
	all->va_start = vm.start;
	all->va_end = vm.end;
	__insert_by_start(&vm.free, all);
	kmm_plat_lock_init(&vm.lock);
	vm.boot_gen = kmm.boot_gen;
	vm.ready = true;
	kmm_meminfo_hooks.vmalloc_used_pages = vmalloc_used_pages;
	kmm_register_report("vmallocinfo", report_vmallocinfo);
	kmm_register_layer(&vmalloc_layer);
	return 0;
}

/* kmm_vmalloc_fork - fork.c's hook (fork.h): vmap_area_lock. */
void kmm_vmalloc_fork(enum kmm_fork_phase phase)
{
	if (!vm_live())
		return;
	if (phase == KMM_FORK_PREPARE)
		kmm_plat_lock(&vm.lock);
	else if (phase == KMM_FORK_PARENT)
		kmm_plat_unlock(&vm.lock);
	else
		kmm_plat_lock_init(&vm.lock);
}
