/* The kernels the benchmarks' contenders share (bench_kernels.h). */
#include "bench_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"

static double *cost_us;
static double spin_per_us = 100;
static volatile double sink;

static double spin(long iters) {
  double x = 1.0;
  for (long k = 0; k < iters; k++) x = x * 1.0000001 + 1e-9;
  return x;
}

void bk_calibrate(void) {
  long iters = 1000000;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now();
    sink = spin(iters);
    double t = bench_now() - t0;
    if (t < best) best = t;
  }
  spin_per_us = (double)iters / (best * 1e6);
}

/* A small deterministic generator for the tables. */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return ((double)(next(s) >> 11) + 0.5) * 0x1p-53; }

void bk_table(bk_shape_t shape, uint64_t n, double mean_us, unsigned seed) {
  free(cost_us);
  cost_us = malloc(n * sizeof *cost_us);
  uint64_t s = seed;
  double sum = 0;
  for (uint64_t i = 0; i < n; i++) {
    double c = 1.0;
    switch (shape) {
      case BK_UNIFORM: c = 1.0; break;
      case BK_INCREASING: c = 2.0 * (double)i / (double)n; break;
      case BK_HEAVY_TAIL: {
        double z = sqrt(-2.0 * log(unif(&s))) * cos(6.283185307179586 * unif(&s));
        c = exp(1.5 * z);
        break;
      }
      case BK_FEW_HEAVY: c = unif(&s) < 0.01 ? 99.0 : 1.0; break;
      case BK_GIANT: c = 1.0; break; /* the giant is set below */
      case BK_BIMODAL: c = unif(&s) < 1.0 / 16.0 ? 30.0 : 1.0; break;
      case BK_DECREASING: c = 2.0 * (double)(n - 1 - i) / (double)n; break;
    }
    cost_us[i] = c;
    sum += c;
  }
  if (shape == BK_GIANT && n > 1) { /* 0.4 of the total: g = 0.4 (sum - 1 + g) */
    uint64_t g = n / 3;
    sum -= cost_us[g];
    cost_us[g] = 0.4 * sum / 0.6;
    sum += cost_us[g];
  }
  for (uint64_t i = 0; i < n; i++) cost_us[i] *= mean_us * (double)n / sum;
}

int bk_spin(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  double acc = 0;
  for (uint64_t i = b; i < e; i++) acc += spin((long)(cost_us[i] * spin_per_us));
  sink = acc;
  return 0;
}

static int m_rows = 1, m_cols = 1, m_iter = 1;
void bk_mandel_setup(int rows, int cols, int max_iter) {
  m_rows = rows;
  m_cols = cols;
  m_iter = max_iter;
}

int bk_mandel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  long total = 0;
  for (uint64_t r = b; r < e; r++) {
    double y = 1.5 * (double)r / m_rows;
    for (int c = 0; c < m_cols; c++) {
      double x = -2.0 + 2.5 * (double)c / m_cols, zr = 0, zi = 0;
      int k = 0;
      while (k < m_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + x;
        zi = 2 * zr * zi + y;
        zr = t;
        k++;
      }
      total += k;
    }
  }
  sink = (double)total;
  return 0;
}

#define SLICE (256 * 1024 / 8)
static double *ta, *tb, *tc;
static uint64_t t_slices = 1;
void bk_triad_setup(uint64_t slices) {
  t_slices = slices;
  size_t n = (size_t)slices * SLICE;
  free(ta);
  free(tb);
  free(tc);
  ta = malloc(n * sizeof *ta);
  tb = malloc(n * sizeof *tb);
  tc = malloc(n * sizeof *tc);
  for (size_t i = 0; i < n; i++) ta[i] = 0, tb[i] = 1, tc[i] = 2;
}

/* Item i: the triad over slice i % slices (the arrays exceed the caches). */
int bk_triad(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  for (uint64_t i = b; i < e; i++) {
    size_t o = (size_t)(i % t_slices) * SLICE;
    for (size_t k = 0; k < SLICE; k++) ta[o + k] = tb[o + k] + 3.0 * tc[o + k];
  }
  return 0;
}

static double wait_us = 100;
void bk_wait_setup(double us) { wait_us = us; }
int bk_wait(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  for (uint64_t i = b; i < e; i++) {
    struct timespec ts = {0, (long)(wait_us * 1e3)};
    nanosleep(&ts, NULL);
  }
  return 0;
}

double bk_sink(void) { return sink + (ta ? ta[0] : 0); }
