/* Helpers shared by the test suites. */
#ifndef AGRAD_TEST_COMMON_H
#define AGRAD_TEST_COMMON_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "agrad.h"

#if AG_REAL_IS_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-5
#endif

/* Deterministic values in [lo, hi) (xorshift; independent of the library). */
static inline void fill_uniform(ag_real *x, size_t n, double lo, double hi, unsigned seed)
{
    unsigned long long s = 0x9E3779B97F4A7C15ull ^ (seed * 0x100000001B3ull);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (ag_real)(lo + (hi - lo) * (double)(s >> 11) * 0x1.0p-53);
    }
}

/* New parameter filled with uniform values in [lo, hi). */
static inline ag_tensor *param_rand(const size_t *shape, int nd, double lo, double hi, unsigned seed)
{
    ag_tensor *p = ag_param_new(shape, nd);
    cr_assert_not_null(p, "ag_param_new: %s", ag_last_errmsg());
    fill_uniform(ag_data(p), ag_numel(p), lo, hi, seed);
    return p;
}

/* Run ag_gradcheck with default options and fail the test with the report. */
#define GRADCHECK(fn, ctx, wrt, n)                                                   \
    do {                                                                             \
        ag_gradcheck_report rep_;                                                    \
        int ok_ = ag_gradcheck((fn), (ctx), (wrt), (n), NULL, &rep_);                \
        if (!ok_)                                                                    \
            ag_gradcheck_fprint(stderr, &rep_);                                      \
        cr_assert(ok_, "gradcheck failed (%zu of %zu entries; %s)", rep_.failed,     \
                  rep_.checked, rep_.errmsg);                                         \
        cr_assert_gt(rep_.checked, 0);                                               \
    } while (0)

/* Assert arrays equal within an absolute+relative tolerance. */
/* The shape callback of a test op whose output has its input 0's shape. */
static inline int same_shape_as_input(ag_opctx *c, size_t *out, int *nd)
{
    ag_view x = ag_in(c, 0);
    for (int i = 0; i < x.ndim; i++) out[i] = x.shape[i];
    *nd = x.ndim;
    return 0;
}

static inline void assert_close(const ag_real *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs((double)got[i] - want[i]) <= tol * (1 + fabs(want[i])),
                  "element %zu: got %.9g, want %.9g", i, (double)got[i], want[i]);
}

/* Expect the tape to have failed with code and a message containing substr. */
static inline void assert_tape_error(ag_tape *t, int code, const char *substr)
{
    cr_assert_eq(ag_tape_status(t), code, "status %d (%s), want %d", ag_tape_status(t),
                 ag_tape_errmsg(t), code);
    cr_assert(strstr(ag_tape_errmsg(t), substr) != NULL, "message '%s' lacks '%s'",
              ag_tape_errmsg(t), substr);
}

#endif
