/* Data sets: IDX and CSV readers, split, shuffled mini-batches, accuracy. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "internal.h"

/* ---- reading a whole file (or a gzip -dc pipe) into memory ---- */

typedef struct blob {
    unsigned char *p;
    size_t len, cap;
} blob;

static void blob_free(blob *b)
{
    agi_free(b->p, b->cap);
    memset(b, 0, sizeof *b);
}

static int blob_read(FILE *f, blob *b, size_t hint)
{
    memset(b, 0, sizeof *b);
    size_t cap = hint ? hint + 1 : 1 << 16;
    for (;;) {
        if (!b->p || b->len == b->cap) {
            size_t ncap = b->p ? 2 * b->cap : cap;
            unsigned char *q = agi_alloc(ncap);
            if (!q)
                return AG_ENOMEM;
            if (b->len)
                memcpy(q, b->p, b->len);
            agi_free(b->p, b->cap);
            b->p = q;
            b->cap = ncap;
        }
        size_t k = fread(b->p + b->len, 1, b->cap - b->len, f);
        b->len += k;
        if (k == 0)
            return ferror(f) ? AG_EIO : AG_OK;
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Read path into b; ".gz" goes through `gzip -dc`. Errors name the file. */
static int read_file(const char *fn, const char *path, blob *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return agi_fail(NULL, AG_EIO, "%s: %s: cannot open: %s", fn, path, strerror(errno));
    int rc;
    if (!ends_with(path, ".gz")) {
        long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        rewind(f);
        rc = blob_read(f, b, size > 0 ? (size_t)size : 0);
        fclose(f);
    } else {
        fclose(f);
        /* single-quote the name for the shell: ' becomes '\'' */
        size_t n = strlen(path), cap = 4 * n + 32;
        char *cmd = agi_alloc(cap);
        if (!cmd)
            return agi_fail(NULL, AG_ENOMEM, "%s: %s: out of memory", fn, path);
        size_t k = (size_t)snprintf(cmd, cap, "gzip -dc -- '");
        for (size_t i = 0; i < n; i++) {
            if (path[i] == '\'') {
                memcpy(cmd + k, "'\\''", 4);
                k += 4;
            } else {
                cmd[k++] = path[i];
            }
        }
        snprintf(cmd + k, cap - k, "'");
        FILE *pf = popen(cmd, "r");
        agi_free(cmd, cap);
        if (!pf)
            return agi_fail(NULL, AG_EIO, "%s: %s: cannot run gzip -dc: %s", fn, path,
                            strerror(errno));
        rc = blob_read(pf, b, 0);
        int st = pclose(pf);
        if (rc == AG_OK && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
            blob_free(b);
            return agi_fail(NULL, AG_EIO, "%s: %s: gzip -dc failed (exit status %d): not a valid gzip file?",
                            fn, path, st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
    }
    if (rc) {
        blob_free(b);
        return agi_fail(NULL, rc, "%s: %s: %s", fn, path,
                        rc == AG_ENOMEM ? "out of memory" : "read error");
    }
    return AG_OK;
}

/* ---- IDX ---- */

static int idx_size(int type)
{
    switch (type) {
    case AG_IDX_U8: case AG_IDX_I8: return 1;
    case AG_IDX_I16: return 2;
    case AG_IDX_I32: case AG_IDX_F32: return 4;
    case AG_IDX_F64: return 8;
    default: return 0;
    }
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
    return v;
}

static ag_real idx_value(const unsigned char *p, int type)
{
    switch (type) {
    case AG_IDX_U8: return (ag_real)p[0];
    case AG_IDX_I8: return (ag_real)(int8_t)p[0];
    case AG_IDX_I16: return (ag_real)(int16_t)(uint16_t)get_be(p, 2);
    case AG_IDX_I32: return (ag_real)(int32_t)(uint32_t)get_be(p, 4);
    case AG_IDX_F32: {
        uint32_t u = (uint32_t)get_be(p, 4);
        float f;
        memcpy(&f, &u, 4);
        return (ag_real)f;
    }
    default: {
        uint64_t u = get_be(p, 8);
        double d;
        memcpy(&d, &u, 8);
        return (ag_real)d;
    }
    }
}

static int idx_parse(const char *path, const blob *b, ag_idx *out)
{
    const char *fn = "ag_idx_read";
    const unsigned char *p = b->p;
    if (b->len < 4)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: truncated: %zu bytes, an IDX header needs 4",
                        fn, path, b->len);
    if (p[0] != 0 || p[1] != 0)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: bad magic 0x%02x%02x%02x%02x (not an IDX file)",
                        fn, path, p[0], p[1], p[2], p[3]);
    int type = p[2], nd = p[3], es = idx_size(type);
    if (!es)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: unknown element type 0x%02x", fn, path, type);
    if (nd < 1 || nd > AG_MAX_DIMS)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: %d dimensions (1 to %d allowed)", fn, path, nd,
                        AG_MAX_DIMS);
    if (b->len < 4 + 4 * (size_t)nd)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: truncated header: %zu bytes for %d dimensions",
                        fn, path, b->len, nd);
    size_t numel = 1;
    for (int i = 0; i < nd; i++) {
        size_t d = (size_t)get_be(p + 4 + 4 * i, 4);
        if (d && numel > SIZE_MAX / 16 / d)
            return agi_fail(NULL, AG_EFORMAT, "%s: %s: dimensions too large", fn, path);
        out->dims[i] = d;
        numel *= d;
    }
    size_t head = 4 + 4 * (size_t)nd, want = numel * (size_t)es, have = b->len - head;
    if (have < want)
        return agi_fail(NULL, AG_EFORMAT,
                        "%s: %s: truncated: header says %zu bytes of data, file has %zu", fn, path,
                        want, have);
    if (have > want)
        return agi_fail(NULL, AG_EFORMAT, "%s: %s: %zu bytes of trailing data after %zu expected",
                        fn, path, have - want, want);
    out->data = agi_alloc(numel * sizeof(ag_real) + 1);
    if (!out->data)
        return agi_fail(NULL, AG_ENOMEM, "%s: %s: out of memory", fn, path);
    for (size_t i = 0; i < numel; i++) out->data[i] = idx_value(p + head + i * (size_t)es, type);
    out->type = (ag_idx_type)type;
    out->ndim = nd;
    out->numel = numel;
    return AG_OK;
}

