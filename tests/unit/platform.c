/*
 * tests/unit/platform.c - the hosted platform layer (src/platform/hosted.c)
 * on its own, without booting a machine: backings, reservations, aliasing,
 * discard, moves, locks, wait queues, thread-exit destructors, log, abort.
 */
/* kmm-test: threaded */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kmm/page.h>
#include "platform/platform.h"
#include "harness.h"

/* ---- probing whether an address is accessible ---------------------- */

static sigjmp_buf probe_jmp;
static volatile sig_atomic_t probing;

static void probe_handler(int sig)
{
	if (probing)
		siglongjmp(probe_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* true when a byte at p can be read (PROT_NONE reservations cannot) */
static bool readable(const void *p)
{
	struct sigaction sa = { .sa_handler = probe_handler }, old_segv, old_bus;
	volatile bool ok = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	probing = 1;
	if (sigsetjmp(probe_jmp, 1) == 0) {
		(void)*(const volatile char *)p;
		ok = true;
	}
	probing = 0;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ok;
}

static void fill(void *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 7);
}

static bool filled(const void *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 7))
			return false;
	return true;
}

static bool zeroed(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i])
			return false;
	return true;
}

/* ---- memory ---------------------------------------------------------- */

TEST(va_reserve_aligned_and_inaccessible)
{
	void *va = NULL;
	size_t align = 2UL << 20;

	assert_eq(kmm_plat_va_reserve(3 * PAGE_SIZE, align, &va), 0);
	assert_nonnull(va);
	expect_eq((uintptr_t)va % align, 0);
	expect_false(readable(va));
	expect_false(readable((char *)va + 2 * PAGE_SIZE));
	kmm_plat_va_release(va, 3 * PAGE_SIZE);

	expect_eq(kmm_plat_va_reserve(PAGE_SIZE, 3 * PAGE_SIZE, &va), -KMM_EINVAL);
	expect_eq(kmm_plat_va_reserve(0, PAGE_SIZE, &va), -KMM_EINVAL);
	/* more address space than any host has */
	expect_eq(kmm_plat_va_reserve((size_t)1 << 62, PAGE_SIZE, &va), -KMM_ENOMEM);
}

TEST(shared_backing_aliases_and_discards)
{
	char *a, *b;

	assert_eq(kmm_plat_mem_open(64, KMM_BACKING_SHARED), 0);
	expect_eq(kmm_plat_mem_open(64, KMM_BACKING_SHARED), -KMM_EBUSY);
	assert_eq(kmm_plat_va_reserve(16 * PAGE_SIZE, PAGE_SIZE, (void **)&a), 0);
	assert_eq(kmm_plat_va_reserve(16 * PAGE_SIZE, PAGE_SIZE, (void **)&b), 0);

	/* pfn 3..4 at a+0 and at b+5 pages: one frame, two addresses */
	assert_eq(kmm_plat_map_frames(a, 3, 2), 0);
	assert_eq(kmm_plat_map_frames(b + 5 * PAGE_SIZE, 3, 2), 0);
	expect_true(zeroed(a, 2 * PAGE_SIZE));
	fill(a, 2 * PAGE_SIZE, 11);
	expect_true(filled(b + 5 * PAGE_SIZE, 2 * PAGE_SIZE, 11));
	b[5 * PAGE_SIZE + 100] = 0x5a;
	expect_eq(a[100], 0x5a);
	expect_false(readable(b));	/* the rest stays reserved */

	/* frames outside the backing, misaligned address */
	expect_eq(kmm_plat_map_frames(a + 8 * PAGE_SIZE, 63, 2), -KMM_EINVAL);
	expect_eq(kmm_plat_map_frames(a + 1, 0, 1), -KMM_EINVAL);

	/* discard without an address: both aliases read zeroes */
	assert_eq(kmm_plat_discard(NULL, 3, 2), 0);
	expect_true(zeroed(a, 2 * PAGE_SIZE));
	expect_true(zeroed(b + 5 * PAGE_SIZE, 2 * PAGE_SIZE));

	/* unmap one alias: the other keeps the frame */
	fill(a, PAGE_SIZE, 3);
	assert_eq(kmm_plat_unmap(b + 5 * PAGE_SIZE, 2), 0);
	expect_false(readable(b + 5 * PAGE_SIZE));
	expect_true(filled(a, PAGE_SIZE, 3));
	assert_eq(kmm_plat_map_frames(b, 3, 1), 0);
	expect_true(filled(b, PAGE_SIZE, 3));

	assert_eq(kmm_plat_unmap(a, 2), 0);
	assert_eq(kmm_plat_unmap(b, 1), 0);
	kmm_plat_va_release(a, 16 * PAGE_SIZE);
	kmm_plat_va_release(b, 16 * PAGE_SIZE);
	kmm_plat_mem_close();
	expect_eq(kmm_plat_map_frames(a, 0, 1), -KMM_EINVAL);	/* nothing open */
}

