/*
 * tests/unit/boot.c - the machine (issue 2): the boot command line, every
 * key with valid values, the malformed ones (-EINVAL and one log line
 * naming the option), -EBUSY, the default machine's layout (1 GiB, two
 * nodes, DMA below 16 MiB on node 0, HighMem above 896 MiB on node 1),
 * numa=SIZE,..., zones= without highmem, backing=private, and a
 * boot/shutdown loop that leaks no host memory, mapping or descriptor.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "page_helpers.h"

#define MiB (1UL << 20)
#define PFN(bytes) ((unsigned long)(bytes) >> PAGE_SHIFT)

/* boot, check, allocate and free one page, check, shut down */
static void boot_ok(const char *cmdline)
{
	logcap_start();
	int rc = kmm_boot(cmdline);
	logcap_stop();
	if (rc != 0) {
		logcap_dump();
		kt_fail(0, __FILE__, __LINE__, "kmm_boot(\"%s\") = %d, expected 0", cmdline ? cmdline : "(null)", rc);
		return;
	}
	expect_eq(kmm_check(), 0);
	struct page *p = alloc_page(GFP_KERNEL);
	expect_nonnull(p);
	if (p)
		__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(every_key_accepts_valid_values)
{
	static const char *const lines[] = {
		"mem=16M numa=1 cpus=1",
		"mem=16384K numa=1 cpus=1",
		"mem=1G numa=1 cpus=1",
		"mem=16M numa=2 cpus=2",
		"mem=16M numa=4M,12M cpus=1",
		"numa=8M,8M cpus=1",			/* mem from the node sizes */
		"mem=16M numa=8M,8M cpus=1",		/* both, consistent */
		"mem=48M numa=3 cpus=3",
		"mem=16M numa=1 zones=dma:16M,normal:896M,highmem cpus=1",
		"mem=16M numa=1 zones=normal cpus=1",
		"mem=16M numa=1 zones=dma:4M,dma32:8M,normal cpus=1",
		"mem=16M numa=1 zones=dma:8M,normal:12M,highmem cpus=1",
		"mem=64M numa=1 zones=dma:16M,dma32:32M,normal:48M,highmem cpus=1",
		"mem=16M numa=1 cpus=4",
		"mem=64M numa=1 cpus=256",
		"mem=16M numa=1 cpus=1 slab=slab",
		"mem=16M numa=1 cpus=1 slab=slob",
		"mem=16M numa=1 cpus=1 pcp=on",
		"mem=16M numa=1 cpus=1 pcp=off",
		"mem=16M numa=1 cpus=1 min_free_kbytes=128",
		"mem=16M numa=1 cpus=1 min_free_kbytes=1024",
		"mem=16M numa=1 cpus=1 slab_debug=F",
		"mem=16M numa=1 cpus=1 slab_debug=FZPU",
		"mem=16M numa=1 cpus=1 slab_debug=U",
		"mem=16M numa=1 cpus=1 slab_debug=P,kmalloc-64",
		"mem=16M numa=1 cpus=1 on_error=report",
		"mem=16M numa=1 cpus=1 on_error=abort",
		"mem=16M numa=1 cpus=1 backing=shared",
		"mem=16M numa=1 cpus=1 backing=private",
		"mem=16M numa=1 cpus=1 backing=private zones=dma:16M,normal",
		"mem=16M numa=1 cpus=1 vmalloc=1M",
		"mem=16M numa=1 cpus=1 vmalloc=64M",
		"mem=16M numa=1 cpus=1 vmalloc=1G",
		"mem=16M numa=1 cpus=1 pkmap=1",
		"mem=16M numa=1 cpus=1 pkmap=512",
		"mem=16M numa=1 cpus=1 pkmap=1024",
		"mem=16M numa=1 cpus=1 fail_page_alloc=0,1,0",
		"mem=16M numa=1 cpus=1 fail_page_alloc=10,100,-1",
		"mem=16M numa=1 cpus=1 failslab=0,1,0",
		"mem=16M numa=1 cpus=1 failslab=5,2,3",
		"mem=16M numa=1 cpus=1 profile=classic",
		"mem=16M numa=1 cpus=1 profile=modern",
		"mem=16M numa=1 cpus=1 oom_wait_ms=0",
		"mem=16M numa=1 cpus=1 oom_wait_ms=200",
		"mem=16M numa=1 cpus=1 oom_wait_ms=5000",
		"mem=16M numa=1 cpus=1 fail_vmalloc=1,1,1 fail_mempool=0,1,0 fail_kmap=100,2,-1,4096",
		"mem=16M numa=1 cpus=1 init_on_alloc=1 init_on_free=1",
		"mem=16M numa=1 cpus=1 init_on_alloc=0 init_on_free=0",
		"mem=16M numa=1 cpus=1 slab_random=off random_seed=12345",
		"mem=16M numa=1 cpus=1 slab_random=on random_seed=0",
		"mem=16M numa=1 cpus=1 lockdep=on",
		"mem=16M numa=1 cpus=1 lockdep=off",
		"  mem=16M\tnuma=1   cpus=1  ",		/* any run of blanks separates */
		"mem=64M numa=2 zones=dma:16M,normal:896M,highmem cpus=2 slab=slab pcp=on min_free_kbytes=512 "
		"slab_debug=FZPU on_error=report backing=shared vmalloc=64M pkmap=256 fail_page_alloc=0,1,0 "
		"failslab=0,1,0 profile=modern oom_wait_ms=100",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		boot_ok(lines[i]);
}

TEST(default_machine_boots_from_null_and_empty)
{
	boot_ok(NULL);
	boot_ok("");
}

/* Keys whose effect is visible right after boot. */
TEST(keys_take_effect)
{
	char *t;
	int rc;

	assert_eq(kt_boot("mem=64M numa=2 cpus=3 vmalloc=64M pcp=off min_free_kbytes=1024"), 0);
	expect_eq(numa_node_count(), 2);
	expect_eq(kmm.max_pfn, PFN(64 * MiB));
	expect_eq(kmm.nr_cpus, 3);
	expect_eq(kmm.min_free_kbytes, 1024);
	expect_false(kmm.cfg.pcp);
	t = report_text("meminfo", &rc);
	assert_nonnull(t);
	expect_eq(report_value(t, "VmallocTotal:"), 64 * 1024);
	free(t);
	t = report_text("zoneinfo", &rc);
	assert_nonnull(t);
	/* one "cpu:" entry per slot for every zone listed */
	int zones = 0, cpus = 0;
	for (const char *p = t; (p = strstr(p, "Node ")); p++)
		zones++;
	for (const char *p = t; (p = strstr(p, "    cpu: ")); p++)
		cpus++;
	expect_gt(zones, 0);
	expect_eq(cpus, zones * 3);
	free(t);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();

	assert_eq(kt_boot("mem=16M numa=1 cpus=1 profile=modern pkmap=64 oom_wait_ms=123 on_error=report"), 0);
	expect_eq(kmm.cfg.profile, PROFILE_MODERN);
	expect_eq(kmm.cfg.pkmap, 64);
	expect_eq(kmm.cfg.oom_wait_ms, 123);
	expect_eq(kmm.cfg.on_error, ON_ERROR_REPORT);
	kmm_shutdown();
}

struct bad_case {
	const char *cmdline;
	const char *names;	/* the option the log line must name */
};

TEST(malformed_options_are_einval_with_one_line)
{
	static const struct bad_case cases[] = {
		{ "foo=1", "foo" },
		{ "mem=16M bogus=yes", "bogus" },
		{ "mem", "mem" },
		{ "mem=", "mem" },
		{ "mem=12Q", "mem" },
		{ "mem=abc", "mem" },
		{ "mem=16MB", "mem" },
		{ "mem=2M", "mem" },
		{ "mem=-16M", "mem" },
		{ "numa=0", "numa" },
		{ "numa=65", "numa" },
		{ "numa=", "numa" },
		{ "numa=2x", "numa" },
		{ "numa=8M,,8M", "numa" },
		{ "mem=16M numa=4M,4M", "numa" },		/* sizes do not add up to mem= */
		{ "mem=16M numa=64", "numa" },			/* nodes below one pageblock */
		{ "zones=normal:1M,dma:16M", "zones" },		/* out of order */
		{ "zones=dma:16M,normal:8M", "zones" },		/* bounds not ascending */
		{ "zones=dma:16M,dma:32M", "zones" },		/* repeated */
		{ "zones=bogus:16M", "zones" },
		{ "zones=dma:16Q,normal", "zones" },
		{ "zones=", "zones" },
		{ "zones=highmem,normal", "zones" },
		{ "mem=64M zones=dma:16M", "zones" },		/* memory left in no zone */
		{ "pkmap=3", "pkmap" },
		{ "pkmap=0", "pkmap" },
		{ "pkmap=8192", "pkmap" },
		{ "pkmap=x", "pkmap" },
		{ "cpus=0", "cpus" },
		{ "cpus=257", "cpus" },
		{ "cpus=two", "cpus" },
		{ "slab=foo", "slab" },
		{ "slab=", "slab" },
		{ "pcp=maybe", "pcp" },
		{ "pcp=1", "pcp" },
		{ "min_free_kbytes=abc", "min_free_kbytes" },
		{ "min_free_kbytes=-5", "min_free_kbytes" },
		{ "slab_debug=X", "slab_debug" },
		{ "on_error=ignore", "on_error" },
		{ "backing=none", "backing" },
		{ "backing=private zones=dma:16M,normal:896M,highmem", "backing" },
		{ "vmalloc=abc", "vmalloc" },
		{ "vmalloc=4K", "vmalloc" },
		{ "fail_page_alloc=101,1,1", "fail_page_alloc" },
		{ "fail_page_alloc=abc", "fail_page_alloc" },
		{ "fail_page_alloc=10", "fail_page_alloc" },
		{ "failslab=10,0,1", "failslab" },		/* interval 0 */
		{ "failslab=x,1,1", "failslab" },
		{ "fail_vmalloc=101,1,1", "fail_vmalloc" },
		{ "fail_mempool=x", "fail_mempool" },
		{ "fail_kmap=1,0,1", "fail_kmap" },
		{ "init_on_alloc=2", "init_on_alloc" },
		{ "init_on_free=yes", "init_on_free" },
		{ "slab_random=1", "slab_random" },
		{ "random_seed=-1", "random_seed" },
		{ "lockdep=maybe", "lockdep" },
		{ "profile=new", "profile" },
		{ "oom_wait_ms=-1", "oom_wait_ms" },
		{ "oom_wait_ms=soon", "oom_wait_ms" },
		{ "mem=16M numa=1 cpus=1 pcp=off unknown_key=1", "unknown_key" },
	};
	unsigned long errors_before = kmm_error_count();

	/* Each case runs in a child of its own, so a crash in one (a bug) is
	 * reported as that case's failure and the others still run. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int bad = 0;
			logcap_start();
			int rc = kmm_boot(c->cmdline);
			logcap_stop();
			if (rc == 0)
				kmm_shutdown();
			bad |= (rc != -22) << 0;
			bad |= (logcap_lines() != 1) << 1;
			bad |= (!logcap_find(c->names)) << 2;
			bad |= (!logcap_all_well_formed()) << 3;
			/* nothing is left booted */
			bad |= (numa_node_count() != 0 || nr_free_pages() != 0 || alloc_page(GFP_KERNEL) != NULL) << 4;
			/* a bad command line is not a misuse report */
			bad |= (kmm_error_count() != errors_before) << 5;
			/* and a good one boots afterwards */
			rc = kmm_boot("mem=16M numa=1 cpus=1");
			bad |= (rc != 0) << 6;
			if (rc == 0) {
				bad |= (kmm_check() != 0) << 6;
				kmm_shutdown();
			}
			if (bad) {
				printf("  case \"%s\": rc %d, failures %#x (1 rc, 2 lines, 4 option not named, 8 format, "
				       "16 still booted, 32 error count, 64 no reboot), %d log lines:\n",
				       c->cmdline, rc, bad, logcap_lines());
				logcap_dump();
			}
			fflush(stdout);
			_exit(bad ? 1 : 0);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status))
			kt_fail(0, __FILE__, __LINE__, "kmm_boot(\"%s\") crashed with signal %d", c->cmdline,
				WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			kt_fail(0, __FILE__, __LINE__, "kmm_boot(\"%s\"): wrong result (see above)", c->cmdline);
	}
}

