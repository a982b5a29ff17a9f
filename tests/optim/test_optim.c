#include "common.h"

/* A tiny problem: one parameter of three entries with gradients set by hand,
 * so each update can be compared with values worked out on paper. */
static const double P0[3] = {1.0, -2.0, 0.5};
static const double G1[3] = {0.5, 0.25, -1.0};
static const double G2[3] = {-0.3, 0.1, 0.2};

static ag_tensor *W;
static ag_paramset *PS;

static void setup(void)
{
    W = ag_param_new(AG_SHAPE(3));
    for (int i = 0; i < 3; i++) ag_data(W)[i] = (ag_real)P0[i];
    PS = ag_paramset_new();
    cr_assert_eq(ag_paramset_add(PS, W, "w"), AG_OK);
}

static void teardown(void)
{
    ag_paramset_free(PS);
    ag_param_free(W);
}

static void set_grad(const double *g)
{
    for (int i = 0; i < 3; i++) ag_grad(W)[i] = (ag_real)g[i];
}

/* Two steps with gradients G1 then G2; compare after each. */
static void two_steps(ag_optim *o, const double *want1, const double *want2)
{
    cr_assert_not_null(o, "%s", ag_last_errmsg());
    set_grad(G1);
    cr_assert_eq(ag_optim_step(o), AG_OK);
    assert_close(ag_data(W), want1, 3, TOL);
    set_grad(G2);
    cr_assert_eq(ag_optim_step(o), AG_OK);
    assert_close(ag_data(W), want2, 3, TOL);
    cr_assert_eq(ag_optim_steps(o), 2);
    ag_optim_free(o);
}

TestSuite(optim, .init = setup, .fini = teardown);

Test(optim, sgd_plain)
{
    /* p -= 0.1 g */
    two_steps(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1}), (double[]){0.95, -2.025, 0.6},
              (double[]){0.98, -2.035, 0.58});
}

Test(optim, sgd_weight_decay)
{
    /* g = G1 + 0.01 p0 = [0.51, 0.23, -0.995]; p1 = p0 - 0.1 g
     * g = G2 + 0.01 p1 = [-0.29051, 0.07977, 0.205995]; p2 = p1 - 0.1 g */
    two_steps(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1, .weight_decay = 0.01}),
              (double[]){0.949, -2.023, 0.5995}, (double[]){0.978051, -2.030977, 0.5789005});
}

Test(optim, sgd_momentum)
{
    /* b1 = G1, p1 = p0 - 0.1 b1; b2 = 0.9 G1 + G2 = [0.15, 0.325, -0.7], p2 = p1 - 0.1 b2 */
    two_steps(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1, .momentum = 0.9}),
              (double[]){0.95, -2.025, 0.6}, (double[]){0.935, -2.0575, 0.67});
}

Test(optim, sgd_nesterov)
{
    /* step 1: b = G1, update G1 + 0.9 b = 1.9 G1
     * step 2: b = [0.15, 0.325, -0.7], update G2 + 0.9 b = [-0.165, 0.3925, -0.43] */
    two_steps(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1, .momentum = 0.9, .nesterov = 1}),
              (double[]){0.905, -2.0475, 0.69}, (double[]){0.9215, -2.08675, 0.733});
}

Test(optim, adam)
{
    /* step 1: m^ = g, v^ = g^2: p -= 0.1 g / (|g| + 1e-8)
     * step 2 (entry 0): m = 0.015, v = 0.00033975, m^ = 0.015/0.19,
     * v^ = 0.00033975/0.001999, p = 0.9 - 0.1 m^/(sqrt v^ + eps) = 0.88085020 */
    two_steps(ag_optim_adam(PS, &(ag_adam_opts){.lr = 0.1}),
              (double[]){0.900000002, -2.099999996, 0.599999999},
              (double[]){0.8808501989417752, -2.1898575117368706, 0.6511026060095054});
}

