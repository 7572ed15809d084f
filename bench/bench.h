/*
 * bench.h - what page_bench.c and slab_bench.c share: a monotonic clock,
 * a run harness (N threads, warm-up, barrier, timed loop, median of runs),
 * calibration of the iteration count to a target run length, the machine
 * description for the results, and callgrind client requests.
 *
 * Benchmarks link kmm_static and use only the public headers.  They are
 * never part of `make test`; `make bench` builds them in Release in
 * build-bench/ and runs them (bench/run.sh).
 *
 * Method
 *   - A *case* is one loop body (for example one alloc_pages + __free_pages
 *     pair) run by T threads, each on its own objects.
 *   - calibrate() runs the body single-threaded with growing counts until a
 *     run lasts >= 20 ms, then scales the count to the target run length
 *     (--ms, default 150 ms).
 *   - A run: spawn T threads; each warms up (1/10 of the count, at least
 *     1000 iterations: per-CPU lists and array caches fill), waits on a
 *     barrier, times its loop with CLOCK_MONOTONIC and reports ns per
 *     iteration; the run's figure is the mean over the threads.  New
 *     threads per run: each binds a fresh CPU slot and drains it when it
 *     exits, so runs do not inherit each other's caches.
 *   - The figure printed is the median of --runs runs (default 5).
 */
#ifndef KMM_BENCH_H
#define KMM_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
/* Without the header, bench/callgrind.sh falls back to
 * --toggle-collect=bench_measured_loop (the function every case's timed
 * loop runs in). */
#define BENCH_HAVE_CALLGRIND 0
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#define CALLGRIND_ZERO_STATS do { } while (0)
#endif

#define BENCH_MAX_THREADS 8
#define BENCH_MAX_RUNS 31

/* Keep a value alive and opaque to the optimiser. */
#define bench_keep(x) __asm__ __volatile__("" : : "r"(x) : "memory")

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ------------------------------------------------------------------ */
/* Options every bench takes                                           */
/* ------------------------------------------------------------------ */

struct bench_opts {
	double target_ms;	/* length of one timed run */
	int runs;		/* runs per case; the median is reported */
	int max_threads;	/* 1 or 2 (the brief's cases) */
	int pin;		/* pin thread i to CPU i % nproc */
	int verbose;		/* every run's figure on stderr */
	const char *boot;	/* base kmm_boot command line */
	const char *cases[64];	/* --case NAME (repeatable): only these cases */
	int nr_cases;
	const char *cg_case;	/* --callgrind-case NAME: one case under callgrind */
	long cg_iters;		/* --iters N: its iterations */
};

static struct bench_opts bench_opt = {
	.target_ms = 150, .runs = 5, .max_threads = 2, .pin = 0, .verbose = 0, .boot = NULL,
	.cg_iters = 100000,
};

/* ------------------------------------------------------------------ */
/* The run harness                                                     */
/* ------------------------------------------------------------------ */

/*
 * A case body: run `iters` iterations for thread `tid` of `nthreads`.
 * bench_measured_loop() is the one function the timed loop runs in (the
 * name callgrind.sh's fallback toggles on).
 */
typedef void (*bench_body_fn)(void *ctx, int tid, long iters);

/* Per-thread setup/teardown around the runs (allocate the live set, free it);
 * optional. */
typedef void (*bench_thread_fn)(void *ctx, int tid);

struct bench_case {
	const char *name;
	bench_body_fn body;
	bench_thread_fn setup, teardown;	/* outside the timed loop */
	void *ctx;
};

__attribute__((noinline)) void bench_measured_loop(const struct bench_case *c, int tid, long iters);
__attribute__((noinline)) void bench_measured_loop(const struct bench_case *c, int tid, long iters)
{
	c->body(c->ctx, tid, iters);
}

struct bench_thread_arg {
	const struct bench_case *c;
	int tid, nthreads;
	long iters, warmup;
	pthread_barrier_t *barrier;
	double ns_per_iter;
};

