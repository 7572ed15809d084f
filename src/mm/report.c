/*
 * report.c - the report path: log lines, misuse reports, rate-limited
 * warnings, and the statistics in the Linux /proc formats.
 *
 * 1. Overview
 *    Everything kmm says goes through here.
 *    - kmm_log(): one line "kmm: ..." to the log sink (kmm_set_log; the
 *      platform's kmm_plat_log by default).
 *    - kmm_error(): a misuse report (MISUSE.md), one line
 *      "kmm: <category>: <detail>", counted (kmm_error_count), then the
 *      on_error= policy: abort (kmm_plat_abort) or report and return.  Modelled
 *      on illumos kmem_error(): the caller classifies, this file reports.
 *    - kmm_warn_ratelimited(): failure warnings ("page allocation failure",
 *      "out of memory"), at most KMM_WARN_BURST lines per
 *      KMM_WARN_INTERVAL_NS, as Linux's ratelimit; the first line after a
 *      suppressed stretch is preceded by "kmm: N warnings suppressed".
 *    - kmm_report(): the statistics, by name, in the formats of REFERENCE
 *      section 13: buddyinfo (13.1), pagetypeinfo (13.2), zoneinfo (13.3,
 *      the 6.x layout), meminfo (13.4), vmstat (13.5), extfrag (13.6, both
 *      indices in one report), plus slabinfo and vmallocinfo, which the slab
 *      and vmalloc layers register with kmm_register_report().
 *
 * 2. Data structures
 *    - the log sink: a function and its context (NULL function = default).
 *    - the report registry: up to KMM_MAX_REPORTS (name, function) pairs
 *      registered by layers above the page allocator; a registered name
 *      hides a built-in one of the same name.
 *    - kmm_meminfo_hooks: the numbers meminfo and vmstat need from the slab,
 *      vmalloc and page-table code (NULL hook = 0).
 *    - the rate limit: kmm.last_warn_ns (start of the current interval),
 *      kmm.warn_suppressed, and here the lines printed in the interval and
 *      the boot generation they belong to (kmm is zeroed at shutdown).
 *
 * 3. Invariants
 *    - Every line handed to the sink is one line, no newline, starting with
 *      "kmm: ", at most KMM_LOG_LINE_MAX - 1 bytes (longer ones are cut).
 *    - kmm_error_count() never decreases; it counts every kmm_error() of the
 *      process, whatever the policy (it is not reset by boot or shutdown).
 *    - A report lists only populated zones (present_pages != 0; API.md: an
 *      empty zone does not appear in reports), nodes in id order, zones in
 *      index order.  Every piece handed to emit() is one or more whole lines.
 *
 * 4. Locks
 *    - buddyinfo, pagetypeinfo, extfrag: each zone's lock (kmm_plat_lock(
 *      &zone->lock)) while copying that zone's free_area counts (and, for
 *      pagetypeinfo, counting its pageblock types), one zone at a time.
 *      Never held while emit() runs: the snapshot is printed after unlock.
 *    - zoneinfo, meminfo, vmstat: no lock.  Counters are read with
 *      READ_ONCE; a report taken while other threads allocate is a sum of
 *      recent values, as /proc is.  Per-CPU list counts are read remotely
 *      without the slot's protocol (pcp.c), which is enough for a report.
 *    - the rate limit: a private spin flag around a few loads and stores;
 *      a thread that finds it taken counts its line as suppressed instead
 *      of waiting (so a signal handler cannot deadlock on it).
 *    - the sink and the registry take no lock: kmm_set_log and
 *      kmm_register_report are meant for set-up time (boot, layer init),
 *      not for use while other threads log or report.
 *
 * 5. Behaviour on failure
 *    Nothing here allocates.  kmm_report returns -EINVAL before boot (or
 *    for a NULL name or emit) and -ENOENT for an unknown name; built-in
 *    reports cannot fail.  kmm_error with on_error=abort does not return.
 *    The policy is read from kmm.cfg, which machine.c keeps after shutdown
 *    and which is zero (ON_ERROR_ABORT) before the first boot.
 *
 * 6. References
 *    Linux mm/vmstat.c (frag_show, pagetypeinfo_show, zoneinfo_show_print,
 *    unusable_show, extfrag_show, vmstat_text), fs/proc/meminfo.c,
 *    mm/show_mem.c si_mem_available, lib/ratelimit.c; illumos kmem_error().
 */
#include "internal.h"	/* first: it defines KMM_CORE, so no <stdio.h> */
#include <kmm/kmm.h>		/* kmm_set_log, kmm_error_count */

/* Longest log line (bytes, terminator included); longer ones are cut. */
#define KMM_LOG_LINE_MAX 512
/* Rate limit of warnings: lines per interval (Linux DEFAULT_RATELIMIT_BURST
 * and DEFAULT_RATELIMIT_INTERVAL are 10 lines per 5 s). */
