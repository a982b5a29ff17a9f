#include "common.h"

Test(rng, reproducible_and_uniform)
{
    ag_rng a, b;
    ag_rng_seed(&a, 42);
    ag_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) cr_assert_eq(ag_rng_next(&a), ag_rng_next(&b));
    ag_rng_seed(&b, 43);
    cr_assert_neq(ag_rng_next(&a), ag_rng_next(&b));
    double s = 0, s2 = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = ag_rng_uniform(&a);
        cr_assert(u >= 0 && u < 1);
        s += u;
        s2 += u * u;
    }
    cr_assert_float_eq(s / n, 0.5, 0.005);
    cr_assert_float_eq(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
}

Test(rng, below_and_normal)
{
    ag_rng r;
    ag_rng_seed(&r, 7);
    int count[3] = {0};
    for (int i = 0; i < 30000; i++) count[ag_rng_below(&r, 3)]++;
    for (int k = 0; k < 3; k++) cr_assert(count[k] > 9500 && count[k] < 10500, "%d", count[k]);
    cr_assert_eq(ag_rng_below(&r, 0), 0);
    double s = 0, s2 = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double z = ag_rng_normal(&r);
        s += z;
        s2 += z * z;
    }
    cr_assert_float_eq(s / n, 0.0, 0.02);
    cr_assert_float_eq(s2 / n, 1.0, 0.02);
}

/* Largest |x| and sample variance of a tensor's entries. */
static void stats(const ag_tensor *x, double *maxabs, double *var)
{
    double s = 0, s2 = 0, m = 0;
    size_t n = ag_numel(x);
    for (size_t i = 0; i < n; i++) {
        double v = ag_data(x)[i];
        s += v;
        s2 += v * v;
        m = fmax(m, fabs(v));
    }
    *maxabs = m;
    *var = s2 / n - (s / n) * (s / n);
}

Test(init, xavier_and_he_scales)
{
    ag_rng r;
    ag_rng_seed(&r, 1);
    ag_tensor *w = ag_param_new(AG_SHAPE(200, 300));
    double m, v;
    /* Xavier uniform: bound sqrt(6/500), variance bound^2/3 = 2/500 */
    cr_assert_eq(ag_init_xavier_uniform(w, 300, 200, &r), AG_OK);
    stats(w, &m, &v);
    cr_assert(m <= sqrt(6.0 / 500) && m > 0.95 * sqrt(6.0 / 500));
    cr_assert_float_eq(v, 2.0 / 500, 2.0 / 500 * 0.03);
    cr_assert_eq(ag_init_xavier_normal(w, 300, 200, &r), AG_OK);
    stats(w, &m, &v);
    cr_assert_float_eq(v, 2.0 / 500, 2.0 / 500 * 0.03);
    /* He: variance 2/fan_in */
    cr_assert_eq(ag_init_he_uniform(w, 300, &r), AG_OK);
    stats(w, &m, &v);
    cr_assert(m <= sqrt(6.0 / 300));
    cr_assert_float_eq(v, 2.0 / 300, 2.0 / 300 * 0.03);
    cr_assert_eq(ag_init_he_normal(w, 300, &r), AG_OK);
    stats(w, &m, &v);
    cr_assert_float_eq(v, 2.0 / 300, 2.0 / 300 * 0.03);
    cr_assert_eq(ag_init_uniform(w, 2, 3, &r), AG_OK);
    stats(w, &m, &v);
    cr_assert(m < 3);
    cr_assert_eq(ag_init_normal(w, 5, 0, &r), AG_OK);
    cr_assert_eq(ag_data(w)[17], 5);
    cr_assert_eq(ag_init_he_normal(w, 0, &r), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "fan_in 0"), "%s", ag_last_errmsg());
    cr_assert_eq(ag_init_uniform(w, 1, 0, &r), AG_EINVAL);
    ag_param_free(w);
}

Test(paramset, names_counts_and_lookup)
{
    ag_paramset *s = ag_paramset_new();
    ag_tensor *a = ag_param_new(AG_SHAPE(2, 3)), *b = ag_param_new(AG_SHAPE(4));
    cr_assert_eq(ag_paramset_add(s, a, "a"), AG_OK);
    cr_assert_eq(ag_paramset_add(s, b, "a"), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "duplicate name 'a'"), "%s", ag_last_errmsg());
    cr_assert_eq(ag_paramset_add(s, a, "again"), AG_EINVAL);
    cr_assert_eq(ag_paramset_add(s, b, "b"), AG_OK);
    cr_assert_eq(ag_paramset_count(s), 2);
    cr_assert_eq(ag_paramset_numel(s), 10);
    cr_assert_eq(ag_paramset_get(s, 1), b);
    cr_assert_null(ag_paramset_get(s, 2));
    cr_assert_eq(ag_paramset_find(s, "a"), a);
    cr_assert_null(ag_paramset_find(s, "c"));
    cr_assert_str_eq(ag_param_name(b), "b");
    ag_grad(a)[0] = 1;
    ag_paramset_zero_grad(s);
    cr_assert_eq(ag_grad(a)[0], 0);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_paramset_add(s, ag_tensor_new(t, AG_SHAPE(1)), "c"), AG_EINVAL);
    ag_tape_free(t);
    /* growth past the first block */
    ag_tensor *many[40];
    for (int i = 0; i < 40; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "p%d", i);
        many[i] = ag_param_new(AG_SHAPE(1));
        cr_assert_eq(ag_paramset_add(s, many[i], nm), AG_OK);
    }
    cr_assert_eq(ag_paramset_find(s, "p39"), many[39]);
    for (int i = 0; i < 40; i++) ag_param_free(many[i]);
    ag_paramset_free(s);
    ag_param_free(a);
    ag_param_free(b);
}
