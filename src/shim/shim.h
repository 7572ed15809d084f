/*
 * shim.h - what the malloc shim's files share (malloc.c, cxx.c, host.c,
 * large.c) and the core entry points it uses beyond the public headers
 * (fork.c).
 */
#ifndef KMM_SHIM_H
#define KMM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmm/kmm.h>

#define SHIM_GFP (GFP_KERNEL | __GFP_NOWARN)	/* every request of the shim */
#define SHIM_ALIGN 16				/* glibc's MALLOC_ALIGNMENT on x86-64 */
#define SHIM_MEM_CAP (64UL << 30)		/* the largest machine the shim boots */
#define SHIM_MEM_MIN (64UL << 20)
#define SHIM_MIN_SLOTS 64
#define SHIM_HUGE_MAGIC 0x6b6d6d2d68756765UL	/* "kmm-huge" */

/* malloc.c: the C API's work, for the C++ operators */
void *kmm_shim_malloc(size_t size);			/* malloc */
void *kmm_shim_memalign(size_t align, size_t size);	/* align: a power of two */
void kmm_shim_free(void *p);				/* free */
/* free p, said to be a block of size bytes aligned to align (0: malloc's);
 * a size whose class is not the block's is reported "size mismatch" */
void kmm_shim_sized_free(void *p, size_t size, size_t align, const char *fn);

/* host.c: the bootstrap arena and the host's shape */
void *kmm_shim_boot_arena_alloc(size_t size, size_t align);	/* NULL + ENOMEM: full */
bool kmm_shim_in_boot_arena(const void *p);
size_t kmm_shim_boot_arena_size(const void *p);
int kmm_shim_host_numa_nodes(void);
unsigned long kmm_shim_host_mem_bytes(void);		/* whole MiB, capped */
int kmm_shim_slots(void);				/* CPU slots: 4 per host CPU, at least 64 */

/* large.c: blocks beyond the size classes */
struct huge_hdr {
	unsigned long magic;		/* SHIM_HUGE_MAGIC */
	void *base;			/* what vmalloc returned */
	size_t usable;			/* bytes from the user pointer to the end of the area */
};
void *kmm_shim_huge_alloc(size_t size, size_t align);	/* NULL: no memory */
struct huge_hdr *kmm_shim_huge_lookup(const void *p);	/* NULL: p starts no huge block */
void *kmm_shim_large_alloc(size_t n, gfp_t gfp);	/* a cached block of n's order, else kmalloc */
/* keep the freed large block p (order order); false: the caller frees it,
 * or (*reported) it was cached already and a double free was reported */
bool kmm_shim_large_put(void *p, unsigned int order, const char *fn, bool *reported);
void kmm_shim_large_drain(void);			/* every cached block back (malloc_trim) */
void kmm_shim_large_init(uintptr_t key);
void kmm_shim_large_fork(int phase);			/* 0 prepare, 1 parent, 2 child */

/* src/mm/fork.c: pthread_atfork handlers of the core */
void kmm_fork_prepare(void);
void kmm_fork_parent(void);
void kmm_fork_child(void);

#endif /* KMM_SHIM_H */
