/* Out of memory inside the movement and mask ops: a step that uses each of
 * them, on a fresh tape, with the k-th allocation failing. Every run ends in
 * AG_OK with the reference gradient or in AG_ENOMEM, and nothing leaks. A
 * filler tensor moves the end of the tape's first arena chunk across the
 * step, so that some run fails exactly at ag_max's saved state. */
#include "ops/movement.h"
#include "fault_alloc.h"

enum { ROWS = 64, COLS = 8 };

static int step(ag_tensor *w, size_t filler, char *msg, size_t cap)
{
    ag_tape *t = ag_tape_new();
    if (!t)
        return AG_ENOMEM;
    ag_tape_seed(t, 5);
    ag_tensor_new(t, AG_SHAPE(filler));
    ag_tensor *m = ag_max(t, w, (int[]){1}, 1, 1);                      /* [64,1] */
    ag_tensor *p = ag_pad(t, w, (size_t[]){1, 0}, (size_t[]){0, 2}, 0.5); /* [65,10] */
    ag_tensor *q = ag_transpose(t, ag_slice(t, p, 0, 1, ROWS), 0, 1);   /* [10,64] */
    ag_tensor *r = ag_reshape(t, q, AG_SHAPE(AG_INFER, ROWS));
    ag_tensor *c = ag_concat(t, (ag_tensor *[]){r, ag_permute(t, m, (int[]){1, 0}, 2)}, 2, 0);
    ag_tensor *g = ag_gather(t, c, 0, (int64_t[]){10, 3, 3}, 3);        /* [3,64] */
    ag_tensor *s = ag_scatter_add(t, g, 0, (int64_t[]){1, 0, 1}, 2);    /* [2,64] */
    ag_tensor *k = ag_bernoulli(t, AG_SHAPE(2, ROWS), 0.5, 2);
    ag_tensor *y = ag_where(t, k, s, ag_stop_gradient(t, s));
    ag_tensor *loss = ag_sum_all(t, ag_stack(t, (ag_tensor *[]){y, y}, 2, 1));
    ag_param_zero_grad(w);
    int st = ag_backward(t, loss);
    snprintf(msg, cap, "%s", ag_tape_errmsg(t));
    ag_tape_free(t);
    return st;
}

Test(movement, out_of_memory_anywhere)
{
    ag_set_allocator(faulty, NULL);
    ag_tensor *w = param_rand(AG_SHAPE(ROWS, COLS), -1, 1, 91);
    static ag_real want[ROWS * COLS];
    char msg[256];
    long base = live;
    cr_assert_eq(step(w, 16, msg, sizeof msg), AG_OK, "%s", msg);
    memcpy(want, ag_grad(w), sizeof want);
    int saved_failures = 0, failures = 0;
    /* sweep the last 2 KiB of the first arena chunk in 64-byte steps */
    ag_tape *t0 = ag_tape_new();
    ag_tensor_new(t0, AG_SHAPE(1));
    const size_t chunk = ag_tape_arena_bytes(t0), r = sizeof(ag_real);
    ag_tape_free(t0);
    cr_assert_gt(chunk, 4096);
    for (size_t filler = (chunk - 2048) / r; filler <= chunk / r; filler += 64 / r) {
        for (long k = 0; k < 4; k++) {
            countdown = k;
            int st = step(w, filler, msg, sizeof msg);
            countdown = -1;
            cr_assert(st == AG_OK || st == AG_ENOMEM, "filler %zu k=%ld: %d %s", filler, k, st, msg);
            cr_assert_eq(live, base, "filler %zu k=%ld: leaked %ld blocks", filler, k, live - base);
            if (st == AG_OK) {
                cr_assert(memcmp(ag_grad(w), want, sizeof want) == 0, "filler %zu k=%ld", filler, k);
            } else {
                failures++;
                saved_failures += strstr(msg, "ag_max") && strstr(msg, "saved state");
            }
        }
    }
    cr_assert_gt(failures, 0);
    cr_assert_gt(saved_failures, 0, "no run failed at ag_max's saved state");
    ag_param_free(w);
    ag_set_allocator(NULL, NULL);
}
