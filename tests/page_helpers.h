/*
 * page_helpers.h - helpers shared by the page allocator tests (issue 2):
 * capturing log lines (kmm_set_log), capturing report text (kmm_report),
 * reading the host's view of this process (/proc/self), and white-box
 * access to zones and per-CPU lists through src/mm/internal.h.
 *
 * Include after harness.h.  Everything is static: one test binary = one .c.
 */
#ifndef KMM_TEST_PAGE_HELPERS_H
#define KMM_TEST_PAGE_HELPERS_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kmm/kmm.h>
#include "mm/internal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KT_SANITIZED 1
#else
#define KT_SANITIZED 0
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif
#ifdef KMM_VALGRIND
#include <valgrind/memcheck.h>
#endif

/* The test touches freed memory on purpose (a use after free it provokes,
 * or freed frames it reads back): tell ASan / memcheck, which kmm's
 * annotations (src/mm/annotate.h) made watch that memory. */
static inline void kt_unpoison(const void *p, size_t n)
{
#ifdef __SANITIZE_ADDRESS__
	__asan_unpoison_memory_region(p, n);
#endif
#ifdef KMM_VALGRIND
	VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
	(void)p, (void)n;
}

/* Every test boots with the lock order validator on (lockdep.c) when
 * KMM_TEST_LOCKDEP is set (CTest sets it for every test), whatever its
 * command line says about it. */
__attribute__((constructor)) static void kt_lockdep_from_env(void)
{
	const char *e = getenv("KMM_TEST_LOCKDEP");
	if (e && *e && strcmp(e, "0") != 0)
		kmm_lockdep_set_default(true);
}

/* ------------------------------------------------------------------ */
/* Log capture                                                         */
/* ------------------------------------------------------------------ */

#define LOG_MAX_LINES 4096

static struct {
	pthread_mutex_t lock;
	int n;
	char *line[LOG_MAX_LINES];
	int echo;		/* also print captured lines to stdout */
} logcap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline void logcap_fn(void *ctx, const char *line)
{
	(void)ctx;
	pthread_mutex_lock(&logcap.lock);
	if (logcap.n < LOG_MAX_LINES)
		logcap.line[logcap.n++] = strdup(line);
	if (logcap.echo)
		printf("    log: %s\n", line);
	pthread_mutex_unlock(&logcap.lock);
}

static inline void logcap_clear(void)
{
	pthread_mutex_lock(&logcap.lock);
	for (int i = 0; i < logcap.n; i++)
		free(logcap.line[i]);
	logcap.n = 0;
	pthread_mutex_unlock(&logcap.lock);
}

/* start capturing (clears what was captured before) */
static inline void logcap_start(void)
{
	logcap_clear();
	kmm_set_log(logcap_fn, NULL);
}

/* back to the default sink (stderr); the captured lines stay readable */
static inline void logcap_stop(void)
{
	kmm_set_log(NULL, NULL);
}

static inline int logcap_lines(void)
{
	pthread_mutex_lock(&logcap.lock);
	int n = logcap.n;
	pthread_mutex_unlock(&logcap.lock);
	return n;
}

/* number of captured lines containing sub */
static inline int logcap_count(const char *sub)
{
	int c = 0;
	pthread_mutex_lock(&logcap.lock);
	for (int i = 0; i < logcap.n; i++)
		c += strstr(logcap.line[i], sub) != NULL;
	pthread_mutex_unlock(&logcap.lock);
	return c;
}

/* first captured line containing sub (a pointer valid until the next clear), or NULL */
static inline const char *logcap_find(const char *sub)
{
	const char *r = NULL;
	pthread_mutex_lock(&logcap.lock);
	for (int i = 0; i < logcap.n && !r; i++)
		if (strstr(logcap.line[i], sub))
			r = logcap.line[i];
	pthread_mutex_unlock(&logcap.lock);
	return r;
}

static inline void logcap_dump(void)
{
	pthread_mutex_lock(&logcap.lock);
	for (int i = 0; i < logcap.n; i++)
		printf("    captured[%d]: %s\n", i, logcap.line[i]);
	pthread_mutex_unlock(&logcap.lock);
}

