/*
 * White-box tests of the executor (amz__execute) and the persistent thread pool.
 *
 * The central property is EXACTLY-ONCE: every item of [0, N) that is not in the skip
 * list is passed to the kernel exactly once per run, whatever the schedule, the number
 * of workers and the chunk parameter. The kernel counts every item it is given in a
 * per-item atomic counter, so lost and duplicated items both show up. The same
 * pool serves every run of the suite, with changing worker counts, so pool reuse and
 * growth are exercised by every test as well.
 *
 * No assertion depends on timing: real-clock runs check only orderings that the clock
 * guarantees (t_start <= t_end), and the progress-interval tests drive a fake clock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_util.h"

/* ------------------------------------------------------------------------- */
/* Shared pool and reporting                                                 */
/* ------------------------------------------------------------------------- */

/* One pool for the whole suite: reuse across runs with different worker counts is
 * part of what is tested. It starts with no helper and grows on demand. */
static amz__pool_t g_pool;
static int g_pool_ready;

static int suite_init(void) {
  if (amz__pool_init(&g_pool, 0) != 0) return 1;
  g_pool_ready = 1;
  return 0;
}

static int suite_cleanup(void) {
  if (g_pool_ready) amz__pool_destroy(&g_pool);
  g_pool_ready = 0;
  return 0;
}

/* The configuration of the run being checked, printed with a failed check: a grid of
 * hundreds of runs is useless to debug from a line number alone. */
