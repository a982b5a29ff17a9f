/**
 * @file tape.h
 * @brief The tape: records ops, owns intermediates, runs backward.
 */
#ifndef AGRAD_TAPE_H
#define AGRAD_TAPE_H

#include <stdint.h>
#include <stdio.h>
#include "agrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief  New empty tape, recording, with status AG_OK.
 * @return A tape the caller frees with ag_tape_free(); NULL if out of memory.
 */
AG_API ag_tape *ag_tape_new(void);

/** @brief Free a tape and every tensor it owns. NULL is harmless. */
AG_API void ag_tape_free(ag_tape *t);

/**
 * @brief Forget every recorded op and free (for reuse) every tensor the tape owns.
 *
 * Clears the status too. The arena keeps its memory: once a step's working
 * set has been seen, later steps of the same size make no system allocation.
 * Tensors obtained from @p t before the reset must not be used after it.
 */
AG_API void ag_tape_reset(ag_tape *t);

/**
 * @brief  Turn recording on or off. With recording off (inference mode), ops
 *         compute their outputs and record nothing: ag_backward() then fails.
 * @param  t   A tape.
 * @param  on  1 to record (the default), 0 for inference.
 * @return The previous setting.
 */
AG_API int ag_tape_set_recording(ag_tape *t, int on);

/**
 * @brief  Anomaly mode: check every op's output in forward and every gradient
 *         it produces in backward for NaN and infinity. The first op that
 *         produces one fails the tape with AG_ENAN and a message naming the op,
 *         its node index, the direction and the shapes. Costs one pass over
 *         each output; meant for hunting, not for production runs. Also turned
 *         on for new tapes by the environment variable AGRAD_ANOMALY=1.
 * @param  t   A tape.
 * @param  on  1 to check, 0 not to.
 * @return The previous setting.
 */
AG_API int ag_tape_set_anomaly(ag_tape *t, int on);

/**
 * @brief  Profiling: time every op's forward and VJP (wall clock, all
 *         threads of the op included) and add them up per op kind, across
 *         resets, until profiling is turned off (which drops the figures).
 *         Costs two clock reads per op. Also turned on for new tapes by the
 *         environment variable AGRAD_PROFILE=1, in which case the report is
 *         printed to stderr when the tape is freed.
 * @param  t   A tape.
 * @param  on  1 to time, 0 not to.
 * @return The previous setting (on failure to allocate the table, the
 *         setting stays off and ag_last_errmsg() says why).
 */
AG_API int ag_tape_set_profile(ag_tape *t, int on);

/**
 * @brief  Print the profile: one line per op kind, slowest first, with its
 *         calls, forward and backward milliseconds and share of the total.
 * @param  t  A tape with profiling on.
 * @param  f  Destination stream.
 * @return AG_OK; AG_ESTATE if profiling is off; AG_EIO if writing failed;
 *         AG_EINVAL for NULL arguments.
 */
AG_API int ag_tape_profile_report(const ag_tape *t, FILE *f);

/**
 * @brief  Write the recorded graph in Graphviz DOT: one box per op with its
 *         name, node index and output shape; parameters as ellipses with
 *         their names; constants as plain notes. Render with `dot -Tsvg`.
 * @param  t  A tape (nothing is written for NULL).
 * @param  f  Destination stream.
 * @return AG_OK, or AG_EIO if writing failed, or AG_EINVAL for NULL arguments.
 */
AG_API int ag_tape_dot(const ag_tape *t, FILE *f);

/** @brief Seed of the tape's random stream (used by random ops such as dropout masks). */
AG_API void ag_tape_seed(ag_tape *t, uint64_t seed);

/** @brief First error recorded on the tape, AG_OK if none (NULL tape: AG_EINVAL). */
AG_API int ag_tape_status(const ag_tape *t);

/**
 * @brief  Message of the first error, e.g.
 *         "ag_matmul (node 17): inner dimensions differ: a[32,784] b[256,10]".
 * @return A string owned by the tape, "" if no error; valid until the next reset.
 */
AG_API const char *ag_tape_errmsg(const ag_tape *t);

/** @brief Number of nodes recorded since the last reset. */
AG_API size_t ag_tape_nodes(const ag_tape *t);

/** @brief Bytes of arena memory the tape holds (its high-water mark so far). */
AG_API size_t ag_tape_arena_bytes(const ag_tape *t);

/**
 * @brief  Reverse-mode sweep from a scalar: d loss / d loss = 1.
 *
 * Gradients of the tape's intermediates are recomputed from zero; gradients
 * of parameters are accumulated (+=), as in PyTorch: zero them between steps.
 * Running it twice on one tape gives the same intermediate gradients and adds
 * the same amounts to the parameters twice.
 * @param  t     The tape that recorded @p loss.
 * @param  loss  A tensor with one element, recorded on @p t.
 * @return AG_OK, or an error code (also recorded on the tape).
 */
AG_API int ag_backward(ag_tape *t, ag_tensor *loss);

/**
 * @brief  Reverse-mode sweep from any output, seeded with @p dy.
 * @param  t   The tape that recorded @p y.
 * @param  y   A tensor recorded on @p t.
 * @param  dy  ag_numel(y) values: the vector in the vector-Jacobian product; copied.
 * @return AG_OK, or an error code (also recorded on the tape).
 */
AG_API int ag_backward_with(ag_tape *t, ag_tensor *y, const ag_real *dy);

#ifdef __cplusplus
}
#endif
#endif
