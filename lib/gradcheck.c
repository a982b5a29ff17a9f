/* Finite-difference gradient check (see gradcheck.h for the contract). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

ag_gradcheck_opts ag_gradcheck_defaults(void)
{
    ag_gradcheck_opts o;
    memset(&o, 0, sizeof o);
#if AG_REAL_IS_DOUBLE
    o.eps = 1e-6;
    o.rtol = 1e-6;
    o.atol = 1e-8;
#else
    o.eps = 1e-3;
    o.rtol = 1e-2;
    o.atol = 1e-3;
#endif
    o.n_proj = 8;
    o.seed = 42;
    return o;
}

typedef struct gc {
    ag_gradcheck_fn fn;
    void *ctx;
    ag_tape *t;
    uint64_t seed;
    ag_gradcheck_report *r;
} gc;

/* Evaluate fn on the reset tape; 0 on success with *f set. */
static int eval(gc *g, double *f, ag_tensor **out)
{
    ag_tape_reset(g->t);
    ag_tape_seed(g->t, g->seed);
    ag_tensor *y = g->fn(g->t, g->ctx);
    if (g->t->status) {
        g->r->status = g->t->status;
        snprintf(g->r->errmsg, sizeof g->r->errmsg, "%s", g->t->errmsg);
        return -1;
    }
    if (!y || y->numel != 1) {
        g->r->status = AG_EINVAL;
        snprintf(g->r->errmsg, sizeof g->r->errmsg,
                 "ag_gradcheck: fn must return a tensor with one element");
        return -1;
    }
    *f = (double)y->data[0];
    if (out)
        *out = y;
    return 0;
}

static void note(ag_gradcheck_report *r, const ag_gradcheck_opts *o, int tensor, size_t index,
                 double a, double n)
{
    double ae = fabs(a - n), big = fmax(fabs(a), fabs(n));
    double re = ae / fmax(big, 1e-300);
    double tol = o->atol + o->rtol * big;
    int bad = !(ae <= tol); /* NaN fails */
    ag_gradcheck_tensor *tt = &r->tensors[tensor];
    tt->checked++;
    r->checked++;
    if (ae > tt->max_abs || isnan(ae))
        tt->max_abs = ae;
    if (re > tt->max_rel || isnan(re))
        tt->max_rel = re;
    if (bad) {
        tt->failed++;
        r->failed++;
        tt->pass = 0;
    }
    /* Keep the entries furthest beyond their tolerance. */
    double score = isnan(ae) ? INFINITY : ae / tol;
    ag_gradcheck_entry e = {tensor, index, a, n, ae, re};
    int pos = r->n_worst;
    while (pos > 0) {
        const ag_gradcheck_entry *w = &r->worst[pos - 1];
        double ws = isnan(w->abs_err) ? INFINITY
                                      : w->abs_err / (o->atol + o->rtol * fmax(fabs(w->analytic), fabs(w->numeric)));
        if (ws >= score)
            break;
        pos--;
    }
    if (pos >= AG_GRADCHECK_WORST)
        return;
    int last = r->n_worst < AG_GRADCHECK_WORST ? r->n_worst : AG_GRADCHECK_WORST - 1;
    memmove(&r->worst[pos + 1], &r->worst[pos], (size_t)(last - pos) * sizeof e);
    r->worst[pos] = e;
    if (r->n_worst < AG_GRADCHECK_WORST)
        r->n_worst++;
}

/* Central difference along direction dir (NULL: the unit vector at index i).
 * Returns 1 if the one-sided differences show a kink. */
