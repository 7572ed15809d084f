/*
 * kmm/mempool.h - memory pools: a reserve of min_nr elements so that
 * allocations can make progress when the allocator below fails.
 */
#ifndef KMM_MEMPOOL_H
#define KMM_MEMPOOL_H

#include <stddef.h>
#include <kmm/gfp.h>

struct kmem_cache;
typedef void *(mempool_alloc_t)(gfp_t gfp, void *pool_data);
typedef void  (mempool_free_t)(void *element, void *pool_data);
typedef struct mempool_s mempool_t;

mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn, void *pool_data);
mempool_t *mempool_create_slab_pool(int min_nr, struct kmem_cache *s);
mempool_t *mempool_create_kmalloc_pool(int min_nr, size_t size);
mempool_t *mempool_create_page_pool(int min_nr, int order);	/* elements are struct page * */
void *mempool_alloc(mempool_t *pool, gfp_t gfp);
void  mempool_free(void *element, mempool_t *pool);
int   mempool_resize(mempool_t *pool, int new_min_nr);
void  mempool_destroy(mempool_t *pool);

/* the allocator pairs the helpers use (as in Linux) */
mempool_alloc_t mempool_alloc_slab;  mempool_free_t mempool_free_slab;
mempool_alloc_t mempool_kmalloc;     mempool_free_t mempool_kfree;
mempool_alloc_t mempool_alloc_pages; mempool_free_t mempool_free_pages;

#endif /* KMM_MEMPOOL_H */
