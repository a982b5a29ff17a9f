/* Shared by the recurrent-layer suites (test_rnn.c, test_lstm.c, test_gru.c):
 * a reference cell written from the equations with plain loops in double, and
 * checks run once per cell kind. */
#ifndef AGRAD_TEST_RECURRENT_COMMON_H
#define AGRAD_TEST_RECURRENT_COMMON_H

#include <stdlib.h>
#include "common.h"

static double sigm(double v) { return 1 / (1 + exp(-v)); }

static int n_gates(ag_rnn_mode m) { return m == AG_RNN_LSTM ? 4 : m == AG_RNN_GRU ? 3 : 1; }

/* The parameters of r, layer by layer (w_ih, w_hh, b_ih, b_hh); returns the count. */
static int list_params(const ag_rnn *r, ag_tensor **p)
{
    for (int l = 0; l < r->num_layers; l++) {
        p[4 * l] = r->layer[l].w_ih, p[4 * l + 1] = r->layer[l].w_hh;
        p[4 * l + 2] = r->layer[l].b_ih, p[4 * l + 3] = r->layer[l].b_hh;
    }
    return 4 * r->num_layers;
}

/* A stack with deterministic weights in [-0.6, 0.6) (wider than the default
 * init, so that the gates leave their linear range). */
static void make_rnn(ag_rnn *r, ag_rnn_mode mode, size_t in, size_t H, int layers, unsigned seed)
{
    ag_rng rng;
    ag_rng_seed(&rng, seed);
    cr_assert_eq(ag_rnn_init(r, mode, in, H, layers, &rng), AG_OK, "%s", ag_last_errmsg());
    ag_tensor *p[4 * AG_RNN_MAX_LAYERS];
    int n = list_params(r, p);
    for (int i = 0; i < n; i++) fill_uniform(ag_data(p[i]), ag_numel(p[i]), -0.6, 0.6, seed + 7u * (unsigned)i);
}

/* One step from the equations, for batch B: h, c [B, H] are updated in place;
 * layer weights as plain arrays in PyTorch's layout. */
static void ref_cell(ag_rnn_mode mode, size_t B, size_t in, size_t H, const ag_real *wih,
                     const ag_real *whh, const ag_real *bih, const ag_real *bhh, const double *x,
                     double *h, double *c)
{
    size_t G = (size_t)n_gates(mode) * H;
    double *gi = malloc(G * sizeof *gi), *gh = malloc(G * sizeof *gh), *hn = malloc(H * sizeof *hn);
    for (size_t b = 0; b < B; b++) {
        const double *xb = x + b * in;
        double *hb = h + b * H, *cb = c ? c + b * H : NULL;
        for (size_t j = 0; j < G; j++) {   /* gi = W_ih x + b_ih, gh = W_hh h + b_hh */
            double s = bih[j], u = bhh[j];
            for (size_t k = 0; k < in; k++) s += wih[j * in + k] * xb[k];
            for (size_t k = 0; k < H; k++) u += whh[j * H + k] * hb[k];
            gi[j] = s, gh[j] = u;
        }
        for (size_t j = 0; j < H; j++) {
            switch (mode) {
            case AG_RNN_TANH: hn[j] = tanh(gi[j] + gh[j]); break;
            case AG_RNN_RELU: hn[j] = fmax(gi[j] + gh[j], 0); break;
            case AG_RNN_LSTM: {
                double i = sigm(gi[j] + gh[j]), f = sigm(gi[H + j] + gh[H + j]);
                double g = tanh(gi[2 * H + j] + gh[2 * H + j]), o = sigm(gi[3 * H + j] + gh[3 * H + j]);
                cb[j] = f * cb[j] + i * g;
                hn[j] = o * tanh(cb[j]);
                break;
            }
            case AG_RNN_GRU: {
                double r = sigm(gi[j] + gh[j]), z = sigm(gi[H + j] + gh[H + j]);
                double n = tanh(gi[2 * H + j] + r * gh[2 * H + j]);
                hn[j] = (1 - z) * n + z * hb[j];
                break;
            }
            }
        }
        memcpy(hb, hn, H * sizeof *hn);
    }
    free(gi), free(gh), free(hn);
}

static void to_double(double *d, const ag_real *x, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = (double)x[i];
}

