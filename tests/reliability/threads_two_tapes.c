/* Two tapes in two threads at once, both training a GEMM-heavy dense
 * network while the shared thread pool is busy (each GEMM wants the pool;
 * whichever thread does not get it runs its GEMM on its own), give bitwise
 * the same parameters as each run alone. A plain program rather than a
 * Criterion suite so that it also runs under ThreadSanitizer (see
 * tests/reliability/tsan.sh): the sanitizer then checks the pool and the
 * per-thread state for data races. Exit status 0 on success. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agrad.h"

#define BATCH 96
#define IN 192
#define HIDDEN 160
#define OUT 10
#define STEPS 8
#define ROUNDS 4

typedef struct job {
    unsigned seed;
    ag_real w1[HIDDEN * IN], w2[OUT * HIDDEN]; /* parameters after training */
    int status;
} job;

static void fill(ag_real *x, size_t n, unsigned seed, double scale)
{
    uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (ag_real)(scale * ((double)(s >> 11) * 0x1.0p-53 - 0.5));
    }
}

/* STEPS steps of SGD on a 2-layer network from initial values given by seed. */
static void *train(void *arg)
{
    job *j = arg;
    static const size_t xs[2] = {BATCH, IN};
    ag_tensor *w1 = ag_param_new(AG_SHAPE(HIDDEN, IN));
    ag_tensor *w2 = ag_param_new(AG_SHAPE(OUT, HIDDEN));
    ag_real *x = malloc(BATCH * IN * sizeof *x);
    int32_t labels[BATCH];
    ag_tape *t = ag_tape_new();
    j->status = !w1 || !w2 || !x || !t ? AG_ENOMEM : AG_OK;
    if (j->status == AG_OK) {
        fill(ag_data(w1), HIDDEN * IN, j->seed, 0.1);
        fill(ag_data(w2), OUT * HIDDEN, j->seed + 1, 0.1);
        fill(x, BATCH * IN, j->seed + 2, 2.0);
        for (int i = 0; i < BATCH; i++) labels[i] = (int32_t)((i * 7 + j->seed) % OUT);
    }
    for (int s = 0; s < STEPS && j->status == AG_OK; s++) {
        ag_tape_reset(t);
        ag_tensor *h = ag_tanh(t, ag_linear(t, ag_tensor_wrap(t, x, xs, 2), w1, NULL));
        ag_tensor *loss = ag_softmax_cross_entropy(t, ag_linear(t, h, w2, NULL), labels);
        ag_param_zero_grad(w1);
        ag_param_zero_grad(w2);
        j->status = ag_backward(t, loss);
        for (size_t i = 0; j->status == AG_OK && i < ag_numel(w1); i++)
            ag_data(w1)[i] -= (ag_real)0.5 * ag_grad(w1)[i];
        for (size_t i = 0; j->status == AG_OK && i < ag_numel(w2); i++)
            ag_data(w2)[i] -= (ag_real)0.5 * ag_grad(w2)[i];
    }
    if (j->status == AG_OK) {
        memcpy(j->w1, ag_data(w1), sizeof j->w1);
        memcpy(j->w2, ag_data(w2), sizeof j->w2);
    } else {
        fprintf(stderr, "seed %u: %s\n", j->seed, ag_tape_errmsg(t));
    }
    ag_tape_free(t);
    ag_param_free(w1);
    ag_param_free(w2);
    free(x);
    return NULL;
}

static int same(const job *a, const job *b)
{
    return memcmp(a->w1, b->w1, sizeof a->w1) == 0 && memcmp(a->w2, b->w2, sizeof a->w2) == 0;
}

int main(void)
{
    static job alone[2], together[2];
    int threads = ag_get_threads() < 2 ? 2 : ag_get_threads();
    ag_set_threads(threads); /* a pool to compete for, even on one core */
    for (int i = 0; i < 2; i++) {
        alone[i].seed = 10u * (unsigned)i + 1;
        train(&alone[i]);
        if (alone[i].status) {
            fprintf(stderr, "FAIL: run %d alone: status %d\n", i, alone[i].status);
            return 1;
        }
    }
    if (same(&alone[0], &alone[1])) {
        fprintf(stderr, "FAIL: the two seeds trained to the same parameters\n");
        return 1;
    }
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            memset(&together[i], 0, sizeof together[i]);
            together[i].seed = alone[i].seed;
            if (pthread_create(&th[i], NULL, train, &together[i]) != 0) {
                fprintf(stderr, "FAIL: pthread_create\n");
                return 1;
            }
        }
        for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
        for (int i = 0; i < 2; i++) {
            if (together[i].status || !same(&together[i], &alone[i])) {
                fprintf(stderr, "FAIL: round %d, tape %d: status %d, %s\n", r, i,
                        together[i].status,
                        together[i].status ? "failed" : "parameters differ from the run alone");
                return 1;
            }
        }
    }
    printf("two tapes in two threads (pool of %d): %d rounds bitwise equal to the runs alone\n",
           threads, ROUNDS);
    return 0;
}
