/* Recurrent nets: the shapes, the sequence API against the cell API, padded
 * batches of sequences of different lengths, and weights in PyTorch's layout
 * checked against the LSTM equations written out by hand.
 *
 * Each part checks what it shows; the program exits with 1 if a check fails.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <agrad.h>

#define BATCH 2
#define TIME 5
#define IN 3
#define HID 4

#if AG_REAL_IS_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-5
#endif

static double max_diff(const ag_real *a, const ag_real *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

/* [sequence] */
/* x [batch, time, features] -> outputs [batch, time, hidden] and the final
 * state of every layer. */
static ag_tensor *run_sequence(ag_tape *t, const ag_rnn *lstm, ag_tensor *x, ag_rnn_state *hn)
{
    return ag_rnn_forward(t, lstm, x, NULL, NULL, hn);
}
/* [sequence] */

/* [cell] */
/* The same, one step at a time: slice out step k, [batch, 1, in] ->
 * [batch, in], and carry the state. */
static ag_tensor *run_cells(ag_tape *t, const ag_rnn *lstm, ag_tensor *x, ag_rnn_state *s)
{
    ag_tensor *outs[TIME];
    *s = (ag_rnn_state){NULL, NULL};            /* NULL members: zero state */
    for (int k = 0; k < TIME; k++) {
        ag_tensor *xk = ag_reshape(t, ag_slice(t, x, 1, (size_t)k, 1), AG_SHAPE(BATCH, IN));
        outs[k] = ag_rnn_cell(t, lstm, 0, xk, s);   /* s->h, s->c replaced */
    }
    return ag_stack(t, outs, TIME, 1);          /* [batch, time, hidden] */
}
/* [cell] */

static int cell_vs_sequence(const ag_rnn *lstm, ag_real *xs)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(BATCH, TIME, IN));
    ag_rnn_state hn, s;
    ag_tensor *seq = run_sequence(t, lstm, x, &hn);
    ag_tensor *cel = run_cells(t, lstm, x, &s);
    int ok = ag_tape_status(t) == AG_OK && ag_ndim(seq) == 3 && ag_dim(seq, 0) == BATCH &&
             ag_dim(seq, 1) == TIME && ag_dim(seq, 2) == HID;
    double d = ok ? fmax(max_diff(ag_data(seq), ag_data(cel), BATCH * TIME * HID),
                         max_diff(ag_data(hn.c), ag_data(s.c), BATCH * HID))
                  : INFINITY;
    printf("sequence API vs cell loop: outputs and final c agree within %.1e\n", d);
    ag_tape_free(t);
    return ok && d <= TOL;
}

/* [lengths] */
/* Sequence 0 has 5 steps, sequence 1 only 2 (its steps 2..4 are padding). */
static int variable_lengths(const ag_rnn *lstm, ag_real *xs)
{
    const int64_t lengths[BATCH] = {TIME, 2};
    ag_tape *t = ag_tape_new();
    ag_rnn_state hn;
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(BATCH, TIME, IN));
    ag_tensor *y = ag_rnn_forward(t, lstm, x, lengths, NULL, &hn);

    /* sequence 1 alone, 2 steps, no padding */
    ag_tensor *x1 = ag_slice(t, ag_slice(t, x, 0, 1, 1), 1, 0, 2);   /* [1, 2, IN] */
    ag_rnn_state hn1;
    ag_tensor *y1 = ag_rnn_forward(t, lstm, x1, NULL, NULL, &hn1);
    /* [lengths] */
    int ok = ag_tape_status(t) == AG_OK;
    double d = INFINITY, pad = INFINITY;
    if (ok) {
        const ag_real *row1 = ag_data(y) + TIME * HID;  /* sequence 1's outputs */
        d = fmax(max_diff(row1, ag_data(y1), 2 * HID),
                 max_diff(ag_data(hn.h) + HID, ag_data(hn1.h), HID));
        pad = 0;
        for (int k = 2 * HID; k < TIME * HID; k++)
            pad = fmax(pad, fabs((double)row1[k]));
    }
    printf("padded batch vs sequence alone: %.1e; outputs in the padding: %g\n", d, pad);
    ag_tape_free(t);
    return ok && d <= TOL && pad == 0;
}

/* [pytorch] */
/* Weights saved from PyTorch (lstm.state_dict(), each tensor flattened in its
 * row-major order) load by name: the layouts and gate order (i, f, g, o) are
 * PyTorch's, so the copy is a memcpy. Here the "saved" values are made up. */
