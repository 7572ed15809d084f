/*
 * util.c - helpers the kmm CLI's subcommands share: error messages,
 * allocation that cannot fail, strings, report capture, option values,
 * directories, time, a PRNG and free-page samples.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kmm_tool.h"

const char *tool_argv0 = "kmm";

const char *const report_names[] = {
	"buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat", "extfrag", "slabinfo", "vmallocinfo", NULL,
};

void tool_err(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", tool_argv0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static _Noreturn void out_of_memory(size_t n)
{
	tool_err("out of host memory (%zu bytes)", n);
	exit(3);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

/* ---- strings ------------------------------------------------------------ */

void sb_init(struct strbuf *b)
{
	b->cap = 256;
	b->len = 0;
	b->s = xmalloc(b->cap);
	b->s[0] = '\0';
}

void sb_addn(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_add(struct strbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_addn(b, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_addn(b, big, (size_t)n);
	free(big);
}

void sb_free(struct strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

static void emit_to_sb(void *ctx, const char *text) { sb_add(ctx, text); }

char *report_text(const char *name)
{
	struct strbuf b;
	sb_init(&b);
	int rc = kmm_report(name, emit_to_sb, &b);
	if (rc) {
		tool_err("report %s: %s", name, rc == -ENOENT ? "no such report" : strerror(-rc));
		sb_free(&b);
		return NULL;
	}
	return b.s;
}

/* ---- options ------------------------------------------------------------ */

bool parse_ulong(const char *s, unsigned long *out, bool suffix)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s)
		return false;
	if (suffix && *end) {
		int shift = 0;
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return false;
		}
		end++;
		if (v > (~0UL >> shift))
			return false;
		v <<= shift;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		tool_err("%s needs a value", name);
		exit(2);
	}
	return argv[++*i];
}

/* ---- files and time ----------------------------------------------------- */

int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST) {
			tool_err("cannot create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0777);
	if (rc && errno != EEXIST) {
		tool_err("cannot create %s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

char *path_join(const char *dir, const char *file)
{
	size_t a = strlen(dir), b = strlen(file);
	char *p = xmalloc(a + b + 2);
	memcpy(p, dir, a);
	size_t n = a;
	if (a && dir[a - 1] != '/')
		p[n++] = '/';
	memcpy(p + n, file, b + 1);
	return p;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool stderr_is_tty(void) { return isatty(STDERR_FILENO) == 1; }

/* ---- PRNG: xoshiro256** seeded by splitmix64 ----------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* ---- zones and samples -------------------------------------------------- */

int zones_snapshot(struct kmm_zone_snapshot **out)
{
	int n = kmm_zone_snapshot(NULL, 0);
	if (n < 0)
		return n;
	*out = xcalloc((size_t)n, sizeof(**out));
	return kmm_zone_snapshot(*out, n);
}

void take_free_sample(struct free_sample *s, double t)
{
	struct kmm_zone_snapshot z[4 * 64];
	int n = kmm_zone_snapshot(z, (int)(sizeof(z) / sizeof(z[0])));
	memset(s, 0, sizeof(*s));
	s->t = t;
	if (n > (int)(sizeof(z) / sizeof(z[0])))
		n = (int)(sizeof(z) / sizeof(z[0]));
	unsigned long managed = 0;
	for (int i = 0; i < n; i++) {
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			s->free_pages[o] += z[i].nr_free[o] << o;
		s->total_free += z[i].free_pages + z[i].deferred_pages;
		managed += z[i].managed_pages;
	}
	s->in_use = managed > s->total_free ? managed - s->total_free : 0;
}

/* Linux mm/vmstat.c unusable_free_index: the fraction of free memory in
 * blocks too small for an allocation of this order. */
double unusable_index(const unsigned long free_pages[NR_PAGE_ORDERS], int order)
{
	unsigned long total = 0, suitable = 0;
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		total += free_pages[o];
		if (o >= order)
			suitable += free_pages[o];
	}
	if (!total)
		return 0.0;
	return (double)(total - suitable) / (double)total;
}
