/**
 * @file data.h
 * @brief Data sets: IDX and CSV readers, train/validation split, shuffled
 *        mini-batches, accuracy.
 *
 * Readers report a missing or malformed file as an error whose message (see
 * ag_last_errmsg()) names the file and what is wrong, e.g.
 * "train-images-idx3-ubyte.gz: truncated: header says 47040000 bytes of data, file has 1024".
 */
#ifndef AGRAD_DATA_H
#define AGRAD_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "agrad/tensor.h"
#include "agrad/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief IDX element types (the third byte of the magic number). */
typedef enum ag_idx_type {
    AG_IDX_U8 = 0x08,  /*!< unsigned byte */
    AG_IDX_I8 = 0x09,  /*!< signed byte */
    AG_IDX_I16 = 0x0B, /*!< 16-bit integer, big-endian on disk */
    AG_IDX_I32 = 0x0C, /*!< 32-bit integer, big-endian on disk */
    AG_IDX_F32 = 0x0D, /*!< IEEE float, big-endian on disk */
    AG_IDX_F64 = 0x0E  /*!< IEEE double, big-endian on disk */
} ag_idx_type;

/** @brief An IDX array (MNIST format), converted to ag_real. */
typedef struct ag_idx {
    ag_idx_type type;          /*!< element type on disk */
    int ndim;                  /*!< number of dimensions, 1 to #AG_MAX_DIMS */
    size_t dims[AG_MAX_DIMS];  /*!< sizes */
    size_t numel;              /*!< product of the sizes */
    ag_real *data;             /*!< numel values, row-major; freed by ag_idx_free() */
} ag_idx;

/**
 * @brief  Read an IDX file (MNIST, Fashion-MNIST). A name ending in ".gz" is
 *         decompressed through `gzip -dc`; any other file is read directly.
 * @param  path  File name.
 * @param  out   Filled in on success; free with ag_idx_free(). Zeroed on error.
 * @return AG_OK; AG_EIO (missing, unreadable, or gzip failed), AG_EFORMAT
 *         (bad magic, type, dimensions, truncated or trailing data) or
 *         AG_ENOMEM; the message names the file (ag_last_errmsg()).
 */
AG_API int ag_idx_read(const char *path, ag_idx *out);

/** @brief Free the data of an IDX array and zero it. NULL is harmless. */
AG_API void ag_idx_free(ag_idx *m);

/**
 * @brief A table of numbers: n rows of dim features, with an optional
 *        integer label per row. Owns its buffers (ag_dataset_free()).
 */
typedef struct ag_dataset {
    ag_real *x;    /*!< n * dim values, row-major */
    int32_t *y;    /*!< n labels, or NULL */
    size_t n;      /*!< rows */
    size_t dim;    /*!< features per row */
} ag_dataset;

/**
 * @brief  Data set from an IDX array of samples [n, ...] (each sample
 *         flattened, values multiplied by @p scale) and, optionally, one of
 *         labels [n].
 * @param  d       Filled in on success; free with ag_dataset_free().
 * @param  x       Samples, at least 1-d.
 * @param  labels  Labels (integers), or NULL.
 * @param  scale   Factor applied to every value (1/255 for images in [0, 1]).
 * @return AG_OK; AG_EINVAL (counts differ, label not an integer) or AG_ENOMEM.
 */
AG_API int ag_dataset_from_idx(ag_dataset *d, const ag_idx *x, const ag_idx *labels,
                               double scale);

/**
 * @brief  Read a numeric CSV file: comma-separated numbers, one row per line,
 *         every row with the same number of fields. Blank lines are skipped.
 * @param  path        File name.
 * @param  header      Nonzero: skip the first line.
 * @param  label_col   Column to use as integer labels (removed from the
 *                     features), or -1 for none.
 * @param  d           Filled in on success; free with ag_dataset_free().
 * @return AG_OK; AG_EIO (cannot open), AG_EFORMAT (a field that is not a
 *         number, a row of another width, a non-integer label: the message
 *         names the file, line and column) or AG_ENOMEM.
 */
AG_API int ag_csv_read(const char *path, int header, int label_col, ag_dataset *d);

/** @brief Free the buffers of a data set and zero it. NULL is harmless. */
AG_API void ag_dataset_free(ag_dataset *d);

/**
 * @brief  Split a data set at random into a training part and a validation
 *         part of round(n * val_fraction) rows (copies; @p d is unchanged).
 * @param  d             Source.
 * @param  val_fraction  In [0, 1).
 * @param  seed          Seed of the shuffle (ag_rng).
 * @param  train         Filled in; free with ag_dataset_free().
 * @param  val           Filled in; free with ag_dataset_free().
 * @return AG_OK, AG_EINVAL or AG_ENOMEM (then both outputs are zeroed).
 */
AG_API int ag_dataset_split(const ag_dataset *d, double val_fraction, uint64_t seed,
                            ag_dataset *train, ag_dataset *val);

/**
 * @brief  Copy rows idx[0..n) of @p d into contiguous buffers.
 * @param  d    Source.
 * @param  idx  @p n row numbers (< d->n).
 * @param  n    Number of rows.
 * @param  xb   Destination of n * d->dim values.
 * @param  yb   Destination of n labels, or NULL (ignored if d->y is NULL).
 */
AG_API void ag_dataset_gather(const ag_dataset *d, const size_t *idx, size_t n, ag_real *xb,
                              int32_t *yb);

/**
 * @brief Mini-batch iterator over n rows, optionally reshuffled (Fisher-Yates
 *        with ag_rng) at the start of every epoch. Opaque.
 */
typedef struct ag_batcher ag_batcher;

/**
 * @brief  New iterator.
 * @param  n        Number of rows.
 * @param  batch    Rows per batch (the last batch of an epoch may be smaller).
 * @param  shuffle  Nonzero to shuffle each epoch.
 * @param  seed     Seed of the shuffles: equal seeds give equal orders.
 * @return An iterator freed with ag_batcher_free(); NULL on error (see ag_last_errmsg()).
 */
AG_API ag_batcher *ag_batcher_new(size_t n, size_t batch, int shuffle, uint64_t seed);

/**
 * @brief  Next batch of the current epoch.
 * @param  b    Iterator.
 * @param  idx  Receives a pointer to the row numbers of the batch, owned by
 *              @p b and valid until the next call.
 * @return Rows in the batch; 0 at the end of the epoch (the next call then
 *         starts a new epoch, reshuffled).
 */
AG_API size_t ag_batcher_next(ag_batcher *b, const size_t **idx);

/** @brief Free an iterator. NULL is harmless. */
AG_API void ag_batcher_free(ag_batcher *b);

/**
 * @brief  Fraction of rows whose highest score is at the label (ties: the
 *         first maximum wins).
 * @param  scores  [n, classes] row-major.
 * @param  n       Rows.
 * @param  classes Columns.
 * @param  labels  @p n labels.
 * @return Accuracy in [0, 1]; 0 if @p n is 0.
 */
AG_API double ag_accuracy(const ag_real *scores, size_t n, size_t classes,
                          const int32_t *labels);

#ifdef __cplusplus
}
#endif
#endif
