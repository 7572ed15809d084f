/*
 * machine.c - boot and shutdown of the simulated machine: the command line,
 * the memory layout, NUMA nodes, zones, mem_map, zonelists and the host
 * address-space windows (linear map, vmalloc, pkmap, fixmap).
 *
 * 1. Overview
 *    kmm_boot() parses a kernel-style command line into struct kmm_config,
 *    lays physical memory out as nodes (consecutive pfn ranges, node 0
 *    lowest) cut into zones by the zones= upper bounds, opens the backing
 *    (platform), reserves one host address range for every kernel window,
 *    maps low memory once in the linear window (__va(phys) = page_offset +
 *    phys), places mem_map and the per-CPU areas in low memory with a
 *    top-down boot allocator (memblock), initialises every page descriptor
 *    and hands the remaining frames to the buddy allocator in maximal aligned
 *    blocks.  Watermarks, lowmem_reserve and per-CPU list sizes follow.
 *    With deferred_init=on (the malloc shim's machine) the descriptors,
 *    those of the boot reservations included, are initialised only as the
 *    zones grow on demand (kmm_deferred_grow_zone, section "Deferred struct
 *    page initialisation" below): a boot touches none of mem_map but what
 *    its own allocations need, whatever the size of the machine.
 *
 *    Host address layout (one reservation, 4 MiB aligned):
 *      page_offset   linear map of low memory (DMA, DMA32, NORMAL)
 *      +8 MiB        VMALLOC_OFFSET hole (catches overruns off the linear map)
 *      vmalloc_start .. vmalloc_end   (vmalloc= bytes)
 *      2 pages       hole
 *      pkmap_base    LAST_PKMAP = pkmap= pages (permanent kmaps)
 *      1 page        hole
 *      fixmap_base   (nr_cpus + 1) * KM_MAX_IDX pages (kmap_atomic windows)
 *
 * 2. Invariants (kmm_check tests them through check.c)
 *    - Zones of one node are contiguous, ascending by zone index, and
 *      cover the node; every pfn < max_pfn belongs to exactly one zone.
 *    - max_low_pfn is the first pfn of HIGHMEM (max_pfn when there is none);
 *      exactly the pfns below it have linear addresses.
 *    - Every page in a memblock reservation is PG_reserved with refcount 1
 *      and never reaches the buddy lists; managed = present - reserved.
 *      With deferred_init=on this holds below each zone's deferred_pfn;
 *      above it no descriptor is initialised (they read as zeroes) and
 *      kmm_pfn_reserved answers from the reservation list.
 *    - A zone's frames at or above deferred_pfn are free (deferred_pages
 *      of them, managed minus the reserved) and on no list; deferred_pfn
 *      only grows, under the zone lock, in 2^MAX_PAGE_ORDER-aligned steps
 *      (or to the zone's end).
 *    - struct page flags carry the page's node id and zone index.
 *
 * 3. Locks
 *    Boot and shutdown run alone: the caller guarantees no other thread is
 *    inside kmm (as a kernel boots before starting other CPUs).  Nothing
 *    here takes a lock after boot, except the fixmap helpers, which touch
 *    only the caller's own windows.
 *
 * 4. Failure
 *    Every bad option is -EINVAL with one "kmm: boot: ..." line naming it;
 *    a host that cannot back the machine gives -ENOMEM; everything made so
 *    far is undone before returning.
 *
 * Which Linux: zone layout and names [2.6.11] (x86-32 DMA/NORMAL/HIGHMEM by
 * default, DMA32 available); node order from find_next_best_node (both
 * eras); FLATMEM mem_map; memblock-style top-down boot reservations;
 * deferred_init=on after [4.2+] DEFERRED_STRUCT_PAGE_INIT and [4.17+]
 * deferred_grow_zone, but on demand for every zone (see there).
 */
#include "internal.h"
#include "slab.h"
#include "annotate.h"

struct kmm_machine kmm;
#ifdef KMM_VALGRIND
char kmm_ann_pool;	/* annotate.h: memcheck's pool of this machine's objects */
#endif

static pg_data_t node_data_storage[MAX_NUMNODES];

const char *const kmm_zone_names[MAX_NR_ZONES] = { "DMA", "DMA32", "Normal", "HighMem" };
const char *const kmm_migratetype_names[MIGRATE_TYPES] = { "Unmovable", "Movable", "Reclaimable", "HighAtomic" };

_Static_assert(sizeof(struct kmm_thread) <= KMM_THREAD_STATE_SIZE, "thread state block too small");

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

#define DEFAULT_MEM (1UL << 30)
#define MIN_MEM     (4UL << 20)
#define DEFAULT_VMALLOC (128UL << 20)
#define DEFAULT_PKMAP 512
#define DEFAULT_OOM_WAIT_MS 5000

static void set_default_zones(struct kmm_config *cfg, bool with_highmem)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		cfg->zone_present[z] = false;
		cfg->zone_end[z] = ULONG_MAX;
	}
	cfg->zone_present[ZONE_DMA] = true;
	cfg->zone_end[ZONE_DMA] = 16UL << 20;
	cfg->zone_present[ZONE_NORMAL] = true;
	if (with_highmem) {
		/* x86-32: 896 MiB = 1 GiB of kernel space minus the 128 MiB window */
		cfg->zone_end[ZONE_NORMAL] = 896UL << 20;
		cfg->zone_present[ZONE_HIGHMEM] = true;
	} else {
		/* x86-64: DMA32 up to 4 GiB, NORMAL above */
		cfg->zone_present[ZONE_DMA32] = true;
		cfg->zone_end[ZONE_DMA32] = 4UL << 30;
	}
}

void kmm_default_config(struct kmm_config *cfg)
{
	kmm_memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = DEFAULT_MEM;
	cfg->nr_nodes = 2;
	set_default_zones(cfg, true);
	cfg->cpus = kmm_plat_host_cpus();
	if (cfg->cpus > NR_CPUS)
		cfg->cpus = NR_CPUS;
	cfg->slab = SLAB_BACKEND_SLAB;
	cfg->pcp = true;
	cfg->min_free_kbytes = -1;
	cfg->on_error = ON_ERROR_ABORT;
	cfg->backing = KMM_BACKING_SHARED;
	cfg->vmalloc_bytes = DEFAULT_VMALLOC;
	cfg->pkmap = DEFAULT_PKMAP;
	cfg->profile = PROFILE_CLASSIC;
	cfg->oom_wait_ms = DEFAULT_OOM_WAIT_MS;
	cfg->slab_max_order = -1;
	cfg->lockdep = -1;
	cfg->slab_random = true;
}

