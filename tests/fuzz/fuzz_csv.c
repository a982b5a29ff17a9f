/* libFuzzer harness for ag_csv_read(). The first input byte chooses the
 * options (bit 0: header line; bits 1-3: label column -1..6), the rest is
 * the file. Properties: no crash or sanitizer report; success means at
 * least one row, dim features per row and labels exactly when asked;
 * failure leaves the data set zeroed. */
#include <string.h>
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    int header = data[0] & 1;
    int label_col = (int)((data[0] >> 1) & 7) - 1;
    const char *path = fuzz_file(data + 1, size - 1, ".csv");
    ag_dataset d;
    int rc = ag_csv_read(path, header, label_col, &d);
    FUZZ_CHECK(rc == AG_OK || rc == AG_EFORMAT || rc == AG_EIO || rc == AG_ENOMEM);
    if (rc != AG_OK) {
        FUZZ_CHECK(d.x == NULL && d.y == NULL && d.n == 0);
        FUZZ_CHECK(strstr(ag_last_errmsg(), "ag_csv_read") != NULL);
        return 0;
    }
    FUZZ_CHECK(d.n >= 1 && d.x != NULL);
    FUZZ_CHECK((label_col >= 0) == (d.y != NULL));
    volatile double sink = 0;
    for (size_t i = 0; i < d.n * d.dim; i++) sink += d.x[i];
    for (size_t i = 0; d.y && i < d.n; i++) sink += d.y[i];
    (void)sink;
    ag_dataset_free(&d);
    return 0;
}
