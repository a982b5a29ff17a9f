/**
 * @file ops.h
 * @brief The primitive ops. Each records one node on the tape.
 *
 * Common contract: every function takes the tape @p t that records the op and
 * owns the result, and returns a new tensor owned by @p t (freed by
 * ag_tape_reset()). It never returns NULL: on invalid input, or if @p t has
 * already failed, it returns a poisoned tensor and the tape keeps the first
 * error (see ag_tape_status(), ag_tape_errmsg()).
 *
 * Binary elementwise ops broadcast as NumPy does: shapes are aligned at their
 * trailing dimensions, and a dimension of size 1 stretches to match.
 */
#ifndef AGRAD_OPS_H
#define AGRAD_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "agrad/tensor.h"
#include "agrad/op.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief In a shape given to ag_reshape(), the one size inferred from the others. */
#define AG_INFER ((size_t)-1)

/** @name Unary elementwise ops
 *  Each returns a tensor of the shape of @p x, owned by @p t (poisoned on error).
 *  @{ */
/** @brief y = -x. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_neg(ag_tape *t, ag_tensor *x);
/** @brief y = exp(x). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_exp(ag_tape *t, ag_tensor *x);
/** @brief y = log(x) (natural logarithm; -inf at 0, NaN below). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_log(ag_tape *t, ag_tensor *x);
/** @brief y = sqrt(x). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_sqrt(ag_tape *t, ag_tensor *x);
/** @brief y = |x|; its derivative at 0 is taken as 0. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_abs(ag_tape *t, ag_tensor *x);
/** @brief y = tanh(x). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_tanh(ag_tape *t, ag_tensor *x);
/** @brief y = 1 / (1 + exp(-x)), computed without overflow. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_sigmoid(ag_tape *t, ag_tensor *x);
/** @brief y = max(x, 0); derivative 0 at 0. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_relu(ag_tape *t, ag_tensor *x);
/** @brief y = x if x > 0 else alpha x. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_leaky_relu(ag_tape *t, ag_tensor *x, ag_real alpha);
/** @brief y = log(1 + exp(x)), computed without overflow; dy/dx = sigmoid(x). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_softplus(ag_tape *t, ag_tensor *x);
/** @brief y = x^p for a constant exponent p. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_pow_scalar(ag_tape *t, ag_tensor *x, ag_real p);
/** @brief y = a x + b for constants a and b (the scalar forms below use it). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_affine(ag_tape *t, ag_tensor *x, ag_real a, ag_real b);
/** @brief y = x + s. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_add_scalar(ag_tape *t, ag_tensor *x, ag_real s);
/** @brief y = x * s. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_mul_scalar(ag_tape *t, ag_tensor *x, ag_real s);
/** @brief y = s - x. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_rsub_scalar(ag_tape *t, ag_real s, ag_tensor *x);
/** @} */

/** @name Binary (and one ternary) elementwise ops, with broadcasting
 *  Each returns a tensor of the broadcast shape of its inputs, owned by @p t.
 *  @{ */
/** @brief y = a + b. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_add(ag_tape *t, ag_tensor *a, ag_tensor *b);
/** @brief y = a - b. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_sub(ag_tape *t, ag_tensor *a, ag_tensor *b);
/** @brief y = a * b. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_mul(ag_tape *t, ag_tensor *a, ag_tensor *b);
/** @brief y = a / b. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_div(ag_tape *t, ag_tensor *a, ag_tensor *b);
/** @brief y = max(a, b); where a == b the gradient is split in halves. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_maximum(ag_tape *t, ag_tensor *a, ag_tensor *b);
/**
 * @brief  y = a + w (b - a): linear interpolation from @p a (w = 0) to @p b
 *         (w = 1), all three broadcast together (PyTorch's lerp). One node
 *         where ag_sub(), ag_mul() and ag_add() would record three.
 * @return A tensor of the broadcast shape, owned by @p t.
 */
AG_API ag_tensor *ag_lerp(ag_tape *t, ag_tensor *a, ag_tensor *b, ag_tensor *w);
/** @} */

/** @name Reductions
 *  @p axes lists @p n_axes distinct axes (negative counts from the end);
 *  n_axes = 0 reduces over every axis. With @p keepdim the reduced axes stay
 *  as size 1, else they are removed.
 *  @{ */
/** @brief Sum over axes. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_sum(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim);
/** @brief Mean over axes. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_mean(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim);
/** @brief Maximum over axes; tied maxima share the gradient equally. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_max(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim);
/** @brief Sum of every element, as a scalar. @return A 0-d tensor owned by @p t. */
AG_API ag_tensor *ag_sum_all(ag_tape *t, ag_tensor *x);
/** @brief Mean of every element, as a scalar. @return A 0-d tensor owned by @p t. */
AG_API ag_tensor *ag_mean_all(ag_tape *t, ag_tensor *x);
/** @} */

