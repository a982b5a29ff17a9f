/* The injectable allocator and the tape arena. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static void *default_alloc(void *ud, void *p, size_t old, size_t n)
{
    (void)ud;
    (void)old;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

static ag_alloc_fn alloc_fn = default_alloc;
static void *alloc_ud;

void ag_set_allocator(ag_alloc_fn f, void *ud)
{
    alloc_fn = f ? f : default_alloc;
    alloc_ud = f ? ud : NULL;
}

void *agi_alloc(size_t n)
{
    return n ? alloc_fn(alloc_ud, NULL, 0, n) : NULL;
}

void agi_free(void *p, size_t n)
{
    if (p)
        alloc_fn(alloc_ud, p, n, 0);
}

struct agi_chunk {
    agi_chunk *next;
    size_t size; /* usable bytes after the header */
};

#define CHUNK_HDR ((sizeof(agi_chunk) + 63) & ~(size_t)63)
#define MIN_CHUNK ((size_t)64 << 10)

static agi_chunk *chunk_new(size_t size)
{
    agi_chunk *c = agi_alloc(CHUNK_HDR + size + 64);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    return c;
}

/* First usable byte of a chunk, 64-byte aligned whatever malloc returned. */
static char *chunk_base(agi_chunk *c)
{
    uintptr_t p = (uintptr_t)c + CHUNK_HDR;
    return (char *)((p + 63) & ~(uintptr_t)63);
}

/* Makes c the chunk being filled, its first bytes taken. */
static void *take(agi_arena *a, agi_chunk *c, size_t bytes)
{
    char *base = chunk_base(c);
    a->cur = c;
    a->ptr = base + bytes;
    a->end = base + c->size;
    return base;
}

void *agi_arena_next(agi_arena *a, size_t bytes, size_t align)
{
    /* The chunks after the current one belong to earlier steps: free. Their
     * bases are 64-byte aligned, so any align up to 64 holds. */
    for (agi_chunk *c = a->cur ? a->cur->next : NULL; c; c = c->next)
        if (bytes <= c->size)
            return take(a, c, bytes);
    if (bytes > SIZE_MAX / 2)
        return NULL;
    size_t want = a->total > MIN_CHUNK ? a->total : MIN_CHUNK; /* grow geometrically */
    if (want < bytes + align)
        want = bytes + align;
    agi_chunk *n = chunk_new(want);
    if (!n)
        return NULL;
    /* append after the last chunk, so the next step meets the chunks in order */
    agi_chunk *last = a->cur;
    while (last && last->next)
        last = last->next;
    if (last)
        last->next = n;
    else
        a->first = n;
    a->total += want;
    return take(a, n, bytes);
}

void agi_arena_reset(agi_arena *a)
{
    a->cur = a->first;
    a->ptr = a->cur ? chunk_base(a->cur) : NULL;
    a->end = a->cur ? a->ptr + a->cur->size : NULL;
}

void agi_arena_free(agi_arena *a)
{
    agi_chunk *c = a->first;
    while (c) {
        agi_chunk *next = c->next;
        agi_free(c, CHUNK_HDR + c->size + 64);
        c = next;
    }
    a->first = a->cur = NULL;
    a->ptr = a->end = NULL;
    a->total = 0;
}

uint64_t agi_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