static int numeric(gc *g, ag_tensor *x, size_t i, const ag_real *dir, double f0, double eps,
                   double *out)
{
    ag_real *d = x->data;
    double fp, fm, num, dr, dl, hp, hm;
    if (!dir) {
        ag_real x0 = d[i];
        double h = eps * fmax(1.0, fabs((double)x0));
        ag_real xp = (ag_real)(x0 + h), xm = (ag_real)(x0 - h);
        hp = (double)xp - (double)x0;
        hm = (double)x0 - (double)xm;
        if (hp == 0 || hm == 0) {
            /* x0 +- h rounds back to x0: the difference would be 0 / 0 */
            g->r->status = AG_EINVAL;
            snprintf(g->r->errmsg, sizeof g->r->errmsg,
                     "ag_gradcheck: eps %.1e is below the resolution of %s at entry %zu "
                     "(x = %.6g): x +- h rounds back to x; use a larger eps",
                     eps, AG_REAL_IS_DOUBLE ? "double" : "float", i, (double)x0);
            return -1;
        }
        d[i] = xp;
        int e1 = eval(g, &fp, NULL);
        d[i] = xm;
        int e2 = eval(g, &fm, NULL);
        d[i] = x0;
        if (e1 || e2)
            return -1;
    } else {
        double amax = 0;
        for (size_t k = 0; k < x->numel; k++)
            amax = fmax(amax, fabs((double)d[k]));
        double h = eps * fmax(1.0, amax);
        ag_real *save = agi_alloc(x->numel * sizeof(ag_real));
        if (!save) {
            g->r->status = AG_ENOMEM;
            snprintf(g->r->errmsg, sizeof g->r->errmsg, "ag_gradcheck: out of memory");
            return -1;
        }
        memcpy(save, d, x->numel * sizeof(ag_real));
        for (size_t k = 0; k < x->numel; k++) d[k] = (ag_real)(save[k] + h * dir[k]);
        int e1 = eval(g, &fp, NULL);
        for (size_t k = 0; k < x->numel; k++) d[k] = (ag_real)(save[k] - h * dir[k]);
        int e2 = eval(g, &fm, NULL);
        memcpy(d, save, x->numel * sizeof(ag_real));
        agi_free(save, x->numel * sizeof(ag_real));
        if (e1 || e2)
            return -1;
        hp = hm = h;
    }
    num = (fp - fm) / (hp + hm);
    dr = (fp - f0) / hp;
    dl = (f0 - fm) / hm;
    *out = num;
    return fabs(dr - dl) > 0.1 * fmax(fabs(dr), fabs(dl)) + 100 * g->r->atol;
}

int ag_gradcheck(ag_gradcheck_fn fn, void *ctx, ag_tensor *const *wrt, int n,
                 const ag_gradcheck_opts *opts, ag_gradcheck_report *report)
{
    ag_gradcheck_report local;
    ag_gradcheck_report *r = report ? report : &local;
    ag_gradcheck_opts o = ag_gradcheck_defaults(), def = o;
    if (opts) {
        o = *opts;
        if (o.eps <= 0) o.eps = def.eps;
        if (o.rtol <= 0) o.rtol = def.rtol;
        if (o.atol <= 0) o.atol = def.atol;
        if (o.n_proj <= 0) o.n_proj = def.n_proj;
    }
    memset(r, 0, sizeof *r);
    r->eps = o.eps;
    r->rtol = o.rtol;
    r->atol = o.atol;
    r->n_wrt = n;
    r->pass = 0;
    if (!fn || !wrt || n < 1 || n > AG_GRADCHECK_MAX_WRT) {
        r->status = agi_fail(NULL, AG_EINVAL, "ag_gradcheck: need fn and 1..%d tensors, got %d",
                             AG_GRADCHECK_MAX_WRT, n);
        snprintf(r->errmsg, sizeof r->errmsg, "%s", ag_last_errmsg());
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (!ag_is_param(wrt[i])) {
            r->status = agi_fail(NULL, AG_EINVAL,
                                 "ag_gradcheck: wrt[%d] is not a parameter (use ag_param_new)", i);
            snprintf(r->errmsg, sizeof r->errmsg, "%s", ag_last_errmsg());
            return 0;
        }
        r->tensors[i].pass = 1;
    }

    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += wrt[i]->numel;
    /* saved gradients, then the analytic ones */
    size_t bytes = 2 * total * sizeof(ag_real) + 1;
    ag_real *buf = agi_alloc(bytes);
    gc g = {fn, ctx, ag_tape_new(), o.seed, r};
    if (!buf || !g.t) {
        agi_free(buf, bytes);
        ag_tape_free(g.t);
        r->status = AG_ENOMEM;
        snprintf(r->errmsg, sizeof r->errmsg, "ag_gradcheck: out of memory");
        return 0;
    }
    ag_real *saved = buf, *ana = buf + total;
    for (int i = 0, off = 0; i < n; off += (int)wrt[i]->numel, i++) {
        memcpy(saved + off, ag_grad(wrt[i]), wrt[i]->numel * sizeof(ag_real));
        ag_param_zero_grad(wrt[i]);
    }

    double f0;
    ag_tensor *y = NULL;
    int ok = eval(&g, &f0, &y) == 0;
    if (ok && ag_backward(g.t, y) != AG_OK) {
        r->status = g.t->status;
        snprintf(r->errmsg, sizeof r->errmsg, "%s", g.t->errmsg);
        ok = 0;
    }
    if (ok) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(ana + off, ag_grad(wrt[i]), wrt[i]->numel * sizeof(ag_real));
            off += wrt[i]->numel;
        }
        r->twice_ok = 1;
        if (!o.no_twice) {
            /* A second sweep over the same tape must give the same gradients. */
            for (int i = 0; i < n; i++)
                ag_param_zero_grad(wrt[i]);
            if (ag_backward(g.t, y) != AG_OK)
                r->twice_ok = 0;
            off = 0;
            for (int i = 0; i < n; i++) {
                if (memcmp(ana + off, ag_grad(wrt[i]), wrt[i]->numel * sizeof(ag_real)))
                    r->twice_ok = 0;
                off += wrt[i]->numel;
            }
        }
    }

    uint64_t rs = o.seed ^ 0xC0FFEEull;
    size_t off = 0;
    for (int ti = 0; ok && ti < n; off += wrt[ti]->numel, ti++) {
        ag_tensor *x = wrt[ti];
        if (!o.fast) {
            for (size_t i = 0; ok && i < x->numel; i++) {
                double num;
                int kink = numeric(&g, x, i, NULL, f0, o.eps, &num);
                if (kink < 0) {
                    ok = 0;
                    break;
                }
                double a = (double)ana[off + i];
                double tol = o.atol + o.rtol * fmax(fabs(a), fabs(num));
                if (kink && !(fabs(a - num) <= tol)) {
                    r->tensors[ti].skipped++;
                    r->skipped++;
                    continue;
                }
                note(r, &o, ti, i, a, num);
            }
        } else {
            ag_real *dir = agi_alloc(x->numel * sizeof(ag_real) + 1);
            if (!dir) {
                r->status = AG_ENOMEM;
                snprintf(r->errmsg, sizeof r->errmsg, "ag_gradcheck: out of memory");
                ok = 0;
                break;
            }
            for (int p = 0; ok && p < o.n_proj; p++) {
                double a = 0, num;
                for (size_t k = 0; k < x->numel; k++) {
                    dir[k] = (agi_splitmix64(&rs) & 1) ? 1 : -1;
                    a += (double)dir[k] * (double)ana[off + k];
                }
                int kink = numeric(&g, x, 0, dir, f0, o.eps, &num);
                if (kink < 0) {
                    ok = 0;
                    break;
                }
                double tol = o.atol + o.rtol * fmax(fabs(a), fabs(num));
                if (kink && !(fabs(a - num) <= tol)) {
                    r->tensors[ti].skipped++;
                    r->skipped++;
                    continue;
                }
                note(r, &o, ti, (size_t)p, a, num);
            }
            agi_free(dir, x->numel * sizeof(ag_real) + 1);
        }
    }

    for (int i = 0, o2 = 0; i < n; o2 += (int)wrt[i]->numel, i++)
        memcpy(ag_grad(wrt[i]), saved + o2, wrt[i]->numel * sizeof(ag_real));
    agi_free(buf, bytes);
    ag_tape_free(g.t);
    r->pass = ok && r->failed == 0 && r->twice_ok && r->checked > 0;
    return r->pass;
}