/**
 * @brief  Matrix product, batched: y[..., m, n] = a[..., m, k] b[..., k, n].
 *
 * Leading (batch) dimensions must be equal, or one operand is 2-d and is
 * shared by every batch entry.
 * @param  t        Tape that records the op.
 * @param  a        Left operand.
 * @param  b        Right operand.
 * @param  trans_a  Nonzero: use the transpose of a's last two dims ([..., k, m] given).
 * @param  trans_b  Nonzero: use the transpose of b's last two dims ([..., n, k] given).
 * @return A tensor owned by @p t.
 */
AG_API ag_tensor *ag_matmul_t(ag_tape *t, ag_tensor *a, ag_tensor *b, int trans_a, int trans_b);

/**
 * @brief  Matrix product plus an addend: y = op(a) op(b) + c, with c
 *         broadcast to the product's shape (PyTorch's addmm and baddbmm).
 *
 * One op: the product as in ag_matmul_t(), with c added. A bias along
 * columns (c of shape [n] or [1, n]) or along rows (c of shape [m, 1], when
 * a is not batched against a shared b) is where the product's tiles start,
 * so no pass over y is made to add it; other shapes of c are added after
 * the product. Dense layers and convolutions add their bias this way.
 * @param  t        Tape that records the op.
 * @param  a        Left operand.
 * @param  b        Right operand.
 * @param  c        Addend, broadcastable to the product's shape (not beyond it).
 * @param  trans_a  Nonzero: use the transpose of a's last two dims.
 * @param  trans_b  Nonzero: use the transpose of b's last two dims.
 * @return A tensor owned by @p t; poisoned (shapes named) if the operands
 *         do not multiply or c does not broadcast to their product.
 */
AG_API ag_tensor *ag_matmul_add(ag_tape *t, ag_tensor *a, ag_tensor *b, ag_tensor *c, int trans_a,
                                int trans_b);

/** @brief y = a b, i.e. ag_matmul_t(t, a, b, 0, 0). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_matmul(ag_tape *t, ag_tensor *a, ag_tensor *b);

/** @name Movement ops
 *  @{ */
/** @brief Same data, new shape with the same numel; one size may be #AG_INFER. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_reshape(ag_tape *t, ag_tensor *x, const size_t *shape, int ndim);
/** @brief Reorder axes: output axis i is input axis perm[i]. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_permute(ag_tape *t, ag_tensor *x, const int *perm, int n);
/** @brief Swap two axes. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_transpose(ag_tape *t, ag_tensor *x, int axis0, int axis1);
/** @brief The @p len entries starting at @p start along @p axis. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_slice(ag_tape *t, ag_tensor *x, int axis, size_t start, size_t len);
/**
 * @brief  Constant padding: before[i] and after[i] entries of @p value around axis i.
 * @param  t       Tape that records the op.
 * @param  x       Input.
 * @param  value   The padding value.
 * @param  before  ag_ndim(x) counts.
 * @param  after   ag_ndim(x) counts.
 * @return A tensor owned by @p t.
 */
AG_API ag_tensor *ag_pad(ag_tape *t, ag_tensor *x, const size_t *before, const size_t *after,
                         ag_real value);
/** @brief Join @p n tensors along an existing @p axis (other dims equal). @return A tensor owned by @p t. */
AG_API ag_tensor *ag_concat(ag_tape *t, ag_tensor *const *xs, int n, int axis);
/** @brief Join @p n tensors of one shape along a new @p axis. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_stack(ag_tape *t, ag_tensor *const *xs, int n, int axis);
/**
 * @brief  Select entries along @p axis: y[..., j, ...] = x[..., idx[j], ...].
 * @param  t    Tape that records the op.
 * @param  x    Input.
 * @param  axis Axis to select along (negative counts from the end).
 * @param  n    Number of indices.
 * @param  idx  @p n indices in [0, dim), copied.
 * @return A tensor owned by @p t, with dim @p axis of size @p n.
 */
AG_API ag_tensor *ag_gather(ag_tape *t, ag_tensor *x, int axis, const int64_t *idx, size_t n);
/**
 * @brief  Adjoint of ag_gather(): y = 0 with dim @p axis of size @p dim, then
 *         y[..., idx[j], ...] += x[..., j, ...].
 * @param  t    Tape that records the op.
 * @param  x    Input.
 * @param  axis Axis to scatter along (negative counts from the end).
 * @param  dim  Size of the output along @p axis.
 * @param  idx  ag_dim(x, axis) indices in [0, dim), copied.
 * @return A tensor owned by @p t.
 */
