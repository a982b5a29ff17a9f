/* The tape: ag_apply records nodes (a Wengert list); backward walks it back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../ops/util.h" /* agi_same_shape */

static void poison_init(ag_tape *t)
{
    memset(&t->poison, 0, sizeof t->poison);
    t->poison_data[0] = NAN;
    t->poison.data = t->poison_data;
    t->poison.numel = 1;
    t->poison.flags = AGI_POISON;
    t->poison.tape = t;
}

ag_tape *ag_tape_new(void)
{
    ag_tape *t = agi_alloc(sizeof *t);
    if (!t) {
        agi_fail(NULL, AG_ENOMEM, "ag_tape_new: out of memory");
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->recording = 1;
    const char *an = getenv("AGRAD_ANOMALY");
    t->anomaly = an && *an && strcmp(an, "0") != 0;
    t->rng = 0x5EEDull;
    poison_init(t);
    const char *pr = getenv("AGRAD_PROFILE");
    if (pr && *pr && strcmp(pr, "0") != 0)
        t->prof_env = ag_tape_set_profile(t, 1) == 0 && t->prof;
    return t;
}

void ag_tape_free(ag_tape *t)
{
    if (!t)
        return;
    if (t->prof_env)
        ag_tape_profile_report(t, stderr);
    agi_free(t->prof, sizeof *t->prof);
    agi_arena_free(&t->arena);
    agi_free(t, sizeof *t);
}

void ag_tape_reset(ag_tape *t)
{
    if (!t)
        return;
    agi_arena_reset(&t->arena);
    t->last = NULL;
    t->n_nodes = 0;
    t->n_ops = 0;
    t->swept = 0;
    t->status = AG_OK;
    t->errmsg[0] = 0;
    t->gen++;
    poison_init(t);
}

int ag_tape_set_recording(ag_tape *t, int on)
{
    if (!t)
        return 0;
    int old = t->recording;
    t->recording = on != 0;
    return old;
}

int ag_tape_set_anomaly(ag_tape *t, int on)
{
    if (!t)
        return 0;
    int old = t->anomaly;
    t->anomaly = on != 0;
    return old;
}

int ag_tape_set_profile(ag_tape *t, int on)
{
    if (!t)
        return 0;
    int old = t->prof != NULL;
    if (on && !t->prof) {
        t->prof = agi_alloc(sizeof *t->prof);
        if (!t->prof) {
            agi_fail(NULL, AG_ENOMEM, "ag_tape_set_profile: out of memory");
            return old;
        }
        memset(t->prof, 0, sizeof *t->prof);
    } else if (!on && t->prof) {
        agi_free(t->prof, sizeof *t->prof);
        t->prof = NULL;
    }
    return old;
}

/* The profile entry of op, added if new; NULL when the table is full. */
static agi_profile_entry *prof_entry(agi_profile *p, const ag_op_def *op)
{
    for (int i = 0; i < p->n; i++)
        if (p->e[i].op == op)
            return &p->e[i];
    if (p->n == AGI_PROFILE_OPS)
        return NULL;
    p->e[p->n].op = op;
    return &p->e[p->n++];
}

static void prof_add(ag_tape *t, const ag_op_def *op, int vjp, uint64_t t0)
{
    uint64_t dt = agi_now_ns() - t0;
    agi_profile_entry *e = prof_entry(t->prof, op);
    if (!e)
        return;
    if (vjp) {
        e->vjps++;
        e->vjp_ns += dt;
    } else {
        e->calls++;
        e->fwd_ns += dt;
    }
}

static int by_total(const void *a, const void *b)
{
    const agi_profile_entry *x = a, *y = b;
    uint64_t tx = x->fwd_ns + x->vjp_ns, ty = y->fwd_ns + y->vjp_ns;
    return tx < ty ? 1 : tx > ty ? -1 : 0;
}

int ag_tape_profile_report(const ag_tape *t, FILE *f)
{
    if (!t || !f)
        return AG_EINVAL;
    if (!t->prof)
        return agi_fail(NULL, AG_ESTATE, "ag_tape_profile_report: profiling is off (ag_tape_set_profile)");
    agi_profile p = *t->prof;
    qsort(p.e, (size_t)p.n, sizeof p.e[0], by_total);
    uint64_t all = 0;
    for (int i = 0; i < p.n; i++)
        all += p.e[i].fwd_ns + p.e[i].vjp_ns;
    fprintf(f, "%-16s %10s %12s %10s %12s %7s\n", "op", "calls", "forward ms", "vjps",
            "backward ms", "share");
    for (int i = 0; i < p.n; i++) {
        const agi_profile_entry *e = &p.e[i];
        fprintf(f, "%-16s %10llu %12.3f %10llu %12.3f %6.1f%%\n", e->op->name,
                (unsigned long long)e->calls, (double)e->fwd_ns * 1e-6,
                (unsigned long long)e->vjps, (double)e->vjp_ns * 1e-6,
                all ? 100.0 * (double)(e->fwd_ns + e->vjp_ns) / (double)all : 0.0);
    }
    fprintf(f, "%-16s %10s %12s %10s %12.3f\n", "total", "", "", "", (double)all * 1e-6);
    return ferror(f) ? AG_EIO : AG_OK;
}

/* Index of the first non-finite value, or SIZE_MAX. */
static size_t first_nonfinite(const ag_real *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return SIZE_MAX;
}

/* Shapes of a node's inputs as "a[2,3] b[3]" for anomaly messages. */
static void input_shapes(ag_tensor *const *in, int n, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < n && k + 1 < cap; i++) {
        char s[96];
        ag_shape_str(in[i]->shape, in[i]->ndim, s, sizeof s);
        int w = snprintf(buf + k, cap - k, "%sin%d%s", i ? " " : "", i, s);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

static int anomaly_forward(ag_tape *t, const ag_op_def *op, size_t index, ag_tensor *const *in,
                           int n_in, const ag_tensor *y)
{
    size_t i = first_nonfinite(y->data, y->numel);
    if (i == SIZE_MAX)
        return AG_OK;
    char shapes[160], ys[96];
    input_shapes(in, n_in, shapes, sizeof shapes);
    return agi_fail(t, AG_ENAN, "ag_%s (node %zu): forward produced %s at output element %zu of %s (inputs %s)",
                    op->name, index, isnan(y->data[i]) ? "NaN" : "Inf", i,
                    ag_shape_str(y->shape, y->ndim, ys, sizeof ys), shapes);
}

static int anomaly_backward(ag_tape *t, const agi_node *n)
{
    for (int k = 0; k < n->n_in; k++) {
        const ag_tensor *x = n->in[k];
        const ag_tensor *p = x->base ? x->base : x;
        if (!x->grad || (x->node && x->node->fresh) || (p->flags & AGI_GRAD_ZERO))
            continue; /* not written */
        size_t i = first_nonfinite(x->grad, x->numel);
        if (i == SIZE_MAX)
            continue;
        char shapes[160], gs[96];
        input_shapes(n->in, n->n_in, shapes, sizeof shapes);
        return agi_fail(t, AG_ENAN,
                        "ag_%s (node %zu): backward produced %s in the gradient of input %d%s at element %zu (inputs %s; output gradient %s)",
                        n->op->name, n->index, isnan(x->grad[i]) ? "NaN" : "Inf", k,
                        ag_shape_str(x->shape, x->ndim, gs, sizeof gs), i, shapes,
                        first_nonfinite(n->out->grad, n->out->numel) == SIZE_MAX ? "finite" : "not finite");
    }
    return AG_OK;
}

void ag_tape_seed(ag_tape *t, uint64_t seed)
{
    if (t)
        t->rng = seed;
}

int ag_tape_status(const ag_tape *t) { return t ? t->status : AG_EINVAL; }
const char *ag_tape_errmsg(const ag_tape *t) { return t ? t->errmsg : "tape is NULL"; }
size_t ag_tape_nodes(const ag_tape *t) { return t ? t->n_nodes : 0; }
size_t ag_tape_arena_bytes(const ag_tape *t) { return t ? t->arena.total : 0; }

/* ---- op context accessors ---- */

static ag_view view_of(const ag_tensor *x, ag_real *p)
{
    ag_view v = {p, x->numel, x->shape, x->ndim};
    return v;
}

int ag_n_in(const ag_opctx *c) { return c->n_in; }
ag_view ag_in(const ag_opctx *c, int i) { return view_of(c->in[i], c->in[i]->data); }
const void *ag_attr(const ag_opctx *c) { return c->attr; }
void *ag_saved(const ag_opctx *c) { return c->saved; }

ag_view ag_out(const ag_opctx *c)
{
    if (!c->out) {
        ag_view v = {NULL, 0, NULL, 0};
        return v;
    }
    return view_of(c->out, c->out->data);
}

/* Gradient buffers are not zeroed when they are made: a node's buffer is
 * "fresh" until its first use in a sweep. A VJP that asks for it with
 * ag_in_grad_first() stores its first contribution instead of adding it to
 * zeros (one pass over memory fewer, and none in the forward pass); every
 * other use zeroes the whole buffer first. */
void agi_grad_ready(agi_node *n)
{
    if (n && n->fresh) {
        memset(n->out->grad, 0, n->out->numel * sizeof(ag_real));
        n->fresh = 0;
    }
}

void agi_param_grad_ready(const ag_tensor *x)
{
    ag_tensor *p = x->base ? x->base : (ag_tensor *)x;
    if (p->flags & AGI_GRAD_ZERO) {
        memset(p->grad, 0, p->numel * sizeof(ag_real));
        p->flags &= ~AGI_GRAD_ZERO;
    }
}

ag_view ag_out_grad(const ag_opctx *c)
{
    agi_grad_ready(c->out->node); /* no consumer wrote it: zeros */
    return view_of(c->out, c->out->grad);
}

int ag_wants_grad(const ag_opctx *c, int i)
{
    return (c->in[i]->flags & AGI_REQGRAD) != 0;
}

ag_view ag_in_grad(const ag_opctx *c, int i)
{
    const ag_tensor *x = c->in[i];
    if (!(x->flags & AGI_REQGRAD))
        return view_of(x, NULL);
    agi_tensor_grad_ready(x);
    return view_of(x, x->grad);
}

/* ag_in_grad_first for a parameter, or a view of one: first if its gradient
 * was zeroed lazily and x covers all of it. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static ag_view param_grad_first(const ag_tensor *x, int *first)
{
    ag_tensor *p = x->base ? x->base : (ag_tensor *)x;
    *first = (x->flags & AGI_REQGRAD) && (p->flags & AGI_GRAD_ZERO) && x->grad == p->grad &&
             x->numel == p->numel;
    if (*first)
        p->flags &= ~AGI_GRAD_ZERO;
    else if (x->flags & AGI_REQGRAD)
        agi_param_grad_ready(x);
    return view_of(x, (x->flags & AGI_REQGRAD) ? x->grad : NULL);
}

ag_view ag_in_grad_first(const ag_opctx *c, int i, int *first)
{
    const ag_tensor *x = c->in[i];
    agi_node *n = x->node;
    /* only a whole buffer, the node's output or a view of all of it (a
     * reshape): a partial view leaves the rest to other writers */
    *first = (x->flags & AGI_REQGRAD) && n && n->fresh &&
             (n->out == x || (x->grad == n->out->grad && x->numel == n->out->numel));
    if (*first) {
        n->fresh = 0;
        return view_of(x, x->grad);
    }
    if (!n)
        return param_grad_first(x, first);
    return ag_in_grad(c, i);
}

void *ag_save_alloc(ag_opctx *c, size_t bytes)
{
    void *p = agi_arena_alloc(&c->t->arena, bytes ? bytes : 1, 16);
    if (!p) {
        c->failed = 1;
        agi_fail(c->t, AG_ENOMEM, "ag_%s (node %zu): out of memory for saved state",
                 c->op->name, c->index);
        return NULL;
    }
    memset(p, 0, bytes);
    c->saved = p;
    return p;
}

void *ag_scratch(ag_opctx *c, size_t bytes)
{
    void *p = agi_arena_alloc(&c->t->arena, bytes ? bytes : 1, 64);
    if (!p) {
        c->failed = 1;
        agi_fail(c->t, AG_ENOMEM, "ag_%s (node %zu): out of memory for scratch",
                 c->op->name, c->index);
    }
    return p;
}

double ag_uniform(ag_opctx *c)
{
    return (double)(agi_splitmix64(&c->t->rng) >> 11) * 0x1.0p-53;
}

int ag_op_fail(ag_opctx *c, int code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return agi_fail(c->t, code, "ag_%s (node %zu): %s", c->op->name, c->index, msg);
}

const char *ag_in_shape_str(ag_opctx *c, int i)
{
    char *b = agi_arena_alloc(&c->t->arena, 160, 1);
    if (!b)
        return "[?]";
    return ag_shape_str(c->in[i]->shape, c->in[i]->ndim, b, 160);
}

/* ---- apply ---- */

static ag_tensor *fail_apply(ag_tape *t, const ag_op_def *op, size_t index, int code,
                             const char *what, int i)
{
    agi_fail(t, code, "ag_%s (node %zu): %s %d", op->name, index, what, i);
    return &t->poison;
}

/* memcpy for the few bytes of an op's attributes: a call to memcpy of a
 * size unknown at compile time became `rep movsb`, whose start-up cost was a
 * fifth of ag_apply's time on a chain of small ops. */
static void copy_small(void *dst, const void *src, size_t n)
{
    if (n > 64) {
        memcpy(dst, src, n);
        return;
    }
    unsigned char *d = dst;
    const unsigned char *s = src;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) memcpy(d + i, s + i, 8);
    for (; i < n; i++) d[i] = s[i];
}

