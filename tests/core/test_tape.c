#include <signal.h>
#include <stdlib.h>
#include "common.h"

/* Counting allocator: counts calls that allocate (n > 0 and p == NULL or resize). */
static size_t n_allocs;
static void *counting(void *ud, void *p, size_t old, size_t n)
{
    (void)ud;
    (void)old;
    if (n == 0) {
        free(p);
        return NULL;
    }
    n_allocs++;
    return realloc(p, n);
}

static ag_tensor *step(ag_tape *t, ag_tensor *w, ag_tensor *b, ag_real *xs)
{
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(64, 32));
    ag_tensor *h = ag_tanh(t, ag_add(t, ag_matmul_t(t, x, w, 0, 1), b));
    return ag_mean_all(t, ag_mul(t, h, h));
}

Test(tape, no_allocation_after_first_step)
{
    ag_set_allocator(counting, NULL);
    static ag_real xs[64 * 32];
    fill_uniform(xs, 64 * 32, -1, 1, 3);
    ag_tensor *w = param_rand(AG_SHAPE(16, 32), -0.3, 0.3, 1);
    ag_tensor *b = param_rand(AG_SHAPE(16), -0.3, 0.3, 2);
    ag_tape *t = ag_tape_new();
    size_t per_step[5];
    for (int s = 0; s < 5; s++) {
        size_t before = n_allocs;
        ag_tape_reset(t);
        /* A growing graph in step 0 only would hide a leak; same graph every step. */
        for (int k = 0; k < 40; k++) {
            ag_tensor *l = step(t, w, b, xs);
            cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        }
        per_step[s] = n_allocs - before;
    }
    cr_assert_gt(per_step[0], 0, "the first step must allocate its arena");
    for (int s = 1; s < 5; s++)
        cr_assert_eq(per_step[s], 0, "step %d made %zu allocations", s, per_step[s]);
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(b);
    ag_set_allocator(NULL, NULL);
}

/* Many small blocks fill the first chunks; a block larger than any chunk
 * passes over the free ones to a new chunk, and the blocks before it keep
 * their values. From the second step on, the same sequence fits in the
 * chunks already held. */
Test(tape, arena_large_block_after_small_ones)
{
    ag_set_allocator(counting, NULL);
    enum { SMALL = 3000, BIG = 400000 };
    ag_tensor *w = param_rand(AG_SHAPE(4), -1, 1, 11);
    ag_tape *t = ag_tape_new();
    size_t per_step[4];
    for (int s = 0; s < 4; s++) {
        size_t before = n_allocs;
        ag_tape_reset(t);
        ag_tensor *h = w, *early = NULL;
        for (int k = 0; k < SMALL; k++) {
            h = ag_add_scalar(t, h, 1);
            if (k == 10)
                early = h;
        }
        ag_tensor *big = ag_tensor_new(t, AG_SHAPE(BIG));
        cr_assert_not_null(big);
        for (size_t i = 0; i < BIG; i++) ag_data(big)[i] = (ag_real)(i % 7);
        ag_tensor *after = ag_add_scalar(t, h, 1);
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
        for (int i = 0; i < 4; i++) {
            cr_assert_float_eq(ag_data(early)[i], ag_data(w)[i] + 11, 1e-4);
            cr_assert_float_eq(ag_data(after)[i], ag_data(w)[i] + SMALL + 1, 1e-3);
        }
        for (size_t i = 0; i < BIG; i += 997) cr_assert_eq(ag_data(big)[i], (ag_real)(i % 7));
        cr_assert_eq(ag_backward(t, ag_sum_all(t, after)), AG_OK, "%s", ag_tape_errmsg(t));
        for (int i = 0; i < 4; i++) cr_assert_float_eq(ag_grad(w)[i], (ag_real)(s + 1), 1e-6);
        per_step[s] = n_allocs - before;
    }
    cr_assert_gt(per_step[0], 1, "the first step must take several chunks");
    for (int s = 1; s < 4; s++)
        cr_assert_eq(per_step[s], 0, "step %d made %zu allocations", s, per_step[s]);
    ag_tape_free(t);
    ag_param_free(w);
    ag_set_allocator(NULL, NULL);
}

/* ag_param_zero_grad() only marks the gradient: the first VJP to write all
 * of it stores, anything else zeroes it first. Old values in the buffer
 * must never show: not after a sweep that sends the parameter nothing, not
 * outside a slice that is written, not under a second contribution. */
