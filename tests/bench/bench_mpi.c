/*
 * Benchmark of the MPI layer (issue 3 targets), run under mpirun:
 *
 *   mpirun -np 2 bench_mpi [--reps R] [--scale S] [--only NAME] [--no-grid]
 *
 * For each workload, in alternating order within each repetition:
 *  - serial:   rank 0 runs the plain loop alone (the others wait without spinning);
 *  - static:   hand-written static block partition, rank r takes [rN/P, (r+1)N/P);
 *  - self-N:   hand-written fixed-chunk self-scheduling, chunks of N items from a
 *              one-sided MPI_Fetch_and_op counter on rank 0 (passive target, as
 *              textbook MPI codes do);
 *  - amorsize: amz_mpi_for with default options: probe (cached), distributed
 *              sampling, planning and the run, all counted;
 *  - rerun:    amz_mpi_run again on the same plan (the steady state of a loop run
 *              every time step);
 *  - grid:     the best of ranks = P, 1 thread, every schedule x chunks {1, 8, 64,
 *              512}, each a forced plan re-run (no sampling in the timing); for the
 *              memory-bound loop also over fewer ranks and more threads per rank
 *              (every R x T with R <= P and R x T at most the cores of a node); the
 *              fastest configuration is then timed once more, and that time counts.
 * The memory-bound kernel is bench_kernels.c's triad, compiled once into its own
 * object.
 * Efficiency is the lower bound max(serial / P, longest item) over the time.
 * Medians over the repetitions. Only rank 0 prints.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amorsize_mpi.h"
#include "bench_kernels.h"
#include "bench_mpi_util.h"
#include "bench_util.h"

static int rank, size;
static volatile double sink;

static double now(void) { return bench_now(); }

static double spin(long iters) {
  double x = 1.0;
  for (long k = 0; k < iters; k++) x = x * 1.0000001 + 1e-9;
  return x;
}

typedef struct wl {
  const char *name, *what;
  uint64_t n;
  amz_range_fn fn;
  long *iters; /* synthetic: spin iterations per item */
} wl_t;

static int k_table(uint64_t b, uint64_t e, void *arg) {
  const wl_t *w = arg;
  double acc = 0;
  for (uint64_t i = b; i < e; i++) acc += spin(w->iters[i]);
  sink = acc;
  return 0;
}

static int m_rows = 2000, m_cols = 2000, m_iter = 400;
static int k_mandel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  long tot = 0;
  for (uint64_t r = b; r < e; r++) {
    double y = 1.5 * (double)r / m_rows;
    for (int c = 0; c < m_cols; c++) {
      double x = -2.0 + 2.6 * c / m_cols, zr = 0, zi = 0;
      int k = 0;
      while (k < m_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + x;
        zi = 2 * zr * zi + y;
        zr = t;
        k++;
      }
      tot += k;
    }
  }
  sink = (double)tot;
  return 0;
}

