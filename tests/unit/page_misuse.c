/*
 * tests/unit/page_misuse.c - misuse of the page allocator (MISUSE.md cases
 * 17-20 and 23): wrong order, double free, invalid free (foreign address,
 * bogus descriptor), bad page state (reserved page, page still marked slab
 * or mapped), order above MAX_PAGE_ORDER, zone fallback only along the
 * zonelist.  Under on_error=report: one report line, kmm_error_count() + 1,
 * kmm_check() still passes, nr_free_pages() unchanged by the bad call.
 * Under on_error=abort (the default): in a child, SIGABRT and the report
 * line on stderr.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "page_helpers.h"

#define REPORT_MACHINE "mem=64M numa=1 zones=normal cpus=1 pcp=off on_error=report"
#define REPORT_MACHINE_PCP "mem=64M numa=1 zones=normal cpus=1 on_error=report"

/* Run bad(arg) and expect exactly one "kmm: <category>: " report, the
 * error count up by one, nothing freed, every invariant intact.  Returns
 * the report line (valid until the next capture) or NULL. */
static const char *expect_report(const char *category, void (*bad)(void *), void *arg)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "kmm: %s: ", category);
	unsigned long errors = kmm_error_count();
	unsigned long free0 = nr_free_pages();
	unsigned long pcp0 = wb_all_pcp_pages();
	logcap_start();
	bad(arg);
	logcap_stop();
	int lines = logcap_lines();
	const char *line = logcap_find(prefix);
	if (lines != 1 || !line || strncmp(line, prefix, strlen(prefix)) != 0) {
		kt_fail(0, __FILE__, __LINE__, "expected one \"%s...\" line, got %d lines:", prefix, lines);
		logcap_dump();
	}
	expect_eq(kmm_error_count(), errors + 1);
	expect_eq(nr_free_pages(), free0);
	expect_eq(wb_all_pcp_pages(), pcp0);
	expect_eq(kmm_check(), 0);
	return line;
}

/* the integers in s, at most max */
static int integers(const char *s, long *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		if (isdigit((unsigned char)*s)) {
			char *end;
			out[n++] = strtol(s, &end, 10);
			s = end;
		} else {
			s++;
		}
	}
	return n;
}

static bool has_integer(const char *s, long v)
{
	long ints[32];
	int n = integers(s, ints, 32);
	for (int i = 0; i < n; i++)
		if (ints[i] == v)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The bad calls                                                       */
/* ------------------------------------------------------------------ */

struct freeing {
	struct page *page;
	unsigned long addr;
	unsigned int order;
};

static void do_free_pages(void *arg)
{
	struct freeing *f = arg;
	__free_pages(f->page, f->order);
}

static void do_free_addr(void *arg)
{
	struct freeing *f = arg;
	free_pages(f->addr, f->order);
}

static void do_put_page(void *arg)
{
	struct freeing *f = arg;
	put_page(f->page);
}

/* ------------------------------------------------------------------ */
/* Case 18: double free                                                */
/* ------------------------------------------------------------------ */

static void double_free_cases(const char *cmdline)
{
	assert_eq(kt_boot(cmdline), 0);
	unsigned long free0 = nr_free_pages() + wb_all_pcp_pages();
	for (unsigned int order = 0; order <= 3; order++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		assert_nonnull(p);
		__free_pages(p, order);
		struct freeing f = { .page = p, .order = order };
		const char *line = expect_report("page double free", do_free_pages, &f);
		if (line)
			expect_true(has_integer(line, (long)page_to_pfn(p)));
		/* through the address too */
		unsigned long a = __get_free_pages(GFP_KERNEL, order);
		assert_ne(a, 0);
		free_pages(a, order);
		f.addr = a;
		expect_report("page double free", do_free_addr, &f);
	}
	/* a page merged into a larger free block is no longer a head: still a double free */
	struct page *p = alloc_pages(GFP_KERNEL, 1);
	assert_nonnull(p);
	struct page *second = pfn_to_page(page_to_pfn(p) + 1);
	__free_pages(p, 1);
	struct freeing f = { .page = second, .order = 0 };
	expect_report("page double free", do_free_pages, &f);
	/* put_page on a free page */
	f.page = p;
	expect_report("page double free", do_put_page, &f);
	kmm_drain_all();
	expect_eq(nr_free_pages(), free0);
	kmm_shutdown();
}

TEST(double_free_is_reported)
{
	double_free_cases(REPORT_MACHINE);
	double_free_cases(REPORT_MACHINE_PCP);	/* the page sits on a per-CPU list */
}

/* ------------------------------------------------------------------ */
/* Case 17: wrong order                                                */
/* ------------------------------------------------------------------ */

TEST(wrong_order_is_reported)
{
	static const unsigned int cases[][2] = { { 3, 2 }, { 1, 4 }, { 0, 5 }, { 6, 0 }, { 2, 10 } };
	for (int pcp = 0; pcp < 2; pcp++) {
		assert_eq(kt_boot(pcp ? REPORT_MACHINE_PCP : REPORT_MACHINE), 0);
		unsigned long free0 = nr_free_pages() + wb_all_pcp_pages();
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			unsigned int a = cases[i][0], b = cases[i][1];
			struct page *p = alloc_pages(GFP_KERNEL, a);
			assert_nonnull(p);
			struct freeing f = { .page = p, .order = b };
			const char *line = expect_report("wrong order", do_free_pages, &f);
			/* the detail names both orders */
			if (line && (!has_integer(line + strlen("kmm: wrong order: "), a) ||
				     !has_integer(line + strlen("kmm: wrong order: "), b)))
				kt_fail(0, __FILE__, __LINE__, "\"%s\" does not name orders %u and %u", line, a, b);
			/* the block is still allocated and frees with the right order */
			expect_eq(page_count(p), 1);
			__free_pages(p, a);
		}
		/* through free_pages */
		unsigned long addr = __get_free_pages(GFP_KERNEL, 2);
		assert_ne(addr, 0);
		struct freeing f = { .addr = addr, .order = 1 };
		expect_report("wrong order", do_free_addr, &f);
		free_pages(addr, 2);
		kmm_drain_all();
		expect_eq(nr_free_pages(), free0);
		expect_eq(kmm_check(), 0);
		kmm_shutdown();
	}
}

