#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

/* A small model: three named parameters filled with distinct values. */
static ag_tensor *P[3];
static ag_paramset *PS;
static char path[64];

static void setup(void)
{
    P[0] = param_rand(AG_SHAPE(4, 3), -1, 1, 11);
    P[1] = param_rand(AG_SHAPE(4), -1, 1, 12);
    P[2] = param_rand(AG_SHAPE(2, 1, 3), -1e6, 1e6, 13);
    PS = ag_paramset_new();
    ag_paramset_add(PS, P[0], "fc.weight");
    ag_paramset_add(PS, P[1], "fc.bias");
    ag_paramset_add(PS, P[2], "extra");
    snprintf(path, sizeof path, "/tmp/agrad-io-%ld.bin", (long)getpid());
}

static void teardown(void)
{
    ag_paramset_free(PS);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
    unlink(path);
}

TestSuite(io, .init = setup, .fini = teardown);

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    static unsigned char buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void spit(const char *p, const unsigned char *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* Set every parameter to a sentinel, for checking that a failed load left it alone. */
static void fill_sentinel(void)
{
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < ag_numel(P[i]); k++) ag_data(P[i])[k] = (ag_real)(7 + i + k);
}

static void assert_sentinel(void)
{
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < ag_numel(P[i]); k++)
            cr_assert_eq(ag_data(P[i])[k], (ag_real)(7 + i + k), "param %d entry %zu touched", i, k);
}

static void expect_load_error(int code, const char *substr)
{
    fill_sentinel();
    cr_assert_eq(ag_load(path, PS), code, "message: %s", ag_last_errmsg());
    cr_assert(strstr(ag_last_errmsg(), substr) != NULL, "message '%s' lacks '%s'",
              ag_last_errmsg(), substr);
    cr_assert(strstr(ag_last_errmsg(), path) != NULL, "message '%s' does not name the file",
              ag_last_errmsg());
    assert_sentinel();
}

/* Rewrite the CRC so that only the intended change is seen. */
static void fix_crc(unsigned char *b, size_t len)
{
    uint32_t c = ag_crc32(0, b, len - 4);
    for (int i = 0; i < 4; i++) b[len - 4 + i] = (unsigned char)(c >> (8 * i));
}

Test(io, crc32_known_value)
{
    /* the standard check value of CRC-32/ISO-HDLC */
    cr_assert_eq(ag_crc32(0, "123456789", 9), 0xCBF43926u);
    cr_assert_eq(ag_crc32(ag_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

Test(io, round_trip_is_exact)
{
    ag_real orig[3][12];
    for (int i = 0; i < 3; i++) memcpy(orig[i], ag_data(P[i]), ag_numel(P[i]) * sizeof(ag_real));
    cr_assert_eq(ag_save(path, PS), AG_OK, "%s", ag_last_errmsg());
    fill_sentinel();
    cr_assert_eq(ag_load(path, PS), AG_OK, "%s", ag_last_errmsg());
    for (int i = 0; i < 3; i++)
        cr_assert(memcmp(orig[i], ag_data(P[i]), ag_numel(P[i]) * sizeof(ag_real)) == 0,
                  "param %d differs", i);
    /* layout: magic, version 1, value size, length, count 3, then the first name */
    size_t len;
    unsigned char *b = slurp(path, &len);
    cr_assert(memcmp(b, "AGRADPRM", 8) == 0);
    cr_assert_eq(b[8], 1);
    cr_assert_eq(b[12], sizeof(ag_real));
    cr_assert_eq((size_t)(b[16] | b[17] << 8), len);
    cr_assert_eq(b[24], 3);
    cr_assert_eq(b[28], 9);
    cr_assert(memcmp(b + 30, "fc.weight", 9) == 0);
    /* no temporary file is left behind */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s.tmp-* >/dev/null 2>&1", path);
    cr_assert_neq(system(cmd), 0, "a temporary file was left behind");
}

Test(io, load_by_name_in_any_order)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    ag_real w0 = ag_data(P[0])[5];
    ag_paramset *rev = ag_paramset_new();
    ag_tensor *Q[3];
    Q[0] = ag_param_new(AG_SHAPE(2, 1, 3));
    Q[1] = ag_param_new(AG_SHAPE(4));
    Q[2] = ag_param_new(AG_SHAPE(4, 3));
    ag_paramset_add(rev, Q[0], "extra");
    ag_paramset_add(rev, Q[1], "fc.bias");
    ag_paramset_add(rev, Q[2], "fc.weight");
    cr_assert_eq(ag_load(path, rev), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(ag_data(Q[2])[5], w0);
    ag_paramset_free(rev);
    for (int i = 0; i < 3; i++) ag_param_free(Q[i]);
}

Test(io, missing_file)
{
    unlink(path);
    expect_load_error(AG_EIO, "cannot open");
}

Test(io, truncated)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    spit(path, b, len - 10);
    expect_load_error(AG_EFORMAT, "truncated");
    spit(path, b, 5); /* shorter than the magic */
    expect_load_error(AG_EFORMAT, "truncated");
    spit(path, b, 0);
    expect_load_error(AG_EFORMAT, "truncated");
}

/* Save, change one byte of the file (off < 0 counts from the end), optionally
 * make the CRC match again, and expect the load to fail with substr. */
static void tamper_and_expect(long off, unsigned char mask, int fix, const char *substr)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    b[off < 0 ? (long)len + off : off] ^= mask;
    if (fix)
        fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(AG_EFORMAT, substr);
}

Test(io, bit_flipped)
{
    tamper_and_expect(100, 0x10, 0, "CRC mismatch");   /* inside the values */
    tamper_and_expect(-1, 0x01, 0, "CRC mismatch");    /* in the stored CRC */
}

Test(io, wrong_magic)
{
    tamper_and_expect(0, 'A' ^ 'X', 0, "bad magic");
}

Test(io, wrong_version)
{
    tamper_and_expect(8, 1 ^ 2, 1, "format version 2");
}

Test(io, wrong_shape)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    ag_paramset *other = ag_paramset_new();
    ag_tensor *Q[3] = {ag_param_new(AG_SHAPE(3, 4)), ag_param_new(AG_SHAPE(4)),
                       ag_param_new(AG_SHAPE(2, 1, 3))};
    ag_paramset_add(other, Q[0], "fc.weight");
    ag_paramset_add(other, Q[1], "fc.bias");
    ag_paramset_add(other, Q[2], "extra");
    for (int i = 0; i < 3; i++) ag_data(Q[i])[0] = 42;
    cr_assert_eq(ag_load(path, other), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(),
                     "parameter 'fc.weight' has shape [4,3] in the file, [3,4] in the model"),
              "%s", ag_last_errmsg());
    for (int i = 0; i < 3; i++) cr_assert_eq(ag_data(Q[i])[0], 42, "param %d touched", i);
    ag_paramset_free(other);
    for (int i = 0; i < 3; i++) ag_param_free(Q[i]);
}

