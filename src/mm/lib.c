/*
 * lib.c - the little C library of the freestanding core.
 *
 * 1. Overview
 *    src/mm may not call libc (DESIGN.md: the core builds with
 *    -ffreestanding -nostdlib).  This file supplies what the core needs
 *    instead: string helpers, kmm_vsnprintf (the formatter behind every log
 *    line and report), kmm_parse_size (boot command line numbers),
 *    kmm_int_sqrt (min_free_kbytes, REFERENCE 3.1) and the kmm_textbuf
 *    line buffer the reports write through.  Byte fills and copies are the
 *    platform's (kmm_memset / kmm_memcpy in lib.h).
 *
 * 2. Data structures
 *    - struct fmt_out: where the formatter puts characters.  It counts every
 *      character it is given (the C99 return value) and stores as many as
 *      fit; with a spill function it hands a full buffer on and goes on, so
 *      text of any length can be produced through a fixed buffer.
 *    - struct kmm_textbuf (lib.h): 1 KiB of pending report text and the
 *      emit function that receives it.
 *
 * 3. Invariants
 *    - kmm_vsnprintf always NUL-terminates when size > 0 and returns the
 *      length the whole output would have had (C99 7.19.6.12).
 *    - For the conversions lib.h lists, the output is byte for byte what
 *      glibc's snprintf produces, including glibc's choices where C leaves
 *      the result open: "(null)" for a NULL %s (empty when the precision is
 *      below 6), "(nil)" for a NULL %p, %p as %#lx honouring '+', ' ', '0'
 *      and precision, '0' ignored for %s and %c, "%5%" printing "%", and an
 *      unknown conversion printed as written.  tests/unit/lib.c compares the
 *      two.
 *    - A textbuf holds tb->len < sizeof(tb->buf) bytes, always terminated;
 *      emit() receives only whole kmm_tb_printf pieces, except a single
 *      piece longer than the buffer, which arrives in consecutive parts.
 *
 * 4. Locks
 *    None.  A textbuf belongs to one caller; emit() is called with whatever
 *    locks that caller holds (report.c holds none).
 *
 * 5. Failure behaviour
 *    Nothing here allocates or fails: the formatter truncates, parse_size
 *    returns false on no digits or overflow, and a floating-point conversion
 *    or any other spec outside the subset is copied to the output verbatim.
 *
 * 6. References
 *    ISO C99 7.19.6.1 (fprintf); glibc stdio-common/vfprintf-internal.c for
 *    the unspecified cases; Linux lib/math/int_sqrt.c (the digit-by-digit
 *    square root); Linux lib/cmdline.c memparse (the K/M/G/T suffixes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>

#include "../platform/platform.h"
#include "lib.h"

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

size_t kmm_strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

int kmm_strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return (int)*x - (int)*y;
}

int kmm_strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return (int)*x - (int)*y;
		if (!*x)
			break;
	}
	return 0;
}

size_t kmm_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = kmm_strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		kmm_memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int kmm_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return (int)*x - (int)*y;
	return 0;
}

const char *kmm_strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return s;
		if (!*s)
			return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* The formatter                                                       */
/* ------------------------------------------------------------------ */

/* Output sink of the formatter.  Without spill it keeps cap - 1 bytes and
 * drops the rest (snprintf); with spill it passes a full buffer on. */
struct fmt_out {
	char *buf;
	size_t cap;		/* bytes of buf, terminator included */
	size_t len;		/* bytes stored */
	size_t total;		/* bytes produced */
	void (*spill)(struct fmt_out *o);	/* empties buf: len = 0 */
	void *arg;
};

static void out_char(struct fmt_out *o, char c)
{
	o->total++;
	if (o->len + 1 < o->cap) {
		o->buf[o->len++] = c;
		return;
	}
	if (o->spill && o->cap > 1) {
		o->spill(o);
		o->buf[o->len++] = c;
	}
}

static void out_repeat(struct fmt_out *o, char c, long n)
{
	for (; n > 0; n--)
		out_char(o, c);
}

