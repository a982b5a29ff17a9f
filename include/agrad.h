/**
 * @file agrad.h
 * @brief libagrad: reverse-mode automatic differentiation over dense tensors.
 *
 * @mainpage libagrad
 *
 * A program records what it computes on a tape (ag_tape); ag_backward() walks
 * the tape in reverse and accumulates gradients into the parameters.
 *
 * @code
 * ag_tensor *w = ag_param_new(AG_SHAPE(1, 1)), *b = ag_param_new(AG_SHAPE(1));
 * ag_tape *t = ag_tape_new();
 * for (int step = 0; step < 100; step++) {
 *     ag_tape_reset(t);
 *     ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(n, 1));
 *     ag_tensor *y = ag_tensor_wrap(t, ys, AG_SHAPE(n, 1));
 *     ag_tensor *pred = ag_add(t, ag_matmul_t(t, x, w, 0, 1), b);
 *     ag_tensor *loss = ag_mean_all(t, ag_pow_scalar(t, ag_sub(t, pred, y), 2));
 *     ag_param_zero_grad(w); ag_param_zero_grad(b);
 *     if (ag_backward(t, loss) != AG_OK) { puts(ag_tape_errmsg(t)); break; }
 *     ... update ag_data(w) with ag_grad(w) ...
 * }
 * @endcode
 *
 * Modules: status.h (errors, allocator), tensor.h (tensors and lifetimes),
 * tape.h (recording and backward), ops.h (primitives), op.h (defining new
 * ops), gradcheck.h (finite-difference checks), threads.h (the thread pool).
 *
 * The @ref guides lead from a first model to new layers, new primitive ops
 * and gradient tests; every code block in them is a program the test suite
 * runs.
 */
#ifndef AGRAD_H
#define AGRAD_H

#include "agrad/config.h"
#include "agrad/status.h"
#include "agrad/tensor.h"
#include "agrad/tape.h"
#include "agrad/ops.h"
#include "agrad/op.h"
#include "agrad/gradcheck.h"
#include "agrad/threads.h"
#include "agrad/nn.h"
#include "agrad/optim.h"
#include "agrad/io.h"
#include "agrad/data.h"

#endif
