/*
 * tests/unit/slab_tag.c - what a SLAB slab page's descriptor carries for
 * the malloc shim's free (kmm_slab_cache_set_tag, slab.c): every page of
 * every slab of a tagged cache has the cache's tag and the slab's s_mem
 * (object 0) in struct page, kmm_check verifies both, and a page that
 * leaves a slab has them cleared; every free object of a cache with a free
 * mark carries the mark in word 1 - fresh ones (cache_grow), freed ones
 * (slab_free) and those that were free when the tag was set (the arrays
 * are drained and the free chains marked) - while a live object's word 1
 * is its owner's.  White-box: includes slab_classic.h.
 */
#include "harness.h"
#include "page_helpers.h"
#include "slab_helpers.h"
#include "mm/slab.h"
#include "mm/slab_classic.h"

#define TB "mem=64M numa=1 cpus=2 on_error=report"
#define TAG 0x30
#define MARK ((uintptr_t)0x5eed5eed5eed5eecULL)

/* Every page of every slab of c: tag and s_mem as the slab says; every
 * object on a free chain marked (mark 0: not checked).  Returns the number
 * of slabs seen. */
static unsigned int check_slabs(struct kmem_cache *c, unsigned short tag, uintptr_t mark)
{
	struct slab_cache *cachep = SC(c);
	unsigned int slabs = 0;
	for (int nid = 0; nid < kmm.nr_nodes; nid++) {
		struct kmem_list3 *l3 = &cachep->nodelists[nid];
		struct list_head *lists[3] = { &l3->slabs_full, &l3->slabs_partial, &l3->slabs_free };
		for (int w = 0; w < 3; w++) {
			struct slab *slabp;
			list_for_each_entry(slabp, lists[w], list) {
				struct page *page = virt_to_page((char *)slabp->s_mem - slabp->colouroff);
				for (unsigned long i = 0; i < (1UL << cachep->gfporder); i++) {
					expect_eq(page[i].slab_tag, tag);
					expect_true(page[i].s_mem == slabp->s_mem);
				}
				unsigned int steps = 0;
				for (kmem_bufctl_t idx = slabp->free; mark && idx != BUFCTL_END && steps++ < cachep->num;
				     idx = slab_bufctl(slabp)[idx])
					expect_eq(((uintptr_t *)((char *)slabp->s_mem + (size_t)idx * cachep->buffer_size))[1],
						  mark);
				slabs++;
			}
		}
	}
	return slabs;
}

TEST(tag_and_s_mem_on_every_slab_page)
{
	sh_boot(TB);
	struct kmem_cache *c = kmem_cache_create("tag-a", 200, 0, 0, NULL);
	assert_nonnull(c);
	enum { N = 300 };
	static void *o[N];
	for (int i = 0; i < N; i++) {
		assert_nonnull(o[i] = kmem_cache_alloc(c, GFP_KERNEL));
		((uintptr_t *)o[i])[1] = 5;	/* live: the owner's word */
	}
	expect_gt(check_slabs(c, 0, 0), 1U);	/* untagged: tag 0 */
	for (int i = 0; i < N; i += 2)
		kmem_cache_free(c, o[i]);	/* free objects in the arrays and on chains */

	/* tagging an existing cache: its slabs now, the free objects marked
	 * (not in the ASan / Valgrind builds: free objects are the
	 * annotations', so the cache takes a tag but no mark) */
	uintptr_t mark = MARK;
	if (!kmm_slab_cache_set_tag(c, TAG, mark)) {
		mark = 0;
		assert_true(kmm_slab_cache_set_tag(c, TAG, 0));
	}
	expect_gt(check_slabs(c, TAG, mark), 1U);
	for (int i = 0; i < N && mark; i += 2)
		expect_eq(((uintptr_t *)o[i])[1], MARK);
	expect_eq(kmm_check(), 0);

	/* new slabs: tagged and every fresh object marked */
	static void *more[N];
	for (int i = 0; i < N; i++) {
		assert_nonnull(more[i] = kmem_cache_alloc(c, GFP_KERNEL));
		((uintptr_t *)more[i])[1] = 7;	/* live: the owner's word */
	}
	check_slabs(c, TAG, mark);
	expect_eq(kmm_check(), 0);

	/* frees mark; a live object's word stays its owner's */
	for (int i = 0; i < N; i++) {
		kmem_cache_free(c, more[i]);
		if (mark)
			expect_eq(((uintptr_t *)more[i])[1], MARK);
	}
	expect_eq(((uintptr_t *)o[1])[1], 5);	/* live objects keep their word */
	expect_eq(kmm_check(), 0);

	/* a page leaving the slab layer keeps neither */
	struct page *page = virt_to_page(o[1]);
	for (int i = 1; i < N; i += 2)
		kmem_cache_free(c, o[i]);
	kmem_cache_destroy(c);
	kmm_drain_all();
	expect_eq(page->slab_tag, 0);
	expect_true(page->s_mem == NULL || !PageSlab(page));
	expect_eq(kmm_check(), 0);
	kmm_shutdown();
}

TEST(check_finds_a_wrong_tag_or_s_mem)
{
	sh_boot(TB);
	struct kmem_cache *c = kmem_cache_create("tag-b", 64, 0, 0, NULL);
	assert_nonnull(c);
	assert_true(kmm_slab_cache_set_tag(c, TAG, 0));
	void *p = kmem_cache_alloc(c, GFP_KERNEL);
	assert_nonnull(p);
	struct page *page = virt_to_page(p);
	expect_eq(page->slab_tag, TAG);
	expect_eq(kmm_check(), 0);

	logcap_start();
	page->slab_tag = TAG + 0x10;
	expect_ne(kmm_check(), 0);
	page->slab_tag = TAG;
	void *s_mem = page->s_mem;
	page->s_mem = (char *)s_mem + 64;
	expect_ne(kmm_check(), 0);
	page->s_mem = s_mem;
	logcap_stop();
	expect_eq(logcap_count("kmm: check: slab: "), 2);
	expect_eq(kmm_check(), 0);

	kmem_cache_free(c, p);
	kmem_cache_destroy(c);
	kmm_shutdown();
}

TEST(no_mark_where_free_objects_are_not_the_slab_layers)
{
	sh_boot(TB);
	struct kmem_cache *c = kmem_cache_create("tag-d", 64, 0, SLAB_POISON, NULL);
	assert_nonnull(c);
	expect_false(kmm_slab_cache_set_tag(c, TAG, MARK));
	expect_true(kmm_slab_cache_set_tag(c, TAG, 0));
	kmem_cache_destroy(c);
	kmm_shutdown();
}

TEST(slob_caches_take_no_tag)
{
	sh_boot("mem=64M numa=1 cpus=2 slab=slob");
	struct kmem_cache *c = kmem_cache_create("tag-c", 64, 0, 0, NULL);
	assert_nonnull(c);
	expect_false(kmm_slab_cache_set_tag(c, TAG, MARK));
	kmem_cache_destroy(c);
	kmm_shutdown();
}

TEST_MAIN()
