#include <stdlib.h>
#include "common.h"
#include "ops/window_ref.h"

Test(unfold, forward_3x3_kernel_2x2)
{
    ag_tape *t = ag_tape_new();
    ag_real x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ag_window2d g = {.kh = 2, .kw = 2};
    ag_tensor *y = ag_unfold(t, ag_tensor_wrap(t, x, AG_SHAPE(1, 1, 3, 3)), &g);
    cr_assert_eq(ag_ndim(y), 3);
    cr_assert_eq(ag_dim(y, 1), 4);
    cr_assert_eq(ag_dim(y, 2), 4);
    /* row = kernel tap (0,0), (0,1), (1,0), (1,1); column = window position */
    assert_close(ag_data(y), (double[]){1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9}, 16, TOL);
    ag_tape_free(t);
}

Test(unfold, forward_padding_value_and_stride)
{
    ag_tape *t = ag_tape_new();
    ag_real x[4] = {1, 2, 3, 4};
    /* 2x2 image, 2x2 kernel, stride 2, padding 1 of value -5: four windows,
     * each holding one pixel in the corner nearest the image */
    ag_window2d g = {.kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1,
                     .pad_value = -5};
    ag_tensor *y = ag_unfold(t, ag_tensor_wrap(t, x, AG_SHAPE(1, 1, 2, 2)), &g);
    cr_assert_eq(ag_dim(y, 2), 4);
    assert_close(ag_data(y),
                 (double[]){-5, -5, -5, 4, -5, -5, 3, -5, -5, 2, -5, -5, 1, -5, -5, -5}, 16, TOL);
    ag_tape_free(t);
}

Test(unfold, forward_matches_direct_loop)
{
    for (size_t k = 0; k < N_WIN_CASES; k++) {
        const win_case *wc = &WIN_CASES[k];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(wc->n, wc->c, wc->h, wc->w));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 100 + (unsigned)k);
        ag_window2d g = wc->g;
        g.pad_value = (ag_real)(k % 2 ? -INFINITY : 0.25);
        ag_tensor *y = ag_unfold(t, x, &g);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", k, ag_tape_errmsg(t));
        size_t oh, ow;
        win_out_hw(wc, &oh, &ow);
        size_t rows = wc->c * wc->g.kh * wc->g.kw, L = oh * ow;
        cr_assert_eq(ag_dim(y, 0), wc->n);
        cr_assert_eq(ag_dim(y, 1), rows);
        cr_assert_eq(ag_dim(y, 2), L, "case %zu: L %zu, want %zu", k, ag_dim(y, 2), L);
        size_t oh2, ow2;
        cr_assert_eq(ag_window2d_out(&g, wc->h, wc->w, &oh2, &ow2), 0);
        cr_assert(oh2 == oh && ow2 == ow);
        const ag_real *yd = ag_data(y), *xd = ag_data(x);
        for (size_t b = 0; b < wc->n; b++)
            for (size_t r = 0; r < rows; r++)
                for (size_t l = 0; l < L; l++) {
                    long s = win_src(wc, b, r, l);
                    ag_real want = s < 0 ? g.pad_value : xd[s];
                    cr_assert(yd[(b * rows + r) * L + l] == want,
                              "case %zu: y[%zu,%zu,%zu] = %g, want %g", k, b, r, l,
                              (double)yd[(b * rows + r) * L + l], (double)want);
                }
        ag_tape_free(t);
    }
}

static ag_tensor *P[1];
static ag_real R[4096];
static const win_case *CASE;

/* A weighted sum with fixed random weights: each pixel's gradient is the sum
 * of the weights of the column entries copied from it. */
