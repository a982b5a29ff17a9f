/* A deep multilayer perceptron on Fashion-MNIST.
 *
 * 70 000 grey 28x28 images of clothes in 10 classes (T-shirt, trouser,
 * pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot): 60 000 to
 * train on, 10 000 to test. Each image is flattened to 784 numbers and fed
 * through 1, 2 or 4 hidden layers:
 *
 *     h1 = relu(W1 x + b1), dropout;  ...;  logits = Wout h + bout
 *     loss = softmax cross-entropy(logits, label), mean over the mini-batch
 *
 * trained with Adam (or SGD with momentum) on shuffled mini-batches, the
 * learning rate annealed along a cosine over the run (over the epochs, or over
 * the time limit on a busy machine, whichever runs out first). A tenth of the
 * training set is held out for validation; early stopping keeps the weights
 * of the best validation epoch and stops when it has not improved for a few
 * epochs. The best model can be saved, and loaded again to be evaluated.
 *
 * Needs the data set (Debian package dataset-fashion-mnist, in
 * /usr/share/datasets/fashion-mnist/) or a directory with the four IDX files.
 *
 *   ./build/examples/mlp_fashion                       # 2 hidden layers, Adam
 *   ./build/examples/mlp_fashion --hidden 4 --csv curve.csv --save best.agp
 *   ./build/examples/mlp_fashion --hidden 4 --load best.agp
 *   ./build/examples/mlp_fashion --help
 *
 * The last line printed is "test accuracy: 0.XXXX". The command line, data
 * handling and training loop are shared with cnn_fashion (fashion.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agrad.h"
#include "fashion.h"

#define MAX_HIDDEN 4

/* Hidden widths for 1, 2 and 4 hidden layers. */
static const size_t WIDTHS[5][MAX_HIDDEN] = {
    [1] = {256}, [2] = {256, 128}, [4] = {256, 128, 100, 64}};

typedef struct model {
    int hidden;                  /* hidden layers: 1, 2 or 4 */
    int n;                       /* dense layers made: hidden + output */
    ag_dense layer[MAX_HIDDEN + 1];
    double dropout;
} model;

static int model_option(void *self, const char *name, const char *value)
{
    model *m = self;
    if (strcmp(name, "--hidden"))
        return 0;
    m->hidden = atoi(value);
    return m->hidden == 1 || m->hidden == 2 || m->hidden == 4 ? 1 : -1;
}

static int model_init(void *self, const fashion_opts *o, ag_paramset *ps)
{
    model *m = self;
    ag_rng r;
    ag_rng_seed(&r, o->seed);
    m->dropout = o->dropout;
    size_t in = 784;
    for (int l = 0; l <= m->hidden; l++) {
        size_t out = l < m->hidden ? WIDTHS[m->hidden][l] : FASHION_CLASSES;
        char name[16];
        snprintf(name, sizeof name, l < m->hidden ? "fc%d" : "out", l + 1);
        if (ag_dense_init(&m->layer[l], in, out, 1, &r) != AG_OK)
            return -1;
        m->n = l + 1;
        /* He initialisation suits the ReLU layers; the output layer keeps
         * PyTorch's default */
        if (l < m->hidden)
            ag_init_he_uniform(m->layer[l].weight, in, &r);
        if (ag_dense_params(&m->layer[l], ps, name) != AG_OK)
            return -1;
        in = out;
    }
    return 0;
}

static void model_describe(void *self, FILE *f)
{
    const model *m = self;
    fprintf(f, "784");
    for (int l = 0; l < m->hidden; l++) fprintf(f, "-%zu", WIDTHS[m->hidden][l]);
    fprintf(f, "-10");
}

/* logits [B, 10] of a batch x [B, 784] */
static ag_tensor *model_forward(ag_tape *t, void *self, ag_real *xb, size_t n, int training)
{
    const model *m = self;
    ag_tensor *h = ag_tensor_wrap(t, xb, AG_SHAPE(n, 784));
    for (int l = 0; l < m->n - 1; l++)
        h = ag_dropout(t, ag_relu(t, ag_dense_forward(t, &m->layer[l], h)), m->dropout, training);
    return ag_dense_forward(t, &m->layer[m->n - 1], h);
}

static void model_fini(void *self)
{
    model *m = self;
    for (int l = 0; l < m->n; l++) ag_dense_fini(&m->layer[l]);
}

int main(int argc, char **argv)
{
    model net = {.hidden = 2};
    fashion_model m = {
        .prog = "mlp_fashion",
        .usage = "  --hidden N         hidden layers: 1 (256), 2 (256-128) or 4 (256-128-100-64); "
                 "default 2\n",
        .self = &net, .option = model_option, .init = model_init, .describe = model_describe,
        .forward = model_forward, .fini = model_fini};
    fashion_opts defaults = {.data = "/usr/share/datasets/fashion-mnist", .optim = "adam",
                             .schedule = "cosine",
                             .batch = 128, .epochs = 20, .patience = 5, .momentum = 0.9,
                             .dropout = 0.2, .val = 0.1, .time_limit = 160, .seed = 1};
    return fashion_main(argc, argv, &m, defaults);
}
