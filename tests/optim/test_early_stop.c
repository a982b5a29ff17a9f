#include "common.h"

static ag_tensor *A, *B;
static ag_paramset *PS;

static void setup(void)
{
    A = ag_param_new(AG_SHAPE(2, 2));
    B = ag_param_new(AG_SHAPE(3));
    PS = ag_paramset_new();
    ag_paramset_add(PS, A, "a");
    ag_paramset_add(PS, B, "b");
}

static void teardown(void)
{
    ag_paramset_free(PS);
    ag_param_free(A);
    ag_param_free(B);
}

/* Make every parameter entry equal to v, as if an epoch had trained them. */
static void set_all(ag_real v)
{
    for (size_t i = 0; i < 4; i++) ag_data(A)[i] = v + (ag_real)i;
    for (size_t i = 0; i < 3; i++) ag_data(B)[i] = -v - (ag_real)i;
}

TestSuite(early_stop, .init = setup, .fini = teardown);

Test(early_stop, restores_the_best_and_stops_after_patience)
{
    ag_early_stop *e = ag_early_stop_new(PS, 2, 0.01, 1);
    cr_assert_not_null(e);
    cr_assert_eq(ag_early_stop_restore(e), AG_ESTATE); /* nothing yet */
    double acc[] = {0.50, 0.70, 0.705 /* below min_delta */, 0.69, 0.60};
    int stop[] = {0, 0, 0, 0, 1};
    for (int ep = 0; ep < 5; ep++) {
        set_all((ag_real)(10 * ep));
        cr_assert_eq(ag_early_stop_update(e, acc[ep]), stop[ep], "epoch %d", ep);
        cr_assert_eq(ag_early_stop_improved(e), ep <= 1, "epoch %d", ep);
    }
    cr_assert_float_eq(ag_early_stop_best(e), 0.70, 1e-12);
    cr_assert_eq(ag_early_stop_best_epoch(e), 1);
    cr_assert_eq(ag_early_stop_restore(e), AG_OK);
    /* the parameters of epoch 1 (v = 10) are back */
    for (size_t i = 0; i < 4; i++) cr_assert_eq(ag_data(A)[i], 10 + (ag_real)i);
    for (size_t i = 0; i < 3; i++) cr_assert_eq(ag_data(B)[i], -10 - (ag_real)i);
    ag_early_stop_free(e);
}

Test(early_stop, minimise_a_loss)
{
    ag_early_stop *e = ag_early_stop_new(PS, 0, 0, 0);
    set_all(1);
    cr_assert_eq(ag_early_stop_update(e, 2.0), 0);
    set_all(2);
    cr_assert_eq(ag_early_stop_update(e, 1.5), 0);
    set_all(3);
    cr_assert_eq(ag_early_stop_update(e, NAN), 1); /* NaN never improves; patience 0 */
    ag_early_stop_restore(e);
    cr_assert_eq(ag_data(A)[0], 2);
    ag_early_stop_free(e);
}

Test(early_stop, bad_arguments)
{
    cr_assert_null(ag_early_stop_new(PS, -1, 0, 1));
    cr_assert(strstr(ag_last_errmsg(), "patience") != NULL);
    cr_assert_null(ag_early_stop_new(NULL, 1, 0, 1));
    ag_early_stop_free(NULL);
}
