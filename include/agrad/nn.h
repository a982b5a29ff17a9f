/**
 * @file nn.h
 * @brief Layers and losses, each a composition of public ops (no gradient code).
 *
 * Layouts follow PyTorch, so weights can be compared and ported.
 */
#ifndef AGRAD_NN_H
#define AGRAD_NN_H

#include <stddef.h>
#include <stdint.h>
#include "agrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- section: parameters, initialisers, dense, activations, dropout ---- */

/**
 * @brief Seeded random generator: xoshiro256** (Blackman and Vigna, 2018).
 *
 * ag_rng_seed() fills the 256-bit state from the seed with splitmix64, so any
 * seed (0 included) gives a good stream. ag_rng_uniform() returns the top 53
 * bits of a draw times 2^-53; ag_rng_normal() uses the Box-Muller transform
 * on two uniforms and keeps the second value for the next call. The stream
 * depends only on the seed: a run is reproducible given its seed, on any
 * machine. The struct is public so it can live on the stack; treat its
 * fields as private.
 */
typedef struct ag_rng {
    uint64_t s[4];    /*!< xoshiro256** state */
    double spare;     /*!< second Box-Muller value */
    int has_spare;    /*!< nonzero if @ref spare is pending */
} ag_rng;

/**
 * @brief Seed a generator.
 * @param r     Generator to (re)initialise.
 * @param seed  Any value; equal seeds give equal streams.
 */
AG_API void ag_rng_seed(ag_rng *r, uint64_t seed);

/** @brief Next raw 64-bit draw of @p r. @return The draw. */
AG_API uint64_t ag_rng_next(ag_rng *r);

/** @brief Uniform draw in [0, 1) with 53 random bits. @return The draw. */
AG_API double ag_rng_uniform(ag_rng *r);

/** @brief Uniform integer in [0, @p n) (no modulo bias); 0 if @p n is 0. @return The draw. */
AG_API uint64_t ag_rng_below(ag_rng *r, uint64_t n);

/** @brief Standard normal draw (mean 0, variance 1), Box-Muller. @return The draw. */
AG_API double ag_rng_normal(ag_rng *r);

/**
 * @brief  Fill a tensor with independent uniform draws in [lo, hi).
 * @param  x    Parameter (or any tensor) whose data is overwritten.
 * @param  lo   Lower bound.
 * @param  hi   Upper bound.
 * @param  r    Generator.
 * @return AG_OK, or AG_EINVAL (NULL argument, hi < lo; see ag_last_errmsg()).
 */
AG_API int ag_init_uniform(ag_tensor *x, double lo, double hi, ag_rng *r);

/**
 * @brief  Fill a tensor with independent normal draws N(mean, std^2).
 * @param  x     Tensor whose data is overwritten.
 * @param  mean  Mean.
 * @param  std   Standard deviation (>= 0).
 * @param  r     Generator.
 * @return AG_OK, or AG_EINVAL (see ag_last_errmsg()).
 */
AG_API int ag_init_normal(ag_tensor *x, double mean, double std, ag_rng *r);

/**
 * @brief  Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
 * @param  x        Tensor whose data is overwritten.
 * @param  fan_in   Inputs per output unit (dense: in; conv: in_c * kh * kw).
 * @param  fan_out  Outputs per input unit (dense: out; conv: out_c * kh * kw).
 * @param  r        Generator.
 * @return AG_OK, or AG_EINVAL (zero fans; see ag_last_errmsg()).
 */
AG_API int ag_init_xavier_uniform(ag_tensor *x, size_t fan_in, size_t fan_out, ag_rng *r);

/**
 * @brief  Xavier/Glorot normal: N(0, s^2), s = sqrt(2 / (fan_in + fan_out)).
 * @param  x        Tensor whose data is overwritten.
 * @param  fan_in   Inputs per output unit.
 * @param  fan_out  Outputs per input unit.
 * @param  r        Generator.
 * @return AG_OK, or AG_EINVAL (see ag_last_errmsg()).
 */
