/*
 * trace_read.c - the reader of kmm allocation traces: the binary form
 * (KMMTRACE header, docs/trace-format.md) and the text form that
 * `kmm trace-dump` prints (handy for writing small traces by hand).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

int kmm_trace_reader_open(struct kmm_trace_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char h[KMM_TRACE_HEADER_SIZE];
	size_t got = fread(h, 1, 8, f);
	if (got == 8 && memcmp(h, KMM_TRACE_MAGIC, 8) == 0) {
		if (fread(h + 8, 1, KMM_TRACE_HEADER_SIZE - 8, f) != KMM_TRACE_HEADER_SIZE - 8) {
			snprintf(r->err, sizeof(r->err), "%s: truncated header", path);
			goto fail;
		}
		unsigned version = h[8] | (unsigned)h[9] << 8;
		if (version != KMM_TRACE_VERSION) {
			snprintf(r->err, sizeof(r->err), "%s: trace format version %u (this kmm reads %d)", path, version,
				 KMM_TRACE_VERSION);
			goto fail;
		}
		/* a longer header from a later minor revision: skip the rest */
		for (unsigned i = KMM_TRACE_HEADER_SIZE; i < h[10]; i++)
			if (fgetc(f) == EOF) {
				snprintf(r->err, sizeof(r->err), "%s: truncated header", path);
				goto fail;
			}
		r->text = 0;
	} else {
		/* the text form: start again from the beginning */
		if (f == stdin) {
			/* cannot rewind a pipe: push the bytes back one by one */
			for (size_t i = got; i > 0; i--)
				ungetc(h[i - 1], f);
		} else {
			rewind(f);
		}
		r->text = 1;
	}
	r->file = f;
	return 0;
fail:
	if (f != stdin)
		fclose(f);
	return -1;
}

void kmm_trace_reader_close(struct kmm_trace_reader *r)
{
	if (r->file && r->file != stdin)
		fclose(r->file);
	r->file = NULL;
}

/* ---- binary ----------------------------------------------------------------- */

static int get_varint(FILE *f, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		int c = fgetc(f);
		if (c == EOF)
			return -1;
		if (shift == 63 && (c & 0x7e))
			return -2;	/* more than 64 bits */
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -2;
}

static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static int read_binary(struct kmm_trace_reader *r, struct kmm_trace_rec *rec)
{
	FILE *f = r->file;
	int c = fgetc(f);
	if (c == EOF)
		return 0;
	r->line++;
	memset(rec, 0, sizeof(*rec));
	rec->op = (uint8_t)c;
	uint64_t v[4];
	int nfields;
	switch (c) {
	case KMM_TRACE_MALLOC: nfields = 2; break;
	case KMM_TRACE_CALLOC: nfields = 3; break;
	case KMM_TRACE_REALLOC: nfields = 3; break;
	case KMM_TRACE_FREE: nfields = 1; break;
	case KMM_TRACE_META: nfields = 1; break;
	case KMM_TRACE_MEMALIGN: case KMM_TRACE_POSIX_MEMALIGN: case KMM_TRACE_ALIGNED_ALLOC:
	case KMM_TRACE_VALLOC: case KMM_TRACE_PVALLOC: nfields = 3; break;
	default:
		snprintf(r->err, sizeof(r->err), "record %lu: unknown operation code %d", r->line, c);
		return -1;
	}
	uint64_t thread, dt;
	if (get_varint(f, &thread) || get_varint(f, &dt))
		goto truncated;
	rec->thread = (uint32_t)thread;
	r->dec.last_time += (uint64_t)unzigzag(dt);
	rec->time_ns = r->dec.last_time;
	for (int i = 0; i < nfields; i++)
		if (get_varint(f, &v[i]))
			goto truncated;
#define ID(x) (r->dec.last_id += (uint64_t)unzigzag(x))
	switch (c) {
	case KMM_TRACE_MALLOC: rec->id = ID(v[0]); rec->size = v[1]; break;
	case KMM_TRACE_CALLOC: rec->id = ID(v[0]); rec->nmemb = v[1]; rec->size = v[2]; break;
	case KMM_TRACE_REALLOC: rec->old_id = ID(v[0]); rec->id = ID(v[1]); rec->size = v[2]; break;
	case KMM_TRACE_FREE: rec->id = ID(v[0]); break;
	case KMM_TRACE_META:
		if (v[0] > 255) {
			snprintf(r->err, sizeof(r->err), "record %lu: meta text of %" PRIu64 " bytes", r->line, v[0]);
			return -1;
		}
		if (fread(r->meta, 1, v[0], f) != v[0])
			goto truncated;
		r->meta[v[0]] = '\0';
		rec->meta = r->meta;
		rec->meta_len = v[0];
		break;
	default: rec->id = ID(v[0]); rec->align = v[1]; rec->size = v[2]; break;
	}
#undef ID
	return 1;
truncated:
	snprintf(r->err, sizeof(r->err), "record %lu (%s): truncated or malformed", r->line,
		 kmm_trace_op_name((unsigned)c) ? kmm_trace_op_name((unsigned)c) : "?");
	return -1;
}

