/* Draw what a tape recorded: a two-layer perceptron and its loss, exported
 * with ag_tape_dot() in Graphviz DOT.
 *
 *     graph_dot [graph.dot]    (default: standard output)
 *
 * Given a file name, the program also renders it to SVG next to it
 * (graph.dot -> graph.svg) when Graphviz's `dot` is installed:
 *     dot -Tsvg graph.dot -o graph.svg
 * Boxes are ops (name, node index, output shape), blue ellipses are
 * parameters (with the names given by ag_param_set_name), notes are constants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <agrad.h>

int main(int argc, char **argv)
{
    static ag_real xs[4 * 8], ys[4 * 3];
    const char *names[4] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    ag_tensor *p[4] = {ag_param_new(AG_SHAPE(16, 8)), ag_param_new(AG_SHAPE(16)),
                       ag_param_new(AG_SHAPE(3, 16)), ag_param_new(AG_SHAPE(3))};
    ag_tape *t = ag_tape_new();
    if (!t || !p[0] || !p[1] || !p[2] || !p[3])
        return 1;
    for (int i = 0; i < 4; i++)
        ag_param_set_name(p[i], names[i]);

    /* loss = mean((tanh(x W1^T + b1) W2^T + b2 - y)^2) */
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(4, 8));
    ag_tensor *y = ag_tensor_wrap(t, ys, AG_SHAPE(4, 3));
    ag_tensor *h = ag_tanh(t, ag_add(t, ag_matmul_t(t, x, p[0], 0, 1), p[1]));
    ag_tensor *d = ag_sub(t, ag_add(t, ag_matmul_t(t, h, p[2], 0, 1), p[3]), y);
    ag_tensor *loss = ag_mean_all(t, ag_mul(t, d, d));
    int ok = !ag_is_poisoned(loss) && ag_tape_nodes(t) == 8;

    FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    ok = ok && ag_tape_dot(t, f) == AG_OK;
    if (f != stdout && fclose(f) != 0)
        ok = 0;
    if (ok && argc > 1 && system("command -v dot >/dev/null 2>&1") == 0) {
        char cmd[1024];
        size_t n = strlen(argv[1]);
        if (n > 4 && strcmp(argv[1] + n - 4, ".dot") == 0)
            n -= 4;
        snprintf(cmd, sizeof cmd, "dot -Tsvg '%s' -o '%.*s.svg'", argv[1], (int)n, argv[1]);
        ok = system(cmd) == 0;
        fprintf(stderr, "graph_dot: %s\n", ok ? "rendered to SVG" : "dot failed");
    }
    ag_tape_free(t);
    for (int i = 0; i < 4; i++)
        ag_param_free(p[i]);
    return ok ? 0 : 1;
}
