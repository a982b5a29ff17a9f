/* Fault injection over a full training step of each layer type: the k-th
 * allocation fails, for every k from the first to one past the last the
 * step makes. The step builds an Adam optimizer, records forward and loss
 * on a tape, runs backward and updates; on a reused tape it runs twice
 * (the second step goes through the arena's reset). Every run must end in
 * AG_OK or AG_ENOMEM, never a crash; no allocation may outlive the step
 * (the allocator counts them); and the parameters are either exactly as
 * before the step or exactly as after a step without faults, never half
 * updated. A failed GEMM packing buffer is not an error (GEMM falls back
 * to a static buffer with the same results), so some faulted runs succeed:
 * they must then give exactly the fault-free update. The pool runs with one
 * thread, so the only long-lived allocation, GEMM's per-thread packing
 * buffer, is the calling thread's, released after each step. */
#include <stdlib.h>
#include "common.h"
#include "fault_alloc.h"
#include "../../ops/kernels/kernels.h"

#define MAX_PARAMS 8

typedef struct model model;
typedef ag_tensor *(*forward_fn)(ag_tape *t, const model *m, ag_tensor *x);

struct model {
    const char *name;
    ag_dense fc, fc2;
    ag_conv2d conv;
    ag_conv1d conv1;
    ag_tensor *emb;            /* embedding table, for the gather step */
    ag_rnn rnn;
    ag_paramset *ps;
    size_t in_shape[4];
    int in_nd;
    forward_fn forward;        /* input -> [batch, classes] scores */
};

/* Sizes large enough that a step's working set spans several arena chunks,
 * so faults land in the middle of forward as well as at its start. */
#define B 16
static int32_t labels[B];

static ag_tensor *dense_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    return ag_dense_forward(t, &m->fc2, ag_relu(t, ag_dense_forward(t, &m->fc, x)));
}

static ag_tensor *conv_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    ag_tensor *h = ag_tanh(t, ag_conv2d_forward(t, &m->conv, x));
    return ag_dense_forward(t, &m->fc, ag_flatten(t, h));
}

static ag_tensor *pool_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    ag_tensor *h = ag_maxpool2d(t, ag_conv2d_forward(t, &m->conv, x), 2, 0, 0);
    h = ag_avgpool2d(t, h, 3, 1, 1);
    ag_tensor *g = ag_global_avgpool2d(t, h);
    return ag_dense_forward(t, &m->fc, ag_add(t, ag_flatten(t, h), ag_sum(t, g, (const int[]){1}, 1, 1)));
}

static ag_tensor *conv1d_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    ag_tensor *h = ag_relu(t, ag_conv1d_forward(t, &m->conv1, x));
    return ag_dense_forward(t, &m->fc, ag_flatten(t, h));
}

/* A 2-layer recurrent stack over [B, 6, 8] sequences; the last step's
 * hidden state goes to a dense head. */
static ag_tensor *rnn_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    ag_tensor *h = ag_rnn_forward(t, &m->rnn, x, NULL, NULL, NULL);
    ag_tensor *last = ag_reshape(t, ag_slice(t, h, 1, 5, 1), AG_SHAPE(B, 12));
    return ag_dense_forward(t, &m->fc, last);
}

/* An embedding lookup with more indices than ag_gather keeps on the stack,
 * so its copy of the indices comes from the allocator too. */
static ag_tensor *gather_fwd(ag_tape *t, const model *m, ag_tensor *x)
{
    static int64_t idx[B * 150];
    for (int i = 0; i < B * 150; i++) idx[i] = (i * 7) % 10;
    ag_tensor *e = ag_reshape(t, ag_gather(t, m->emb, 0, idx, B * 150), AG_SHAPE(B, 150, 3));
    return ag_add(t, ag_mean(t, e, (const int[]){1}, 1, 0), ag_dense_forward(t, &m->fc, x));
}