/* One token "key=value" of the command line. */
struct token {
	char key[32];
	char val[160];
};

static int boot_error(const char *fmt, const char *a, const char *b)
{
	kmm_log(fmt, a, b);
	return -KMM_EINVAL;
}

static int parse_size_all(const char *s, unsigned long *out)
{
	const char *end;
	return kmm_parse_size(s, &end, out, true) && *end == '\0';
}

static int parse_number_all(const char *s, unsigned long *out)
{
	const char *end;
	return kmm_parse_size(s, &end, out, false) && *end == '\0';
}

static int parse_zones(const char *val, struct kmm_config *cfg)
{
	static const char *const names[MAX_NR_ZONES] = { "dma", "dma32", "normal", "highmem" };
	bool seen[MAX_NR_ZONES] = { false };
	unsigned long end_of[MAX_NR_ZONES];
	int last = -1;
	const char *p = val;

	while (*p) {
		char name[16];
		size_t n = 0;
		while (*p && *p != ':' && *p != ',' && n < sizeof(name) - 1)
			name[n++] = *p++;
		name[n] = '\0';
		int z = -1;
		for (int i = 0; i < MAX_NR_ZONES; i++)
			if (kmm_strcmp(name, names[i]) == 0)
				z = i;
		if (z < 0)
			return boot_error("kmm: boot: zones=%s: unknown zone '%s'", val, name);
		if (seen[z] || z <= last)
			return boot_error("kmm: boot: zones=%s: zone '%s' repeated or out of order", val, name);
		seen[z] = true;
		end_of[z] = ULONG_MAX;
		if (*p == ':') {
			const char *e;
			p++;
			if (!kmm_parse_size(p, &e, &end_of[z], true) || (*e && *e != ',') || end_of[z] == 0)
				return boot_error("kmm: boot: zones=%s: bad bound for '%s'", val, name);
			p = e;
		}
		if (last >= 0 && end_of[last] == ULONG_MAX)
			return boot_error("kmm: boot: zones=%s: only the last zone may be unbounded (%s)", val, names[last]);
		if (last >= 0 && end_of[z] <= end_of[last])
			return boot_error("kmm: boot: zones=%s: bound of '%s' not above the zone below", val, name);
		last = z;
		if (*p == ',')
			p++;
		else if (*p)
			return boot_error("kmm: boot: zones=%s: unexpected '%s'", val, p);
	}
	if (last < 0)
		return boot_error("kmm: boot: zones=%s: no zone given%s", val, "");
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		cfg->zone_present[z] = seen[z];
		cfg->zone_end[z] = seen[z] ? end_of[z] : ULONG_MAX;
	}
	return 0;
}

static int parse_numa(const char *val, struct kmm_config *cfg, bool *sizes_given)
{
	unsigned long n;
	*sizes_given = false;
	if (parse_number_all(val, &n)) {
		if (n < 1 || n > MAX_NUMNODES)
			return boot_error("kmm: boot: numa=%s: between 1 and 64 nodes%s", val, "");
		cfg->nr_nodes = (int)n;
		for (int i = 0; i < MAX_NUMNODES; i++)
			cfg->node_bytes[i] = 0;
		return 0;
	}
	const char *p = val;
	int nodes = 0;
	while (*p) {
		const char *e;
		unsigned long sz;
		if (nodes == MAX_NUMNODES || !kmm_parse_size(p, &e, &sz, true) || (*e && *e != ',') || sz == 0)
			return boot_error("kmm: boot: numa=%s: expected N or SIZE,SIZE,...%s", val, "");
		cfg->node_bytes[nodes++] = sz;
		p = *e ? e + 1 : e;
	}
	cfg->nr_nodes = nodes;
	*sizes_given = true;
	return 0;
}

static void split_token(const char **pp, struct token *t, bool *overlong)
{
	const char *p = *pp;
	size_t k = 0, v = 0;
	bool in_val = false;
	*overlong = false;
	t->key[0] = t->val[0] = '\0';
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (!in_val && *p == '=') {
			in_val = true;
		} else if (!in_val) {
			if (k < sizeof(t->key) - 1)
				t->key[k++] = *p;
			else
				*overlong = true;
		} else {
			if (v < sizeof(t->val) - 1)
				t->val[v++] = *p;
			else
				*overlong = true;
		}
		p++;
	}
	t->key[k] = '\0';
	t->val[v] = '\0';
	if (!in_val)
		t->val[0] = '\1';	/* marks "no '=' at all" */
	*pp = p;
}

/*
 * kmm_parse_cmdline - fill *cfg (already holding defaults) from cmdline.
 * Return: 0 or -EINVAL after a log line naming the bad option.
 */