#define KMM_WARN_BURST 10
#define KMM_WARN_INTERVAL_NS 5000000000ULL
/* Registry size: slabinfo and vmallocinfo, with room to spare. */
#define KMM_MAX_REPORTS 16
/* Longest report line we build (a pagetypeinfo row is about 130 bytes). */
#define REPORT_LINE_MAX 320
/* pagetypeinfo stops counting a free list here and prints ">100000",
 * as Linux does (it walks the list; we have the count). */
#define PAGETYPE_COUNT_LIMIT 100000UL
/* x86 huge page size for the Hugepagesize line of meminfo (kB) */
#define HPAGE_KB 2048UL

#define PREFIX "kmm: "
#define PREFIX_LEN 5

/* ------------------------------------------------------------------ */
/* The log sink                                                        */
/* ------------------------------------------------------------------ */

static kmm_log_fn log_fn;	/* NULL: kmm_plat_log */
static void *log_ctx;
static unsigned long error_count;	/* atomic */

/**
 * kmm_set_log - send kmm's log lines and misuse reports to @fn
 * @fn: called with @ctx and one line (no newline); NULL restores the
 *      default sink (the platform's: stderr on hosted builds)
 * @ctx: passed to @fn unchanged
 * Context: set-up time; not while other threads may log.
 */
void kmm_set_log(kmm_log_fn fn, void *ctx)
{
	__atomic_store_n(&log_ctx, fn ? ctx : NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&log_fn, fn, __ATOMIC_RELEASE);
}

static bool log_is_default(void)
{
	return __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE) == NULL;
}

/* Hands one finished line to the sink. */
static void log_line(const char *line)
{
	kmm_log_fn fn = __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE);

	if (fn)
		fn(__atomic_load_n(&log_ctx, __ATOMIC_RELAXED), line);
	else
		kmm_plat_log(line);
}