TEST(second_boot_is_ebusy)
{
	assert_eq(kt_boot("mem=16M numa=1 cpus=1"), 0);
	unsigned long free0 = nr_free_pages();
	struct page *p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	logcap_start();
	expect_eq(kmm_boot("mem=32M numa=2 cpus=2"), -16);
	expect_eq(kmm_boot(NULL), -16);
	logcap_stop();
	expect_true(logcap_all_well_formed());
	/* the first machine is untouched and still works */
	expect_eq(numa_node_count(), 1);
	expect_eq(kmm.max_pfn, PFN(16 * MiB));
	expect_eq(page_count(p), 1);
	__free_page(p);
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
	/* after shutdown a new boot works */
	assert_eq(kmm_boot("mem=32M numa=2 cpus=2"), 0);
	expect_eq(numa_node_count(), 2);
	kmm_shutdown();
}

TEST(before_boot_everything_is_inert)
{
	expect_eq(numa_node_count(), 0);
	expect_eq(nr_free_pages(), 0);
	expect_null(alloc_page(GFP_KERNEL));
	expect_null(alloc_pages(GFP_ATOMIC, 3));
	expect_eq(__get_free_page(GFP_KERNEL), 0);
	expect_null(pfn_to_page(0));
	expect_ne(kmm_check(), 0);
	kmm_drain_all();	/* no-ops */
	kmm_shutdown();
}

