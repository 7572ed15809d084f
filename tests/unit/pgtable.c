/*
 * tests/unit/pgtable.c - the kernel page table (issue 4), white-box through
 * src/mm/pgtable.h: mapping and unmapping in both windows, table pages
 * allocated on demand and freed when empty (across 2 MiB and 1 GiB
 * boundaries), the walk, refusals (outside the windows, over a live
 * mapping), failure of a table-page allocation leaving nothing behind, the
 * private backing moving frames, the checker catching a broken map count,
 * and the shutdown report of a leaked mapping.
 */
#include "harness.h"
#include "page_helpers.h"
#include "mm/pgtable.h"

#include <signal.h>
#include <sys/wait.h>

/* The geometry pgtable.c describes: 512 entries per table with 4 KiB pages. */
#define ENTRIES    (PAGE_SIZE / sizeof(unsigned long))
#define PMD_BYTES  (ENTRIES * PAGE_SIZE)		/* one pte table maps 2 MiB */
#define PGDIR_BYTES (ENTRIES * PMD_BYTES)		/* one pmd table maps 1 GiB */

static void boot(const char *line)
{
	kmm_set_log(NULL, NULL);
	kmm_shutdown();		/* a failed test before may have left its machine */
	assert_eq(kmm_boot(line), 0);
}

static long meminfo_kb(const char *key)
{
	char *t = report_text("meminfo", NULL);
	long v = t ? report_value(t, key) : -1;
	free(t);
	return v;
}

static unsigned long pkmap_pages(void) { return (unsigned long)kmm.cfg.pkmap; }

static int in_child_read(void *addr)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		/* die of the fault itself, not of a sanitizer's report of it */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		volatile char c = *(volatile char *)addr;
		(void)c;
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

