/**
 * @file optim.h
 * @brief Optimizers, gradient clipping and early stopping.
 *
 * An optimizer works on the parameters of an ag_paramset, reads their
 * gradients (ag_grad()) and updates their data in place, off the tape. Its
 * state (momentum, Adam moments) is allocated once, at creation: a step
 * makes no allocation. The update formulas are PyTorch's (torch.optim), so
 * results can be compared with it.
 *
 * @code
 * ag_optim *opt = ag_optim_adam(params, &(ag_adam_opts){.lr = 1e-3});
 * for (...) {
 *     ag_optim_zero_grad(opt);
 *     ... build the loss on a tape, ag_backward(t, loss) ...
 *     ag_optim_step(opt);
 * }
 * ag_optim_free(opt);
 * @endcode
 */
#ifndef AGRAD_OPTIM_H
#define AGRAD_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include "agrad/tensor.h"
#include "agrad/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An optimizer (opaque): SGD (with momentum, Nesterov) or Adam. */
typedef struct ag_optim ag_optim;

/**
 * @brief Settings of SGD. With g = grad + weight_decay * p:
 *        without momentum p -= lr g; with momentum mu,
 *        b = mu b + g (b starts at 0), then p -= lr b, or with Nesterov
 *        p -= lr (g + mu b).
 */
typedef struct ag_sgd_opts {
    double lr;           /*!< learning rate (> 0) */
    double momentum;     /*!< mu in [0, 1); 0 for plain gradient descent */
    double weight_decay; /*!< L2 coefficient added to the gradient (>= 0) */
    int nesterov;        /*!< nonzero: Nesterov momentum (needs momentum > 0) */
} ag_sgd_opts;

/**
 * @brief Settings of Adam (Kingma and Ba). At step k, with
 *        g = grad + weight_decay * p (or, with decoupled set, p *= 1 - lr wd
 *        first and g = grad, which is AdamW):
 *        m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *        p -= lr (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + eps).
 *        Zero fields take the defaults lr 1e-3, b1 0.9, b2 0.999, eps 1e-8.
 */
typedef struct ag_adam_opts {
    double lr;           /*!< learning rate; 0 means 1e-3 */
    double beta1;        /*!< first-moment decay; 0 means 0.9 */
    double beta2;        /*!< second-moment decay; 0 means 0.999 */
    double eps;          /*!< denominator guard; 0 means 1e-8 */
    double weight_decay; /*!< L2 coefficient (>= 0) */
    int decoupled;       /*!< nonzero: decoupled weight decay (AdamW) */
} ag_adam_opts;

/**
 * @brief  SGD over the parameters of @p ps (as they are now: parameters
 *         added to the set later are not updated).
 * @param  ps    Parameters; must outlive the optimizer.
 * @param  opts  Settings (copied).
 * @return An optimizer freed with ag_optim_free(); NULL on a bad setting or
 *         out of memory (see ag_last_errmsg()).
 */
AG_API ag_optim *ag_optim_sgd(const ag_paramset *ps, const ag_sgd_opts *opts);

/**
 * @brief  Adam over the parameters of @p ps.
 * @param  ps    Parameters; must outlive the optimizer.
 * @param  opts  Settings (copied); NULL for the defaults.
 * @return An optimizer freed with ag_optim_free(); NULL on a bad setting or
 *         out of memory (see ag_last_errmsg()).
 */
AG_API ag_optim *ag_optim_adam(const ag_paramset *ps, const ag_adam_opts *opts);

/**
 * @brief  One update of every parameter from its current gradient.
 * @return AG_OK, or AG_EINVAL for a NULL optimizer.
 */
AG_API int ag_optim_step(ag_optim *o);

/** @brief Zero the gradients of the optimizer's parameters. NULL is harmless. */
AG_API void ag_optim_zero_grad(ag_optim *o);

/** @brief Change the learning rate (for schedules). */
AG_API void ag_optim_set_lr(ag_optim *o, double lr);

/** @brief Current learning rate. @return It, or 0 for NULL. */
AG_API double ag_optim_lr(const ag_optim *o);

/** @brief Number of steps taken so far. @return The count. */
AG_API uint64_t ag_optim_steps(const ag_optim *o);

/** @brief Free an optimizer and its state. NULL is harmless. */
AG_API void ag_optim_free(ag_optim *o);

/**
 * @brief  Gradient-norm clipping (torch.nn.utils.clip_grad_norm_): with
 *         n the L2 norm of all the gradients of @p ps taken together, if
 *         n > max_norm every gradient is scaled by max_norm / n.
 * @param  ps        Parameters.
 * @param  max_norm  Largest allowed norm (> 0).
 * @return The norm n before clipping (a NaN or infinity is returned as is and
 *         the gradients are then left alone).
 */
AG_API double ag_clip_grad_norm(const ag_paramset *ps, double max_norm);

/**
 * @brief Early stopping (opaque): watches a validation metric, keeps a copy
 *        of the parameters at the best value, and can restore them.
 */
typedef struct ag_early_stop ag_early_stop;

/**
 * @brief  New watcher of the parameters of @p ps. The snapshot buffer is
 *         allocated here, once.
 * @param  ps           Parameters; must outlive the watcher.
 * @param  patience     Epochs in a row without improvement tolerated (>= 0); one more stops.
 * @param  min_delta    An improvement must exceed this (>= 0).
 * @param  higher_better Nonzero for a metric to maximise (accuracy), zero
 *                       for one to minimise (loss).
 * @return A watcher freed with ag_early_stop_free(); NULL on error (see
 *         ag_last_errmsg()).
 */
AG_API ag_early_stop *ag_early_stop_new(const ag_paramset *ps, int patience, double min_delta,
                                        int higher_better);

/**
 * @brief  Report the metric of the epoch just finished. If it improves on the
 *         best by more than min_delta, it becomes the best and the parameters
 *         are copied; otherwise the count of bad epochs grows.
 * @return 1 when training should stop (more than @p patience bad epochs in a
 *         row), 0 to go on.
 */
AG_API int ag_early_stop_update(ag_early_stop *e, double metric);

/** @brief Nonzero if the last ag_early_stop_update() was an improvement. @return The flag. */
AG_API int ag_early_stop_improved(const ag_early_stop *e);

/** @brief Best metric seen (NaN before the first update). @return The value. */
AG_API double ag_early_stop_best(const ag_early_stop *e);

/** @brief Update number (0-based) that gave the best metric, -1 if none. @return The index. */
AG_API long ag_early_stop_best_epoch(const ag_early_stop *e);

/**
 * @brief  Copy the best snapshot back into the parameters.
 * @return AG_OK; AG_ESTATE if no snapshot was taken yet (parameters unchanged).
 */
AG_API int ag_early_stop_restore(ag_early_stop *e);

/** @brief Free a watcher. NULL is harmless. */
AG_API void ag_early_stop_free(ag_early_stop *e);

#ifdef __cplusplus
}
#endif
#endif
