/* The model that fuzz_load loads into and make_seeds saves: three named
 * parameters with a recognisable fill, so a harness can tell whether a
 * failed load touched them. */
#ifndef AGRAD_FUZZ_MODEL_H
#define AGRAD_FUZZ_MODEL_H

#include "agrad.h"

typedef struct fuzz_model {
    ag_paramset *ps;
    ag_tensor *p[3];
} fuzz_model;

static ag_real fuzz_fill(size_t k, size_t i) { return (ag_real)(0.25 * (double)(k + 1) + 0.125 * (double)i); }

static void fuzz_model_new(fuzz_model *m)
{
    static const char *names[3] = {"fc.weight", "fc.bias", "conv.weight"};
    m->ps = ag_paramset_new();
    m->p[0] = ag_param_new(AG_SHAPE(3, 4));
    m->p[1] = ag_param_new(AG_SHAPE(3));
    m->p[2] = ag_param_new(AG_SHAPE(2, 1, 3, 3));
    if (!m->ps)
        abort();
    for (size_t k = 0; k < 3; k++) {
        if (!m->p[k] || ag_paramset_add(m->ps, m->p[k], names[k]) != AG_OK)
            abort();
        for (size_t i = 0; i < ag_numel(m->p[k]); i++) ag_data(m->p[k])[i] = fuzz_fill(k, i);
    }
}

static int fuzz_model_untouched(const fuzz_model *m)
{
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < ag_numel(m->p[k]); i++)
            if (ag_data(m->p[k])[i] != fuzz_fill(k, i))
                return 0;
    return 1;
}

static void fuzz_model_free(fuzz_model *m)
{
    ag_paramset_free(m->ps);
    for (size_t k = 0; k < 3; k++) ag_param_free(m->p[k]);
}

#endif