AG_API int ag_init_xavier_normal(ag_tensor *x, size_t fan_in, size_t fan_out, ag_rng *r);

/**
 * @brief  He/Kaiming uniform for ReLU layers: U(-a, a), a = sqrt(6 / fan_in).
 * @param  x       Tensor whose data is overwritten.
 * @param  fan_in  Inputs per output unit.
 * @param  r       Generator.
 * @return AG_OK, or AG_EINVAL (see ag_last_errmsg()).
 */
AG_API int ag_init_he_uniform(ag_tensor *x, size_t fan_in, ag_rng *r);

/**
 * @brief  He/Kaiming normal for ReLU layers: N(0, s^2), s = sqrt(2 / fan_in).
 * @param  x       Tensor whose data is overwritten.
 * @param  fan_in  Inputs per output unit.
 * @param  r       Generator.
 * @return AG_OK, or AG_EINVAL (see ag_last_errmsg()).
 */
AG_API int ag_init_he_normal(ag_tensor *x, size_t fan_in, ag_rng *r);

/**
 * @brief A list of a model's parameters, each with a unique name
 *        ("fc1.weight"...), in the order they were added. It borrows the
 *        parameters: freeing the set does not free them. Optimizers, early
 *        stopping, ag_save() and ag_load() work on a set.
 */
typedef struct ag_paramset ag_paramset;

/**
 * @brief  New empty set.
 * @return A set the caller frees with ag_paramset_free(); NULL if out of memory.
 */
AG_API ag_paramset *ag_paramset_new(void);

/** @brief Free a set (not its parameters). NULL is harmless. */
AG_API void ag_paramset_free(ag_paramset *s);

/**
 * @brief  Add a parameter under a name, which is also given to the parameter
 *         (ag_param_set_name()).
 * @param  s     The set.
 * @param  p     A parameter (ag_param_new()), not already in the set.
 * @param  name  1 to 63 bytes, unique in the set; copied.
 * @return AG_OK; AG_EINVAL for a NULL or non-parameter @p p, a bad or
 *         duplicate name; AG_ENOMEM (message in ag_last_errmsg()).
 */
AG_API int ag_paramset_add(ag_paramset *s, ag_tensor *p, const char *name);

/** @brief Number of parameters in the set (0 for NULL). @return The count. */
AG_API size_t ag_paramset_count(const ag_paramset *s);

/** @brief Total number of scalars in all the parameters. @return The sum of their numel. */
AG_API size_t ag_paramset_numel(const ag_paramset *s);

/**
 * @brief  Parameter number @p i, in insertion order.
 * @return The parameter (owned by the caller of ag_paramset_add()), NULL if out of range.
 */
AG_API ag_tensor *ag_paramset_get(const ag_paramset *s, size_t i);

/**
 * @brief  Parameter with a given name.
 * @return The parameter, or NULL if the set has no such name.
 */
AG_API ag_tensor *ag_paramset_find(const ag_paramset *s, const char *name);

/** @brief Zero the gradient of every parameter in the set. */
AG_API void ag_paramset_zero_grad(const ag_paramset *s);

/**
 * @brief  Affine map y = x W^T + b (PyTorch's F.linear): one ag_matmul_add
 *         (ag_matmul_t without a bias).
 * @param  t  Tape that records the ops and owns the result.
 * @param  x  Input [..., in] (1-d [in] is treated as one row).
 * @param  w  Weight [out, in].
 * @param  b  Bias [out], or NULL for none.
 * @return [..., out], owned by @p t (poisoned on error; see ag_tape_status()).
 */
AG_API ag_tensor *ag_linear(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b);

/** @brief Dense (fully connected) layer, PyTorch's layout. */
typedef struct ag_dense {
    ag_tensor *weight; /*!< [out, in] parameter */
    ag_tensor *bias;   /*!< [out] parameter, or NULL */
    size_t in;         /*!< input features */
    size_t out;        /*!< output features */
} ag_dense;

