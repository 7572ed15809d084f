/*
 * fork.h - the fork hooks of the layers whose locks are private to their
 * files (fork.c calls them in the lock order of internal.h's
 * enum kmm_lock_class).
 */
#ifndef KMM_FORK_H
#define KMM_FORK_H

enum kmm_fork_phase {
	KMM_FORK_PREPARE,	/* take every lock of the layer (in its documented order) */
	KMM_FORK_PARENT,	/* release them */
	KMM_FORK_CHILD,		/* re-initialise them (and wait queues): the child's only thread holds them */
};

void kmm_mempool_fork(enum kmm_fork_phase phase);	/* pool_list_lock, then every pool's lock */
void kmm_slob_fork(enum kmm_fork_phase phase);		/* slob_lock */
void kmm_vmalloc_fork(enum kmm_fork_phase phase);	/* vmap_area_lock */
void kmm_highmem_fork(enum kmm_fork_phase phase);	/* kmap_lock, hash buckets, fixmap_shared_lock */
void kmm_pgtable_fork(enum kmm_fork_phase phase);	/* the page table lock */

/* fork.c: the pthread_atfork handlers (the malloc shim registers them) */
void kmm_fork_prepare(void);
void kmm_fork_parent(void);
void kmm_fork_child(void);

#endif /* KMM_FORK_H */
