/**
 * @file gradcheck.h
 * @brief Check analytic gradients against central finite differences.
 */
#ifndef AGRAD_GRADCHECK_H
#define AGRAD_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "agrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Most tensors one ag_gradcheck() call reports on separately. */
#define AG_GRADCHECK_MAX_WRT 16
/** @brief Most worst entries kept in a report. */
#define AG_GRADCHECK_WORST 8

/**
 * @brief The function under test: build a scalar on @p t from the tensors
 *        being checked (and anything in @p ctx) and return it.
 */
typedef ag_tensor *(*ag_gradcheck_fn)(ag_tape *t, void *ctx);

/** @brief Options; zero-initialise, or start from ag_gradcheck_defaults(). */
typedef struct ag_gradcheck_opts {
    double eps;       /*!< step: h = eps * max(1, |x|); 0 picks the precision's default */
    double rtol;      /*!< relative tolerance; 0 picks the default */
    double atol;      /*!< absolute tolerance; 0 picks the default */
    int fast;         /*!< nonzero: compare n_proj random projections per tensor, not every element */
    int n_proj;       /*!< projections per tensor in fast mode; 0 means 8 */
    uint64_t seed;    /*!< seed of the tape's random stream, same for every evaluation */
    int no_twice;     /*!< nonzero: skip the backward-twice consistency check */
} ag_gradcheck_opts;

/** @brief One compared entry. */
typedef struct ag_gradcheck_entry {
    int tensor;       /*!< position in the @p wrt array */
    size_t index;     /*!< flat element index (projection number in fast mode) */
    double analytic;  /*!< from the tape */
    double numeric;   /*!< central difference */
    double abs_err;   /*!< |analytic - numeric| */
    double rel_err;   /*!< abs_err / max(|analytic|, |numeric|, tiny) */
} ag_gradcheck_entry;

/** @brief Per-tensor summary. */
typedef struct ag_gradcheck_tensor {
    int pass;          /*!< 1 if no entry of this tensor failed */
    size_t checked;    /*!< entries compared */
    size_t failed;     /*!< entries beyond tolerance */
    size_t skipped;    /*!< entries skipped at a kink */
    double max_abs;    /*!< largest abs error seen */
    double max_rel;    /*!< largest rel error seen */
} ag_gradcheck_tensor;

/** @brief Result of a check. */
typedef struct ag_gradcheck_report {
    int pass;               /*!< 1 if everything passed */
    int status;             /*!< AG_OK, or the error that stopped the check */
    char errmsg[256];       /*!< message of that error */
    double eps;             /*!< step setting used */
    double rtol;            /*!< relative tolerance used */
    double atol;            /*!< absolute tolerance used */
    int n_wrt;              /*!< number of tensors checked */
    size_t checked;         /*!< total entries compared */
    size_t failed;          /*!< total entries beyond tolerance */
    size_t skipped;         /*!< total entries skipped at kinks */
    int twice_ok;           /*!< 1 if a second backward gave the same gradients */
    ag_gradcheck_tensor tensors[AG_GRADCHECK_MAX_WRT]; /*!< per tensor */
    int n_worst;            /*!< entries in @ref worst */
    ag_gradcheck_entry worst[AG_GRADCHECK_WORST]; /*!< worst entries by error over tolerance */
} ag_gradcheck_report;

/**
 * @brief  Defaults for this build's precision: float: eps 1e-3, rtol 1e-2,
 *         atol 1e-3; double: eps 1e-6, rtol 1e-6, atol 1e-8.
 * @return The options, by value.
 */
AG_API ag_gradcheck_opts ag_gradcheck_defaults(void);

/**
 * @brief  Compare the tape's gradient of fn with central differences.
 *
 * Builds fn on a fresh tape, runs backward, then for each element x_i of each
 * tensor in @p wrt computes (f(x + h e_i) - f(x - h e_i)) / 2h and compares it,
 * signed, with the analytic value: an entry fails when
 * |a - n| > atol + rtol * max(|a|, |n|). Where the one-sided differences
 * disagree with each other far beyond the tolerance (a kink such as relu at 0),
 * the entry is counted as skipped. Every evaluation reseeds the tape's random
 * stream, so random ops draw the same values. The @p wrt tensors are
 * restored to their values on return and their gradients are left as they were.
 * @param  fn      Function under test (must return a one-element tensor).
 * @param  ctx     Passed to @p fn.
 * @param  wrt     @p n parameters (ag_param_new()) to differentiate against.
 * @param  n       1 to #AG_GRADCHECK_MAX_WRT.
 * @param  opts    NULL for ag_gradcheck_defaults().
 * @param  report  Filled in; may be NULL.
 * @return 1 if the check passed, 0 if not (or on error; see report->status).
 */
AG_API int ag_gradcheck(ag_gradcheck_fn fn, void *ctx, ag_tensor *const *wrt, int n,
                        const ag_gradcheck_opts *opts, ag_gradcheck_report *report);

/** @brief Print a report, human-readable, to @p f. */
AG_API void ag_gradcheck_fprint(FILE *f, const ag_gradcheck_report *r);

#ifdef __cplusplus
}
#endif
#endif
