#include <kmm/kmm.h>
#include <stdio.h>

int main(void)
{
	/* 1 GiB, two nodes, the 32-bit x86 zone layout (the default machine) */
	if (kmm_boot("mem=1G numa=2 zones=dma:16M,normal:896M,highmem"))
		return 1;

	struct page *page = alloc_pages(GFP_KERNEL, 3);   /* 8 contiguous frames */
	char *buf = page_address(page);
	buf[0] = 'k';

	struct page *high = alloc_pages_node(1, GFP_HIGHUSER, 0);
	printf("%s page, linear address %p\n", page_zone_name(high), page_address(high));

	__free_pages(page, 3);
	__free_page(high);
	kmm_report_file("buddyinfo", stdout);   /* the /proc/buddyinfo format */
	int broken = kmm_check();               /* 0: every invariant holds */
	kmm_shutdown();                         /* reports anything leaked */
	return broken ? 1 : 0;
}