/**
 * @brief  Create the parameters of a dense layer, initialised as PyTorch's
 *         nn.Linear: weight and bias from U(-k, k), k = 1 / sqrt(in).
 *         Re-initialise with ag_init_*() for Xavier or He.
 * @param  d     Layer to fill in; release with ag_dense_fini().
 * @param  in    Input features (> 0).
 * @param  out   Output features (> 0).
 * @param  bias  Nonzero to create a bias.
 * @param  r     Generator for the initial values.
 * @return AG_OK, AG_EINVAL or AG_ENOMEM (then @p d holds no parameter; see
 *         ag_last_errmsg()).
 */
AG_API int ag_dense_init(ag_dense *d, size_t in, size_t out, int bias, ag_rng *r);

/** @brief Free the parameters of a layer and zero the struct. NULL or a zeroed layer is harmless. */
AG_API void ag_dense_fini(ag_dense *d);

/**
 * @brief  Apply the layer: ag_linear(t, x, d->weight, d->bias). (C does not
 *         allow a function and a type of one name, so the forward call of a
 *         layer type ag_X is ag_X_forward.)
 * @param  t  Tape.
 * @param  d  Layer.
 * @param  x  Input [..., in].
 * @return [..., out], owned by @p t (poisoned on error).
 */
AG_API ag_tensor *ag_dense_forward(ag_tape *t, const ag_dense *d, ag_tensor *x);

/**
 * @brief  Add the layer's parameters to a set as "<prefix>.weight" and
 *         "<prefix>.bias".
 * @param  d       Layer.
 * @param  s       Set to add to.
 * @param  prefix  Name prefix, e.g. "fc1".
 * @return AG_OK or the error of ag_paramset_add().
 */
AG_API int ag_dense_params(const ag_dense *d, ag_paramset *s, const char *prefix);

/** @brief Activation functions, for layers that take one as a setting. */
typedef enum ag_activation {
    AG_ACT_NONE = 0,    /*!< identity */
    AG_ACT_SIGMOID,     /*!< ag_sigmoid() */
    AG_ACT_TANH,        /*!< ag_tanh() */
    AG_ACT_RELU,        /*!< ag_relu() */
    AG_ACT_LEAKY_RELU   /*!< ag_leaky_relu() with slope 0.01 */
} ag_activation;

/**
 * @brief  Apply an activation function.
 * @return A tensor of the shape of @p x owned by @p t (@p x itself for
 *         AG_ACT_NONE); poisoned for an unknown @p act.
 */
AG_API ag_tensor *ag_activate(ag_tape *t, ag_tensor *x, ag_activation act);

/**
 * @brief  Inverted dropout: in training, each element is zeroed with
 *         probability @p p and the others are scaled by 1 / (1 - p), so
 *         evaluation needs no rescaling. The mask comes from ag_bernoulli(),
 *         i.e. the tape's random stream (ag_tape_seed()), so gradcheck sees
 *         the same mask in every evaluation.
 * @param  t         Tape.
 * @param  x         Input.
 * @param  p         Drop probability in [0, 1).
 * @param  training  Zero (evaluation): return @p x unchanged.
 * @return A tensor owned by @p t, or @p x itself when not training or p = 0.
 */
AG_API ag_tensor *ag_dropout(ag_tape *t, ag_tensor *x, double p, int training);

/**
 * @brief  Flatten [B, d1, d2, ...] to [B, d1 * d2 * ...].
 * @return A tensor owned by @p t (poisoned if @p x has no dimension).
 */
AG_API ag_tensor *ag_flatten(ag_tape *t, ag_tensor *x);

/**
 * @brief  Softmax along @p axis: exp(x - m) / sum(exp(x - m)) with m the
 *         maximum along the axis (a constant: stop_gradient), so large
 *         inputs do not overflow.
 * @param  t     Tape.
 * @param  x     Input.
 * @param  axis  Axis; negative counts from the end.
 * @return A tensor of the shape of @p x owned by @p t.
 */
