/*
 * Robustness: Amorsize on the loops where a measured plan is easiest to get wrong,
 * against the techniques a developer would pick by hand (threads, one node).
 *
 *   bench_robust [--reps R] [--only NAME]
 *
 * Eight loop families of about half a second of serial work (bench_kernels.c,
 * compiled once into an object every contender links): one item carrying 40% of
 * the work, a lognormal heavy tail, bimodal costs, 1% of the items carrying half,
 * a memory-bandwidth-bound stream, items that sleep, uniform items with another
 * process pinned to CPU 0 throughout, and costs that drift between time steps
 * (rising with the index on even steps, falling on odd ones).
 *
 * Contenders, one thread per CPU, alternating within each repetition: OpenMP
 * `schedule(static)`, `dynamic,1` and `guided`; an atomic counter handing out
 * chunks of 1 and of 64; Amorsize's `amz_for` with no options (a first run: probe,
 * sampling and planning included) and a plan's later runs (made once per family;
 * each repetition is one more run, so drifting costs re-plan as they would in a
 * time-stepping code). Medians over the repetitions.
 *
 * Columns: seconds per contender; Amorsize over the best other contender (targets:
 * first run at most 1.05, reruns at most 1.03); the prediction error as
 * `amorsize report` prints it, (measured - predicted) / predicted, of the run
 * itself (without set-up), median and worst over the repetitions (target: every
 * one within 25%); how many runs fell inside their predicted interval (target: every
 * run inside on at least 9 families in 10). A target missed is marked with "!".
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <math.h>
#include <omp.h>
#include <sched.h>
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

typedef struct fam {
  const char *name, *what;
  uint64_t n;
  amz_range_fn fn;
  void (*setup)(int rep); /* before each repetition */
  int competitor;         /* another process spins on CPU 0 meanwhile */
} fam_t;

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

