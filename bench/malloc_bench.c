/*
 * malloc_bench.c - kmm's malloc shim against glibc, jemalloc, tcmalloc and
 * mimalloc, side by side in one run (issue 5).
 *
 *   malloc_bench --workload NAME [--ms N]
 *       run one micro workload in this process, on whatever malloc it has
 *       (LD_PRELOAD picks it); prints "ns=<ns per op> ops=<n>".
 *   malloc_bench --compare --shim PATH [--runs N] [--ms N] [--quick]
 *                [--programs DIR [--only a,b]] [--workdir DIR] [--no-micro]
 *       the driver: every workload under every allocator (each run a fresh
 *       process with LD_PRELOAD; runs interleaved across allocators so
 *       drifting load hits all alike), medians of N runs (default 5), peak
 *       RSS from wait4; prints markdown tables of the medians and of kmm's
 *       ratios to each peer.  Macro workloads: the real-program scripts of
 *       tests/programs (DIR): setup once, then the "run" phase timed under
 *       each allocator (KMM_BENCH_PRELOAD), each run checked by "verify".
 *
 * Micro workloads (ns of thread CPU time per operation - user + system,
 * so that preemption on a shared machine does not count; an operation is
 * one malloc and one free unless said otherwise):
 *   pairs      malloc + free at once, sizes 16..256 in steps of 16
 *   batch      1000 mallocs (16..256), then 1000 frees, repeated
 *   mixed      a live working set of 8192 blocks, 8..4096 bytes (most
 *              small): each op frees a random block and allocates another,
 *              touching its first and last byte
 *   prodcons   one thread allocates 16..512 bytes in batches of 512,
 *              another frees them: cross-thread frees (ns per block: the
 *              CPU time of both threads)
 *   threads2   two threads, each running "mixed" on its own set (ns per op
 *              per thread)
 *   large      blocks of 64 KiB..4 MiB, a working set of 16: each op frees
 *              one and allocates another, writing one byte per page
 * Peers that are not installed are left out of the table, with a note.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SINK(p) __asm__ __volatile__("" : : "r"(p) : "memory")

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the calling thread (user + system): what a workload's
 * timings use, so that a thread preempted by another job on this shared
 * machine is not charged for the time it did not run. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* 8..4096, most small: 60% up to 128, 30% up to 1024, 10% up to 4096 */
static size_t mixed_size(uint64_t *s)
{
	uint64_t r = rnd(s);
	unsigned k = (unsigned)(r % 10);
	r >>= 8;
	if (k < 6)
		return 8 + r % 121;
	if (k < 9)
		return 129 + r % 896;
	return 1025 + r % 3072;
}

/* ---- micro workloads: each runs for about ms milliseconds ---- */

struct result {
	double ns;
	unsigned long ops;
};

static struct result w_pairs(double secs)
{
	unsigned long ops = 0;
	double t0 = cpu_s(), t;
	do {
		for (int i = 0; i < 100000; i++) {
			void *p = malloc(16 + (size_t)(i & 15) * 16);
			SINK(p);
			free(p);
		}
		ops += 100000;
	} while ((t = cpu_s()) - t0 < secs);
	return (struct result){ (t - t0) * 1e9 / (double)ops, ops };
}

static struct result w_batch(double secs)
{
	enum { N = 1000 };
	static void *v[N];
	unsigned long ops = 0;
	double t0 = cpu_s(), t;
	do {
		for (int r = 0; r < 100; r++) {
			for (int i = 0; i < N; i++) {
				v[i] = malloc(16 + (size_t)((i * 7) & 15) * 16);
				SINK(v[i]);
			}
			for (int i = 0; i < N; i++)
				free(v[i]);
		}
		ops += 100 * N;
	} while ((t = cpu_s()) - t0 < secs);
	return (struct result){ (t - t0) * 1e9 / (double)ops, ops };
}

struct mixed_arg {
	double secs;
	uint64_t seed;
	struct result res;
};

