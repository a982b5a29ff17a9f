/* Parameter sets: a growable array of borrowed parameters with unique names. */
#include <string.h>
#include "internal.h"

struct ag_paramset {
    ag_tensor **p;
    size_t n, cap;
};

ag_paramset *ag_paramset_new(void)
{
    ag_paramset *s = agi_alloc(sizeof *s);
    if (!s) {
        agi_fail(NULL, AG_ENOMEM, "ag_paramset_new: out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    return s;
}

void ag_paramset_free(ag_paramset *s)
{
    if (!s)
        return;
    agi_free(s->p, s->cap * sizeof *s->p);
    agi_free(s, sizeof *s);
}

int ag_paramset_add(ag_paramset *s, ag_tensor *p, const char *name)
{
    if (!s || !p || !ag_is_param(p))
        return agi_fail(NULL, AG_EINVAL, "ag_paramset_add: %s", !s ? "set is NULL"
                        : "not a parameter (ag_param_new)");
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 63)
        return agi_fail(NULL, AG_EINVAL, "ag_paramset_add: name must be 1 to 63 bytes, got %zu",
                        len);
    for (size_t i = 0; i < s->n; i++) {
        if (s->p[i] == p)
            return agi_fail(NULL, AG_EINVAL, "ag_paramset_add: '%s' is already in the set as '%s'",
                            name, ag_param_name(p));
        if (strcmp(ag_param_name(s->p[i]), name) == 0)
            return agi_fail(NULL, AG_EINVAL, "ag_paramset_add: duplicate name '%s'", name);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        ag_tensor **q = agi_alloc(cap * sizeof *q);
        if (!q)
            return agi_fail(NULL, AG_ENOMEM, "ag_paramset_add: out of memory");
        if (s->n)
            memcpy(q, s->p, s->n * sizeof *q);
        agi_free(s->p, s->cap * sizeof *s->p);
        s->p = q;
        s->cap = cap;
    }
    ag_param_set_name(p, name);
    s->p[s->n++] = p;
    return AG_OK;
}

size_t ag_paramset_count(const ag_paramset *s)
{
    return s ? s->n : 0;
}

size_t ag_paramset_numel(const ag_paramset *s)
{
    size_t n = 0;
    for (size_t i = 0; s && i < s->n; i++) n += ag_numel(s->p[i]);
    return n;
}

ag_tensor *ag_paramset_get(const ag_paramset *s, size_t i)
{
    return s && i < s->n ? s->p[i] : NULL;
}

ag_tensor *ag_paramset_find(const ag_paramset *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->n; i++)
        if (strcmp(ag_param_name(s->p[i]), name) == 0)
            return s->p[i];
    return NULL;
}

void ag_paramset_zero_grad(const ag_paramset *s)
{
    for (size_t i = 0; s && i < s->n; i++) ag_param_zero_grad(s->p[i]);
}
