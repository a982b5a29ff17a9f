/* Helpers shared by the primitive ops (internal; names agi_). */
#ifndef AGRAD_OPS_UTIL_H
#define AGRAD_OPS_UTIL_H

#include <stddef.h>
#include "agrad.h"

/* Broadcast loop over an output shape with up to 4 operands. Operand k has
 * shape shapes[k] (ndims[k] dims, aligned at the trailing dims, sizes 1 or
 * equal to the output's). Dims are coalesced where possible, then run(n, p,
 * s, ud) is called for each innermost run: n elements, operand k starting at
 * p[k] with stride s[k] (0 where it is broadcast along the run). Runs are
 * visited in row-major order of the output. */
typedef void (*agi_run_fn)(size_t n, ag_real *const *p, const size_t *s, void *ud);
void agi_bcast_loop(int nops, ag_real *const *base, const size_t *const *shapes, const int *ndims,
                    const size_t *oshape, int ond, agi_run_fn run, void *ud);

/* Normalise axis (negative counts from the end); -1 if out of range. */
int agi_axis(int axis, int ndim);

/* Shape rule of an elementwise unary op: the output has the input's shape. */
int agi_same_shape(ag_opctx *c, size_t *out, int *nd);

/* Shape rule of a broadcasting binary op. */
int agi_bcast_shape(ag_opctx *c, size_t *out, int *nd);

#endif

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

/* Broadcast g (shape gshape) against x's shape (xshape) and add to dx:
 * dx[i] += scale * g[broadcast index of i]. */
void agi_broadcast_add(ag_real *dx, const size_t *xshape, int xnd, const ag_real *g,
                       const size_t *gshape, int gnd, ag_real scale);
