/*
 * kmm/vmalloc.h - noncontiguous memory areas: virtually contiguous,
 * physically scattered page frames mapped in the vmalloc window.
 */
#ifndef KMM_VMALLOC_H
#define KMM_VMALLOC_H

#include <kmm/gfp.h>

struct page;

/* vmap() flags and protections */
#define VM_IOREMAP  0x00000001UL
#define VM_ALLOC    0x00000002UL
#define VM_MAP      0x00000004UL
typedef struct { unsigned long pgprot; } pgprot_t;
#define PAGE_KERNEL ((pgprot_t){ 0x163UL })	/* present|rw|accessed|dirty|global */

/* vmalloc - size bytes (rounded up to pages) of order-0 frames, high memory
 * allowed, mapped contiguously; each area is followed by an unmapped guard
 * page.  Context: may sleep.  Return: address or NULL. */
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_node(unsigned long size, int node);
void  vfree(const void *addr);
void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot);
void  vunmap(const void *addr);
struct page *vmalloc_to_page(const void *addr);
int   is_vmalloc_addr(const void *addr);

#endif /* KMM_VMALLOC_H */
