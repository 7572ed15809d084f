/*
 * main.c - a static x86-64 Linux program with no libc and no C runtime:
 * its own _start, the kmm core (every src/mm file, built -ffreestanding) on
 * platform_fixed.c.  It boots a small machine inside a static array,
 * allocates and frees pages and kmalloc / slab objects, prints buddyinfo
 * through write(2) and exits 0 (1 when a check fails).
 *
 * The machine (FS_CMDLINE): 8 MiB (2048 frames), one node, one CPU slot, one NORMAL zone,
 * the smallest vmalloc window and pkmap the command line allows (reserved,
 * unused: the fixed platform cannot map frames twice, see
 * platform_fixed.c), oom_wait_ms=0 (one thread: nothing to wait for),
 * on_error=report.
 */
#include <stddef.h>
#include <stdint.h>

#include <kmm/kmm.h>
#include "sys.h"

/* 8 MiB with 4 KiB pages; with larger pages (KMM_PAGE_SHIFT) the same 2048
 * frames, so the machine still holds several 512-frame pageblocks */
#if PAGE_SHIFT == 12
#define FS_MEM "8M"
#elif PAGE_SHIFT == 13
#define FS_MEM "16M"
#elif PAGE_SHIFT == 14
#define FS_MEM "32M"
#elif PAGE_SHIFT == 15
#define FS_MEM "64M"
#else
#define FS_MEM "128M"
#endif
#define FS_CMDLINE "mem=" FS_MEM " numa=1 cpus=1 zones=normal vmalloc=1M pkmap=1 oom_wait_ms=0 on_error=report"

static int failures;

static void out(const char *s) { fs_puts(1, s); }

static void out_num(unsigned long v)
{
	char buf[24];
	int i = sizeof(buf);
	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out(buf + i);
}

static void check(int ok, const char *what)
{
	out(ok ? "ok:   " : "FAIL: ");
	out(what);
	out("\n");
	if (!ok)
		failures++;
}

static void emit_stdout(void *ctx, const char *text)
{
	(void)ctx;
	out(text);
}

static void ctor(void *obj) { *(uint32_t *)obj = 0xfeedf00d; }

static int fs_main(void)
{
	out("kmm freestanding: booting \"" FS_CMDLINE "\"\n");
	int rc = kmm_boot(FS_CMDLINE);
	check(rc == 0, "kmm_boot");
	if (rc)
		return 1;
	unsigned long free0 = nr_free_pages();
	out("kmm freestanding: ");
	out_num(free0);
	out(" free pages after boot\n");

	/* pages of orders 0..6, written through the linear map; every other
	 * block is kept across the report */
	struct page *kept[7] = { 0 };
	for (unsigned int order = 0; order <= 6; order++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		check(p != NULL, "alloc_pages");
		if (!p)
			continue;
		unsigned char *va = page_address(p);
		for (unsigned long i = 0; i < (PAGE_SIZE << order); i += PAGE_SIZE)
			va[i] = (unsigned char)order;
		if (order % 2)
			__free_pages(p, order);
		else
			kept[order] = p;
	}
	unsigned long zeroed = get_zeroed_page(GFP_KERNEL);
	check(zeroed && ((unsigned long *)zeroed)[7] == 0, "get_zeroed_page");

	/* kmalloc across the size classes, then a slab cache with a constructor */
	void *k[64];
	for (int i = 0; i < 64; i++) {
		k[i] = kmalloc((size_t)8 << (i % 10), GFP_KERNEL);
		if (!k[i])
			break;
		((char *)k[i])[0] = 'k';
	}
	check(k[63] != NULL && ksize(k[5]) >= ((size_t)8 << 5), "kmalloc and ksize");
	struct kmem_cache *c = kmem_cache_create("fs_objects", 200, 0, SLAB_HWCACHE_ALIGN, ctor);
	check(c != NULL, "kmem_cache_create");
	void *objs[40];
	for (int i = 0; c && i < 40; i++)
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
	check(c && objs[39] && *(uint32_t *)objs[39] == 0xfeedf00d, "kmem_cache_alloc with constructor");

	/* what the fixed platform cannot do: map frames a second time */
	void *v = vmalloc(3 * PAGE_SIZE);
	check(v == NULL, "vmalloc refused (no second mapping on this platform)");
	if (v)
		vfree(v);

	out("\n");
	kmm_report("buddyinfo", emit_stdout, NULL);
	out("\n");
	check(kmm_check() == 0, "kmm_check while allocated");

	for (int i = 0; c && i < 40; i++)
		kmem_cache_free(c, objs[i]);
	if (c)
		kmem_cache_destroy(c);
	for (int i = 0; i < 64 && k[i]; i++)
		kfree(k[i]);
	free_page(zeroed);
	for (unsigned int order = 0; order <= 6; order++)
		if (kept[order])
			__free_pages(kept[order], order);
	kmm_drain_all();
	check(kmm_check() == 0, "kmm_check after freeing");
	check(nr_free_pages() == free0, "every page back");
	check(kmm_error_count() == 0, "no misuse reports");
	kmm_shutdown();
	out(failures ? "kmm freestanding: FAILED\n" : "kmm freestanding: all checks passed\n");
	return failures ? 1 : 0;
}

/* The entry point: no crt, so align the stack, call C, exit. */
__attribute__((used, noreturn)) static void fs_start_c(void)
{
	fs_exit_group(fs_main());
}

__asm__(".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call fs_start_c\n"
	"	hlt\n");
