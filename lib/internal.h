/* Internal declarations shared by the library's files (names: agi_). */
#ifndef AGRAD_INTERNAL_H
#define AGRAD_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "agrad.h"

enum {
    AGI_PARAM = 1,   /* made by ag_param_new, owns data and grad */
    AGI_REQGRAD = 2, /* gradients flow to it */
    AGI_POISON = 4,  /* returned by a failed op */
    AGI_WRAPPED = 8, /* data borrowed from the caller */
    AGI_GRAD_ZERO = 16 /* a parameter's gradient reads as zero: zeroed by
                          ag_param_zero_grad() and not written since (the
                          buffer may hold old values; agi_param_grad_ready) */
};

typedef struct agi_node agi_node;

struct ag_tensor {
    ag_real *data;
    ag_real *grad;
    size_t shape[AG_MAX_DIMS];
    size_t numel;
    ag_tape *tape;   /* owning tape; NULL for parameters */
    agi_node *node;  /* producing node, NULL for leaves and unrecorded outputs
                        (for a view: its base's, if gradients flow) */
    ag_tensor *base; /* a view's underlying tensor, else NULL */
    uint32_t gen;    /* tape generation at creation */
    uint8_t ndim;
    uint8_t flags;
};

struct agi_node {
    const ag_op_def *op;
    agi_node *prev;  /* previous node: backward walks this list */
    ag_tensor *out;
    ag_tensor **in;
    const void *attr;
    void *saved;
    size_t index;
    int n_in;
    int live;  /* reached by the current backward sweep */
    int fresh; /* out->grad not written yet this sweep: its contents are
                  garbage, zeroed on first use (agi_grad_ready) unless the
                  first writer stores (ag_in_grad_first) */
};

struct ag_opctx {
    ag_tape *t;
    const ag_op_def *op;
    ag_tensor *const *in;
    ag_tensor *out;
    const void *attr;
    void *saved;
    size_t index;
    int n_in;
    int failed;
};

/* Chunked bump arena. Chunks stay in a list in the order they were made;
 * reset() rewinds to the first one and later steps walk the same chunks
 * again, so a step no bigger than one already seen makes no system
 * allocation, not even at the first reset. */
typedef struct agi_chunk agi_chunk;
typedef struct agi_arena {
    agi_chunk *first; /* oldest chunk */
    agi_chunk *cur;   /* chunk being filled */
    char *ptr, *end;  /* its free bytes */
    size_t total;     /* bytes held in all chunks */
} agi_arena;

/* The next chunk (or a new one) when the current one is full. */
void *agi_arena_next(agi_arena *a, size_t bytes, size_t align);

/* bytes > 0 at a multiple of align (a power of two, at most 64). Every op
 * allocates once, so the common case is inline. */