static char g_cfg[160];
static int g_notes;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    int ok_ = (cond) ? 1 : 0;                                                        \
    CU_assertImplementation(ok_, __LINE__, #cond, __FILE__, "", CU_FALSE);           \
    if (!ok_ && g_notes++ < 40)                                                      \
      fprintf(stderr, "  check failed at line %d: %s [%s]\n", __LINE__, #cond, g_cfg); \
  } while (0)

static const amz_schedule_t k_scheds[] = {AMZ_SCHED_STATIC,  AMZ_SCHED_CYCLIC,
                                          AMZ_SCHED_DYNAMIC, AMZ_SCHED_GUIDED,
                                          AMZ_SCHED_FACTORING, AMZ_SCHED_AWF};
#define N_SCHEDS (sizeof k_scheds / sizeof k_scheds[0])
static const int k_workers[] = {1, 2, 3, 4, 8};
#define N_WORKERS (sizeof k_workers / sizeof k_workers[0])

static void set_cfg(uint64_t n, int w, amz_schedule_t s, uint64_t chunk, const char *extra) {
  snprintf(g_cfg, sizeof g_cfg, "N=%llu workers=%d %s chunk=%llu%s%s", (unsigned long long)n,
           w, amz_schedule_name(s), (unsigned long long)chunk, extra ? " " : "",
           extra ? extra : "");
}

/* ------------------------------------------------------------------------- */
/* The counting kernel                                                       */
/* ------------------------------------------------------------------------- */

typedef struct count_task {
  uint64_t n;
  _Atomic uint8_t *count;      /* per-item executions in this run */
  _Atomic uint64_t calls;      /* kernel calls */
  _Atomic uint64_t bad_calls;  /* calls with an empty or out-of-range range */
  const uint64_t *fail_items;  /* sorted items whose ranges fail; may be NULL */
  size_t n_fail;
  int fail_code;
  amz_fake_clock_t *advance;   /* when set, each call advances it by 1 s */
} count_task_t;

static int count_task_init(count_task_t *t, uint64_t n) {
  memset(t, 0, sizeof *t);
  t->n = n;
  t->count = calloc(n ? n : 1, sizeof *t->count);
  return t->count ? 0 : -1;
}

static void count_task_free(count_task_t *t) {
  free((void *)t->count);
  t->count = NULL;
}

/* 1 when [b, e) contains one of the failing items. */
static int has_fail_item(const count_task_t *t, uint64_t b, uint64_t e) {
  for (size_t i = 0; i < t->n_fail; i++)
    if (t->fail_items[i] >= b && t->fail_items[i] < e) return 1;
  return 0;
}

static int count_kernel(uint64_t b, uint64_t e, void *arg) {
  count_task_t *t = arg;
  atomic_fetch_add_explicit(&t->calls, 1, memory_order_relaxed);
  if (b >= e || e > t->n) {
    /* Never write outside the counters: record the contract violation instead. */
    atomic_fetch_add_explicit(&t->bad_calls, 1, memory_order_relaxed);
    return 0;
  }
  for (uint64_t i = b; i < e; i++)
    atomic_fetch_add_explicit(&t->count[i], 1, memory_order_relaxed);
  if (t->advance) amz_fake_advance(t->advance, 1.0);
  /* The whole range is processed before failing, as a real kernel that reports a
   * bad item at the end would: failure must not hide that the items ran. */
  return t->n_fail && has_fail_item(t, b, e) ? t->fail_code : 0;
}

static int in_skip(const amz__rangeset_t *skip, uint64_t i) {
  return skip && amz__rangeset_overlaps(skip, i, i + 1);
}

/* Counts items whose execution count is wrong (1 outside the skip list, 0 inside)
 * and resets all counters for the next run. */
static uint64_t check_counts_and_reset(count_task_t *t, const amz__rangeset_t *skip) {
  uint64_t wrong = 0;
  size_t r = 0;
  for (uint64_t i = 0; i < t->n; i++) {
    while (skip && r < skip->n && skip->v[r].end <= i) r++;
    int skipped = skip && r < skip->n && skip->v[r].begin <= i;
    unsigned c = atomic_load_explicit(&t->count[i], memory_order_relaxed);
    if (c != (skipped ? 0u : 1u)) {
      if (wrong == 0 && g_notes++ < 40)
        fprintf(stderr, "  item %llu executed %u times (expected %d) [%s]\n",
                (unsigned long long)i, c, skipped ? 0 : 1, g_cfg);
      wrong++;
    }
    atomic_store_explicit(&t->count[i], 0, memory_order_relaxed);
  }
  atomic_store(&t->calls, 0);
  return wrong;
}

/* ------------------------------------------------------------------------- */
/* Running and checking                                                      */
/* ------------------------------------------------------------------------- */

typedef struct run_opts {
  const amz__rangeset_t *skip;
  const amz_hooks_t *hooks;
  void *user;
  double interval;
  const amz__clock_t *clock;
  double origin_shift; /* the run starts this many seconds after t_origin */
  size_t max_records;
} run_opts_t;

static int execute(count_task_t *t, amz_schedule_t s, int workers, uint64_t chunk,
                   const run_opts_t *o, amz__exec_out_t *out) {
  static const run_opts_t none = {0};
  if (!o) o = &none;
  /* The executor needs workers - 1 helpers; growing is a no-op when it has them. */
  int rc = amz__pool_grow(&g_pool, workers - 1);
  CHECK(rc == 0);
  CHECK(g_pool.n_helpers >= workers - 1);
  if (rc != 0) return rc;
  amz_task_t task = {"executor test", t->n, count_kernel, t};
  const amz__clock_t *clk = o->clock ? o->clock : &amz__real_clock;
  amz__exec_params_t p = {.task = &task,
                          .schedule = s,
                          .workers = workers,
                          .chunk = chunk,
                          .skip = o->skip,
                          .hooks = o->hooks,
                          .hooks_user = o->user,
                          .progress_interval = o->interval,
                          .clock = clk,
                          .pool = &g_pool,
                          .t_origin = amz__clock_now(clk) - o->origin_shift,
                          .max_records = o->max_records};
  return amz__execute(&p, out);
}

typedef struct rec_ref {
  uint64_t begin, end;
  int worker;
  int status;
} rec_ref_t;

static int cmp_rec(const void *a, const void *b) {
  const rec_ref_t *x = a, *y = b;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

/* Collects every recorded chunk of a run, sorted by begin; caller frees. */
static rec_ref_t *collect_records(const amz__exec_out_t *out, size_t *n) {
  size_t total = 0;
  for (int w = 0; w < out->workers; w++) total += out->w[w].n_chunks;
  rec_ref_t *v = malloc((total ? total : 1) * sizeof *v);
  if (!v) return NULL;
  size_t k = 0;
  for (int w = 0; w < out->workers; w++)
    for (size_t i = 0; i < out->w[w].n_chunks; i++) {
      const amz__chunk_rec_t *c = &out->w[w].chunks[i];
      v[k++] = (rec_ref_t){c->begin, c->end, w, c->status};
    }
  qsort(v, k, sizeof *v, cmp_rec);
  *n = k;
  return v;
}

/* Static blocks with a way out: each worker starts on its own block, in pieces
 * from the front of it (at most 1/8 of the block); it runs items outside its block only as many as it took
 * from the others; a worker that took nothing and lost nothing ran exactly the
 * pieces of its block. */
static void check_static(const count_task_t *t, int workers, const amz__exec_out_t *out) {
  amz__sched_t sc;
  CHECK(amz__sched_init(&sc, AMZ_SCHED_STATIC, t->n, workers, 0) == 0);
  for (int w = 0; w < workers; w++) {
    const amz__worker_rec_t *r = &out->w[w];
    uint64_t b = 0, e = 0, outside = 0, mine = 0;
    if ((uint64_t)w < sc.n_chunks) amz__sched_chunk(&sc, (uint64_t)w, &b, &e);
    /* Its first piece, unless others emptied its block before it started (a
     * worker that wakes late may find the back of its block taken, or all of it:
     * it then takes a range, which may lie in its own block again; seen once in CI
     * with 97 items on 4 workers, blocks of 24). */
    if (workers > 1 && r->n_chunks > 0 && r->chunks[0].begin >= b && r->chunks[0].end <= e) {
      CHECK(r->chunks[0].begin == b || r->stolen > 0);
      if (r->chunks[0].begin == b)
        CHECK(r->chunks[0].end - r->chunks[0].begin <= amz__steal_piece(e - b));
    }
    for (size_t i = 0; i < r->n_chunks; i++) {
      const amz__chunk_rec_t *c = &r->chunks[i];
      if (c->begin >= b && c->end <= e) mine += c->end - c->begin;
      else outside += c->end - c->begin;
    }
    CHECK(outside <= r->stolen);
    CHECK(r->stolen <= r->items);
    /* One worker runs its block as one chunk. */
    if (workers == 1) CHECK(r->n_chunks == (e > b) && r->stolen == 0);
    else if (r->stolen == 0 && mine == e - b) CHECK(r->n_chunks == amz__steal_pieces(e - b));
  }
  amz__sched_free(&sc);
}

/* The bookkeeping every run must satisfy: totals add up, records are well formed,
 * and (without a skip list) the recorded chunks are exactly the schedule's chunk
 * sequence: they tile [0, N), there are as many as the schedule defines (static:
 * check_static), and cyclic gives chunk k to worker k % P. */
static void check_run(const count_task_t *t, amz_schedule_t s, int workers, uint64_t chunk,
                      const amz__rangeset_t *skip, const amz__exec_out_t *out) {
  uint64_t skipped = skip ? amz__rangeset_items(skip) : 0;
  CHECK(out->workers == workers);
  CHECK(out->items_run == t->n - skipped);
  CHECK(atomic_load(&t->bad_calls) == 0);
  uint64_t items = 0, chunks = 0;
  for (int w = 0; w < out->workers; w++) {
    const amz__worker_rec_t *r = &out->w[w];
    items += r->items;
    chunks += r->chunks_total;
    /* The default record bound is far above these runs: every chunk is kept. */
    CHECK(r->n_chunks == r->chunks_total);
    CHECK(r->t_first <= r->t_last);
    CHECK(r->busy_s >= 0.0 && r->dispatch_s >= 0.0);
    CHECK(r->oom == 0);
    for (size_t i = 0; i < r->n_chunks; i++) {
      const amz__chunk_rec_t *c = &r->chunks[i];
      CHECK(c->t_start <= c->t_end);
      CHECK(c->begin < c->end && c->end <= t->n);
      /* A worker's records are in execution order. */
      if (i > 0) CHECK(r->chunks[i - 1].t_end <= c->t_start);
    }
  }
  CHECK(items == out->items_run);
  CHECK(chunks == out->chunks_run);
  CHECK(out->parallel_s >= 0.0 && out->serial_s >= 0.0);

  size_t n = 0;
  rec_ref_t *v = collect_records(out, &n);
  CHECK(v != NULL);
  if (!v) return;
  CHECK(n == chunks);
  if (!skip) {
    /* Tiling: sorted records are contiguous from 0 to N. */
    uint64_t pos = 0;
    int tiles = 1;
    for (size_t i = 0; i < n; i++) {
      if (v[i].begin != pos) tiles = 0;
      pos = v[i].end;
    }
    CHECK(tiles && pos == t->n);
    if (s == AMZ_SCHED_STATIC) {
      check_static(t, workers, out);
    } else if (s != AMZ_SCHED_AWF) {
      amz__sched_t sc;
      CHECK(amz__sched_init(&sc, s, t->n, workers, chunk) == 0);
      CHECK(out->chunks_run == sc.n_chunks);
      amz__sched_free(&sc);
    }
    if (s == AMZ_SCHED_CYCLIC) {
      int dealt = 1;
      for (size_t k = 0; k < n; k++)
        if (v[k].worker != (int)(k % (size_t)workers)) dealt = 0;
      CHECK(dealt);
    }
  } else {
    /* With a skip list, chunks stay disjoint and inside [0, N). */
    int disjoint = 1;
    for (size_t i = 1; i < n; i++)
      if (v[i].begin < v[i - 1].end) disjoint = 0;
    CHECK(disjoint);
  }
  free(v);
}

/* ------------------------------------------------------------------------- */
/* Pool                                                                      */
/* ------------------------------------------------------------------------- */

typedef struct ids_ctx {
  _Atomic int seen[16];
} ids_ctx_t;

static void ids_job(void *arg, int w) {
  ids_ctx_t *c = arg;
  if (w >= 0 && w < 16) atomic_fetch_add(&c->seen[w], 1);
}

/* Runs an id-recording job on `workers` and checks that ids 0..workers-1 each ran
 * exactly once and no other id ran. */
static int ids_once(amz__pool_t *p, int workers) {
  ids_ctx_t c;
  for (int i = 0; i < 16; i++) atomic_init(&c.seen[i], 0);
  amz__pool_run(p, workers, ids_job, &c);
  int ok = 1;
  for (int i = 0; i < 16; i++)
    if (atomic_load(&c.seen[i]) != (i < workers ? 1 : 0)) ok = 0;
  return ok;
}

static void test_pool_grow(void) {
  amz__pool_t p;
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&p, 0), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 0);
  /* One worker is the caller alone: no helper needed. */
  CU_ASSERT(ids_once(&p, 1));
  CU_ASSERT_EQUAL(amz__pool_grow(&p, 1), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 1);
  CU_ASSERT(ids_once(&p, 2));
  CU_ASSERT_EQUAL(amz__pool_grow(&p, 3), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 3);
  /* Growing to fewer threads than the pool has keeps them all. */
  CU_ASSERT_EQUAL(amz__pool_grow(&p, 2), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 3);
  for (int w = 1; w <= 4; w++) CU_ASSERT(ids_once(&p, w));
  CU_ASSERT_EQUAL(amz__pool_grow(&p, 7), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 7);
  for (int w = 8; w >= 1; w--) CU_ASSERT(ids_once(&p, w));
  amz__pool_destroy(&p);

  /* A pool created with helpers works at once, and can be destroyed and made again. */
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&p, 2), 0);
  CU_ASSERT_EQUAL(p.n_helpers, 2);
  CU_ASSERT(ids_once(&p, 3));
  amz__pool_destroy(&p);
}

