/*
 * hosted.c - the platform layer on Linux user space: memfd, mmap, pthreads.
 *
 * 1. Overview
 *    Every kmm_plat_* function of platform.h, for a process on Linux.  The
 *    simulated machine's physical memory is either a memory file (SHARED:
 *    memfd_create, sized with ftruncate, so it stays sparse until frames are
 *    touched) or private anonymous memory (PRIVATE: nothing is opened; a
 *    frame "is" whatever anonymous page currently sits at its address).
 *    Kernel windows (the linear map, vmalloc, pkmap, fixmap) are carved out
 *    of PROT_NONE reservations (va_reserve) and frames are mapped into them
 *    with MAP_FIXED:
 *      SHARED   map_frames = mmap(MAP_SHARED | MAP_FIXED, fd, pfn << PAGE_SHIFT),
 *               so one frame may appear at several addresses (high memory);
 *      PRIVATE  map_frames = fresh anonymous memory (the linear map at boot);
 *               move_pages = mremap: the pages themselves travel, so a frame
 *               is never visible at two addresses.
 *    Locks are pthread mutexes, wait queues a mutex + condvar + generation
 *    counter, the per-thread block is a __thread array with a pthread_key
 *    destructor, the heavy barrier is membarrier(2).
 *
 * 2. Data structures
 *    - hosted_mem: the one open backing (one machine per process, as one
 *      kernel per machine): kind, memfd (SHARED) and size in frames.
 *    - struct kmm_lock / struct kmm_waitq: opaque storage from platform.h,
 *      reinterpreted here as struct hosted_lock / struct hosted_waitq (sizes
 *      and alignments checked at compile time).
 *    - kmm_hosted_thread_state: KMM_THREAD_STATE_SIZE zeroed bytes of TLS per
 *      thread; hosted_thread.key's destructor hands it to the core's on_exit.
 *
 * 3. Invariants
 *    - hosted_mem.open <=> kmm_plat_mem_open succeeded and mem_close has not
 *      run; SHARED <=> hosted_mem.fd >= 0.
 *    - Every address range this file maps or unmaps lies inside a
 *      reservation: unmap and move_pages leave PROT_NONE memory behind, never
 *      a hole, so no other mmap() in the process can land inside a kmm window.
 *    - Wait queue generation only grows, and only under the queue's mutex;
 *      a sleeper compares it under the same mutex, so a wake between
 *      kmm_plat_wait_prepare and kmm_plat_wait is never lost.
 *
 * 4. Locks
 *    struct kmm_lock is a leaf for this file: nothing here takes a lock
 *    while calling out.  hosted_thread.lock (key creation) and each wait
 *    queue's internal mutex are leaves as well.  The backing statics are
 *    written only by mem_open / mem_close, which the core calls at boot and
 *    shutdown with no other kmm call in flight.
 *
 * 5. Behaviour on failure (MISUSE.md #37)
 *    Host resource exhaustion - ENOMEM, EAGAIN, ENFILE, EMFILE from mmap,
 *    mremap, munmap, memfd_create, ftruncate, fallocate - comes back as
 *    -KMM_ENOMEM and changes nothing the caller can see.  Any other errno
 *    from those calls means kmm handed the host a range it never reserved
 *    or an impossible request: a kmm bug, so kmm_plat_abort() with
 *    "kmm: internal error: <call> ...: <strerror>".  Requests this file can
 *    check itself (frames outside the backing, a misaligned address, no
 *    backing open) return -KMM_EINVAL.  pthread errors other than timeouts
 *    are bugs too and abort.
 *
 * 6. Threads and per-thread state
 *    kmm_plat_thread_init(on_exit) creates the pthread key once; later calls
 *    only replace on_exit (NULL disables it).  kmm_plat_thread_watch() sets
 *    the key's value for the calling thread, so at pthread exit glibc calls
 *    the destructor, which calls on_exit(state).  If on_exit watches again,
 *    glibc re-runs destructors at most PTHREAD_DESTRUCTOR_ITERATIONS times:
 *    bounded.  The main thread's destructors do not run at exit(); a
 *    process's end needs no slot draining.
 *
 * 7. fork (a later issue: the seam)
 *    Nothing here registers pthread_atfork handlers yet.  What fork will
 *    need: a SHARED backing is MAP_SHARED, so a child shares the machine's
 *    physical memory with its parent (only PRIVATE is fork-safe); locks and
 *    wait queues must be re-initialised in the child after the core took
 *    all of them in its prepare handler; the child's only thread keeps its
 *    kmm_hosted_thread_state (TLS is copied), the core decides what it means.
 *    The handlers belong in this file, next to the backing statics, and
 *    hosted_mem.fd is the one descriptor a child must keep or replace.
 *
 * 8. References
 *    memfd_create(2), mmap(2), mremap(2) (MREMAP_DONTUNMAP, Linux 5.7),
 *    fallocate(2) (FALLOC_FL_PUNCH_HOLE), madvise(2), membarrier(2),
 *    pthread_key_create(3), pthread_condattr_setclock(3); mimalloc's
 *    prim/unix/prim.c for the reservation idioms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <kmm/page.h>		/* PAGE_SHIFT, PAGE_SIZE (build option) */