Test(optim, adam_l2_and_decoupled)
{
    two_steps(ag_optim_adam(PS, &(ag_adam_opts){.lr = 0.1, .weight_decay = 0.1}),
              (double[]){0.9000000016666666, -2.099999980000004, 0.5999999989473684},
              (double[]){0.8613529972101512, -2.0599661765022854, 0.6449742161593757});
    for (int i = 0; i < 3; i++) ag_data(W)[i] = (ag_real)P0[i];
    /* AdamW: p *= 1 - 0.1 * 0.1 before the plain Adam update */
    two_steps(ag_optim_adam(PS, &(ag_adam_opts){.lr = 0.1, .weight_decay = 0.1, .decoupled = 1}),
              (double[]){0.890000002, -2.079999996, 0.594999999},
              (double[]){0.8619501989217752, -2.1490575117768707, 0.6401526060195054});
}

Test(optim, adam_defaults_and_lr)
{
    ag_optim *o = ag_optim_adam(PS, NULL);
    cr_assert_not_null(o);
    cr_assert_float_eq(ag_optim_lr(o), 1e-3, 1e-15);
    ag_optim_set_lr(o, 0.5);
    cr_assert_float_eq(ag_optim_lr(o), 0.5, 1e-15);
    ag_optim_set_lr(o, -1); /* ignored */
    cr_assert_float_eq(ag_optim_lr(o), 0.5, 1e-15);
    set_grad(G1);
    ag_optim_zero_grad(o);
    for (int i = 0; i < 3; i++) cr_assert_eq(ag_grad(W)[i], 0);
    ag_optim_free(o);
}

Test(optim, step_learns_a_line)
{
    /* end to end through the tape: fit y = 2x - 1 with SGD momentum */
    ag_tensor *a = ag_param_new(AG_SHAPE(1)), *b = ag_param_new(AG_SHAPE(1));
    ag_paramset *ps = ag_paramset_new();
    ag_paramset_add(ps, a, "a");
    ag_paramset_add(ps, b, "b");
    ag_optim *o = ag_optim_sgd(ps, &(ag_sgd_opts){.lr = 0.05, .momentum = 0.9});
    ag_real xs[4] = {-1, 0, 1, 2}, ys[4] = {-3, -1, 1, 3};
    ag_tape *t = ag_tape_new();
    for (int it = 0; it < 300; it++) {
        ag_tape_reset(t);
        ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(4)), *y = ag_tensor_wrap(t, ys, AG_SHAPE(4));
        ag_tensor *e = ag_add(t, ag_add(t, ag_mul(t, x, a), b), ag_mul(t, y, ag_scalar(t, -1)));
        ag_optim_zero_grad(o);
        cr_assert_eq(ag_backward(t, ag_mean_all(t, ag_mul(t, e, e))), AG_OK);
        ag_optim_step(o);
    }
    cr_assert_float_eq(ag_data(a)[0], 2.0, 1e-3);
    cr_assert_float_eq(ag_data(b)[0], -1.0, 1e-3);
    ag_tape_free(t);
    ag_optim_free(o);
    ag_paramset_free(ps);
    ag_param_free(a);
    ag_param_free(b);
}

Test(optim, clip_grad_norm)
{
    ag_tensor *v = ag_param_new(AG_SHAPE(2));
    ag_paramset_add(PS, v, "v");
    set_grad((double[]){3, 0, 0});
    ag_grad(v)[0] = 0;
    ag_grad(v)[1] = 4; /* total norm 5 */
    cr_assert_float_eq(ag_clip_grad_norm(PS, 10), 5.0, 1e-6);
    cr_assert_float_eq(ag_grad(W)[0], 3.0, 1e-6); /* under the limit: untouched */
    cr_assert_float_eq(ag_clip_grad_norm(PS, 1), 5.0, 1e-6);
    cr_assert_float_eq(ag_grad(W)[0], 0.6, 1e-6);
    cr_assert_float_eq(ag_grad(v)[1], 0.8, 1e-6);
    cr_assert_float_eq(ag_clip_grad_norm(PS, 1), 1.0, 1e-6);
    ag_param_free(v);
}