int ag_idx_read(const char *path, ag_idx *out)
{
    if (!out)
        return agi_fail(NULL, AG_EINVAL, "ag_idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return agi_fail(NULL, AG_EINVAL, "ag_idx_read: path is NULL");
    blob b;
    int rc = read_file("ag_idx_read", path, &b);
    if (rc)
        return rc;
    rc = idx_parse(path, &b, out);
    blob_free(&b);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

void ag_idx_free(ag_idx *m)
{
    if (!m)
        return;
    agi_free(m->data, m->numel * sizeof(ag_real) + 1);
    memset(m, 0, sizeof *m);
}

/* ---- data sets ---- */

static int dataset_alloc(ag_dataset *d, size_t n, size_t dim, int labels)
{
    memset(d, 0, sizeof *d);
    d->x = agi_alloc(n * dim * sizeof(ag_real) + 1);
    d->y = labels ? agi_alloc(n * sizeof(int32_t) + 1) : NULL;
    d->n = n;
    d->dim = dim;
    if (!d->x || (labels && !d->y)) {
        ag_dataset_free(d);
        return AG_ENOMEM;
    }
    return AG_OK;
}

void ag_dataset_free(ag_dataset *d)
{
    if (!d)
        return;
    agi_free(d->x, d->n * d->dim * sizeof(ag_real) + 1);
    if (d->y)
        agi_free(d->y, d->n * sizeof(int32_t) + 1);
    memset(d, 0, sizeof *d);
}

/* Integer label from a value, or -1 flag in *ok when it is not one. */
static int32_t as_label(double v, int *ok)
{
    *ok = v == floor(v) && v >= INT32_MIN && v <= INT32_MAX;
    return *ok ? (int32_t)v : 0;
}

int ag_dataset_from_idx(ag_dataset *d, const ag_idx *x, const ag_idx *labels, double scale)
{
    const char *fn = "ag_dataset_from_idx";
    if (!d || !x || !x->data || x->ndim < 1)
        return agi_fail(NULL, AG_EINVAL, "%s: missing data set or samples", fn);
    size_t n = x->dims[0], dim = n ? x->numel / n : 0;
    if (labels && labels->numel != n)
        return agi_fail(NULL, AG_EINVAL, "%s: %zu samples but %zu labels", fn, n, labels->numel);
    if (dataset_alloc(d, n, dim, labels != NULL))
        return agi_fail(NULL, AG_ENOMEM, "%s: out of memory for %zu x %zu", fn, n, dim);
    for (size_t i = 0; i < n * dim; i++) d->x[i] = (ag_real)(x->data[i] * scale);
    for (size_t i = 0; labels && i < n; i++) {
        int ok;
        d->y[i] = as_label(labels->data[i], &ok);
        if (!ok) {
            ag_dataset_free(d);
            return agi_fail(NULL, AG_EINVAL, "%s: label %zu (%g) is not an integer", fn, i,
                            (double)labels->data[i]);
        }
    }
    return AG_OK;
}

/* ---- CSV ---- */

/* Parse (or, with d NULL, count) the rows of a CSV image. */
static int csv_scan(const char *path, char *s, int header, int label_col, size_t *rows,
                    size_t *cols, ag_dataset *d)
{
    const char *fn = "ag_csv_read";
    size_t line = 0, r = 0;
    char *p = s;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        line++;
        if (eol)
            *eol = 0;
        if (eol > p && eol[-1] == '\r')
            eol[-1] = 0;
        char *q = p;
        while (*q == ' ' || *q == '\t') q++;
        if ((header && line == 1) || *q == 0) {
            if (eol)
                *eol = '\n';
            p = next;
            continue;
        }
        size_t c = 0, feat = 0;
        for (;;) {
            char *end;
            errno = 0;
            double v = strtod(q, &end);
            char *after = end;
            while (*after == ' ' || *after == '\t') after++;
            if (end == q || (*after != ',' && *after != 0))
                return agi_fail(NULL, AG_EFORMAT, "%s: %s: line %zu, column %zu: not a number",
                                fn, path, line, c + 1);
            if (d) {
                if ((int)c == label_col) {
                    int ok;
                    d->y[r] = as_label(v, &ok);
                    if (!ok)
                        return agi_fail(NULL, AG_EFORMAT,
                                        "%s: %s: line %zu, column %zu: label %g is not an integer",
                                        fn, path, line, c + 1, v);
                } else if (feat < d->dim) {
                    d->x[r * d->dim + feat++] = (ag_real)v;
                }
            }
            c++;
            if (*after == 0)
                break;
            q = after + 1;
        }
        if (r == 0 && !d)
            *cols = c;
        if (c != *cols)
            return agi_fail(NULL, AG_EFORMAT, "%s: %s: line %zu has %zu fields, the first row %zu",
                            fn, path, line, c, *cols);
        if (label_col >= 0 && (size_t)label_col >= c)
            return agi_fail(NULL, AG_EFORMAT, "%s: %s: label column %d but rows have %zu fields",
                            fn, path, label_col + 1, c);
        r++;
        if (eol)
            *eol = '\n';
        p = next;
    }
    *rows = r;
    return AG_OK;
}

int ag_csv_read(const char *path, int header, int label_col, ag_dataset *d)
{
    if (!d || !path)
        return agi_fail(NULL, AG_EINVAL, "ag_csv_read: NULL argument");
    memset(d, 0, sizeof *d);
    blob b;
    int rc = read_file("ag_csv_read", path, &b);
    if (rc)
        return rc;
    if (memchr(b.p, 0, b.len)) {
        blob_free(&b);
        return agi_fail(NULL, AG_EFORMAT, "ag_csv_read: %s: binary data (a NUL byte)", path);
    }
    if (b.len == b.cap) { /* room for the terminator */
        blob_free(&b);
        return agi_fail(NULL, AG_ENOMEM, "ag_csv_read: %s: out of memory", path);
    }
    b.p[b.len] = 0;
    size_t rows = 0, cols = 0;
    rc = csv_scan(path, (char *)b.p, header, label_col, &rows, &cols, NULL);
    if (!rc && rows == 0)
        rc = agi_fail(NULL, AG_EFORMAT, "ag_csv_read: %s: no data rows", path);
    if (!rc && dataset_alloc(d, rows, cols - (label_col >= 0), label_col >= 0))
        rc = agi_fail(NULL, AG_ENOMEM, "ag_csv_read: %s: out of memory", path);
    if (!rc)
        rc = csv_scan(path, (char *)b.p, header, label_col, &rows, &cols, d);
    blob_free(&b);
    if (rc)
        ag_dataset_free(d);
    return rc;
}

/* ---- split, batches, accuracy ---- */

static void shuffle(size_t *a, size_t n, ag_rng *r)
{
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)ag_rng_below(r, i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void ag_dataset_gather(const ag_dataset *d, const size_t *idx, size_t n, ag_real *xb, int32_t *yb)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(xb + i * d->dim, d->x + idx[i] * d->dim, d->dim * sizeof(ag_real));
        if (yb && d->y)
            yb[i] = d->y[idx[i]];
    }
}

