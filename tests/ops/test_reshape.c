#include "ops/movement.h"
#include "../../ops/util.h"

Test(reshape, forward_and_infer)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 3, 4));
    ag_tensor *y = ag_reshape(t, x, AG_SHAPE(4, AG_INFER));
    cr_assert_eq(ag_ndim(y), 2);
    cr_assert_eq(ag_dim(y, 0), 4);
    cr_assert_eq(ag_dim(y, 1), 6);
    for (size_t i = 0; i < 24; i++)
        cr_assert_eq(ag_data(y)[i], (ag_real)i);
    ag_tensor *s = ag_reshape(t, ag_tensor_new(t, AG_SHAPE(1, 1)), NULL, 0);
    cr_assert_eq(ag_ndim(s), 0);
    cr_assert_eq(ag_numel(s), 1);
    ag_tape_free(t);
}

static ag_tensor *P[1];

static ag_tensor *f_reshape(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* [2,3,4] -> [4,6] -> slice rows so that the order of elements matters */
    ag_tensor *y = ag_reshape(t, P[0], AG_SHAPE(AG_INFER, 6));
    return loss_with_direct(t, ag_slice(t, y, 0, 1, 2), P[0]);
}

Test(reshape, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 31);
    GRADCHECK(f_reshape, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(reshape, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_reshape(t, x, AG_SHAPE(4, 2))));
    assert_tape_error(t, AG_EINVAL, "ag_reshape (node 0): numel differs: x[2,3] has 6 elements, new shape [4,2] has 8");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_reshape(t, x, AG_SHAPE(AG_INFER, 2, AG_INFER));
    assert_tape_error(t, AG_EINVAL, "more than one AG_INFER");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_reshape(t, x, AG_SHAPE(4, AG_INFER));
    assert_tape_error(t, AG_EINVAL, "cannot infer a size: x[2,3] has 6 elements");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_reshape(t, x, NULL, 2);
    assert_tape_error(t, AG_EINVAL, "shape is NULL");
    ag_tape_free(t);
}

/* y = permute(x, perm) by the definition y[i] = x[j], j[perm[k]] = i[k]. */
static void permute_ref(const ag_real *x, const size_t *xs, int nd, const int *perm, double *y)
{
    size_t ys[AG_MAX_DIMS], xst[AG_MAX_DIMS], idx[AG_MAX_DIMS], n = 1;
    for (int k = 0; k < nd; k++) {
        ys[k] = xs[perm[k]];
        n *= ys[k];
    }
    strides_of(xs, nd, xst);
    for (size_t i = 0; i < n; i++) {
        unravel(i, ys, nd, idx);
        size_t off = 0;
        for (int k = 0; k < nd; k++)
            off += idx[k] * xst[perm[k]];
        y[i] = (double)x[off];
    }
}

static void check_perm(ag_tape *t, const size_t *shape, int nd, const int *given)
{
    ag_tensor *x = iota(t, shape, nd);
    ag_tensor *y = ag_permute(t, x, given, nd);
    int perm[AG_MAX_DIMS];
    for (int k = 0; k < nd; k++)
        perm[k] = given[k] < 0 ? given[k] + nd : given[k];
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    for (int k = 0; k < nd; k++)
        cr_assert_eq(ag_dim(y, k), shape[perm[k]]);
    static double want[8192];
    cr_assert_leq(ag_numel(x), 8192);
    permute_ref(ag_data(x), shape, nd, perm, want);
    assert_close(ag_data(y), want, ag_numel(y), 0);
}

Test(permute, forward_all_4d)
{
    /* every permutation of 4 axes, including ones that merge axes */
    ag_tape *t = ag_tape_new();
    int p[4];
    for (p[0] = 0; p[0] < 4; p[0]++)
        for (p[1] = 0; p[1] < 4; p[1]++)
            for (p[2] = 0; p[2] < 4; p[2]++)
                for (p[3] = 0; p[3] < 4; p[3]++) {
                    if (p[0] == p[1] || p[0] == p[2] || p[0] == p[3] || p[1] == p[2] ||
                        p[1] == p[3] || p[2] == p[3])
                        continue;
                    ag_tape_reset(t);
                    check_perm(t, AG_SHAPE(2, 3, 4, 5), p);
                    ag_tape_reset(t);
                    check_perm(t, AG_SHAPE(3, 1, 2, 4), p);
                }
    ag_tape_free(t);
}

Test(permute, forward_blocked)
{
    /* column groups, full and partial, against the dim contiguous in x */
    ag_tape *t = ag_tape_new();
    check_perm(t, AG_SHAPE(3, 40, 37), (int[]){0, 2, 1});
    check_perm(t, AG_SHAPE(70, 45), (int[]){1, 0});
    check_perm(t, AG_SHAPE(33, 2, 35), (int[]){2, 1, 0});
    check_perm(t, AG_SHAPE(5, 3, 4), (int[]){-1, 0, 1});
    ag_tape_free(t);
}

Test(transpose, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 3));
    ag_tensor *y = ag_transpose(t, x, 0, -1);
    cr_assert_eq(ag_dim(y, 0), 3);
    assert_close(ag_data(y), (double[]){0, 3, 1, 4, 2, 5}, 6, 0);
    ag_tensor *z = ag_transpose(t, iota(t, AG_SHAPE(2, 2, 3)), 0, 2); /* [3,2,2] */
    assert_close(ag_data(z), (double[]){0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11}, 12, 0);
    ag_tape_free(t);
}

static int PERM[4];

