/* y = x with its axes reordered: y[i_0, ..., i_{n-1}] = x[j] where
 * j[perm[k]] = i_k, so y.shape[k] = x.shape[perm[k]].
 * VJP: gx += permute(gy, perm^-1)   (perm^-1[perm[k]] = k)
 * transpose(x, a, b) is the permutation that swaps axes a and b. */
#include <stdio.h>
#include <string.h>
#include "util.h"

typedef struct perm_attr {
    int n;                 /* permute: entries in perm */
    int null_perm;         /* perm was NULL with n > 0 */
    int perm[AG_MAX_DIMS];
    int transpose;         /* nonzero: swap axes a0 and a1 instead */
    int a0, a1;
} perm_attr;

static const char *perm_str(const perm_attr *a, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < a->n && i < AG_MAX_DIMS && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ",%d" : "%d", a->perm[i]);
    if (k < size)
        snprintf(buf + k, size - k, ")");
    return buf;
}

/* The permutation as non-negative axes of x; reports and returns nonzero if invalid. */
static int resolve(ag_opctx *c, int *perm)
{
    const perm_attr *a = ag_attr(c);
    int nd = ag_in(c, 0).ndim;
    char b[96];
    if (a->transpose) {
        int a0 = agi_axis(a->a0, nd), a1 = agi_axis(a->a1, nd);
        if (a0 < 0 || a1 < 0)
            return ag_op_fail(c, AG_EINVAL, "axes %d and %d: out of range for x%s", a->a0, a->a1,
                              ag_in_shape_str(c, 0));
        for (int d = 0; d < nd; d++)
            perm[d] = d;
        perm[a0] = a1;
        perm[a1] = a0;
        return 0;
    }
    if (a->null_perm)
        return ag_op_fail(c, AG_EINVAL, "perm is NULL");
    if (a->n != nd)
        return ag_op_fail(c, AG_EINVAL, "permutation of %d axes for x%s, which has %d", a->n,
                          ag_in_shape_str(c, 0), nd);
    int seen = 0;
    for (int k = 0; k < nd; k++) {
        int ax = agi_axis(a->perm[k], nd);
        if (ax < 0 || (seen & (1 << ax)))
            return ag_op_fail(c, AG_EINVAL, "%s is not a permutation of the axes of x%s",
                              perm_str(a, b, sizeof b), ag_in_shape_str(c, 0));
        seen |= 1 << ax;
        perm[k] = ax;
    }
    return 0;
}

static int permute_shape(ag_opctx *c, size_t *out, int *nd)
{
    int perm[AG_MAX_DIMS];
    if (resolve(c, perm))
        return AG_EINVAL;
    ag_view x = ag_in(c, 0);
    for (int k = 0; k < x.ndim; k++)
        out[k] = x.shape[perm[k]];
    *nd = x.ndim;
    return 0;
}

#define GROUP 8

/* dst[i, j] (+)= src[i sa + j sb] for an na x nb block (dst rows oa apart).
 * Columns go in groups of GROUP: for each group the sweep over i reads GROUP
 * sequential streams of src and writes GROUP adjacent elements per row of
 * dst. Square tiles do worse here: with power-of-two strides their lines
 * collide in the same cache sets. */
static void tile_copy(ag_real *dst, const ag_real *src, size_t na, size_t oa, size_t sa, size_t nb,
                      size_t sb, int acc)
{
    for (size_t j0 = 0; j0 < nb; j0 += GROUP) {
        size_t g = nb - j0 < GROUP ? nb - j0 : GROUP;
        const ag_real *s0 = src + j0 * sb;
        for (size_t i = 0; i < na; i++) {
            ag_real *d = dst + i * oa + j0;
            const ag_real *s = s0 + i * sa;
            if (g == GROUP && acc)
                for (size_t j = 0; j < GROUP; j++) d[j] += s[j * sb];
            else if (g == GROUP)
                for (size_t j = 0; j < GROUP; j++) d[j] = s[j * sb];
            else if (acc)
                for (size_t j = 0; j < g; j++) d[j] += s[j * sb];
            else
                for (size_t j = 0; j < g; j++) d[j] = s[j * sb];
        }
    }
}

