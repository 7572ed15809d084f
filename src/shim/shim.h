/*
 * shim.h - what the malloc shim's files share (malloc.c, cxx.c) and the
 * core entry points it uses beyond the public headers (fork.c).
 */
#ifndef KMM_SHIM_H
#define KMM_SHIM_H

#include <stddef.h>

/* malloc.c: the C API's work, for the C++ operators */
void *kmm_shim_malloc(size_t size);			/* malloc */
void *kmm_shim_memalign(size_t align, size_t size);	/* align: a power of two */
void kmm_shim_free(void *p);				/* free */
/* free p, said to be a block of size bytes aligned to align (0: malloc's);
 * a size whose class is not the block's is reported "size mismatch" */
void kmm_shim_sized_free(void *p, size_t size, size_t align, const char *fn);

/* src/mm/fork.c: pthread_atfork handlers of the core */
void kmm_fork_prepare(void);
void kmm_fork_parent(void);
void kmm_fork_child(void);

#endif /* KMM_SHIM_H */
