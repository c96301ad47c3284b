/*
 * Measures what the cost model needs from this machine, by running the real
 * executor on an empty kernel: per-chunk overhead of each dispatch kind, pool
 * fork-join, thread start, and amz_run's serial part. Results are cached per machine
 * fingerprint (host, CPU, binding, quota, library version) so repeated runs pay
 * nothing; a cache entry is a small "key value" text file validated on read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PROBE_REPEATS 5

static int empty_kernel(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

static void *thread_noop(void *arg) { return arg; }

/* Median over repeats of the per-chunk critical-path cost of a schedule with
 * 1-item chunks and an empty kernel, less the fork-join cost `fixed` (with several
 * workers the pool's wake-up is not a per-chunk cost). Also used by bench_dispatch. */
double amz__probe_chunk_cost(amz__pool_t *pool, amz_schedule_t kind, int workers, uint64_t n,
                             double fixed) {
  amz_task_t task = {"probe", n, empty_kernel, NULL};
  double v[PROBE_REPEATS];
  int k = 0;
  for (int r = 0; r < PROBE_REPEATS; r++) {
    amz__exec_params_t p = {.task = &task, .schedule = kind, .workers = workers, .chunk = 1,
                            .clock = &amz__real_clock, .pool = pool, .max_records = 4 * n};
    p.t_origin = amz__monotonic_now(NULL);
    amz__exec_out_t o;
    if (amz__execute(&p, &o) != 0) continue;
    /* Chunks on the critical path: the busiest worker's count. */
    uint64_t most = 1;
    for (int i = 0; i < o.workers; i++)
      if (o.w[i].chunks_total > most) most = o.w[i].chunks_total;
    double per = (o.parallel_s - fixed) / (double)most;
    v[k++] = per > 0 ? per : 0.0;
    amz__exec_out_free(&o);
  }
  return k ? amz__median(v, (size_t)k) : 0.0;
}

static int measure(const amz__topology_t *topo, amz__costs_t *c) {
  int P = topo->usable_cores < 1 ? 1 : topo->usable_cores;
  if (P > 64) P = 64;
  c->probe_workers = P;
  double v[PROBE_REPEATS];
  for (int r = 0; r < PROBE_REPEATS; r++) {
    pthread_t th;
    double t0 = amz__monotonic_now(NULL);
    if (pthread_create(&th, NULL, thread_noop, NULL) != 0)
      return amz__fail(AMZ_ESYS, "pthread_create failed while probing thread start");
    pthread_join(th, NULL);
    v[r] = amz__monotonic_now(NULL) - t0;
  }
  c->thread_start_s = amz__median(v, PROBE_REPEATS);

  amz__pool_t pool;
  int rc = amz__pool_init(&pool, P - 1);
  if (rc != 0) return rc;
  /* Fork-join of the pool: an empty job on all workers. */
  double wake[16];
  amz_task_t none = {"probe", 0, empty_kernel, NULL};
  for (int r = 0; r < 16; r++) {
    amz__exec_params_t p = {.task = &none, .schedule = AMZ_SCHED_STATIC, .workers = P,
                            .clock = &amz__real_clock, .pool = &pool};
    double t0 = amz__monotonic_now(NULL);
    p.t_origin = t0;
    amz__exec_out_t o;
    if (amz__execute(&p, &o) != 0) continue;
    wake[r] = o.parallel_s;
    amz__exec_out_free(&o);
  }
  c->pool_wake_s = P > 1 ? amz__median(wake, 16) : 0.0;
  /* The serial part: what a run costs outside the parallel region (allocation,
   * schedule tables, collecting records), timed on an empty single-worker run. */
  for (int r = 0; r < 16; r++) {
    amz__exec_params_t p = {.task = &none, .schedule = AMZ_SCHED_STATIC, .workers = 1,
                            .clock = &amz__real_clock, .pool = &pool};
    double t0 = amz__monotonic_now(NULL);
    p.t_origin = t0;
    amz__exec_out_t o;
    if (amz__execute(&p, &o) != 0) continue;
    amz__exec_out_free(&o);
    wake[r] = amz__monotonic_now(NULL) - t0;
  }
  c->run_serial_s = amz__median(wake, 16);

  c->chunk_static_s = amz__probe_chunk_cost(&pool, AMZ_SCHED_CYCLIC, 1, 20000, 0.0);
  c->chunk_atomic_s = amz__probe_chunk_cost(&pool, AMZ_SCHED_DYNAMIC, 1, 20000, 0.0);
  c->chunk_contended_s =
      P > 1 ? amz__probe_chunk_cost(&pool, AMZ_SCHED_DYNAMIC, P, 20000, c->pool_wake_s) : c->chunk_atomic_s;
  /* AWF hands out few, shrinking chunks, so timing it per chunk measures its fixed
   * costs. Its chunk is the shared counter (a compare-and-swap instead of a
   * fetch-and-add) plus the sizing arithmetic and reading every worker's rate: the
   * counter's measured cost plus a timed loop of that extra work. */
  amz__sched_t s;
  double extra = 0.0;
  if (amz__sched_init(&s, AMZ_SCHED_AWF, 1000000, P, 1) == 0) {
    _Atomic double rates[64];
    for (int i = 0; i < P; i++) atomic_store(&rates[i], 1.0 + i);
    volatile uint64_t sink = 0;
    const int reps = 20000;
    double t0 = amz__monotonic_now(NULL);
    for (int r = 0; r < reps; r++) {
      double sum = 0.0;
      for (int i = 0; i < P; i++) sum += atomic_load_explicit(&rates[i], memory_order_relaxed);
      sink += amz__sched_awf_size(&s, 1000000 - (uint64_t)r, (1.0 + r % P) * P / sum);
    }
    extra = (amz__monotonic_now(NULL) - t0) / reps;
    (void)sink;
    amz__sched_free(&s);
  }
  c->chunk_awf_s = c->chunk_contended_s + extra;
  amz__pool_destroy(&pool);
  return 0;
}

