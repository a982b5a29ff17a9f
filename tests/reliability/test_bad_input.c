/* Bad-input battery: every public function that takes tensors, given the
 * wrong number of dims, mismatched shapes, zero-size dims, NULL tensors,
 * tensors of another tape or from before a reset, out-of-range axes and
 * indices, and sizes whose product overflows. Each must fail with a status
 * and a message naming the function and the offending values: never a
 * crash, never undefined behaviour (CI also runs this under ASan + UBSan).
 *
 * Three tables:
 *  - generic: each function with valid arguments, then each tensor argument
 *    in turn replaced by NULL, a tensor of another tape, a tensor made before
 *    the last reset, and a poisoned tensor; plus a NULL and a failed tape;
 *  - specific: hand-written bad shapes, axes, indices and sizes per function;
 *  - zero-size: each function on inputs with a zero-size dim, forward and
 *    backward: either a correct empty result or a clean error.
 * Allocations go through a capped allocator, so an absurd but representable
 * size is an ordinary AG_ENOMEM (as with a real malloc) rather than the
 * sanitizer's allocation-size abort. */
#include <stdint.h>
#include <stdlib.h>
#include "common.h"

#define CAP_BYTES ((size_t)1 << 28)

static void *capped(void *ud, void *p, size_t old, size_t n)
{
    (void)ud;
    (void)old;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return n > CAP_BYTES ? NULL : realloc(p, n);
}

static size_t n_cases; /* cases checked, printed at the end of each table */

/* ---- tensors ---- */

typedef struct shp {
    int nd;
    size_t s[4];
} shp;

#define S(...) {(int)(sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t)), {__VA_ARGS__}}

/* Tape tensor of shape sh with values in [0.5, 1.5) (valid for log, sqrt). */
static ag_tensor *mk(ag_tape *t, shp sh)
{
    ag_real buf[256];
    size_t n = 1;
    for (int i = 0; i < sh.nd; i++) n *= sh.s[i];
    cr_assert_leq(n, 256);
    fill_uniform(buf, n, 0.5, 1.5, (unsigned)(n + (size_t)sh.nd));
    return ag_tensor_from(t, buf, sh.s, sh.nd);
}

/* Run one case: t is a fresh tape (the case's inputs already on it), y the
 * result. Checks a poisoned result, the status and every substring. */
static void expect(const char *name, ag_tape *t, ag_tensor *y, int code, const char *const *subs)
{
    n_cases++;
    if (!y) {
        cr_expect(0, "%s: returned NULL", name);
        return;
    }
    cr_expect_eq(ag_tape_status(t), code, "%s: status %d (%s), want %d", name, ag_tape_status(t),
                 ag_tape_errmsg(t), code);
    cr_expect(ag_is_poisoned(y), "%s: result not poisoned", name);
    for (int i = 0; subs[i]; i++)
        cr_expect(strstr(ag_tape_errmsg(t), subs[i]) != NULL, "%s: message '%s' lacks '%s'", name,
                  ag_tape_errmsg(t), subs[i]);
}

/* ---- the generic table ---- */

static const int32_t labels2[2] = {1, 2};
static const int64_t idx2[2] = {1, 0};
static const ag_window2d win2 = {.kh = 2, .kw = 2};

typedef ag_tensor *(*call_fn)(ag_tape *t, ag_tensor **a);

#define CALL(fname, expr) \
    static ag_tensor *fname(ag_tape *t, ag_tensor **a) { (void)a; return expr; }

CALL(c_neg, ag_neg(t, a[0]))
CALL(c_exp, ag_exp(t, a[0]))
CALL(c_log, ag_log(t, a[0]))
CALL(c_sqrt, ag_sqrt(t, a[0]))
CALL(c_abs, ag_abs(t, a[0]))
CALL(c_tanh, ag_tanh(t, a[0]))
CALL(c_sigmoid, ag_sigmoid(t, a[0]))
CALL(c_relu, ag_relu(t, a[0]))
CALL(c_leaky, ag_leaky_relu(t, a[0], (ag_real)0.1))
CALL(c_softplus, ag_softplus(t, a[0]))
CALL(c_pow, ag_pow_scalar(t, a[0], 2))
CALL(c_affine, ag_affine(t, a[0], 2, 1))
CALL(c_adds, ag_add_scalar(t, a[0], 1))
CALL(c_muls, ag_mul_scalar(t, a[0], 2))
CALL(c_rsubs, ag_rsub_scalar(t, 1, a[0]))
CALL(c_add, ag_add(t, a[0], a[1]))
CALL(c_sub, ag_sub(t, a[0], a[1]))
CALL(c_mul, ag_mul(t, a[0], a[1]))
CALL(c_div, ag_div(t, a[0], a[1]))
CALL(c_maximum, ag_maximum(t, a[0], a[1]))
CALL(c_sum, ag_sum(t, a[0], (const int[]){1}, 1, 0))
CALL(c_mean, ag_mean(t, a[0], (const int[]){1}, 1, 1))
CALL(c_max, ag_max(t, a[0], (const int[]){0}, 1, 0))
CALL(c_sum_all, ag_sum_all(t, a[0]))
CALL(c_mean_all, ag_mean_all(t, a[0]))
CALL(c_matmul, ag_matmul(t, a[0], a[1]))
CALL(c_matmul_t, ag_matmul_t(t, a[0], a[1], 1, 0))
CALL(c_reshape, ag_reshape(t, a[0], AG_SHAPE(3, 2)))
CALL(c_permute, ag_permute(t, a[0], (const int[]){1, 0}, 2))
CALL(c_transpose, ag_transpose(t, a[0], 0, 1))
CALL(c_slice, ag_slice(t, a[0], 1, 1, 2))
CALL(c_pad, ag_pad(t, a[0], (const size_t[]){1, 0}, (const size_t[]){0, 2}, 0))
CALL(c_concat, ag_concat(t, a, 2, 0))
CALL(c_stack, ag_stack(t, a, 2, 1))
CALL(c_gather, ag_gather(t, a[0], 1, idx2, 2))
CALL(c_scatter, ag_scatter_add(t, a[0], 0, idx2, 3))
CALL(c_stopgrad, ag_stop_gradient(t, a[0]))
CALL(c_where, ag_where(t, a[0], a[1], a[2]))
CALL(c_lerp, ag_lerp(t, a[0], a[1], a[2]))
CALL(c_unfold, ag_unfold(t, a[0], &win2))
CALL(c_fold, ag_fold(t, a[0], 3, 3, &win2))
CALL(c_linear, ag_linear(t, a[0], a[1], a[2]))
CALL(c_activate, ag_activate(t, a[0], AG_ACT_TANH))
CALL(c_dropout, ag_dropout(t, a[0], 0.5, 1))
CALL(c_flatten, ag_flatten(t, a[0]))
CALL(c_softmax, ag_softmax(t, a[0], 1))
CALL(c_log_softmax, ag_log_softmax(t, a[0], -1))
CALL(c_mse, ag_mse_loss(t, a[0], a[1]))
CALL(c_bce, ag_bce_loss(t, a[0], a[1]))
CALL(c_bce_logits, ag_bce_with_logits_loss(t, a[0], a[1]))
CALL(c_ce, ag_softmax_cross_entropy(t, a[0], labels2))
CALL(c_conv2d, ag_conv2d_fn(t, a[0], a[1], a[2], 1, 1, 1))
CALL(c_conv1d, ag_conv1d_fn(t, a[0], a[1], a[2], 1, 0, 1))
CALL(c_maxpool, ag_maxpool2d(t, a[0], 2, 0, 0))
CALL(c_avgpool, ag_avgpool2d(t, a[0], 2, 1, 1))
CALL(c_gap, ag_global_avgpool2d(t, a[0]))

typedef struct gen_entry {
    const char *fn; /* the name every message must contain */
    call_fn call;
    int n;          /* tensor arguments */
    shp shape[3];
    int optional;   /* index of an argument that may be NULL (a bias), else 0 */
} gen_entry;