static void test_pool_reuse_many_runs(void) {
  amz__pool_t p;
  CU_ASSERT_EQUAL_FATAL(amz__pool_init(&p, 7), 0);
  /* Worker counts jump up and down so that helpers left out of one job (and maybe
   * still waking up from it) must take part correctly in the next one. */
  int bad = 0;
  for (int i = 0; i < 3000; i++) {
    int w = (i * 5 + 3) % 8 + 1;
    if (!ids_once(&p, w)) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
  amz__pool_destroy(&p);
}

/* ------------------------------------------------------------------------- */
/* Exactly once                                                              */
/* ------------------------------------------------------------------------- */

/* Runs one configuration and checks exactly-once and the records. */
static void once(count_task_t *t, amz_schedule_t s, int w, uint64_t chunk,
                 const amz__rangeset_t *skip, const char *extra) {
  set_cfg(t->n, w, s, chunk, extra);
  amz__exec_out_t out;
  run_opts_t o = {.skip = skip};
  int rc = execute(t, s, w, chunk, &o, &out);
  CHECK(rc == 0);
  if (rc == 0) check_run(t, s, w, chunk, skip, &out);
  CHECK(check_counts_and_reset(t, skip) == 0);
  amz__exec_out_free(&out);
}

static void test_exactly_once_grid(void) {
  static const uint64_t ns[] = {0, 1, 3, 97, 1009, 65536};
  for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
    count_task_t t;
    CU_ASSERT_EQUAL_FATAL(count_task_init(&t, ns[in]), 0);
    /* Chunk 0 ("default") is cheap to add for the small sizes. */
    static const uint64_t chunks_small[] = {0, 1, 7, 1000};
    static const uint64_t chunks_big[] = {1, 7, 1000};
    const uint64_t *chunks = ns[in] <= 1009 ? chunks_small : chunks_big;
    size_t n_chunks = ns[in] <= 1009 ? 4 : 3;
    for (size_t iw = 0; iw < N_WORKERS; iw++)
      for (size_t is = 0; is < N_SCHEDS; is++)
        for (size_t ic = 0; ic < n_chunks; ic++)
          once(&t, k_scheds[is], k_workers[iw], chunks[ic], NULL, NULL);
    count_task_free(&t);
  }
}

