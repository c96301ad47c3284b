/*
 * bench_sampler [--reps R] [--only NAME]: how busy the sampler keeps its workers.
 *
 * Runs the sampler alone (amz__sample, the default budget and error target, one
 * worker per usable core) on bench_robust's loop families and reads its block
 * records: the sample's span (first block's start to last block's end), the
 * workers' busy share (the blocks' time over workers x span; what is missing
 * was spent between blocks: waiting for the others, handing out blocks), and
 * the items sampled. Medians over R repetitions (default 5).
 *
 * bench_sampler --honesty [--reps R]: whether the sampler's error estimate is
 * honest. For the loops whose costs are random (a lognormal tail, bimodal, 1% of
 * the items carrying half of the work, uniform), R cost tables of different seeds;
 * for each, the sampled mean cost per item against the true one (the whole loop
 * timed serially), and the standard error the sampler reported. Prints the median
 * |error| and reported error, and how often |error| <= t x the reported error
 * with the quantile the prediction interval uses (90% two-sided; docs/PREDICTIONS.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_kernels.h"
#include "bench_util.h"
#include "internal.h"

typedef struct obs {
  double span_s, busy, items;
} obs_t;

/* The sampler alone, as a plan runs it (default budget and error target) on its
 * own pool; wl and o (when not NULL) get what it measured. Returns amz__sample's
 * code, or 1 when the pool cannot start. */
static int sample_run(const amz_task_t *task, int workers, amz__workload_t *wl, obs_t *o) {
  amz__pool_t pool;
  if (amz__pool_init(&pool, workers - 1) != 0) return 1;
  amz__sampler_params_t p = {.task = task, .workers = workers, .max_seconds = 0.25,
                             .rel_error = 0.03, .clock = &amz__real_clock, .pool = &pool};
  amz__rangeset_t done = {0}, failed = {0};
  amz__chunk_rec_t *recs = NULL;
  int *rw = NULL;
  size_t n = 0;
  int rc = amz__sample(&p, wl, &done, &failed, &recs, &n, &rw);
  if (rc == 0 && n > 0 && o) {
    double lo = recs[0].t_start, hi = recs[0].t_end, busy = 0.0;
    for (size_t i = 0; i < n; i++) {
      if (recs[i].t_start < lo) lo = recs[i].t_start;
      if (recs[i].t_end > hi) hi = recs[i].t_end;
      busy += recs[i].t_end - recs[i].t_start;
    }
    o->span_s = hi - lo;
    o->busy = hi > lo ? busy / ((double)wl->sample_workers * (hi - lo)) : 0.0;
    o->items = (double)amz__rangeset_items(&done);
  }
  amz__rangeset_free(&done);
  amz__rangeset_free(&failed);
  free(recs);
  free(rw);
  amz__pool_destroy(&pool);
  return rc;
}

static obs_t sample_once(const bk_family_t *f, int workers) {
  obs_t o = {0, 0, 0};
  amz_task_t task = {f->name, f->n, f->fn, NULL};
  amz__workload_t wl;
  sample_run(&task, workers, &wl, &o);
  return o;
}

/* Student's t, 95% one-sided, as cost_model.c's interval takes it. */
static double t95(int df) {
  static const double q[] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860};
  if (df < 1) df = 1;
  return df <= 8 ? q[df - 1] : 1.645 + 2.0 / (double)df;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int honesty(int reps, int workers) {
  static const struct {
    const char *name;
    bk_shape_t shape;
  } loops[] = {{"uniform", BK_UNIFORM},
               {"heavy-tail", BK_HEAVY_TAIL},
               {"bimodal", BK_BIMODAL},
               {"few-heavy", BK_FEW_HEAVY}};
  const uint64_t n = 20000;
  printf("Sampler honesty: %d workers, %d cost tables per loop (seeds 100..); error = sampled "
         "mean per item / true mean - 1 (the loop timed serially); inside = |error| <= "
         "t95(df) x the reported standard error\n\n", workers, reps);
  printf("| loop | median abs error | largest abs error | median reported error | inside |\n"
         "|---|---:|---:|---:|---:|\n");
  for (size_t k = 0; k < sizeof loops / sizeof loops[0]; k++) {
    double err[64], rep_e[64];
    int inside = 0;
    for (int r = 0; r < reps; r++) {
      bk_table(loops[k].shape, n, 25.0, 100u + (unsigned)r);
      double t0 = bench_now();
      bk_spin(0, n, NULL);
      double truth = (bench_now() - t0) / (double)n;
      amz_task_t task = {loops[k].name, n, bk_spin, NULL};
      amz__workload_t wl;
      if (sample_run(&task, workers, &wl, NULL) != 0) return 1;
      /* Spinning items do not slow each other down: the sampled level (blocks run
       * alone and with every worker busy) against the serial one. */
      err[r] = wl.mean_s / truth - 1.0;
      rep_e[r] = wl.rel_error;
      int df = wl.sampled_blocks >= 16 ? 7 : (int)wl.sampled_blocks - 1;
      inside += fabs(err[r]) <= t95(df) * wl.rel_error;
    }
    double a[64];
    for (int r = 0; r < reps; r++) a[r] = fabs(err[r]);
    qsort(a, (size_t)reps, sizeof *a, cmp_d);
    printf("| %s | %.1f%% | %.1f%% | %.1f%% | %d/%d |\n", loops[k].name,
           100.0 * bench_median(a, reps), 100.0 * a[reps - 1], 100.0 * bench_median(rep_e, reps),
           inside, reps);
  }
  printf("\n(checksum %g)\n", bk_sink());
  return 0;
}

int main(int argc, char **argv) {
  int reps = 5, honest = 0;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (strcmp(argv[i], "--honesty") == 0) {
      honest = 1;
    } else {
      fprintf(stderr, "usage: %s [--reps R] [--only NAME] | --honesty [--reps R]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1 || reps > 64) {
    fprintf(stderr, "%s: --reps %d: expected 1 to 64\n", argv[0], reps);
    return 2;
  }
  if (only && !bk_family(argv[0], only)) return 2;
  bk_calibrate();
  amz__topology_t topo;
  int workers = amz__topology_probe(&topo) == 0 ? topo.usable_cores : 1;
  if (honest) return honesty(reps, workers);
  printf("Sampler alone: %d workers, %d repetitions, medians; busy = the blocks' time "
         "over workers x the sample's span\n\n", workers, reps);
  printf("| loop | span ms | busy | items sampled |\n|---|---:|---:|---:|\n");
  for (int k = 0; k < bk_n_families; k++) {
    const bk_family_t *f = &bk_families[k];
    if (only && strcmp(only, f->name) != 0) continue;
    int competitor = f->competitor ? bk_start_competitor() : -1;
    double span[64], busy[64], items[64];
    for (int r = 0; r < reps; r++) {
      f->setup(r);
      obs_t o = sample_once(f, workers);
      span[r] = o.span_s * 1e3;
      busy[r] = o.busy;
      items[r] = o.items;
    }
    bk_stop_competitor(competitor);
    printf("| %s | %.1f | %.2f | %.0f |\n", f->name, bench_median(span, reps),
           bench_median(busy, reps), bench_median(items, reps));
  }
  printf("\n(checksum %g)\n", bk_sink());
  return 0;
}
