/* The kernels the benchmarks' contenders share (bench_kernels.h). */
#define _GNU_SOURCE /* sched_setaffinity */
#include "bench_kernels.h"

#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

static double *cost_us;
static double spin_per_us = 100;
static volatile double sink;

static double spin(long iters) {
  double x = 1.0;
  for (long k = 0; k < iters; k++) x = x * 1.0000001 + 1e-9;
  return x;
}

double bk_calibrate(void) {
  long iters = 1000000;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now();
    sink = spin(iters);
    double t = bench_now() - t0;
    if (t < best) best = t;
  }
  spin_per_us = (double)iters / (best * 1e6);
  return spin_per_us;
}

void bk_set_rate(double iters_per_us) { spin_per_us = iters_per_us; }

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
  /* Every array written, none with zeros: gcc turns malloc and a zero fill into
   * calloc, whose pages fault in on the first triad (3x the time of a slice), which
   * the first plan's sample then met and its run did not. */
  for (size_t i = 0; i < n; i++) ta[i] = 0.5, tb[i] = 1, tc[i] = 2;
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

/* ---- bench_robust's loop families ------------------------------------------------ */

enum { N_SPIN = 20000 };
#define MEAN_US 25.0

static void s_giant(int rep) { (void)rep, bk_table(BK_GIANT, N_SPIN, MEAN_US, 11); }
static void s_heavy(int rep) { (void)rep, bk_table(BK_HEAVY_TAIL, N_SPIN, MEAN_US, 12); }
static void s_bimodal(int rep) { (void)rep, bk_table(BK_BIMODAL, N_SPIN, MEAN_US, 13); }
static void s_few(int rep) { (void)rep, bk_table(BK_FEW_HEAVY, N_SPIN, MEAN_US, 14); }
static void s_memory(int rep) { (void)rep, bk_triad_setup(256); }
static void s_wait(int rep) { (void)rep, bk_wait_setup(100.0); }
static void s_uniform(int rep) { (void)rep, bk_table(BK_UNIFORM, N_SPIN, MEAN_US, 15); }
static void s_drift(int rep) {
  bk_table(rep % 2 ? BK_DECREASING : BK_INCREASING, N_SPIN, MEAN_US, 16);
}

const bk_family_t bk_families[] = {
    {"giant", "2*10^4 items of 25 us, one of them 40% of the work", N_SPIN, bk_spin, s_giant,
     0},
    {"heavy-tail", "2*10^4 items, lognormal (sigma 1.5), mean 25 us", N_SPIN, bk_spin, s_heavy,
     0},
    {"bimodal", "2*10^4 items, 1 in 16 costs 30x the others, mean 25 us", N_SPIN, bk_spin,
     s_bimodal, 0},
    {"few-heavy", "2*10^4 items, 1% of them carry half of the work", N_SPIN, bk_spin, s_few, 0},
    {"memory", "6000 triads over 256 KiB slices of 192 MiB", 6000, bk_triad, s_memory, 0},
    {"waiting", "2000 items sleeping 100 us", 2000, bk_wait, s_wait, 0},
    {"pinned-load", "2*10^4 items of 25 us, another process spinning on CPU 0", N_SPIN, bk_spin,
     s_uniform, 1},
    {"drifting", "2*10^4 items, cost rising with the index, then falling, step by step",
     N_SPIN, bk_spin, s_drift, 0},
};
const int bk_n_families = (int)(sizeof bk_families / sizeof bk_families[0]);

const bk_family_t *bk_family(const char *prog, const char *name) {
  for (int k = 0; k < bk_n_families; k++)
    if (strcmp(name, bk_families[k].name) == 0) return &bk_families[k];
  if (!prog) return NULL;
  fprintf(stderr, "%s: --only %s: no such loop family; expected one of:", prog, name);
  for (int k = 0; k < bk_n_families; k++) fprintf(stderr, " %s", bk_families[k].name);
  fprintf(stderr, "\n");
  return NULL;
}

void bk_row_verdict(bk_tally_t *t, double best, double first, double rerun,
                    const double *e_first, const double *e_rerun, int in_first, int in_rerun,
                    int reps, int print) {
  double rf = first / best, rr = rerun / best, mf, wf, mr, wr;
  bench_median_worst(e_first, reps, &mf, &wf);
  bench_median_worst(e_rerun, reps, &mr, &wr);
  int bad_f = rf > 1.05, bad_r = rr > 1.03, bad_ef = fabs(wf) > 0.25, bad_er = fabs(wr) > 0.25;
  t->missed += bad_f + bad_r + bad_ef + bad_er;
  t->fams_run++;
  t->fams_inside += in_first + in_rerun == 2 * reps;
  t->runs += 2 * reps;
  t->runs_inside += in_first + in_rerun;
  if (!print) return;
  printf("%.2f%s | %.2f%s | %+.0f%%, %+.0f%%%s | %+.0f%%, %+.0f%%%s | %d/%d | %d/%d |\n", rf,
         bad_f ? " !" : "", rr, bad_r ? " !" : "", 100 * mf, 100 * wf, bad_ef ? " !" : "",
         100 * mr, 100 * wr, bad_er ? " !" : "", in_first, reps, in_rerun, reps);
  fflush(stdout);
}

void bk_summary(bk_tally_t *t, const char *only) {
  printf("\nLoops:\n");
  for (int k = 0; k < bk_n_families; k++)
    if (!only || strcmp(only, bk_families[k].name) == 0)
      printf("  %-12s %s\n", bk_families[k].name, bk_families[k].what);
  /* Target: the measured time inside the interval on at least 9 families in 10. */
  int bad_cover = 10 * t->fams_inside < 9 * t->fams_run;
  t->missed += bad_cover;
  printf("inside the predicted interval: %d of %d runs; every run inside on %d of %d "
         "families%s\n",
         t->runs_inside, t->runs, t->fams_inside, t->fams_run, bad_cover ? " !" : "");
  printf("targets missed: %d\n(checksum %g)\n", t->missed, bk_sink());
}

int bk_start_competitor(void) {
  pid_t pid = fork();
  if (pid == 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    volatile double x = 1;
    for (;;) x = x * 1.0000001 + 1e-9;
  }
  return pid > 0 ? (int)pid : -1;
}

void bk_stop_competitor(int pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}