static int load_pytorch(ag_paramset *ps, const char *name, const double *values, size_t n)
{
    ag_tensor *p = ag_paramset_find(ps, name);
    if (!p || ag_numel(p) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        ag_data(p)[i] = (ag_real)values[i];
    return 1;
}
/* [pytorch] */

static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* PyTorch's LSTM equations for one sequence (batch 1), in double:
 *   gates = W_ih x + b_ih + W_hh h + b_hh, rows [i; f; g; o]
 *   c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c') */
static void lstm_reference(const double *wih, const double *whh, const double *bih,
                           const double *bhh, const ag_real *x, int steps, double *h_out)
{
    double h[HID] = {0}, c[HID] = {0};
    for (int k = 0; k < steps; k++) {
        double g[4 * HID], hn[HID];
        for (int r = 0; r < 4 * HID; r++) {
            g[r] = bih[r] + bhh[r];
            for (int j = 0; j < IN; j++) g[r] += wih[r * IN + j] * x[k * IN + j];
            for (int j = 0; j < HID; j++) g[r] += whh[r * HID + j] * h[j];
        }
        for (int u = 0; u < HID; u++) {
            c[u] = sigm(g[HID + u]) * c[u] + sigm(g[u]) * tanh(g[2 * HID + u]);
            hn[u] = sigm(g[3 * HID + u]) * tanh(c[u]);
        }
        memcpy(h, hn, sizeof h);
    }
    memcpy(h_out, h, sizeof h);
}

static int pytorch_weights(ag_rnn *lstm, ag_real *xs)
{
    static double wih[4 * HID * IN], whh[4 * HID * HID], bih[4 * HID], bhh[4 * HID];
    for (int i = 0; i < 4 * HID * IN; i++) wih[i] = 0.5 * sin(0.3 * i);
    for (int i = 0; i < 4 * HID * HID; i++) whh[i] = 0.4 * cos(0.7 * i);
    for (int i = 0; i < 4 * HID; i++) bih[i] = 0.1 * sin(i), bhh[i] = -0.05 * cos(i);

    ag_paramset *ps = ag_paramset_new();
    int ok = ps && ag_rnn_params(lstm, ps, "lstm") == AG_OK &&
             load_pytorch(ps, "lstm.weight_ih_l0", wih, 4 * HID * IN) &&
             load_pytorch(ps, "lstm.weight_hh_l0", whh, 4 * HID * HID) &&
             load_pytorch(ps, "lstm.bias_ih_l0", bih, 4 * HID) &&
             load_pytorch(ps, "lstm.bias_hh_l0", bhh, 4 * HID);
    printf("parameter names: ");
    for (size_t i = 0; ps && i < ag_paramset_count(ps); i++)
        printf("%s%s", i ? ", " : "", ag_param_name(ag_paramset_get(ps, i)));
    printf("\n");

    double want[HID];
    lstm_reference(wih, whh, bih, bhh, xs, TIME, want); /* sequence 0 */
    ag_tape *t = ag_tape_new();
    ag_rnn_state hn;
    ag_tensor *y = ag_rnn_forward(t, lstm, ag_tensor_wrap(t, xs, AG_SHAPE(BATCH, TIME, IN)),
                                  NULL, NULL, &hn);
    double d = INFINITY;
    if (ok && !ag_is_poisoned(y)) {
        d = 0;
        for (int u = 0; u < HID; u++)
            d = fmax(d, fabs((double)ag_data(hn.h)[u] - want[u]));
    }
    printf("final h vs the LSTM equations by hand: %.1e\n", d);
    ag_tape_free(t);
    ag_paramset_free(ps);
    return ok && d <= 10 * TOL;
}

/* [gradcheck] */
typedef struct seq_ctx {
    const ag_rnn *lstm;
    ag_real *xs;
} seq_ctx;

static ag_tensor *seq_loss(ag_tape *t, void *ctx)
{
    seq_ctx *c = ctx;
    ag_tensor *x = ag_tensor_wrap(t, c->xs, AG_SHAPE(BATCH, TIME, IN));
    ag_tensor *y = ag_rnn_forward(t, c->lstm, x, NULL, NULL, NULL);
    return ag_sum_all(t, ag_mul(t, y, y));
}

static int check_gradient(const ag_rnn *lstm, ag_real *xs)
{
    seq_ctx c = {lstm, xs};
    const ag_rnn_layer *l = &lstm->layer[0];
    ag_tensor *wrt[] = {l->w_ih, l->w_hh, l->b_ih, l->b_hh};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(seq_loss, &c, wrt, 4, NULL, &r);
    double worst = 0;
    for (int i = 0; i < 4; i++)
        worst = fmax(worst, r.tensors[i].max_abs);
    printf("gradcheck through %d time steps: %s, %zu entries, max abs err %.1e\n", TIME,
           ok ? "PASS" : "FAIL", r.checked, worst);
    if (!ok)
        ag_gradcheck_fprint(stdout, &r);
    return ok;
}
/* [gradcheck] */

int main(void)
{
    static ag_real xs[BATCH * TIME * IN];
    for (int i = 0; i < BATCH * TIME * IN; i++)
        xs[i] = (ag_real)sin(1.3 * i + 0.2);

    /* [init] */
    ag_rng rng;
    ag_rng_seed(&rng, 1);
    ag_rnn lstm;
    if (ag_rnn_init(&lstm, AG_RNN_LSTM, IN, HID, 1, &rng) != AG_OK) {
        fprintf(stderr, "recurrent: %s\n", ag_last_errmsg());
        return 1;
    }
    /* [init] */
    int ok_cell = cell_vs_sequence(&lstm, xs);
    int ok_len = variable_lengths(&lstm, xs);
    int ok_grad = check_gradient(&lstm, xs);
    int ok_torch = pytorch_weights(&lstm, xs);
    ag_rnn_fini(&lstm);
    int ok = ok_cell && ok_len && ok_grad && ok_torch;
    printf("recurrent: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
