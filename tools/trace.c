/*
 * trace.c - the encoder and the thread-safe writer of kmm allocation
 * traces (docs/trace-format.md).  Uses only open, write, close and
 * clock_gettime: a malloc implementation (the shim) can link it without
 * recursing into itself.  The writer buffers KMM_TRACE_BUF bytes under a
 * spin lock and writes whole buffers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

static const char *const op_names[KMM_TRACE_NR_OPS] = {
	[KMM_TRACE_MALLOC] = "malloc",
	[KMM_TRACE_CALLOC] = "calloc",
	[KMM_TRACE_REALLOC] = "realloc",
	[KMM_TRACE_FREE] = "free",
	[KMM_TRACE_MEMALIGN] = "memalign",
	[KMM_TRACE_POSIX_MEMALIGN] = "posix_memalign",
	[KMM_TRACE_ALIGNED_ALLOC] = "aligned_alloc",
	[KMM_TRACE_VALLOC] = "valloc",
	[KMM_TRACE_PVALLOC] = "pvalloc",
	[KMM_TRACE_META] = "meta",
};

const char *kmm_trace_op_name(unsigned int op)
{
	return op < KMM_TRACE_NR_OPS ? op_names[op] : NULL;
}

uint64_t kmm_trace_rec_bytes(const struct kmm_trace_rec *r)
{
	if (r->op != KMM_TRACE_CALLOC)
		return r->size;
	if (r->nmemb && r->size > UINT64_MAX / r->nmemb)
		return UINT64_MAX;
	return r->nmemb * r->size;
}

/* ---- encoding ------------------------------------------------------------- */

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

/* ids as a signed difference from the previous id of the stream: blocks
 * of one program sit close together, so most take 1-3 bytes */
static size_t put_id(unsigned char *p, struct kmm_trace_enc *st, uint64_t id)
{
	size_t n = put_varint(p, zigzag((int64_t)(id - st->last_id)));
	st->last_id = id;
	return n;
}

void kmm_trace_header(unsigned char buf[KMM_TRACE_HEADER_SIZE])
{
	static const char magic[8] = KMM_TRACE_MAGIC;
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)magic[i];
	buf[8] = KMM_TRACE_VERSION & 0xff;
	buf[9] = KMM_TRACE_VERSION >> 8;
	buf[10] = KMM_TRACE_HEADER_SIZE;
	buf[11] = 0;
	buf[12] = buf[13] = buf[14] = buf[15] = 0;	/* flags: none defined */
}

size_t kmm_trace_encode(struct kmm_trace_enc *st, const struct kmm_trace_rec *r, unsigned char *buf)
{
	size_t n = 0;
	buf[n++] = r->op;
	n += put_varint(buf + n, r->thread);
	n += put_varint(buf + n, zigzag((int64_t)(r->time_ns - st->last_time)));
	st->last_time = r->time_ns;
	switch (r->op) {
	case KMM_TRACE_MALLOC:
		n += put_id(buf + n, st, r->id);
		n += put_varint(buf + n, r->size);
		break;
	case KMM_TRACE_CALLOC:
		n += put_id(buf + n, st, r->id);
		n += put_varint(buf + n, r->nmemb);
		n += put_varint(buf + n, r->size);
		break;
	case KMM_TRACE_REALLOC:
		n += put_id(buf + n, st, r->old_id);
		n += put_id(buf + n, st, r->id);
		n += put_varint(buf + n, r->size);
		break;
	case KMM_TRACE_FREE:
		n += put_id(buf + n, st, r->id);
		break;
	case KMM_TRACE_META: {
		size_t len = r->meta_len > 255 ? 255 : r->meta_len;
		n += put_varint(buf + n, len);
		for (size_t i = 0; i < len; i++)
			buf[n++] = (unsigned char)r->meta[i];
		break;
	}
	default:	/* the aligned family */
		n += put_id(buf + n, st, r->id);
		n += put_varint(buf + n, r->align);
		n += put_varint(buf + n, r->size);
		break;
	}
	return n;
}

/* ---- writer ----------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			sched_yield();
	}
}

static void spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Lock held: write the buffer out (retrying short writes and EINTR). */
static void flush_locked(struct kmm_trace_writer *w)
{
	size_t off = 0;
	while (off < w->len && w->fd >= 0 && !w->error) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->error = errno;
			break;
		}
		off += (size_t)n;
	}
	w->len = 0;
}

int kmm_trace_writer_open_fd(struct kmm_trace_writer *w, int fd)
{
	w->fd = fd;
	w->lock = 0;
	w->error = 0;
	w->records = 0;
	w->enc.last_time = w->enc.last_id = 0;
	w->t0 = mono_ns();
	kmm_trace_header(w->buf);
	w->len = KMM_TRACE_HEADER_SIZE;
	if (fd < 0)
		return -EBADF;
	return 0;
}

int kmm_trace_writer_open(struct kmm_trace_writer *w, const char *path)
{
	int fd = path && *path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	int err = fd < 0 ? (path && *path ? errno : EINVAL) : 0;
	kmm_trace_writer_open_fd(w, fd);
	return fd < 0 ? -err : 0;
}

void kmm_trace_write(struct kmm_trace_writer *w, const struct kmm_trace_rec *r)
{
	unsigned char rec[KMM_TRACE_REC_MAX];
	struct kmm_trace_rec stamped;

	if (w->fd < 0)
		return;
	spin_lock(&w->lock);
	if (!r->time_ns) {
		stamped = *r;
		uint64_t now = mono_ns();
		stamped.time_ns = now > w->t0 ? now - w->t0 : 1;
		r = &stamped;
	}
	size_t n = kmm_trace_encode(&w->enc, r, rec);
	if (w->len + n > KMM_TRACE_BUF)
		flush_locked(w);
	for (size_t i = 0; i < n; i++)
		w->buf[w->len + i] = rec[i];
	w->len += n;
	w->records++;
	spin_unlock(&w->lock);
}

void kmm_trace_writer_flush(struct kmm_trace_writer *w)
{
	if (w->fd < 0)
		return;
	spin_lock(&w->lock);
	flush_locked(w);
	spin_unlock(&w->lock);
}

int kmm_trace_writer_close(struct kmm_trace_writer *w)
{
	if (w->fd < 0)
		return -EBADF;
	spin_lock(&w->lock);
	flush_locked(w);
	int err = w->error;
	if (close(w->fd) && !err)
		err = errno;
	w->fd = -1;
	spin_unlock(&w->lock);
	return -err;
}

uint32_t kmm_trace_thread_id(void)
{
	static uint32_t next;
	static __thread __attribute__((tls_model("initial-exec"))) uint32_t mine;	/* id + 1; 0 = none yet */
	if (!mine)
		mine = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
	return mine - 1;
}