static void *mixed_thread(void *argp)
{
	struct mixed_arg *a = argp;
	enum { N = 8192 };
	char **v = calloc(N, sizeof(*v));
	uint64_t s = a->seed;
	for (int i = 0; i < N; i++) {
		size_t n = mixed_size(&s);
		v[i] = malloc(n);
		v[i][0] = v[i][n - 1] = 1;
	}
	unsigned long ops = 0;
	double t0 = cpu_s(), t;
	do {
		for (int i = 0; i < 50000; i++) {
			unsigned k = (unsigned)(rnd(&s) % N);
			free(v[k]);
			size_t n = mixed_size(&s);
			v[k] = malloc(n);
			v[k][0] = v[k][n - 1] = 1;
		}
		ops += 50000;
	} while ((t = cpu_s()) - t0 < a->secs);
	a->res = (struct result){ (t - t0) * 1e9 / (double)ops, ops };
	for (int i = 0; i < N; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static struct result w_mixed(double secs)
{
	struct mixed_arg a = { secs, 88172645463325252ULL, { 0, 0 } };
	mixed_thread(&a);
	return a.res;
}

static struct result w_threads2(double secs)
{
	struct mixed_arg a[2] = { { secs, 1234567, { 0, 0 } }, { secs, 7654321, { 0, 0 } } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mixed_thread, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return (struct result){ (a[0].res.ns + a[1].res.ns) / 2, a[0].res.ops + a[1].res.ops };
}

/* producer / consumer: the producer fills batches of BATCH blocks and
 * queues them (mutex + condition variable, QDEPTH batches at most); the
 * consumer frees every block of a batch.  ns per block = the CPU time of
 * both threads / blocks (waiting is not counted). */
#define BATCH 512
#define QDEPTH 8
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void **q[QDEPTH];
	unsigned long head, tail;	/* batches queued / taken */
	int stop;
	double consumer_cpu;
} pc = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, 0, 0 };

static void *consumer(void *arg)
{
	(void)arg;
	double c0 = cpu_s();
	for (;;) {
		pthread_mutex_lock(&pc.lock);
		while (pc.tail == pc.head && !pc.stop)
			pthread_cond_wait(&pc.cond, &pc.lock);
		if (pc.tail == pc.head && pc.stop) {
			pthread_mutex_unlock(&pc.lock);
			break;
		}
		void **batch = pc.q[pc.tail % QDEPTH];
		pc.tail++;
		pthread_cond_broadcast(&pc.cond);
		pthread_mutex_unlock(&pc.lock);
		for (int i = 0; i < BATCH; i++)
			free(batch[i]);
	}
	pc.consumer_cpu = cpu_s() - c0;
	return NULL;
}

static struct result w_prodcons(double secs)
{
	static void *batches[QDEPTH + 2][BATCH];	/* queued, being freed, being filled */
	unsigned long ops = 0, n = 0;
	pthread_t t;
	uint64_t s = 42;
	pc.head = pc.tail = 0;
	pc.stop = 0;
	pthread_create(&t, NULL, consumer, NULL);
	double t0 = cpu_s(), w0 = now_s();
	do {
		void **batch = batches[n++ % (QDEPTH + 2)];
		for (int i = 0; i < BATCH; i++) {
			char *p = malloc(16 + rnd(&s) % 497);
			p[0] = 1;
			batch[i] = p;
		}
		pthread_mutex_lock(&pc.lock);
		while (pc.head - pc.tail >= QDEPTH)
			pthread_cond_wait(&pc.cond, &pc.lock);
		pc.q[pc.head % QDEPTH] = batch;
		pc.head++;
		pthread_cond_broadcast(&pc.cond);
		pthread_mutex_unlock(&pc.lock);
		ops += BATCH;
	} while (cpu_s() - t0 < secs && now_s() - w0 < 20 * secs);
	double prod = cpu_s() - t0;
	pthread_mutex_lock(&pc.lock);
	pc.stop = 1;
	pthread_cond_broadcast(&pc.cond);
	pthread_mutex_unlock(&pc.lock);
	pthread_join(t, NULL);
	return (struct result){ (prod + pc.consumer_cpu) * 1e9 / (double)ops, ops };
}

static struct result w_large(double secs)
{
	enum { N = 16 };
	char *v[N] = { 0 };
	size_t sz[N] = { 0 };
	uint64_t s = 99;
	unsigned long ops = 0;
	double t0 = cpu_s(), t;
	do {
		for (int i = 0; i < 200; i++) {
			unsigned k = (unsigned)(rnd(&s) % N);
			free(v[k]);
			/* 64 KiB .. 4 MiB, log-uniform */
			size_t n = (size_t)65536 << (rnd(&s) % 7);
			n += rnd(&s) % n;
			if (n > (4u << 20))
				n = 4u << 20;
			v[k] = malloc(n);
			sz[k] = n;
			for (size_t o = 0; o < n; o += 4096)
				v[k][o] = 1;
		}
		ops += 200;
	} while ((t = cpu_s()) - t0 < secs);
	for (int i = 0; i < N; i++)
		free(v[i]);
	(void)sz;
	return (struct result){ (t - t0) * 1e9 / (double)ops, ops };
}

static const struct {
	const char *name;
	struct result (*fn)(double secs);
	const char *what;
} workloads[] = {
	{ "pairs", w_pairs, "malloc+free pairs, 16-256 B" },
	{ "batch", w_batch, "1000 mallocs then 1000 frees, 16-256 B" },
	{ "mixed", w_mixed, "8-4096 B, 8192 live blocks, random replace" },
	{ "prodcons", w_prodcons, "producer mallocs, consumer frees, batches of 512 (2 threads)" },
	{ "threads2", w_threads2, "2 threads, each mixed on its own set" },
	{ "large", w_large, "64 KiB-4 MiB blocks, 16 live, 1 byte per page written" },
};

static int run_workload(const char *name, double secs)
{
	for (unsigned i = 0; i < ARRAY_SIZE(workloads); i++) {
		if (strcmp(workloads[i].name, name))
			continue;
		workloads[i].fn(secs / 10);	/* warm-up */
		struct result r = workloads[i].fn(secs);
		printf("ns=%.3f ops=%lu\n", r.ns, r.ops);
		return 0;
	}
	fprintf(stderr, "malloc_bench: no workload %s\n", name);
	return 2;
}

/* ---- the driver ---- */

struct alloc {
	const char *name;
	char path[512];		/* "" for glibc (nothing preloaded) */
	int present;
};

static struct alloc allocs[] = {
	{ "glibc", "", 1 },
	{ "jemalloc", "", 0 },
	{ "tcmalloc", "", 0 },
	{ "mimalloc", "", 0 },
	{ "kmm", "", 0 },
};
#define NR_ALLOCS ((int)ARRAY_SIZE(allocs))
#define KMM (NR_ALLOCS - 1)

static const char *const peer_libs[][4] = {
	{ "jemalloc", "libjemalloc.so.2", "libjemalloc.so", NULL },
	{ "tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc.so.4", NULL },
	{ "mimalloc", "libmimalloc.so.2", "libmimalloc.so", NULL },
};

static void find_peers(void)
{
	const char *dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
			       "/usr/local/lib" };
	for (unsigned p = 0; p < ARRAY_SIZE(peer_libs); p++) {
		struct alloc *a = &allocs[p + 1];
		for (unsigned d = 0; d < ARRAY_SIZE(dirs) && !a->present; d++)
			for (int l = 1; peer_libs[p][l] && !a->present; l++) {
				snprintf(a->path, sizeof(a->path), "%s/%s", dirs[d], peer_libs[p][l]);
				a->present = access(a->path, R_OK) == 0;
			}
	}
}