TEST(private_backing_moves_pages)
{
	char *a, *b;

	assert_eq(kmm_plat_mem_open(256, KMM_BACKING_PRIVATE), 0);
	assert_eq(kmm_plat_va_reserve(32 * PAGE_SIZE, PAGE_SIZE, (void **)&a), 0);
	assert_eq(kmm_plat_va_reserve(32 * PAGE_SIZE, PAGE_SIZE, (void **)&b), 0);

	assert_eq(kmm_plat_map_frames(a, 0, 8), 0);
	expect_true(zeroed(a, 8 * PAGE_SIZE));
	fill(a, 8 * PAGE_SIZE, 29);

	/* move 4 pages: contents travel, the source turns inaccessible */
	assert_eq(kmm_plat_move_pages(b + 4 * PAGE_SIZE, a + 2 * PAGE_SIZE, 4), 0);
	expect_true(filled(b + 4 * PAGE_SIZE, 4 * PAGE_SIZE, (unsigned char)(29 + 2 * PAGE_SIZE * 7)));
	expect_false(readable(a + 2 * PAGE_SIZE));
	expect_false(readable(a + 5 * PAGE_SIZE));
	expect_true(filled(a, 2 * PAGE_SIZE, 29));
	expect_true(readable(a + 6 * PAGE_SIZE));

	/* pages that arrived separately, then move them on as one range
	 * (the range may span several host mappings) */
	assert_eq(kmm_plat_move_pages(b + 8 * PAGE_SIZE, a, 1), 0);
	assert_eq(kmm_plat_move_pages(b + 9 * PAGE_SIZE, a + 7 * PAGE_SIZE, 1), 0);
	assert_eq(kmm_plat_move_pages(a + 16 * PAGE_SIZE, b + 4 * PAGE_SIZE, 6), 0);
	expect_true(filled(a + 16 * PAGE_SIZE, 4 * PAGE_SIZE, (unsigned char)(29 + 2 * PAGE_SIZE * 7)));
	expect_true(filled(a + 20 * PAGE_SIZE, PAGE_SIZE, 29));
	expect_true(filled(a + 21 * PAGE_SIZE, PAGE_SIZE, (unsigned char)(29 + 7 * PAGE_SIZE * 7)));
	expect_false(readable(b + 4 * PAGE_SIZE));
	expect_false(readable(b + 9 * PAGE_SIZE));

	/* discard needs the address here; the pages read zero afterwards */
	expect_eq(kmm_plat_discard(NULL, 0, 1), -KMM_EINVAL);
	assert_eq(kmm_plat_discard(a + 16 * PAGE_SIZE, 0, 6), 0);
	expect_true(zeroed(a + 16 * PAGE_SIZE, 6 * PAGE_SIZE));

	assert_eq(kmm_plat_unmap(a + 16 * PAGE_SIZE, 6), 0);
	expect_false(readable(a + 16 * PAGE_SIZE));
	kmm_plat_va_release(a, 32 * PAGE_SIZE);
	kmm_plat_va_release(b, 32 * PAGE_SIZE);
	kmm_plat_mem_close();

	/* moves belong to the private backing only */
	assert_eq(kmm_plat_mem_open(4, KMM_BACKING_SHARED), 0);
	expect_eq(kmm_plat_move_pages(b, a, 1), -KMM_EINVAL);
	kmm_plat_mem_close();
}

TEST(memset_memcpy)
{
	char x[64], y[64];

	kmm_plat_memset(x, 0xab, sizeof(x));
	kmm_plat_memcpy(y, x, sizeof(y));
	expect_eq((unsigned char)y[63], 0xab);
}

/* ---- locks and wait queues ------------------------------------------ */

static struct kmm_lock test_lock;
static struct kmm_waitq test_wq;
static atomic_int woken;

static void *try_other(void *arg)
{
	bool got = kmm_plat_trylock(&test_lock);

	if (got)
		kmm_plat_unlock(&test_lock);
	return (void *)(uintptr_t)got;
}

TEST(lock_excludes_other_threads)
{
	pthread_t t;
	void *got;

	kmm_plat_lock_init(&test_lock);
	kmm_plat_lock(&test_lock);
	pthread_create(&t, NULL, try_other, NULL);
	pthread_join(t, &got);
	expect_false((uintptr_t)got);
	kmm_plat_unlock(&test_lock);
	pthread_create(&t, NULL, try_other, NULL);
	pthread_join(t, &got);
	expect_true((uintptr_t)got);
	expect_true(kmm_plat_trylock(&test_lock));
	kmm_plat_unlock(&test_lock);
	kmm_plat_lock_destroy(&test_lock);
}