/* Cuts trailing newlines: the sink gets bare lines. */
static void chomp(char *s)
{
	size_t n = kmm_strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

/* Formats "kmm: " + message into @buf (KMM_LOG_LINE_MAX bytes) and returns
 * the start of the line: the prefix is skipped when the message has one. */
static const char *format_line(char *buf, const char *fmt, va_list ap)
{
	kmm_memcpy(buf, PREFIX, PREFIX_LEN);
	kmm_vsnprintf(buf + PREFIX_LEN, KMM_LOG_LINE_MAX - PREFIX_LEN, fmt, ap);
	chomp(buf);
	return kmm_strncmp(buf + PREFIX_LEN, PREFIX, PREFIX_LEN) == 0 ? buf + PREFIX_LEN : buf;
}

/* kmm_log - one log line; "kmm: " is added unless the message starts with it. */
void kmm_log(const char *fmt, ...)
{
	char buf[KMM_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_line(format_line(buf, fmt, ap));
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Misuse reports                                                      */
/* ------------------------------------------------------------------ */

/*
 * kmm_error - report misuse: "kmm: <category>: <detail>" (MISUSE.md spells
 * the categories), count it, then follow on_error=.  With abort the line
 * also goes to a custom sink before kmm_plat_abort prints it (the default
 * sink would print it twice).  Does not return under on_error=abort.
 */
void kmm_error(const char *category, const char *fmt, ...)
{
	char line[KMM_LOG_LINE_MAX];
	va_list ap;
	int n;

	n = kmm_snprintf(line, sizeof(line), PREFIX "%s: ", category);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		va_start(ap, fmt);
		kmm_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	chomp(line);
	__atomic_add_fetch(&error_count, 1, __ATOMIC_RELAXED);

	if (READ_ONCE(kmm.cfg.on_error) == ON_ERROR_REPORT) {
		log_line(line);
		return;
	}
	if (!log_is_default())
		log_line(line);
	kmm_plat_abort(line);
}

/**
 * kmm_error_count - number of misuse reports made so far in this process
 * Context: any.
 * Return: the count (reports under on_error=abort included).
 */
unsigned long kmm_error_count(void)
{
	return __atomic_load_n(&error_count, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Rate-limited warnings                                               */
/* ------------------------------------------------------------------ */

static int warn_busy;			/* spin flag of the state below */
static unsigned int warn_printed;	/* lines printed in the interval */
static unsigned long warn_boot_gen;	/* kmm.boot_gen the interval belongs to */
static bool warn_started;

/*
 * kmm_warn_ratelimited - a warning line, at most KMM_WARN_BURST per
 * KMM_WARN_INTERVAL_NS; the lines over the limit are counted in
 * kmm.warn_suppressed and announced before the next printed one.
 */
void kmm_warn_ratelimited(const char *fmt, ...)
{
	char buf[KMM_LOG_LINE_MAX];
	uint64_t now = kmm_plat_now_ns();
	unsigned long suppressed = 0;
	bool print = false;
	va_list ap;

	if (__atomic_exchange_n(&warn_busy, 1, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&kmm.warn_suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	if (!warn_started || warn_boot_gen != kmm.boot_gen ||
	    now - kmm.last_warn_ns >= KMM_WARN_INTERVAL_NS) {
		/* a new interval: collect what the last one suppressed */
		warn_started = true;
		warn_boot_gen = kmm.boot_gen;
		kmm.last_warn_ns = now;
		warn_printed = 0;
		suppressed = __atomic_exchange_n(&kmm.warn_suppressed, 0, __ATOMIC_RELAXED);
	}
	if (warn_printed < KMM_WARN_BURST) {
		warn_printed++;
		print = true;
	} else {
		__atomic_add_fetch(&kmm.warn_suppressed, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&warn_busy, 0, __ATOMIC_RELEASE);

	if (!print)
		return;
	if (suppressed)
		kmm_log(PREFIX "%lu warnings suppressed", suppressed);
	va_start(ap, fmt);
	log_line(format_line(buf, fmt, ap));
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Report helpers                                                      */
/* ------------------------------------------------------------------ */

struct kmm_meminfo_hooks kmm_meminfo_hooks;

static unsigned long hook_value(unsigned long (*fn)(void))
{
	return fn ? fn() : 0;
}

/* One report line under construction: pieces are appended, then the whole
 * line goes to the text buffer at once (report.h: whole lines only). */
struct rline {
	size_t len;
	char buf[REPORT_LINE_MAX];
};

/* Starts an empty line.  (No initialiser: it would zero the whole buffer,
 * which the compiler may turn into a memset call the core does not have.) */
static void rl_init(struct rline *l)
{
	l->len = 0;
	l->buf[0] = '\0';
}

static void rl_add(struct rline *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rl_add(struct rline *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmm_vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - 1 - l->len;
}

/* Ends the line: newline, into @tb, and starts an empty one. */
static void rl_end(struct kmm_textbuf *tb, struct rline *l)
{
	l->buf[l->len] = '\0';
	kmm_tb_printf(tb, "%s\n", l->buf);
	l->len = 0;
	l->buf[0] = '\0';
}

/* The zone @zi of node @nid when it is populated, else NULL. */
static struct zone *report_zone(int nid, int zi)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	struct zone *z;

	if (!pgdat)
		return NULL;
	z = &pgdat->node_zones[zi];
	return populated_zone(z) ? z : NULL;
}

static const char *zone_name(const struct zone *z, int zi)
{
	return z->name ? z->name : kmm_zone_names[zi];
}

static bool node_populated(int nid)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (report_zone(nid, zi))
			return true;
	return false;
}

/* A copy of one zone's free_area counts. */
struct zone_snap {
	unsigned long nr_free[NR_PAGE_ORDERS];
	unsigned long nr_free_mt[NR_PAGE_ORDERS][MIGRATE_TYPES];
	unsigned long blocks[MIGRATE_TYPES];	/* pageblocks by type */
};

/* Copies the free_area counts of @z (and with @types the per-type counts
 * and pageblock types) under the zone lock.  Takes and drops z->lock. */
static void snap_zone(struct zone *z, struct zone_snap *s, bool types)
{
	kmm_lock(&z->lock, KMM_LC_ZONE);
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		s->nr_free[o] = z->free_area[o].nr_free;
		if (types)
			for (int mt = 0; mt < MIGRATE_TYPES; mt++)
				s->nr_free_mt[o][mt] = z->free_area[o].nr_free_mt[mt];
	}
	if (types) {
		unsigned long end = z->zone_start_pfn + z->spanned_pages;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			s->blocks[mt] = 0;
		/* as Linux: every pageblock_nr_pages from the zone start */
		for (unsigned long pfn = z->zone_start_pfn; kmm.pageblock_mt && pfn < end;
		     pfn += pageblock_nr_pages) {
			int mt;

			if (!kmm_pfn_valid(pfn))
				break;
			mt = get_pageblock_migratetype(pfn);
			if (mt >= 0 && mt < MIGRATE_TYPES)
				s->blocks[mt]++;
		}
	}
	kmm_unlock(&z->lock);
}

/* ------------------------------------------------------------------ */
/* buddyinfo (REFERENCE 13.1)                                          */
/* ------------------------------------------------------------------ */

static int report_buddyinfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	struct rline l;

	rl_init(&l);
	kmm_tb_init(&tb, emit, ctx);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);
			struct zone_snap s;

			if (!z)
				continue;
			snap_zone(z, &s, false);
			rl_add(&l, "Node %d, zone %8s ", nid, zone_name(z, zi));
			for (int o = 0; o < NR_PAGE_ORDERS; o++)
				rl_add(&l, "%6lu ", s.nr_free[o]);
			rl_end(&tb, &l);
		}
	}
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* pagetypeinfo (REFERENCE 13.2; Linux prints the whole block per node)  */
/* ------------------------------------------------------------------ */

static int report_pagetypeinfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	struct rline l;

	rl_init(&l);
	kmm_tb_init(&tb, emit, ctx);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct zone_snap snaps[MAX_NR_ZONES];

		if (!node_populated(nid))
			continue;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);

			if (z)
				snap_zone(z, &snaps[zi], true);
		}

		kmm_tb_printf(&tb, "Page block order: %d\n", PAGEBLOCK_ORDER);
		kmm_tb_printf(&tb, "Pages per block:  %lu\n", pageblock_nr_pages);
		kmm_tb_printf(&tb, "\n");

		/* free blocks per type and order */
		rl_add(&l, "%-43s ", "Free pages count per migrate type at order");
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			rl_add(&l, "%6d ", o);
		rl_end(&tb, &l);
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);

			if (!z)
				continue;
			for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
				rl_add(&l, "Node %4d, zone %8s, type %12s ", nid, zone_name(z, zi),
				       kmm_migratetype_names[mt]);
				for (int o = 0; o < NR_PAGE_ORDERS; o++) {
					unsigned long n = snaps[zi].nr_free_mt[o][mt];

					if (n >= PAGETYPE_COUNT_LIMIT)
						rl_add(&l, ">%6lu ", PAGETYPE_COUNT_LIMIT);
					else
						rl_add(&l, "%6lu ", n);
				}
				rl_end(&tb, &l);
			}
		}

		/* pageblocks per type */
		kmm_tb_printf(&tb, "\n");
		rl_add(&l, "%-23s", "Number of blocks type ");
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			rl_add(&l, "%12s ", kmm_migratetype_names[mt]);
		rl_end(&tb, &l);
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);

			if (!z)
				continue;
			rl_add(&l, "Node %d, zone %8s ", nid, zone_name(z, zi));
			for (int mt = 0; mt < MIGRATE_TYPES; mt++)
				rl_add(&l, "%12lu ", snaps[zi].blocks[mt]);
			rl_end(&tb, &l);
		}
	}
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* zoneinfo (REFERENCE 13.3, the 6.x layout)                           */
/* ------------------------------------------------------------------ */