#include "platform.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* The host ran out of something: the caller gets -ENOMEM and may retry. */
static bool host_out_of_resources(int err)
{
	return err == ENOMEM || err == EAGAIN || err == ENFILE || err == EMFILE;
}

/* A host call failed with an errno that only a kmm bug can cause: end the
 * process with "kmm: internal error: <what>: <strerror>". */
static _Noreturn void internal_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void internal_error(int err, const char *fmt, ...)
{
	char what[192], line[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "kmm: internal error: %s: %s", what, strerror(err));
	kmm_plat_abort(line);
}

/* The usual verdict on a failed host call: -KMM_ENOMEM for exhaustion,
 * internal_error for anything else. */
#define host_error(err, ...) \
	(host_out_of_resources(err) ? -KMM_ENOMEM : (internal_error((err), __VA_ARGS__), 0))

/* pthread functions return their error instead of setting errno; any
 * error from the ones used here is a kmm bug. */
static void pthread_check(int rc, const char *what)
{
	char line[160];

	if (rc == 0)
		return;
	snprintf(line, sizeof(line), "kmm: internal error: %s: %s", what, strerror(rc));
	kmm_plat_abort(line);
}

/* ------------------------------------------------------------------ */
/* Physical memory backing                                             */
/* ------------------------------------------------------------------ */

static struct {
	bool open;
	enum kmm_backing backing;
	int fd;				/* SHARED: the memory file; else -1 */
	unsigned long nr_frames;
} hosted_mem = { .fd = -1 };

/* Set after the first EINVAL from mremap(MREMAP_DONTUNMAP): old kernel. */
static atomic_bool hosted_no_dontunmap;

/* Bytes of nr pages, or 0 when that overflows (callers treat as -EINVAL). */
static size_t pages_to_bytes(unsigned long nr)
{
	if (nr == 0 || nr > (SIZE_MAX >> PAGE_SHIFT))
		return 0;
	return (size_t)nr << PAGE_SHIFT;
}

static bool page_aligned(const void *va)
{
	return ((uintptr_t)va & (PAGE_SIZE - 1)) == 0;
}

int kmm_plat_mem_open(unsigned long nr_frames, enum kmm_backing backing)
{
	long host_page = sysconf(_SC_PAGESIZE);
	size_t bytes = pages_to_bytes(nr_frames);
	int fd = -1;

	if (hosted_mem.open)
		return -KMM_EBUSY;
	/* kmm pages must be whole host pages for mmap to place them */
	if (bytes == 0 || host_page <= 0 || (unsigned long)host_page > PAGE_SIZE)
		return -KMM_EINVAL;
	if (backing != KMM_BACKING_SHARED && backing != KMM_BACKING_PRIVATE)
		return -KMM_EINVAL;

	if (backing == KMM_BACKING_SHARED) {
		if (bytes > (size_t)INT64_MAX)
			return -KMM_ENOMEM;
		fd = memfd_create("kmm-physmem", MFD_CLOEXEC);
		if (fd < 0) {
			/* ENOSYS (very old kernel) or a seccomp filter: the
			 * host cannot give us a memory file. */
			return errno == ENOSYS || errno == EPERM ? -KMM_ENOMEM
								 : host_error(errno, "memfd_create");
		}
		if (ftruncate(fd, (off_t)bytes) != 0) {
			int err = errno;
			close(fd);
			/* EFBIG / EINVAL: larger than the host allows */
			return err == EFBIG || err == EINVAL ? -KMM_ENOMEM
							     : host_error(err, "ftruncate(memfd, %zu)", bytes);
		}
	}
	hosted_mem.backing = backing;
	hosted_mem.fd = fd;
	hosted_mem.nr_frames = nr_frames;
	hosted_mem.open = true;
	return 0;
}

