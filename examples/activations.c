/* Activation functions and their derivatives, tabulated over [-6, 6].
 *
 *     activations [out.csv]       (default: standard output)
 *
 * The derivatives are not written by hand: each activation is applied to a
 * parameter x holding the whole grid, and one backward sweep seeded with ones
 * (ag_backward_with) gives, for an elementwise function f, exactly f'(x_i) in
 * the gradient of x_i: the vector-Jacobian product of a diagonal Jacobian
 * with the vector of ones is its diagonal.
 *
 * The CSV has a header and the columns
 *     x, sigmoid, d_sigmoid, tanh, d_tanh, relu, d_relu, leaky_relu, d_leaky_relu
 * which examples/activations.gp plots side by side:
 *     gnuplot -e "csv='act.csv'; out='act.png'" examples/activations.gp
 *
 * As a check, the tape's derivatives are compared with the textbook formulas
 * (sigmoid' = s (1 - s), tanh' = 1 - tanh^2, relu' = [x > 0], leaky' = 1 or
 * alpha); the program exits with 1 if they differ.
 */
#include <math.h>
#include <stdio.h>
#include <agrad.h>

#define N 241            /* grid step 0.05 */
#define ALPHA 0.1        /* leaky ReLU slope, large enough to see on a plot */

enum { SIGMOID, TANH, RELU, LEAKY, N_ACT };

static ag_tensor *activation(ag_tape *t, int which, ag_tensor *x)
{
    switch (which) {
    case SIGMOID: return ag_sigmoid(t, x);
    case TANH: return ag_tanh(t, x);
    case RELU: return ag_relu(t, x);
    default: return ag_leaky_relu(t, x, (ag_real)ALPHA);
    }
}

/* The formulas the tape should reproduce, from f and x. */
static double expected(int which, double x, double f)
{
    switch (which) {
    case SIGMOID: return f * (1 - f);
    case TANH: return 1 - f * f;
    case RELU: return x > 0;
    default: return x > 0 ? 1 : ALPHA;
    }
}

int main(int argc, char **argv)
{
    static ag_real ones[N];
    static double val[N_ACT][N], der[N_ACT][N];
    ag_tensor *x = ag_param_new(AG_SHAPE(N));
    ag_tape *t = ag_tape_new();
    if (!x || !t)
        return 1;
    for (int i = 0; i < N; i++) {
        ag_data(x)[i] = (ag_real)(-6 + 0.05 * i);
        ones[i] = 1;
    }
    double worst = 0;
    for (int a = 0; a < N_ACT; a++) {
        ag_tape_reset(t);
        ag_param_zero_grad(x);
        ag_tensor *y = activation(t, a, x);
        if (ag_backward_with(t, y, ones) != AG_OK) { /* gx = J^T 1 = f'(x) */
            fprintf(stderr, "activations: %s\n", ag_tape_errmsg(t));
            return 1;
        }
        for (int i = 0; i < N; i++) {
            val[a][i] = (double)ag_data(y)[i];
            der[a][i] = (double)ag_grad(x)[i];
            worst = fmax(worst, fabs(der[a][i] - expected(a, (double)ag_data(x)[i], val[a][i])));
        }
    }
    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "x,sigmoid,d_sigmoid,tanh,d_tanh,relu,d_relu,leaky_relu,d_leaky_relu\n");
    for (int i = 0; i < N; i++) {
        fprintf(f, "%.2f", (double)ag_data(x)[i]);
        for (int a = 0; a < N_ACT; a++)
            fprintf(f, ",%.7g,%.7g", val[a][i], der[a][i]);
        fprintf(f, "\n");
    }
    int ok = !ferror(f);
    if (f != stdout)
        ok &= fclose(f) == 0;
    ag_tape_free(t);
    ag_param_free(x);
    fprintf(stderr, "activations: tape derivatives match the formulas within %.1e\n", worst);
    return ok && worst < 1e-6 ? 0 : 1;
}