static void test_exactly_once_ten_million(void) {
  /* 10^7 items with large chunks: a few configurations keep memory (10 MB of
   * counters) and time modest while covering the 128-bit static split, the
   * boundary tables and AWF's compare-and-swap on a long range. */
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 10000000), 0);
  once(&t, AMZ_SCHED_STATIC, 3, 0, NULL, NULL);
  once(&t, AMZ_SCHED_DYNAMIC, 4, 1000, NULL, NULL);
  once(&t, AMZ_SCHED_GUIDED, 2, 1000, NULL, NULL);
  once(&t, AMZ_SCHED_AWF, 8, 1000, NULL, NULL);
  count_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Skip list                                                                 */
/* ------------------------------------------------------------------------- */

static void test_skip_ranges(void) {
  /* Sorted, disjoint ranges at the start, in the middle (two adjacent ones, as the
   * sampler's contention pairs produce), across chunk boundaries and at the end. */
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 1009), 0);
  amz__rangeset_t skip = {0};
  static const uint64_t r[][2] = {{0, 3},     {10, 20},   {20, 25},  {100, 101},
                                  {500, 800}, {998, 999}, {1000, 1009}};
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, r[i][0], r[i][1], 0), 0);
  amz__rangeset_sort(&skip);
  static const uint64_t chunks[] = {1, 7, 1000};
  for (size_t iw = 0; iw < N_WORKERS; iw++)
    for (size_t is = 0; is < N_SCHEDS; is++)
      for (size_t ic = 0; ic < 3; ic++)
        once(&t, k_scheds[is], k_workers[iw], chunks[ic], &skip, "skip=7 ranges");
  amz__rangeset_free(&skip);
  count_task_free(&t);

  /* Many small ranges, like a sampler's blocks spread over a larger index range. */
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 65536), 0);
  for (uint64_t b = 5; b + 8 <= 65536; b += 97)
    CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, b, b + 8, 0), 0);
  amz__rangeset_sort(&skip);
  for (size_t is = 0; is < N_SCHEDS; is++) {
    once(&t, k_scheds[is], 3, 64, &skip, "skip=many");
    once(&t, k_scheds[is], 8, 1, &skip, "skip=many");
  }
  amz__rangeset_free(&skip);
  count_task_free(&t);
}

static void test_skip_everything(void) {
  /* When sampling covered every item, the run executes nothing and calls no kernel. */
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 50), 0);
  amz__rangeset_t skip = {0};
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 0, 20, 0), 0);
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 20, 50, 0), 0);
  for (size_t is = 0; is < N_SCHEDS; is++) {
    set_cfg(t.n, 3, k_scheds[is], 4, "skip=all");
    amz__exec_out_t out;
    run_opts_t o = {.skip = &skip};
    CHECK(execute(&t, k_scheds[is], 3, 4, &o, &out) == 0);
    CHECK(out.items_run == 0);
    CHECK(atomic_load(&t.calls) == 0);
    CHECK(check_counts_and_reset(&t, &skip) == 0);
    amz__exec_out_free(&out);
  }
  amz__rangeset_free(&skip);
  count_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Failing kernel                                                            */
/* ------------------------------------------------------------------------- */

#define MAX_ERR_CALLS 8192

typedef struct err_log {
  _Atomic size_t n;
  struct {
    uint64_t begin, end;
    int code, worker;
  } v[MAX_ERR_CALLS];
} err_log_t;

static void on_error_log(uint64_t b, uint64_t e, int code, int worker, void *user) {
  err_log_t *l = user;
  size_t i = atomic_fetch_add(&l->n, 1);
  if (i < MAX_ERR_CALLS) {
    l->v[i].begin = b;
    l->v[i].end = e;
    l->v[i].code = code;
    l->v[i].worker = worker;
  }
}