#define X23 S(2, 3)
static const gen_entry generic[] = {
    {"ag_neg", c_neg, 1, {X23}, 0},
    {"ag_exp", c_exp, 1, {X23}, 0},
    {"ag_log", c_log, 1, {X23}, 0},
    {"ag_sqrt", c_sqrt, 1, {X23}, 0},
    {"ag_abs", c_abs, 1, {X23}, 0},
    {"ag_tanh", c_tanh, 1, {X23}, 0},
    {"ag_sigmoid", c_sigmoid, 1, {X23}, 0},
    {"ag_relu", c_relu, 1, {X23}, 0},
    {"ag_leaky_relu", c_leaky, 1, {X23}, 0},
    {"ag_softplus", c_softplus, 1, {X23}, 0},
    {"ag_pow_scalar", c_pow, 1, {X23}, 0},
    {"ag_affine", c_affine, 1, {X23}, 0},
    {"ag_affine", c_adds, 1, {X23}, 0},
    {"ag_affine", c_muls, 1, {X23}, 0},
    {"ag_affine", c_rsubs, 1, {X23}, 0},
    {"ag_add", c_add, 2, {X23, S(3)}, 0},
    {"ag_sub", c_sub, 2, {X23, X23}, 0},
    {"ag_mul", c_mul, 2, {S(2, 1), X23}, 0},
    {"ag_div", c_div, 2, {X23, X23}, 0},
    {"ag_maximum", c_maximum, 2, {X23, X23}, 0},
    {"ag_sum", c_sum, 1, {X23}, 0},
    {"ag_mean", c_mean, 1, {X23}, 0},
    {"ag_max", c_max, 1, {X23}, 0},
    {"ag_sum", c_sum_all, 1, {X23}, 0},
    {"ag_mean", c_mean_all, 1, {X23}, 0},
    {"ag_matmul", c_matmul, 2, {X23, S(3, 4)}, 0},
    {"ag_matmul", c_matmul_t, 2, {S(3, 2), S(3, 4)}, 0},
    {"ag_reshape", c_reshape, 1, {X23}, 0},
    {"ag_permute", c_permute, 1, {X23}, 0},
    {"ag_transpose", c_transpose, 1, {X23}, 0},
    {"ag_slice", c_slice, 1, {X23}, 0},
    {"ag_pad", c_pad, 1, {X23}, 0},
    {"ag_concat", c_concat, 2, {X23, S(1, 3)}, 0},
    {"ag_stack", c_stack, 2, {X23, X23}, 0},
    {"ag_gather", c_gather, 1, {X23}, 0},
    {"ag_scatter_add", c_scatter, 1, {X23}, 0},
    {"ag_stop_gradient", c_stopgrad, 1, {X23}, 0},
    {"ag_where", c_where, 3, {X23, X23, S(3)}, 0},
    {"ag_lerp", c_lerp, 3, {X23, S(3), X23}, 0},
    {"ag_unfold", c_unfold, 1, {S(1, 2, 3, 3)}, 0},
    {"ag_fold", c_fold, 1, {S(1, 8, 4)}, 0},
    {"ag_linear", c_linear, 3, {X23, S(4, 3), S(4)}, 2},
    {"ag_tanh", c_activate, 1, {X23}, 0},
    {"ag_dropout", c_dropout, 1, {X23}, 0},
    {"ag_flatten", c_flatten, 1, {S(2, 3, 2)}, 0},
    {"ag_softmax", c_softmax, 1, {X23}, 0},
    {"ag_log_softmax", c_log_softmax, 1, {X23}, 0},
    {"ag_mse_loss", c_mse, 2, {X23, X23}, 0},
    {"ag_bce_loss", c_bce, 2, {S(2, 3), X23}, 0},
    {"ag_bce_with_logits_loss", c_bce_logits, 2, {X23, X23}, 0},
    {"ag_softmax_cross_entropy", c_ce, 1, {X23}, 0},
    {"ag_conv2d", c_conv2d, 3, {S(1, 2, 4, 4), S(3, 2, 3, 3), S(3)}, 2},
    {"ag_conv1d", c_conv1d, 3, {S(2, 2, 5), S(3, 2, 2), S(3)}, 2},
    {"ag_maxpool2d", c_maxpool, 1, {S(1, 2, 4, 4)}, 0},
    {"ag_avgpool2d", c_avgpool, 1, {S(1, 2, 4, 4)}, 0},
    {"ag_global_avgpool2d", c_gap, 1, {S(1, 2, 4, 4)}, 0},
};
#define N_GENERIC (sizeof generic / sizeof generic[0])

enum { BAD_NULL, BAD_FOREIGN, BAD_STALE, BAD_POISONED, N_BAD };
static const char *const bad_name[N_BAD] = {"NULL", "another tape's", "stale", "poisoned"};

/* The bad tensor of kind k, shaped like a valid argument. other is a second
 * tape; stale tensors are made on t and outlive a reset of t. Their header
 * sits past what the case allocates after the reset but inside the tape's
 * first arena chunk, which a reset keeps: the memory is still the tape's
 * and its old generation is what gives it away. (A step that spanned
 * several chunks has them merged by the reset, and a tensor from it then
 * points to freed memory: no check can help there.) */
static ag_tensor *bad_tensor(int k, ag_tape *t, ag_tape *other, shp sh)
{
    switch (k) {
    case BAD_NULL: return NULL;
    case BAD_FOREIGN: return mk(other, sh);
    case BAD_STALE: {
        ag_tensor_new(t, AG_SHAPE(4096)); /* 16 KB, inside the first arena chunk */
        return mk(t, sh);
    }
    default: {
        ag_tensor *p = ag_reshape(other, mk(other, sh), AG_SHAPE(7));
        cr_assert(ag_is_poisoned(p));
        return p;
    }
    }
}

static const int bad_code[N_BAD] = {AG_EINVAL, AG_ESTATE, AG_ESTATE, AG_ESTATE};
static const char *const bad_words[N_BAD] = {"NULL", "another tape", "ag_tape_reset",
                                             "poisoned"};

Test(bad_input, generic_table, .init = NULL)
{
    ag_set_allocator(capped, NULL);
    n_cases = 0;
    for (size_t e = 0; e < N_GENERIC; e++) {
        const gen_entry *g = &generic[e];
        ag_tensor *a[3];
        char name[128];

        /* valid arguments: the call succeeds (so the table itself is right) */
        ag_tape *t = ag_tape_new();
        for (int i = 0; i < g->n; i++) a[i] = mk(t, g->shape[i]);
        ag_tensor *y = g->call(t, a);
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s: valid call failed: %s", g->fn,
                     ag_tape_errmsg(t));
        cr_assert(!ag_is_poisoned(y), "%s: valid call poisoned", g->fn);

        /* the tape failed before: nothing changes, a poisoned result */
        ag_reshape(t, a[0], AG_SHAPE(1000));
        char first[256];
        snprintf(first, sizeof first, "%s", ag_tape_errmsg(t));
        y = g->call(t, a);
        n_cases++;
        cr_assert(ag_is_poisoned(y) && strcmp(first, ag_tape_errmsg(t)) == 0,
                  "%s on a failed tape: message became '%s'", g->fn, ag_tape_errmsg(t));
        ag_tape_free(t);

        /* a NULL tape: a poisoned result, no crash */
        for (int i = 0; i < g->n; i++) a[i] = NULL;
        n_cases++;
        cr_assert(ag_is_poisoned(g->call(NULL, a)), "%s with a NULL tape", g->fn);

        for (int pos = 0; pos < g->n; pos++) {
            for (int k = 0; k < N_BAD; k++) {
                if (k == BAD_NULL && pos > 0 && pos == g->optional)
                    continue; /* NULL means "none" there */
                t = ag_tape_new();
                ag_tape *other = ag_tape_new();
                ag_tensor *bad = bad_tensor(k, t, other, g->shape[pos]);
                if (k == BAD_STALE)
                    ag_tape_reset(t);
                for (int i = 0; i < g->n; i++) a[i] = i == pos ? bad : mk(t, g->shape[i]);
                snprintf(name, sizeof name, "%s, argument %d %s", g->fn, pos, bad_name[k]);
                y = g->call(t, a);
                expect(name, t, y, bad_code[k], (const char *const[]){g->fn, bad_words[k], NULL});
                ag_tape_free(other);
                ag_tape_free(t);
            }
        }
    }
    cr_log_info("generic table: %zu functions, %zu cases", N_GENERIC, n_cases);
    fprintf(stderr, "bad_input generic: %zu functions, %zu cases\n", N_GENERIC, n_cases);
    ag_set_allocator(NULL, NULL);
}

/* ---- the specific table ---- */

typedef struct spec_entry {
    const char *what;
    int code;
    const char *subs[6]; /* the function's name first, then offending values */
    ag_tensor *(*call)(ag_tape *t);
} spec_entry;

#define BIG ((size_t)1 << 62)
#define SPEC(fname, expr) \
    static ag_tensor *fname(ag_tape *t) { return expr; }
