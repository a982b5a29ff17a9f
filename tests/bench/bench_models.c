/* Model benchmarks (tests/bench/, see BENCHMARKS.md of the project):
 * a full training step -- forward, backward, SGD update (lr 0.01) -- float32
 * on random data made once before timing; 20 warm-up steps, then at least
 * 200 steps or 3 s, median of 3 repeats. Each workload runs in its own
 * process so that its peak RSS is its own.
 *
 *   bench_models [--threads N[,M...]] [--quick] [workload ...]
 *
 * Workloads: mlp cnn lstm gru rnn (W-TAPE is bench_tape.c). One line per workload and thread
 * count: name threads steps/s samples/s peak-RSS-MiB params.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "agrad.h"
#include "agrad/optim.h"
#include "agrad/threads.h"

typedef struct bench {
    ag_rng rng;
    ag_paramset *ps;
    ag_real *x, *y;
    int32_t *labels;
    size_t batch;
    ag_dense d[3];
    ag_conv2d conv[2];
    ag_rnn rnn;
} bench;

static ag_real *randn(ag_rng *r, size_t n)
{
    ag_real *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_models: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = (ag_real)ag_rng_normal(r);
    return p;
}

static int32_t *rand_labels(ag_rng *r, size_t n, int classes)
{
    int32_t *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++) l[i] = (int32_t)ag_rng_below(r, (uint64_t)classes);
    return l;
}

/* ---- W-MLP: 784 -> 256 -> ReLU -> 128 -> ReLU -> 10, softmax CE, batch 64 ---- */

static void mlp_setup(bench *b)
{
    b->batch = 64;
    ag_dense_init(&b->d[0], 784, 256, 1, &b->rng);
    ag_dense_init(&b->d[1], 256, 128, 1, &b->rng);
    ag_dense_init(&b->d[2], 128, 10, 1, &b->rng);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", i);
        ag_dense_params(&b->d[i], b->ps, name);
    }
    b->x = randn(&b->rng, 64 * 784);
    b->labels = rand_labels(&b->rng, 64, 10);
}

static ag_tensor *mlp_loss(ag_tape *t, bench *b)
{
    ag_tensor *h = ag_tensor_wrap(t, b->x, AG_SHAPE(64, 784));
    h = ag_relu(t, ag_dense_forward(t, &b->d[0], h));
    h = ag_relu(t, ag_dense_forward(t, &b->d[1], h));
    return ag_softmax_cross_entropy(t, ag_dense_forward(t, &b->d[2], h), b->labels);
}

static void mlp_teardown(bench *b)
{
    for (int i = 0; i < 3; i++) ag_dense_fini(&b->d[i]);
    free(b->x);
    free(b->labels);
}

/* ---- W-CNN: 1x28x28 -> conv(1,8,5,pad 2) -> ReLU -> maxpool 2 -> conv(8,16,5,pad 2)
 *      -> ReLU -> maxpool 2 -> flatten 784 -> Linear 10, softmax CE, batch 32 ---- */

static void cnn_setup(bench *b)
{
    b->batch = 32;
    ag_conv2d_init(&b->conv[0], 1, 8, 5, 5, 1, 2, 1, &b->rng);
    ag_conv2d_init(&b->conv[1], 8, 16, 5, 5, 1, 2, 1, &b->rng);
    ag_dense_init(&b->d[0], 784, 10, 1, &b->rng);
    ag_conv2d_params(&b->conv[0], b->ps, "conv1");
    ag_conv2d_params(&b->conv[1], b->ps, "conv2");
    ag_dense_params(&b->d[0], b->ps, "fc");
    b->x = randn(&b->rng, 32 * 28 * 28);
    b->labels = rand_labels(&b->rng, 32, 10);
}

static ag_tensor *cnn_loss(ag_tape *t, bench *b)
{
    ag_tensor *h = ag_tensor_wrap(t, b->x, AG_SHAPE(32, 1, 28, 28));
    h = ag_maxpool2d(t, ag_relu(t, ag_conv2d_forward(t, &b->conv[0], h)), 2, 2, 0);
    h = ag_maxpool2d(t, ag_relu(t, ag_conv2d_forward(t, &b->conv[1], h)), 2, 2, 0);
    return ag_softmax_cross_entropy(t, ag_dense_forward(t, &b->d[0], ag_flatten(t, h)), b->labels);
}

static void cnn_teardown(bench *b)
{
    ag_conv2d_fini(&b->conv[0]);
    ag_conv2d_fini(&b->conv[1]);
    ag_dense_fini(&b->d[0]);
    free(b->x);
    free(b->labels);
}

/* ---- W-LSTM, W-GRU, W-RNN: [32, 32, 16] -> recurrent H=128 -> last hidden
 *      -> Linear 1, MSE, batch 32 ---- */

