/*
 * The kernels that bench_openmp's and bench_robust's contenders share, compiled once into their own
 * object (bench_kernels.c) so that every contender calls the same machine code.
 */
#ifndef AMZ_BENCH_KERNELS_H
#define AMZ_BENCH_KERNELS_H

#include <stdint.h>

/* Calibrates the spin loop (iterations per microsecond); call once. */
void bk_calibrate(void);

/* Loop shapes: the cost of each item, in microseconds of spinning. */
typedef enum {
  BK_UNIFORM,    /* every item the mean */
  BK_INCREASING, /* 0 to 2x the mean, rising with the index */
  BK_HEAVY_TAIL, /* lognormal, sigma 1.5 */
  BK_FEW_HEAVY,  /* 1% of the items (at random places) carry half of the work */
  BK_GIANT,      /* one item (a third into the range) carries 40% of the work */
  BK_BIMODAL,    /* 1 item in 16 (at random places) costs 30x the others */
  BK_DECREASING, /* 2x the mean down to 0, falling with the index */
} bk_shape_t;

/* Builds the cost table of n items of mean `mean_us`. */
void bk_table(bk_shape_t shape, uint64_t n, double mean_us, unsigned seed);

/* Range kernels (amz_range_fn's signature): items [b, e). */
int bk_spin(uint64_t b, uint64_t e, void *arg);     /* the cost table, spinning */
int bk_mandel(uint64_t b, uint64_t e, void *arg);   /* rows of a Mandelbrot image */
int bk_triad(uint64_t b, uint64_t e, void *arg);    /* a = b + s c over slices */
int bk_wait(uint64_t b, uint64_t e, void *arg);     /* sleeps `mean_us` per item */

/* Sets up the Mandelbrot image (rows x cols) and the triad (slices of 256 KiB). */
void bk_mandel_setup(int rows, int cols, int max_iter);
void bk_triad_setup(uint64_t slices);
void bk_wait_setup(double us);

/* A checksum of what the kernels computed (keeps the compiler honest). */
double bk_sink(void);

#endif