/* dst (+)= src permuted by perm; src has shape sshape. The output is walked
 * in row-major order after dropping size-1 dims and merging dims that stay
 * adjacent in src. If the innermost dim is contiguous in src too, whole rows
 * are copied; otherwise it is blocked against the dim contiguous in src. */
static void permute_copy(ag_real *dst, const ag_real *src, const size_t *sshape, int nd,
                         const int *perm, int acc)
{
    size_t sst[AG_MAX_DIMS], D[AG_MAX_DIMS], S[AG_MAX_DIMS], O[AG_MAX_DIMS], st = 1;
    for (int d = nd - 1; d >= 0; d--) {
        sst[d] = st;
        st *= sshape[d];
    }
    if (st == 0)
        return;
    int m = 0;
    for (int k = 0; k < nd; k++) {
        size_t sz = sshape[perm[k]], s = sst[perm[k]];
        if (sz == 1)
            continue;
        if (m > 0 && S[m - 1] == s * sz) {
            D[m - 1] *= sz;
            S[m - 1] = s;
            continue;
        }
        D[m] = sz;
        S[m] = s;
        m++;
    }
    if (m == 0) {
        dst[0] = acc ? dst[0] + src[0] : src[0];
        return;
    }
    size_t o = 1;
    for (int k = m - 1; k >= 0; k--) {
        O[k] = o;
        o *= D[k];
    }
    int b = m - 1, a = -1;
    if (S[b] != 1)
        for (int k = 0; k < b; k++)
            if (a < 0 || S[k] < S[a])
                a = k;
    int od[AG_MAX_DIMS], no = 0;
    for (int k = 0; k < b; k++)
        if (k != a)
            od[no++] = k;
    size_t idx[AG_MAX_DIMS] = {0}, ip = 0, op = 0;
    for (;;) {
        if (a >= 0)
            tile_copy(dst + op, src + ip, D[a], O[a], S[a], D[b], S[b], acc);
        else if (acc)
            for (size_t j = 0; j < D[b]; j++) dst[op + j] += src[ip + j];
        else
            memcpy(dst + op, src + ip, D[b] * sizeof *dst);
        int q = no - 1;
        for (; q >= 0; q--) {
            int k = od[q];
            ip += S[k];
            op += O[k];
            if (++idx[q] < D[k])
                break;
            ip -= S[k] * D[k];
            op -= O[k] * D[k];
            idx[q] = 0;
        }
        if (q < 0)
            return;
    }
}

static void permute_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    int perm[AG_MAX_DIMS];
    resolve(c, perm);
    permute_copy(y.x, x.x, x.shape, x.ndim, perm, 0);
}

static void permute_vjp(ag_opctx *c)
{
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    int perm[AG_MAX_DIMS], inv[AG_MAX_DIMS];
    resolve(c, perm);
    for (int k = 0; k < gy.ndim; k++)
        inv[perm[k]] = k;
    permute_copy(gx.x, gy.x, gy.shape, gy.ndim, inv, 1);   /* G_x += permute(G_y, perm^-1) */
}

const ag_op_def ag_op_permute = {.name = "permute", .n_in = 1, .shape = permute_shape,
                                 .forward = permute_forward, .vjp = permute_vjp};

/* Same callbacks; its own name so that errors say ag_transpose. */
const ag_op_def ag_op_transpose = {.name = "transpose", .n_in = 1, .shape = permute_shape,
                                   .forward = permute_forward, .vjp = permute_vjp};

ag_tensor *ag_permute(ag_tape *t, ag_tensor *x, const int *perm, int n)
{
    perm_attr a;
    memset(&a, 0, sizeof a);
    a.n = n;
    a.null_perm = n > 0 && !perm;
    if (perm && n > 0)
        memcpy(a.perm, perm, (size_t)(n < AG_MAX_DIMS ? n : AG_MAX_DIMS) * sizeof *perm);
    return ag_apply(t, &ag_op_permute, &x, 1, &a, sizeof a);
}

ag_tensor *ag_transpose(ag_tape *t, ag_tensor *x, int axis0, int axis1)
{
    perm_attr a;
    memset(&a, 0, sizeof a);
    a.transpose = 1;
    a.a0 = axis0;
    a.a1 = axis1;
    return ag_apply(t, &ag_op_transpose, &x, 1, &a, sizeof a);
}