static ag_tensor *f_permute(ag_tape *t, void *ctx)
{
    (void)ctx;
    return loss_with_direct(t, ag_permute(t, P[0], PERM, ag_ndim(P[0])), P[0]);
}

static ag_tensor *f_transpose(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_loss(t, ag_transpose(t, P[0], 1, -1));
}

Test(permute, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4, 2), -1, 1, 32);
    memcpy(PERM, (int[]){2, 0, 3, 1}, sizeof PERM);
    GRADCHECK(f_permute, NULL, P, 1);
    memcpy(PERM, (int[]){0, 1, 3, 2}, sizeof PERM);
    GRADCHECK(f_permute, NULL, P, 1);
    memcpy(PERM, (int[]){1, 2, 0, 3}, sizeof PERM); /* innermost axis stays: row copies */
    GRADCHECK(f_permute, NULL, P, 1);
    GRADCHECK(f_transpose, NULL, P, 1);
    ag_param_free(P[0]);
    /* the blocked path, with a partial column group */
    P[0] = param_rand(AG_SHAPE(34, 33), -1, 1, 33);
    memcpy(PERM, (int[]){1, 0}, 2 * sizeof *PERM);
    GRADCHECK(f_permute, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(permute, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3, 4));
    cr_assert(ag_is_poisoned(ag_permute(t, x, (int[]){0, 2, 2}, 3)));
    assert_tape_error(t, AG_EINVAL, "ag_permute (node 0): (0,2,2) is not a permutation of the axes of x[2,3,4]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3, 4));
    ag_permute(t, x, (int[]){0, 3, 1}, 3);
    assert_tape_error(t, AG_EINVAL, "(0,3,1) is not a permutation");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3, 4));
    ag_permute(t, x, (int[]){1, 0}, 2);
    assert_tape_error(t, AG_EINVAL, "permutation of 2 axes for x[2,3,4], which has 3");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_transpose(t, x, 0, 2);
    assert_tape_error(t, AG_EINVAL, "ag_transpose (node 0): axes 0 and 2: out of range for x[2,3]");
    ag_tape_free(t);
}

/* ag_reshape is a view: it shares x's data and, when gradients flow, x's
 * gradient buffer; ag_apply on the same definition copies. Both give the
 * same values and the same gradients. */
Test(reshape, view_and_copy_agree)
{
    ag_tensor *p = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 35);
    ag_real gv[24], gc[24];
    for (int copy = 0; copy < 2; copy++) {
        ag_tape *t = ag_tape_new();
        ag_param_zero_grad(p);
        ag_tensor *h = ag_tanh(t, p);
        agi_shape_attr a = agi_shape_attr_make(AG_SHAPE(4, 6));
        ag_tensor *y = copy ? ag_apply(t, &ag_op_reshape, &h, 1, &a, sizeof a)
                            : ag_reshape(t, h, AG_SHAPE(4, 6));
        cr_assert_eq(ag_dim(y, 0), 4);
        cr_assert_eq(ag_data(y) == ag_data(h), !copy, "a view shares, a copy does not");
        for (int i = 0; i < 24; i++)
            cr_assert_eq(ag_data(y)[i], ag_data(h)[i]);
        /* the slice makes the order of the elements matter */
        ag_tensor *l = ag_sum_all(t, ag_mul(t, ag_slice(t, y, 1, 0, 5), ag_slice(t, y, 1, 1, 5)));
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        memcpy(copy ? gc : gv, ag_grad(p), sizeof gv);
        cr_assert_eq(ag_tape_nodes(t), copy ? 6u : 5u, "the view records no node");
        ag_tape_free(t);
    }
    for (int i = 0; i < 24; i++)
        cr_assert_eq(gv[i], gc[i], "gradient %d: view %g, copy %g", i, (double)gv[i], (double)gc[i]);
    ag_param_free(p);
}

/* A view of a parameter: the loss may be one, and its gradient accumulates
 * into the parameter's; a view of a view still reaches the base. */
Test(reshape, view_of_parameter)
{
    ag_tensor *p = ag_param_new(AG_SHAPE(1, 1));
    ag_data(p)[0] = 3;
    ag_grad(p)[0] = 0.5;
    ag_tape *t = ag_tape_new();
    ag_tensor *v = ag_reshape(t, ag_reshape(t, p, AG_SHAPE(1)), NULL, 0);
    cr_assert(ag_requires_grad(v));
    cr_assert_null(ag_grad(v), "a view of a parameter has no gradient of its own");
    cr_assert_eq(ag_backward(t, v), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_grad(p)[0], (ag_real)1.5, "dv/dp = 1, added to the 0.5 already there");
    /* a second sweep adds again, as for any use of a parameter */
    cr_assert_eq(ag_backward(t, v), AG_OK);
    cr_assert_eq(ag_grad(p)[0], (ag_real)2.5);
    ag_tape_free(t);
    ag_param_free(p);
}

/* ag_apply_view refuses a shape rule that changes the element count. */
static int grow_shape(ag_opctx *c, size_t *out, int *nd)
{
    out[0] = ag_in(c, 0).len + 1;
    *nd = 1;
    return 0;
}
static void grow_fwd(ag_opctx *c) { (void)c; }
static const ag_op_def grow = {.name = "grow", .n_in = 1, .shape = grow_shape, .forward = grow_fwd};

Test(reshape, view_must_keep_numel)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_apply_view(t, &grow, &x, 1, NULL, 0)));
    assert_tape_error(t, AG_EINVAL, "ag_grow (node 0): a view must keep the 6 elements of its input, not 7");
    ag_tape_free(t);
}