/* ------------------------------------------------------------------ */
/* Invalid free: foreign addresses and descriptors                     */
/* ------------------------------------------------------------------ */

static char global_buf[3 * 4096] __attribute__((aligned(4096)));

TEST(invalid_free_is_reported)
{
	assert_eq(kt_boot(REPORT_MACHINE), 0);
	unsigned long free0 = nr_free_pages();
	long stack_var[8] = { 0 };
	void *heap = aligned_alloc(4096, 4096);
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	assert_nonnull(p);
	struct freeing f = { 0 };

	/* foreign addresses to free_pages: stack, global, heap, misaligned, 0x1000 */
	unsigned long addrs[] = {
		(unsigned long)stack_var & ~(PAGE_SIZE - 1),
		(unsigned long)global_buf,
		(unsigned long)heap,
		(unsigned long)page_address(p) + 8,
		(unsigned long)page_address(p) + 100,
		0x1000,
		~0UL & PAGE_MASK,
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		f.addr = addrs[i];
		f.order = 0;
		expect_report("invalid free", do_free_addr, &f);
	}
	/* bogus struct page pointers to __free_pages: never dereferenced */
	struct page *bogus[] = {
		(struct page *)0x1000,
		(struct page *)(void *)stack_var,
		(struct page *)(void *)global_buf,
		(struct page *)heap,
		(struct page *)((char *)p + 8),			/* inside a descriptor */
		(struct page *)((char *)pfn_to_page(0) - 64),	/* just before mem_map */
		(struct page *)((char *)pfn_to_page(kmm.max_pfn - 1) + sizeof(struct page)), /* just after */
	};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		f.page = bogus[i];
		f.order = 0;
		expect_report("invalid free", do_free_pages, &f);
		expect_report("invalid free", do_put_page, &f);
	}
	/* a tail page of a compound block */
	struct page *c = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	assert_nonnull(c);
	f.page = pfn_to_page(page_to_pfn(c) + 1);
	f.order = 0;
	expect_report("invalid free", do_free_pages, &f);
	__free_pages(c, 2);
	/* the global buffer and the heap block were not touched */
	for (size_t i = 0; i < sizeof(global_buf); i++)
		if (global_buf[i]) {
			kt_fail(0, __FILE__, __LINE__, "global_buf changed");
			break;
		}
	free(heap);
	__free_pages(p, 2);
	/* __free_pages(NULL) and free_pages(0) are no-ops, not reports */
	unsigned long errors = kmm_error_count();
	logcap_start();
	__free_pages(NULL, 0);
	free_pages(0, 0);
	logcap_stop();
	expect_eq(logcap_lines(), 0);
	expect_eq(kmm_error_count(), errors);
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Case 19: bad page state                                             */
/* ------------------------------------------------------------------ */