AG_API ag_tensor *ag_scatter_add(ag_tape *t, ag_tensor *x, int axis, const int64_t *idx,
                                 size_t dim);
/** @} */

/** @name Masks and gradient control
 *  @{ */
/** @brief y = x, but no gradient flows back through it. @return A tensor owned by @p t. */
AG_API ag_tensor *ag_stop_gradient(ag_tape *t, ag_tensor *x);
/**
 * @brief  y = cond != 0 ? a : b, elementwise, all three broadcast together.
 *         No gradient flows to @p cond.
 * @return A tensor owned by @p t.
 */
AG_API ag_tensor *ag_where(ag_tape *t, ag_tensor *cond, ag_tensor *a, ag_tensor *b);
/**
 * @brief  Random mask: each element is @p scale with probability @p p, else 0,
 *         drawn from the tape's random stream (ag_tape_seed()).
 * @return A constant tensor of the given shape, owned by @p t.
 */
AG_API ag_tensor *ag_bernoulli(ag_tape *t, const size_t *shape, int ndim, ag_real p,
                               ag_real scale);
/** @} */

/** @name Convolution
 *  Sliding windows over NCHW images ([batch, channels, height, width]).
 *  ag_unfold() lays the patches out as columns, so a convolution is one
 *  matrix product, and ag_fold() is its adjoint (each is the other's
 *  gradient). Column layout: [N, C*kh*kw, oh*ow], row (c*kh + i)*kw + j for
 *  channel c and kernel tap (i, j), column oy*ow + ox for the window at
 *  output position (oy, ox), the same as PyTorch's F.unfold. A weight
 *  [out_c, C, kh, kw] flattened to [out_c, C*kh*kw] times the columns of one
 *  image gives [out_c, oh*ow], the convolution's output in NCHW order.
 *
 *  Along each axis, with input size n, kernel k, stride s, padding p and
 *  dilation d, output position o and tap i read input position
 *  o*s + i*d - p, and there are (n + 2p - d(k-1) - 1) / s + 1 positions
 *  (rounded down: windows that would run past the padded edge are dropped).
 *  @{ */

/** @brief Geometry of a 2-d sliding window. Zero-initialise, then set what you need. */
typedef struct ag_window2d {
    size_t kh;        /*!< kernel height (at least 1) */
    size_t kw;        /*!< kernel width (at least 1) */
    size_t stride_h;  /*!< vertical step between windows; 0 means 1 */
    size_t stride_w;  /*!< horizontal step between windows; 0 means 1 */
    size_t pad_h;     /*!< rows of padding above and below the image */
    size_t pad_w;     /*!< columns of padding left and right of the image */
    size_t dil_h;     /*!< vertical spacing of the kernel taps; 0 means 1 */
    size_t dil_w;     /*!< horizontal spacing of the kernel taps; 0 means 1 */
    ag_real pad_value; /*!< value ag_unfold() reads in the padding: 0 for convolution, -INFINITY for max pooling */
} ag_window2d;

/**
 * @brief  Output size of a window over an @p h x @p w image.
 * @param  win  The window.
 * @param  h    Image height.
 * @param  w    Image width.
 * @param  oh   Receives the number of window positions down (may be NULL).
 * @param  ow   Receives the number of window positions across (may be NULL).
 * @return 0, or -1 if the kernel is empty or larger than the padded image.
 */
AG_API int ag_window2d_out(const ag_window2d *win, size_t h, size_t w, size_t *oh, size_t *ow);

/**
 * @brief  Unfold (im2col): the patches of an image batch as columns.
 *
 * y[n, (c*kh + i)*kw + j, oy*ow + ox] = x[n, c, oy*stride_h + i*dil_h - pad_h,
 * ox*stride_w + j*dil_w - pad_w], or pad_value where that falls outside the image.
 * Gradient: fold of the output gradient (the padding gets none).
 * @param  t    Tape that records the op and owns the result.
 * @param  x    Tensor [N, C, H, W].
 * @param  win  Kernel, stride, padding, dilation and padding value; copied.
 * @return A tensor [N, C*kh*kw, oh*ow] owned by @p t; poisoned if @p x is not
 *         4-d or the kernel is larger than the padded image.
 */
AG_API ag_tensor *ag_unfold(ag_tape *t, ag_tensor *x, const ag_window2d *win);

