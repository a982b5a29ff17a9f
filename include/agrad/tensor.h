/**
 * @file tensor.h
 * @brief Tensors: shape, data, gradient, and the three lifetimes.
 *
 * A tensor is dense, contiguous and row-major, with up to #AG_MAX_DIMS
 * dimensions. It has one of three lifetimes:
 *  1. made by an op or by ag_tensor_new() / ag_tensor_from(): owned by a tape,
 *     freed all at once by ag_tape_reset() or ag_tape_free();
 *  2. a parameter (ag_param_new()): lives until ag_param_free(), and owns a
 *     gradient buffer that ag_backward() accumulates into;
 *  3. made by ag_tensor_wrap(): the header belongs to a tape, the data is the
 *     caller's buffer, which the library never frees.
 */
#ifndef AGRAD_TENSOR_H
#define AGRAD_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "agrad/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Largest number of dimensions a tensor may have. */
#define AG_MAX_DIMS 8

/** @brief Opaque tensor. */
typedef struct ag_tensor ag_tensor;
/** @brief Opaque tape (see tape.h). */
typedef struct ag_tape ag_tape;

/**
 * @brief Shape literal: `AG_SHAPE(32, 784)` expands to the pair of arguments
 *        `(const size_t[]){32, 784}, 2` taken by the functions that build tensors.
 */
#define AG_SHAPE(...) \
    (const size_t[]){__VA_ARGS__}, (int)(sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t))

/**
 * @brief  Element data, row-major.
 * @param  x  A tensor (a poisoned tensor gives a buffer of NaN of its numel).
 * @return Pointer owned by the tensor: valid as long as the tensor is.
 */
AG_API ag_real *ag_data(const ag_tensor *x);

/**
 * @brief  Gradient buffer of a tensor.
 * @param  x  A tensor.
 * @return For a parameter, its persistent gradient. For a tape tensor, the
 *         gradient left by the last ag_backward() on its tape, or NULL if
 *         backward has not reached it. Owned like the tensor.
 */
AG_API ag_real *ag_grad(const ag_tensor *x);

/**
 * @brief  Shape of a tensor.
 * @return Pointer to ag_ndim() sizes, owned by the tensor.
 */
AG_API const size_t *ag_shape(const ag_tensor *x);

/** @brief Number of dimensions (0 for a scalar). */
AG_API int ag_ndim(const ag_tensor *x);

/** @brief Size of dimension @p axis; a negative axis counts from the end. 0 if out of range. */
AG_API size_t ag_dim(const ag_tensor *x, int axis);

/** @brief Number of elements (product of the shape; 1 for a scalar). */
AG_API size_t ag_numel(const ag_tensor *x);

/** @brief Nonzero if @p x is a poisoned tensor returned by a failed op. */
AG_API int ag_is_poisoned(const ag_tensor *x);

/** @brief Nonzero if gradients flow to @p x (a parameter, or an op output that depends on one). */
AG_API int ag_requires_grad(const ag_tensor *x);

/**
 * @brief  New zero-filled tensor on a tape.
 * @param  t      Tape that owns the result.
 * @param  shape  @p ndim sizes.
 * @param  ndim   0 to #AG_MAX_DIMS.
 * @return A tensor owned by @p t (freed by ag_tape_reset()); a poisoned tensor on error.
 */
AG_API ag_tensor *ag_tensor_new(ag_tape *t, const size_t *shape, int ndim);

/**
 * @brief  New tensor on a tape, initialised with a copy of @p src.
 * @param  t      Tape that owns the result.
 * @param  src    ag_numel() values, row-major; copied.
 * @param  shape  @p ndim sizes.
 * @param  ndim   0 to #AG_MAX_DIMS.
 * @return A tensor owned by @p t; a poisoned tensor on error.
 */
AG_API ag_tensor *ag_tensor_from(ag_tape *t, const ag_real *src, const size_t *shape, int ndim);

/**
 * @brief  Tensor that borrows the caller's buffer (no copy).
 * @param  t      Tape that owns the tensor header.
 * @param  data   Buffer of ag_numel() values; must outlive the tape's current
 *                step; never freed by the library. Ops only read it.
 * @param  shape  @p ndim sizes.
 * @param  ndim   0 to #AG_MAX_DIMS.
 * @return A tensor whose header is owned by @p t; a poisoned tensor on error.
 */
AG_API ag_tensor *ag_tensor_wrap(ag_tape *t, ag_real *data, const size_t *shape, int ndim);

/**
 * @brief  Scalar constant on a tape.
 * @return A 0-dimensional tensor owned by @p t; a poisoned tensor on error.
 */
AG_API ag_tensor *ag_scalar(ag_tape *t, ag_real v);

/**
 * @brief  New parameter: a zero-filled tensor with a persistent gradient.
 * @param  shape  @p ndim sizes.
 * @param  ndim   0 to #AG_MAX_DIMS.
 * @return A parameter that the caller owns and frees with ag_param_free();
 *         NULL on error (see ag_last_errmsg()).
 */
AG_API ag_tensor *ag_param_new(const size_t *shape, int ndim);

/** @brief Free a parameter and its buffers. NULL is harmless. */
AG_API void ag_param_free(ag_tensor *p);

/** @brief Nonzero if @p x is a parameter made by ag_param_new(). */
AG_API int ag_is_param(const ag_tensor *x);

/**
 * @brief  Set the gradient of a parameter to zero. NULL is harmless.
 *
 * Lazily, in O(1): the buffer is cleared by its next use (the next
 * backward's first write into it stores instead of adding, and ag_grad()
 * or an optimizer step that find it unwritten zero it). Read it through
 * ag_grad() after this call, not through a pointer kept from before.
 */
AG_API void ag_param_zero_grad(ag_tensor *p);

/**
 * @brief  Give a parameter a name (used by save/load and graph export).
 * @param  p     A parameter.
 * @param  name  Copied; truncated to 63 bytes.
 */
AG_API void ag_param_set_name(ag_tensor *p, const char *name);

/**
 * @brief  Name of a parameter.
 * @return The name set by ag_param_set_name(), "" if none; owned by @p p.
 */
AG_API const char *ag_param_name(const ag_tensor *p);

/**
 * @brief  Format a shape as "[2,3,4]".
 * @param  shape  @p ndim sizes.
 * @param  ndim   Number of dimensions.
 * @param  n      Size of @p buf.
 * @param  buf  Destination of at least @p n bytes.
 * @return @p buf.
 */
AG_API char *ag_shape_str(const size_t *shape, int ndim, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