int ag_dataset_split(const ag_dataset *d, double val_fraction, uint64_t seed, ag_dataset *train,
                     ag_dataset *val)
{
    if (!d || !train || !val || !(val_fraction >= 0 && val_fraction < 1))
        return agi_fail(NULL, AG_EINVAL, "ag_dataset_split: NULL argument or fraction %g outside [0, 1)",
                        val_fraction);
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    size_t nv = (size_t)floor((double)d->n * val_fraction + 0.5), nt = d->n - nv;
    size_t *perm = agi_alloc(d->n * sizeof *perm + 1);
    if (!perm || dataset_alloc(train, nt, d->dim, d->y != NULL) ||
        dataset_alloc(val, nv, d->dim, d->y != NULL)) {
        agi_free(perm, d->n * sizeof *perm + 1);
        ag_dataset_free(train);
        ag_dataset_free(val);
        return agi_fail(NULL, AG_ENOMEM, "ag_dataset_split: out of memory");
    }
    ag_rng r;
    ag_rng_seed(&r, seed);
    for (size_t i = 0; i < d->n; i++) perm[i] = i;
    shuffle(perm, d->n, &r);
    ag_dataset_gather(d, perm, nv, val->x, val->y);
    ag_dataset_gather(d, perm + nv, nt, train->x, train->y);
    agi_free(perm, d->n * sizeof *perm + 1);
    return AG_OK;
}