/* A header over x's elements: its data, and its gradient buffer and
 * producing node when gradients flow (consumers then accumulate straight
 * into x's gradient, and backward reaches x's node through the view). */
static ag_tensor *make_view(ag_tape *t, ag_tensor *x, size_t off, const size_t *shape, int nd,
                            size_t numel, int grad)
{
    ag_tensor *y = agi_arena_alloc(&t->arena, sizeof *y, 16);
    if (!y) {
        agi_fail(t, AG_ENOMEM, "ag_apply_view: out of memory");
        return &t->poison;
    }
    y->data = x->data + off;
    y->grad = grad ? x->grad + off : NULL;
    y->node = grad ? x->node : NULL;
    y->base = x->base ? x->base : x;
    for (int d = 0; d < nd; d++) y->shape[d] = shape[d];
    y->numel = numel;
    y->tape = t;
    y->gen = t->gen;
    y->ndim = (uint8_t)nd;
    y->flags = grad ? AGI_REQGRAD : 0;
    return y;
}

/* ag_apply (view 0), a view of all of input 0 (view 1, same element count)
 * or of a block of it from element off (view 2): validation is the same,
 * then a view shares input 0's buffers instead of getting its own. */
static ag_tensor *apply(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                        const void *attr, size_t attr_size, int view, size_t off)
{
    if (!t)
        return agi_global_poison();
    if (t->status)
        return &t->poison;
    size_t index = t->n_ops++;
    if (!op || !op->shape || !op->forward) {
        agi_fail(t, AG_EINVAL, "ag_apply (node %zu): op definition is NULL or incomplete", index);
        return &t->poison;
    }
    if (n_in < 0 || (op->n_in >= 0 && n_in != op->n_in) || (op->n_in < 0 && n_in < 1)) {
        if (op->n_in < 0)
            agi_fail(t, AG_EINVAL, "ag_%s (node %zu): expected at least 1 input, got %d",
                     op->name, index, n_in);
        else
            agi_fail(t, AG_EINVAL, "ag_%s (node %zu): expected %d inputs, got %d", op->name,
                     index, op->n_in, n_in);
        return &t->poison;
    }
    if (n_in > 0 && !in) {
        agi_fail(t, AG_EINVAL, "ag_%s (node %zu): the array of %d inputs is NULL", op->name,
                 index, n_in);
        return &t->poison;
    }
    if (attr_size && !attr) {
        agi_fail(t, AG_EINVAL, "ag_%s (node %zu): attributes are NULL", op->name, index);
        return &t->poison;
    }
    int reqgrad = 0;
    for (int i = 0; i < n_in; i++) {
        const ag_tensor *x = in[i];
        if (!x)
            return fail_apply(t, op, index, AG_EINVAL, "NULL tensor as input", i);
        if (x->flags & AGI_POISON)
            return fail_apply(t, op, index, AG_ESTATE, "poisoned tensor as input", i);
        if (x->tape && x->tape != t)
            return fail_apply(t, op, index, AG_ESTATE, "tensor of another tape as input", i);
        if (x->tape && x->gen != t->gen)
            return fail_apply(t, op, index, AG_ESTATE,
                              "tensor made before the last ag_tape_reset as input", i);
        reqgrad |= x->flags & AGI_REQGRAD;
    }
    int record = t->recording && reqgrad && op->vjp;
    if (view && n_in < 1) {
        agi_fail(t, AG_EINVAL, "ag_%s (node %zu): a view needs an input", op->name, index);
        return &t->poison;
    }

    ag_opctx c = {t, op, in, NULL, attr, NULL, index, n_in, 0};
    size_t shape[AG_MAX_DIMS];
    int nd = 0;
    size_t numel;
    if (op->shape == agi_same_shape && n_in > 0) {
        /* input 0's shape, known valid: no call, no count (a chain of small
         * elementwise ops spent 5% of its time in the call) */
        nd = in[0]->ndim;
        for (int d = 0; d < nd; d++) shape[d] = in[0]->shape[d];
        numel = in[0]->numel;
    } else {
        if (op->shape(&c, shape, &nd) || c.failed) {
            if (t->status == AG_OK)
                agi_fail(t, AG_EINVAL, "ag_%s (node %zu): invalid inputs", op->name, index);
            return &t->poison;
        }
        int ovf;
        numel = agi_numel(shape, nd, &ovf);
        if (nd < 0 || nd > AG_MAX_DIMS || ovf || numel > SIZE_MAX / 4 / sizeof(ag_real)) {
            agi_fail(t, AG_EINVAL, "ag_%s (node %zu): output shape too large or ndim %d invalid",
                     op->name, index, nd);
            return &t->poison;
        }
    }

    if (view) {
        if (view == 2 ? off > in[0]->numel || numel > in[0]->numel - off : numel != in[0]->numel) {
            agi_fail(t, AG_EINVAL, "ag_%s (node %zu): a view must keep the %zu elements of its input, not %zu",
                     op->name, index, in[0]->numel, numel);
            return &t->poison;
        }
        return make_view(t, in[0], off, shape, nd, numel, record);
    }

    /* One arena block: [data | tensor header | node | inputs | attributes].
     * The data comes first to keep its 64-byte alignment. */
    size_t dbytes = (numel * sizeof(ag_real) + 63) & ~(size_t)63;
    size_t gbytes = record ? dbytes : 0; /* gradient buffer, used by backward */
    size_t hbytes = (sizeof(ag_tensor) + 15) & ~(size_t)15;
    size_t nbytes = record ? (sizeof(agi_node) + 15) & ~(size_t)15 : 0;
    size_t ibytes = record ? ((size_t)n_in * sizeof(ag_tensor *) + 15) & ~(size_t)15 : 0;
    size_t abytes = record ? attr_size : 0;
    if (dbytes > SIZE_MAX / 4 - 4096 - attr_size) {
        agi_fail(t, AG_ENOMEM, "ag_%s (node %zu): out of memory", op->name, index);
        return &t->poison;
    }
    char *blk = agi_arena_alloc(&t->arena, gbytes + dbytes + hbytes + nbytes + ibytes + abytes, 64);
    if (!blk) {
        agi_fail(t, AG_ENOMEM, "ag_%s (node %zu): out of memory", op->name, index);
        return &t->poison;
    }
    ag_real *grad = record ? (ag_real *)blk : NULL; /* fresh: zeroed on first use */
    blk += gbytes;
    ag_real *data = (ag_real *)blk;
    ag_tensor *y = (ag_tensor *)(blk + dbytes);
    agi_node *node = NULL;
    if (record) {
        node = (agi_node *)(blk + dbytes + hbytes);
        ag_tensor **ins = (ag_tensor **)(blk + dbytes + hbytes + nbytes);
        for (int i = 0; i < n_in; i++) ins[i] = in[i];
        node->in = ins;
        node->attr = NULL;
        node->live = 0;
        node->fresh = 1;
        if (attr_size) {
            void *acopy = blk + dbytes + hbytes + nbytes + ibytes;
            copy_small(acopy, attr, attr_size);
            node->attr = acopy;
        }
        c.attr = node->attr;
        c.in = ins;
    }
    y->data = data;
    y->grad = grad;
    y->base = NULL;
    for (int d = 0; d < nd; d++) y->shape[d] = shape[d];
    y->numel = numel;
    y->tape = t;
    y->node = NULL;
    y->gen = t->gen;
    y->ndim = (uint8_t)nd;
    y->flags = record ? AGI_REQGRAD : 0;
    c.out = y;
    if (t->prof) {
        uint64_t t0 = agi_now_ns();
        op->forward(&c);
        prof_add(t, op, 0, t0);
    } else {
        op->forward(&c);
    }
    if (c.failed || (t->anomaly && anomaly_forward(t, op, index, c.in, n_in, y)))
        return &t->poison;
    if (record) {
        node->op = op;
        node->out = y;
        node->saved = c.saved;
        node->index = index;
        node->n_in = n_in;
        node->prev = t->last;
        t->last = node;
        t->n_nodes++;
        y->node = node;
    }
    return y;
}

