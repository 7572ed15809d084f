/*
 * lib.h - the little C library the freestanding core needs: string and
 * number helpers and a vsnprintf for the reports.  Implemented in lib.c
 * without libc; byte fills and copies go to the platform's fast ones.
 */
#ifndef KMM_LIB_H
#define KMM_LIB_H

#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>

#define kmm_memset kmm_plat_memset
#define kmm_memcpy kmm_plat_memcpy

size_t kmm_strlen(const char *s);
int kmm_strcmp(const char *a, const char *b);
int kmm_strncmp(const char *a, const char *b, size_t n);
/* copy at most size-1 bytes and terminate; returns strlen(src) */
size_t kmm_strlcpy(char *dst, const char *src, size_t size);
int kmm_memcmp(const void *a, const void *b, size_t n);
const char *kmm_strchr(const char *s, int c);

/*
 * kmm_vsnprintf - C99 semantics for the subset the core uses: flags '-',
 * '0', ' ', '+', '#'; width and precision (also '*'); length modifiers hh, h,
 * l, ll, z, t; conversions d i u x X o c s p %.  Returns the length the full
 * output would have had; always terminates when size > 0.
 */
int kmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kmm_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse a decimal (or 0x hex) unsigned number with an optional K/M/G/T
 * suffix (binary multiples) when suffix_ok; *end gets the first unparsed
 * character.  Returns false on no digits or overflow. */
bool kmm_parse_size(const char *s, const char **end, unsigned long *out, bool suffix_ok);

/* integer helpers */
unsigned long kmm_int_sqrt(unsigned long x);		/* floor(sqrt(x)) */
static inline int kmm_fls(unsigned long x) { return x ? (int)(sizeof(long) * 8) - __builtin_clzl(x) : 0; }
static inline int kmm_ilog2(unsigned long x) { return kmm_fls(x) - 1; }
static inline unsigned long kmm_rounddown_pow_of_two(unsigned long x) { return x ? 1UL << kmm_ilog2(x) : 0; }
static inline unsigned long kmm_roundup_pow_of_two(unsigned long x) { return x <= 1 ? 1 : 1UL << kmm_fls(x - 1); }
/* smallest order with (PAGE_SIZE << order) >= size */
static inline unsigned int kmm_get_order(unsigned long size, unsigned int page_shift)
{
	return size <= (1UL << page_shift) ? 0 : (unsigned int)kmm_fls((size - 1) >> page_shift);
}

/* a small, fast PRNG (xorshift64*), for fault injection and randomisation */
static inline unsigned long kmm_prng_next(unsigned long *state)
{
	unsigned long x = *state ? *state : 0x9e3779b97f4a7c15UL;
	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DUL;
}

/* A growable text buffer that hands complete chunks to an emit function:
 * reports format into it line by line. */
struct kmm_textbuf {
	void (*emit)(void *ctx, const char *text);
	void *ctx;
	size_t len;
	char buf[1024];
};
void kmm_tb_init(struct kmm_textbuf *tb, void (*emit)(void *, const char *), void *ctx);
void kmm_tb_printf(struct kmm_textbuf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmm_tb_flush(struct kmm_textbuf *tb);

#endif /* KMM_LIB_H */
