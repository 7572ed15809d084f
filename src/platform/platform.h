/*
 * platform.h - the only door between the kmm core and its environment.
 *
 * 1. Overview
 *    The core (src/mm) includes only freestanding headers and this file.
 *    Everything that needs an operating system - memory backing, address
 *    space, locks, sleeping, time, thread-local state, logging - goes through
 *    the kmm_plat_* functions below.  hosted.c implements them on Linux user
 *    space (memfd, mmap, pthreads); a kernel or firmware that embeds kmm
 *    provides its own implementation of the same functions (see
 *    examples/freestanding for one that uses a fixed array and a spinlock).
 *
 * 2. Contract
 *    - Address ranges are page-aligned and non-empty; frame ranges are
 *      [pfn, pfn + nr) with nr > 0 inside the backing opened by
 *      kmm_plat_mem_open.
 *    - Out-parameters are never NULL.
 *    - Errors come back as negative errno values (-ENOMEM when the host ran
 *      out of address space or memory, -EINVAL for a request the platform
 *      cannot express); success is 0.
 *    - The layer never calls back into kmm, except through the thread-exit
 *      destructor the core hands to kmm_plat_thread_init (the pthread_key
 *      model: a generic primitive, not a kmm entry point).
 *
 * 3. Opaque storage
 *    Locks and wait queues live inside core structures, so their storage is
 *    declared here as fixed-size opaque words; a platform whose primitives do
 *    not fit must allocate them itself and keep a pointer in the storage.
 */
#ifndef KMM_PLATFORM_H
#define KMM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Error numbers the core uses, with Linux's values (the core has no errno.h). */
#define KMM_EPERM    1
#define KMM_ENOENT   2
#define KMM_ENOMEM  12
#define KMM_EBUSY   16
#define KMM_EINVAL  22
#define KMM_ENOSPC  28
#define KMM_ETIMEDOUT 110

/* ------------------------------------------------------------------ */
/* Physical memory backing and host address space                      */
/* ------------------------------------------------------------------ */

enum kmm_backing {
	KMM_BACKING_SHARED = 0,	 /* memory file: a frame may be mapped at several addresses */
	KMM_BACKING_PRIVATE = 1, /* private anonymous memory: fork-safe, one address per frame */
};

/*
 * Open the memory that stands for physical RAM: nr_frames page frames,
 * lazily backed (untouched frames cost the host nothing), reading as zeroes
 * (the core relies on it: boot reservations are not cleared).  Exactly one
 * backing is open at a time.  Returns 0 or -ENOMEM.
 */
int kmm_plat_mem_open(unsigned long nr_frames, enum kmm_backing backing);

/* Close the backing opened by kmm_plat_mem_open; every mapping of it must
 * already be gone.  Never fails. */
void kmm_plat_mem_close(void);

/*
 * Reserve size bytes of host virtual address space, inaccessible, aligned
 * to align (a power of two >= page size).  Nothing is backed.  Returns 0 and
 * the address in *va, or -ENOMEM.
 */
int kmm_plat_va_reserve(size_t size, size_t align, void **va);

/* Give back a whole reservation made by kmm_plat_va_reserve.  Never fails. */
void kmm_plat_va_release(void *va, size_t size);

/*
 * Map frames [pfn, pfn + nr) read-write at va, which lies inside a
 * reservation.  Shared backing: the frames' own memory, so the same frame
 * may be mapped at other addresses too.  Private backing: only allowed
 * where the frames are not mapped anywhere else (the linear map at boot);
 * other private mappings are made with kmm_plat_move_frames.
 * Returns 0, -ENOMEM (host limits) or -EINVAL.
 */
int kmm_plat_map_frames(void *va, unsigned long pfn, unsigned long nr);

/*
 * Private backing only: move the contents of nr pages at src to dst (both
 * inside reservations); src becomes inaccessible.  Returns 0 or -ENOMEM.
 */
int kmm_plat_move_pages(void *dst, void *src, unsigned long nr);

/* Make [va, va + nr pages) inaccessible again (still reserved).
 * Returns 0 or -ENOMEM. */
int kmm_plat_unmap(void *va, unsigned long nr);