/* every captured line is one line starting "kmm: " */
static inline bool logcap_all_well_formed(void)
{
	bool ok = true;
	pthread_mutex_lock(&logcap.lock);
	for (int i = 0; i < logcap.n; i++)
		if (strncmp(logcap.line[i], "kmm: ", 5) != 0 || strchr(logcap.line[i], '\n'))
			ok = false;
	pthread_mutex_unlock(&logcap.lock);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Report capture                                                      */
/* ------------------------------------------------------------------ */

struct textbuf {
	char *s;
	size_t len, cap;
	int pieces, bad_pieces;	/* pieces not ending in '\n' */
};

static inline void textbuf_emit(void *ctx, const char *text)
{
	struct textbuf *b = ctx;
	size_t n = strlen(text);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, text, n + 1);
	b->len += n;
	b->pieces++;
	if (n == 0 || text[n - 1] != '\n')
		b->bad_pieces++;
}

/* the text of report name (malloc'd), or NULL with *rc set */
static inline char *report_text(const char *name, int *rc)
{
	struct textbuf b = { 0 };
	b.s = calloc(1, 1);
	b.cap = 1;
	int r = kmm_report(name, textbuf_emit, &b);
	if (rc)
		*rc = r;
	if (r) {
		free(b.s);
		return NULL;
	}
	if (b.bad_pieces)
		kt_fail(0, __FILE__, __LINE__, "report %s: %d pieces handed to emit do not end with a newline",
			name, b.bad_pieces);
	return b.s;
}

/* the value of the first line "name value" / "name: value kB" etc. after
 * the first occurrence of key at a line start; -1 if absent */
static inline long report_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, kl) == 0) {
			const char *q = p + kl;
			while (*q == ' ' || *q == ':' || *q == '\t')
				q++;
			if (!isdigit((unsigned char)*q))
				return -1;
			return strtol(q, NULL, 10);
		}
	}
	return -1;
}

/* number of lines of text */
static inline int count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* ------------------------------------------------------------------ */
/* The host's view of this process                                     */
/* ------------------------------------------------------------------ */

static inline long proc_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static inline long vmrss_kb(void) { return proc_status_kb("VmRSS"); }

static inline int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static inline int maps_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double ms_since(uint64_t t0) { return (double)(now_ns() - t0) / 1e6; }

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* White-box access                                                    */
/* ------------------------------------------------------------------ */

static inline struct zone *wb_zone(int nid, int zi) { return &NODE_DATA(nid)->node_zones[zi]; }

/* pages of zone z sitting on slot cpu's per-CPU lists */
static inline int wb_pcp_count(int cpu, const struct zone *z) { return kmm.cpus[cpu].pcp[z->zone_id].count; }

static inline unsigned long wb_all_pcp_pages(void)
{
	unsigned long n = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			for (int c = 0; c < kmm.nr_cpus; c++)
				n += (unsigned long)kmm.cpus[c].pcp[wb_zone(nid, zi)->zone_id].count;
	return n;
}

/* free pages on the buddy lists of zone z, recomputed from nr_free */
static inline unsigned long wb_free_from_area(const struct zone *z)
{
	unsigned long n = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		n += z->free_area[o].nr_free << o;
	return n;
}

/* A list of allocated blocks, to give everything back at the end. */
struct blist {
	struct page **p;
	unsigned char *order;
	size_t n, cap;
};

static inline void blist_push(struct blist *b, struct page *p, unsigned int order)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->p = realloc(b->p, b->cap * sizeof(*b->p));
		b->order = realloc(b->order, b->cap);
	}
	b->p[b->n] = p;
	b->order[b->n++] = (unsigned char)order;
}

static inline void blist_free_all(struct blist *b)
{
	for (size_t i = 0; i < b->n; i++)
		__free_pages(b->p[i], b->order[i]);
	b->n = 0;
}

static inline void blist_release(struct blist *b)
{
	free(b->p);
	free(b->order);
	memset(b, 0, sizeof(*b));
}

/* flags that take every free page, whatever the watermarks, without sleeping
 * or warning (a blocking request: high orders do not set pageblocks aside as
 * HIGHATOMIC, as GFP_ATOMIC ones may) */
#define GFP_TAKE_ALL (GFP_KERNEL | __GFP_MEMALLOC | __GFP_NORETRY | __GFP_NOWARN)
/* the same without sleeping rights: may use and create the HIGHATOMIC reserve */
#define GFP_TAKE_ALL_ATOMIC (GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN)

/* Allocate blocks from order `top` down to 0 with gfp (on node nid, -1 any)
 * until nothing is left; returns the pages taken. */
static inline unsigned long exhaust(struct blist *b, int nid, gfp_t gfp, unsigned int top)
{
	unsigned long pages = 0;
	for (int o = (int)top; o >= 0; o--) {
		struct page *p;
		while ((p = alloc_pages_node(nid, gfp, (unsigned int)o))) {
			blist_push(b, p, (unsigned int)o);
			pages += 1UL << o;
		}
	}
	return pages;
}

