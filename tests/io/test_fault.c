/* Fault injection over the training toolkit: fail the k-th allocation of a
 * workflow (model, optimizer, early stopping, save, load, IDX read, split,
 * batches) for every k. Each run ends in AG_OK or AG_ENOMEM, never a crash,
 * and nothing leaks. */
#include <stdlib.h>
#include <unistd.h>
#include "common.h"
#include "fault_alloc.h"

static char model_path[64], idx_path[64];

/* Status of a constructor that returns NULL on failure. */
static int made(const void *p)
{
    return p ? AG_OK : (strstr(ag_last_errmsg(), "out of memory") ? AG_ENOMEM : AG_EINVAL);
}

static int workflow(void)
{
    ag_rng r;
    ag_rng_seed(&r, 1);
    ag_dense d = {0};
    ag_optim *o = NULL;
    ag_early_stop *e = NULL;
    ag_batcher *b = NULL;
    ag_idx m = {0};
    ag_dataset ds = {0}, tr = {0}, va = {0};
    ag_paramset *ps = ag_paramset_new();
    int rc = made(ps);
    if (!rc) rc = ag_dense_init(&d, 4, 3, 1, &r);
    if (!rc) rc = ag_dense_params(&d, ps, "fc");
    if (!rc) rc = made(o = ag_optim_adam(ps, NULL));
    if (!rc) rc = made(e = ag_early_stop_new(ps, 1, 0, 1));
    if (!rc) {
        ag_early_stop_update(e, 0.5);
        rc = ag_optim_step(o);
    }
    if (!rc) rc = ag_save(model_path, ps);
    if (!rc) rc = ag_load(model_path, ps);
    if (!rc) rc = ag_idx_read(idx_path, &m);
    if (!rc) rc = ag_dataset_from_idx(&ds, &m, NULL, 1);
    if (!rc) rc = ag_dataset_split(&ds, 0.5, 3, &tr, &va);
    if (!rc) rc = made(b = ag_batcher_new(tr.n, 2, 1, 4));
    ag_batcher_free(b);
    ag_dataset_free(&tr);
    ag_dataset_free(&va);
    ag_dataset_free(&ds);
    ag_idx_free(&m);
    ag_early_stop_free(e);
    ag_optim_free(o);
    ag_dense_fini(&d);
    ag_paramset_free(ps);
    return rc;
}

Test(fault, every_allocation_of_the_toolkit)
{
    snprintf(model_path, sizeof model_path, "/tmp/agrad-fault-%ld.agp", (long)getpid());
    snprintf(idx_path, sizeof idx_path, "/tmp/agrad-fault-%ld.idx", (long)getpid());
    const unsigned char idx[] = {0, 0, 0x08, 2, 0, 0, 0, 4, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
    FILE *f = fopen(idx_path, "wb");
    cr_assert_not_null(f);
    fwrite(idx, 1, sizeof idx, f);
    fclose(f);
    ag_set_allocator(faulty, NULL);
    cr_assert_eq(workflow(), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(live, 0, "the workflow leaked %ld blocks", live);
    int failures = 0, k;
    for (k = 0; k < 200; k++) {
        countdown = k;
        int s = workflow();
        countdown = -1;
        cr_assert(s == AG_OK || s == AG_ENOMEM, "k=%d: status %d (%s)", k, s, ag_last_errmsg());
        cr_assert_eq(live, 0, "k=%d: leaked %ld blocks", k, live);
        if (s == AG_OK)
            break; /* k is past the last allocation */
        failures++;
    }
    ag_set_allocator(NULL, NULL);
    cr_assert_lt(k, 200, "the workflow never succeeded");
    cr_assert_gt(failures, 10, "only %d allocations were exercised", failures);
    unlink(model_path);
    unlink(idx_path);
}

Test(fault, optimizer_steps_and_early_stopping_never_allocate)
{
    ag_set_allocator(faulty, NULL);
    ag_tensor *w = param_rand(AG_SHAPE(5, 4), -1, 1, 3);
    ag_paramset *ps = ag_paramset_new();
    cr_assert_eq(ag_paramset_add(ps, w, "w"), AG_OK);
    ag_optim *o[3] = {ag_optim_sgd(ps, &(ag_sgd_opts){.lr = 0.1, .momentum = 0.9}),
                      ag_optim_adam(ps, NULL), ag_optim_sgd(ps, &(ag_sgd_opts){.lr = 0.1})};
    ag_early_stop *e = ag_early_stop_new(ps, 1, 0, 0);
    countdown = 0; /* from here on, every allocation fails */
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(o[i]);
        ag_grad(w)[i] = 1;
        cr_assert_eq(ag_optim_step(o[i]), AG_OK);
    }
    cr_assert_eq(ag_early_stop_update(e, 1.0), 0);
    cr_assert_eq(ag_early_stop_restore(e), AG_OK);
    cr_assert_eq(countdown, 0, "an allocation was attempted");
    countdown = -1;
    for (int i = 0; i < 3; i++) ag_optim_free(o[i]);
    ag_early_stop_free(e);
    ag_paramset_free(ps);
    ag_param_free(w);
    cr_assert_eq(live, 0);
    ag_set_allocator(NULL, NULL);
}
