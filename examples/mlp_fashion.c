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
 * trained with Adam (or SGD with momentum) on shuffled mini-batches. A tenth
 * of the training set is held out for validation; early stopping keeps the
 * weights of the best validation epoch, halves the learning rate when the
 * validation accuracy stalls, and stops when it has not improved for a few
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
 * The last line printed is "test accuracy: 0.XXXX".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agrad.h"

#define CLASSES 10
#define MAX_HIDDEN 4
/* mean and deviation of the 47 million training pixels, scaled to [0, 1] */
#define PIXEL_MEAN 0.2860
#define PIXEL_SD 0.3530

typedef struct options {
    const char *data, *optim, *csv, *save, *load;
    int hidden, batch, epochs, patience, skip_if_missing;
    double lr, momentum, weight_decay, dropout, val, time_limit, min_accuracy;
    long limit, test_limit;
    unsigned long long seed;
} options;

/* Hidden widths for 1, 2 and 4 hidden layers. */
static const size_t WIDTHS[5][MAX_HIDDEN] = {
    [1] = {256}, [2] = {256, 128}, [4] = {256, 128, 100, 64}};

typedef struct model {
    int n;                       /* dense layers: hidden + output */
    ag_dense layer[MAX_HIDDEN + 1];
    double dropout;
    ag_paramset *params;
} model;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mlp_fashion [options]\n"
            "  --data DIR         directory of the IDX files (default /usr/share/datasets/fashion-mnist)\n"
            "  --hidden N         hidden layers: 1 (256), 2 (256-128) or 4 (256-128-100-64); default 2\n"
            "  --optim adam|sgd   optimizer (default adam; sgd uses momentum)\n"
            "  --lr X             learning rate (default 1e-3 for adam, 0.05 for sgd)\n"
            "  --momentum X       SGD momentum (default 0.9)\n"
            "  --weight-decay X   L2 weight decay (default 0)\n"
            "  --dropout X        dropout after each hidden layer (default 0.2)\n"
            "  --batch N          mini-batch size (default 128)\n"
            "  --epochs N         at most N epochs (default 40)\n"
            "  --patience N       early stopping patience in epochs (default 4)\n"
            "  --val X            validation fraction of the training set (default 0.1)\n"
            "  --time-limit S     stop training after S seconds (default 160)\n"
            "  --seed N           random seed (default 1)\n"
            "  --limit N          use only the first N training images (quick runs)\n"
            "  --test-limit N     evaluate on the first N test images only (quick runs)\n"
            "  --csv FILE         write the learning curve (epoch,train_loss,val_accuracy,lr,seconds)\n"
            "  --save FILE        save the best model\n"
            "  --load FILE        evaluate a saved model on the test set, no training\n"
            "  --min-accuracy X   exit with status 1 if the test accuracy is below X\n"
            "  --skip-if-missing  exit with status 77 (skipped) if the data set is absent\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.data = "/usr/share/datasets/fashion-mnist", .optim = "adam", .hidden = 2,
                   .batch = 128, .epochs = 40, .patience = 4, .lr = 0, .momentum = 0.9,
                   .dropout = 0.2, .val = 0.1, .time_limit = 160, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--skip-if-missing")) {
            o->skip_if_missing = 1;
            takes = 0;
        } else if (!v) {
            fprintf(stderr, "mlp_fashion: %s needs a value (or is unknown)\n", a);
            return -1;
        } else if (!strcmp(a, "--data")) o->data = v;
        else if (!strcmp(a, "--optim")) o->optim = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--save")) o->save = v;
        else if (!strcmp(a, "--load")) o->load = v;
        else if (!strcmp(a, "--hidden")) o->hidden = atoi(v);
        else if (!strcmp(a, "--batch")) o->batch = atoi(v);
        else if (!strcmp(a, "--epochs")) o->epochs = atoi(v);
        else if (!strcmp(a, "--patience")) o->patience = atoi(v);
        else if (!strcmp(a, "--lr")) o->lr = atof(v);
        else if (!strcmp(a, "--momentum")) o->momentum = atof(v);
        else if (!strcmp(a, "--weight-decay")) o->weight_decay = atof(v);
        else if (!strcmp(a, "--dropout")) o->dropout = atof(v);
        else if (!strcmp(a, "--val")) o->val = atof(v);
        else if (!strcmp(a, "--time-limit")) o->time_limit = atof(v);
        else if (!strcmp(a, "--min-accuracy")) o->min_accuracy = atof(v);
        else if (!strcmp(a, "--limit")) o->limit = atol(v);
        else if (!strcmp(a, "--test-limit")) o->test_limit = atol(v);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "mlp_fashion: unknown option %s (see --help)\n", a);
            return -1;
        }
        i += takes;
    }
    if (o->hidden != 1 && o->hidden != 2 && o->hidden != 4) {
        fprintf(stderr, "mlp_fashion: --hidden must be 1, 2 or 4\n");
        return -1;
    }
    if (strcmp(o->optim, "adam") && strcmp(o->optim, "sgd")) {
        fprintf(stderr, "mlp_fashion: --optim must be adam or sgd\n");
        return -1;
    }
    if (o->batch < 1 || o->epochs < 1 || o->patience < 0 || !(o->val > 0 && o->val < 1)) {
        fprintf(stderr, "mlp_fashion: bad --batch, --epochs, --patience or --val\n");
        return -1;
    }
    if (o->lr == 0)
        o->lr = strcmp(o->optim, "adam") ? 0.05 : 1e-3;
    return 0;
}