int kmm_parse_cmdline(const char *cmdline, struct kmm_config *cfg)
{
	const char *p = cmdline ? cmdline : "";
	bool mem_given = false, node_sizes = false, zones_given = false, backing_given = false;

	while (*p) {
		struct token t;
		bool overlong;
		unsigned long n;
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			p++;
			continue;
		}
		const char *start = p;
		split_token(&p, &t, &overlong);
		if (overlong || t.val[0] == '\1' || t.val[0] == '\0') {
			char shown[48];
			size_t len = (size_t)(p - start) < sizeof(shown) - 1 ? (size_t)(p - start) : sizeof(shown) - 1;
			kmm_memcpy(shown, start, len);
			shown[len] = '\0';
			return boot_error("kmm: boot: malformed option '%s'%s (expected key=value)", shown, overlong ? "..." : "");
		}
		const char *k = t.key, *v = t.val;
		if (!kmm_strcmp(k, "mem")) {
			if (!parse_size_all(v, &n) || n < MIN_MEM)
				return boot_error("kmm: boot: mem=%s: expected a size of at least 4M%s", v, "");
			cfg->mem_bytes = n;
			mem_given = true;
		} else if (!kmm_strcmp(k, "numa")) {
			if (parse_numa(v, cfg, &node_sizes))
				return -KMM_EINVAL;
		} else if (!kmm_strcmp(k, "zones")) {
			if (parse_zones(v, cfg))
				return -KMM_EINVAL;
			zones_given = true;
		} else if (!kmm_strcmp(k, "cpus")) {
			if (!parse_number_all(v, &n) || n < 1 || n > NR_CPUS)
				return boot_error("kmm: boot: cpus=%s: between 1 and 256%s", v, "");
			cfg->cpus = (int)n;
		} else if (!kmm_strcmp(k, "slab")) {
			if (!kmm_strcmp(v, "slab"))
				cfg->slab = SLAB_BACKEND_SLAB;
			else if (!kmm_strcmp(v, "slob"))
				cfg->slab = SLAB_BACKEND_SLOB;
			else
				return boot_error("kmm: boot: slab=%s: expected slab or slob%s", v, "");
		} else if (!kmm_strcmp(k, "pcp")) {
			if (!kmm_strcmp(v, "on"))
				cfg->pcp = true;
			else if (!kmm_strcmp(v, "off"))
				cfg->pcp = false;
			else
				return boot_error("kmm: boot: pcp=%s: expected on or off%s", v, "");
		} else if (!kmm_strcmp(k, "min_free_kbytes")) {
			if (!parse_number_all(v, &n))
				return boot_error("kmm: boot: min_free_kbytes=%s: expected a number%s", v, "");
			cfg->min_free_kbytes = (long)(n > 1UL << 40 ? 1UL << 40 : n); /* clamped later */
		} else if (!kmm_strcmp(k, "slab_debug")) {
			unsigned int letters = 0;
			const char *q = v;
			for (; *q && *q != ','; q++) {
				switch (*q) {
				case 'F': case 'f': letters |= SLAB_DEBUG_F; break;
				case 'Z': case 'z': letters |= SLAB_DEBUG_Z; break;
				case 'P': case 'p': letters |= SLAB_DEBUG_P; break;
				case 'U': case 'u': letters |= SLAB_DEBUG_U; break;
				case '-': letters = 0; break;	/* "slab_debug=-": off */
				default:
					return boot_error("kmm: boot: slab_debug=%s: unknown letter in '%s' (FZPU)", v, v);
				}
			}
			if (q == v)	/* "slab_debug=,cache" or empty letters: all checks, as Linux */
				letters = SLAB_DEBUG_F | SLAB_DEBUG_Z | SLAB_DEBUG_P | SLAB_DEBUG_U;
			cfg->slab_debug = letters;
			cfg->slab_debug_cache[0] = '\0';
			if (*q == ',') {
				if (kmm_strlcpy(cfg->slab_debug_cache, q + 1, sizeof(cfg->slab_debug_cache)) >=
				    sizeof(cfg->slab_debug_cache) || !q[1])
					return boot_error("kmm: boot: slab_debug=%s: bad cache name%s", v, "");
			}
		} else if (!kmm_strcmp(k, "on_error")) {
			if (!kmm_strcmp(v, "report"))
				cfg->on_error = ON_ERROR_REPORT;
			else if (!kmm_strcmp(v, "abort"))
				cfg->on_error = ON_ERROR_ABORT;
			else
				return boot_error("kmm: boot: on_error=%s: expected report or abort%s", v, "");
		} else if (!kmm_strcmp(k, "backing")) {
			if (!kmm_strcmp(v, "shared"))
				cfg->backing = KMM_BACKING_SHARED;
			else if (!kmm_strcmp(v, "private"))
				cfg->backing = KMM_BACKING_PRIVATE;
			else
				return boot_error("kmm: boot: backing=%s: expected shared or private%s", v, "");
			backing_given = true;
		} else if (!kmm_strcmp(k, "vmalloc")) {
			if (!parse_size_all(v, &n) || n < (1UL << 20) || n > (1UL << 44))
				return boot_error("kmm: boot: vmalloc=%s: expected a size from 1M to 16T%s", v, "");
			cfg->vmalloc_bytes = ALIGN_UP(n, 1UL << 22);
		} else if (!kmm_strcmp(k, "pkmap")) {
			if (!parse_number_all(v, &n) || n < 1 || n > 4096 || (n & (n - 1)))
				return boot_error("kmm: boot: pkmap=%s: a power of two from 1 to 4096%s", v, "");
			cfg->pkmap = (int)n;
		} else if (!kmm_strcmp(k, "fail_page_alloc") || !kmm_strcmp(k, "failslab") ||
			   !kmm_strcmp(k, "fail_vmalloc") || !kmm_strcmp(k, "fail_mempool") || !kmm_strcmp(k, "fail_kmap")) {
			struct kmm_fault_attr probe;
			kmm_memset(&probe, 0, sizeof(probe));
			if (kmm_fault_parse_boot(&probe, v))
				return boot_error("kmm: boot: %s=%s: expected PROBABILITY,INTERVAL,TIMES[,SPACE]", k, v);
			char *dst = !kmm_strcmp(k, "failslab") ? cfg->failslab
				    : !kmm_strcmp(k, "fail_vmalloc") ? cfg->fail_vmalloc
				    : !kmm_strcmp(k, "fail_mempool") ? cfg->fail_mempool
				    : !kmm_strcmp(k, "fail_kmap") ? cfg->fail_kmap : cfg->fail_page_alloc;
			kmm_strlcpy(dst, v, sizeof(cfg->failslab));
		} else if (!kmm_strcmp(k, "init_on_alloc") || !kmm_strcmp(k, "init_on_free")) {
			if (kmm_strcmp(v, "0") && kmm_strcmp(v, "1"))
				return boot_error("kmm: boot: %s=%s: expected 0 or 1", k, v);
			*(!kmm_strcmp(k, "init_on_free") ? &cfg->init_on_free : &cfg->init_on_alloc) = v[0] == '1';
		} else if (!kmm_strcmp(k, "slab_random")) {
			if (!kmm_strcmp(v, "on"))
				cfg->slab_random = true;
			else if (!kmm_strcmp(v, "off"))
				cfg->slab_random = false;
			else
				return boot_error("kmm: boot: slab_random=%s: expected on or off%s", v, "");
		} else if (!kmm_strcmp(k, "random_seed")) {
			if (!parse_number_all(v, &n))
				return boot_error("kmm: boot: random_seed=%s: expected a number%s", v, "");
			cfg->random_seed = n;
		} else if (!kmm_strcmp(k, "lockdep")) {
			if (!kmm_strcmp(v, "on"))
				cfg->lockdep = 1;
			else if (!kmm_strcmp(v, "off"))
				cfg->lockdep = 0;
			else
				return boot_error("kmm: boot: lockdep=%s: expected on or off%s", v, "");
		} else if (!kmm_strcmp(k, "profile")) {
			if (!kmm_strcmp(v, "classic"))
				cfg->profile = PROFILE_CLASSIC;
			else if (!kmm_strcmp(v, "modern"))
				cfg->profile = PROFILE_MODERN;
			else
				return boot_error("kmm: boot: profile=%s: expected classic or modern%s", v, "");
		} else if (!kmm_strcmp(k, "deferred_init")) {
			if (!kmm_strcmp(v, "on"))
				cfg->deferred_init = true;
			else if (!kmm_strcmp(v, "off"))
				cfg->deferred_init = false;
			else
				return boot_error("kmm: boot: deferred_init=%s: expected on or off%s", v, "");
		} else if (!kmm_strcmp(k, "oom_wait_ms")) {
			if (!parse_number_all(v, &n) || n > 3600UL * 1000)
				return boot_error("kmm: boot: oom_wait_ms=%s: expected 0 to 3600000%s", v, "");
			cfg->oom_wait_ms = n;
		} else if (!kmm_strcmp(k, "slab_max_order")) {
			/* [3.4+] the largest order SLAB picks for a cache's slabs */
			if (!parse_number_all(v, &n) || n > MAX_PAGE_ORDER)
				return boot_error("kmm: boot: slab_max_order=%s: expected 0 to the largest page order%s", v, "");
			cfg->slab_max_order = (int)n;
		} else {
			return boot_error("kmm: boot: unknown option '%s=%s'", k, v);
		}
	}

	if (cfg->backing == KMM_BACKING_PRIVATE && !zones_given)
		set_default_zones(cfg, false);
	if (cfg->backing == KMM_BACKING_PRIVATE && cfg->zone_present[ZONE_HIGHMEM])
		return boot_error("kmm: boot: backing=private has no high memory: drop highmem from zones=%s%s", "", "");
	(void)backing_given;
	if (node_sizes) {
		unsigned long sum = 0;
		for (int i = 0; i < cfg->nr_nodes; i++)
			sum += cfg->node_bytes[i];
		if (mem_given && sum != cfg->mem_bytes)
			return boot_error("kmm: boot: numa= node sizes do not add up to mem=%s%s", "", "");
		if (sum < MIN_MEM)
			return boot_error("kmm: boot: numa= node sizes add up to less than 4M%s%s", "", "");
		cfg->mem_bytes = sum;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Memory layout                                                       */
/* ------------------------------------------------------------------ */

/* Start of zone z's physical range: the end of the nearest present zone below. */
static unsigned long zone_lower_bound(const struct kmm_config *cfg, int z)
{
	for (int i = z - 1; i >= 0; i--)
		if (cfg->zone_present[i])
			return cfg->zone_end[i];
	return 0;
}

static int layout_nodes(const struct kmm_config *cfg)
{
	unsigned long total = cfg->mem_bytes >> PAGE_SHIFT;
	unsigned long start = 0;

	kmm.nr_nodes = cfg->nr_nodes;
	for (int nid = 0; nid < cfg->nr_nodes; nid++) {
		unsigned long pages;
		if (cfg->node_bytes[0])
			pages = cfg->node_bytes[nid] >> PAGE_SHIFT;
		else if (nid == cfg->nr_nodes - 1)
			pages = total - start;
		else
			pages = ALIGN_DOWN(total / (unsigned long)cfg->nr_nodes, pageblock_nr_pages);
		if (pages < pageblock_nr_pages) {
			kmm_log("kmm: boot: node %d would have %lu pages; at least %lu per node (numa=)",
				nid, pages, pageblock_nr_pages);
			return -KMM_EINVAL;
		}
		pg_data_t *pgdat = &node_data_storage[nid];
		kmm_memset(pgdat, 0, sizeof(*pgdat));
		pgdat->node_id = nid;
		pgdat->node_start_pfn = start;
		pgdat->node_spanned_pages = pages;
		pgdat->node_present_pages = pages;
		kmm.node_data[nid] = pgdat;
		start += pages;
	}
	kmm.max_pfn = start;

	/* zones: the intersection of each node with each zone's physical range */
	unsigned long covered = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (!cfg->zone_present[z])
			continue;
		unsigned long zlo = zone_lower_bound(cfg, z) >> PAGE_SHIFT;
		unsigned long zhi = cfg->zone_end[z] == ULONG_MAX ? ULONG_MAX : cfg->zone_end[z] >> PAGE_SHIFT;
		for (int nid = 0; nid < kmm.nr_nodes; nid++) {
			pg_data_t *pgdat = NODE_DATA(nid);
			unsigned long lo = pgdat->node_start_pfn, hi = lo + pgdat->node_spanned_pages;
			if (zlo > lo)
				lo = zlo;
			if (zhi < hi)
				hi = zhi;
			if (lo >= hi)
				continue;
			struct zone *zone = &pgdat->node_zones[z];
			zone->zone_start_pfn = lo;
			zone->spanned_pages = hi - lo;
			zone->present_pages = hi - lo;
			covered += hi - lo;
		}
	}
	if (covered != kmm.max_pfn) {
		kmm_log("kmm: boot: zones= leaves %lu MiB of mem= in no zone (raise the last bound or leave it open)",
			((kmm.max_pfn - covered) << PAGE_SHIFT) >> 20);
		return -KMM_EINVAL;
	}

	kmm.max_low_pfn = kmm.max_pfn;
	if (cfg->zone_present[ZONE_HIGHMEM]) {
		unsigned long hstart = zone_lower_bound(cfg, ZONE_HIGHMEM) >> PAGE_SHIFT;
		if (hstart < kmm.max_low_pfn)
			kmm.max_low_pfn = hstart;
	}
	if (kmm.max_low_pfn < (MIN_MEM >> PAGE_SHIFT)) {
		kmm_log("kmm: boot: only %lu KiB of low memory; at least 4M are needed", kmm.max_low_pfn << (PAGE_SHIFT - 10));
		return -KMM_EINVAL;
	}

	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		pg_data_t *pgdat = NODE_DATA(nid);
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];
			zone->zone_idx = z;
			zone->zone_id = nid * MAX_NR_ZONES + z;
			zone->name = kmm_zone_names[z];
			zone->zone_pgdat = pgdat;
			if (populated_zone(zone))
				pgdat->nr_zones = z + 1;
		}
		for (int j = 0; j < kmm.nr_nodes; j++)
			kmm.node_distance[nid][j] = nid == j ? LOCAL_DISTANCE : REMOTE_DISTANCE;
	}
	kmm.group_by_mobility = kmm.max_pfn >= pageblock_nr_pages * MIGRATE_TYPES;
	return 0;
}