/*
 * The frames [pfn, pfn + nr), currently mapped at va, hold nothing the
 * core needs: the host may take their memory back (punch a hole in the
 * memory file, or drop private pages).  The next access reads zeroes.
 * The kernel's counterpart is free page reporting.  Returns 0 or -ENOMEM.
 */
int kmm_plat_discard(void *va, unsigned long pfn, unsigned long nr);

/* Fast byte operations (the host's optimised ones where there are any). */
void kmm_plat_memset(void *dst, int c, size_t n);
void kmm_plat_memcpy(void *dst, const void *src, size_t n);

/* ------------------------------------------------------------------ */
/* Locks and wait queues                                               */
/* ------------------------------------------------------------------ */

struct kmm_lock {
	_Alignas(16) unsigned char opaque[64];
};

/* Initialise / destroy a sleeping mutual-exclusion lock.  init never fails. */
void kmm_plat_lock_init(struct kmm_lock *l);
void kmm_plat_lock_destroy(struct kmm_lock *l);
void kmm_plat_lock(struct kmm_lock *l);
bool kmm_plat_trylock(struct kmm_lock *l);	/* true: acquired */
void kmm_plat_unlock(struct kmm_lock *l);

/*
 * A wait queue with a generation number: kmm_plat_wait_prepare() returns the
 * current generation; kmm_plat_wait() sleeps until the generation differs
 * from it or timeout_ns passed (0 = no limit), and kmm_plat_wake_all() bumps
 * it and wakes every sleeper.  A wake between prepare and wait is never lost.
 */
struct kmm_waitq {
	_Alignas(16) unsigned char opaque[128];
};
void kmm_plat_waitq_init(struct kmm_waitq *wq);
void kmm_plat_waitq_destroy(struct kmm_waitq *wq);
unsigned long kmm_plat_wait_prepare(struct kmm_waitq *wq);
/* Returns 0 when woken, -ETIMEDOUT when the time ran out. */
int kmm_plat_wait(struct kmm_waitq *wq, unsigned long generation, uint64_t timeout_ns);
void kmm_plat_wake_all(struct kmm_waitq *wq);

/* ------------------------------------------------------------------ */
/* Threads, CPU slots and barriers                                     */
/* ------------------------------------------------------------------ */

/* Number of CPUs the host has (at least 1). */
int kmm_plat_host_cpus(void);

/*
 * Per-thread state: every thread has a zeroed block of
 * KMM_THREAD_STATE_SIZE bytes that only it uses (kmm_plat_thread_state).
 * kmm_plat_thread_init registers the function the platform calls with a
 * thread's block when that thread exits, for threads that asked for it with
 * kmm_plat_thread_watch (the pthread_key destructor model).  Returns 0 or
 * -ENOMEM.  Hosted builds inline kmm_plat_thread_state (see below).
 */
#define KMM_THREAD_STATE_SIZE 512
int kmm_plat_thread_init(void (*on_exit)(void *state));
void kmm_plat_thread_watch(void);

/*
 * A full memory barrier on every thread of the process that is running
 * now (Linux membarrier).  Pairs with compiler-only barriers on the CPU
 * slot fast paths: after it returns, every store a slot owner made before
 * its last compiler barrier is visible.  Returns false where the host
 * cannot do it (then remote slots are drained only when idle).
 */
bool kmm_plat_heavy_barrier(void);

/* Yield the processor briefly (a spin-wait back-off). */
void kmm_plat_relax(void);

/* ------------------------------------------------------------------ */
/* Time, logging, abort                                                */
/* ------------------------------------------------------------------ */

uint64_t kmm_plat_now_ns(void);		/* monotonic */
void kmm_plat_log(const char *line);	/* one line, no newline; default sink */
_Noreturn void kmm_plat_abort(const char *line);

/* A return address of the caller's caller, for SLAB_STORE_USER records. */
#define kmm_caller() __builtin_return_address(0)

#ifdef KMM_HOSTED
/* The hosted platform keeps the per-thread block in TLS so the fast paths
 * reach it without a call. */
extern __thread _Alignas(64) unsigned char kmm_hosted_thread_state[KMM_THREAD_STATE_SIZE];
static inline void *kmm_plat_thread_state(void) { return kmm_hosted_thread_state; }
#else
void *kmm_plat_thread_state(void);
#endif

#endif /* KMM_PLATFORM_H */
