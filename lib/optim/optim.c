/* SGD (momentum, Nesterov), Adam (AdamW), weight decay and gradient-norm
 * clipping. Updates parameter buffers in place, off the tape, with PyTorch's
 * formulas (torch.optim.SGD / Adam). Arithmetic is in double per element;
 * state is kept in ag_real. Everything is allocated at creation. */
#include <math.h>
#include <string.h>
#include "internal.h"

enum { OPT_SGD, OPT_ADAM };

struct ag_optim {
    int kind;
    size_t n;            /* parameters */
    ag_tensor **p;       /* n parameters */
    ag_real **m;         /* n momentum / first-moment buffers, or NULL */
    ag_real **v;         /* n second-moment buffers (Adam), or NULL */
    size_t *off;         /* n + 1: where each parameter starts when all are laid end to end */
    double lr, momentum, wd, beta1, beta2, eps;
    int nesterov, decoupled;
    uint64_t steps;
    size_t bytes;        /* size of this block, for agi_free */
};

/* One block: header, pointer arrays, then n_state buffers per parameter. */
static ag_optim *optim_alloc(const char *fn, const ag_paramset *ps, int n_state)
{
    if (!ps || ag_paramset_count(ps) == 0) {
        agi_fail(NULL, AG_EINVAL, "%s: no parameters", fn);
        return NULL;
    }
    size_t n = ag_paramset_count(ps);
    size_t head = (sizeof(ag_optim) + 4 * (n + 1) * sizeof(void *) + 63) & ~(size_t)63;
    size_t bytes = head;
    for (size_t i = 0; i < n; i++)
        bytes += (size_t)n_state * ((ag_numel(ag_paramset_get(ps, i)) * sizeof(ag_real) + 63) & ~(size_t)63);
    char *blk = agi_alloc(bytes + 64);
    if (!blk) {
        agi_fail(NULL, AG_ENOMEM, "%s: out of memory for the state of %zu parameters", fn, n);
        return NULL;
    }
    memset(blk, 0, bytes + 64);
    ag_optim *o = (ag_optim *)blk;
    o->bytes = bytes + 64;
    o->n = n;
    o->p = (ag_tensor **)(o + 1);
    o->m = (ag_real **)(o->p + n);
    o->v = (ag_real **)(o->m + n);
    o->off = (size_t *)(o->v + n);
    char *s = (char *)(((uintptr_t)blk + head + 63) & ~(uintptr_t)63);
    for (size_t i = 0; i < n; i++) {
        o->p[i] = ag_paramset_get(ps, i);
        o->off[i + 1] = o->off[i] + ag_numel(o->p[i]);
        size_t sz = (ag_numel(o->p[i]) * sizeof(ag_real) + 63) & ~(size_t)63;
        if (n_state >= 1) o->m[i] = (ag_real *)s, s += sz;
        if (n_state >= 2) o->v[i] = (ag_real *)s, s += sz;
    }
    return o;
}

static int bad_setting(const char *fn, const char *what, double v)
{
    return agi_fail(NULL, AG_EINVAL, "%s: bad %s %g", fn, what, v);
}

ag_optim *ag_optim_sgd(const ag_paramset *ps, const ag_sgd_opts *opts)
{
    const char *fn = "ag_optim_sgd";
    if (!opts) {
        agi_fail(NULL, AG_EINVAL, "%s: opts is NULL (a learning rate is needed)", fn);
        return NULL;
    }
    if (!(opts->lr > 0) || !isfinite(opts->lr))
        return bad_setting(fn, "learning rate", opts->lr), NULL;
    if (!(opts->momentum >= 0 && opts->momentum < 1))
        return bad_setting(fn, "momentum", opts->momentum), NULL;
    if (!(opts->weight_decay >= 0) || !isfinite(opts->weight_decay))
        return bad_setting(fn, "weight decay", opts->weight_decay), NULL;
    if (opts->nesterov && opts->momentum == 0) {
        agi_fail(NULL, AG_EINVAL, "%s: Nesterov needs a momentum > 0", fn);
        return NULL;
    }
    ag_optim *o = optim_alloc(fn, ps, opts->momentum > 0 ? 1 : 0);
    if (!o)
        return NULL;
    o->kind = OPT_SGD;
    o->lr = opts->lr;
    o->momentum = opts->momentum;
    o->wd = opts->weight_decay;
    o->nesterov = opts->nesterov != 0;
    return o;
}