Test(tape, lazily_zeroed_parameter_gradients)
{
    ag_tensor *w = param_rand(AG_SHAPE(2, 3), -1, 1, 21);
    ag_tensor *u = param_rand(AG_SHAPE(6), -1, 1, 22);
    ag_tape *t = ag_tape_new();
    for (int round = 0; round < 2; round++) {
        /* old values in both buffers */
        for (int i = 0; i < 6; i++) ag_grad(w)[i] = ag_grad(u)[i] = 100 + i;
        ag_param_zero_grad(w);
        ag_param_zero_grad(u);
        ag_tape_reset(t);
        if (round == 0) {
            /* w twice (store, then add), u not at all */
            ag_tensor *l = ag_sum_all(t, ag_add(t, ag_mul_scalar(t, w, 2), ag_mul_scalar(t, w, 3)));
            cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
            for (int i = 0; i < 6; i++) {
                cr_assert_eq(ag_grad(w)[i], 5, "w entry %d", i);
                cr_assert_eq(ag_grad(u)[i], 0, "u entry %d kept an old value", i);
            }
        } else {
            /* only rows 1 of w (a slice), and u through a full view */
            ag_tensor *l = ag_add(t, ag_sum_all(t, ag_slice(t, w, 0, 1, 1)),
                                  ag_sum_all(t, ag_mul(t, ag_reshape(t, u, AG_SHAPE(2, 3)),
                                                       ag_reshape(t, u, AG_SHAPE(2, 3)))));
            cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
            for (int i = 0; i < 6; i++) {
                cr_assert_eq(ag_grad(w)[i], i < 3 ? 0 : 1, "w entry %d", i);
                cr_assert_float_eq(ag_grad(u)[i], 2 * ag_data(u)[i], 1e-6, "u entry %d", i);
            }
            /* a second sweep adds */
            cr_assert_eq(ag_backward(t, l), AG_OK);
            for (int i = 0; i < 6; i++) cr_assert_eq(ag_grad(w)[i], i < 3 ? 0 : 2, "w entry %d", i);
        }
    }
    /* an optimizer step on a gradient nothing wrote: zeros, so weight decay alone */
    ag_paramset *ps = ag_paramset_new();
    cr_assert_eq(ag_paramset_add(ps, u, "u"), AG_OK);
    ag_optim *o = ag_optim_sgd(ps, &(ag_sgd_opts){.lr = 0.5, .weight_decay = 1});
    for (int i = 0; i < 6; i++) ag_grad(u)[i] = 7;
    ag_optim_zero_grad(o);
    ag_real before[6];
    memcpy(before, ag_data(u), sizeof before);
    cr_assert_eq(ag_optim_step(o), AG_OK);
    for (int i = 0; i < 6; i++) cr_assert_eq(ag_data(u)[i], before[i] - (ag_real)0.5 * before[i]);
    ag_optim_free(o);
    ag_paramset_free(ps);
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(u);
}

Test(tape, backward_twice_same_gradients)
{
    static ag_real xs[64 * 32];
    fill_uniform(xs, 64 * 32, -1, 1, 4);
    ag_tensor *w = param_rand(AG_SHAPE(16, 32), -0.3, 0.3, 5);
    ag_tensor *b = param_rand(AG_SHAPE(16), -0.3, 0.3, 6);
    ag_tape *t = ag_tape_new();
    ag_tensor *l = step(t, w, b, xs);
    cr_assert_eq(ag_backward(t, l), AG_OK);
    ag_real g1[16];
    memcpy(g1, ag_grad(b), sizeof g1);
    /* second sweep: parameters accumulate the same amount again */
    cr_assert_eq(ag_backward(t, l), AG_OK);
    for (int i = 0; i < 16; i++)
        cr_assert_float_eq(ag_grad(b)[i], 2 * g1[i], 1e-6 * (1 + fabs(g1[i])));
    ag_param_zero_grad(b);
    cr_assert_eq(ag_backward(t, l), AG_OK);
    cr_assert(memcmp(ag_grad(b), g1, sizeof g1) == 0, "third sweep differs");
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(b);
}

