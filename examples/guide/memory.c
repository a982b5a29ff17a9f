/* Memory and threads: the three lifetimes of a tensor, the arena that makes
 * every training step after the first free of system allocations, inference
 * mode, and one tape per thread (data-parallel gradients).
 *
 * Every allocation of the library goes through a counting allocator
 * (ag_set_allocator), so the program can check its claims; it exits with 1 if
 * one does not hold.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <agrad.h>

/* [allocator] */
static atomic_size_t n_allocs; /* allocations and resizes since the last look */

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud, (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    atomic_fetch_add(&n_allocs, 1);
    return realloc(ptr, new_size);
}
/* [allocator] */

#define B 256  /* batch */
#define IN 8
#define HID 32

static ag_real xs[B * IN], ys[B];
static ag_tensor *w1, *b1, *w2, *b2;

/* y = tanh(x W1^T + b1) W2^T + b2, and the mean squared error against ys[lo, lo + n). */
static ag_tensor *mse(ag_tape *t, ag_tensor *const *p, size_t lo, size_t n)
{
    ag_tensor *x = ag_tensor_wrap(t, xs + lo * IN, AG_SHAPE(n, IN));
    ag_tensor *y = ag_tensor_wrap(t, ys + lo, AG_SHAPE(n, 1));
    ag_tensor *h = ag_tanh(t, ag_add(t, ag_matmul_t(t, x, p[0], 0, 1), p[1]));
    ag_tensor *d = ag_sub(t, ag_add(t, ag_matmul_t(t, h, p[2], 0, 1), p[3]), y);
    return ag_mean_all(t, ag_mul(t, d, d));
}

/* [steps] */
static int train_steps(void)
{
    ag_tensor *p[4] = {w1, b1, w2, b2};
    atomic_store(&n_allocs, 0);
    ag_tape *t = ag_tape_new();
    int ok = t != NULL;
    size_t first_step = 0, arena_after_first = 0;
    for (int step = 0; ok && step < 50; step++) {
        ag_tape_reset(t);                          /* every tensor of the last step dies */
        if (step == 1) {                           /* the first step, and the reset after it */
            first_step = atomic_exchange(&n_allocs, 0);
            arena_after_first = ag_tape_arena_bytes(t);
        }
        ag_tensor *loss = mse(t, p, 0, B);
        for (int i = 0; i < 4; i++)
            ag_param_zero_grad(p[i]);
        ok = ag_backward(t, loss) == AG_OK;
        for (int i = 0; ok && i < 4; i++)          /* SGD, off the tape */
            for (size_t k = 0; k < ag_numel(p[i]); k++)
                ag_data(p[i])[k] -= (ag_real)0.05 * ag_grad(p[i])[k];
    }
    size_t later_steps = atomic_load(&n_allocs);
    printf("step 1: %zu allocations, arena %zu bytes; steps 2-50: %zu allocations, arena %zu bytes\n",
           first_step, arena_after_first, later_steps, ag_tape_arena_bytes(t));
    ag_tape_free(t);
    return ok && first_step > 0 && later_steps == 0;
}
/* [steps] */

/* [lifetimes] */
static int lifetimes(void)
{
    ag_tape *t = ag_tape_new();
    static ag_real buf[3] = {1, 2, 3};
    ag_tensor *own = ag_tensor_new(t, AG_SHAPE(3));          /* 1. owned by the tape */
    ag_tensor *par = ag_param_new(AG_SHAPE(3));              /* 2. owned by the caller */
    ag_tensor *brw = ag_tensor_wrap(t, buf, AG_SHAPE(3));    /* 3. borrows buf */
    buf[0] = 10;                                             /* no copy was made */
    int ok = ag_data(brw)[0] == 10;

    ag_tape_reset(t);                      /* own and brw's header die; par and buf live */
    ag_tensor *y = ag_add(t, own, par);    /* a dead tensor: an error, not a crash */
    printf("after reset: %s\n", ag_tape_errmsg(t));
    ok = ok && ag_is_poisoned(y) && ag_tape_status(t) == AG_ESTATE;
    ag_param_free(par);
    ag_tape_free(t);
    return ok;
}
/* [lifetimes] */

/* [inference] */
static int inference(void)
{
    ag_tensor *p[4] = {w1, b1, w2, b2};
    ag_tape *train = ag_tape_new(), *eval = ag_tape_new();
    ag_tensor *a = mse(train, p, 0, B);
    ag_tape_set_recording(eval, 0);        /* inference mode: compute, record nothing */
    ag_tensor *b = mse(eval, p, 0, B);
    printf("training tape: %zu nodes, %zu bytes; inference tape: %zu nodes, %zu bytes\n",
           ag_tape_nodes(train), ag_tape_arena_bytes(train), ag_tape_nodes(eval),
           ag_tape_arena_bytes(eval));
    int ok = ag_data(a)[0] == ag_data(b)[0] && ag_tape_nodes(eval) == 0 &&
             ag_tape_arena_bytes(eval) < ag_tape_arena_bytes(train);
    ok = ok && ag_backward(eval, b) != AG_OK;   /* nothing to differentiate */
    printf("backward in inference mode: %s\n", ag_tape_errmsg(eval));
    ag_tape_free(train);
    ag_tape_free(eval);
    return ok;
}
/* [inference] */

/* [threads] */
/* Data parallelism: each worker has its own tape and its own gradient
 * buffers (a copy of the parameters), and differentiates the loss of its
 * share of the batch. Tapes share nothing; the parameters' values are only
 * read. The main thread adds the shares' gradients. */