static void check_failures(const count_task_t *t, const amz__rangeset_t *skip,
                           const amz__exec_out_t *out, const err_log_t *log) {
  size_t ranges = 0;
  uint64_t failures = 0;
  for (int w = 0; w < out->workers; w++) {
    const amz__worker_rec_t *r = &out->w[w];
    ranges += r->failed.n;
    failures += r->failures;
    for (size_t i = 0; i < r->failed.n; i++) {
      const amz__range_t *f = &r->failed.v[i];
      CHECK(f->code == t->fail_code);
      CHECK(f->begin < f->end && f->end <= t->n);
      /* A failed range is a range the kernel was given: it holds a failing item and
       * no skipped item. */
      CHECK(has_fail_item(t, f->begin, f->end));
      CHECK(!skip || !amz__rangeset_overlaps(skip, f->begin, f->end));
      if (i > 0) CHECK(r->failed.v[i - 1].end <= f->begin); /* sorted, disjoint */
    }
    /* Chunk status: the code when the chunk ran a failing item, else 0. */
    for (size_t i = 0; i < r->n_chunks; i++) {
      const amz__chunk_rec_t *c = &r->chunks[i];
      int expect_fail = 0;
      for (size_t k = 0; k < t->n_fail; k++)
        if (t->fail_items[k] >= c->begin && t->fail_items[k] < c->end &&
            !in_skip(skip, t->fail_items[k]))
          expect_fail = 1;
      CHECK(c->status == (expect_fail ? t->fail_code : 0));
    }
  }
  CHECK(failures == ranges);
  /* Every executed failing item lies in exactly one failed range. */
  for (size_t k = 0; k < t->n_fail; k++) {
    uint64_t x = t->fail_items[k];
    int hits = 0;
    for (int w = 0; w < out->workers; w++)
      for (size_t i = 0; i < out->w[w].failed.n; i++)
        if (out->w[w].failed.v[i].begin <= x && x < out->w[w].failed.v[i].end) hits++;
    CHECK(hits == (in_skip(skip, x) ? 0 : 1));
  }
  /* on_error: once per failed range, with the range, code and worker recorded. */
  size_t calls = atomic_load(&log->n);
  CHECK(calls == ranges);
  for (size_t i = 0; i < calls && i < MAX_ERR_CALLS; i++) {
    int w = log->v[i].worker;
    CHECK(w >= 0 && w < out->workers);
    if (w < 0 || w >= out->workers) continue;
    int found = 0;
    for (size_t j = 0; j < out->w[w].failed.n; j++)
      if (out->w[w].failed.v[j].begin == log->v[i].begin &&
          out->w[w].failed.v[j].end == log->v[i].end &&
          out->w[w].failed.v[j].code == log->v[i].code)
        found = 1;
    CHECK(found);
  }
}

static void test_failing_kernel(void) {
  static const uint64_t fail_items[] = {0, 13, 14, 500, 640, 1008};
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 1009), 0);
  t.fail_items = fail_items;
  t.n_fail = sizeof fail_items / sizeof fail_items[0];
  t.fail_code = 42;
  /* The second pass skips two failing items: a skipped item cannot fail. */
  amz__rangeset_t skip = {0};
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 10, 14, 0), 0);
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 600, 700, 0), 0);
  err_log_t *log = malloc(sizeof *log);
  CU_ASSERT_PTR_NOT_NULL_FATAL(log);
  static const int workers[] = {1, 2, 3, 8};
  static const uint64_t chunks[] = {1, 7, 1000};
  for (int pass = 0; pass < 2; pass++)
    for (size_t iw = 0; iw < 4; iw++)
      for (size_t is = 0; is < N_SCHEDS; is++)
        for (size_t ic = 0; ic < 3; ic++) {
          const amz__rangeset_t *sk = pass ? &skip : NULL;
          set_cfg(t.n, workers[iw], k_scheds[is], chunks[ic],
                  pass ? "failing kernel, skip" : "failing kernel");
          atomic_store(&log->n, 0);
          amz_hooks_t hooks = {.on_error = on_error_log};
          run_opts_t o = {.skip = sk, .hooks = &hooks, .user = log};
          amz__exec_out_t out;
          int rc = execute(&t, k_scheds[is], workers[iw], chunks[ic], &o, &out);
          /* Kernel failures are reported in the records, not as an executor error. */
          CHECK(rc == 0);
          if (rc == 0) {
            check_run(&t, k_scheds[is], workers[iw], chunks[ic], sk, &out);
            check_failures(&t, sk, &out, log);
          }
          /* The other items (and the failing ones: the kernel ran them) ran once. */
          CHECK(check_counts_and_reset(&t, sk) == 0);
          amz__exec_out_free(&out);
        }
  free(log);
  amz__rangeset_free(&skip);
  count_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Hooks                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct hook_log {
  int workers;
  _Atomic uint64_t chunk_calls, chunk_items, chunk_bad;
  _Atomic uint64_t progress_calls, progress_overlap, progress_backwards;
  _Atomic uint64_t last_done, last_total, max_done;
  _Atomic int in_progress;
  _Atomic int total_changed;
} hook_log_t;

static void on_chunk_log(const amz_chunk_info_t *c, void *user) {
  hook_log_t *l = user;
  atomic_fetch_add(&l->chunk_calls, 1);
  atomic_fetch_add(&l->chunk_items, c->end - c->begin);
  if (c->worker < 0 || c->worker >= l->workers || c->begin >= c->end ||
      c->t_start > c->t_end || c->status != 0)
    atomic_fetch_add(&l->chunk_bad, 1);
}

