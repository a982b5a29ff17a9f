/* What the Fashion-MNIST examples (mlp_fashion, cnn_fashion) share: the
 * command line, reading and standardising the data, the training loop with
 * early stopping, evaluation, save and load. Each example supplies its model
 * as a struct of callbacks and keeps only what is its own.
 *
 * The training loop: shuffled mini-batches; after each epoch the accuracy on
 * a held-out tenth of the training set; early stopping keeps the weights of
 * the best validation epoch, halves the learning rate when the validation
 * accuracy stalls for two epochs, and stops when it has not improved for
 * `patience` + 1 epochs (or when the next epoch would pass the time limit).
 * With the cosine schedule the learning rate instead follows
 * lr0 (0.01 + 0.99 (1 + cos(pi p)) / 2) at every step, where the progress p is
 * the larger of the fraction of steps done (of `epochs`) and the fraction of
 * the time limit spent, so the rate is annealed by the end of the run however
 * busy the machine is.
 * The last line printed is "test accuracy: 0.XXXX". */
#ifndef FASHION_H
#define FASHION_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agrad.h"

#define FASHION_CLASSES 10
/* mean and deviation of the training pixels, scaled to [0, 1] */
#define FASHION_PIXEL_MEAN 0.2860
#define FASHION_PIXEL_SD 0.3530

/* Settings common to the examples; each example sets its defaults first. */
typedef struct fashion_opts {
    const char *data, *optim, *csv, *save, *load;
    const char *schedule; /* "plateau" or "cosine" */
    int batch, epochs, patience, threads, skip_if_missing;
    double lr, momentum, weight_decay, dropout, val, time_limit, min_accuracy;
    long limit, test_limit;
    unsigned long long seed;
} fashion_opts;

/* An example's model: its own options, construction and forward pass. */
typedef struct fashion_model {
    const char *prog;  /* program name, for messages */
    const char *usage; /* help lines of the model's own options */
    void *self;        /* the example's model struct */
    /* Its own option `name` with `value`: 1 if taken, 0 if unknown, -1 if bad. */
    int (*option)(void *self, const char *name, const char *value);
    /* Create the parameters (seeded) and add them to ps; 0 or -1. */
    int (*init)(void *self, const fashion_opts *o, ag_paramset *ps);
    /* One line describing the model, without newline. */
    void (*describe)(void *self, FILE *f);
    /* logits [n, 10] of n images, x = n rows of 784 pixels */
    ag_tensor *(*forward)(ag_tape *t, void *self, ag_real *x, size_t n, int training);
    void (*fini)(void *self);
} fashion_model;

static double fashion_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fashion_usage(const fashion_model *m, const fashion_opts *d)
{
    printf("usage: %s [options]\n"
           "  --data DIR         directory of the IDX files (default %s)\n"
           "%s"
           "  --optim adam|sgd   optimizer (default %s; sgd uses momentum)\n"
           "  --lr X             learning rate (default 1e-3 for adam, 0.05 for sgd)\n"
           "  --schedule S       plateau (halve when stalled) or cosine (default %s)\n"
           "  --momentum X       SGD momentum (default %g)\n"
           "  --weight-decay X   L2 weight decay (default %g)\n"
           "  --dropout X        dropout rate (default %g)\n"
           "  --batch N          mini-batch size (default %d)\n"
           "  --epochs N         at most N epochs (default %d)\n"
           "  --patience N       early stopping patience in epochs (default %d)\n"
           "  --val X            validation fraction of the training set (default %g)\n"
           "  --time-limit S     stop training after S seconds (default %g)\n"
           "  --threads N        threads (default: AGRAD_THREADS, else every processor)\n"
           "  --seed N           random seed (default %llu)\n"
           "  --limit N          use only the first N training images (quick runs)\n"
           "  --test-limit N     evaluate on the first N test images only (quick runs)\n"
           "  --csv FILE         write the learning curve (epoch,train_loss,val_accuracy,lr,seconds)\n"
           "  --save FILE        save the best model\n"
           "  --load FILE        evaluate a saved model on the test set, no training\n"
           "  --min-accuracy X   exit with status 1 if the test accuracy is below X\n"
           "  --skip-if-missing  exit with status 77 (skipped) if the data set is absent\n",
           m->prog, d->data, m->usage, d->optim, d->schedule, d->momentum, d->weight_decay, d->dropout,
           d->batch, d->epochs, d->patience, d->val, d->time_limit, d->seed);
}

