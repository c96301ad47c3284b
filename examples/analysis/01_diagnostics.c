/*
 * Step 1 of the performance-analysis guide: diagnostic profiling, every metric of a
 * plan and of a run read programmatically.
 *
 * amz_plan_explain() and amz_result_explain() print prose for a human. A program
 * that wants to log, assert on or plot the same facts reads them through the
 * accessors instead; this example calls every one of them once, on an irregular loop
 * whose item cost rises along the index (the last item costs four times the first),
 * so that the imbalance term and the schedule choice have something to say:
 *
 *   - the plan: workers, schedule, chunk, predicted time and speedup, the items run
 *     while sampling, the setup time, the predicted terms and the candidate table;
 *   - the run: wall, predicted and setup seconds, items done and failed, the
 *     measured terms beside the predicted ones, per-worker totals, the chunk
 *     records and the failed ranges;
 *   - and finally how far the prediction was from what happened.
 *
 * Build and run (from the repository root, after building the library in build/):
 *
 *   gcc -std=gnu11 -O2 -Wall -Wextra -I include -I build/include \
 *       examples/analysis/01_diagnostics.c -o 01_diagnostics \
 *       -L build -lamorsize -lm -Wl,-rpath,$PWD/build
 *   ./01_diagnostics            # 40000 items, about 0.4 s on 2 cores
 *   ./01_diagnostics --quick    # 8000 items, for tests
 *   ./01_diagnostics 100000     # any number of items
 *
 * The program exits with 0 when every item ran exactly once and the result agrees
 * with the plan, and prints "01_diagnostics: OK" as its last line.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize.h"

/* Base cost of one item in inner iterations; item i does BASE * (1 + 3 i / N). */
#define BASE_ITERS 4000u
#define TOP_CANDIDATES 10
#define SHOW_CHUNKS 8

typedef struct loop_data {
  uint64_t n;
  uint64_t *out;          /* one result per item, so the work cannot be optimized away */
  unsigned char *visits;  /* how often each item ran: must end as exactly 1 */
} loop_data_t;

/* Deterministic busy work whose cost grows linearly with the index: a xorshift
 * sequence the compiler cannot shorten. Ranges are disjoint, so writing out[i] and
 * visits[i] needs no synchronization. */
static int rising_kernel(uint64_t begin, uint64_t end, void *arg) {
  loop_data_t *d = arg;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t iters = BASE_ITERS + (uint64_t)(3.0 * BASE_ITERS * (double)i / (double)d->n);
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
    for (uint64_t k = 0; k < iters; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    d->out[i] = x;
    d->visits[i]++;
  }
  return 0;
}

/* Prints one row of terms; used for the plan, the candidates and the result. */
static void print_terms_row(const char *label, const amz_terms_t *t) {
  printf("  %-10s startup %9.6f  compute %9.6f  dispatch %9.6f  imbalance %9.6f  "
         "serial %9.6f  data %9.6f  total %9.6f\n",
         label, t->startup, t->compute, t->dispatch, t->imbalance, t->serial, t->data,
         t->total);
}

/* Parses the optional argument: "--quick" or a positive number of items. */
static int parse_items(int argc, char **argv, uint64_t *n) {
  *n = 40000;
  if (argc < 2) return 0;
  if (strcmp(argv[1], "--quick") == 0) {
    *n = 8000;
    return 0;
  }
  char *end = NULL;
  unsigned long long v = strtoull(argv[1], &end, 10);
  if (!end || *end != '\0' || v == 0 || argv[1][0] == '-') return -1;
  *n = (uint64_t)v;
  return 0;
}

