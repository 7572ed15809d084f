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
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include <kmm/kmm.h>
#include "mm/fork.h"

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

static int atfork_done;

TEST(fork_while_threads_allocate)
{
	char cmdline[256];
	const char *extra = getenv("KMM_TEST_BOOT");
	snprintf(cmdline, sizeof(cmdline), "mem=128M numa=2 cpus=8 backing=private zones=dma:16M,normal %s",
		 extra ? extra : "");
	assert_eq(kmm_boot(cmdline), 0);
	if (!atfork_done) {
		pthread_atfork(kmm_fork_prepare, kmm_fork_parent, kmm_fork_child);
		atfork_done = 1;
	}
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
	expect_eq(bad, 0);
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