Test(io, wrong_name_and_count)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    ag_param_set_name(P[2], "other"); /* the model now calls it differently */
    expect_load_error(AG_EINVAL, "parameter 'extra' is not in the model");
    ag_param_set_name(P[2], "extra");
    ag_paramset *two = ag_paramset_new();
    ag_tensor *Q = ag_param_new(AG_SHAPE(4));
    ag_paramset_add(two, Q, "fc.bias");
    cr_assert_eq(ag_load(path, two), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "file has 3 parameters, model has 1"), "%s",
              ag_last_errmsg());
    ag_paramset_free(two);
    ag_param_free(Q);
}

Test(io, trailing_data)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    size_t len;
    unsigned char *b = slurp(path, &len);
    b[len] = 0;
    spit(path, b, len + 1);
    expect_load_error(AG_EFORMAT, "trailing");
}

Test(io, save_failure_keeps_the_old_file)
{
    cr_assert_eq(ag_save(path, PS), AG_OK);
    cr_assert_eq(ag_save("/nonexistent-dir/x.bin", PS), AG_EIO);
    cr_assert(strstr(ag_last_errmsg(), "/nonexistent-dir/x.bin"), "%s", ag_last_errmsg());
    ag_tensor *anon = ag_param_new(AG_SHAPE(1));
    ag_paramset *s = ag_paramset_new();
    cr_assert_eq(ag_paramset_add(s, anon, ""), AG_EINVAL);
    ag_paramset_free(s);
    ag_param_free(anon);
    ag_param_set_name(P[1], "fc.weight"); /* renamed after it was added */
    cr_assert_eq(ag_save(path, PS), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "two parameters are named 'fc.weight'"), "%s",
              ag_last_errmsg());
    ag_param_set_name(P[1], "fc.bias");
    fill_sentinel();
    cr_assert_eq(ag_load(path, PS), AG_OK);
}

/* Append v as n little-endian bytes. */
static size_t put(unsigned char *b, size_t at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) b[at + i] = (unsigned char)(v >> (8 * i));
    return at + (size_t)n;
}

Test(io, reads_a_file_built_by_hand_in_the_other_precision)
{
    /* The documented layout, written byte by byte, with values stored in the
     * precision this build does not use: a float build reads doubles and a
     * double build reads floats. */
    int vsize = sizeof(ag_real) == 4 ? 8 : 4;
    double vals[2] = {1.5, -0.25};
    unsigned char b[128];
    memcpy(b, "AGRADPRM", 8);
    size_t at = put(b, 8, 1, 4);
    at = put(b, at, (uint64_t)vsize, 4);
    size_t total = 28 + (2 + 1 + 1 + 8 + 2 * (size_t)vsize) + 4;
    at = put(b, at, total, 8);
    at = put(b, at, 1, 4);
    at = put(b, at, 1, 2);
    b[at++] = 'w';
    at = put(b, at, 1, 1);
    at = put(b, at, 2, 8);
    for (int i = 0; i < 2; i++) {
        uint64_t u;
        if (vsize == 8) {
            memcpy(&u, &vals[i], 8);
        } else {
            float f = (float)vals[i];
            uint32_t u32;
            memcpy(&u32, &f, 4);
            u = u32;
        }
        at = put(b, at, u, vsize);
    }
    at = put(b, at, ag_crc32(0, b, at), 4);
    cr_assert_eq(at, total);
    spit(path, b, at);
    ag_paramset *s = ag_paramset_new();
    ag_tensor *w = ag_param_new(AG_SHAPE(2));
    ag_paramset_add(s, w, "w");
    cr_assert_eq(ag_load(path, s), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(ag_data(w)[0], 1.5);
    cr_assert_eq(ag_data(w)[1], -0.25);
    ag_paramset_free(s);
    ag_param_free(w);
}
