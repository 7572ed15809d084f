/*
 * kmm/highmem.h - kernel mappings of high-memory page frames.
 * For a low-memory page every function returns its linear address.
 */
#ifndef KMM_HIGHMEM_H
#define KMM_HIGHMEM_H

struct page;

/* kmap - a permanent mapping; may sleep while all pkmap= slots are used. */
void *kmap(struct page *page);
void  kunmap(struct page *page);
/* kmap_atomic / kmap_local_page - per-CPU-slot windows; never sleep; nest up
 * to 16 deep per thread and are undone in reverse order. */
void *kmap_atomic(struct page *page);
void  kunmap_atomic(void *addr);
void *kmap_local_page(struct page *page);
void  kunmap_local(void *addr);

#endif /* KMM_HIGHMEM_H */