static double hash01(uint64_t i) {
  uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

/* Waits at a barrier without spinning a core (rank 0 runs alone meanwhile). */
static void polite_barrier(void) {
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  int f = 0;
  while (!f) {
    MPI_Test(&r, &f, MPI_STATUS_IGNORE);
    if (!f) usleep(200);
  }
}

static double t_serial(const wl_t *w, void *arg) {
  polite_barrier();
  double t = 0;
  if (rank == 0) {
    double t0 = now();
    w->fn(0, w->n, arg);
    t = now() - t0;
  }
  polite_barrier();
  MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return t;
}

static double span(double t0, double t1) { return bench_mpi_span(t0, t1); }

static double t_static(const wl_t *w, void *arg) { return bench_mpi_static(w->n, w->fn, arg); }

static double t_selfsched(const wl_t *w, void *arg, long chunk) {
  return bench_mpi_counter(w->n, w->fn, arg, chunk);
}

static amz_options_t *forced(amz_schedule_t s, uint64_t chunk, int ranks, int threads) {
  amz_options_t *o;
  amz_options_create(&o);
  amz_options_set_use_env(o, 0);
  amz_options_set_ranks(o, ranks);
  amz_options_set_workers(o, threads);
  amz_options_set_schedule(o, s);
  if (s != AMZ_SCHED_STATIC) amz_options_set_chunk(o, chunk);
  amz_options_set_sampling(o, 0.02, 0.05);
  return o;
}

/* Re-run time of a forced plan: the first run finishes the sampled items' loop,
 * the second is timed. */
static double t_forced(const wl_t *w, void *arg, amz_schedule_t s, uint64_t chunk, int ranks,
                       int threads) {
  amz_options_t *o = forced(s, chunk, ranks, threads);
  amz_task_t task = {w->name, w->n, w->fn, arg};
  amz_plan_t *p = NULL;
  amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p);
  amz_result_t *r = NULL;
  amz_mpi_run(p, &r);
  amz_result_destroy(r);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now();
  amz_mpi_run(p, &r);
  double t1 = now();
  amz_result_destroy(r);
  amz_plan_destroy(p);
  amz_options_destroy(o);
  return span(t0, t1);
}

typedef struct ours {
  double full, rerun, predicted;
  char choice[96];
} ours_t;

static ours_t t_ours(const wl_t *w, void *arg) {
  ours_t o = {0};
  amz_task_t task = {w->name, w->n, w->fn, arg};
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now();
  amz_plan_t *p = NULL;
  amz_mpi_plan_create(MPI_COMM_WORLD, &task, NULL, &p);
  amz_result_t *r = NULL;
  amz_mpi_run(p, &r);
  double t1 = now();
  o.full = span(t0, t1);
  amz_result_destroy(r);
  o.predicted = amz_plan_predicted_seconds(p);
  snprintf(o.choice, sizeof o.choice, "%dx%d %s/%llu", amz_plan_ranks(p), amz_plan_workers(p),
           amz_schedule_name(amz_plan_schedule(p)), (unsigned long long)amz_plan_chunk(p));
  MPI_Barrier(MPI_COMM_WORLD);
  t0 = now();
  amz_mpi_run(p, &r);
  t1 = now();
  o.rerun = span(t0, t1);
  amz_result_destroy(r);
  amz_plan_destroy(p);
  return o;
}

/* ---- map mode: inputs on rank 0, outputs back to rank 0 ------------------------- */

enum { MAP_IN = 4096, MAP_OUT = 4096 };
static long map_iters; /* spin per item */

static int k_map(uint64_t b, uint64_t e, const void *in, void *out, void *arg) {
  (void)arg;
  const unsigned char *ip = in;
  unsigned char *op = out;
  for (uint64_t i = 0; i < e - b; i++) {
    double x = spin(map_iters);
    unsigned s = (unsigned)x;
    for (int k = 0; k < MAP_OUT; k++) op[i * MAP_OUT + k] = (unsigned char)(ip[i * MAP_IN + k] ^ s);
  }
  return 0;
}

