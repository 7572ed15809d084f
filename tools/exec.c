/*
 * exec.c - `kmm exec [--stats] [--options OPTS] [--trace FILE] -- CMD ARGS`:
 * run CMD with the malloc shim preloaded.
 *
 * The shim is libkmm-malloc.so, looked for (first match wins):
 *   $KMM_MALLOC_LIB;
 *   next to this program's directory: ../lib/libkmm-malloc.so (installed),
 *   ./libkmm-malloc.so and ./src/shim/libkmm-malloc.so (build tree).
 * The environment of CMD gets LD_PRELOAD=<shim>[:previous LD_PRELOAD],
 * KMM_OPTIONS=OPTS (with --options), KMM_STATS=1 (with --stats: meminfo
 * and slabinfo on stderr at exit) and KMM_TRACE=FILE (with --trace: a trace
 * for `kmm replay`).  Exit status: CMD's; 2 when the shim is missing or the
 * arguments are wrong; 127 when CMD cannot be run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmm_tool.h"

#define SHIM_NAME "libkmm-malloc.so"

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

/* The shim's path (malloc'd), or NULL; *looked lists the places tried. */
static char *find_shim(struct strbuf *looked)
{
	const char *env = getenv("KMM_MALLOC_LIB");
	if (env && *env) {
		sb_printf(looked, "  $KMM_MALLOC_LIB=%s\n", env);
		return access(env, R_OK) == 0 ? xstrdup(env) : NULL;
	}
	char *dir = exe_dir();
	if (!dir)
		return NULL;
	static const char *const rel[] = { "../lib/" SHIM_NAME, SHIM_NAME, "src/shim/" SHIM_NAME, "lib/" SHIM_NAME };
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *p = path_join(dir, rel[i]);
		sb_printf(looked, "  %s\n", p);
		if (access(p, R_OK) == 0) {
			char real[PATH_MAX];
			free(dir);
			if (realpath(p, real)) {
				free(p);
				return xstrdup(real);
			}
			return p;
		}
		free(p);
	}
	free(dir);
	return NULL;
}

static void exec_usage(FILE *f)
{
	fprintf(f, "usage: kmm exec [--stats] [--options 'BOOT OPTIONS'] [--trace FILE] -- CMD [ARGS...]\n"
		   "  Runs CMD with malloc, free, realloc, ... served by kmm (LD_PRELOAD=libkmm-malloc.so).\n"
		   "  --stats prints meminfo and slabinfo at exit; --trace records every call for kmm replay.\n");
}

int cmd_exec(int argc, char **argv)
{
	const char *options = NULL, *trace = NULL;
	bool stats = false;
	int i = 1;
	for (; i < argc; i++) {
		const char *v;
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if ((v = opt_value(argc, argv, &i, "--options")))
			options = v;
		else if ((v = opt_value(argc, argv, &i, "--trace")))
			trace = v;
		else if (!strcmp(argv[i], "--stats"))
			stats = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			exec_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			tool_err("exec: unknown option '%s'", argv[i]);
			exec_usage(stderr);
			return 2;
		} else {
			break;	/* the command, without "--" */
		}
	}
	if (i >= argc) {
		tool_err("exec: no command given");
		exec_usage(stderr);
		return 2;
	}

	struct strbuf looked;
	sb_init(&looked);
	char *shim = find_shim(&looked);
	if (!shim) {
		tool_err("exec: the malloc shim %s was not found; looked for it at:\n%s"
			 "(build it: it comes with the malloc shim, src/shim; or set KMM_MALLOC_LIB=/path/to/%s)",
			 SHIM_NAME, looked.s, SHIM_NAME);
		sb_free(&looked);
		return 2;
	}
	sb_free(&looked);

	struct strbuf preload;
	sb_init(&preload);
	sb_add(&preload, shim);
	const char *old = getenv("LD_PRELOAD");
	if (old && *old) {
		sb_add(&preload, ":");
		sb_add(&preload, old);
	}
	if (setenv("LD_PRELOAD", preload.s, 1) || (options && setenv("KMM_OPTIONS", options, 1)) ||
	    (stats && setenv("KMM_STATS", "1", 1)) || (trace && setenv("KMM_TRACE", trace, 1))) {
		tool_err("exec: cannot set the environment: %s", strerror(errno));
		return 2;
	}
	sb_free(&preload);
	free(shim);
	fflush(NULL);
	execvp(argv[i], argv + i);
	tool_err("exec: cannot run %s: %s", argv[i], strerror(errno));
	return 127;
}
