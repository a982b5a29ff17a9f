/* libFuzzer harness for ag_load(). The first input byte holds flags, the
 * rest is the file: bit 0 rewrites the CRC-32 trailer and bit 1 the length
 * field, so that mutations reach the record parser behind those checks.
 * Properties: no crash or sanitizer report; a failed load leaves every
 * parameter exactly as it was; a successful one loads finite or non-finite
 * values but never touches a parameter outside the file's records. */
#include <string.h>
#include "fuzz.h"
#include "fuzz_model.h"

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    uint8_t flags = data[0];
    size_t n = size - 1;
    uint8_t *b = malloc(n + 1);
    if (!b)
        return 0;
    memcpy(b, data + 1, n);
    if ((flags & 2) && n >= 24)
        put_le(b + 16, n, 8);
    if ((flags & 1) && n >= 4)
        put_le(b + n - 4, ag_crc32(0, b, n - 4), 4);
    const char *path = fuzz_file(b, n, ".agp");
    free(b);

    fuzz_model m;
    fuzz_model_new(&m);
    int rc = ag_load(path, m.ps);
    FUZZ_CHECK(rc == AG_OK || rc == AG_EFORMAT || rc == AG_EINVAL || rc == AG_EIO ||
               rc == AG_ENOMEM);
    if (rc != AG_OK) {
        FUZZ_CHECK(fuzz_model_untouched(&m));
        FUZZ_CHECK(strstr(ag_last_errmsg(), "ag_load") != NULL);
    }
    fuzz_model_free(&m);
    return 0;
}
