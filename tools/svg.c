/*
 * svg.c - the pictures of the kmm CLI: a map of physical memory coloured by
 * frame state, and a chart of free pages per order over time.  Plain SVG
 * 1.1 written with stdio, no dependencies; every file stays well under
 * 2 MB whatever the machine size.
 *
 * The map: nodes are boxes, zones are labelled bands inside them, and each
 * zone is a grid of cells, CELL_COLS per row.  A cell stands for G frames
 * (G a power of two chosen so the whole machine needs at most MAX_CELLS
 * cells: 1 frame per cell up to 128 MiB, 8 frames for 1 GiB) and takes the
 * colour of the state most of its frames are in.  Runs of equal cells in
 * a row become one rectangle, and all rectangles of one colour one <path>,
 * so the size grows with the picture's detail, not with memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmm_tool.h"

#define MAX_CELLS   32768	/* cells in the whole map (bounds the file size) */
#define CELL_COLS   256		/* cells per row */
#define CELL_PX     4		/* cell edge in pixels */
#define MARGIN      20
#define NODE_PAD    12		/* inside a node box */
#define ZONE_LABEL  18		/* height of a zone's label line */
#define ZONE_GAP    10		/* between zones */
#define NODE_TITLE  22
#define NODE_GAP    16
#define LEGEND_ROW  18

/* Colours: free blocks in blues (light = small order, dark = large), the
 * allocated states in distinct warm or neutral colours. */
static const char *const free_colour[NR_PAGE_ORDERS] = {
	"#e3eef9", "#d0e1f2", "#b7d4ea", "#94c4df", "#6aaed6", "#4a98c9",
	"#2e7ebc", "#1764ab", "#084d96", "#083b7c", "#08306b",
};

static const char *state_colour(int s)
{
	if (s >= KMM_FRAME_FREE && s <= MAX_PAGE_ORDER)
		return free_colour[s];
	switch (s) {
	case KMM_FRAME_PCP: return "#ffd92f";
	case KMM_FRAME_SLAB: return "#e6550d";
	case KMM_FRAME_LARGE_KMALLOC: return "#fdae6b";
	case KMM_FRAME_VMALLOC: return "#756bb1";
	case KMM_FRAME_KMAPPED: return "#e7298a";
	case KMM_FRAME_PGTABLE: return "#8c510a";
	case KMM_FRAME_RESERVED: return "#525252";
	case KMM_FRAME_ALLOCATED: return "#cb181d";
	case KMM_FRAME_DEFERRED: return "#c6dbef";
	default: return "#ffffff";
	}
}

static const char *state_name(int s)
{
	switch (s) {
	case KMM_FRAME_PCP: return "per-CPU lists (free, cached)";
	case KMM_FRAME_SLAB: return "slab / SLOB pages";
	case KMM_FRAME_LARGE_KMALLOC: return "large kmalloc";
	case KMM_FRAME_VMALLOC: return "vmalloc";
	case KMM_FRAME_KMAPPED: return "kmapped highmem";
	case KMM_FRAME_PGTABLE: return "page tables";
	case KMM_FRAME_RESERVED: return "reserved at boot";
	case KMM_FRAME_ALLOCATED: return "other allocated";
	case KMM_FRAME_DEFERRED: return "free, not yet initialised (deferred_init)";
	default: return "?";
	}
}

/* Priority when two states are equally common in a cell: the rarer kinds
 * of allocation win, so small things stay visible. */
static int state_priority(int s)
{
	switch (s) {
	case KMM_FRAME_KMAPPED: return 9;
	case KMM_FRAME_PGTABLE: return 8;
	case KMM_FRAME_VMALLOC: return 7;
	case KMM_FRAME_SLAB: return 6;
	case KMM_FRAME_LARGE_KMALLOC: return 5;
	case KMM_FRAME_PCP: return 4;
	case KMM_FRAME_ALLOCATED: return 3;
	case KMM_FRAME_RESERVED: return 2;
	default: return 0;	/* free */
	}
}

/* ---- snapshot ------------------------------------------------------------ */