#define T(...) mk(t, (shp)S(__VA_ARGS__))

/* elementwise */
SPEC(s_add_bcast, ag_add(t, T(2, 3), T(4, 3)))
SPEC(s_sub_bcast, ag_sub(t, T(2, 3), T(2)))
SPEC(s_mul_bcast, ag_mul(t, T(3, 2, 1), T(2, 2, 4)))
SPEC(s_div_bcast, ag_div(t, T(5), T(4)))
SPEC(s_max_bcast, ag_maximum(t, T(2, 3), T(3, 2)))
SPEC(s_where_bcast, ag_where(t, T(2, 3), T(2, 3), T(2)))
SPEC(s_lerp_bcast, ag_lerp(t, T(2, 3), T(3), T(2, 1, 2)))
/* reductions */
SPEC(s_sum_axis, ag_sum(t, T(2, 3), (const int[]){2}, 1, 0))
SPEC(s_sum_negaxis, ag_sum(t, T(2, 3), (const int[]){-3}, 1, 0))
SPEC(s_sum_dup, ag_sum(t, T(2, 3), (const int[]){1, -1}, 2, 0))
SPEC(s_sum_naxes, ag_sum(t, T(2, 3), (const int[]){0, 1, 0, 1, 0, 1, 0, 1, 0}, 9, 0))
SPEC(s_sum_negn, ag_sum(t, T(2, 3), (const int[]){0}, -1, 0))
SPEC(s_sum_null, ag_sum(t, T(2, 3), NULL, 1, 0))
SPEC(s_mean_axis, ag_mean(t, T(2, 3), (const int[]){5}, 1, 1))
SPEC(s_max_axis, ag_max(t, T(2, 3), (const int[]){-7}, 1, 0))
SPEC(s_max_huge_axis, ag_max(t, T(2, 3), (const int[]){INT32_MIN}, 1, 0))
SPEC(s_max_empty, ag_max(t, T(2, 0), (const int[]){1}, 1, 0))
/* matmul */
SPEC(s_mm_inner, ag_matmul(t, T(2, 3), T(4, 5)))
SPEC(s_mm_1d, ag_matmul(t, T(3), T(3, 2)))
SPEC(s_mm_0d, ag_matmul(t, T(2, 3), ag_scalar(t, 1)))
SPEC(s_mm_batch, ag_matmul(t, T(2, 2, 3), T(3, 3, 4)))
SPEC(s_mm_trans, ag_matmul_t(t, T(2, 3), T(3, 4), 0, 1))
/* movement */
SPEC(s_reshape_numel, ag_reshape(t, T(2, 3), AG_SHAPE(4, 2)))
SPEC(s_reshape_2infer, ag_reshape(t, T(2, 3), AG_SHAPE(AG_INFER, AG_INFER)))
SPEC(s_reshape_infer0, ag_reshape(t, T(2, 3), AG_SHAPE(0, AG_INFER)))
SPEC(s_reshape_ovf, ag_reshape(t, T(2, 3), AG_SHAPE(BIG, 8)))
SPEC(s_reshape_nd9, ag_reshape(t, T(2, 3), AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 2, 3)))
SPEC(s_reshape_ndneg, ag_reshape(t, T(2, 3), (const size_t[]){6}, -1))
SPEC(s_reshape_null, ag_reshape(t, T(2, 3), NULL, 2))
SPEC(s_permute_len, ag_permute(t, T(2, 3), (const int[]){0}, 1))
SPEC(s_permute_dup, ag_permute(t, T(2, 3), (const int[]){1, 1}, 2))
SPEC(s_permute_range, ag_permute(t, T(2, 3), (const int[]){0, 2}, 2))
SPEC(s_permute_neg, ag_permute(t, T(2, 3), (const int[]){-3, 0}, 2))
SPEC(s_permute_null, ag_permute(t, T(2, 3), NULL, 2))
SPEC(s_transpose_range, ag_transpose(t, T(2, 3), 0, 2))
SPEC(s_transpose_neg, ag_transpose(t, T(2, 3), -3, 0))
SPEC(s_slice_axis, ag_slice(t, T(2, 3), 2, 0, 1))
SPEC(s_slice_start, ag_slice(t, T(2, 3), 1, 4, 0))
SPEC(s_slice_len, ag_slice(t, T(2, 3), 1, 2, 2))
SPEC(s_slice_wrap, ag_slice(t, T(2, 3), 1, 1, SIZE_MAX))
SPEC(s_pad_null, ag_pad(t, T(2, 3), NULL, (const size_t[]){1, 1}, 0))
SPEC(s_pad_huge, ag_pad(t, T(2, 3), (const size_t[]){0, SIZE_MAX}, (const size_t[]){0, 0}, 0))
SPEC(s_pad_ovf, ag_pad(t, T(2, 3), (const size_t[]){BIG / 8, BIG / 8}, (const size_t[]){0, 0}, 0))
SPEC(s_pad_nomem, ag_pad(t, T(2, 3), (const size_t[]){(size_t)1 << 20, (size_t)1 << 20},
                         (const size_t[]){0, 0}, 0))
SPEC(s_concat_zero, ag_concat(t, (ag_tensor *[]){T(2)}, 0, 0))
SPEC(s_concat_nullarr, ag_concat(t, NULL, 2, 0))
SPEC(s_concat_ndim, ag_concat(t, (ag_tensor *[]){T(2, 3), T(3)}, 2, 0))
SPEC(s_concat_off, ag_concat(t, (ag_tensor *[]){T(2, 3), T(2, 4)}, 2, 0))
SPEC(s_concat_axis, ag_concat(t, (ag_tensor *[]){T(2, 3), T(2, 3)}, 2, 2))
SPEC(s_concat_scalar, ag_concat(t, (ag_tensor *[]){ag_scalar(t, 1), ag_scalar(t, 2)}, 2, 0))
SPEC(s_stack_zero, ag_stack(t, (ag_tensor *[]){T(2)}, 0, 0))
SPEC(s_stack_shape, ag_stack(t, (ag_tensor *[]){T(2, 3), T(3, 2)}, 2, 0))
SPEC(s_stack_axis, ag_stack(t, (ag_tensor *[]){T(2, 3), T(2, 3)}, 2, 3))
SPEC(s_stack_negaxis, ag_stack(t, (ag_tensor *[]){T(2, 3), T(2, 3)}, 2, -4))
SPEC(s_stack_dims, ag_stack(t, (ag_tensor *[]){ag_tensor_new(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 2)),
                                               ag_tensor_new(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 2))}, 2, 0))
SPEC(s_gather_axis, ag_gather(t, T(2, 3), 2, idx2, 2))
SPEC(s_gather_neg, ag_gather(t, T(2, 3), 1, (const int64_t[]){0, -1}, 2))
SPEC(s_gather_high, ag_gather(t, T(2, 3), 0, (const int64_t[]){2}, 1))
SPEC(s_gather_min, ag_gather(t, T(2, 3), 0, (const int64_t[]){INT64_MIN}, 1))
SPEC(s_gather_null, ag_gather(t, T(2, 3), 0, NULL, 3))
SPEC(s_scatter_high, ag_scatter_add(t, T(2, 3), 0, (const int64_t[]){0, 5}, 5))
SPEC(s_scatter_dim, ag_scatter_add(t, T(2, 3), 0, idx2, 1))
SPEC(s_scatter_axis, ag_scatter_add(t, T(2, 3), -3, idx2, 2))
SPEC(s_scatter_null, ag_scatter_add(t, T(2, 3), 0, NULL, 2))
SPEC(s_bern_p, ag_bernoulli(t, AG_SHAPE(2, 3), (ag_real)1.5, 1))
SPEC(s_bern_negp, ag_bernoulli(t, AG_SHAPE(2, 3), (ag_real)-0.25, 1))
SPEC(s_bern_nanp, ag_bernoulli(t, AG_SHAPE(2, 3), (ag_real)NAN, 1))
SPEC(s_bern_ovf, ag_bernoulli(t, AG_SHAPE(BIG, BIG), (ag_real)0.5, 1))
SPEC(s_bern_nomem, ag_bernoulli(t, AG_SHAPE((size_t)1 << 30, 64), (ag_real)0.5, 1))
SPEC(s_bern_nd, ag_bernoulli(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1), (ag_real)0.5, 1))
/* windows */
SPEC(s_unfold_3d, ag_unfold(t, T(1, 3, 3), &win2))
SPEC(s_unfold_k0, ag_unfold(t, T(1, 1, 3, 3), &(ag_window2d){.kh = 0, .kw = 2}))
SPEC(s_unfold_big, ag_unfold(t, T(1, 1, 3, 3), &(ag_window2d){.kh = 4, .kw = 2}))
SPEC(s_unfold_null, ag_unfold(t, T(1, 1, 3, 3), NULL))
SPEC(s_unfold_pad, ag_unfold(t, T(1, 1, 3, 3), &(ag_window2d){.kh = 2, .kw = 2, .pad_h = SIZE_MAX}))
SPEC(s_unfold_dil, ag_unfold(t, T(1, 1, 3, 3), &(ag_window2d){.kh = 2, .kw = 2, .dil_w = SIZE_MAX}))
SPEC(s_unfold_kbig, ag_unfold(t, T(1, 1, 3, 3), &(ag_window2d){.kh = BIG, .kw = BIG}))
SPEC(s_unfold_nomem, ag_unfold(t, T(1, 1, 3, 3),
                               &(ag_window2d){.kh = 1, .kw = 1, .pad_h = 1 << 16, .pad_w = 1 << 16}))
