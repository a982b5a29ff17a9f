/* Fault injection: fail the k-th allocation for k = 1..N during a whole
 * training step. Every run must end in AG_ENOMEM or success, never a crash;
 * nothing leaks (the sanitizer build checks); parameters are either untouched
 * or fully updated. */
#include <stdlib.h>
#include "common.h"
#include "fault_alloc.h"

/* One SGD step of a 2-layer net. Returns the status. */
static int train_step(ag_tensor *w1, ag_tensor *w2, const ag_real *xs)
{
    ag_tape *t = ag_tape_new();
    if (!t)
        return AG_ENOMEM;
    ag_tensor *x = ag_tensor_wrap(t, (ag_real *)xs, AG_SHAPE(8, 5));
    ag_tensor *h = ag_tanh(t, ag_matmul_t(t, x, w1, 0, 1));
    ag_tensor *y = ag_matmul_t(t, h, w2, 0, 1);
    ag_tensor *l = ag_mean_all(t, ag_mul(t, y, y));
    ag_param_zero_grad(w1);
    ag_param_zero_grad(w2);
    int s = ag_backward(t, l);
    if (s == AG_OK) {
        /* update only after a complete backward: all or nothing */
        for (size_t i = 0; i < ag_numel(w1); i++) ag_data(w1)[i] -= (ag_real)0.1 * ag_grad(w1)[i];
        for (size_t i = 0; i < ag_numel(w2); i++) ag_data(w2)[i] -= (ag_real)0.1 * ag_grad(w2)[i];
    }
    ag_tape_free(t);
    return s;
}

Test(fault, every_allocation_of_a_training_step)
{
    static ag_real xs[40];
    fill_uniform(xs, 40, -1, 1, 9);
    ag_set_allocator(faulty, NULL);
    ag_tensor *w1 = param_rand(AG_SHAPE(6, 5), -0.5, 0.5, 1);
    ag_tensor *w2 = param_rand(AG_SHAPE(3, 6), -0.5, 0.5, 2);
    ag_real w1_0[30], w2_0[18], w1_ok[30], w2_ok[18];
    memcpy(w1_0, ag_data(w1), sizeof w1_0);
    memcpy(w2_0, ag_data(w2), sizeof w2_0);
    /* reference: the step without faults */
    long base = live;
    cr_assert_eq(train_step(w1, w2, xs), AG_OK);
    cr_assert_eq(live, base, "the step leaked %ld blocks", live - base);
    memcpy(w1_ok, ag_data(w1), sizeof w1_ok);
    memcpy(w2_ok, ag_data(w2), sizeof w2_ok);

    int failures = 0, successes = 0;
    for (long k = 0; k < 64; k++) {
        memcpy(ag_data(w1), w1_0, sizeof w1_0);
        memcpy(ag_data(w2), w2_0, sizeof w2_0);
        countdown = k;
        int s = train_step(w1, w2, xs);
        countdown = -1;
        cr_assert(s == AG_OK || s == AG_ENOMEM, "k=%ld: status %d", k, s);
        cr_assert_eq(live, base, "k=%ld: leaked %ld blocks", k, live - base);
        if (s == AG_OK) {
            successes++;
            cr_assert(memcmp(ag_data(w1), w1_ok, sizeof w1_ok) == 0, "k=%ld: wrong update", k);
        } else {
            failures++;
            cr_assert(memcmp(ag_data(w1), w1_0, sizeof w1_0) == 0, "k=%ld: half update", k);
            cr_assert(memcmp(ag_data(w2), w2_0, sizeof w2_0) == 0, "k=%ld: half update", k);
        }
    }
    cr_assert_gt(failures, 0, "no allocation was ever failed");
    cr_assert_gt(successes, 0, "the step never completed");
    ag_param_free(w1);
    ag_param_free(w2);
    ag_set_allocator(NULL, NULL);
}

Test(fault, param_new_and_tape_new)
{
    ag_set_allocator(faulty, NULL);
    countdown = 0;
    cr_assert_null(ag_param_new(AG_SHAPE(3)));
    cr_assert(strstr(ag_last_errmsg(), "out of memory") != NULL);
    countdown = 0;
    cr_assert_null(ag_tape_new());
    countdown = -1;
    ag_set_allocator(NULL, NULL);
}

static ag_tensor *gc_fn(ag_tape *t, void *ctx)
{
    return ag_sum_all(t, ag_tanh(t, (ag_tensor *)ctx));
}

Test(fault, gradcheck_out_of_memory_is_reported)
{
    ag_set_allocator(faulty, NULL);
    ag_tensor *w = param_rand(AG_SHAPE(4), -1, 1, 3);
    for (long k = 0; k < 8; k++) {
        countdown = k;
        ag_gradcheck_report r;
        ag_tensor *wrt[1] = {w};
        int ok = ag_gradcheck(gc_fn, w, wrt, 1, NULL, &r);
        countdown = -1;
        cr_assert(ok || r.status == AG_ENOMEM, "k=%ld: status %d %s", k, r.status, r.errmsg);
    }
    ag_param_free(w);
    ag_set_allocator(NULL, NULL);
}