/* A zone as the reports spell it and where it lies. */
struct zone_expect {
	int nid;
	const char *name;
	unsigned long start_pfn, end_pfn;
};

static void expect_layout(const struct zone_expect *z, int n, unsigned long max_pfn)
{
	for (int i = 0; i < n; i++) {
		unsigned long probes[] = { z[i].start_pfn, z[i].start_pfn + 1, (z[i].start_pfn + z[i].end_pfn) / 2,
					   z[i].end_pfn - 1 };
		for (int k = 0; k < 4; k++) {
			struct page *p = pfn_to_page(probes[k]);
			if (!p) {
				kt_fail(0, __FILE__, __LINE__, "pfn_to_page(%lu) is NULL", probes[k]);
				continue;
			}
			expect_eq(page_to_pfn(p), probes[k]);
			expect_eq(page_to_nid(p), z[i].nid);
			expect_str_eq(page_zone_name(p), z[i].name);
			expect_eq(PageHighMem(p), strcmp(z[i].name, "HighMem") == 0);
			if (strcmp(z[i].name, "HighMem") == 0) {
				expect_null(page_address(p));
			} else {
				void *va = page_address(p);
				expect_nonnull(va);
				expect_true(virt_to_page(va) == p);
			}
		}
	}
	expect_null(pfn_to_page(max_pfn));
	expect_nonnull(pfn_to_page(max_pfn - 1));
}

