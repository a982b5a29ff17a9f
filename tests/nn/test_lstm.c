#include "recurrent_common.h"

RECURRENT_SUITE(lstm, AG_RNN_LSTM)
