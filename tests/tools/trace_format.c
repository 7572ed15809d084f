/*
 * trace_format.c - the allocation trace format (docs/trace-format.md):
 * the encoder, the thread-safe writer and the reader agree, for every
 * operation, extreme values, both forms (binary and text) and several
 * writing threads.  Links tools/trace.c and tools/trace_read.c, as the
 * malloc shim and the kmm CLI do.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "trace.h"

static char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/kmm-trace-test-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	return p;
}

static const struct kmm_trace_rec samples[] = {
	{ .op = KMM_TRACE_META, .time_ns = 1, .meta = "program=test pid=1", .meta_len = 18 },
	{ .op = KMM_TRACE_MALLOC, .thread = 0, .time_ns = 100, .id = 0x55550000, .size = 24 },
	{ .op = KMM_TRACE_CALLOC, .thread = 1, .time_ns = 150, .id = 0x55550020, .nmemb = 10, .size = 8 },
	{ .op = KMM_TRACE_REALLOC, .thread = 1, .time_ns = 160, .old_id = 0x55550020, .id = 0x7f0000001000, .size = 4096 },
	{ .op = KMM_TRACE_MEMALIGN, .thread = 2, .time_ns = 170, .id = 0x7f0000003000, .align = 64, .size = 100 },
	{ .op = KMM_TRACE_POSIX_MEMALIGN, .thread = 2, .time_ns = 171, .id = 0x7f0000004000, .align = 4096, .size = 1 },
	{ .op = KMM_TRACE_ALIGNED_ALLOC, .thread = 3, .time_ns = 172, .id = 0x7f0000005000, .align = 32, .size = 64 },
	{ .op = KMM_TRACE_VALLOC, .thread = 3, .time_ns = 173, .id = 0x7f0000006000, .align = 4096, .size = 10 },
	{ .op = KMM_TRACE_PVALLOC, .thread = 3, .time_ns = 174, .id = 0x7f0000008000, .align = 4096, .size = 4096 },
	{ .op = KMM_TRACE_FREE, .thread = 0, .time_ns = 90, .id = 0x55550000 },	/* time goes back: zigzag */
	{ .op = KMM_TRACE_FREE, .thread = 7, .time_ns = 200, .id = 0 },		/* free(NULL) */
	{ .op = KMM_TRACE_MALLOC, .thread = 4000000000u, .time_ns = UINT64_MAX / 2, .id = UINT64_MAX - 1,
	  .size = UINT64_MAX },
	{ .op = KMM_TRACE_MALLOC, .thread = 0, .time_ns = 1, .id = 1, .size = 0 },	/* huge id jump down */
	{ .op = KMM_TRACE_REALLOC, .thread = 0, .time_ns = 2, .old_id = 1, .id = 0, .size = 0 },	/* realloc(p, 0) */
};
#define NR_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static void expect_same(const struct kmm_trace_rec *a, const struct kmm_trace_rec *b)
{
	expect_eq(a->op, b->op);
	expect_eq(a->thread, b->thread);
	expect_true(a->time_ns == b->time_ns);
	expect_true(a->id == b->id);
	expect_true(a->old_id == b->old_id);
	expect_true(a->size == b->size);
	expect_true(a->nmemb == b->nmemb);
	expect_true(a->align == b->align);
	expect_eq(a->meta_len, b->meta_len);
	if (a->meta_len && b->meta)
		expect_true(memcmp(a->meta, b->meta, a->meta_len) == 0);
}

TEST(binary_round_trip_through_the_writer)
{
	static struct kmm_trace_writer w;
	char *path = tmp_path("bin.kmt");
	assert_eq(kmm_trace_writer_open(&w, path), 0);
	for (size_t i = 0; i < NR_SAMPLES; i++)
		kmm_trace_write(&w, &samples[i]);
	assert_eq(kmm_trace_writer_close(&w), 0);

	struct kmm_trace_reader r;
	assert_eq(kmm_trace_reader_open(&r, path), 0);
	expect_eq(r.text, 0);
	struct kmm_trace_rec rec;
	for (size_t i = 0; i < NR_SAMPLES; i++) {
		assert_eq(kmm_trace_read(&r, &rec), 1);
		expect_same(&samples[i], &rec);
	}
	expect_eq(kmm_trace_read(&r, &rec), 0);
	kmm_trace_reader_close(&r);
	unlink(path);
}

TEST(text_round_trip)
{
	char *path = tmp_path("text.txt");
	FILE *f = fopen(path, "w");
	assert_nonnull(f);
	fprintf(f, "# a comment, then a blank line\n\n");
	for (size_t i = 0; i < NR_SAMPLES; i++)
		if (samples[i].time_ns < INT64_MAX && samples[i].id < INT64_MAX && samples[i].size < INT64_MAX)
			kmm_trace_print(f, &samples[i]);
	fclose(f);
	struct kmm_trace_reader r;
	assert_eq(kmm_trace_reader_open(&r, path), 0);
	expect_eq(r.text, 1);
	struct kmm_trace_rec rec;
	for (size_t i = 0; i < NR_SAMPLES; i++) {
		if (!(samples[i].time_ns < INT64_MAX && samples[i].id < INT64_MAX && samples[i].size < INT64_MAX))
			continue;
		assert_eq(kmm_trace_read(&r, &rec), 1);
		expect_same(&samples[i], &rec);
	}
	expect_eq(kmm_trace_read(&r, &rec), 0);
	kmm_trace_reader_close(&r);
	unlink(path);
}