/* The cell against ref_cell, from a given state and from the zero state (NULL). */
static void check_cell_reference(ag_rnn_mode mode)
{
    enum { B = 3, IN = 4, H = 5 };
    ag_rnn r;
    make_rnn(&r, mode, IN, H, 1, 11);
    const ag_rnn_layer *p = &r.layer[0];
    ag_real x[B * IN], h[B * H], c[B * H];
    fill_uniform(x, B * IN, -1, 1, 1);
    fill_uniform(h, B * H, -1, 1, 2);
    fill_uniform(c, B * H, -1, 1, 3);
    ag_tape *t = ag_tape_new();
    for (int zero_state = 0; zero_state < 2; zero_state++) {
        double xd[B * IN], hd[B * H] = {0}, cd[B * H] = {0};
        to_double(xd, x, B * IN);
        ag_rnn_state s = {NULL, NULL};
        if (!zero_state) {
            to_double(hd, h, B * H), to_double(cd, c, B * H);
            s.h = ag_tensor_wrap(t, h, AG_SHAPE(B, H));
            s.c = mode == AG_RNN_LSTM ? ag_tensor_wrap(t, c, AG_SHAPE(B, H)) : NULL;
        }
        ag_tensor *y = ag_rnn_cell(t, &r, 0, ag_tensor_wrap(t, x, AG_SHAPE(B, IN)), &s);
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
        ref_cell(mode, B, IN, H, ag_data(p->w_ih), ag_data(p->w_hh), ag_data(p->b_ih), ag_data(p->b_hh),
                 xd, hd, cd);
        cr_assert_eq(y, s.h);
        cr_assert_eq(ag_ndim(y), 2);
        cr_assert_eq(ag_dim(y, 0), B);
        cr_assert_eq(ag_dim(y, 1), H);
        assert_close(ag_data(y), hd, B * H, 10 * TOL);
        if (mode == AG_RNN_LSTM)
            assert_close(ag_data(s.c), cd, B * H, 10 * TOL);
        else
            cr_assert_null(s.c);
        ag_tape_reset(t);
    }
    ag_tape_free(t);
    ag_rnn_fini(&r);
}

/* ---- gradchecks ---- */

typedef struct gc_ctx {
    ag_rnn *r;
    ag_tensor *x, *h0, *c0; /* parameters, checked alongside the weights */
    const int64_t *lengths;
    int seq;                /* 0: one cell step; 1: the sequence API */
} gc_ctx;

/* A fixed random projection of y, so that every entry of y matters with its own weight. */
static ag_tensor *project(ag_tape *t, ag_tensor *y, unsigned seed)
{
    ag_tensor *w = ag_tensor_new(t, ag_shape(y), ag_ndim(y));
    fill_uniform(ag_data(w), ag_numel(w), -1, 1, seed);
    return ag_sum_all(t, ag_mul(t, y, w));
}

static ag_tensor *gc_fn(ag_tape *t, void *vctx)
{
    gc_ctx *g = vctx;
    int lstm = g->r->mode == AG_RNN_LSTM;
    if (!g->seq) {
        ag_rnn_state s = {g->h0, lstm ? g->c0 : NULL};
        ag_tensor *h = ag_rnn_cell(t, g->r, 0, g->x, &s);
        ag_tensor *loss = project(t, h, 5);
        return lstm ? ag_add(t, loss, project(t, s.c, 6)) : loss;
    }
    ag_rnn_state h0[AG_RNN_MAX_LAYERS], hn[AG_RNN_MAX_LAYERS];
    for (int l = 0; l < g->r->num_layers; l++) {
        h0[l].h = l == 0 ? g->h0 : NULL;
        h0[l].c = l == 0 && lstm ? g->c0 : NULL;
    }
    ag_tensor *y = ag_rnn_forward(t, g->r, g->x, g->lengths, h0, hn);
    ag_tensor *loss = project(t, y, 7);
    for (int l = 0; l < g->r->num_layers; l++) {
        loss = ag_add(t, loss, project(t, hn[l].h, 8 + (unsigned)l));
        if (lstm)
            loss = ag_add(t, loss, project(t, hn[l].c, 20 + (unsigned)l));
    }
    return loss;
}

