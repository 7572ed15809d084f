/*
 * misuse_helpers.h - running one misuse of MISUSE.md both ways (issue 6):
 *
 *   mc_run("label", fn, "extra boot options")
 *
 * runs fn twice:
 *   1. in this process, booted with on_error=report (plus the extra options
 *      and KMM_TEST_BOOT): fn sets things up, announces the misuse with
 *      mc_begin(outcome, "exact line", ...), makes the one bad call, and
 *      calls mc_end(), which checks the outcome:
 *        MC_MISUSE  exactly that report line, kmm_error_count() + 1;
 *        MC_WARN    exactly that warning line, no error counted;
 *        MC_SILENT  no line at all, no error counted;
 *      and then kmm_check() passes and nothing else changed (free pages,
 *      per-CPU pages, slabinfo and vmallocinfo as before the bad call)
 *      unless fn said mc.changes_state first (a wrong-cache free goes to
 *      the true owner).  fn then frees what it made; mc_run checks that
 *      the free pages are back at the boot baseline after kmm_drain_all
 *      and that shutdown reports no leak.
 *   2. in a forked child booted with on_error=abort: mc_begin sends the
 *      expected line to the parent; an MC_MISUSE call must kill the child
 *      with SIGABRT after printing the line on stderr (a line of its own);
 *      MC_WARN and MC_SILENT calls must not abort (the child runs fn to
 *      its end and exits 0; a warning line must be on stderr).
 *
 * Include after harness.h, page_helpers.h and slab_helpers.h.
 */
#ifndef KMM_TEST_MISUSE_HELPERS_H
#define KMM_TEST_MISUSE_HELPERS_H

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define MC_MACHINE "mem=64M numa=1 zones=dma:16M,normal:40M,highmem cpus=2"

enum mc_mode { MC_REPORT, MC_ABORT };
enum mc_outcome { MC_MISUSE, MC_WARN, MC_SILENT };

static struct {
	enum mc_mode mode;
	enum mc_outcome outcome;
	int want_fd;			/* child: the pipe the expected line goes to */
	char want[640];
	unsigned long errors0;
	bool changes_state;		/* the bad call legitimately changes the heap */
	bool leak_ok;			/* shutdown may report leftovers (documented) */
	bool begun;
	unsigned long fp_free, fp_pcp;
	char *fp_slabinfo, *fp_vmallocinfo;
	char boot[512];
} mc;

static inline bool mc_report_mode(void) { return mc.mode == MC_REPORT; }

static inline void mc_fingerprint(unsigned long *free, unsigned long *pcp, char **slabinfo, char **vmallocinfo)
{
	*free = nr_free_pages();
	*pcp = wb_all_pcp_pages();
	*slabinfo = report_text("slabinfo", NULL);
	*vmallocinfo = report_text("vmallocinfo", NULL);
}

/* The bad call follows: outcome and the exact line it must produce ("" or
 * NULL fmt for MC_SILENT). */
__attribute__((format(printf, 2, 3))) static inline void mc_begin(enum mc_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	mc.outcome = outcome;
	mc.want[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(mc.want, sizeof(mc.want), fmt, ap);
		va_end(ap);
	}
	mc.begun = true;
	if (mc.mode == MC_ABORT) {
		if (mc.want_fd >= 0) {
			dprintf(mc.want_fd, "%d\n%s", (int)outcome, mc.want);
			close(mc.want_fd);
			mc.want_fd = -1;
		}
		fflush(stdout);
		return;
	}
	mc_fingerprint(&mc.fp_free, &mc.fp_pcp, &mc.fp_slabinfo, &mc.fp_vmallocinfo);
	mc.errors0 = kmm_error_count();
	logcap_start();
}