TEST(bad_page_state_is_reported)
{
	assert_eq(kt_boot(REPORT_MACHINE), 0);
	struct freeing f = { 0 };

	/* a reserved (boot) page: the frame holding mem_map itself */
	struct page *memmap_frame = virt_to_page(pfn_to_page(0));
	assert_nonnull(memmap_frame);
	f.page = memmap_frame;
	f.order = 0;
	const char *line = expect_report("bad page state", do_free_pages, &f);
	if (line)
		expect_true(has_integer(line, (long)page_to_pfn(memmap_frame)));
	expect_eq(page_count(memmap_frame), 1);
	/* every reservation, white-box */
	for (int i = 0; i < kmm.nr_reserved; i++) {
		f.page = pfn_to_page(kmm.reserved[i].start_pfn);
		expect_report("bad page state", do_free_pages, &f);
		f.addr = (unsigned long)page_address(f.page);
		expect_report("bad page state", do_free_addr, &f);
	}

	/* a page still marked slab (white-box): reported and leaked, not freed */
	struct page *p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	SetPageSlab(p);
	f.page = p;
	line = expect_report("bad page state", do_free_pages, &f);
	if (line)
		expect_nonnull(strstr(line, "slab"));
	expect_false(PageBuddy(p));
	/* a page still mapped (white-box: a map count) */
	p = alloc_page(GFP_KERNEL);
	assert_nonnull(p);
	p->_mapcount = 0;
	f.page = p;
	line = expect_report("bad page state", do_free_pages, &f);
	if (line)
		expect_nonnull(strstr(line, "mapped"));
	expect_false(PageBuddy(p));
	expect_eq(kmm_check(), 0);
	/* the two leaked pages are reported at shutdown */
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_nonnull(logcap_find("2 pages still allocated"));
}

/* ------------------------------------------------------------------ */
/* Case 20: order above MAX_PAGE_ORDER                                 */
/* ------------------------------------------------------------------ */

TEST(order_above_max_is_null_with_a_warning)
{
	assert_eq(kt_boot(REPORT_MACHINE), 0);
	unsigned long free0 = nr_free_pages(), errors = kmm_error_count();
	static const unsigned int orders[] = { 11, 12, 31, 1000, ~0u };
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		logcap_start();
		expect_null(alloc_pages(GFP_KERNEL, orders[i]));
		logcap_stop();
		expect_eq(logcap_lines(), 1);
		const char *line = logcap_find("kmm: page allocation failure: ");
		expect_nonnull(line);
		if (line) {
			char want[32];
			snprintf(want, sizeof(want), "order:%u", orders[i]);
			expect_nonnull(strstr(line, want));
		}
		/* with __GFP_NOWARN: silent */
		logcap_start();
		expect_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, orders[i]));
		expect_null(alloc_pages_node(0, GFP_ATOMIC | __GFP_NOWARN, orders[i]));
		expect_eq(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, orders[i]), 0);
		logcap_stop();
		expect_eq(logcap_lines(), 0);
	}
	/* MAX_PAGE_ORDER itself is fine */
	struct page *p = alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER);
	assert_nonnull(p);
	__free_pages(p, MAX_PAGE_ORDER);
	/* a warning, not a misuse report */
	expect_eq(kmm_error_count(), errors);
	expect_eq(nr_free_pages(), free0);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* Case 23: zone fallback only along the zonelist                      */
/* ------------------------------------------------------------------ */

