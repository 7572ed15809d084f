/*
 * slab_common.c - the object-cache front shared by both backends: the
 * public kmem_cache_* API, the cache chain, slab_debug=, the layer hooks
 * (drain, check, shutdown), slabinfo, meminfo and the shrinker.
 *
 * 1. Overview
 *    kmem_cache_create validates its arguments (size 1 .. KMALLOC_MAX_SIZE,
 *    alignment 0 or a power of two up to PAGE_SIZE; else NULL, or abort with
 *    SLAB_PANIC as Linux panics), has the booted backend (slab=slab|slob)
 *    build a descriptor (slab_fill_common lays the object out and applies
 *    slab_debug=), and links it at the head of slab_caches.  Every entry
 *    point checks the cache before using it ("invalid cache"), and
 *    kmem_cache_free checks the object's page before the backend sees it
 *    ("invalid free", "wrong cache").  kmem_cache_destroy of a cache with
 *    live objects reports them ("objects remaining") and keeps the cache,
 *    as Linux does.
 *    kmem_cache_alloc_bulk / kmem_cache_free_bulk ([4.6+]) hand a batch to
 *    the backend's bulk op when it has one (SLAB; SLOB: a loop, as Linux's
 *    SLOB).  Allocation is all or nothing (failslab asked once per call; a
 *    short batch is freed again and 0 returned).  The backend's bulk free
 *    takes objects while its fast checks pass and stops at the first that
 *    needs more; the front frees that one through kmem_cache_free's checks
 *    (cache_free_one: misuse reported as kmem_cache_free reports it) and
 *    hands the rest back to the backend, so nothing is lost and nothing is
 *    reported twice.
 *
 * 2. Data structures
 *    slab_caches: every live cache (kmalloc caches and the backend's cache
 *    of caches included), newest first, as 2.6's cache_chain; slabinfo
 *    lists it in that order.
 *
 * 3. Invariants
 *    - A cache on slab_caches has magic == KMEM_CACHE_MAGIC; destroy
 *      clears it before the descriptor is freed.
 *    - A pointer is used as a cache only if it lies in the linear map on a
 *      PG_slab page (where the backend keeps descriptors) and holds the
 *      magic: a stale or foreign pointer is reported, never followed.
 *      (A descriptor freed and reused for a new cache is not caught: the
 *      magic is valid again, as in any allocator.)
 *
 * 4. Locks
 *    slab_mutex guards slab_caches.  It is never held while allocating:
 *    the CPU-slot drain (run from direct reclaim) takes it, so an
 *    allocation under it could wait on itself.  Order: slot remote_lock ->
 *    slab_mutex -> cache node list_lock -> zone lock.  slabinfo formats a
 *    row under the mutex and emits it after unlocking.
 *
 * 5. Failure
 *    Creation returns NULL; misuse is reported through kmm_error and
 *    follows on_error= (report: the call does nothing, except a wrong-cache
 *    free, which goes to the owning cache).
 *
 * Which Linux: the API and checks of 6.x slab_common.c (minus merging);
 * the 2.6 chain order and slabinfo 2.1 layout; slub_debug-style
 * "slab_debug=LETTERS[,cache]" with a trailing '*' glob.
 */
#include "slab.h"

struct kmm_lock slab_mutex;
struct list_head slab_caches;
const struct kmm_slab_ops *kmm_slab_ops;

static struct shrinker *slab_shrinker;
#define LEAK_LIST_MAX 8		/* addresses named per cache in a leak line */

/* ------------------------------------------------------------------ */
/* Layout and debug flags                                              */
/* ------------------------------------------------------------------ */

/* slab_debug=LETTERS,NAME: does NAME (trailing '*' = prefix) pick this cache? */
static bool slab_debug_matches(const char *name)
{
	const char *pat = kmm.cfg.slab_debug_cache;
	size_t n = kmm_strlen(pat);
	if (!n)
		return true;
	if (pat[n - 1] == '*')
		return kmm_strncmp(pat, name, n - 1) == 0;
	return kmm_strcmp(pat, name) == 0;
}

