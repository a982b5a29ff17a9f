/* Helpers of the convolution and pooling layers (internal). */
#ifndef AGRAD_NN_CONVUTIL_H
#define AGRAD_NN_CONVUTIL_H

#include "nnutil.h"

/* A tensor's shape as "[2,3,8,8]", in a struct so it can be passed by value. */
typedef struct conv_shape {
    char s[96];
} conv_shape;

static inline conv_shape conv_shape_of(const ag_tensor *x)
{
    conv_shape r;
    ag_shape_str(ag_shape(x), ag_ndim(x), r.s, sizeof r.s);
    return r;
}

#endif
