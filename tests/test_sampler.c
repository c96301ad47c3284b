/*
 * The sampler (sampler.c) with a real thread pool and a recording kernel. Sampled
 * items are real work that the first run skips, so the sampler must execute each
 * sampled item exactly once and report exactly what it executed. Costs are
 * synthetic: the kernel advances a fake clock by the cost of its items, which makes
 * one-worker runs deterministic and lets us check the statistics exactly.
 */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

typedef struct call {
  uint64_t begin, end;
  int rc;
} call_t;

/* What the kernel does and records. Cost of item i: c0 (1 + a i / n), times a
 * pseudo-random factor in [0.1, 1.9) when noisy. Ranges overlapping
 * [fail_begin, fail_end) fail with code 100 + begin % 7. */
typedef struct kstate {
  uint64_t n;
  double c0, a;
  int noisy;
  int rare;  /* 1: one item in 100 (at hashed places) costs 100x */
  uint64_t salt; /* moves the rare items' places */
  uint64_t fail_begin, fail_end;
  amz_fake_clock_t *clock;
  _Atomic unsigned *count;
  pthread_mutex_t mu;
  call_t *calls;
  size_t n_calls, cap_calls;
  _Atomic int on_error_calls;
} kstate_t;

static double hash01(uint64_t i) {
  uint64_t z = i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

static double item_cost(const kstate_t *k, uint64_t i) {
  double c = k->c0 * (1.0 + k->a * (double)i / (double)k->n);
  if (k->rare && hash01(i ^ 0x51ed270b27d1ee3fULL ^ k->salt) < 0.01) c *= 100.0;
  return k->noisy ? c * (0.1 + 1.8 * hash01(i)) : c;
}

static int kernel(uint64_t begin, uint64_t end, void *arg) {
  kstate_t *k = arg;
  double cost = 0.0;
  for (uint64_t i = begin; i < end; i++) {
    if (i < k->n) atomic_fetch_add(&k->count[i], 1u);
    cost += item_cost(k, i);
  }
  if (k->clock) amz_fake_advance(k->clock, cost);
  int rc = (begin < k->fail_end && end > k->fail_begin) ? 100 + (int)(begin % 7) : 0;
  pthread_mutex_lock(&k->mu);
  if (k->n_calls < k->cap_calls) k->calls[k->n_calls] = (call_t){begin, end, rc};
  k->n_calls++;
  pthread_mutex_unlock(&k->mu);
  return rc;
}

static void on_error(uint64_t begin, uint64_t end, int code, int worker, void *user) {
  (void)begin;
  (void)end;
  (void)code;
  (void)worker;
  kstate_t *k = user;
  atomic_fetch_add(&k->on_error_calls, 1);
}

static void kstate_init(kstate_t *k, uint64_t n, double c0, double a, amz_fake_clock_t *clock) {
  memset(k, 0, sizeof *k);
  k->n = n;
  k->c0 = c0;
  k->a = a;
  k->clock = clock;
  k->count = calloc(n ? n : 1, sizeof *k->count);
  /* Every call executes at least one item, so n calls at most (plus one for n = 0
   * so that a call that should not happen is still seen); sampling makes far fewer
   * calls than 65536 on the sizes used here. */
  k->cap_calls = n + 1 < 65536 ? n + 1 : 65536;
  k->calls = calloc(k->cap_calls, sizeof *k->calls);
  pthread_mutex_init(&k->mu, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(k->count);
  CU_ASSERT_PTR_NOT_NULL_FATAL(k->calls);
}

static void kstate_free(kstate_t *k) {
  free((void *)k->count);
  free(k->calls);
  pthread_mutex_destroy(&k->mu);
}

/* Everything amz__sample returns, so that each test frees it the same way. */
typedef struct sample_out {
  int rc;
  amz__workload_t wl;
  amz__rangeset_t done, failed;
  amz__chunk_rec_t *recs;
  int *rec_workers;
  size_t n_recs;
} sample_out_t;

/* The linger hook run_sampler passes (none unless a test sets it). */
static int (*g_linger)(void *ctx);
static void *g_linger_ctx;

static void run_sampler(kstate_t *k, int workers, double max_seconds, double rel_error,
                        const amz__clock_t *clock, sample_out_t *o) {
  memset(o, 0, sizeof *o);
  amz__pool_t pool;
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&pool, workers - 1), 0);
  amz_task_t task = {"sampler test", k->n, kernel, k};
  amz_hooks_t hooks = {.on_error = on_error};
  amz__sampler_params_t p = {.task = &task,
                             .workers = workers,
                             .max_seconds = max_seconds,
                             .rel_error = rel_error,
                             .clock = clock,
                             .pool = &pool,
                             .hooks = &hooks,
                             .hooks_user = k,
                             .linger = g_linger,
                             .linger_ctx = g_linger_ctx};
  o->rc = amz__sample(&p, &o->wl, &o->done, &o->failed, &o->recs, &o->n_recs, &o->rec_workers);
  amz__pool_destroy(&pool);
}

static void sample_out_free(sample_out_t *o) {
  amz__rangeset_free(&o->done);
  amz__rangeset_free(&o->failed);
  free(o->recs);
  free(o->rec_workers);
}

static int cmp_call(const void *a, const void *b) {
  const call_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

static int cmp_rec(const void *a, const void *b) {
  const amz__chunk_rec_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

static uint64_t longest_range(const amz__rangeset_t *s) {
  uint64_t m = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].end - s->v[i].begin > m) m = s->v[i].end - s->v[i].begin;
  return m;
}

/* The exactly-once contract: the kernel calls, the executed items, `done`, `failed`
 * and the chunk records all describe the same set of disjoint ranges. */