Test(tape, backward_with_seed_vector)
{
    ag_tensor *x = param_rand(AG_SHAPE(3), -1, 1, 7);
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_mul(t, x, x); /* dy/dx = 2x */
    ag_real dy[3] = {1, 10, 100};
    cr_assert_eq(ag_backward_with(t, y, dy), AG_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_float_eq(ag_grad(x)[i], 2 * ag_data(x)[i] * dy[i], 1e-5);
    /* ag_backward needs a scalar */
    cr_assert_eq(ag_backward(t, y), AG_EINVAL);
    assert_tape_error(t, AG_EINVAL, "loss must have one element, has shape [3]");
    ag_tape_free(t);
    ag_param_free(x);
}

Test(tape, inference_mode_records_nothing)
{
    ag_tensor *w = param_rand(AG_SHAPE(4), -1, 1, 8);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_tape_set_recording(t, 0), 1);
    ag_tensor *y = ag_sum_all(t, ag_tanh(t, w));
    cr_assert_eq(ag_tape_nodes(t), 0);
    cr_assert(!ag_requires_grad(y));
    double s = 0;
    for (int i = 0; i < 4; i++) s += tanh(ag_data(w)[i]);
    cr_assert_float_eq(ag_data(y)[0], s, 1e-5);
    cr_assert_eq(ag_backward(t, y), AG_EINVAL);
    assert_tape_error(t, AG_EINVAL, "does not depend on any parameter");
    ag_tape_reset(t);
    ag_tape_set_recording(t, 1);
    y = ag_sum_all(t, ag_tanh(t, w));
    cr_assert_eq(ag_tape_nodes(t), 2);
    cr_assert_eq(ag_backward(t, y), AG_OK);
    ag_tape_free(t);
    ag_param_free(w);
}

Test(tape, constants_are_not_recorded)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *c = ag_tanh(t, ag_tensor_new(t, AG_SHAPE(3)));
    cr_assert_eq(ag_tape_nodes(t), 0);
    cr_assert(!ag_requires_grad(c));
    ag_tape_free(t);
}

Test(tape, first_error_is_sticky_and_poisons)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_tensor *bad = ag_matmul(t, a, a);
    cr_assert(ag_is_poisoned(bad));
    ag_tensor *later = ag_add(t, ag_tensor_new(t, AG_SHAPE(5)), ag_tensor_new(t, AG_SHAPE(4)));
    cr_assert(ag_is_poisoned(later));
    assert_tape_error(t, AG_EINVAL, "ag_matmul (node 0): inner dimensions differ: a[2,3] b[2,3]");
    cr_assert(isnan(ag_data(later)[0]));
    cr_assert_eq(ag_backward(t, later), AG_EINVAL);
    ag_tape_reset(t);
    cr_assert_eq(ag_tape_status(t), AG_OK);
    cr_assert_str_empty(ag_tape_errmsg(t));
    ag_tape_free(t);
}

Test(tape, stale_tensor_after_reset)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *keep = ag_tensor_new(t, AG_SHAPE(2));
    ag_tape_reset(t);
    /* keep's header still holds the old generation. (Detection is best effort:
     * once the arena reuses that memory for a new tensor it cannot be told.) */
    ag_tensor *y = ag_tanh(t, keep);
    cr_assert(ag_is_poisoned(y));
    cr_assert_neq(ag_tape_status(t), AG_OK);
    ag_tape_free(t);
}

Test(tape, null_inputs)
{
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_tanh(t, NULL)));
    assert_tape_error(t, AG_EINVAL, "ag_tanh (node 0): NULL tensor as input 0");
    ag_tape_free(t);
    cr_assert(ag_is_poisoned(ag_tanh(NULL, NULL)));
    cr_assert_eq(ag_tape_status(NULL), AG_EINVAL);
}

Test(tape, bad_shapes_for_constructors)
{
    cr_assert_null(ag_param_new((const size_t[]){SIZE_MAX / 2, 4}, 2));
    cr_assert(strstr(ag_last_errmsg(), "ag_param_new: shape") != NULL, "%s", ag_last_errmsg());
    cr_assert_null(ag_param_new(AG_SHAPE(1, 2, 3, 4, 5, 6, 7, 8, 9)));
    cr_assert(strstr(ag_last_errmsg(), "ndim 9 out of range") != NULL, "%s", ag_last_errmsg());
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_tensor_wrap(t, NULL, AG_SHAPE(3))));
    assert_tape_error(t, AG_EINVAL, "ag_tensor_wrap: data is NULL");
    ag_tape_free(t);
}

Test(tape, params_and_names)
{
    ag_tensor *p = ag_param_new(AG_SHAPE(2, 3));
    cr_assert(ag_is_param(p));
    cr_assert_eq(ag_numel(p), 6);
    cr_assert_eq(ag_dim(p, -1), 3);
    cr_assert_eq(ag_dim(p, 5), 0);
    cr_assert_str_eq(ag_param_name(p), "");
    ag_param_set_name(p, "dense1.weight");
    cr_assert_str_eq(ag_param_name(p), "dense1.weight");
    for (int i = 0; i < 6; i++) cr_assert_eq(ag_data(p)[i], 0);
    cr_assert_eq((uintptr_t)ag_data(p) % 64, 0, "parameter data is 64-byte aligned");
    ag_param_free(p);
    ag_param_free(NULL);
    ag_tape_free(NULL);
}