/* Node counters we print in "per-node stats": kmm has no LRU lists, so the
 * LRU sizes are truly 0; the rest of Linux's node list is left out. */
static const char *const node_stat_names[] = {
	"nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
	"nr_unevictable", "nr_isolated_anon", "nr_isolated_file",
};

/* Linux's zone counters after nr_free_pages that kmm does not have (0). */
static const char *const zone_zero_stat_names[] = {
	"nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file",
	"nr_zone_active_file", "nr_zone_unevictable", "nr_zone_write_pending",
	"nr_mlock", "nr_bounce", "nr_free_cma",
};

static void zoneinfo_zone(struct kmm_textbuf *tb, int nid, int zi, struct zone *z, bool first)
{
	unsigned long min = READ_ONCE(z->watermark[WMARK_MIN]);
	unsigned long low = READ_ONCE(z->watermark[WMARK_LOW]);
	unsigned long high = READ_ONCE(z->watermark[WMARK_HIGH]);
	struct rline l;

	rl_init(&l);
	kmm_tb_printf(tb, "Node %d, zone %8s\n", nid, zone_name(z, zi));
	if (first) {
		kmm_tb_printf(tb, "  per-node stats\n");
		for (size_t i = 0; i < ARRAY_SIZE(node_stat_names); i++)
			kmm_tb_printf(tb, "      %-12s %lu\n", node_stat_names[i], 0UL);
	}
	kmm_tb_printf(tb, "  pages free     %lu\n", READ_ONCE(z->free_pages));
	kmm_tb_printf(tb, "        boost    %lu\n", 0UL);
	kmm_tb_printf(tb, "        min      %lu\n", min);
	kmm_tb_printf(tb, "        low      %lu\n", low);
	kmm_tb_printf(tb, "        high     %lu\n", high);
	/* [6.x] promo = min + 3 * gap, gap = high - low */
	kmm_tb_printf(tb, "        promo    %lu\n", high + (high - low));
	kmm_tb_printf(tb, "        spanned  %lu\n", z->spanned_pages);
	kmm_tb_printf(tb, "        present  %lu\n", z->present_pages);
	kmm_tb_printf(tb, "        managed  %lu\n", READ_ONCE(z->managed_pages));
	kmm_tb_printf(tb, "        cma      %lu\n", 0UL);

	rl_add(&l, "        protection: (%ld", (long)READ_ONCE(z->lowmem_reserve[0]));
	for (int i = 1; i < MAX_NR_ZONES; i++)
		rl_add(&l, ", %ld", (long)READ_ONCE(z->lowmem_reserve[i]));
	rl_add(&l, ")");
	rl_end(tb, &l);

	kmm_tb_printf(tb, "      %-12s %lu\n", "nr_free_pages", READ_ONCE(z->free_pages));
	for (size_t i = 0; i < ARRAY_SIZE(zone_zero_stat_names); i++)
		kmm_tb_printf(tb, "      %-12s %lu\n", zone_zero_stat_names[i], 0UL);
	/* kmm's own zone counters (zone_stats), after Linux's */
	kmm_tb_printf(tb, "      %-12s %lu\n", "nr_reserved_highatomic", READ_ONCE(z->nr_reserved_highatomic));
	kmm_tb_printf(tb, "      %-12s %lu\n", "alloc_fail", READ_ONCE(z->stats.alloc_fail));
	kmm_tb_printf(tb, "      %-12s %lu\n", "pageblock_steals", READ_ONCE(z->stats.steals));
	kmm_tb_printf(tb, "      %-12s %lu\n", "reported_pages", READ_ONCE(z->stats.reported_pages));

	kmm_tb_printf(tb, "  pagesets\n");
	for (int cpu = 0; kmm.cpus && cpu < kmm.nr_cpus; cpu++) {
		/* a slot no thread bound yet has no lists (pcp.c): its sizes are the zone's */
		struct per_cpu_pages *pcp = kmm.cpus[cpu].pcp && __atomic_load_n(&kmm.cpus[cpu].pcp_ready, __ATOMIC_ACQUIRE)
						    ? &kmm.cpus[cpu].pcp[z->zone_id] : NULL;
		int count = pcp ? READ_ONCE(pcp->count) : 0;
		int phigh = pcp ? READ_ONCE(pcp->high) : z->pcp_high;
		int batch = pcp ? READ_ONCE(pcp->batch) : z->pcp_batch;

		kmm_tb_printf(tb, "    cpu: %i\n", cpu);
		kmm_tb_printf(tb, "              count:    %i\n", count);
		kmm_tb_printf(tb, "              high:     %i\n", phigh);
		kmm_tb_printf(tb, "              batch:    %i\n", batch);
		/* [6.7+] auto-tuning bounds; kmm's high is fixed, so both equal it */
		kmm_tb_printf(tb, "              high_min: %i\n", phigh);
		kmm_tb_printf(tb, "              high_max: %i\n", phigh);
		/* kmm's counters are exact: no per-CPU drift threshold */
		kmm_tb_printf(tb, "  vm stats threshold: %d\n", 0);
	}
	kmm_tb_printf(tb, "  node_unreclaimable:  %u\n", 0u);
	kmm_tb_printf(tb, "  start_pfn:           %lu\n", z->zone_start_pfn);
}

