/*
 * kmm/report.h - statistics in the Linux /proc formats.
 *
 * Names: "buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat",
 * "extfrag" (and "slabinfo", "vmallocinfo" once those layers exist).
 * The text goes to emit() in pieces; each piece is a complete line or
 * several, with newlines.
 */
#ifndef KMM_REPORT_H
#define KMM_REPORT_H

typedef void (*kmm_emit_fn)(void *ctx, const char *text);

/* kmm_report - write report @name. Return: 0, -ENOENT for an unknown name,
 * -EINVAL when no machine is booted. */
int kmm_report(const char *name, kmm_emit_fn emit, void *ctx);

#if !defined(KMM_FREESTANDING) && !defined(KMM_CORE)
#include <stdio.h>
int kmm_report_file(const char *name, FILE *f);   /* hosted builds only */
#endif

#endif /* KMM_REPORT_H */