static void on_progress_log(const amz_progress_t *p, void *user) {
  hook_log_t *l = user;
  /* Another call inside this one would find the flag set. */
  if (atomic_exchange(&l->in_progress, 1)) atomic_fetch_add(&l->progress_overlap, 1);
  uint64_t calls = atomic_fetch_add(&l->progress_calls, 1);
  if (p->items_done < atomic_load(&l->max_done)) atomic_fetch_add(&l->progress_backwards, 1);
  if (p->items_done > atomic_load(&l->max_done)) atomic_store(&l->max_done, p->items_done);
  if (calls > 0 && p->items_total != atomic_load(&l->last_total))
    atomic_store(&l->total_changed, 1);
  atomic_store(&l->last_done, p->items_done);
  atomic_store(&l->last_total, p->items_total);
  /* Widen the window in which a concurrent call would be caught. */
  for (volatile int spin = 0; spin < 2000; spin++) {
  }
  atomic_store(&l->in_progress, 0);
}

static void hook_log_reset(hook_log_t *l, int workers) {
  memset(l, 0, sizeof *l);
  l->workers = workers;
}

static void test_hooks_grid(void) {
  static const uint64_t ns[] = {0, 1, 1009, 20000};
  static const uint64_t chunks[] = {1, 7, 1000};
  static const int workers[] = {1, 2, 4, 8};
  amz__rangeset_t skip = {0};
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 0, 1, 0), 0);
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&skip, 300, 400, 0), 0);
  hook_log_t log;
  amz_hooks_t hooks = {.on_chunk_done = on_chunk_log, .on_progress = on_progress_log};
  for (size_t in = 0; in < 4; in++) {
    count_task_t t;
    CU_ASSERT_EQUAL_FATAL(count_task_init(&t, ns[in]), 0);
    for (size_t iw = 0; iw < 4; iw++)
      for (size_t is = 0; is < N_SCHEDS; is++)
        for (size_t ic = 0; ic < 3; ic++) {
          /* The skip list only fits the larger sizes. */
          const amz__rangeset_t *sk = ns[in] >= 1009 && ic == 1 ? &skip : NULL;
          set_cfg(t.n, workers[iw], k_scheds[is], chunks[ic], sk ? "hooks, skip" : "hooks");
          hook_log_reset(&log, workers[iw]);
          /* Interval 0: progress is attempted after every chunk, which is the
           * hardest case for "never concurrently with itself". */
          run_opts_t o = {.skip = sk, .hooks = &hooks, .user = &log, .interval = 0.0};
          amz__exec_out_t out;
          int rc = execute(&t, k_scheds[is], workers[iw], chunks[ic], &o, &out);
          CHECK(rc == 0);
          if (rc == 0) {
            check_run(&t, k_scheds[is], workers[iw], chunks[ic], sk, &out);
            CHECK(atomic_load(&log.chunk_calls) == out.chunks_run);
            CHECK(atomic_load(&log.chunk_bad) == 0);
            /* Chunk infos carry the chunks, which tile [0, N) without a skip list;
             * with one they cover at least the items that ran. */
            if (!sk)
              CHECK(atomic_load(&log.chunk_items) == t.n);
            else
              CHECK(atomic_load(&log.chunk_items) >= out.items_run &&
                    atomic_load(&log.chunk_items) <= t.n);
            CHECK(atomic_load(&log.progress_calls) >= 1);
            CHECK(atomic_load(&log.progress_overlap) == 0);
            CHECK(atomic_load(&log.progress_backwards) == 0);
            CHECK(atomic_load(&log.total_changed) == 0);
            CHECK(atomic_load(&log.last_total) == out.items_run);
            CHECK(atomic_load(&log.last_done) == atomic_load(&log.last_total));
          }
          CHECK(check_counts_and_reset(&t, sk) == 0);
          amz__exec_out_free(&out);
        }
    count_task_free(&t);
  }
  amz__rangeset_free(&skip);
}

/* Progress calls recorded in order, for the fake-clock tests (one worker or a
 * frozen clock: no concurrency in the log itself beyond the executor's guarantee). */
typedef struct progress_seq {
  _Atomic int n;
  amz_progress_t v[64];
} progress_seq_t;

static void on_progress_seq(const amz_progress_t *p, void *user) {
  progress_seq_t *s = user;
  int i = atomic_fetch_add(&s->n, 1);
  if (i < 64) s->v[i] = *p;
}