/* Gradcheck with respect to the input, the initial state and every weight. */
static void check_gradients(ag_rnn_mode mode, int seq, int layers, const int64_t *lengths)
{
    enum { B = 2, T = 3, IN = 3, H = 3 };
    ag_rnn r;
    make_rnn(&r, mode, IN, H, layers, 31);
    gc_ctx g = {&r, NULL, NULL, NULL, lengths, seq};
    g.x = seq ? param_rand(AG_SHAPE(B, T, IN), -1, 1, 41) : param_rand(AG_SHAPE(B, IN), -1, 1, 41);
    g.h0 = param_rand(AG_SHAPE(B, H), -1, 1, 42);
    g.c0 = param_rand(AG_SHAPE(B, H), -1, 1, 43);
    ag_tensor *wrt[3 + 4 * 2];
    int n = 0;
    wrt[n++] = g.x;
    wrt[n++] = g.h0;
    if (mode == AG_RNN_LSTM)
        wrt[n++] = g.c0;
    n += list_params(&r, wrt + n);
    GRADCHECK(gc_fn, &g, wrt, n);
    ag_param_free(g.x), ag_param_free(g.h0), ag_param_free(g.c0);
    ag_rnn_fini(&r);
}

/* ---- the sequence API against the cell API stepped by hand ---- */

/* Step through x [B, T, IN] with ag_rnn_cell, layer after layer, as research
 * code would; out [B, T, H] and the final states come back as arrays. */
static void step_by_hand(ag_tape *t, ag_rnn *r, const ag_real *x, size_t B, size_t T,
                         ag_tensor *const *h0, ag_tensor *const *c0, double *out, double *hn,
                         double *cn)
{
    size_t H = r->hidden_size, w = r->input_size, big = w > H ? w : H;
    ag_real *src = malloc(B * T * big * sizeof *src), *dst = malloc(B * T * H * sizeof *dst);
    ag_real *xt = malloc(B * big * sizeof *xt);
    memcpy(src, x, B * T * w * sizeof *src);
    for (int l = 0; l < r->num_layers; l++) {
        ag_rnn_state s = {h0 ? h0[l] : NULL, c0 ? c0[l] : NULL};
        for (size_t i = 0; i < T; i++) {
            for (size_t b = 0; b < B; b++) memcpy(xt + b * w, src + (b * T + i) * w, w * sizeof *xt);
            ag_tensor *h = ag_rnn_cell(t, r, l, ag_tensor_from(t, xt, AG_SHAPE(B, w)), &s);
            cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
            for (size_t b = 0; b < B; b++) memcpy(dst + (b * T + i) * H, ag_data(h) + b * H, H * sizeof *dst);
        }
        to_double(hn + (size_t)l * B * H, ag_data(s.h), B * H);
        if (cn)
            to_double(cn + (size_t)l * B * H, ag_data(s.c), B * H);
        memcpy(src, dst, B * T * H * sizeof *src); /* the next layer reads these outputs */
        w = H;
    }
    to_double(out, dst, B * T * H);
    free(src), free(dst), free(xt);
}

static void check_sequence_equals_cells(ag_rnn_mode mode, int layers)
{
    enum { B = 3, T = 5, IN = 4, H = 6, L = 2 };
    int lstm = mode == AG_RNN_LSTM;
    ag_rnn r;
    make_rnn(&r, mode, IN, H, layers, 51);
    ag_real x[B * T * IN], hv[L][B * H], cv[L][B * H];
    fill_uniform(x, B * T * IN, -1, 1, 52);
    ag_tape *t = ag_tape_new();
    ag_tensor *h0[L], *c0[L];
    ag_rnn_state s0[L], hn[L];
    for (int l = 0; l < layers; l++) {
        fill_uniform(hv[l], B * H, -1, 1, 53 + (unsigned)l);
        fill_uniform(cv[l], B * H, -1, 1, 63 + (unsigned)l);
        h0[l] = ag_tensor_wrap(t, hv[l], AG_SHAPE(B, H));
        c0[l] = ag_tensor_wrap(t, cv[l], AG_SHAPE(B, H));
        s0[l].h = h0[l];
        s0[l].c = lstm ? c0[l] : NULL;
    }
    ag_tensor *y = ag_rnn_forward(t, &r, ag_tensor_wrap(t, x, AG_SHAPE(B, T, IN)), NULL, s0, hn);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_ndim(y), 3);
    cr_assert(ag_dim(y, 0) == B && ag_dim(y, 1) == T && ag_dim(y, 2) == H);
    double out[B * T * H], hw[L * B * H], cw[L * B * H];
    step_by_hand(t, &r, x, B, T, h0, lstm ? c0 : NULL, out, hw, lstm ? cw : NULL);
    assert_close(ag_data(y), out, B * T * H, 10 * TOL);
    for (int l = 0; l < layers; l++) {
        assert_close(ag_data(hn[l].h), hw + l * B * H, B * H, 10 * TOL);
        if (lstm)
            assert_close(ag_data(hn[l].c), cw + l * B * H, B * H, 10 * TOL);
        else
            cr_assert_null(hn[l].c);
    }
    ag_tape_free(t);
    ag_rnn_fini(&r);
}

