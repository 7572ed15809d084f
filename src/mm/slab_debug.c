/*
 * slab_debug.c - the slab_debug= aids shared by SLAB and SLOB: red zones,
 * poisoning, caller tracking, and their one-line reports.
 *
 * 1. Overview
 *    A cache carries debug flags from its creator or from slab_debug=
 *    (slab_fill_common in slab_common.c applies the letters and lays the
 *    slot out; see slab.h for the layout).  The backends call in at three
 *    points, and every function here is a no-op for a cache without the
 *    flag it serves:
 *      - slab_debug_init_free: a new object, or one just freed: red zones
 *        RED_INACTIVE, body POISON_FREE (0x6b) ending in POISON_END (0xa5).
 *      - slab_debug_alloc: the object is about to be handed out: red zones
 *        must read RED_INACTIVE and the poison must be intact; then red
 *        zones RED_ACTIVE, body POISON_INUSE (0x5a, SLAB writes it at
 *        allocation so reads of uninitialised memory show 0x5a), alloc
 *        track.
 *      - slab_debug_free: the object comes back: red zones must read
 *        RED_ACTIVE (both RED_INACTIVE: "double free"; anything else:
 *        "redzone overwritten"), a kmalloc object's slack bytes past the
 *        requested size must still read 0xcc; then free track, red zones
 *        inactive, poison.
 *    Letters: F = SLAB_CONSISTENCY_CHECKS (the backend's extra checks), Z =
 *    SLAB_RED_ZONE, P = SLAB_POISON, U = SLAB_STORE_USER.
 *
 * 2. Which Linux
 *    SLAB's layout and checks ([2.6.24] mm/slab.c: dbg_redzone1/2,
 *    poison_obj, check_poison_obj) with the 64-bit red zone words of
 *    2.6.24+; the kmalloc red zone (requested size kept per object, slack
 *    bytes checked at free) is SLUB's [6.x] orig_size, with SLUB's byte
 *    value 0xcc.  Unlike 2.6.24 SLAB, red zoning stays on for caches
 *    aligned above a word (the pad before redzone1 keeps the object
 *    aligned), so kmalloc caches can be red-zoned (MISUSE 6).
 *
 * 3. Reports (MISUSE.md): one line each through kmm_error,
 *      kmm: <category>: <cache> object <addr> offset <n>: <bytes>
 *    offset from the object's start, then the 8 bytes found there; with U
 *    the last alloc/free callers follow.  Under on_error=report the
 *    callers keep the bad object out of circulation (false return).
 *
 * 4. Locks: none.  The caller owns the object (it is being allocated or
 *    freed, or kmm_check holds the lists quiet).
 */
#include "slab.h"

#define REDZONE_BYTES 8			/* one 64-bit red zone word */
#define SLUB_RED_ACTIVE 0xcc		/* kmalloc slack past the requested size */
#define DUMP_BYTES 8			/* bytes shown in a report */

static inline uint64_t *redzone1(struct kmem_cache *s, void *slot)
{
	return (uint64_t *)((char *)slot + s->obj_offset - REDZONE_BYTES);
}

static inline uint64_t *redzone2(struct kmem_cache *s, void *slot)
{
	return (uint64_t *)((char *)slot + s->obj_offset + ALIGN_UP(s->object_size, REDZONE_BYTES));
}

static inline struct kmm_track *track(struct kmem_cache *s, void *slot, int which)
{
	return (struct kmm_track *)((char *)slot + s->track_offset) + which;
}

static inline unsigned int *orig_size(struct kmem_cache *s, void *slot)
{
	return (unsigned int *)((char *)slot + s->orig_offset);
}

/* "xx xx xx ..." of n bytes at p into buf */
static void dump_bytes(char *buf, size_t size, const unsigned char *p, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)kmm_snprintf(buf + len, size - len, "%s%02x", i ? " " : "", p[i]);
}

/* " (last alloc by 0x.. cpu N, last free by 0x..)" when the cache tracks users */
static void track_info(char *buf, size_t size, struct kmem_cache *s, void *slot)
{
	buf[0] = '\0';
	if (!(s->flags & SLAB_STORE_USER))
		return;
	struct kmm_track *a = track(s, slot, 0), *f = track(s, slot, 1);
	kmm_snprintf(buf, size, " (last alloc by %p cpu %d, last free by %p cpu %d)", a->addr, a->cpu, f->addr, f->cpu);
}

/* One report about the object in slot, the bytes at offset (from the object start). */
static void report_object(const char *category, struct kmem_cache *s, void *slot, long offset, size_t nbytes)
{
	char bytes[3 * DUMP_BYTES + 1], who[96];
	char *obj = slot_to_obj(s, slot);
	dump_bytes(bytes, sizeof(bytes), (unsigned char *)obj + offset, nbytes);
	track_info(who, sizeof(who), s, slot);
	__atomic_add_fetch(&s->nr_errors, 1, __ATOMIC_RELAXED);
	kmm_error(category, "%s object %p offset %ld: %s%s", s->name, (void *)obj, offset, bytes, who);
}

static void set_track(struct kmem_cache *s, void *slot, int which, void *caller)
{
	struct kmm_track *t = track(s, slot, which);
	struct kmm_thread *th = kmm_thread();
	t->addr = caller;
	t->cpu = th->cpu ? th->cpu->cpu : -1;
	t->when_ns = (unsigned long)kmm_plat_now_ns();
}

