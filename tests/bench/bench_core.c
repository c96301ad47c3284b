/*
 * Benchmark of the single-process planner and executor (issue 2 targets).
 *
 * For each workload: serial time (a plain loop, no library), the plan's time
 * (amz_plan_create + first amz_run: probe, sampling and planning included), the
 * plan's steady-state time (second amz_run of the same plan), the best of a grid
 * over workers x schedule x chunk run on the same executor without planning, and
 * the prediction against the measurement.
 *
 *   bench_core [--scale S] [--reps R] [--only NAME] [--no-grid]
 *
 * S scales every workload's item count (default 1: about 2 s of serial work each);
 * R is the number of repetitions whose median is reported (default 3).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "bench_util.h"

static volatile double sink;

static double now(void) { return amz__monotonic_now(NULL); }

/* ---- kernels --------------------------------------------------------------- */

static long spin_per_us = 100; /* calibrated in main */

static double spin(long iters) {
  double x = 1.0;
  for (long k = 0; k < iters; k++) x = x * 1.0000001 + 1e-9;
  return x;
}

typedef struct wl {
  const char *name;
  const char *what;
  uint64_t n;
  amz_range_fn fn;
  double *cost_us; /* per-item cost table for synthetic workloads, or NULL */
  int min_workers, max_workers; /* grid bounds (powers of two from min) */
  int serial_div;               /* serial time from 1/serial_div of the items */
} wl_t;

static int k_table(uint64_t b, uint64_t e, void *arg) {
  const double *cost = arg;
  double acc = 0;
  for (uint64_t i = b; i < e; i++) acc += spin((long)(cost[i] * (double)spin_per_us));
  sink = acc;
  return 0;
}

typedef struct mandel {
  int rows, cols, max_iter;
} mandel_t;
static mandel_t g_mandel = {1200, 1200, 500};

