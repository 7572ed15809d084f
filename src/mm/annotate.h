/*
 * annotate.h - telling AddressSanitizer and Valgrind's memcheck which
 * memory is handed out and which is free, at the few places where pages
 * and objects change hands.  Without an ASan build (__SANITIZE_ADDRESS__
 * or __has_feature(address_sanitizer)) or the KMM_VALGRIND build option
 * every hook compiles to nothing: the core stays freestanding.
 *
 *   kmm_ann_pages_alloc(addr, size)     pages handed out (alloc_pages):
 *                                       accessible, contents undefined
 *   kmm_ann_pages_defined(addr, size)   ... whose contents are known (zero)
 *   kmm_ann_pages_free(addr, size)      pages back in the free lists:
 *                                       no access
 *   kmm_ann_obj_alloc(addr, size, def)  an object handed out (a heap block
 *                                       for memcheck: a chunk of the
 *                                       machine's mempool; def: its contents
 *                                       are defined - zeroed or constructed)
 *   kmm_ann_obj_free(addr, size)        an object back in its cache
 *   kmm_ann_reserve(addr, size)         free memory of a slab no one may
 *                                       touch (objects of a new slab)
 *   kmm_ann_machine(up)                 a machine boots / is torn down
 *   kmm_ann_meta(addr, size)            the allocator is about to write its
 *                                       own metadata into free memory (SLOB's
 *                                       free-block headers)
 *
 * Only low memory is annotated (high memory has no linear address, and
 * kmap / vmalloc addresses alias frames), and only caches without
 * slab_debug red zones or poisoning: those check their free objects
 * themselves, and read them to do it.
 */
#ifndef KMM_ANNOTATE_H
#define KMM_ANNOTATE_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define KMM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMM_ASAN 1
#endif
#endif

#ifdef KMM_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define kmm_asan_poison(a, n) __asan_poison_memory_region((a), (n))
#define kmm_asan_unpoison(a, n) __asan_unpoison_memory_region((a), (n))
#else
#define kmm_asan_poison(a, n) ((void)(a), (void)(n))
#define kmm_asan_unpoison(a, n) ((void)(a), (void)(n))
#endif

#ifdef KMM_VALGRIND
#include <valgrind/memcheck.h>
#define kmm_vg(x) x
/* Objects are memcheck "mempool" chunks of one pool per machine, anchored
 * here (machine.c): the pool is destroyed with the machine, so objects a
 * shutdown releases wholesale are forgotten with it. */
extern char kmm_ann_pool;
#else
#define kmm_vg(x) ((void)0)
#endif

/* Is any checker compiled in?  (Lets callers skip address arithmetic.) */
#if defined(KMM_ASAN) || defined(KMM_VALGRIND)
#define KMM_ANNOTATE 1
#else
#define KMM_ANNOTATE 0
#endif

static inline void kmm_ann_pages_alloc(void *a, size_t n)
{
	kmm_asan_unpoison(a, n);
	kmm_vg(VALGRIND_MAKE_MEM_UNDEFINED(a, n));
}

/* pages handed out whose contents are known (zeroed by the host or at free) */
static inline void kmm_ann_pages_defined(void *a, size_t n)
{
	kmm_vg(VALGRIND_MAKE_MEM_DEFINED(a, n));
	(void)a, (void)n;
}

static inline void kmm_ann_pages_free(void *a, size_t n)
{
	kmm_asan_poison(a, n);
	kmm_vg(VALGRIND_MAKE_MEM_NOACCESS(a, n));
}

static inline void kmm_ann_obj_alloc(void *a, size_t n, int defined)
{
	kmm_asan_unpoison(a, n);
	kmm_vg(VALGRIND_MEMPOOL_ALLOC(&kmm_ann_pool, a, n));	/* MALLOCLIKE_BLOCK, in the machine's pool */
	if (defined)
		kmm_vg(VALGRIND_MAKE_MEM_DEFINED(a, n));
	(void)defined;
}

static inline void kmm_ann_obj_free(void *a, size_t n)
{
	kmm_asan_poison(a, n);
	kmm_vg(VALGRIND_MEMPOOL_FREE(&kmm_ann_pool, a));	/* FREELIKE_BLOCK */
	(void)n;
}

/* A machine boots (up) or is torn down: memcheck's pool of its objects. */
static inline void kmm_ann_machine(int up)
{
	if (up)
		kmm_vg(VALGRIND_CREATE_MEMPOOL(&kmm_ann_pool, 0, 0));
	else
		kmm_vg(VALGRIND_DESTROY_MEMPOOL(&kmm_ann_pool));
	(void)up;
}

static inline void kmm_ann_reserve(void *a, size_t n)
{
	kmm_asan_poison(a, n);
	kmm_vg(VALGRIND_MAKE_MEM_NOACCESS(a, n));
}

static inline void kmm_ann_meta(void *a, size_t n)
{
	kmm_asan_unpoison(a, n);
	kmm_vg(VALGRIND_MAKE_MEM_UNDEFINED(a, n));
}

#endif /* KMM_ANNOTATE_H */
