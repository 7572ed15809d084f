/* kmm-test: backends */
/* kmm-test: threaded */
/* kmm-test: timeout=300 */
/*
 * tests/unit/misuse_os.c - MISUSE.md cases 32-37: threads, fork, signals,
 * recovery after exhaustion, the host refusing memory.
 *
 *   32  1000 short-lived threads each leave objects and pages in their CPU
 *       slot; their exit gives everything back (no kmm_drain_all needed).
 *   33  objects allocated by a thread that has exited are freed by another.
 *   34  fork() while other threads allocate, 100 times: the child allocates
 *       at once and exits cleanly (the core's pthread_atfork handlers,
 *       src/mm/fork.c, as the malloc shim registers them).
 *   35  kmm is not async-signal-safe (as malloc): a handler may use it while
 *       its thread is outside kmm; with the lock validator on, a handler
 *       that re-enters kmm under a lock its thread holds is reported as
 *       "lock order" instead of deadlocking.
 *   36  after every layer was exhausted and released, everything works again
 *       and every counter is back at its baseline.
 *   37  RLIMIT_AS makes the host refuse memory: kmm_boot and the layers
 *       return -ENOMEM / NULL, never abort, leave nothing behind, and work
 *       again once the limit is lifted.
 */
#include <sys/resource.h>
#include <signal.h>

#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "misuse_helpers.h"
#include "mm/slab.h"
#if __has_include("mm/fork.h")
#include "mm/fork.h"
#define HAVE_FORK_HOOKS 1
#endif

#define SCALE(n) (KT_SANITIZED ? (n) / 5 : (n))

/* ------------------------------------------------------------------ */
/* 32. exiting threads give their cached objects and pages back         */
/* ------------------------------------------------------------------ */

static struct kmem_cache *c32;

static void *short_lived(void *arg)
{
	void *o[8], *k[8];
	struct page *p[4];
	for (int i = 0; i < 8; i++) {
		o[i] = kmem_cache_alloc(c32, GFP_KERNEL);
		k[i] = kmalloc(32 + 24 * (size_t)i, GFP_KERNEL);
	}
	for (int i = 0; i < 4; i++)
		p[i] = alloc_page(GFP_KERNEL);
	/* freed into this thread's slot: the array caches and pcp lists keep them */
	for (int i = 0; i < 8; i++) {
		kmem_cache_free(c32, o[i]);
		kfree(k[i]);
	}
	for (int i = 0; i < 4; i++)
		__free_page(p[i]);
	return arg;
}

static void c32_threads(void)
{
	c32 = kmem_cache_create("mc-exit", 72, 0, 0, NULL);
	unsigned long pcp0 = wb_all_pcp_pages();	/* this thread's slot */
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	enum { BATCH = 8 };
	int total = SCALE(1000);
	for (int done = 0; done < total; done += BATCH) {
		pthread_t t[BATCH];
		for (int i = 0; i < BATCH; i++)
			assert_eq(pthread_create(&t[i], NULL, short_lived, NULL), 0);
		for (int i = 0; i < BATCH; i++)
			pthread_join(t[i], NULL);
	}
	mc_end();
	/* no drain: the exits gave everything back */
	struct sh_row r = sh_slabinfo("mc-exit");
	if (!sh_slob())
		expect_eq(r.active_objs, 0);
	expect_eq(wb_all_pcp_pages(), pcp0);
	kmem_cache_destroy(c32);
}

TEST(case_32_thread_exit_returns_cached_objects)
{
	mc_run("1000 short-lived threads", c32_threads, "cpus=4");
}

/* ------------------------------------------------------------------ */
/* 33. allocated in thread A, freed in thread B after A exited          */
/* ------------------------------------------------------------------ */

#define N33 512
struct c33_set {
	struct kmem_cache *c;
	void *obj[N33];
	void *km[N33];
	struct page *pg[64];
	void *vm[8];
};

static void fill(void *p, size_t n, unsigned seed)
{
	unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(seed * 131 + i);
}

static bool intact(const void *p, size_t n, unsigned seed)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)(seed * 131 + i))
			return false;
	return true;
}

