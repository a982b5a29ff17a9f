/* libFuzzer harness for ag_idx_read() and ag_dataset_from_idx(). The input
 * is the file. Properties: no crash or sanitizer report; success means a
 * consistent array (numel = product of the dims, ndim in range) that every
 * element of can be read; failure leaves the output zeroed. */
#include <string.h>
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const char *path = fuzz_file(data, size, ".idx");
    ag_idx m;
    int rc = ag_idx_read(path, &m);
    FUZZ_CHECK(rc == AG_OK || rc == AG_EFORMAT || rc == AG_EIO || rc == AG_ENOMEM);
    if (rc != AG_OK) {
        FUZZ_CHECK(m.data == NULL && m.numel == 0 && m.ndim == 0);
        FUZZ_CHECK(strstr(ag_last_errmsg(), "ag_idx_read") != NULL);
        return 0;
    }
    FUZZ_CHECK(m.ndim >= 1 && m.ndim <= AG_MAX_DIMS);
    size_t numel = 1;
    for (int i = 0; i < m.ndim; i++) numel *= m.dims[i];
    FUZZ_CHECK(numel == m.numel);
    volatile ag_real sink = 0;
    for (size_t i = 0; i < m.numel; i++) sink += m.data[i];
    (void)sink;
    /* the array as samples, and its first dimension as its own labels */
    ag_dataset d;
    if (ag_dataset_from_idx(&d, &m, NULL, 1.0 / 255) == AG_OK) {
        FUZZ_CHECK(d.n == m.dims[0]);
        ag_dataset_free(&d);
    }
    if (m.ndim == 1 && ag_dataset_from_idx(&d, &m, &m, 1.0) == AG_OK) {
        FUZZ_CHECK(d.y != NULL && d.n == m.numel);
        ag_dataset_free(&d);
    }
    ag_idx_free(&m);
    FUZZ_CHECK(m.data == NULL);
    return 0;
}