/* ------------------------------------------------------------------ */
/* memblock: top-down boot reservations in low memory                  */
/* ------------------------------------------------------------------ */

static unsigned long memblock_top[MAX_NUMNODES];	/* next free pfn + 1, per node */

static void memblock_init(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		pg_data_t *pgdat = NODE_DATA(nid);
		unsigned long end = pgdat->node_start_pfn + pgdat->node_spanned_pages;
		memblock_top[nid] = end < kmm.max_low_pfn ? end : kmm.max_low_pfn;
		if (memblock_top[nid] < pgdat->node_start_pfn)
			memblock_top[nid] = pgdat->node_start_pfn;
	}
}

static bool memblock_try_node(int nid, unsigned long nr_pages, unsigned long *pfn)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	/* keep the DMA zone for DMA: reserve above it when the node allows */
	unsigned long floor = pgdat->node_start_pfn;
	struct zone *dma = &pgdat->node_zones[ZONE_DMA];
	if (populated_zone(dma) && memblock_top[nid] >= dma->zone_start_pfn + dma->spanned_pages + nr_pages)
		floor = dma->zone_start_pfn + dma->spanned_pages;
	if (memblock_top[nid] < floor + nr_pages)
		return false;
	memblock_top[nid] -= nr_pages;
	*pfn = memblock_top[nid];
	return true;
}

