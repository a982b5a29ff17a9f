/**
 * @file io.h
 * @brief Saving and loading named parameters.
 *
 * File format, version 1, every integer little-endian:
 *
 * | bytes | content |
 * | ----- | ------- |
 * | 8     | magic "AGRADPRM" |
 * | 4     | format version (1) |
 * | 4     | bytes per stored value: 4 (IEEE float) or 8 (IEEE double) |
 * | 8     | total file length in bytes, this trailer included |
 * | 4     | number of parameters N |
 * | ...   | N records: name length L (2), name (L bytes, no NUL), ndim (1), ndim sizes (8 each), the values (row-major, little-endian) |
 * | 4     | CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it |
 *
 * A file written by a float build loads into a double build and back (values
 * are converted). ag_save() writes to a temporary file in the same
 * directory, flushes it to disk (fflush, fsync) and renames it over @p path,
 * so a crash leaves either the old file or the new one, never half a file.
 */
#ifndef AGRAD_IO_H
#define AGRAD_IO_H

#include "agrad/tensor.h"
#include "agrad/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Magic bytes at the start of a parameter file. */
#define AG_FILE_MAGIC "AGRADPRM"
/** @brief Format version written by ag_save() and accepted by ag_load(). */
#define AG_FILE_VERSION 1

/**
 * @brief  Save the parameters of @p ps (names, shapes, values) to @p path.
 * @param  path  Destination; replaced atomically.
 * @param  ps    Parameters, each with a non-empty unique name.
 * @return AG_OK; AG_EINVAL (bad argument), AG_EIO (cannot write: the old
 *         file, if any, is left as it was) or AG_ENOMEM. The message, naming
 *         the file, is in ag_last_errmsg().
 */
AG_API int ag_save(const char *path, const ag_paramset *ps);

/**
 * @brief  Load parameters saved by ag_save() into the parameters of @p ps,
 *         matched by name.
 *
 * Everything is checked before any parameter is written: the magic, the
 * version, the length (a truncated file), the CRC (a corrupted file), the
 * records, and that the file holds exactly the names of @p ps with the same
 * shapes. On any error the parameters are left exactly as they were.
 * @param  path  File written by ag_save().
 * @param  ps    Parameters to fill.
 * @return AG_OK; AG_EIO (cannot open or read), AG_EFORMAT (not a parameter
 *         file, other version, truncated, CRC mismatch, malformed record),
 *         AG_EINVAL (names or shapes differ from @p ps) or AG_ENOMEM. The
 *         message names the file and the problem; see ag_last_errmsg().
 */
AG_API int ag_load(const char *path, const ag_paramset *ps);

/**
 * @brief  CRC-32 (reflected polynomial 0xEDB88320, as zlib), continuing from
 *         @p crc (start with 0).
 * @param  crc  CRC of the bytes before, or 0.
 * @param  buf  Bytes.
 * @param  n    Number of bytes.
 * @return The updated CRC.
 */
AG_API uint32_t ag_crc32(uint32_t crc, const void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
