#include "recurrent_common.h"

RECURRENT_SUITE(gru, AG_RNN_GRU)
