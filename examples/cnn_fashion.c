/* A convolutional network on Fashion-MNIST.
 *
 * 70 000 grey 28x28 images of clothes in 10 classes (T-shirt, trouser,
 * pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot): 60 000 to
 * train on, 10 000 to test. Unlike a perceptron, which sees 784 unrelated
 * numbers, the network keeps the image as an image: each convolution slides
 * small 3x3 filters over it, so a pattern (an edge, a collar, a heel) is
 * recognised wherever it appears, with few weights; each max pooling halves
 * the resolution, keeping the strongest response of each 2x2 region.
 *
 *   x [B, 1, 28, 28]
 *   conv 3x3, 32 filters, padding 1 -> max pool 2x2 -> relu   [B, 32, 14, 14]
 *   conv 3x3, 64 filters, padding 1 -> max pool 2x2 -> relu   [B, 64, 7, 7]
 *   flatten -> dropout -> dense 3136 -> 128 -> relu -> dropout -> dense 128 -> 10
 *   loss = softmax cross-entropy(logits, label), mean over the mini-batch
 *
 * trained with Adam on shuffled mini-batches, the learning rate annealed along
 * a cosine over the run (over the epochs, or over the time limit on a busy
 * machine, whichever runs out first). A tenth of the training set is held out
 * for validation; early stopping keeps the weights of the best validation
 * epoch and stops when it has not improved for a few epochs. The best
 * model can be saved, and loaded again to be evaluated. The command line,
 * data handling and training loop are shared with mlp_fashion (fashion.h).
 *
 * Needs the data set (Debian package dataset-fashion-mnist, in
 * /usr/share/datasets/fashion-mnist/) or a directory with the four IDX files.
 *
 *   ./build/examples/cnn_fashion                         # defaults: >= 0.916
 *   ./build/examples/cnn_fashion --csv curve.csv --save best.agp
 *   ./build/examples/cnn_fashion --load best.agp
 *   ./build/examples/cnn_fashion --help
 *
 * The last line printed is "test accuracy: 0.XXXX".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agrad.h"
#include "fashion.h"

#define SIDE 28

typedef struct model {
    size_t c1, c2, hidden; /* filters of the convolutions, width of the dense layer */
    ag_conv2d conv1, conv2;
    ag_dense fc, out;
    double dropout;
} model;

static int model_option(void *self, const char *name, const char *value)
{
    model *m = self;
    if (!strcmp(name, "--channels")) {
        unsigned long a, b;
        if (sscanf(value, "%lu,%lu", &a, &b) != 2 || !a || !b)
            return -1;
        m->c1 = a, m->c2 = b;
        return 1;
    }
    if (!strcmp(name, "--hidden")) {
        long h = atol(value);
        m->hidden = h > 0 ? (size_t)h : 0;
        return h > 0 ? 1 : -1;
    }
    return 0;
}

static int model_init(void *self, const fashion_opts *o, ag_paramset *ps)
{
    model *m = self;
    ag_rng r;
    ag_rng_seed(&r, o->seed);
    m->dropout = o->dropout;
    size_t flat = m->c2 * (SIDE / 4) * (SIDE / 4);
    if (ag_conv2d_init(&m->conv1, 1, m->c1, 3, 3, 1, 1, 1, &r) ||
        ag_conv2d_init(&m->conv2, m->c1, m->c2, 3, 3, 1, 1, 1, &r) ||
        ag_dense_init(&m->fc, flat, m->hidden, 1, &r) ||
        ag_dense_init(&m->out, m->hidden, FASHION_CLASSES, 1, &r))
        return -1;
    /* He initialisation suits the layers followed by a ReLU; the output
     * layer keeps PyTorch's default */
    ag_init_he_uniform(m->conv1.weight, 9, &r);
    ag_init_he_uniform(m->conv2.weight, m->c1 * 9, &r);
    ag_init_he_uniform(m->fc.weight, flat, &r);
    if (ag_conv2d_params(&m->conv1, ps, "conv1") || ag_conv2d_params(&m->conv2, ps, "conv2") ||
        ag_dense_params(&m->fc, ps, "fc") || ag_dense_params(&m->out, ps, "out"))
        return -1;
    return 0;
}

static void model_describe(void *self, FILE *f)
{
    const model *m = self;
    fprintf(f, "conv3x3(%zu)-pool-conv3x3(%zu)-pool-%zu-10", m->c1, m->c2, m->hidden);
}

/* logits [B, 10] of a batch of images [B, 784] */
static ag_tensor *model_forward(ag_tape *t, void *self, ag_real *xb, size_t n, int training)
{
    const model *m = self;
    ag_tensor *x = ag_tensor_wrap(t, xb, AG_SHAPE(n, 1, SIDE, SIDE));
    /* relu is monotone, so relu(maxpool(z)) = maxpool(relu(z)); pooling
     * first leaves the relu a quarter of the values */
    ag_tensor *h = ag_relu(t, ag_maxpool2d(t, ag_conv2d_forward(t, &m->conv1, x), 2, 2, 0));
    h = ag_relu(t, ag_maxpool2d(t, ag_conv2d_forward(t, &m->conv2, h), 2, 2, 0));
    h = ag_dropout(t, ag_flatten(t, h), m->dropout, training);
    h = ag_dropout(t, ag_relu(t, ag_dense_forward(t, &m->fc, h)), m->dropout, training);
    return ag_dense_forward(t, &m->out, h);
}

static void model_fini(void *self)
{
    model *m = self;
    ag_conv2d_fini(&m->conv1);
    ag_conv2d_fini(&m->conv2);
    ag_dense_fini(&m->fc);
    ag_dense_fini(&m->out);
}

int main(int argc, char **argv)
{
    model net = {.c1 = 32, .c2 = 64, .hidden = 128};
    fashion_model m = {
        .prog = "cnn_fashion",
        .usage = "  --channels C1,C2   filters of the two convolutions (default 32,64)\n"
                 "  --hidden N         width of the dense layer (default 128)\n",
        .self = &net, .option = model_option, .init = model_init, .describe = model_describe,
        .forward = model_forward, .fini = model_fini};
    fashion_opts defaults = {.data = "/usr/share/datasets/fashion-mnist", .optim = "adam",
                             .schedule = "cosine",
                             .batch = 64, .epochs = 15, .patience = 3, .momentum = 0.9,
                             .dropout = 0.3, .val = 0.1, .time_limit = 480, .seed = 1};
    return fashion_main(argc, argv, &m, defaults);
}