void kmm_plat_mem_close(void)
{
	if (!hosted_mem.open)
		return;
	if (hosted_mem.fd >= 0)
		close(hosted_mem.fd);
	hosted_mem.fd = -1;
	hosted_mem.nr_frames = 0;
	hosted_mem.open = false;
}

/* ------------------------------------------------------------------ */
/* Host address space                                                  */
/* ------------------------------------------------------------------ */

/* Inaccessible, unbacked memory at va (MAP_FIXED when va != NULL). */
static void *map_none(void *va, size_t len, int fixed_flag)
{
	return mmap(va, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed_flag, -1, 0);
}

int kmm_plat_va_reserve(size_t size, size_t align, void **va)
{
	size_t len, extra;
	char *p, *start;

	*va = NULL;
	if (size == 0 || align == 0 || (align & (align - 1)) != 0)
		return -KMM_EINVAL;
	size = (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
	if (size == 0)
		return -KMM_ENOMEM;
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	/* Over-reserve by align - PAGE_SIZE and trim both ends. */
	extra = align - PAGE_SIZE;
	if (size > SIZE_MAX - extra)
		return -KMM_ENOMEM;
	len = size + extra;
	p = map_none(NULL, len, 0);
	if (p == MAP_FAILED)
		return host_error(errno, "mmap(reserve %zu bytes)", len);
	start = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	/* Trimming the ends of a fresh mapping splits nothing: cannot fail. */
	if (start > p && munmap(p, (size_t)(start - p)) != 0)
		internal_error(errno, "munmap(reserve head)");
	if (start + size < p + len && munmap(start + size, (size_t)(p + len - (start + size))) != 0)
		internal_error(errno, "munmap(reserve tail)");
	*va = start;
	return 0;
}

void kmm_plat_va_release(void *va, size_t size)
{
	if (va == NULL || size == 0)
		return;
	size = (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
	/* munmap of our own range fails only if the range is bogus (EINVAL),
	 * or with ENOMEM when a split would exceed vm.max_map_count - a whole
	 * reservation is never split, so both are kmm bugs. */
	if (munmap(va, size) != 0) {
		int err = errno;
		internal_error(err, "munmap(%p, %zu)", va, size);
	}
}

int kmm_plat_map_frames(void *va, unsigned long pfn, unsigned long nr)
{
	size_t len = pages_to_bytes(nr);
	void *p;

	if (!hosted_mem.open || len == 0 || !page_aligned(va) ||
	    pfn >= hosted_mem.nr_frames || nr > hosted_mem.nr_frames - pfn)
		return -KMM_EINVAL;
	if (hosted_mem.backing == KMM_BACKING_SHARED)
		p = mmap(va, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, hosted_mem.fd,
			 (off_t)pfn << PAGE_SHIFT);
	else
		p = mmap(va, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return host_error(errno, "mmap(%p, %lu pages, pfn %#lx)", va, nr, pfn);
	return 0;
}

/* Put PROT_NONE memory back over [va, va + len) after its pages left.
 * The range is ours (still mapped, or a hole we just made), so MAP_FIXED
 * replaces nothing that belongs to anyone else. */
static int rereserve(void *va, size_t len, bool is_hole)
{
	void *p;

	if (!is_hole) {
		p = map_none(va, len, MAP_FIXED);
		return p == MAP_FAILED ? host_error(errno, "mmap(PROT_NONE %p, %zu)", va, len) : 0;
	}
	/* Old kernel without MREMAP_DONTUNMAP: the source became a hole that
	 * another thread's mmap(NULL) could have taken in the meantime, so do
	 * not clobber: NOREPLACE, and give up the (tiny) window if lost. */
	p = map_none(va, len, MAP_FIXED_NOREPLACE);
	if (p == MAP_FAILED)
		return errno == EEXIST ? 0 : host_error(errno, "mmap(PROT_NONE %p, %zu)", va, len);
	if (p != va)	/* kernel < 4.17 took NOREPLACE as a hint */
		munmap(p, len);
	return 0;
}

/* One mremap of len bytes from src to dst.  Returns 0 or the errno; on
 * success *hole says whether src was left unmapped (no MREMAP_DONTUNMAP on
 * this kernel) rather than as an empty mapping. */
static int move_once(void *dst, void *src, size_t len, bool *hole)
{
	int flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	void *p;

	*hole = false;
	if (!atomic_load_explicit(&hosted_no_dontunmap, memory_order_relaxed)) {
		p = mremap(src, len, len, flags | MREMAP_DONTUNMAP, dst);
		if (p != MAP_FAILED)
			return 0;
		if (errno != EINVAL)
			return errno;
		/* EINVAL: DONTUNMAP unknown here (Linux < 5.7), or a bad
		 * request; retrying without it tells the two apart. */
	}
	p = mremap(src, len, len, flags, dst);
	if (p == MAP_FAILED)
		return errno;
	atomic_store_explicit(&hosted_no_dontunmap, true, memory_order_relaxed);
	*hole = true;
	return 0;
}

int kmm_plat_move_pages(void *dst, void *src, unsigned long nr)
{
	size_t len = pages_to_bytes(nr);
	unsigned long i;
	bool hole;
	int err;

	if (len == 0 || !page_aligned(dst) || !page_aligned(src) ||
	    !hosted_mem.open || hosted_mem.backing != KMM_BACKING_PRIVATE)
		return -KMM_EINVAL;

	/* After a move, a failed rereserve (-ENOMEM: vm.max_map_count) only
	 * leaves src readable as zeroes instead of faulting: the move stands. */
	err = move_once(dst, src, len, &hole);
	if (err == 0) {
		rereserve(src, len, hole);
		return 0;
	}
	if (err != EFAULT)
		return host_error(err, "mremap(%p -> %p, %lu pages)", src, dst, nr);

	/* EFAULT: src spans several host VMAs (pages that arrived by separate
	 * moves do not always merge).  Move page by page; undo on failure so
	 * the caller sees all or nothing. */
	for (i = 0; i < nr; i++) {
		char *s = (char *)src + (i << PAGE_SHIFT), *d = (char *)dst + (i << PAGE_SHIFT);

		err = move_once(d, s, PAGE_SIZE, &hole);
		if (err != 0)
			break;
		rereserve(s, PAGE_SIZE, hole);
	}
	if (i == nr)
		return 0;
	if (!host_out_of_resources(err))
		internal_error(err, "mremap(%p -> %p, page %lu of %lu)", src, dst, i, nr);
	while (i-- > 0) {
		char *s = (char *)src + (i << PAGE_SHIFT), *d = (char *)dst + (i << PAGE_SHIFT);
		int undo = move_once(s, d, PAGE_SIZE, &hole);

		/* Half-moved frames cannot be described to the caller. */
		if (undo != 0)
			internal_error(undo, "mremap undo (%p -> %p)", d, s);
		rereserve(d, PAGE_SIZE, hole);
	}
	return -KMM_ENOMEM;
}

int kmm_plat_unmap(void *va, unsigned long nr)
{
	size_t len = pages_to_bytes(nr);

	if (len == 0 || !page_aligned(va))
		return -KMM_EINVAL;
	return rereserve(va, len, false);
}

int kmm_plat_discard(void *va, unsigned long pfn, unsigned long nr)
{
	size_t len = pages_to_bytes(nr);

	if (!hosted_mem.open || len == 0)
		return -KMM_EINVAL;
	if (hosted_mem.backing == KMM_BACKING_SHARED) {
		if (pfn >= hosted_mem.nr_frames || nr > hosted_mem.nr_frames - pfn)
			return -KMM_EINVAL;
		/* Frees the file's pages and zaps every mapping of them: all
		 * aliases read zeroes afterwards. */
		while (fallocate(hosted_mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)pfn << PAGE_SHIFT, (off_t)len) != 0) {
			if (errno != EINTR)
				return host_error(errno, "fallocate(punch hole, pfn %#lx, %lu pages)",
						  pfn, nr);
		}
		return 0;
	}
	if (va == NULL || !page_aligned(va))
		return -KMM_EINVAL;
	/* Private anonymous: the next access reads a fresh zero page. */
	if (madvise(va, len, MADV_DONTNEED) != 0)
		return host_error(errno, "madvise(DONTNEED %p, %lu pages)", va, nr);
	return 0;
}

void kmm_plat_memset(void *dst, int c, size_t n)
{
	memset(dst, c, n);
}

void kmm_plat_memcpy(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

/* ------------------------------------------------------------------ */
/* Locks and wait queues                                               */
/* ------------------------------------------------------------------ */

struct hosted_lock {
	pthread_mutex_t mutex;
};
_Static_assert(sizeof(struct hosted_lock) <= sizeof(struct kmm_lock), "pthread_mutex_t must fit struct kmm_lock");
_Static_assert(_Alignof(struct hosted_lock) <= _Alignof(struct kmm_lock), "struct kmm_lock alignment too small");

struct hosted_waitq {
	pthread_mutex_t mutex;
	pthread_cond_t cond;		/* CLOCK_MONOTONIC */
	atomic_ulong generation;	/* written under mutex */
};
_Static_assert(sizeof(struct hosted_waitq) <= sizeof(struct kmm_waitq), "wait queue must fit struct kmm_waitq");
_Static_assert(_Alignof(struct hosted_waitq) <= _Alignof(struct kmm_waitq), "struct kmm_waitq alignment too small");

static inline pthread_mutex_t *lock_mutex(struct kmm_lock *l)
{
	return &((struct hosted_lock *)(void *)l->opaque)->mutex;
}

static inline struct hosted_waitq *waitq_of(struct kmm_waitq *wq)
{
	return (struct hosted_waitq *)(void *)wq->opaque;
}

static pthread_once_t hosted_attr_once = PTHREAD_ONCE_INIT;
static pthread_mutexattr_t hosted_mutexattr;
static pthread_condattr_t hosted_condattr;

/* Adaptive mutexes spin briefly before sleeping: zone locks are held for
 * short stretches, as the kernel's spinlocks are. */
static void hosted_attr_init(void)
{
	pthread_check(pthread_mutexattr_init(&hosted_mutexattr), "pthread_mutexattr_init");
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
	pthread_mutexattr_settype(&hosted_mutexattr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	pthread_check(pthread_condattr_init(&hosted_condattr), "pthread_condattr_init");
	pthread_check(pthread_condattr_setclock(&hosted_condattr, CLOCK_MONOTONIC),
		      "pthread_condattr_setclock");
}

void kmm_plat_lock_init(struct kmm_lock *l)
{
	pthread_once(&hosted_attr_once, hosted_attr_init);
	memset(l, 0, sizeof(*l));
	pthread_check(pthread_mutex_init(lock_mutex(l), &hosted_mutexattr), "pthread_mutex_init");
}

void kmm_plat_lock_destroy(struct kmm_lock *l)
{
	pthread_check(pthread_mutex_destroy(lock_mutex(l)), "pthread_mutex_destroy");
}

void kmm_plat_lock(struct kmm_lock *l)
{
	pthread_check(pthread_mutex_lock(lock_mutex(l)), "pthread_mutex_lock");
}

bool kmm_plat_trylock(struct kmm_lock *l)
{
	int rc = pthread_mutex_trylock(lock_mutex(l));

	if (rc == EBUSY)
		return false;
	pthread_check(rc, "pthread_mutex_trylock");
	return true;
}

void kmm_plat_unlock(struct kmm_lock *l)
{
	pthread_check(pthread_mutex_unlock(lock_mutex(l)), "pthread_mutex_unlock");
}

void kmm_plat_waitq_init(struct kmm_waitq *wq)
{
	struct hosted_waitq *q = waitq_of(wq);

	pthread_once(&hosted_attr_once, hosted_attr_init);
	memset(wq, 0, sizeof(*wq));
	pthread_check(pthread_mutex_init(&q->mutex, NULL), "pthread_mutex_init");
	pthread_check(pthread_cond_init(&q->cond, &hosted_condattr), "pthread_cond_init");
	atomic_init(&q->generation, 0);
}

void kmm_plat_waitq_destroy(struct kmm_waitq *wq)
{
	struct hosted_waitq *q = waitq_of(wq);

	pthread_check(pthread_cond_destroy(&q->cond), "pthread_cond_destroy");
	pthread_check(pthread_mutex_destroy(&q->mutex), "pthread_mutex_destroy");
}

unsigned long kmm_plat_wait_prepare(struct kmm_waitq *wq)
{
	/* Acquire pairs with the bump in wake_all: a caller that then sees
	 * the condition unchanged and sleeps on this generation cannot miss
	 * a wake issued after its check. */
	return atomic_load_explicit(&waitq_of(wq)->generation, memory_order_acquire);
}

int kmm_plat_wait(struct kmm_waitq *wq, unsigned long generation, uint64_t timeout_ns)
{
	struct hosted_waitq *q = waitq_of(wq);
	struct timespec deadline;
	bool limited = timeout_ns != 0;
	int rc = 0;

	if (limited) {
		uint64_t end;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		end = (uint64_t)deadline.tv_sec * 1000000000u + (uint64_t)deadline.tv_nsec;
		if (timeout_ns > (uint64_t)INT64_MAX - end)
			limited = false;	/* centuries: no limit */
		else {
			end += timeout_ns;
			deadline.tv_sec = (time_t)(end / 1000000000u);
			deadline.tv_nsec = (long)(end % 1000000000u);
		}
	}
	pthread_check(pthread_mutex_lock(&q->mutex), "pthread_mutex_lock(waitq)");
	while (atomic_load_explicit(&q->generation, memory_order_relaxed) == generation) {
		if (!limited) {
			pthread_check(pthread_cond_wait(&q->cond, &q->mutex), "pthread_cond_wait");
			continue;
		}
		rc = pthread_cond_timedwait(&q->cond, &q->mutex, &deadline);
		if (rc == ETIMEDOUT) {
			rc = atomic_load_explicit(&q->generation, memory_order_relaxed) == generation
				     ? -KMM_ETIMEDOUT
				     : 0;
			break;
		}
		pthread_check(rc, "pthread_cond_timedwait");
	}
	pthread_check(pthread_mutex_unlock(&q->mutex), "pthread_mutex_unlock(waitq)");
	return rc;
}

void kmm_plat_wake_all(struct kmm_waitq *wq)
{
	struct hosted_waitq *q = waitq_of(wq);

	pthread_check(pthread_mutex_lock(&q->mutex), "pthread_mutex_lock(waitq)");
	atomic_fetch_add_explicit(&q->generation, 1, memory_order_release);
	pthread_check(pthread_cond_broadcast(&q->cond), "pthread_cond_broadcast");
	pthread_check(pthread_mutex_unlock(&q->mutex), "pthread_mutex_unlock(waitq)");
}

/* ------------------------------------------------------------------ */
/* Threads, CPU slots and barriers                                     */
/* ------------------------------------------------------------------ */

__thread _Alignas(64) unsigned char kmm_hosted_thread_state[KMM_THREAD_STATE_SIZE];

static struct {
	pthread_mutex_t lock;		/* key creation */
	bool key_ok;			/* atomic reads: set once, before any watch */
	pthread_key_t key;
	void (*_Atomic on_exit)(void *state);
} hosted_thread = { .lock = PTHREAD_MUTEX_INITIALIZER };

int kmm_plat_host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

/* pthread key destructor: runs in the exiting thread, whose TLS is still
 * valid, with state == its kmm_hosted_thread_state. */
static void hosted_thread_exit(void *state)
{
	void (*fn)(void *) = atomic_load(&hosted_thread.on_exit);

	if (fn != NULL)
		fn(state);
}

int kmm_plat_thread_init(void (*on_exit)(void *state))
{
	int rc = 0;

	pthread_check(pthread_mutex_lock(&hosted_thread.lock), "pthread_mutex_lock(thread)");
	atomic_store(&hosted_thread.on_exit, on_exit);
	if (!__atomic_load_n(&hosted_thread.key_ok, __ATOMIC_ACQUIRE)) {
		rc = pthread_key_create(&hosted_thread.key, hosted_thread_exit);
		if (rc == 0)
			__atomic_store_n(&hosted_thread.key_ok, true, __ATOMIC_RELEASE);
	}
	pthread_check(pthread_mutex_unlock(&hosted_thread.lock), "pthread_mutex_unlock(thread)");
	if (rc != 0)
		return host_out_of_resources(rc) ? -KMM_ENOMEM : host_error(rc, "pthread_key_create");
	return 0;
}

void kmm_plat_thread_watch(void)
{
	if (!__atomic_load_n(&hosted_thread.key_ok, __ATOMIC_ACQUIRE))
		return;
	if (pthread_getspecific(hosted_thread.key) == NULL)
		/* ENOMEM here (first use of a high key) leaves the thread
		 * unwatched: its slot is reclaimed at the next boot only. */
		(void)pthread_setspecific(hosted_thread.key, kmm_hosted_thread_state);
}

/* membarrier(2) has no glibc wrapper. */
static long sys_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* Which membarrier command serves kmm_plat_heavy_barrier, found once. */
static pthread_once_t hosted_mb_once = PTHREAD_ONCE_INIT;
static int hosted_mb_cmd;	/* 0: none */

static void hosted_mb_init(void)
{
	long mask = sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (mask < 0)
		return;
	if ((mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		hosted_mb_cmd = MEMBARRIER_CMD_PRIVATE_EXPEDITED;
	else if (mask & MEMBARRIER_CMD_GLOBAL)
		hosted_mb_cmd = MEMBARRIER_CMD_GLOBAL;	/* correct, but slow (an RCU grace period) */
}

bool kmm_plat_heavy_barrier(void)
{
	pthread_once(&hosted_mb_once, hosted_mb_init);
	if (hosted_mb_cmd == 0)
		return false;
	return sys_membarrier(hosted_mb_cmd) == 0;
}

void kmm_plat_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
	/* Other threads may outnumber host CPUs: let the lock holder run. */
	sched_yield();
}

/* ------------------------------------------------------------------ */
/* Time, logging, abort                                                */
/* ------------------------------------------------------------------ */

/* kmm_set_clock (kmm.h): a replacement clock for deterministic runs. */
static uint64_t (*clock_override)(void);

void kmm_set_clock(uint64_t (*now_ns)(void))
{
	__atomic_store_n(&clock_override, now_ns, __ATOMIC_RELEASE);
}

uint64_t kmm_plat_now_ns(void)
{
	struct timespec ts;
	uint64_t (*override)(void) = __atomic_load_n(&clock_override, __ATOMIC_ACQUIRE);

	if (override)
		return override();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void kmm_plat_log(const char *line)
{
	struct iovec iov[2];
	int i = 0;

	if (line == NULL)
		line = "(null)";
	/* One writev: lines from concurrent threads do not interleave. */
	iov[0].iov_base = (void *)line;
	iov[0].iov_len = strlen(line);
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	while (i < 2) {
		ssize_t n = writev(STDERR_FILENO, iov + i, 2 - i);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* nowhere to report that stderr is gone */
		}
		while (i < 2 && (size_t)n >= iov[i].iov_len)
			n -= (ssize_t)iov[i++].iov_len;
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
}

_Noreturn void kmm_plat_abort(const char *line)
{
	kmm_plat_log(line);
	abort();
}
