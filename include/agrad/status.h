/**
 * @file status.h
 * @brief Status codes, error messages and the allocator hook.
 */
#ifndef AGRAD_STATUS_H
#define AGRAD_STATUS_H

#include <stddef.h>
#include "agrad/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Status codes. Zero is success; every failure is a distinct value. */
typedef enum ag_status {
    AG_OK = 0,      /*!< no error */
    AG_EINVAL = 1,  /*!< invalid argument: bad shape, axis, index or NULL */
    AG_ENOMEM = 2,  /*!< an allocation failed */
    AG_ESTATE = 3,  /*!< object used in the wrong state (tensor of another tape...) */
    AG_EIO = 4,     /*!< a file could not be opened, read or written */
    AG_EFORMAT = 5, /*!< a file is truncated, corrupted or of another format */
    AG_ENAN = 6     /*!< anomaly mode found a NaN or an infinity */
} ag_status;

/**
 * @brief  Short English name of a status code.
 * @param  s  A status code.
 * @return A static string such as "invalid argument"; never NULL, never to be freed.
 */
AG_API const char *ag_status_str(int s);

/**
 * @brief  Message of the last error raised by a call that has no tape
 *         (ag_param_new(), ag_load(), readers...) in the calling thread.
 * @return A thread-local string, valid until the next failing call in this
 *         thread; "" when there was none. Never NULL, never to be freed.
 */
AG_API const char *ag_last_errmsg(void);

/**
 * @brief Allocator hook, in the style of Lua's lua_Alloc.
 *
 * Called as f(ud, NULL, 0, n) to allocate n bytes, f(ud, p, old, n) to resize,
 * and f(ud, p, old, 0) to free (the return value is then ignored). Returns NULL
 * when it cannot satisfy a request of n > 0 bytes.
 */
typedef void *(*ag_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

/**
 * @brief  Replace the allocator used for every later allocation of the library.
 *
 * Meant for counting and fault-injection tests. Set it while no library object
 * is alive, or objects allocated before are freed through the new function.
 * @param  f   The allocator, or NULL to restore malloc/realloc/free.
 * @param  ud  Passed back to @p f unchanged.
 */
AG_API void ag_set_allocator(ag_alloc_fn f, void *ud);

#ifdef __cplusplus
}
#endif
#endif
