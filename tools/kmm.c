/*
 * kmm.c - the kmm command: a front door to the library for people.
 *
 *   kmm demo      boot a machine, run a workload through every layer, print
 *                 the reports, draw the memory map and the free-page chart
 *   kmm replay    replay an allocation trace on a machine of your choice
 *   kmm trace-gen write a synthetic trace;  kmm trace-dump  print one as text
 *   kmm report    print a report (or all of them, --json) of a warmed-up machine
 *   kmm exec      run a program on the malloc shim (libkmm-malloc.so)
 *
 * Each subcommand lives in its own file (demo.c, replay.c, tracegen.c,
 * report.c, exec.c); svg.c draws, util.c helps, trace.c / trace_read.c
 * are the trace format.  docs/kmm.1 is the manual page, docs/tools.md the
 * longer story.  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <stdlib.h>
#include <string.h>

#include "kmm_tool.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "demo", cmd_demo, "boot a machine, run a workload through every layer, print reports, draw pictures" },
	{ "replay", cmd_replay, "replay an allocation trace on a simulated machine (--compare: two machines)" },
	{ "trace-gen", cmd_trace_gen, "write a synthetic allocation trace (--seed S --ops N FILE)" },
	{ "trace-dump", cmd_trace_dump, "print a trace in the text form" },
	{ "report", cmd_report, "print a report of a warmed-up machine (--json for scripts)" },
	{ "exec", cmd_exec, "run a program on the malloc shim: kmm exec [--stats] [--options '...'] -- CMD" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kmm COMMAND [ARGS]   (kmm COMMAND --help for a command's options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nBoot options (--options) are the kernel-style keys of kmm_boot: mem=1G numa=2\n"
		   "zones=dma:16M,normal:896M,highmem cpus=N slab=slab|slob profile=classic|modern ...\n"
		   "See man kmm (docs/kmm.1) and docs/tools.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kmm %s\n", KMM_TOOL_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	tool_err("unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}