#define COST_FIELDS(XX)      \
  XX(thread_start_s)         \
  XX(pool_wake_s)            \
  XX(chunk_static_s)         \
  XX(chunk_atomic_s)         \
  XX(chunk_contended_s)      \
  XX(chunk_awf_s)            \
  XX(run_serial_s)

static int read_cache(const char *path, amz__costs_t *c) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char key[64];
  double val;
  int seen = 0, want = 0;
#define COUNT(f) want++;
  COST_FIELDS(COUNT)
#undef COUNT
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    if (sscanf(line, "%63s %lf", key, &val) != 2) continue;
    if (!(val >= 0.0 && val < 1.0)) continue; /* reject corrupt or absurd values */
#define MATCH(f)                       \
  if (strcmp(key, #f) == 0) {          \
    c->f = val;                        \
    seen++;                            \
  }
    COST_FIELDS(MATCH)
#undef MATCH
  }
  fclose(f);
  return seen == want ? 0 : -1;
}

static void write_cache(const char *dir, const char *path, const amz__costs_t *c) {
  char text[1024];
  int n = snprintf(text, sizeof text, "# amorsize %s measured machine costs, seconds\n",
                   AMZ_VERSION_STRING);
#define WRITE(fld) \
  n += snprintf(text + n, n < (int)sizeof text ? sizeof text - (size_t)n : 0, "%s %.9e\n", #fld, c->fld);
  COST_FIELDS(WRITE)
#undef WRITE
  if (n < (int)sizeof text) amz__cache_publish(dir, path, text); /* failure: no cache */
}

int amz__costs_probe(const amz__topology_t *topo, const char *cache_dir, amz__costs_t *out) {
  memset(out, 0, sizeof *out);
  if (cache_dir && cache_dir[0]) {
    snprintf(out->cache_path, sizeof out->cache_path, "%s/probe-%016" PRIx64 ".txt",
             cache_dir, amz__topology_fingerprint(topo));
    if (read_cache(out->cache_path, out) == 0) {
      out->from_cache = 1;
      out->probe_workers = topo->usable_cores;
      return 0;
    }
  }
  int rc = measure(topo, out);
  if (rc != 0) return rc;
  if (out->cache_path[0]) write_cache(cache_dir, out->cache_path, out);
  return 0;
}
