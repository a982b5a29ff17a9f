/**
 * @file threads.h
 * @brief The worker thread pool behind GEMM and other large loops.
 *
 * Results do not depend on the number of threads: work is split only over
 * independent outputs, so every output element is computed by the same
 * sequence of floating-point operations, bit for bit, whatever the count.
 */
#ifndef AGRAD_THREADS_H
#define AGRAD_THREADS_H

#include "agrad/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief  Sets how many threads (the calling one included) large kernels use.
 *
 * The default is the environment variable AGRAD_THREADS when it holds a
 * positive integer, else the number of online processors. Workers are
 * started on the first call that needs them and persist until the next
 * ag_set_threads() or the end of the program. Call it while no other thread
 * is inside the library; calls made concurrently are serialised.
 * @param  n  Number of threads, clamped to [1, 64]; n <= 0 restores the default.
 */
AG_API void ag_set_threads(int n);

/**
 * @brief  Number of threads large kernels use (see ag_set_threads()).
 * @return A value >= 1.
 */
AG_API int ag_get_threads(void);

#ifdef __cplusplus
}
#endif

#endif