typedef struct worker {
    ag_tensor *p[4]; /* private copies: backward accumulates into their gradients */
    size_t lo, n;
    int status;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    ag_tape *t = ag_tape_new();
    /* mean over the share, times n / B: the shares add up to the batch mean */
    ag_tensor *loss = ag_mul_scalar(t, mse(t, w->p, w->lo, w->n), (ag_real)w->n / B);
    w->status = ag_backward(t, loss);
    ag_tape_free(t);
    return NULL;
}
/* [threads] */

static ag_tensor *param_copy(const ag_tensor *p)
{
    ag_tensor *c = ag_param_new(ag_shape(p), ag_ndim(p));
    if (c)
        memcpy(ag_data(c), ag_data(p), ag_numel(p) * sizeof(ag_real));
    return c;
}

static int data_parallel(void)
{
    ag_tensor *p[4] = {w1, b1, w2, b2};
    worker ws[2] = {{.lo = 0, .n = B / 2}, {.lo = B / 2, .n = B / 2}};
    pthread_t th[2];
    int ok = 1;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            ok &= (ws[k].p[i] = param_copy(p[i])) != NULL;
    for (int k = 0; ok && k < 2; k++)
        ok = pthread_create(&th[k], NULL, work, &ws[k]) == 0;
    for (int k = 0; ok && k < 2; k++)
        pthread_join(th[k], NULL);
    ok = ok && ws[0].status == AG_OK && ws[1].status == AG_OK;

    /* the whole batch on one tape, for comparison */
    ag_tape *t = ag_tape_new();
    for (int i = 0; i < 4; i++)
        ag_param_zero_grad(p[i]);
    ok = ok && ag_backward(t, mse(t, p, 0, B)) == AG_OK;
    double worst = 0;
    for (int i = 0; ok && i < 4; i++)
        for (size_t k = 0; k < ag_numel(p[i]); k++) {
            double sum = (double)ag_grad(ws[0].p[i])[k] + (double)ag_grad(ws[1].p[i])[k];
            worst = fmax(worst, fabs(sum - (double)ag_grad(p[i])[k]));
        }
    printf("two threads, two tapes: gradients agree with one tape within %.1e\n", worst);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            ag_param_free(ws[k].p[i]);
    ag_tape_free(t);
    return ok && worst < 1e-5;
}

/* [pool] */
/* The thread pool splits large kernels (GEMM, unfold...) over independent
 * outputs only, so the result does not depend on the number of threads. */
#define M 192
#define K 256
#define NC 160

static int pool_determinism(void)
{
    static ag_real y[2][M * NC], ga[2][M * K];
    ag_tensor *a = ag_param_new(AG_SHAPE(M, K)), *b = ag_param_new(AG_SHAPE(K, NC));
    int ok = a && b;
    for (size_t i = 0; ok && i < M * K; i++)
        ag_data(a)[i] = (ag_real)sin(0.1 * (double)i);
    for (size_t i = 0; ok && i < K * NC; i++)
        ag_data(b)[i] = (ag_real)cos(0.07 * (double)i);
    for (int k = 0; ok && k < 2; k++) {
        ag_set_threads(k + 1);                       /* 1, then 2 threads */
        ag_tape *t = ag_tape_new();
        ag_tensor *ab = ag_matmul(t, a, b);
        ag_param_zero_grad(a);
        ok = ag_backward(t, ag_sum_all(t, ag_tanh(t, ab))) == AG_OK;
        memcpy(y[k], ag_data(ab), sizeof y[k]);
        memcpy(ga[k], ag_grad(a), sizeof ga[k]);
        ag_tape_free(t);
    }
    ag_set_threads(0);                               /* back to the default */
    ok = ok && memcmp(y[0], y[1], sizeof y[0]) == 0 && memcmp(ga[0], ga[1], sizeof ga[0]) == 0;
    printf("1 thread and 2 threads: product and gradient %s\n",
           ok ? "bitwise identical" : "DIFFER");
    ag_param_free(a);
    ag_param_free(b);
    return ok;
}
/* [pool] */

int main(void)
{
    ag_set_allocator(counting_alloc, NULL); /* before any library object exists */
    for (size_t i = 0; i < B; i++) {
        double s = 0;
        for (size_t j = 0; j < IN; j++) {
            xs[i * IN + j] = (ag_real)sin((double)(i * IN + j));
            s += xs[i * IN + j];
        }
        ys[i] = (ag_real)tanh(s);
    }
    w1 = ag_param_new(AG_SHAPE(HID, IN));
    b1 = ag_param_new(AG_SHAPE(HID));
    w2 = ag_param_new(AG_SHAPE(1, HID));
    b2 = ag_param_new(AG_SHAPE(1));
    if (!w1 || !b1 || !w2 || !b2)
        return 1;
    for (size_t k = 0; k < HID * IN; k++)
        ag_data(w1)[k] = (ag_real)(0.3 * cos((double)k));
    for (size_t k = 0; k < HID; k++)
        ag_data(w2)[k] = (ag_real)(0.2 * sin((double)k + 1));

    int ok_steps = train_steps(), ok_life = lifetimes(), ok_inf = inference();
    int ok_par = data_parallel(), ok_pool = pool_determinism();
    ag_param_free(w1);
    ag_param_free(b1);
    ag_param_free(w2);
    ag_param_free(b2);
    ag_set_allocator(NULL, NULL);
    printf("memory: steps %s, lifetimes %s, inference %s, data parallel %s, pool %s\n",
           ok_steps ? "ok" : "FAILED", ok_life ? "ok" : "FAILED", ok_inf ? "ok" : "FAILED",
           ok_par ? "ok" : "FAILED", ok_pool ? "ok" : "FAILED");
    return ok_steps && ok_life && ok_inf && ok_par && ok_pool ? 0 : 1;
}
