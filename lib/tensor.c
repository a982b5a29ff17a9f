/* Tensors: accessors, tape tensors, parameters. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

typedef struct param_block {
    ag_tensor t;
    size_t bytes; /* size of the whole allocation */
    char name[64];
} param_block;

static ag_real global_poison_data[1] = {NAN};
static ag_tensor global_poison = {.data = global_poison_data, .numel = 1, .flags = AGI_POISON};

/* Shared by every thread: never written by the library. */
ag_tensor *agi_global_poison(void)
{
    return &global_poison;
}

size_t agi_numel(const size_t *shape, int ndim, int *overflow)
{
    size_t n = 1;
    *overflow = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && n > SIZE_MAX / shape[i]) {
            *overflow = 1;
            return 0;
        }
        n *= shape[i];
    }
    return n;
}

ag_real *ag_data(const ag_tensor *x) { return x ? x->data : NULL; }
ag_real *ag_grad(const ag_tensor *x)
{
    if (!x || (!(x->flags & AGI_PARAM) && !(x->node && x->node->live)))
        return NULL;
    agi_tensor_grad_ready(x); /* zeroed lazily, or reached by backward, and not written since */
    return x->grad;
}
const size_t *ag_shape(const ag_tensor *x) { return x ? x->shape : NULL; }
int ag_ndim(const ag_tensor *x) { return x ? x->ndim : 0; }
size_t ag_numel(const ag_tensor *x) { return x ? x->numel : 0; }
int ag_is_poisoned(const ag_tensor *x) { return !x || (x->flags & AGI_POISON) != 0; }
int ag_requires_grad(const ag_tensor *x) { return x && (x->flags & AGI_REQGRAD) != 0; }
int ag_is_param(const ag_tensor *x) { return x && (x->flags & AGI_PARAM) != 0; }

size_t ag_dim(const ag_tensor *x, int axis)
{
    if (!x)
        return 0;
    if (axis < 0)
        axis += x->ndim;
    return axis >= 0 && axis < x->ndim ? x->shape[axis] : 0;
}

