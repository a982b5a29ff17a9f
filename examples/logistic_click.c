/* Logistic regression: will a user click on an ad?
 *
 * Each impression has three features:
 *   position   slot of the ad on the page, 1 (top) to 5
 *   time       seconds the user has spent on the page, 5 to 300
 *   past_rate  fraction of the ads this user clicked before, 0 to 0.3
 * and a label y = 1 (clicked) or 0. The data are generated from a known
 * model, so we can compare what gradient descent learns with the truth:
 *
 *     P(click) = sigmoid(b + w_pos position + w_time time + w_rate past_rate)
 *     sigmoid(z) = 1 / (1 + exp(-z))
 *
 * The model is the same formula with unknown w and b. Training minimises the
 * log-loss (cross-entropy) over the n training examples:
 *
 *     J = -1/n sum_i [ y_i log(p_i) + (1 - y_i) log(1 - p_i) ],  p_i = sigmoid(z_i)
 *
 * Written that way, p_i rounds to exactly 0 or 1 once |z_i| is large (about
 * 17 in float) and log(0) = -inf poisons the loss. The same function has a
 * form with nothing to overflow: log(p) = -softplus(-z) and
 * log(1 - p) = -softplus(z), with softplus(z) = log(1 + exp(z)), and since
 * softplus(z) - softplus(-z) = z,
 *
 *     J = 1/n sum_i [ softplus(z_i) - y_i z_i ].
 *
 * ag_softplus() computes softplus without overflow, so the loss is composed
 * from primitives in that form. Its gradient has a closed form, which the
 * program checks against the tape's:
 *
 *     dJ/dz_i = (sigmoid(z_i) - y_i) / n
 *     dJ/dw   = 1/n sum_i (p_i - y_i) x_i,    dJ/db = 1/n sum_i (p_i - y_i)
 *
 * As in house_price.c, the features are standardised (zero mean, unit
 * variance) before training, so that one learning rate suits every weight,
 * and the learned weights are converted back to the original units at the end.
 *
 * Build and run:  meson setup build && meson compile -C build && ./build/examples/logistic_click
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "agrad.h"

#define N_TRAIN 800
#define N_TEST 200
#define N (N_TRAIN + N_TEST)
#define F 3 /* features */

static const char *const NAME[F] = {"position", "time", "past_rate"};
/* The true model, in the original units: a lower slot, a short visit and a
 * user who rarely clicks all make a click less likely. */
static const double TRUE_W[F] = {-0.5, 0.008, 10.0};
static const double TRUE_B = -1.0;

/* Uniform in [0, 1), from a small fixed generator so every run is the same. */
static double uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1.0p-53;
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

/* Fraction of the n rows whose prediction p >= 0.5 matches the label. */
static double accuracy(const ag_real *p, const ag_real *y, int n)
{
    int right = 0;
    for (int i = 0; i < n; i++)
        right += (p[i] >= 0.5) == (y[i] == 1);
    return (double)right / n;
}

