/*
 * pgtable.h - the kernel page table of the simulated machine and the one
 * function that maps a frame into a kernel window (vmalloc, vmap, pkmap).
 *
 * The kernel's part of the address space that is not linearly mapped (the
 * vmalloc and pkmap windows) is described by a software page table of the
 * seeds' 3-level shape (page global directory -> page middle directory ->
 * page table; a 4-level walk may come with profile=modern), whose table
 * pages come from the page allocator (PG_pgtable, counted in meminfo's
 * PageTables).  Entries are kept in step with the host mappings: mapping a
 * frame writes its PTE and asks the platform to map it; unmapping clears the
 * PTE, unmaps on the host, and frees table pages that became empty.
 *
 * Implemented in pgtable.c; used by vmalloc.c and highmem.c.
 */
#ifndef KMM_PGTABLE_H
#define KMM_PGTABLE_H

#include "internal.h"

/*
 * kmm_kernel_map_pages - map pages[0..nr) at consecutive pages from va (inside
 * the vmalloc or pkmap window): allocate table pages as needed (gfp for them,
 * never highmem), write the PTEs, map on the host (shared backing: alias the
 * frames; private backing: move each frame from its linear address, so the
 * linear address is inaccessible until kmm_kernel_unmap_pages moves it back).
 * Return: 0, or -ENOMEM with nothing left mapped; -EINVAL for a range
 * outside the windows, a bad page pointer or a range that already has
 * present entries; -EBUSY (private backing) for a frame already mapped in
 * the window.  Nothing is changed on an error.
 */
int kmm_kernel_map_pages(char *va, struct page **pages, unsigned long nr, gfp_t gfp);

/*
 * kmm_kernel_unmap_pages - undo kmm_kernel_map_pages for nr pages at va:
 * clear the PTEs, unmap (or move back) on the host, free emptied tables.
 */
void kmm_kernel_unmap_pages(char *va, unsigned long nr);

/* The frame mapped at kernel address va by the page table, or NULL. */
struct page *kmm_pgtable_lookup(const void *va);

/* Present entries for the nr pages from va (a page-aligned range inside
 * one window); kmm_check uses it to find entries nobody owns. */
unsigned long kmm_pgtable_count_present(const void *va, unsigned long nr);

/* Table pages in use (meminfo PageTables, vmstat nr_page_table_pages). */
unsigned long kmm_pgtable_pages(void);

/* Boot / shutdown / kmm_check of the page table.  kmm_pgtable_init is
 * idempotent within a boot (vmalloc_init and highmem_init both call it);
 * the first call registers the "pgtable" layer, whose check and shutdown
 * are the two functions below, so layers registered after it (vmalloc,
 * highmem) shut down while the table still exists. */
int kmm_pgtable_init(void);
void kmm_pgtable_shutdown(void);
int kmm_pgtable_check(void);

#endif /* KMM_PGTABLE_H */
