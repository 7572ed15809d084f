/*
 * report.c - `kmm report [NAME|all] [--options OPTS] [--json]`: boot a
 * machine, run a short deterministic warm-up so the reports have content,
 * print one report or all of them, as text (the /proc formats) or JSON.
 *
 * JSON shapes (docs/tools.md):
 *   buddyinfo  {"nodes": [{"node": 0, "zones": [{"zone": "DMA", "free": [11 counts]}]}]}
 *   meminfo    {"MemTotal": kB, ...}   (the HugePages_ counts are plain numbers)
 *   vmstat     {"nr_free_pages": N, ...}
 *   slabinfo   {"version": "2.1", "caches": [{"name": ..., "active_objs": N, ...}]}
 *              (column names from the report's own header line)
 *   others     {"lines": ["...", ...]}
 * `kmm report --json` (or NAME all) prints {"buddyinfo": {...}, ...}.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kmm_tool.h"

/* ---- warm-up --------------------------------------------------------------- */

struct warm {
	struct page *pages[64];
	unsigned int orders[64];
	int nr_pages;
	struct kmem_cache *cache;
	void *objs[200];
	void *kobjs[300];
	void *varea[3];
	struct page *high[8];
	bool kmapped[8];
};

static uint64_t warm_clock_ns;
static uint64_t warm_clock(void) { return __atomic_add_fetch(&warm_clock_ns, 1000, __ATOMIC_RELAXED); }

static void warm_ctor(void *p) { memset(p, 0, 32); }

/* A fixed mix through every layer; everything stays allocated until
 * warm_down, so the reports show it. */
static void warm_up(struct warm *w, bool highmem)
{
	struct rng r;
	rng_seed(&r, 42);
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < 64; i++) {
		unsigned int order = i % 11 < 6 ? (unsigned int)(i % 4) : (unsigned int)rng_below(&r, 8);
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
		if (!p)
			continue;
		if (i % 3 == 0) {	/* freed again: holes in the free lists */
			__free_pages(p, order);
			continue;
		}
		w->pages[w->nr_pages] = p;
		w->orders[w->nr_pages++] = order;
	}
	w->cache = kmem_cache_create("report_warmup", 248, 0, SLAB_HWCACHE_ALIGN, warm_ctor);
	for (int i = 0; w->cache && i < 200; i++)
		w->objs[i] = kmem_cache_alloc(w->cache, GFP_KERNEL | __GFP_NOWARN);
	for (int i = 0; i < 300; i++)
		w->kobjs[i] = kmalloc(8 + rng_below(&r, i < 280 ? 2048 : 65536), GFP_KERNEL | __GFP_NOWARN);
	for (int i = 0; i < 3; i++)
		w->varea[i] = vmalloc((unsigned long)(i + 1) * 40960);
	for (int i = 0; highmem && i < 8; i++) {
		w->high[i] = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
		if (w->high[i] && i < 4) {
			kmap(w->high[i]);
			w->kmapped[i] = true;
		}
	}
}

static void warm_down(struct warm *w)
{
	for (int i = 0; i < w->nr_pages; i++)
		__free_pages(w->pages[i], w->orders[i]);
	for (int i = 0; w->cache && i < 200; i++)
		if (w->objs[i])
			kmem_cache_free(w->cache, w->objs[i]);
	if (w->cache)
		kmem_cache_destroy(w->cache);
	for (int i = 0; i < 300; i++)
		kfree(w->kobjs[i]);
	for (int i = 0; i < 3; i++)
		vfree(w->varea[i]);
	for (int i = 0; i < 8; i++) {
		if (!w->high[i])
			continue;
		if (w->kmapped[i])
			kunmap(w->high[i]);
		__free_page(w->high[i]);
	}
}

/* ---- JSON ---------------------------------------------------------------------- */

static void json_string(struct strbuf *b, const char *s, size_t n)
{
	sb_add(b, "\"");
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[3] = { '\\', (char)c, 0 };
			sb_add(b, e);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_addn(b, (const char *)&c, 1);
		}
	}
	sb_add(b, "\"");
}