AG_API ag_tensor *ag_softmax(ag_tape *t, ag_tensor *x, int axis);

/**
 * @brief  Log-softmax along @p axis: (x - m) - log(sum(exp(x - m))), m as in
 *         ag_softmax().
 *
 * A primitive op (ag_op_log_softmax, `ops/log_softmax.c`): one pass per run
 * of the axis, sums in double, and the VJP gx = gy - softmax(x) sum(gy).
 * An empty axis is an error unless x has no elements at all.
 * @param  t     Tape.
 * @param  x     Input.
 * @param  axis  Axis; negative counts from the end.
 * @return A tensor of the shape of @p x owned by @p t.
 */
AG_API ag_tensor *ag_log_softmax(ag_tape *t, ag_tensor *x, int axis);

/* ---- end section ---- */

/* ---- section: losses ---- */

/**
 * @brief  Mean squared error: mean((pred - target)^2).
 * @param  t       Tape.
 * @param  pred    Predictions.
 * @param  target  Targets, same shape as @p pred.
 * @return A scalar owned by @p t (poisoned if the shapes differ).
 */
AG_API ag_tensor *ag_mse_loss(ag_tape *t, ag_tensor *pred, ag_tensor *target);

/**
 * @brief  Binary cross-entropy on probabilities:
 *         -mean(y log(p) + (1 - y) log(1 - p)).
 *
 * For safety both log arguments are clamped below at 1e-12 (so each log is
 * at least -27.6): p = 0 or 1 gives a finite loss and gradient. Away from 0
 * and 1 the clamp is inactive. Prefer ag_bce_with_logits_loss() on logits.
 * @param  t       Tape.
 * @param  prob    Probabilities in [0, 1].
 * @param  target  Targets in [0, 1], same shape as @p prob.
 * @return A scalar owned by @p t (poisoned if the shapes differ).
 */
AG_API ag_tensor *ag_bce_loss(ag_tape *t, ag_tensor *prob, ag_tensor *target);

/**
 * @brief  Binary cross-entropy on logits, the stable form:
 *         mean(softplus(x) - x y), equal to BCE of sigmoid(x) without
 *         overflow or log(0).
 * @param  t       Tape.
 * @param  logits  Logits x.
 * @param  target  Targets y in [0, 1], same shape as @p logits.
 * @return A scalar owned by @p t (poisoned if the shapes differ).
 */
AG_API ag_tensor *ag_bce_with_logits_loss(ag_tape *t, ag_tensor *logits, ag_tensor *target);

/**
 * @brief  Softmax cross-entropy with integer labels:
 *         -mean_i log_softmax(logits)[i, labels[i]].
 * @param  t       Tape.
 * @param  logits  [B, C] scores.
 * @param  labels  B labels in [0, C); copied.
 * @return A scalar owned by @p t; poisoned if @p logits is not 2-d or a
 *         label is out of range (the message names the row and the label).
 */
AG_API ag_tensor *ag_softmax_cross_entropy(ag_tape *t, ag_tensor *logits,
                                           const int32_t *labels);

/* ---- end section ---- */

/* ---- section: convolution and pooling ---- */

/**
 * @brief  2-d convolution (cross-correlation, as in PyTorch's F.conv2d):
 *         y[n, o, i, j] = b[o] + sum over c, a, e of
 *         w[o, c, a, e] x[n, c, i*stride + a*dilation - pad, j*stride + e*dilation - pad],
 *         with zeros outside the image.
 *
 * Composed as unfold (with the padding) -> matmul with w as [out_c, in_c*kh*kw]
 * plus the bias as [out_c, 1] (one ag_matmul_add) -> reshape to NCHW; its
 * gradient comes from those ops.
 * @param  t         Tape that records the ops and owns the result.
 * @param  x         Input [N, in_c, H, W].
 * @param  w         Weight [out_c, in_c, kh, kw].
 * @param  b         Bias [out_c], or NULL for none.
 * @param  stride    Step between windows, both axes; 0 means 1.
 * @param  pad       Zero padding on every side.
 * @param  dilation  Spacing of the kernel taps; 0 means 1.
 * @return [N, out_c, oh, ow] with oh = (H + 2 pad - dilation (kh - 1) - 1) / stride + 1
 *         (likewise ow), owned by @p t. Poisoned, with the shapes in the
 *         tape's message, if the channels differ, the kernel is larger than
 *         the padded input, or a shape is malformed.
 */
