/*
 * Step 4 of the performance-analysis guide: live monitoring with hooks, the
 * "metrics dashboard" pattern.
 *
 * Hooks (amz_options_set_hooks) let a program watch a loop while it runs instead of
 * reading the result afterwards. This example installs all five:
 *
 *   on_plan_ready  prints the chosen plan (runs inside amz_plan_create);
 *   on_chunk_done  adds to per-worker counters: called on a worker thread after every
 *                  chunk, concurrently with other workers, so it only does relaxed
 *                  atomic additions on counters that sit on separate cache lines;
 *   on_progress    prints one dashboard line (percent, items/s, ETA, chunks per
 *                  worker) at most every 0.2 s (amz_options_set_progress_interval);
 *                  the library never runs it concurrently with itself;
 *   on_error       logs each failing range (the kernel fails on three items);
 *   on_finish      prints a summary (runs before amz_run returns).
 *
 * The dashboard is a struct of atomics written by the chunk hook and read by the
 * progress hook: no locks, no allocation, nothing on the hot path but a few adds.
 *
 * What the hooks see, and what the checks at the end verify:
 *   - Sampling (inside amz_plan_create) runs real items. Those items do not go
 *     through on_chunk_done or on_progress, but a kernel failure while sampling is
 *     reported through on_error during amz_plan_create.
 *   - On the plan's first run, the chunks cover the whole range [0, N); the sampled
 *     items inside a chunk are skipped, not run again, yet the chunk reported to
 *     on_chunk_done keeps its full [begin, end). So the ranges seen by on_chunk_done
 *     add up to N, while the items the run really executed (the progress hook's
 *     items_done, the kernel's own count) add up to N minus the sampled items.
 *   - on_error sees exactly the failed ranges the result lists.
 *
 * Build and run (from the repository root, after building the library in build/):
 *
 *   gcc -std=gnu11 -O2 -Wall -Wextra -I include -I build/include \
 *       examples/analysis/04_monitoring.c -o 04_monitoring \
 *       -L build -lamorsize -lm -Wl,-rpath,$PWD/build
 *   ./04_monitoring            # 300000 items, about 1 s of run on 2 cores
 *   ./04_monitoring --quick    # 20000 items, for tests
 *   ./04_monitoring 500000     # any number of items (at least 100)
 *
 * The program exits with 0 when every count above agrees and prints
 * "04_monitoring: OK" as its last line. The three failing items are expected: they
 * show the error hook at work and do not make the program fail.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize.h"

#define BASE_ITERS 1500u /* about 5 to 20 microseconds per item */
#define N_BAD 3          /* items on which the kernel fails */
#define MAX_WORKERS 64   /* dashboard slots; more workers share the last one */
#define MAX_ERRORS 64    /* error log capacity */

/* ------------------------------------------------------------------------- */
/* The loop                                                                  */
/* ------------------------------------------------------------------------- */

typedef struct loop_data {
  uint64_t n;
  uint64_t bad[N_BAD];          /* the items that fail, ascending */
  uint64_t *out;
  _Atomic uint64_t kernel_items; /* items the kernel executed, all phases */
} loop_data_t;

/* Irregular deterministic busy work: the cost of an item depends on a hash of its
 * index (1x to 4x), so no static split is exact. A range containing a bad item
 * returns a non-zero code, which marks the whole range [begin, end) failed. */