static slab_flags_t boot_debug_flags(const char *name)
{
	unsigned int l = kmm.cfg.slab_debug;
	slab_flags_t f = 0;
	if (!l || !slab_debug_matches(name))
		return 0;
	if (l & SLAB_DEBUG_F)
		f |= SLAB_CONSISTENCY_CHECKS;
	if (l & SLAB_DEBUG_Z)
		f |= SLAB_RED_ZONE;
	if (l & SLAB_DEBUG_P)
		f |= SLAB_POISON;
	if (l & SLAB_DEBUG_U)
		f |= SLAB_STORE_USER;
	return f;
}

/*
 * slab_fill_common - the common descriptor fields.  Alignment is 2.6.24's
 * rule: size rounded to a word; SLAB_HWCACHE_ALIGN starts at the cache
 * line and halves while the object fits twice (a 20-byte object gets 32);
 * then at least ARCH_SLAB_MINALIGN and the caller's align.  The slot
 * layout with debug words is in slab.h.
 */
void slab_fill_common(struct kmem_cache *s, const char *name, unsigned int size, unsigned int align,
		      slab_flags_t flags, void (*ctor)(void *))
{
	const slab_flags_t known = SLAB_DEBUG_FLAGS | SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_RECLAIM_ACCOUNT |
				   SLAB_PANIC | SLAB_KMALLOC;
	unsigned int word = KMALLOC_MIN_ALIGN, ralign, osize, off;

	kmm_strlcpy(s->name, name, sizeof(s->name));
	flags = (flags & known) | boot_debug_flags(s->name);
	osize = ALIGN_UP(size, word);
	if (flags & SLAB_HWCACHE_ALIGN) {
		ralign = L1_CACHE_BYTES;
		while (osize <= ralign / 2)
			ralign /= 2;
	} else {
		ralign = word;
	}
	if (ralign < align)
		ralign = align;

	s->object_size = size;
	s->align = ralign;
	s->obj_offset = s->track_offset = s->orig_offset = 0;
	off = osize;
	if (flags & SLAB_RED_ZONE) {
		s->obj_offset = ALIGN_UP(word, ralign);	/* [pad][redzone1] */
		off = s->obj_offset + osize + word;	/* [object][redzone2] */
		if (flags & SLAB_KMALLOC) {
			s->orig_offset = off;
			off += word;
		}
	}
	if (flags & SLAB_STORE_USER) {
		s->track_offset = off;
		off += 2 * (unsigned int)sizeof(struct kmm_track);
	}
	s->size = ALIGN_UP(off, ralign);
	s->flags = flags;
	s->allocflags = ((flags & SLAB_CACHE_DMA) ? __GFP_DMA : 0) | ((flags & SLAB_RECLAIM_ACCOUNT) ? __GFP_RECLAIMABLE : 0);
	s->ctor = ctor;
	s->is_kmalloc = (flags & SLAB_KMALLOC) != 0;
	s->init_on_alloc = kmm.cfg.init_on_alloc && !ctor && !(flags & SLAB_POISON);
	s->init_on_free = kmm.cfg.init_on_free && !ctor && !(flags & SLAB_POISON);
	INIT_LIST_HEAD(&s->list);
	s->magic = KMEM_CACHE_MAGIC;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* The page of a linear-map address (the caller checked it is one). */
static inline struct page *lin_page(const void *p) { return kmm_pfn_to_page(kmm_virt_to_pfn(p)); }

static bool cache_bad(struct kmem_cache *s, const char *fn)
{
	const char *why;
	if (!kmm.booted || !kmm_slab_ops)
		why = "no machine booted";
	else if (!s || ((uintptr_t)s & (sizeof(long) - 1)) || !kmm_is_linear_addr(s))
		why = "not a cache descriptor";
	else if (!PageSlab(lin_page(s)))
		why = "not a cache descriptor (not on a slab page)";
	else
		why = "destroyed or not a cache";
	kmm_error("invalid cache", "%s(%p): %s", fn, (void *)s, why);
	return false;
}

/* Is s a live cache?  Never reads through s before its page says it can
 * hold a descriptor (kmm_is_linear_addr is false before boot). */
static inline bool cache_ok(struct kmem_cache *s, const char *fn)
{
	if (likely(kmm_is_linear_addr(s) && !((uintptr_t)s & (sizeof(long) - 1)) && PageSlab(lin_page(s)) &&
		   READ_ONCE(s->magic) == KMEM_CACHE_MAGIC && kmm_slab_ops))
		return true;
	return cache_bad(s, fn);
}

/* Is s on the chain?  slab_mutex held. */
static bool cache_linked(struct kmem_cache *s)
{
	struct kmem_cache *t;
	list_for_each_entry(t, &slab_caches, list)
		if (t == s)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Creation and destruction                                            */
/* ------------------------------------------------------------------ */

static struct kmem_cache *create_cache(const char *name, unsigned int size, unsigned int align,
				       slab_flags_t flags, void (*ctor)(void *))
{
	const char *why = NULL;
	struct kmem_cache *s = NULL;

	if (!kmm.booted || !kmm_slab_ops)
		why = "no machine booted";
	else if (!name || !*name)
		why = "no name";
	else if (size == 0 || size > KMALLOC_MAX_SIZE)
		why = "bad object size";
	else if (align & (align - 1))
		why = "alignment not a power of two";
	else if (align > PAGE_SIZE)
		why = "alignment above PAGE_SIZE";
	if (!why) {
		s = kmm_slab_ops->cache_create(name, size, align, flags, ctor);
		if (!s)
			why = "out of memory";
	}
	if (!s) {
		if (flags & SLAB_PANIC) {
			char line[160];
			kmm_snprintf(line, sizeof(line), "kmm: kmem_cache_create: failed to create slab '%s' (%s) with SLAB_PANIC",
				     name ? name : "(null)", why);
			kmm_plat_abort(line);
		}
		return NULL;
	}
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	list_add(&s->list, &slab_caches);
	kmm_unlock(&slab_mutex);
	return s;
}

/**
 * kmem_cache_create - make a cache of objects of @size bytes
 * @name: copied (at most 31 characters kept); shown by slabinfo
 * @size: 1 .. KMALLOC_MAX_SIZE (4 MiB)
 * @align: 0 or a power of two up to PAGE_SIZE
 * @flags: SLAB_* (kmm/slab.h); slab_debug= may add debug flags
 * @ctor: run on each object when its slab is made (SLAB) or at every
 *        allocation (SLOB), or NULL
 * Context: may sleep (GFP_KERNEL).
 * Return: the cache, or NULL for bad arguments or no memory (SLAB_PANIC:
 * the process aborts with a "kmm: kmem_cache_create" line instead).
 */
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     slab_flags_t flags, void (*ctor)(void *))
{
	return create_cache(name, size, align, flags & ~SLAB_KMALLOC, ctor);
}

/* kmalloc.c's way in: the same, with SLAB_KMALLOC allowed. */
struct kmem_cache *kmm_create_kmalloc_cache(const char *name, unsigned int size, unsigned int align,
					    slab_flags_t flags)
{
	return create_cache(name, size, align, flags | SLAB_KMALLOC, NULL);
}

struct leak_list {
	char buf[LEAK_LIST_MAX * 20 + 8];
	size_t len;
	unsigned long n;
};

static void leak_list_add(struct kmem_cache *s, void *obj, void *arg)
{
	struct leak_list *l = arg;
	(void)s;
	if (l->len < sizeof(l->buf))
		l->len += (size_t)kmm_snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " %p", obj);
	l->n++;
}