static int report_zoneinfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;

	kmm_tb_init(&tb, emit, ctx);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		bool first = true;

		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);

			if (!z)
				continue;
			zoneinfo_zone(&tb, nid, zi, z, first);
			first = false;
		}
	}
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* meminfo (REFERENCE 13.4)                                            */
/* ------------------------------------------------------------------ */

/* Sums over the populated zones. */
struct mem_totals {
	unsigned long managed, free, low_wmarks;
	unsigned long high_managed, high_free;
	bool has_highmem;
};

static void mem_totals(struct mem_totals *t)
{
	kmm_memset(t, 0, sizeof(*t));
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);
			unsigned long managed, free;

			if (!z)
				continue;
			managed = READ_ONCE(z->managed_pages);
			/* frames not initialised yet (deferred_init) are free memory too */
			free = READ_ONCE(z->free_pages) + READ_ONCE(z->deferred_pages);
			t->managed += managed;
			t->free += free;
			t->low_wmarks += READ_ONCE(z->watermark[WMARK_LOW]);
			if (zi == ZONE_HIGHMEM) {
				t->has_highmem = true;
				t->high_managed += managed;
				t->high_free += free;
			}
		}
	}
}

/* si_meminfo's freeram: the buddy lists' pages (NR_FREE_PAGES), without
 * the pages cached on per-CPU lists, as Linux counts MemFree. */
unsigned long kmm_report_si_meminfo_free(void)
{
	struct mem_totals t;

	if (!kmm.booted)
		return 0;
	mem_totals(&t);
	return t.free;
}

static void meminfo_kb(struct kmm_textbuf *tb, const char *name, unsigned long pages)
{
	/* Linux show_val_kb: the name padded to 16 columns, "%8lu kB" */
	kmm_tb_printf(tb, "%-16s%8lu kB\n", name, pages << (PAGE_SHIFT - 10));
}

