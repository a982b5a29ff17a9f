/* Sliding-window geometry and the two loops shared by unfold and fold
 * (internal; names agi_). Each op's VJP is the other op's forward loop, so
 * both live here. */
#ifndef AGRAD_OPS_WINDOW_H
#define AGRAD_OPS_WINDOW_H

#include <stddef.h>
#include "agrad.h"

/* Sizes of one call, from the window (validated) and the image shape
 * [n, c, h, w]: oh x ow windows; per image, img pixels and cols column entries. */
typedef struct agi_window_geom {
    size_t n, c, h, w, oh, ow, img, cols;
} agi_window_geom;

agi_window_geom agi_window_geom_of(const ag_window2d *g, const size_t *nchw);

/* The window with 0 strides and dilations replaced by 1. */
ag_window2d agi_window_norm(const ag_window2d *g);

/* Validate the window against an h x w image. Returns 0 and sets *oh, *ow,
 * or -1 with a reason in msg (for the op's error message). */
int agi_window_check(const ag_window2d *g, size_t h, size_t w, size_t *oh, size_t *ow, char *msg,
                     size_t n);

/* One image, c channels of h x w, to its columns [c*kh*kw, oh*ow]: written,
 * padding reading as pv; or with acc, added (+=) and the padding skipped. */
void agi_im2col(const ag_real *x, size_t c, size_t h, size_t w, const ag_window2d *g, size_t oh,
                size_t ow, int acc, ag_real pv, ag_real *cols);

/* Adjoint of agi_im2col: add each column entry into the pixel it was copied
 * from (entries that came from the padding are dropped). Accumulates into x. */
void agi_col2im(const ag_real *cols, size_t c, size_t h, size_t w, const ag_window2d *g, size_t oh,
                size_t ow, ag_real *x);

/* The two loops over a batch: images [n, c, h, w] <-> columns
 * [n, c*kh*kw, oh*ow], the images split among the pool's threads (each
 * image is one independent piece of work, so results do not depend on the
 * thread count). */
void agi_im2col_batch(const ag_real *x, const agi_window_geom *k, const ag_window2d *g, int acc,
                      ag_real pv, ag_real *cols);
/* col2im with zero: x holds garbage and each image is zeroed first (by the
 * thread that sums into it). */
void agi_col2im_batch(const ag_real *cols, const agi_window_geom *k, const ag_window2d *g,
                      int zero, ag_real *x);

#endif
