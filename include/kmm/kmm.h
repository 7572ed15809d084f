/*
 * kmm/kmm.h - the machine: boot, shutdown, checks, logging, fault injection.
 * Includes every other kmm header.
 */
#ifndef KMM_KMM_H
#define KMM_KMM_H

#include <kmm/gfp.h>
#include <kmm/page.h>
#include <kmm/slab.h>
#include <kmm/mempool.h>
#include <kmm/vmalloc.h>
#include <kmm/highmem.h>
#include <kmm/report.h>
#include <kmm/snapshot.h>

/*
 * kmm_boot - boot the simulated machine from a kernel-style command line
 * ("mem=1G numa=2 zones=dma:16M,normal:896M,highmem ..."; NULL or "" for
 * the default machine).
 * Return: 0; -EINVAL with a "kmm: boot: ..." line naming a bad option;
 * -ENOMEM when the host cannot back it; -EBUSY when already booted.
 */
int  kmm_boot(const char *cmdline);
/* kmm_shutdown - report leaked pages (and objects), release everything. */
void kmm_shutdown(void);
/* kmm_check - 0 when every invariant holds, else < 0 and a report of the
 * first broken one. */
int  kmm_check(void);
/* kmm_drain_all - every CPU slot's cached pages and objects back to the
 * shared lists, empty slabs to the buddy allocator (exact accounting: the
 * slab array caches themselves are freed too, and made again on the next
 * use, so a drained machine holds what a freshly booted one does). */
void kmm_drain_all(void);
unsigned long kmm_error_count(void);	/* misuse reports so far */

typedef void (*kmm_log_fn)(void *ctx, const char *line);
/* kmm_set_log - where log lines and misuse reports go (NULL: stderr).  The
 * function may be called with kmm's locks held: it must not call into kmm
 * (no allocation through kmm, no kmm_report). */
void kmm_set_log(kmm_log_fn fn, void *ctx);

#if !defined(KMM_FREESTANDING) && !defined(KMM_CORE)
#include <stdint.h>
/*
 * kmm_set_clock - hosted builds: read @now_ns (monotonic nanoseconds)
 * instead of CLOCK_MONOTONIC wherever kmm's behaviour depends on time (slab
 * cache reaping every 2 s, warning rate limits, how long GFP_KERNEL waits
 * for memory); NULL restores the host clock.  A deterministic simulation
 * (`kmm demo --threads 1`) drives it from its own operation count, so the
 * same workload gives the same machine state.  The clock must never go
 * backwards, and must advance while a GFP_KERNEL request waits for memory
 * (or boot with oom_wait_ms=0).  Context: set before kmm_boot.
 */
void kmm_set_clock(uint64_t (*now_ns)(void));
#endif

/* fault injection, as Linux's failslab / fail_page_alloc */
int  kmm_fault_config(const char *attr, const char *spec);
void kmm_set_fail_nth(unsigned int n);
unsigned int kmm_get_fail_nth(void);

#endif /* KMM_KMM_H */
