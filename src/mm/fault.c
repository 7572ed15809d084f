/*
 * fault.c - fault injection, as Linux's fault_attr (failslab,
 * fail_page_alloc): probability, interval, times, space, verbose,
 * ignore_gfp_wait, min_order, a cache filter, and the per-thread
 * "fail the n-th call" counter (fail_nth).
 *
 * 1. Overview
 *    Each allocating layer asks kmm_should_fail(attr, gfp, order, cache)
 *    before doing real work, but only when kmm.fault_armed is set, so the
 *    fast paths pay one predictable branch.  The decision follows
 *    should_fail_ex: the thread's fail_nth first (counting every call that
 *    reaches a fault point, nested ones included, as Linux does), then
 *    probability 0 means never, space (bytes that may still succeed),
 *    interval (every n-th call), probability in percent, times (failures
 *    left; -1 no limit).  __GFP_NOFAIL requests never fail.
 *
 *    Defaults differ from Linux on purpose: ignore_gfp_wait = 0 and
 *    min_order = 0, so a configured fault can hit every request (Linux
 *    skips blocking requests and order-0 pages by default).
 *
 * 2. Syntax
 *    boot keys: fail_page_alloc=PROB,INTERVAL,TIMES[,SPACE] and the same for
 *    failslab, fail_vmalloc, fail_mempool and fail_kmap (kmap: the pkmap and
 *    kmap_local mapping steps; kmap counts as a blocking request, kmap_local
 *    as an atomic one).  kmm_fault_config(attr, spec): the boot syntax as the first
 *    word, and/or named knobs "probability=10 interval=1 times=-1 space=0
 *    verbose=1 ignore_gfp_wait=1 min_order=0 cache=NAME".
 *
 * 3. Locks
 *    None: the counters are atomics; the knobs are written by
 *    kmm_fault_config while the caller keeps allocations quiet, as writing
 *    Linux's debugfs files races harmlessly with users.
 */
#include "internal.h"

static void attr_defaults(struct kmm_fault_attr *a, const char *name)
{
	kmm_memset(a, 0, sizeof(*a));
	a->name = name;
	a->interval = 1;
	a->times = 1;
	a->verbose = 1;
	a->rnd = 0x853c49e6748fea9bUL ^ (unsigned long)(uintptr_t)name;
}

static void update_armed(void)
{
	WRITE_ONCE(kmm.fault_armed, kmm.fault_armed || kmm.fail_page_alloc.probability || kmm.failslab.probability ||
				    kmm.fail_vmalloc.probability || kmm.fail_mempool.probability ||
				    kmm.fail_kmap.probability);
}

/* PROB,INTERVAL,TIMES[,SPACE] */
int kmm_fault_parse_boot(struct kmm_fault_attr *attr, const char *spec)
{
	unsigned long v[4] = { 0, 1, 1, 0 };
	long times = 1;
	const char *p = spec;
	int n = 0;
	while (*p && n < 4) {
		const char *end;
		bool neg = false;
		if (n == 2 && *p == '-') {
			neg = true;
			p++;
		}
		if (!kmm_parse_size(p, &end, &v[n], false))
			return -KMM_EINVAL;
		if (n == 2)
			times = neg ? -(long)v[2] : (long)v[2];
		else if (neg)
			return -KMM_EINVAL;
		n++;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -KMM_EINVAL;
	}
	if (n < 3 || *p || v[0] > 100 || v[1] == 0)
		return -KMM_EINVAL;
	attr->probability = v[0];
	attr->interval = v[1];
	attr->times = times;
	attr->space = (long)v[3];
	return 0;
}

/* Called early at boot: every attribute back to its defaults, unarmed, so
 * the boot's own allocations never fail. */
void kmm_fault_reset(void)
{
	attr_defaults(&kmm.fail_page_alloc, "fail_page_alloc");
	attr_defaults(&kmm.failslab, "failslab");
	attr_defaults(&kmm.fail_vmalloc, "fail_vmalloc");
	attr_defaults(&kmm.fail_mempool, "fail_mempool");
	attr_defaults(&kmm.fail_kmap, "fail_kmap");
	/* a fail_nth set before kmm_boot (kmm_boot carries it over) makes the
	 * boot's own allocations count: the OOM loop over boot itself */
	kmm.fault_armed = kmm_thread()->fail_nth != 0;
}

/* Called when the machine is up: the boot keys take effect. */
void kmm_fault_arm_boot_keys(void)
{
	if (kmm.cfg.fail_page_alloc[0])
		kmm_fault_parse_boot(&kmm.fail_page_alloc, kmm.cfg.fail_page_alloc);
	if (kmm.cfg.failslab[0])
		kmm_fault_parse_boot(&kmm.failslab, kmm.cfg.failslab);
	if (kmm.cfg.fail_vmalloc[0])
		kmm_fault_parse_boot(&kmm.fail_vmalloc, kmm.cfg.fail_vmalloc);
	if (kmm.cfg.fail_mempool[0])
		kmm_fault_parse_boot(&kmm.fail_mempool, kmm.cfg.fail_mempool);
	if (kmm.cfg.fail_kmap[0])
		kmm_fault_parse_boot(&kmm.fail_kmap, kmm.cfg.fail_kmap);
	update_armed();
}

static struct kmm_fault_attr *attr_by_name(const char *name)
{
	if (!kmm_strcmp(name, "fail_page_alloc"))
		return &kmm.fail_page_alloc;
	if (!kmm_strcmp(name, "failslab"))
		return &kmm.failslab;
	if (!kmm_strcmp(name, "fail_vmalloc"))
		return &kmm.fail_vmalloc;
	if (!kmm_strcmp(name, "fail_mempool"))
		return &kmm.fail_mempool;
	if (!kmm_strcmp(name, "fail_kmap"))
		return &kmm.fail_kmap;
	return NULL;
}