/* ---- text ------------------------------------------------------------------- */

static int read_text(struct kmm_trace_reader *r, struct kmm_trace_rec *rec)
{
	char line[512];
	for (;;) {
		if (!fgets(line, sizeof(line), r->file))
			return 0;
		r->line++;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		memset(rec, 0, sizeof(*rec));
		char op[32];
		unsigned long long t, th;
		int used = 0;
		if (sscanf(p, "%llu %llu %31s %n", &t, &th, op, &used) < 3) {
			snprintf(r->err, sizeof(r->err), "line %lu: expected TIME THREAD OP ...", r->line);
			return -1;
		}
		rec->time_ns = t;
		rec->thread = (uint32_t)th;
		char *rest = p + used;
		int code = -1;
		for (unsigned i = 0; i < KMM_TRACE_NR_OPS; i++)
			if (kmm_trace_op_name(i) && !strcmp(op, kmm_trace_op_name(i)))
				code = (int)i;
		if (code < 0) {
			snprintf(r->err, sizeof(r->err), "line %lu: unknown operation '%s'", r->line, op);
			return -1;
		}
		rec->op = (uint8_t)code;
		unsigned long long a = 0, b = 0, c = 0;
		int n = sscanf(rest, "%lli %lli %lli", (long long *)&a, (long long *)&b, (long long *)&c);
		int want;
		switch (code) {
		case KMM_TRACE_MALLOC: want = 2; rec->id = a; rec->size = b; break;
		case KMM_TRACE_CALLOC: want = 3; rec->id = a; rec->nmemb = b; rec->size = c; break;
		case KMM_TRACE_REALLOC: want = 3; rec->old_id = a; rec->id = b; rec->size = c; break;
		case KMM_TRACE_FREE: want = 1; rec->id = a; break;
		case KMM_TRACE_META: {
			want = 0;
			size_t len = strcspn(rest, "\n");
			if (len > 255)
				len = 255;
			memcpy(r->meta, rest, len);
			r->meta[len] = '\0';
			rec->meta = r->meta;
			rec->meta_len = len;
			break;
		}
		default: want = 3; rec->id = a; rec->align = b; rec->size = c; break;
		}
		if (want && n < want) {
			snprintf(r->err, sizeof(r->err), "line %lu: %s needs %d numbers", r->line, op, want);
			return -1;
		}
		return 1;
	}
}

int kmm_trace_read(struct kmm_trace_reader *r, struct kmm_trace_rec *rec)
{
	if (!r->file) {
		snprintf(r->err, sizeof(r->err), "trace not open");
		return -1;
	}
	return r->text ? read_text(r, rec) : read_binary(r, rec);
}

void kmm_trace_print(void *file, const struct kmm_trace_rec *r)
{
	FILE *f = file;
	const char *name = kmm_trace_op_name(r->op);
	fprintf(f, "%" PRIu64 " %" PRIu32 " %s", r->time_ns, r->thread, name ? name : "?");
	switch (r->op) {
	case KMM_TRACE_MALLOC: fprintf(f, " %#" PRIx64 " %" PRIu64, r->id, r->size); break;
	case KMM_TRACE_CALLOC: fprintf(f, " %#" PRIx64 " %" PRIu64 " %" PRIu64, r->id, r->nmemb, r->size); break;
	case KMM_TRACE_REALLOC: fprintf(f, " %#" PRIx64 " %#" PRIx64 " %" PRIu64, r->old_id, r->id, r->size); break;
	case KMM_TRACE_FREE: fprintf(f, " %#" PRIx64, r->id); break;
	case KMM_TRACE_META: fprintf(f, " %.*s", (int)r->meta_len, r->meta ? r->meta : ""); break;
	default: fprintf(f, " %#" PRIx64 " %" PRIu64 " %" PRIu64, r->id, r->align, r->size); break;
	}
	fputc('\n', f);
}