AG_API ag_tensor *ag_conv2d_fn(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b,
                               size_t stride, size_t pad, size_t dilation);

/** @brief 2-d convolution layer, PyTorch's nn.Conv2d layout. */
typedef struct ag_conv2d {
    ag_tensor *weight; /*!< [out_c, in_c, kh, kw] parameter */
    ag_tensor *bias;   /*!< [out_c] parameter, or NULL */
    size_t in_c;       /*!< input channels */
    size_t out_c;      /*!< output channels */
    size_t kh;         /*!< kernel height */
    size_t kw;         /*!< kernel width */
    size_t stride;     /*!< step between windows */
    size_t pad;        /*!< zero padding on every side */
    size_t dilation;   /*!< spacing of the kernel taps (1 after init; may be changed) */
} ag_conv2d;

/**
 * @brief  Create the parameters of a conv2d layer, initialised as PyTorch's
 *         nn.Conv2d: weight and bias from U(-k, k), k = 1 / sqrt(in_c kh kw).
 * @param  c       Layer to fill in; release with ag_conv2d_fini().
 * @param  in_c    Input channels (> 0).
 * @param  out_c   Output channels (> 0).
 * @param  kh      Kernel height (> 0).
 * @param  kw      Kernel width (> 0).
 * @param  stride  Step between windows; 0 means 1.
 * @param  pad     Zero padding on every side (e.g. kh / 2 keeps the size for odd kh).
 * @param  bias    Nonzero to create a bias.
 * @param  r       Generator for the initial values.
 * @return AG_OK, AG_EINVAL or AG_ENOMEM (then @p c holds no parameter; see
 *         ag_last_errmsg()).
 */
AG_API int ag_conv2d_init(ag_conv2d *c, size_t in_c, size_t out_c, size_t kh, size_t kw,
                          size_t stride, size_t pad, int bias, ag_rng *r);

/** @brief Free the parameters of a layer and zero the struct. NULL or a zeroed layer is harmless. */
AG_API void ag_conv2d_fini(ag_conv2d *c);

/**
 * @brief  Apply the layer: ag_conv2d_fn() with its weight, bias and geometry.
 * @param  t  Tape.
 * @param  c  Layer.
 * @param  x  Input [N, in_c, H, W].
 * @return [N, out_c, oh, ow], owned by @p t (poisoned on error).
 */
AG_API ag_tensor *ag_conv2d_forward(ag_tape *t, const ag_conv2d *c, ag_tensor *x);

/**
 * @brief  Add the layer's parameters to a set as "<prefix>.weight" and "<prefix>.bias".
 * @param  c       Layer.
 * @param  s       Set to add to.
 * @param  prefix  Name prefix, e.g. "conv1".
 * @return AG_OK or the error of ag_paramset_add().
 */
AG_API int ag_conv2d_params(const ag_conv2d *c, ag_paramset *s, const char *prefix);

/**
 * @brief  1-d convolution over sequences (PyTorch's F.conv1d):
 *         y[n, o, i] = b[o] + sum over c, a of w[o, c, a] x[n, c, i*stride + a*dilation - pad].
 *         A conv2d of height 1.
 * @param  t         Tape that records the ops and owns the result.
 * @param  x         Input [N, in_c, L].
 * @param  w         Weight [out_c, in_c, k].
 * @param  b         Bias [out_c], or NULL.
 * @param  stride    Step between windows; 0 means 1.
 * @param  pad       Zero padding at both ends.
 * @param  dilation  Spacing of the taps; 0 means 1.
 * @return [N, out_c, (L + 2 pad - dilation (k - 1) - 1) / stride + 1], owned by
 *         @p t (poisoned, with the shapes named, on a mismatch).
 */