/* Parse argv into o (which holds the defaults); 0, or -1 after a message. */
static int fashion_parse(int argc, char **argv, fashion_model *m, fashion_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fashion_usage(m, o);
            exit(0);
        } else if (!strcmp(a, "--skip-if-missing")) {
            o->skip_if_missing = 1;
            continue;
        } else if (!v) {
            fprintf(stderr, "%s: %s needs a value (or is unknown)\n", m->prog, a);
            return -1;
        } else if (!strcmp(a, "--data")) o->data = v;
        else if (!strcmp(a, "--optim")) o->optim = v;
        else if (!strcmp(a, "--schedule")) o->schedule = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--save")) o->save = v;
        else if (!strcmp(a, "--load")) o->load = v;
        else if (!strcmp(a, "--batch")) o->batch = atoi(v);
        else if (!strcmp(a, "--epochs")) o->epochs = atoi(v);
        else if (!strcmp(a, "--patience")) o->patience = atoi(v);
        else if (!strcmp(a, "--threads")) o->threads = atoi(v);
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
            int r = m->option(m->self, a, v);
            if (r <= 0) {
                fprintf(stderr, r ? "%s: bad value for %s (see --help)\n"
                                  : "%s: unknown option %s (see --help)\n", m->prog, a);
                return -1;
            }
        }
        i++;
    }
    if (strcmp(o->optim, "adam") && strcmp(o->optim, "sgd")) {
        fprintf(stderr, "%s: --optim must be adam or sgd\n", m->prog);
        return -1;
    }
    if (strcmp(o->schedule, "plateau") && strcmp(o->schedule, "cosine")) {
        fprintf(stderr, "%s: --schedule must be plateau or cosine\n", m->prog);
        return -1;
    }
    if (o->batch < 1 || o->epochs < 1 || o->patience < 0 || !(o->val > 0 && o->val < 1) ||
        !(o->dropout >= 0 && o->dropout < 1)) {
        fprintf(stderr, "%s: bad --batch, --epochs, --patience, --val or --dropout\n", m->prog);
        return -1;
    }
    if (o->lr == 0)
        o->lr = strcmp(o->optim, "adam") ? 0.05 : 1e-3;
    return 0;
}

/* Read images and labels (IDX) into a data set with pixels in [0, 1]. */
static int fashion_load_split(const char *prog, const char *dir, const char *prefix,
                              ag_dataset *d)
{
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    ag_idx im = {0}, lb = {0};
    int rc = ag_idx_read(ip, &im);
    if (rc == AG_OK)
        rc = ag_idx_read(lp, &lb);
    if (rc == AG_OK)
        rc = ag_dataset_from_idx(d, &im, &lb, 1.0 / 255);
    if (rc != AG_OK)
        fprintf(stderr, "%s: %s\n", prog, ag_last_errmsg());
    ag_idx_free(&im);
    ag_idx_free(&lb);
    return rc == AG_OK && d->dim == 784 ? 0 : -1;
}

/* Standardise pixels with the training set's mean and deviation (fixed
 * constants, so a saved model sees the same inputs when loaded). */
static void fashion_standardise(ag_dataset *d)
{
    for (size_t i = 0; i < d->n * d->dim; i++)
        d->x[i] = (ag_real)((d->x[i] - FASHION_PIXEL_MEAN) / FASHION_PIXEL_SD);
}

static int fashion_data_present(const char *dir)
{
    const char *names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "rb");
        if (!f) {
            printf("skipped: %s not found (install the package dataset-fashion-mnist or give "
                   "--data DIR)\n", p);
            return 0;
        }
        fclose(f);
    }
    return 1;
}

/* Accuracy of the model on a data set, without recording a tape. */
static double fashion_evaluate(ag_tape *t, fashion_model *m, const ag_dataset *d)
{
    enum { EB = 500 };
    double hits = 0;
    int was = ag_tape_set_recording(t, 0);
    for (size_t s = 0; s < d->n; s += EB) {
        size_t n = d->n - s < EB ? d->n - s : EB;
        ag_tape_reset(t);
        ag_tensor *z = m->forward(t, m->self, d->x + s * d->dim, n, 0);
        if (ag_tape_status(t) != AG_OK) {
            fprintf(stderr, "%s: %s\n", m->prog, ag_tape_errmsg(t));
            return NAN;
        }
        hits += ag_accuracy(ag_data(z), n, FASHION_CLASSES, d->y + s) * (double)n;
    }
    ag_tape_set_recording(t, was);
    return d->n ? hits / (double)d->n : NAN;
}

