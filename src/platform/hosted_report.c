/*
 * hosted_report.c - kmm_report_file: the /proc-format reports to a stdio
 * stream (hosted builds only; the core's kmm_report writes through a
 * callback so that it works freestanding).
 *
 * Failure: the report's own result (0, -ENOENT for an unknown name,
 * -EINVAL when no machine is booted), or -EIO (5) when the stream refused
 * some of the text.  The stream is not flushed: the caller owns it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <kmm/report.h>

struct report_file_ctx {
	FILE *f;
	bool failed;
};

static void emit_to_file(void *ctx, const char *text)
{
	struct report_file_ctx *c = ctx;

	if (fputs(text, c->f) == EOF)
		c->failed = true;
}

/**
 * kmm_report_file - write report @name to the stream @f.
 * @name: "buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat",
 *        "extfrag", "slabinfo", "vmallocinfo"
 * @f: an open stream (stdout, a file)
 * Context: takes the locks the report takes; do not call with kmm locks held.
 * Return: 0; -ENOENT unknown name; -EINVAL not booted; -EIO write error.
 */
int kmm_report_file(const char *name, FILE *f)
{
	struct report_file_ctx c = { .f = f, .failed = false };
	int rc;

	if (f == NULL)
		return -EINVAL;
	rc = kmm_report(name, emit_to_file, &c);
	if (rc == 0 && c.failed)
		rc = -EIO;
	return rc;
}
