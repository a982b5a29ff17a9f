/* The FMA peak of one core, measured rather than taken from a data sheet. */
#ifndef BENCH_FMA_PEAK_H
#define BENCH_FMA_PEAK_H

/* GFLOP/s of one thread running independent FMAs on the widest vectors
 * this CPU has (AVX-512, else AVX2+FMA) in the build's precision: the
 * median of 5 runs of about 0.1 s. Sets *isa to the vectors used. Returns
 * 0 where it cannot measure (not x86, or neither ISA). */
double bench_fma_peak(const char **isa);

#endif
