/*
 * Amorsize against what an MPI/OpenMP developer already has, on one node.
 *
 *   bench_openmp [--reps R] [--only NAME]
 *
 * Eight loop shapes of about 1 s of serial work each (bench_kernels.c, compiled
 * once into an object every contender links). Contenders, one thread per core:
 * a plain serial loop; OpenMP `schedule(static)` (blocks), `schedule(dynamic,1)`
 * and `schedule(guided)`, calling the kernel per item; a hand-tuned counter (an
 * atomic counter handing out chunks, with the best of 6 chunk sizes found by
 * trying each once); and Amorsize with no options: `amz_for` as a one-shot call
 * (probe, sampling and planning included) and a plan's second run (steady state,
 * what a time-stepping code gets). They alternate, R times; medians. The last
 * columns are Amorsize's times over the best other contender of the row.
 */
#include <omp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amorsize.h"
#include "bench_kernels.h"
#include "bench_omp.h"
#include "bench_util.h"

typedef struct wl {
  const char *name, *what;
  uint64_t n;
  amz_range_fn fn;
  void (*setup)(void);
  int busy_core; /* a competing process spins on the node meanwhile */
} wl_t;

static void s_uniform(void) { bk_table(BK_UNIFORM, 100000, 10.0, 1); }
static void s_increasing(void) { bk_table(BK_INCREASING, 100000, 10.0, 2); }
static void s_heavy(void) { bk_table(BK_HEAVY_TAIL, 100000, 10.0, 3); }
static void s_few(void) { bk_table(BK_FEW_HEAVY, 100000, 10.0, 4); }
static void s_mandel(void) { bk_mandel_setup(1400, 1400, 400); }
static void s_triad(void) { bk_triad_setup(256); }
static void s_wait(void) { bk_wait_setup(100.0); }

static const wl_t wls[] = {
    {"uniform", "10^5 items of 10 us", 100000, bk_spin, s_uniform, 0},
    {"increasing", "10^5 items, 0 to 20 us rising with the index", 100000, bk_spin, s_increasing,
     0},
    {"heavy-tail", "10^5 items, lognormal (sigma 1.5), mean 10 us", 100000, bk_spin, s_heavy, 0},
    {"few-heavy", "10^5 items, 1% of them carry half of the work", 100000, bk_spin, s_few, 0},
    {"mandelbrot", "1400 rows of 1400 px", 1400, bk_mandel, s_mandel, 0},
    {"memory", "20000 triads over 256 KiB slices of 192 MiB", 20000, bk_triad, s_triad, 0},
    {"waiting", "10^4 items waiting 100 us", 10000, bk_wait, s_wait, 0},
    {"busy-core", "uniform, another process spinning on the node", 100000, bk_spin, s_uniform,
     1},
};
enum { NWL = sizeof wls / sizeof wls[0] };

static int threads = 2;

static double t_serial(const wl_t *w) {
  double t0 = bench_now();
  w->fn(0, w->n, NULL);
  return bench_now() - t0;
}

static double t_omp(const wl_t *w, omp_sched_t kind, int chunk) {
  return bench_omp_loop(w->n, w->fn, threads, kind, chunk);
}

static double t_counter(const wl_t *w, uint64_t chunk) {
  return bench_counter_loop(w->n, w->fn, threads, chunk);
}

static void die(int rc) {
  fprintf(stderr, "bench_openmp: %s: %s\n", amz_error_name(rc), amz_last_error());
  exit(1);
}

static double t_amz_once(const wl_t *w) {
  amz_options_t *o = bench_quiet_options();
  amz_task_t t = {w->name, w->n, w->fn, NULL};
  amz_result_t *r = NULL;
  double t0 = bench_now();
  int rc = amz_for(&t, o, &r);
  double s = bench_now() - t0;
  if (rc != 0) die(rc);
  amz_result_destroy(r);
  amz_options_destroy(o);
  return s;
}

static double t_amz_rerun(amz_plan_t *p) {
  amz_result_t *r = NULL;
  double t0 = bench_now();
  int rc = amz_run(p, &r);
  double s = bench_now() - t0;
  if (rc != 0) die(rc);
  amz_result_destroy(r);
  return s;
}