static void check_exactly_once(kstate_t *k, const sample_out_t *o, int workers) {
  const amz__rangeset_t *d = &o->done;
  CU_ASSERT_EQUAL_FATAL(o->rc, 0);
  /* done: sorted, disjoint, non-empty ranges inside [0, n). */
  for (size_t i = 0; i < d->n; i++) {
    CU_ASSERT(d->v[i].begin < d->v[i].end);
    CU_ASSERT(d->v[i].end <= k->n);
    if (i > 0) CU_ASSERT(d->v[i - 1].end <= d->v[i].begin);
  }
  /* Items executed once inside done, never outside. */
  size_t r = 0;
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < k->n; i++) {
    while (r < d->n && d->v[r].end <= i) r++;
    unsigned want = (r < d->n && d->v[r].begin <= i) ? 1u : 0u;
    if (atomic_load(&k->count[i]) != want) wrong++;
  }
  CU_ASSERT_EQUAL(wrong, 0);
  /* One kernel call per done range, with the same bounds. */
  CU_ASSERT_FATAL(k->n_calls <= k->cap_calls);
  CU_ASSERT_EQUAL_FATAL(k->n_calls, d->n);
  qsort(k->calls, k->n_calls, sizeof *k->calls, cmp_call);
  size_t n_failed_calls = 0;
  for (size_t i = 0; i < d->n; i++) {
    CU_ASSERT_EQUAL(k->calls[i].begin, d->v[i].begin);
    CU_ASSERT_EQUAL(k->calls[i].end, d->v[i].end);
    n_failed_calls += k->calls[i].rc != 0;
  }
  /* failed: exactly the calls that returned non-zero, with their codes. */
  CU_ASSERT_EQUAL_FATAL(o->failed.n, n_failed_calls);
  for (size_t i = 0, f = 0; i < d->n; i++) {
    if (k->calls[i].rc == 0) continue;
    CU_ASSERT_EQUAL(o->failed.v[f].begin, k->calls[i].begin);
    CU_ASSERT_EQUAL(o->failed.v[f].end, k->calls[i].end);
    CU_ASSERT_EQUAL(o->failed.v[f].code, k->calls[i].rc);
    f++;
  }
  CU_ASSERT_EQUAL(atomic_load(&k->on_error_calls), (int)n_failed_calls);
  /* One chunk record per block, with the kernel's status and sane times: relative
   * to the end of sampling, so never positive. */
  CU_ASSERT_EQUAL_FATAL(o->n_recs, d->n);
  for (size_t i = 0; i < o->n_recs; i++) {
    CU_ASSERT(o->rec_workers[i] >= 0 && o->rec_workers[i] < workers);
    CU_ASSERT(o->recs[i].t_start <= o->recs[i].t_end);
    CU_ASSERT(o->recs[i].t_end <= 0.0);
  }
  amz__chunk_rec_t *sorted = malloc((o->n_recs ? o->n_recs : 1) * sizeof *sorted);
  CU_ASSERT_PTR_NOT_NULL_FATAL(sorted);
  if (o->n_recs) memcpy(sorted, o->recs, o->n_recs * sizeof *sorted);
  qsort(sorted, o->n_recs, sizeof *sorted, cmp_rec);
  for (size_t i = 0; i < o->n_recs; i++) {
    CU_ASSERT_EQUAL(sorted[i].begin, d->v[i].begin);
    CU_ASSERT_EQUAL(sorted[i].end, d->v[i].end);
    CU_ASSERT_EQUAL(sorted[i].status, k->calls[i].rc);
  }
  free(sorted);
  /* The workload counts what was sampled. */
  CU_ASSERT_EQUAL(o->wl.n_items, k->n);
  CU_ASSERT_EQUAL(o->wl.sampled_items, amz__rangeset_items(d));
  CU_ASSERT_EQUAL(o->wl.sampled_blocks, d->n);
}

/* At most 10% of the items, overshooting by less than one block. */
static void check_fraction(const kstate_t *k, const sample_out_t *o) {
  uint64_t limit = (uint64_t)((double)k->n * 0.10);
  if (limit < 1) limit = k->n < 1 ? 0 : 1;
  uint64_t items = amz__rangeset_items(&o->done);
  if (items > limit + longest_range(&o->done))
    fprintf(stderr, "\n  sampled %llu of %llu items, limit %llu + block %llu",
            (unsigned long long)items, (unsigned long long)k->n, (unsigned long long)limit,
            (unsigned long long)longest_range(&o->done));
  CU_ASSERT(items <= limit + longest_range(&o->done));
}

/* Samples cover the whole range: every quarter holds a block, and the first blocks
 * taken after calibration already reach both the first and the last quarter. */
static void check_spread(const kstate_t *k, const sample_out_t *o) {
  int quarter[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < o->done.n; i++) {
    uint64_t mid = o->done.v[i].begin + (o->done.v[i].end - o->done.v[i].begin) / 2;
    quarter[mid * 4 / k->n]++;
  }
  for (int q = 0; q < 4; q++) CU_ASSERT(quarter[q] > 0);
  int first = 0, last = 0;
  size_t upto = o->n_recs < 12 ? o->n_recs : 12;
  for (size_t i = 0; i < upto; i++) {
    first |= o->recs[i].end <= k->n / 4;
    last |= o->recs[i].begin >= k->n - k->n / 4;
  }
  CU_ASSERT_TRUE(first);
  CU_ASSERT_TRUE(last);
}

/* Exact mean cost of the sampled items, from the synthetic cost function. */
static double sampled_mean(const kstate_t *k, const amz__rangeset_t *d) {
  double sum = 0.0;
  uint64_t items = 0;
  for (size_t r = 0; r < d->n; r++)
    for (uint64_t i = d->v[r].begin; i < d->v[r].end; i++) {
      sum += item_cost(k, i);
      items++;
    }
  return items ? sum / (double)items : 0.0;
}

static void test_uniform_cost_one_worker_is_exact(void) {
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 100000, 1e-6, 0.0, &fc);
  sample_out_t o;
  run_sampler(&k, 1, 10.0, 0.03, &clk, &o);
  check_exactly_once(&k, &o, 1);
  check_fraction(&k, &o);
  check_spread(&k, &o);
  /* With one worker the fake clock sees only the kernel's own cost. */
  CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, 1e-6, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(o.wl.median_s, 1e-6, 1e-15);
  CU_ASSERT(fabs(o.wl.trend) < 1e-6);
  CU_ASSERT(o.wl.cv < 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(o.wl.contention, 1.0, 0.0);
  /* The blocks grew until one took at least 20 us (the calibration target). */
  CU_ASSERT(longest_range(&o.done) >= 20);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, "error target reached");
  /* Sampling time is the fake time the kernel spent. */
  CU_ASSERT_DOUBLE_EQUAL(o.wl.sample_wall_s, 1e-6 * (double)amz__rangeset_items(&o.done), 1e-12);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_ramp_one_worker_detects_the_trend(void) {
  /* Cost rising from 1 to 4 us over the index: the sampler's mean must be the exact
   * mean of what it sampled, the trend near 3 / 2.5 = 1.2, and the second half
   * about 1.625 / 0.875 times costlier than the first. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 200000, 1e-6, 3.0, &fc);
  sample_out_t o;
  run_sampler(&k, 1, 10.0, 0.03, &clk, &o);
  check_exactly_once(&k, &o, 1);
  check_fraction(&k, &o);
  check_spread(&k, &o);
  CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, sampled_mean(&k, &o.done), 1e-9 * o.wl.mean_s);
  CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, 2.5e-6, 0.1 * 2.5e-6);
  CU_ASSERT_DOUBLE_EQUAL(o.wl.trend, 1.2, 0.15 * 1.2);
  double first = amz__workload_range_cost(&o.wl, 0, k.n / 2);
  double second = amz__workload_range_cost(&o.wl, k.n / 2, k.n);
  CU_ASSERT_DOUBLE_EQUAL(second / first, 1.625 / 0.875, 0.1 * 1.625 / 0.875);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_two_workers_execute_each_sampled_item_once(void) {
  /* Two workers share the fake clock, so timings mix; the structure must not. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 100000, 1e-6, 1.0, &fc);
  sample_out_t o;
  run_sampler(&k, 2, 10.0, 0.03, &clk, &o);
  check_exactly_once(&k, &o, 2);
  check_fraction(&k, &o);
  check_spread(&k, &o);
  CU_ASSERT_EQUAL(o.wl.contention_workers, 2);
  CU_ASSERT(o.wl.contention >= 1.0);
  CU_ASSERT(o.wl.mean_s > 0.0);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_two_workers_with_the_real_clock(void) {
  /* The real clock and a kernel that costs almost nothing: the sampler stops on its
   * own criteria (error, fraction or a 50 ms budget); only structure is checked. */
  kstate_t k;
  kstate_init(&k, 50000, 0.0, 0.0, NULL);
  sample_out_t o;
  run_sampler(&k, 2, 0.05, 0.03, &amz__real_clock, &o);
  check_exactly_once(&k, &o, 2);
  check_fraction(&k, &o);
  sample_out_free(&o);
  kstate_free(&k);
}

