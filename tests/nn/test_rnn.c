#include "recurrent_common.h"

RECURRENT_SUITE(rnn, AG_RNN_TANH)
RECURRENT_SUITE(rnn_relu, AG_RNN_RELU)
