/*
 * trace.h - kmm allocation traces: the record, the binary encoding, a
 * writer for recorders (the malloc shim's KMM_TRACE=FILE) and a reader for
 * `kmm replay` and `kmm trace-dump`.  docs/trace-format.md is the format's
 * specification; this header is its C binding.
 *
 * Reuse: trace.c (encoder and writer) needs only open/write/close and
 * clock_gettime - no malloc, no stdio, no locks from libc - so a malloc
 * implementation can link it.  trace_read.c (the reader) uses stdio and
 * malloc and belongs to tools.
 *
 *   static struct kmm_trace_writer tw;
 *   kmm_trace_writer_open(&tw, getenv("KMM_TRACE"));     // once
 *   struct kmm_trace_rec r = { .op = KMM_TRACE_MALLOC, .id = (uintptr_t)p, .size = n };
 *   kmm_trace_write(&tw, &r);                             // any thread
 *   kmm_trace_writer_close(&tw);                          // at exit
 */
#ifndef KMM_TRACE_H
#define KMM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define KMM_TRACE_MAGIC "KMMTRACE"	/* 8 bytes, no terminator in the file */
#define KMM_TRACE_VERSION 1
#define KMM_TRACE_HEADER_SIZE 16

enum kmm_trace_op {
	KMM_TRACE_MALLOC = 1,		/* id size */
	KMM_TRACE_CALLOC = 2,		/* id nmemb size */
	KMM_TRACE_REALLOC = 3,		/* old_id id size (old_id 0: as malloc) */
	KMM_TRACE_FREE = 4,		/* id */
	KMM_TRACE_MEMALIGN = 5,		/* id align size */
	KMM_TRACE_POSIX_MEMALIGN = 6,	/* id align size */
	KMM_TRACE_ALIGNED_ALLOC = 7,	/* id align size */
	KMM_TRACE_VALLOC = 8,		/* id align size (align = page size) */
	KMM_TRACE_PVALLOC = 9,		/* id align size */
	KMM_TRACE_META = 15,		/* text: "key=value" (program, pid, ...) */
	KMM_TRACE_NR_OPS
};

/*
 * One call.  id values are the recorder's names for blocks: any non-zero
 * 64-bit value unique among the blocks alive at that moment (the shim uses
 * the address); 0 means NULL (a failed allocation, free(NULL)).
 */
struct kmm_trace_rec {
	uint8_t op;		/* enum kmm_trace_op */
	uint32_t thread;	/* small thread number, 0 = first thread seen */
	uint64_t time_ns;	/* since the start of the trace */
	uint64_t id;		/* the block returned (or freed) */
	uint64_t old_id;	/* realloc: the block passed in */
	uint64_t size;		/* bytes (calloc: per element) */
	uint64_t nmemb;		/* calloc: number of elements (else 0) */
	uint64_t align;		/* aligned allocations (else 0) */
	const char *meta;	/* META: text (not terminated in the file) */
	size_t meta_len;
};

const char *kmm_trace_op_name(unsigned int op);	/* "malloc", ... or NULL */
/* bytes asked for: size, nmemb * size (saturating) for calloc */
uint64_t kmm_trace_rec_bytes(const struct kmm_trace_rec *r);

/* ---- encoding (pure; the writer and tests use it) ------------------------ */

/* Delta state carried from record to record of one stream. */
struct kmm_trace_enc {
	uint64_t last_time, last_id;
};
#define KMM_TRACE_REC_MAX (1 + 6 * 10 + 10 + 255)	/* longest record: META with 255 bytes */
/* Encode r at buf (KMM_TRACE_REC_MAX bytes); returns the length.  META
 * text longer than 255 bytes is cut. */
size_t kmm_trace_encode(struct kmm_trace_enc *st, const struct kmm_trace_rec *r, unsigned char *buf);
/* The 16-byte file header. */
void kmm_trace_header(unsigned char buf[KMM_TRACE_HEADER_SIZE]);

/* ---- writer (thread-safe, no malloc) -------------------------------------- */

#define KMM_TRACE_BUF 65536
struct kmm_trace_writer {
	int fd;			/* -1: closed (writes are dropped) */
	int lock;		/* spin lock (atomic) */
	int error;		/* an errno from write(), writes are dropped after it */
	uint64_t t0;		/* CLOCK_MONOTONIC at open (ns) */
	uint64_t records;
	struct kmm_trace_enc enc;
	size_t len;
	unsigned char buf[KMM_TRACE_BUF];
};

/* Create or truncate path, write the header.  0 or -errno. */
int kmm_trace_writer_open(struct kmm_trace_writer *w, const char *path);
/* Same on an open descriptor (the writer owns it from now on). */
int kmm_trace_writer_open_fd(struct kmm_trace_writer *w, int fd);
/* Append one record.  time_ns == 0: the writer stamps it (ns since open),
 * under its lock, so records from all threads come out in time order. */
void kmm_trace_write(struct kmm_trace_writer *w, const struct kmm_trace_rec *r);
void kmm_trace_writer_flush(struct kmm_trace_writer *w);
/* Flush and close; returns 0 or the first write error (-errno). */
int kmm_trace_writer_close(struct kmm_trace_writer *w);
/* A small number for the calling thread (0, 1, 2, ... in order of first
 * call), for the thread field. */
uint32_t kmm_trace_thread_id(void);

/* ---- reader (tools: stdio) ----------------------------------------------- */

struct kmm_trace_reader {
	void *file;		/* FILE * */
	int text;		/* 1: the text form (docs/trace-format.md) */
	struct kmm_trace_enc dec;
	unsigned long line;	/* text: line number; binary: record number */
	char meta[256];
	char err[160];		/* why the last read failed */
};

/* 0, or -1 with r->err set. */
int kmm_trace_reader_open(struct kmm_trace_reader *r, const char *path);
/* 1: a record; 0: end of trace; -1: malformed (r->err says where). */
int kmm_trace_read(struct kmm_trace_reader *r, struct kmm_trace_rec *rec);
void kmm_trace_reader_close(struct kmm_trace_reader *r);
/* Write r in the text form (one line, newline included) to a FILE *. */
void kmm_trace_print(void *file, const struct kmm_trace_rec *r);

#endif /* KMM_TRACE_H */