static int report_meminfo(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	struct mem_totals t;
	unsigned long sreclaimable = hook_value(kmm_meminfo_hooks.slab_reclaimable);
	unsigned long sunreclaim = hook_value(kmm_meminfo_hooks.slab_unreclaimable);
	unsigned long vmalloc_used = hook_value(kmm_meminfo_hooks.vmalloc_used_pages);
	unsigned long pagetables = hook_value(kmm_meminfo_hooks.pagetable_pages);
	unsigned long vmalloc_total_kb = (unsigned long)(kmm.vmalloc_end - kmm.vmalloc_start) >> 10;
	unsigned long reclaimable;
	long available;

	mem_totals(&t);

	/*
	 * [6.x] si_mem_available without a page cache: free pages above the
	 * reserve, plus the reclaimable slab that can go without dipping below
	 * the low watermarks.
	 */
	available = (long)t.free - (long)READ_ONCE(kmm.totalreserve_pages);
	reclaimable = sreclaimable;
	reclaimable -= reclaimable / 2 < t.low_wmarks ? reclaimable / 2 : t.low_wmarks;
	available += (long)reclaimable;
	if (available < 0)
		available = 0;

	kmm_tb_init(&tb, emit, ctx);
	meminfo_kb(&tb, "MemTotal:", t.managed);
	meminfo_kb(&tb, "MemFree:", t.free);
	meminfo_kb(&tb, "MemAvailable:", (unsigned long)available);
	meminfo_kb(&tb, "Buffers:", 0);
	meminfo_kb(&tb, "Cached:", 0);
	meminfo_kb(&tb, "SwapCached:", 0);
	meminfo_kb(&tb, "Active:", 0);
	meminfo_kb(&tb, "Inactive:", 0);
	meminfo_kb(&tb, "Active(anon):", 0);
	meminfo_kb(&tb, "Inactive(anon):", 0);
	meminfo_kb(&tb, "Active(file):", 0);
	meminfo_kb(&tb, "Inactive(file):", 0);
	meminfo_kb(&tb, "Unevictable:", 0);
	meminfo_kb(&tb, "Mlocked:", 0);
	if (t.has_highmem) {
		meminfo_kb(&tb, "HighTotal:", t.high_managed);
		meminfo_kb(&tb, "HighFree:", t.high_free);
		meminfo_kb(&tb, "LowTotal:", t.managed - t.high_managed);
		meminfo_kb(&tb, "LowFree:", t.free - t.high_free);
	}
	meminfo_kb(&tb, "SwapTotal:", 0);
	meminfo_kb(&tb, "SwapFree:", 0);
	meminfo_kb(&tb, "Dirty:", 0);
	meminfo_kb(&tb, "Writeback:", 0);
	meminfo_kb(&tb, "AnonPages:", 0);
	meminfo_kb(&tb, "Mapped:", 0);
	meminfo_kb(&tb, "Shmem:", 0);
	meminfo_kb(&tb, "KReclaimable:", sreclaimable);
	meminfo_kb(&tb, "Slab:", sreclaimable + sunreclaim);
	meminfo_kb(&tb, "SReclaimable:", sreclaimable);
	meminfo_kb(&tb, "SUnreclaim:", sunreclaim);
	kmm_tb_printf(&tb, "%-16s%8lu kB\n", "KernelStack:", 0UL);
	meminfo_kb(&tb, "PageTables:", pagetables);
	meminfo_kb(&tb, "Bounce:", 0);
	/* overcommit_ratio 50, no swap, no hugetlb pages */
	meminfo_kb(&tb, "CommitLimit:", t.managed / 2);
	meminfo_kb(&tb, "Committed_AS:", 0);
	kmm_tb_printf(&tb, "%-16s%8lu kB\n", "VmallocTotal:", vmalloc_total_kb);
	meminfo_kb(&tb, "VmallocUsed:", vmalloc_used);
	meminfo_kb(&tb, "VmallocChunk:", 0);
	meminfo_kb(&tb, "Percpu:", 0);
	meminfo_kb(&tb, "AnonHugePages:", 0);
	meminfo_kb(&tb, "CmaTotal:", 0);
	meminfo_kb(&tb, "CmaFree:", 0);
	kmm_tb_printf(&tb, "%-19s%5lu\n", "HugePages_Total:", 0UL);
	kmm_tb_printf(&tb, "%-19s%5lu\n", "HugePages_Free:", 0UL);
	kmm_tb_printf(&tb, "%-19s%5lu\n", "HugePages_Rsvd:", 0UL);
	kmm_tb_printf(&tb, "%-19s%5lu\n", "HugePages_Surp:", 0UL);
	kmm_tb_printf(&tb, "%-16s%8lu kB\n", "Hugepagesize:", HPAGE_KB);
	/* the linear map covers low memory with 4 KiB "pages" */
	meminfo_kb(&tb, "DirectMap4k:", kmm.max_low_pfn);
	meminfo_kb(&tb, "DirectMap2M:", 0);
	meminfo_kb(&tb, "DirectMap1G:", 0);
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* vmstat (REFERENCE 13.5; Linux's order: zone, numa, node, events)    */
/* ------------------------------------------------------------------ */

static int report_vmstat(kmm_emit_fn emit, void *ctx)
{
	static const struct { const char *name; enum vm_event_item item; } numa[] = {
		{ "numa_hit", NUMA_HIT }, { "numa_miss", NUMA_MISS }, { "numa_foreign", NUMA_FOREIGN },
		{ "numa_interleave", NR_VM_EVENTS }, { "numa_local", NUMA_LOCAL }, { "numa_other", NUMA_OTHER },
	};
	static const struct { const char *name; enum vm_event_item item; } events[] = {
		{ "pgalloc_dma", PGALLOC_DMA }, { "pgalloc_dma32", PGALLOC_DMA32 },
		{ "pgalloc_normal", PGALLOC_NORMAL }, { "pgalloc_high", PGALLOC_HIGH },
		{ "pgalloc_movable", NR_VM_EVENTS }, { "allocstall", ALLOCSTALL }, { "pgfree", PGFREE },
		/* kmm's own events, after Linux's */
		{ "pgalloc_fail", PGALLOC_FAIL }, { "pcp_refill", PCP_REFILL }, { "pcp_drain", PCP_DRAIN },
	};
	struct kmm_textbuf tb;
	struct mem_totals t;
	unsigned long steals = 0, highatomic = 0, reported = 0;

	mem_totals(&t);
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = report_zone(nid, zi);

			if (!z)
				continue;
			steals += READ_ONCE(z->stats.steals);
			highatomic += READ_ONCE(z->nr_reserved_highatomic);
			reported += READ_ONCE(z->stats.reported_pages);
		}
	}

	kmm_tb_init(&tb, emit, ctx);
	kmm_tb_printf(&tb, "nr_free_pages %lu\n", t.free);
	for (size_t i = 0; i < ARRAY_SIZE(numa); i++)
		kmm_tb_printf(&tb, "%s %lu\n", numa[i].name,
			      numa[i].item == NR_VM_EVENTS ? 0UL : kmm_sum_event(numa[i].item));
	kmm_tb_printf(&tb, "nr_slab_reclaimable %lu\n", hook_value(kmm_meminfo_hooks.slab_reclaimable));
	kmm_tb_printf(&tb, "nr_slab_unreclaimable %lu\n", hook_value(kmm_meminfo_hooks.slab_unreclaimable));
	kmm_tb_printf(&tb, "nr_page_table_pages %lu\n", hook_value(kmm_meminfo_hooks.pagetable_pages));
	kmm_tb_printf(&tb, "nr_vmalloc %lu\n", hook_value(kmm_meminfo_hooks.vmalloc_used_pages));
	for (size_t i = 0; i < ARRAY_SIZE(events); i++)
		kmm_tb_printf(&tb, "%s %lu\n", events[i].name,
			      events[i].item == NR_VM_EVENTS ? 0UL : kmm_sum_event(events[i].item));
	kmm_tb_printf(&tb, "pageblock_steals %lu\n", steals);
	kmm_tb_printf(&tb, "nr_reserved_highatomic %lu\n", highatomic);
	kmm_tb_printf(&tb, "free_pages_reported %lu\n", reported);
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* extfrag (REFERENCE 13.6: unusable_index, then extfrag_index)        */
/* ------------------------------------------------------------------ */

/* Linux fill_contig_page_info, from a snapshot. */
struct contig_info {
	unsigned long free_pages, free_blocks_total, free_blocks_suitable;
};

static void contig_info(const struct zone_snap *s, unsigned int order, struct contig_info *ci)
{
	ci->free_pages = ci->free_blocks_total = ci->free_blocks_suitable = 0;
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long blocks = s->nr_free[o];

		ci->free_blocks_total += blocks;
		ci->free_pages += blocks << o;
		if (o >= order)
			ci->free_blocks_suitable += blocks << (o - order);
	}
}

