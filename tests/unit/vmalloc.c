/*
 * tests/unit/vmalloc.c - noncontiguous areas (issue 4): vmalloc on memory
 * fragmented down to single pages, guard pages that fault, address-space
 * exhaustion and recovery, the misuse cases 24-26 (report and abort), the
 * page table as vmalloc_to_page walks it, PageTables and VmallocUsed in
 * meminfo, vmap aliasing, the private backing, vmallocinfo, fault
 * injection with a fail-the-Nth sweep, concurrent use, and the kvmalloc
 * seam.  Every test ends with the vmalloc window fully free again.
 */
/* kmm-test: backends */
/* kmm-test: threaded */
#include "harness.h"
#include "page_helpers.h"
#include "mm/pgtable.h"

#include <signal.h>
#include <sys/wait.h>

#define MiB (1UL << 20)

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* kmm_boot(line + the backend the harness asks for) */
static void boot(const char *line)
{
	char buf[512];
	const char *extra = getenv("KMM_TEST_BOOT");
	snprintf(buf, sizeof(buf), "%s %s", line, extra ? extra : "");
	kmm_set_log(NULL, NULL);
	kmm_shutdown();		/* a failed test before may have left its machine */
	assert_eq(kmm_boot(buf), 0);
}

static unsigned long window_pages(void)
{
	return (unsigned long)(kmm.vmalloc_end - kmm.vmalloc_start) >> PAGE_SHIFT;
}

static long meminfo_kb(const char *key)
{
	char *t = report_text("meminfo", NULL);
	long v = t ? report_value(t, key) : -1;
	free(t);
	return v;
}

/* After the test freed everything: lazy ranges purged, no area listed, no
 * PTE in the window, VmallocUsed 0, and one vmalloc of the whole window
 * (minus its guard page) fits - the free space is one merged range. */
static void expect_vmalloc_space_free(void)
{
	kmm_drain_all();
	char *t = report_text("vmallocinfo", NULL);
	expect_nonnull(t);
	if (t) {
		expect_str_eq(t, "");
		free(t);
	}
	expect_eq(meminfo_kb("VmallocUsed"), 0);
	expect_eq(kmm_pgtable_count_present(kmm.vmalloc_start, window_pages()), 0);
	/* the page array of a whole-window area is vmalloc'ed too when it
	 * exceeds a page: ask for what leaves room for it */
	unsigned long pages = window_pages() - 1;
	if (pages * sizeof(void *) > PAGE_SIZE)
		pages -= 2 + (pages * sizeof(void *) + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages <= nr_free_pages() / 2) {
		void *p = vmalloc(pages << PAGE_SHIFT);
		expect_nonnull(p);
		vfree(p);
		kmm_drain_all();
	}
	expect_eq(kmm_check(), 0);
}

/* Run fn(arg) in a forked child; returns the signal that ended it, 0 for
 * a normal exit with status 0, or -status for another exit. */
static int in_child(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		/* die of the fault itself, not of a sanitizer's report of it */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WEXITSTATUS(status) ? -WEXITSTATUS(status) : 0;
}

static void read_byte(void *addr)
{
	volatile char c = *(volatile char *)addr;
	(void)c;
}

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 8)
		*(uint64_t *)(void *)(p + i) = (uint64_t)(i * 0x9e3779b97f4a7c15ULL) ^ seed;
}

static size_t first_mismatch(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 8)
		if (*(const uint64_t *)(const void *)(p + i) != ((uint64_t)(i * 0x9e3779b97f4a7c15ULL) ^ seed))
			return i;
	return (size_t)-1;
}

/* ------------------------------------------------------------------ */
/* basic use                                                           */
/* ------------------------------------------------------------------ */