Test(tape, strict_mode_aborts, .signal = SIGABRT)
{
    setenv("AGRAD_STRICT", "1", 1);
    ag_tape *t = ag_tape_new();
    ag_matmul(t, ag_tensor_new(t, AG_SHAPE(2, 3)), ag_tensor_new(t, AG_SHAPE(2, 3)));
    ag_tape_free(t); /* not reached */
}

/* ---- gradient buffers: zeroed on first use, or stored into first ---- */

/* An op whose VJP writes nothing: its input's gradient stays unwritten. */
static void copy_fwd(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    memcpy(y.x, x.x, x.len * sizeof *x.x);
}
static void no_vjp(ag_opctx *c) { (void)c; }
static const ag_op_def opaque = {.name = "opaque", .n_in = 1, .shape = same_shape_as_input,
                                 .forward = copy_fwd, .vjp = no_vjp};

/* y = 3 x, its VJP through ag_in_grad_first: stores when first, adds else;
 * counts the stores. */
static int n_first;
static void triple_fwd(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < x.len; i++) y.x[i] = 3 * x.x[i];
}
static void triple_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    n_first += first;
    for (size_t i = 0; i < gy.len; i++) gx.x[i] = (first ? 0 : gx.x[i]) + 3 * gy.x[i];
}
static const ag_op_def triple = {.name = "triple", .n_in = 1, .shape = same_shape_as_input,
                                 .forward = triple_fwd, .vjp = triple_vjp};

Test(tape, unwritten_gradient_reads_as_zero)
{
    /* y is reached by backward but its only consumer writes no gradient:
     * ag_grad(y) and everything upstream are zeros, not stale memory, and
     * anomaly mode finds nothing to report. Run twice: the second sweep
     * reuses the buffers the first one wrote. */
    ag_tensor *x = param_rand(AG_SHAPE(40), -1, 1, 9);
    ag_tape *t = ag_tape_new();
    ag_tape_set_anomaly(t, 1);
    for (int rep = 0; rep < 2; rep++) {
        ag_tape_reset(t);
        ag_param_zero_grad(x);
        /* fill the arena with nonzero gradients first */
        ag_tensor *u = ag_exp(t, x);
        cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_mul(t, u, u))), AG_OK);
        ag_tape_reset(t);
        ag_param_zero_grad(x);
        ag_tensor *y = ag_tanh(t, x);
        ag_tensor *z = ag_apply(t, &opaque, &y, 1, NULL, 0);
        ag_tensor *l = ag_sum_all(t, ag_add(t, z, ag_mul_scalar(t, x, 0)));
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        const ag_real *gy = ag_grad(y), *gx = ag_grad(x);
        cr_assert_not_null(gy);
        for (int i = 0; i < 40; i++) {
            cr_assert(gy[i] == 0, "rep %d: grad y[%d] = %g", rep, i, (double)gy[i]);
            cr_assert(gx[i] == 0, "rep %d: grad x[%d] = %g", rep, i, (double)gx[i]);
        }
    }
    ag_tape_free(t);
    ag_param_free(x);
}

Test(tape, first_write_stores_then_adds)
{
    /* h = exp(x) feeds three consumers: triple (whole), exp of a slice (a
     * view), and triple again. Backward runs them in reverse: the last
     * triple is the first writer (stores), the slice's consumer finds h's
     * buffer written and adds, the first triple adds. d/dx of
     * sum(3h) + sum(exp(h[2:5])) + sum(3h) = 6 e^x, plus e^x exp(e^x) on
     * [2, 5). */
    ag_tensor *x = param_rand(AG_SHAPE(8), -1, 1, 10);
    ag_tape *t = ag_tape_new();
    for (int sweep = 0; sweep < 2; sweep++) {
        ag_tape_reset(t);
        ag_param_zero_grad(x);
        n_first = 0;
        ag_tensor *h = ag_exp(t, x);
        ag_tensor *a = ag_apply(t, &triple, &h, 1, NULL, 0);
        ag_tensor *es = ag_exp(t, ag_slice(t, h, 0, 2, 3));
        ag_tensor *b = ag_apply(t, &triple, &h, 1, NULL, 0);
        ag_tensor *l = ag_add(t, ag_add(t, ag_sum_all(t, a), ag_sum_all(t, es)),
                              ag_sum_all(t, b));
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        cr_assert_eq(n_first, 1, "one first write into h's gradient, got %d", n_first);
        for (int i = 0; i < 8; i++) {
            double e = exp((double)ag_data(x)[i]);
            double want = 6 * e + (i >= 2 && i < 5 ? e * exp(e) : 0);
            cr_assert_float_eq(ag_grad(x)[i], want, 1e-5 * (1 + want), "x[%d]: %g, want %g", i,
                               (double)ag_grad(x)[i], want);
        }
        /* the same tape swept again: same values (buffers fresh again) */
        ag_real g1[8];
        memcpy(g1, ag_grad(x), sizeof g1);
        ag_param_zero_grad(x);
        n_first = 0;
        cr_assert_eq(ag_backward(t, l), AG_OK);
        cr_assert_eq(n_first, 1);
        cr_assert(memcmp(g1, ag_grad(x), sizeof g1) == 0, "second sweep differs");
    }
    ag_tape_free(t);
    ag_param_free(x);
}

