#include "common.h"
#include "ops/window_ref.h"

Test(fold, forward_counts_overlaps)
{
    /* fold(unfold(ones)) counts the windows that cover each pixel */
    ag_tape *t = ag_tape_new();
    ag_real ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ag_window2d g = {.kh = 2, .kw = 2};
    ag_tensor *cols = ag_unfold(t, ag_tensor_wrap(t, ones, AG_SHAPE(1, 1, 3, 3)), &g);
    ag_tensor *y = ag_fold(t, cols, 3, 3, &g);
    cr_assert_eq(ag_ndim(y), 4);
    assert_close(ag_data(y), (double[]){1, 2, 1, 2, 4, 2, 1, 2, 1}, 9, TOL);
    /* stride 2, padding 1 over 3x3: the windows tile the padded 4x4 image,
     * so every pixel receives exactly one entry and the padding drops 7 */
    ag_window2d g2 = {.kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
    ag_real c16[16];
    for (int i = 0; i < 16; i++) c16[i] = (ag_real)(i + 1);
    ag_tensor *y2 = ag_fold(t, ag_tensor_wrap(t, c16, AG_SHAPE(1, 4, 4)), 3, 3, &g2);
    /* entry (tap (i,j), window (oy,ox)) = 4(2i+j) + 2oy+ox + 1 lands on pixel
     * (2oy+i-1, 2ox+j-1): pixel (0,0) is tap (1,1) of window (0,0), i.e. 13 */
    assert_close(ag_data(y2), (double[]){13, 10, 14, 7, 4, 8, 15, 12, 16}, 9, TOL);
    ag_tape_free(t);
}

Test(fold, forward_matches_direct_loop)
{
    for (size_t k = 0; k < N_WIN_CASES; k++) {
        const win_case *wc = &WIN_CASES[k];
        size_t oh, ow;
        win_out_hw(wc, &oh, &ow);
        size_t rows = wc->c * wc->g.kh * wc->g.kw, L = oh * ow;
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(wc->n, rows, L));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 200 + (unsigned)k);
        ag_tensor *y = ag_fold(t, x, wc->h, wc->w, &wc->g);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", k, ag_tape_errmsg(t));
        cr_assert_eq(ag_dim(y, 1), wc->c);
        cr_assert_eq(ag_numel(y), wc->n * wc->c * wc->h * wc->w);
        double want[1024] = {0};
        cr_assert_leq(ag_numel(y), 1024);
        const ag_real *xd = ag_data(x);
        for (size_t b = 0; b < wc->n; b++)
            for (size_t r = 0; r < rows; r++)
                for (size_t l = 0; l < L; l++) {
                    long s = win_src(wc, b, r, l);
                    if (s >= 0)
                        want[s] += xd[(b * rows + r) * L + l];
                }
        assert_close(ag_data(y), want, ag_numel(y), TOL);
        ag_tape_free(t);
    }
}

Test(fold, adjoint_of_unfold)
{
    /* <unfold(x), c> = <x, fold(c)> for any x and c */
    for (size_t k = 0; k < N_WIN_CASES; k++) {
        const win_case *wc = &WIN_CASES[k];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(wc->n, wc->c, wc->h, wc->w));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 300 + (unsigned)k);
        assert_fold_adjoint(t, x, wc, 400 + (unsigned)k, k);
        ag_tape_free(t);
    }
}

static ag_tensor *P[1];
static ag_real R[1024];
static const win_case *CASE;

static ag_tensor *f_fold(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_fold(t, P[0], CASE->h, CASE->w, &CASE->g);
    cr_assert_leq(ag_numel(y), sizeof R / sizeof R[0]);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

Test(fold, gradcheck_geometries)
{
    fill_uniform(R, sizeof R / sizeof R[0], -1, 1, 9);
    for (size_t k = 0; k < N_WIN_CASES; k++) {
        CASE = &WIN_CASES[k];
        size_t oh, ow;
        win_out_hw(CASE, &oh, &ow);
        P[0] = param_rand(AG_SHAPE(CASE->n, CASE->c * CASE->g.kh * CASE->g.kw, oh * ow), -0.5,
                          0.5, 50 + (unsigned)k);
        GRADCHECK(f_fold, NULL, P, 1);
        ag_param_free(P[0]);
    }
}

Test(fold, errors)
{
    ag_tape *t = ag_tape_new();
    ag_window2d g = {.kh = 2, .kw = 2};
    ag_fold(t, ag_tensor_new(t, AG_SHAPE(4, 9)), 3, 3, &g);
    assert_tape_error(t, AG_EINVAL, "ag_fold (node 0): columns must be [N, C*kh*kw, L] (3 dims): x[4,9]");
    ag_tape_reset(t);
    ag_fold(t, ag_tensor_new(t, AG_SHAPE(1, 4, 5)), 3, 3, &g);
    assert_tape_error(t, AG_EINVAL,
                      "columns x[1,4,5] do not match a 2x2 kernel over a 3x3 image (want [N, C*4, 4])");
    ag_tape_reset(t);
    ag_fold(t, ag_tensor_new(t, AG_SHAPE(1, 6, 4)), 3, 3, &g);
    assert_tape_error(t, AG_EINVAL, "columns x[1,6,4] do not match");
    ag_tape_reset(t);
    ag_fold(t, ag_tensor_new(t, AG_SHAPE(1, 4, 1)), 1, 3, &g);
    assert_tape_error(t, AG_EINVAL, "larger than the input 1x3");
    ag_tape_free(t);
}
