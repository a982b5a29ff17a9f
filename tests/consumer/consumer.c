/* A program outside the tree, built against an installed libagrad (pkg-config)
 * or against libagrad as a meson subproject: fits y = 2x + 1 and checks the
 * gradient of its loss by finite differences. */
#include <agrad.h>
#include <math.h>
#include <stdio.h>

static ag_real xs[8] = {0, 1, 2, 3, 4, 5, 6, 7}, ys[8];
static ag_tensor *w, *b;

static ag_tensor *loss_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(8, 1));
    ag_tensor *y = ag_tensor_wrap(t, ys, AG_SHAPE(8, 1));
    ag_tensor *d = ag_add(t, ag_add(t, ag_matmul(t, x, w), b), ag_mul(t, y, ag_scalar(t, -1)));
    return ag_mean_all(t, ag_mul(t, d, d));
}

int main(void)
{
    for (int i = 0; i < 8; i++) ys[i] = 2 * xs[i] + 1;
    w = ag_param_new(AG_SHAPE(1, 1));
    b = ag_param_new(AG_SHAPE(1));
    ag_tape *t = ag_tape_new();
    for (int step = 0; step < 2000; step++) {
        ag_tape_reset(t);
        ag_tensor *l = loss_fn(t, NULL);
        ag_param_zero_grad(w);
        ag_param_zero_grad(b);
        if (ag_backward(t, l) != AG_OK) {
            fprintf(stderr, "consumer: %s\n", ag_tape_errmsg(t));
            return 1;
        }
        ag_data(w)[0] -= (ag_real)0.02 * ag_grad(w)[0];
        ag_data(b)[0] -= (ag_real)0.02 * ag_grad(b)[0];
    }
    ag_tensor *wrt[2] = {w, b};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(loss_fn, NULL, wrt, 2, NULL, &r);
    printf("consumer: w = %.4f, b = %.4f, gradcheck %s\n", (double)ag_data(w)[0],
           (double)ag_data(b)[0], ok ? "pass" : "FAIL");
    int good = ok && fabs(ag_data(w)[0] - 2) < 1e-2 && fabs(ag_data(b)[0] - 1) < 5e-2;
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(b);
    return good ? 0 : 1;
}
