/* Anomaly mode and graph export. */
#include <math.h>
#include <stdlib.h>
#include "common.h"

/* y = sqrt(x) defined in the test; its VJP 0.5 / sqrt(x) is infinite at 0 */
static void root_fwd(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = (ag_real)sqrt((double)x.x[i]);
}
static void root_vjp(ag_opctx *c)
{
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < gx.len; i++) gx.x[i] += gy.x[i] / (2 * y.x[i]);
}
static const ag_op_def root = {"root", 1, same_shape_as_input, root_fwd, root_vjp};

Test(anomaly, forward_nonfinite_names_op)
{
    ag_tensor *w = param_rand(AG_SHAPE(2, 2), -1, 1, 1);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_tape_set_anomaly(t, 1), 0);
    ag_real bad[2] = {1, INFINITY};
    ag_tensor *y = ag_tanh(t, w);
    y = ag_mul(t, y, ag_tensor_wrap(t, bad, AG_SHAPE(2)));
    cr_assert(ag_is_poisoned(y));
    assert_tape_error(t, AG_ENAN, "ag_mul (node 1): forward produced Inf at output element 1 of [2,2]");
    ag_tape_free(t);
    ag_param_free(w);
}

Test(anomaly, backward_nonfinite_names_op)
{
    ag_tensor *w = ag_param_new(AG_SHAPE(3));
    ag_data(w)[0] = 1, ag_data(w)[1] = 0, ag_data(w)[2] = 4;
    ag_tape *t = ag_tape_new();
    ag_tape_set_anomaly(t, 1);
    ag_tensor *x = w;
    ag_tensor *l = ag_sum_all(t, ag_tanh(t, ag_apply(t, &root, &x, 1, NULL, 0)));
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_backward(t, l), AG_ENAN);
    assert_tape_error(t, AG_ENAN, "ag_root (node 0): backward produced Inf in the gradient of input 0[3] at element 1");
    ag_tape_free(t);
    /* without anomaly mode the same sweep silently yields inf */
    t = ag_tape_new();
    l = ag_sum_all(t, ag_tanh(t, ag_apply(t, &root, &x, 1, NULL, 0)));
    cr_assert_eq(ag_backward(t, l), AG_OK);
    cr_assert(isinf(ag_grad(w)[1]));
    ag_tape_free(t);
    ag_param_free(w);
}

Test(anomaly, environment_turns_it_on)
{
    setenv("AGRAD_ANOMALY", "1", 1);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_tape_set_anomaly(t, 0), 1);
    ag_tape_free(t);
    unsetenv("AGRAD_ANOMALY");
    t = ag_tape_new();
    cr_assert_eq(ag_tape_set_anomaly(t, 0), 0);
    ag_tape_free(t);
}

Test(dot, writes_ops_params_and_edges)
{
    ag_tensor *w = param_rand(AG_SHAPE(4, 3), -1, 1, 2);
    ag_param_set_name(w, "dense.weight");
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_tensor *l = ag_sum_all(t, ag_tanh(t, ag_matmul_t(t, x, w, 0, 1)));
    (void)l;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    cr_assert_eq(ag_tape_dot(t, m), AG_OK);
    fclose(m);
    cr_assert(strncmp(buf, "digraph", 7) == 0);
    cr_assert(strstr(buf, "matmul #0\\n[2,4]") != NULL, "%s", buf);
    cr_assert(strstr(buf, "tanh #1") && strstr(buf, "sum #2\\n[]"), "%s", buf);
    cr_assert(strstr(buf, "dense.weight\\n[4,3]") != NULL, "%s", buf);
    cr_assert(strstr(buf, "const\\n[2,3]") != NULL, "%s", buf);
    size_t edges = 0;
    for (const char *p = buf; (p = strstr(p, "->")); p++) edges++;
    cr_assert_eq(edges, 4);
    free(buf);
    cr_assert_eq(ag_tape_dot(NULL, stdout), AG_EINVAL);
    ag_tape_free(t);
    ag_param_free(w);
}

/* Profiling counts every forward and VJP per op kind, across resets, and
 * reports them slowest first; off, the report is refused. */
Test(profile, counts_calls_across_resets)
{
    ag_tensor *w = param_rand(AG_SHAPE(4, 4), -1, 1, 7);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_tape_profile_report(t, stdout), AG_ESTATE);
    cr_assert_eq(ag_tape_set_profile(t, 1), 0);
    for (int step = 0; step < 3; step++) {
        ag_tensor *l = ag_sum_all(t, ag_tanh(t, ag_matmul(t, w, w)));
        cr_assert_eq(ag_backward(t, l), AG_OK);
        ag_tape_reset(t);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(ag_tape_profile_report(t, f), AG_OK);
    fclose(f);
    /* columns: op, calls, forward ms, vjps, backward ms, share */
    char name[32];
    unsigned long calls, vjps;
    double fms, bms;
    int seen = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (sscanf(line, "%31s %lu %lf %lu %lf", name, &calls, &fms, &vjps, &bms) == 5) {
            cr_assert(strcmp(name, "matmul") == 0 || strcmp(name, "tanh") == 0 ||
                          strcmp(name, "sum") == 0, "unexpected op %s", name);
            cr_assert_eq(calls, 3, "%s: %lu calls", name, calls);
            cr_assert_eq(vjps, 3, "%s: %lu vjps", name, vjps);
            cr_assert(fms >= 0 && bms >= 0);
            seen++;
        }
    }
    cr_assert_eq(seen, 3, "report:\n%s", buf);
    free(buf);
    cr_assert_eq(ag_tape_set_profile(t, 0), 1);
    cr_assert_eq(ag_tape_profile_report(t, stdout), AG_ESTATE);
    ag_tape_free(t);
    ag_param_free(w);
}