SPEC(s_fold_shape, ag_fold(t, T(1, 8, 5), 3, 3, &win2))
SPEC(s_fold_2d, ag_fold(t, T(8, 4), 3, 3, &win2))
SPEC(s_fold_null, ag_fold(t, T(1, 8, 4), 3, 3, NULL))
SPEC(s_fold_hw, ag_fold(t, T(1, 8, 4), 1, 1, &win2))
SPEC(s_fold_huge, ag_fold(t, T(1, 8, 4), SIZE_MAX, SIZE_MAX, &win2))
/* tensors */
SPEC(s_new_nd, ag_tensor_new(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1)))
SPEC(s_new_negnd, ag_tensor_new(t, (const size_t[]){1}, -2))
SPEC(s_new_null, ag_tensor_new(t, NULL, 2))
SPEC(s_new_ovf, ag_tensor_new(t, AG_SHAPE(BIG, 4, 4)))
SPEC(s_new_nomem, ag_tensor_new(t, AG_SHAPE((size_t)1 << 20, (size_t)1 << 20)))
SPEC(s_from_null, ag_tensor_from(t, NULL, AG_SHAPE(2)))
SPEC(s_wrap_null, ag_tensor_wrap(t, NULL, AG_SHAPE(2)))
SPEC(s_wrap_ovf, ag_tensor_wrap(t, (ag_real[1]){0}, AG_SHAPE(SIZE_MAX, SIZE_MAX)))
/* layers and losses */
static ag_tensor *lin_w1(ag_tape *t) { return ag_linear(t, T(2, 3), T(3), NULL); }
static ag_tensor *lin_in(ag_tape *t) { return ag_linear(t, T(2, 5), T(4, 3), NULL); }
static ag_tensor *lin_bias(ag_tape *t) { return ag_linear(t, T(2, 3), T(4, 3), T(3)); }
static ag_tensor *lin_x0(ag_tape *t) { return ag_linear(t, ag_scalar(t, 1), T(4, 3), NULL); }
static ag_tensor *dense_null(ag_tape *t) { return ag_dense_forward(t, NULL, T(2, 3)); }
static ag_tensor *dense_zero(ag_tape *t) { return ag_dense_forward(t, &(ag_dense){0}, T(2, 3)); }
SPEC(s_act, ag_activate(t, T(2, 3), (ag_activation)99))
SPEC(s_dropout_p1, ag_dropout(t, T(2, 3), 1.0, 1))
SPEC(s_dropout_neg, ag_dropout(t, T(2, 3), -0.5, 1))
SPEC(s_dropout_nan, ag_dropout(t, T(2, 3), NAN, 0))
SPEC(s_flatten_0d, ag_flatten(t, ag_scalar(t, 1)))
SPEC(s_softmax_axis, ag_softmax(t, T(2, 3), 2))
SPEC(s_logsoftmax_axis, ag_log_softmax(t, T(2, 3), -3))
SPEC(s_mse_shape, ag_mse_loss(t, T(2, 3), T(3, 2)))
SPEC(s_mse_bcast, ag_mse_loss(t, T(2, 3), T(3)))
SPEC(s_bce_shape, ag_bce_loss(t, T(2, 3), T(2, 1)))
SPEC(s_bcel_shape, ag_bce_with_logits_loss(t, T(4), T(2, 2)))
SPEC(s_ce_1d, ag_softmax_cross_entropy(t, T(3), labels2))
SPEC(s_ce_null, ag_softmax_cross_entropy(t, T(2, 3), NULL))
SPEC(s_ce_neg, ag_softmax_cross_entropy(t, T(2, 3), (const int32_t[]){0, -1}))
SPEC(s_ce_high, ag_softmax_cross_entropy(t, T(2, 3), (const int32_t[]){3, 0}))
SPEC(s_ce_empty, ag_softmax_cross_entropy(t, T(0, 3), labels2))
SPEC(s_conv_3d, ag_conv2d_fn(t, T(2, 4, 4), T(3, 2, 3, 3), NULL, 1, 0, 1))
SPEC(s_conv_w3d, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 2, 3), NULL, 1, 0, 1))
SPEC(s_conv_chan, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 1, 3, 3), NULL, 1, 0, 1))
SPEC(s_conv_bias, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 2, 3, 3), T(2), 1, 0, 1))
SPEC(s_conv_kbig, ag_conv2d_fn(t, T(1, 2, 2, 2), T(3, 2, 3, 3), NULL, 1, 0, 1))
SPEC(s_conv_dil, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 2, 3, 3), NULL, 1, 0, SIZE_MAX))
SPEC(s_conv_pad, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 2, 3, 3), NULL, 1, SIZE_MAX / 2, 1))
SPEC(s_conv_nomem, ag_conv2d_fn(t, T(1, 2, 4, 4), T(3, 2, 3, 3), NULL, 1, 1 << 15, 1))
SPEC(s_conv1_2d, ag_conv1d_fn(t, T(2, 5), T(3, 2, 2), NULL, 1, 0, 1))
SPEC(s_conv1_chan, ag_conv1d_fn(t, T(1, 2, 5), T(3, 4, 2), NULL, 1, 0, 1))
SPEC(s_conv1_kbig, ag_conv1d_fn(t, T(1, 2, 2), T(3, 2, 4), NULL, 1, 0, 1))
SPEC(s_maxpool_3d, ag_maxpool2d(t, T(2, 4, 4), 2, 0, 0))
SPEC(s_maxpool_k0, ag_maxpool2d(t, T(1, 1, 4, 4), 0, 0, 0))
SPEC(s_maxpool_pad, ag_maxpool2d(t, T(1, 1, 4, 4), 2, 0, 2))
SPEC(s_maxpool_kbig, ag_maxpool2d(t, T(1, 1, 4, 4), 5, 0, 0))
SPEC(s_maxpool_khuge, ag_maxpool2d(t, T(1, 1, 4, 4), BIG, 0, 0))
SPEC(s_avgpool_3d, ag_avgpool2d(t, T(4, 4, 1), 2, 0, 0))
SPEC(s_avgpool_kbig, ag_avgpool2d(t, T(1, 1, 2, 2), 3, 1, 0))
SPEC(s_gap_2d, ag_global_avgpool2d(t, T(2, 3)))