static void test_progress_interval_fake_clock(void) {
  /* One worker, 10 chunks of 10 items, each kernel call advancing the fake clock by
   * 1 s: the run lasts 10 s of fake time, and with an interval of 2.5 s the hook
   * may be called at most 4 times during the run and once more at the end. */
  amz_fake_clock_t fc;
  atomic_init(&fc.t, 0.0);
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 100), 0);
  t.advance = &fc;
  progress_seq_t seq;
  memset(&seq, 0, sizeof seq);
  amz_hooks_t hooks = {.on_progress = on_progress_seq};
  run_opts_t o = {.hooks = &hooks, .user = &seq, .interval = 2.5, .clock = &clk};
  set_cfg(100, 1, AMZ_SCHED_DYNAMIC, 10, "fake clock");
  amz__exec_out_t out;
  CU_ASSERT_EQUAL_FATAL(execute(&t, AMZ_SCHED_DYNAMIC, 1, 10, &o, &out), 0);
  check_run(&t, AMZ_SCHED_DYNAMIC, 1, 10, NULL, &out);
  CHECK(check_counts_and_reset(&t, NULL) == 0);

  int n = atomic_load(&seq.n);
  CU_ASSERT(n >= 2); /* at least one report before the end of a 4-interval run */
  CU_ASSERT(n <= 5);
  for (int i = 1; i + 1 < n && i < 64; i++)
    CU_ASSERT(seq.v[i].elapsed_s - seq.v[i - 1].elapsed_s >= 2.5);
  if (n >= 1 && n <= 64) {
    const amz_progress_t *last = &seq.v[n - 1];
    CU_ASSERT_EQUAL(last->items_done, 100);
    CU_ASSERT_EQUAL(last->items_total, 100);
    CU_ASSERT_DOUBLE_EQUAL(last->elapsed_s, 10.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(last->items_per_s, 10.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(last->eta_s, 0.0, 1e-9);
  }
  for (int i = 0; i < n && i < 64; i++) {
    /* Items done so far match the fake time: 10 items per second. */
    CU_ASSERT_DOUBLE_EQUAL((double)seq.v[i].items_done, 10.0 * seq.v[i].elapsed_s, 1e-9);
    CU_ASSERT_EQUAL(seq.v[i].items_total, 100);
  }

  /* Fake time makes the records exact: chunk j runs from j to j + 1. */
  const amz__worker_rec_t *r = &out.w[0];
  CU_ASSERT_EQUAL(r->n_chunks, 10);
  for (size_t j = 0; j < r->n_chunks; j++) {
    CU_ASSERT_DOUBLE_EQUAL(r->chunks[j].t_start, (double)j, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r->chunks[j].t_end, (double)j + 1.0, 1e-9);
  }
  CU_ASSERT_DOUBLE_EQUAL(r->busy_s, 10.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r->dispatch_s, 0.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(out.parallel_s, 10.0, 1e-9);
  /* internal.h: wall_s is "run start to end, serial parts included" and serial_s is
   * "wall - parallel region"; the parallel region lasted 10 s of fake time. */
  CU_ASSERT(out.wall_s >= out.parallel_s);
  CU_ASSERT_DOUBLE_EQUAL(out.serial_s, out.wall_s - out.parallel_s, 1e-9);
  amz__exec_out_free(&out);
  count_task_free(&t);
}

static void test_progress_frozen_clock(void) {
  /* With time standing still all chunks end at the same instant, inside one
   * interval: whatever the schedule and the number of workers, the hook runs at most
   * once during the run and once at the end, and the end call reports everything
   * done. The run starts either at the origin (the first interval has not elapsed)
   * or 5 s after it (it has, so one report during the run is due). */
  amz_fake_clock_t fc;
  atomic_init(&fc.t, 5.0);
  amz__clock_t clk = {amz_fake_now, &fc, NULL, NULL, NULL};
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 1000), 0);
  for (size_t k = 0; k < 2 * N_SCHEDS; k++) {
    size_t is = k % N_SCHEDS;
    double shift = k < N_SCHEDS ? 0.0 : 5.0;
    progress_seq_t seq;
    memset(&seq, 0, sizeof seq);
    amz_hooks_t hooks = {.on_progress = on_progress_seq};
    run_opts_t o = {.hooks = &hooks, .user = &seq, .interval = 1.0, .clock = &clk,
                    .origin_shift = shift};
    set_cfg(1000, 4, k_scheds[is], 10, shift > 0 ? "frozen clock at 5 s" : "frozen clock at 0 s");
    amz__exec_out_t out;
    CHECK(execute(&t, k_scheds[is], 4, 10, &o, &out) == 0);
    int n = atomic_load(&seq.n);
    CHECK(n >= 1 && n <= 2);
    if (n >= 1 && n <= 64) {
      CHECK(seq.v[n - 1].items_done == 1000);
      CHECK(seq.v[n - 1].items_total == 1000);
    }
    for (int i = 0; i < n && i < 64; i++) CHECK(seq.v[i].elapsed_s == shift);
    /* Frozen time: every record starts and ends at the same instant. */
    for (int w = 0; w < out.workers; w++)
      for (size_t i = 0; i < out.w[w].n_chunks; i++)
        CHECK(out.w[w].chunks[i].t_start == shift && out.w[w].chunks[i].t_end == shift);
    CHECK(check_counts_and_reset(&t, NULL) == 0);
    amz__exec_out_free(&out);
  }
  count_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Record bound                                                              */
/* ------------------------------------------------------------------------- */

static void test_record_bound(void) {
  /* With room for few records, totals still count every chunk and every item runs;
   * only the per-chunk detail is cut. */
  count_task_t t;
  CU_ASSERT_EQUAL_FATAL(count_task_init(&t, 5000), 0);
  for (size_t is = 0; is < N_SCHEDS; is++) {
    int W = 2;
    set_cfg(t.n, W, k_scheds[is], 1, "max_records=8");
    run_opts_t o = {.max_records = 8};
    amz__exec_out_t out;
    CHECK(execute(&t, k_scheds[is], W, 1, &o, &out) == 0);
    uint64_t items = 0, kept = 0;
    for (int w = 0; w < out.workers; w++) {
      items += out.w[w].items;
      kept += out.w[w].n_chunks;
      CHECK(out.w[w].n_chunks <= 8 / (size_t)W + 1);
      CHECK(out.w[w].n_chunks <= out.w[w].chunks_total);
      CHECK(out.w[w].oom == 0);
    }
    CHECK(items == t.n && out.items_run == t.n);
    if (k_scheds[is] == AMZ_SCHED_DYNAMIC || k_scheds[is] == AMZ_SCHED_CYCLIC)
      CHECK(out.chunks_run == t.n);
    CHECK(kept <= out.chunks_run);
    CHECK(check_counts_and_reset(&t, NULL) == 0);
    amz__exec_out_free(&out);
  }
  count_task_free(&t);
}

/* Static blocks with a way out: one worker much slower than the other. */
typedef struct slow_task {
  pthread_t slow;           /* the thread whose items sleep */
  _Atomic uint64_t on_slow; /* items run there */
  _Atomic uint8_t *count;
} slow_task_t;

static int slow_kernel(uint64_t b, uint64_t e, void *arg) {
  slow_task_t *t = arg;
  int slow = pthread_equal(pthread_self(), t->slow);
  for (uint64_t i = b; i < e; i++) {
    atomic_fetch_add_explicit(&t->count[i], 1, memory_order_relaxed);
    if (slow) {
      struct timespec ts = {0, 200000}; /* 200 us */
      nanosleep(&ts, NULL);
    } else { /* 2 us: the slow worker starts before the other is done */
      double t0 = amz__monotonic_now(NULL);
      while (amz__monotonic_now(NULL) - t0 < 2e-6) {}
    }
  }
  if (slow) atomic_fetch_add_explicit(&t->on_slow, e - b, memory_order_relaxed);
  return 0;
}

static void test_static_way_out(void) {
  const uint64_t N = 2000;
  slow_task_t st = {.slow = pthread_self(), .count = calloc(N, 1)};
  CU_ASSERT_FATAL(st.count != NULL);
  amz_task_t task = {"slow", N, slow_kernel, &st};
  amz__exec_params_t p = {.task = &task, .schedule = AMZ_SCHED_STATIC, .workers = 2,
                          .clock = &amz__real_clock, .pool = &g_pool};
  p.t_origin = amz__clock_now(&amz__real_clock);
  amz__exec_out_t out;
  set_cfg(N, 2, AMZ_SCHED_STATIC, 0, "one worker sleeping 200 us per item");
  CU_ASSERT_FATAL(amz__execute(&p, &out) == 0);
  uint64_t once = 0, stolen = 0;
  for (uint64_t i = 0; i < N; i++) once += st.count[i] == 1;
  CHECK(once == N);
  for (int w = 0; w < 2; w++) stolen += out.w[w].stolen;
  /* Fixed blocks would leave it 1000 items (0.2 s); the other worker, about 2 us
   * per item, takes all but its first pieces (or all of them, when the caller's
   * thread, worker 0, starts late). */
  uint64_t slow_items = atomic_load(&st.on_slow);
  CHECK(slow_items == out.w[0].items);
  CHECK(stolen > 0);
  CHECK(slow_items < N / 4);
  /* The other worker ran the rest of the slow one's block from ranges it took. */
  CHECK(out.w[1].stolen >= N / 2 - slow_items && out.w[1].stolen <= out.w[1].items);
  if (slow_items >= N / 4 || stolen == 0)
    fprintf(stderr, "  the slow thread ran %llu items, %llu were taken\n",
            (unsigned long long)slow_items, (unsigned long long)stolen);
  amz__exec_out_free(&out);
  free((void *)st.count);
}

static void test_rangeset_items_in(void) {
  amz__rangeset_t s = {0};
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&s, 10, 20, 0), 0);
  CU_ASSERT_EQUAL_FATAL(amz__rangeset_add(&s, 30, 40, 0), 0);
  amz__rangeset_sort(&s);
  CU_ASSERT_EQUAL(amz__rangeset_items_in(&s, 0, 100), 20u);
  CU_ASSERT_EQUAL(amz__rangeset_items_in(&s, 15, 35), 10u);  /* 15..20 and 30..35 */
  CU_ASSERT_EQUAL(amz__rangeset_items_in(&s, 20, 30), 0u);
  CU_ASSERT_EQUAL(amz__rangeset_items_in(&s, 39, 41), 1u);
  CU_ASSERT_EQUAL(amz__rangeset_items_in(&s, 50, 60), 0u);
  amz__rangeset_free(&s);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("executor", suite_init, suite_cleanup);
  if (!s) return 1;
  CU_add_test(s, "pool grows and runs each worker id once", test_pool_grow);
  CU_add_test(s, "pool reused by 3000 runs of changing size", test_pool_reuse_many_runs);
  CU_add_test(s, "exactly once: N x workers x schedule x chunk", test_exactly_once_grid);
  CU_add_test(s, "exactly once: 10^7 items", test_exactly_once_ten_million);
  CU_add_test(s, "skip list: skipped items never run", test_skip_ranges);
  CU_add_test(s, "skip list covering every item", test_skip_everything);
  CU_add_test(s, "failing kernel: failed ranges, codes, on_error", test_failing_kernel);
  CU_add_test(s, "hooks: chunk_done per chunk, progress serialized", test_hooks_grid);
  CU_add_test(s, "progress interval and records on a fake clock",
              test_progress_interval_fake_clock);
  CU_add_test(s, "progress on a frozen clock", test_progress_frozen_clock);
  CU_add_test(s, "record bound keeps totals", test_record_bound);
  CU_add_test(s, "items of a range in a range set", test_rangeset_items_in);
  CU_add_test(s, "static blocks: the others take a slow worker's items",
              test_static_way_out);
  return amz_test_run();
}