Test(tape, whole_view_first_write)
{
    /* h = exp(x), x of 8 values, feeds triple(h), triple(reshape(h)) and
     * triple(h[2:5]). A reshape covers all of h's buffer, so when its
     * consumer runs first it stores; a slice covers part of it, so when its
     * consumer runs first the buffer is zeroed and added to. Order is the
     * reverse of recording: reps 0 and 1 record the slice's consumer last
     * (it runs first), reps 2 and 3 the reshape's. One tape throughout, so
     * each pass finds the buffers the one before wrote. */
    ag_tensor *x = param_rand(AG_SHAPE(8), -1, 1, 12);
    ag_tape *t = ag_tape_new();
    for (int rep = 0; rep < 4; rep++) {
        int slice_last = rep < 2;
        ag_tape_reset(t);
        ag_param_zero_grad(x);
        ag_tensor *h = ag_exp(t, x);
        ag_tensor *a = ag_apply(t, &triple, &h, 1, NULL, 0);
        ag_tensor *r = ag_reshape(t, h, AG_SHAPE(2, 4)), *s = ag_slice(t, h, 0, 2, 3);
        ag_tensor *b = ag_apply(t, &triple, slice_last ? &r : &s, 1, NULL, 0);
        ag_tensor *c = ag_apply(t, &triple, slice_last ? &s : &r, 1, NULL, 0);
        ag_tensor *l = ag_add(t, ag_add(t, ag_sum_all(t, a), ag_sum_all(t, b)),
                              ag_sum_all(t, c));
        n_first = 0;
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        cr_assert_eq(n_first, slice_last ? 0 : 1, "rep %d: %d first writes into h's gradient",
                     rep, n_first);
        for (int i = 0; i < 8; i++) {
            double e = exp((double)ag_data(x)[i]);
            double want = (i >= 2 && i < 5 ? 9 : 6) * e;
            cr_assert_float_eq(ag_grad(x)[i], want, 1e-5 * (1 + want),
                               "rep %d: x[%d]: %g, want %g", rep, i, (double)ag_grad(x)[i], want);
        }
    }
    ag_tape_free(t);
    ag_param_free(x);
}

Test(tape, same_tensor_twice_first_write)
{
    /* mul(h, h) and matmul(m, m^T) with an intermediate h, m: the op's two
     * inputs share one buffer; the first stores, the second adds. */
    ag_tensor *x = param_rand(AG_SHAPE(3, 3), -1, 1, 11);
    ag_tape *t = ag_tape_new();
    ag_tensor *h = ag_tanh(t, x);
    ag_tensor *l = ag_add(t, ag_sum_all(t, ag_mul(t, h, h)),
                          ag_sum_all(t, ag_matmul_t(t, h, h, 0, 1)));
    cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
    /* d/dh: 2h + (sum_j h[j][.] over rows: d sum(H H^T)/dH = 2 (1 1^T) H) */
    const ag_real *hd = ag_data(h);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double colsum = hd[c] + hd[3 + c] + hd[6 + c];
            double dh = 2 * hd[r * 3 + c] + 2 * colsum;
            double want = dh * (1 - hd[r * 3 + c] * hd[r * 3 + c]);
            cr_assert_float_eq(ag_grad(x)[r * 3 + c], want, 1e-5 * (1 + fabs(want)),
                               "x[%d][%d]: %g, want %g", r, c, (double)ag_grad(x)[r * 3 + c], want);
        }
    ag_tape_free(t);
    ag_param_free(x);
}
