/* The thread pool: chunks cover the range exactly once, small loops stay on
 * the caller, nested and concurrent regions run, AGRAD_THREADS. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "common.h"
#include "internal.h"

typedef struct cover {
    _Atomic int hits[1000];
    _Atomic int calls;
    pthread_t caller;
    _Atomic int off_caller; /* chunks run by another thread */
} cover;

static void mark(void *ctx, size_t lo, size_t hi)
{
    cover *c = ctx;
    cr_assert_lt(lo, hi);
    for (size_t i = lo; i < hi; i++) atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->calls, 1);
    if (!pthread_equal(pthread_self(), c->caller))
        atomic_fetch_add(&c->off_caller, 1);
}

static cover *run(size_t n, size_t min_chunk)
{
    static cover c;
    memset(&c, 0, sizeof c);
    c.caller = pthread_self();
    agi_parallel_for(n, min_chunk, mark, &c);
    for (size_t i = 0; i < n; i++) cr_assert_eq(c.hits[i], 1, "n=%zu index %zu", n, i);
    return &c;
}

Test(threads, chunks_cover_range_once)
{
    for (int t = 1; t <= 4; t++) {
        ag_set_threads(t);
        cr_assert_eq(ag_get_threads(), t);
        for (size_t n = 1; n < 40; n += 3) {
            cover *c = run(n, 1);
            size_t most = t == 1 ? 1 : 4 * (size_t)t; /* at most 4 chunks per thread */
            cr_assert_eq(c->calls, (int)(n < most ? n : most), "n=%zu t=%d", n, t);
        }
        run(1000, 7);
    }
    ag_set_threads(0);
}

/* 8 chunks on 2 threads: the caller's block is chunks 0-3, the worker's
 * 4-7. The caller's first chunk waits until the worker has claimed one; a
 * chunk run by the worker waits until every other chunk is done (each wait
 * up to 10 s). So the worker runs exactly one chunk, which must be the first
 * of its own block, and the caller must take the rest of that block. */
typedef struct steal {
    pthread_t caller;
    _Atomic int done[8], off_caller[8], timed_out;
} steal;

static void steal_chunk(void *ctx, size_t lo, size_t hi)
{
    steal *s = ctx;
    cr_assert_eq(hi, lo + 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pthread_equal(pthread_self(), s->caller) && lo == 0) {
        for (;;) {
            int claimed = 0;
            for (size_t j = 0; j < 8; j++) claimed |= atomic_load(&s->off_caller[j]);
            if (claimed)
                break;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= 10) {
                atomic_store(&s->timed_out, 1);
                break;
            }
        }
    } else if (!pthread_equal(pthread_self(), s->caller)) {
        atomic_store(&s->off_caller[lo], 1);
        for (;;) {
            int others = 0;
            for (size_t j = 0; j < 8; j++) others += j != lo && atomic_load(&s->done[j]);
            if (others == 7)
                break;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= 10) {
                atomic_store(&s->timed_out, 1);
                break;
            }
        }
    }
    atomic_store(&s->done[lo], 1);
}

Test(threads, own_block_first_then_the_rest, .timeout = 30)
{
    ag_set_threads(2);
    for (int rep = 0; rep < 20; rep++) {
        static steal s;
        memset(&s, 0, sizeof s);
        s.caller = pthread_self();
        agi_parallel_for(8, 1, steal_chunk, &s);
        cr_assert(!s.timed_out, "rep %d: a wait timed out", rep);
        for (int i = 0; i < 8; i++) {
            cr_assert(s.done[i], "rep %d: chunk %d not run", rep, i);
            if (i != 4)
                cr_assert(!s.off_caller[i], "rep %d: chunk %d ran on a worker", rep, i);
        }
    }
    ag_set_threads(0);
}

/* Each chunk waits (up to 10 s) until two threads are inside a chunk at
 * once: it passes only if workers really run chunks concurrently. */