struct ag_batcher {
    size_t n, batch, pos;
    int shuffle, fresh;
    ag_rng rng;
    size_t order[];
};

ag_batcher *ag_batcher_new(size_t n, size_t batch, int shuffle_each, uint64_t seed)
{
    if (batch == 0 || n > SIZE_MAX / sizeof(size_t) - 64) {
        agi_fail(NULL, AG_EINVAL, "ag_batcher_new: batch size must be > 0");
        return NULL;
    }
    ag_batcher *b = agi_alloc(sizeof *b + n * sizeof(size_t));
    if (!b) {
        agi_fail(NULL, AG_ENOMEM, "ag_batcher_new: out of memory for %zu rows", n);
        return NULL;
    }
    b->n = n;
    b->batch = batch;
    b->pos = 0;
    b->shuffle = shuffle_each != 0;
    b->fresh = 1;
    ag_rng_seed(&b->rng, seed);
    for (size_t i = 0; i < n; i++) b->order[i] = i;
    return b;
}

size_t ag_batcher_next(ag_batcher *b, const size_t **idx)
{
    if (!b)
        return 0;
    if (b->fresh && b->shuffle)
        shuffle(b->order, b->n, &b->rng);
    b->fresh = 0;
    if (b->pos >= b->n) {
        b->pos = 0;
        b->fresh = 1;
        return 0;
    }
    size_t k = b->n - b->pos < b->batch ? b->n - b->pos : b->batch;
    if (idx)
        *idx = b->order + b->pos;
    b->pos += k;
    return k;
}

void ag_batcher_free(ag_batcher *b)
{
    if (b)
        agi_free(b, sizeof *b + b->n * sizeof(size_t));
}

double ag_accuracy(const ag_real *scores, size_t n, size_t classes, const int32_t *labels)
{
    if (!scores || !labels || n == 0 || classes == 0)
        return 0;
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        const ag_real *s = scores + i * classes;
        size_t best = 0;
        for (size_t c = 1; c < classes; c++)
            if (s[c] > s[best])
                best = c;
        hit += labels[i] >= 0 && (size_t)labels[i] == best;
    }
    return (double)hit / (double)n;
}
