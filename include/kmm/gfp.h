/*
 * kmm/gfp.h - "get free page" flags: which zones a request may use, whether
 * it may sleep, whether it may dip into the reserve, and its mobility.
 *
 * Bit values are those of Linux 6.x, so a mode printed by kmm
 * ("mode:0xcc0") reads the same as one printed by the kernel.
 */
#ifndef KMM_GFP_H
#define KMM_GFP_H

typedef unsigned int gfp_t;

/* zone modifiers */
#define __GFP_DMA            0x01u
#define __GFP_HIGHMEM        0x02u
#define __GFP_DMA32          0x04u
#define __GFP_MOVABLE        0x08u	/* migrate type MOVABLE (with HIGHMEM: highest zone) */
#define __GFP_RECLAIMABLE    0x10u	/* migrate type RECLAIMABLE */
/* watermark and reclaim modifiers */
#define __GFP_HIGH           0x20u	/* high priority: may use half the reserve */
#define __GFP_IO             0x40u
#define __GFP_FS             0x80u
#define __GFP_ZERO           0x100u	/* return zeroed memory */
#define __GFP_DIRECT_RECLAIM 0x400u	/* may sleep and reclaim */
#define __GFP_KSWAPD_RECLAIM 0x800u	/* may wake background reclaim */
#define __GFP_NOWARN         0x2000u	/* no "page allocation failure" line */
#define __GFP_RETRY_MAYFAIL  0x4000u
#define __GFP_NOFAIL         0x8000u	/* never returns NULL: waits as long as it takes */
#define __GFP_NORETRY        0x10000u	/* fail instead of sleeping */
#define __GFP_MEMALLOC       0x20000u	/* may ignore watermarks entirely */
#define __GFP_COMP           0x40000u	/* compound page: tails point at the head */
#define __GFP_NOMEMALLOC     0x80000u	/* never use emergency reserves */
#define __GFP_HARDWALL       0x100000u
#define __GFP_THISNODE       0x200000u	/* no fallback to other nodes */
#define __GFP_ACCOUNT        0x400000u

#define __GFP_RECLAIM (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)

#define GFP_ATOMIC   (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL   (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT   (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_NOIO     (__GFP_RECLAIM)
#define GFP_NOFS     (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER     (GFP_KERNEL | __GFP_HARDWALL)
#define GFP_DMA      __GFP_DMA
#define GFP_DMA32    __GFP_DMA32
#define GFP_HIGHUSER (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)

/* true when a request with these flags may sleep */
static inline int gfpflags_allow_blocking(gfp_t gfp) { return !!(gfp & __GFP_DIRECT_RECLAIM); }

#endif /* KMM_GFP_H */