static _Atomic int now_inside, max_inside;
static void meet(void *ctx, size_t lo, size_t hi)
{
    (void)ctx, (void)lo, (void)hi;
    int k = atomic_fetch_add(&now_inside, 1) + 1;
    int m = atomic_load(&max_inside);
    while (k > m && !atomic_compare_exchange_weak(&max_inside, &m, k)) {}
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while (atomic_load(&max_inside) < 2 && t.tv_sec - t0.tv_sec < 10);
    atomic_fetch_sub(&now_inside, 1);
}

Test(threads, workers_run_concurrently)
{
    ag_set_threads(2);
    agi_parallel_for(2, 1, meet, NULL);
    cr_assert_eq(max_inside, 2);
    ag_set_threads(0);
}

Test(threads, small_loops_stay_on_caller)
{
    ag_set_threads(3);
    cover *c = run(100, 60); /* fewer than two chunks of 60 */
    cr_assert_eq(c->calls, 1);
    cr_assert_eq(c->off_caller, 0);
    c = run(100, 50);
    cr_assert_eq(c->calls, 2);
    c = run(100, 1);
    cr_assert_eq(c->calls, 12);
    run(0, 1);
    ag_set_threads(0);
}

static void nested(void *ctx, size_t lo, size_t hi)
{
    _Atomic int *sum = ctx;
    for (size_t i = lo; i < hi; i++) {
        cover inner;
        memset(&inner, 0, sizeof inner);
        inner.caller = pthread_self();
        agi_parallel_for(10, 1, mark, &inner); /* serial inside a region */
        cr_assert_eq(inner.calls, 1);
        cr_assert_eq(inner.off_caller, 0);
        atomic_fetch_add(sum, 1);
    }
}

Test(threads, nested_regions_run_serially)
{
    ag_set_threads(2);
    _Atomic int sum = 0;
    agi_parallel_for(8, 1, nested, &sum);
    cr_assert_eq(sum, 8);
    ag_set_threads(0);
}

static void add_range(void *ctx, size_t lo, size_t hi)
{
    _Atomic long *s = ctx;
    for (size_t i = lo; i < hi; i++) atomic_fetch_add(s, (long)i);
}

static void *user_thread(void *arg)
{
    long *ok = arg;
    for (int r = 0; r < 200; r++) {
        _Atomic long s = 0;
        agi_parallel_for(1000, 1, add_range, &s);
        *ok += s == 999L * 1000 / 2;
    }
    return NULL;
}