static void *c33_alloc(void *arg)
{
	struct c33_set *s = arg;
	for (int i = 0; i < N33; i++) {
		s->obj[i] = kmem_cache_alloc(s->c, GFP_KERNEL);
		s->km[i] = kmalloc(16 + (size_t)(i % 50) * 40, GFP_KERNEL);
		if (s->obj[i])
			fill(s->obj[i], 100, (unsigned)i);
		if (s->km[i])
			fill(s->km[i], 16, (unsigned)i + 7);
	}
	for (int i = 0; i < 64; i++)
		s->pg[i] = alloc_pages(GFP_KERNEL, (unsigned)(i % 3));
	for (int i = 0; i < 8; i++) {
		s->vm[i] = vmalloc(3 * PAGE_SIZE);
		if (s->vm[i])
			fill(s->vm[i], 3 * PAGE_SIZE, (unsigned)i);
	}
	return NULL;
}

static void *c33_free(void *arg)
{
	struct c33_set *s = arg;
	for (int i = 0; i < N33; i++) {
		expect_true(s->obj[i] && intact(s->obj[i], 100, (unsigned)i));
		expect_true(s->km[i] && intact(s->km[i], 16, (unsigned)i + 7));
		kmem_cache_free(s->c, s->obj[i]);
		kfree(s->km[i]);
	}
	for (int i = 0; i < 64; i++)
		__free_pages(s->pg[i], (unsigned)(i % 3));
	for (int i = 0; i < 8; i++) {
		expect_true(s->vm[i] && intact(s->vm[i], 3 * PAGE_SIZE, (unsigned)i));
		vfree(s->vm[i]);
	}
	return NULL;
}

static void c33_cross(void)
{
	static struct c33_set s;
	memset(&s, 0, sizeof(s));
	s.c = kmem_cache_create("mc-cross", 100, 0, 0, NULL);
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	for (int round = 0; round < 4; round++) {
		pthread_t a, b;
		pthread_create(&a, NULL, c33_alloc, &s);
		pthread_join(a, NULL);	/* A is gone */
		pthread_create(&b, NULL, c33_free, &s);
		pthread_join(b, NULL);
	}
	mc_end();
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(s.c);
}

TEST(case_33_free_after_the_allocating_thread_exited)
{
	mc_run("A allocates and exits, B frees", c33_cross, "cpus=4");
}

/* ------------------------------------------------------------------ */
/* 34. fork while other threads are inside the allocator                */
/* ------------------------------------------------------------------ */

static int c34_stop;

static void *c34_churn(void *arg)
{
	struct kmem_cache *c = arg;
	unsigned long n = 0;
	while (!__atomic_load_n(&c34_stop, __ATOMIC_RELAXED)) {
		void *o = kmem_cache_alloc(c, GFP_KERNEL);
		void *k = kmalloc(8 + n % 3000, GFP_KERNEL);
		struct page *p = alloc_pages(GFP_KERNEL, (unsigned)(n % 3));
		void *v = (n % 16) == 0 ? vmalloc(2 * PAGE_SIZE) : NULL;
		kmem_cache_free(c, o);
		kfree(k);
		if (p)
			__free_pages(p, (unsigned)(n % 3));
		vfree(v);
		n++;
	}
	return NULL;
}

TEST(case_34_fork_while_threads_allocate)
{
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer's own runtime is not fork-safe with live threads: a
	 * child can hang inside it.  The normal and ASan builds run this. */
	skip_test("fork() with live threads is not supported under ThreadSanitizer");
#elif !defined(HAVE_FORK_HOOKS)
	skip_test("no src/mm/fork.h (the core's fork handlers) in this tree");
#else
	static bool registered;
	if (!registered) {
		/* what the malloc shim registers */
		pthread_atfork(kmm_fork_prepare, kmm_fork_parent, kmm_fork_child);
		registered = true;
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "mem=64M numa=1 cpus=4 backing=private on_error=abort %s", sh_extra());
	assert_eq(kt_boot(cmd), 0);
	struct kmem_cache *c = kmem_cache_create("mc-fork", 96, 0, 0, NULL);
	pthread_t t[3];
	c34_stop = 0;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, c34_churn, c);
	int reps = SCALE(100), ok = 0;
	for (int r = 0; r < reps; r++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(20);	/* a deadlock kills the child */
			void *o = kmem_cache_alloc(c, GFP_KERNEL);
			void *k = kmalloc(200, GFP_KERNEL);
			struct page *p = alloc_pages(GFP_KERNEL, 1);
			void *v = vmalloc(4 * PAGE_SIZE);
			int bad = !o || !k || !p || !v;
			if (v)
				memset(v, 1, 4 * PAGE_SIZE);
			kmem_cache_free(c, o);
			kfree(k);
			__free_pages(p, 1);
			vfree(v);
			kmm_drain_all();
			bad |= kmm_check() != 0;
			_exit(bad);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
		else
			printf("    fork %d: child status %#x\n", r, status);
	}
	__atomic_store_n(&c34_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	expect_eq(ok, reps);
	expect_eq(kmm_check(), 0);
	kmem_cache_destroy(c);
	kmm_shutdown();
#endif
}