TEST(encoding_is_compact)
{
	/* a typical malloc a few bytes after the previous block: 6 bytes */
	struct kmm_trace_enc st = { .last_time = 1000, .last_id = 0x555555560000 };
	unsigned char buf[KMM_TRACE_REC_MAX];
	struct kmm_trace_rec r = { .op = KMM_TRACE_MALLOC, .thread = 1, .time_ns = 1300, .id = 0x555555560030,
				   .size = 40 };
	size_t n = kmm_trace_encode(&st, &r, buf);
	expect_le(n, 6);
	expect_eq(buf[0], KMM_TRACE_MALLOC);
	unsigned char h[KMM_TRACE_HEADER_SIZE];
	kmm_trace_header(h);
	expect_true(memcmp(h, "KMMTRACE", 8) == 0);
	expect_eq(h[8] | h[9] << 8, KMM_TRACE_VERSION);
	expect_eq(h[10], KMM_TRACE_HEADER_SIZE);
}

TEST(malformed_input_is_an_error)
{
	char *path = tmp_path("bad.kmt");
	FILE *f = fopen(path, "wb");
	assert_nonnull(f);
	unsigned char h[KMM_TRACE_HEADER_SIZE];
	kmm_trace_header(h);
	fwrite(h, 1, sizeof(h), f);
	fputc(KMM_TRACE_MALLOC, f);
	fputc(0x80, f);	/* a varint cut short by the end of the file */
	fclose(f);
	struct kmm_trace_reader r;
	struct kmm_trace_rec rec;
	assert_eq(kmm_trace_reader_open(&r, path), 0);
	expect_eq(kmm_trace_read(&r, &rec), -1);
	expect_true(strstr(r.err, "truncated") != NULL);
	kmm_trace_reader_close(&r);

	f = fopen(path, "wb");
	h[8] = 99;	/* a version this reader does not know */
	fwrite(h, 1, sizeof(h), f);
	fclose(f);
	expect_eq(kmm_trace_reader_open(&r, path), -1);
	expect_true(strstr(r.err, "version") != NULL);

	f = fopen(path, "w");
	fprintf(f, "10 0 mallocx 0x10 4\n");
	fclose(f);
	assert_eq(kmm_trace_reader_open(&r, path), 0);
	expect_eq(kmm_trace_read(&r, &rec), -1);
	expect_true(strstr(r.err, "unknown operation") != NULL);
	kmm_trace_reader_close(&r);
	unlink(path);
}

/* several threads share one writer, as the shim's threads do */
static struct kmm_trace_writer shared_w;
#define PER_THREAD 20000

static void *writer_thread(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		struct kmm_trace_rec r = { .op = KMM_TRACE_MALLOC, .thread = kmm_trace_thread_id(),
					   .id = (t << 32) | (uint64_t)(i + 1), .size = (uint64_t)i };
		kmm_trace_write(&shared_w, &r);
	}
	return NULL;
}

TEST(threads_share_a_writer)
{
	char *path = tmp_path("threads.kmt");
	assert_eq(kmm_trace_writer_open(&shared_w, path), 0);
	pthread_t th[4];
	for (uintptr_t t = 0; t < 4; t++)
		assert_eq(pthread_create(&th[t], NULL, writer_thread, (void *)(t + 1)), 0);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	assert_eq(kmm_trace_writer_close(&shared_w), 0);

	struct kmm_trace_reader r;
	struct kmm_trace_rec rec;
	assert_eq(kmm_trace_reader_open(&r, path), 0);
	int next[5] = { 0 }, n = 0;
	uint64_t last_t = 0;
	unsigned threads_seen = 0;
	while (kmm_trace_read(&r, &rec) == 1) {
		unsigned t = (unsigned)(rec.id >> 32);
		assert_true(t >= 1 && t <= 4);
		/* each thread's records in its order, intact, stamped in time order */
		expect_eq((int)(rec.id & 0xffffffff), next[t] + 1);
		expect_eq((int)rec.size, next[t]);
		next[t]++;
		expect_true(rec.time_ns >= last_t);
		last_t = rec.time_ns;
		threads_seen |= 1u << rec.thread;
		n++;
	}
	kmm_trace_reader_close(&r);
	expect_eq(n, 4 * PER_THREAD);
	expect_true(__builtin_popcount(threads_seen) == 4);
	unlink(path);
}

TEST_MAIN()