/* Hand-written baseline: scatter the inputs, static blocks, gather the outputs. */
static double t_map_static(uint64_t n, const unsigned char *in, unsigned char *out) {
  int *cnt_in = malloc((size_t)size * sizeof *cnt_in), *dsp_in = malloc((size_t)size * sizeof *dsp_in);
  int *cnt_out = malloc((size_t)size * sizeof *cnt_out), *dsp_out = malloc((size_t)size * sizeof *dsp_out);
  for (int r = 0; r < size; r++) {
    uint64_t b = n * (uint64_t)r / (uint64_t)size, e = n * (uint64_t)(r + 1) / (uint64_t)size;
    cnt_in[r] = (int)((e - b) * MAP_IN);
    dsp_in[r] = (int)(b * MAP_IN);
    cnt_out[r] = (int)((e - b) * MAP_OUT);
    dsp_out[r] = (int)(b * MAP_OUT);
  }
  uint64_t b = n * (uint64_t)rank / (uint64_t)size, e = n * (uint64_t)(rank + 1) / (uint64_t)size;
  unsigned char *lin = malloc((e - b) * MAP_IN + 1), *lout = malloc((e - b) * MAP_OUT + 1);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now();
  MPI_Scatterv(in, cnt_in, dsp_in, MPI_BYTE, lin, cnt_in[rank], MPI_BYTE, 0, MPI_COMM_WORLD);
  k_map(b, e, lin, lout, NULL);
  MPI_Gatherv(lout, cnt_out[rank], MPI_BYTE, out, cnt_out, dsp_out, MPI_BYTE, 0, MPI_COMM_WORLD);
  double t1 = now();
  free(lin);
  free(lout);
  free(cnt_in);
  free(dsp_in);
  free(cnt_out);
  free(dsp_out);
  return span(t0, t1);
}