char *ag_shape_str(const size_t *shape, int ndim, char *buf, size_t n)
{
    size_t k = 0;
    if (!n)
        return buf;
    buf[0] = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%zu" : "%zu", shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

static int check_shape(ag_tape *t, const char *fn, const size_t *shape, int ndim, size_t *numel)
{
    int ovf;
    if (ndim < 0 || ndim > AG_MAX_DIMS)
        return agi_fail(t, AG_EINVAL, "%s: ndim %d out of range 0..%d", fn, ndim, AG_MAX_DIMS);
    if (ndim > 0 && !shape)
        return agi_fail(t, AG_EINVAL, "%s: shape is NULL", fn);
    *numel = agi_numel(shape, ndim, &ovf);
    if (ovf || *numel > SIZE_MAX / 4 / sizeof(ag_real)) {
        char b[160];
        return agi_fail(t, AG_EINVAL, "%s: shape %s is too large", fn,
                        ag_shape_str(shape, ndim, b, sizeof b));
    }
    return AG_OK;
}

/* Header (and optionally data) for a tensor owned by tape t. */
static ag_tensor *tape_tensor(ag_tape *t, const char *fn, const size_t *shape, int ndim,
                              int with_data)
{
    size_t numel;
    if (!t)
        return agi_global_poison();
    if (t->status)
        return &t->poison;
    if (check_shape(t, fn, shape, ndim, &numel))
        return &t->poison;
    ag_tensor *x = agi_arena_alloc(&t->arena, sizeof *x, 16);
    ag_real *d = with_data ? agi_arena_alloc(&t->arena, numel * sizeof(ag_real) + 1, 64) : NULL;
    if (!x || (with_data && !d)) {
        agi_fail(t, AG_ENOMEM, "%s: out of memory", fn);
        return &t->poison;
    }
    memset(x, 0, sizeof *x);
    if (ndim > 0 && ndim <= AG_MAX_DIMS)
        memcpy(x->shape, shape, (size_t)ndim * sizeof(size_t));
    x->ndim = (uint8_t)ndim;
    x->numel = numel;
    x->tape = t;
    x->gen = t->gen;
    x->data = d;
    return x;
}

ag_tensor *ag_tensor_new(ag_tape *t, const size_t *shape, int ndim)
{
    ag_tensor *x = tape_tensor(t, "ag_tensor_new", shape, ndim, 1);
    if (!(x->flags & AGI_POISON))
        memset(x->data, 0, x->numel * sizeof(ag_real));
    return x;
}

ag_tensor *ag_tensor_from(ag_tape *t, const ag_real *src, const size_t *shape, int ndim)
{
    if (t && !t->status && !src) {
        agi_fail(t, AG_EINVAL, "ag_tensor_from: src is NULL");
        return &t->poison;
    }
    ag_tensor *x = tape_tensor(t, "ag_tensor_from", shape, ndim, 1);
    if (!(x->flags & AGI_POISON))
        memcpy(x->data, src, x->numel * sizeof(ag_real));
    return x;
}

ag_tensor *ag_tensor_wrap(ag_tape *t, ag_real *data, const size_t *shape, int ndim)
{
    if (t && !t->status && !data) {
        agi_fail(t, AG_EINVAL, "ag_tensor_wrap: data is NULL");
        return &t->poison;
    }
    ag_tensor *x = tape_tensor(t, "ag_tensor_wrap", shape, ndim, 0);
    if (!(x->flags & AGI_POISON)) {
        x->data = data;
        x->flags |= AGI_WRAPPED;
    }
    return x;
}

ag_tensor *ag_scalar(ag_tape *t, ag_real v)
{
    ag_tensor *x = tape_tensor(t, "ag_scalar", NULL, 0, 1);
    if (!(x->flags & AGI_POISON))
        x->data[0] = v;
    return x;
}

ag_tensor *ag_param_new(const size_t *shape, int ndim)
{
    size_t numel;
    if (check_shape(NULL, "ag_param_new", shape, ndim, &numel))
        return NULL;
    size_t dbytes = (numel * sizeof(ag_real) + 63) & ~(size_t)63;
    size_t bytes = sizeof(param_block) + 64 + 2 * dbytes;
    param_block *b = agi_alloc(bytes);
    if (!b) {
        char s[160];
        agi_fail(NULL, AG_ENOMEM, "ag_param_new: out of memory for %s",
                 ag_shape_str(shape, ndim, s, sizeof s));
        return NULL;
    }
    memset(b, 0, sizeof *b);
    b->bytes = bytes;
    uintptr_t p = ((uintptr_t)(b + 1) + 63) & ~(uintptr_t)63;
    ag_tensor *x = &b->t;
    x->data = (ag_real *)p;
    x->grad = (ag_real *)(p + dbytes);
    memset(x->data, 0, 2 * dbytes);
    if (ndim)
        memcpy(x->shape, shape, (size_t)ndim * sizeof(size_t));
    x->ndim = (uint8_t)ndim;
    x->numel = numel;
    x->flags = AGI_PARAM | AGI_REQGRAD;
    return x;
}

void ag_param_free(ag_tensor *p)
{
    if (!p || !(p->flags & AGI_PARAM))
        return;
    param_block *b = (param_block *)p;
    agi_free(b, b->bytes);
}

void ag_param_zero_grad(ag_tensor *p)
{
    /* Lazily: the first VJP to write the gradient stores instead of adding
     * (ag_in_grad_first), every other use zeroes it first. */
    if (p && (p->flags & AGI_PARAM))
        p->flags |= AGI_GRAD_ZERO;
}

void ag_param_set_name(ag_tensor *p, const char *name)
{
    if (!p || !(p->flags & AGI_PARAM))
        return;
    param_block *b = (param_block *)p;
    snprintf(b->name, sizeof b->name, "%s", name ? name : "");
}

const char *ag_param_name(const ag_tensor *p)
{
    if (!p || !(p->flags & AGI_PARAM))
        return "";
    return ((const param_block *)p)->name;
}
