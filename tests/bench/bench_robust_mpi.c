/*
 * Robustness across MPI ranks: bench_robust's eight loop families, run by Amorsize's
 * MPI layer against the techniques an MPI developer would pick by hand.
 *
 *   mpirun -np 2 bench_robust_mpi [--reps R] [--only NAME]
 *
 * The loop families are bench_robust's (bench_kernels.c, compiled once into an object
 * every contender links): one item carrying 40% of the work, a lognormal heavy tail,
 * bimodal costs, 1% of the items carrying half, a memory-bandwidth-bound stream (each
 * rank streams its own arrays, so the ranks of a node share its bandwidth), items
 * that sleep, uniform items with another process pinned to CPU 0 throughout (rank 0
 * starts it), and costs that drift between time steps. Every rank spins at rank 0's
 * calibrated rate, so an item costs the same on every rank.
 *
 * Contenders, one rank per process, alternating within each repetition: static
 * blocks (rank r runs [rN/P, (r+1)N/P)); a one-sided MPI_Fetch_and_op counter on
 * rank 0 handing out chunks of 1 and of 64; Amorsize's amz_mpi_plan_create and
 * amz_mpi_run with no options (a first run: probe, distributed sampling, planning
 * and the run, all counted); and a plan's later runs (made once per family; each
 * repetition is one more run, so drifting costs re-plan). Times run from the
 * earliest rank's start to the latest rank's end. Medians over the repetitions.
 *
 * Columns: as bench_robust's, with the plan's choice (ranks x threads per rank,
 * schedule/chunk) for the reruns. Targets: first run at most 1.05x the best
 * contender, reruns at most 1.03x, every prediction error within 25%, every run
 * inside its interval on at least 9 families in 10; "!" marks a target missed.
 * Only rank 0 prints; with BENCH_EXPLAIN set, it also writes the explanation of each
 * family's plan to stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"
#include "bench_kernels.h"
#include "bench_mpi_util.h"
#include "bench_util.h"

static int rank;

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_robust_mpi: rank %d: %s: %s: %s\n", rank, what, amz_error_name(rc),
          amz_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

/* A run's prediction error, (measured - predicted) / predicted, and whether it fell
 * inside its interval. */
static void judge(const amz_result_t *r, double *err, int *in) {
  double pred = amz_result_predicted_seconds(r);
  *err = pred > 0 ? (amz_result_seconds(r) - pred) / pred : NAN;
  *in = bench_inside(r);
}

/* Seconds of a first run, plan and run together (collective). */
static double t_first(const bk_family_t *f, double *err, int *in) {
  amz_options_t *o = bench_quiet_options();
  amz_task_t task = {f->name, f->n, f->fn, NULL};
  amz_plan_t *p = NULL;
  amz_result_t *r = NULL;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = bench_now();
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
  if (rc == 0) rc = amz_mpi_run(p, &r);
  double t1 = bench_now();
  if (rc != 0) die("the first run", rc);
  judge(r, err, in);
  amz_result_destroy(r);
  amz_plan_destroy(p);
  amz_options_destroy(o);
  return bench_mpi_span(t0, t1);
}

static double t_rerun(amz_plan_t *p, double *err, int *in) {
  amz_result_t *r = NULL;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = bench_now();
  int rc = amz_mpi_run(p, &r);
  double t1 = bench_now();
  if (rc != 0) die("amz_mpi_run", rc);
  judge(r, err, in);
  amz_result_destroy(r);
  return bench_mpi_span(t0, t1);
}

enum { C_STATIC, C_CNT1, C_CNT64, C_FIRST, C_RERUN, NC };

int main(int argc, char **argv) {
  int provided, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int reps = 3;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else {
      if (rank == 0) fprintf(stderr, "usage: bench_robust_mpi [--reps R] [--only NAME]\n");
      MPI_Finalize();
      return 2;
    }
  }
  if (reps < 1 || reps > 64) {
    if (rank == 0) fprintf(stderr, "bench_robust_mpi: --reps %d: expected 1 to 64\n", reps);
    MPI_Finalize();
    return 2;
  }
  if (only && !bk_family(rank == 0 ? "bench_robust_mpi" : NULL, only)) {
    MPI_Finalize();
    return 2;
  }
  double rate = rank == 0 ? bk_calibrate() : 0;
  MPI_Bcast(&rate, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  bk_set_rate(rate);
  if (rank == 0) {
    printf("Robustness across ranks: %d ranks, %d alternating repetitions, medians (s); ratios "
           "over the best other contender; prediction error (measured - predicted) / "
           "predicted, median and worst; runs inside their predicted interval; ! = target "
           "missed (1.05 first run, 1.03 reruns, 25%%)\n\n",
           size, reps);
    printf("| loop | static | counter 1 | counter 64 | first run | rerun | rerun's plan | "
           "first / best | rerun / best | error first | error rerun | inside, first | "
           "inside, rerun |\n");
    printf("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
  }
  bk_tally_t tally = {0, 0, 0, 0, 0};
  for (int k = 0; k < bk_n_families; k++) {
    const bk_family_t *f = &bk_families[k];
    if (only && strcmp(only, f->name) != 0) continue;
    int competitor = f->competitor && rank == 0 ? bk_start_competitor() : -1;
    /* The plan whose later runs are measured; its own first run is not. */
    f->setup(0);
    amz_options_t *o = bench_quiet_options();
    amz_task_t task = {f->name, f->n, f->fn, NULL};
    amz_plan_t *plan = NULL;
    amz_result_t *r0 = NULL;
    int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &plan);
    if (rc == 0) rc = amz_mpi_run(plan, &r0);
    if (rc != 0) die("the plan's first run", rc);
    if (getenv("BENCH_EXPLAIN") && rank == 0) amz_result_explain(r0, stderr);
    amz_result_destroy(r0);
    double t[NC][64], e_first[64], e_rerun[64];
    int in_first = 0, in_rerun = 0;
    for (int rep = 0; rep < reps; rep++) {
      f->setup(rep);
      t[C_STATIC][rep] = bench_mpi_static(f->n, f->fn, NULL);
      t[C_CNT1][rep] = bench_mpi_counter(f->n, f->fn, NULL, 1);
      t[C_CNT64][rep] = bench_mpi_counter(f->n, f->fn, NULL, 64);
      int a, b;
      t[C_FIRST][rep] = t_first(f, &e_first[rep], &a);
      t[C_RERUN][rep] = t_rerun(plan, &e_rerun[rep], &b);
      in_first += a;
      in_rerun += b;
    }
    char choice[64];
    snprintf(choice, sizeof choice, "%dx%d %s/%llu", amz_plan_ranks(plan),
             amz_plan_workers(plan), amz_schedule_name(amz_plan_schedule(plan)),
             (unsigned long long)amz_plan_chunk(plan));
    amz_plan_destroy(plan);
    amz_options_destroy(o);
    bk_stop_competitor(competitor);
    double m[NC];
    for (int c = 0; c < NC; c++) m[c] = bench_median(t[c], reps);
    double best = m[C_STATIC];
    for (int c = C_STATIC; c <= C_CNT64; c++)
      if (m[c] < best) best = m[c];
    if (rank == 0)
      printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %s | ", f->name, m[C_STATIC],
             m[C_CNT1], m[C_CNT64], m[C_FIRST], m[C_RERUN], choice);
    bk_row_verdict(&tally, best, m[C_FIRST], m[C_RERUN], e_first, e_rerun, in_first, in_rerun,
                   reps, rank == 0);
  }
  if (rank == 0) bk_summary(&tally, only);
  MPI_Finalize();
  return 0;
}
