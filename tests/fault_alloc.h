/* An allocator for fault-injection tests (ag_set_allocator(faulty, NULL)):
 * it fails the allocation at which countdown reaches 0 and counts the blocks
 * still live, so a test can check that nothing leaked. */
#ifndef AGRAD_TEST_FAULT_ALLOC_H
#define AGRAD_TEST_FAULT_ALLOC_H

#include <stdlib.h>

static long countdown = -1; /* fail when it reaches 0; -1: never */
static long live;           /* allocations not yet freed */
static long calls;          /* allocation requests seen (failed ones too) */

static void *faulty(void *ud, void *p, size_t old, size_t n)
{
    (void)ud;
    (void)old;
    if (n == 0) {
        if (p)
            live--;
        free(p);
        return NULL;
    }
    calls++;
    if (countdown >= 0 && countdown-- == 0)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        live++;
    return q;
}

#endif
