/* Losses, mean reduction, composed from public ops. */
#include <string.h>
#include "nnutil.h"

/* Smallest argument given to log in ag_bce_loss: log(1e-12) = -27.6. */
#define BCE_FLOOR 1e-12

/* Check a loss's two arguments (see nn_check_args) and that they have one
 * shape; NULL if fine, else the poisoned result. */
static ag_tensor *loss_check(ag_tape *t, const char *fn, const char *an, ag_tensor *a,
                             const char *bn, ag_tensor *b)
{
    ag_tensor *err = nn_check_args(t, fn, (const nn_arg[]){{a, an, 0}, {b, bn, 0}}, 2);
    if (err || nn_same_shape(a, b))
        return err;
    char sa[96], sb[96];
    return nn_fail(t, AG_EINVAL, "%s: %s%s and %s%s differ in shape", fn, an,
                   ag_shape_str(ag_shape(a), ag_ndim(a), sa, sizeof sa), bn,
                   ag_shape_str(ag_shape(b), ag_ndim(b), sb, sizeof sb));
}

ag_tensor *ag_mse_loss(ag_tape *t, ag_tensor *pred, ag_tensor *target)
{
    ag_tensor *err = loss_check(t, "ag_mse_loss", "pred", pred, "target", target);
    if (err)
        return err;
    ag_tensor *d = ag_sub(t, pred, target);
    return ag_mean_all(t, ag_mul(t, d, d));                     /* mean (p - y)^2 */
}

ag_tensor *ag_bce_loss(ag_tape *t, ag_tensor *prob, ag_tensor *target)
{
    ag_tensor *err = loss_check(t, "ag_bce_loss", "prob", prob, "target", target);
    if (err)
        return err;
    ag_tensor *floor = ag_scalar(t, (ag_real)BCE_FLOOR);
    ag_tensor *lp = ag_log(t, ag_maximum(t, prob, floor));                      /* log p */
    ag_tensor *lq = ag_log(t, ag_maximum(t, ag_rsub_scalar(t, 1, prob), floor)); /* log(1-p) */
    ag_tensor *ll = ag_add(t, ag_mul(t, target, lp),
                           ag_mul(t, ag_rsub_scalar(t, 1, target), lq));
    return ag_neg(t, ag_mean_all(t, ll));            /* -mean(y log p + (1-y) log(1-p)) */
}

ag_tensor *ag_bce_with_logits_loss(ag_tape *t, ag_tensor *logits, ag_tensor *target)
{
    ag_tensor *err = loss_check(t, "ag_bce_with_logits_loss", "logits", logits, "target", target);
    if (err)
        return err;
    /* -[y log s(x) + (1-y) log(1-s(x))] = softplus(x) - x y */
    return ag_mean_all(t, ag_sub(t, ag_softplus(t, logits), ag_mul(t, logits, target)));
}

ag_tensor *ag_softmax_cross_entropy(ag_tape *t, ag_tensor *logits, const int32_t *labels)
{
    const char *fn = "ag_softmax_cross_entropy";
    ag_tensor *err = nn_check_args(t, fn, (const nn_arg[]){{logits, "logits", 0}}, 1);
    if (err)
        return err;
    if (ag_ndim(logits) != 2 || ag_dim(logits, 0) == 0 || ag_dim(logits, 1) == 0) {
        char s[96];
        return nn_fail(t, AG_EINVAL, "%s: logits must be [B, C] with B, C > 0, got %s", fn,
                       ag_shape_str(ag_shape(logits), ag_ndim(logits), s, sizeof s));
    }
    if (!labels)
        return nn_fail(t, AG_EINVAL, "%s: labels is NULL", fn);
    size_t b = ag_dim(logits, 0), c = ag_dim(logits, 1);
    for (size_t i = 0; i < b; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= c)
            return nn_fail(t, AG_EINVAL, "%s: label %ld of row %zu is outside [0, %zu)", fn,
                           (long)labels[i], i, c);
    /* flat index of (i, labels[i]) in the [B*C] view; copied into tape memory */
    int64_t *idx = agi_arena_alloc(&t->arena, b * sizeof *idx, 16);
    if (!idx)
        return nn_fail(t, AG_ENOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < b; i++) idx[i] = (int64_t)(i * c + (size_t)labels[i]);
    ag_tensor *ls = ag_reshape(t, ag_log_softmax(t, logits, 1), AG_SHAPE(b * c));
    ag_tensor *picked = ag_gather(t, ls, 0, idx, b);        /* log softmax at the labels */
    return ag_neg(t, ag_mean_all(t, picked));
}