ag_tensor *ag_apply(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                    const void *attr, size_t attr_size)
{
    return apply(t, op, in, n_in, attr, attr_size, 0, 0);
}

ag_tensor *ag_apply_view(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                         const void *attr, size_t attr_size)
{
    return apply(t, op, in, n_in, attr, attr_size, 1, 0);
}

ag_tensor *agi_apply_view_at(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                             const void *attr, size_t attr_size, size_t off)
{
    return apply(t, op, in, n_in, attr, attr_size, 2, off);
}

/* ---- backward ---- */

static int backward_check(ag_tape *t, ag_tensor *y, const char *fn)
{
    if (!t)
        return agi_fail(NULL, AG_EINVAL, "%s: tape is NULL", fn);
    if (t->status)
        return t->status;
    if (!y || (y->flags & AGI_POISON))
        return agi_fail(t, AG_EINVAL, "%s: output is NULL or poisoned", fn);
    if (y->tape != t || y->gen != t->gen)
        return agi_fail(t, AG_ESTATE, "%s: output was not recorded on this tape since its last reset", fn);
    if (!y->node && !(y->flags & AGI_REQGRAD))
        return agi_fail(t, AG_EINVAL,
                        "%s: output does not depend on any parameter (or was computed with recording off)",
                        fn);
    return AG_OK;
}