static int parse_signed(const char *s, long *out)
{
	const char *end;
	unsigned long v;
	bool neg = *s == '-';
	if (!kmm_parse_size(s + neg, &end, &v, false) || *end)
		return -KMM_EINVAL;
	*out = neg ? -(long)v : (long)v;
	return 0;
}

static int apply_knob(struct kmm_fault_attr *a, const char *key, const char *val)
{
	long v;
	if (!kmm_strcmp(key, "cache")) {
		return kmm_strlcpy(a->cache, val, sizeof(a->cache)) < sizeof(a->cache) ? 0 : -KMM_EINVAL;
	}
	if (parse_signed(val, &v))
		return -KMM_EINVAL;
	if (!kmm_strcmp(key, "probability") && v >= 0 && v <= 100)
		a->probability = (unsigned long)v;
	else if (!kmm_strcmp(key, "interval") && v >= 1)
		a->interval = (unsigned long)v;
	else if (!kmm_strcmp(key, "times") && v >= -1)
		a->times = v;
	else if (!kmm_strcmp(key, "space") && v >= 0)
		a->space = v;
	else if (!kmm_strcmp(key, "verbose") && v >= 0)
		a->verbose = (unsigned long)v;
	else if (!kmm_strcmp(key, "ignore_gfp_wait") && (v == 0 || v == 1))
		a->ignore_gfp_wait = v;
	else if (!kmm_strcmp(key, "min_order") && v >= 0 && v <= MAX_PAGE_ORDER)
		a->min_order = (unsigned long)v;
	else
		return -KMM_EINVAL;
	return 0;
}

/*
 * kmm_fault_config - configure one fault attribute (see kmm/kmm.h).
 * The spec is applied to a copy and only a fully valid one takes effect.
 * Return: 0 or -EINVAL (with a log line naming the bad word).
 */
int kmm_fault_config(const char *attr_name, const char *spec)
{
	struct kmm_fault_attr *a = attr_name ? attr_by_name(attr_name) : NULL;
	if (!kmm.booted || !a || !spec) {
		kmm_log("kmm: fault: cannot configure '%s'%s", attr_name ? attr_name : "(null)",
			kmm.booted ? "" : " before kmm_boot");
		return -KMM_EINVAL;
	}
	struct kmm_fault_attr copy = *a;
	const char *p = spec;
	bool first = true;
	while (*p) {
		char word[96];
		size_t n = 0;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		while (*p && *p != ' ' && n < sizeof(word) - 1)
			word[n++] = *p++;
		word[n] = '\0';
		const char *eq = kmm_strchr(word, '=');
		int err;
		if (!eq && first) {
			err = kmm_fault_parse_boot(&copy, word);
		} else if (eq) {
			word[eq - word] = '\0';
			err = apply_knob(&copy, word, eq + 1);
			word[eq - word] = '=';
		} else {
			err = -KMM_EINVAL;
		}
		if (err || (*p && *p != ' ')) {
			kmm_log("kmm: fault: %s: bad setting '%s'", attr_name, word);
			return -KMM_EINVAL;
		}
		first = false;
	}
	copy.count = 0;
	copy.fired = 0;
	*a = copy;
	update_armed();
	return 0;
}

void kmm_set_fail_nth(unsigned int n)
{
	kmm_thread()->fail_nth = n;
	if (n)
		WRITE_ONCE(kmm.fault_armed, true);
}

unsigned int kmm_get_fail_nth(void)
{
	return kmm_thread()->fail_nth;
}

static bool fail_now(struct kmm_fault_attr *attr, unsigned int order, const char *cache)
{
	if (attr->verbose)
		kmm_log("kmm: fault injection: %s: forcing a failure (order %u%s%s)", attr->name, order,
			cache ? ", cache " : "", cache ? cache : "");
	__atomic_fetch_add(&attr->fired, 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * kmm_should_fail - decide whether this allocation call fails.
 * @attr: the layer's attribute; @order: page order (0 for objects);
 * @cache: the cache's name for failslab's filter, or NULL.
 */
bool kmm_should_fail(struct kmm_fault_attr *attr, gfp_t gfp, unsigned int order, const char *cache)
{
	if (gfp & __GFP_NOFAIL)
		return false;
	if (attr->ignore_gfp_wait && (gfp & __GFP_DIRECT_RECLAIM))
		return false;
	if (order < attr->min_order)
		return false;
	if (attr->cache[0] && (!cache || kmm_strcmp(cache, attr->cache)))
		return false;

	struct kmm_thread *t = kmm_thread();
	if (t->fail_nth) {
		if (--t->fail_nth == 0)
			return fail_now(attr, order, cache);
		return false;
	}
	if (!attr->probability)
		return false;
	if (attr->space > 0) {
		long size = (long)(PAGE_SIZE << order);
		if (__atomic_sub_fetch(&attr->space, size, __ATOMIC_RELAXED) >= 0)
			return false;
	}
	if (attr->interval > 1 && __atomic_add_fetch(&attr->count, 1, __ATOMIC_RELAXED) % attr->interval)
		return false;
	if (attr->probability < 100) {
		if (!t->fault_rnd)
			t->fault_rnd = attr->rnd ^ (unsigned long)(uintptr_t)t;
		unsigned long r = kmm_prng_next(&t->fault_rnd);
		if ((r >> 33) % 100 >= attr->probability)
			return false;
	}
	if (attr->times == 0)
		return false;
	if (attr->times > 0 && __atomic_sub_fetch(&attr->times, 1, __ATOMIC_RELAXED) < 0) {
		__atomic_store_n(&attr->times, 0, __ATOMIC_RELAXED);
		return false;
	}
	return fail_now(attr, order, cache);
}