int picture_take(struct mem_picture *p)
{
	struct kmm_layout lay;
	memset(p, 0, sizeof(*p));
	if (kmm_get_layout(&lay))
		return -1;
	p->max_pfn = lay.max_pfn;
	p->states = xmalloc(p->max_pfn);
	memset(p->states, KMM_FRAME_ALLOCATED, p->max_pfn);
	p->nr_zones = zones_snapshot(&p->zones);
	if (p->nr_zones < 0 || kmm_frame_states(0, p->max_pfn, p->states) < 0) {
		picture_free(p);
		return -1;
	}
	return 0;
}

void picture_free(struct mem_picture *p)
{
	free(p->states);
	free(p->zones);
	memset(p, 0, sizeof(*p));
}

void picture_count(const struct mem_picture *p, unsigned long *counts)
{
	memset(counts, 0, sizeof(unsigned long) * KMM_FRAME_NR_STATES);
	for (unsigned long i = 0; i < p->max_pfn; i++)
		if (p->states[i] < KMM_FRAME_NR_STATES)
			counts[p->states[i]]++;
}

/* ---- helpers --------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void fmt_size(char *buf, size_t n, double bytes)
{
	if (bytes >= 1024.0 * 1024 * 1024)
		snprintf(buf, n, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
	else if (bytes >= 1024.0 * 1024)
		snprintf(buf, n, "%.1f MiB", bytes / (1024.0 * 1024));
	else
		snprintf(buf, n, "%.0f KiB", bytes / 1024.0);
}

static double pages_bytes(unsigned long pages) { return (double)pages * (double)PAGE_SIZE; }

static FILE *svg_open(const char *path, int w, int h)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		tool_err("cannot write %s", path);
		return NULL;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
		w, h, w, h);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
	return f;
}

static int svg_close(FILE *f, const char *path)
{
	fputs("</svg>\n", f);
	if (ferror(f) | fclose(f)) {
		tool_err("error writing %s", path);
		return -1;
	}
	return 0;
}

/* ---- the memory map -------------------------------------------------------- */

struct path_set {
	struct strbuf d[KMM_FRAME_NR_STATES];
	bool used[KMM_FRAME_NR_STATES];
};

static void add_rect(struct path_set *ps, int s, int x, int y, int w, int h)
{
	if (!ps->used[s]) {
		sb_init(&ps->d[s]);
		ps->used[s] = true;
	}
	sb_printf(&ps->d[s], "M%d %dh%dv%dh-%dz", x, y, w, h, w);
}

/* The state shown for frames [lo, hi): the most common, ties by priority. */
static int cell_state(const unsigned char *st, unsigned long lo, unsigned long hi)
{
	if (hi - lo == 1)
		return st[lo];
	unsigned int count[KMM_FRAME_NR_STATES] = { 0 };
	for (unsigned long i = lo; i < hi; i++)
		if (st[i] < KMM_FRAME_NR_STATES)
			count[st[i]]++;
	int best = KMM_FRAME_ALLOCATED;
	unsigned int best_n = 0;
	for (int s = 0; s < KMM_FRAME_NR_STATES; s++) {
		if (!count[s])
			continue;
		if (count[s] > best_n || (count[s] == best_n && state_priority(s) > state_priority(best))) {
			best = s;
			best_n = count[s];
		}
	}
	return best;
}

static unsigned long cell_pages(unsigned long max_pfn)
{
	unsigned long g = 1;
	while ((max_pfn + g - 1) / g > MAX_CELLS)
		g <<= 1;
	return g;
}

static int zone_rows(const struct kmm_zone_snapshot *z, unsigned long g)
{
	unsigned long cells = (z->spanned_pages + g - 1) / g;
	return (int)((cells + CELL_COLS - 1) / CELL_COLS);
}