/*
 * kmm_memblock_alloc - reserve nr_pages frames of low memory at boot,
 * preferring node nid, then the other nodes from the top.  The frames are
 * zeroed and become PG_reserved.  Returns the first pfn, or 0 on failure
 * (pfn 0 is never handed out: node 0 always keeps its lowest frames).
 * The frames read as zeroes: the backing is new at every boot.
 */
unsigned long kmm_memblock_alloc(unsigned long nr_pages, int nid, const char *what)
{
	unsigned long pfn = 0;
	bool ok = memblock_try_node(nid, nr_pages, &pfn);
	for (int n = kmm.nr_nodes - 1; !ok && n >= 0; n--)
		ok = memblock_try_node(n, nr_pages, &pfn);
	if (!ok || pfn == 0 || kmm.nr_reserved == (int)ARRAY_SIZE(kmm.reserved)) {
		kmm_log("kmm: boot: no low memory left for %s (%lu pages)", what, nr_pages);
		return 0;
	}
	kmm.reserved[kmm.nr_reserved++] = (struct kmm_reserved_range){ pfn, nr_pages, what };
	kmm.reserved_pages += nr_pages;
	return pfn;	/* the backing reads as zeroes (platform contract): no clearing, no touching */
}

static void *memblock_alloc_bytes(size_t bytes, int nid, const char *what)
{
	unsigned long pfn = kmm_memblock_alloc(ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT, nid, what);
	return pfn ? kmm_pfn_to_virt(pfn) : NULL;
}

/* ------------------------------------------------------------------ */
/* Zonelists                                                           */
/* ------------------------------------------------------------------ */

/* find_next_best_node: the unused node minimising the distance-based
 * value; node_load rotates equal-distance nodes among the lists. */
static int find_next_best_node(int node, bool *used, int *node_load)
{
	int best = -1;
	long min_val = LONG_MAX;
	if (!used[node]) {
		used[node] = true;
		return node;
	}
	for (int n = 0; n < kmm.nr_nodes; n++) {
		if (used[n])
			continue;
		long val = kmm.node_distance[node][n];
		val += n < node;
		val += 1;	/* every node has CPU slots */
		val *= MAX_NUMNODES;
		val += node_load[n];
		if (val < min_val) {
			min_val = val;
			best = n;
		}
	}
	if (best >= 0)
		used[best] = true;
	return best;
}

static int add_node_zones(pg_data_t *pgdat, struct zoneref *zr)
{
	int n = 0;
	for (int z = MAX_NR_ZONES - 1; z >= 0; z--) {
		struct zone *zone = &pgdat->node_zones[z];
		if (!populated_zone(zone))
			continue;
		zr[n].zone = zone;
		zr[n].zone_idx = z;
		n++;
	}
	return n;
}

static void build_zonelists(void)
{
	int node_load[MAX_NUMNODES] = { 0 };
	for (int local = 0; local < kmm.nr_nodes; local++) {
		pg_data_t *pgdat = NODE_DATA(local);
		bool used[MAX_NUMNODES] = { false };
		struct zoneref *zr = pgdat->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
		int nr = 0, prev_dist = -1;
		for (int i = 0; i < kmm.nr_nodes; i++) {
			int node = find_next_best_node(local, used, node_load);
			if (node < 0)
				break;
			pgdat->node_order[i] = node;
			if (kmm.node_distance[local][node] != prev_dist)
				node_load[node] += 1;
			prev_dist = kmm.node_distance[local][node];
			nr += add_node_zones(NODE_DATA(node), zr + nr);
		}
		zr[nr].zone = NULL;
		struct zoneref *own = pgdat->node_zonelists[ZONELIST_NOFALLBACK]._zonerefs;
		own[add_node_zones(pgdat, own)].zone = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* mem_map                                                             */
/* ------------------------------------------------------------------ */

static void init_page(struct page *page, int nid, int z)
{
	page->flags = ((unsigned long)z << ZONES_PGSHIFT) | ((unsigned long)nid << NODES_PGSHIFT);
	page->_refcount = 0;
	page->_mapcount = -1;
	INIT_LIST_HEAD(&page->lru);
}

/*
 * Deferred struct page initialisation [4.2+ DEFERRED_STRUCT_PAGE_INIT,
 * with deferred_grow_zone 4.17+]: with deferred_init=on a zone initialises
 * at boot only the descriptors below its first 2^MAX_PAGE_ORDER-aligned
 * frame (none when the zone starts aligned), so a machine the size of the
 * host boots in constant time and touches almost none of mem_map; the
 * rest are initialised and freed when an allocation finds the zone short
 * (page_alloc.c: the watermark check, which counts the deferred frames as
 * free, passes but the lists have no block), in steps of at least
 * DEFERRED_GROW_MIN, a quarter of what the zone has
 * initialised so far (so a zone that grows to N frames takes O(log N)
 * steps until the steps reach the cap), at most DEFERRED_GROW_MAX (more
 * when one request needs more).  The descriptors touched stay within
 * about 1/4 above what the allocations needed, at 1/64 of the memory
 * (64-byte descriptors per 4 KiB frame).
 * Linux differs: it initialises the low zones fully and one 128 MiB
 * section of a node's highest zone at boot, grows by sections, and lets
 * kthreads initialise the rest during boot; kmm grows every zone on demand
 * and never initialises the rest behind the caller's back.
 * The boot reservations (mem_map, the per-CPU areas) sit at the top of low
 * memory, so their own descriptors are deferred as well: they become
 * PG_reserved when the zone grows over them (__init_free_range), and
 * until then read as zeroes (kmm_pfn_reserved answers for them).
 */
#define DEFERRED_BOOT_PAGES 0UL
#define DEFERRED_GROW_MIN (1UL << MAX_PAGE_ORDER)		/* 4 MiB: one maximal buddy block */
#define DEFERRED_GROW_MAX ((64UL << 20) >> PAGE_SHIFT)	/* 64 MiB: 1 MiB of descriptors */

static unsigned long zone_end_pfn(const struct zone *z) { return z->zone_start_pfn + z->spanned_pages; }

/* Where each zone's initialised descriptors end at boot (all of the zone
 * without deferred_init). */
static void set_deferred_limits(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			unsigned long end = zone_end_pfn(zone);
			zone->deferred_pfn = end;
			if (kmm.cfg.deferred_init)
				zone->deferred_pfn = ALIGN_UP(zone->zone_start_pfn + DEFERRED_BOOT_PAGES, 1UL << MAX_PAGE_ORDER);
			if (zone->deferred_pfn > end)
				zone->deferred_pfn = end;
		}
	}
}

