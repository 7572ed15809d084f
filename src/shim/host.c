/*
 * host.c - what the malloc shim needs before its machine is up: the
 * bootstrap arena that serves calls made while the machine boots, and the
 * host's shape (NUMA nodes, memory, CPUs) that sizes the machine.
 *
 * 1. The bootstrap arena: 64 KiB, bump allocated with one atomic compare
 *    and swap per block, never freed; each block follows a 16-byte header
 *    holding its size (malloc_usable_size, realloc).  Nothing in the core
 *    calls malloc, but a libc function the boot uses might.
 * 2. The host: /sys/devices/system/node/online (nodes), sysconf (memory,
 *    CPUs); no stdio, no malloc (the shim may be booting).
 * 3. Invariants: boot_arena_used only grows, <= BOOT_ARENA_SIZE.
 *    Locks: none (the arena's word is atomic).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "mm/internal.h"
#include "shim.h"

/* ------------------------------------------------------------------ */
/* Bootstrap arena                                                     */
/* ------------------------------------------------------------------ */

/* Blocks handed out while the machine boots: bump allocated, never freed,
 * each after a 16-byte header holding its size. */
#define BOOT_ARENA_SIZE (64UL << 10)
static _Alignas(64) unsigned char boot_arena[BOOT_ARENA_SIZE];
static size_t boot_arena_used;		/* atomic */

bool kmm_shim_in_boot_arena(const void *p)
{
	return (const unsigned char *)p >= boot_arena && (const unsigned char *)p < boot_arena + BOOT_ARENA_SIZE;
}

void *kmm_shim_boot_arena_alloc(size_t size, size_t align)
{
	if (align < SHIM_ALIGN)
		align = SHIM_ALIGN;
	if (size > BOOT_ARENA_SIZE || align > BOOT_ARENA_SIZE / 4)
		goto nomem;
	for (;;) {
		size_t used = __atomic_load_n(&boot_arena_used, __ATOMIC_RELAXED);
		size_t start = (used + SHIM_ALIGN + align - 1) & ~(align - 1);
		size_t end = start + ((size + SHIM_ALIGN - 1) & ~(size_t)(SHIM_ALIGN - 1));
		if (end > BOOT_ARENA_SIZE)
			goto nomem;
		if (__atomic_compare_exchange_n(&boot_arena_used, &used, end, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			*(size_t *)(boot_arena + start - SHIM_ALIGN) = size;
			return boot_arena + start;
		}
	}
nomem:
	errno = ENOMEM;
	return NULL;
}

size_t kmm_shim_boot_arena_size(const void *p)
{
	return *(const size_t *)((const unsigned char *)p - SHIM_ALIGN);
}

/* ------------------------------------------------------------------ */
/* The host                                                            */
/* ------------------------------------------------------------------ */

/* Read a small text file into buf (terminated); false when unreadable. */
static bool read_small_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Number of entries in a sysfs list such as "0-3,5" (0 if malformed). */
static unsigned long count_sysfs_list(const char *s)
{
	unsigned long count = 0;
	while (*s && *s != '\n') {
		unsigned long a = 0, b;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			a = a * 10 + (unsigned long)(*s++ - '0');
		b = a;
		if (*s == '-') {
			s++;
			b = 0;
			while (*s >= '0' && *s <= '9')
				b = b * 10 + (unsigned long)(*s++ - '0');
		}
		if (b < a)
			return 0;
		count += b - a + 1;
		if (*s == ',')
			s++;
	}
	return count;
}

int kmm_shim_host_numa_nodes(void)
{
	char buf[256];
	unsigned long n = 0;
	if (read_small_file("/sys/devices/system/node/online", buf, sizeof(buf)))
		n = count_sysfs_list(buf);
	if (n < 1)
		n = 1;
	if (n > MAX_NUMNODES)
		n = MAX_NUMNODES;
	return (int)n;
}

unsigned long kmm_shim_host_mem_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	unsigned long bytes = pages > 0 && psize > 0 ? (unsigned long)pages * (unsigned long)psize : 1UL << 30;
	if (bytes > SHIM_MEM_CAP)
		bytes = SHIM_MEM_CAP;
	if (bytes < SHIM_MEM_MIN)
		bytes = SHIM_MEM_MIN;
	return bytes & ~((1UL << 20) - 1);	/* whole MiB */
}

int kmm_shim_slots(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long slots = cpus > 0 ? 4 * cpus : SHIM_MIN_SLOTS;
	if (slots < SHIM_MIN_SLOTS)
		slots = SHIM_MIN_SLOTS;
	if (slots > NR_CPUS)
		slots = NR_CPUS;
	return (int)slots;
}
