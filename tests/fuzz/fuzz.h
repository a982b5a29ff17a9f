/* Shared by the libFuzzer harnesses: the readers take a file name, so each
 * input is written to a per-process scratch file first. */
#ifndef AGRAD_FUZZ_H
#define AGRAD_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "agrad.h"

/* Write data to a scratch file named after the process and suffix; the path
 * stays valid until the next call. Aborts if the file cannot be written
 * (that is the harness's failure, not the library's). */
static const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/agrad-fuzz-%ld%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    return path;
}

/* A library call reported success with inconsistent results, or changed
 * something it promised to leave alone: a bug the fuzzer must report. */
#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                              \
        }                                                                         \
    } while (0)

#endif