/* No barrier between blocks: a helper's block that lasts while the calling thread
 * runs 600 blocks of its own must not stop the calling thread. The helper's first
 * block after the first 40 calls (the calibration and the contention pairs, which
 * do end on barriers, make fewer) waits until the caller has run 600 more, or 2 s.
 * Rounds ending on a barrier (at most 256 blocks per worker) would hold the caller
 * before that, and the helper would wait out its 2 s. An error target that cannot
 * be met keeps the sampler going to its 10% (10000 blocks of about 20 us). */
typedef struct held {
  pthread_t caller;
  _Atomic unsigned calls, caller_calls;
  _Atomic int holding, released, timed_out;
  double limit_s;
} held_t;

static void spin_us(double us) {
  double t0 = amz__monotonic_now(NULL);
  while ((amz__monotonic_now(NULL) - t0) * 1e6 < us) {}
}

static int held_kernel(uint64_t b, uint64_t e, void *arg) {
  held_t *h = arg;
  unsigned n = atomic_fetch_add(&h->calls, 1);
  if (pthread_equal(pthread_self(), h->caller)) {
    atomic_fetch_add(&h->caller_calls, 1);
  } else if (n >= 40 && !atomic_exchange(&h->holding, 1)) {
    unsigned start = atomic_load(&h->caller_calls);
    double t0 = amz__monotonic_now(NULL);
    while (atomic_load(&h->caller_calls) < start + 600) {
      if (amz__monotonic_now(NULL) - t0 > h->limit_s) {
        atomic_store(&h->timed_out, 1);
        break;
      }
      sched_yield();
    }
    if (!atomic_load(&h->timed_out)) atomic_store(&h->released, 1);
  }
  spin_us(20.0 * (double)(e - b));
  return 0;
}

static void test_no_barrier_between_blocks(void) {
  /* Valgrind runs one thread at a time and hands the mutex to whoever runs: which
   * thread gets which block says nothing there. The memcheck run covers the same
   * code in the other tests. */
  if (getenv("AMZ_MEMCHECK")) {
    fprintf(stderr, "\n  skipped under valgrind: a test of thread scheduling");
    return;
  }
  held_t h = {.caller = pthread_self(), .limit_s = 2.0};
  amz__pool_t pool;
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&pool, 1), 0);
  amz_task_t task = {"held", 100000, held_kernel, &h};
  amz__sampler_params_t p = {.task = &task, .workers = 2, .max_seconds = 3.0 * h.limit_s,
                             .rel_error = 1e-9, .clock = &amz__real_clock, .pool = &pool};
  sample_out_t o;
  memset(&o, 0, sizeof o);
  o.rc = amz__sample(&p, &o.wl, &o.done, &o.failed, &o.recs, &o.n_recs, &o.rec_workers);
  amz__pool_destroy(&pool);
  CU_ASSERT_EQUAL(o.rc, 0);
  CU_ASSERT_EQUAL(atomic_load(&h.holding), 1);
  CU_ASSERT_EQUAL(atomic_load(&h.released), 1);
  CU_ASSERT_EQUAL(atomic_load(&h.timed_out), 0);
  if (atomic_load(&h.timed_out))
    fprintf(stderr, "\n  the caller ran no 600 blocks while a helper held one (%u calls)",
            atomic_load(&h.calls));
  sample_out_free(&o);
}

/* A kernel whose work runs on a thread of its own while the caller waits at the
 * join (what an OpenMP or BLAS call looks like from the calling thread, whose own CPU
 * time is then near 0). The sampler sees the process's CPU on blocks that ran alone:
 * a kernel that keeps a core busy, not one that waits (the planner would otherwise
 * run up to 32 threads per core). */
static void *spin_helper(void *arg) {
  double until = *(const double *)arg;
  volatile double x = 0;
  while (amz__monotonic_now(NULL) < until) x += 1.0;
  return NULL;
}

static int own_thread_kernel(uint64_t begin, uint64_t end, void *arg) {
  (void)arg;
  for (uint64_t i = begin; i < end; i++) {
    double until = amz__monotonic_now(NULL) + 1e-3;
    pthread_t th;
    if (pthread_create(&th, NULL, spin_helper, &until) != 0) return 1;
    pthread_join(th, NULL);
  }
  return 0;
}

static void test_a_kernel_with_its_own_threads_is_not_waiting(void) {
  /* On a loaded machine the helper threads get a fraction of a core, and the kernel
   * does look as if it waits: check only when they get most of one. Valgrind runs
   * one thread at a time, so the kernel's threads cannot run beside the workers. */
  if (getenv("AMZ_MEMCHECK")) {
    printf("\n  not checked under valgrind: it runs one thread at a time\n");
    return;
  }
  /* The check needs the machine to itself while it samples: another process taking
   * the helper's core halfway through makes the kernel look as if it waited. Up to
   * three tries, each measuring the reference again. */
  double ratio = 0.0, ref = 0.0;
  for (int attempt = 0; attempt < 3; attempt++) {
    double w0 = amz__monotonic_now(NULL), c0 = amz__process_cpu_now(NULL);
    CU_ASSERT_EQUAL_FATAL(own_thread_kernel(0, 20, NULL), 0);
    ref = (amz__process_cpu_now(NULL) - c0) / (amz__monotonic_now(NULL) - w0);
    if (ref < 0.8) {
      printf("\n  not checked: a spinning helper thread got %.2f of a core (loaded machine)\n",
             ref);
      return;
    }
    amz__pool_t pool;
    CU_ASSERT_EQUAL_FATAL(amz__pool_init(&pool, 1), 0);
    amz_task_t task = {"own threads", 4000, own_thread_kernel, NULL};
    amz__sampler_params_t p = {.task = &task,
                               .workers = 2,
                               .max_seconds = 0.2,
                               .rel_error = 0.03,
                               .clock = &amz__real_clock,
                               .pool = &pool};
    sample_out_t o;
    memset(&o, 0, sizeof o);
    o.rc = amz__sample(&p, &o.wl, &o.done, &o.failed, &o.recs, &o.n_recs, &o.rec_workers);
    amz__pool_destroy(&pool);
    CU_ASSERT_EQUAL(o.rc, 0);
    ratio = o.wl.cpu_ratio;
    sample_out_free(&o);
    if (ratio > 0.5 * ref) break;
    printf("\n  try %d: cpu_ratio %.3f, a spinning helper thread %.2f of a core\n",
           attempt + 1, ratio, ref);
  }
  /* The caller alone would say about 0.03; the kernel keeps one core busy. */
  CU_ASSERT(ratio > 0.5 * ref);
}