/* The live objects of s: their count, and up to LEAK_LIST_MAX addresses in l. */
static unsigned long list_live(struct kmem_cache *s, struct leak_list *l)
{
	l->len = 0;
	l->n = 0;
	l->buf[0] = '\0';
	unsigned long live = kmm_slab_ops->cache_live(s, leak_list_add, l, LEAK_LIST_MAX);
	if (live > l->n && l->len < sizeof(l->buf))
		kmm_snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " ...");
	return live;
}

/**
 * kmem_cache_destroy - release a cache and all its slabs
 * @s: a cache from kmem_cache_create, or NULL (nothing happens)
 * A cache that still has live objects is reported ("objects remaining",
 * with their count and addresses) and kept, usable, as Linux keeps it.
 * Context: may sleep; no other thread may use @s meanwhile.
 */
void kmem_cache_destroy(struct kmem_cache *s)
{
	struct leak_list l;
	if (!s)
		return;
	if (!cache_ok(s, "kmem_cache_destroy"))
		return;
	kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
	bool linked = cache_linked(s);
	if (linked && !s->is_kmalloc)
		list_del_init(&s->list);
	kmm_unlock(&slab_mutex);
	if (!linked || s->is_kmalloc) {
		kmm_error("invalid cache", "kmem_cache_destroy(%p): %s", (void *)s,
			  linked ? "a kmalloc cache cannot be destroyed" : "not a cache made by kmem_cache_create");
		return;
	}
	unsigned long live = list_live(s, &l);
	if (live) {
		kmm_error("objects remaining", "%s: %lu objects remaining on kmem_cache_destroy, cache kept:%s",
			  s->name, live, l.buf);
		kmm_lock(&slab_mutex, KMM_LC_SLAB_MUTEX);
		list_add(&s->list, &slab_caches);
		kmm_unlock(&slab_mutex);
		return;
	}
	WRITE_ONCE(s->magic, 0);
	kmm_slab_ops->cache_release(s);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

static void *cache_alloc(struct kmem_cache *s, gfp_t gfp, int nid, void *caller)
{
	if (!cache_ok(s, "kmem_cache_alloc"))
		return NULL;
	if (unlikely(kmm.fault_armed) && kmm_should_fail(&kmm.failslab, gfp, 0, s->name))
		return NULL;
	return kmm_slab_ops->cache_alloc(s, gfp, nid, caller);
}

/**
 * kmem_cache_alloc - an object from @s
 * @gfp: GFP_KERNEL may sleep to grow the cache; GFP_ATOMIC never sleeps;
 *       __GFP_ZERO zeroes the object
 * Return: the object (constructed when the cache has a ctor), or NULL.
 */
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return cache_alloc(s, gfp, -1, kmm_caller());
}

