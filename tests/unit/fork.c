/*
 * tests/unit/fork.c - the core's fork entry points (src/mm/fork.c):
 * kmm_fork_prepare / _parent / _child as pthread_atfork handlers, forks
 * while other threads allocate (kmalloc, caches, pages, vmalloc), the child
 * allocates at once, passes kmm_check and gives back the other threads'
 * slots (MISUSE.md 34).  Both slab backends.
 */
/* kmm-test: backends */
/* kmm-test: timeout=120 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include <kmm/kmm.h>
#include "mm/fork.h"
#include "mm/internal.h"

static volatile int stop;

static void *worker(void *arg)
{
	unsigned long i = (unsigned long)arg;
	void *keep[16] = { 0 };
	struct kmem_cache *c = kmem_cache_create("fork-test", 72, 0, 0, NULL);
	while (!stop) {
		unsigned k = (unsigned)(i++ % 16);
		kfree(keep[k]);
		keep[k] = kmalloc(16 + (i * 37) % 3000, GFP_KERNEL);
		void *o = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, o);
		if (i % 64 == 0) {
			struct page *pg = alloc_pages(GFP_KERNEL, (unsigned)(i % 4));
			if (pg)
				__free_pages(pg, (unsigned)(i % 4));
			void *v = vmalloc(3 * 4096);
			vfree(v);
		}
	}
	for (int k = 0; k < 16; k++)
		kfree(keep[k]);
	kmem_cache_destroy(c);
	return NULL;
}

/* The handlers run only while a test wants them: fork_busy_slot_copied
 * calls the core's entry points itself, around a fork of its own. */
static int atfork_done, handlers_on;
static void on_prepare(void) { if (handlers_on) kmm_fork_prepare(); }
static void on_parent(void) { if (handlers_on) kmm_fork_parent(); }
static void on_child(void) { if (handlers_on) kmm_fork_child(); }

static void register_handlers(void)
{
	if (!atfork_done) {
		pthread_atfork(on_prepare, on_parent, on_child);
		atfork_done = 1;
	}
	handlers_on = 1;
}

TEST(fork_while_threads_allocate)
{
	char cmdline[256];
	const char *extra = getenv("KMM_TEST_BOOT");
	snprintf(cmdline, sizeof(cmdline), "mem=128M numa=2 cpus=8 backing=private zones=dma:16M,normal %s",
		 extra ? extra : "");
	assert_eq(kmm_boot(cmdline), 0);
	register_handlers();
	pthread_t t[3];
	stop = 0;
	for (unsigned long i = 0; i < 3; i++)
		assert_eq(pthread_create(&t[i], NULL, worker, (void *)(i * 7919)), 0);
	int bad = 0;
	for (int n = 0; n < 40; n++) {
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int j = 0; j < 500; j++) {
				void *p = kmalloc(16 + (size_t)j * 7, GFP_KERNEL);
				if (!p)
					_exit(3);
				kfree(p);
			}
			struct page *pg = alloc_pages(GFP_KERNEL, 2);
			if (!pg)
				_exit(4);
			__free_pages(pg, 2);
			kmm_drain_all();
			_exit(kmm_check() == 0 ? 0 : 5);
		}
		int st;
		assert_eq(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("  child %d: status %#x\n", n, st);
			bad++;
		}
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	handlers_on = 0;
	expect_eq(bad, 0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/*
 * An owner entering its fast path sets busy before it sees drain_pending
 * and backs out, so fork can copy a slot with busy = 1 whose thread the
 * child does not have.  Made deterministic here: a thread owns a slot and
 * waits; between prepare and fork its busy is set by hand.  The child
 * must drain every slot (kmm_drain_all waits for busy slots) and pass
 * kmm_check; alarm() turns the old hang into a failure.
 */
static pthread_barrier_t owner_bar;
static struct kmm_cpu *owner_slot;

static void *slot_owner(void *arg)
{
	(void)arg;
	kfree(kmalloc(64, GFP_KERNEL));
	owner_slot = kmm_cpu_get();
	pthread_barrier_wait(&owner_bar);	/* slot bound */
	pthread_barrier_wait(&owner_bar);	/* the fork is done */
	kfree(kmalloc(64, GFP_KERNEL));
	return NULL;
}

TEST(fork_busy_slot_copied)
{
	assert_eq(kmm_boot("mem=64M cpus=4 backing=private"), 0);
	handlers_on = 0;
	pthread_t t;
	assert_eq(pthread_barrier_init(&owner_bar, NULL, 2), 0);
	assert_eq(pthread_create(&t, NULL, slot_owner, NULL), 0);
	pthread_barrier_wait(&owner_bar);
	assert_true(owner_slot != NULL);

	kmm_fork_prepare();
	__atomic_store_n(&owner_slot->busy, 1, __ATOMIC_RELAXED);	/* the blink */
	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		kmm_fork_child();
		alarm(20);
		kmm_drain_all();
		void *p = kmalloc(100, GFP_KERNEL);
		if (!p)
			_exit(3);
		kfree(p);
		_exit(kmm_check() == 0 ? 0 : 5);
	}
	__atomic_store_n(&owner_slot->busy, 0, __ATOMIC_RELAXED);
	kmm_fork_parent();
	int st;
	assert_eq(waitpid(pid, &st, 0), pid);
	expect_true(WIFEXITED(st));
	if (WIFSIGNALED(st))
		printf("  child killed by signal %d (%s)\n", WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? "hung on the copied busy slot" : "crash");
	expect_eq(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);

	pthread_barrier_wait(&owner_bar);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&owner_bar);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(fork_handlers_unbooted)
{
	/* nothing booted: the handlers do nothing */
	kmm_fork_prepare();
	kmm_fork_parent();
	kmm_fork_prepare();
	kmm_fork_child();
}

TEST_MAIN()