#define E AG_EINVAL
#define M AG_ENOMEM
static const spec_entry specific[] = {
    {"add broadcast", E, {"ag_add", "[2,3]", "[4,3]"}, s_add_bcast},
    {"sub broadcast", E, {"ag_sub", "[2,3]", "[2]"}, s_sub_bcast},
    {"mul broadcast", E, {"ag_mul", "[3,2,1]", "[2,2,4]"}, s_mul_bcast},
    {"div broadcast", E, {"ag_div", "[5]", "[4]"}, s_div_bcast},
    {"maximum broadcast", E, {"ag_maximum", "[2,3]", "[3,2]"}, s_max_bcast},
    {"where broadcast", E, {"ag_where", "[2,3]", "[2]"}, s_where_bcast},
    {"lerp broadcast", E, {"ag_lerp", "[2,3]", "[2,1,2]"}, s_lerp_bcast},
    {"sum axis 2", E, {"ag_sum", "axis 2", "[2,3]"}, s_sum_axis},
    {"sum axis -3", E, {"ag_sum", "-3", "[2,3]"}, s_sum_negaxis},
    {"sum duplicate axis", E, {"ag_sum", "twice"}, s_sum_dup},
    {"sum 9 axes", E, {"ag_sum", "n_axes 9", "[2,3]"}, s_sum_naxes},
    {"sum -1 axes", E, {"ag_sum", "n_axes -1", "[2,3]"}, s_sum_negn},
    {"sum NULL axes", E, {"ag_sum", "NULL"}, s_sum_null},
    {"mean axis 5", E, {"ag_mean", "5", "[2,3]"}, s_mean_axis},
    {"max axis -7", E, {"ag_max", "-7", "[2,3]"}, s_max_axis},
    {"max axis INT_MIN", E, {"ag_max", "-2147483648", "[2,3]"}, s_max_huge_axis},
    {"max of an empty axis", E, {"ag_max", "[2,0]", "empty"}, s_max_empty},
    {"matmul inner", E, {"ag_matmul", "[2,3]", "[4,5]"}, s_mm_inner},
    {"matmul 1-d", E, {"ag_matmul", "[3]", "[3,2]"}, s_mm_1d},
    {"matmul 0-d", E, {"ag_matmul", "[2,3]", "[]"}, s_mm_0d},
    {"matmul batch", E, {"ag_matmul", "[2,2,3]", "[3,3,4]"}, s_mm_batch},
    {"matmul transposed inner", E, {"ag_matmul", "[2,3]", "[3,4]^T"}, s_mm_trans},
    {"reshape numel", E, {"ag_reshape", "[2,3]", "[4,2]"}, s_reshape_numel},
    {"reshape two AG_INFER", E, {"ag_reshape", "AG_INFER"}, s_reshape_2infer},
    {"reshape infer with 0", E, {"ag_reshape", "[2,3]", "infer"}, s_reshape_infer0},
    {"reshape overflow", E, {"ag_reshape", "overflow", "[2,3]"}, s_reshape_ovf},
    {"reshape 9 dims", E, {"ag_reshape", "ndim 9"}, s_reshape_nd9},
    {"reshape -1 dims", E, {"ag_reshape", "ndim -1"}, s_reshape_ndneg},
    {"reshape NULL shape", E, {"ag_reshape", "NULL"}, s_reshape_null},
    {"permute length", E, {"ag_permute", "[2,3]", "1"}, s_permute_len},
    {"permute duplicate", E, {"ag_permute", "[2,3]", "1"}, s_permute_dup},
    {"permute range", E, {"ag_permute", "[2,3]", "2"}, s_permute_range},
    {"permute negative", E, {"ag_permute", "[2,3]", "-3"}, s_permute_neg},
    {"permute NULL", E, {"ag_permute", "NULL"}, s_permute_null},
    {"transpose range", E, {"ag_transpose", "2", "[2,3]"}, s_transpose_range},
    {"transpose negative", E, {"ag_transpose", "-3", "[2,3]"}, s_transpose_neg},
    {"slice axis", E, {"ag_slice", "axis 2", "[2,3]"}, s_slice_axis},
    {"slice start", E, {"ag_slice", "4", "[2,3]"}, s_slice_start},
    {"slice length", E, {"ag_slice", "2 + 2", "[2,3]"}, s_slice_len},
    {"slice wrap", E, {"ag_slice", "18446744073709551615", "[2,3]"}, s_slice_wrap},
    {"pad NULL", E, {"ag_pad", "NULL", "[2,3]"}, s_pad_null},
    {"pad SIZE_MAX", E, {"ag_pad", "axis 1", "[2,3]"}, s_pad_huge},
    {"pad overflow", E, {"ag_pad", "too large"}, s_pad_ovf},
    {"pad out of memory", M, {"ag_pad", "out of memory"}, s_pad_nomem},
    {"concat 0 inputs", E, {"ag_concat", "0"}, s_concat_zero},
    {"concat NULL array", E, {"ag_concat", "NULL"}, s_concat_nullarr},
    {"concat ndim", E, {"ag_concat", "[2,3]", "[3]"}, s_concat_ndim},
    {"concat off-axis", E, {"ag_concat", "[2,3]", "[2,4]"}, s_concat_off},
    {"concat axis", E, {"ag_concat", "axis 2", "[2,3]"}, s_concat_axis},
    {"concat scalars", E, {"ag_concat", "axis 0", "[]"}, s_concat_scalar},
    {"stack 0 inputs", E, {"ag_stack", "0"}, s_stack_zero},
    {"stack shapes", E, {"ag_stack", "[2,3]", "[3,2]"}, s_stack_shape},
    {"stack axis", E, {"ag_stack", "axis 3", "[2,3]"}, s_stack_axis},
    {"stack axis -4", E, {"ag_stack", "axis -4", "[2,3]"}, s_stack_negaxis},
    {"stack dims", E, {"ag_stack", "[1,1,1,1,1,1,1,2]", "8"}, s_stack_dims},
    {"gather axis", E, {"ag_gather", "axis 2", "[2,3]"}, s_gather_axis},
    {"gather negative index", E, {"ag_gather", "index -1", "[2,3]"}, s_gather_neg},
    {"gather index high", E, {"ag_gather", "index 2", "[2,3]"}, s_gather_high},
    {"gather INT64_MIN", E, {"ag_gather", "-9223372036854775808"}, s_gather_min},
    {"gather NULL", E, {"ag_gather", "NULL", "3"}, s_gather_null},
    {"scatter index high", E, {"ag_scatter_add", "index 5", "[0, 5)"}, s_scatter_high},
    {"scatter dim", E, {"ag_scatter_add", "index 1", "[0, 1)"}, s_scatter_dim},
    {"scatter axis", E, {"ag_scatter_add", "axis -3", "[2,3]"}, s_scatter_axis},
    {"scatter NULL", E, {"ag_scatter_add", "NULL"}, s_scatter_null},
    {"bernoulli p 1.5", E, {"ag_bernoulli", "1.5"}, s_bern_p},
    {"bernoulli p -0.25", E, {"ag_bernoulli", "-0.25"}, s_bern_negp},
    {"bernoulli p NaN", E, {"ag_bernoulli", "nan"}, s_bern_nanp},
    {"bernoulli overflow", E, {"ag_bernoulli", "too large"}, s_bern_ovf},
    {"bernoulli out of memory", M, {"ag_bernoulli", "out of memory"}, s_bern_nomem},
    {"bernoulli 9 dims", E, {"ag_bernoulli", "ndim 9"}, s_bern_nd},
    {"unfold 3-d", E, {"ag_unfold", "[1,3,3]"}, s_unfold_3d},
    {"unfold kernel 0", E, {"ag_unfold", "0x2"}, s_unfold_k0},
    {"unfold kernel too big", E, {"ag_unfold", "4x2", "3x3"}, s_unfold_big},
    {"unfold NULL window", E, {"ag_unfold", "0x0"}, s_unfold_null},
    {"unfold huge padding", E, {"ag_unfold", "beyond", "[1,1,3,3]"}, s_unfold_pad},
    {"unfold huge dilation", E, {"ag_unfold", "beyond", "[1,1,3,3]"}, s_unfold_dil},
    {"unfold huge kernel", E, {"ag_unfold", "4611686018427387904"}, s_unfold_kbig},
    {"unfold out of memory", M, {"ag_unfold", "out of memory"}, s_unfold_nomem},
    {"fold columns", E, {"ag_fold", "[1,8,5]"}, s_fold_shape},
    {"fold 2-d", E, {"ag_fold", "[8,4]"}, s_fold_2d},
    {"fold NULL window", E, {"ag_fold", "0x0"}, s_fold_null},
    {"fold image too small", E, {"ag_fold", "1x1"}, s_fold_hw},
    {"fold huge image", E, {"ag_fold", "beyond", "[1,8,4]"}, s_fold_huge},
    {"tensor_new 9 dims", E, {"ag_tensor_new", "ndim 9"}, s_new_nd},
    {"tensor_new -2 dims", E, {"ag_tensor_new", "ndim -2"}, s_new_negnd},
    {"tensor_new NULL shape", E, {"ag_tensor_new", "NULL"}, s_new_null},
    {"tensor_new overflow", E, {"ag_tensor_new", "[4611686018427387904,4,4]"}, s_new_ovf},
    {"tensor_new out of memory", M, {"ag_tensor_new", "out of memory"}, s_new_nomem},
    {"tensor_from NULL", E, {"ag_tensor_from", "NULL"}, s_from_null},
    {"tensor_wrap NULL", E, {"ag_tensor_wrap", "NULL"}, s_wrap_null},
    {"tensor_wrap overflow", E, {"ag_tensor_wrap", "too large"}, s_wrap_ovf},
    {"linear 1-d weight", E, {"ag_linear", "[3]"}, lin_w1},
    {"linear features", E, {"ag_linear", "[2,5]", "[4,3]"}, lin_in},
    {"linear bias", E, {"ag_linear", "[3]", "[4,3]", "want [4]"}, lin_bias},
    {"linear scalar input", E, {"ag_linear", "[]", "[4,3]"}, lin_x0},
    {"dense NULL layer", E, {"ag_dense_forward", "NULL"}, dense_null},
    {"dense zeroed layer", E, {"ag_dense_forward", "not initialised"}, dense_zero},
    {"activate unknown", E, {"ag_activate", "99"}, s_act},
    {"dropout p 1", E, {"ag_dropout", "1"}, s_dropout_p1},
    {"dropout p -0.5", E, {"ag_dropout", "-0.5"}, s_dropout_neg},
    {"dropout p NaN", E, {"ag_dropout", "nan"}, s_dropout_nan},
    {"flatten scalar", E, {"ag_flatten", "scalar"}, s_flatten_0d},
    {"softmax axis", E, {"ag_softmax", "axis 2", "[2,3]"}, s_softmax_axis},
    {"log_softmax axis", E, {"ag_log_softmax", "axis -3", "[2,3]"}, s_logsoftmax_axis},
    {"mse shapes", E, {"ag_mse_loss", "[2,3]", "[3,2]"}, s_mse_shape},
    {"mse broadcast", E, {"ag_mse_loss", "[2,3]", "[3]"}, s_mse_bcast},
    {"bce shapes", E, {"ag_bce_loss", "[2,3]", "[2,1]"}, s_bce_shape},
    {"bce logits shapes", E, {"ag_bce_with_logits_loss", "[4]", "[2,2]"}, s_bcel_shape},
    {"cross-entropy 1-d", E, {"ag_softmax_cross_entropy", "[3]"}, s_ce_1d},
    {"cross-entropy NULL labels", E, {"ag_softmax_cross_entropy", "NULL"}, s_ce_null},
    {"cross-entropy label -1", E, {"ag_softmax_cross_entropy", "label -1", "row 1"}, s_ce_neg},
    {"cross-entropy label 3", E, {"ag_softmax_cross_entropy", "label 3", "row 0"}, s_ce_high},
    {"cross-entropy empty batch", E, {"ag_softmax_cross_entropy", "[0,3]"}, s_ce_empty},
    {"conv2d 3-d input", E, {"ag_conv2d", "[2,4,4]"}, s_conv_3d},
    {"conv2d 3-d weight", E, {"ag_conv2d", "[3,2,3]"}, s_conv_w3d},
    {"conv2d channels", E, {"ag_conv2d", "[1,2,4,4]", "[3,1,3,3]"}, s_conv_chan},
    {"conv2d bias", E, {"ag_conv2d", "[2]", "[3,2,3,3]"}, s_conv_bias},
    {"conv2d kernel too big", E, {"ag_conv2d", "[1,2,2,2]", "[3,2,3,3]"}, s_conv_kbig},
    {"conv2d huge dilation", E, {"ag_conv2d", "18446744073709551615"}, s_conv_dil},
    {"conv2d huge padding", E, {"ag_conv2d", "9223372036854775807"}, s_conv_pad},
    {"conv2d out of memory", M, {"out of memory"}, s_conv_nomem},
    {"conv1d 2-d input", E, {"ag_conv1d", "[2,5]"}, s_conv1_2d},
    {"conv1d channels", E, {"ag_conv1d", "[1,2,5]", "[3,4,2]"}, s_conv1_chan},
    {"conv1d kernel too big", E, {"ag_conv1d", "[1,2,2]", "[3,2,4]"}, s_conv1_kbig},
    {"maxpool 3-d", E, {"ag_maxpool2d", "[2,4,4]"}, s_maxpool_3d},
    {"maxpool kernel 0", E, {"ag_maxpool2d", "kernel 0x0"}, s_maxpool_k0},
    {"maxpool padding", E, {"ag_maxpool2d", "padding 2"}, s_maxpool_pad},
    {"maxpool kernel too big", E, {"ag_maxpool2d", "kernel 5x5", "[1,1,4,4]"}, s_maxpool_kbig},
    {"maxpool huge kernel", E, {"ag_maxpool2d", "4611686018427387904"}, s_maxpool_khuge},
    {"avgpool 3-d", E, {"ag_avgpool2d", "[4,4,1]"}, s_avgpool_3d},
    {"avgpool kernel too big", E, {"ag_avgpool2d", "kernel 3x3", "[1,1,2,2]"}, s_avgpool_kbig},
    {"global avgpool 2-d", E, {"ag_global_avgpool2d", "[2,3]"}, s_gap_2d},
};
#define N_SPECIFIC (sizeof specific / sizeof specific[0])