/* kmem_cache_alloc_node - as kmem_cache_alloc, from node @nid's slabs when
 * it has memory (-1: the calling CPU slot's node). */
void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int nid)
{
	return cache_alloc(s, gfp, nid, kmm_caller());
}

/* kmem_cache_free's checks and dispatch for one object (not NULL) of the
 * live cache s; fn names the public function in reports. */
static void cache_free_one(struct kmem_cache *s, void *obj, void *caller, const char *fn)
{
	if (unlikely(!kmm_is_linear_addr(obj) || !PageSlab(lin_page(obj)))) {
		if (kmm_is_linear_addr(obj) && kmm_page_is_free(lin_page(obj)))
			kmm_error("double free", "%s(%s, %p): the memory is already free (its slab went back)", fn,
				  s->name, obj);
		else
			kmm_error("invalid free", "%s(%s, %p): not a slab object", fn, s->name, obj);
		return;
	}
	struct kmem_cache *owner = kmm_slab_ops->page_cache(lin_page(obj));
	if (unlikely(owner && owner != s)) {
		kmm_error("wrong cache", "%s: object %p freed to cache %s, belongs to %s", fn, obj, s->name,
			  owner->name);
		s = owner;
	}
	kmm_slab_ops->cache_free(s, obj, caller);
}

/**
 * kmem_cache_free - give @obj back to @s
 * @obj: from kmem_cache_alloc(@s), or NULL (nothing happens)
 * A pointer that is no slab object ("invalid free"), one that belongs to
 * another cache ("wrong cache"; under on_error=report it is freed to its
 * true cache), an interior pointer or a double free is reported.
 * Context: any; never sleeps.
 */
void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	void *caller = kmm_caller();
	if (!obj || !cache_ok(s, "kmem_cache_free"))
		return;
	cache_free_one(s, obj, caller, "kmem_cache_free");
}