/* ------------------------------------------------------------------ */
/* 35. signal handlers                                                  */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t in_kmm, handled;

static void handler_uses_kmm(int sig)
{
	(void)sig;
	if (in_kmm)
		return;	/* the documented rule: not while the thread is inside kmm */
	void *p = kmalloc(48, GFP_ATOMIC);
	struct page *pg = alloc_page(GFP_ATOMIC);
	if (p)
		memset(p, 0x5c, 48);
	kfree(p);
	if (pg)
		__free_page(pg);
	handled++;
}

static void *signaller(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	for (int i = 0; i < SCALE(2000); i++) {
		pthread_kill(target, SIGUSR1);
		if (i % 64 == 0)
			sleep_ms(1);
	}
	return NULL;
}

static void c35_outside(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = handler_uses_kmm;
	sigaction(SIGUSR1, &sa, NULL);
	handled = 0;
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	pthread_t self = pthread_self(), t;
	pthread_create(&t, NULL, signaller, &self);
	for (int i = 0; i < SCALE(20000); i++) {
		in_kmm = 1;
		char *p = kmalloc(64 + (size_t)(i % 200), GFP_KERNEL);
		in_kmm = 0;
		if (p)
			memset(p, 0x33, 64);
		in_kmm = 1;
		kfree(p);
		in_kmm = 0;
	}
	pthread_join(t, NULL);
	mc_end();
	signal(SIGUSR1, SIG_DFL);
	printf("    %d handlers ran kmalloc/alloc_page\n", (int)handled);
}

/* the re-entry lockdep catches: a handler allocating while its thread holds
 * the zone lock (pcp=off: every allocation takes it) */
static void handler_reenters(int sig)
{
	(void)sig;
	struct page *p = alloc_page(GFP_ATOMIC);
	if (p)
		__free_page(p);
}

static void c35_reentry(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = handler_reenters;
	sigaction(SIGUSR1, &sa, NULL);
	struct zone *z = &NODE_DATA(0)->node_zones[ZONE_NORMAL];
	if (mc_report_mode()) {
		/* report mode would go on and take the lock: a real deadlock.
		 * Only the abort run (the child) provokes it. */
		mc_begin(MC_SILENT, NULL);
		mc_end();
		signal(SIGUSR1, SIG_DFL);
		return;
	}
	kmm_lock(&z->lock, KMM_LC_ZONE);
	mc_begin(MC_MISUSE, "kmm: lock order: zone lock %p taken twice by one thread (held since it was taken as zone lock)",
		 (void *)&z->lock);
	raise(SIGUSR1);
	mc_end();
	kmm_unlock(&z->lock);
}

TEST(case_35_signal_handlers)
{
	mc_run("handler uses kmm while its thread is outside", c35_outside, "cpus=2");
	mc_run("handler re-enters under the zone lock (lockdep)", c35_reentry, "cpus=1 pcp=off lockdep=on");
}

/* ------------------------------------------------------------------ */
/* 36. recovery after exhaustion                                        */
/* ------------------------------------------------------------------ */