static void seq_setup(bench *b, ag_rnn_mode mode)
{
    b->batch = 32;
    ag_rnn_init(&b->rnn, mode, 16, 128, 1, &b->rng);
    ag_dense_init(&b->d[0], 128, 1, 1, &b->rng);
    ag_rnn_params(&b->rnn, b->ps, "rnn");
    ag_dense_params(&b->d[0], b->ps, "head");
    b->x = randn(&b->rng, 32 * 32 * 16);
    b->y = randn(&b->rng, 32);
}

static void lstm_setup(bench *b) { seq_setup(b, AG_RNN_LSTM); }
static void gru_setup(bench *b) { seq_setup(b, AG_RNN_GRU); }
static void rnn_setup(bench *b) { seq_setup(b, AG_RNN_TANH); }

static ag_tensor *seq_loss(ag_tape *t, bench *b)
{
    ag_tensor *x = ag_tensor_wrap(t, b->x, AG_SHAPE(32, 32, 16));
    ag_rnn_state hn = {NULL, NULL};
    ag_rnn_forward(t, &b->rnn, x, NULL, NULL, &hn);
    ag_tensor *pred = ag_dense_forward(t, &b->d[0], hn.h);
    return ag_mse_loss(t, pred, ag_tensor_wrap(t, b->y, AG_SHAPE(32, 1)));
}

static void seq_teardown(bench *b)
{
    ag_rnn_fini(&b->rnn);
    ag_dense_fini(&b->d[0]);
    free(b->x);
    free(b->y);
}

typedef struct workload {
    const char *name;
    size_t params; /* must match BENCHMARKS.md */
    void (*setup)(bench *);
    ag_tensor *(*loss)(ag_tape *, bench *);
    void (*teardown)(bench *);
} workload;

static const workload workloads[] = {
    {"mlp", 235146, mlp_setup, mlp_loss, mlp_teardown},
    {"cnn", 11274, cnn_setup, cnn_loss, cnn_teardown},
    {"lstm", 74881, lstm_setup, seq_loss, seq_teardown},
    {"gru", 56193, gru_setup, seq_loss, seq_teardown},
    {"rnn", 18817, rnn_setup, seq_loss, seq_teardown},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int step(ag_tape *t, bench *b, const workload *w, ag_optim *o)
{
    ag_tape_reset(t);
    ag_tensor *l = w->loss(t, b);
    ag_optim_zero_grad(o);
    if (ag_backward(t, l) != AG_OK) {
        fprintf(stderr, "bench_models %s: %s\n", w->name, ag_tape_errmsg(t));
        return -1;
    }
    return ag_optim_step(o);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs in a child process: prints one line. */
static int run(const workload *w, int threads, int quick)
{
    ag_set_threads(threads);
    bench b;
    memset(&b, 0, sizeof b);
    ag_rng_seed(&b.rng, 42);
    b.ps = ag_paramset_new();
    w->setup(&b);
    size_t np = ag_paramset_numel(b.ps);
    if (np != w->params) {
        fprintf(stderr, "bench_models %s: %zu parameters, expected %zu\n", w->name, np, w->params);
        return 1;
    }
    ag_sgd_opts so = {.lr = 0.01};
    ag_optim *o = ag_optim_sgd(b.ps, &so);
    ag_tape *t = ag_tape_new();
    int warm = quick ? 2 : 20, min_steps = quick ? 5 : 200;
    double min_time = quick ? 0.2 : 3.0;
    for (int i = 0; i < warm; i++)
        if (step(t, &b, w, o))
            return 1;
    double rate[3];
    for (int r = 0; r < 3; r++) {
        long n = 0;
        double t0 = now();
        while (n < min_steps || now() - t0 < min_time) {
            if (step(t, &b, w, o))
                return 1;
            n++;
        }
        rate[r] = (double)n / (now() - t0);
    }
    qsort(rate, 3, sizeof rate[0], cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-5s %d  %10.1f steps/s %10.0f samples/s %8.1f MiB  %zu params\n", w->name, threads,
           rate[1], rate[1] * (double)b.batch, (double)ru.ru_maxrss / 1024, np);
    fflush(stdout);
    ag_tape_free(t);
    ag_optim_free(o);
    w->teardown(&b);
    ag_paramset_free(b.ps);
    return 0;
}

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, nt = 2, quick = 0, nsel = 0;
    const char *sel[16];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            nt = 0;
            for (char *s = strtok(argv[++i], ","); s && nt < 8; s = strtok(NULL, ","))
                threads[nt++] = atoi(s);
        } else if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (nsel < 16) {
            sel[nsel++] = argv[i];
        }
    }
    int failed = 0;
    for (size_t k = 0; k < sizeof workloads / sizeof workloads[0]; k++) {
        const workload *w = &workloads[k];
        int want = nsel == 0;
        for (int i = 0; i < nsel; i++) want |= !strcmp(sel[i], w->name);
        if (!want)
            continue;
        for (int j = 0; j < nt; j++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0)
                _exit(run(w, threads[j], quick));
            int st = 0;
            waitpid(pid, &st, 0);
            failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
    }
    return failed;
}