int main(int argc, char **argv) {
  uint64_t n;
  if (parse_items(argc, argv, &n) != 0) {
    fprintf(stderr, "usage: %s [--quick | ITEMS > 0]\n", argv[0]);
    return 2;
  }
  loop_data_t data = {n, calloc(n, sizeof(uint64_t)), calloc(n, 1)};
  if (!data.out || !data.visits) {
    fprintf(stderr, "01_diagnostics: cannot allocate %" PRIu64 " items\n", n);
    free(data.out);
    free(data.visits);
    return 1;
  }

  /* Options only to keep stdout clean: the library's own progress line would
   * interleave with this program's report when run in a terminal. Everything else is
   * left for the planner to choose, which is what we want to observe. */
  amz_options_t *opts = NULL;
  int rc = amz_options_create(&opts);
  if (rc == 0) rc = amz_options_set_progress_line(opts, AMZ_PROGRESS_OFF);
  if (rc != 0) {
    fprintf(stderr, "options: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_options_destroy(opts);
    free(data.out);
    free(data.visits);
    return 1;
  }

  amz_task_t task = {"rising cost", n, rising_kernel, &data};
  amz_plan_t *plan = NULL;
  rc = amz_plan_create(&task, opts, &plan);
  amz_options_destroy(opts); /* the plan copied what it needs */
  if (rc != 0) {
    fprintf(stderr, "amz_plan_create: %s: %s\n", amz_error_name(rc), amz_last_error());
    free(data.out);
    free(data.visits);
    return 1;
  }

  /* ---- The plan ------------------------------------------------------------- */
  printf("== Plan for '%s': %" PRIu64 " items, cost rising 4x along the index\n",
         task.name, n);
  printf("  workers            %d\n", amz_plan_workers(plan));
  printf("  schedule           %s\n", amz_schedule_name(amz_plan_schedule(plan)));
  /* The chunk means different things per schedule (see amz_options_set_chunk). */
  amz_schedule_t sched = amz_plan_schedule(plan);
  printf("  chunk              %" PRIu64 "  (%s)\n", amz_plan_chunk(plan),
         sched == AMZ_SCHED_STATIC                               ? "items per worker's block"
         : sched == AMZ_SCHED_CYCLIC || sched == AMZ_SCHED_DYNAMIC ? "items per chunk"
                                                                  : "minimum items per chunk");
  printf("  predicted seconds  %.6f  (the next run: the items not yet run)\n",
         amz_plan_predicted_seconds(plan));
  printf("  predicted speedup  %.2f  (serial / parallel, all %" PRIu64 " items)\n",
         amz_plan_predicted_speedup(plan), n);
  printf("  sampled items      %" PRIu64 " (%.2f%% of N, already done)\n",
         amz_plan_sampled_items(plan), 100.0 * (double)amz_plan_sampled_items(plan) / (double)n);
  printf("  setup seconds      %.6f  (probe + sample + plan)\n", amz_plan_setup_seconds(plan));

  amz_terms_t planned;
  rc = amz_plan_terms(plan, &planned);
  if (rc != 0) {
    fprintf(stderr, "amz_plan_terms: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_plan_destroy(plan);
    free(data.out);
    free(data.visits);
    return 1;
  }
  printf("\n== Predicted terms of the next run (seconds)\n");
  print_terms_row("predicted", &planned);

  /* The candidate table is sorted fastest first. Its times are for a full run of all
   * N items, so they are a little larger than the plan's own prediction, which
   * leaves out the items already run while sampling. */
  size_t n_cands = amz_plan_candidate_count(plan);
  printf("\n== Candidates: %zu evaluated, top %d by predicted time (full run of N items)\n",
         n_cands, TOP_CANDIDATES);
  printf("  %4s %7s %-9s %8s %10s %9s %9s %9s %9s %9s\n", "rank", "workers", "schedule",
         "chunk", "predicted", "startup", "compute", "dispatch", "imbalance", "serial");
  for (size_t i = 0; i < n_cands && i < TOP_CANDIDATES; i++) {
    amz_candidate_t c;
    rc = amz_plan_candidate(plan, i, &c);
    if (rc != 0) {
      fprintf(stderr, "amz_plan_candidate(%zu): %s: %s\n", i, amz_error_name(rc),
              amz_last_error());
      amz_plan_destroy(plan);
      free(data.out);
      free(data.visits);
      return 1;
    }
    /* Static candidates carry chunk 0; the plan reports its block size instead. */
    int chosen = c.workers == amz_plan_workers(plan) && c.schedule == amz_plan_schedule(plan) &&
                 (c.schedule == AMZ_SCHED_STATIC || c.chunk == amz_plan_chunk(plan));
    printf("  %3zu%s %7d %-9s %8" PRIu64 " %10.6f %9.6f %9.6f %9.6f %9.6f %9.6f\n", i + 1,
           chosen ? "*" : " ", c.workers, amz_schedule_name(c.schedule), c.chunk,
           c.predicted_s, c.terms.startup, c.terms.compute, c.terms.dispatch,
           c.terms.imbalance, c.terms.serial);
  }
  printf("  (* = the chosen plan)\n");

  /* ---- The run -------------------------------------------------------------- */
  amz_result_t *res = NULL;
  rc = amz_run(plan, &res);
  if (rc != 0 && rc != AMZ_EITEMS) {
    fprintf(stderr, "amz_run: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_plan_destroy(plan);
    free(data.out);
    free(data.visits);
    return 1;
  }

  printf("\n== Result\n");
  printf("  wall seconds       %.6f\n", amz_result_seconds(res));
  printf("  predicted seconds  %.6f\n", amz_result_predicted_seconds(res));
  printf("  setup seconds      %.6f  (included because this is the plan's first run)\n",
         amz_result_setup_seconds(res));
  printf("  items done         %" PRIu64 "\n", amz_result_items_done(res));
  printf("  items failed       %" PRIu64 "\n", amz_result_items_failed(res));
  printf("  workers            %d\n", amz_result_workers(res));

  amz_terms_t measured;
  rc = amz_result_terms(res, &measured);
  if (rc != 0) {
    fprintf(stderr, "amz_result_terms: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_result_destroy(res);
    amz_plan_destroy(plan);
    free(data.out);
    free(data.visits);
    return 1;
  }
  /* The prediction of the run is the one the result carries; the plan's own terms
   * (read above) were for the same run. Measured terms are per-worker means, so they
   * add up to the wall time. */
  printf("\n== Terms, predicted vs measured (seconds)\n");
  printf("  %-10s %11s %11s %11s\n", "term", "predicted", "measured", "difference");
  const char *names[] = {"startup", "compute", "dispatch", "imbalance", "serial", "data", "total"};
  const double pv[] = {planned.startup, planned.compute,  planned.dispatch, planned.imbalance,
                       planned.serial,  planned.data,     planned.total};
  const double mv[] = {measured.startup, measured.compute, measured.dispatch, measured.imbalance,
                       measured.serial,  measured.data,    measured.total};
  for (int i = 0; i < 7; i++)
    printf("  %-10s %11.6f %11.6f %+11.6f\n", names[i], pv[i], mv[i], mv[i] - pv[i]);

  printf("\n== Workers\n");
  printf("  %6s %8s %7s %8s %9s %11s %9s\n", "worker", "items", "chunks", "failures",
         "busy_s", "dispatch_s", "idle_s");
  uint64_t worker_items = 0;
  for (int w = 0; w < amz_result_workers(res); w++) {
    amz_worker_stats_t s;
    rc = amz_result_worker(res, w, &s);
    if (rc != 0) {
      fprintf(stderr, "amz_result_worker(%d): %s: %s\n", w, amz_error_name(rc),
              amz_last_error());
      break;
    }
    worker_items += s.items;
    printf("  %6d %8" PRIu64 " %7" PRIu64 " %8" PRIu64 " %9.6f %11.6f %9.6f\n", w, s.items,
           s.chunks, s.failures, s.busy_s, s.dispatch_s, s.idle_s);
  }
  printf("  (per-worker items exclude the %" PRIu64 " sampled items)\n",
         amz_plan_sampled_items(plan));

  /* Records come ordered by worker, then time; sampling blocks ran before the run,
   * so their times are negative and they lead each worker's list. */
  size_t n_chunks = amz_result_chunk_count(res);
  size_t n_sampling = 0;
  for (size_t i = 0; i < n_chunks; i++) {
    amz_chunk_info_t c;
    if (amz_result_chunk(res, i, &c) == 0 && c.t_start < 0) n_sampling++;
  }
  printf("\n== Chunks: %zu recorded (%zu sampling blocks, %zu run chunks); first %d\n",
         n_chunks, n_sampling, n_chunks - n_sampling, SHOW_CHUNKS);
  printf("  %5s %8s %8s %6s %6s %11s %11s\n", "#", "begin", "end", "worker", "status",
         "t_start", "t_end");
  for (size_t i = 0; i < n_chunks && i < SHOW_CHUNKS; i++) {
    amz_chunk_info_t c;
    rc = amz_result_chunk(res, i, &c);
    if (rc != 0) {
      fprintf(stderr, "amz_result_chunk(%zu): %s: %s\n", i, amz_error_name(rc),
              amz_last_error());
      break;
    }
    printf("  %5zu %8" PRIu64 " %8" PRIu64 " %6d %6d %11.6f %11.6f\n", i, c.begin, c.end,
           c.worker, c.status, c.t_start, c.t_end);
  }

  size_t n_fail = amz_result_failure_count(res);
  printf("\n== Failures: %zu failed ranges\n", n_fail);
  for (size_t i = 0; i < n_fail; i++) {
    uint64_t b, e;
    int code;
    if (amz_result_failure(res, i, &b, &e, &code) == 0)
      printf("  [%" PRIu64 ", %" PRIu64 ") code %d\n", b, e, code);
  }

  /* A negative error means the run was faster than predicted. */
  double predicted = amz_result_predicted_seconds(res), wall = amz_result_seconds(res);
  double err = predicted > 0 ? 100.0 * (wall - predicted) / predicted : NAN;
  printf("\nprediction error: measured %.6f s vs predicted %.6f s: %+.1f%%\n", wall,
         predicted, err);

  /* ---- Checks --------------------------------------------------------------- */
  /* Each item must have run exactly once, sampled items included, and the counts the
   * library reports must agree with that and with each other. */
  uint64_t once = 0;
  for (uint64_t i = 0; i < n; i++) once += data.visits[i] == 1;
  int ok = rc == 0 && once == n && amz_result_items_done(res) == n &&
           amz_result_items_failed(res) == 0 &&
           worker_items + amz_plan_sampled_items(plan) == n &&
           amz_result_workers(res) == amz_plan_workers(plan);
  printf("check: %" PRIu64 " of %" PRIu64 " items ran exactly once; done %" PRIu64
         " + failed %" PRIu64 " = N; worker items %" PRIu64 " + sampled %" PRIu64 " = N\n",
         once, n, amz_result_items_done(res), amz_result_items_failed(res), worker_items,
         amz_plan_sampled_items(plan));

  amz_result_destroy(res);
  amz_plan_destroy(plan);
  free(data.out);
  free(data.visits);
  if (!ok) {
    fprintf(stderr, "01_diagnostics: FAILED: the counts above do not add up\n");
    return 1;
  }
  printf("01_diagnostics: OK\n");
  return 0;
}