/* Read images and labels (IDX) into a data set with pixels in [0, 1]. */
static int load_split(const char *dir, const char *prefix, ag_dataset *d)
{
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    ag_idx im, lb;
    if (ag_idx_read(ip, &im) != AG_OK) {
        fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
        return -1;
    }
    if (ag_idx_read(lp, &lb) != AG_OK) {
        fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
        ag_idx_free(&im);
        return -1;
    }
    int rc = ag_dataset_from_idx(d, &im, &lb, 1.0 / 255);
    if (rc)
        fprintf(stderr, "mlp_fashion: %s: %s\n", ip, ag_last_errmsg());
    ag_idx_free(&im);
    ag_idx_free(&lb);
    return rc ? -1 : 0;
}

static int model_init(model *m, int hidden, double dropout, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    ag_rng r;
    ag_rng_seed(&r, seed);
    m->params = ag_paramset_new();
    m->dropout = dropout;
    size_t in = 784;
    for (int l = 0; l <= hidden; l++) {
        size_t out = l < hidden ? WIDTHS[hidden][l] : CLASSES;
        char name[16];
        snprintf(name, sizeof name, l < hidden ? "fc%d" : "out", l + 1);
        if (!m->params || ag_dense_init(&m->layer[l], in, out, 1, &r) != AG_OK)
            return -1;
        m->n = l + 1;
        /* He initialisation suits the ReLU layers; the output layer keeps
         * PyTorch's default */
        if (l < hidden)
            ag_init_he_uniform(m->layer[l].weight, in, &r);
        if (ag_dense_params(&m->layer[l], m->params, name) != AG_OK)
            return -1;
        in = out;
    }
    return 0;
}

static void model_fini(model *m)
{
    for (int l = 0; l < m->n; l++) ag_dense_fini(&m->layer[l]);
    ag_paramset_free(m->params);
}

/* logits [B, 10] of a batch x [B, 784] */
static ag_tensor *model_forward(ag_tape *t, const model *m, ag_tensor *x, int training)
{
    ag_tensor *h = x;
    for (int l = 0; l < m->n - 1; l++)
        h = ag_dropout(t, ag_relu(t, ag_dense_forward(t, &m->layer[l], h)), m->dropout, training);
    return ag_dense_forward(t, &m->layer[m->n - 1], h);
}

