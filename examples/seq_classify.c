/* Sequence classification: is this signal a sine, a square or a sawtooth wave?
 *
 * Each example is a noisy wave with a random period (6 to 20 samples),
 * phase, amplitude and offset, observed for a random number of steps
 * (16 to 40). A batch holds sequences of different lengths, padded with zeros
 * to the longest; ag_rnn_forward() is told the lengths, so each sequence's
 * final state is the one after its own last sample and the padding has no
 * effect. The final state of a GRU goes through a dense layer to three class
 * scores (many-to-one), trained with softmax cross-entropy.
 *
 * The three shapes differ in how the signal moves between samples (smooth,
 * flat with jumps, ramps with a drop), which a recurrent cell can read over a
 * period or two whatever the phase and scale.
 *
 * Build and run:  meson setup build && ninja -C build && ./build/examples/seq_classify
 */
#include <math.h>
#include <stdio.h>
#include "agrad.h"

enum { T_MAX = 40, T_MIN = 16, CLASSES = 3, HIDDEN = 24, BATCH = 32 };
enum { N_TRAIN = 2400, N_TEST = 600, EPOCHS = 8 };
static const char *const class_name[CLASSES] = {"sine", "square", "sawtooth"};

typedef struct waves {
    ag_real x[T_MAX];  /* zero after len */
    int64_t len;
    int32_t label;
} waves;

/* One example of class c. */
static void make_wave(ag_rng *g, int32_t c, waves *w)
{
    const double pi = 3.14159265358979323846;
    double period = 6 + 14 * ag_rng_uniform(g), phase = ag_rng_uniform(g);
    double amp = 0.5 + ag_rng_uniform(g), offset = 0.5 * (ag_rng_uniform(g) - 0.5);
    w->len = T_MIN + (int64_t)ag_rng_below(g, T_MAX - T_MIN + 1);
    w->label = c;
    for (int64_t s = 0; s < T_MAX; s++) {
        double u = s / period + phase, f = u - floor(u), v; /* f: position in the period */
        if (c == 0)
            v = sin(2 * pi * u);
        else if (c == 1)
            v = f < 0.5 ? 1 : -1;
        else
            v = 2 * f - 1;
        v = offset + amp * v + 0.1 * ag_rng_normal(g);
        w->x[s] = s < w->len ? (ag_real)v : 0;
    }
}

/* Scores [n, CLASSES] of examples ex[0..n). */
static ag_tensor *scores(ag_tape *t, const ag_rnn *rnn, const ag_dense *head, const waves *ex,
                         const size_t *idx, size_t n)
{
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(n, T_MAX, 1));
    int64_t lengths[BATCH];
    for (size_t i = 0; i < n; i++) {
        const waves *w = &ex[idx ? idx[i] : i];
        for (size_t s = 0; s < T_MAX; s++) ag_data(x)[i * T_MAX + s] = w->x[s];
        lengths[i] = w->len;
    }
    ag_rnn_state last[1];
    ag_rnn_forward(t, rnn, x, lengths, NULL, last);
    return ag_dense_forward(t, head, last[0].h);
}

int main(void)
{
    static waves train[N_TRAIN], test[N_TEST];
    ag_rng g;
    ag_rng_seed(&g, 2026);
    for (size_t i = 0; i < N_TRAIN; i++) make_wave(&g, (int32_t)(i % CLASSES), &train[i]);
    for (size_t i = 0; i < N_TEST; i++) make_wave(&g, (int32_t)(i % CLASSES), &test[i]);

    ag_rnn gru;
    ag_dense head;
    ag_paramset *ps = ag_paramset_new();
    ag_tape *t = ag_tape_new();
    if (!ps || !t || ag_rnn_init(&gru, AG_RNN_GRU, 1, HIDDEN, 1, &g) ||
        ag_dense_init(&head, HIDDEN, CLASSES, 1, &g) || ag_rnn_params(&gru, ps, "gru") ||
        ag_dense_params(&head, ps, "head")) {
        fprintf(stderr, "seq_classify: %s\n", ag_last_errmsg());
        return 1;
    }
    ag_optim *opt = ag_optim_adam(ps, &(ag_adam_opts){.lr = 0.01});
    ag_batcher *batches = ag_batcher_new(N_TRAIN, BATCH, 1, 99);
    if (!opt || !batches) {
        fprintf(stderr, "seq_classify: %s\n", ag_last_errmsg());
        return 1;
    }
    printf("GRU, hidden %d, on %d waves of %d to %d steps\n", HIDDEN, N_TRAIN, T_MIN, T_MAX);
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        double total = 0;
        size_t n, seen = 0;
        const size_t *idx;
        while ((n = ag_batcher_next(batches, &idx)) > 0) {
            int32_t labels[BATCH];
            for (size_t i = 0; i < n; i++) labels[i] = train[idx[i]].label;
            ag_tape_reset(t);
            ag_tensor *loss =
                ag_softmax_cross_entropy(t, scores(t, &gru, &head, train, idx, n), labels);
            ag_optim_zero_grad(opt);
            if (ag_backward(t, loss) != AG_OK) {
                fprintf(stderr, "seq_classify: %s\n", ag_tape_errmsg(t));
                return 1;
            }
            ag_optim_step(opt);
            total += (double)ag_data(loss)[0] * (double)n;
            seen += n;
        }
        printf("epoch %d  train loss %.4f\n", epoch, total / (double)seen);
    }

    /* Test, without recording; count mistakes per class. */
    ag_tape_set_recording(t, 0);
    int correct = 0, per_class[CLASSES] = {0}, count[CLASSES] = {0};
    for (size_t at = 0; at < N_TEST; at += BATCH) {
        size_t n = N_TEST - at < BATCH ? N_TEST - at : BATCH;
        ag_tape_reset(t);
        ag_tensor *s = scores(t, &gru, &head, test + at, NULL, n);
        for (size_t i = 0; i < n; i++) {
            const ag_real *row = ag_data(s) + i * CLASSES;
            int32_t best = 0;
            for (int32_t c = 1; c < CLASSES; c++)
                if (row[c] > row[best])
                    best = c;
            int32_t want = test[at + i].label;
            count[want]++;
            if (best == want)
                correct++, per_class[want]++;
        }
    }
    for (int c = 0; c < CLASSES; c++)
        printf("  %-8s %3d / %3d\n", class_name[c], per_class[c], count[c]);
    double acc = (double)correct / N_TEST;
    printf("test accuracy: %.4f\n", acc);
    ag_batcher_free(batches);
    ag_optim_free(opt);
    ag_paramset_free(ps);
    ag_rnn_fini(&gru);
    ag_dense_fini(&head);
    ag_tape_free(t);
    return acc >= 0.95 ? 0 : 1;
}