/* ---- variable lengths: a padded batch gives what each sequence gives alone ---- */

enum { VB = 3, VT = 5, VIN = 3, VH = 4, VL = 2 };

/* Loss of a run: sum(y * wy[b, i]) + sum over layers of sum(hn.h * wh) (+ hn.c * wc),
 * with weights indexed by the batch entry so that a run alone uses the same ones. */
typedef struct vl_run {
    ag_tensor *y;
    ag_rnn_state hn[VL];
} vl_run;

static vl_run vl_forward(ag_tape *t, ag_rnn *r, ag_tensor *x, const int64_t *lengths,
                         ag_real (*h0)[VB * VH], ag_real (*c0)[VB * VH], size_t b0, size_t nb,
                         ag_tensor **loss)
{
    int lstm = r->mode == AG_RNN_LSTM;
    size_t T = ag_dim(x, 1);
    ag_rnn_state s0[VL];
    for (int l = 0; l < VL; l++) {
        s0[l].h = ag_tensor_wrap(t, h0[l] + b0 * VH, AG_SHAPE(nb, VH));
        s0[l].c = lstm ? ag_tensor_wrap(t, c0[l] + b0 * VH, AG_SHAPE(nb, VH)) : NULL;
    }
    vl_run run;
    run.y = ag_rnn_forward(t, r, x, lengths, s0, run.hn);
    /* static: the tape reads them again in backward, after this function returns */
    static ag_real wy[VB * VT * VH], wh[VB * VH];
    fill_uniform(wy, VB * VT * VH, -1, 1, 71);
    fill_uniform(wh, VB * VH, -1, 1, 72);
    ag_tensor *wyt = ag_tensor_new(t, AG_SHAPE(nb, T, VH));
    for (size_t b = 0; b < nb; b++)
        memcpy(ag_data(wyt) + b * T * VH, wy + (b0 + b) * VT * VH, T * VH * sizeof(ag_real));
    ag_tensor *wht = ag_tensor_wrap(t, wh + b0 * VH, AG_SHAPE(nb, VH));
    *loss = ag_sum_all(t, ag_mul(t, run.y, wyt));
    for (int l = 0; l < VL; l++) {
        *loss = ag_add(t, *loss, ag_sum_all(t, ag_mul(t, run.hn[l].h, wht)));
        if (lstm)
            *loss = ag_add(t, *loss, ag_sum_all(t, ag_mul(t, run.hn[l].c, ag_mul(t, wht, wht))));
    }
    return run;
}

