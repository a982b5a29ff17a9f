/* The adding problem (Hochreiter & Schmidhuber 1997), a test of long memory.
 *
 * Each input is a sequence of T = 50 steps with two features: a value drawn
 * uniformly from [0, 1), and a marker that is 1 at exactly two steps (one in
 * each half of the sequence) and 0 elsewhere. The target is the sum of the
 * two marked values. Nothing in the last steps tells the answer: the network
 * has to notice the marked values when they pass and carry them to the end.
 *
 * Always answering 1 (the mean of the target) scores MSE = Var(u1 + u2) =
 * 2/12 = 0.167; a model below that has learnt something, and one near 0 has
 * solved the task.
 *
 * The three cells get the same budget (hidden size, batch, steps, Adam with
 * the same learning rate) and read the sequence many-to-one: the last hidden
 * state goes through a dense layer to one number. The plain RNN is shown for
 * contrast: its gradient through 50 tanh steps fades, and it usually stays
 * near the baseline. The LSTM and the GRU carry the values in gated, additive
 * state and reach an MSE far below it.
 *
 * Build and run:  meson setup build && ninja -C build && ./build/examples/seq_adding [steps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "agrad.h"

enum { T = 50, HIDDEN = 32, BATCH = 64, N_TEST = 2000 };
#define LR 0.01

/* n sequences x [n, T, 2] and targets y [n, 1]. */
static void make_batch(ag_rng *g, ag_real *x, ag_real *y, size_t n)
{
    for (size_t b = 0; b < n; b++) {
        size_t i = (size_t)ag_rng_below(g, T / 2), j = T / 2 + (size_t)ag_rng_below(g, T / 2);
        double sum = 0;
        for (size_t s = 0; s < T; s++) {
            double v = ag_rng_uniform(g);
            int marked = s == i || s == j;
            x[(b * T + s) * 2] = (ag_real)v;
            x[(b * T + s) * 2 + 1] = (ag_real)marked;
            sum += marked ? v : 0;
        }
        y[b] = (ag_real)sum;
    }
}

typedef struct model {
    ag_rnn rnn;
    ag_dense head;
    ag_paramset *ps;
} model;

/* Prediction [n, 1] from x [n, T, 2]: the last hidden state through the dense layer. */
static ag_tensor *predict(ag_tape *t, const model *m, ag_tensor *x)
{
    ag_rnn_state last[1];
    ag_rnn_forward(t, &m->rnn, x, NULL, NULL, last);
    return ag_dense_forward(t, &m->head, last[0].h);
}

/* Mean squared error over the test set, without recording. */
static double test_mse(ag_tape *t, const model *m, ag_real *x, ag_real *y)
{
    double se = 0;
    int was = ag_tape_set_recording(t, 0);
    for (size_t at = 0; at < N_TEST; at += BATCH) {
        size_t n = N_TEST - at < BATCH ? N_TEST - at : BATCH;
        ag_tape_reset(t);
        ag_tensor *p = predict(t, m, ag_tensor_wrap(t, x + at * T * 2, AG_SHAPE(n, T, 2)));
        for (size_t i = 0; i < n; i++) {
            double d = (double)ag_data(p)[i] - (double)y[at + i];
            se += d * d;
        }
    }
    ag_tape_set_recording(t, was);
    return se / N_TEST;
}

/* Wall-clock seconds (C11). */
static double now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct result {
    const char *name;
    size_t params;
    double seconds, mse;
} result;

static int train(ag_rnn_mode mode, const char *name, int steps, ag_real *xt, ag_real *yt,
                 result *res)
{
    model m;
    ag_rng g;
    ag_rng_seed(&g, 7);
    ag_tape *t = ag_tape_new();
    m.ps = ag_paramset_new();
    if (!t || !m.ps || ag_rnn_init(&m.rnn, mode, 2, HIDDEN, 1, &g) ||
        ag_dense_init(&m.head, HIDDEN, 1, 1, &g) || ag_rnn_params(&m.rnn, m.ps, name) ||
        ag_dense_params(&m.head, m.ps, "head")) {
        fprintf(stderr, "seq_adding: %s\n", ag_last_errmsg());
        return 1;
    }
    ag_optim *opt = ag_optim_adam(m.ps, &(ag_adam_opts){.lr = LR});
    static ag_real x[BATCH * T * 2], y[BATCH];
    ag_rng data;
    ag_rng_seed(&data, 1); /* every model sees the same training batches */
    double start = now();
    for (int s = 1; s <= steps; s++) {
        make_batch(&data, x, y, BATCH);
        ag_tape_reset(t);
        ag_tensor *pred = predict(t, &m, ag_tensor_wrap(t, x, AG_SHAPE(BATCH, T, 2)));
        ag_tensor *loss = ag_mse_loss(t, pred, ag_tensor_wrap(t, y, AG_SHAPE(BATCH, 1)));
        ag_optim_zero_grad(opt);
        if (ag_backward(t, loss) != AG_OK) {
            fprintf(stderr, "seq_adding: %s\n", ag_tape_errmsg(t));
            return 1;
        }
        ag_clip_grad_norm(m.ps, 1.0); /* the plain RNN's gradients can spike */
        ag_optim_step(opt);
        if (s % 250 == 0) {
            printf("%-4s step %5d  train mse %.4f\n", name, s, (double)ag_data(loss)[0]);
            fflush(stdout);
        }
    }
    res->name = name;
    res->params = ag_paramset_numel(m.ps);
    res->seconds = now() - start;
    res->mse = test_mse(t, &m, xt, yt);
    ag_optim_free(opt);
    ag_paramset_free(m.ps);
    ag_rnn_fini(&m.rnn);
    ag_dense_fini(&m.head);
    ag_tape_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 1500;
    if (steps < 1) {
        fprintf(stderr, "usage: seq_adding [training steps, default 1500]\n");
        return 2;
    }
    static ag_real xt[N_TEST * T * 2], yt[N_TEST];
    ag_rng g;
    ag_rng_seed(&g, 12345);
    make_batch(&g, xt, yt, N_TEST);
    double base = 0;
    for (size_t i = 0; i < N_TEST; i++) base += ((double)yt[i] - 1) * ((double)yt[i] - 1);
    base /= N_TEST;

    printf("adding problem, T = %d: %d steps of batch %d, hidden %d, Adam lr %g\n", T, steps,
           BATCH, HIDDEN, LR);
    static const struct { ag_rnn_mode mode; const char *name; } models[3] = {
        {AG_RNN_TANH, "rnn"}, {AG_RNN_LSTM, "lstm"}, {AG_RNN_GRU, "gru"}};
    result res[3];
    for (int k = 0; k < 3; k++)
        if (train(models[k].mode, models[k].name, steps, xt, yt, &res[k]))
            return 1;

    printf("\n| model    | params | train time | test MSE | vs baseline |\n");
    printf("| -------- | ------ | ---------- | -------- | ----------- |\n");
    printf("| baseline |      0 |         -  | %8.4f |       1.000 |\n", base);
    for (int k = 0; k < 3; k++)
        printf("| %-8s | %6zu | %8.1f s | %8.4f | %11.3f |\n", res[k].name, res[k].params,
               res[k].seconds, res[k].mse, res[k].mse / base);
    printf("\n");
    for (int k = 0; k < 3; k++) printf("%s test mse: %.4f\n", res[k].name, res[k].mse);
    return res[1].mse < 0.01 && res[2].mse < 0.01 ? 0 : 1;
}
