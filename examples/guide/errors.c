/* The errors a user meets, and the tools that find where they came from:
 * the sticky tape status and its message (op, node index, shapes), the
 * Graphviz export of what was recorded before the failure, anomaly mode for
 * NaN and infinity, and AGRAD_STRICT=1, which aborts at the first error.
 *
 *     errors [graph.dot]     writes the DOT graph to graph.dot (default: stdout)
 *
 * Each part checks what it shows; the program exits with 1 if a check fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <agrad.h>

static ag_tensor *w1, *w2;

/* [shape_error] */
/* A two-layer net with a bug: w2 is stored as [out, in] = [10, 16], like w1,
 * but the second product forgets to transpose it. */
static ag_tensor *buggy_net(ag_tape *t, ag_tensor *x)
{
    ag_tensor *h = ag_tanh(t, ag_matmul_t(t, x, w1, 0, 1)); /* [4,8] x [16,8]^T = [4,16] */
    ag_tensor *logits = ag_matmul(t, h, w2);                /* [4,16] x [10,16]: wrong */
    return ag_mean_all(t, ag_mul(t, logits, logits));
}

static int shape_error(FILE *dot)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(4, 8));
    ag_tensor *loss = buggy_net(t, x);      /* no crash: later ops return poisoned tensors */
    if (ag_backward(t, loss) != AG_OK) {    /* check once, at the end */
        printf("%s: %s\n", ag_status_str(ag_tape_status(t)), ag_tape_errmsg(t));
        ag_tape_dot(t, dot);                /* what was recorded before the failure */
    }
    /* [shape_error] */
    int ok = ag_tape_status(t) == AG_EINVAL && ag_is_poisoned(loss) &&
             strcmp(ag_tape_errmsg(t),
                    "ag_matmul (node 2): inner dimensions differ: a[4,16] b[10,16]") == 0;
    ag_tape_free(t);
    return ok;
}

/* [anomaly] */
/* Binary cross-entropy written by hand: log(1 - p) is log(0) = -inf once
 * sigmoid(z) rounds to 1, and the loss and every gradient become inf or NaN. */
static ag_tensor *bce_by_hand(ag_tape *t, ag_tensor *z, ag_tensor *y)
{
    ag_tensor *p = ag_sigmoid(t, z);                           /* node 0 */
    ag_tensor *log_p = ag_log(t, p);                           /* node 1 */
    ag_tensor *log_q = ag_log(t, ag_rsub_scalar(t, 1, p));     /* nodes 2, 3 */
    ag_tensor *pos = ag_mul(t, y, log_p);
    ag_tensor *neg = ag_mul(t, ag_rsub_scalar(t, 1, y), log_q);
    return ag_neg(t, ag_mean_all(t, ag_add(t, pos, neg)));
}

static int anomaly(void)
{
    static ag_real y[3] = {1, 0, 0};
    ag_tensor *z = ag_param_new(AG_SHAPE(3));
    ag_data(z)[0] = 2, ag_data(z)[1] = -1, ag_data(z)[2] = 40; /* sigmoid(40) == 1 */
    ag_tape *t = ag_tape_new();

    ag_tensor *loss = bce_by_hand(t, z, ag_tensor_wrap(t, y, AG_SHAPE(3)));
    printf("without anomaly mode: status %s, loss %g\n", ag_status_str(ag_tape_status(t)),
           (double)ag_data(loss)[0]);

    ag_tape_reset(t);
    ag_tape_set_anomaly(t, 1);               /* or AGRAD_ANOMALY=1 in the environment */
    loss = bce_by_hand(t, z, ag_tensor_wrap(t, y, AG_SHAPE(3)));
    printf("with anomaly mode:    %s\n", ag_tape_errmsg(t));
    /* [anomaly] */
    int ok = ag_tape_status(t) == AG_ENAN && strstr(ag_tape_errmsg(t), "ag_log (node 3)") &&
             strstr(ag_tape_errmsg(t), "forward produced Inf at output element 2");
    ag_tape_free(t);
    ag_param_free(z);
    return ok;
}

/* AGRAD_STRICT=1 makes the first error abort the program, so a debugger stops
 * at the faulty call. Shown in a child process, whose stderr is read back. */
static int strict(void)
{
    int fd[2];
    if (pipe(fd))
        return 0;
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        setenv("AGRAD_STRICT", "1", 1);
        shape_error(stdout); /* aborts inside the faulty ag_matmul */
        _exit(0);
    }
    close(fd[1]);
    char msg[512] = "";
    size_t n = 0;
    ssize_t k;
    while (n < sizeof msg - 1 && (k = read(fd[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)k;
    msg[n] = 0;
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    printf("with AGRAD_STRICT=1:  %s", msg);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
           strstr(msg, "AGRAD_STRICT: ag_matmul (node 2): inner dimensions differ") != NULL;
}

int main(int argc, char **argv)
{
    w1 = ag_param_new(AG_SHAPE(16, 8));
    w2 = ag_param_new(AG_SHAPE(10, 16));
    ag_param_set_name(w1, "w1");
    ag_param_set_name(w2, "w2");
    FILE *dot = argc > 1 ? fopen(argv[1], "w") : stdout;
    if (!w1 || !w2 || !dot)
        return 1;
    fflush(stdout);
    /* Strict mode is read once per process, at the first error: fork first. */
    int ok_strict = strict();
    int ok_shape = shape_error(dot);
    int ok_anomaly = anomaly();
    if (dot != stdout)
        fclose(dot);
    ag_param_free(w1);
    ag_param_free(w2);
    printf("errors: shape error %s, strict %s, anomaly %s\n", ok_shape ? "ok" : "FAILED",
           ok_strict ? "ok" : "FAILED", ok_anomaly ? "ok" : "FAILED");
    return ok_shape && ok_strict && ok_anomaly ? 0 : 1;
}
