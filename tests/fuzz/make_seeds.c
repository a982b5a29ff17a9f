/* Writes the seed corpora of the fuzz harnesses into <dir>/load, <dir>/idx
 * and <dir>/csv: a model saved by ag_save() (as fuzz_load expects it: a flag
 * byte, then the file), IDX files of every element type, and CSV files with
 * and without header and labels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agrad.h"
#include "fuzz_model.h"

static const char *dir;

static void put(const char *sub, const char *name, const void *a, size_t na, const void *b,
                size_t nb)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static unsigned char buf[1 << 16];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void load_seeds(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/model.agp", dir);
    fuzz_model m;
    fuzz_model_new(&m);
    if (ag_save(path, m.ps) != AG_OK) {
        fprintf(stderr, "%s\n", ag_last_errmsg());
        exit(1);
    }
    fuzz_model_free(&m);
    size_t n;
    unsigned char *b = slurp(path, &n);
    remove(path);
    if (!b)
        exit(1);
    for (unsigned char flags = 0; flags < 4; flags++) {
        char name[32];
        snprintf(name, sizeof name, "model-%u", flags);
        put("load", name, &flags, 1, b, n);
    }
    unsigned char f3 = 3;
    put("load", "header-only", &f3, 1, b, 32);
}

static void idx_seed(const char *name, int type, int nd, const unsigned *dims, int esize)
{
    unsigned char b[4096];
    size_t numel = 1, k = 4;
    b[0] = 0, b[1] = 0, b[2] = (unsigned char)type, b[3] = (unsigned char)nd;
    for (int i = 0; i < nd; i++) {
        for (int j = 0; j < 4; j++) b[k++] = (unsigned char)(dims[i] >> (24 - 8 * j));
        numel *= dims[i];
    }
    for (size_t i = 0; i < numel * (size_t)esize && k < sizeof b; i++)
        b[k++] = (unsigned char)(i * 37 + 11);
    put("idx", name, b, k, NULL, 0);
}

static void idx_seeds(void)
{
    idx_seed("images-u8", 0x08, 3, (const unsigned[]){3, 4, 4}, 1);
    idx_seed("labels-u8", 0x08, 1, (const unsigned[]){10}, 1);
    idx_seed("i8", 0x09, 2, (const unsigned[]){2, 3}, 1);
    idx_seed("i16", 0x0B, 2, (const unsigned[]){2, 3}, 2);
    idx_seed("i32", 0x0C, 1, (const unsigned[]){5}, 4);
    idx_seed("f32", 0x0D, 2, (const unsigned[]){2, 2}, 4);
    idx_seed("f64", 0x0E, 1, (const unsigned[]){3}, 8);
    idx_seed("empty", 0x08, 2, (const unsigned[]){0, 7}, 1);
}

static void csv_seed(const char *name, unsigned char opts, const char *text)
{
    put("csv", name, &opts, 1, text, strlen(text));
}

static void csv_seeds(void)
{
    csv_seed("plain", 0, "1,2,3\n4.5,-6,7e2\n");
    csv_seed("header-label0", 1 | (1 << 1), "y,a,b\n0,0.5,1.5\n1,2.5,3.5\r\n2,  4, 5\n");
    csv_seed("label-last", (3 << 1), "1,2,0\n3,4,1\n\n5,6,1");
    csv_seed("specials", 0, "inf,-inf,nan\n0x1p3,1e-40,-0\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    load_seeds();
    idx_seeds();
    csv_seeds();
    return 0;
}
