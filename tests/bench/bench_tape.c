/* W-TAPE (shared BENCHMARKS.md): a chain of 10,000 recorded elementwise ops on
 * a 16-float parameter, x <- tanh(x * 1.01 + 0.1) repeated, then sum and
 * backward, the tape reset and rebuilt every step. Prints microseconds per
 * recorded op (forward + backward), in thread CPU time: the median over 3
 * repeats of the mean step time, each repeat 20 warm-up steps then at least
 * 200 steps and 3 s (1 s with --quick). Then, unless --tape-only, the
 * elementwise kernel alone: agi_vtanh on 16 values against a libm loop, in
 * ns per call.
 *
 * x * 1.01 + 0.1 is one ag_affine: two recorded ops per link of the chain. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agrad.h"
#include "../../ops/kernels/vmath.h"

enum { N_OPS = 10000, WIDTH = 16, WARMUP = 20, MIN_STEPS = 200, REPEATS = 3 };

/* CPU time of this thread: on a shared machine the wall clock also counts
 * the time other processes hold the core. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One training step; returns the number of recorded ops in the chain. */
static size_t step(ag_tape *t, ag_tensor *x)
{
    ag_tape_reset(t);
    ag_param_zero_grad(x);
    ag_tensor *h = x;
    size_t ops = 0;
    while (ops < N_OPS) {
        h = ag_affine(t, h, (ag_real)1.01, (ag_real)0.1);
        if (++ops == N_OPS)
            break;
        h = ag_tanh(t, h);
        ops++;
    }
    ag_tensor *loss = ag_sum_all(t, h);
    if (ag_backward(t, loss) != AG_OK) {
        fprintf(stderr, "bench_tape: %s\n", ag_tape_errmsg(t));
        exit(1);
    }
    return ops;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static volatile ag_real sink;

/* ns per call of f on 16 values, each call's input depending on the last
 * call's output (the chain of W-TAPE); called through a volatile pointer
 * so that no call is inlined and pruned to the one output that is used. */
static double time_kernel(void (*f)(size_t, const ag_real *, ag_real *), double secs)
{
    void (*volatile fv)(size_t, const ag_real *, ag_real *) = f;
    ag_real x[WIDTH], y[WIDTH];
    for (int i = 0; i < WIDTH; i++)
        x[i] = (ag_real)(-3 + 0.4 * i);
    long calls = 0;
    double t0 = now(), t1;
    do {
        for (int k = 0; k < 1000; k++) {
            fv(WIDTH, x, y);
            x[k & (WIDTH - 1)] += y[k & (WIDTH - 1)] * (ag_real)1e-30;
        }
        calls += 1000;
        t1 = now();
    } while (t1 - t0 < secs);
    sink = y[1];
    return 1e9 * (t1 - t0) / (double)calls;
}

static void libm_tanh(size_t n, const ag_real *x, ag_real *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = AG_REAL_IS_DOUBLE ? (ag_real)tanh(x[i]) : (ag_real)tanhf((float)x[i]);
}

int main(int argc, char **argv)
{
    double secs = 3;
    int kernels = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            secs = 1;
        else if (strcmp(argv[i], "--tape-only") == 0)
            kernels = 0; /* for profiling the tape alone */
    }
    ag_tensor *x = ag_param_new(AG_SHAPE(WIDTH));
    ag_tape *t = ag_tape_new();
    if (!x || !t) {
        fprintf(stderr, "bench_tape: out of memory\n");
        return 1;
    }
    for (int i = 0; i < WIDTH; i++)
        ag_data(x)[i] = (ag_real)(0.05 * i - 0.4);
    double per_op[REPEATS];
    size_t ops = 0;
    for (int r = 0; r < REPEATS; r++) {
        for (int i = 0; i < WARMUP; i++)
            step(t, x);
        long steps = 0;
        double t0 = now(), t1;
        do {
            ops = step(t, x);
            steps++;
            t1 = now();
        } while (steps < MIN_STEPS || t1 - t0 < secs);
        per_op[r] = 1e6 * (t1 - t0) / (double)steps / (double)ops;
    }
    qsort(per_op, REPEATS, sizeof per_op[0], cmp_double);
    printf("W-TAPE: %zu ops on [%d], %s: %.4f us/op forward+backward (median of %d; range %.4f-%.4f)\n",
           ops, WIDTH, AG_REAL_IS_DOUBLE ? "double" : "float", per_op[REPEATS / 2], REPEATS,
           per_op[0], per_op[REPEATS - 1]);
    if (kernels)
        printf("tanh on %d values: agi_vtanh (%s) %.1f ns, libm loop %.1f ns\n", WIDTH,
               agi_vmath_current()->name, time_kernel(agi_vtanh, secs / 3),
               time_kernel(libm_tanh, secs / 3));
    ag_tape_free(t);
    ag_param_free(x);
    return 0;
}