TEST(vmalloc_basic_and_edges)
{
	boot("mem=64M numa=1");
	unsigned long np = (100000 + PAGE_SIZE - 1) / PAGE_SIZE;	/* 25 with 4 KiB pages */
	char *p = vmalloc(100000);
	assert_nonnull(p);
	expect_true(is_vmalloc_addr(p));
	expect_true(is_vmalloc_addr(p + 100000 - 1));
	expect_eq((uintptr_t)p % PAGE_SIZE, 0);
	fill(p, np * PAGE_SIZE, 1);
	expect_eq(first_mismatch(p, np * PAGE_SIZE, 1), (size_t)-1);
	expect_eq(meminfo_kb("VmallocUsed"), (long)(np * (PAGE_SIZE / 1024)));

	char *z = vzalloc(3 * PAGE_SIZE);
	assert_nonnull(z);
	for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
		if (z[i]) {
			expect_eq(z[i], 0);
			break;
		}
	char *n = vmalloc_node(5000, 0);
	assert_nonnull(n);
	expect_eq(page_to_nid(vmalloc_to_page(n)), 0);
	expect_eq(kmm_check(), 0);

	expect_null(vmalloc(0));
	logcap_start();
	expect_null(vmalloc(ULONG_MAX));
	expect_null(vmalloc((kmm.max_pfn + 1) << PAGE_SHIFT));
	logcap_stop();
	expect_ge(logcap_count("kmm: vmalloc error: size"), 1);
	expect_false(is_vmalloc_addr(NULL));
	int local;
	expect_false(is_vmalloc_addr(&local));
	expect_null(vmalloc_to_page(&local));

	vfree(p);
	vfree(z);
	vfree(n);
	expect_eq(kmm_check(), 0);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* 64 MiB on memory with no block above order 0                        */
/* ------------------------------------------------------------------ */

static int cmp_page(const void *a, const void *b)
{
	unsigned long x = page_to_pfn(*(struct page *const *)a), y = page_to_pfn(*(struct page *const *)b);
	return x < y ? -1 : x > y;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

TEST(vmalloc_64m_on_fragmented_memory)
{
	boot("mem=256M numa=1 zones=dma:16M,normal:160M,highmem pcp=off");
	kmm_drain_all();
	unsigned long free0 = nr_free_pages();

	/* take every frame as an order-0 page, then give back every other pfn */
	struct page **all = malloc(kmm.max_pfn * sizeof(*all));
	assert_nonnull(all);
	unsigned long n = 0;
	struct page *pg;
	while (n < kmm.max_pfn && (pg = alloc_page(__GFP_HIGHMEM | __GFP_MEMALLOC | __GFP_NOWARN)) != NULL)
		all[n++] = pg;
	expect_eq(nr_free_pages(), 0);
	qsort(all, n, sizeof(*all), cmp_page);
	unsigned long kept = 0;
	for (unsigned long i = 0; i < n; i++) {
		if (page_to_pfn(all[i]) & 1)
			__free_page(all[i]);
		else
			all[kept++] = all[i];
	}
	kmm_drain_all();
	/* nothing above order 0 is left anywhere: certainly no order-10 block */
	for (int nid = 0; nid < kmm.nr_nodes; nid++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			for (int o = 1; o < NR_PAGE_ORDERS; o++)
				expect_eq(NODE_DATA(nid)->node_zones[zi].free_area[o].nr_free, 0);
	unsigned long frag_free = nr_free_pages();
	expect_ge(frag_free, (64 * MiB >> PAGE_SHIFT) * 17 / 16);
	expect_eq(kmm_check(), 0);

	unsigned long size = 64 * MiB, np = size >> PAGE_SHIFT;
	char *p = vmalloc(size);
	assert_nonnull(p);
	/* the frames are scattered single pages: no two neighbours contiguous */
	unsigned long contiguous = 0, high = 0;
	struct page *prev = NULL;
	for (unsigned long i = 0; i < np; i++) {
		struct page *f = vmalloc_to_page(p + (i << PAGE_SHIFT) + 77);
		assert_nonnull(f);
		expect_true(page_to_pfn(f) & 1);
		if (prev && page_to_pfn(f) == page_to_pfn(prev) + 1)
			contiguous++;
		high += PageHighMem(f);
		prev = f;
	}
	expect_eq(contiguous, 0);
	expect_gt(high, 0);	/* vmalloc takes high memory */
	fill(p, size, 64);
	expect_eq(kmm_check(), 0);
	expect_eq(first_mismatch(p, size, 64), (size_t)-1);
	/* VmallocUsed counts the page array too when it is vmalloc'ed (128 KiB) */
	unsigned long arr = np * sizeof(void *) > PAGE_SIZE ? ALIGN_UP(np * sizeof(void *), PAGE_SIZE) : 0;
	expect_eq(meminfo_kb("VmallocUsed"), (long)((size + arr) >> 10));

	vfree(p);
	kmm_drain_all();
	expect_eq(nr_free_pages(), frag_free);
	expect_eq(kmm_check(), 0);
	for (unsigned long i = 0; i < kept; i++)
		__free_page(all[i]);
	free(all);
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* guard pages                                                         */
/* ------------------------------------------------------------------ */

TEST(vmalloc_guard_page_faults)
{
	boot("mem=64M numa=1");
	char *p = vmalloc(3 * PAGE_SIZE + 100);	/* 4 pages, then the guard */
	assert_nonnull(p);
	memset(p, 0x5a, 4 * PAGE_SIZE);
	expect_eq(in_child(read_byte, p), 0);
	expect_eq(in_child(read_byte, p + 4 * PAGE_SIZE - 1), 0);
	expect_eq(in_child(read_byte, p + 4 * PAGE_SIZE), SIGSEGV);
	expect_null(vmalloc_to_page(p + 4 * PAGE_SIZE));

	/* the next area starts after the guard page */
	char *q = vmalloc(PAGE_SIZE);
	assert_nonnull(q);
	expect_ge(q, p + 5 * PAGE_SIZE);
	expect_eq(in_child(read_byte, q + PAGE_SIZE), SIGSEGV);

	/* freed areas are unmapped at once (and not reused before a purge) */
	vfree(p);
	expect_eq(in_child(read_byte, p), SIGSEGV);
	char *r = vmalloc(PAGE_SIZE);
	assert_nonnull(r);
	expect_ne(r, p);
	vfree(q);
	vfree(r);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* address-space exhaustion (MISUSE 26)                                */
/* ------------------------------------------------------------------ */

TEST(vmalloc_address_space_exhaustion)
{
	boot("mem=64M numa=1 vmalloc=4M");
	void *a[8];
	int n = 0;
	logcap_start();
	while (n < 8 && (a[n] = vmalloc(MiB)) != NULL)
		n++;
	logcap_stop();
	/* 1 MiB + its guard page, three times, leaves less than 1 MiB of 4 MiB */
	expect_eq(n, 3);
	char want[128];
	snprintf(want, sizeof(want), "kmm: vmap allocation for size %lu failed: use vmalloc=<size> to increase size",
		 MiB + PAGE_SIZE);
	expect_eq(logcap_count(want), 1);
	expect_true(logcap_all_well_formed());
	expect_eq(kmm_check(), 0);

	/* a freed range waits in the lazy tree; the next failure purges it
	 * and retries once */
	void *old = a[1];
	vfree(a[1]);
	char *t = report_text("vmallocinfo", NULL);
	assert_nonnull(t);
	expect_true(strstr(t, "unpurged vm_area") != NULL);
	free(t);
	logcap_start();
	a[1] = vmalloc(MiB);
	logcap_stop();
	expect_eq(a[1], old);
	expect_eq(logcap_count("vmap allocation"), 0);
	expect_eq(kmm_check(), 0);

	/* a request bigger than the window fails cleanly */
	logcap_start();
	expect_null(vmalloc(8 * MiB));
	logcap_stop();
	expect_eq(logcap_count("vmap allocation for size"), 1);

	for (int i = 0; i < n; i++)
		vfree(a[i]);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* misuse 24 and 25                                                    */
/* ------------------------------------------------------------------ */

/* Calls fn, expects exactly one report line starting with "kmm: <cat>: ". */
#define EXPECT_REPORT(cat, call) do {                                                     \
		unsigned long e0_ = kmm_error_count();                                    \
		logcap_start();                                                            \
		call;                                                                      \
		logcap_stop();                                                             \
		expect_eq(kmm_error_count(), e0_ + 1);                                     \
		expect_eq(logcap_lines(), 1);                                              \
		expect_eq(logcap_count("kmm: " cat ": "), 1);                              \
		if (logcap_count("kmm: " cat ": ") != 1)                                   \
			logcap_dump();                                                     \
		expect_eq(kmm_check(), 0);                                                 \
	} while (0)

TEST(vfree_misuse_reported)
{
	boot("mem=64M numa=1 on_error=report");
	char *p = vmalloc(2 * PAGE_SIZE);
	assert_nonnull(p);
	void *k = kmalloc(64, GFP_KERNEL);
	assert_nonnull(k);
	int local = 0;

	unsigned long e0 = kmm_error_count();
	logcap_start();
	vfree(NULL);
	vunmap(NULL);
	logcap_stop();
	expect_eq(kmm_error_count(), e0);
	expect_eq(logcap_lines(), 0);

	EXPECT_REPORT("vfree bad address", vfree(k));			/* a kmalloc pointer */
	EXPECT_REPORT("vfree bad address", vfree(&local));		/* the stack */
	EXPECT_REPORT("vfree bad address", vfree(p + 1));		/* misaligned */
	EXPECT_REPORT("vfree bad address", vfree(kmm.vmalloc_end));	/* just past the window */
	EXPECT_REPORT("vfree nonexistent area", vfree(p + PAGE_SIZE));	/* interior page */
	EXPECT_REPORT("vfree nonexistent area", vfree(p + 2 * PAGE_SIZE)); /* its guard page */
	EXPECT_REPORT("vfree nonexistent area", vfree(kmm.vmalloc_end - PAGE_SIZE)); /* free space */
	EXPECT_REPORT("invalid free", vunmap(p));			/* vmalloc'ed, not vmapped */
	EXPECT_REPORT("vfree bad address", vunmap(&local));
	/* the area survived every bad call */
	memset(p, 1, 2 * PAGE_SIZE);
	vfree(p);
	EXPECT_REPORT("vfree nonexistent area", vfree(p));		/* double vfree */
	kmm_drain_all();
	EXPECT_REPORT("vfree nonexistent area", vfree(p));		/* ... after a purge */
	EXPECT_REPORT("vfree nonexistent area", vunmap(p));
	kfree(k);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

static int abort_pipe[2];

static void pipe_log(void *ctx, const char *line)
{
	(void)ctx;
	ssize_t r = write(abort_pipe[1], line, strlen(line));
	r = write(abort_pipe[1], "\n", 1);
	(void)r;
}

static void double_vfree_child(void *arg)
{
	(void)arg;
	if (!freopen("/dev/null", "w", stderr))
		_exit(3);
	if (kmm_boot("mem=32M numa=1 on_error=abort"))
		_exit(2);
	kmm_set_log(pipe_log, NULL);
	char *p = vmalloc(PAGE_SIZE);
	vfree(p);
	vfree(p);	/* aborts */
	_exit(1);
}

TEST(vfree_misuse_aborts)
{
	assert_eq(pipe(abort_pipe), 0);
	int sig = in_child(double_vfree_child, NULL);
	close(abort_pipe[1]);
	char buf[1024] = "";
	ssize_t got = read(abort_pipe[0], buf, sizeof(buf) - 1);
	close(abort_pipe[0]);
	if (got > 0)
		buf[got] = '\0';
	expect_eq(sig, SIGABRT);
	expect_true(strstr(buf, "kmm: vfree nonexistent area: vfree(0x") != NULL);
}

/* ------------------------------------------------------------------ */
/* the page table                                                      */
/* ------------------------------------------------------------------ */

TEST(vmalloc_page_table_walk)
{
	boot("mem=256M numa=1");
	kmm_drain_all();
	long pt0 = meminfo_kb("PageTables");
	unsigned long tables0 = kmm_pgtable_pages();
	expect_eq(pt0, (long)(tables0 * (PAGE_SIZE / 1024)));
	expect_eq(kmm_pgtable_count_present(kmm.vmalloc_start, window_pages()), 0);

	/* 1000 pages (4 KiB pages: two pte tables of 512 entries under one
	 * pmd table); the 8000-byte page array is itself vmalloc'ed when it
	 * exceeds a page (2 pages, right after the area's guard page) */
	unsigned long n = 1000, entries = PAGE_SIZE / sizeof(unsigned long);
	unsigned long arr = n * sizeof(void *) > PAGE_SIZE ? (n * sizeof(void *) + PAGE_SIZE - 1) / PAGE_SIZE : 0;
	unsigned long last = arr ? n + 1 + arr - 1 : n - 1;	/* highest page index mapped */
	unsigned long new_tables = 1 + last / entries + 1;	/* the pmd table and the pte tables */
	char *p = vmalloc(n << PAGE_SHIFT);
	assert_nonnull(p);
	expect_eq(p, kmm.vmalloc_start);	/* lowest fit in an empty window */
	expect_eq(kmm_pgtable_count_present(kmm.vmalloc_start, window_pages()), n + arr);
	expect_eq(kmm_pgtable_count_present(p, n), n);
	expect_eq(kmm_pgtable_pages(), tables0 + new_tables);
	expect_eq(meminfo_kb("PageTables"), pt0 + (long)(new_tables * (PAGE_SIZE / 1024)));

	unsigned long *pfns = malloc(n * sizeof(*pfns));
	assert_nonnull(pfns);
	for (unsigned long i = 0; i < n; i++) {
		struct page *f = vmalloc_to_page(p + (i << PAGE_SHIFT) + (i % PAGE_SIZE));
		assert_nonnull(f);
		pfns[i] = page_to_pfn(f);
		expect_eq(page_count(f), 1);
		/* the same frame at its linear address (shared backing alias) */
		if (!PageHighMem(f)) {
			p[(i << PAGE_SHIFT) + 5] = (char)i;
			expect_eq(((char *)page_address(f))[5], (char)i);
		}
	}
	qsort(pfns, n, sizeof(*pfns), cmp_ulong);
	unsigned long dups = 0;
	for (unsigned long i = 1; i < n; i++)	/* all distinct */
		dups += pfns[i] == pfns[i - 1];
	expect_eq(dups, 0);
	free(pfns);
	expect_null(vmalloc_to_page(p + (n << PAGE_SHIFT)));	/* guard */
	expect_eq(kmm_check(), 0);

	vfree(p);
	/* entries go at vfree; the range waits for a purge */
	expect_null(vmalloc_to_page(p));
	expect_eq(kmm_pgtable_count_present(kmm.vmalloc_start, window_pages()), 0);
	expect_eq(kmm_pgtable_pages(), tables0);
	kmm_drain_all();
	expect_eq(meminfo_kb("PageTables"), pt0);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* vmap                                                                */
/* ------------------------------------------------------------------ */

TEST(vmap_aliases_caller_pages)
{
	boot("mem=64M numa=1 zones=dma:16M,normal:32M,highmem");
	struct page *pg[4];
	pg[0] = alloc_page(GFP_KERNEL);
	pg[1] = alloc_page(GFP_KERNEL);
	pg[2] = alloc_page(GFP_HIGHUSER);
	pg[3] = alloc_page(GFP_HIGHUSER);
	for (int i = 0; i < 4; i++)
		assert_nonnull(pg[i]);
	expect_true(PageHighMem(pg[2]));

	expect_null(vmap(pg, 0, VM_MAP, PAGE_KERNEL));
	expect_null(vmap(NULL, 4, VM_MAP, PAGE_KERNEL));
	struct page *bogus[1] = { (struct page *)(void *)&pg[0] };
	expect_null(vmap(bogus, 1, VM_MAP, PAGE_KERNEL));

	char *v = vmap(pg, 4, VM_MAP, PAGE_KERNEL);
	assert_nonnull(v);
	expect_true(is_vmalloc_addr(v));
	for (int i = 0; i < 4; i++)
		expect_eq(vmalloc_to_page(v + i * PAGE_SIZE + 9), pg[i]);
	expect_eq(meminfo_kb("VmallocUsed"), 0);	/* vmap owns no pages */

	/* write through the vmap address, read through the other mapping */
	for (int i = 0; i < 4; i++) {
		memset(v + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
		char *other = kmap(pg[i]);
		assert_nonnull(other);
		expect_ne(other, v + i * PAGE_SIZE);
		expect_eq(other[0], 'a' + i);
		expect_eq(other[PAGE_SIZE - 1], 'a' + i);
		other[100] = 'Z';	/* and back */
		expect_eq(v[i * PAGE_SIZE + 100], 'Z');
		kunmap(pg[i]);
	}
	char *t = report_text("vmallocinfo", NULL);
	assert_nonnull(t);
	expect_true(strstr(t, " vmap\n") != NULL);
	expect_true(strstr(t, "pages=") == NULL);
	free(t);
	expect_eq(kmm_check(), 0);

	vunmap(v);
	expect_null(vmalloc_to_page(v));
	for (int i = 0; i < 4; i++) {
		expect_eq(page_count(pg[i]), 1);	/* still the caller's */
		char *other = kmap(pg[i]);
		expect_eq(other[1], 'a' + i);
		kunmap(pg[i]);
		__free_page(pg[i]);
	}
	/* vfree of a vmap area unmaps it too (Linux: no pages to free) */
	struct page *one = alloc_page(GFP_KERNEL);
	char *w = vmap(&one, 1, VM_MAP, PAGE_KERNEL);
	assert_nonnull(w);
	vfree(w);
	expect_eq(page_count(one), 1);
	__free_page(one);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* private backing                                                     */
/* ------------------------------------------------------------------ */

struct frames {
	unsigned long n;
	void *addr[64];
};

static void read_all(void *arg)
{
	struct frames *f = arg;
	for (unsigned long i = 0; i < f->n; i++) {
		kt_unpoison(f->addr[i], 1);	/* free frames, read on purpose */
		read_byte(f->addr[i]);
	}
}

TEST(private_backing_moves_frames)
{
	if (getenv("KMM_TEST_VALGRIND"))	/* memcheck does not follow mremap(MREMAP_DONTUNMAP) */
		skip_test("frames moved with mremap: not under memcheck");
	boot("backing=private mem=64M numa=1");
	struct frames fr = { .n = 64 };
	char *p = vmalloc(64 * PAGE_SIZE);
	assert_nonnull(p);
	fill(p, 64 * PAGE_SIZE, 7);
	for (unsigned long i = 0; i < 64; i++) {
		struct page *f = vmalloc_to_page(p + i * PAGE_SIZE);
		assert_nonnull(f);
		expect_false(PageHighMem(f));
		fr.addr[i] = page_address(f);
	}
	/* the frames left their linear addresses ... */
	struct frames one = { .n = 1, .addr = { fr.addr[17] } };
	expect_eq(in_child(read_all, &one), SIGSEGV);
	expect_eq(first_mismatch(p, 64 * PAGE_SIZE, 7), (size_t)-1);
	expect_eq(kmm_check(), 0);
	/* ... and come back at vfree */
	vfree(p);
	expect_eq(in_child(read_all, &fr), 0);
	expect_eq(kmm_check(), 0);

	/* vzalloc, and content surviving a second round */
	char *z = vzalloc(16 * PAGE_SIZE);
	assert_nonnull(z);
	for (size_t i = 0; i < 16 * PAGE_SIZE; i += 512)
		expect_eq(z[i], 0);
	vfree(z);

	/* vmap moves the caller's page; a second mapping of it fails */
	struct page *pg = alloc_page(GFP_KERNEL);
	assert_nonnull(pg);
	char *lin = page_address(pg);
	memset(lin, 'q', PAGE_SIZE);
	char *v = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	assert_nonnull(v);
	expect_eq(v[4000], 'q');
	v[0] = 'w';
	expect_null(vmap(&pg, 1, VM_MAP, PAGE_KERNEL));
	struct page *twice[2] = { pg, pg };
	vunmap(v);
	expect_null(vmap(twice, 2, VM_MAP, PAGE_KERNEL));
	expect_eq(lin[0], 'w');	/* back at its linear address */
	expect_eq(lin[1], 'q');
	__free_page(pg);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* vmallocinfo and meminfo                                             */
/* ------------------------------------------------------------------ */

TEST(vmallocinfo_format)
{
	boot("mem=128M numa=2");
	unsigned long nb = PAGE_SIZE / sizeof(void *) + 88;	/* 600: its page array needs 2 pages */
	if (nb * PAGE_SIZE > 32 * MiB)
		skip_test("an area with a vmalloc'ed page array is too big for this page size");
	char *a = vmalloc(3 * PAGE_SIZE);
	char *b = vmalloc(nb * PAGE_SIZE);
	assert_nonnull(a);
	assert_nonnull(b);
	char *t = report_text("vmallocinfo", NULL);
	assert_nonnull(t);
	/* a, b, then b's page array (2 pages), by address */
	expect_eq(count_lines(t), 3);
	char want[160], tail[64];
	snprintf(want, sizeof(want), "0x%016lx-0x%016lx %7lu 0x", (unsigned long)a, (unsigned long)a + 4 * PAGE_SIZE,
		 4 * PAGE_SIZE);
	expect_eq(strncmp(t, want, strlen(want)), 0);
	if (strncmp(t, want, strlen(want)))
		printf("%s", t);
	const char *l1 = t, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
	expect_true(strstr(l1, " pages=3 vmalloc N") != NULL);
	snprintf(tail, sizeof(tail), " pages=%lu vmalloc vpages N", nb);
	expect_true(strstr(l2, tail) != NULL);
	expect_true(strstr(l3, " pages=2 vmalloc N") != NULL);
	/* per-node counts add up */
	int n0 = 0, n1 = 0;
	const char *q = strstr(l2, " N0=");
	if (q)
		n0 = atoi(q + 4);
	q = strstr(l2, " N1=");
	if (q && q < l3)
		n1 = atoi(q + 4);
	expect_eq(n0 + n1, (int)nb);
	expect_eq(meminfo_kb("VmallocUsed"), (long)((3 + nb + 2) * (PAGE_SIZE / 1024)));
	expect_eq(meminfo_kb("VmallocTotal"), (long)(window_pages() * (PAGE_SIZE / 1024)));
	free(t);

	vfree(a);
	t = report_text("vmallocinfo", NULL);
	assert_nonnull(t);
	snprintf(want, sizeof(want), "0x%016lx-0x%016lx %7lu unpurged vm_area\n", (unsigned long)a,
		 (unsigned long)a + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
	expect_true(strstr(t, want) != NULL);
	expect_eq(count_lines(t), 3);
	free(t);
	vfree(b);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* fault injection                                                     */
/* ------------------------------------------------------------------ */

TEST(vmalloc_fault_injection)
{
	boot("mem=64M numa=1");
	assert_eq(kmm_fault_config("fail_vmalloc", "probability=100 interval=1 times=1 verbose=0"), 0);
	expect_null(vmalloc(PAGE_SIZE));
	void *p = vmalloc(PAGE_SIZE);
	expect_nonnull(p);
	vfree(p);
	expect_eq(kmm_check(), 0);
	assert_eq(kmm_fault_config("fail_vmalloc", "probability=0"), 0);

	/* fail the n-th allocation inside one vmalloc, for every n: each
	 * failure unwinds completely */
	kmm_drain_all();
	unsigned long free0 = nr_free_pages();
	unsigned long n, failed = 0;
	logcap_start();
	for (n = 1; n < 5000; n++) {
		kmm_set_fail_nth((unsigned int)n);
		p = vmalloc(600 * PAGE_SIZE);	/* its 4800-byte page array is vmalloc'ed too */
		unsigned int left = kmm_get_fail_nth();
		kmm_set_fail_nth(0);
		failed += !p;
		if (p) {
			/* a fault the layers below absorbed (a retry) or none */
			memset(p, 1, 600 * PAGE_SIZE);
			vfree(p);
		}
		kmm_drain_all();
		expect_eq(nr_free_pages(), free0);
		expect_eq(kmm_check(), 0);
		if (nr_free_pages() != free0 || kmm_check()) {
			printf("  failing allocation %lu of vmalloc(600 pages) leaked\n", n);
			break;
		}
		if (left)	/* the n-th fault point was never reached: swept all */
			break;
	}
	logcap_stop();
	expect_lt(n, 5000);
	expect_gt(failed, 600);	/* at least one fault point per frame */
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* threads                                                             */
/* ------------------------------------------------------------------ */

#define NTHREADS 4
#define ROUNDS 300

static void *vm_worker(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg;
	char *live[8] = { 0 };
	size_t len[8] = { 0 };
	for (int r = 0; r < ROUNDS; r++) {
		int slot = (int)((seed = seed * 6364136223846793005UL + 1442695040888963407UL) >> 33) % 8;
		if (live[slot]) {
			if (first_mismatch(live[slot], len[slot], (unsigned)slot) != (size_t)-1)
				return (void *)1;
			vfree(live[slot]);
			live[slot] = NULL;
		} else {
			len[slot] = ((seed >> 40) % 40 + 1) * PAGE_SIZE;
			live[slot] = vmalloc(len[slot]);
			if (!live[slot])
				return (void *)2;
			fill(live[slot], len[slot], (unsigned)slot);
		}
	}
	for (int i = 0; i < 8; i++)
		vfree(live[i]);
	return NULL;
}

TEST(vmalloc_concurrent)
{
	boot("mem=128M numa=2 cpus=4");
	pthread_t th[NTHREADS];
	unsigned long seed = kt_seed();
	for (int i = 0; i < NTHREADS; i++)
		assert_eq(pthread_create(&th[i], NULL, vm_worker, (void *)(uintptr_t)(seed + (unsigned long)i * 7919)), 0);
	for (int i = 0; i < 200; i++)
		expect_eq(kmm_check(), 0);	/* concurrently with the workers */
	for (int i = 0; i < NTHREADS; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		expect_null(rv);
	}
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* kvmalloc and kfree of vmalloc addresses                             */
/* ------------------------------------------------------------------ */

TEST(kvmalloc_seam)
{
	boot("mem=256M numa=1 on_error=report");
	void *small = kvmalloc(100, GFP_KERNEL);
	void *big = kvmalloc(4 * MiB, GFP_KERNEL);
	assert_nonnull(small);
	assert_nonnull(big);
	expect_false(is_vmalloc_addr(small));
	memset(big, 3, 4 * MiB);
	kvfree(small);
	kvfree(big);
	kvfree(NULL);

	/* kvmalloc falls back to vmalloc when the page allocator has no
	 * contiguous block: ask for more than MAX_ORDER allows */
	void *huge = kvmalloc((PAGE_SIZE << MAX_PAGE_ORDER) + PAGE_SIZE, GFP_KERNEL);
	assert_nonnull(huge);
	expect_true(is_vmalloc_addr(huge));
	kvfree(huge);

	/* kfree of a vmalloc address is a report, not a crash */
	char *v = vmalloc(2 * PAGE_SIZE);
	assert_nonnull(v);
	EXPECT_REPORT("invalid free", kfree(v));
	memset(v, 1, 2 * PAGE_SIZE);
	vfree(v);
	expect_vmalloc_space_free();
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* shutdown with areas still allocated                                 */
/* ------------------------------------------------------------------ */

TEST(vmalloc_leak_reported_at_shutdown)
{
	boot("mem=64M numa=1");
	char *p = vmalloc(700 * PAGE_SIZE);	/* with a vmalloc'ed page array */
	struct page *pg = alloc_page(GFP_KERNEL);
	char *v = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	assert_nonnull(p);
	assert_nonnull(v);
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_eq(logcap_count("kmm: shutdown: vmalloc: area"), 2);
	expect_eq(logcap_count("page table"), 0);
	/* the vmap'ed page itself is the caller's leak */
	expect_ge(logcap_count("still allocated"), 1);
	/* a fresh boot is clean */
	boot("mem=64M numa=1");
	expect_vmalloc_space_free();
	kmm_shutdown();
}

TEST_MAIN()