Test(bad_input, specific_table)
{
    ag_set_allocator(capped, NULL);
    n_cases = 0;
    for (size_t e = 0; e < N_SPECIFIC; e++) {
        const spec_entry *s = &specific[e];
        ag_tape *t = ag_tape_new();
        ag_tensor *y = s->call(t);
        expect(s->what, t, y, s->code, s->subs);
        /* backward from a poisoned result reports the tape's error */
        cr_expect_eq(ag_backward(t, y), s->code, "%s: backward", s->what);
        ag_tape_free(t);
    }
    fprintf(stderr, "bad_input specific: %zu cases\n", n_cases);
    ag_set_allocator(NULL, NULL);
}

/* ---- zero-size dims ----
 * Inputs with a zero-size dim are legal tensors. Each function must either
 * compute the right (usually empty) result, with backward running too, or
 * fail cleanly naming itself. The inputs are parameters, so that backward
 * has somewhere to go. */

static ag_tensor *zp[4];
static int n_zp;

/* Parameter of shape sh (registered to be freed after the case). */
static ag_tensor *Z(shp sh)
{
    ag_tensor *p = ag_param_new(sh.s, sh.nd);
    cr_assert_not_null(p);
    fill_uniform(ag_data(p), ag_numel(p), 0.5, 1.5, 3);
    zp[n_zp++] = p;
    return p;
}
#define P(...) Z((shp)S(__VA_ARGS__))

typedef struct zero_entry {
    const char *fn;   /* the name an error must contain */
    int expect_error; /* 1: must fail (an empty max, an empty batch) */
    shp out;          /* expected shape on success */
    ag_tensor *(*call)(ag_tape *t);
} zero_entry;

