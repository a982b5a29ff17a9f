/* Broadcasting binary ops sub, div, maximum: forward by hand, gradcheck on
 * equal and broadcast shapes, agreement of forward and VJP with a plain
 * triple loop on shapes whose runs are longer than the op's internal blocks,
 * and the error path. */
#include "elementwise_check.h"

typedef ag_tensor *(*binary_fn)(ag_tape *, ag_tensor *, ag_tensor *);

/* An op with the math of its reference: y = f(a, b), dy/da, dy/db. */
typedef struct binop {
    binary_fn op;
    const char *name;
    double (*f)(double a, double b);
    double (*da)(double a, double b);
    double (*db)(double a, double b);
    double b_lo, b_hi; /* range of b for random inputs (div keeps b off 0) */
} binop;

static double sub_f(double a, double b) { return a - b; }
static double sub_da(double a, double b) { return (void)a, (void)b, 1; }
static double sub_db(double a, double b) { return (void)a, (void)b, -1; }
static double div_f(double a, double b) { return a / b; }
static double div_da(double a, double b) { return (void)a, 1 / b; }
static double div_db(double a, double b) { return -a / (b * b); }
static double max_f(double a, double b) { return a >= b ? a : b; }
static double max_da(double a, double b) { return a > b ? 1 : a == b ? 0.5 : 0; }
static double max_db(double a, double b) { return max_da(b, a); }

static const binop SUB = {ag_sub, "sub", sub_f, sub_da, sub_db, -2, 2};
static const binop DIV = {ag_div, "div", div_f, div_da, div_db, 0.5, 2};
static const binop MAX = {ag_maximum, "maximum", max_f, max_da, max_db, -2, 2};

static void check_forward(binary_fn op, const ag_real *a, const size_t *sa, int na,
                          const ag_real *b, const size_t *sb, int nb, const double *want, size_t n)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *y = op(t, ag_tensor_from(t, a, sa, na), ag_tensor_from(t, b, sb, nb));
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_numel(y), n);
    assert_rel(ag_data(y), want, n, TOL);
    ag_tape_free(t);
}

/* ---- gradcheck ---- */

static binary_fn OP;
static ag_tensor *P[2];

static ag_tensor *f_binary(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_sum(t, OP(t, P[0], P[1]));
}