static int irregular_kernel(uint64_t begin, uint64_t end, void *arg) {
  loop_data_t *d = arg;
  int rc = 0;
  for (uint64_t i = begin; i < end; i++) {
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
    uint64_t iters = BASE_ITERS * (1 + ((x >> 40) & 3));
    for (uint64_t k = 0; k < iters; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    d->out[i] = x;
    for (int b = 0; b < N_BAD; b++)
      if (i == d->bad[b] && rc == 0) rc = 101 + b; /* codes 101, 102, 103 */
  }
  /* One relaxed add per call, not per item: a shared counter touched per item
   * would itself become the bottleneck this guide is about. */
  atomic_fetch_add_explicit(&d->kernel_items, end - begin, memory_order_relaxed);
  return rc;
}

/* ------------------------------------------------------------------------- */
/* The metrics dashboard: atomics written by hooks, read by the progress hook */
/* ------------------------------------------------------------------------- */

/* Each worker's counters on their own cache line, so that workers adding to their
 * own counters never invalidate each other's lines (false sharing). */
typedef struct worker_slot {
  _Alignas(64) _Atomic uint64_t chunks;
  _Atomic uint64_t range_items; /* sum of end - begin of the chunks reported */
} worker_slot_t;

typedef struct failed_range {
  uint64_t begin, end;
  int code, worker, while_sampling;
} failed_range_t;

typedef struct dashboard {
  worker_slot_t w[MAX_WORKERS];
  int workers;                     /* set by on_plan_ready, before any run starts */
  _Atomic int running;             /* 0 while planning (sampling), 1 during amz_run */
  _Atomic uint64_t errors;         /* on_error calls; also the next slot in `log` */
  failed_range_t log[MAX_ERRORS];
  /* Written only by on_progress, which the library never runs concurrently with
   * itself (and orders between threads), so plain fields are enough here. */
  uint64_t last_progress_done;
  int progress_lines;
  int plan_ready_calls, finish_calls; /* calling thread only */
} dashboard_t;

static void on_plan_ready(const amz_plan_t *plan, void *user) {
  dashboard_t *db = user;
  db->plan_ready_calls++;
  db->workers = amz_plan_workers(plan);
  printf("[plan]     %d workers, %s, chunk %" PRIu64 ", predicted %.3f s "
         "(speedup %.2f), %" PRIu64 " items already run while sampling\n",
         amz_plan_workers(plan), amz_schedule_name(amz_plan_schedule(plan)),
         amz_plan_chunk(plan), amz_plan_predicted_seconds(plan),
         amz_plan_predicted_speedup(plan), amz_plan_sampled_items(plan));
  fflush(stdout);
}

/* Hot path: runs after every chunk on the worker that ran it. Two relaxed adds to
 * the worker's own cache line; no lock, no I/O. Relaxed order suffices because
 * the counters are independent tallies: readers only need each value eventually,
 * and the end of the run (the pool's join) makes the final values visible. */
static void on_chunk_done(const amz_chunk_info_t *c, void *user) {
  dashboard_t *db = user;
  int w = c->worker < MAX_WORKERS ? c->worker : MAX_WORKERS - 1;
  atomic_fetch_add_explicit(&db->w[w].chunks, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&db->w[w].range_items, c->end - c->begin, memory_order_relaxed);
}

/* Called at most once per progress interval, plus once at the end of the run. */
static void on_progress(const amz_progress_t *p, void *user) {
  dashboard_t *db = user;
  db->last_progress_done = p->items_done;
  db->progress_lines++;
  double pct = p->items_total ? 100.0 * (double)p->items_done / (double)p->items_total : 100.0;
  char workers[256];
  size_t len = 0;
  workers[0] = '\0';
  int shown = db->workers < MAX_WORKERS ? db->workers : MAX_WORKERS;
  for (int w = 0; w < shown && len < sizeof workers - 32; w++)
    len += (size_t)snprintf(workers + len, sizeof workers - len, " w%d:%" PRIu64, w,
                            atomic_load_explicit(&db->w[w].chunks, memory_order_relaxed));
  printf("[progress] %6.2f s %5.1f%% %8.0f items/s  ETA %6.2f s | chunks%s | errors %" PRIu64
         "\n",
         p->elapsed_s, pct, p->items_per_s, p->items_done < p->items_total ? p->eta_s : 0.0,
         workers, atomic_load_explicit(&db->errors, memory_order_relaxed));
  fflush(stdout);
}

/* Runs on worker threads, concurrently: claim a log slot with one atomic add, then
 * fill the slot, which no other thread touches. Printing here is acceptable only
 * because failures are rare; a hook for frequent events should not do I/O. */
static void on_error(uint64_t begin, uint64_t end, int code, int worker, void *user) {
  dashboard_t *db = user;
  int sampling = !atomic_load_explicit(&db->running, memory_order_relaxed);
  uint64_t slot = atomic_fetch_add_explicit(&db->errors, 1, memory_order_relaxed);
  if (slot < MAX_ERRORS)
    db->log[slot] = (failed_range_t){begin, end, code, worker, sampling};
  printf("[error]    items [%" PRIu64 ", %" PRIu64 ") failed with code %d on worker %d%s\n",
         begin, end, code, worker, sampling ? " (while sampling)" : "");
  fflush(stdout);
}

static void on_finish(const amz_result_t *res, void *user) {
  dashboard_t *db = user;
  db->finish_calls++;
  printf("[finish]   %.3f s (predicted %.3f s), %" PRIu64 " items done, %" PRIu64
         " failed in %zu ranges, %d workers\n",
         amz_result_seconds(res), amz_result_predicted_seconds(res),
         amz_result_items_done(res), amz_result_items_failed(res),
         amz_result_failure_count(res), amz_result_workers(res));
  fflush(stdout);
}

/* ------------------------------------------------------------------------- */
/* Checks                                                                    */
/* ------------------------------------------------------------------------- */

static int cmp_failed(const void *a, const void *b) {
  const failed_range_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

/* The hook's error log and the result's failure list must be the same ranges with
 * the same codes; both are compared in ascending order of begin. */
static int errors_match(dashboard_t *db, const amz_result_t *res) {
  uint64_t n_log = atomic_load(&db->errors);
  size_t n_res = amz_result_failure_count(res);
  if (n_log > MAX_ERRORS || n_log != n_res) return 0;
  qsort(db->log, (size_t)n_log, sizeof db->log[0], cmp_failed);
  for (size_t i = 0; i < n_res; i++) {
    uint64_t b, e;
    int code;
    if (amz_result_failure(res, i, &b, &e, &code) != 0) {
      fprintf(stderr, "amz_result_failure(%zu): %s\n", i, amz_last_error());
      return 0;
    }
    if (db->log[i].begin != b || db->log[i].end != e || db->log[i].code != code) return 0;
  }
  return 1;
}

/* Every bad item must lie in a failed range, and every failed range must hold one. */
static int failures_cover_bad_items(const loop_data_t *d, const amz_result_t *res) {
  size_t n_res = amz_result_failure_count(res);
  for (int k = 0; k < N_BAD; k++) {
    int found = 0;
    for (size_t i = 0; i < n_res; i++) {
      uint64_t b, e;
      if (amz_result_failure(res, i, &b, &e, NULL) == 0 && b <= d->bad[k] && d->bad[k] < e)
        found = 1;
    }
    if (!found) return 0;
  }
  for (size_t i = 0; i < n_res; i++) {
    uint64_t b, e;
    int holds = 0;
    if (amz_result_failure(res, i, &b, &e, NULL) != 0) return 0;
    for (int k = 0; k < N_BAD; k++) holds |= b <= d->bad[k] && d->bad[k] < e;
    if (!holds) return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  uint64_t n = 300000;
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    n = 20000;
  } else if (argc > 1) {
    char *end = NULL;
    n = strtoull(argv[1], &end, 10);
    if (!end || *end != '\0' || argv[1][0] == '-' || n < 100) {
      fprintf(stderr, "usage: %s [--quick | ITEMS >= 100]\n", argv[0]);
      return 2;
    }
  }

  static dashboard_t db; /* static: large, and zero-initialized */
  static loop_data_t data;
  data.n = n;
  data.bad[0] = n / 5 + 7;
  data.bad[1] = n / 2 + 3;
  data.bad[2] = 4 * n / 5 + 11;
  data.out = calloc(n, sizeof *data.out);
  if (!data.out) {
    fprintf(stderr, "04_monitoring: cannot allocate %" PRIu64 " items\n", n);
    return 1;
  }

  amz_hooks_t hooks = {.on_plan_ready = on_plan_ready,
                       .on_chunk_done = on_chunk_done,
                       .on_progress = on_progress,
                       .on_finish = on_finish,
                       .on_error = on_error};
  amz_options_t *opts = NULL;
  int rc = amz_options_create(&opts);
  if (rc == 0) rc = amz_options_set_hooks(opts, &hooks, &db);
  if (rc == 0) rc = amz_options_set_progress_interval(opts, 0.2);
  /* Progress is reported when a chunk ends, so a dashboard is only as live as the
   * chunks are short. Left to itself the planner may pick static (one chunk per
   * worker: nothing to show until the end) or guided (half the loop in the first
   * chunks), all within 2% of each other here. Dynamic chunks of N/256 items cost
   * nothing measurable and give a steady stream of updates. The environment must
   * not undo this, hence use_env 0. */
  if (rc == 0) rc = amz_options_set_use_env(opts, 0);
  if (rc == 0) rc = amz_options_set_schedule(opts, AMZ_SCHED_DYNAMIC);
  if (rc == 0) rc = amz_options_set_chunk(opts, n / 256 > 0 ? n / 256 : 1);
  /* Our dashboard replaces the library's own progress line on stderr. */
  if (rc == 0) rc = amz_options_set_progress_line(opts, AMZ_PROGRESS_OFF);
  if (rc != 0) {
    fprintf(stderr, "options: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_options_destroy(opts);
    free(data.out);
    return 1;
  }

  printf("== Monitoring '%s': %" PRIu64 " items, kernel fails on items %" PRIu64 ", %" PRIu64
         ", %" PRIu64 "\n",
         "irregular", n, data.bad[0], data.bad[1], data.bad[2]);
  fflush(stdout);
  amz_task_t task = {"irregular", n, irregular_kernel, &data};
  amz_plan_t *plan = NULL;
  rc = amz_plan_create(&task, opts, &plan); /* samples, then calls on_plan_ready */
  amz_options_destroy(opts);
  if (rc != 0) {
    fprintf(stderr, "amz_plan_create: %s: %s\n", amz_error_name(rc), amz_last_error());
    free(data.out);
    return 1;
  }
  /* Whatever the kernel ran so far, it ran while sampling. */
  uint64_t kernel_sampling = atomic_load(&data.kernel_items);
  uint64_t errors_sampling = atomic_load(&db.errors);
  atomic_store(&db.running, 1);

  amz_result_t *res = NULL;
  rc = amz_run(plan, &res); /* hooks: chunk done, progress, error, then finish */
  /* AMZ_EITEMS is expected: the kernel fails on purpose and the result lists it. */
  if (rc != 0 && rc != AMZ_EITEMS) {
    fprintf(stderr, "amz_run: %s: %s\n", amz_error_name(rc), amz_last_error());
    amz_result_destroy(res);
    amz_plan_destroy(plan);
    free(data.out);
    return 1;
  }
  if (rc == AMZ_EITEMS) printf("amz_run returned AMZ_EITEMS: %s\n", amz_last_error());

  /* ---- Checks: what the hooks counted against what the result says ---------- */
  uint64_t sampled = amz_plan_sampled_items(plan);
  uint64_t done = amz_result_items_done(res), failed = amz_result_items_failed(res);
  uint64_t kernel_run = atomic_load(&data.kernel_items) - kernel_sampling;
  uint64_t hook_ranges = 0, hook_chunks = 0, result_items = 0;
  int chunks_agree = 1;
  printf("\n== Per worker: hook counts vs result\n");
  printf("  %6s %12s %17s %14s %13s\n", "worker", "hook chunks", "hook range items",
         "result chunks", "result items");
  for (int w = 0; w < amz_result_workers(res); w++) {
    amz_worker_stats_t s;
    if (amz_result_worker(res, w, &s) != 0) {
      fprintf(stderr, "amz_result_worker(%d): %s\n", w, amz_last_error());
      chunks_agree = 0;
      break;
    }
    uint64_t hc = atomic_load(&db.w[w < MAX_WORKERS ? w : MAX_WORKERS - 1].chunks);
    uint64_t hr = atomic_load(&db.w[w < MAX_WORKERS ? w : MAX_WORKERS - 1].range_items);
    printf("  %6d %12" PRIu64 " %17" PRIu64 " %14" PRIu64 " %13" PRIu64 "\n", w, hc, hr,
           s.chunks, s.items);
    if (w < MAX_WORKERS - 1 && hc != s.chunks) chunks_agree = 0;
    result_items += s.items;
  }
  for (int w = 0; w < MAX_WORKERS; w++) {
    hook_chunks += atomic_load(&db.w[w].chunks);
    hook_ranges += atomic_load(&db.w[w].range_items);
  }

  printf("\n== Checks\n");
  printf("  items done %" PRIu64 " + failed %" PRIu64 " = %" PRIu64 " (N = %" PRIu64 ")\n", done,
         failed, done + failed, n);
  printf("  sampled while planning: %" PRIu64 " items (kernel counted %" PRIu64
         "), %" PRIu64 " on_error calls\n",
         sampled, kernel_sampling, errors_sampling);
  printf("  on_chunk_done: %" PRIu64 " chunks covering %" PRIu64
         " items (= N: sampled items inside chunks are skipped, not re-run)\n",
         hook_chunks, hook_ranges);
  printf("  run executed: progress hook %" PRIu64 ", kernel %" PRIu64 ", workers %" PRIu64
         "; + sampled %" PRIu64 " = %" PRIu64 "\n",
         db.last_progress_done, kernel_run, result_items, sampled,
         db.last_progress_done + sampled);
  int errs_ok = errors_match(&db, res) && failures_cover_bad_items(&data, res);
  printf("  on_error: %" PRIu64 " ranges; result: %zu failed ranges; %s\n",
         atomic_load(&db.errors), amz_result_failure_count(res),
         errs_ok ? "identical, each holding a bad item" : "MISMATCH");
  printf("  hook calls: on_plan_ready %d, on_progress %d, on_finish %d\n", db.plan_ready_calls,
         db.progress_lines, db.finish_calls);

  int ok = done + failed == n && failed > 0 && kernel_sampling == sampled &&
           hook_ranges == done + failed && chunks_agree &&
           db.last_progress_done + sampled == done + failed &&
           kernel_run + sampled == done + failed && result_items == kernel_run && errs_ok &&
           rc == AMZ_EITEMS && db.plan_ready_calls == 1 && db.finish_calls == 1 &&
           db.progress_lines >= 1;
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  free(data.out);
  if (!ok) {
    fprintf(stderr, "04_monitoring: FAILED: the hook counts and the result disagree\n");
    return 1;
  }
  printf("04_monitoring: OK\n");
  return 0;
}