static int sweep(ag_tape *t, ag_tensor *y, const ag_real *dy)
{
    /* Every recorded output's gradient buffer starts fresh (agi_grad_ready).
     * A second sweep on the same tape starts again from zero, so it gives
     * the same values. Only nodes that y depends on run. */
    if (t->swept) {
        for (agi_node *n = t->last; n; n = n->prev) {
            n->fresh = 1;
            n->live = 0;
        }
    }
    t->swept = 1;
    /* Added, not stored: y may be a view of a parameter, whose gradient
     * accumulates, or a view of part of a recorded output. */
    agi_tensor_grad_ready(y);
    for (size_t i = 0; i < y->numel; i++)
        y->grad[i] += dy ? dy[i] : (ag_real)1;
    if (!y->node)
        return AG_OK; /* a view of a parameter: nothing to walk */
    y->node->live = 1;

    for (agi_node *n = y->node; n; n = n->prev) {
        /* The walk chases pointers backwards through memory written long
         * ago: start loading the next node's neighbour and the buffers
         * the next VJP touches while this one runs. */
        agi_node *p = n->prev;
        if (p) {
            __builtin_prefetch(p->prev);
            __builtin_prefetch(p->out->grad, 1);
            __builtin_prefetch(p->out->data);
        }
        if (!n->live)
            continue; /* y does not depend on this node */
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i]->node)
                n->in[i]->node->live = 1;
        ag_opctx c = {t, n->op, n->in, n->out, n->attr, n->saved, n->index, n->n_in, 0};
        if (t->prof) {
            uint64_t t0 = agi_now_ns();
            n->op->vjp(&c);
            prof_add(t, n->op, 1, t0);
        } else {
            n->op->vjp(&c);
        }
        if (c.failed)
            return t->status;
        if (t->anomaly && anomaly_backward(t, n))
            return t->status;
    }
    return AG_OK;
}