static ag_tensor *f_unfold(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_window2d g = CASE->g;
    g.pad_value = (ag_real)0.5;
    ag_tensor *y = ag_unfold(t, P[0], &g);
    cr_assert_leq(ag_numel(y), sizeof R / sizeof R[0]);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

Test(unfold, gradcheck_geometries)
{
    fill_uniform(R, sizeof R / sizeof R[0], -1, 1, 7);
    for (size_t k = 0; k < N_WIN_CASES; k++) {
        CASE = &WIN_CASES[k];
        P[0] = param_rand(AG_SHAPE(CASE->n, CASE->c, CASE->h, CASE->w), -1, 1, 30 + (unsigned)k);
        GRADCHECK(f_unfold, NULL, P, 1);
        ag_param_free(P[0]);
    }
}

Test(unfold, errors)
{
    ag_tape *t = ag_tape_new();
    ag_window2d g = {.kh = 3, .kw = 3};
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 5, 5)), &g);
    assert_tape_error(t, AG_EINVAL, "ag_unfold (node 0): input must be NCHW (4 dims): x[1,5,5]");
    ag_tape_reset(t);
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(2, 1, 2, 4)), &g);
    assert_tape_error(t, AG_EINVAL,
                      "kernel 3x3 (dilation 1x1) is larger than the input 2x4 with padding 0x0: "
                      "x[2,1,2,4]");
    ag_tape_reset(t);
    g.dil_w = 3; /* effective width 7 > 5 + 2*0 */
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)), &g);
    assert_tape_error(t, AG_EINVAL, "dilation 1x3");
    ag_tape_reset(t);
    g.pad_w = 1; /* 5 + 2 = 7 fits */
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)), &g);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)), &(ag_window2d){.kh = 0, .kw = 2});
    assert_tape_error(t, AG_EINVAL, "kernel size 0x2 is empty or too large");
    ag_tape_reset(t);
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)),
              &(ag_window2d){.kh = 1, .kw = 1, .stride_w = SIZE_MAX});
    assert_tape_error(t, AG_EINVAL, "stride, padding, dilation or image size beyond");
    ag_tape_reset(t);
    ag_unfold(t, ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)), NULL);
    assert_tape_error(t, AG_EINVAL, "kernel size 0x0");
    cr_assert_eq(ag_window2d_out(&g, 1, 1, NULL, NULL), -1);
    cr_assert_eq(ag_window2d_out(NULL, 5, 5, NULL, NULL), -1);
    ag_tape_free(t);
}

/* Images are split among threads: the result must not depend on how many. */
/* Images whose padded plane is too large for the stack copy (72 x 72 with
 * padding 1; 4096 values is the limit) take the general loops: unfold
 * against the direct rule, fold through <unfold(x), c> = <x, fold(c)>. */
Test(unfold, large_padded_image_general_path)
{
    static const win_case cases[] = {
        {1, 2, 70, 70, WIN(3, 3, 1, 1, 1, 1, 1, 1)},
        {1, 1, 70, 71, WIN(2, 3, 2, 1, 1, 2, 1, 2)},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const win_case *wc = &cases[k];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(wc->n, wc->c, wc->h, wc->w));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 500 + (unsigned)k);
        ag_window2d g = wc->g;
        g.pad_value = (ag_real)-2;
        ag_tensor *y = ag_unfold(t, x, &g);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", k, ag_tape_errmsg(t));
        size_t rows = ag_dim(y, 1), L = ag_dim(y, 2);
        const ag_real *yd = ag_data(y), *xd = ag_data(x);
        for (size_t r = 0; r < rows; r++)
            for (size_t l = 0; l < L; l++) {
                long s = win_src(wc, 0, r, l);
                ag_real want = s < 0 ? g.pad_value : xd[s];
                cr_assert(yd[r * L + l] == want, "case %zu: y[%zu,%zu] = %g, want %g", k, r, l,
                          (double)yd[r * L + l], (double)want);
            }
        assert_fold_adjoint(t, x, wc, 600 + (unsigned)k, k);
        ag_tape_free(t);
    }
}

Test(unfold, same_bits_for_any_thread_count)
{
    ag_window2d g = {.kh = 3, .kw = 3, .stride_h = 2, .pad_h = 1, .pad_w = 1};
    ag_real *res[2][2];
    for (int k = 0; k < 2; k++) {
        ag_set_threads(k + 1);
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(8, 4, 32, 31));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 77);
        ag_tensor *u = ag_unfold(t, x, &g);
        ag_tensor *f = ag_fold(t, u, 32, 31, &g);
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
        res[k][0] = malloc(ag_numel(u) * sizeof(ag_real));
        res[k][1] = malloc(ag_numel(f) * sizeof(ag_real));
        memcpy(res[k][0], ag_data(u), ag_numel(u) * sizeof(ag_real));
        memcpy(res[k][1], ag_data(f), ag_numel(f) * sizeof(ag_real));
        if (k) {
            cr_assert_eq(memcmp(res[0][0], res[1][0], ag_numel(u) * sizeof(ag_real)), 0);
            cr_assert_eq(memcmp(res[0][1], res[1][1], ag_numel(f) * sizeof(ag_real)), 0);
        }
        ag_tape_free(t);
    }
    ag_set_threads(0);
    for (int k = 0; k < 2; k++) free(res[k][0]), free(res[k][1]);
}
