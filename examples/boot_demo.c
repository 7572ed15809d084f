/*
 * boot_demo.c - boot the default kmm machine (1 GiB, two nodes, DMA /
 * Normal / HighMem), print every page-allocator report in its /proc
 * format, and shut down.  `make run` runs it when the kmm CLI is not
 * built.  Usage: kmm-boot-demo ["kernel command line"]
 */
#include <stdio.h>

#include <kmm/kmm.h>

int main(int argc, char **argv)
{
	static const char *const reports[] = {
		"buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat", "extfrag",
	};
	const char *cmdline = argc > 1 ? argv[1] : NULL;
	int rc = kmm_boot(cmdline);

	if (rc != 0) {
		fprintf(stderr, "kmm-boot-demo: kmm_boot(%s) failed: %d\n",
			cmdline ? cmdline : "NULL", rc);
		return 1;
	}
	printf("kmm-boot-demo: booted %s\n", cmdline ? cmdline : "the default machine");
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		printf("\n==> /proc/%s <==\n", reports[i]);
		rc = kmm_report_file(reports[i], stdout);
		if (rc != 0)
			printf("(report %s failed: %d)\n", reports[i], rc);
	}
	fflush(stdout);
	kmm_shutdown();
	return 0;
}