/* The cosine schedule's state: see the top of this file. */
typedef struct fashion_sched {
    int cosine;
    double lr0, t0, time_limit;
    double step, total; /* steps done, steps planned */
} fashion_sched;

static void fashion_sched_step(fashion_sched *s, ag_optim *opt)
{
    if (!s->cosine)
        return;
    double p = fmax(s->step / s->total, (fashion_now() - s->t0) / s->time_limit);
    p = fmin(p, 1.0);
    ag_optim_set_lr(opt, s->lr0 * (0.01 + 0.99 * 0.5 * (1 + cos(3.14159265358979 * p))));
    s->step++;
}

/* One pass over the training set: the mean loss, or NaN on error. */
static double fashion_epoch(ag_tape *t, fashion_model *m, ag_optim *opt, ag_batcher *bt,
                            const ag_dataset *tr, ag_real *xb, int32_t *yb, fashion_sched *sc)
{
    double loss_sum = 0;
    size_t n, seen = 0;
    const size_t *idx;
    while ((n = ag_batcher_next(bt, &idx)) > 0) {
        fashion_sched_step(sc, opt);
        ag_dataset_gather(tr, idx, n, xb, yb);
        ag_tape_reset(t);
        ag_tensor *loss = ag_softmax_cross_entropy(t, m->forward(t, m->self, xb, n, 1), yb);
        ag_optim_zero_grad(opt);
        if (ag_backward(t, loss) != AG_OK) {
            fprintf(stderr, "%s: %s\n", m->prog, ag_tape_errmsg(t));
            return NAN;
        }
        ag_optim_step(opt);
        loss_sum += ag_data(loss)[0] * (double)n;
        seen += n;
    }
    return loss_sum / (double)seen;
}