/* Accuracy of the model on a data set, without recording a tape. */
static double evaluate(ag_tape *t, const model *m, const ag_dataset *d)
{
    enum { EB = 1000 };
    double hits = 0;
    int was = ag_tape_set_recording(t, 0);
    for (size_t s = 0; s < d->n; s += EB) {
        size_t n = d->n - s < EB ? d->n - s : EB;
        ag_tape_reset(t);
        ag_tensor *x = ag_tensor_wrap(t, d->x + s * d->dim, AG_SHAPE(n, d->dim));
        ag_tensor *z = model_forward(t, m, x, 0);
        if (ag_tape_status(t) != AG_OK) {
            fprintf(stderr, "mlp_fashion: %s\n", ag_tape_errmsg(t));
            return NAN;
        }
        hits += ag_accuracy(ag_data(z), n, CLASSES, d->y + s) * (double)n;
    }
    ag_tape_set_recording(t, was);
    return hits / (double)d->n;
}

/* Train with early stopping on val; the best weights are in m on return. */
static int train(const options *o, model *m, ag_tape *t, const ag_dataset *tr,
                 const ag_dataset *val)
{
    ag_optim *opt = !strcmp(o->optim, "adam")
        ? ag_optim_adam(m->params, &(ag_adam_opts){.lr = o->lr, .weight_decay = o->weight_decay})
        : ag_optim_sgd(m->params, &(ag_sgd_opts){.lr = o->lr, .momentum = o->momentum,
                                                 .weight_decay = o->weight_decay});
    ag_early_stop *es = ag_early_stop_new(m->params, o->patience, 1e-4, 1);
    ag_batcher *bt = ag_batcher_new(tr->n, (size_t)o->batch, 1, o->seed + 1);
    ag_real *xb = malloc((size_t)o->batch * tr->dim * sizeof *xb);
    int32_t *yb = malloc((size_t)o->batch * sizeof *yb);
    FILE *csv = o->csv ? fopen(o->csv, "w") : NULL;
    int rc = 0;
    if (!opt || !es || !bt || !xb || !yb) {
        fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
        rc = -1;
        goto out;
    }
    if (o->csv && !csv) {
        fprintf(stderr, "mlp_fashion: cannot write %s\n", o->csv);
        rc = -1;
        goto out;
    }
    if (csv)
        fprintf(csv, "epoch,train_loss,val_accuracy,lr,seconds\n");
    ag_tape_seed(t, o->seed + 2);
    double t0 = now();
    int since_best = 0;
    for (int epoch = 1; epoch <= o->epochs; epoch++) {
        double te = now(), loss_sum = 0;
        size_t n, seen = 0;
        const size_t *idx;
        while ((n = ag_batcher_next(bt, &idx)) > 0) {
            ag_dataset_gather(tr, idx, n, xb, yb);
            ag_tape_reset(t);
            ag_tensor *x = ag_tensor_wrap(t, xb, AG_SHAPE(n, tr->dim));
            ag_tensor *loss = ag_softmax_cross_entropy(t, model_forward(t, m, x, 1), yb);
            ag_optim_zero_grad(opt);
            if (ag_backward(t, loss) != AG_OK) {
                fprintf(stderr, "mlp_fashion: %s\n", ag_tape_errmsg(t));
                rc = -1;
                goto out;
            }
            ag_optim_step(opt);
            loss_sum += ag_data(loss)[0] * (double)n;
            seen += n;
        }
        double acc = evaluate(t, m, val);
        int stop = ag_early_stop_update(es, acc);
        double secs = now() - te;
        printf("epoch %2d  train loss %.4f  val accuracy %.4f  lr %.2g  %5.1f s%s\n", epoch,
               loss_sum / (double)seen, acc, ag_optim_lr(opt), secs,
               ag_early_stop_improved(es) ? "  *" : "");
        fflush(stdout);
        if (csv)
            fprintf(csv, "%d,%.6f,%.6f,%g,%.3f\n", epoch, loss_sum / (double)seen, acc,
                    ag_optim_lr(opt), secs);
        /* a stall of two epochs: go back to the best weights, halve the rate */
        since_best = ag_early_stop_improved(es) ? 0 : since_best + 1;
        if (since_best == 2 && !stop) {
            ag_early_stop_restore(es);
            ag_optim_set_lr(opt, ag_optim_lr(opt) / 2);
            since_best = 0;
        }
        if (stop) {
            printf("early stop: no improvement for %d epochs\n", o->patience + 1);
            break;
        }
        double per_epoch = (now() - t0) / epoch;
        if (now() - t0 + per_epoch > o->time_limit) {
            printf("time limit: stopping after %d epochs (%.0f s)\n", epoch, now() - t0);
            break;
        }
    }
    ag_early_stop_restore(es);
    printf("best validation accuracy %.4f (epoch %ld), training took %.1f s\n",
           ag_early_stop_best(es), ag_early_stop_best_epoch(es) + 1, now() - t0);
out:
    if (csv)
        fclose(csv);
    free(xb);
    free(yb);
    ag_batcher_free(bt);
    ag_early_stop_free(es);
    ag_optim_free(opt);
    return rc;
}