/* A clock whose kernels report, besides wall time, the calling thread's CPU time and
 * its time waiting for a CPU (fake): a kernel that computes for 1 unit per item
 * while other processes hold its core for `queued` units, and sleeps `slept`. Each
 * thread keeps its own three clocks, so that blocks sampled on several threads at
 * once (the sampler widens for a waiting kernel) measure only themselves. */
static _Thread_local double tl_wall, tl_cpu, tl_runq;
static double loaded_queued, loaded_slept;

static double loaded_now(void *ctx) { return (void)ctx, tl_wall; }
static double loaded_cpu(void *ctx) { return (void)ctx, tl_cpu; }
static double loaded_runq(void *ctx) { return (void)ctx, tl_runq; }

static int loaded_kernel(uint64_t begin, uint64_t end, void *arg) {
  (void)arg;
  double unit = 1e-4 * (double)(end - begin);
  tl_cpu += unit;
  tl_runq += loaded_queued * unit;
  tl_wall += (1.0 + loaded_queued + loaded_slept) * unit;
  return 0;
}

/* Samples task on one worker with the fake per-thread clocks above (a 0.05 s budget,
 * a 2% error target); p may add parameters (a node gate, pair logs). o receives the
 * output: free it. */
static void sample_on_fake_clock(const amz_task_t *task, amz__sampler_params_t p,
                                 sample_out_t *o) {
  static const amz__clock_t clk = {loaded_now, NULL, loaded_cpu, NULL, loaded_runq};
  amz__pool_t pool;
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&pool, 0), 0);
  p.task = task;
  p.workers = 1;
  p.max_seconds = 0.05;
  p.rel_error = 0.02;
  p.clock = &clk;
  p.pool = &pool;
  memset(o, 0, sizeof *o);
  o->rc = amz__sample(&p, &o->wl, &o->done, &o->failed, &o->recs, &o->n_recs, &o->rec_workers);
  amz__pool_destroy(&pool);
  CU_ASSERT_EQUAL(o->rc, 0);
}

static void sample_loaded(double queued, double slept, amz__workload_t *wl) {
  loaded_queued = queued;
  loaded_slept = slept;
  amz_task_t task = {"loaded", 10000, loaded_kernel, NULL};
  sample_out_t o;
  sample_on_fake_clock(&task, (amz__sampler_params_t){0}, &o);
  *wl = o.wl;
  sample_out_free(&o);
}

static void test_a_kernel_kept_off_its_core_is_not_waiting(void) {
  /* Computes 1, waits 2 on the run queue: CPU/wall 1/3, but the kernel never
   * waits by itself: more threads than cores would only queue longer. */
  amz__workload_t wl;
  sample_loaded(2.0, 0.0, &wl);
  CU_ASSERT_DOUBLE_EQUAL(wl.cpu_ratio, 1.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(wl.runq_share, 2.0 / 3.0, 1e-9);
  amz__machine_t m = amz_test_machine(2);
  CU_ASSERT_EQUAL(amz__planner_max_workers(&wl, &m), 2);
  /* Computes 1, sleeps 2: the kernel waits, and threads beyond the cores pay. */
  sample_loaded(0.0, 2.0, &wl);
  CU_ASSERT_DOUBLE_EQUAL(wl.cpu_ratio, 1.0 / 3.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(wl.runq_share, 0.0, 1e-12);
  CU_ASSERT(amz__planner_max_workers(&wl, &m) > 2);
  /* Both: a kernel that waits by itself keeps its CPU/wall (wake-up delays of many
   * sleeping threads are part of what more threads hide), and no queueing is
   * reported. */
  sample_loaded(1.0, 2.0, &wl);
  CU_ASSERT_DOUBLE_EQUAL(wl.cpu_ratio, 0.25, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(wl.runq_share, 0.0, 1e-12);
}

static void *spin_for(void *arg) {
  double until = amz__monotonic_now(NULL) + *(const double *)arg;
  volatile double x = 0;
  while (amz__monotonic_now(NULL) < until) x += 1.0;
  return NULL;
}

/* Binds the calling thread (and the threads it creates next) to the CPU it runs on,
 * for a check of run-queue delays between threads on one CPU; *saved receives the
 * binding to restore. Returns 0, saying why, where the check cannot run: under
 * valgrind (one thread at a time), without /proc/thread-self/schedstat, or where
 * the binding is refused. */
static int bind_to_one_cpu(cpu_set_t *saved) {
  if (getenv("AMZ_MEMCHECK")) {
    printf("\n  not checked under valgrind: it runs one thread at a time\n");
    return 0;
  }
  if (amz__thread_runq_now(NULL) == 0.0 && access("/proc/thread-self/schedstat", R_OK) != 0) {
    printf("\n  not checked: /proc/thread-self/schedstat is not available\n");
    return 0;
  }
  cpu_set_t one;
  if (sched_getaffinity(0, sizeof *saved, saved) != 0) {
    printf("\n  not checked: cannot read the CPU binding\n");
    return 0;
  }
  int cpu = sched_getcpu();
  CPU_ZERO(&one);
  CPU_SET(cpu < 0 ? 0 : cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) {
    printf("\n  not checked: cannot bind to one CPU\n");
    return 0;
  }
  return 1;
}

/* A kernel of 50 us of its own thread's CPU time per item, whatever the wall. */
static int cpu_item_kernel(uint64_t begin, uint64_t end, void *arg) {
  (void)arg;
  volatile double x = 0;
  for (uint64_t i = begin; i < end; i++) {
    double until = amz__thread_cpu_now(NULL) + 50e-6;
    while (amz__thread_cpu_now(NULL) < until) x += 1.0;
  }
  return 0;
}

static void test_the_librarys_threads_are_not_the_kernels(void) {
  /* The MPI layer's progress thread serves data on the core of rank 0's sampling
   * thread: here a thread spinning on the same CPU, named to the sampler as the
   * library's (aux_threads). Its CPU time is not threads of the kernel's own, and
   * the kernel's wait for the CPU behind it is neither the kernel's cost nor other
   * processes' load: the kernel's items cost 50 us of CPU. Unnamed, the same run
   * reads 1.5 to 2 cores a call and about 100 us an item. */
  cpu_set_t saved;
  if (!bind_to_one_cpu(&saved)) return;
  /* Another process on this CPU adds its own part, which is load: up to three
   * tries, the last one checked. */
  sample_out_t o;
  for (int attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) sample_out_free(&o);
    amz__pool_t pool;
    CU_ASSERT_EQUAL_FATAL(amz__pool_init(&pool, 0), 0);
    double secs = 0.3;
    pthread_t th; /* inherits the binding */
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, spin_for, &secs), 0);
    amz_task_t task = {"beside the library", 20000, cpu_item_kernel, NULL};
    amz__sampler_params_t p = {.task = &task, .workers = 1, .max_seconds = 0.1,
                               .rel_error = 0.03, .clock = &amz__real_clock, .pool = &pool,
                               .aux_threads = &th, .n_aux_threads = 1};
    memset(&o, 0, sizeof o);
    o.rc = amz__sample(&p, &o.wl, &o.done, &o.failed, &o.recs, &o.n_recs, &o.rec_workers);
    pthread_join(th, NULL);
    amz__pool_destroy(&pool);
    printf("\n  CPU/wall %.2f, %.1f us an item, load %.2f", o.wl.cpu_ratio, o.wl.mean_s * 1e6,
           o.wl.load_share);
    if (o.rc == 0 && o.wl.cpu_ratio <= 1.0 && o.wl.mean_s < 75e-6 && o.wl.load_share < 0.25)
      break;
  }
  printf("\n");
  sched_setaffinity(0, sizeof saved, &saved);
  CU_ASSERT_EQUAL(o.rc, 0);
  CU_ASSERT(o.wl.cpu_ratio <= 1.0);
  CU_ASSERT(o.wl.mean_s < 75e-6);
  CU_ASSERT(o.wl.load_share < 0.25);
  sample_out_free(&o);
}