static void c36_exhaust(void)
{
	struct kmem_cache *c = kmem_cache_create("mc-oom", 1000, 0, 0, NULL);
	unsigned long free0 = nr_free_pages();
	mc_begin(MC_SILENT, NULL);
	mc.changes_state = true;
	for (int round = 0; round < 2; round++) {
		/* objects until the machine is full, then pages, then vmalloc */
		size_t cap = 1 << 16, n = 0, nk = 0, nv = 0;
		void **o = malloc(cap * sizeof(void *)), **k = malloc(cap * sizeof(void *)), **v = malloc(4096 * sizeof(void *));
		while (n < cap && (o[n] = kmem_cache_alloc(c, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)))
			n++;
		while (nk < cap && (k[nk] = kmalloc(3000, GFP_ATOMIC | __GFP_NOWARN)))
			nk++;
		struct blist b = { 0 };
		exhaust(&b, -1, GFP_TAKE_ALL | __GFP_HIGHMEM, MAX_PAGE_ORDER);
		while (nv < 4096 && (v[nv] = kmm_vmalloc_caller(PAGE_SIZE, GFP_KERNEL | __GFP_HIGHMEM | __GFP_NORETRY |
							      __GFP_NOWARN, -1, NULL)))
			nv++;
		expect_gt(n, 0);
		expect_null(alloc_page(GFP_ATOMIC | __GFP_NOWARN));
		/* release everything */
		for (size_t i = 0; i < nv; i++)
			vfree(v[i]);
		blist_free_all(&b);
		blist_release(&b);
		for (size_t i = 0; i < nk; i++)
			kfree(k[i]);
		for (size_t i = 0; i < n; i++)
			kmem_cache_free(c, o[i]);
		free(o), free(k), free(v);
		/* no sticky failure: every layer serves again */
		void *x = kmem_cache_alloc(c, GFP_KERNEL), *y = kmalloc(5000, GFP_KERNEL), *z = vmalloc(1 << 20);
		struct page *p = alloc_pages(GFP_KERNEL, 4);
		expect_nonnull(x);
		expect_nonnull(y);
		expect_nonnull(z);
		expect_nonnull(p);
		kmem_cache_free(c, x), kfree(y), vfree(z), __free_pages(p, 4);
		kmm_drain_all();
		expect_eq(nr_free_pages(), free0);	/* the baseline, every round */
	}
	mc_end();
	kmem_cache_destroy(c);
}

TEST(case_36_recovery_after_exhaustion)
{
	mc_run("every layer exhausted and released, twice", c36_exhaust, "");
}

/* ------------------------------------------------------------------ */
/* 37. the host refuses memory (RLIMIT_AS)                              */
/* ------------------------------------------------------------------ */

static void c37_in_child(void)
{
	struct rlimit old, lim;
	kmm_shutdown();
	logcap_start();	/* warm up: the capture's own allocations come first */
	logcap_stop();
	free(strdup("warm up"));
	int fds0 = fd_count(), maps0 = maps_count();
	getrlimit(RLIMIT_AS, &old);
	long vm_kb = proc_status_kb("VmSize");
	lim.rlim_cur = (rlim_t)vm_kb * 1024 + (64UL << 20);	/* 64 MiB more than now */
	lim.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_AS, &lim))
		_exit(10);
	logcap_start();
	int rc = kmm_boot("mem=4G numa=1 on_error=abort");	/* cannot be reserved */
	logcap_stop();
	if (rc != -KMM_ENOMEM)
		_exit(11);
	if (!logcap_find("kmm: boot:"))
		_exit(12);
	if (fd_count() != fds0 || maps_count() != maps0)	/* nothing left behind */
		_exit(13);
	/* a machine that fits boots; its big requests fail cleanly */
	if (kmm_boot("mem=16M numa=1 on_error=abort vmalloc=8M"))
		_exit(14);
	void *v = vmalloc(16 << 20);	/* more than the machine: NULL, no abort */
	if (v)
		_exit(15);
	kmm_shutdown();
	/* the limit lifted: everything works again */
	setrlimit(RLIMIT_AS, &old);
	if (kmm_boot("mem=1G numa=1 on_error=abort"))
		_exit(16);
	void *p = vmalloc(64 << 20);
	if (!p)
		_exit(17);
	memset(p, 1, 64 << 20);
	vfree(p);
	if (kmm_check())
		_exit(18);
	kmm_shutdown();
	_exit(0);
}

TEST(case_37_host_refuses_memory)
{
	if (KT_SANITIZED)
		skip_test("sanitizers reserve large shadow mappings: RLIMIT_AS cannot be applied");
	kmm_shutdown();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		c37_in_child();
	int status = 0;
	waitpid(pid, &status, 0);
	expect_true(WIFEXITED(status));
	expect_eq(WEXITSTATUS(status), 0);
}

TEST_MAIN()