static void model_init(model *m, const char *kind)
{
    memset(m, 0, sizeof *m);
    m->name = kind;
    ag_rng r;
    ag_rng_seed(&r, 42);
    m->ps = ag_paramset_new();
    cr_assert_not_null(m->ps);
    int rc = AG_OK;
    if (!strcmp(kind, "dense")) {
        rc |= ag_dense_init(&m->fc, 64, 128, 1, &r) | ag_dense_init(&m->fc2, 128, 3, 1, &r);
        rc |= ag_dense_params(&m->fc, m->ps, "fc") | ag_dense_params(&m->fc2, m->ps, "fc2");
        memcpy(m->in_shape, (size_t[]){B, 64}, 2 * sizeof(size_t));
        m->in_nd = 2;
        m->forward = dense_fwd;
    } else if (!strcmp(kind, "conv2d")) {
        rc |= ag_conv2d_init(&m->conv, 1, 6, 3, 3, 1, 1, 1, &r) | ag_dense_init(&m->fc, 864, 3, 1, &r);
        rc |= ag_conv2d_params(&m->conv, m->ps, "conv") | ag_dense_params(&m->fc, m->ps, "fc");
        memcpy(m->in_shape, (size_t[]){B, 1, 12, 12}, 4 * sizeof(size_t));
        m->in_nd = 4;
        m->forward = conv_fwd;
    } else if (!strcmp(kind, "pool")) {
        rc |= ag_conv2d_init(&m->conv, 2, 4, 1, 1, 1, 0, 1, &r) | ag_dense_init(&m->fc, 144, 3, 1, &r);
        rc |= ag_conv2d_params(&m->conv, m->ps, "conv") | ag_dense_params(&m->fc, m->ps, "fc");
        memcpy(m->in_shape, (size_t[]){B, 2, 12, 12}, 4 * sizeof(size_t));
        m->in_nd = 4;
        m->forward = pool_fwd;
    } else if (!strcmp(kind, "conv1d")) {
        rc |= ag_conv1d_init(&m->conv1, 2, 6, 3, 1, 1, 1, &r) | ag_dense_init(&m->fc, 240, 3, 1, &r);
        rc |= ag_conv1d_params(&m->conv1, m->ps, "conv") | ag_dense_params(&m->fc, m->ps, "fc");
        memcpy(m->in_shape, (size_t[]){B, 2, 40}, 3 * sizeof(size_t));
        m->in_nd = 3;
        m->forward = conv1d_fwd;
    } else if (!strcmp(kind, "rnn") || !strcmp(kind, "lstm") || !strcmp(kind, "gru")) {
        ag_rnn_mode mode = kind[0] == 'r' ? AG_RNN_TANH : kind[0] == 'l' ? AG_RNN_LSTM : AG_RNN_GRU;
        rc |= ag_rnn_init(&m->rnn, mode, 8, 12, 2, &r) | ag_dense_init(&m->fc, 12, 3, 1, &r);
        rc |= ag_rnn_params(&m->rnn, m->ps, "rnn") | ag_dense_params(&m->fc, m->ps, "fc");
        memcpy(m->in_shape, (size_t[]){B, 6, 8}, 3 * sizeof(size_t));
        m->in_nd = 3;
        m->forward = rnn_fwd;
    } else {
        m->emb = param_rand(AG_SHAPE(10, 3), -1, 1, 7);
        rc |= ag_dense_init(&m->fc, 64, 3, 0, &r);
        rc |= ag_paramset_add(m->ps, m->emb, "emb") | ag_dense_params(&m->fc, m->ps, "fc");
        memcpy(m->in_shape, (size_t[]){B, 64}, 2 * sizeof(size_t));
        m->in_nd = 2;
        m->forward = gather_fwd;
    }
    cr_assert_eq(rc, AG_OK, "%s: set-up failed: %s", kind, ag_last_errmsg());
}

static void model_fini(model *m)
{
    ag_dense_fini(&m->fc);
    ag_dense_fini(&m->fc2);
    ag_conv2d_fini(&m->conv);
    ag_conv1d_fini(&m->conv1);
    ag_param_free(m->emb);
    ag_rnn_fini(&m->rnn);
    ag_paramset_free(m->ps);
}

/* Copy every parameter's values out (or back in when restore is set). */
static void snapshot(const model *m, ag_real *buf, int restore)
{
    for (size_t i = 0; i < ag_paramset_count(m->ps); i++) {
        ag_tensor *p = ag_paramset_get(m->ps, i);
        size_t n = ag_numel(p);
        if (restore)
            memcpy(ag_data(p), buf, n * sizeof *buf);
        else
            memcpy(buf, ag_data(p), n * sizeof *buf);
        buf += n;
    }
}

/* One or two training steps; returns the first failure or AG_OK. The
 * update happens only after a complete backward, for every parameter. */