static void check_lengths(ag_rnn_mode mode)
{
    static const int64_t lengths[VB] = {5, 2, 3};
    int lstm = mode == AG_RNN_LSTM;
    ag_rnn r;
    make_rnn(&r, mode, VIN, VH, VL, 81);
    ag_tensor *x = param_rand(AG_SHAPE(VB, VT, VIN), -1, 1, 82);
    for (size_t b = 0; b < VB; b++) /* padding: large, finite, must not matter */
        for (size_t i = (size_t)lengths[b]; i < VT; i++)
            for (size_t k = 0; k < VIN; k++) ag_data(x)[(b * VT + i) * VIN + k] = 1000;
    ag_real h0[VL][VB * VH], c0[VL][VB * VH];
    for (int l = 0; l < VL; l++) {
        fill_uniform(h0[l], VB * VH, -1, 1, 83 + (unsigned)l);
        fill_uniform(c0[l], VB * VH, -1, 1, 93 + (unsigned)l);
    }
    ag_tensor *P[4 * VL];
    int np = list_params(&r, P);
    for (int k = 0; k < np; k++) ag_param_zero_grad(P[k]);
    ag_param_zero_grad(x);

    ag_tape *t = ag_tape_new();
    ag_tensor *loss;
    vl_run all = vl_forward(t, &r, x, lengths, h0, c0, 0, VB, &loss);
    cr_assert_eq(ag_backward(t, loss), AG_OK, "%s", ag_tape_errmsg(t));
    double y[VB * VT * VH], hn[VL][VB * VH], cn[VL][VB * VH], *gbatch[4 * VL];
    to_double(y, ag_data(all.y), VB * VT * VH);
    for (int l = 0; l < VL; l++) {
        to_double(hn[l], ag_data(all.hn[l].h), VB * VH);
        if (lstm)
            to_double(cn[l], ag_data(all.hn[l].c), VB * VH);
    }
    for (int k = 0; k < np; k++) {
        gbatch[k] = malloc(ag_numel(P[k]) * sizeof(double));
        to_double(gbatch[k], ag_grad(P[k]), ag_numel(P[k]));
        ag_param_zero_grad(P[k]);
    }
    for (size_t b = 0; b < VB; b++) /* no gradient reaches the padding */
        for (size_t i = (size_t)lengths[b]; i < VT; i++)
            for (size_t k = 0; k < VIN; k++)
                cr_assert_eq(ag_grad(x)[(b * VT + i) * VIN + k], 0, "gradient leaked into padding");

    for (size_t b = 0; b < VB; b++) {
        size_t len = (size_t)lengths[b];
        ag_tape_reset(t);
        ag_tensor *xb = ag_tensor_wrap(t, ag_data(x) + b * VT * VIN, AG_SHAPE(1, len, VIN));
        vl_run one = vl_forward(t, &r, xb, NULL, h0, c0, b, 1, &loss);
        cr_assert_eq(ag_backward(t, loss), AG_OK, "%s", ag_tape_errmsg(t));
        assert_close(ag_data(one.y), y + b * VT * VH, len * VH, 10 * TOL);
        for (size_t k = len * VH; k < VT * VH; k++)
            cr_assert_eq(y[b * VT * VH + k], 0, "output past the end of sequence %zu is not zero", b);
        for (int l = 0; l < VL; l++) {
            assert_close(ag_data(one.hn[l].h), hn[l] + b * VH, VH, 10 * TOL);
            if (lstm)
                assert_close(ag_data(one.hn[l].c), cn[l] + b * VH, VH, 10 * TOL);
        }
    }
    /* the gradients of the padded batch are the sums of the gradients alone */
    for (int k = 0; k < np; k++) {
        assert_close(ag_grad(P[k]), gbatch[k], ag_numel(P[k]), 100 * TOL);
        free(gbatch[k]);
    }
    ag_tape_free(t);
    ag_param_free(x);
    ag_rnn_fini(&r);
}

/* ---- init and errors ---- */

static void check_init(ag_rnn_mode mode)
{
    enum { IN = 7, H = 16 };
    ag_rnn r;
    ag_rng rng;
    ag_rng_seed(&rng, 3);
    cr_assert_eq(ag_rnn_init(&r, mode, IN, H, 2, &rng), AG_OK);
    ag_paramset *ps = ag_paramset_new();
    cr_assert_eq(ag_rnn_params(&r, ps, "enc"), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(ag_paramset_count(ps), 8);
    ag_tensor *p[8];
    for (size_t i = 0; i < 8; i++) p[i] = ag_paramset_get(ps, i);
    size_t G = (size_t)n_gates(mode) * H;
    cr_assert(ag_dim(p[0], 0) == G && ag_dim(p[0], 1) == IN, "weight_ih_l0");
    cr_assert(ag_dim(p[1], 0) == G && ag_dim(p[1], 1) == H, "weight_hh_l0");
    cr_assert(ag_ndim(p[2]) == 1 && ag_dim(p[2], 0) == G, "bias_ih_l0");
    cr_assert(ag_dim(p[4], 0) == G && ag_dim(p[4], 1) == H, "weight_ih_l1 reads the layer below");
    cr_assert_str_eq(ag_param_name(p[0]), "enc.weight_ih_l0");
    cr_assert_str_eq(ag_param_name(p[3]), "enc.bias_hh_l0");
    cr_assert_str_eq(ag_param_name(p[6]), "enc.bias_ih_l1");
    cr_assert_eq(p[5], r.layer[1].w_hh);
    /* PyTorch's init: U(-1/sqrt(H), 1/sqrt(H)), spread over the range */
    double k = 1 / sqrt((double)H), lo = 1, hi = -1;
    for (int i = 0; i < 8; i++)
        for (size_t j = 0; j < ag_numel(p[i]); j++) {
            double v = ag_data(p[i])[j];
            cr_assert(fabs(v) <= k, "%s[%zu] = %g beyond %g", ag_param_name(p[i]), j, v, k);
            lo = fmin(lo, v), hi = fmax(hi, v);
        }
    cr_assert(lo < -0.9 * k && hi > 0.9 * k, "init range [%g, %g] for bound %g", lo, hi, k);
    ag_paramset_free(ps);
    ag_rnn_fini(&r);
    ag_rnn_fini(&r); /* harmless twice */
    cr_assert_eq(ag_rnn_init(&r, mode, IN, H, AG_RNN_MAX_LAYERS + 1, &rng), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "ag_rnn_init") != NULL);
    cr_assert_eq(r.num_layers, 0);
}