struct sample {
	double ns;	/* micro: ns per op; macro: seconds */
	long rss_kb;
	int ok;
};

/* fork + exec argv with LD_PRELOAD=preload (NULL: leave the environment),
 * optionally setting KMM_BENCH_PRELOAD instead; capture stdout. */
static int spawn(char *const argv[], const char *preload, int bench_var, char *out, size_t outlen, double *secs,
		 long *rss_kb)
{
	int pfd[2];
	if (pipe(pfd))
		return -1;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (bench_var) {
			setenv("KMM_BENCH_PRELOAD", preload, 1);
			unsetenv("LD_PRELOAD");
		} else if (*preload) {
			setenv("LD_PRELOAD", preload, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(pfd[0], out + len, outlen - 1 - len)) > 0 && len + 1 < outlen)
		len += (size_t)n;
	out[len] = 0;
	while (read(pfd[0], (char[256]){ 0 }, 256) > 0)
		;
	close(pfd[0]);
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	*secs = now_s() - t0;
	*rss_kb = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_RUNS 31
#define MAX_ROWS 32

struct row {
	char name[32];
	char what[96];
	int macro;
	struct sample s[NR_ALLOCS][MAX_RUNS];
	double t_med[NR_ALLOCS], rss_med[NR_ALLOCS];
	int failed[NR_ALLOCS];
};

static struct row rows[MAX_ROWS];
static int nrows;

static void finish_row(struct row *r, int runs)
{
	for (int a = 0; a < NR_ALLOCS; a++) {
		double t[MAX_RUNS], m[MAX_RUNS];
		int n = 0;
		if (!allocs[a].present)
			continue;
		for (int i = 0; i < runs; i++)
			if (r->s[a][i].ok) {
				t[n] = r->s[a][i].ns;
				m[n++] = (double)r->s[a][i].rss_kb;
			} else {
				r->failed[a]++;
			}
		r->t_med[a] = n ? median(t, n) : 0;
		r->rss_med[a] = n ? median(m, n) : 0;
	}
}

static void print_tables(int runs, const char *shim)
{
	printf("## malloc shim vs the peers (malloc_bench --compare)\n\n");
	printf("Medians of %d runs, each in a fresh process (LD_PRELOAD; glibc: nothing preloaded), runs "
	       "interleaved across allocators.  kmm: %s.\n", runs, shim);
	for (int a = 1; a < NR_ALLOCS; a++)
		printf("%s%s: %s", a == 1 ? "Peers: " : "; ", allocs[a].name,
		       allocs[a].present ? allocs[a].path : "not installed (left out)");
	printf(".\n\n");
	for (int pass = 0; pass < 2; pass++) {
		int macro = pass;
		int any = 0;
		for (int i = 0; i < nrows; i++)
			any |= rows[i].macro == macro;
		if (!any)
			continue;
		printf("### %s: %s\n\n", macro ? "real programs" : "micro workloads",
		       macro ? "wall time of the run phase (s), peak RSS of the largest process (MiB)"
			     : "ns per operation, peak RSS (MiB)");
		printf("| workload |");
		for (int a = 0; a < NR_ALLOCS; a++)
			if (allocs[a].present)
				printf(" %s |", allocs[a].name);
		printf(" kmm / fastest | kmm RSS / smallest |\n|---|");
		for (int a = 0; a < NR_ALLOCS; a++)
			if (allocs[a].present)
				printf("---:|");
		printf("---:|---:|\n");
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];
			if (r->macro != macro)
				continue;
			printf("| %s |", r->name);
			double best = 0, small = 0;
			const char *bestn = "", *smalln = "";
			for (int a = 0; a < NR_ALLOCS; a++) {
				if (!allocs[a].present)
					continue;
				if (r->failed[a] && !r->t_med[a]) {
					printf(" FAILED |");
					continue;
				}
				printf(macro ? " %.3f s, %.1f |" : " %.2f, %.1f |", r->t_med[a], r->rss_med[a] / 1024);
				if (a != KMM && r->t_med[a] > 0 && (!best || r->t_med[a] < best))
					best = r->t_med[a], bestn = allocs[a].name;
				if (a != KMM && r->rss_med[a] > 0 && (!small || r->rss_med[a] < small))
					small = r->rss_med[a], smalln = allocs[a].name;
			}
			if (allocs[KMM].present && best > 0 && r->t_med[KMM] > 0)
				printf(" %.2fx (%s) | %.2fx (%s) |\n", r->t_med[KMM] / best, bestn, r->rss_med[KMM] / small,
				       smalln);
			else
				printf(" - | - |\n");
		}
		printf("\n");
		/* ratios against each peer */
		printf("kmm / peer (time; peak RSS), < 1 means kmm is faster / smaller:\n\n| workload |");
		for (int a = 0; a < KMM; a++)
			if (allocs[a].present)
				printf(" vs %s |", allocs[a].name);
		printf("\n|---|");
		for (int a = 0; a < KMM; a++)
			if (allocs[a].present)
				printf("---:|");
		printf("\n");
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];
			if (r->macro != macro)
				continue;
			printf("| %s |", r->name);
			for (int a = 0; a < KMM; a++) {
				if (!allocs[a].present)
					continue;
				if (r->t_med[a] > 0 && r->t_med[KMM] > 0)
					printf(" %.2f; %.2f |", r->t_med[KMM] / r->t_med[a], r->rss_med[KMM] / r->rss_med[a]);
				else
					printf(" - |");
			}
			printf("\n");
		}
		printf("\n");
	}
	for (int i = 0; i < nrows; i++)
		for (int a = 0; a < NR_ALLOCS; a++)
			if (rows[i].failed[a])
				printf("- %s under %s: %d of %d runs failed (crash or wrong result)\n", rows[i].name,
				       allocs[a].name, rows[i].failed[a], runs);
}

