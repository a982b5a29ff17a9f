/* Recurrent layers (Elman RNN, LSTM, GRU) as compositions of public ops.
 *
 * PyTorch's layouts: W_ih [G H, in], W_hh [G H, H], b_ih, b_hh [G H], with the
 * G gate blocks stacked along the rows (LSTM i, f, g, o; GRU r, z, n).
 *
 *   Elman  h' = act(W_ih x + b_ih + W_hh h + b_hh)
 *   LSTM   [i f g o] = W_ih x + b_ih + W_hh h + b_hh
 *          c' = sig(f) c + sig(i) tanh(g),  h' = sig(o) tanh(c')
 *   GRU    r = sig(W_ir x + b_ir + W_hr h + b_hr),  z likewise
 *          n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h
 *
 * Speed: the input projection x W_ihᵀ + b of all time steps is one matrix
 * product over [time * batch, in] before the loop; a step then costs one
 * matrix product with W_hh and a handful of elementwise ops. b_hh is folded
 * into that projection where it only ever adds to it (all of it for Elman
 * and LSTM, b_hr and b_hz for the GRU); the GRU adds b_hn to W_hn h in each
 * step, inside r (W_hn h + b_hn).
 *
 * Layout: the weights are seen (as views, no copy) as [G, H, in] and
 * [G, H, H], so the products come out gate-major, [G, batch, H]: each gate
 * block is then a contiguous slice, a view, and a step copies nothing to cut
 * its gates apart. The projection of all steps is [G, time * batch, H] (x
 * taken time-major); step i reads its [G, batch, H] block of it. States are
 * [batch, H]; the outputs of the steps are stacked along time at the end.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

static int gates(ag_rnn_mode m)
{
    return m == AG_RNN_LSTM ? 4 : m == AG_RNN_GRU ? 3 : 1;
}

static size_t in_size(const ag_rnn *r, int layer)
{
    return layer == 0 ? r->input_size : r->hidden_size;
}

/* Fail the tape with a message naming the function; return its poison. */
static ag_tensor *fail(ag_tape *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static ag_tensor *fail(ag_tape *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agi_vfail(t, AG_EINVAL, fmt, ap);
    va_end(ap);
    return t ? &t->poison : agi_global_poison();
}

/* ---- parameters ---- */

void ag_rnn_fini(ag_rnn *r)
{
    if (!r)
        return;
    for (int l = 0; l < AG_RNN_MAX_LAYERS; l++) {
        ag_param_free(r->layer[l].w_ih);
        ag_param_free(r->layer[l].w_hh);
        ag_param_free(r->layer[l].b_ih);
        ag_param_free(r->layer[l].b_hh);
    }
    memset(r, 0, sizeof *r);
}

int ag_rnn_params(const ag_rnn *r, ag_paramset *s, const char *prefix)
{
    if (!r || !s || !prefix)
        return agi_fail(NULL, AG_EINVAL, "ag_rnn_params: %s is NULL",
                        !r ? "r" : !s ? "set" : "prefix");
    static const char *const what[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int l = 0; l < r->num_layers; l++) {
        ag_tensor *p[4] = {r->layer[l].w_ih, r->layer[l].w_hh, r->layer[l].b_ih,
                           r->layer[l].b_hh};
        for (int k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s_l%d", prefix, what[k], l);
            int rc = ag_paramset_add(s, p[k], name);
            if (rc)
                return rc;
        }
    }
    return AG_OK;
}

/* A parameter of the given shape from U(-k, k); NULL if out of memory. */
static ag_tensor *new_param(const size_t *shape, int nd, double k, ag_rng *rng)
{
    ag_tensor *p = ag_param_new(shape, nd);
    if (p)
        ag_init_uniform(p, -k, k, rng);
    return p;
}

int ag_rnn_init(ag_rnn *r, ag_rnn_mode mode, size_t input_size, size_t hidden_size,
                int num_layers, ag_rng *rng)
{
    if (!r || !rng)
        return agi_fail(NULL, AG_EINVAL, "ag_rnn_init: %s is NULL", r ? "rng" : "r");
    memset(r, 0, sizeof *r);
    if ((int)mode < AG_RNN_TANH || (int)mode > AG_RNN_GRU || !input_size || !hidden_size ||
        num_layers < 1 || num_layers > AG_RNN_MAX_LAYERS)
        return agi_fail(NULL, AG_EINVAL,
                        "ag_rnn_init: invalid mode %d, input_size %zu, hidden_size %zu or "
                        "num_layers %d (1..%d)",
                        (int)mode, input_size, hidden_size, num_layers, AG_RNN_MAX_LAYERS);
    r->mode = mode;
    r->input_size = input_size;
    r->hidden_size = hidden_size;
    r->num_layers = num_layers;
    size_t gh = (size_t)gates(mode) * hidden_size;
    double k = 1 / sqrt((double)hidden_size);
    for (int l = 0; l < num_layers; l++) {
        ag_rnn_layer *p = &r->layer[l];
        p->w_ih = new_param(AG_SHAPE(gh, in_size(r, l)), k, rng);
        p->w_hh = new_param(AG_SHAPE(gh, hidden_size), k, rng);
        p->b_ih = new_param(AG_SHAPE(gh), k, rng);
        p->b_hh = new_param(AG_SHAPE(gh), k, rng);
        if (!p->w_ih || !p->w_hh || !p->b_ih || !p->b_hh) {
            ag_rnn_fini(r);
            return agi_fail(NULL, AG_ENOMEM, "ag_rnn_init: out of memory");
        }
    }
    return AG_OK;
}

/* ---- one step ---- */

/* Gate k of a gate-major [G, B, H] tensor, as [B, H] (a view). */
static ag_tensor *gate(ag_tape *t, ag_tensor *z, size_t k)
{
    return ag_reshape(t, ag_slice(t, z, 0, k, 1), AG_SHAPE(ag_dim(z, 1), ag_dim(z, 2)));
}

/* A [G H, ...] parameter seen as [G, H, ...] (a view). */
static ag_tensor *by_gate(ag_tape *t, const ag_rnn *r, ag_tensor *w)
{
    size_t G = (size_t)gates(r->mode), H = r->hidden_size;
    if (ag_ndim(w) == 1)
        return ag_reshape(t, w, AG_SHAPE(G, 1, H));
    return ag_reshape(t, w, AG_SHAPE(G, H, ag_dim(w, 1)));
}

/* Input projection x W_ihᵀ + b_ih, plus b_hh where it simply adds (all of
 * it for Elman and LSTM, b_hr and b_hz for the GRU), for x [M, in]:
 * [G, M, H]. */
static ag_tensor *in_proj(ag_tape *t, const ag_rnn *r, const ag_rnn_layer *p, ag_tensor *x)
{
    ag_tensor *hb = p->b_hh;
    if (r->mode == AG_RNN_GRU) { /* [b_hr, b_hz, 0]: b_hn stays in the step */
        size_t H = r->hidden_size, none = 0;
        hb = ag_pad(t, ag_slice(t, hb, 0, 0, 2 * H), &none, &H, 0);
    }
    ag_tensor *b = ag_add(t, by_gate(t, r, p->b_ih), by_gate(t, r, hb)); /* [G, 1, H] */
    return ag_matmul_add(t, x, by_gate(t, r, p->w_ih), b, 0, 1);
}

/* Advance s by one step given the input projection xp [G, B, H] (from
 * in_proj); s->h, and s->c for the LSTM, are set, [B, H]. */
static void step(ag_tape *t, const ag_rnn *r, const ag_rnn_layer *p, ag_tensor *xp,
                 ag_rnn_state *s)
{
    ag_tensor *w = by_gate(t, r, p->w_hh);
    /* xp + h W_hhᵀ, [G, B, H]. The LSTM's product starts from xp (one op:
     * W-LSTM 130 -> 136 steps/s), and so do the GRU's for r and z. An Elman
     * layer's single gate is one product of few rows, which takes the
     * GEMM's lanes kernel, and that starts from a whole matrix by a
     * transposed scalar load: W-RNN went 747 -> 713, so it adds xp after. */
    switch (r->mode) {
    case AG_RNN_TANH:
        s->h = gate(t, ag_tanh(t, ag_add(t, xp, ag_matmul_t(t, s->h, w, 0, 1))), 0);
        break;
    case AG_RNN_RELU:
        s->h = gate(t, ag_relu(t, ag_add(t, xp, ag_matmul_t(t, s->h, w, 0, 1))), 0);
        break;
    case AG_RNN_LSTM: {
        /* One sigmoid over all four blocks (g's share is unused): fewer nodes
         * than one per gate, for a quarter more of cheap elementwise work. */
        ag_tensor *z = ag_matmul_add(t, s->h, w, xp, 0, 1);
        ag_tensor *sg = ag_sigmoid(t, z);
        ag_tensor *i = gate(t, sg, 0), *f = gate(t, sg, 1);
        ag_tensor *g = ag_tanh(t, gate(t, z, 2)), *o = gate(t, sg, 3);
        s->c = ag_add(t, ag_mul(t, f, s->c), ag_mul(t, i, g)); /* c' = f c + i g */
        s->h = ag_mul(t, o, ag_tanh(t, s->c));                 /* h' = o tanh(c') */
        break;
    }
    case AG_RNN_GRU: {
        /* b_hr and b_hz are in xp already; b_hn is added to W_hn h alone:
         * r and z from one product that starts from xp's first two gates,
         * W_hn h + b_hn from another (views of the blocks, no copies) */
        size_t H = r->hidden_size;
        ag_tensor *sg = ag_sigmoid(t, ag_matmul_add(t, s->h, ag_slice(t, w, 0, 0, 2),
                                                    ag_slice(t, xp, 0, 0, 2), 0, 1));
        ag_tensor *rg = gate(t, sg, 0), *zg = gate(t, sg, 1);
        ag_tensor *hn =
            ag_matmul_add(t, s->h, gate(t, w, 2), ag_slice(t, p->b_hh, 0, 2 * H, H), 0, 1);
        ag_tensor *n = ag_tanh(t, ag_add(t, gate(t, xp, 2), ag_mul(t, rg, hn)));
        /* h' = (1 - z) n + z h = n + z (h - n), one node */
        s->h = ag_lerp(t, n, s->h, zg);
        break;
    }
    }
}


static int check_layer(ag_tape *t, const ag_rnn *r, int layer, const char *fn)
{
    if (!r || layer < 0 || layer >= r->num_layers || r->num_layers > AG_RNN_MAX_LAYERS) {
        fail(t, "%s: layer %d out of range (num_layers %d)", fn, layer, r ? r->num_layers : 0);
        return -1;
    }
    return 0;
}

ag_tensor *ag_rnn_cell(ag_tape *t, const ag_rnn *r, int layer, ag_tensor *x, ag_rnn_state *s)
{
    if (!t)
        return agi_global_poison();
    if (t->status)
        return &t->poison;
    if (!x || !s)
        return fail(t, "ag_rnn_cell: %s is NULL", x ? "state" : "x");
    if (check_layer(t, r, layer, "ag_rnn_cell"))
        return &t->poison;
    char b[160];
    size_t H = r->hidden_size, in = in_size(r, layer);
    if (ag_ndim(x) != 2 || ag_dim(x, 1) != in)
        return fail(t, "ag_rnn_cell: x%s must be [batch, %zu]",
                    ag_shape_str(ag_shape(x), ag_ndim(x), b, sizeof b), in);
    size_t B = ag_dim(x, 0);
    ag_rnn_state st = *s;
    if (!st.h)
        st.h = ag_tensor_new(t, AG_SHAPE(B, H));
    if (r->mode == AG_RNN_LSTM && !st.c)
        st.c = ag_tensor_new(t, AG_SHAPE(B, H));
    step(t, r, &r->layer[layer], in_proj(t, r, &r->layer[layer], x), &st);
    *s = st;
    return st.h;
}

/* ---- whole sequences ---- */

/* Check an initial state member: NULL or [B, H]. */
static int check_state(ag_tape *t, const ag_tensor *h, size_t B, size_t H, int layer,
                       const char *what)
{
    if (!h || (ag_ndim(h) == 2 && ag_dim(h, 0) == B && ag_dim(h, 1) == H))
        return 0;
    char b[160];
    fail(t, "ag_rnn_forward: h0[%d].%s%s must be [%zu, %zu]", layer, what,
         ag_shape_str(ag_shape(h), ag_ndim(h), b, sizeof b), B, H);
    return -1;
}

/* Mask [B, 1] of the sequences still running at step i: 1 if i < lengths[b]. */
static ag_tensor *running(ag_tape *t, const int64_t *lengths, size_t B, size_t i)
{
    ag_tensor *m = ag_tensor_new(t, AG_SHAPE(B, 1));
    ag_real *d = ag_data(m);
    if (!ag_is_poisoned(m))
        for (size_t b = 0; b < B; b++) d[b] = (int64_t)i < lengths[b];
    return m;
}

/* One layer over time. xs [B, T, in]; st is the initial state ([B, H]
 * tensors, set) and receives the final one. Returns [B, T, H]. */
static ag_tensor *run_layer(ag_tape *t, const ag_rnn *r, const ag_rnn_layer *p, ag_tensor *xs,
                            const int64_t *lengths, size_t steps_needed, ag_tensor **outs,
                            ag_rnn_state *st)
{
    size_t B = ag_dim(xs, 0), T = ag_dim(xs, 1), H = r->hidden_size;
    /* time-major rows, so that step i's inputs are rows [i B, (i + 1) B) */
    ag_tensor *xt = ag_reshape(t, ag_transpose(t, xs, 0, 1), AG_SHAPE(T * B, ag_dim(xs, 2)));
    ag_tensor *xp = in_proj(t, r, p, xt); /* [G, T B, H], one matrix product */
    ag_tensor *zero = ag_scalar(t, 0);
    ag_tensor *idle = NULL; /* zero output of a step every sequence has finished */
    size_t all_running = T;
    if (lengths)
        for (size_t b = 0; b < B; b++)
            if ((size_t)lengths[b] < all_running)
                all_running = (size_t)lengths[b];
    for (size_t i = 0; i < T; i++) {
        if (i >= steps_needed) {
            outs[i] = idle ? idle : (idle = ag_tensor_new(t, AG_SHAPE(B, H)));
            continue;
        }
        ag_rnn_state prev = *st;
        step(t, r, p, ag_slice(t, xp, 1, i * B, B), st);
        outs[i] = st->h;
        if (i >= all_running) {
            /* Finished sequences keep their state and output zeros; where()
             * sends no gradient to the branch it does not take. */
            ag_tensor *m = running(t, lengths, B, i);
            outs[i] = ag_where(t, m, st->h, zero);
            st->h = ag_where(t, m, st->h, prev.h);
            if (r->mode == AG_RNN_LSTM)
                st->c = ag_where(t, m, st->c, prev.c);
        }
    }
    return ag_stack(t, outs, (int)T, 1);
}

ag_tensor *ag_rnn_forward(ag_tape *t, const ag_rnn *r, ag_tensor *x, const int64_t *lengths,
                          const ag_rnn_state *h0, ag_rnn_state *hn)
{
    if (!t)
        return agi_global_poison();
    if (t->status)
        return &t->poison;
    if (!x)
        return fail(t, "ag_rnn_forward: x is NULL");
    if (check_layer(t, r, 0, "ag_rnn_forward"))
        return &t->poison;
    char b[160];
    if (ag_ndim(x) != 3 || ag_dim(x, 2) != r->input_size || !ag_dim(x, 1))
        return fail(t, "ag_rnn_forward: x%s must be [batch, time >= 1, %zu]",
                    ag_shape_str(ag_shape(x), ag_ndim(x), b, sizeof b), r->input_size);
    size_t B = ag_dim(x, 0), T = ag_dim(x, 1), H = r->hidden_size;
    size_t steps_needed = T; /* the longest sequence */
    if (lengths) {
        steps_needed = 0;
        for (size_t i = 0; i < B; i++) {
            if (lengths[i] < 0 || (uint64_t)lengths[i] > T)
                return fail(t, "ag_rnn_forward: lengths[%zu] = %lld is outside [0, %zu]", i,
                            (long long)lengths[i], T);
            if ((size_t)lengths[i] > steps_needed)
                steps_needed = (size_t)lengths[i];
        }
    }
    for (int l = 0; h0 && l < r->num_layers; l++)
        if (check_state(t, h0[l].h, B, H, l, "h") ||
            (r->mode == AG_RNN_LSTM && check_state(t, h0[l].c, B, H, l, "c")))
            return &t->poison;
    ag_tensor **outs = agi_alloc(T * sizeof *outs);
    if (!outs) {
        agi_fail(t, AG_ENOMEM, "ag_rnn_forward: out of memory");
        return &t->poison;
    }
    ag_tensor *y = x;
    for (int l = 0; l < r->num_layers; l++) {
        ag_rnn_state st = {NULL, NULL};
        if (h0)
            st = h0[l];
        if (!st.h)
            st.h = ag_tensor_new(t, AG_SHAPE(B, H));
        if (r->mode == AG_RNN_LSTM && !st.c)
            st.c = ag_tensor_new(t, AG_SHAPE(B, H));
        y = run_layer(t, r, &r->layer[l], y, lengths, steps_needed, outs, &st);
        if (hn) {
            hn[l].h = st.h;
            hn[l].c = r->mode == AG_RNN_LSTM ? st.c : NULL;
        }
    }
    agi_free(outs, T * sizeof *outs);
    return y;
}
