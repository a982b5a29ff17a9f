/* A single linear neuron learns a house price from its area.
 *
 *     price = a * area + b
 *
 * The data are generated with a known a and b plus noise, so we can see
 * whether gradient descent finds them. The area is standardised first
 * (zero mean, unit variance): with raw areas in the hundreds, one learning
 * rate cannot suit both a and b. The learned weights are converted back to
 * the original units at the end.
 *
 * Build and run:  meson setup build && meson compile -C build && ./build/examples/house_price
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "agrad.h"

#define N 200
#define TRUE_A 3.0   /* thousand per square metre */
#define TRUE_B 50.0  /* thousand */

/* Uniform in [0, 1), from a small fixed generator so every run is the same. */
static double uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1.0p-53;
}

int main(void)
{
    static ag_real area[N], z[N], price[N];
    unsigned long long seed = 2024;
    double mean = 0, var = 0;
    for (int i = 0; i < N; i++) {
        area[i] = (ag_real)(40 + 160 * uniform(&seed));              /* 40..200 m^2 */
        double noise = 20 * (uniform(&seed) + uniform(&seed) - 1);   /* about +-20 */
        price[i] = (ag_real)(TRUE_A * area[i] + TRUE_B + noise);
        mean += area[i];
    }
    mean /= N;
    for (int i = 0; i < N; i++) var += (area[i] - mean) * (area[i] - mean);
    double sd = sqrt(var / N);
    for (int i = 0; i < N; i++) z[i] = (ag_real)((area[i] - mean) / sd);

    /* The neuron: weight w [1,1] and bias c [1], on the standardised area. */
    ag_tensor *w = ag_param_new(AG_SHAPE(1, 1));
    ag_tensor *c = ag_param_new(AG_SHAPE(1));
    ag_tape *t = ag_tape_new();
    if (!w || !c || !t) {
        fprintf(stderr, "house_price: out of memory\n");
        return 1;
    }
    const double lr = 0.1;
    for (int epoch = 0; epoch <= 100; epoch++) {
        ag_tape_reset(t);
        ag_tensor *x = ag_tensor_wrap(t, z, AG_SHAPE(N, 1));
        ag_tensor *y = ag_tensor_wrap(t, price, AG_SHAPE(N, 1));
        ag_tensor *pred = ag_add(t, ag_matmul_t(t, x, w, 0, 1), c);   /* x w^T + c */
        ag_tensor *err = ag_add(t, pred, ag_mul(t, y, ag_scalar(t, -1)));
        ag_tensor *loss = ag_mean_all(t, ag_mul(t, err, err));        /* mean squared error */
        ag_param_zero_grad(w);
        ag_param_zero_grad(c);
        if (ag_backward(t, loss) != AG_OK) {
            fprintf(stderr, "house_price: %s\n", ag_tape_errmsg(t));
            return 1;
        }
        if (epoch % 10 == 0)
            printf("epoch %3d  loss %12.3f\n", epoch, (double)ag_data(loss)[0]);
        /* gradient descent: theta <- theta - lr * dLoss/dtheta */
        ag_data(w)[0] -= (ag_real)(lr * ag_grad(w)[0]);
        ag_data(c)[0] -= (ag_real)(lr * ag_grad(c)[0]);
    }
    /* price = w (area - mean) / sd + c  =>  a = w / sd, b = c - w mean / sd */
    double a = ag_data(w)[0] / sd, b = ag_data(c)[0] - ag_data(w)[0] * mean / sd;
    printf("learned: price = %.3f * area + %.2f   (thousands)\n", a, b);
    printf("true:    price = %.3f * area + %.2f\n", TRUE_A, TRUE_B);
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(c);
    return fabs(a - TRUE_A) < 0.1 && fabs(b - TRUE_B) < 10 ? 0 : 1;
}
