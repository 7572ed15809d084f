/*
 * cxx.c - C++ operator new and delete for libkmm-malloc.so, written in C
 * under their Itanium C++ ABI names (x86-64 and every LP64 target:
 * size_t mangles as 'm'), so the shim builds with a C compiler alone.
 *
 * 1. Overview
 *    Every replaceable global allocation function of C++17: new / new[]
 *    (plain, nothrow, aligned, aligned nothrow) and delete / delete[]
 *    (plain, nothrow, sized, aligned, sized aligned, aligned nothrow).
 *    new follows [new.delete.single]: on failure it calls the installed
 *    new_handler and retries, and throws std::bad_alloc when there is
 *    none.  The handler and the throw come from libstdc++ through weak
 *    references: a C++ program has libstdc++ loaded, so they resolve; a
 *    C program never calls these operators.  (Without libstdc++ a failed
 *    new ends the process with a message instead of throwing.)
 *    Sized delete checks the size against the block (malloc.c:
 *    "size mismatch" when its class is not the block's).
 *
 * 2. Limits
 *    The nothrow forms return NULL when allocation fails and no handler is
 *    installed; a handler that throws propagates through them (C code
 *    cannot catch), where libstdc++'s own nothrow new would return NULL.
 *
 * 3. Locks: none here.
 */
#include <stddef.h>
#include <unistd.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

typedef void (*new_handler_t)(void);
/* std::get_new_handler(), std::__throw_bad_alloc() from libstdc++ */
extern new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static _Noreturn void throw_bad_alloc(void)
{
	static const char msg[] = "kmm: out of memory: operator new failed and libstdc++ is not loaded to throw std::bad_alloc\n";
	if (_ZSt17__throw_bad_allocv)
		_ZSt17__throw_bad_allocv();
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(134);
}

/* new's loop: allocate, else run the new_handler and try again, else fail
 * (throw, or NULL for the nothrow forms). */
static void *op_new(size_t size, size_t align, int nothrow)
{
	for (;;) {
		void *p = align ? kmm_shim_memalign(align, size) : kmm_shim_malloc(size);
		if (__builtin_expect(p != NULL, 1))
			return p;
		new_handler_t h = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
		if (!h) {
			if (nothrow)
				return NULL;
			throw_bad_alloc();
		}
		h();
	}
}

/* std::align_val_t is an enum class of size_t: passed as a size_t */
typedef size_t align_val_t;
/* const std::nothrow_t & */
typedef const void *nothrow_ref;

EXPORT void *_Znwm(size_t size) { return op_new(size, 0, 0); }
EXPORT void *_Znam(size_t size) { return op_new(size, 0, 0); }
EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, nothrow_ref nt) { (void)nt; return op_new(size, 0, 1); }
EXPORT void *_ZnamRKSt9nothrow_t(size_t size, nothrow_ref nt) { (void)nt; return op_new(size, 0, 1); }
EXPORT void *_ZnwmSt11align_val_t(size_t size, align_val_t al) { return op_new(size, al, 0); }
EXPORT void *_ZnamSt11align_val_t(size_t size, align_val_t al) { return op_new(size, al, 0); }
EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, align_val_t al, nothrow_ref nt)
{
	(void)nt;
	return op_new(size, al, 1);
}
EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, align_val_t al, nothrow_ref nt)
{
	(void)nt;
	return op_new(size, al, 1);
}

EXPORT void _ZdlPv(void *p) { kmm_shim_free(p); }
EXPORT void _ZdaPv(void *p) { kmm_shim_free(p); }
EXPORT void _ZdlPvRKSt9nothrow_t(void *p, nothrow_ref nt) { (void)nt; kmm_shim_free(p); }
EXPORT void _ZdaPvRKSt9nothrow_t(void *p, nothrow_ref nt) { (void)nt; kmm_shim_free(p); }
EXPORT void _ZdlPvm(void *p, size_t size) { kmm_shim_sized_free(p, size, 0, "operator delete"); }
EXPORT void _ZdaPvm(void *p, size_t size) { kmm_shim_sized_free(p, size, 0, "operator delete[]"); }
EXPORT void _ZdlPvSt11align_val_t(void *p, align_val_t al) { (void)al; kmm_shim_free(p); }
EXPORT void _ZdaPvSt11align_val_t(void *p, align_val_t al) { (void)al; kmm_shim_free(p); }
EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, align_val_t al)
{
	kmm_shim_sized_free(p, size, al, "operator delete");
}
EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, align_val_t al)
{
	kmm_shim_sized_free(p, size, al, "operator delete[]");
}
EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, align_val_t al, nothrow_ref nt)
{
	(void)al;
	(void)nt;
	kmm_shim_free(p);
}
EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, align_val_t al, nothrow_ref nt)
{
	(void)al;
	(void)nt;
	kmm_shim_free(p);
}