/**
 * @brief  Fold (col2im), the adjoint of ag_unfold(): adds every column entry
 *         into the pixel it reads, summing where windows overlap and dropping
 *         entries that fall in the padding.
 *
 * Gradient: unfold of the output gradient (with zero padding).
 * @param  t     Tape that records the op and owns the result.
 * @param  cols  Tensor [N, C*kh*kw, oh*ow], laid out as ag_unfold() makes it.
 * @param  h     Image height.
 * @param  w     Image width.
 * @param  win   Kernel, stride, padding and dilation; copied (pad_value is ignored).
 * @return A tensor [N, C, h, w] owned by @p t; poisoned if @p cols does not
 *         match the window over an @p h x @p w image.
 */
AG_API ag_tensor *ag_fold(ag_tape *t, ag_tensor *cols, size_t h, size_t w, const ag_window2d *win);

AG_API extern const ag_op_def ag_op_unfold; /*!< ag_unfold(); attr: ag_window2d (normalised) */
AG_API extern const ag_op_def ag_op_fold;   /*!< ag_fold(); attr: ag_window2d, then size_t h, w */
/** @} */

/* core, elementwise */
/** @name Descriptors of the core and elementwise ops (for ag_apply() and graph inspection)
 *  The definition of each primitive (see op.h); its address identifies the op.
 *  @{ */
/* core */
AG_API extern const ag_op_def ag_op_add;        /*!< ag_add() */
AG_API extern const ag_op_def ag_op_mul;        /*!< ag_mul() */
AG_API extern const ag_op_def ag_op_sum;        /*!< ag_sum(), ag_sum_all() */
AG_API extern const ag_op_def ag_op_mean;       /*!< ag_mean(), ag_mean_all() */
AG_API extern const ag_op_def ag_op_matmul;     /*!< ag_matmul_t(), ag_matmul(), ag_matmul_add() */
AG_API extern const ag_op_def ag_op_tanh;       /*!< ag_tanh() */
/* elementwise */
AG_API extern const ag_op_def ag_op_neg;        /*!< ag_neg() */
AG_API extern const ag_op_def ag_op_exp;        /*!< ag_exp() */
AG_API extern const ag_op_def ag_op_log;        /*!< ag_log() */
AG_API extern const ag_op_def ag_op_sqrt;       /*!< ag_sqrt() */
AG_API extern const ag_op_def ag_op_log_softmax; /*!< ag_log_softmax() (declared in nn.h) */
AG_API extern const ag_op_def ag_op_abs;        /*!< ag_abs() */
AG_API extern const ag_op_def ag_op_sigmoid;    /*!< ag_sigmoid() */
AG_API extern const ag_op_def ag_op_relu;       /*!< ag_relu() */
AG_API extern const ag_op_def ag_op_leaky_relu; /*!< ag_leaky_relu(); attr: ag_real alpha */
AG_API extern const ag_op_def ag_op_softplus;   /*!< ag_softplus() */
AG_API extern const ag_op_def ag_op_pow_scalar; /*!< ag_pow_scalar(); attr: ag_real p */
AG_API extern const ag_op_def ag_op_affine;     /*!< ag_affine(), scalar forms; attr: a, b */
AG_API extern const ag_op_def ag_op_sub;        /*!< ag_sub() */
AG_API extern const ag_op_def ag_op_div;        /*!< ag_div() */
AG_API extern const ag_op_def ag_op_maximum;    /*!< ag_maximum() */
AG_API extern const ag_op_def ag_op_lerp;       /*!< ag_lerp() */
/** @} */

/* reductions, movement, masks */
/** @name Descriptors of the reductions, movement and mask ops (for ag_apply() and graph inspection)
 *  @{ */
AG_API extern const ag_op_def ag_op_max;       /*!< ag_max() */
AG_API extern const ag_op_def ag_op_reshape;   /*!< ag_reshape() */
AG_API extern const ag_op_def ag_op_permute;   /*!< ag_permute() */
AG_API extern const ag_op_def ag_op_transpose; /*!< ag_transpose() */
AG_API extern const ag_op_def ag_op_slice;     /*!< ag_slice() */
AG_API extern const ag_op_def ag_op_pad;       /*!< ag_pad() */
AG_API extern const ag_op_def ag_op_concat;    /*!< ag_concat() */
AG_API extern const ag_op_def ag_op_stack;     /*!< ag_stack() */
AG_API extern const ag_op_def ag_op_gather;    /*!< ag_gather() */
AG_API extern const ag_op_def ag_op_scatter_add; /*!< ag_scatter_add() */
AG_API extern const ag_op_def ag_op_stop_gradient; /*!< ag_stop_gradient() */
AG_API extern const ag_op_def ag_op_where;     /*!< ag_where() */
AG_API extern const ag_op_def ag_op_bernoulli; /*!< ag_bernoulli(): no inputs */
/** @} */

#ifdef __cplusplus
}
#endif
#endif
