/* Draw what a tape recorded: one step of an LSTM cell, exported with
 * ag_tape_dot() in Graphviz DOT.
 *
 *     graph_dot [graph.dot]    (default: standard output)
 *
 * Given a file name, the program also renders it to SVG next to it
 * (graph.dot -> graph.svg) when Graphviz's `dot` is installed:
 *     dot -Tsvg graph.dot -o graph.svg
 * Boxes are ops (name, node index, output shape), blue ellipses are
 * parameters (with their PyTorch names, lstm.weight_ih_l0...), notes are
 * constants. The graph shows the two input projections and their sum (the
 * four gate blocks i, f, g, o as one gate-major [4, batch, H] tensor), one
 * sigmoid over all of it, the g block through tanh, then c' = f c + i g and
 * h' = o tanh(c'). The gates are views of blocks of that tensor: a view
 * records no node, so its consumers hang straight off the sigmoid (or the
 * sum, for g).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <agrad.h>

int main(int argc, char **argv)
{
    ag_rng rng;
    ag_rng_seed(&rng, 1);
    ag_rnn lstm;
    ag_paramset *ps = ag_paramset_new();
    ag_tape *t = ag_tape_new();
    if (!ps || !t || ag_rnn_init(&lstm, AG_RNN_LSTM, 3, 4, 1, &rng) != AG_OK ||
        ag_rnn_params(&lstm, ps, "lstm") != AG_OK) /* names the parameters */
        return 1;

    /* one step from a given state: x [2,3], h and c [2,4] */
    ag_rnn_state s = {ag_tensor_new(t, AG_SHAPE(2, 4)), ag_tensor_new(t, AG_SHAPE(2, 4))};
    ag_tensor *h = ag_rnn_cell(t, &lstm, 0, ag_tensor_new(t, AG_SHAPE(2, 3)), &s);
    int ok = !ag_is_poisoned(h) && ag_tape_nodes(t) > 0;

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
    ag_paramset_free(ps);
    ag_rnn_fini(&lstm);
    return ok ? 0 : 1;
}
