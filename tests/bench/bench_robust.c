/*
 * Robustness: Amorsize on the loops where a measured plan is easiest to get wrong,
 * against the techniques a developer would pick by hand (threads, one node).
 *
 *   bench_robust [--reps R] [--only NAME] [--static]
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
 * With BENCH_EXPLAIN set, the explanation of each family's plan goes to stderr.
 *
 * --static adds a contender and a second table: a plan forced to static blocks
 * (`amz_options_set_schedule(AMZ_SCHED_STATIC)`, its runs after the first), whose
 * workers take from each other's blocks, against OpenMP's fixed static blocks and
 * the best contender.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amorsize.h"
#include "bench_kernels.h"
#include "bench_omp.h"
#include "bench_util.h"

static int threads = 2;

static double t_omp(const bk_family_t *f, omp_sched_t kind, int chunk) {
  return bench_omp_loop(f->n, f->fn, threads, kind, chunk);
}

static double t_counter(const bk_family_t *f, uint64_t chunk) {
  return bench_counter_loop(f->n, f->fn, threads, chunk);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_robust: %s: %s: %s\n", what, amz_error_name(rc), amz_last_error());
  exit(1);
}

/* Seconds of the whole call; *err: the run's prediction error; *in: inside its
 * interval. */
static double t_amz_first(const bk_family_t *f, double *err, int *in) {
  amz_options_t *o = bench_quiet_options();
  amz_task_t t = {f->name, f->n, f->fn, NULL};
  amz_result_t *r = NULL;
  double t0 = bench_now();
  int rc = amz_for(&t, o, &r);
  double s = bench_now() - t0;
  if (rc != 0) die("amz_for", rc);
  double pred = amz_result_predicted_seconds(r);
  *err = pred > 0 ? (amz_result_seconds(r) - pred) / pred : NAN;
  *in = bench_inside(r);
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
  *in = bench_inside(r);
  amz_result_destroy(r);
  return s;
}

enum { C_STATIC, C_DYN1, C_GUIDED, C_CNT1, C_CNT64, C_FIRST, C_RERUN, C_AMZ_STATIC, NC };

/* A plan of the family forced to static blocks, after its first run; NULL unless
 * --static. */
static amz_plan_t *static_plan(const bk_family_t *f, int on) {
  if (!on) return NULL;
  amz_options_t *o = bench_quiet_options();
  amz_options_set_schedule(o, AMZ_SCHED_STATIC);
  amz_task_t task = {f->name, f->n, f->fn, NULL};
  amz_plan_t *p = NULL;
  amz_result_t *r = NULL;
  int rc = amz_plan_create(&task, o, &p);
  if (rc == 0) rc = amz_run(p, &r);
  if (rc != 0) die("the static plan's first run", rc);
  amz_result_destroy(r);
  amz_options_destroy(o);
  return p;
}

int main(int argc, char **argv) {
  int reps = 3, with_static = 0;
  const char *only = NULL;
  char extra[4096] = "";
  size_t used = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (strcmp(argv[i], "--static") == 0) with_static = 1;
    else {
      fprintf(stderr, "usage: bench_robust [--reps R] [--only NAME] [--static]\n");
      return 2;
    }
  }
  if (reps < 1 || reps > 64) {
    fprintf(stderr, "bench_robust: --reps %d: expected 1 to 64\n", reps);
    return 2;
  }
  if (only && !bk_family("bench_robust", only)) return 2;
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
  bk_tally_t tally = {0, 0, 0, 0, 0};
  for (int k = 0; k < bk_n_families; k++) {
    const bk_family_t *f = &bk_families[k];
    if (only && strcmp(only, f->name) != 0) continue;
    int competitor = f->competitor ? bk_start_competitor() : -1;
    /* The plan whose later runs are measured; its own first run is not. */
    f->setup(0);
    amz_options_t *o = bench_quiet_options();
    amz_task_t task = {f->name, f->n, f->fn, NULL};
    amz_plan_t *plan = NULL;
    int rc = amz_plan_create(&task, o, &plan);
    amz_result_t *r0 = NULL;
    if (rc == 0) rc = amz_run(plan, &r0);
    if (rc != 0) die("the plan's first run", rc);
    if (getenv("BENCH_EXPLAIN")) amz_result_explain(r0, stderr);
    amz_result_destroy(r0);
    amz_plan_t *splan = static_plan(f, with_static);
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
      double es;
      int is;
      t[C_AMZ_STATIC][rep] = splan ? t_amz_rerun(splan, &es, &is) : 0.0;
    }
    amz_plan_destroy(plan);
    amz_plan_destroy(splan);
    amz_options_destroy(o);
    bk_stop_competitor(competitor);
    double m[NC];
    for (int c = 0; c < NC; c++) m[c] = bench_median(t[c], reps);
    double best = m[C_STATIC];
    for (int c = C_STATIC; c <= C_CNT64; c++)
      if (m[c] < best) best = m[c];
    printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | ", f->name, m[C_STATIC],
           m[C_DYN1], m[C_GUIDED], m[C_CNT1], m[C_CNT64], m[C_FIRST], m[C_RERUN]);
    bk_row_verdict(&tally, best, m[C_FIRST], m[C_RERUN], e_first, e_rerun, in_first, in_rerun,
                   reps, 1);
    if (with_static && used < sizeof extra) {
      int w = snprintf(extra + used, sizeof extra - used, "| %s | %.3f | %.3f | %.3f | %.2f | %.2f |\n",
                       f->name, m[C_STATIC], m[C_AMZ_STATIC], best, m[C_AMZ_STATIC] / m[C_STATIC],
                       m[C_AMZ_STATIC] / best);
      if (w > 0) used += (size_t)w;
    }
  }
  bk_summary(&tally, only);
  if (with_static) {
    printf("\nStatic blocks: OpenMP's fixed blocks against a plan forced to static blocks "
           "with a way out (its runs after the first), medians (s)\n\n");
    printf("| loop | omp static | amz static | best contender | amz static / omp static | "
           "amz static / best |\n|---|---:|---:|---:|---:|---:|\n%s", extra);
  }
  return 0;
}