void ag_gradcheck_fprint(FILE *f, const ag_gradcheck_report *r)
{
    fprintf(f, "gradcheck: %s  (eps %.1e, rtol %.1e, atol %.1e)\n", r->pass ? "PASS" : "FAIL",
            r->eps, r->rtol, r->atol);
    if (r->status != AG_OK) {
        fprintf(f, "  error: %s (%s)\n", r->errmsg, ag_status_str(r->status));
        return;
    }
    fprintf(f, "  checked %zu, failed %zu, skipped at kinks %zu; backward twice: %s\n",
            r->checked, r->failed, r->skipped, r->twice_ok ? "same" : "DIFFERENT");
    for (int i = 0; i < r->n_wrt; i++) {
        const ag_gradcheck_tensor *t = &r->tensors[i];
        fprintf(f, "  wrt[%d]: %s  checked %zu failed %zu skipped %zu  max abs %.3e max rel %.3e\n",
                i, t->pass ? "pass" : "FAIL", t->checked, t->failed, t->skipped, t->max_abs,
                t->max_rel);
    }
    if (r->n_worst)
        fprintf(f, "  worst entries:\n  %6s %10s %14s %14s %10s %10s\n", "wrt", "index",
                "analytic", "numeric", "abs err", "rel err");
    for (int i = 0; i < r->n_worst; i++) {
        const ag_gradcheck_entry *e = &r->worst[i];
        fprintf(f, "  %6d %10zu %14.6e %14.6e %10.2e %10.2e\n", e->tensor, e->index, e->analytic,
                e->numeric, e->abs_err, e->rel_err);
    }
}
