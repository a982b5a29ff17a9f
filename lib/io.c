/* ag_save / ag_load: named parameters in a little-endian file with a CRC-32,
 * written atomically (temporary file, fsync, rename) and validated in full
 * before any parameter is written. The format is described in io.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define HEADER_BYTES 28 /* magic 8, version 4, value size 4, length 8, count 4 */

/* CRC-32 a half byte at a time: a 16-entry constant table (no set-up, no
 * shared state) for the reflected polynomial 0xEDB88320. */
uint32_t ag_crc32(uint32_t crc, const void *buf, size_t n)
{
    static const uint32_t nib[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
        0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
        0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};
    const unsigned char *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = nib[crc & 15] ^ (crc >> 4);
        crc = nib[crc & 15] ^ (crc >> 4);
    }
    return ~crc;
}

/* ---- little-endian encoding, independent of the host's byte order ---- */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void put_real(unsigned char *p, ag_real x)
{
    if (sizeof(ag_real) == 4) {
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_le(p, u, 4);
    } else {
        double d = (double)x;
        uint64_t u;
        memcpy(&u, &d, 8);
        put_le(p, u, 8);
    }
}

static ag_real get_real(const unsigned char *p, int size)
{
    if (size == 4) {
        uint32_t u = (uint32_t)get_le(p, 4);
        float f;
        memcpy(&f, &u, 4);
        return (ag_real)f;
    }
    uint64_t u = get_le(p, 8);
    double d;
    memcpy(&d, &u, 8);
    return (ag_real)d;
}

/* ---- writing ---- */

typedef struct writer {
    FILE *f;
    uint32_t crc;
    int err;
    size_t n;
    unsigned char buf[1 << 16];
} writer;

static void w_flush(writer *w)
{
    if (w->n && !w->err && fwrite(w->buf, 1, w->n, w->f) != w->n)
        w->err = errno ? errno : EIO;
    w->n = 0;
}

static void w_bytes(writer *w, const void *src, size_t n)
{
    const unsigned char *s = src;
    w->crc = ag_crc32(w->crc, s, n);
    while (n) {
        if (w->n == sizeof w->buf)
            w_flush(w);
        size_t k = sizeof w->buf - w->n < n ? sizeof w->buf - w->n : n;
        memcpy(w->buf + w->n, s, k);
        w->n += k;
        s += k;
        n -= k;
    }
}

static void w_int(writer *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    put_le(b, v, bytes);
    w_bytes(w, b, (size_t)bytes);
}

static size_t record_bytes(const ag_tensor *p)
{
    return 2 + strlen(ag_param_name(p)) + 1 + 8 * (size_t)ag_ndim(p) +
           ag_numel(p) * sizeof(ag_real);
}

static void write_body(writer *w, const ag_paramset *ps, uint64_t total)
{
    size_t n = ag_paramset_count(ps);
    w_bytes(w, AG_FILE_MAGIC, 8);
    w_int(w, AG_FILE_VERSION, 4);
    w_int(w, sizeof(ag_real), 4);
    w_int(w, total, 8);
    w_int(w, n, 4);
    for (size_t i = 0; i < n; i++) {
        ag_tensor *p = ag_paramset_get(ps, i);
        const char *name = ag_param_name(p);
        w_int(w, strlen(name), 2);
        w_bytes(w, name, strlen(name));
        w_int(w, (uint64_t)ag_ndim(p), 1);
        for (int d = 0; d < ag_ndim(p); d++) w_int(w, ag_shape(p)[d], 8);
        const ag_real *x = ag_data(p);
        for (size_t k = 0; k < ag_numel(p); k++) {
            unsigned char b[8];
            put_real(b, x[k]);
            w_bytes(w, b, sizeof(ag_real));
        }
    }
    unsigned char c[4];
    put_le(c, w->crc, 4);
    w_bytes(w, c, 4);
    w_flush(w);
}