static void check_gradcheck(const binop *o, const size_t *sa, int na, const size_t *sb, int nb)
{
    OP = o->op;
    P[0] = param_rand(sa, na, -2, 2, 21);
    P[1] = param_rand(sb, nb, o->b_lo, o->b_hi, 22);
    GRADCHECK(f_binary, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

/* Equal shapes, one side broadcast either way, both broadcast, a scalar. */
static void check_gradcheck_shapes(const binop *o)
{
    check_gradcheck(o, AG_SHAPE(3, 4), AG_SHAPE(3, 4));
    check_gradcheck(o, AG_SHAPE(2, 3, 4), AG_SHAPE(3, 1));
    check_gradcheck(o, AG_SHAPE(4), AG_SHAPE(2, 3, 4));
    check_gradcheck(o, AG_SHAPE(2, 1, 4), AG_SHAPE(3, 1));
    check_gradcheck(o, AG_SHAPE(2, 3), NULL, 0);
}

/* ---- agreement with a plain loop over the output [3, 5, 70] ---- */

enum { D0 = 3, D1 = 5, D2 = 70, NOUT = D0 * D1 * D2 };

/* Flat index into an operand of shape s (nd <= 3, aligned at the trailing
 * dims) of output element (i0, i1, i2): broadcast dims contribute nothing. */
static size_t bindex(const size_t *s, int nd, size_t i0, size_t i1, size_t i2)
{
    size_t full[3] = {1, 1, 1}, idx[3] = {i0, i1, i2}, k = 0;
    for (int d = 0; d < nd; d++) full[3 - nd + d] = s[d];
    for (int d = 0; d < 3; d++) k = k * full[d] + (full[d] == 1 ? 0 : idx[d]);
    return k;
}

static void check_reference(const binop *o, const size_t *sa, int na, const size_t *sb, int nb)
{
    ag_tensor *a = param_rand(sa, na, -2, 2, 31), *b = param_rand(sb, nb, o->b_lo, o->b_hi, 32);
    static ag_real dy[NOUT];
    static double y_ref[NOUT], ga_ref[NOUT], gb_ref[NOUT];
    fill_uniform(dy, NOUT, -1, 1, 33);
    memset(ga_ref, 0, sizeof ga_ref);
    memset(gb_ref, 0, sizeof gb_ref);
    const ag_real *xa = ag_data(a), *xb = ag_data(b);
    for (size_t i0 = 0, k = 0; i0 < D0; i0++)
        for (size_t i1 = 0; i1 < D1; i1++)
            for (size_t i2 = 0; i2 < D2; i2++, k++) {
                size_t ia = bindex(sa, na, i0, i1, i2), ib = bindex(sb, nb, i0, i1, i2);
                y_ref[k] = o->f(xa[ia], xb[ib]);
                ga_ref[ia] += dy[k] * o->da(xa[ia], xb[ib]);
                gb_ref[ib] += dy[k] * o->db(xa[ia], xb[ib]);
            }
    ag_tape *t = ag_tape_new();
    ag_tensor *y = o->op(t, a, b);
    cr_assert_eq(ag_numel(y), NOUT, "%s", ag_tape_errmsg(t));
    assert_close(ag_data(y), y_ref, NOUT, TOL);
    cr_assert_eq(ag_backward_with(t, y, dy), AG_OK, "%s", ag_tape_errmsg(t));
    /* sums of up to NOUT terms: allow for their rounding */
    assert_close(ag_grad(a), ga_ref, ag_numel(a), 100 * TOL);
    assert_close(ag_grad(b), gb_ref, ag_numel(b), 100 * TOL);
    ag_tape_free(t);
    ag_param_free(a);
    ag_param_free(b);
}

static void check_reference_shapes(const binop *o)
{
    check_reference(o, AG_SHAPE(D0, D1, D2), AG_SHAPE(D0, D1, D2));
    check_reference(o, AG_SHAPE(D0, D1, D2), NULL, 0);           /* one run of NOUT */
    check_reference(o, AG_SHAPE(1), AG_SHAPE(D0, D1, D2));
    check_reference(o, AG_SHAPE(D0, D1, D2), AG_SHAPE(D1, D2));
    check_reference(o, AG_SHAPE(D0, 1, D2), AG_SHAPE(D1, 1));    /* both broadcast */
    check_reference(o, AG_SHAPE(D0, D1, 1), AG_SHAPE(D0, 1, D2));
}

static void check_shape_error(binary_fn op, const char *name)
{
    char want[96];
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(op(t, ag_tensor_new(t, AG_SHAPE(2, 3)),
                                ag_tensor_new(t, AG_SHAPE(3, 2)))));
    snprintf(want, sizeof want, "ag_%s (node 0): shapes do not broadcast: a[2,3] b[3,2]", name);
    assert_tape_error(t, AG_EINVAL, want);
    ag_tape_free(t);
}

/* ---- sub ---- */

Test(sub, forward)
{
    check_forward(ag_sub, (ag_real[]){1, 2, 3, 4}, AG_SHAPE(2, 2), (ag_real[]){-1, 0.5},
                  AG_SHAPE(2), (double[]){2, 1.5, 4, 3.5}, 4);
    check_forward(ag_sub, (ag_real[]){1, 2, 3}, AG_SHAPE(3, 1), (ag_real[]){10, 20},
                  AG_SHAPE(2), (double[]){-9, -19, -8, -18, -7, -17}, 6);
}
Test(sub, gradcheck) { check_gradcheck_shapes(&SUB); }
Test(sub, reference) { check_reference_shapes(&SUB); }
Test(sub, error_shapes) { check_shape_error(ag_sub, "sub"); }

/* ---- div ---- */

Test(div, forward)
{
    check_forward(ag_div, (ag_real[]){1, 2, 3, 4}, AG_SHAPE(2, 2), (ag_real[]){-1, 0.5},
                  AG_SHAPE(2), (double[]){-1, 4, -3, 8}, 4);
    check_forward(ag_div, (ag_real[]){3}, NULL, 0, (ag_real[]){4, -6, (ag_real)1e-30},
                  AG_SHAPE(3), (double[]){0.75, -0.5, 3e30}, 3);
}
Test(div, gradcheck) { check_gradcheck_shapes(&DIV); }
Test(div, reference) { check_reference_shapes(&DIV); }
Test(div, error_shapes) { check_shape_error(ag_div, "div"); }

/* ---- maximum ---- */

Test(maximum, forward)
{
    check_forward(ag_maximum, (ag_real[]){1, -2, 3, 0.5}, AG_SHAPE(2, 2), (ag_real[]){0.5, 0.5},
                  AG_SHAPE(2), (double[]){1, 0.5, 3, 0.5}, 4);
}
/* NaN on either side gives NaN. */
Test(maximum, nan)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_maximum(t, ag_tensor_from(t, (ag_real[]){NAN, 1}, AG_SHAPE(2)),
                              ag_tensor_from(t, (ag_real[]){1, NAN}, AG_SHAPE(2)));
    cr_assert(isnan(ag_data(y)[0]) && isnan(ag_data(y)[1]));
    ag_tape_free(t);
}
/* Ties split the gradient in halves, also when b is broadcast (its share
 * sums over the tied entries). */
Test(maximum, ties)
{
    ag_tensor *a = ag_param_new(AG_SHAPE(2, 2)), *b = ag_param_new(AG_SHAPE(1));
    memcpy(ag_data(a), (ag_real[]){1, 1, 2, 0}, 4 * sizeof(ag_real));
    ag_data(b)[0] = 1;
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_maximum(t, a, b);
    cr_assert_eq(ag_backward_with(t, y, (ag_real[]){1, 2, 4, 8}), AG_OK, "%s", ag_tape_errmsg(t));
    assert_rel(ag_grad(a), (double[]){0.5, 1, 4, 0}, 4, TOL);
    assert_rel(ag_grad(b), (double[]){0.5 + 1 + 8}, 1, TOL);
    ag_tape_free(t);
    ag_param_free(a);
    ag_param_free(b);
}
Test(maximum, gradcheck) { check_gradcheck_shapes(&MAX); }
Test(maximum, reference) { check_reference_shapes(&MAX); }
Test(maximum, error_shapes) { check_shape_error(ag_maximum, "maximum"); }
