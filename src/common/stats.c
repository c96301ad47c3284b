/* Robust statistics over small samples (sampling blocks: tens to thousands). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorted copy on the stack for small n, heap otherwise; returns NULL on OOM. */
static double *sorted_copy(const double *x, size_t n) {
  double *c = malloc(n * sizeof *c);
  if (!c) return NULL;
  memcpy(c, x, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_double);
  return c;
}

static double median_sorted(const double *c, size_t n) {
  return (n % 2) ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
}

double amz__median(const double *x, size_t n) {
  if (n == 0) return 0.0;
  double *c = sorted_copy(x, n);
  if (!c) return x[0];
  double m = median_sorted(c, n);
  free(c);
  return m;
}

double amz__mad(const double *x, size_t n) {
  if (n == 0) return 0.0;
  double med = amz__median(x, n);
  double *d = malloc(n * sizeof *d);
  if (!d) return 0.0;
  for (size_t i = 0; i < n; i++) d[i] = fabs(x[i] - med);
  double m = amz__median(d, n);
  free(d);
  return m;
}

double amz__trimmed_mean(const double *x, size_t n, double trim) {
  if (n == 0) return 0.0;
  double *c = sorted_copy(x, n);
  if (!c) return amz__mean(x, n);
  size_t k = (size_t)(trim * (double)n);
  if (2 * k >= n) k = (n - 1) / 2;
  double s = 0.0;
  for (size_t i = k; i < n - k; i++) s += c[i];
  double m = s / (double)(n - 2 * k);
  free(c);
  return m;
}

double amz__mean(const double *x, size_t n) {
  if (n == 0) return 0.0;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

double amz__stddev(const double *x, size_t n) {
  if (n < 2) return 0.0;
  double m = amz__mean(x, n), s = 0.0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return sqrt(s / (double)(n - 1));
}

int amz__linear_fit(const double *x, const double *y, size_t n, double *slope,
                    double *intercept) {
  if (n < 2) return -1;
  double mx = amz__mean(x, n), my = amz__mean(y, n), sxx = 0.0, sxy = 0.0;
  for (size_t i = 0; i < n; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0.0) return -1;
  *slope = sxy / sxx;
  *intercept = my - *slope * mx;
  return 0;
}

/* delta^2 = mean of squared successive differences; for independent noise around a
 * smooth trend, sigma^2 ~= delta^2 / 2 (von Neumann et al., Ann. Math. Stat. 1941). */
double amz__successive_sd(const double *x, size_t n) {
  if (n < 2) return 0.0;
  double s = 0.0;
  for (size_t i = 1; i < n; i++) s += (x[i] - x[i - 1]) * (x[i] - x[i - 1]);
  return sqrt(s / (2.0 * (double)(n - 1)));
}

/* E[max of k standard normals] = integral of x k phi(x) Phi(x)^(k-1) dx, by
 * Simpson's rule on [-6, 9] (the integrand is negligible outside for k <= 2^20;
 * 300 steps keep the error below 1e-6 for the smooth integrand). */
static double expected_max_integral(int k) {
  const int steps = 300;
  const double a = -6.0, b = 9.0, h = (b - a) / steps;
  double sum = 0.0;
  for (int i = 0; i <= steps; i++) {
    double x = a + i * h;
    double phi = exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
    double Phi = 0.5 * erfc(-x / M_SQRT2);
    double f = x * k * phi * pow(Phi, k - 1);
    sum += f * (i == 0 || i == steps ? 1.0 : (i % 2 ? 4.0 : 2.0));
  }
  return sum * h / 3.0;
}

/* Filled on demand: the planner asks for a handful of worker counts. Threads racing
 * on an entry compute the same value, so a relaxed atomic store is enough. */
#define EMAX_TABLE 257
static _Atomic double emax_table[EMAX_TABLE];

/* Exact (numerically integrated, cached) for k <= 256; beyond, the Gumbel limit of
 * the maximum with its mean: mu_k + gamma sigma_k (Cramer 1946; David & Nagaraja,
 * Order Statistics, 2003), within 1.5% there and exact in the limit. */
double amz__expected_max_normal(int k) {
  if (k <= 1) return 0.0;
  if (k < EMAX_TABLE) {
    double v = atomic_load_explicit(&emax_table[k], memory_order_relaxed);
    if (v == 0.0) {
      v = expected_max_integral(k);
      atomic_store_explicit(&emax_table[k], v, memory_order_relaxed);
    }
    return v;
  }
  double l = sqrt(2.0 * log((double)k));
  double mu = l - (log(log((double)k)) + log(4.0 * M_PI)) / (2.0 * l);
  return mu + 0.5772156649015329 / l;
}
