/*
 * kmm/slab.h - object caches (the slab allocator, or SLOB with slab=slob)
 * and the general-purpose kmalloc family.
 */
#ifndef KMM_SLAB_H
#define KMM_SLAB_H

#include <stddef.h>
#include <kmm/gfp.h>

typedef unsigned int slab_flags_t;

/* Linux's flag values */
#define SLAB_CONSISTENCY_CHECKS 0x00000100U	/* slab_debug F: sanity checks on free */
#define SLAB_RED_ZONE           0x00000400U	/* slab_debug Z: red zones around objects */
#define SLAB_POISON             0x00000800U	/* slab_debug P: poison free objects */
#define SLAB_HWCACHE_ALIGN      0x00002000U	/* align objects on cache lines */
#define SLAB_CACHE_DMA          0x00004000U	/* slabs from ZONE_DMA */
#define SLAB_STORE_USER         0x00010000U	/* slab_debug U: last alloc/free caller */
#define SLAB_RECLAIM_ACCOUNT    0x00020000U	/* reclaimable (shrinkable) objects */
#define SLAB_PANIC              0x00040000U	/* abort if kmem_cache_create fails */

/* kmalloc(0): a unique non-NULL pointer that faults on any access */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

struct kmem_cache;

/*
 * kmem_cache_create - a cache of objects of @size bytes.
 * @align: 0 or a power of two; @flags: SLAB_*; @ctor: run when a slab is
 * made (SLAB) or at every allocation (SLOB), or NULL.
 * Return: the cache, or NULL for a bad size or alignment (SLAB_PANIC: abort).
 */
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
		unsigned int align, slab_flags_t flags, void (*ctor)(void *));
/* kmem_cache_destroy - a cache with live objects is reported and kept. */
void  kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int nid);
void  kmem_cache_free(struct kmem_cache *s, void *obj);
/*
 * kmem_cache_alloc_bulk - @size objects of @s into @p[0..size) ([4.6+]).
 * Return: @size, or 0 when not all of them could be had (then none is
 * left allocated).  @gfp as for kmem_cache_alloc.
 */
int   kmem_cache_alloc_bulk(struct kmem_cache *s, gfp_t gfp, size_t size, void **p);
/*
 * kmem_cache_free_bulk - give back the @size objects of @s in @p (NULL
 * entries are skipped).  Each is checked as kmem_cache_free checks it;
 * misuse is reported for that object and the others are still freed.
 */
void  kmem_cache_free_bulk(struct kmem_cache *s, size_t size, void **p);
/* kmem_cache_shrink - free every empty slab (after emptying the per-CPU
 * caches of @s); returns 0 when the cache holds no slab afterwards, 1 while
 * slabs with live objects remain (SLOB keeps no empty pages: always 0). */
int   kmem_cache_shrink(struct kmem_cache *s);
unsigned int kmem_cache_size(struct kmem_cache *s);
const char *kmem_cache_name(struct kmem_cache *s);

void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void *kmalloc_node(size_t size, gfp_t gfp, int nid);
void *kzalloc_node(size_t size, gfp_t gfp, int nid);
void *kcalloc(size_t n, size_t size, gfp_t gfp);      /* NULL on overflow */
void *kmalloc_array(size_t n, size_t size, gfp_t gfp);  /* NULL on overflow */
void *krealloc(const void *p, size_t new_size, gfp_t gfp);
void  kfree(const void *p);
size_t ksize(const void *p);
size_t kmalloc_size_roundup(size_t size);
char *kstrdup(const char *s, gfp_t gfp);
char *kstrndup(const char *s, size_t max, gfp_t gfp);
void *kmemdup(const void *src, size_t len, gfp_t gfp);
void *kvmalloc(size_t size, gfp_t gfp);
void *kvzalloc(size_t size, gfp_t gfp);
void  kvfree(const void *p);

#endif /* KMM_SLAB_H */
