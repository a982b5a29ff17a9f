/* A layer defined outside the library, from public ops only: the highway
 * layer (Srivastava, Greff and Schmidhuber, 2015),
 *
 *     H = relu(x W_H^T + b_H)          the transform
 *     T = sigmoid(x W_T^T + b_T)       the gate, in (0, 1) per feature
 *     y = T * H + (1 - T) * x          = x + T * (H - x)
 *
 * Its gradient needs no code: every op it calls has its own VJP. The program
 * checks the layer against a plain C reference, checks its gradient (with
 * respect to the parameters and the input) by finite differences, and shows
 * the error for an input of the wrong width; it exits with 1 if a check fails.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <agrad.h>

/* [layer] */
typedef struct highway {
    ag_dense transform; /* H: [dim, dim] weight and [dim] bias */
    ag_dense gate;      /* T: [dim, dim] weight and [dim] bias */
} highway;

/* The gate bias starts negative, so the layer starts close to the identity
 * (T = sigmoid(-2) = 0.12): deep stacks of highway layers then train well. */
static int highway_init(highway *l, size_t dim, ag_rng *r)
{
    memset(l, 0, sizeof *l);
    int rc = ag_dense_init(&l->transform, dim, dim, 1, r);
    if (rc == AG_OK)
        rc = ag_dense_init(&l->gate, dim, dim, 1, r);
    if (rc != AG_OK) {
        ag_dense_fini(&l->transform);
        return rc;
    }
    for (size_t i = 0; i < dim; i++)
        ag_data(l->gate.bias)[i] = -2;
    return AG_OK;
}

static void highway_fini(highway *l)
{
    ag_dense_fini(&l->transform);
    ag_dense_fini(&l->gate);
}

/* Names "<prefix>.transform.weight", ... for optimizers and ag_save(). */
static int highway_params(const highway *l, ag_paramset *s, const char *prefix)
{
    char name[64];
    snprintf(name, sizeof name, "%s.transform", prefix);
    int rc = ag_dense_params(&l->transform, s, name);
    snprintf(name, sizeof name, "%s.gate", prefix);
    return rc ? rc : ag_dense_params(&l->gate, s, name);
}

/* x [..., dim] -> [..., dim] */
static ag_tensor *highway_forward(ag_tape *t, const highway *l, ag_tensor *x)
{
    ag_tensor *h = ag_relu(t, ag_dense_forward(t, &l->transform, x));
    ag_tensor *g = ag_sigmoid(t, ag_dense_forward(t, &l->gate, x));
    return ag_add(t, x, ag_mul(t, g, ag_sub(t, h, x)));   /* x + T (H - x) */
}
/* [layer] */

#define BATCH 3
#define DIM 4

/* [reference] */
/* The same layer as three loops, in double, straight from the formula. */
static void highway_reference(const highway *l, const ag_real *x, double *y)
{
    const ag_real *wh = ag_data(l->transform.weight), *bh = ag_data(l->transform.bias);
    const ag_real *wt = ag_data(l->gate.weight), *bt = ag_data(l->gate.bias);
    for (int b = 0; b < BATCH; b++)
        for (int i = 0; i < DIM; i++) {
            double zh = bh[i], zt = bt[i];
            for (int k = 0; k < DIM; k++) {
                zh += (double)wh[i * DIM + k] * x[b * DIM + k];
                zt += (double)wt[i * DIM + k] * x[b * DIM + k];
            }
            double h = zh > 0 ? zh : 0, g = 1 / (1 + exp(-zt)), xi = x[b * DIM + i];
            y[b * DIM + i] = g * h + (1 - g) * xi;
        }
}
/* [reference] */

/* [gradcheck] */
typedef struct check {
    highway *layer;
    ag_tensor *x;            /* the input, as a parameter, to check its gradient too */
    ag_real w[BATCH * DIM];  /* fixed weights of the output in the scalar */
} check;

static ag_tensor *loss_fn(ag_tape *t, void *ctx)
{
    check *c = ctx;
    ag_tensor *y = highway_forward(t, c->layer, c->x);
    return ag_sum_all(t, ag_mul(t, y, ag_tensor_wrap(t, c->w, AG_SHAPE(BATCH, DIM))));
}

static int check_gradient(highway *l, ag_tensor *x)
{
    check c = {l, x, {0}};
    for (int i = 0; i < BATCH * DIM; i++)
        c.w[i] = (ag_real)sin(1.0 + i);
    ag_tensor *wrt[] = {l->transform.weight, l->transform.bias, l->gate.weight, l->gate.bias, x};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(loss_fn, &c, wrt, 5, NULL, &r);
    ag_gradcheck_fprint(stdout, &r);
    return ok;
}
/* [gradcheck] */

int main(void)
{
    ag_rng rng;
    ag_rng_seed(&rng, 42);
    highway l;
    ag_tensor *x = ag_param_new(AG_SHAPE(BATCH, DIM));
    if (!x || highway_init(&l, DIM, &rng) != AG_OK)
        return 1;
    /* a gate bias of 0 opens the gate halfway, so both paths carry gradient */
    for (int i = 0; i < DIM; i++)
        ag_data(l.gate.bias)[i] = 0;
    ag_init_uniform(x, -2, 2, &rng);

    /* forward against the reference */
    double want[BATCH * DIM], worst = 0;
    highway_reference(&l, ag_data(x), want);
    ag_tape *t = ag_tape_new();
    ag_tensor *y = highway_forward(t, &l, x);
    for (int i = 0; i < BATCH * DIM && !ag_is_poisoned(y); i++)
        worst = fmax(worst, fabs((double)ag_data(y)[i] - want[i]));
    int ok_forward = !ag_is_poisoned(y) && worst < 1e-5;
    printf("forward: max |layer - reference| = %.1e\n", worst);

    int ok_grad = check_gradient(&l, x);

    /* [names] */
    ag_paramset *ps = ag_paramset_new();
    int ok_names = ps && highway_params(&l, ps, "hw1") == AG_OK &&
                   ag_paramset_count(ps) == 4 && ag_paramset_find(ps, "hw1.gate.bias") == l.gate.bias;
    printf("parameters: %zu tensors, %zu numbers, e.g. %s\n", ag_paramset_count(ps),
           ag_paramset_numel(ps), ps ? ag_param_name(ag_paramset_get(ps, 2)) : "?");
    ag_paramset_free(ps);
    /* [names] */

    /* [error] */
    ag_tape_reset(t);
    ag_tensor *wide = ag_tensor_new(t, AG_SHAPE(BATCH, DIM + 1));
    highway_forward(t, &l, wide);
    printf("error: %s\n", ag_tape_errmsg(t));
    /* [error] */
    int ok_error = ag_tape_status(t) == AG_EINVAL &&
                   strstr(ag_tape_errmsg(t), "ag_linear: input x[3,5] must be [..., 4] for weight w[4,4]");

    ag_tape_free(t);
    highway_fini(&l);
    ag_param_free(x);
    int ok = ok_forward && ok_grad && ok_names && ok_error;
    printf("highway: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