static struct zone *pfn_zone_of(unsigned long pfn)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zz = &NODE_DATA(nid)->node_zones[z];
			if (pfn >= zz->zone_start_pfn && pfn < zone_end_pfn(zz))
				return zz;
		}
	return NULL;
}

/*
 * kmm_pfn_reserved - is pfn in a boot reservation?  For pfn walkers that
 * meet frames whose descriptors are not initialised yet (deferred_init):
 * the reservation list, not the descriptor, answers.
 */
bool kmm_pfn_reserved(unsigned long pfn)
{
	for (int i = 0; i < kmm.nr_reserved; i++)
		if (pfn - kmm.reserved[i].start_pfn < kmm.reserved[i].nr)
			return true;
	return false;
}

/* Account the boot reservations: managed pages and pageblock types (the
 * descriptors are set up by __init_free_range with the rest of their
 * zone, at boot or when deferred initialisation reaches them). */
static void init_mem_map(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			buddy_init_zone(&NODE_DATA(nid)->node_zones[z]);
	/* every pageblock starts MOVABLE, as memmap_init does */
	kmm_memset(kmm.pageblock_mt, MIGRATE_MOVABLE, (kmm.max_pfn + pageblock_nr_pages - 1) >> PAGEBLOCK_ORDER);
	for (int i = 0; i < kmm.nr_reserved; i++) {
		struct kmm_reserved_range *r = &kmm.reserved[i];
		unsigned long end = r->start_pfn + r->nr;
		for (unsigned long pfn = r->start_pfn; pfn < end;) {
			struct zone *zone = pfn_zone_of(pfn);
			unsigned long stop = zone_end_pfn(zone) < end ? zone_end_pfn(zone) : end;
			zone->managed_pages -= stop - pfn;	/* boot_machine set managed = present */
			for (unsigned long b = pfn; b < stop; b = ALIGN_DOWN(b, pageblock_nr_pages) + pageblock_nr_pages)
				set_pageblock_migratetype(b, MIGRATE_UNMOVABLE);
			pfn = stop;
		}
	}
}

/*
 * Initialise the descriptors of [start, end) of zone (the frames of boot
 * reservations become PG_reserved with refcount 1) and hand the other
 * frames to the buddy allocator in maximal naturally aligned blocks.  The
 * memory is untouched, so the blocks start out "reported" (the host holds
 * nothing for them).  Zone lock held.  Returns the number of frames freed.
 */
static unsigned long __init_free_range(struct zone *zone, unsigned long start, unsigned long end)
{
	int nid = zone->zone_pgdat->node_id;
	unsigned long freed = 0;
	for (unsigned long pfn = start; pfn < end; pfn++)
		init_page(kmm_pfn_to_page(pfn), nid, zone->zone_idx);
	for (int i = 0; i < kmm.nr_reserved; i++) {
		const struct kmm_reserved_range *r = &kmm.reserved[i];
		unsigned long a = r->start_pfn > start ? r->start_pfn : start;
		unsigned long b = r->start_pfn + r->nr < end ? r->start_pfn + r->nr : end;
		for (unsigned long pfn = a; pfn < b; pfn++) {
			struct page *page = kmm_pfn_to_page(pfn);
			SetPageReserved(page);
			page->_refcount = 1;
		}
	}
	for (unsigned long pfn = start; pfn < end;) {
		if (PageReserved(kmm_pfn_to_page(pfn))) {
			pfn++;
			continue;
		}
		unsigned int order = MAX_PAGE_ORDER;
		while (order > 0 && ((pfn & ((1UL << order) - 1)) || pfn + (1UL << order) > end))
			order--;
		/* shrink further if the block would cover a reserved frame */
		for (unsigned long i = 1; i < (1UL << order); i++) {
			if (PageReserved(kmm_pfn_to_page(pfn + i))) {
				order = (unsigned int)kmm_ilog2(i);
				break;
			}
		}
		struct page *page = kmm_pfn_to_page(pfn);
		SetPageReported(page);
		__free_one_page(page, pfn, zone, order, get_pageblock_migratetype(pfn));
		freed += 1UL << order;
		pfn += 1UL << order;
	}
	return freed;
}

static void free_all_bootmem(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			kmm_lock(&zone->lock, KMM_LC_ZONE);
			unsigned long freed = __init_free_range(zone, zone->zone_start_pfn, zone->deferred_pfn);
			kmm_unlock(&zone->lock);
			zone->deferred_pages = zone->managed_pages - freed;
		}
	}
}

/*
 * kmm_deferred_grow_zone - initialise and free the next step of z's
 * deferred frames (at least 2^order of them).  Returns true when frames
 * were added.  Takes the zone lock.
 */
