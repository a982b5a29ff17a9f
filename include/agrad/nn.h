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

/* ---- end section ---- */

/* ---- section: losses ---- */

/* ---- end section ---- */

/* ---- section: convolution and pooling ---- */

/* ---- end section ---- */

/* ---- section: recurrent layers ---- */

/* ---- end section ---- */

#ifdef __cplusplus
}
#endif
#endif