/**
 * kmem_cache_alloc_bulk - @size objects from @s into @p ([4.6+] API)
 * @gfp: as for kmem_cache_alloc (__GFP_ZERO zeroes every object)
 * @size: how many; @p: room for them
 * SLAB takes them from the CPU slot's array cache in one copy, then from
 * the node's shared array and slabs under one lock, growing as needed;
 * SLOB loops, as Linux's SLOB does.  failslab= is asked once per call.
 * Context: as kmem_cache_alloc (GFP_KERNEL may sleep).
 * Return: @size, or 0 when not all could be had: then none is left
 * allocated and @p's contents are undefined (as Linux's SLAB and SLUB).
 */
int kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t size, void **p)
{
	void *caller = kmm_caller();
	size_t done = 0;
	if (!cache_ok(s, "kmem_cache_alloc_bulk") || !size || !p || size > (size_t)INT_MAX)
		return 0;
	if (unlikely(kmm.fault_armed) && kmm_should_fail(&kmm.failslab, gfp, 0, s->name))
		return 0;
	if (kmm_slab_ops->cache_alloc_bulk)
		done = kmm_slab_ops->cache_alloc_bulk(s, gfp, size, p, caller);
	for (; done < size; done++) {
		p[done] = kmm_slab_ops->cache_alloc(s, gfp, -1, caller);
		if (!p[done])
			break;
	}
	if (done == size)
		return (int)size;
	while (done)	/* all or nothing: our own fresh objects, no report */
		kmm_slab_ops->cache_free(s, p[--done], caller);
	return 0;
}

/**
 * kmem_cache_free_bulk - give the @size objects in @p back to @s ([4.6+])
 * @p: objects from @s; NULL entries are skipped
 * Every object is checked as kmem_cache_free checks it: misuse (an
 * invalid or interior pointer, a double free, also of an object listed
 * twice in @p, an object of another cache) is reported for that object,
 * which is handled as kmem_cache_free would, and the rest are freed.
 * SLAB pushes them on the CPU slot's array cache and hands what does not
 * fit to the node's shared array (then to the slabs) under one lock.
 * Context: any; never sleeps.
 */
void kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p)
{
	void *caller = kmm_caller();
	if (!size || !cache_ok(s, "kmem_cache_free_bulk"))
		return;
	while (size) {
		size_t done = kmm_slab_ops->cache_free_bulk ? kmm_slab_ops->cache_free_bulk(s, size, p, caller) : 0;
		p += done;
		size -= done;
		if (size) {
			/* the backend's fast path stopped here: the full checks */
			if (*p)
				cache_free_one(s, *p, caller, "kmem_cache_free_bulk");
			p++;
			size--;
		}
	}
}

/**
 * kmem_cache_shrink - give every empty slab of @s back to the page allocator
 * (after emptying the CPU slots' caches of @s).
 * Return: 0 when @s holds no slab afterwards, 1 when slabs with objects
 * remain (Linux 2.6's meaning), or -EINVAL for a bad cache.
 */
int kmem_cache_shrink(struct kmem_cache *s)
{
	if (!cache_ok(s, "kmem_cache_shrink"))
		return -KMM_EINVAL;
	return kmm_slab_ops->cache_shrink(s);
}

/* kmem_cache_size - the object size the cache was created with. */
unsigned int kmem_cache_size(struct kmem_cache *s)
{
	return cache_ok(s, "kmem_cache_size") ? s->object_size : 0;
}