/* thousandths of the share of free memory in blocks too small for @order */
static int unusable_index(unsigned int order, const struct contig_info *ci)
{
	if (ci->free_pages == 0)
		return 1000;
	return (int)((ci->free_pages - (ci->free_blocks_suitable << order)) * 1000ULL / ci->free_pages);
}

/* thousandths: near 0 a failure would be for lack of memory, near 1000 for
 * fragmentation; -1000 when a suitable block exists */
static int fragmentation_index(unsigned int order, const struct contig_info *ci)
{
	unsigned long requested = 1UL << order;

	if (!ci->free_blocks_total)
		return 0;
	if (ci->free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + ci->free_pages * 1000ULL / requested) / ci->free_blocks_total);
}

static int report_extfrag(kmm_emit_fn emit, void *ctx)
{
	struct kmm_textbuf tb;
	struct rline l;

	rl_init(&l);
	kmm_tb_init(&tb, emit, ctx);
	for (int pass = 0; pass < 2; pass++) {
		kmm_tb_printf(&tb, "%s\n", pass == 0 ? "unusable_index:" : "extfrag_index:");
		for (int nid = 0; nid < kmm.nr_nodes; nid++) {
			for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
				struct zone *z = report_zone(nid, zi);
				struct zone_snap s;

				if (!z)
					continue;
				snap_zone(z, &s, false);
				rl_add(&l, "Node %d, zone %8s ", nid, zone_name(z, zi));
				for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
					struct contig_info ci;
					int idx;

					contig_info(&s, o, &ci);
					if (pass == 0) {
						idx = unusable_index(o, &ci);
						rl_add(&l, "%d.%03d ", idx / 1000, idx % 1000);
					} else {
						idx = fragmentation_index(o, &ci);
						/* -1000 prints "-1.000" (idx % 1000 == 0) */
						rl_add(&l, "%2d.%03d ", idx / 1000, idx % 1000);
					}
				}
				rl_end(&tb, &l);
			}
		}
	}
	kmm_tb_flush(&tb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* slabinfo / vmallocinfo before their layers register                 */
/* ------------------------------------------------------------------ */

static int report_slabinfo_empty(kmm_emit_fn emit, void *ctx)
{
	emit(ctx, "slabinfo - version: 2.1\n"
		  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		  " : tunables <limit> <batchcount> <sharedfactor>"
		  " : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	return 0;
}

static int report_vmallocinfo_empty(kmm_emit_fn emit, void *ctx)
{
	(void)emit;
	(void)ctx;
	return 0;	/* no areas: /proc/vmallocinfo has no header */
}

/* ------------------------------------------------------------------ */
/* The registry                                                        */
/* ------------------------------------------------------------------ */

struct report_entry {
	const char *name;
	kmm_report_fn fn;
};

static const struct report_entry builtin_reports[] = {
	{ "buddyinfo", report_buddyinfo },
	{ "pagetypeinfo", report_pagetypeinfo },
	{ "zoneinfo", report_zoneinfo },
	{ "meminfo", report_meminfo },
	{ "vmstat", report_vmstat },
	{ "extfrag", report_extfrag },
	{ "slabinfo", report_slabinfo_empty },
	{ "vmallocinfo", report_vmallocinfo_empty },
};

static struct report_entry registered_reports[KMM_MAX_REPORTS];
static int nr_registered_reports;

/*
 * kmm_register_report - make report @name produce @fn's output.  @name must
 * stay valid (a string literal); registering a name again replaces the
 * function; @fn NULL removes the registration (a built-in of that name
 * shows again).  Context: set-up time (layer init), not while reporting.
 */
void kmm_register_report(const char *name, kmm_report_fn fn)
{
	for (int i = 0; i < nr_registered_reports; i++) {
		if (kmm_strcmp(registered_reports[i].name, name) == 0) {
			registered_reports[i].fn = fn;
			return;
		}
	}
	if (!fn)
		return;
	if (nr_registered_reports == KMM_MAX_REPORTS) {
		kmm_log("report: no room to register report '%s' (%d names at most)", name, KMM_MAX_REPORTS);
		return;
	}
	registered_reports[nr_registered_reports].name = name;
	registered_reports[nr_registered_reports].fn = fn;
	nr_registered_reports++;
}

/**
 * kmm_report - write the statistics report @name through @emit
 * @name: "buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat",
 *        "extfrag", "slabinfo", "vmallocinfo"
 * @emit: receives the text in pieces of whole lines
 * @ctx: passed to @emit
 * Context: may be called from any thread of a booted machine; takes each
 *          zone lock briefly (never while @emit runs), so the caller must
 *          hold no zone lock.  @emit may call into kmm.
 * Return: 0; -EINVAL when no machine is booted (or @name / @emit is NULL);
 *         -ENOENT for an unknown name.
 */
int kmm_report(const char *name, kmm_emit_fn emit, void *ctx)
{
	if (!name || !emit || !kmm.booted)
		return -KMM_EINVAL;
	for (int i = 0; i < nr_registered_reports; i++)
		if (registered_reports[i].fn && kmm_strcmp(registered_reports[i].name, name) == 0)
			return registered_reports[i].fn(emit, ctx);
	for (size_t i = 0; i < ARRAY_SIZE(builtin_reports); i++)
		if (kmm_strcmp(builtin_reports[i].name, name) == 0)
			return builtin_reports[i].fn(emit, ctx);
	return -KMM_ENOENT;
}