SPEC(z_neg, ag_neg(t, P(0, 3)))
SPEC(z_log, ag_log(t, P(0, 3)))
SPEC(z_sigmoid, ag_sigmoid(t, P(3, 0)))
SPEC(z_pow, ag_pow_scalar(t, P(0), 3))
SPEC(z_add, ag_add(t, P(0, 3), P(3)))
SPEC(z_mul, ag_mul(t, P(0, 3), P(1, 3)))
SPEC(z_div_bcast0, ag_div(t, P(2, 1), P(0)))
SPEC(z_maximum, ag_maximum(t, P(0, 3), P(0, 3)))
SPEC(z_sum_keep, ag_sum(t, P(0, 3), (const int[]){1}, 1, 0))
SPEC(z_sum_empty, ag_sum(t, P(0, 3), (const int[]){0}, 1, 0))
SPEC(z_sum_all, ag_sum_all(t, P(0, 3)))
SPEC(z_mean_keep, ag_mean(t, P(0, 3), (const int[]){1}, 1, 1))
SPEC(z_max_keep, ag_max(t, P(0, 3), (const int[]){1}, 1, 0))
SPEC(z_max_empty, ag_max(t, P(0, 3), (const int[]){0}, 1, 0))
SPEC(z_max_all, ag_max(t, P(2, 0), NULL, 0, 0))
SPEC(z_mm_m, ag_matmul(t, P(0, 3), P(3, 4)))
SPEC(z_mm_k, ag_matmul(t, P(2, 0), P(0, 4)))
SPEC(z_mm_batch, ag_matmul_t(t, P(0, 2, 3), P(0, 4, 3), 0, 1))
SPEC(z_reshape, ag_reshape(t, P(0, 3), AG_SHAPE(3, 0, 5)))
SPEC(z_reshape_infer, ag_reshape(t, P(0, 3), AG_SHAPE(AG_INFER, 3)))
SPEC(z_permute, ag_permute(t, P(0, 3, 2), (const int[]){2, 0, 1}, 3))
SPEC(z_slice, ag_slice(t, P(2, 3), 1, 3, 0))
SPEC(z_pad, ag_pad(t, P(0, 3), (const size_t[]){1, 1}, (const size_t[]){0, 1}, 7))
SPEC(z_concat, ag_concat(t, (ag_tensor *[]){P(0, 3), P(2, 3)}, 2, 0))
SPEC(z_stack, ag_stack(t, (ag_tensor *[]){P(0, 3), P(0, 3)}, 2, 1))
SPEC(z_gather, ag_gather(t, P(2, 3), 1, NULL, 0))
SPEC(z_gather_from_empty, ag_gather(t, P(0, 3), 1, idx2, 2))
SPEC(z_scatter, ag_scatter_add(t, P(0, 3), 0, NULL, 4))
SPEC(z_where, ag_where(t, P(0, 3), P(0, 3), P(3)))
SPEC(z_lerp, ag_lerp(t, P(0, 3), P(3), P(1)))
SPEC(z_bern, ag_mul(t, P(0, 2), ag_bernoulli(t, AG_SHAPE(0, 2), (ag_real)0.5, 2)))
SPEC(z_unfold, ag_unfold(t, P(0, 1, 3, 3), &win2))
SPEC(z_unfold_c0, ag_unfold(t, P(1, 0, 3, 3), &win2))
SPEC(z_fold, ag_fold(t, P(0, 4, 4), 3, 3, &win2))
SPEC(z_linear, ag_linear(t, P(0, 3), P(4, 3), P(4)))
SPEC(z_linear_in0, ag_linear(t, P(2, 0), P(4, 0), NULL))
SPEC(z_conv2d, ag_conv2d_fn(t, P(0, 2, 4, 4), P(3, 2, 3, 3), P(3), 1, 0, 1))
SPEC(z_conv2d_oc0, ag_conv2d_fn(t, P(1, 2, 4, 4), P(0, 2, 3, 3), NULL, 1, 0, 1))
SPEC(z_conv1d, ag_conv1d_fn(t, P(0, 2, 5), P(3, 2, 2), P(3), 1, 0, 1))
SPEC(z_maxpool, ag_maxpool2d(t, P(0, 1, 4, 4), 2, 0, 0))
SPEC(z_avgpool, ag_avgpool2d(t, P(2, 0, 4, 4), 2, 0, 0))
SPEC(z_gap, ag_global_avgpool2d(t, P(0, 2, 4, 4)))
SPEC(z_softmax, ag_softmax(t, P(0, 3), 1))
SPEC(z_log_softmax_empty_axis, ag_log_softmax(t, P(3, 0), 1))
SPEC(z_log_softmax_empty_batch, ag_log_softmax(t, P(0, 3), 1))
SPEC(z_log_softmax_empty_other, ag_log_softmax(t, P(3, 0), 0))
SPEC(z_dropout, ag_dropout(t, P(0, 3), 0.5, 1))
SPEC(z_flatten, ag_flatten(t, P(0, 3, 2)))
SPEC(z_ce, ag_softmax_cross_entropy(t, P(0, 3), labels2))
SPEC(z_ce_c0, ag_softmax_cross_entropy(t, P(2, 0), labels2))

static const zero_entry zeros[] = {
    {"ag_neg", 0, S(0, 3), z_neg},
    {"ag_log", 0, S(0, 3), z_log},
    {"ag_sigmoid", 0, S(3, 0), z_sigmoid},
    {"ag_pow_scalar", 0, S(0), z_pow},
    {"ag_add", 0, S(0, 3), z_add},
    {"ag_mul", 0, S(0, 3), z_mul},
    {"ag_div", 0, S(2, 0), z_div_bcast0},
    {"ag_maximum", 0, S(0, 3), z_maximum},
    {"ag_sum", 0, S(0), z_sum_keep},
    {"ag_sum", 0, S(3), z_sum_empty},
    {"ag_sum", 0, {0, {0}}, z_sum_all},
    {"ag_mean", 0, S(0, 1), z_mean_keep},
    {"ag_max", 0, S(0), z_max_keep},
    {"ag_max", 1, S(0), z_max_empty},
    {"ag_max", 1, S(0), z_max_all},
    {"ag_matmul", 0, S(0, 4), z_mm_m},
    {"ag_matmul", 0, S(2, 4), z_mm_k},
    {"ag_matmul", 0, S(0, 2, 4), z_mm_batch},
    {"ag_reshape", 0, S(3, 0, 5), z_reshape},
    {"ag_reshape", 0, S(0, 3), z_reshape_infer},
    {"ag_permute", 0, S(2, 0, 3), z_permute},
    {"ag_slice", 0, S(2, 0), z_slice},
    {"ag_pad", 0, S(1, 5), z_pad},
    {"ag_concat", 0, S(2, 3), z_concat},
    {"ag_stack", 0, S(0, 2, 3), z_stack},
    {"ag_gather", 0, S(2, 0), z_gather},
    {"ag_gather", 0, S(0, 2), z_gather_from_empty},
    {"ag_scatter_add", 0, S(4, 3), z_scatter},
    {"ag_where", 0, S(0, 3), z_where},
    {"ag_lerp", 0, S(0, 3), z_lerp},
    {"ag_mul", 0, S(0, 2), z_bern},
    {"ag_unfold", 0, S(0, 4, 4), z_unfold},
    {"ag_unfold", 0, S(1, 0, 4), z_unfold_c0},
    {"ag_fold", 0, S(0, 1, 3, 3), z_fold},
    {"ag_linear", 0, S(0, 4), z_linear},
    {"ag_linear", 0, S(2, 4), z_linear_in0},
    {"ag_conv2d", 0, S(0, 3, 2, 2), z_conv2d},
    {"ag_conv2d", 0, S(1, 0, 2, 2), z_conv2d_oc0},
    {"ag_conv1d", 0, S(0, 3, 4), z_conv1d},
    {"ag_maxpool2d", 0, S(0, 1, 2, 2), z_maxpool},
    {"ag_avgpool2d", 0, S(2, 0, 2, 2), z_avgpool},
    {"ag_global_avgpool2d", 0, S(0, 2), z_gap},
    {"ag_softmax", 0, S(0, 3), z_softmax},
    {"ag_log_softmax", 1, S(3, 0), z_log_softmax_empty_axis},
    {"ag_log_softmax", 0, S(0, 3), z_log_softmax_empty_batch},
    {"ag_log_softmax", 0, S(3, 0), z_log_softmax_empty_other},
    {"ag_dropout", 0, S(0, 3), z_dropout},
    {"ag_flatten", 0, S(0, 6), z_flatten},
    {"ag_softmax_cross_entropy", 1, S(0), z_ce},
    {"ag_softmax_cross_entropy", 1, S(0), z_ce_c0},
};
#define N_ZEROS (sizeof zeros / sizeof zeros[0])

Test(bad_input, zero_size_dims)
{
    ag_set_allocator(capped, NULL);
    n_cases = 0;
    for (size_t e = 0; e < N_ZEROS; e++) {
        const zero_entry *z = &zeros[e];
        ag_tape *t = ag_tape_new();
        n_zp = 0;
        ag_tensor *y = z->call(t);
        n_cases++;
        cr_assert_not_null(y, "%s (case %zu): NULL", z->fn, e);
        if (z->expect_error) {
            cr_expect_eq(ag_tape_status(t), AG_EINVAL, "%s (case %zu): status %d (%s)", z->fn, e,
                         ag_tape_status(t), ag_tape_errmsg(t));
            cr_expect(strstr(ag_tape_errmsg(t), z->fn) != NULL, "%s (case %zu): message '%s'",
                      z->fn, e, ag_tape_errmsg(t));
        } else {
            cr_expect_eq(ag_tape_status(t), AG_OK, "%s (case %zu): %s", z->fn, e,
                         ag_tape_errmsg(t));
            char got[96], want[96];
            ag_shape_str(ag_shape(y), ag_ndim(y), got, sizeof got);
            ag_shape_str(z->out.s, z->out.nd, want, sizeof want);
            cr_expect_str_eq(got, want, "%s (case %zu): shape %s, want %s", z->fn, e, got, want);
            /* backward through it reaches the (empty) parameters */
            ag_tensor *loss = ag_sum_all(t, y);
            cr_expect_eq(ag_backward(t, loss), AG_OK, "%s (case %zu): backward: %s", z->fn, e,
                         ag_tape_errmsg(t));
            if (ag_numel(y) == 0)
                cr_expect_eq(ag_data(loss)[0], 0, "%s (case %zu): sum of nothing", z->fn, e);
        }
        ag_tape_free(t);
        for (int i = 0; i < n_zp; i++) ag_param_free(zp[i]);
    }
    fprintf(stderr, "bad_input zero-size: %zu cases\n", n_cases);
    ag_set_allocator(NULL, NULL);
}