TEST(zone_fallback_only_downwards)
{
	assert_eq(kt_boot("mem=64M numa=1 zones=dma:16M,normal:48M,highmem cpus=1 pcp=off on_error=report"), 0);
	struct zone *dma = wb_zone(0, ZONE_DMA), *normal = wb_zone(0, ZONE_NORMAL), *high = wb_zone(0, ZONE_HIGHMEM);
	unsigned long fn = normal->free_pages, fh = high->free_pages;
	struct blist b = { 0 };
	struct page *p;
	/* GFP_DMA: DMA only, then NULL (never Normal) */
	while ((p = alloc_page(GFP_DMA | __GFP_NORETRY | __GFP_NOWARN))) {
		blist_push(&b, p, 0);
		if (strcmp(page_zone_name(p), "DMA") != 0)
			kt_fail(1, __FILE__, __LINE__, "GFP_DMA got a %s page", page_zone_name(p));
	}
	expect_eq(dma->free_pages, dma->watermark[WMARK_MIN]);
	expect_eq(normal->free_pages, fn);
	expect_eq(high->free_pages, fh);
	blist_free_all(&b);
	/* GFP_KERNEL: Normal, then DMA as lowmem_reserve allows, never HighMem */
	unsigned long fd = dma->free_pages;
	while ((p = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN))) {
		blist_push(&b, p, 0);
		if (PageHighMem(p))
			kt_fail(1, __FILE__, __LINE__, "GFP_KERNEL got a HighMem page");
	}
	expect_eq(high->free_pages, fh);
	expect_eq(normal->free_pages, normal->watermark[WMARK_MIN]);
	expect_eq(dma->free_pages, dma->watermark[WMARK_MIN] + dma->lowmem_reserve[ZONE_NORMAL]);
	expect_lt(dma->free_pages, fd);
	/* a highmem request still succeeds, from HighMem */
	p = alloc_page(GFP_HIGHUSER | __GFP_NORETRY);
	assert_nonnull(p);
	expect_true(PageHighMem(p));
	__free_page(p);
	blist_free_all(&b);
	blist_release(&b);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

/* ------------------------------------------------------------------ */
/* on_error=abort                                                      */
/* ------------------------------------------------------------------ */

enum abort_case { AB_DOUBLE_FREE, AB_WRONG_ORDER, AB_INVALID_FREE, AB_BOGUS_PAGE, AB_RESERVED, AB_ORDER_11 };

static void child_misuse(enum abort_case c, const char *cmdline)
{
	if (kmm_boot(cmdline) != 0)
		_exit(3);
	struct page *p = alloc_pages(GFP_KERNEL, 2);
	long stack_var[4];
	if (!p)
		_exit(4);
	switch (c) {
	case AB_DOUBLE_FREE:
		__free_pages(p, 2);
		__free_pages(p, 2);
		break;
	case AB_WRONG_ORDER:
		__free_pages(p, 1);
		break;
	case AB_INVALID_FREE:
		free_pages((unsigned long)stack_var & ~(PAGE_SIZE - 1), 0);
		break;
	case AB_BOGUS_PAGE:
		__free_pages((struct page *)0x1000, 0);
		break;
	case AB_RESERVED:
		__free_pages(virt_to_page(pfn_to_page(0)), 0);
		break;
	case AB_ORDER_11:
		/* a warning, not misuse: no abort */
		if (alloc_pages(GFP_KERNEL, 11))
			_exit(5);
		__free_pages(p, 2);
		kmm_shutdown();
		_exit(0);
	}
	_exit(6);	/* not reached when the misuse aborts */
}

/* Run case c in a child with stderr in a pipe; return its status and stderr. */
static int run_child(enum abort_case c, const char *cmdline, char *err, size_t errsize)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		signal(SIGABRT, SIG_DFL);
		child_misuse(c, cmdline);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len < errsize - 1 && (n = read(fds[0], err + len, errsize - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return status;
}

TEST(on_error_abort_aborts_with_the_report)
{
	static const struct { enum abort_case c; const char *category; } cases[] = {
		{ AB_DOUBLE_FREE, "page double free" },
		{ AB_WRONG_ORDER, "wrong order" },
		{ AB_INVALID_FREE, "invalid free" },
		{ AB_BOGUS_PAGE, "invalid free" },
		{ AB_RESERVED, "bad page state" },
	};
	static const char *const machines[] = {
		"mem=16M numa=1 cpus=1",			/* on_error=abort is the default */
		"mem=16M numa=1 cpus=1 on_error=abort pcp=off",
	};
	for (size_t m = 0; m < 2; m++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char err[4096];
			int status = run_child(cases[i].c, machines[m], err, sizeof(err));
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "kmm: %s: ", cases[i].category);
			bool signalled = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
			/* the report is a line of its own */
			const char *at = strstr(err, prefix);
			bool own_line = at && (at == err || at[-1] == '\n') && strchr(at, '\n');
			if (!signalled || !own_line)
				kt_fail(0, __FILE__, __LINE__, "%s (%s): status %#x (%s), stderr:\n%s", cases[i].category,
					machines[m], status, signalled ? "SIGABRT" : "no SIGABRT", err);
		}
	}
	/* order > MAX_PAGE_ORDER only warns, even under abort */
	char err[4096];
	int status = run_child(AB_ORDER_11, machines[0], err, sizeof(err));
	expect_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_nonnull(strstr(err, "kmm: page allocation failure: order:11"));
}

TEST_MAIN()