bool kmm_deferred_grow_zone(struct zone *z, unsigned int order)
{
	bool grown = false;
	kmm_lock(&z->lock, KMM_LC_ZONE);
	unsigned long end = zone_end_pfn(z), start = z->deferred_pfn;
	if (start < end) {
		unsigned long step = (start - z->zone_start_pfn) / 4;
		if (step < DEFERRED_GROW_MIN)
			step = DEFERRED_GROW_MIN;
		if (step > DEFERRED_GROW_MAX)
			step = DEFERRED_GROW_MAX;
		if (step < (1UL << order))
			step = 1UL << order;
		unsigned long stop = ALIGN_UP(start + step, 1UL << MAX_PAGE_ORDER);
		if (stop > end)
			stop = end;
		unsigned long freed = __init_free_range(z, start, stop);
		WRITE_ONCE(z->deferred_pages, z->deferred_pages - freed);
		WRITE_ONCE(z->deferred_pfn, stop);
		z->nr_deferred_grows++;
		grown = true;
	}
	kmm_unlock(&z->lock);
	return grown;
}

/* ------------------------------------------------------------------ */
/* Host address space                                                  */
/* ------------------------------------------------------------------ */

static unsigned long fixmap_pages(void) { return (unsigned long)(kmm.nr_cpus + 1) * KM_MAX_IDX; }

static int setup_address_space(void)
{
	size_t lowmem = kmm.max_low_pfn << PAGE_SHIFT;
	size_t vm = kmm.cfg.vmalloc_bytes;
	size_t pk = (size_t)kmm.cfg.pkmap << PAGE_SHIFT;
	size_t fix = fixmap_pages() << PAGE_SHIFT;
	size_t total = lowmem + VMALLOC_OFFSET + vm + 2 * PAGE_SIZE + pk + PAGE_SIZE + fix;
	void *va;
	int err = kmm_plat_va_reserve(total, 1UL << (PAGE_SHIFT + MAX_PAGE_ORDER), &va);
	if (err) {
		kmm_log("kmm: boot: cannot reserve %lu MiB of host address space", (unsigned long)(total >> 20));
		return err;
	}
	kmm.va_base = va;
	kmm.va_size = total;
	kmm.page_offset = va;
	kmm.vmalloc_start = kmm.page_offset + lowmem + VMALLOC_OFFSET;
	kmm.vmalloc_end = kmm.vmalloc_start + vm;
	kmm.pkmap_base = kmm.vmalloc_end + 2 * PAGE_SIZE;
	kmm.fixmap_base = kmm.pkmap_base + pk + PAGE_SIZE;
	err = kmm_plat_map_frames(kmm.page_offset, 0, kmm.max_low_pfn);
	if (err)
		kmm_log("kmm: boot: cannot map %lu MiB of low memory", (unsigned long)(lowmem >> 20));
	return err;
}

/*
 * kmm_fixmap_map - map frame pfn in fixmap window idx (0 .. (nr_cpus + 1) *
 * KM_MAX_IDX - 1) and return its address; the window belongs to the caller
 * (its CPU slot's range, or the shared range under the caller's lock).
 */
int kmm_fixmap_map(int idx, unsigned long pfn, void **va)
{
	char *addr = kmm.fixmap_base + ((unsigned long)idx << PAGE_SHIFT);
	int err = kmm_plat_map_frames(addr, pfn, 1);
	if (!err)
		*va = addr;
	return err;
}

void kmm_fixmap_unmap(int idx)
{
	kmm_plat_unmap(kmm.fixmap_base + ((unsigned long)idx << PAGE_SHIFT), 1);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

/* This thread's state for the current boot (fields reset after a reboot). */
struct kmm_thread *kmm_thread(void)
{
	struct kmm_thread *t = kmm_plat_thread_state();
	if (unlikely(t->boot_gen != kmm.boot_gen)) {
		kmm_memset(t, 0, sizeof(*t));
		t->boot_gen = kmm.boot_gen;
	}
	return t;
}

int kmm_numa_node_id(void)
{
	struct kmm_cpu *c = kmm_cpu_get();
	return c ? c->nid : 0;
}

/* ------------------------------------------------------------------ */
/* Boot and shutdown                                                   */
/* ------------------------------------------------------------------ */

static void teardown(void)
{
	/* the slots live in simulated memory: destroy their locks first */
	if (kmm.cpu_locks_ready)
		for (int i = 0; i < kmm.nr_cpus; i++)
			kmm_plat_lock_destroy(&kmm.cpus[i].remote_lock);
	if (kmm.locks_ready) {
		for (int nid = 0; nid < kmm.nr_nodes; nid++)
			for (int z = 0; z < MAX_NR_ZONES; z++)
				kmm_plat_lock_destroy(&NODE_DATA(nid)->node_zones[z].lock);
		kmm_plat_waitq_destroy(&kmm.alloc_wait);
		kmm_plat_lock_destroy(&kmm.shrinker_lock);
	}
	if (kmm.page_offset)
		kmm_plat_unmap(kmm.page_offset, kmm.max_low_pfn);
	if (kmm.va_base) {
		/* ASan: free pages were poisoned (annotate.h); the next machine
		 * may get the same addresses */
		kmm_asan_unpoison(kmm.va_base, kmm.va_size);
		kmm_plat_va_release(kmm.va_base, kmm.va_size);
	}
	kmm_plat_mem_close();
	kmm_ann_machine(0);	/* memcheck forgets the machine's objects */
	unsigned long gen = kmm.boot_gen;
	struct kmm_config cfg = kmm.cfg;
	kmm_memset(&kmm, 0, sizeof(kmm));
	kmm.boot_gen = gen;
	kmm.cfg = cfg;	/* keep on_error for reports made after shutdown */
}

static int boot_machine(void)
{
	int err;
	kmm.nr_cpus = kmm.cfg.cpus;
	kmm.pcp_max_order = kmm.cfg.profile == PROFILE_MODERN ? PCP_MAX_ORDER_LIMIT : 0;
	err = layout_nodes(&kmm.cfg);
	if (err)
		return err;
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			kmm_plat_lock_init(&NODE_DATA(nid)->node_zones[z].lock);
	kmm_plat_waitq_init(&kmm.alloc_wait);
	kmm_plat_lock_init(&kmm.shrinker_lock);
	kmm.locks_ready = true;

	err = kmm_plat_mem_open(kmm.max_pfn, kmm.cfg.backing);
	if (err) {
		kmm_log("kmm: boot: the host cannot back %lu MiB of memory", (kmm.max_pfn << PAGE_SHIFT) >> 20);
		return err;
	}
	err = setup_address_space();
	if (err)
		return err;

	memblock_init();
	kmm.mem_map = memblock_alloc_bytes(kmm.max_pfn * sizeof(struct page), 0, "mem_map");
	kmm.pageblock_mt = memblock_alloc_bytes((kmm.max_pfn >> PAGEBLOCK_ORDER) + 1, 0, "pageblock flags");
	kmm.cpus = memblock_alloc_bytes((size_t)kmm.nr_cpus * sizeof(struct kmm_cpu), 0, "cpu slots");
	/* one reservation for every slot's per-CPU lists (slot i's lists for
	 * every zone of the machine at pcp_area + i * per_slot) */
	size_t per_slot = (size_t)kmm.nr_nodes * MAX_NR_ZONES * sizeof(struct per_cpu_pages);
	struct per_cpu_pages *pcp_area = memblock_alloc_bytes(per_slot * (size_t)kmm.nr_cpus, 0, "per-cpu pages");
	if (!kmm.mem_map || !kmm.pageblock_mt || !kmm.cpus || !pcp_area)
		return -KMM_ENOMEM;
	for (int i = 0; i < kmm.nr_cpus; i++) {
		struct kmm_cpu *c = &kmm.cpus[i];
		c->cpu = i;
		c->nid = i % kmm.nr_nodes;
		c->pcp = (struct per_cpu_pages *)((char *)pcp_area + per_slot * (size_t)i);
		kmm_plat_lock_init(&c->remote_lock);
	}
	kmm.cpu_locks_ready = true;

	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			zone->managed_pages = zone->present_pages;
		}
	set_deferred_limits();
	init_mem_map();
	free_all_bootmem();
	build_zonelists();
	page_alloc_init_watermarks();
	pcp_init();
	kmm_fault_reset();
	/* The page allocator is up: the layers' init functions allocate from
	 * it (alloc_pages refuses before boot).  kmm_boot clears the flag
	 * again when a layer fails. */
	kmm.booted = true;
	/* layers above the page allocator (each registers its kmm_layer_ops) */
	err = slab_common_init();
	if (!err)
		err = kmalloc_init();
	if (!err)
		err = vmalloc_init();	/* the kernel page table first: highmem's pkmap uses it */
	if (!err)
		err = highmem_init();
	if (!err)
		err = mempool_init();	/* the list of pools; the layer registers with the first pool */
	return err;
}