ag_optim *ag_optim_adam(const ag_paramset *ps, const ag_adam_opts *opts)
{
    const char *fn = "ag_optim_adam";
    ag_adam_opts a = opts ? *opts : (ag_adam_opts){0};
    if (a.lr == 0) a.lr = 1e-3;
    if (a.beta1 == 0) a.beta1 = 0.9;
    if (a.beta2 == 0) a.beta2 = 0.999;
    if (a.eps == 0) a.eps = 1e-8;
    if (!(a.lr > 0) || !isfinite(a.lr))
        return bad_setting(fn, "learning rate", a.lr), NULL;
    if (!(a.beta1 > 0 && a.beta1 < 1))
        return bad_setting(fn, "beta1", a.beta1), NULL;
    if (!(a.beta2 > 0 && a.beta2 < 1))
        return bad_setting(fn, "beta2", a.beta2), NULL;
    if (!(a.eps > 0))
        return bad_setting(fn, "eps", a.eps), NULL;
    if (!(a.weight_decay >= 0) || !isfinite(a.weight_decay))
        return bad_setting(fn, "weight decay", a.weight_decay), NULL;
    ag_optim *o = optim_alloc(fn, ps, 2);
    if (!o)
        return NULL;
    o->kind = OPT_ADAM;
    o->lr = a.lr;
    o->beta1 = a.beta1;
    o->beta2 = a.beta2;
    o->eps = a.eps;
    o->wd = a.weight_decay;
    o->decoupled = a.decoupled != 0;
    return o;
}

/* In ag_real, with the cases split outside the loops, so that they
 * vectorise: this runs over every parameter at every step. */
AGI_CLONES
static void sgd_update(const ag_optim *o, ag_real *p, const ag_real *gr, ag_real *buf, size_t n)
{
    const ag_real lr = (ag_real)o->lr, mu = (ag_real)o->momentum, wd = (ag_real)o->wd;
    if (!buf) {
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * (gr[i] + wd * p[i]);           /* p -= lr (grad + wd p) */
    } else if (!o->nesterov) {
        for (size_t i = 0; i < n; i++) {
            ag_real b = mu * buf[i] + (gr[i] + wd * p[i]); /* b = mu b + g */
            buf[i] = b;
            p[i] -= lr * b;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            ag_real g = gr[i] + wd * p[i];
            ag_real b = mu * buf[i] + g;
            buf[i] = b;
            p[i] -= lr * (g + mu * b);                  /* Nesterov: g + mu b */
        }
    }
}

AGI_CLONES
static void adam_update(const ag_optim *o, ag_real *p, const ag_real *gr, ag_real *m, ag_real *v,
                        size_t n)
{
    double b1 = o->beta1, b2 = o->beta2, lr = o->lr, eps = o->eps, wd = o->wd;
    double k = (double)o->steps;
    double bc1 = 1 - pow(b1, k), bc2 = 1 - pow(b2, k);
    for (size_t i = 0; i < n; i++) {
        double pi = p[i], g = gr[i];
        if (o->decoupled)
            pi *= 1 - lr * wd;                          /* AdamW: p *= 1 - lr wd */
        else
            g += wd * pi;                               /* L2: g = grad + wd p */
        double mi = b1 * m[i] + (1 - b1) * g;           /* m = b1 m + (1-b1) g */
        double vi = b2 * v[i] + (1 - b2) * g * g;       /* v = b2 v + (1-b2) g^2 */
        m[i] = (ag_real)mi;
        v[i] = (ag_real)vi;
        p[i] = (ag_real)(pi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps));
    }
}

