/*
 * The kernels that bench_openmp's and bench_robust's contenders share, compiled once into their own
 * object (bench_kernels.c) so that every contender calls the same machine code.
 */
#ifndef AMZ_BENCH_KERNELS_H
#define AMZ_BENCH_KERNELS_H

#include <stdint.h>

/* Calibrates the spin loop; call once. Returns the rate (iterations per microsecond),
 * which bk_set_rate gives to other processes (MPI ranks) so that every rank spins the
 * same number of iterations per item. */
double bk_calibrate(void);
void bk_set_rate(double iters_per_us);

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

/* bench_robust's loop families, shared by its threads and MPI programs: each has
 * about half a second of serial work. */
typedef struct bk_family {
  const char *name, *what;
  uint64_t n;
  int (*fn)(uint64_t b, uint64_t e, void *arg);
  void (*setup)(int rep); /* before each repetition (drifting costs change with it) */
  int competitor;         /* another process spins on CPU 0 meanwhile */
} bk_family_t;

extern const bk_family_t bk_families[];
extern const int bk_n_families;

/* The family called `name`, or NULL (after listing the names on stderr, prefixed by
 * `prog`, unless `prog` is NULL). */
const bk_family_t *bk_family(const char *prog, const char *name);

/* The targets' tally over the families of one bench_robust(_mpi) run. */
typedef struct bk_tally {
  int missed, fams_run, fams_inside, runs, runs_inside;
} bk_tally_t;

/* Prints a family row's verdict columns: Amorsize's first run and rerun (medians,
 * seconds) over `best`, the median and worst of the reps prediction errors of each,
 * and the runs inside their interval; ends the row and adds to the tally. `print`:
 * 0 on the ranks that only count. */
void bk_row_verdict(bk_tally_t *t, double best, double first, double rerun,
                    const double *e_first, const double *e_rerun, int in_first, int in_rerun,
                    int reps, int print);

/* Prints the families run (all, or `only`), the interval coverage and the targets
 * missed (the coverage target included). */
void bk_summary(bk_tally_t *t, const char *only);

/* Starts a process spinning on CPU 0 (the noisy neighbour); returns its pid, or -1.
 * bk_stop_competitor kills and reaps it (nothing for -1). */
int bk_start_competitor(void);
void bk_stop_competitor(int pid);

#endif