TEST(map_walk_unmap_frees_tables)
{
	boot("mem=64M numa=1");
	unsigned long t0 = kmm_pgtable_pages();
	expect_ge(t0, 1);	/* the pgd */
	long pt0 = meminfo_kb("PageTables");

	struct page *pg[3];
	for (int i = 0; i < 3; i++) {
		pg[i] = alloc_page(GFP_KERNEL);
		assert_nonnull(pg[i]);
		memset(page_address(pg[i]), 'A' + i, PAGE_SIZE);
	}
	/* pkmap window: one pmd table and one pte table appear */
	char *va = kmm.pkmap_base + 5 * PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(va, pg, 3, GFP_KERNEL), 0);
	expect_eq(kmm_pgtable_pages(), t0 + 2);
	for (int i = 0; i < 3; i++) {
		expect_eq(kmm_pgtable_lookup(va + i * PAGE_SIZE + 100), pg[i]);
		expect_eq(va[i * PAGE_SIZE + 7], 'A' + i);	/* the host mapping is there */
		expect_eq(pg[i]->_mapcount, -1);		/* pkmap entries are not counted */
	}
	va[0] = 'z';
	expect_eq(((char *)page_address(pg[0]))[0], 'z');	/* an alias of the frame */
	expect_null(kmm_pgtable_lookup(va - PAGE_SIZE));
	expect_null(kmm_pgtable_lookup(va + 3 * PAGE_SIZE));
	expect_eq(kmm_pgtable_count_present(kmm.pkmap_base, pkmap_pages()), 3);
	expect_eq(kmm_pgtable_check(), 0);

	/* the vmalloc window shares the pgd; its entries count in _mapcount */
	char *top = kmm.vmalloc_end - PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(top, &pg[1], 1, GFP_KERNEL), 0);
	expect_eq(pg[1]->_mapcount, 0);
	expect_eq(kmm_pgtable_lookup(top), pg[1]);
	expect_eq(kmm_pgtable_check(), 0);
	long pt1 = meminfo_kb("PageTables");
	expect_gt(pt1, pt0);
	kmm_kernel_unmap_pages(top, 1);
	expect_eq(pg[1]->_mapcount, -1);
	expect_eq(in_child_read(top), SIGSEGV);

	kmm_kernel_unmap_pages(va, 3);
	expect_null(kmm_pgtable_lookup(va));
	expect_eq(kmm_pgtable_pages(), t0);	/* empty tables went back */
	expect_eq(meminfo_kb("PageTables"), pt0);
	expect_eq(in_child_read(va), SIGSEGV);
	expect_eq(kmm_pgtable_check(), 0);
	for (int i = 0; i < 3; i++)
		__free_page(pg[i]);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(tables_across_boundaries)
{
	/* a 2 GiB window: the pgd has entries for two pmd tables in use */
	boot("mem=64M numa=1 vmalloc=2G");
	unsigned long t0 = kmm_pgtable_pages();
	struct page *pg[4];
	for (int i = 0; i < 4; i++)
		assert_nonnull(pg[i] = alloc_page(GFP_KERNEL));

	/* 2 pages straddling a 2 MiB boundary: 1 pmd + 2 pte tables */
	char *a = kmm.vmalloc_start + PMD_BYTES - PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(a, pg, 2, GFP_KERNEL), 0);
	expect_eq(kmm_pgtable_pages(), t0 + 3);
	/* 2 pages straddling the 1 GiB boundary: 2 more pte tables and 1 more
	 * pmd (the first pmd table is shared) */
	if (PGDIR_BYTES + PAGE_SIZE > (unsigned long)(kmm.vmalloc_end - kmm.vmalloc_start))
		skip_test("a pmd table maps more than the 2 GiB window with this page size");
	char *b = kmm.vmalloc_start + PGDIR_BYTES - PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(b, pg + 2, 2, GFP_KERNEL), 0);
	expect_eq(kmm_pgtable_pages(), t0 + 3 + 3);
	for (int i = 0; i < 2; i++) {
		expect_eq(kmm_pgtable_lookup(a + i * PAGE_SIZE), pg[i]);
		expect_eq(kmm_pgtable_lookup(b + i * PAGE_SIZE), pg[2 + i]);
	}
	expect_eq(kmm_pgtable_count_present(kmm.vmalloc_start, 2 * PGDIR_BYTES / PAGE_SIZE - 1), 4);
	expect_eq(kmm_pgtable_check(), 0);

	/* unmapping one page of a pair frees only its own pte table */
	kmm_kernel_unmap_pages(b + PAGE_SIZE, 1);
	expect_eq(kmm_pgtable_pages(), t0 + 3 + 1);	/* second pmd and its pte table gone */
	kmm_kernel_unmap_pages(b, 1);
	expect_eq(kmm_pgtable_pages(), t0 + 3);
	kmm_kernel_unmap_pages(a, 2);
	expect_eq(kmm_pgtable_pages(), t0);
	expect_eq(kmm_pgtable_check(), 0);
	for (int i = 0; i < 4; i++) {
		expect_eq(pg[i]->_mapcount, -1);
		__free_page(pg[i]);
	}
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(refusals_change_nothing)
{
	boot("mem=64M numa=1");
	unsigned long t0 = kmm_pgtable_pages();
	struct page *pg = alloc_page(GFP_KERNEL), *two[2];
	assert_nonnull(pg);
	int local;

	/* outside the windows, misaligned, running off the end */
	expect_eq(kmm_kernel_map_pages((char *)&local, &pg, 1, GFP_KERNEL), -EINVAL);
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_end, &pg, 1, GFP_KERNEL), -EINVAL);	/* the hole */
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_start + 1, &pg, 1, GFP_KERNEL), -EINVAL);
	two[0] = two[1] = pg;
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_end - PAGE_SIZE, two, 2, GFP_KERNEL), -EINVAL);
	struct page *bogus = (struct page *)(void *)&local;
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_start, &bogus, 1, GFP_KERNEL), -EINVAL);
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_start, &pg, 0, GFP_KERNEL), -EINVAL);
	expect_null(kmm_pgtable_lookup(&local));

	/* over a live mapping */
	char *va = kmm.pkmap_base;
	assert_eq(kmm_kernel_map_pages(va + PAGE_SIZE, &pg, 1, GFP_KERNEL), 0);
	expect_eq(kmm_kernel_map_pages(va, two, 2, GFP_KERNEL), -EINVAL);
	expect_null(kmm_pgtable_lookup(va));
	expect_eq(kmm_pgtable_lookup(va + PAGE_SIZE), pg);
	kmm_kernel_unmap_pages(va + PAGE_SIZE, 1);
	/* unmapping what is not mapped is harmless */
	kmm_kernel_unmap_pages(va, 4);
	expect_eq(kmm_pgtable_pages(), t0);
	expect_eq(kmm_pgtable_check(), 0);

	/* a table page that cannot be had: -ENOMEM, nothing left */
	logcap_start();
	kmm_set_fail_nth(1);
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_start, &pg, 1, GFP_KERNEL), -ENOMEM);
	kmm_set_fail_nth(0);
	kmm_set_fail_nth(2);	/* the pmd table comes, the pte table does not */
	expect_eq(kmm_kernel_map_pages(kmm.vmalloc_start, &pg, 1, GFP_KERNEL), -ENOMEM);
	kmm_set_fail_nth(0);
	logcap_stop();
	expect_eq(logcap_count("fail_page_alloc"), 2);
	expect_null(kmm_pgtable_lookup(kmm.vmalloc_start));
	expect_eq(kmm_pgtable_pages(), t0);
	expect_eq(pg->_mapcount, -1);
	expect_eq(kmm_pgtable_check(), 0);
	__free_page(pg);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(checker_catches_broken_map_count)
{
	boot("mem=64M numa=1");
	struct page *pg = alloc_page(GFP_KERNEL);
	assert_nonnull(pg);
	char *va = kmm.vmalloc_end - 2 * PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(va, &pg, 1, GFP_KERNEL), 0);
	expect_eq(kmm_pgtable_check(), 0);
	pg->_mapcount = -1;	/* as if the frame were not mapped */
	logcap_start();
	expect_eq(kmm_pgtable_check(), -EUCLEAN);
	logcap_stop();
	expect_eq(logcap_count("kmm: check: pgtable: pte at 0x"), 1);
	pg->_mapcount = 0;
	expect_eq(kmm_pgtable_check(), 0);
	kmm_kernel_unmap_pages(va, 1);
	__free_page(pg);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(private_backing_moves_and_restores)
{
	boot("backing=private mem=64M numa=1");
	struct page *pg[2];
	for (int i = 0; i < 2; i++) {
		assert_nonnull(pg[i] = alloc_page(GFP_KERNEL));
		memset(page_address(pg[i]), 'p' + i, PAGE_SIZE);
	}
	char *lin0 = page_address(pg[0]);
	char *va = kmm.vmalloc_start + 16 * PAGE_SIZE;
	assert_eq(kmm_kernel_map_pages(va, pg, 2, GFP_KERNEL), 0);
	expect_eq(va[10], 'p');
	expect_eq(va[PAGE_SIZE + 10], 'q');
	expect_eq(in_child_read(lin0), SIGSEGV);	/* moved, not aliased */
	va[0] = '!';
	/* a frame can be at one address only */
	expect_eq(kmm_kernel_map_pages(kmm.pkmap_base, pg, 1, GFP_KERNEL), -EBUSY);
	expect_eq(kmm_kernel_map_pages(va + 8 * PAGE_SIZE, pg + 1, 1, GFP_KERNEL), -EBUSY);
	expect_eq(pg[1]->_mapcount, 0);
	expect_eq(kmm_pgtable_check(), 0);

	kmm_kernel_unmap_pages(va, 2);
	expect_eq(lin0[0], '!');	/* back at the linear address, with the write */
	expect_eq(lin0[1], 'p');
	expect_eq(((char *)page_address(pg[1]))[5], 'q');
	expect_eq(in_child_read(va), SIGSEGV);
	for (int i = 0; i < 2; i++)
		__free_page(pg[i]);
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(shutdown_reports_leaked_mapping)
{
	boot("mem=64M numa=1");
	struct page *pg = alloc_page(GFP_KERNEL);
	assert_nonnull(pg);
	assert_eq(kmm_kernel_map_pages(kmm.vmalloc_end - PAGE_SIZE, &pg, 1, GFP_KERNEL), 0);
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	expect_eq(logcap_count("kmm: shutdown: page table: 1 kernel mappings still present"), 1);
}

TEST_MAIN()