/* The buddyinfo lines name exactly these zones, in this order, and their
 * free pages add up to nr_free_pages(). */
static void expect_buddyinfo_zones(const struct zone_expect *z, int n)
{
	int rc;
	kmm_drain_all();
	char *t = report_text("buddyinfo", &rc);
	assert_nonnull(t);
	expect_eq(count_lines(t), n);
	unsigned long total = 0;
	const char *p = t;
	for (int i = 0; i < n && *p; i++) {
		int nid, used;
		char name[16];
		unsigned long c[NR_PAGE_ORDERS];
		expect_eq(sscanf(p, "Node %d, zone %15s%n", &nid, name, &used), 2);
		expect_eq(nid, z[i].nid);
		expect_str_eq(name, z[i].name);
		const char *q = p + used;
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			char *end;
			c[o] = strtoul(q, &end, 10);
			q = end;
			total += c[o] << o;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	expect_eq(total, nr_free_pages());
	free(t);
}

TEST(default_machine_layout)
{
	assert_eq(kt_boot(NULL), 0);
	expect_eq(numa_node_count(), 2);
	expect_eq(kmm.max_pfn, PFN(1024 * MiB));
	const struct zone_expect z[] = {
		{ 0, "DMA", 0, PFN(16 * MiB) },
		{ 0, "Normal", PFN(16 * MiB), PFN(512 * MiB) },
		{ 1, "Normal", PFN(512 * MiB), PFN(896 * MiB) },
		{ 1, "HighMem", PFN(896 * MiB), PFN(1024 * MiB) },
	};
	expect_layout(z, 4, PFN(1024 * MiB));
	expect_buddyinfo_zones(z, 4);

	/* white-box: zones and nodes as laid out */
	expect_eq(NODE_DATA(0)->node_start_pfn, 0);
	expect_eq(NODE_DATA(0)->node_spanned_pages, PFN(512 * MiB));
	expect_eq(NODE_DATA(1)->node_start_pfn, PFN(512 * MiB));
	expect_eq(NODE_DATA(1)->node_spanned_pages, PFN(512 * MiB));
	expect_false(populated_zone(wb_zone(0, ZONE_HIGHMEM)));
	expect_false(populated_zone(wb_zone(1, ZONE_DMA)));
	expect_false(populated_zone(wb_zone(0, ZONE_DMA32)));
	expect_false(populated_zone(wb_zone(1, ZONE_DMA32)));
	expect_eq(kmm.max_low_pfn, PFN(896 * MiB));

	/* meminfo: HighTotal is the HighMem zone */
	int rc;
	char *t = report_text("meminfo", &rc);
	assert_nonnull(t);
	expect_eq(report_value(t, "HighTotal:"), (long)(wb_zone(1, ZONE_HIGHMEM)->managed_pages * 4));
	free(t);

	/* the default machine takes GFP_DMA from below 16 MiB and highmem only from node 1 */
	struct page *d = alloc_page(GFP_DMA);
	assert_nonnull(d);
	expect_lt(page_to_pfn(d), PFN(16 * MiB));
	struct page *h = alloc_pages_node(1, GFP_HIGHUSER, 0);
	assert_nonnull(h);
	expect_true(PageHighMem(h));
	expect_eq(page_to_nid(h), 1);
	expect_null(page_address(h));
	__free_page(d);
	__free_page(h);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(numa_sizes_and_equal_split)
{
	assert_eq(kt_boot("mem=64M numa=16M,48M cpus=2"), 0);
	expect_eq(numa_node_count(), 2);
	const struct zone_expect z1[] = {
		{ 0, "DMA", 0, PFN(16 * MiB) },
		{ 1, "Normal", PFN(16 * MiB), PFN(64 * MiB) },
	};
	expect_layout(z1, 2, PFN(64 * MiB));
	expect_buddyinfo_zones(z1, 2);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();

	/* sizes alone give mem */
	assert_eq(kt_boot("numa=8M,8M,16M cpus=1"), 0);
	expect_eq(numa_node_count(), 3);
	expect_eq(kmm.max_pfn, PFN(32 * MiB));
	const struct zone_expect z2[] = {
		{ 0, "DMA", 0, PFN(8 * MiB) },
		{ 1, "DMA", PFN(8 * MiB), PFN(16 * MiB) },
		{ 2, "Normal", PFN(16 * MiB), PFN(32 * MiB) },
	};
	expect_layout(z2, 3, PFN(32 * MiB));
	expect_buddyinfo_zones(z2, 3);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();

	/* numa=N: equal nodes */
	assert_eq(kt_boot("mem=96M numa=3 zones=normal cpus=1"), 0);
	const struct zone_expect z3[] = {
		{ 0, "Normal", 0, PFN(32 * MiB) },
		{ 1, "Normal", PFN(32 * MiB), PFN(64 * MiB) },
		{ 2, "Normal", PFN(64 * MiB), PFN(96 * MiB) },
	};
	expect_layout(z3, 3, PFN(96 * MiB));
	expect_buddyinfo_zones(z3, 3);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(zones_without_highmem)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=dma:16M,dma32:48M,normal cpus=1"), 0);
	const struct zone_expect z[] = {
		{ 0, "DMA", 0, PFN(16 * MiB) },
		{ 0, "DMA32", PFN(16 * MiB), PFN(48 * MiB) },
		{ 0, "Normal", PFN(48 * MiB), PFN(64 * MiB) },
	};
	expect_layout(z, 3, PFN(64 * MiB));
	expect_buddyinfo_zones(z, 3);
	expect_eq(kmm.max_low_pfn, kmm.max_pfn);
	int rc;
	char *t = report_text("meminfo", &rc);
	assert_nonnull(t);
	expect_null(strstr(t, "HighTotal:"));
	expect_null(strstr(t, "HighFree:"));
	free(t);
	/* a highmem request is served from the highest zone there is */
	struct page *p = alloc_page(GFP_HIGHUSER);
	assert_nonnull(p);
	expect_false(PageHighMem(p));
	expect_nonnull(page_address(p));
	__free_page(p);
	/* GFP_DMA32 stays below 48 MiB */
	p = alloc_page(GFP_DMA32);
	assert_nonnull(p);
	expect_lt(page_to_pfn(p), PFN(48 * MiB));
	__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();

	/* a zone bound above mem leaves that zone smaller, the next one absent */
	assert_eq(kt_boot("mem=12M numa=1 cpus=1"), 0);
	const struct zone_expect z2[] = { { 0, "DMA", 0, PFN(12 * MiB) } };
	expect_layout(z2, 1, PFN(12 * MiB));
	expect_buddyinfo_zones(z2, 1);
	kmm_shutdown();
}

TEST(backing_private_has_no_highmem)
{
	assert_eq(kt_boot("mem=64M numa=1 cpus=1 backing=private"), 0);
	/* the private default layout: DMA and DMA32, no HighMem */
	const struct zone_expect z[] = {
		{ 0, "DMA", 0, PFN(16 * MiB) },
		{ 0, "DMA32", PFN(16 * MiB), PFN(64 * MiB) },
	};
	expect_layout(z, 2, PFN(64 * MiB));
	expect_buddyinfo_zones(z, 2);
	/* memory works: write and read back through the linear map */
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	assert_nonnull(p);
	unsigned char *va = page_address(p);
	assert_nonnull(va);
	for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
		va[i] = (unsigned char)(i * 13);
	for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
		if (va[i] != (unsigned char)(i * 13)) {
			kt_fail(0, __FILE__, __LINE__, "byte %zu reads back wrong", i);
			break;
		}
	__free_pages(p, 2);
	p = alloc_page(GFP_HIGHUSER);
	assert_nonnull(p);
	expect_false(PageHighMem(p));
	__free_page(p);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(boot_shutdown_loop_leaks_nothing)
{
	const int iterations = 1000;
	/* warm up once: one-time host set-up is not a leak */
	boot_ok("mem=16M numa=1 cpus=2");
	long rss0 = vmrss_kb();
	int fds0 = fd_count(), maps0 = maps_count();
	uint64_t t0 = now_ns();
	for (int i = 0; i < iterations; i++) {
		if (kmm_boot(i % 2 ? "mem=16M numa=1 cpus=2" : "mem=16M numa=2 cpus=2 pcp=off") != 0) {
			kt_fail(1, __FILE__, __LINE__, "boot %d failed", i);
		}
		struct page *p = alloc_pages(GFP_KERNEL, (unsigned int)(i % 4));
		if (!p)
			kt_fail(0, __FILE__, __LINE__, "allocation in iteration %d failed", i);
		else
			__free_pages(p, (unsigned int)(i % 4));
		if (i % 100 == 0)
			expect_eq(kmm_check(), 0);
		kmm_shutdown();
	}
	double secs = ms_since(t0) / 1000.0;
	long rss1 = vmrss_kb();
	int fds1 = fd_count(), maps1 = maps_count();
	printf("  %d boots in %.2f s; fds %d -> %d, maps %d -> %d, VmRSS %ld -> %ld kB\n", iterations, secs, fds0,
	       fds1, maps0, maps1, rss0, rss1);
	expect_eq(fds1, fds0);
	expect_eq(maps1, maps0);
	if (!getenv("KMM_TEST_VALGRIND"))	/* memcheck's own bookkeeping grows */
		expect_lt(rss1 - rss0, 4096);
	expect_lt(secs, 30.0);
}

TEST_MAIN()
