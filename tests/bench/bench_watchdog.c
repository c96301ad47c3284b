/*
 * What the watchdog costs when nothing is stuck.
 *
 *   bench_watchdog [--reps R] [--items N] [--item-us U]
 *
 * The same loop (N items of about U microseconds, 2 workers, fixed dynamic chunks of
 * 1, 16 and 256 items, then the plan's own choice) run with no timeout and with
 * AMZ_TIMEOUT=600 (every worker on a helper thread, the caller watching, each kernel
 * call published), alternating, R times each: medians, their ratio and the extra
 * cost per kernel call. One program, one kernel: the two contenders differ only in
 * the option. The table goes to stdout; docs/BENCHMARKS.md quotes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amorsize.h"
#include "bench_util.h"

static double item_us = 1.0;

static int spin(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  bench_spin_items(b, e, item_us);
  return 0;
}

/* One plan, its second run (all items, the sampled ones included); returns its
 * wall time and the kernel calls it made. */
static double one(uint64_t n, uint64_t chunk, int watched, uint64_t *calls) {
  amz_options_t *o = bench_quiet_options();
  amz_options_set_workers(o, 2);
  if (chunk) {
    amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC);
    amz_options_set_chunk(o, chunk);
  }
  if (watched) amz_options_set_timeout(o, 600, 0, AMZ_TIMEOUT_ERROR);
  amz_task_t t = {"bench-watchdog", n, spin, NULL};
  amz_plan_t *p = NULL;
  amz_result_t *r = NULL;
  int rc = amz_plan_create(&t, o, &p);
  if (rc == 0) rc = amz_run(p, &r);
  amz_result_destroy(r);
  r = NULL;
  if (rc == 0) rc = amz_run(p, &r);
  if (rc != 0) {
    fprintf(stderr, "bench_watchdog: %s: %s\n", amz_error_name(rc), amz_last_error());
    exit(1);
  }
  double s = amz_result_seconds(r);
  *calls = 0;
  amz_worker_stats_t w;
  for (int i = 0; amz_result_worker(r, i, &w) == 0; i++) *calls += w.chunks;
  amz_result_destroy(r);
  amz_plan_destroy(p);
  amz_options_destroy(o);
  return s;
}

int main(int argc, char **argv) {
  int reps = 5;
  uint64_t n = 1000000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--items") == 0 && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--item-us") == 0 && i + 1 < argc) item_us = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_watchdog [--reps R] [--items N] [--item-us U]\n");
      return 2;
    }
  }
  if (reps < 1 || reps > 64 || n < 1000) {
    fprintf(stderr, "bench_watchdog: reps in [1, 64], items >= 1000\n");
    return 2;
  }
  printf("Watchdog cost: %llu items of %.2f us, 2 workers, %d alternating reps, medians\n\n",
         (unsigned long long)n, item_us, reps);
  printf("%-6s %10s | %11s %11s %7s %13s\n", "chunk", "calls", "off", "600 s", "ratio",
         "per call");
  static const uint64_t chunks[] = {1, 16, 256, 0};
  for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
    double off[64], on[64];
    uint64_t calls = 0, calls_on = 0;
    for (int r = 0; r < reps; r++) {
      off[r] = one(n, chunks[c], 0, &calls);
      on[r] = one(n, chunks[c], 1, &calls_on);
    }
    double a = bench_median(off, reps), b = bench_median(on, reps);
    /* The extra time of the two workers, per kernel call. */
    double per = calls_on ? (b - a) * 2.0 / (double)calls_on * 1e9 : 0.0;
    char name[16];
    snprintf(name, sizeof name, chunks[c] ? "%llu" : "auto", (unsigned long long)chunks[c]);
    printf("%-6s %10llu | %10.4fs %10.4fs %7.3f %10.0f ns\n", name,
           (unsigned long long)calls_on, a, b, b / a, per);
  }
  printf("\n(calls: kernel calls of the watched run; per call: the extra run time times\n"
         " 2 workers over the calls. The run is a plan's second: every item, no sampling)\n");
  return 0;
}
