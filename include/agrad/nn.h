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
 *         does: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)].
 *
 * The parameters are named "<name>.weight_ih_l0", "<name>.bias_hh_l1"...
 * (PyTorch's state_dict keys), or without the prefix if @p name is NULL or "".
 * @param  r            Filled in; release with ag_rnn_fini().
 * @param  mode         Cell kind.
 * @param  input_size   Features per time step, >= 1.
 * @param  hidden_size  H, >= 1.
 * @param  num_layers   1 to #AG_RNN_MAX_LAYERS.
 * @param  name         Prefix of the parameter names; may be NULL.
 * @param  rng          Random stream for the initial values.
 * @return AG_OK, or AG_EINVAL / AG_ENOMEM (message in ag_last_errmsg()); on
 *         error nothing is left allocated.
 */
AG_API int ag_rnn_init(ag_rnn *r, ag_rnn_mode mode, size_t input_size, size_t hidden_size,
                       int num_layers, const char *name, ag_rng *rng);

/** @brief Free the parameters of @p r (which the caller owns). NULL is harmless. */
AG_API void ag_rnn_fini(ag_rnn *r);

/**
 * @brief  The parameters of @p r, layer by layer in the order w_ih, w_hh,
 *         b_ih, b_hh (for optimisers, save and load).
 * @param  out  Receives up to @p max pointers (owned by @p r); may be NULL to count.
 * @return The number of parameters, 4 * num_layers (may exceed @p max).
 */
AG_API int ag_rnn_params(const ag_rnn *r, ag_tensor **out, int max);

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