static const fam_t fams[] = {
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
enum { NF = sizeof fams / sizeof fams[0] };

static int threads = 2;

static double t_omp(const fam_t *f, omp_sched_t kind, int chunk) {
  return bench_omp_loop(f->n, f->fn, threads, kind, chunk);
}

static double t_counter(const fam_t *f, uint64_t chunk) {
  return bench_counter_loop(f->n, f->fn, threads, chunk);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_robust: %s: %s: %s\n", what, amz_error_name(rc), amz_last_error());
  exit(1);
}

/* Whether the run's time fell inside its predicted interval. */
static int inside(const amz_result_t *r) {
  double lo, hi, s = amz_result_seconds(r);
  return amz_result_predicted_interval(r, &lo, &hi) == 0 && s >= lo && s <= hi;
}

/* Seconds of the whole call; *err: the run's prediction error; *in: inside its
 * interval. */
static double t_amz_first(const fam_t *f, double *err, int *in) {
  amz_options_t *o = bench_quiet_options();
  amz_task_t t = {f->name, f->n, f->fn, NULL};
  amz_result_t *r = NULL;
  double t0 = bench_now();
  int rc = amz_for(&t, o, &r);
  double s = bench_now() - t0;
  if (rc != 0) die("amz_for", rc);
  double pred = amz_result_predicted_seconds(r);
  *err = pred > 0 ? (amz_result_seconds(r) - pred) / pred : NAN;
  *in = inside(r);
  amz_result_destroy(r);
  amz_options_destroy(o);
  return s;
}

static double t_amz_rerun(amz_plan_t *p, double *err, int *in) {
  amz_result_t *r = NULL;
  double t0 = bench_now();
  int rc = amz_run(p, &r);
  double s = bench_now() - t0;
  if (rc != 0) die("amz_run", rc);
  double pred = amz_result_predicted_seconds(r);
  *err = pred > 0 ? (amz_result_seconds(r) - pred) / pred : NAN;
  *in = inside(r);
  amz_result_destroy(r);
  return s;
}

static pid_t start_competitor(void) {
  pid_t pid = fork();
  if (pid == 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    volatile double x = 1;
    for (;;) x = x * 1.0000001 + 1e-9;
  }
  return pid;
}

static void median_worst(const double *e, int n, double *med, double *worst) {
  double a[64];
  *worst = 0;
  for (int i = 0; i < n; i++) {
    a[i] = e[i];
    if (fabs(e[i]) > fabs(*worst)) *worst = e[i];
  }
  *med = bench_median(a, n);
}

enum { C_STATIC, C_DYN1, C_GUIDED, C_CNT1, C_CNT64, C_FIRST, C_RERUN, NC };

int main(int argc, char **argv) {
  int reps = 3;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_robust [--reps R] [--only NAME]\n");
      return 2;
    }
  }
  if (reps < 1 || reps > 64) {
    fprintf(stderr, "bench_robust: --reps %d: expected 1 to 64\n", reps);
    return 2;
  }
  if (only) {
    int found = 0;
    for (int k = 0; k < NF; k++) found |= strcmp(only, fams[k].name) == 0;
    if (!found) {
      fprintf(stderr, "bench_robust: --only %s: no such loop family; expected one of:", only);
      for (int k = 0; k < NF; k++) fprintf(stderr, " %s", fams[k].name);
      fprintf(stderr, "\n");
      return 2;
    }
  }
  bench_omp_passive(argv);
  threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 1) threads = 1;
  bk_calibrate();
  printf("Robustness: %d threads, %d alternating repetitions, medians (s); ratios over the best "
         "other contender; prediction error (measured - predicted) / predicted, median and "
         "worst; runs inside their predicted interval; ! = target missed (1.05 first run, "
         "1.03 reruns, 25%%)\n\n",
         threads, reps);
  printf("| loop | omp static | omp dynamic,1 | omp guided | counter 1 | counter 64 | amz_for | "
         "plan rerun | amz_for / best | rerun / best | error amz_for | error rerun | inside, "
         "amz_for | inside, rerun |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int missed = 0, fams_run = 0, fams_inside = 0, runs = 0, runs_inside = 0;
  for (int k = 0; k < NF; k++) {
    const fam_t *f = &fams[k];
    if (only && strcmp(only, f->name) != 0) continue;
    pid_t competitor = f->competitor ? start_competitor() : -1;
    /* The plan whose later runs are measured; its own first run is not. */
    f->setup(0);
    amz_options_t *o = bench_quiet_options();
    amz_task_t task = {f->name, f->n, f->fn, NULL};
    amz_plan_t *plan = NULL;
    int rc = amz_plan_create(&task, o, &plan);
    amz_result_t *r0 = NULL;
    if (rc == 0) rc = amz_run(plan, &r0);
    if (rc != 0) die("the plan's first run", rc);
    amz_result_destroy(r0);
    double t[NC][64], e_first[64], e_rerun[64];
    int in_first = 0, in_rerun = 0;
    for (int rep = 0; rep < reps; rep++) {
      f->setup(rep);
      t[C_STATIC][rep] = t_omp(f, omp_sched_static, 0);
      t[C_DYN1][rep] = t_omp(f, omp_sched_dynamic, 1);
      t[C_GUIDED][rep] = t_omp(f, omp_sched_guided, 1);
      t[C_CNT1][rep] = t_counter(f, 1);
      t[C_CNT64][rep] = t_counter(f, 64);
      int a, b;
      t[C_FIRST][rep] = t_amz_first(f, &e_first[rep], &a);
      t[C_RERUN][rep] = t_amz_rerun(plan, &e_rerun[rep], &b);
      in_first += a;
      in_rerun += b;
    }
    amz_plan_destroy(plan);
    amz_options_destroy(o);
    if (competitor > 0) {
      kill(competitor, SIGKILL);
      waitpid(competitor, NULL, 0);
    }
    double m[NC];
    for (int c = 0; c < NC; c++) m[c] = bench_median(t[c], reps);
    double best = m[C_STATIC];
    for (int c = C_STATIC; c <= C_CNT64; c++)
      if (m[c] < best) best = m[c];
    double rf = m[C_FIRST] / best, rr = m[C_RERUN] / best, mf, wf, mr, wr;
    median_worst(e_first, reps, &mf, &wf);
    median_worst(e_rerun, reps, &mr, &wr);
    int bad_f = rf > 1.05, bad_r = rr > 1.03, bad_ef = fabs(wf) > 0.25, bad_er = fabs(wr) > 0.25;
    missed += bad_f + bad_r + bad_ef + bad_er;
    fams_run++;
    fams_inside += in_first + in_rerun == 2 * reps;
    runs += 2 * reps;
    runs_inside += in_first + in_rerun;
    printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f%s | %.2f%s | "
           "%+.0f%%, %+.0f%%%s | %+.0f%%, %+.0f%%%s | %d/%d | %d/%d |\n",
           f->name, m[C_STATIC], m[C_DYN1], m[C_GUIDED], m[C_CNT1], m[C_CNT64], m[C_FIRST],
           m[C_RERUN], rf, bad_f ? " !" : "", rr, bad_r ? " !" : "", 100 * mf, 100 * wf,
           bad_ef ? " !" : "", 100 * mr, 100 * wr, bad_er ? " !" : "", in_first, reps,
           in_rerun, reps);
    fflush(stdout);
  }
  printf("\nLoops:\n");
  for (int k = 0; k < NF; k++)
    if (!only || strcmp(only, fams[k].name) == 0) printf("  %-12s %s\n", fams[k].name, fams[k].what);
  /* Target: the measured time inside the interval on at least 9 families in 10. */
  int bad_cover = 10 * fams_inside < 9 * fams_run;
  missed += bad_cover;
  printf("inside the predicted interval: %d of %d runs; every run inside on %d of %d "
         "families%s\n",
         runs_inside, runs, fams_inside, fams_run, bad_cover ? " !" : "");
  printf("targets missed: %d\n(checksum %g)\n", missed, bk_sink());
  return 0;
}
