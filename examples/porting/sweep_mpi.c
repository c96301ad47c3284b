/*
 * Porting pattern 3: a parameter sweep writing one output per item (docs/PORTING.md).
 *
 *   mpirun -np 4 ./sweep_mpi [POINTS] [--map] [--out FILE.csv] [--check]
 *
 * Sweeps the logistic map x -> r x (1 - x) over POINTS values of r in [2.8, 4) and
 * writes, per value, its Lyapunov exponent and the period of its orbit (0 when it
 * is chaotic) to FILE.csv on rank 0 (default sweep.csv). The items are uneven, as
 * in most sweeps: an orbit that settles on a short cycle is recognised after a few
 * thousand steps, a chaotic one runs the full 200,000.
 *
 * Two ways to get the outputs to rank 0:
 *   - range mode (the default): every rank holds a full-size output array, the
 *     kernel writes the items it runs into it, and amz_mpi_gather_items() collects
 *     them on rank 0 (items the excluded ranks sampled included);
 *   - map mode (--map): the parameters and outputs live on rank 0 only; the library
 *     sends each chunk's parameters to the rank that runs it and its outputs back.
 *     Memory per rank no longer grows with POINTS; it needs MPI_THREAD_MULTIPLE.
 *
 * An item's output depends on its parameter only, so the file is the same bytes
 * whatever the schedule, the ranks and the mode. --check recomputes every item
 * serially on rank 0 and compares.
 */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

/* One item's output. Fixed-size and without pointers, so that it can be gathered
 * as bytes. */
typedef struct {
  double r;         /* the parameter */
  double lyapunov;  /* mean of log|f'(x)| along the orbit */
  uint32_t period;  /* 1 to MAX_PERIOD, or 0: no cycle found (chaotic or slow) */
  uint32_t steps;   /* steps taken after the transient */
} point_t;

enum { TRANSIENT = 2000, MAX_STEPS = 200000, MAX_PERIOD = 64 };

static double r_of(uint64_t i, uint64_t n) { return 2.8 + 1.2 * (double)i / (double)n; }

/* The whole computation of one item: a function of r alone. */
static point_t sweep_point(double r) {
  point_t p = {.r = r};
  double x = 0.5;
  for (int k = 0; k < TRANSIENT; k++) x = r * x * (1.0 - x);
  double ring[MAX_PERIOD], sum = 0;
  uint32_t n = 0;
  for (; n < MAX_STEPS; n++) {
    ring[n % MAX_PERIOD] = x;
    x = r * x * (1.0 - x);
    sum += log(fabs(r * (1.0 - 2.0 * x)) + 1e-300);
    /* A cycle of period q: x is back where it was q steps ago. */
    if (n >= MAX_PERIOD && n % 256 == 0) {
      for (uint32_t q = 1; q <= MAX_PERIOD; q++)
        if (fabs(x - ring[(n + 1 - q) % MAX_PERIOD]) < 1e-11) {
          p.period = q;
          break;
        }
      if (p.period) {
        n++;
        break;
      }
    }
  }
  p.steps = n;
  p.lyapunov = sum / (double)n;
  return p;
}

typedef struct {
  uint64_t n;
  point_t *out; /* range mode: this rank's full-size array */
} sweep_t;

/* Range mode: items [begin, end) into this rank's array, each at its own index. */
static int range_kernel(uint64_t begin, uint64_t end, void *arg) {
  sweep_t *s = arg;
  for (uint64_t i = begin; i < end; i++) s->out[i] = sweep_point(r_of(i, s->n));
  return 0;
}

/* Map mode: the library hands over the chunk's parameters and room for its outputs. */
static int map_kernel(uint64_t begin, uint64_t end, const void *in, void *out, void *arg) {
  (void)arg;
  const double *r = in;
  point_t *o = out;
  for (uint64_t k = 0; k < end - begin; k++) o[k] = sweep_point(r[k]);
  return 0;
}

static int parse_count(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (1ull << 32)) return -1;
  *out = v;
  return 0;
}