const char *kmem_cache_name(struct kmem_cache *s)
{
	return cache_ok(s, "kmem_cache_name") ? s->name : NULL;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

static int report_slabinfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	kmm_tb_init(&tb, emit, ctx);
	kmm_tb_printf(&tb, "slabinfo - version: 2.1\n"
			   "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
			   " : tunables <limit> <batchcount> <sharedfactor>"
			   " : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	if (kmm_slab_ops)
		kmm_slab_ops->slabinfo(&tb);
	kmm_tb_flush(&tb);
	return 0;
}

static unsigned long meminfo_reclaimable(void)
{
	return kmm_slab_ops ? kmm_slab_ops->reclaimable_pages() : 0;
}

static unsigned long meminfo_unreclaimable(void)
{
	return kmm_slab_ops ? kmm_slab_ops->unreclaimable_pages() : 0;
}

/* ------------------------------------------------------------------ */
/* Shrinker: empty slabs back under memory pressure                   */
/* ------------------------------------------------------------------ */

/* Cheap to ask, so the count is "maybe": direct reclaim wants everything
 * that can go, and scan frees every empty slab in one pass. */
static unsigned long slab_shrink_count(struct shrinker *sh, struct shrink_control *sc)
{
	return 1;
}

static unsigned long slab_shrink_scan(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long freed = kmm_slab_ops->shrink_all();
	sc->nr_scanned = sc->nr_to_scan;
	return freed;
}

/* ------------------------------------------------------------------ */
/* The layer                                                           */
/* ------------------------------------------------------------------ */

static void slab_layer_drain_slot(struct kmm_cpu *c)
{
	if (kmm_slab_ops && kmm_slab_ops->drain_slot)
		kmm_slab_ops->drain_slot(c);
}

static void slab_layer_drain_all(void)
{
	if (kmm_slab_ops && kmm_slab_ops->drop_slot_caches)
		kmm_slab_ops->drop_slot_caches();
	if (kmm_slab_ops)
		kmm_slab_ops->shrink_all();
}

static int slab_layer_check(void)
{
	return kmm_slab_ops ? kmm_slab_ops->check() : 0;
}

/* Shutdown: name the objects still allocated, one "kmm: shutdown:" line
 * per cache (a leak report, not a misuse report), then release it all. */
static void slab_layer_shutdown(void)
{
	struct kmem_cache *s, *n;
	struct leak_list l;
	if (!kmm_slab_ops)
		return;
	list_for_each_entry(s, &slab_caches, list) {
		unsigned long live = list_live(s, &l);
		if (live)
			kmm_log("kmm: shutdown: cache %s: %lu object%s still allocated:%s", s->name, live,
				live == 1 ? "" : "s", l.buf);
	}
	kmalloc_shutdown();
	if (kmm_slab_ops->shutdown) {
		kmm_slab_ops->shutdown();
	} else {
		list_for_each_entry_safe(s, n, &slab_caches, list) {
			list_del_init(&s->list);
			s->magic = 0;
			kmm_slab_ops->cache_release(s);
		}
	}
	INIT_LIST_HEAD(&slab_caches);
	if (slab_shrinker)
		shrinker_free(slab_shrinker);
	slab_shrinker = NULL;
	kmm_meminfo_hooks.slab_reclaimable = NULL;
	kmm_meminfo_hooks.slab_unreclaimable = NULL;
	kmm_register_report("slabinfo", NULL);
	kmm_plat_lock_destroy(&slab_mutex);
	kmm_slab_ops = NULL;
}

static const struct kmm_layer_ops slab_layer = {
	.name = "slab",
	.drain_slot = slab_layer_drain_slot,
	.drain_all = slab_layer_drain_all,
	.check = slab_layer_check,
	.shutdown = slab_layer_shutdown,
};

/*
 * slab_common_init - at boot, after the page allocator: pick the backend,
 * start it (it makes its cache of caches), register the layer, slabinfo,
 * the meminfo numbers and the shrinker.  kmalloc_init follows.
 */
int slab_common_init(void)
{
	int err;
	kmm_plat_lock_init(&slab_mutex);
	INIT_LIST_HEAD(&slab_caches);
	kmm_slab_ops = kmm.cfg.slab == SLAB_BACKEND_SLOB ? &kmm_slab_ops_slob : &kmm_slab_ops_slab;
	err = kmm_slab_ops->init();
	if (err) {
		kmm_log("kmm: boot: the %s allocator could not start (%d)", kmm_slab_ops->name, err);
		kmm_plat_lock_destroy(&slab_mutex);
		kmm_slab_ops = NULL;
		return err;
	}
	kmm_register_layer(&slab_layer);
	kmm_register_report("slabinfo", report_slabinfo);
	kmm_meminfo_hooks.slab_reclaimable = meminfo_reclaimable;
	kmm_meminfo_hooks.slab_unreclaimable = meminfo_unreclaimable;
	slab_shrinker = shrinker_alloc(0, "slab");
	if (slab_shrinker) {
		slab_shrinker->count_objects = slab_shrink_count;
		slab_shrinker->scan_objects = slab_shrink_scan;
		shrinker_register(slab_shrinker);
	}
	return 0;
}
