/*
 * sys.h - the three Linux x86-64 system calls the freestanding example
 * uses, made with the syscall instruction (no libc).
 */
#ifndef KMM_FS_SYS_H
#define KMM_FS_SYS_H

#include <stddef.h>
#include <stdint.h>

#define FS_SYS_write 1
#define FS_SYS_clock_gettime 228
#define FS_SYS_exit_group 231

static inline long fs_syscall3(long n, long a, long b, long c)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline long fs_write(int fd, const void *buf, size_t n)
{
	return fs_syscall3(FS_SYS_write, fd, (long)buf, (long)n);
}

static inline _Noreturn void fs_exit_group(int status)
{
	for (;;)
		fs_syscall3(FS_SYS_exit_group, status, 0, 0);
}

/* write all of s to fd (retrying short writes) */
static inline void fs_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		long w = fs_write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static inline size_t fs_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline void fs_puts(int fd, const char *s) { fs_write_all(fd, s, fs_strlen(s)); }

#endif /* KMM_FS_SYS_H */