int ag_backward(ag_tape *t, ag_tensor *loss)
{
    int s = backward_check(t, loss, "ag_backward");
    if (s)
        return s;
    if (loss->numel != 1) {
        char b[160];
        return agi_fail(t, AG_EINVAL,
                        "ag_backward: loss must have one element, has shape %s (use ag_backward_with)",
                        ag_shape_str(loss->shape, loss->ndim, b, sizeof b));
    }
    return sweep(t, loss, NULL);
}

int ag_backward_with(ag_tape *t, ag_tensor *y, const ag_real *dy)
{
    int s = backward_check(t, y, "ag_backward_with");
    if (s)
        return s;
    if (!dy)
        return agi_fail(t, AG_EINVAL, "ag_backward_with: dy is NULL");
    return sweep(t, y, dy);
}

/* ---- graph export ---- */

static void dot_leaf(FILE *f, const ag_tensor *x)
{
    char s[96];
    ag_shape_str(x->shape, x->ndim, s, sizeof s);
    if (x->flags & AGI_PARAM) {
        const char *name = ag_param_name(x);
        fprintf(f, "  t%p [shape=ellipse, style=filled, fillcolor=\"#dbe9f6\", label=\"%s\\n%s\"];\n",
                (const void *)x, *name ? name : "param", s);
    } else {
        fprintf(f, "  t%p [shape=note, label=\"const\\n%s\"];\n", (const void *)x, s);
    }
}

int ag_tape_dot(const ag_tape *t, FILE *f)
{
    if (!t || !f)
        return AG_EINVAL;
    fprintf(f, "digraph agrad {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
    for (const agi_node *n = t->last; n; n = n->prev) {
        char s[96];
        ag_shape_str(n->out->shape, n->out->ndim, s, sizeof s);
        fprintf(f, "  t%p [shape=box, label=\"%s #%zu\\n%s\"];\n", (const void *)n->out, n->op->name,
                n->index, s);
        for (int i = 0; i < n->n_in; i++) {
            /* a view stands for the tensor it shows */
            const ag_tensor *x = n->in[i]->node ? n->in[i]->node->out
                                 : n->in[i]->base ? n->in[i]->base : n->in[i];
            if (!x->node)
                dot_leaf(f, x); /* a leaf may be listed more than once: DOT merges them */
            fprintf(f, "  t%p -> t%p;\n", (const void *)x, (const void *)n->out);
        }
    }
    fprintf(f, "}\n");
    return ferror(f) ? AG_EIO : AG_OK;
}