static void bench_map(int reps, double scale, double per_us) {
  uint64_t n = (uint64_t)(20000 * scale);
  map_iters = (long)(25.0 * per_us); /* ~25 us of compute per item */
  unsigned char *in = NULL, *out = NULL;
  if (rank == 0) {
    in = malloc(n * MAP_IN);
    out = malloc(n * MAP_OUT);
    for (uint64_t i = 0; i < n * MAP_IN; i++) in[i] = (unsigned char)(i * 2654435761u >> 13);
  }
  double st[15], ours[15], err[15], run[15], pdata = 0, mdata = 0;
  char choice[64] = "";
  for (int r = 0; r < reps; r++) {
    st[r] = t_map_static(n, in, out);
    amz_map_task_t mt = {"map", n, MAP_IN, MAP_OUT, in, out, k_map, NULL};
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    amz_plan_t *p = NULL;
    amz_mpi_map_plan_create(MPI_COMM_WORLD, &mt, NULL, &p);
    if (rank == 0 && r == 0 && getenv("BENCH_EXPLAIN")) amz_plan_explain(p, stdout);
    amz_result_t *res = NULL;
    amz_mpi_run(p, &res);
    double t1 = now();
    ours[r] = span(t0, t1);
    amz_terms_t pt, mt2;
    amz_result_terms(res, &mt2);
    pt = mt2;
    if (res) {
      /* predicted terms of the run, as the result holds them */
      amz_plan_terms(p, &pt); /* next run's: same choice */
    }
    pdata = pt.data;
    /* The run against its own prediction (both without the plan's set-up). */
    run[r] = amz_result_seconds(res);
    double pred = amz_result_predicted_seconds(res);
    err[r] = pred > 0 ? (run[r] - pred) / pred : 0.0;
    mdata = mt2.data;
    snprintf(choice, sizeof choice, "%dx%d %s/%llu", amz_plan_ranks(p), amz_plan_workers(p),
             amz_schedule_name(amz_plan_schedule(p)), (unsigned long long)amz_plan_chunk(p));
    amz_result_destroy(res);
    amz_plan_destroy(p);
  }
  double S = bench_median(st, reps), O = bench_median(ours, reps);
  double R = bench_median(run, reps), E = bench_median(err, reps), worst = 0.0;
  for (int r = 0; r < reps; r++)
    if (fabs(err[r]) > fabs(worst)) worst = err[r];
  if (rank == 0) {
    printf("\nmap mode: %llu items, %d B in + %d B out each (%.0f MiB moved), ~25 us compute each\n",
           (unsigned long long)n, MAP_IN, MAP_OUT, (double)n * (MAP_IN + MAP_OUT) / (1 << 20));
    printf("  scatter + static + gather (hand-written): %.3f s\n", S);
    printf("  amorsize map mode (plan + run):           %.3f s  (%s; data term predicted %.1f "
           "ms, measured %.1f ms per worker)\n",
           O, choice, pdata * 1e3, mdata * 1e3);
    printf("  its run alone: %.3f s; prediction error (measured - predicted) / predicted: "
           "median %+.1f%%, worst %+.1f%%\n",
           R, 100.0 * E, 100.0 * worst);
  }
  free(in);
  free(out);
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int reps = 3, grid = 1;
  double scale = 1.0;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atof(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--no-grid")) grid = 0;
    else {
      if (rank == 0) fprintf(stderr, "usage: %s [--reps R] [--scale S] [--only NAME] [--no-grid]\n", argv[0]);
      MPI_Finalize();
      return 2;
    }
  }
  if (reps < 1 || reps > 15) reps = 3;
  /* Calibrate spin iterations per microsecond on rank 0, shared by all. */
  double per_us = 0;
  if (rank == 0) {
    double t0 = now();
    sink = spin(20000000);
    per_us = 20000000 / ((now() - t0) * 1e6);
  }
  MPI_Bcast(&per_us, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);

  enum { NW = 6, MEMORY = 5 };
  wl_t w[NW] = {
      {"mandelbrot", "rows of y in [0,1.5]: costly near the axis", (uint64_t)(2000 * scale), k_mandel, NULL},
      {"increasing", "cost grows linearly with the index, 1 to 200 us", (uint64_t)(10000 * scale), k_table, NULL},
      {"lognormal", "independent lognormal costs, mean ~60 us, sigma 1.2", (uint64_t)(16000 * scale), k_table, NULL},
      {"clustered", "first 5% of items cost 40x the rest", (uint64_t)(80000 * scale), k_table, NULL},
      {"tiny", "0.2 us items", (uint64_t)(5000000 * scale), k_table, NULL},
      {"memory", "triads over 256 KiB slices of 192 MiB", (uint64_t)(20000 * scale), bk_triad,
       NULL},
  };
  bk_triad_setup(256);
  /* Cores of this node, for the memory loop's ranks x threads grid. */
  int node_cores = 1;
  {
    MPI_Comm nc;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &nc);
    int nr;
    MPI_Comm_size(nc, &nr);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    node_cores = (int)(cpus > 0 ? cpus : 1);
    if (nr > node_cores) node_cores = nr;
    MPI_Comm_free(&nc);
  }
  char grid_best[NW][48] = {{0}};
  m_rows = (int)w[0].n;
  for (int k = 1; k < NW; k++) {
    if (k == MEMORY) continue;
    w[k].iters = malloc(w[k].n * sizeof(long));
    for (uint64_t i = 0; i < w[k].n; i++) {
      double us;
      if (k == 1) us = 1.0 + 199.0 * (double)i / (double)w[k].n;
      else if (k == 2) {
        double u1 = hash01(2 * i) + 1e-12, u2 = hash01(2 * i + 1);
        us = 30.0 * exp(1.2 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) - 0.72 + 0.72);
        if (us > 5000) us = 5000;
      } else if (k == 3) us = i < w[k].n / 20 ? 200.0 : 5.0;
      else us = 0.2;
      w[k].iters[i] = (long)(us * per_us);
    }
  }
  if (rank == 0) {
    printf("bench_mpi: %d ranks, %d reps (medians), scale %.2f, MPI thread level %d\n", size, reps,
           scale, provided);
    printf("%-11s %9s %9s %9s %9s %9s %9s %9s  %-20s %5s %5s %7s %7s\n", "workload", "serial",
           "bound", "static", "self-1", "self-64", "amorsize", "rerun", "choice", "eff", "effrr",
           "vs-stat", "grid");
  }
  for (int k = 0; k < NW; k++) {
    if (only && strcmp(only, w[k].name) != 0) continue;
    void *arg = w[k].iters ? (void *)&w[k] : NULL;
    double ser[15], st[15], s1[15], s64[15], full[15], rr[15], gr[15];
    ours_t last = {0};
    /* The longest item, for the bound (serial, on rank 0). */
    double longest = 0;
    if (w[k].iters) {
      long mx = 0;
      for (uint64_t i = 0; i < w[k].n; i++) if (w[k].iters[i] > mx) mx = w[k].iters[i];
      longest = (double)mx / per_us * 1e-6;
    } else {
      double t0 = now();
      w[k].fn(0, 1, arg); /* row 0, on the real axis, is the costliest */
      longest = now() - t0;
    }
    for (int r = 0; r < reps; r++) {
      ser[r] = t_serial(&w[k], arg);
      st[r] = t_static(&w[k], arg);
      s1[r] = k == 4 ? NAN : t_selfsched(&w[k], arg, 1);
      s64[r] = t_selfsched(&w[k], arg, 64);
      last = t_ours(&w[k], arg);
      full[r] = last.full;
      rr[r] = last.rerun;
      gr[r] = INFINITY;
      if (grid) {
        const uint64_t chunks[4] = {1, 8, 64, 512};
        amz_schedule_t bs = AMZ_SCHED_STATIC;
        uint64_t bc = 0;
        int bR = size, bT = 1;
        for (int R = k == MEMORY ? 1 : size; R <= size; R++)
          for (int T = 1; T == 1 || (k == MEMORY && R * T <= node_cores); T++)
            for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_FACTORING; s++)
              for (int c = 0; c < 4; c++) {
                if (s == AMZ_SCHED_STATIC && c > 0) continue;
                if (k == 4 && chunks[c] < 64 && s != AMZ_SCHED_STATIC) continue; /* hopeless */
                double t = t_forced(&w[k], arg, (amz_schedule_t)s, chunks[c], R, T);
                if (rank == 0 && getenv("BENCH_GRID_ALL"))
                  fprintf(stderr, "  grid %s %dx%d %s/%llu: %.3f s\n", w[k].name, R, T,
                          amz_schedule_name((amz_schedule_t)s), (unsigned long long)chunks[c], t);
                if (t < gr[r]) {
                  gr[r] = t;
                  bs = (amz_schedule_t)s, bc = chunks[c], bR = R, bT = T;
                  snprintf(grid_best[k], sizeof grid_best[k], "%dx%d %s/%llu", R, T,
                           amz_schedule_name((amz_schedule_t)s),
                           (unsigned long long)(s == AMZ_SCHED_STATIC ? 0 : chunks[c]));
                }
              }
        /* The fastest of many noisy runs is biased low: its configuration is timed
         * once more, and that time counts. */
        gr[r] = t_forced(&w[k], arg, bs, bc, bR, bT);
      }
    }
    double S = bench_median(ser, reps), B = S / size > longest ? S / size : longest;
    double ST = bench_median(st, reps), S1 = k == 4 ? NAN : bench_median(s1, reps);
    double S64 = bench_median(s64, reps);
    double F = bench_median(full, reps), RR = bench_median(rr, reps), G = bench_median(gr, reps);
    if (rank == 0) {
      printf("%-11s %8.3fs %8.3fs %8.3fs %8.3fs %8.3fs %8.3fs %8.3fs  %-20s %5.2f %5.2f %6.2fx %6.3fs"
             " %s\n",
             w[k].name, S, B, ST, S1, S64, F, RR, last.choice, B / F, B / RR, ST / F, G,
             grid_best[k]);
      fflush(stdout);
    }
  }
  if (!only || strcmp(only, "map") == 0) bench_map(reps, scale, per_us);
  if (rank == 0)
    printf("\neff = bound / amorsize (plan + run, sampling included); effrr = bound / rerun;\n"
           "vs-stat = static / amorsize; grid = the fastest forced schedule x chunk (memory:\n"
           "also ranks x threads) timed again, then the configuration of the last repetition\n");
  for (int k = 1; k < NW; k++) free(w[k].iters);
  bk_triad_setup(0);
  MPI_Finalize();
  return 0;
}