static void bench_pin_self(int tid)
{
#ifdef __linux__
	if (!bench_opt.pin)
		return;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET((int)(tid % n), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
	(void)tid;
#endif
}

static void *bench_thread_main(void *p)
{
	struct bench_thread_arg *a = p;
	bench_pin_self(a->tid);
	if (a->c->setup)
		a->c->setup(a->c->ctx, a->tid);
	if (a->warmup)
		a->c->body(a->c->ctx, a->tid, a->warmup);
	pthread_barrier_wait(a->barrier);
	uint64_t t0 = bench_now_ns();
	bench_measured_loop(a->c, a->tid, a->iters);
	uint64_t t1 = bench_now_ns();
	a->ns_per_iter = (double)(t1 - t0) / (double)a->iters;
	/* wait until every thread finished timing before anyone tears down
	 * (a teardown's frees would disturb a thread still measuring) */
	pthread_barrier_wait(a->barrier);
	if (a->c->teardown)
		a->c->teardown(a->c->ctx, a->tid);
	return NULL;
}

/* One run: nthreads fresh threads; returns the mean ns per iteration. */
static double bench_run_once(const struct bench_case *c, int nthreads, long iters)
{
	pthread_t th[BENCH_MAX_THREADS];
	struct bench_thread_arg arg[BENCH_MAX_THREADS];
	pthread_barrier_t barrier;
	long warmup = iters / 10 > 1000 ? iters / 10 : (iters < 1000 ? iters : 1000);

	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		arg[i] = (struct bench_thread_arg){ .c = c, .tid = i, .nthreads = nthreads, .iters = iters,
						    .warmup = warmup, .barrier = &barrier };
		int rc = pthread_create(&th[i], NULL, bench_thread_main, &arg[i]);
		if (rc)
			bench_die("pthread_create: %s", strerror(rc));
	}
	double sum = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		sum += arg[i].ns_per_iter;
	}
	pthread_barrier_destroy(&barrier);
	return sum / nthreads;
}

