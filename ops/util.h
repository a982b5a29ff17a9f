/* Helpers shared by the primitive ops (internal; names agi_). */
#ifndef AGRAD_OPS_UTIL_H
#define AGRAD_OPS_UTIL_H

#include <stddef.h>
#include "agrad.h"

/* Broadcast loop over an output shape with up to 5 operands. Operand k has
 * shape shapes[k] (ndims[k] dims, aligned at the trailing dims, sizes 1 or
 * equal to the output's). Dims are coalesced where possible, then run(n, p,
 * s, ud) is called for each innermost run: n elements, operand k starting at
 * p[k] with stride s[k] (0 where it is broadcast along the run). Runs are
 * visited in row-major order of the output. */
typedef void (*agi_run_fn)(size_t n, ag_real *const *p, const size_t *s, void *ud);
void agi_bcast_loop(int nops, ag_real *const *base, const size_t *const *shapes, const int *ndims,
                    const size_t *oshape, int ond, agi_run_fn run, void *ud);

/* The VJP of a broadcasting elementwise op of at most 3 inputs, for input
 * i (which must want a gradient): agi_bcast_loop over the output's shape
 * with the operands {gradient of input i, gy, input 0, input 1, ...}, so
 * that run accumulates into the gradient (stride 0 where input i is
 * broadcast: the run sums in order). */
void agi_bcast_vjp(ag_opctx *c, int i, agi_run_fn run, void *ud);

/* Normalise axis (negative counts from the end); -1 if out of range. */
int agi_axis(int axis, int ndim);

/* Shape rule of an elementwise unary op: the output has the input's shape. */
int agi_same_shape(ag_opctx *c, size_t *out, int *nd);

/* Shape rule of a broadcasting binary op. */
int agi_bcast_shape(ag_opctx *c, size_t *out, int *nd);


/* Attributes of the reductions (sum, mean, max). */
typedef struct agi_reduce_attr {
    int n_axes;            /* 0: every axis */
    int axes[AG_MAX_DIMS];
    int keepdim;
} agi_reduce_attr;

/* Fill attributes from the public arguments (validated later by the shape rule). */
agi_reduce_attr agi_reduce_attr_make(const int *axes, int n_axes, int keepdim);

/* Shape rule of a reduction: validates the axes, writes the output shape. */
int agi_reduce_shape(ag_opctx *c, size_t *out, int *nd);

/* The input's shape with the reduced axes set to 1 (ndim of the input), and
 * the number of input elements that fold into each output element. */
size_t agi_reduce_keepshape(ag_opctx *c, size_t *keep);

/* When the reduced axes of size > 1 are adjacent, x is [outer, r, inner]
 * with the middle block reduced: sets the three sizes and returns 1 (the
 * output is then [outer, inner]); returns 0 otherwise. */
int agi_reduce_block(ag_opctx *c, size_t *outer, size_t *r, size_t *inner);

/* When the reduced axes of size > 1 form two runs with kept axes between
 * them and none after, x is [outer, r1, mid, r2] (a pooling window that
 * tiles an image, seen as [N C oh, k, ow, k]): sets the four sizes and
 * returns 1 (the output is then [outer, mid]); returns 0 otherwise. */
int agi_reduce_block2(ag_opctx *c, size_t *outer, size_t *r1, size_t *mid, size_t *r2);

/* The gradient of a bias b[j] added along the rows of y [rows, cols]:
 * gb[j] = (gb_first ? 0 : gb[j]) + sum over r of gy[r][j], and, when gx is
 * not NULL, gx = gy (gx_store) or gx += gy, in one pass over gy split over
 * the threads. The sums are taken in groups fixed by the shape, so the bits
 * do not depend on the thread count. */
void agi_bias_grad(const ag_real *gy, size_t rows, size_t cols, ag_real *gb, int gb_first,
                   ag_real *gx, int gx_store);

/* Broadcast g (shape gshape) against x's shape (xshape) and add to dx:
 * dx[i] += scale * g[broadcast index of i]. */
void agi_broadcast_add(ag_real *dx, const size_t *xshape, int xnd, const ag_real *g,
                       const size_t *gshape, int gnd, ag_real scale);

/* ---- movement helpers (reshape, permute, slice, pad, concat, stack,
 * gather, scatter_add) ---- */

/* Product of shape[from..to). */
size_t agi_prod(const size_t *shape, int from, int to);

/* Attributes of concat and stack. */
typedef struct agi_join_attr {
    int axis;
    int new_axis; /* stack: axis is inserted in the output */
} agi_join_attr;

/* Forward and VJP of concat and stack. Both see the output as `outer` rows
 * (outer = product of the dims before axis), each the concatenation of one
 * contiguous block per input (input i contributes numel_i / outer elements).
 * Forward copies the blocks in; the VJP adds them back. */
void agi_join_forward(ag_opctx *c);
void agi_join_vjp(ag_opctx *c);

/* Attributes of gather and scatter_add: the indices travel inline, so the
 * tape keeps its own copy (ag_apply copies attr_size bytes). */
enum { AGI_INDEX_NULL = 1, AGI_INDEX_NOMEM = 2 };
typedef struct agi_index_attr {
    int axis;
    int bad;        /* AGI_INDEX_NULL or AGI_INDEX_NOMEM: reported by the shape rule */
    int scatter;    /* scatter_add (else gather) */
    size_t n;       /* number of indices */
    size_t dim;     /* scatter_add: size of the output along axis */
    int64_t idx[];
} agi_index_attr;

/* Build the attributes (on the stack when small) and apply op to x. */
ag_tensor *agi_index_apply(ag_tape *t, const ag_op_def *op, ag_tensor *x, int axis,
                           const int64_t *idx, size_t n, size_t dim, int scatter);

/* Shape rule of both: validates axis and indices; the output is x's shape
 * with n (gather) or dim (scatter_add) along axis. */
int agi_index_shape(ag_opctx *c, size_t *out, int *nd);

/* Rows of `inner` elements, `outer` times over:
 * take: dst[o, j, :] (+)= src[o, idx[j], :] for j < n  (src has sdim rows)
 * put:  dst[o, idx[j], :] += src[o, j, :]               (dst has ddim rows) */
void agi_index_take(ag_real *dst, const ag_real *src, size_t outer, size_t sdim, size_t inner,
                    const int64_t *idx, size_t n, int accumulate);
void agi_index_put_add(ag_real *dst, size_t ddim, const ag_real *src, size_t outer, size_t inner,
                       const int64_t *idx, size_t n);

/* A shape given as an attribute (reshape, bernoulli). */
typedef struct agi_shape_attr {
    int ndim;
    int null_shape; /* shape was NULL with ndim > 0 */
    size_t shape[AG_MAX_DIMS];
} agi_shape_attr;

agi_shape_attr agi_shape_attr_make(const size_t *shape, int ndim);

/* Report a NULL shape or an ndim out of range; 0 if the shape is usable. */
int agi_shape_attr_check(ag_opctx *c, const agi_shape_attr *a);

#endif
