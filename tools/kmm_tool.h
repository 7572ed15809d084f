/*
 * kmm_tool.h - what the kmm CLI's files share: subcommand entry points,
 * small helpers (util.c), report capture (util.c), the pictures (svg.c).
 * Only the tools/ sources include it; the CLI uses only the public <kmm/kmm.h>.
 */
#ifndef KMM_TOOL_H
#define KMM_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kmm/kmm.h>

#define KMM_TOOL_VERSION "0.1.0"

/* subcommands (each returns the process exit status) */
int cmd_demo(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_trace_gen(int argc, char **argv);
int cmd_trace_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* ---- util.c -------------------------------------------------------- */

extern const char *tool_argv0;	/* "kmm" */
__attribute__((format(printf, 1, 2))) void tool_err(const char *fmt, ...);	/* "kmm: ..." on stderr */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A growable string. */
struct strbuf {
	char *s;
	size_t len, cap;
};
void sb_init(struct strbuf *b);
void sb_add(struct strbuf *b, const char *s);
void sb_addn(struct strbuf *b, const char *s, size_t n);
__attribute__((format(printf, 2, 3))) void sb_printf(struct strbuf *b, const char *fmt, ...);
void sb_free(struct strbuf *b);

/* kmm_report into a string (NULL on error, after a message). */
char *report_text(const char *name);
/* The names kmm_report knows, NULL-terminated. */
extern const char *const report_names[];

/* Numbers: "7", "0x10", "4k", "64M" (sizes with K/M/G suffix when suffix). */
bool parse_ulong(const char *s, unsigned long *out, bool suffix);
/* "--name=value" or "--name value": returns the value and advances *i, or
 * NULL when argv[*i] is not this option (exits with usage on a missing value). */
const char *opt_value(int argc, char **argv, int *i, const char *name);

/* mkdir -p; 0 or -1 after a message. */
int make_dirs(const char *path);
/* path join into a new string */
char *path_join(const char *dir, const char *file);
/* monotonic seconds */
double now_seconds(void);
/* true when stderr is a terminal (progress lines use \r) */
bool stderr_is_tty(void);

/* A small deterministic PRNG (splitmix64 seeded, xoshiro256**). */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
static inline uint64_t rng_below(struct rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
static inline double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* The machine's zones (kmm_zone_snapshot) into a malloc'd array. */
int zones_snapshot(struct kmm_zone_snapshot **out);

/* Free-page sample: pages free in blocks of each order, all zones summed. */
struct free_sample {
	double t;				/* seconds since the start (or op index) */
	unsigned long free_pages[NR_PAGE_ORDERS];	/* nr_free[k] << k */
	unsigned long total_free, in_use;	/* buddy free (+ deferred); in_use: managed - total_free */
};
void take_free_sample(struct free_sample *s, double t);
/* unusable free space index at order k (Linux unusable_show), 0..1 */
double unusable_index(const unsigned long free_pages[NR_PAGE_ORDERS], int order);

/* ---- svg.c ------------------------------------------------------------ */

/* A frame-state snapshot of the whole machine plus its zones. */
struct mem_picture {
	unsigned long max_pfn;
	unsigned char *states;		/* max_pfn bytes, enum kmm_frame_state */
	struct kmm_zone_snapshot *zones;
	int nr_zones;
};
int picture_take(struct mem_picture *p);	/* 0 or -1 */
void picture_free(struct mem_picture *p);
/* Counts of frames per state (KMM_FRAME_NR_STATES entries). */
void picture_count(const struct mem_picture *p, unsigned long *counts);

/* Write the memory map; title and subtitle are free text. 0 or -1. */
int svg_memory_map(const char *path, const struct mem_picture *p, const char *title, const char *subtitle);
/* Write the free pages per order chart from n samples; x_label names the
 * unit of free_sample.t ("seconds", "operations"). 0 or -1. */
int svg_free_chart(const char *path, const struct free_sample *samples, int n, const char *title,
		   const char *x_label);

#endif /* KMM_TOOL_H */