/* Iterations for one run of about target_ms (single thread). */
static long bench_calibrate(const struct bench_case *c)
{
	long iters = 1000;
	for (;;) {
		double ns = bench_run_once(c, 1, iters);
		double total_ms = ns * (double)iters / 1e6;
		if (total_ms >= 20 || iters >= (1L << 40)) {
			double want = bench_opt.target_ms * 1e6 / (ns > 0.01 ? ns : 0.01);
			return want < 1000 ? 1000 : (long)want;
		}
		iters *= total_ms < 1 ? 16 : 4;
	}
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct bench_result {
	double median, min, max;	/* ns per iteration */
	long iters;			/* per thread per run */
};

/* Median of bench_opt.runs runs of c with nthreads threads; iters <= 0:
 * calibrate first. */
static struct bench_result bench_measure(const struct bench_case *c, int nthreads, long iters)
{
	double v[BENCH_MAX_RUNS];
	int runs = bench_opt.runs;
	struct bench_result r;
	if (iters <= 0)
		iters = bench_calibrate(c);
	for (int i = 0; i < runs; i++) {
		v[i] = bench_run_once(c, nthreads, iters);
		if (bench_opt.verbose)
			fprintf(stderr, "  %-28s T=%d run %d: %.2f ns (%ld iters)\n", c->name, nthreads, i, v[i], iters);
	}
	qsort(v, (size_t)runs, sizeof(double), bench_cmp_double);
	r.median = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
	r.min = v[0];
	r.max = v[runs - 1];
	r.iters = iters;
	return r;
}

/* ------------------------------------------------------------------ */
/* Command line and the results header                                 */
/* ------------------------------------------------------------------ */

/* Parse the options every bench shares; returns 1 if argv[*i] was one. */
static int bench_common_opt(int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!strcmp(a, "--ms") && v) {
		bench_opt.target_ms = atof(v);
		++*i;
	} else if (!strcmp(a, "--runs") && v) {
		bench_opt.runs = atoi(v);
		if (bench_opt.runs < 1 || bench_opt.runs > BENCH_MAX_RUNS)
			bench_die("--runs: 1..%d", BENCH_MAX_RUNS);
		++*i;
	} else if (!strcmp(a, "--threads") && v) {
		bench_opt.max_threads = atoi(v);
		if (bench_opt.max_threads < 1 || bench_opt.max_threads > BENCH_MAX_THREADS)
			bench_die("--threads: 1..%d", BENCH_MAX_THREADS);
		++*i;
	} else if (!strcmp(a, "--boot") && v) {
		bench_opt.boot = v;
		++*i;
	} else if (!strcmp(a, "--quick")) {
		bench_opt.target_ms = 30;
		bench_opt.runs = 3;
	} else if (!strcmp(a, "--pin")) {
		bench_opt.pin = 1;
	} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		bench_opt.verbose = 1;
	} else if (!strcmp(a, "--case") && v) {
		if (bench_opt.nr_cases == (int)(sizeof(bench_opt.cases) / sizeof(bench_opt.cases[0])))
			bench_die("--case: at most %d", bench_opt.nr_cases);
		bench_opt.cases[bench_opt.nr_cases++] = v;
		++*i;
	} else if (!strcmp(a, "--callgrind-case") && v) {
		bench_opt.cg_case = v;
		++*i;
	} else if (!strcmp(a, "--iters") && v) {
		bench_opt.cg_iters = atol(v) > 0 ? atol(v) : 100000;
		++*i;
	} else if (!strcmp(a, "--has-client-requests")) {
		printf("%d\n", BENCH_HAVE_CALLGRIND);
		exit(0);
	} else {
		return 0;
	}
	return 1;
}

/* Is the case called name selected (no --case given, or one names it)? */
static inline int bench_case_selected(const char *name)
{
	if (!bench_opt.nr_cases)
		return 1;
	for (int i = 0; i < bench_opt.nr_cases; i++)
		if (!strcmp(bench_opt.cases[i], name))
			return 1;
	return 0;
}

#define BENCH_COMMON_USAGE                                                                  \
	"  --ms N          length of one timed run in ms (default 150)\n"                      \
	"  --runs N        runs per case, the median is reported (default 5)\n"                \
	"  --threads N     largest thread count (default 2: cases run with 1 and 2)\n"         \
	"  --boot LINE     base kmm_boot command line (default: see the tables' header)\n"     \
	"  --quick         --ms 30 --runs 3 (a smoke run; figures are rough)\n"                \
	"  --pin           pin thread i to CPU i\n"                                             \
	"  -v              every run's figure on stderr\n"                                    \
	"  --case NAME     time only this case (repeatable; names: see above)\n"

/* The machine and method lines at the top of a results section. */
static void bench_print_header(const char *title, const char *boot)
{
	char model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');
				if (p) {
					p++;
					while (*p == ' ')
						p++;
					p[strcspn(p, "\n")] = '\0';
					snprintf(model, sizeof(model), "%s", p);
				}
				break;
			}
		}
		fclose(f);
	}
	struct utsname u;
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M %Z", localtime(&now));
	char load[64] = "?";
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fgets(load, sizeof(load), f))
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	printf("## %s\n\n", title);
	printf("- date: %s; CPUs: %ld (%s); kernel %s\n", date, sysconf(_SC_NPROCESSORS_ONLN), model, u.release);
	printf("- load average at start (/proc/loadavg): %s\n", load);
	printf("- kmm_boot(\"%s\"); each figure: median of %d runs of ~%.0f ms; ns per pair per thread\n",
	       boot, bench_opt.runs, bench_opt.target_ms);
	printf("\n");
}

#endif /* KMM_BENCH_H */