/* ---- backward, parameters and layer set-up: calls that return a status
 * (or NULL) rather than a tensor ---- */

typedef struct status_case {
    const char *what;
    int code;
    const char *subs[4];
} status_case;

static void expect_status(const status_case *c, int rc, const char *msg)
{
    n_cases++;
    cr_expect_eq(rc, c->code, "%s: status %d (%s), want %d", c->what, rc, msg, c->code);
    for (int i = 0; c->subs[i]; i++)
        cr_expect(strstr(msg, c->subs[i]) != NULL, "%s: message '%s' lacks '%s'", c->what, msg,
                  c->subs[i]);
}

/* Status of a constructor that returns NULL on failure. */
static int made(const void *p)
{
    if (p)
        return AG_OK;
    return strstr(ag_last_errmsg(), "out of memory") ? AG_ENOMEM : AG_EINVAL;
}

Test(bad_input, backward_params_and_layers)
{
    ag_set_allocator(capped, NULL);
    n_cases = 0;
    ag_tensor *w = param_rand(AG_SHAPE(2, 3), -1, 1, 5);
    ag_real dy[6] = {0};
    static const status_case bw[] = {
        {"backward NULL loss", AG_EINVAL, {"ag_backward", "NULL"}},
        {"backward poisoned loss", AG_EINVAL, {"ag_backward", "poisoned"}},
        {"backward 2-d loss", AG_EINVAL, {"ag_backward", "[2,3]"}},
        {"backward loss of another tape", AG_ESTATE, {"ag_backward", "not recorded on this tape"}},
        {"backward stale loss", AG_ESTATE, {"ag_backward", "since its last reset"}},
        {"backward constant loss", AG_EINVAL, {"ag_backward", "does not depend"}},
        {"backward_with NULL dy", AG_EINVAL, {"ag_backward_with", "dy is NULL"}},
        {"backward_with NULL output", AG_EINVAL, {"ag_backward_with", "NULL"}},
        {"backward with recording off", AG_EINVAL, {"ag_backward", "recording off"}},
    };
    for (size_t i = 0; i < sizeof bw / sizeof bw[0]; i++) {
        ag_tape *t = ag_tape_new(), *other = ag_tape_new();
        ag_tensor *y = ag_tanh(t, w), *l = ag_sum_all(t, y);
        int rc;
        switch (i) {
        case 0: rc = ag_backward(t, NULL); break;
        case 1: rc = ag_backward(t, ag_global_avgpool2d(other, NULL)); break;
        case 2: rc = ag_backward(t, y); break;
        case 3: rc = ag_backward(t, ag_sum_all(other, ag_tanh(other, w))); break;
        case 4:
            ag_tensor_new(t, AG_SHAPE(4096)); /* 16 KB, inside the first arena chunk */
            l = ag_sum_all(t, ag_tanh(t, w));
            ag_tape_reset(t);
            rc = ag_backward(t, l);
            break;
        case 5: rc = ag_backward(t, ag_sum_all(t, ag_tensor_new(t, AG_SHAPE(3)))); break;
        case 6: rc = ag_backward_with(t, y, NULL); break;
        case 7: rc = ag_backward_with(t, NULL, dy); break;
        default:
            ag_tape_set_recording(t, 0);
            rc = ag_backward(t, ag_sum_all(t, ag_tanh(t, w)));
            break;
        }
        expect_status(&bw[i], rc, ag_tape_errmsg(t));
        cr_expect_eq(ag_tape_status(t), rc, "%s: tape status", bw[i].what);
        ag_tape_free(other);
        ag_tape_free(t);
    }
    n_cases++;
    cr_expect_eq(ag_backward(NULL, w), AG_EINVAL, "backward on a NULL tape");

    static const status_case pc[] = {
        {"param_new 9 dims", AG_EINVAL, {"ag_param_new", "ndim 9"}},
        {"param_new -1 dims", AG_EINVAL, {"ag_param_new", "ndim -1"}},
        {"param_new NULL shape", AG_EINVAL, {"ag_param_new", "NULL"}},
        {"param_new overflow", AG_EINVAL, {"ag_param_new", "too large"}},
        {"param_new out of memory", AG_ENOMEM, {"ag_param_new", "out of memory"}},
        {"dense_init in 0", AG_EINVAL, {"ag_dense_init", "> 0"}},
        {"dense_init overflow", AG_EINVAL, {"too large"}},
        {"dense_init out of memory", AG_ENOMEM, {"out of memory"}},
        {"conv2d_init kernel 0", AG_EINVAL, {"ag_conv2d_init"}},
        {"conv2d_init overflow", AG_EINVAL, {"too large"}},
        {"conv1d_init channels 0", AG_EINVAL, {"ag_conv1d_init"}},
        {"dense_params NULL layer", AG_EINVAL, {"ag_dense_params"}},
        {"paramset_add tape tensor", AG_EINVAL, {"ag_paramset_add"}},
    };
    ag_rng r;
    ag_rng_seed(&r, 1);
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        ag_dense d;
        ag_conv2d c2;
        ag_conv1d c1;
        int rc = AG_OK;
        switch (i) {
        case 0: rc = made(ag_param_new(AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1))); break;
        case 1: rc = made(ag_param_new((const size_t[]){1}, -1)); break;
        case 2: rc = made(ag_param_new(NULL, 2)); break;
        case 3: rc = made(ag_param_new(AG_SHAPE(BIG, 16))); break;
        case 4: rc = made(ag_param_new(AG_SHAPE((size_t)1 << 26, (size_t)1 << 26))); break;
        case 5: rc = ag_dense_init(&d, 0, 3, 1, &r); break;
        case 6: rc = ag_dense_init(&d, SIZE_MAX / 2, 4, 1, &r); break;
        case 7: rc = ag_dense_init(&d, (size_t)1 << 20, (size_t)1 << 20, 1, &r); break;
        case 8: rc = ag_conv2d_init(&c2, 1, 2, 0, 3, 1, 0, 1, &r); break;
        case 9: rc = ag_conv2d_init(&c2, BIG, BIG, 3, 3, 1, 0, 1, &r); break;
        case 10: rc = ag_conv1d_init(&c1, 0, 2, 3, 1, 0, 1, &r); break;
        case 11: rc = ag_dense_params(NULL, NULL, "fc"); break;
        default: {
            ag_paramset *s = ag_paramset_new();
            ag_tape *t = ag_tape_new();
            rc = ag_paramset_add(s, ag_tensor_new(t, AG_SHAPE(2)), "x");
            ag_tape_free(t);
            ag_paramset_free(s);
        }
        }
        expect_status(&pc[i], rc, ag_last_errmsg());
        if (rc == AG_OK) { /* a failing case that passed: release what it made */
            if (i >= 5 && i <= 7) ag_dense_fini(&d);
            if (i == 8 || i == 9) ag_conv2d_fini(&c2);
            if (i == 10) ag_conv1d_fini(&c1);
        }
    }

    /* forward calls of layer structs that are NULL or were never initialised */
    static const status_case lc[] = {
        {"dense_forward NULL", AG_EINVAL, {"ag_dense_forward", "NULL"}},
        {"conv2d_forward zeroed", AG_EINVAL, {"ag_conv2d_forward", "not initialised"}},
        {"conv1d_forward NULL", AG_EINVAL, {"ag_conv1d_forward", "NULL"}},
    };
    for (size_t i = 0; i < sizeof lc / sizeof lc[0]; i++) {
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(1, 1, 4, 4));
        ag_tensor *y = i == 0 ? ag_dense_forward(t, NULL, x)
                     : i == 1 ? ag_conv2d_forward(t, &(ag_conv2d){0}, x)
                              : ag_conv1d_forward(t, NULL, x);
        cr_expect(ag_is_poisoned(y), "%s: not poisoned", lc[i].what);
        expect_status(&lc[i], ag_tape_status(t), ag_tape_errmsg(t));
        ag_tape_free(t);
    }
    ag_param_free(w);
    fprintf(stderr, "bad_input status calls: %zu cases\n", n_cases);
    ag_set_allocator(NULL, NULL);
}
