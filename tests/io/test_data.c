#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

static char path[80];

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/agrad-data-%ld", (long)getpid());
}

static void teardown(void)
{
    char p[128];
    unlink(path);
    snprintf(p, sizeof p, "%s.gz", path);
    unlink(p);
}

TestSuite(idx, .init = setup, .fini = teardown);
TestSuite(csv, .init = setup, .fini = teardown);

static void spit(const char *p, const void *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* An IDX u8 file of 3 images of 2x2: values 0..11. */
static const unsigned char IMAGES[] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
                                       0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
static const unsigned char LABELS[] = {0, 0, 0x08, 1, 0, 0, 0, 3, 7, 0, 9};

static void expect_idx_error(const void *b, size_t len, int code, const char *substr)
{
    spit(path, b, len);
    ag_idx m;
    cr_assert_eq(ag_idx_read(path, &m), code, "%s", ag_last_errmsg());
    cr_assert_null(m.data);
    cr_assert(strstr(ag_last_errmsg(), substr), "message '%s' lacks '%s'", ag_last_errmsg(),
              substr);
    cr_assert(strstr(ag_last_errmsg(), path), "message '%s' lacks the file name",
              ag_last_errmsg());
}

Test(idx, reads_u8_images)
{
    spit(path, IMAGES, sizeof IMAGES);
    ag_idx m;
    cr_assert_eq(ag_idx_read(path, &m), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(m.type, AG_IDX_U8);
    cr_assert_eq(m.ndim, 3);
    cr_assert_eq(m.dims[0], 3);
    cr_assert_eq(m.dims[1], 2);
    cr_assert_eq(m.dims[2], 2);
    cr_assert_eq(m.numel, 12);
    for (int i = 0; i < 12; i++) cr_assert_eq(m.data[i], i);
    ag_idx_free(&m);
    cr_assert_null(m.data);
}

Test(idx, reads_big_endian_types)
{
    /* i16 [2]: -2, 258;  f32 [1]: 1.5 (0x3FC00000);  i32 [1]: 70000 */
    unsigned char i16[] = {0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x02};
    spit(path, i16, sizeof i16);
    ag_idx m;
    cr_assert_eq(ag_idx_read(path, &m), AG_OK);
    cr_assert_eq(m.data[0], -2);
    cr_assert_eq(m.data[1], 258);
    ag_idx_free(&m);
    unsigned char f32[] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0};
    spit(path, f32, sizeof f32);
    cr_assert_eq(ag_idx_read(path, &m), AG_OK);
    cr_assert_eq(m.data[0], 1.5);
    ag_idx_free(&m);
    unsigned char i32[] = {0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 1, 0x11, 0x70};
    spit(path, i32, sizeof i32);
    cr_assert_eq(ag_idx_read(path, &m), AG_OK);
    cr_assert_eq(m.data[0], 70000);
    ag_idx_free(&m);
}

Test(idx, reads_gzip_through_gzip_dc)
{
    spit(path, IMAGES, sizeof IMAGES);
    char cmd[200], gz[128];
    snprintf(cmd, sizeof cmd, "gzip -f '%s'", path);
    cr_assert_eq(system(cmd), 0);
    snprintf(gz, sizeof gz, "%s.gz", path);
    ag_idx m;
    cr_assert_eq(ag_idx_read(gz, &m), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(m.numel, 12);
    cr_assert_eq(m.data[11], 11);
    ag_idx_free(&m);
    /* a .gz that is not gzip data */
    spit(gz, IMAGES, sizeof IMAGES);
    cr_assert_eq(ag_idx_read(gz, &m), AG_EIO);
    cr_assert(strstr(ag_last_errmsg(), "gzip -dc failed"), "%s", ag_last_errmsg());
    cr_assert(strstr(ag_last_errmsg(), gz));
}

Test(idx, missing_file)
{
    ag_idx m;
    cr_assert_eq(ag_idx_read("/nonexistent/train-images-idx3-ubyte.gz", &m), AG_EIO);
    cr_assert(strstr(ag_last_errmsg(), "/nonexistent/train-images-idx3-ubyte.gz: cannot open"),
              "%s", ag_last_errmsg());
}

Test(idx, malformed_headers)
{
    expect_idx_error(IMAGES, 3, AG_EFORMAT, "truncated: 3 bytes");
    unsigned char b[sizeof IMAGES];
    memcpy(b, IMAGES, sizeof b);
    b[0] = 0x1F;
    expect_idx_error(b, sizeof b, AG_EFORMAT, "bad magic 0x1f000803");
    memcpy(b, IMAGES, sizeof b);
    b[2] = 0x07;
    expect_idx_error(b, sizeof b, AG_EFORMAT, "unknown element type 0x07");
    memcpy(b, IMAGES, sizeof b);
    b[3] = 0;
    expect_idx_error(b, sizeof b, AG_EFORMAT, "0 dimensions");
    b[3] = 9;
    expect_idx_error(b, sizeof b, AG_EFORMAT, "9 dimensions");
    expect_idx_error(IMAGES, 10, AG_EFORMAT, "truncated header");
    expect_idx_error(IMAGES, sizeof IMAGES - 1, AG_EFORMAT,
                     "truncated: header says 12 bytes of data, file has 11");
    unsigned char longer[sizeof IMAGES + 2] = {0};
    memcpy(longer, IMAGES, sizeof IMAGES);
    expect_idx_error(longer, sizeof longer, AG_EFORMAT, "2 bytes of trailing data");
}

Test(idx, dataset_from_images_and_labels)
{
    ag_idx im, lb;
    spit(path, IMAGES, sizeof IMAGES);
    cr_assert_eq(ag_idx_read(path, &im), AG_OK);
    spit(path, LABELS, sizeof LABELS);
    cr_assert_eq(ag_idx_read(path, &lb), AG_OK);
    ag_dataset d;
    cr_assert_eq(ag_dataset_from_idx(&d, &im, &lb, 0.5), AG_OK);
    cr_assert_eq(d.n, 3);
    cr_assert_eq(d.dim, 4);
    cr_assert_eq(d.x[5], 2.5);
    cr_assert_eq(d.y[0], 7);
    cr_assert_eq(d.y[2], 9);
    ag_dataset_free(&d);
    lb.numel = 2;
    cr_assert_eq(ag_dataset_from_idx(&d, &im, &lb, 1), AG_EINVAL);
    cr_assert(strstr(ag_last_errmsg(), "3 samples but 2 labels"), "%s", ag_last_errmsg());
    lb.numel = 3;
    ag_idx_free(&im);
    ag_idx_free(&lb);
}

Test(csv, reads_numbers_and_labels)
{
    const char *text = "a,b,label\n1.5, -2,3\n\n4e1,0.25,0\r\n";
    spit(path, text, strlen(text));
    ag_dataset d;
    cr_assert_eq(ag_csv_read(path, 1, 2, &d), AG_OK, "%s", ag_last_errmsg());
    cr_assert_eq(d.n, 2);
    cr_assert_eq(d.dim, 2);
    double want[4] = {1.5, -2, 40, 0.25};
    assert_close(d.x, want, 4, TOL);
    cr_assert_eq(d.y[0], 3);
    cr_assert_eq(d.y[1], 0);
    ag_dataset_free(&d);
    cr_assert_eq(ag_csv_read(path, 1, -1, &d), AG_OK);
    cr_assert_eq(d.dim, 3);
    cr_assert_null(d.y);
    ag_dataset_free(&d);
}

Test(csv, errors_name_file_line_and_column)
{
    const char *bad = "1,2\n3,x\n";
    spit(path, bad, strlen(bad));
    ag_dataset d;
    cr_assert_eq(ag_csv_read(path, 0, -1, &d), AG_EFORMAT);
    cr_assert(strstr(ag_last_errmsg(), "line 2, column 2: not a number"), "%s", ag_last_errmsg());
    cr_assert(strstr(ag_last_errmsg(), path));
    const char *ragged = "1,2\n3,4,5\n";
    spit(path, ragged, strlen(ragged));
    cr_assert_eq(ag_csv_read(path, 0, -1, &d), AG_EFORMAT);
    cr_assert(strstr(ag_last_errmsg(), "line 2 has 3 fields, the first row 2"), "%s",
              ag_last_errmsg());
    const char *frac = "1,2.5\n";
    spit(path, frac, strlen(frac));
    cr_assert_eq(ag_csv_read(path, 0, 1, &d), AG_EFORMAT);
    cr_assert(strstr(ag_last_errmsg(), "label 2.5 is not an integer"), "%s", ag_last_errmsg());
    cr_assert_eq(ag_csv_read("/nonexistent.csv", 0, -1, &d), AG_EIO);
}

Test(data, split_is_a_seeded_partition)
{
    ag_dataset d;
    ag_idx m = {.type = AG_IDX_U8, .ndim = 2, .dims = {10, 2}, .numel = 20};
    ag_real v[20];
    for (int i = 0; i < 20; i++) v[i] = (ag_real)(i / 2); /* row r = (r, r) */
    m.data = v;
    cr_assert_eq(ag_dataset_from_idx(&d, &m, NULL, 1), AG_OK);
    ag_dataset tr, va, tr2, va2;
    cr_assert_eq(ag_dataset_split(&d, 0.3, 5, &tr, &va), AG_OK);
    cr_assert_eq(tr.n, 7);
    cr_assert_eq(va.n, 3);
    int seen[10] = {0};
    for (size_t i = 0; i < tr.n; i++) seen[(int)tr.x[2 * i]]++;
    for (size_t i = 0; i < va.n; i++) seen[(int)va.x[2 * i]]++;
    for (int r = 0; r < 10; r++) cr_assert_eq(seen[r], 1, "row %d seen %d times", r, seen[r]);
    cr_assert_eq(ag_dataset_split(&d, 0.3, 5, &tr2, &va2), AG_OK);
    cr_assert(memcmp(va.x, va2.x, 6 * sizeof(ag_real)) == 0, "same seed, same split");
    ag_dataset_free(&tr);
    ag_dataset_free(&va);
    ag_dataset_free(&tr2);
    ag_dataset_free(&va2);
    ag_dataset_free(&d);
}

Test(data, batches_cover_each_epoch_and_reshuffle)
{
    ag_batcher *b = ag_batcher_new(10, 4, 1, 3);
    const size_t *idx;
    size_t first[10], k = 0, n;
    int sizes[3], nb = 0;
    while ((n = ag_batcher_next(b, &idx)) > 0) {
        sizes[nb++] = (int)n;
        for (size_t i = 0; i < n; i++) first[k++] = idx[i];
    }
    cr_assert_eq(nb, 3);
    cr_assert_eq(sizes[2], 2);
    int seen[10] = {0};
    for (int i = 0; i < 10; i++) seen[first[i]]++;
    for (int i = 0; i < 10; i++) cr_assert_eq(seen[i], 1);
    size_t second[10];
    k = 0;
    while ((n = ag_batcher_next(b, &idx)) > 0)
        for (size_t i = 0; i < n; i++) second[k++] = idx[i];
    cr_assert_eq(k, 10);
    cr_assert(memcmp(first, second, sizeof first) != 0, "epoch 2 was not reshuffled");
    ag_batcher_free(b);
    b = ag_batcher_new(5, 2, 0, 0); /* no shuffle: in order */
    cr_assert_eq(ag_batcher_next(b, &idx), 2);
    cr_assert_eq(idx[0], 0);
    cr_assert_eq(idx[1], 1);
    ag_batcher_free(b);
    cr_assert_null(ag_batcher_new(5, 0, 0, 0));
}

Test(data, accuracy_by_argmax)
{
    ag_real s[] = {0.1f, 0.7f, 0.2f,   /* 1 */
                   0.5f, 0.5f, 0.0f,   /* tie: first, 0 */
                   0.0f, 0.1f, 0.9f};  /* 2 */
    int32_t y[] = {1, 1, 2};
    cr_assert_float_eq(ag_accuracy(s, 3, 3, y), 2.0 / 3.0, 1e-12);
    cr_assert_eq(ag_accuracy(s, 0, 3, y), 0);
}