/* Upper half-plane, y in [0, 1.5]: costly rows near the axis, cheap at the top. */
static int k_mandel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  const mandel_t *m = &g_mandel;
  long total = 0;
  for (uint64_t r = b; r < e; r++) {
    double y = 1.5 * (double)r / m->rows;
    for (int c = 0; c < m->cols; c++) {
      double x = -2.0 + 2.6 * c / m->cols, zr = 0, zi = 0;
      int k = 0;
      while (k < m->max_iter && zr * zr + zi * zi < 4.0) {
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

/* Memory-bandwidth bound: each item streams a 256 KiB slice of three arrays far
 * larger than the caches (triad a = b + s c). */
#define MEM_SLICE (32 * 1024)
static double *g_a, *g_b, *g_c;
static uint64_t g_slices = 1;
static int k_mem(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  for (uint64_t i = b; i < e; i++) {
    uint64_t off = (i % g_slices) * MEM_SLICE;
    double *a = g_a + off, *x = g_b + off, *y = g_c + off;
    for (int j = 0; j < MEM_SLICE; j++) a[j] = x[j] + 1.5 * y[j];
  }
  return 0;
}

static int k_sleep(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  for (uint64_t i = b; i < e; i++) {
    struct timespec ts = {0, 1000000}; /* 1 ms of waiting, e.g. I/O */
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* ---- measurement helpers ---------------------------------------------------- */

static double run_fixed(amz__pool_t *pool, const amz_task_t *t, int w, amz_schedule_t s,
                        uint64_t chunk) {
  amz__exec_params_t p = {.task = t, .schedule = s, .workers = w, .chunk = chunk,
                          .clock = &amz__real_clock, .pool = pool};
  double t0 = now();
  p.t_origin = t0;
  amz__exec_out_t o;
  if (amz__execute(&p, &o) != 0) return INFINITY;
  amz__exec_out_free(&o);
  return now() - t0;
}

typedef struct row {
  double serial, total, steady, best, predicted, overhead;
  int w, best_w;
  amz_schedule_t s, best_s;
  uint64_t c, best_c;
} row_t;

/* Serial time of a plain loop. Workloads that would take minutes serially (the
 * sleeping one) are timed on their first 1/serial_div of the items and scaled up. */
static double serial_time(const wl_t *wl) {
  uint64_t n = wl->n / (uint64_t)wl->serial_div;
  double t0 = now();
  wl->fn(0, n, wl->cost_us);
  return (now() - t0) * (double)wl->n / (double)n;
}

/* Finds the best fixed configuration with one run each, then alternates it with the
 * plan over the repetitions, so both see the same machine state (page and cache
 * warm-up, other load): the ratio is taken between medians of alternating runs. */
static void bench(const wl_t *wl, int reps, int grid, amz__pool_t *pool, row_t *r) {
  amz_task_t task = {wl->name, wl->n, wl->fn, wl->cost_us};
  static const uint64_t chunks[] = {1, 8, 64, 512, 4096};
  double best_once = INFINITY;
  r->best_w = 0;
  for (int w = wl->min_workers; grid && w <= wl->max_workers; w *= 2) {
    for (int s = AMZ_SCHED_STATIC; s <= AMZ_SCHED_AWF; s++) {
      for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
        if (s == AMZ_SCHED_STATIC && ci > 0) break;
        if (chunks[ci] > wl->n) break;
        uint64_t c = s == AMZ_SCHED_STATIC ? 0 : chunks[ci];
        double t = run_fixed(pool, &task, w, (amz_schedule_t)s, c);
        if (t < best_once) {
          best_once = t;
          r->best_w = w;
          r->best_s = (amz_schedule_t)s;
          r->best_c = c;
        }
      }
      if (w == 1) break; /* one worker: every schedule is the same loop */
    }
  }
  double ser[16], tot[16], st[16], pred[16], ovh[16], best[16]; /* reps <= 15 */
  for (int k = 0; k < reps; k++) {
    ser[k] = serial_time(wl);
    best[k] = r->best_w ? run_fixed(pool, &task, r->best_w, r->best_s, r->best_c) : INFINITY;

    amz_plan_t *p = NULL;
    amz_result_t *res = NULL;
    double t0 = now();
    if (amz_plan_create(&task, NULL, &p) != 0) {
      fprintf(stderr, "%s: %s\n", wl->name, amz_last_error());
      exit(1);
    }
    double setup = amz_plan_setup_seconds(p);
    /* Productive part of the setup: the sampled items' work, spread over the
     * sampling threads (alone-equivalent times scaled back by the contention). */
    double productive = p->wl.sample_work_s * p->wl.contention /
                        (p->wl.sample_workers > 0 ? p->wl.sample_workers : 1);
    double predicted = amz_plan_predicted_seconds(p);
    r->w = amz_plan_workers(p);
    r->s = amz_plan_schedule(p);
    r->c = amz_plan_chunk(p);
    amz_run(p, &res);
    tot[k] = now() - t0;
    pred[k] = (amz_result_seconds(res) - predicted) / predicted;
    amz_result_destroy(res);
    ovh[k] = (setup - productive) / tot[k];
    amz_run(p, &res);
    st[k] = amz_result_seconds(res);
    amz_result_destroy(res);
    amz_plan_destroy(p);
  }
  r->serial = bench_median(ser, reps);
  r->total = bench_median(tot, reps);
  r->steady = bench_median(st, reps);
  r->predicted = bench_median(pred, reps);
  r->overhead = bench_median(ovh, reps);
  r->best = bench_median(best, reps);
}

int main(int argc, char **argv) {
  double scale = 1.0;
  int reps = 3, grid = 1;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atof(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--no-grid")) grid = 0;
    else {
      fprintf(stderr, "usage: %s [--scale S] [--reps R (1..15)] [--only NAME] [--no-grid]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1 || reps > 15 || !(scale > 0)) {
    fprintf(stderr, "error: --reps must be in 1..15 and --scale > 0\n");
    return 2;
  }
  /* Calibrate the spin loop: iterations per microsecond. */
  double t0 = now();
  sink = spin(20000000);
  spin_per_us = (long)(20000000 / ((now() - t0) * 1e6));

  uint64_t n_tiny = (uint64_t)(1e7 * scale), n_heavy = (uint64_t)(400 * scale);
  uint64_t n_inc = (uint64_t)(2000 * scale), n_logn = (uint64_t)(20000 * scale);
  double *tiny = malloc(n_tiny * sizeof *tiny), *heavy = malloc(n_heavy * sizeof *heavy);
  double *inc = malloc(n_inc * sizeof *inc), *logn = malloc(n_logn * sizeof *logn);
  for (uint64_t i = 0; i < n_tiny; i++) tiny[i] = 0.2;
  for (uint64_t i = 0; i < n_heavy; i++) heavy[i] = 5000.0;
  for (uint64_t i = 0; i < n_inc; i++) inc[i] = 2000.0 * (double)i / (double)n_inc;
  srand(42);
  for (uint64_t i = 0; i < n_logn; i++) {
    /* Lognormal with sigma 1.2 and mean 100 us (Box-Muller). */
    double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);
    double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2), s = 1.2;
    logn[i] = 100.0 * exp(s * z - s * s / 2);
  }
  g_mandel.rows = g_mandel.cols = (int)(2200 * sqrt(scale));
  uint64_t n_mem = (uint64_t)(50000 * scale);
  size_t mem_items = 256; /* items reuse 256 slices: 3 x 64 MiB, far beyond the caches */
  g_slices = mem_items;
  g_a = calloc(mem_items * MEM_SLICE, sizeof(double));
  g_b = calloc(mem_items * MEM_SLICE, sizeof(double));
  g_c = calloc(mem_items * MEM_SLICE, sizeof(double));
  if (!g_a || !g_b || !g_c) {
    fprintf(stderr, "error: cannot allocate the memory workload's 192 MiB\n");
    return 1;
  }
  /* Touch every page now, so no measured run pays the first-touch page faults. */
  for (size_t j = 0; j < mem_items * MEM_SLICE; j++) g_a[j] = g_b[j] = g_c[j] = 1.0;
  int cores = 1;
  {
    amz__topology_t t;
    if (amz__topology_probe(&t) == 0) cores = t.usable_cores;
  }
  wl_t wls[] = {
      {"small", "400 items of ~0.2 us (80 us in all)", 400, k_table, tiny, 1, cores, 1},
      {"tiny", "uniform ~0.2 us items", n_tiny, k_table, tiny, 1, cores, 1},
      {"heavy", "uniform ~5 ms items", n_heavy, k_table, heavy, 1, cores, 1},
      {"increasing", "cost 0..2 ms rising with the index", n_inc, k_table, inc, 1, cores, 1},
      {"lognormal", "lognormal cost, mean 100 us, sigma 1.2", n_logn, k_table, logn, 1, cores, 1},
      {"mandelbrot", "Mandelbrot rows, y in [0, 1.5]", (uint64_t)g_mandel.rows, k_mandel, NULL,
       1, cores, 1},
      {"memory", "triad over 256 KiB slices (bandwidth bound)", n_mem, k_mem, NULL, 1, cores, 1},
      /* Waiting items: the grid starts at 16 threads (fewer are hopeless) and the
       * serial time is measured on 1/50 of the items. */
      {"sleep", "1 ms of waiting per item", (uint64_t)(20000 * scale), k_sleep, NULL, 16, 64, 50},
  };
  amz__pool_t pool;
  amz__pool_init(&pool, 63);
  printf("amorsize %s bench_core: %d usable cores, %d reps (median), scale %g\n\n",
         amz_version_string(), cores, reps, scale);
  printf("%-11s %9s %-24s %9s %9s %9s %-20s %7s %7s %7s %8s %6s\n", "workload", "serial",
         "plan (workers sched chunk)", "plan+run", "rerun", "grid", "grid best", "x grid", "rerun/g",
         "speedup", "pred err", "ovh");
  for (size_t i = 0; i < sizeof wls / sizeof *wls; i++) {
    if (only && strcmp(only, wls[i].name) != 0) continue;
    row_t r = {0};
    /* Sub-millisecond loops are noisy: more repetitions for their medians. */
    bench(&wls[i], wls[i].n < 1000 ? 15 : reps, grid, &pool, &r);
    char plan[64], best[64];
    snprintf(plan, sizeof plan, "%d %s %llu", r.w, amz_schedule_name(r.s), (unsigned long long)r.c);
    snprintf(best, sizeof best, "%d %s %llu", r.best_w, amz_schedule_name(r.best_s),
             (unsigned long long)r.best_c);
    printf("%-11s %9.4g %-24s %9.4g %9.4g %9.4g %-20s %6.2fx %6.2fx %6.2fx %+7.1f%% %5.1f%%\n",
           wls[i].name, r.serial, plan, r.total, r.steady, r.best, grid ? best : "-",
           grid ? r.total / r.best : 0.0, grid ? r.steady / r.best : 0.0, r.serial / r.total,
           100.0 * r.predicted, 100.0 * r.overhead);
    fflush(stdout);
  }
  printf("\nTimes in seconds. serial: plain loop (sleep: 1/50 of the items, scaled);\n"
         "plan+run: amz_plan_create + first amz_run (probe, sampling, planning included);\n"
         "rerun: second amz_run of the same plan; grid: the best fixed configuration on the\n"
         "same executor (workers 1..%d, sleep 16..64, x 6 schedules x chunk 1..4096), re-timed\n"
         "alternately with the plan; x grid = plan+run / grid; rerun/g = rerun / grid;\n"
         "speedup = serial / plan+run; pred err = (measured - predicted) / predicted, first\n"
         "run; ovh = probe+sample+plan time minus the productive sampled work, share of\n"
         "plan+run.\n", cores);
  amz__pool_destroy(&pool);
  return 0;
}
