/* Early stopping: watch a validation metric, snapshot the parameters at
 * its best, restore them at the end. The snapshot buffer is allocated once. */
#include <math.h>
#include <string.h>
#include "internal.h"

struct ag_early_stop {
    const ag_paramset *ps;
    ag_real *snap;       /* numel of every parameter, in set order */
    size_t numel;
    int patience, higher, improved, has_snap;
    int bad;             /* non-improving updates in a row */
    double min_delta, best;
    long epoch, best_epoch;
};

ag_early_stop *ag_early_stop_new(const ag_paramset *ps, int patience, double min_delta,
                                 int higher_better)
{
    if (!ps || ag_paramset_count(ps) == 0 || patience < 0 || !(min_delta >= 0)) {
        agi_fail(NULL, AG_EINVAL, "ag_early_stop_new: %s", !ps || !ag_paramset_count(ps)
                 ? "no parameters" : "patience and min_delta must be >= 0");
        return NULL;
    }
    ag_early_stop *e = agi_alloc(sizeof *e);
    size_t numel = ag_paramset_numel(ps);
    ag_real *snap = agi_alloc(numel * sizeof(ag_real) + 1);
    if (!e || !snap) {
        agi_free(e, sizeof *e);
        agi_free(snap, numel * sizeof(ag_real) + 1);
        agi_fail(NULL, AG_ENOMEM, "ag_early_stop_new: out of memory for %zu values", numel);
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->ps = ps;
    e->snap = snap;
    e->numel = numel;
    e->patience = patience;
    e->higher = higher_better != 0;
    e->min_delta = min_delta;
    e->best = NAN;
    e->best_epoch = -1;
    return e;
}

/* Copy between the parameters and the snapshot (to_snap: params -> snap). */
static void copy_params(ag_early_stop *e, int to_snap)
{
    ag_real *s = e->snap;
    for (size_t i = 0; i < ag_paramset_count(e->ps); i++) {
        ag_tensor *x = ag_paramset_get(e->ps, i);
        size_t n = ag_numel(x);
        if (to_snap)
            memcpy(s, ag_data(x), n * sizeof(ag_real));
        else
            memcpy(ag_data(x), s, n * sizeof(ag_real));
        s += n;
    }
}

int ag_early_stop_update(ag_early_stop *e, double metric)
{
    if (!e)
        return 1;
    int better = 0;
    if (!isnan(metric)) {
        if (isnan(e->best))
            better = 1;
        else if (e->higher)
            better = metric > e->best + e->min_delta;
        else
            better = metric < e->best - e->min_delta;
    }
    e->improved = better;
    if (better) {
        e->best = metric;
        e->best_epoch = e->epoch;
        e->bad = 0;
        /* the set may have grown since creation: snapshot only what fits */
        if (ag_paramset_numel(e->ps) == e->numel) {
            copy_params(e, 1);
            e->has_snap = 1;
        }
    } else {
        e->bad++;
    }
    e->epoch++;
    return e->bad > e->patience;
}

int ag_early_stop_improved(const ag_early_stop *e)
{
    return e ? e->improved : 0;
}

double ag_early_stop_best(const ag_early_stop *e)
{
    return e ? e->best : NAN;
}

long ag_early_stop_best_epoch(const ag_early_stop *e)
{
    return e ? e->best_epoch : -1;
}

int ag_early_stop_restore(ag_early_stop *e)
{
    if (!e || !e->has_snap)
        return agi_fail(NULL, AG_ESTATE, "ag_early_stop_restore: no snapshot taken yet");
    if (ag_paramset_numel(e->ps) != e->numel)
        return agi_fail(NULL, AG_ESTATE, "ag_early_stop_restore: the parameter set changed size");
    copy_params(e, 0);
    return AG_OK;
}

void ag_early_stop_free(ag_early_stop *e)
{
    if (!e)
        return;
    agi_free(e->snap, e->numel * sizeof(ag_real) + 1);
    agi_free(e, sizeof *e);
}