static void die(int rank, const char *what, int rc) {
  fprintf(stderr, "rank %d: %s: %s: %s\n", rank, what, amz_error_name(rc), amz_last_error());
  MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  uint64_t n = 20000;
  int map = 0, check = 0, pos = 0;
  const char *path = "sweep.csv";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--map") == 0) {
      map = 1;
    } else if (strcmp(argv[i], "--check") == 0) {
      check = 1;
    } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (pos++ == 0 && parse_count(argv[i], &n) == 0) {
      continue;
    } else {
      if (rank == 0)
        fprintf(stderr, "sweep_mpi: bad argument '%s': expected POINTS (1 to 2^32), --map, "
                        "--out FILE or --check\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }

  point_t *out = NULL;  /* the outputs: every rank (range mode) or rank 0 (map mode) */
  double *params = NULL; /* map mode, rank 0: the inputs */
  if (!map || rank == 0) out = calloc(n, sizeof *out);
  if (map && rank == 0 && (params = malloc(n * sizeof *params)))
    for (uint64_t i = 0; i < n; i++) params[i] = r_of(i, n);
  if ((!map || rank == 0) && (!out || (map && !params))) {
    fprintf(stderr, "rank %d: cannot allocate %llu points\n", rank, (unsigned long long)n);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  amz_result_t *res = NULL;
  int rc;
  if (map) {
    amz_map_task_t task = {"logistic sweep", n, sizeof(double), sizeof(point_t),
                           params, out, map_kernel, NULL};
    rc = amz_mpi_map_for(MPI_COMM_WORLD, &task, NULL, &res);
    if (rc != 0) die(rank, "amz_mpi_map_for", rc);
  } else {
    sweep_t s = {n, out};
    amz_task_t task = {"logistic sweep", n, range_kernel, &s};
    rc = amz_mpi_for(MPI_COMM_WORLD, &task, NULL, &res);
    if (rc != 0) die(rank, "amz_mpi_for", rc);
    /* Every rank, excluded ones too: they hold the points they sampled. */
    rc = amz_mpi_gather_items(MPI_COMM_WORLD, res, out, sizeof *out, 0);
    if (rc != 0) die(rank, "amz_mpi_gather_items", rc);
  }

  if (rank == 0) {
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "rank 0: cannot write '%s': %s\n", path, strerror(errno));
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    fprintf(f, "r,lyapunov,period,steps\n");
    uint64_t chaotic = 0, steps = 0;
    for (uint64_t i = 0; i < n; i++) {
      fprintf(f, "%.17g,%.17g,%u,%u\n", out[i].r, out[i].lyapunov, out[i].period,
              out[i].steps);
      chaotic += out[i].period == 0;
      steps += out[i].steps;
    }
    if (fclose(f) != 0) {
      fprintf(stderr, "rank 0: cannot write '%s': %s\n", path, strerror(errno));
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    printf("sweep: %llu points on %d of %d ranks (%s mode), %.3f s (%.3f s of it probing, "
           "sampling, planning); %llu chaotic, %llu periodic; %.1f%% of the steps in the "
           "chaotic points; wrote %s\n",
           (unsigned long long)n, amz_result_ranks(res), size, map ? "map" : "range",
           amz_result_setup_seconds(res) + amz_result_seconds(res),
           amz_result_setup_seconds(res), (unsigned long long)chaotic,
           (unsigned long long)(n - chaotic),
           steps ? 100.0 * (double)chaotic * MAX_STEPS / (double)steps : 0.0, path);
    if (check) {
      uint64_t bad = 0;
      for (uint64_t i = 0; i < n; i++) {
        point_t p = sweep_point(r_of(i, n));
        if (memcmp(&p, &out[i], sizeof p) != 0 && bad++ == 0)
          printf("serial check: point %llu differs (r %.17g)\n", (unsigned long long)i, p.r);
      }
      printf("serial check: %s\n", bad ? "DIFFERENT" : "identical");
      if (bad) rc = 1;
    }
  }
  /* The other ranks wait here while rank 0 writes the file: politely, not spinning. */
  int all = 0;
  if (amz_mpi_allreduce(MPI_COMM_WORLD, &rc, &all, 1, MPI_INT, MPI_MAX) != 0) all = 1;
  rc = all;
  amz_result_destroy(res);
  free(out);
  free(params);
  MPI_Finalize();
  return rc == 0 ? 0 : 1;
}