/* Make the rename durable: fsync the directory holding path (best effort). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int ag_save(const char *path, const ag_paramset *ps)
{
    if (!path || !*path || !ps)
        return agi_fail(NULL, AG_EINVAL, "ag_save: %s is NULL or empty", ps ? "path" : "set");
    size_t n = ag_paramset_count(ps);
    uint64_t total = HEADER_BYTES + 4;
    for (size_t i = 0; i < n; i++) {
        ag_tensor *p = ag_paramset_get(ps, i);
        if (!*ag_param_name(p))
            return agi_fail(NULL, AG_EINVAL, "ag_save: %s: parameter %zu has no name", path, i);
        /* names may have changed since they were added to the set */
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ag_param_name(ag_paramset_get(ps, j)), ag_param_name(p)))
                return agi_fail(NULL, AG_EINVAL, "ag_save: %s: two parameters are named '%s'",
                                path, ag_param_name(p));
        total += record_bytes(p);
    }
    size_t plen = strlen(path);
    char *tmp = agi_alloc(plen + 16);
    writer *w = agi_alloc(sizeof *w);
    if (!tmp || !w) {
        agi_free(tmp, plen + 16);
        agi_free(w, sizeof *w);
        return agi_fail(NULL, AG_ENOMEM, "ag_save: %s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int rc = AG_OK;
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        rc = agi_fail(NULL, AG_EIO, "ag_save: %s: cannot create a temporary file: %s", path,
                      strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto done;
    }
    fchmod(fd, 0644);
    memset(w, 0, offsetof(writer, buf));
    w->f = f;
    write_body(w, ps, total);
    /* data must reach the disk before the rename makes it the file */
    if (!w->err && fflush(f) != 0)
        w->err = errno;
    if (!w->err && fsync(fileno(f)) != 0)
        w->err = errno;
    if (fclose(f) != 0 && !w->err)
        w->err = errno;
    if (!w->err && rename(tmp, path) != 0)
        w->err = errno;
    if (w->err) {
        unlink(tmp);
        rc = agi_fail(NULL, AG_EIO, "ag_save: %s: write failed: %s", path, strerror(w->err));
        goto done;
    }
    sync_dir(path);
done:
    agi_free(tmp, plen + 16);
    agi_free(w, sizeof *w);
    return rc;
}

/* ---- reading ---- */

/* One record as found in the file. */
typedef struct record {
    const unsigned char *name;
    size_t name_len;
    int ndim;
    size_t shape[AG_MAX_DIMS];
    size_t numel;
    const unsigned char *data;
} record;

/* Parse record k at *pos, within [0, end); returns 0 or fails (EFORMAT). */
static int parse_record(const char *path, const unsigned char *b, size_t end, size_t *pos,
                        int vsize, size_t k, record *r)
{
    size_t q = *pos;
    if (end - q < 2)
        goto short_rec;
    r->name_len = (size_t)get_le(b + q, 2);
    q += 2;
    if (r->name_len == 0 || r->name_len > 63)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: record %zu: bad name length %zu", path,
                        k, r->name_len);
    if (end - q < r->name_len + 1)
        goto short_rec;
    r->name = b + q;
    q += r->name_len;
    r->ndim = b[q++];
    if (r->ndim > AG_MAX_DIMS)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: record %zu: %d dimensions (at most %d)",
                        path, k, r->ndim, AG_MAX_DIMS);
    if (end - q < 8 * (size_t)r->ndim)
        goto short_rec;
    r->numel = 1;
    for (int d = 0; d < r->ndim; d++, q += 8) {
        uint64_t s = get_le(b + q, 8);
        if (s > SIZE_MAX || (s && r->numel > SIZE_MAX / vsize / s))
            return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: record %zu: size too large", path, k);
        r->shape[d] = (size_t)s;
        r->numel *= (size_t)s;
    }
    if (end - q < r->numel * (size_t)vsize)
        goto short_rec;
    r->data = b + q;
    *pos = q + r->numel * (size_t)vsize;
    return AG_OK;
short_rec:
    return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: record %zu runs past the end of the data",
                    path, k);
}

static int same_name(const record *r, const char *name)
{
    return strlen(name) == r->name_len && memcmp(name, r->name, r->name_len) == 0;
}

/* Check records against the set: same count, every name known, same shapes. */
static int match_records(const char *path, const record *recs, size_t n, const ag_paramset *ps,
                         ag_tensor **dst)
{
    if (n != ag_paramset_count(ps))
        return agi_fail(NULL, AG_EINVAL, "ag_load: %s: file has %zu parameters, model has %zu",
                        path, n, ag_paramset_count(ps));
    for (size_t k = 0; k < n; k++) {
        const record *r = &recs[k];
        for (size_t j = 0; j < k; j++)
            if (recs[j].name_len == r->name_len && !memcmp(recs[j].name, r->name, r->name_len))
                return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: name '%.*s' appears twice", path,
                                (int)r->name_len, (const char *)r->name);
        ag_tensor *p = NULL;
        for (size_t j = 0; j < n && !p; j++)
            if (same_name(r, ag_param_name(ag_paramset_get(ps, j))))
                p = ag_paramset_get(ps, j);
        if (!p)
            return agi_fail(NULL, AG_EINVAL, "ag_load: %s: parameter '%.*s' is not in the model",
                            path, (int)r->name_len, (const char *)r->name);
        int same = ag_ndim(p) == r->ndim;
        for (int d = 0; same && d < r->ndim; d++) same = ag_shape(p)[d] == r->shape[d];
        if (!same) {
            char sf[128], sm[128];
            return agi_fail(NULL, AG_EINVAL,
                            "ag_load: %s: parameter '%.*s' has shape %s in the file, %s in the model",
                            path, (int)r->name_len, (const char *)r->name,
                            ag_shape_str(r->shape, r->ndim, sf, sizeof sf),
                            ag_shape_str(ag_shape(p), ag_ndim(p), sm, sizeof sm));
        }
        dst[k] = p;
    }
    return AG_OK;
}