static int train(const model *m, const ag_real *x, int steps)
{
    ag_optim *o = ag_optim_adam(m->ps, NULL);
    if (!o)
        return strstr(ag_last_errmsg(), "out of memory") ? AG_ENOMEM : AG_EINVAL;
    ag_tape *t = ag_tape_new();
    int rc = t ? AG_OK : AG_ENOMEM;
    for (int s = 0; s < steps && rc == AG_OK; s++) {
        ag_tape_reset(t);
        ag_tensor *xt = ag_tensor_wrap(t, (ag_real *)x, m->in_shape, m->in_nd);
        ag_tensor *loss = ag_softmax_cross_entropy(t, m->forward(t, m, xt), labels);
        ag_optim_zero_grad(o);
        rc = ag_backward(t, loss);
        if (rc == AG_OK)
            rc = ag_optim_step(o);
    }
    ag_tape_free(t);
    ag_optim_free(o);
    agi_gemm_release();
    return rc;
}

static size_t total_runs;

static void fault_loop(const char *kind, int steps)
{
    static ag_real x[B * 2 * 12 * 12];
    fill_uniform(x, sizeof x / sizeof x[0], -1, 1, 11);
    for (int i = 0; i < B; i++) labels[i] = (i * 5) % 3;
    int threads = ag_get_threads();
    ag_set_threads(1);
    agi_gemm_release();
    ag_set_allocator(faulty, NULL);
    model m;
    model_init(&m, kind);
    size_t np = ag_paramset_numel(m.ps);
    ag_real *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    ag_real *got = malloc(np * sizeof *got);
    cr_assert(before && after && got);
    snapshot(&m, before, 0);

    /* the reference: no fault; count its allocations */
    long base = live;
    calls = 0;
    cr_assert_eq(train(&m, x, steps), AG_OK, "%s: %s", kind, ag_last_errmsg());
    long n_alloc = calls;
    cr_assert_eq(live, base, "%s: the step leaked %ld blocks", kind, live - base);
    snapshot(&m, after, 0);
    cr_assert(memcmp(before, after, np * sizeof *before) != 0, "%s: the step changed nothing", kind);

    int failed = 0, ok = 0;
    for (long k = 0; k <= n_alloc; k++) {
        snapshot(&m, before, 1);
        countdown = k;
        int rc = train(&m, x, steps);
        countdown = -1;
        total_runs++;
        cr_assert(rc == AG_OK || rc == AG_ENOMEM, "%s, k=%ld: status %d (%s)", kind, k, rc,
                  ag_last_errmsg());
        cr_assert_eq(live, base, "%s, k=%ld: %ld blocks leaked", kind, k, live - base);
        snapshot(&m, got, 0);
        if (rc == AG_OK) {
            ok++;
            cr_assert(memcmp(got, after, np * sizeof *got) == 0, "%s, k=%ld: wrong update", kind, k);
        } else {
            failed++;
            /* two steps: the first may have completed before the fault */
            int untouched = memcmp(got, before, np * sizeof *got) == 0;
            if (steps == 1)
                cr_assert(untouched, "%s, k=%ld: parameters changed by a failed step", kind, k);
        }
    }
    cr_assert_geq(ok, 1, "%s: no run succeeded", kind);
    cr_assert_geq(failed, n_alloc / 2, "%s: only %d of %ld runs failed", kind, failed, n_alloc);
    fprintf(stderr, "fault %s, %d step(s): %ld allocations, %ld runs, %d failed\n", kind, steps,
            n_alloc, n_alloc + 1, failed);
    free(before);
    free(after);
    free(got);
    model_fini(&m);
    cr_assert_eq(live, 0, "%s: %ld blocks still live after freeing the model", kind, live);
    ag_set_allocator(NULL, NULL);
    ag_set_threads(threads);
}

Test(fault_layers, dense) { fault_loop("dense", 1); fault_loop("dense", 2); }
Test(fault_layers, conv2d) { fault_loop("conv2d", 1); fault_loop("conv2d", 2); }
Test(fault_layers, pool) { fault_loop("pool", 1); fault_loop("pool", 2); }
Test(fault_layers, conv1d) { fault_loop("conv1d", 1); fault_loop("conv1d", 2); }
Test(fault_layers, rnn) { fault_loop("rnn", 1); fault_loop("rnn", 2); }
Test(fault_layers, lstm) { fault_loop("lstm", 1); fault_loop("lstm", 2); }
Test(fault_layers, gru) { fault_loop("gru", 1); fault_loop("gru", 2); }
Test(fault_layers, gather) { fault_loop("gather", 1); fault_loop("gather", 2); }