/* A wrapped kernel that moves each call's data first (map mode on a rank other
 * than 0): 300 us of waiting per call, kept out of the kernel's time as the
 * wrapper does (amz__tls_excluded_s), then 30 us of work per item (fake clock). */
static int moving_kernel(uint64_t begin, uint64_t end, void *arg) {
  (void)arg;
  double compute = 30e-6 * (double)(end - begin);
  tl_wall += 300e-6 + compute;
  tl_cpu += compute;
  amz__tls_excluded_s += 300e-6;
  return 0;
}

static void test_blocks_outgrow_their_data_moving(void) {
  /* A block of one item would wait 10x its work for its data: blocks grow until
   * the work is at least 4x the moving (40 items), as the run's chunks amortize it. */
  tl_wall = tl_cpu = tl_runq = 0.0;
  amz_task_t task = {"moving", 100000, moving_kernel, NULL};
  sample_out_t o;
  sample_on_fake_clock(&task, (amz__sampler_params_t){0}, &o);
  CU_ASSERT(o.wl.block_items >= 30);
  uint64_t largest = 0;
  for (size_t i = 0; i < o.n_recs; i++)
    if (o.recs[i].end - o.recs[i].begin > largest) largest = o.recs[i].end - o.recs[i].begin;
  CU_ASSERT(largest >= 40);
  /* The moving is not the kernel's cost. */
  CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, 30e-6, 1e-9);
  sample_out_free(&o);
}

/* The node gate's turns, counted (the MPI layer's are barriers). */
static int gate_turns, gate_alls;
static int fake_turn(void *ctx) { return (void)ctx, gate_turns++, 0; }
static int fake_all(void *ctx) { return (void)ctx, gate_alls++, 0; }

/* Items that sleep, the first call followed by a long wait for a CPU outside its
 * own time: the thread's run-queue clock gains 30 units between the block's reads,
 * as when another process takes the core as the block ends. */
static _Atomic int outside_delay_calls; /* the sampler widens: several threads */
static int sleeping_kernel_delayed(uint64_t begin, uint64_t end, void *arg) {
  (void)arg;
  double unit = 1e-4 * (double)(end - begin);
  tl_cpu += 0.03 * unit;
  tl_wall += unit;
  if (atomic_fetch_add(&outside_delay_calls, 1) == 0) tl_runq += 30.0 * unit;
  return 0;
}

static void test_a_waiting_kernel_under_the_gate(void) {
  /* A rank of one thread under a node gate: a kernel that sleeps is not measured
   * across the ranks (no pairs), although its first block was charged a wait for a
   * CPU beyond its own time off the CPU: one block must not decide. */
  tl_wall = tl_cpu = tl_runq = 0.0;
  atomic_store(&outside_delay_calls, 0);
  gate_turns = gate_alls = 0;
  amz_task_t task = {"sleeping", 10000, sleeping_kernel_delayed, NULL};
  amz__node_gate_t gate = {fake_turn, fake_all, NULL, 2, 2};
  double logs[AMZ__PAIR_LOG_MAX];
  size_t n_logs = 99;
  amz__sampler_params_t p = {.gate = &gate, .pair_log_out = logs, .n_pair_log_out = &n_logs};
  sample_out_t o;
  sample_on_fake_clock(&task, p, &o);
  CU_ASSERT_EQUAL(n_logs, 99); /* no pairs: nothing reported */
  CU_ASSERT_EQUAL(gate_turns, 1); /* the turns are passed all the same */
  CU_ASSERT(gate_alls >= 1);
  CU_ASSERT(o.wl.cpu_ratio < 0.5);
  sample_out_free(&o);
  /* A computing kernel under the gate still runs its pairs. */
  tl_wall = tl_cpu = tl_runq = 0.0;
  gate_turns = gate_alls = 0;
  loaded_queued = loaded_slept = 0.0;
  task.fn = loaded_kernel;
  n_logs = 0;
  sample_on_fake_clock(&task, p, &o);
  CU_ASSERT(n_logs >= 8);
  CU_ASSERT_EQUAL(gate_turns, 1);
  sample_out_free(&o);
}

static void test_run_queue_delay_is_measured(void) {
  /* Two threads spinning on one CPU for 0.2 s each: each waits about half the time
   * on the run queue, and the real clock's runq_now sees it. */
  cpu_set_t saved;
  if (!bind_to_one_cpu(&saved)) return;
  double secs = 0.2;
  pthread_t th; /* inherits the binding */
  double q0 = amz__thread_runq_now(NULL);
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, spin_for, &secs), 0);
  spin_for(&secs);
  double queued = amz__thread_runq_now(NULL) - q0;
  pthread_join(th, NULL);
  sched_setaffinity(0, sizeof saved, &saved);
  printf("\n  waited %.3f s of %.1f s on the run queue\n", queued, 2 * secs);
  CU_ASSERT(queued > 0.25 * secs);
}

