/**
 * @file op.h
 * @brief Defining a primitive op: the interface every built-in op uses too.
 *
 * An op is a `const ag_op_def` with a name, an arity and three callbacks. Its
 * address is its identity. ag_apply() checks the inputs, calls `shape` to
 * validate them and set the output shape, allocates the output on the tape,
 * calls `forward`, and records a node; ag_backward() later calls `vjp` on each
 * recorded node in reverse order.
 *
 * Contract of the callbacks:
 * - `shape(c, out_shape, out_ndim)`: read input shapes with ag_in(); write the
 *   output shape; return 0, or report a problem with ag_op_fail() and return
 *   its value. It must not touch data.
 * - `forward(c)`: write every element of ag_out() from the inputs. It may keep
 *   state for the VJP with ag_save_alloc() (tape memory).
 * - `vjp(c)`: for each input i with ag_wants_grad(c, i), *accumulate* (+=)
 *   the vector-Jacobian product into ag_in_grad(c, i), given ag_out_grad(c).
 *   Never overwrite: an input may feed several ops. (The one exception is
 *   opt-in: ag_in_grad_first() says when a store is the first write.)
 *
 * Attributes (axis, stride, alpha...) are passed to ag_apply() as a pointer
 * and size, copied into tape memory, and read back with ag_attr().
 */
#ifndef AGRAD_OP_H
#define AGRAD_OP_H

#include <stddef.h>
#include "agrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Context passed to an op's callbacks (opaque). */
typedef struct ag_opctx ag_opctx;

/** @brief A view of one tensor inside a callback: data, length and shape. */
typedef struct ag_view {
    ag_real *x;          /*!< elements, row-major; NULL for a gradient nobody wants */
    size_t len;          /*!< number of elements */
    const size_t *shape; /*!< ndim sizes */
    int ndim;            /*!< number of dimensions */
} ag_view;

/** @brief Definition of a primitive op. */
typedef struct ag_op_def {
    const char *name; /*!< short name; errors print it as "ag_<name>" */
    int n_in;         /*!< number of inputs (0 for a source op such as ag_bernoulli()), or -1 for any number >= 1 */
    int (*shape)(ag_opctx *c, size_t *out_shape, int *out_ndim); /*!< validate, set output shape */
    void (*forward)(ag_opctx *c); /*!< compute the output */
    void (*vjp)(ag_opctx *c);     /*!< accumulate input gradients; NULL: no gradient flows */
} ag_op_def;

/**
 * @brief  Apply an op: validate, allocate the output, compute it, record it.
 * @param  t          Tape that records the node and owns the output.
 * @param  op         The op's definition (its address identifies it).
 * @param  in         @p n_in input tensors (may be NULL when @p n_in is 0).
 * @param  n_in       Number of inputs (must match op->n_in unless it is -1).
 * @param  attr       Attributes, copied into tape memory; may be NULL.
 * @param  attr_size  Size of @p attr in bytes.
 * @return The output, owned by @p t. Never NULL: on error, or if @p t has
 *         already failed, a poisoned tensor; see ag_tape_status().
 */
AG_API ag_tensor *ag_apply(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                           const void *attr, size_t attr_size);

/**
 * @brief  Apply an op whose output is its input 0's elements in the same
 *         row-major order under a new shape (a reshape, a squeeze, y = x):
 *         validation is ag_apply()'s, shape rule included, but the output
 *         shares input 0's data instead of being computed, and, when the op
 *         has a `vjp` and input 0 needs a gradient, shares its gradient
 *         buffer too, so the consumers' VJPs accumulate straight into input
 *         0's gradient. Neither `forward` nor `vjp` is called and no node is
 *         recorded; both callbacks must still define the op, as ag_apply()
 *         on the same definition runs them (the copying path).
 *         Consequences: writing into the view's data writes into input 0;
 *         ag_grad() of a view is its input's gradient buffer (the sum over
 *         all of the input's uses, not only the view's), and NULL for a view
 *         of a parameter (read the parameter's).
 * @param  t          Tape that owns the view.
 * @param  op         The op's definition (the shape rule must keep the element count).
 * @param  in         @p n_in input tensors; the view is of in[0].
 * @param  n_in       Number of inputs (>= 1).
 * @param  attr       Attributes for the shape rule; may be NULL.
 * @param  attr_size  Size of @p attr in bytes.
 * @return The view, owned by @p t; a poisoned tensor on error, as ag_apply().
 */
AG_API ag_tensor *ag_apply_view(ag_tape *t, const ag_op_def *op, ag_tensor *const *in, int n_in,
                                const void *attr, size_t attr_size);

/** @brief Number of inputs of the node. */
AG_API int ag_n_in(const ag_opctx *c);