AG_API ag_tensor *ag_conv1d_fn(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b,
                               size_t stride, size_t pad, size_t dilation);

/** @brief 1-d convolution layer, PyTorch's nn.Conv1d layout. */
typedef struct ag_conv1d {
    ag_tensor *weight; /*!< [out_c, in_c, k] parameter */
    ag_tensor *bias;   /*!< [out_c] parameter, or NULL */
    size_t in_c;       /*!< input channels */
    size_t out_c;      /*!< output channels */
    size_t k;          /*!< kernel length */
    size_t stride;     /*!< step between windows */
    size_t pad;        /*!< zero padding at both ends */
    size_t dilation;   /*!< spacing of the taps (1 after init; may be changed) */
} ag_conv1d;

/**
 * @brief  Create the parameters of a conv1d layer, initialised as PyTorch's
 *         nn.Conv1d: weight and bias from U(-k, k), k = 1 / sqrt(in_c ksize).
 * @param  c       Layer to fill in; release with ag_conv1d_fini().
 * @param  in_c    Input channels (> 0).
 * @param  out_c   Output channels (> 0).
 * @param  ksize   Kernel length (> 0).
 * @param  stride  Step between windows; 0 means 1.
 * @param  pad     Zero padding at both ends.
 * @param  bias    Nonzero to create a bias.
 * @param  r       Generator for the initial values.
 * @return AG_OK, AG_EINVAL or AG_ENOMEM (then @p c holds no parameter).
 */
AG_API int ag_conv1d_init(ag_conv1d *c, size_t in_c, size_t out_c, size_t ksize, size_t stride,
                          size_t pad, int bias, ag_rng *r);

/** @brief Free the parameters of a layer and zero the struct. NULL or a zeroed layer is harmless. */
AG_API void ag_conv1d_fini(ag_conv1d *c);

/**
 * @brief  Apply the layer: ag_conv1d_fn() with its weight, bias and geometry.
 * @param  t  Tape.
 * @param  c  Layer.
 * @param  x  Input [N, in_c, L].
 * @return [N, out_c, L_out], owned by @p t (poisoned on error).
 */
AG_API ag_tensor *ag_conv1d_forward(ag_tape *t, const ag_conv1d *c, ag_tensor *x);

/**
 * @brief  Add the layer's parameters to a set as "<prefix>.weight" and "<prefix>.bias".
 * @param  c       Layer.
 * @param  s       Set to add to.
 * @param  prefix  Name prefix.
 * @return AG_OK or the error of ag_paramset_add().
 */
AG_API int ag_conv1d_params(const ag_conv1d *c, ag_paramset *s, const char *prefix);

/**
 * @brief  2-d max pooling (PyTorch's F.max_pool2d): the maximum of each
 *         kernel x kernel window. Padding counts as -infinity, so it is never
 *         the maximum. Composed as unfold -> max over the window axis, or,
 *         when the windows tile the image (stride = kernel, no padding, H and
 *         W multiples of the kernel), as a view of x as [N C oh, kernel, ow,
 *         kernel] -> max over axes 1 and 3, with no copy. Tied maxima share
 *         the gradient.
 * @param  t       Tape that records the ops and owns the result.
 * @param  x       Input [N, C, H, W].
 * @param  kernel  Window size (> 0).
 * @param  stride  Step between windows; 0 means @p kernel (PyTorch's default).
 * @param  pad     Padding on every side, at most kernel / 2.
 * @return [N, C, oh, ow], oh = (H + 2 pad - kernel) / stride + 1, owned by
 *         @p t; poisoned (shapes named) if the window does not fit.
 */
