/* Lane-wise dot-product kernel for the x86 kernel files; see dotv in
 * kernels.h for the contract. For a product whose op(A) has at most VW
 * rows and whose operands both run along k (a convolution's weight
 * gradient with few output channels): op(A) is packed once per product as
 * k vectors of its rows (ap[p*VW + i] = A[i][p]), and each row j of B is
 * read in place, one value at a time, broadcast into an FMA with that
 * vector (rows.h). Each accumulator holds column j of the tile,
 * C[0..VW)[j], so no lane sums are needed and each element is one chain of
 * FMAs, in order. The including file defines what rows.h needs and
 * DOTV_NAME. */
#include "rows.h"

static void DOTV_NAME(size_t count, size_t k, const ag_real *ap, size_t sap, const ag_real *b,
                      size_t ldb, size_t sb, size_t nr, int first, ag_real *tile)
{
    rows_any(1, count, k, ap, sap, b, ldb, sb, nr, first, tile);
}