int svg_memory_map(const char *path, const struct mem_picture *p, const char *title, const char *subtitle)
{
	const unsigned long g = cell_pages(p->max_pfn);
	const int grid_w = CELL_COLS * CELL_PX;
	const int node_w = grid_w + 2 * NODE_PAD;
	const int legend_w = 260;
	int width = MARGIN + node_w + MARGIN + legend_w + MARGIN;
	int nr_nodes = 0;
	for (int i = 0; i < p->nr_zones; i++)
		if (p->zones[i].nid + 1 > nr_nodes)
			nr_nodes = p->zones[i].nid + 1;

	/* layout pass: heights */
	int y = MARGIN + 44;
	for (int nid = 0; nid < nr_nodes; nid++) {
		y += NODE_TITLE;
		for (int i = 0; i < p->nr_zones; i++)
			if (p->zones[i].nid == nid)
				y += ZONE_LABEL + zone_rows(&p->zones[i], g) * CELL_PX + ZONE_GAP;
		y += NODE_PAD + NODE_GAP;
	}
	int legend_h = MARGIN + 44 + LEGEND_ROW * (NR_PAGE_ORDERS + 12);
	int height = (y > legend_h ? y : legend_h) + MARGIN;

	FILE *f = svg_open(path, width, height);
	if (!f)
		return -1;
	fputs("<text x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\">", f);
	xml_text(f, title);
	fputs("</text>\n<text x=\"20\" y=\"50\" fill=\"#444\">", f);
	xml_text(f, subtitle);
	char gs[32];
	fmt_size(gs, sizeof(gs), pages_bytes(g));
	fprintf(f, " - one cell = %lu page%s (%s), %d cells per row</text>\n", g, g > 1 ? "s" : "", gs, CELL_COLS);

	struct path_set ps;
	memset(&ps, 0, sizeof(ps));
	struct strbuf frames;	/* outlines and labels, written after the cells */
	sb_init(&frames);

	y = MARGIN + 44;
	for (int nid = 0; nid < nr_nodes; nid++) {
		int node_top = y;
		unsigned long node_pages = 0;
		y += NODE_TITLE;
		for (int i = 0; i < p->nr_zones; i++) {
			const struct kmm_zone_snapshot *z = &p->zones[i];
			if (z->nid != nid)
				continue;
			node_pages += z->spanned_pages;
			char sz[32], fr[32], lbl[256];
			fmt_size(sz, sizeof(sz), pages_bytes(z->spanned_pages));
			fmt_size(fr, sizeof(fr), pages_bytes(z->free_pages));
			snprintf(lbl, sizeof(lbl), "%s: pfn %lu-%lu, %s, %s free in the buddy lists, watermarks min/low/high %lu/%lu/%lu",
				 z->name, z->start_pfn, z->start_pfn + z->spanned_pages - 1, sz, fr,
				 z->watermark_min, z->watermark_low, z->watermark_high);
			sb_printf(&frames, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">", MARGIN + NODE_PAD, y + 13);
			/* escape through a temporary file-less path: labels hold no markup */
			sb_add(&frames, lbl);
			sb_add(&frames, "</text>\n");
			y += ZONE_LABEL;
			int gx = MARGIN + NODE_PAD;
			unsigned long cells = (z->spanned_pages + g - 1) / g;
			int rows = zone_rows(z, g);
			for (int r = 0; r < rows; r++) {
				int run_state = -1, run_start = 0;
				for (int c = 0; c <= CELL_COLS; c++) {
					unsigned long cell = (unsigned long)r * CELL_COLS + (unsigned long)c;
					int s = -1;
					if (c < CELL_COLS && cell < cells) {
						unsigned long lo = z->start_pfn + cell * g;
						unsigned long hi = lo + g;
						if (hi > z->start_pfn + z->spanned_pages)
							hi = z->start_pfn + z->spanned_pages;
						s = cell_state(p->states, lo, hi);
					}
					if (s != run_state) {
						if (run_state >= 0)
							add_rect(&ps, run_state, gx + run_start * CELL_PX, y + r * CELL_PX,
								 (c - run_start) * CELL_PX, CELL_PX);
						run_state = s;
						run_start = c;
					}
				}
			}
			/* zone outline: full rows, plus the partial last row */
			unsigned long last = cells - (unsigned long)(rows - 1) * CELL_COLS;
			int full_h = (rows - 1) * CELL_PX;
			int last_w = (int)last * CELL_PX;
			sb_printf(&frames,
				  "<path d=\"M%d %dh%dv%dh%dv%dh-%dz\" fill=\"none\" stroke=\"#222\" stroke-width=\"1\"/>\n",
				  gx, y, grid_w, full_h, last_w - grid_w, CELL_PX, last_w);
			y += rows * CELL_PX + ZONE_GAP;
		}
		y += NODE_PAD - ZONE_GAP;
		char sz[32];
		fmt_size(sz, sizeof(sz), pages_bytes(node_pages));
		sb_printf(&frames, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"none\" "
				   "stroke=\"#555\" stroke-width=\"2\"/>\n",
			  MARGIN, node_top, node_w, y - node_top);
		sb_printf(&frames, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">Node %d (%s)</text>\n",
			  MARGIN + NODE_PAD, node_top + 16, nid, sz);
		y += NODE_GAP;
	}

	for (int s = 0; s < KMM_FRAME_NR_STATES; s++) {
		if (!ps.used[s])
			continue;
		fprintf(f, "<path fill=\"%s\" d=\"%s\"/>\n", state_colour(s), ps.d[s].s);
		sb_free(&ps.d[s]);
	}
	fputs(frames.s, f);
	sb_free(&frames);

	/* legend, with the amount of memory in each state */
	unsigned long counts[KMM_FRAME_NR_STATES];
	picture_count(p, counts);
	int lx = MARGIN + node_w + MARGIN, ly = MARGIN + 44;
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">Legend</text>\n", lx, ly + 12);
	ly += LEGEND_ROW + 4;
	for (int o = 0; o < NR_PAGE_ORDERS; o++, ly += LEGEND_ROW) {
		char sz[32];
		fmt_size(sz, sizeof(sz), pages_bytes(counts[o]));
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#888\" stroke-width=\"0.5\"/>"
			   "<text x=\"%d\" y=\"%d\">free, order %d block%s: %s</text>\n",
			lx, ly, free_colour[o], lx + 20, ly + 10, o, o == MAX_PAGE_ORDER ? "s (max)" : "s", sz);
	}
	static const int others[] = {
		KMM_FRAME_PCP, KMM_FRAME_SLAB, KMM_FRAME_LARGE_KMALLOC, KMM_FRAME_VMALLOC, KMM_FRAME_KMAPPED,
		KMM_FRAME_PGTABLE, KMM_FRAME_RESERVED, KMM_FRAME_ALLOCATED,
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]) + 1; i++, ly += LEGEND_ROW) {
		if (i == sizeof(others) / sizeof(others[0])) {	/* only when there are any */
			if (!counts[KMM_FRAME_DEFERRED])
				break;
			char sz[32];
			fmt_size(sz, sizeof(sz), pages_bytes(counts[KMM_FRAME_DEFERRED]));
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#888\" "
				   "stroke-width=\"0.5\"/><text x=\"%d\" y=\"%d\">%s: %s</text>\n",
				lx, ly, state_colour(KMM_FRAME_DEFERRED), lx + 20, ly + 10, state_name(KMM_FRAME_DEFERRED), sz);
			continue;
		}
		char sz[32];
		fmt_size(sz, sizeof(sz), pages_bytes(counts[others[i]]));
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#888\" stroke-width=\"0.5\"/>"
			   "<text x=\"%d\" y=\"%d\">%s: %s</text>\n",
			lx, ly, state_colour(others[i]), lx + 20, ly + 10, state_name(others[i]), sz);
	}
	ly += 8;
	fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#444\">A cell shows the state most</text>\n", lx, ly + 10);
	fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#444\">of its frames are in.</text>\n", lx, ly + 10 + 15);
	return svg_close(f, path);
}