static void failing_kernel_case(int workers) {
  /* Ranges touching [n/4, n/2) fail: a quarter of the index range, so some sampled
   * blocks surely land there. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 40000, 2e-6, 0.0, &fc);
  k.fail_begin = k.n / 4;
  k.fail_end = k.n / 2;
  sample_out_t o;
  run_sampler(&k, workers, 10.0, 0.03, &clk, &o);
  check_exactly_once(&k, &o, workers);
  CU_ASSERT(o.failed.n > 0);
  CU_ASSERT(o.failed.n < o.done.n);
  for (size_t i = 0; i < o.failed.n; i++) {
    /* A failed range is also executed (done), overlaps the failing region and
     * carries the code the kernel returned for it. */
    CU_ASSERT(o.failed.v[i].begin < k.fail_end && o.failed.v[i].end > k.fail_begin);
    CU_ASSERT_EQUAL(o.failed.v[i].code, 100 + (int)(o.failed.v[i].begin % 7));
    CU_ASSERT(amz__rangeset_overlaps(&o.done, o.failed.v[i].begin, o.failed.v[i].end));
  }
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_failing_ranges_land_in_failed_one_worker(void) { failing_kernel_case(1); }
static void test_failing_ranges_land_in_failed_two_workers(void) { failing_kernel_case(2); }

static void test_zero_items(void) {
  for (int workers = 1; workers <= 2; workers++) {
    amz_fake_clock_t fc = {0.0};
    amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
    kstate_t k;
    kstate_init(&k, 0, 1e-6, 0.0, &fc);
    sample_out_t o;
    run_sampler(&k, workers, 10.0, 0.03, &clk, &o);
    CU_ASSERT_EQUAL(o.rc, 0);
    CU_ASSERT_EQUAL(k.n_calls, 0);
    CU_ASSERT_EQUAL(o.done.n, 0);
    CU_ASSERT_EQUAL(o.failed.n, 0);
    CU_ASSERT_EQUAL(o.n_recs, 0);
    CU_ASSERT_EQUAL(o.wl.n_items, 0);
    CU_ASSERT_EQUAL(o.wl.sampled_items, 0);
    CU_ASSERT_PTR_NOT_NULL(o.wl.stop_reason);
    CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&o.wl, 0, 10), 0.0, 0.0);
    sample_out_free(&o);
    kstate_free(&k);
  }
}

static void test_one_item(void) {
  for (int workers = 1; workers <= 2; workers++) {
    amz_fake_clock_t fc = {0.0};
    amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
    kstate_t k;
    kstate_init(&k, 1, 3e-6, 0.0, &fc);
    sample_out_t o;
    run_sampler(&k, workers, 10.0, 0.03, &clk, &o);
    check_exactly_once(&k, &o, workers);
    /* The only item is the only sample. */
    CU_ASSERT_EQUAL_FATAL(o.done.n, 1);
    CU_ASSERT_EQUAL(o.done.v[0].begin, 0);
    CU_ASSERT_EQUAL(o.done.v[0].end, 1);
    CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, 3e-6, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(amz__workload_range_cost(&o.wl, 0, 1), 3e-6, 1e-15);
    sample_out_free(&o);
    kstate_free(&k);
  }
}

static void test_small_n_on_two_workers(void) {
  static const uint64_t ns[] = {2, 3, 7, 13, 64, 97, 1000};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    amz_fake_clock_t fc = {0.0};
    amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
    kstate_t k;
    kstate_init(&k, ns[i], 1e-6, 2.0, &fc);
    k.noisy = 1;
    sample_out_t o;
    run_sampler(&k, 2, 10.0, 0.03, &clk, &o);
    check_exactly_once(&k, &o, 2);
    check_fraction(&k, &o);
    CU_ASSERT(o.done.n >= 1);
    sample_out_free(&o);
    kstate_free(&k);
  }
}