static int compare(int argc, char **argv)
{
	const char *shim = NULL, *progdir = NULL, *only = NULL, *workdir = "/tmp/kmm-malloc-bench";
	int runs = 5, micro = 1;
	double ms = 300;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--shim") && i + 1 < argc)
			shim = argv[++i];
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ms") && i + 1 < argc)
			ms = atof(argv[++i]);
		else if (!strcmp(argv[i], "--quick"))
			runs = 3, ms = 60;
		else if (!strcmp(argv[i], "--programs") && i + 1 < argc)
			progdir = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--workdir") && i + 1 < argc)
			workdir = argv[++i];
		else if (!strcmp(argv[i], "--no-micro"))
			micro = 0;
		else {
			fprintf(stderr, "malloc_bench: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	find_peers();
	if (shim && access(shim, R_OK) == 0) {
		if (realpath(shim, allocs[KMM].path))
			allocs[KMM].present = 1;
	} else {
		fprintf(stderr, "malloc_bench: no shim (--shim PATH): kmm left out\n");
	}
	char self[512];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return 2;
	self[sl] = 0;
	char msbuf[32], out[4096];
	snprintf(msbuf, sizeof(msbuf), "%g", ms);

	if (micro) {
		for (unsigned w = 0; w < ARRAY_SIZE(workloads); w++) {
			struct row *r = &rows[nrows++];
			snprintf(r->name, sizeof(r->name), "%s", workloads[w].name);
			snprintf(r->what, sizeof(r->what), "%s", workloads[w].what);
			for (int i = 0; i < runs; i++)
				for (int a = 0; a < NR_ALLOCS; a++) {
					if (!allocs[a].present)
						continue;
					char *args[] = { self, "--workload", (char *)workloads[w].name, "--ms", msbuf, NULL };
					double secs;
					long rss;
					int rc = spawn(args, allocs[a].path, 0, out, sizeof(out), &secs, &rss);
					char *ns = strstr(out, "ns=");
					struct sample *s = &r->s[a][i];
					s->ok = rc == 0 && ns;
					s->ns = s->ok ? atof(ns + 3) : 0;
					s->rss_kb = rss;
					fprintf(stderr, "malloc_bench: %-9s %-9s run %d: %s\n", workloads[w].name, allocs[a].name,
						i + 1, s->ok ? out : "FAILED\n");
				}
			finish_row(r, runs);
		}
	}
	if (progdir) {
		const char *progs[] = { "sqlite3", "perl", "git", "python3", "gcc", "redis", "cxx" };
		for (unsigned p = 0; p < ARRAY_SIZE(progs) && nrows < MAX_ROWS; p++) {
			if (only && !strstr(only, progs[p]))
				continue;
			char script[1024], work[1024], cmd[4096];
			snprintf(script, sizeof(script), "%s/%s.sh", progdir, progs[p]);
			snprintf(work, sizeof(work), "%s/%s", workdir, progs[p]);
			if (access(script, R_OK))
				continue;
			snprintf(cmd, sizeof(cmd), "sh '%s' '%s' '%s' setup >'%s.setup.log' 2>&1", script,
				 allocs[KMM].present ? allocs[KMM].path : "/dev/null", work, work);
			char mk[1100];
			snprintf(mk, sizeof(mk), "mkdir -p '%s'", workdir);
			if (system(mk) != 0)
				return 2;
			int rc = system(cmd);
			if (rc != 0) {
				fprintf(stderr, "malloc_bench: %s: setup failed or skipped (see %s.setup.log)\n", progs[p], work);
				printf("- %s: not measured (setup exited %d: %s.setup.log)\n", progs[p], rc, work);
				continue;
			}
			struct row *r = &rows[nrows++];
			snprintf(r->name, sizeof(r->name), "%s", progs[p]);
			r->macro = 1;
			for (int i = 0; i < runs; i++)
				for (int a = 0; a < NR_ALLOCS; a++) {
					if (!allocs[a].present)
						continue;
					char *args[] = { "sh", script, (char *)(allocs[KMM].present ? allocs[KMM].path : "/dev/null"),
							 work, "run", NULL };
					double secs;
					long rss;
					int prc = spawn(args, allocs[a].path, 1, out, sizeof(out), &secs, &rss);
					snprintf(cmd, sizeof(cmd), "sh '%s' '%s' '%s' verify >'%s.verify.log' 2>&1", script,
						 allocs[KMM].present ? allocs[KMM].path : "/dev/null", work, work);
					int vrc = prc == 0 ? system(cmd) : -1;
					struct sample *s = &r->s[a][i];
					s->ok = prc == 0 && vrc == 0;
					s->ns = secs;
					s->rss_kb = rss;
					fprintf(stderr, "malloc_bench: %-9s %-9s run %d: %.3f s, %ld kB%s\n", progs[p], allocs[a].name,
						i + 1, secs, rss, s->ok ? "" : " FAILED");
				}
			finish_row(r, runs);
		}
	}
	print_tables(runs, allocs[KMM].present ? allocs[KMM].path : "(not found)");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--workload")) {
		double ms = 300;
		if (argc >= 5 && !strcmp(argv[3], "--ms"))
			ms = atof(argv[4]);
		return run_workload(argv[2], ms / 1000);
	}
	if (argc >= 2 && !strcmp(argv[1], "--compare"))
		return compare(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: %s --workload NAME [--ms N]\n"
		"       %s --compare --shim PATH [--runs N] [--ms N] [--quick] [--programs DIR [--only a,b]] "
		"[--workdir DIR] [--no-micro]\n",
		argv[0], argv[0]);
	return 2;
}