int main(void)
{
    /* ---- data: raw features, labels drawn from the true model ---- */
    static double raw[N][F];
    static ag_real x[N * F], y[N];
    unsigned long long seed = 7;
    int clicks = 0;
    for (int i = 0; i < N; i++) {
        raw[i][0] = 1 + (int)(5 * uniform(&seed));   /* slot 1..5 */
        raw[i][1] = 5 + 295 * uniform(&seed);        /* seconds */
        raw[i][2] = 0.3 * uniform(&seed);            /* past click rate */
        double z = TRUE_B;
        for (int j = 0; j < F; j++) z += TRUE_W[j] * raw[i][j];
        y[i] = uniform(&seed) < sigmoid(z);          /* a coin with P(click) = sigmoid(z) */
        clicks += y[i] == 1;
    }
    printf("%d impressions, %d clicks (%.0f%%)\n", N, clicks, 100.0 * clicks / N);

    /* Standardise with the training rows' statistics only: the test rows
     * stand for data the model has not seen, so they must not shape it. */
    double mean[F] = {0}, sd[F] = {0};
    for (int j = 0; j < F; j++) {
        for (int i = 0; i < N_TRAIN; i++) mean[j] += raw[i][j];
        mean[j] /= N_TRAIN;
        for (int i = 0; i < N_TRAIN; i++) sd[j] += (raw[i][j] - mean[j]) * (raw[i][j] - mean[j]);
        sd[j] = sqrt(sd[j] / N_TRAIN);
        for (int i = 0; i < N; i++) x[i * F + j] = (ag_real)((raw[i][j] - mean[j]) / sd[j]);
    }

    /* ---- the model: weight w [1, F] (one output, F inputs) and bias b [1] ---- */
    ag_tensor *w = ag_param_new(AG_SHAPE(1, F));
    ag_tensor *b = ag_param_new(AG_SHAPE(1));
    ag_tape *t = ag_tape_new();
    if (!w || !b || !t) {
        fprintf(stderr, "logistic_click: out of memory\n");
        return 1;
    }
    /* Gradients should agree with the closed form to rounding error. */
    const double grad_tol = AG_REAL_IS_DOUBLE ? 1e-12 : 1e-5;
    double worst_grad_diff = 0;
    const double lr = 0.5;
    const int epochs = 100;
    for (int epoch = 0; epoch <= epochs; epoch++) {
        ag_tape_reset(t);
        ag_tensor *xt = ag_tensor_wrap(t, x, AG_SHAPE(N_TRAIN, F));
        ag_tensor *yt = ag_tensor_wrap(t, y, AG_SHAPE(N_TRAIN, 1));
        ag_tensor *z = ag_add(t, ag_matmul_t(t, xt, w, 0, 1), b);        /* z = x w^T + b */
        ag_tensor *p = ag_sigmoid(t, z);                                   /* P(click) */
        ag_tensor *loss = ag_mean_all(t, ag_sub(t, ag_softplus(t, z),      /* mean(softplus(z) */
                                                ag_mul(t, yt, z)));        /*      - y z)      */
        ag_param_zero_grad(w);
        ag_param_zero_grad(b);
        if (ag_backward(t, loss) != AG_OK) {
            fprintf(stderr, "logistic_click: %s\n", ag_tape_errmsg(t));
            return 1;
        }

        /* The tape's gradient against the closed form (p - y) x / n. p is
         * read from the sigmoid node, which the loss does not use: it shares
         * z, so both describe the same model. */
        double gw[F] = {0}, gb = 0;
        const ag_real *pv = ag_data(p);
        for (int i = 0; i < N_TRAIN; i++) {
            double r = (double)pv[i] - y[i];
            for (int j = 0; j < F; j++) gw[j] += r * x[i * F + j] / N_TRAIN;
            gb += r / N_TRAIN;
        }
        double diff = fabs(gb - ag_grad(b)[0]);
        for (int j = 0; j < F; j++) diff = fmax(diff, fabs(gw[j] - ag_grad(w)[j]));
        worst_grad_diff = fmax(worst_grad_diff, diff);

        /* At the start w = b = 0, so p = 1/2 for everyone and J = log 2 = 0.693. */
        if (epoch % 10 == 0)
            printf("epoch %3d  loss %.5f  train accuracy %.3f\n", epoch, (double)ag_data(loss)[0],
                   accuracy(pv, y, N_TRAIN));
        if (epoch == epochs)
            break; /* the last pass only measures */
        /* gradient descent: theta <- theta - lr * dJ/dtheta */
        for (int j = 0; j < F; j++) ag_data(w)[j] -= (ag_real)(lr * ag_grad(w)[j]);
        ag_data(b)[0] -= (ag_real)(lr * ag_grad(b)[0]);
    }

    /* ---- evaluation on the held-out rows, with recording off ---- */
    ag_tape_reset(t);
    ag_tape_set_recording(t, 0);
    ag_tensor *xs = ag_tensor_wrap(t, x + N_TRAIN * F, AG_SHAPE(N_TEST, F));
    ag_tensor *ps = ag_sigmoid(t, ag_add(t, ag_matmul_t(t, xs, w, 0, 1), b));
    if (ag_tape_status(t) != AG_OK) {
        fprintf(stderr, "logistic_click: %s\n", ag_tape_errmsg(t));
        return 1;
    }
    double test_acc = accuracy(ag_data(ps), y + N_TRAIN, N_TEST);
    int test_clicks = 0;
    for (int i = N_TRAIN; i < N; i++) test_clicks += y[i] == 1;
    /* the accuracy of always answering the more common label */
    double baseline = fmax(test_clicks, N_TEST - test_clicks) / N_TEST;
    printf("test accuracy %.3f  (always guessing the common label: %.3f)\n", test_acc, baseline);

    /* Back to the original units: w_z (x - mean) / sd + b_z
     * = sum_j (w_z,j / sd_j) x_j + (b_z - sum_j w_z,j mean_j / sd_j). */
    double bias = ag_data(b)[0];
    printf("%-10s %9s %9s\n", "", "learned", "true");
    for (int j = 0; j < F; j++) {
        double wj = ag_data(w)[j] / sd[j];
        bias -= wj * mean[j];
        printf("%-10s %9.4f %9.4f\n", NAME[j], wj, TRUE_W[j]);
    }
    printf("%-10s %9.4f %9.4f\n", "bias", bias, TRUE_B);

    printf("gradient check: max |tape - closed form| = %.3g over %d steps (tolerance %.0e)\n",
           worst_grad_diff, epochs + 1, grad_tol);
    ag_tape_free(t);
    ag_param_free(w);
    ag_param_free(b);
    if (!(worst_grad_diff <= grad_tol)) {
        fprintf(stderr, "logistic_click: the tape's gradient disagrees with the closed form\n");
        return 1;
    }
    return test_acc > baseline ? 0 : 1;
}
