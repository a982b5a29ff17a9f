/* Helpers of the elementwise op suites (test_unary.c, test_binary.c). */
#ifndef AGRAD_TEST_ELEMENTWISE_CHECK_H
#define AGRAD_TEST_ELEMENTWISE_CHECK_H

#include "common.h"

/* Relative comparison, for values that span many orders of magnitude
 * (exp(-80) = 1.8e-35 must not pass as "close to 0"): |got - want| <=
 * tol |want|, and a finite want needs a finite got. */
static inline void assert_rel(const ag_real *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        double g = (double)got[i];
        if (isfinite(want[i]))
            cr_assert(isfinite(g), "element %zu: got %g, want %.9g", i, g, want[i]);
        cr_assert(g == want[i] || fabs(g - want[i]) <= tol * fabs(want[i]),
                  "element %zu: got %.9g, want %.9g", i, g, want[i]);
    }
}

/* The scalar the gradchecks differentiate: sum(y * w) with fixed weights w in
 * [-1, 1), so that every output element gets its own upstream gradient. */
static inline ag_tensor *weighted_sum(ag_tape *t, ag_tensor *y)
{
    static ag_real w[256];
    if (w[0] == 0)
        fill_uniform(w, 256, -1, 1, 99);
    cr_assert_leq(ag_numel(y), 256);
    return ag_sum_all(t, ag_mul(t, y, ag_tensor_wrap(t, w, ag_shape(y), ag_ndim(y))));
}

/* Parameter with values in [lo, hi), moved by `gap` away from zero on either
 * side when gap > 0 (keeps kinked ops off their kink at 0). */
static inline ag_tensor *param_away(const size_t *shape, int nd, double lo, double hi,
                                    double gap, unsigned seed)
{
    ag_tensor *p = param_rand(shape, nd, lo, hi, seed);
    ag_real *x = ag_data(p);
    for (size_t i = 0; gap > 0 && i < ag_numel(p); i++)
        x[i] += (ag_real)(x[i] < 0 ? -gap : gap);
    return p;
}

#endif