/* Standardise pixels with the training set's mean and deviation. */
static void standardise(ag_dataset *d, double mean, double sd)
{
    for (size_t i = 0; i < d->n * d->dim; i++) d->x[i] = (ag_real)((d->x[i] - mean) / sd);
}

static int data_present(const char *dir)
{
    const char *names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) {
            printf("skipped: %s not found (install the package dataset-fashion-mnist or give --data DIR)\n", p);
            return 0;
        }
        fclose(f);
    }
    return 1;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o))
        return 2;
    if (o.skip_if_missing && !data_present(o.data))
        return 77;
    double t0 = now();
    ag_dataset full = {0}, test = {0}, tr = {0}, val = {0};
    model m;
    memset(&m, 0, sizeof m);
    ag_tape *t = ag_tape_new();
    int status = 1;
    if (!t || (!o.load && load_split(o.data, "train", &full)) ||
        load_split(o.data, "t10k", &test))
        goto done;
    /* pixels standardised with the training set's mean and deviation (fixed
     * constants, so a saved model sees the same inputs when loaded) */
    standardise(&full, PIXEL_MEAN, PIXEL_SD);
    standardise(&test, PIXEL_MEAN, PIXEL_SD);
    if (!o.load) {
        ag_dataset use = full; /* a prefix of the training set with --limit */
        if (o.limit > 0 && (size_t)o.limit < full.n)
            use.n = (size_t)o.limit;
        if (ag_dataset_split(&use, o.val, o.seed, &tr, &val) != AG_OK) {
            fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
            goto done;
        }
    }
    printf("Fashion-MNIST: %zu training, %zu validation, %zu test images (loaded in %.1f s)\n",
           tr.n, val.n, test.n, now() - t0);
    if (model_init(&m, o.hidden, o.dropout, o.seed)) {
        fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
        goto done;
    }
    printf("model: 784");
    for (int l = 0; l < o.hidden; l++) printf("-%zu", WIDTHS[o.hidden][l]);
    printf("-10, %zu parameters; ", ag_paramset_numel(m.params));
    if (o.load) {
        printf("loading %s\n", o.load);
        if (ag_load(o.load, m.params) != AG_OK) {
            fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
            goto done;
        }
    } else {
        printf("%s, lr %g, batch %d, dropout %g\n", o.optim, o.lr, o.batch, o.dropout);
        if (train(&o, &m, t, &tr, &val))
            goto done;
        if (o.save) {
            if (ag_save(o.save, m.params) != AG_OK) {
                fprintf(stderr, "mlp_fashion: %s\n", ag_last_errmsg());
                goto done;
            }
            printf("saved the best model to %s\n", o.save);
        }
    }
    ag_dataset test_use = test;
    if (o.test_limit > 0 && (size_t)o.test_limit < test.n)
        test_use.n = (size_t)o.test_limit;
    double acc = evaluate(t, &m, &test_use);
    printf("total time %.1f s\n", now() - t0);
    printf("test accuracy: %.4f\n", acc);
    status = acc >= o.min_accuracy ? 0 : 1;
    if (status)
        fprintf(stderr, "mlp_fashion: test accuracy %.4f is below --min-accuracy %.4f\n", acc,
                o.min_accuracy);
done:
    model_fini(&m);
    ag_dataset_free(&full);
    ag_dataset_free(&test);
    ag_dataset_free(&tr);
    ag_dataset_free(&val);
    ag_tape_free(t);
    return status;
}