/* ------------------------------------------------------------------ */
/* zoneinfo, parsed                                                    */
/* ------------------------------------------------------------------ */

#define ZI_MAX_CPUS 64
struct zi_zone {
	int nid;
	char name[16];
	long free, min, low, high, spanned, present, managed, start_pfn;
	long prot[8];
	int nprot;
	int ncpus;
	long count[ZI_MAX_CPUS], pcp_high[ZI_MAX_CPUS], batch[ZI_MAX_CPUS];
};

/* "        min      17" -> 17 when the line's first word is key */
static inline bool zi_field(const char *line, const char *key, long *out)
{
	while (*line == ' ')
		line++;
	size_t kl = strlen(key);
	if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != ':'))
		return false;
	line += kl;
	while (*line == ' ' || *line == ':')
		line++;
	*out = strtol(line, NULL, 10);
	return true;
}

/* Parse the zoneinfo report into out[0..max-1]; returns the zones found. */
static inline int parse_zoneinfo(struct zi_zone *out, int max)
{
	int rc, n = 0;
	char *t = report_text("zoneinfo", &rc);
	if (!t)
		return -1;
	struct zi_zone *z = NULL;
	int cpu = -1;
	for (char *save = NULL, *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int nid;
		char name[16];
		if (sscanf(line, "Node %d, zone %15s", &nid, name) == 2) {
			if (n == max)
				break;
			z = &out[n++];
			memset(z, 0, sizeof(*z));
			z->nid = nid;
			strcpy(z->name, name);
			cpu = -1;
			continue;
		}
		if (!z)
			continue;
		long v;
		if (strncmp(line, "  pages free", 12) == 0) {
			z->free = strtol(line + 12, NULL, 10);
		} else if (zi_field(line, "min", &v)) {
			z->min = v;
		} else if (zi_field(line, "low", &v)) {
			z->low = v;
		} else if (zi_field(line, "high", &v) && cpu < 0) {
			z->high = v;
		} else if (zi_field(line, "spanned", &v)) {
			z->spanned = v;
		} else if (zi_field(line, "present", &v)) {
			z->present = v;
		} else if (zi_field(line, "managed", &v)) {
			z->managed = v;
		} else if (zi_field(line, "start_pfn", &v)) {
			z->start_pfn = v;
		} else if (strstr(line, "protection: (")) {
			char *q = strstr(line, "(") + 1;
			while (z->nprot < 8) {
				char *end;
				long x = strtol(q, &end, 10);
				if (end == q)
					break;
				z->prot[z->nprot++] = x;
				q = end;
				while (*q == ',' || *q == ' ')
					q++;
			}
		} else if (zi_field(line, "cpu", &v)) {
			cpu = (int)v;
			if (cpu < ZI_MAX_CPUS && cpu + 1 > z->ncpus)
				z->ncpus = cpu + 1;
		} else if (cpu >= 0 && cpu < ZI_MAX_CPUS) {
			if (zi_field(line, "count", &v))
				z->count[cpu] = v;
			else if (zi_field(line, "high", &v))
				z->pcp_high[cpu] = v;
			else if (zi_field(line, "batch", &v))
				z->batch[cpu] = v;
		}
	}
	free(t);
	return n;
}

/* the parsed zone of node nid called name, or NULL */
static inline struct zi_zone *zi_find(struct zi_zone *zs, int n, int nid, const char *name)
{
	for (int i = 0; i < n; i++)
		if (zs[i].nid == nid && strcmp(zs[i].name, name) == 0)
			return &zs[i];
	return NULL;
}

/* floor(sqrt(x)), computed here independently of the library */
static inline unsigned long t_int_sqrt(unsigned long x)
{
	unsigned long r = 0;
	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* ------------------------------------------------------------------ */
/* Booting a test machine                                              */
/* ------------------------------------------------------------------ */

/* Boot for a test: first shut down a machine a failed test may have left
 * booted (its fatal assertion skipped the shutdown), then drain what the
 * layers above the page allocator cached while booting, so the test starts
 * from a clean baseline (empty per-CPU lists). */
static inline int kt_boot(const char *cmdline)
{
	kmm_shutdown();
	int rc = kmm_boot(cmdline);
	if (rc == 0)
		kmm_drain_all();
	return rc;
}

#endif /* KMM_TEST_PAGE_HELPERS_H */
