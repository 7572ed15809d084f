/*
 * slab_helpers.h - helpers shared by the slab / kmalloc tests (issue 3):
 * the backend under test (KMM_TEST_BOOT, set by CTest for files marked
 * "kmm-test: backends"), slabinfo rows, misuse expectations, and running
 * a piece of code in a forked child that must abort with a given line.
 *
 * Include after harness.h and page_helpers.h.
 */
#ifndef KMM_TEST_SLAB_HELPERS_H
#define KMM_TEST_SLAB_HELPERS_H

#include <signal.h>
#include <sys/wait.h>

/* extra boot options for this run ("slab=slob", ...) */
static inline const char *sh_extra(void)
{
	const char *e = getenv("KMM_TEST_BOOT");
	return e ? e : "";
}

static inline bool sh_slob(void) { return strstr(sh_extra(), "slab=slob") != NULL; }

/* boot opts + KMM_TEST_BOOT; asserts success and a clean kmm_check */
static inline void sh_boot(const char *opts)
{
	char cmd[512];
	kmm_shutdown();
	if (snprintf(cmd, sizeof(cmd), "%s %s", opts, sh_extra()) >= (int)sizeof(cmd))
		kt_fail(1, __FILE__, __LINE__, "boot line too long: \"%s %s\"", opts, sh_extra());
	if (kmm_boot(cmd) != 0)
		kt_fail(1, __FILE__, __LINE__, "kmm_boot(\"%s\") failed", cmd);
	assert_eq(kmm_check(), 0);
}

/* One slabinfo row, by cache name (found = false when absent). */
struct sh_row {
	bool found;
	long active_objs, num_objs, objsize, objperslab, pagesperslab;
	long limit, batchcount, shared;
	long active_slabs, num_slabs, sharedavail;
};

static inline struct sh_row sh_slabinfo(const char *name)
{
	struct sh_row r = { 0 };
	char *text = report_text("slabinfo", NULL);
	size_t nl = strlen(name);
	for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
			r.found = sscanf(p + nl, " %ld %ld %ld %ld %ld : tunables %ld %ld %ld : slabdata %ld %ld %ld",
					 &r.active_objs, &r.num_objs, &r.objsize, &r.objperslab, &r.pagesperslab,
					 &r.limit, &r.batchcount, &r.shared, &r.active_slabs, &r.num_slabs,
					 &r.sharedavail) == 11;
			break;
		}
	}
	free(text);
	return r;
}

/* Pages the slab layer holds (meminfo Slab:, in pages). */
static inline long sh_slab_pages(void)
{
	char *text = report_text("meminfo", NULL);
	long kb = text ? report_value(text, "Slab:") : -1;
	free(text);
	return kb < 0 ? -1 : kb / (long)(PAGE_SIZE >> 10);
}

/*
 * Misuse in report mode: run with logcap on; afterwards exactly `category`
 * must have been reported (kmm_error_count rose, a line "kmm: <category>:"
 * was logged).
 */
struct sh_misuse { unsigned long errors; };

static inline struct sh_misuse sh_misuse_begin(void)
{
	logcap_start();
	return (struct sh_misuse){ kmm_error_count() };
}

#define sh_misuse_expect(m, category) do {                                                      \
	char kt_want_[96];                                                                       \
	snprintf(kt_want_, sizeof(kt_want_), "kmm: %s: ", (category));                           \
	expect_gt(kmm_error_count(), (m).errors);                                                \
	if (!logcap_find(kt_want_)) {                                                            \
		kt_fail(0, __FILE__, __LINE__, "no \"%s\" line was logged", kt_want_);           \
		logcap_dump();                                                                   \
	}                                                                                        \
	logcap_stop();                                                                           \
} while (0)

#define sh_no_misuse(m) do {                                                                     \
	expect_eq(kmm_error_count(), (m).errors);                                                \
	logcap_stop();                                                                           \
} while (0)

/*
 * Run fn in a forked child (its stderr captured); the child must die of
 * SIGABRT and have printed a line containing `want`.  Returns true if so.
 */
static inline bool sh_child_aborts(void (*fn)(void), const char *want)
{
	int pfd[2];
	kmm_shutdown();	/* a shared backing would be shared with the child too */
	fflush(stdout);
	fflush(stderr);
	if (pipe(pfd))
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);	/* did not abort */
	}
	close(pfd[1]);
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(pfd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	bool ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(buf, want);
	if (!ok)
		printf("    child: status %#x, stderr:\n%s\n", status, buf);
	return ok;
}

#endif /* KMM_TEST_SLAB_HELPERS_H */