AG_API ag_tensor *ag_maxpool2d(ag_tape *t, ag_tensor *x, size_t kernel, size_t stride,
                               size_t pad);

/**
 * @brief  2-d average pooling (PyTorch's F.avg_pool2d with its defaults):
 *         the mean of each kernel x kernel window, padding counted as zeros
 *         (count_include_pad: every window divides by kernel^2). Composed as
 *         unfold -> mean over the window axis.
 * @param  t       Tape that records the ops and owns the result.
 * @param  x       Input [N, C, H, W].
 * @param  kernel  Window size (> 0).
 * @param  stride  Step between windows; 0 means @p kernel.
 * @param  pad     Zero padding on every side, at most kernel / 2.
 * @return [N, C, oh, ow], owned by @p t; poisoned (shapes named) if the
 *         window does not fit.
 */
AG_API ag_tensor *ag_avgpool2d(ag_tape *t, ag_tensor *x, size_t kernel, size_t stride,
                               size_t pad);

/**
 * @brief  Global average pooling: the mean of each channel over its whole
 *         image, [N, C, H, W] -> [N, C] (a dense head can follow directly).
 * @param  t  Tape.
 * @param  x  Input [N, C, H, W].
 * @return [N, C], owned by @p t (poisoned if @p x is not 4-d).
 */
AG_API ag_tensor *ag_global_avgpool2d(ag_tape *t, ag_tensor *x);

/* ---- end section ---- */

/* ---- section: recurrent layers ---- */

/** @brief Kind of recurrent cell (PyTorch's nn.RNN, nn.LSTM, nn.GRU). */
typedef enum ag_rnn_mode {
    AG_RNN_TANH = 0, /*!< Elman: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
    AG_RNN_RELU = 1, /*!< Elman with relu in place of tanh */
    AG_RNN_LSTM = 2, /*!< LSTM, gate blocks i, f, g, o (4 H rows) */
    AG_RNN_GRU = 3   /*!< GRU, gate blocks r, z, n (3 H rows) */
} ag_rnn_mode;

/** @brief Most stacked layers an #ag_rnn holds. */
#define AG_RNN_MAX_LAYERS 8

/**
 * @brief Parameters of one recurrent layer, with PyTorch's names and layouts.
 *        G is 1 (Elman), 4 (LSTM) or 3 (GRU); "in" is the input size for
 *        layer 0 and the hidden size above it.
 */
typedef struct ag_rnn_layer {
    ag_tensor *w_ih; /*!< weight_ih_l{k}: [G*hidden, in] */
    ag_tensor *w_hh; /*!< weight_hh_l{k}: [G*hidden, hidden] */
    ag_tensor *b_ih; /*!< bias_ih_l{k}: [G*hidden] */
    ag_tensor *b_hh; /*!< bias_hh_l{k}: [G*hidden] */
} ag_rnn_layer;

/** @brief A stack of recurrent layers of one kind. Fields are read-only after init. */
typedef struct ag_rnn {
    ag_rnn_mode mode;   /*!< cell kind */
    size_t input_size;  /*!< features per time step of the input */
    size_t hidden_size; /*!< H: size of h (and of c for the LSTM) */
    int num_layers;     /*!< stacked layers; layer k+1 reads the outputs of layer k */
    ag_rnn_layer layer[AG_RNN_MAX_LAYERS]; /*!< parameters, num_layers entries */
} ag_rnn;

/**
 * @brief State of one layer between time steps. A NULL member means zeros.
 *        Shapes are [batch, hidden]; @c c is used by the LSTM only.
 */
typedef struct ag_rnn_state {
    ag_tensor *h; /*!< hidden state [batch, hidden], or NULL */
    ag_tensor *c; /*!< LSTM cell state [batch, hidden], or NULL */
} ag_rnn_state;