/* a number token as JSON (integers and decimals pass; anything else is a string) */
static void json_number_or_string(struct strbuf *b, const char *tok)
{
	char *end;
	strtod(tok, &end);
	if (*tok && !*end && (isdigit((unsigned char)tok[0]) || (tok[0] == '-' && isdigit((unsigned char)tok[1]))))
		sb_add(b, tok);
	else
		json_string(b, tok, strlen(tok));
}

/* next line of text (modifies it); NULL at the end */
static char *next_line(char **cur)
{
	char *s = *cur;
	if (!s || !*s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = s + strlen(s);
	}
	return s;
}

static void json_lines(struct strbuf *b, char *text)
{
	sb_add(b, "{\"lines\": [");
	bool first = true;
	for (char *line; (line = next_line(&text));) {
		sb_add(b, first ? "\n    " : ",\n    ");
		json_string(b, line, strlen(line));
		first = false;
	}
	sb_add(b, "\n  ]}");
}

static void json_buddyinfo(struct strbuf *b, char *text)
{
	int cur_node = -1;
	sb_add(b, "{\"nodes\": [");
	for (char *line; (line = next_line(&text));) {
		int node, used = 0;
		char zone[32];
		if (sscanf(line, "Node %d, zone %31s%n", &node, zone, &used) != 2)
			continue;
		if (node != cur_node) {
			if (cur_node >= 0)
				sb_add(b, "\n    ]},");
			sb_printf(b, "\n    {\"node\": %d, \"zones\": [", node);
		} else {
			sb_add(b, ",");
		}
		sb_printf(b, "\n      {\"zone\": ");
		json_string(b, zone, strlen(zone));
		sb_add(b, ", \"free\": [");
		char *p = line + used;
		bool first = true;
		for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " ")) {
			sb_printf(b, "%s%s", first ? "" : ", ", tok);
			first = false;
		}
		sb_add(b, "]}");
		cur_node = node;
	}
	if (cur_node >= 0)
		sb_add(b, "\n    ]}");
	sb_add(b, "\n  ]}");
}

/* "Key:   123 kB" (meminfo) or "key 123" (vmstat) lines -> an object */
static void json_keyvalues(struct strbuf *b, char *text, bool meminfo)
{
	sb_add(b, "{");
	bool first = true;
	for (char *line; (line = next_line(&text));) {
		char key[96];
		char val[64];
		if (meminfo) {
			char *colon = strchr(line, ':');
			if (!colon || (size_t)(colon - line) >= sizeof(key))
				continue;
			memcpy(key, line, (size_t)(colon - line));
			key[colon - line] = '\0';
			if (sscanf(colon + 1, "%63s", val) != 1)
				continue;
		} else if (sscanf(line, "%95s %63s", key, val) != 2) {
			continue;
		}
		sb_add(b, first ? "\n    " : ",\n    ");
		json_string(b, key, strlen(key));
		sb_add(b, ": ");
		json_number_or_string(b, val);
		first = false;
	}
	sb_add(b, "\n  }");
}

static void json_slabinfo(struct strbuf *b, char *text)
{
	char *cols[32];
	int ncols = 0;
	char version[32] = "";
	bool first = true;
	sb_add(b, "{");
	for (char *line; (line = next_line(&text));) {
		if (!strncmp(line, "slabinfo - version:", 19)) {
			sscanf(line + 19, "%31s", version);
			sb_add(b, "\"version\": ");
			json_string(b, version, strlen(version));
			sb_add(b, ", \"caches\": [");
			continue;
		}
		if (line[0] == '#') {
			/* "# name <active_objs> ... : tunables <limit> ..." */
			ncols = 0;
			cols[ncols++] = "name";
			for (char *p = strchr(line, '<'); p && ncols < 32; p = strchr(p + 1, '<')) {
				char *e = strchr(p, '>');
				if (!e)
					break;
				*e = '\0';
				cols[ncols++] = p + 1;
				p = e;
			}
			continue;
		}
		if (!ncols)
			continue;
		sb_add(b, first ? "\n    {" : ",\n    {");
		first = false;
		int c = 0;
		for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
			if (!strcmp(tok, ":") || !strcmp(tok, "tunables") || !strcmp(tok, "slabdata"))
				continue;
			if (c >= ncols)
				break;
			if (c)
				sb_add(b, ", ");
			json_string(b, cols[c], strlen(cols[c]));
			sb_add(b, ": ");
			if (c == 0)
				json_string(b, tok, strlen(tok));
			else
				json_number_or_string(b, tok);
			c++;
		}
		sb_add(b, "}");
	}
	if (!version[0])
		sb_add(b, "\"caches\": [");
	sb_add(b, "\n  ]}");
}