Test(threads, concurrent_callers)
{
    ag_set_threads(2);
    pthread_t th[3];
    long ok[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, user_thread, &ok[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) cr_assert_eq(ok[i], 200);
    ag_set_threads(0);
}

Test(threads, environment_and_limits)
{
    setenv("AGRAD_THREADS", "3", 1);
    ag_set_threads(0);
    cr_assert_eq(ag_get_threads(), 3);
    setenv("AGRAD_THREADS", "junk", 1);
    ag_set_threads(0);
    cr_assert_geq(ag_get_threads(), 1);
    unsetenv("AGRAD_THREADS");
    ag_set_threads(1000);
    cr_assert_eq(ag_get_threads(), 64);
    ag_set_threads(-5);
    cr_assert_geq(ag_get_threads(), 1);
}

static void set_inside(void *ctx, size_t lo, size_t hi)
{
    (void)ctx, (void)lo, (void)hi;
    ag_set_threads(1); /* must not wait for the region it runs in */
}

Test(threads, set_threads_from_inside_a_region, .timeout = 20)
{
    ag_set_threads(2);
    agi_parallel_for(2, 1, set_inside, NULL);
    cr_assert_eq(ag_get_threads(), 1);
    cover *c = run(100, 1);
    cr_assert_eq(c->calls, 1);
    ag_set_threads(0);
}

/* Large elementwise ops (binary, relu, tanh, sigmoid, add's gradient) and
 * max over a middle axis are split over the pool: forward values and gradients are bitwise the same
 * for 1, 2 and 3 threads. 3 * 40000 elements: several spans each. */
Test(threads, elementwise_bitwise_across_thread_counts)
{
    enum { N = 3 * 40000 };
    ag_tensor *a = param_rand(AG_SHAPE(3, 40000), -2, 2, 5);
    ag_tensor *b = param_rand(AG_SHAPE(3, 40000), -2, 2, 6);
    static ag_real y1[N], ga1[N], gb1[N];
    int saved = ag_get_threads();
    for (int nt = 1; nt <= 3; nt++) {
        ag_set_threads(nt);
        ag_param_zero_grad(a);
        ag_param_zero_grad(b);
        ag_tape *t = ag_tape_new();
        ag_tensor *h = ag_add(t, ag_mul(t, a, b), ag_sigmoid(t, a));
        ag_tensor *y = ag_tanh(t, ag_relu(t, ag_sub(t, h, b)));
        /* max over the middle axis of [30, 4, 1000]: rows split over threads */
        ag_tensor *m = ag_max(t, ag_reshape(t, h, AG_SHAPE(30, 4, 1000)), (int[]){1}, 1, 0);
        ag_tensor *l = ag_add(t, ag_sum_all(t, ag_mul(t, y, y)), ag_sum_all(t, m));
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        if (nt == 1) {
            memcpy(y1, ag_data(y), sizeof y1);
            memcpy(ga1, ag_grad(a), sizeof ga1);
            memcpy(gb1, ag_grad(b), sizeof gb1);
        } else {
            cr_assert_eq(memcmp(y1, ag_data(y), sizeof y1), 0, "forward differs with %d threads", nt);
            cr_assert_eq(memcmp(ga1, ag_grad(a), sizeof ga1), 0, "grad a differs with %d threads", nt);
            cr_assert_eq(memcmp(gb1, ag_grad(b), sizeof gb1), 0, "grad b differs with %d threads", nt);
        }
        ag_tape_free(t);
    }
    ag_set_threads(saved);
    ag_param_free(a);
    ag_param_free(b);
}

/* Broadcast forwards large enough to be split along the output's first
 * axis: the same bits for 1, 2 and 3 threads, each element equal to the op
 * applied to the two entries it comes from. */
Test(threads, broadcast_forward_split_by_rows)
{
    enum { R = 300, C = 4, L = 100, N = R * C * L };
    ag_tensor *x = param_rand(AG_SHAPE(R, C, L), -2, 2, 7);
    ag_tensor *bias = param_rand(AG_SHAPE(C, 1), -2, 2, 8);   /* along the middle axis */
    ag_tensor *row = param_rand(AG_SHAPE(1, C, L), 1, 2, 9);  /* the same for every row */
    static ag_real y1[3][N];
    int saved = ag_get_threads();
    for (int nt = 1; nt <= 3; nt++) {
        ag_set_threads(nt);
        ag_tape *t = ag_tape_new();
        ag_tensor *y[3] = {ag_add(t, x, bias), ag_sub(t, row, x), ag_div(t, x, row)};
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
        for (int k = 0; k < 3; k++) {
            if (nt == 1) {
                memcpy(y1[k], ag_data(y[k]), sizeof y1[k]);
                for (size_t i = 0; i < N; i++) {
                    size_t c = i / L % C, l = i % L;
                    ag_real xi = ag_data(x)[i], bi = ag_data(bias)[c], ri = ag_data(row)[c * L + l];
                    ag_real want = k == 0 ? xi + bi : k == 1 ? ri - xi : xi / ri;
                    cr_assert_eq(y1[k][i], want, "op %d element %zu", k, i);
                }
            } else {
                cr_assert_eq(memcmp(y1[k], ag_data(y[k]), sizeof y1[k]), 0, "op %d differs with %d threads", k, nt);
            }
        }
        ag_tape_free(t);
    }
    ag_set_threads(saved);
    ag_param_free(x);
    ag_param_free(bias);
    ag_param_free(row);
}