/*
 * kmm_boot - boot the simulated machine (see kmm/kmm.h).
 * Context: no other thread may be inside kmm.
 * Return: 0, -EINVAL (bad option, logged), -ENOMEM, -EBUSY.
 */
int kmm_boot(const char *cmdline)
{
	struct kmm_config cfg;
	int err;

	if (kmm.booted) {
		kmm_log("kmm: boot: already booted (kmm_shutdown first)");
		return -KMM_EBUSY;
	}
	kmm_default_config(&cfg);
	err = kmm_parse_cmdline(cmdline, &cfg);
	if (err)
		return err;

	/* a fail_nth the caller set before booting applies to the boot (the
	 * thread block is reset by the new generation) */
	unsigned int fail_nth = kmm_thread()->fail_nth;
	kmm.boot_gen++;
	kmm_thread()->fail_nth = fail_nth;
	kmm.cfg = cfg;
	kmm_lockdep_boot(cfg.lockdep);	/* before the first lock is taken */
	kmm_ann_machine(1);
	/* never 0; only the clock (kmm_set_clock makes it reproducible) */
	kmm.random_secret = kmm_mix64(cfg.random_seed ? cfg.random_seed : kmm_plat_now_ns() ^ (kmm.boot_gen << 48)) | 1;
	kmm_nr_layers = 0;
	err = kmm_plat_thread_init(pcp_thread_exit);
	if (!err)
		err = boot_machine();
	if (err) {
		kmm.booted = false;
		teardown();
		return err;
	}
	kmm.booted = true;
	kmm.boot_done = true;
	kmm_fault_arm_boot_keys();
	return 0;
}

const struct kmm_layer_ops *kmm_layers[KMM_MAX_LAYERS];
int kmm_nr_layers;

void kmm_register_layer(const struct kmm_layer_ops *ops)
{
	if (kmm_nr_layers < KMM_MAX_LAYERS)
		kmm_layers[kmm_nr_layers++] = ops;
}

static void report_leaked_pages(void)
{
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			unsigned long free = zone->free_pages + zone->deferred_pages;
			if (!populated_zone(zone) || free == zone->managed_pages)
				continue;
			kmm_log("kmm: shutdown: node %d zone %s: %lu pages still allocated",
				nid, zone->name, zone->managed_pages - free);
		}
	}
}

/*
 * kmm_shutdown - drain every CPU slot, report leaked pages, give every
 * host resource back.  Context: no other thread may be inside kmm.
 */
void kmm_shutdown(void)
{
	if (!kmm.booted)
		return;
	pcp_release_all_slots();
	for (int i = kmm_nr_layers - 1; i >= 0; i--)
		if (kmm_layers[i]->shutdown)
			kmm_layers[i]->shutdown();
	kmm_nr_layers = 0;
	pcp_release_all_slots();
	report_leaked_pages();
	kmm_shrinkers_reset();
	kmm.booted = false;
	teardown();
}

/* ------------------------------------------------------------------ */
/* Public conversions (kmm/page.h)                                     */
/* ------------------------------------------------------------------ */

struct page *pfn_to_page(unsigned long pfn)
{
	return kmm.booted && kmm_pfn_valid(pfn) ? kmm_pfn_to_page(pfn) : NULL;
}

unsigned long page_to_pfn(const struct page *page)
{
	return kmm_page_to_pfn(page);
}

struct page *virt_to_page(const void *addr)
{
	if (!kmm.booted || !kmm_is_linear_addr(addr))
		return NULL;
	return kmm_pfn_to_page(kmm_virt_to_pfn(addr));
}

int page_to_nid(const struct page *page) { return page_nid(page); }
const char *page_zone_name(const struct page *page) { return kmm_zone_names[page_zonenum(page)]; }
int PageHighMem(const struct page *page) { return page_zonenum(page) == ZONE_HIGHMEM; }
int numa_node_count(void) { return kmm.booted ? kmm.nr_nodes : 0; }
