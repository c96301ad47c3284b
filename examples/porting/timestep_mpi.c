/*
 * Porting pattern 2: a time-stepping code that runs the same loop every step
 * (docs/PORTING.md).
 *
 *   mpirun -np 4 ./timestep_mpi [CELLS] [STEPS]
 *
 * A 1-D field relaxes towards its neighbours' mean for STEPS steps; a cell's update
 * costs more where the field is steep (an adaptive inner loop), and the steep part
 * moves, so the cost profile changes from step to step. The plan is created once
 * and run every step: creating it samples the kernel (part of the first step's
 * cells run then), and every run refines the model from what it measured. After
 * each run every rank gathers the new field (amz_mpi_gather_items to all ranks) and
 * swaps it with the old one. At the end rank 0 compares the field, bit for bit,
 * with a serial computation of the same steps.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

typedef struct {
  uint64_t n;
  double *old, *new; /* full-size on every rank: the kernel reads old, writes new */
} field_t;

/* One cell's update: the neighbours' mean, refined with more inner iterations
 * where the field is steep (deterministic: the same bits whoever computes it). */
static double update(const double *u, uint64_t n, uint64_t i) {
  double l = i > 0 ? u[i - 1] : u[i], r = i + 1 < n ? u[i + 1] : u[i];
  double target = 0.5 * (l + r), x = u[i];
  int iters = 200 + (int)(20000.0 * fabs(r - l));
  for (int k = 0; k < iters; k++) x += 0.05 * (target - x) + 1e-12 * sin(x);
  return x;
}

static int kernel(uint64_t begin, uint64_t end, void *arg) {
  field_t *f = arg;
  for (uint64_t i = begin; i < end; i++) f->new[i] = update(f->old, f->n, i);
  return 0;
}

static void initial(double *u, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) u[i] = i < n / 3 ? 1.0 : 0.0; /* a step at n/3 */
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
  int steps = argc > 2 ? atoi(argv[2]) : 20;
  if (n < 3 || steps < 1) {
    if (rank == 0) fprintf(stderr, "usage: timestep_mpi [CELLS >= 3] [STEPS >= 1]\n");
    MPI_Finalize();
    return 2;
  }
  field_t f = {n, malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  initial(f.old, n);

  amz_options_t *opts;
  amz_options_create(&opts);
  amz_options_set_progress_line(opts, AMZ_PROGRESS_OFF);
  amz_task_t task = {"relaxation", n, kernel, &f};
  amz_plan_t *plan = NULL;
  /* Once: probe, sample (part of step 1 runs here), plan. */
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, opts, &plan);
  if (rc != 0) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, amz_error_name(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  double t0 = MPI_Wtime(), predicted = 0, measured = 0;
  for (int s = 0; s < steps; s++) {
    amz_result_t *res = NULL;
    double pred = amz_plan_predicted_seconds(plan); /* this run, by the refined model */
    predicted += pred;
    rc = amz_mpi_run(plan, &res); /* every step: the same plan, refined */
    if (rc == 0)
      rc = amz_mpi_gather_items(MPI_COMM_WORLD, res, f.new, sizeof(double), AMZ_MPI_ALL);
    if (rc != 0) {
      fprintf(stderr, "rank %d, step %d: %s: %s\n", rank, s, amz_error_name(rc),
              amz_last_error());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    measured += amz_result_seconds(res);
    if (rank == 0 && (s == 0 || s == steps - 1))
      printf("step %d: %d ranks x %d threads, %s, predicted %.3f s, took %.3f s\n", s + 1,
             amz_plan_ranks(plan), amz_plan_workers(plan), amz_schedule_name(amz_plan_schedule(plan)),
             pred, amz_result_seconds(res));
    amz_result_destroy(res);
    double *t = f.old; /* the new field is the next step's old one */
    f.old = f.new;
    f.new = t;
  }
  double wall = MPI_Wtime() - t0;
  amz_plan_destroy(plan);

  if (rank == 0) {
    /* The same steps serially: the parallel field must be identical. */
    double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v);
    initial(u, n);
    for (int s = 0; s < steps; s++) {
      for (uint64_t i = 0; i < n; i++) v[i] = update(u, n, i);
      double *t = u;
      u = v;
      v = t;
    }
    uint64_t differ = 0;
    for (uint64_t i = 0; i < n; i++) differ += memcmp(&u[i], &f.old[i], sizeof *u) != 0;
    printf("timestep: %d steps of %llu cells on %d ranks in %.3f s (runs %.3f s, predicted "
           "%.3f s); serial check: %s\n",
           steps, (unsigned long long)n, size, wall, measured, predicted,
           differ ? "DIFFERENT" : "identical");
    free(u);
    free(v);
    if (differ) rc = 1;
  }
  free(f.old);
  free(f.new);
  amz_options_destroy(opts);
  MPI_Finalize();
  return rc ? 1 : 0;
}