static void check_errors(ag_rnn_mode mode)
{
    ag_rnn r;
    make_rnn(&r, mode, 3, 4, 1, 5);
    ag_tape *t = ag_tape_new();
    ag_rnn_forward(t, &r, ag_tensor_new(t, AG_SHAPE(2, 5, 4)), NULL, NULL, NULL);
    assert_tape_error(t, AG_EINVAL, "ag_rnn_forward: x[2,5,4] must be [batch, time >= 1, 3]");
    ag_tape_reset(t);
    ag_rnn_forward(t, &r, ag_tensor_new(t, AG_SHAPE(2, 5, 3)), (const int64_t[]){5, 6}, NULL, NULL);
    assert_tape_error(t, AG_EINVAL, "lengths[1] = 6 is outside [0, 5]");
    ag_tape_reset(t);
    ag_rnn_state s0 = {ag_tensor_new(t, AG_SHAPE(3, 4)), NULL};
    ag_tensor *y = ag_rnn_forward(t, &r, ag_tensor_new(t, AG_SHAPE(2, 5, 3)), NULL, &s0, NULL);
    assert_tape_error(t, AG_EINVAL, "h0[0].h[3,4] must be [2, 4]");
    cr_assert(ag_is_poisoned(y));
    ag_tape_reset(t);
    ag_rnn_state s = {NULL, NULL};
    ag_rnn_cell(t, &r, 1, ag_tensor_new(t, AG_SHAPE(2, 3)), &s);
    assert_tape_error(t, AG_EINVAL, "ag_rnn_cell: layer 1 out of range (num_layers 1)");
    ag_tape_reset(t);
    ag_rnn_cell(t, &r, 0, ag_tensor_new(t, AG_SHAPE(2, 5)), &s);
    assert_tape_error(t, AG_EINVAL, "ag_rnn_cell: x[2,5] must be [batch, 3]");
    ag_tape_free(t);
    ag_rnn_fini(&r);
}

/* Every check, as a suite for one cell kind. */
#define RECURRENT_SUITE(suite, mode)                                                \
    Test(suite, cell_matches_equations) { check_cell_reference(mode); }             \
    Test(suite, cell_gradcheck) { check_gradients(mode, 0, 1, NULL); }              \
    Test(suite, sequence_gradcheck) { check_gradients(mode, 1, 1, NULL); }          \
    Test(suite, sequence_gradcheck_stacked_lengths)                                  \
    {                                                                               \
        static const int64_t len[2] = {3, 1};                                       \
        check_gradients(mode, 1, 2, len);                                           \
    }                                                                               \
    Test(suite, sequence_equals_cells) { check_sequence_equals_cells(mode, 1); }    \
    Test(suite, stacked_equals_cells) { check_sequence_equals_cells(mode, 2); }     \
    Test(suite, lengths_equal_each_alone) { check_lengths(mode); }                  \
    Test(suite, init_pytorch) { check_init(mode); }                                 \
    Test(suite, errors) { check_errors(mode); }

#endif