/** @brief View of input @p i. */
AG_API ag_view ag_in(const ag_opctx *c, int i);

/** @brief View of the output (in `forward` and `vjp`; in `shape` it is empty). */
AG_API ag_view ag_out(const ag_opctx *c);

/** @brief In `vjp`: the gradient of the output (read only). */
AG_API ag_view ag_out_grad(const ag_opctx *c);

/** @brief In `vjp`: nonzero if input @p i needs its gradient. */
AG_API int ag_wants_grad(const ag_opctx *c, int i);

/** @brief In `vjp`: the gradient buffer of input @p i, to accumulate into (x is NULL if not wanted). */
AG_API ag_view ag_in_grad(const ag_opctx *c, int i);

/**
 * @brief In `vjp`: input @p i's gradient buffer, for a VJP that can store its
 *        result instead of adding it.
 *
 * Like ag_in_grad(), except when nothing has been written to that buffer in
 * this backward sweep yet: then it is returned as it is, *not zeroed*, and
 * *@p first is set to 1, and the VJP must **store** (=) every element of the
 * view rather than add. Otherwise *@p first is 0 and the VJP adds as usual.
 * The buffer counts as written as soon as this returns with *@p first = 1,
 * so ask for it just before writing it, and write all of it before asking
 * for another input's gradient (the same tensor may be two inputs, as in
 * x * x). The engine zeroes gradient buffers lazily; a VJP that stores its
 * first contribution saves that zeroing and a read of zeros (matmul passes
 * beta = 0 to its GEMM, for instance).
 * @param c     the op context given to `vjp`.
 * @param i     the input's index.
 * @param first set to 1 (store) or 0 (accumulate); must not be NULL.
 * @return      the view of input @p i's gradient (x is NULL if it needs none).
 */
AG_API ag_view ag_in_grad_first(const ag_opctx *c, int i, int *first);

/** @brief The attributes given to ag_apply(), in tape memory; NULL if none. */
AG_API const void *ag_attr(const ag_opctx *c);

/**
 * @brief  In `forward`: allocate @p bytes of zeroed tape memory kept with the
 *         node for its `vjp` (argmax indices, masks...).
 * @return The block (16-byte aligned), or NULL if out of memory (the tape is
 *         then failed with AG_ENOMEM and the output discarded).
 */
AG_API void *ag_save_alloc(ag_opctx *c, size_t bytes);

/** @brief In `vjp`: the block allocated by ag_save_alloc(), NULL if none. */
AG_API void *ag_saved(const ag_opctx *c);

/**
 * @brief  Scratch memory that lives until the tape is reset (for temporaries
 *         inside a callback).
 * @return A 64-byte aligned block, or NULL if out of memory (the tape is then
 *         failed with AG_ENOMEM).
 */
AG_API void *ag_scratch(ag_opctx *c, size_t bytes);

/**
 * @brief  Next value of the tape's random stream, uniform in [0, 1).
 *         For random ops; deterministic given ag_tape_seed().
 */
AG_API double ag_uniform(ag_opctx *c);

/**
 * @brief  In `shape`: report invalid inputs. The message is prefixed with
 *         "ag_<name> (node N): " and becomes the tape's error.
 * @param  c     The context passed to the callback.
 * @param  code  An ag_status code (AG_EINVAL for shape errors).
 * @param  fmt   printf-style format.
 * @return @p code, to be returned by `shape`.
 */
AG_API int ag_op_fail(ag_opctx *c, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/**
 * @brief  Shape of input @p i formatted as "[32,784]", for error messages.
 * @return A string in tape memory, valid until the tape is reset.
 */
AG_API const char *ag_in_shape_str(ag_opctx *c, int i);

/**
 * @brief  NumPy broadcasting of two shapes (aligned at the trailing dims).
 * @param  a        First shape, @p na sizes.
 * @param  na       Its ndim.
 * @param  b        Second shape, @p nb sizes.
 * @param  nb       Its ndim.
 * @param  out      Receives the broadcast shape (max of the two ndims).
 * @param  out_nd   Receives its ndim.
 * @return 0 if compatible, -1 otherwise.
 */
AG_API int ag_broadcast_shape(const size_t *a, int na, const size_t *b, int nb,
                              size_t *out, int *out_nd);

/**
 * @brief  Sum @p g (of shape @p gshape) over broadcast axes down to shape
 *         @p shape, accumulating (+=) into @p dst. The adjoint of broadcasting.
 */
AG_API void ag_unbroadcast_add(ag_real *dst, const size_t *shape, int nd,
                               const ag_real *g, const size_t *gshape, int gnd);

#ifdef __cplusplus
}
#endif
#endif