/* ---- the chart --------------------------------------------------------------- */

#define CH_W 900
#define CH_PLOT_X 70
#define CH_PLOT_W 620
#define CH_PLOT_H 220

/* x axis ticks and labels of a panel whose plot area ends at y0 */
static void x_axis(FILE *f, int y0, double tmin, double tmax, const char *x_label)
{
	for (int k = 0; k <= 5; k++) {
		double t = tmin + (tmax - tmin) * k / 5.0;
		char lab[32];
		if (tmax - tmin >= 100)
			snprintf(lab, sizeof(lab), "%.0f", t);
		else
			snprintf(lab, sizeof(lab), "%.3g", t);
		int x = CH_PLOT_X + (int)lround((t - tmin) / (tmax - tmin) * CH_PLOT_W);
		fprintf(f, "<path d=\"M%d %dv5\" stroke=\"#222\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, y0, x, y0 + 18, lab);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", CH_PLOT_X + CH_PLOT_W / 2, y0 + 34,
		x_label);
}

static void y_title(FILE *f, int top, const char *ylabel)
{
	fprintf(f, "<text transform=\"translate(%d %d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", 18,
		top + CH_PLOT_H / 2, ylabel);
}

/* Panel 1: free memory (MiB) stacked by order. */
static void stacked_panel(FILE *f, int top, const struct free_sample *s, int n, const char *x_label)
{
	double tmin = s[0].t, tmax = s[n - 1].t;
	if (tmax <= tmin)
		tmax = tmin + 1;
	double ymax = 0;
	for (int i = 0; i < n; i++) {
		double sum = 0;
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			sum += (double)s[i].free_pages[o];
		sum = sum * (double)PAGE_SIZE / (1024.0 * 1024);
		if (sum > ymax)
			ymax = sum;
	}
	if (ymax <= 0)
		ymax = 1;
	/* a round axis maximum */
	double step = pow(10, floor(log10(ymax)));
	if (ymax / step < 2)
		step /= 5;
	else if (ymax / step < 5)
		step /= 2;
	double axis = ceil(ymax / step) * step;

	int x0 = CH_PLOT_X, y0 = top + CH_PLOT_H;
#define XPOS(t) (x0 + (int)lround(((t) - tmin) / (tmax - tmin) * CH_PLOT_W))
#define YPOS(v) (y0 - (int)lround((v) / axis * CH_PLOT_H))
	double *base = xcalloc((size_t)n, sizeof(double));
	double *upper = xcalloc((size_t)n, sizeof(double));
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct strbuf d;
		sb_init(&d);
		for (int i = 0; i < n; i++) {
			upper[i] = base[i] + (double)s[i].free_pages[o] * (double)PAGE_SIZE / (1024.0 * 1024);
			sb_printf(&d, "%s%d %d", i ? " L" : "M", XPOS(s[i].t), YPOS(upper[i]));
		}
		for (int i = n - 1; i >= 0; i--)
			sb_printf(&d, " L%d %d", XPOS(s[i].t), YPOS(base[i]));
		fprintf(f, "<path fill=\"%s\" stroke=\"none\" d=\"%sz\"/>\n", free_colour[o], d.s);
		sb_free(&d);
		memcpy(base, upper, sizeof(double) * (size_t)n);
	}
	free(base);
	free(upper);
	fprintf(f, "<path d=\"M%d %dV%dH%d\" fill=\"none\" stroke=\"#222\"/>\n", x0, top, y0, x0 + CH_PLOT_W);
	for (double v = 0; v <= axis + step / 2; v += step)
		fprintf(f, "<path d=\"M%d %dh-5\" stroke=\"#222\"/><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>\n",
			x0, YPOS(v), x0 - 8, YPOS(v) + 4, v);
#undef XPOS
#undef YPOS
	x_axis(f, y0, tmin, tmax, x_label);
	y_title(f, top, "MiB free");
}