static void test_fraction_limit_stops_noisy_sampling(void) {
  /* Noisy costs and an unreachable error target, with unlimited time: only the 10%
   * limit can stop the sampler. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 20000, 1e-6, 0.0, &fc);
  k.noisy = 1;
  sample_out_t o;
  run_sampler(&k, 1, 1e6, 1e-9, &clk, &o);
  check_exactly_once(&k, &o, 1);
  check_fraction(&k, &o);
  check_spread(&k, &o);
  /* It does use its allowance: at least the limit minus one block. */
  CU_ASSERT(amz__rangeset_items(&o.done) + longest_range(&o.done) >= 2000);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, "sampled fraction limit reached");
  CU_ASSERT_DOUBLE_EQUAL(o.wl.mean_s, sampled_mean(&k, &o.done), 1e-9 * o.wl.mean_s);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_time_budget_stops_sampling(void) {
  /* Items of about 1 ms (fake), noisy, a 50 ms budget and an unreachable error
   * target: the sampler stops on time, overshooting by at most a few blocks. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 1000000, 1e-3, 0.0, &fc);
  k.noisy = 1;
  sample_out_t o;
  run_sampler(&k, 1, 0.05, 1e-9, &clk, &o);
  check_exactly_once(&k, &o, 1);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, "time budget spent");
  CU_ASSERT(o.wl.sample_wall_s >= 0.05);
  CU_ASSERT(o.wl.sample_wall_s <= 0.05 + 3 * 1.9e-3 * (double)longest_range(&o.done));
  CU_ASSERT(amz__rangeset_items(&o.done) < 100000);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_error_target_waits_for_rare_items(void) {
  /* One item in 100 costs 100x (half of the work). A few dozen blocks can all miss
   * them and show a small error; the error target stops sampling only after
   * min(2% of the items, 1024) items (the rule of three), which sees them. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 20000, 10e-6, 0.0, &fc);
  k.rare = 1;
  sample_out_t o;
  run_sampler(&k, 1, 10.0, 0.5, &clk, &o);
  check_exactly_once(&k, &o, 1);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, "error target reached");
  CU_ASSERT(amz__rangeset_items(&o.done) >= 400);
  CU_ASSERT(o.wl.max_item_s >= 50 * 10e-6);
  /* The mean then includes the costly items: within 35% of the true 19.9 us. */
  double truth = 0.0;
  for (uint64_t i = 0; i < k.n; i++) truth += item_cost(&k, i);
  truth /= (double)k.n;
  if (fabs(o.wl.mean_s / truth - 1.0) > 0.35)
    fprintf(stderr, "\n  mean %g, truth %g", o.wl.mean_s, truth);
  CU_ASSERT(fabs(o.wl.mean_s / truth - 1.0) <= 0.35);
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_few_blocks_have_an_honest_error(void) {
  /* Items of 10 ms (fake), noisy, and a 30 ms budget: a handful of blocks. Their
   * standard error cannot come from 8 groups; it is the blocks' own spread, never
   * 0 for costs that differ. */
  amz_fake_clock_t fc = {0.0};
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  kstate_t k;
  kstate_init(&k, 100000, 10e-3, 0.0, &fc);
  k.noisy = 1;
  sample_out_t o;
  run_sampler(&k, 1, 0.03, 1e-9, &clk, &o);
  CU_ASSERT(o.wl.sampled_blocks >= 2 && o.wl.sampled_blocks < 16);
  if (!(o.wl.rel_error > 0.01 && o.wl.rel_error <= 1.0))
    fprintf(stderr, "\n  %zu blocks, relative error %g", o.wl.sampled_blocks, o.wl.rel_error);
  CU_ASSERT(o.wl.rel_error > 0.01 && o.wl.rel_error <= 1.0);
  sample_out_free(&o);
  kstate_free(&k);
}

/* Rare costly items (1 in 100 at 100x: half of the work), 20 placements: the
 * reported error is never below the blocks' own spread (the standard error of the
 * ratio of their sums, as if the blocks were drawn at random), and the sampled
 * mean lies within the interval's 1.895 x the reported error of the truth at
 * least 16 times in 20. The 8 group means alone read low when a few items decide
 * the mean (bench_sampler --honesty: 13 of 20 tables inside). */
static void test_rare_items_have_an_honest_error(void) {
  int inside = 0, below = 0;
  for (uint64_t salt = 1; salt <= 20; salt++) {
    amz_fake_clock_t fc = {0.0};
    amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
    kstate_t k;
    kstate_init(&k, 20000, 10e-6, 0.0, &fc);
    k.rare = 1;
    k.salt = salt * 0x9e3779b97f4a7c15ULL;
    sample_out_t o;
    run_sampler(&k, 1, 10.0, 1e-9, &clk, &o);
    double truth = 0.0, tw = 0.0, ti = 0.0, ss = 0.0;
    for (uint64_t i = 0; i < k.n; i++) truth += item_cost(&k, i);
    truth /= (double)k.n;
    for (size_t i = 0; i < o.n_recs; i++) {
      tw += o.recs[i].t_end - o.recs[i].t_start;
      ti += (double)(o.recs[i].end - o.recs[i].begin);
    }
    for (size_t i = 0; i < o.n_recs; i++) {
      double d = (o.recs[i].t_end - o.recs[i].t_start) -
                 tw / ti * (double)(o.recs[i].end - o.recs[i].begin);
      ss += d * d;
    }
    double nb = (double)o.n_recs, spread = nb > 1 ? sqrt(ss * nb / (nb - 1.0)) / tw : 1.0;
    below += o.wl.rel_error < 0.99 * spread;
    inside += fabs(o.wl.mean_s / truth - 1.0) <= 1.895 * o.wl.rel_error;
    sample_out_free(&o);
    kstate_free(&k);
  }
  if (below > 0 || inside < 16)
    fprintf(stderr, "\n  %d of 20 below the blocks' spread, %d inside", below, inside);
  CU_ASSERT_EQUAL(below, 0);
  CU_ASSERT(inside >= 16);
}

/* Contention from pairs of adjacent blocks: a real slowdown (adjacent blocks of a
 * memory-bound kernel cost alike) is found, and the chance lean of a few pairs of
 * independent heavy-tailed items is not taken for one. */
/* A linger hook that says "go on" `yes` times, then "stop", and notes the fake
 * time of each call. */
typedef struct linger_log {
  int yes, calls;
  const amz_fake_clock_t *clock;
  double at[4096];
} linger_log_t;

static int linger_hook(void *ctx) {
  linger_log_t *l = ctx;
  if (l->calls < 4096) l->at[l->calls] = amz_fake_now((void *)l->clock);
  return l->calls++ < l->yes;
}

static void sample_lingering(kstate_t *k, amz_fake_clock_t *fc, linger_log_t *l, sample_out_t *o) {
  amz__clock_t clk = {amz_fake_now, fc, NULL, NULL, NULL};
  g_linger = l ? linger_hook : NULL;
  g_linger_ctx = l;
  run_sampler(k, 1, 10.0, 0.03, &clk, o);
  g_linger = NULL;
  g_linger_ctx = NULL;
}

static void test_linger_asks_every_half_ms(void) {
  /* Uniform 1 us items: the sampler reaches its error target. Asked to go on 4
   * times, it samples about 0.5 ms between the asks, then stops; the items are
   * sampled once each, spread as before, and the stop reason says it went on. */
  amz_fake_clock_t fc = {0.0};
  kstate_t k;
  kstate_init(&k, 100000, 1e-6, 0.0, &fc);
  sample_out_t o;
  sample_lingering(&k, &fc, NULL, &o);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, "error target reached");
  uint64_t alone = amz__rangeset_items(&o.done);
  sample_out_free(&o);
  kstate_free(&k);

  atomic_store(&fc.t, 0.0);
  kstate_init(&k, 100000, 1e-6, 0.0, &fc);
  linger_log_t l = {.yes = 4, .clock = &fc};
  sample_lingering(&k, &fc, &l, &o);
  check_exactly_once(&k, &o, 1);
  check_spread(&k, &o);
  CU_ASSERT_EQUAL(l.calls, 5);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, AMZ__STOP_LINGERED);
  uint64_t block = longest_range(&o.done);
  CU_ASSERT(amz__rangeset_items(&o.done) >= alone + 4 * 500);
  CU_ASSERT(amz__rangeset_items(&o.done) <= alone + 4 * (500 + 2 * block));
  for (int i = 1; i < l.calls; i++) {
    double gap = l.at[i] - l.at[i - 1];
    /* Rounds of whole blocks, sized from the mean block so far (calibration's
     * smaller blocks included): at most two blocks over. */
    if (!(gap >= 0.5e-3 && gap <= 0.5e-3 + 2e-6 * (double)block))
      fprintf(stderr, "\n  round %d took %g s (blocks of %llu items)", i, gap,
              (unsigned long long)block);
    CU_ASSERT(gap >= 0.5e-3 && gap <= 0.5e-3 + 2e-6 * (double)block);
  }
  sample_out_free(&o);
  kstate_free(&k);
}

static void test_linger_stops_at_its_fraction(void) {
  /* A hook that never says stop: the sampler goes on to a quarter of the items
   * (overshooting by less than a block), not further. */
  amz_fake_clock_t fc = {0.0};
  kstate_t k;
  kstate_init(&k, 100000, 1e-6, 0.0, &fc);
  linger_log_t l = {.yes = 1 << 30, .clock = &fc};
  sample_out_t o;
  sample_lingering(&k, &fc, &l, &o);
  check_exactly_once(&k, &o, 1);
  uint64_t items = amz__rangeset_items(&o.done), block = longest_range(&o.done);
  CU_ASSERT(items >= 25000 && items <= 25000 + block);
  CU_ASSERT_STRING_EQUAL(o.wl.stop_reason, AMZ__STOP_LINGERED);
  sample_out_free(&o);
  kstate_free(&k);
}