enum { C_SERIAL, C_STATIC, C_DYN1, C_GUIDED, C_COUNTER, C_ONCE, C_RERUN, NC };

int main(int argc, char **argv) {
  int reps = 5;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_openmp [--reps R] [--only NAME]\n");
      return 2;
    }
  }
  if (reps < 1 || reps > 64) {
    fprintf(stderr, "bench_openmp: reps in [1, 64]\n");
    return 2;
  }
  bench_omp_passive(argv);
  threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 1) threads = 1;
  bk_calibrate();
  printf("Amorsize against OpenMP and a hand-tuned counter: %d threads, %d alternating reps, "
         "medians (s)\n\n", threads, reps);
  printf("| loop | serial | omp static | omp dynamic,1 | omp guided | tuned counter (chunk) | "
         "amz_for | plan rerun | amz_for / best other | rerun / best other |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < NWL; k++) {
    const wl_t *w = &wls[k];
    if (only && strcmp(only, w->name) != 0) continue;
    w->setup();
    pid_t spinner = -1;
    if (w->busy_core && (spinner = fork()) == 0) {
      volatile double x = 1;
      for (;;) x = x * 1.0000001 + 1e-9;
    }
    /* The counter's chunk: the best of 6, one run each. */
    static const uint64_t cands[] = {1, 4, 16, 64, 256, 1024};
    uint64_t best_chunk = 1;
    double best_t = 1e30;
    for (size_t c = 0; c < sizeof cands / sizeof *cands; c++) {
      if (cands[c] > w->n / (uint64_t)threads) break;
      double t = t_counter(w, cands[c]);
      if (t < best_t) best_t = t, best_chunk = cands[c];
    }
    amz_options_t *o = bench_quiet_options();
    amz_task_t task = {w->name, w->n, w->fn, NULL};
    amz_plan_t *plan = NULL;
    int rc = amz_plan_create(&task, o, &plan);
    amz_result_t *r0 = NULL;
    if (rc == 0) rc = amz_run(plan, &r0); /* the first run skips the sampled items */
    if (rc != 0) die(rc);
    amz_result_destroy(r0);
    double t[NC][64];
    for (int rep = 0; rep < reps; rep++) {
      /* The waiting loop's serial time is the sum of its waits: measured once. */
      int again = rep == 0 || strcmp(w->name, "waiting") != 0;
      t[C_SERIAL][rep] = again ? t_serial(w) : t[C_SERIAL][0];
      t[C_STATIC][rep] = t_omp(w, omp_sched_static, 0);
      t[C_DYN1][rep] = t_omp(w, omp_sched_dynamic, 1);
      t[C_GUIDED][rep] = t_omp(w, omp_sched_guided, 1);
      t[C_COUNTER][rep] = t_counter(w, best_chunk);
      t[C_ONCE][rep] = t_amz_once(w);
      t[C_RERUN][rep] = t_amz_rerun(plan);
    }
    double m[NC];
    for (int c = 0; c < NC; c++) m[c] = bench_median(t[c], reps);
    double other = m[C_SERIAL];
    for (int c = C_STATIC; c <= C_COUNTER; c++)
      if (m[c] < other) other = m[c];
    printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f (%llu) | %.3f | %.3f | **%.2f** | **%.2f** |\n",
           w->name, m[C_SERIAL], m[C_STATIC], m[C_DYN1], m[C_GUIDED], m[C_COUNTER],
           (unsigned long long)best_chunk, m[C_ONCE], m[C_RERUN], m[C_ONCE] / other,
           m[C_RERUN] / other);
    fflush(stdout);
    amz_plan_destroy(plan);
    amz_options_destroy(o);
    if (spinner > 0) {
      kill(spinner, SIGKILL);
      waitpid(spinner, NULL, 0);
    }
  }
  printf("\nLoops:\n");
  for (int k = 0; k < NWL; k++)
    if (!only || strcmp(only, wls[k].name) == 0) printf("  %-11s %s\n", wls[k].name, wls[k].what);
  printf("(checksum %g)\n", bk_sink());
  return 0;
}
