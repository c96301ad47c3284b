/*
 * Per-chunk cost of the executor's hot path (hand-out + two clock reads + record)
 * with an empty kernel and fixed-size chunks (pre-assigned and shared counter), on
 * 1 worker and on all usable cores.
 *
 *   bench_dispatch [chunks]        wall-clock ns per chunk (median of 5)
 *
 * Under valgrind the instruction count is repeatable: scripts/callgrind_dispatch.sh
 * runs `bench_dispatch --once SCHED CHUNKS` for two chunk counts and divides the
 * difference, which cancels every fixed cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int empty(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

/* One run of n 1-item chunks (the callgrind mode: counted once, no median). */
static void run_once(amz__pool_t *pool, amz_schedule_t s, uint64_t n) {
  amz_task_t t = {"dispatch", n, empty, NULL};
  amz__exec_params_t p = {.task = &t, .schedule = s, .workers = 1, .chunk = 1,
                          .clock = &amz__real_clock, .pool = pool, .max_records = 2 * n};
  p.t_origin = amz__monotonic_now(NULL);
  amz__exec_out_t o;
  if (amz__execute(&p, &o) == 0) amz__exec_out_free(&o);
}

int main(int argc, char **argv) {
  amz__pool_t pool;
  if (argc == 4 && strcmp(argv[1], "--once") == 0) {
    amz_schedule_t s;
    if (amz_schedule_parse(argv[2], &s) != 0) {
      fprintf(stderr, "%s\n", amz_last_error());
      return 2;
    }
    amz__pool_init(&pool, 0);
    run_once(&pool, s == AMZ_SCHED_STATIC ? AMZ_SCHED_CYCLIC : s, strtoull(argv[3], NULL, 10));
    amz__pool_destroy(&pool);
    return 0;
  }
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
  amz__topology_t topo;
  int P = amz__topology_probe(&topo) == 0 ? topo.usable_cores : 1;
  amz__pool_init(&pool, P - 1);
  printf("amorsize %s bench_dispatch: %llu chunks of 1 item, empty kernel, median of 5\n\n",
         amz_version_string(), (unsigned long long)n);
  printf("%-10s %14s %14s\n", "schedule", "1 worker", "all workers");
  for (int s = AMZ_SCHED_CYCLIC; s <= AMZ_SCHED_DYNAMIC; s++) {
    /* The probe's own measurement (median of 5), with the fork-join left in. */
    double one = amz__probe_chunk_cost(&pool, (amz_schedule_t)s, 1, n, 0.0);
    double all = amz__probe_chunk_cost(&pool, (amz_schedule_t)s, P, n, 0.0);
    printf("%-10s %11.1f ns %11.1f ns\n", amz_schedule_name((amz_schedule_t)s),
           1e9 * one, 1e9 * all);
  }
  printf("\n(%d workers; cyclic stands for the pre-assigned schedules, static having one\n"
         "chunk per worker; guided and factoring hand out chunks with the same fetch-and-add\n"
         "as dynamic, only fewer of them; AWF's shrinking chunks have no fixed-size form)\n", P);
  amz__pool_destroy(&pool);
  return 0;
}