static uint64_t mix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double unif01(uint64_t *s) { return ((double)(mix64(s) >> 11) + 0.5) * 0x1p-53; }
static double lognormal(uint64_t *s, double sigma) {
  return exp(sigma * sqrt(-2.0 * log(unif01(s))) * cos(6.283185307179586 * unif01(s)));
}

static void test_contention_from_pairs(void) {
  /* The six pairs a lognormal loop (sigma 1.5, blocks of 2 items, 2 workers, no
   * contention) once gave: 5 of 6 lean one way, mean x2.3 at 2.8 standard errors.
   * With a two-standard-error rule the plan ran serially, 2x slower. */
  const double solo[] = {7.03, 1.39, 1.51, 3.92, 2.58, 2.04},
               conc[] = {16.8, 6.82, 4.37, 12.7, 6.25, 1.13};
  double lr[8];
  for (int i = 0; i < 6; i++) lr[i] = log(conc[i] / solo[i]);
  CU_ASSERT_DOUBLE_EQUAL(amz__contention_from_pairs(lr, 6), 1.0, 0.0);
  /* Memory-bound: every pair x1.3, within 2%: found. */
  uint64_t s = 42;
  for (int i = 0; i < 8; i++) lr[i] = log(1.3) + 0.02 * (unif01(&s) - 0.5);
  CU_ASSERT_DOUBLE_EQUAL(amz__contention_from_pairs(lr, 8), 1.3, 0.02);
  /* A machine that gets faster when shared is reported as measured (< 1). */
  for (int i = 0; i < 8; i++) lr[i] = log(0.8) + 0.01 * (unif01(&s) - 0.5);
  CU_ASSERT(amz__contention_from_pairs(lr, 8) < 0.85);
  /* Too few pairs: no claim. */
  CU_ASSERT_DOUBLE_EQUAL(amz__contention_from_pairs(lr, 2), 1.0, 0.0);
  /* The 16 pairs of 2 MPI ranks taking turns on a node (test_mpi's kernel, x1.5 per
   * other rank busy): one block preempted (0.392), one partner alone (2.027). The
   * mean of all 16 stood within its noise and gave x1.00; without the two, x1.42. */
  const double turns[16] = {1.461, 1.437, 1.417, 1.424, 1.760, 1.333, 1.377, 0.392,
                            1.127, 1.389, 1.437, 1.442, 1.437, 2.027, 1.405, 1.410};
  double tl[16];
  for (int i = 0; i < 16; i++) tl[i] = log(turns[i]);
  CU_ASSERT_DOUBLE_EQUAL(amz__contention_from_pairs(tl, 16), 1.42, 0.04);
  /* Independent lognormal items (sigma 1.5), blocks of 2, 8 pairs, no contention:
   * 20000 draws; a false slowdown in at most 0.3% of them (two standard errors
   * gave about 8%). */
  int false_pos = 0, old_rule = 0;
  for (int d = 0; d < 20000; d++) {
    for (int i = 0; i < 8; i++) {
      double a = lognormal(&s, 1.5) + lognormal(&s, 1.5), b = lognormal(&s, 1.5) + lognormal(&s, 1.5);
      lr[i] = log(b / a);
    }
    false_pos += amz__contention_from_pairs(lr, 8) > 1.0;
    double mean = amz__mean(lr, 8), se = amz__stddev(lr, 8) / sqrt(8.0);
    old_rule += mean > 2.0 * se;
  }
  fprintf(stderr, "\n  false slowdowns in 20000 draws: %d (two standard errors: %d)\n", false_pos,
          old_rule);
  CU_ASSERT(false_pos <= 60);
  CU_ASSERT(old_rule > 600); /* the draws do lean: the old rule is fooled */
  /* The same with 16 pairs (2 ranks of a node, pooled), where far-out pairs are
   * left out: no more false slowdowns. */
  double l16[16];
  false_pos = 0;
  for (int d = 0; d < 20000; d++) {
    for (int i = 0; i < 16; i++) {
      double a = lognormal(&s, 1.5) + lognormal(&s, 1.5), b = lognormal(&s, 1.5) + lognormal(&s, 1.5);
      l16[i] = log(b / a);
    }
    false_pos += amz__contention_from_pairs(l16, 16) > 1.0;
  }
  fprintf(stderr, "  with 16 pairs: %d\n", false_pos);
  CU_ASSERT(false_pos <= 60);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("sampler", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "uniform cost, one worker: exact statistics",
              test_uniform_cost_one_worker_is_exact);
  CU_add_test(s, "ramp, one worker: detects the trend", test_ramp_one_worker_detects_the_trend);
  CU_add_test(s, "two workers execute each sampled item once",
              test_two_workers_execute_each_sampled_item_once);
  CU_add_test(s, "two workers with the real clock", test_two_workers_with_the_real_clock);
  CU_add_test(s, "no barrier between blocks", test_no_barrier_between_blocks);
  CU_add_test(s, "failing ranges land in failed (1 worker)",
              test_failing_ranges_land_in_failed_one_worker);
  CU_add_test(s, "failing ranges land in failed (2 workers)",
              test_failing_ranges_land_in_failed_two_workers);
  CU_add_test(s, "zero items", test_zero_items);
  CU_add_test(s, "one item", test_one_item);
  CU_add_test(s, "small n on two workers", test_small_n_on_two_workers);
  CU_add_test(s, "fraction limit stops noisy sampling", test_fraction_limit_stops_noisy_sampling);
  CU_add_test(s, "time budget stops sampling", test_time_budget_stops_sampling);
  CU_add_test(s, "the error target waits for rare costly items",
              test_error_target_waits_for_rare_items);
  CU_add_test(s, "a few blocks have an honest error", test_few_blocks_have_an_honest_error);
  CU_add_test(s, "rare costly items have an honest error", test_rare_items_have_an_honest_error);
  CU_add_test(s, "linger goes on, asking every 0.5 ms", test_linger_asks_every_half_ms);
  CU_add_test(s, "linger stops at its fraction", test_linger_stops_at_its_fraction);
  CU_add_test(s, "contention from pairs: real slowdowns, not chance", test_contention_from_pairs);
  CU_add_test(s, "a kernel with threads of its own is not waiting",
              test_a_kernel_with_its_own_threads_is_not_waiting);
  CU_add_test(s, "a kernel kept off its core is not waiting",
              test_a_kernel_kept_off_its_core_is_not_waiting);
  CU_add_test(s, "run-queue delay is measured", test_run_queue_delay_is_measured);
  CU_add_test(s, "the library's threads are neither the kernel's nor load",
              test_the_librarys_threads_are_not_the_kernels);
  CU_add_test(s, "blocks outgrow their data moving", test_blocks_outgrow_their_data_moving);
  CU_add_test(s, "a waiting kernel under the node gate: no pairs",
              test_a_waiting_kernel_under_the_gate);
  return amz_test_run();
}
