/* Window geometries and a direct index rule shared by the unfold and fold
 * suites: the reference they are checked against, written from the
 * definition (one index at a time), independent of the library's loops. */
#ifndef AGRAD_TEST_WINDOW_REF_H
#define AGRAD_TEST_WINDOW_REF_H

#include <stddef.h>
#include "agrad.h"

typedef struct win_case {
    size_t n, c, h, w;
    ag_window2d g;
} win_case;

#define WIN(kh_, kw_, sh_, sw_, ph_, pw_, dh_, dw_) \
    {.kh = kh_, .kw = kw_, .stride_h = sh_, .stride_w = sw_, .pad_h = ph_, .pad_w = pw_, \
     .dil_h = dh_, .dil_w = dw_}

/* Plain, strided with sizes that do not divide, padded and dilated,
 * non-square, 1x1, kernel larger than the image but not the padded image,
 * padding wider than the kernel (windows entirely in the padding), and 2x2
 * windows at stride 2 (pooling's fast path) with an odd width, plain and
 * padded. */
static const win_case WIN_CASES[] = {
    {1, 1, 5, 5, WIN(3, 3, 1, 1, 0, 0, 1, 1)},
    {2, 3, 7, 6, WIN(3, 2, 2, 1, 1, 0, 1, 1)},
    {1, 2, 8, 9, WIN(3, 3, 2, 3, 1, 2, 2, 1)},
    {2, 1, 5, 4, WIN(1, 1, 1, 1, 0, 0, 1, 1)},
    {1, 2, 4, 5, WIN(5, 2, 1, 2, 2, 1, 1, 2)},
    {1, 1, 3, 3, WIN(2, 2, 3, 3, 3, 3, 1, 1)},
    {2, 2, 6, 7, WIN(2, 3, 0, 0, 1, 1, 0, 0)}, /* zero stride and dilation mean 1 */
    {2, 3, 7, 9, WIN(2, 2, 2, 2, 0, 0, 1, 1)},
    {1, 2, 6, 5, WIN(2, 2, 2, 2, 1, 1, 1, 1)},
};
#define N_WIN_CASES (sizeof WIN_CASES / sizeof WIN_CASES[0])

static inline size_t one(size_t v) { return v ? v : 1; }

static inline size_t win_out(size_t n, size_t k, size_t s, size_t p, size_t d)
{
    return (n + 2 * p - one(d) * (k - 1) - 1) / one(s) + 1;
}

static inline void win_out_hw(const win_case *k, size_t *oh, size_t *ow)
{
    *oh = win_out(k->h, k->g.kh, k->g.stride_h, k->g.pad_h, k->g.dil_h);
    *ow = win_out(k->w, k->g.kw, k->g.stride_w, k->g.pad_w, k->g.dil_w);
}

/* Flat index into x [n, c, h, w] read by column entry (b, r, l) of the
 * unfolded [n, c*kh*kw, oh*ow], or -1 where it falls in the padding. */
static inline long win_src(const win_case *k, size_t b, size_t r, size_t l)
{
    size_t oh, ow;
    win_out_hw(k, &oh, &ow);
    size_t ch = r / (k->g.kh * k->g.kw), i = r / k->g.kw % k->g.kh, j = r % k->g.kw;
    long y = (long)((l / ow) * one(k->g.stride_h) + i * one(k->g.dil_h)) - (long)k->g.pad_h;
    long x = (long)((l % ow) * one(k->g.stride_w) + j * one(k->g.dil_w)) - (long)k->g.pad_w;
    if (y < 0 || x < 0 || y >= (long)k->h || x >= (long)k->w)
        return -1;
    return (long)(((b * k->c + ch) * k->h + (size_t)y) * k->w + (size_t)x);
}

#ifdef TOL
/* <unfold(x), c> = <x, fold(c)> for x [n, c, h, w] on tape t, c random
 * (seeded), with x's window wc (zero padding): the fold is the adjoint. */
static inline void assert_fold_adjoint(ag_tape *t, ag_tensor *x, const win_case *wc, unsigned seed,
                                       size_t k)
{
    ag_tensor *u = ag_unfold(t, x, &wc->g);
    ag_tensor *c = ag_tensor_new(t, ag_shape(u), ag_ndim(u));
    fill_uniform(ag_data(c), ag_numel(c), -1, 1, seed);
    ag_tensor *f = ag_fold(t, c, wc->h, wc->w, &wc->g);
    double lhs = ag_data(ag_sum_all(t, ag_mul(t, u, c)))[0];
    double rhs = ag_data(ag_sum_all(t, ag_mul(t, x, f)))[0];
    cr_assert(fabs(lhs - rhs) <= 1e3 * TOL * (1 + fabs(lhs)), "case %zu: %g vs %g", k, lhs, rhs);
}
#endif

#endif