/**
 * @brief  Create the parameters of a recurrent stack, initialised as PyTorch
 *         does: every weight and bias from U(-k, k), k = 1 / sqrt(hidden_size).
 * @param  r            Filled in; release with ag_rnn_fini().
 * @param  mode         Cell kind.
 * @param  input_size   Features per time step (> 0).
 * @param  hidden_size  H (> 0).
 * @param  num_layers   1 to #AG_RNN_MAX_LAYERS.
 * @param  rng          Generator for the initial values.
 * @return AG_OK, AG_EINVAL or AG_ENOMEM (then @p r holds no parameter; see
 *         ag_last_errmsg()).
 */
AG_API int ag_rnn_init(ag_rnn *r, ag_rnn_mode mode, size_t input_size, size_t hidden_size,
                       int num_layers, ag_rng *rng);

/** @brief Free the parameters of @p r and zero the struct. NULL or a zeroed struct is harmless. */
AG_API void ag_rnn_fini(ag_rnn *r);

/**
 * @brief  Add the parameters to a set under PyTorch's state_dict names,
 *         layer by layer: "<prefix>.weight_ih_l0", "<prefix>.weight_hh_l0",
 *         "<prefix>.bias_ih_l0", "<prefix>.bias_hh_l0", then "..._l1"...
 * @param  r       The layers.
 * @param  s       Set to add to.
 * @param  prefix  Name prefix, e.g. "lstm".
 * @return AG_OK or the error of ag_paramset_add().
 */
AG_API int ag_rnn_params(const ag_rnn *r, ag_paramset *s, const char *prefix);

/**
 * @brief  One time step of layer @p layer (the cell API, for hand-written loops).
 *
 * Elman: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).
 * LSTM:  [i f g o] = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, with sigmoid on i, f, o
 *        and tanh on g; c' = f c + i g, h' = o tanh(c').
 * GRU:   [r z] = sigmoid(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) on their blocks,
 *        n = tanh(x W_inᵀ + b_in + r (h W_hnᵀ + b_hn)), h' = (1 - z) n + z h.
 * @param  t      Tape that records the step and owns the results.
 * @param  r      The layers.
 * @param  layer  0 to num_layers - 1.
 * @param  x      Input [batch, in].
 * @param  s      State before the step (NULL members mean zeros); replaced by
 *                the state after it (tensors owned by @p t).
 * @return The new hidden state s->h [batch, hidden], owned by @p t; poisoned on error.
 */
AG_API ag_tensor *ag_rnn_cell(ag_tape *t, const ag_rnn *r, int layer, ag_tensor *x,
                              ag_rnn_state *s);

/**
 * @brief  Run the stack over whole sequences (the sequence API), batch first.
 *
 * Equal to stepping ag_rnn_cell() over time for layer 0, then feeding its
 * outputs to layer 1, and so on. The input projection x W_ihᵀ + b of every time
 * step is one matrix product before the loop.
 *
 * With @p lengths, sequence b has lengths[b] valid steps and the rest is
 * padding: its state stops changing after step lengths[b] - 1, its outputs
 * from there on are zero, and no gradient reaches the padding, so a padded
 * batch gives what each sequence gives alone. Padding values must be finite.
 * @param  t        Tape that records the ops and owns the results.
 * @param  r        The layers.
 * @param  x        Input [batch, time, input_size].
 * @param  lengths  NULL (every sequence has all @c time steps), or @c batch
 *                  values in [0, time]; read during the call only.
 * @param  h0       NULL (zero state), or num_layers initial states, each of
 *                  whose members may be NULL.
 * @param  hn       NULL, or receives num_layers final states (h, and c for the
 *                  LSTM; tensors [batch, hidden] owned by @p t).
 * @return Hidden states of the last layer at every step, [batch, time, hidden],
 *         owned by @p t; poisoned on error.
 */
AG_API ag_tensor *ag_rnn_forward(ag_tape *t, const ag_rnn *r, ag_tensor *x,
                                 const int64_t *lengths, const ag_rnn_state *h0,
                                 ag_rnn_state *hn);

/* ---- end section ---- */

#ifdef __cplusplus
}
#endif
#endif