Test(optim, bad_settings)
{
    cr_assert_null(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0}));
    cr_assert(strstr(ag_last_errmsg(), "ag_optim_sgd: bad learning rate") != NULL, "%s",
              ag_last_errmsg());
    cr_assert_null(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1, .momentum = 1}));
    cr_assert(strstr(ag_last_errmsg(), "momentum") != NULL);
    cr_assert_null(ag_optim_sgd(PS, &(ag_sgd_opts){.lr = 0.1, .nesterov = 1}));
    cr_assert(strstr(ag_last_errmsg(), "Nesterov") != NULL);
    cr_assert_null(ag_optim_adam(PS, &(ag_adam_opts){.beta2 = 1}));
    cr_assert(strstr(ag_last_errmsg(), "beta2") != NULL);
    ag_paramset *empty = ag_paramset_new();
    cr_assert_null(ag_optim_adam(empty, NULL));
    cr_assert(strstr(ag_last_errmsg(), "no parameters") != NULL);
    ag_paramset_free(empty);
    cr_assert_eq(ag_optim_step(NULL), AG_EINVAL);
    ag_optim_free(NULL);
}

/* Several parameters of uneven sizes (one of them empty), large enough that
 * the update and the zeroing are split over the threads across parameter
 * boundaries: the same bits with 1, 2 and 3 threads, and plain SGD equal to
 * the formula applied element by element. */
Test(optim, many_parameters_any_thread_count)
{
    enum { NP = 5 };
    static const size_t sizes[NP] = {70001, 3, 0, 40000, 65536};
    size_t total = 0;
    for (int i = 0; i < NP; i++) total += sizes[i];
    ag_real *after[3][2];
    int saved = ag_get_threads();
    for (int nt = 1; nt <= 3; nt++) {
        ag_set_threads(nt);
        for (int kind = 0; kind < 2; kind++) {
            ag_paramset *ps = ag_paramset_new();
            ag_tensor *p[NP];
            for (int i = 0; i < NP; i++) {
                p[i] = param_rand(AG_SHAPE(sizes[i]), -1, 1, 40 + (unsigned)i);
                cr_assert_eq(ag_paramset_add(ps, p[i], (const char *[]){"a", "b", "c", "d", "e"}[i]),
                             AG_OK);
            }
            ag_optim *o = kind ? ag_optim_adam(ps, &(ag_adam_opts){.lr = 0.01, .weight_decay = 0.1})
                               : ag_optim_sgd(ps, &(ag_sgd_opts){.lr = 0.1});
            cr_assert_not_null(o);
            ag_real *want = malloc((total + 1) * sizeof *want);
            for (int s = 0; s < 3; s++) {
                for (int i = 0; i < NP; i++)
                    for (size_t j = 0; j < sizes[i]; j++)
                        ag_grad(p[i])[j] = (ag_real)(0.001 * (double)((j * 7 + (size_t)i + (size_t)s) % 101) - 0.05);
                size_t at = 0;
                for (int i = 0; i < NP; i++)
                    for (size_t j = 0; j < sizes[i]; j++, at++)
                        want[at] = ag_data(p[i])[j] - (ag_real)0.1 * ag_grad(p[i])[j];
                cr_assert_eq(ag_optim_step(o), AG_OK);
                if (kind == 0) {
                    at = 0;
                    for (int i = 0; i < NP; i++)
                        for (size_t j = 0; j < sizes[i]; j++, at++)
                            cr_assert_eq(ag_data(p[i])[j], want[at], "param %d entry %zu", i, j);
                }
                ag_optim_zero_grad(o);
                for (int i = 0; i < NP; i++)
                    for (size_t j = 0; j < sizes[i]; j++)
                        cr_assert_eq(ag_grad(p[i])[j], 0, "grad of param %d entry %zu not zeroed", i, j);
            }
            after[nt - 1][kind] = want;
            size_t at = 0;
            for (int i = 0; i < NP; i++) {
                for (size_t j = 0; j < sizes[i]; j++) want[at++] = ag_data(p[i])[j];
                ag_param_free(p[i]);
            }
            ag_optim_free(o);
            ag_paramset_free(ps);
        }
    }
    ag_set_threads(saved);
    for (int kind = 0; kind < 2; kind++)
        for (int nt = 2; nt <= 3; nt++)
            cr_assert_eq(memcmp(after[0][kind], after[nt - 1][kind], total * sizeof(ag_real)), 0,
                         "%s differs with %d threads", kind ? "Adam" : "SGD", nt);
    for (int nt = 0; nt < 3; nt++)
        for (int kind = 0; kind < 2; kind++) free(after[nt][kind]);
}