/* Panels 2 and 3: one line per order.  log: value = free pages in blocks of
 * that order on a log scale; else the unusable free space index (0..1). */
static void line_panel(FILE *f, int top, const struct free_sample *s, int n, bool log_scale, const char *x_label)
{
	double tmin = s[0].t, tmax = s[n - 1].t;
	if (tmax <= tmin)
		tmax = tmin + 1;
	double vmax = 1;
	if (log_scale)
		for (int i = 0; i < n; i++)
			for (int o = 0; o < NR_PAGE_ORDERS; o++)
				if ((double)s[i].free_pages[o] > vmax)
					vmax = (double)s[i].free_pages[o];
	int decades = log_scale ? (int)ceil(log10(vmax)) : 1;
	if (decades < 1)
		decades = 1;
	int x0 = CH_PLOT_X, y0 = top + CH_PLOT_H;
#define XPOS(t) (x0 + (int)lround(((t) - tmin) / (tmax - tmin) * CH_PLOT_W))
	for (int o = log_scale ? 0 : 1; o < NR_PAGE_ORDERS; o++) {
		struct strbuf d;
		sb_init(&d);
		for (int i = 0; i < n; i++) {
			double y;
			if (log_scale) {
				double v = (double)s[i].free_pages[o];
				y = v < 1 ? 0 : (log10(v) + 0.0) / decades;	/* 1 page = bottom, 0 drawn there too */
			} else {
				y = unusable_index(s[i].free_pages, o);
			}
			sb_printf(&d, "%s%d %d", i ? " L" : "M", XPOS(s[i].t), y0 - (int)lround(y * CH_PLOT_H));
		}
		fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" d=\"%s\"/>\n", free_colour[o],
			o < 3 ? "2.5" : "1.5", d.s);
		sb_free(&d);
	}