/* Validate the whole image b[0..len) of path; on success fill every parameter. */
static int load_image(const char *path, const unsigned char *b, size_t len, const ag_paramset *ps)
{
    size_t m = len < 8 ? len : 8;
    if (memcmp(b, AG_FILE_MAGIC, m) != 0)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: not an agrad parameter file (bad magic)",
                        path);
    if (len < HEADER_BYTES + 4)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: truncated: %zu bytes, shorter than the header",
                        path, len);
    uint32_t version = (uint32_t)get_le(b + 8, 4);
    if (version != AG_FILE_VERSION)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: format version %u, this library reads version %d",
                        path, version, AG_FILE_VERSION);
    int vsize = (int)get_le(b + 12, 4);
    if (vsize != 4 && vsize != 8)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: bad value size %d (4 or 8)", path, vsize);
    uint64_t total = get_le(b + 16, 8);
    if (len < total)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: truncated: %zu of %llu bytes", path, len,
                        (unsigned long long)total);
    if (len > total)
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: %llu bytes of trailing data", path,
                        (unsigned long long)(len - total));
    uint32_t stored = (uint32_t)get_le(b + len - 4, 4), crc = ag_crc32(0, b, len - 4);
    if (stored != crc)
        return agi_fail(NULL, AG_EFORMAT,
                        "ag_load: %s: CRC mismatch (file corrupted): stored %08x, computed %08x",
                        path, stored, crc);
    uint64_t n = get_le(b + 24, 4);
    if (n > (len - HEADER_BYTES) / 3) /* a record takes at least 3 bytes */
        return agi_fail(NULL, AG_EFORMAT, "ag_load: %s: bad parameter count %llu", path,
                        (unsigned long long)n);
    size_t rbytes = (size_t)n * (sizeof(record) + sizeof(ag_tensor *)) + 1;
    record *recs = agi_alloc(rbytes);
    if (!recs)
        return agi_fail(NULL, AG_ENOMEM, "ag_load: %s: out of memory", path);
    ag_tensor **dst = (ag_tensor **)(recs + n);
    size_t pos = HEADER_BYTES, end = len - 4;
    int rc = AG_OK;
    for (size_t k = 0; k < n && !rc; k++) rc = parse_record(path, b, end, &pos, vsize, k, &recs[k]);
    if (!rc && pos != end)
        rc = agi_fail(NULL, AG_EFORMAT, "ag_load: %s: %zu unexpected bytes after the last record",
                      path, end - pos);
    if (!rc)
        rc = match_records(path, recs, (size_t)n, ps, dst);
    /* everything checked: only now touch the parameters */
    for (size_t k = 0; k < n && !rc; k++) {
        ag_real *x = ag_data(dst[k]);
        for (size_t i = 0; i < recs[k].numel; i++)
            x[i] = get_real(recs[k].data + i * (size_t)vsize, vsize);
    }
    agi_free(recs, rbytes);
    return rc;
}

int ag_load(const char *path, const ag_paramset *ps)
{
    if (!path || !ps)
        return agi_fail(NULL, AG_EINVAL, "ag_load: %s is NULL", ps ? "path" : "set");
    FILE *f = fopen(path, "rb");
    if (!f)
        return agi_fail(NULL, AG_EIO, "ag_load: %s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return agi_fail(NULL, AG_EIO, "ag_load: %s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *b = agi_alloc(len + 1);
    if (!b) {
        fclose(f);
        return agi_fail(NULL, AG_ENOMEM, "ag_load: %s: out of memory for %zu bytes", path, len);
    }
    size_t got = fread(b, 1, len, f);
    int rerr = ferror(f);
    fclose(f);
    int rc = rerr ? agi_fail(NULL, AG_EIO, "ag_load: %s: read error", path)
                  : load_image(path, b, got, ps);
    agi_free(b, len + 1);
    return rc;
}