static inline void mc_end(void)
{
	if (mc.mode == MC_ABORT) {
		if (mc.outcome == MC_MISUSE) {
			fprintf(stderr, "mc: the misuse did not abort\n");
			_exit(3);
		}
		return;
	}
	logcap_stop();
	int lines = logcap_lines();
	unsigned long errors = kmm_error_count() - mc.errors0;
	bool ok = true;
	switch (mc.outcome) {
	case MC_MISUSE:
		ok = errors == 1 && lines == 1 && logcap_count(mc.want) == 1 && strcmp(logcap.line[0], mc.want) == 0;
		break;
	case MC_WARN:
		ok = errors == 0 && lines == 1 && strcmp(logcap.line[0], mc.want) == 0;
		break;
	case MC_SILENT:
		ok = errors == 0 && lines == 0;
		break;
	}
	if (!ok) {
		kt_fail(0, __FILE__, __LINE__, "expected %s \"%s\"; %lu errors counted, %d lines:",
			mc.outcome == MC_MISUSE ? "the report" : mc.outcome == MC_WARN ? "the warning" : "silence",
			mc.want, errors, lines);
		logcap_dump();
	}
	expect_eq(kmm_check(), 0);
	if (!mc.changes_state) {
		unsigned long f, p;
		char *si, *vi;
		mc_fingerprint(&f, &p, &si, &vi);
		expect_eq(f, mc.fp_free);
		expect_eq(p, mc.fp_pcp);
		if (si && mc.fp_slabinfo && strcmp(si, mc.fp_slabinfo))
			kt_fail(0, __FILE__, __LINE__, "slabinfo changed:\n%s\n--- now:\n%s", mc.fp_slabinfo, si);
		if (vi && mc.fp_vmallocinfo && strcmp(vi, mc.fp_vmallocinfo))
			kt_fail(0, __FILE__, __LINE__, "vmallocinfo changed:\n%s\n--- now:\n%s", mc.fp_vmallocinfo, vi);
		free(si);
		free(vi);
	}
	free(mc.fp_slabinfo);
	free(mc.fp_vmallocinfo);
	mc.fp_slabinfo = mc.fp_vmallocinfo = NULL;
}

static inline int mc_boot(const char *policy, const char *extra)
{
	snprintf(mc.boot, sizeof(mc.boot), "%s %s %s %s", MC_MACHINE, policy, extra ? extra : "", sh_extra());
	kmm_shutdown();
	int rc = kmm_boot(mc.boot);
	if (rc == 0)
		kmm_drain_all();
	return rc;
}

/* Reads everything from fd into buf (NUL-terminated). */
static inline void mc_slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
}

/* Is line one whole line of text? */
static inline bool mc_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static inline void mc_run(const char *label, void (*fn)(void), const char *extra)
{
	printf("  -- %s (%s)\n", label, extra && *extra ? extra : "default machine");
	/* 1. on_error=report, in this process */
	memset(&mc, 0, sizeof(mc));
	mc.mode = MC_REPORT;
	mc.want_fd = -1;
	if (mc_boot("on_error=report", extra) != 0) {
		kt_fail(0, __FILE__, __LINE__, "%s: kmm_boot(\"%s\") failed", label, mc.boot);
		return;
	}
	unsigned long base = nr_free_pages();
	fn();
	expect_true(mc.begun);
	expect_eq(kmm_check(), 0);
	kmm_drain_all();
	if (nr_free_pages() != base)
		kt_fail(0, __FILE__, __LINE__, "%s: %lu free pages after the test, %lu at boot", label, nr_free_pages(), base);
	logcap_start();
	kmm_shutdown();
	logcap_stop();
	if (!mc.leak_ok && logcap_count("kmm: shutdown:")) {
		kt_fail(0, __FILE__, __LINE__, "%s: shutdown found leftovers:", label);
		logcap_dump();
	}

	/* 2. on_error=abort, in a child */
	int errp[2], wantp[2];
	if (pipe(errp) || pipe(wantp)) {
		kt_fail(0, __FILE__, __LINE__, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(errp[0]);
		close(wantp[0]);
		dup2(errp[1], STDERR_FILENO);
		dup2(errp[1], STDOUT_FILENO);	/* the harness's FAIL lines too */
		signal(SIGABRT, SIG_DFL);
		memset(&mc, 0, sizeof(mc));
		mc.mode = MC_ABORT;
		mc.want_fd = wantp[1];
		kt.cur_failed = 0;
		if (setjmp(kt.jmp) == 0) {	/* an assert_* in the child lands here */
			if (mc_boot("on_error=abort", extra) != 0)
				_exit(5);
			fn();
			kmm_shutdown();
		}
		fflush(stdout);
		_exit(kt.cur_failed ? 4 : 0);
	}
	close(errp[1]);
	close(wantp[1]);
	char want[700], err[16384];
	mc_slurp(wantp[0], want, sizeof(want));
	mc_slurp(errp[0], err, sizeof(err));
	close(wantp[0]);
	close(errp[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	char *line = strchr(want, '\n');
	int outcome = atoi(want);
	line = line ? line + 1 : want;
	bool ok;
	if (outcome == MC_MISUSE)
		ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && mc_has_line(err, line);
	else
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && (outcome == MC_SILENT || mc_has_line(err, line));
	if (!ok)
		kt_fail(0, __FILE__, __LINE__, "%s under on_error=abort: status %#x, wanted %s \"%s\"; the child said:\n%s",
			label, status, outcome == MC_MISUSE ? "SIGABRT and" : "exit 0 and", line, err);
}

#endif /* KMM_TEST_MISUSE_HELPERS_H */