/* The update is split over the thread pool into parts, one per thread
 * while each gets at least UPDATE_SPAN elements: part p of P updates
 * elements [p n / P, (p + 1) n / P) of every parameter (rounded to whole
 * cache lines), so the calling thread takes the first part of each, the
 * first worker the next. That is the split the products themselves make of
 * a weight's rows, [out, in] (the forward product's columns, the weight
 * gradient's rows), so each core updates the rows it wrote and will read
 * again. Each element is updated alone, so the result does not depend on
 * the split. Laying the parameters end to end and cutting that into even
 * spans instead split W-MLP's first weight at row 150-170 rather than 128:
 * at 2 threads the update took 29.0-30.8 us a step, now 23.5-25.8 (and
 * W-MLP 2386-2439 -> 2425-2464 steps/s; the update alone, outside the
 * model, takes about 20). */
#define UPDATE_SPAN 32768

typedef struct parts_job {
    const ag_optim *o;
    size_t parts;
} parts_job;

static void parts_task(void *ctx, size_t lo, size_t hi)
{
    const parts_job *j = ctx;
    const ag_optim *o = j->o;
    size_t line = 64 / sizeof(ag_real);
    for (size_t p = lo; p < hi; p++)
        for (size_t i = 0; i < o->n; i++) {
            size_t n = o->off[i + 1] - o->off[i];
            size_t a = n * p / j->parts / line * line;
            size_t b = p + 1 == j->parts ? n : n * (p + 1) / j->parts / line * line;
            if (a >= b)
                continue;
            ag_tensor *x = o->p[i];
            if (o->kind == OPT_SGD)
                sgd_update(o, x->data + a, x->grad + a, o->m[i] ? o->m[i] + a : NULL, b - a);
            else
                adam_update(o, x->data + a, x->grad + a, o->m[i] + a, o->v[i] + a, b - a);
        }
}

int ag_optim_step(ag_optim *o)
{
    if (!o)
        return agi_fail(NULL, AG_EINVAL, "ag_optim_step: optimizer is NULL");
    o->steps++;
    /* a gradient no backward wrote since zero_grad: zeros, before the threads read it */
    for (size_t i = 0; i < o->n; i++) agi_param_grad_ready(o->p[i]);
    size_t parts = o->off[o->n] / UPDATE_SPAN, nt = (size_t)ag_get_threads();
    parts_job j = {o, parts < 1 ? 1 : parts > nt ? nt : parts};
    agi_parallel_for(j.parts, 1, parts_task, &j);
    return AG_OK;
}

void ag_optim_zero_grad(ag_optim *o)
{
    for (size_t i = 0; o && i < o->n; i++) ag_param_zero_grad(o->p[i]);
}

void ag_optim_set_lr(ag_optim *o, double lr)
{
    if (o && lr > 0 && isfinite(lr))
        o->lr = lr;
}

double ag_optim_lr(const ag_optim *o)
{
    return o ? o->lr : 0;
}

uint64_t ag_optim_steps(const ag_optim *o)
{
    return o ? o->steps : 0;
}

void ag_optim_free(ag_optim *o)
{
    if (o)
        agi_free(o, o->bytes);
}

double ag_clip_grad_norm(const ag_paramset *ps, double max_norm)
{
    double ss = 0;
    size_t n = ag_paramset_count(ps);
    for (size_t i = 0; i < n; i++) {
        ag_tensor *x = ag_paramset_get(ps, i);
        const ag_real *g = ag_grad(x);
        for (size_t k = 0; k < ag_numel(x); k++) ss += (double)g[k] * g[k];
    }
    double norm = sqrt(ss);
    if (!isfinite(norm) || !(max_norm > 0) || norm <= max_norm)
        return norm;
    double s = max_norm / norm;                          /* g *= max_norm / ||g|| */
    for (size_t i = 0; i < n; i++) {
        ag_tensor *x = ag_paramset_get(ps, i);
        ag_real *g = ag_grad(x);
        for (size_t k = 0; k < ag_numel(x); k++) g[k] = (ag_real)(g[k] * s);
    }
    return norm;
}