TEST(waitq_times_out)
{
	uint64_t t0, t1;
	unsigned long gen;

	kmm_plat_waitq_init(&test_wq);
	gen = kmm_plat_wait_prepare(&test_wq);
	t0 = kmm_plat_now_ns();
	expect_eq(kmm_plat_wait(&test_wq, gen, 20 * 1000 * 1000), -KMM_ETIMEDOUT);
	t1 = kmm_plat_now_ns();
	expect_ge(t1 - t0, 20 * 1000 * 1000);

	/* a wake between prepare and wait is not lost */
	gen = kmm_plat_wait_prepare(&test_wq);
	kmm_plat_wake_all(&test_wq);
	expect_ne(kmm_plat_wait_prepare(&test_wq), gen);
	expect_eq(kmm_plat_wait(&test_wq, gen, 0), 0);
	kmm_plat_waitq_destroy(&test_wq);
}

static void *sleeper(void *arg)
{
	unsigned long gen = *(unsigned long *)arg;
	int rc = kmm_plat_wait(&test_wq, gen, 10ull * 1000 * 1000 * 1000);

	if (rc == 0)
		atomic_fetch_add(&woken, 1);
	return NULL;
}

TEST(waitq_wakes_every_sleeper)
{
	pthread_t t[4];
	unsigned long gen;

	kmm_plat_waitq_init(&test_wq);
	atomic_store(&woken, 0);
	gen = kmm_plat_wait_prepare(&test_wq);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, sleeper, &gen);
	usleep(20 * 1000);
	expect_eq(atomic_load(&woken), 0);
	kmm_plat_wake_all(&test_wq);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	expect_eq(atomic_load(&woken), 4);
	kmm_plat_waitq_destroy(&test_wq);
}

/* ---- threads ---------------------------------------------------------- */

static void *exit_state[8];
static int exit_value[8];
static atomic_int exits;

static void on_thread_exit(void *state)
{
	int i = atomic_fetch_add(&exits, 1);

	if (i < 8) {
		exit_state[i] = state;
		exit_value[i] = ((unsigned char *)state)[0];
	}
}

static void *watched_thread(void *arg)
{
	unsigned char *st = kmm_plat_thread_state();

	*(void **)arg = st;
	expect_true(zeroed(st, KMM_THREAD_STATE_SIZE));	/* fresh per thread */
	st[0] = 42;
	kmm_plat_thread_watch();
	kmm_plat_thread_watch();	/* idempotent */
	return NULL;
}

static void *unwatched_thread(void *arg)
{
	((unsigned char *)kmm_plat_thread_state())[0] = 7;
	return NULL;
}

TEST(thread_state_destructor_runs_at_exit)
{
	pthread_t t;
	void *st = NULL;

	atomic_store(&exits, 0);
	assert_eq(kmm_plat_thread_init(on_thread_exit), 0);
	expect_eq((uintptr_t)kmm_plat_thread_state() % 64, 0);
	expect_ne(kmm_plat_thread_state(), NULL);

	pthread_create(&t, NULL, watched_thread, &st);
	pthread_join(t, NULL);
	expect_eq(atomic_load(&exits), 1);
	expect_true(exit_state[0] == st);
	expect_true(st != kmm_plat_thread_state());
	expect_eq(exit_value[0], 42);

	pthread_create(&t, NULL, unwatched_thread, NULL);
	pthread_join(t, NULL);
	expect_eq(atomic_load(&exits), 1);

	/* NULL disables, a new function replaces */
	assert_eq(kmm_plat_thread_init(NULL), 0);
	pthread_create(&t, NULL, watched_thread, &st);
	pthread_join(t, NULL);
	expect_eq(atomic_load(&exits), 1);
	assert_eq(kmm_plat_thread_init(on_thread_exit), 0);
	pthread_create(&t, NULL, watched_thread, &st);
	pthread_join(t, NULL);
	expect_eq(atomic_load(&exits), 2);
	kmm_plat_thread_init(NULL);
}

TEST(cpus_time_barrier_relax)
{
	uint64_t t0 = kmm_plat_now_ns(), t1;

	expect_ge(kmm_plat_host_cpus(), 1);
	printf("  heavy barrier: %s\n", kmm_plat_heavy_barrier() ? "membarrier" : "unavailable");
	kmm_plat_heavy_barrier();
	kmm_plat_relax();
	t1 = kmm_plat_now_ns();
	expect_ge(t1, t0);
}

/* ---- log and abort ------------------------------------------------------ */

/* Run fn in a child with stderr on a pipe; returns the wait status. */
static int in_child(void (*fn)(void), char *out, size_t outsz)
{
	int fds[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, outsz - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void log_two_lines(void)
{
	kmm_plat_log("kmm: hello");
	kmm_plat_log("kmm: world");
}

static void abort_now(void)
{
	signal(SIGABRT, SIG_DFL);
	kmm_plat_abort("kmm: internal error: test");
}

TEST(log_and_abort)
{
	char out[256];
	int st;

	st = in_child(log_two_lines, out, sizeof(out));
	expect_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_str_eq(out, "kmm: hello\nkmm: world\n");

	st = in_child(abort_now, out, sizeof(out));
	expect_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	expect_true(strncmp(out, "kmm: internal error: test\n", 26) == 0);
}

TEST_MAIN()