#undef XPOS
	fprintf(f, "<path d=\"M%d %dV%dH%d\" fill=\"none\" stroke=\"#222\"/>\n", x0, top, y0, x0 + CH_PLOT_W);
	if (log_scale) {
		for (int k = 0; k <= decades; k++) {
			int y = y0 - (int)lround((double)k / decades * CH_PLOT_H);
			fprintf(f, "<path d=\"M%d %dh-5\" stroke=\"#222\"/><text x=\"%d\" y=\"%d\" text-anchor=\"end\">1e%d</text>\n",
				x0, y, x0 - 8, y + 4, k);
		}
		y_title(f, top, "pages (log)");
	} else {
		for (int k = 0; k <= 4; k++) {
			int y = y0 - (int)lround(k / 4.0 * CH_PLOT_H);
			fprintf(f, "<path d=\"M%d %dh-5\" stroke=\"#222\"/><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.2f</text>\n",
				x0, y, x0 - 8, y + 4, k / 4.0);
		}
		y_title(f, top, "unusable index");
	}
	x_axis(f, y0, tmin, tmax, x_label);
}

int svg_free_chart(const char *path, const struct free_sample *samples, int n, const char *title, const char *x_label)
{
	struct free_sample one[2];
	if (n <= 0)
		return -1;
	if (n == 1) {	/* a flat chart from a single sample */
		one[0] = one[1] = samples[0];
		one[1].t = samples[0].t + 1;
		samples = one;
		n = 2;
	}
	const int panel = CH_PLOT_H + 80;
	int height = 60 + 3 * panel;
	FILE *f = svg_open(path, CH_W, height);
	if (!f)
		return -1;
	fputs("<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">", f);
	xml_text(f, title);
	fputs("</text>\n", f);
	int top1 = 60, top2 = top1 + panel, top3 = top2 + panel;
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">Free memory by buddy block order (MiB, stacked)</text>\n",
		CH_PLOT_X, top1 - 8);
	stacked_panel(f, top1, samples, n, x_label);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">Free pages in blocks of each order (log scale)</text>\n",
		CH_PLOT_X, top2 - 8);
	line_panel(f, top2, samples, n, true, x_label);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">Unusable free space index per order "
		   "(share of free memory in smaller blocks)</text>\n", CH_PLOT_X, top3 - 8);
	line_panel(f, top3, samples, n, false, x_label);
	int lx = CH_PLOT_X + CH_PLOT_W + 30, ly = top1;
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">order</text>\n", lx, ly + 10);
	for (int o = NR_PAGE_ORDERS - 1; o >= 0; o--) {
		ly += LEGEND_ROW;
		char sz[32];
		fmt_size(sz, sizeof(sz), pages_bytes(1UL << o));
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#888\" stroke-width=\"0.5\"/>"
			   "<text x=\"%d\" y=\"%d\">%d (%s)</text>\n",
			lx, ly, free_colour[o], lx + 20, ly + 10, o, sz);
	}
	return svg_close(f, path);
}