static void out_mem(struct fmt_out *o, const char *s, size_t n)
{
	while (n--)
		out_char(o, *s++);
}

/* flags of one conversion spec */
#define F_MINUS 0x01u
#define F_PLUS  0x02u
#define F_SPACE 0x04u
#define F_HASH  0x08u
#define F_ZERO  0x10u

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

/* Longest digit string: 64-bit octal is 22 digits. */
#define FMT_DIGITS_MAX 24

/*
 * One integer conversion.  @v is the magnitude, @neg its sign (signed
 * conversions only; @sign_ok says whether '+' and ' ' apply).  @prec < 0:
 * no precision given.
 */
static void fmt_integer(struct fmt_out *o, unsigned long long v, bool neg, bool sign_ok,
			unsigned int base, bool upper, unsigned int flags, long width, long prec)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[FMT_DIGITS_MAX];
	char prefix[3];
	int nd = 0, np = 0;
	long zeros, pad;

	/* C99: precision 0 with value 0 produces no digits */
	if (!(prec == 0 && v == 0)) {
		unsigned long long x = v;

		do {
			digits[nd++] = dig[x % base];
			x /= base;
		} while (x);
	}

	if (neg)
		prefix[np++] = '-';
	else if (sign_ok && (flags & F_PLUS))
		prefix[np++] = '+';
	else if (sign_ok && (flags & F_SPACE))
		prefix[np++] = ' ';

	zeros = prec > nd ? prec - nd : 0;
	if (flags & F_HASH) {
		if (base == 8) {
			/* the first digit must be a zero: one more if there is none */
			if (zeros == 0 && (nd == 0 || digits[nd - 1] != '0'))
				zeros = 1;
		} else if (base == 16 && v != 0) {
			prefix[np++] = '0';
			prefix[np++] = upper ? 'X' : 'x';
		}
	}

	/* '0' pads with zeros up to the width unless '-' or a precision is given */
	if ((flags & F_ZERO) && !(flags & F_MINUS) && prec < 0 && width > np + zeros + nd)
		zeros = width - np - nd;
	pad = width - np - zeros - nd;

	if (!(flags & F_MINUS))
		out_repeat(o, ' ', pad);
	out_mem(o, prefix, (size_t)np);
	out_repeat(o, '0', zeros);
	while (nd)
		out_char(o, digits[--nd]);
	if (flags & F_MINUS)
		out_repeat(o, ' ', pad);
}

/* A string conversion: at most @prec bytes of @s (never reads further),
 * padded with spaces to @width (glibc ignores '0' here). */
static void fmt_string(struct fmt_out *o, const char *s, unsigned int flags, long width, long prec)
{
	size_t n = 0;
	long pad;

	if (prec < 0) {
		n = kmm_strlen(s);
	} else {
		while (n < (size_t)prec && s[n])
			n++;
	}
	pad = width - (long)n;
	if (pad < 0)
		pad = 0;
	if (!(flags & F_MINUS))
		out_repeat(o, ' ', pad);
	out_mem(o, s, n);
	if (flags & F_MINUS)
		out_repeat(o, ' ', pad);
}

/* Reads a signed argument of the given length; returns it widened. */
static long long arg_signed(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H:  return (short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z:  return (long long)va_arg(*ap, ptrdiff_t);	/* signed size_t */
	case LEN_T:  return (long long)va_arg(*ap, ptrdiff_t);
	case LEN_J:  return (long long)va_arg(*ap, intmax_t);
	default:     return va_arg(*ap, int);
	}
}

static unsigned long long arg_unsigned(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:  return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z:  return va_arg(*ap, size_t);
	case LEN_T:  return (size_t)va_arg(*ap, ptrdiff_t);	/* unsigned ptrdiff_t */
	case LEN_J:  return (unsigned long long)va_arg(*ap, uintmax_t);
	default:     return va_arg(*ap, unsigned int);
	}
}

