/*
 * platform_fixed.c - a platform layer for the kmm core with no operating
 * system services beyond three system calls: a fixed static memory array,
 * a spinlock, one thread, no mmap.  It is what a small kernel or firmware
 * would write to embed kmm (src/platform/platform.h is the contract).
 *
 * 1. Memory
 *    One static array, `arena`, is everything: kmm_plat_va_reserve hands
 *    out (once) an aligned range inside it, and the core puts its linear
 *    map at the start of that range, so frame pfn lives at
 *    reservation + pfn * PAGE_SIZE.  The array IS physical memory and its
 *    linear map at the same time.  kmm_plat_map_frames therefore succeeds
 *    only for that identity (the boot-time linear map); any other mapping
 *    (vmalloc areas, kmap windows of high memory) is refused with -EINVAL,
 *    because without an MMU a frame cannot appear at a second address.
 *    Consequences, all handled by the core as ordinary failures:
 *      - vmalloc / vmap return NULL (boot reserves a vmalloc window, unused);
 *      - no high memory: boot with zones= that have no highmem; kmap of a
 *        low-memory page returns its linear address and works;
 *      - kmm_plat_discard zeroes the frames (memset): no memory goes back,
 *        but the "reads as zero" promise holds;
 *      - move_pages (private backing) is refused: use backing=shared (the
 *        default), which here means nothing more than "the array".
 *    The array sits in .bss: the host gives the process zero pages on first
 *    touch, so the ~28 MiB arena costs only what the machine uses.
 *
 * 2. Locks and waiting
 *    A lock is a test-and-set spinlock in the first word of its opaque
 *    storage.  There is one thread, so a wait queue can never be woken by
 *    anyone else: kmm_plat_wait returns at once (-ETIMEDOUT unless the
 *    generation already moved), and an allocation that would sleep fails
 *    instead (boot with oom_wait_ms=0 to skip the retries).
 *
 * 3. Time, logging, abort
 *    clock_gettime, write(2) and exit_group(2) by raw system calls (sys.h).
 *
 * Freestanding: no libc header is included; build with -ffreestanding
 * -nostdlib -nostdinc (see build.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <kmm/page.h>		/* PAGE_SIZE */
#include "platform/platform.h"
#include "sys.h"

#ifndef FS_ARENA_BYTES
/* the linear map of 2048 frames (main.c's machine), the 8 MiB hole, a
 * 4 MiB vmalloc window, pkmap and fixmap pages, and room to align the
 * reservation to a maximal buddy block */
#define FS_ARENA_BYTES ((2048UL << PAGE_SHIFT) + (12UL << 20) + 64 * PAGE_SIZE + (2UL << (PAGE_SHIFT + 10)))
#endif

static unsigned char arena[FS_ARENA_BYTES] __attribute__((aligned(4096)));
static unsigned char *reservation;	/* the one range handed out, or NULL */
static size_t reservation_size;
static unsigned long mem_frames;	/* frames of the open "backing" */

/* ---- memory ---------------------------------------------------------------- */

int kmm_plat_mem_open(unsigned long nr_frames, enum kmm_backing backing)
{
	(void)backing;
	if (nr_frames == 0 || nr_frames > FS_ARENA_BYTES / PAGE_SIZE)
		return -KMM_ENOMEM;
	mem_frames = nr_frames;
	return 0;
}

void kmm_plat_mem_close(void) { mem_frames = 0; }

int kmm_plat_va_reserve(size_t size, size_t align, void **va)
{
	if (reservation)
		return -KMM_ENOMEM;	/* the core makes exactly one */
	uintptr_t base = (uintptr_t)arena;
	uintptr_t start = (base + align - 1) & ~(uintptr_t)(align - 1);
	if (start + size > base + FS_ARENA_BYTES || start + size < start)
		return -KMM_ENOMEM;
	reservation = (unsigned char *)start;
	reservation_size = size;
	*va = reservation;
	return 0;
}

void kmm_plat_va_release(void *va, size_t size)
{
	(void)size;
	if (va == reservation)
		reservation = NULL;
}

/* frame pfn's one and only address */
static unsigned char *frame_addr(unsigned long pfn) { return reservation + pfn * PAGE_SIZE; }

