/*
 * fuzz/fuzz_bootline.c - libFuzzer target: the kernel-style command line
 * (issue 6 part 3).  Every input is parsed as a boot line by the same
 * parser kmm_boot uses (kmm_parse_cmdline): it must return 0 or -EINVAL
 * with exactly one "kmm: boot:" line, never crash or read past the string.
 * Lines that parse and describe a small machine (at most 96 MiB, 64 MiB of
 * vmalloc space) are booted for real: a page, a kmalloc, a vmalloc and a
 * kmap on it, kmm_check, and a shutdown that reports no leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/kmm.h>
#include "mm/internal.h"

static int lines, boot_lines, leak_lines;
static void count(void *ctx, const char *line)
{
	(void)ctx;
	lines++;
	boot_lines += strncmp(line, "kmm: boot:", 10) == 0;
	leak_lines += strncmp(line, "kmm: shutdown:", 14) == 0;
}

#define CHECK(cond, ...)                                               \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "fuzz_bootline: " __VA_ARGS__); \
			fprintf(stderr, "\n");                         \
			abort();                                       \
		}                                                      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[512];
	if (size >= sizeof(line))
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = '\0';

	kmm_set_log(count, NULL);
	struct kmm_config cfg;
	kmm_default_config(&cfg);
	lines = boot_lines = leak_lines = 0;
	int rc = kmm_parse_cmdline(line, &cfg);
	CHECK(rc == 0 || rc == -KMM_EINVAL, "parse returned %d for \"%s\"", rc, line);
	CHECK(rc == 0 ? lines == 0 : (lines == 1 && boot_lines == 1), "parse of \"%s\": %d, %d lines", line, rc, lines);

	unsigned long max_node = 0;
	for (int i = 0; i < cfg.nr_nodes && i < MAX_NUMNODES; i++)
		if (cfg.node_bytes[i] > max_node)
			max_node = cfg.node_bytes[i];
	if (rc == 0 && cfg.mem_bytes <= (96UL << 20) && max_node <= (96UL << 20) && cfg.vmalloc_bytes <= (64UL << 20) &&
	    cfg.cpus <= 8 && !cfg.failslab[0] && !cfg.fail_page_alloc[0] && !cfg.fail_vmalloc[0] && !cfg.fail_mempool[0] &&
	    !cfg.fail_kmap[0]) {
		char boot[600];
		snprintf(boot, sizeof(boot), "%s", line);
		lines = 0;
		rc = kmm_boot(boot);
		CHECK(rc == 0 || rc == -KMM_EINVAL || rc == -KMM_ENOMEM, "kmm_boot(\"%s\") returned %d", boot, rc);
		if (rc == 0) {
			struct page *p = alloc_page(GFP_KERNEL | __GFP_NOWARN);
			void *k = kmalloc(100, GFP_KERNEL | __GFP_NOWARN);
			void *v = vmalloc(3 * PAGE_SIZE);
			struct page *h = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
			void *m = h ? kmap(h) : NULL;
			if (m)
				memset(m, 1, 64), kunmap(h);
			if (v)
				memset(v, 2, 3 * PAGE_SIZE);
			if (k)
				memset(k, 3, 100);
			if (h)
				__free_page(h);
			vfree(v);
			kfree(k);
			if (p)
				__free_page(p);
			CHECK(kmm_check() == 0, "kmm_check failed on \"%s\"", boot);
			leak_lines = 0;
			kmm_shutdown();
			CHECK(leak_lines == 0, "shutdown of \"%s\" reported leftovers", boot);
		}
	}
	kmm_set_log(NULL, NULL);
	return 0;
}
