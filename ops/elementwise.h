/* Helpers shared by the elementwise ops (internal; names agi_). */
#ifndef AGRAD_OPS_ELEMENTWISE_H
#define AGRAD_OPS_ELEMENTWISE_H

#include <math.h>
#include "internal.h"
#include "util.h"

/* libm in the build's precision: float functions (sqrtf...) in the float
 * build, so no element takes a detour through double. exp, log, log1p,
 * tanh, sigmoid and softplus use the vector kernels of kernels/vmath.h. */
#if AG_REAL_IS_DOUBLE
#define AGI_LIBM(fn) fn
#else
#define AGI_LIBM(fn) fn##f
#endif
static inline ag_real agi_sqrt(ag_real x) { return AGI_LIBM(sqrt)(x); }
static inline ag_real agi_pow(ag_real x, ag_real p) { return AGI_LIBM(pow)(x, p); }
static inline ag_real agi_fabs(ag_real x) { return AGI_LIBM(fabs)(x); }

/* max(v, m) where a NaN in either wins (max, log_softmax); written as a
 * select on both comparisons (not ||) so that loops of it vectorise. */
static inline ag_real agi_max_nan(ag_real v, ag_real m)
{
    return ((v > m) | (v != v)) ? v : m;
}

/* Kernels of a broadcasting binary op, on contiguous arrays of n elements
 * (the broadcasting is done by the callers below):
 *   agi_bin_fwd:  y[i] = f(a[i], b[i])
 *   agi_bin_grad: g[i] += gy[i] * (d f / d a or b)(a[i], b[i])   (accumulate)
 *                 or, with store (the first write, ag_in_grad_first), g[i] = ... */
typedef void (*agi_bin_grad)(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b,
                             ag_real *g, int store);
typedef void (*agi_bin_fwd)(size_t n, const ag_real *a, const ag_real *b, ag_real *y);

/* The body of an agi_bin_grad kernel: g[i] = expr or g[i] += expr for
 * i < n, expr written in terms of i. Two loops, so that each vectorises. */
#define AGI_GRAD_LOOP(n, g, store, expr)                              \
    do {                                                              \
        if (store)                                                    \
            for (size_t i = 0; i < (n); i++) (g)[i] = (expr);         \
        else                                                          \
            for (size_t i = 0; i < (n); i++) (g)[i] += (expr);        \
    } while (0)

/* k(n, a, b, y) over n elements (b may be NULL for a unary kernel), or
 * g(n, gy, a, b, gx) likewise: split over the thread pool in spans of at
 * least AGI_ELEM_SPAN elements. Each element is computed alone, so the
 * result does not depend on the split; short arrays stay on this thread.
 * With first (from ag_in_grad_first), gx holds garbage and the kernel
 * stores. 8192 floats took about 0.7 us for a ReLU: split at 2 threads,
 * each thread writes the half of a [64, 256] activation it will read again
 * (2-vCPU Zen 4, 2 threads, paired runs: W-MLP 2167-2225 -> 2281-2306
 * steps/s with the pool's per-thread blocks, W-LSTM 164-171 -> 178-185;
 * the spans were 32768 before). Once the pool's regions cost 0.2-0.4 us,
 * 2048 (Zen 5, 2 threads, two rounds of `bench_models --threads 2`,
 * steps/s, spans of 8192 -> 2048): W-GRU 460 -> 515-523, W-LSTM 382 ->
 * 413-419, W-RNN 1978 -> 2024-2063, W-MLP and W-CNN equal. */
#define AGI_ELEM_SPAN 2048
void agi_map(size_t n, agi_bin_fwd k, const ag_real *a, const ag_real *b, ag_real *y);
void agi_map_grad(size_t n, agi_bin_grad g, const ag_real *gy, const ag_real *a,
                  const ag_real *b, ag_real *gx, int first);

/* `forward` of a unary op: y = f(x) over its input, split like agi_map. */
typedef void agi_unary_fwd(size_t n, const ag_real *x, ag_real *y);
void agi_unary_forward(ag_opctx *c, agi_unary_fwd *f);

/* `vjp` of a unary op from its derivative kernel d(n, gy, v, NULL, gx):
 * v is the op's output (from_output, e.g. tanh: 1 - y^2) or its input
 * (relu). Stores on the first write into gx. */
void agi_unary_vjp(ag_opctx *c, agi_bin_grad d, int from_output);

/* `forward` of a binary op from its kernel. Same shapes: one call over the
 * whole arrays. Broadcast: the operands of each run are gathered into short
 * contiguous blocks first, so the kernel stays a plain loop. */
void agi_binary_forward(ag_opctx *c, agi_bin_fwd f);

/* `vjp` of a binary op from its two derivative kernels (da for input 0, db
 * for input 1): g_i += unbroadcast(gy * d y / d in_i). */
void agi_binary_vjp(ag_opctx *c, agi_bin_grad da, agi_bin_grad db);

#endif