static int report_json(struct strbuf *b, const char *name)
{
	char *t = report_text(name);
	if (!t)
		return -1;
	if (!strcmp(name, "buddyinfo"))
		json_buddyinfo(b, t);
	else if (!strcmp(name, "meminfo"))
		json_keyvalues(b, t, true);
	else if (!strcmp(name, "vmstat"))
		json_keyvalues(b, t, false);
	else if (!strcmp(name, "slabinfo"))
		json_slabinfo(b, t);
	else
		json_lines(b, t);
	free(t);
	return 0;
}

/* ---- command ----------------------------------------------------------------------- */

static void report_usage(FILE *f)
{
	fprintf(f, "usage: kmm report [NAME|all] [--options 'BOOT OPTIONS'] [--json] [--no-warmup]\n"
		   "  NAME: ");
	for (int i = 0; report_names[i]; i++)
		fprintf(f, "%s%s", report_names[i], report_names[i + 1] ? ", " : "\n");
	fprintf(f, "  Boots the machine, runs a short deterministic warm-up (pages, a slab cache, kmalloc,\n"
		   "  vmalloc, kmap) and prints the report(s) while the warm-up's memory is held.\n");
}

int cmd_report(int argc, char **argv)
{
	const char *name = NULL, *options = "";
	bool json = false, warmup = true;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = opt_value(argc, argv, &i, "--options")))
			options = v;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--no-warmup"))
			warmup = false;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			report_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			tool_err("report: unknown option '%s'", argv[i]);
			report_usage(stderr);
			return 2;
		} else if (!name) {
			name = argv[i];
		} else {
			tool_err("report: one report name at a time (or 'all')");
			return 2;
		}
	}
	bool all = !name || !strcmp(name, "all");
	if (!all) {
		bool known = false;
		for (int i = 0; report_names[i]; i++)
			known |= !strcmp(name, report_names[i]);
		if (!known) {
			tool_err("report: unknown report '%s'", name);
			report_usage(stderr);
			return 2;
		}
	}

	warm_clock_ns = 0;
	kmm_set_clock(warm_clock);
	int rc = kmm_boot(options);
	if (rc) {
		tool_err("report: kmm_boot(\"%s\") failed: %s", options, strerror(-rc));
		kmm_set_clock(NULL);
		return 1;
	}
	struct kmm_zone_snapshot *z;
	int nz = zones_snapshot(&z);
	bool highmem = false;
	for (int i = 0; i < nz; i++)
		highmem |= z[i].zone_idx == 3;
	free(z);
	struct warm *w = xcalloc(1, sizeof(*w));
	if (warmup)
		warm_up(w, highmem);

	int status = 0;
	struct strbuf out;
	sb_init(&out);
	if (json) {
		if (all) {
			sb_add(&out, "{");
			for (int i = 0; report_names[i]; i++) {
				sb_printf(&out, "%s\n  \"%s\": ", i ? "," : "", report_names[i]);
				if (report_json(&out, report_names[i]))
					status = 1;
			}
			sb_add(&out, "\n}\n");
		} else {
			if (report_json(&out, name))
				status = 1;
			sb_add(&out, "\n");
		}
	} else {
		for (int i = 0; report_names[i]; i++) {
			if (!all && strcmp(name, report_names[i]))
				continue;
			char *t = report_text(report_names[i]);
			if (!t) {
				status = 1;
				continue;
			}
			if (all)
				sb_printf(&out, "%s==> %s <==\n", i ? "\n" : "", report_names[i]);
			sb_add(&out, t);
			free(t);
		}
	}
	fputs(out.s, stdout);
	fflush(stdout);
	sb_free(&out);
	if (warmup)
		warm_down(w);
	free(w);
	kmm_shutdown();
	kmm_set_clock(NULL);
	return status;
}