static inline void *agi_arena_alloc(agi_arena *a, size_t bytes, size_t align)
{
    uintptr_t p = ((uintptr_t)a->ptr + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t end = (uintptr_t)a->end;
    if (p <= end && bytes <= end - p && a->end) {
        a->ptr = (char *)p + bytes;
        return (void *)p;
    }
    return agi_arena_next(a, bytes, align);
}

void agi_arena_reset(agi_arena *a);
void agi_arena_free(agi_arena *a);

struct ag_tape {
    agi_arena arena;
    agi_node *last;      /* most recent node */
    size_t n_nodes;      /* recorded nodes */
    size_t n_ops;        /* ops applied (numbers nodes in messages) */
    int status;
    int recording;
    int anomaly;
    int swept;           /* a backward sweep ran since the last reset */
    struct agi_profile *prof; /* per-op timings, NULL unless profiling */
    int prof_env;        /* profiling turned on by AGRAD_PROFILE: report at free */
    uint32_t gen;
    uint64_t rng;        /* random stream state */
    ag_tensor poison;
    ag_real poison_data[1];
    char errmsg[256];
};

/* Per-op timings of a tape (ag_tape_set_profile): one entry per op
 * definition seen, kept across resets. */
#define AGI_PROFILE_OPS 64
typedef struct agi_profile_entry {
    const ag_op_def *op;
    uint64_t calls, vjps;
    uint64_t fwd_ns, vjp_ns;
} agi_profile_entry;
typedef struct agi_profile {
    int n;
    agi_profile_entry e[AGI_PROFILE_OPS];
} agi_profile;

/* ag_apply_view() for a view of a contiguous block of input 0 starting at
 * element off, with as many elements as the shape rule gives (ag_slice
 * along a leading axis). */
ag_tensor *agi_apply_view_at(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                             const void *attr, size_t attr_size, size_t off);

/* CLOCK_MONOTONIC in nanoseconds (the profiler, the pool's spin budget). */
uint64_t agi_now_ns(void);

/* Allocation through the injectable allocator. */
void *agi_alloc(size_t n);
void agi_free(void *p, size_t n);

/* Before the definition of a hot elementwise loop (the kernels of the
 * elementwise ops, bias sums, optimizer updates): the compiler builds it
 * for x86-64-v4 (AVX-512), x86-64-v3 (AVX2) and the baseline, and the
 * loader picks one by CPU, where meson found the toolchain able
 * (AGI_HAVE_CLONES). Unlike the GEMM and vector-math kernels, these copies
 * are not chosen by AGRAD_KERNEL: they do the same IEEE operations per
 * element (C11 mode does not contract a * b + c into an FMA, and no loop so
 * marked reorders a sum), so every copy gives the same bits. */
#if AGI_HAVE_CLONES
#define AGI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AGI_CLONES
#endif

/* Every error passes through here (a place for a breakpoint). t may be NULL:
 * the message then goes to the thread's ag_last_errmsg(). Returns code. */
int agi_fail(ag_tape *t, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int agi_vfail(ag_tape *t, int code, const char *fmt, va_list ap);

/* Status of the last error raised without a tape in this thread (the code
 * that goes with ag_last_errmsg()), AG_OK if none: lets a constructor pass
 * on why ag_param_new() returned NULL. */
int agi_last_status(void);

/* A poisoned tensor for a NULL tape. */
ag_tensor *agi_global_poison(void);

/* Product of sizes; 0 and sets *overflow on size_t overflow. */
size_t agi_numel(const size_t *shape, int ndim, int *overflow);

/* splitmix64 step, used by tape streams and initialisers. */
uint64_t agi_splitmix64(uint64_t *state);

/* Zero node n's output gradient if it is still fresh (not written this
 * sweep); n may be NULL. */
void agi_grad_ready(agi_node *n);

/* The same for a parameter, or a view of one: zero its gradient if
 * ag_param_zero_grad() left it to be zeroed on first use (AGI_GRAD_ZERO).
 * Out of line and rarely taken: the VJPs that inline the accessors stay
 * as small as before for tape tensors. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
void agi_param_grad_ready(const ag_tensor *x);

/* Either of the two for any tensor whose gradient is about to be read or
 * added to: its producing node's, or its parameter's. */
static inline void agi_tensor_grad_ready(const ag_tensor *x)
{
    if (x->node)
        agi_grad_ready(x->node);
    else
        agi_param_grad_ready(x);
}

/* Thread pool (lib/threads.c). Calls fn(ctx, lo, hi) on contiguous chunks
 * that cover [0, n) exactly once, each at least min_chunk long (so small
 * loops stay on the calling thread), some on worker threads; returns when
 * all are done. The chunk bounds depend only on n, min_chunk and the thread
 * count, not on which thread runs a chunk. Runs serially when called from
 * inside a parallel region or while another thread holds the pool. fn must
 * not depend on how [0, n) is split for its results to be independent of
 * the thread count. */
typedef void agi_task_fn(void *ctx, size_t lo, size_t hi);
void agi_parallel_for(size_t n, size_t min_chunk, agi_task_fn *fn, void *ctx);

#endif