int kmm_plat_map_frames(void *va, unsigned long pfn, unsigned long nr)
{
	if (!reservation || pfn + nr > mem_frames || pfn + nr < pfn)
		return -KMM_EINVAL;
	/* only the identity of the linear map: the array is already there */
	return (unsigned char *)va == frame_addr(pfn) ? 0 : -KMM_EINVAL;
}

int kmm_plat_move_pages(void *dst, void *src, unsigned long nr)
{
	(void)dst, (void)src, (void)nr;
	return -KMM_EINVAL;
}

int kmm_plat_unmap(void *va, unsigned long nr)
{
	(void)va, (void)nr;
	return 0;	/* nothing is ever mapped but the array itself */
}

void kmm_plat_memset(void *dst, int c, size_t n)
{
	__asm__ __volatile__("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
}

void kmm_plat_memcpy(void *dst, const void *src, size_t n)
{
	__asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

int kmm_plat_discard(void *va, unsigned long pfn, unsigned long nr)
{
	if (!reservation || pfn + nr > mem_frames)
		return -KMM_EINVAL;
	kmm_plat_memset(va ? va : frame_addr(pfn), 0, nr * PAGE_SIZE);
	return 0;
}

/* ---- locks and wait queues ------------------------------------------------------ */

struct fs_lock {
	int locked;
};
_Static_assert(sizeof(struct fs_lock) <= sizeof(struct kmm_lock), "lock storage");

static struct fs_lock *L(struct kmm_lock *l) { return (struct fs_lock *)(void *)l->opaque; }

void kmm_plat_lock_init(struct kmm_lock *l) { L(l)->locked = 0; }
void kmm_plat_lock_destroy(struct kmm_lock *l) { (void)l; }

void kmm_plat_lock(struct kmm_lock *l)
{
	while (__atomic_exchange_n(&L(l)->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&L(l)->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

bool kmm_plat_trylock(struct kmm_lock *l) { return !__atomic_exchange_n(&L(l)->locked, 1, __ATOMIC_ACQUIRE); }
void kmm_plat_unlock(struct kmm_lock *l) { __atomic_store_n(&L(l)->locked, 0, __ATOMIC_RELEASE); }

struct fs_waitq {
	unsigned long gen;
};
_Static_assert(sizeof(struct fs_waitq) <= sizeof(struct kmm_waitq), "wait queue storage");

static struct fs_waitq *W(struct kmm_waitq *w) { return (struct fs_waitq *)(void *)w->opaque; }

void kmm_plat_waitq_init(struct kmm_waitq *wq) { W(wq)->gen = 0; }
void kmm_plat_waitq_destroy(struct kmm_waitq *wq) { (void)wq; }
unsigned long kmm_plat_wait_prepare(struct kmm_waitq *wq) { return __atomic_load_n(&W(wq)->gen, __ATOMIC_ACQUIRE); }

int kmm_plat_wait(struct kmm_waitq *wq, unsigned long generation, uint64_t timeout_ns)
{
	(void)timeout_ns;
	/* one thread: nobody else can wake us, so never sleep */
	return __atomic_load_n(&W(wq)->gen, __ATOMIC_ACQUIRE) != generation ? 0 : -KMM_ETIMEDOUT;
}

void kmm_plat_wake_all(struct kmm_waitq *wq) { __atomic_add_fetch(&W(wq)->gen, 1, __ATOMIC_RELEASE); }

/* ---- threads, CPU slots, barriers ------------------------------------------------------ */

static unsigned char thread_state[KMM_THREAD_STATE_SIZE] __attribute__((aligned(64)));

int kmm_plat_host_cpus(void) { return 1; }
int kmm_plat_thread_init(void (*on_exit)(void *state)) { (void)on_exit; return 0; }	/* the thread never exits */
void kmm_plat_thread_watch(void) {}
void *kmm_plat_thread_state(void) { return thread_state; }
bool kmm_plat_heavy_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return true;	/* no other thread to order against */
}
void kmm_plat_relax(void) { __builtin_ia32_pause(); }

/* ---- time, log, abort ------------------------------------------------------------------ */

struct fs_timespec {
	long tv_sec, tv_nsec;
};

uint64_t kmm_plat_now_ns(void)
{
	struct fs_timespec ts = { 0, 0 };
	fs_syscall3(FS_SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void kmm_plat_log(const char *line)
{
	fs_puts(2, line);
	fs_write_all(2, "\n", 1);
}

_Noreturn void kmm_plat_abort(const char *line)
{
	kmm_plat_log(line);
	fs_exit_group(134);
}