/* The format loop.  @ap points at a va_list the caller owns (a copy). */
static void fmt_run(struct fmt_out *o, const char *fmt, va_list *ap)
{
	while (*fmt) {
		const char *spec;
		unsigned int flags = 0;
		long width = 0, prec = -1;
		enum fmt_len len = LEN_NONE;
		char c;

		if (*fmt != '%') {
			out_char(o, *fmt++);
			continue;
		}
		spec = fmt++;

		for (;; fmt++) {
			if (*fmt == '-')
				flags |= F_MINUS;
			else if (*fmt == '+')
				flags |= F_PLUS;
			else if (*fmt == ' ')
				flags |= F_SPACE;
			else if (*fmt == '#')
				flags |= F_HASH;
			else if (*fmt == '0')
				flags |= F_ZERO;
			else
				break;
		}

		if (*fmt == '*') {
			int w = va_arg(*ap, int);

			fmt++;
			if (w < 0) {
				flags |= F_MINUS;
				width = -(long)w;
			} else {
				width = w;
			}
		} else {
			while (*fmt >= '0' && *fmt <= '9') {
				if (width < INT_MAX / 10)
					width = width * 10 + (*fmt - '0');
				fmt++;
			}
		}

		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				int p = va_arg(*ap, int);

				fmt++;
				prec = p < 0 ? -1 : p;
			} else {
				prec = 0;
				while (*fmt >= '0' && *fmt <= '9') {
					if (prec < INT_MAX / 10)
						prec = prec * 10 + (*fmt - '0');
					fmt++;
				}
			}
		}

		switch (*fmt) {
		case 'h':
			fmt++;
			len = LEN_H;
			if (*fmt == 'h') {
				fmt++;
				len = LEN_HH;
			}
			break;
		case 'l':
			fmt++;
			len = LEN_L;
			if (*fmt == 'l') {
				fmt++;
				len = LEN_LL;
			}
			break;
		case 'z': fmt++; len = LEN_Z; break;
		case 't': fmt++; len = LEN_T; break;
		case 'j': fmt++; len = LEN_J; break;
		default: break;
		}

		c = *fmt;
		if (!c) {
			/* a '%' spec cut off by the end of the string: print it as is */
			out_mem(o, spec, (size_t)(fmt - spec));
			break;
		}
		fmt++;

		switch (c) {
		case 'd':
		case 'i': {
			long long v = arg_signed(ap, len);
			unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

			fmt_integer(o, mag, v < 0, true, 10, false, flags, width, prec);
			break;
		}
		case 'u':
			fmt_integer(o, arg_unsigned(ap, len), false, false, 10, false, flags, width, prec);
			break;
		case 'x':
		case 'X':
			fmt_integer(o, arg_unsigned(ap, len), false, false, 16, c == 'X', flags, width, prec);
			break;
		case 'o':
			fmt_integer(o, arg_unsigned(ap, len), false, false, 8, false, flags, width, prec);
			break;
		case 'p': {
			void *p = va_arg(*ap, void *);

			if (!p)
				fmt_string(o, "(nil)", flags, width, -1);
			else
				fmt_integer(o, (uintptr_t)p, false, true, 16, false, flags | F_HASH, width, prec);
			break;
		}
		case 'c': {
			char ch = (char)va_arg(*ap, int);
			long pad = width > 1 ? width - 1 : 0;

			if (!(flags & F_MINUS))
				out_repeat(o, ' ', pad);
			out_char(o, ch);
			if (flags & F_MINUS)
				out_repeat(o, ' ', pad);
			break;
		}
		case 's': {
			const char *s = va_arg(*ap, const char *);

			if (!s)
				s = (prec < 0 || prec >= 6) ? "(null)" : "";
			fmt_string(o, s, flags, width, prec);
			break;
		}
		case '%':
			out_char(o, '%');
			break;
		default:
			/* outside the subset: copy the spec; no argument is consumed */
			out_mem(o, spec, (size_t)(fmt - spec));
			break;
		}
	}
}

int kmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .cap = size };
	va_list cp;

	va_copy(cp, ap);
	fmt_run(&o, fmt, &cp);
	va_end(cp);
	if (size)
		buf[o.len] = '\0';
	return o.total > INT_MAX ? INT_MAX : (int)o.total;
}

int kmm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmm_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

bool kmm_parse_size(const char *s, const char **end, unsigned long *out, bool suffix_ok)
{
	const char *p = s;
	unsigned long v = 0, base = 10;
	int shift = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		base = 16;
		p += 2;
	}
	if (digit_value(*p) >= (int)base) {
		if (end)
			*end = s;
		return false;
	}
	for (; digit_value(*p) < (int)base; p++) {
		unsigned long d = (unsigned long)digit_value(*p);

		if (v > (ULONG_MAX - d) / base) {
			if (end)
				*end = p;
			return false;
		}
		v = v * base + d;
	}

	if (suffix_ok) {
		switch (*p) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: break;
		}
		if (shift) {
			if (shift >= (int)(sizeof(long) * CHAR_BIT) || v > (ULONG_MAX >> shift)) {
				if (end)
					*end = p;
				return false;
			}
			v <<= shift;
			p++;
		}
	}
	if (end)
		*end = p;
	*out = v;
	return true;
}

/*
 * Digit-by-digit square root (Linux int_sqrt): m walks the even powers of
 * two down from the highest one <= x; exact for every input, no overflow
 * because y + m never exceeds the x it is compared with before subtracting.
 */
unsigned long kmm_int_sqrt(unsigned long x)
{
	unsigned long b, m, y = 0;

	if (x <= 1)
		return x;
	m = 1UL << ((kmm_fls(x) - 1) & ~1);
	while (m) {
		b = y + m;
		y >>= 1;
		if (x >= b) {
			x -= b;
			y += m;
		}
		m >>= 2;
	}
	return y;
}

/* ------------------------------------------------------------------ */
/* Text buffer                                                         */
/* ------------------------------------------------------------------ */

void kmm_tb_init(struct kmm_textbuf *tb, void (*emit)(void *, const char *), void *ctx)
{
	tb->emit = emit;
	tb->ctx = ctx;
	tb->len = 0;
	tb->buf[0] = '\0';
}

void kmm_tb_flush(struct kmm_textbuf *tb)
{
	if (tb->len) {
		tb->buf[tb->len] = '\0';
		tb->emit(tb->ctx, tb->buf);
		tb->len = 0;
		tb->buf[0] = '\0';
	}
}

/* spill of the streaming case: the textbuf's buffer is full; emit it */
static void tb_spill(struct fmt_out *o)
{
	struct kmm_textbuf *tb = o->arg;

	o->buf[o->len] = '\0';
	tb->emit(tb->ctx, o->buf);
	o->len = 0;
}

void kmm_tb_printf(struct kmm_textbuf *tb, const char *fmt, ...)
{
	size_t room = sizeof(tb->buf) - tb->len;
	va_list ap;
	int n;

	/* 1. the common case: the piece fits behind what is pending */
	va_start(ap, fmt);
	n = kmm_vsnprintf(tb->buf + tb->len, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		tb->len += (size_t)n;
		return;
	}

	/* 2. it does not: emit what was pending (dropping the partial piece) */
	tb->buf[tb->len] = '\0';
	kmm_tb_flush(tb);

	/* 3. format again into the empty buffer, or stream a piece that is
	 *    longer than the whole buffer in consecutive parts */
	va_start(ap, fmt);
	if ((size_t)n < sizeof(tb->buf)) {
		tb->len = (size_t)kmm_vsnprintf(tb->buf, sizeof(tb->buf), fmt, ap);
	} else {
		struct fmt_out o = { .buf = tb->buf, .cap = sizeof(tb->buf), .spill = tb_spill, .arg = tb };
		va_list cp;

		va_copy(cp, ap);
		fmt_run(&o, fmt, &cp);
		va_end(cp);
		tb->buf[o.len] = '\0';
		tb->len = o.len;
	}
	va_end(ap);
}