/* Train with early stopping on val; the best weights are in ps on return. */
static int fashion_train(const fashion_opts *o, fashion_model *m, ag_paramset *ps, ag_tape *t,
                         const ag_dataset *tr, const ag_dataset *val)
{
    ag_optim *opt = !strcmp(o->optim, "adam")
        ? ag_optim_adam(ps, &(ag_adam_opts){.lr = o->lr, .weight_decay = o->weight_decay})
        : ag_optim_sgd(ps, &(ag_sgd_opts){.lr = o->lr, .momentum = o->momentum,
                                          .weight_decay = o->weight_decay});
    ag_early_stop *es = ag_early_stop_new(ps, o->patience, 1e-4, 1);
    ag_batcher *bt = ag_batcher_new(tr->n, (size_t)o->batch, 1, o->seed + 1);
    ag_real *xb = malloc((size_t)o->batch * tr->dim * sizeof *xb);
    int32_t *yb = malloc((size_t)o->batch * sizeof *yb);
    FILE *csv = o->csv ? fopen(o->csv, "w") : NULL;
    int rc = -1;
    if (!opt || !es || !bt || !xb || !yb) {
        fprintf(stderr, "%s: %s\n", m->prog, ag_last_errmsg());
        goto out;
    }
    if (o->csv && !csv) {
        fprintf(stderr, "%s: cannot write %s\n", m->prog, o->csv);
        goto out;
    }
    if (csv)
        fprintf(csv, "epoch,train_loss,val_accuracy,lr,seconds\n");
    ag_tape_seed(t, o->seed + 2);
    double t0 = fashion_now();
    int since_best = 0;
    size_t per_epoch = (tr->n + (size_t)o->batch - 1) / (size_t)o->batch;
    fashion_sched sc = {.cosine = !strcmp(o->schedule, "cosine"), .lr0 = o->lr, .t0 = t0,
                        .time_limit = o->time_limit,
                        .total = (double)per_epoch * o->epochs};
    for (int epoch = 1; epoch <= o->epochs; epoch++) {
        double te = fashion_now(), loss = fashion_epoch(t, m, opt, bt, tr, xb, yb, &sc);
        if (isnan(loss))
            goto out;
        double acc = fashion_evaluate(t, m, val);
        int stop = ag_early_stop_update(es, acc);
        double secs = fashion_now() - te;
        printf("epoch %2d  train loss %.4f  val accuracy %.4f  lr %.2g  %5.1f s%s\n", epoch, loss,
               acc, ag_optim_lr(opt), secs, ag_early_stop_improved(es) ? "  *" : "");
        fflush(stdout);
        if (csv)
            fprintf(csv, "%d,%.6f,%.6f,%g,%.3f\n", epoch, loss, acc, ag_optim_lr(opt), secs);
        /* a stall of two epochs: go back to the best weights, halve the rate */
        since_best = ag_early_stop_improved(es) ? 0 : since_best + 1;
        if (since_best == 2 && !stop && !sc.cosine) {
            ag_early_stop_restore(es);
            ag_optim_set_lr(opt, ag_optim_lr(opt) / 2);
            since_best = 0;
        }
        if (stop) {
            printf("early stop: no improvement for %d epochs\n", o->patience + 1);
            break;
        }
        double spent = fashion_now() - t0;
        if (spent + spent / epoch > o->time_limit) {
            printf("time limit: stopping after %d epochs (%.0f s)\n", epoch, spent);
            break;
        }
    }
    ag_early_stop_restore(es);
    printf("best validation accuracy %.4f (epoch %ld), training took %.1f s\n",
           ag_early_stop_best(es), ag_early_stop_best_epoch(es) + 1, fashion_now() - t0);
    rc = 0;
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

/* The whole program: parse, read, build, train or load, save, test.
 * o holds the example's defaults. Returns the exit status. */
static int fashion_main(int argc, char **argv, fashion_model *m, fashion_opts o)
{
    if (fashion_parse(argc, argv, m, &o))
        return 2;
    if (o.skip_if_missing && !fashion_data_present(o.data))
        return 77;
    if (o.threads > 0)
        ag_set_threads(o.threads);
    double t0 = fashion_now();
    ag_dataset full = {0}, test = {0}, tr = {0}, val = {0};
    ag_paramset *ps = ag_paramset_new();
    ag_tape *t = ag_tape_new();
    int status = 1;
    if (!t || !ps || (!o.load && fashion_load_split(m->prog, o.data, "train", &full)) ||
        fashion_load_split(m->prog, o.data, "t10k", &test))
        goto done;
    fashion_standardise(&full);
    fashion_standardise(&test);
    if (!o.load) {
        ag_dataset use = full; /* a prefix of the training set with --limit */
        if (o.limit > 0 && (size_t)o.limit < full.n)
            use.n = (size_t)o.limit;
        if (ag_dataset_split(&use, o.val, o.seed, &tr, &val) != AG_OK) {
            fprintf(stderr, "%s: %s\n", m->prog, ag_last_errmsg());
            goto done;
        }
    }
    printf("Fashion-MNIST: %zu training, %zu validation, %zu test images (loaded in %.1f s)\n",
           tr.n, val.n, test.n, fashion_now() - t0);
    if (m->init(m->self, &o, ps)) {
        fprintf(stderr, "%s: %s\n", m->prog, ag_last_errmsg());
        goto done;
    }
    printf("model: ");
    m->describe(m->self, stdout);
    printf(", %zu parameters; ", ag_paramset_numel(ps));
    if (o.load) {
        printf("loading %s\n", o.load);
        if (ag_load(o.load, ps) != AG_OK) {
            fprintf(stderr, "%s: %s\n", m->prog, ag_last_errmsg());
            goto done;
        }
    } else {
        printf("%s, lr %g, batch %d, dropout %g, %d threads\n", o.optim, o.lr, o.batch,
               o.dropout, ag_get_threads());
        if (fashion_train(&o, m, ps, t, &tr, &val))
            goto done;
        if (o.save) {
            if (ag_save(o.save, ps) != AG_OK) {
                fprintf(stderr, "%s: %s\n", m->prog, ag_last_errmsg());
                goto done;
            }
            printf("saved the best model to %s\n", o.save);
        }
    }
    ag_dataset test_use = test;
    if (o.test_limit > 0 && (size_t)o.test_limit < test.n)
        test_use.n = (size_t)o.test_limit;
    double acc = fashion_evaluate(t, m, &test_use);
    printf("total time %.1f s\n", fashion_now() - t0);
    printf("test accuracy: %.4f\n", acc);
    status = acc >= o.min_accuracy ? 0 : 1;
    if (status)
        fprintf(stderr, "%s: test accuracy %.4f is below --min-accuracy %.4f\n", m->prog, acc,
                o.min_accuracy);
done:
    m->fini(m->self);
    ag_paramset_free(ps);
    ag_dataset_free(&full);
    ag_dataset_free(&test);
    ag_dataset_free(&tr);
    ag_dataset_free(&val);
    ag_tape_free(t);
    return status;
}

#endif