/* poison_obj: val over the body, POISON_END in the last byte */
static void poison_obj(struct kmem_cache *s, void *slot, int val)
{
	unsigned char *obj = slot_to_obj(s, slot);
	kmm_memset(obj, val, s->object_size);
	obj[s->object_size - 1] = POISON_END;
}

/* offset of the first byte of the body that is not POISON_FREE (or
 * POISON_END for the last one), or -1 */
static long poison_mismatch(struct kmem_cache *s, void *slot)
{
	const unsigned char *obj = slot_to_obj(s, slot);
	size_t last = s->object_size - 1;
	for (size_t i = 0; i < last; i++)
		if (obj[i] != POISON_FREE)
			return (long)i;
	return obj[last] == POISON_END ? -1 : (long)last;
}

/* Bytes past a kmalloc object's requested size that lost their 0xcc; -1: none. */
static long slack_mismatch(struct kmem_cache *s, void *slot)
{
	const unsigned char *obj = slot_to_obj(s, slot);
	unsigned int req = *orig_size(s, slot);
	if (req > s->object_size)
		return 0;	/* the size word itself was overwritten */
	for (unsigned int i = req; i < s->object_size; i++)
		if (obj[i] != SLUB_RED_ACTIVE)
			return (long)i;
	return -1;
}

static long redzone_offset(struct kmem_cache *s, int which)
{
	return which == 1 ? -REDZONE_BYTES : (long)ALIGN_UP(s->object_size, REDZONE_BYTES);
}

static size_t dump_len(struct kmem_cache *s, long offset)
{
	long room = (long)s->size - (long)s->obj_offset - offset;
	return room < DUMP_BYTES ? (size_t)(room > 0 ? room : 0) : DUMP_BYTES;
}

void slab_debug_init_free(struct kmem_cache *s, void *slot)
{
	if (s->flags & SLAB_RED_ZONE) {
		*redzone1(s, slot) = RED_INACTIVE;
		*redzone2(s, slot) = RED_INACTIVE;
	}
	if (s->flags & SLAB_POISON)
		poison_obj(s, slot, POISON_FREE);
}

bool slab_debug_alloc(struct kmem_cache *s, void *slot, void *caller)
{
	if (s->flags & SLAB_RED_ZONE) {
		for (int which = 1; which <= 2; which++) {
			uint64_t *rz = which == 1 ? redzone1(s, slot) : redzone2(s, slot);
			if (*rz != RED_INACTIVE) {
				report_object("redzone overwritten", s, slot, redzone_offset(s, which), REDZONE_BYTES);
				return false;
			}
		}
	}
	if (s->flags & SLAB_POISON) {
		long off = poison_mismatch(s, slot);
		if (off >= 0) {
			report_object("poison overwritten", s, slot, off, dump_len(s, off));
			return false;
		}
	}
	if (s->flags & SLAB_RED_ZONE) {
		*redzone1(s, slot) = RED_ACTIVE;
		*redzone2(s, slot) = RED_ACTIVE;
		if (s->orig_offset)
			*orig_size(s, slot) = s->object_size;	/* kmalloc sets the real size next */
	}
	if (s->flags & SLAB_POISON)
		poison_obj(s, slot, POISON_INUSE);
	if (s->flags & SLAB_STORE_USER)
		set_track(s, slot, 0, caller);
	return true;
}

bool slab_debug_free(struct kmem_cache *s, void *slot, void *caller)
{
	if (s->flags & SLAB_RED_ZONE) {
		uint64_t r1 = *redzone1(s, slot), r2 = *redzone2(s, slot);
		if (r1 == RED_INACTIVE && r2 == RED_INACTIVE) {
			report_object("double free", s, slot, redzone_offset(s, 1), REDZONE_BYTES);
			return false;
		}
		for (int which = 1; which <= 2; which++) {
			if ((which == 1 ? r1 : r2) != RED_ACTIVE) {
				report_object("redzone overwritten", s, slot, redzone_offset(s, which), REDZONE_BYTES);
				return false;
			}
		}
		if (s->orig_offset) {
			long off = slack_mismatch(s, slot);
			if (off >= 0) {
				report_object("redzone overwritten", s, slot, off, dump_len(s, off));
				return false;
			}
		}
	}
	if (s->flags & SLAB_STORE_USER)
		set_track(s, slot, 1, caller);
	slab_debug_init_free(s, slot);
	return true;
}

int slab_debug_check_free(struct kmem_cache *s, void *slot)
{
	int err = 0;
	if (s->flags & SLAB_RED_ZONE) {
		for (int which = 1; which <= 2; which++) {
			uint64_t *rz = which == 1 ? redzone1(s, slot) : redzone2(s, slot);
			if (*rz != RED_INACTIVE) {
				report_object("redzone overwritten", s, slot, redzone_offset(s, which), REDZONE_BYTES);
				*rz = RED_INACTIVE;	/* repaired, as SLUB's validate does */
				err = -KMM_EUCLEAN;
			}
		}
	}
	if (s->flags & SLAB_POISON) {
		long off = poison_mismatch(s, slot);
		if (off >= 0) {
			report_object("poison overwritten", s, slot, off, dump_len(s, off));
			poison_obj(s, slot, POISON_FREE);
			err = -KMM_EUCLEAN;
		}
	}
	return err;
}

void slab_debug_kmalloc_size(struct kmem_cache *s, void *obj, size_t size)
{
	if (!s->orig_offset || size > s->object_size)
		return;
	void *slot = obj_to_slot(s, obj);
	*orig_size(s, slot) = (unsigned int)size;
	kmm_memset((char *)obj + size, SLUB_RED_ACTIVE, s->object_size - size);
}
