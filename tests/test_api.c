/*
 * Tests of the public API, through amorsize.h only: plans and runs of small real
 * kernels, exactly-once across sampling and runs, options, failures, hooks,
 * explanations, accessors on NULL and every bad input of every call.
 *
 * The kernels count every item they are given in a per-item atomic counter, from
 * amz_plan_create (sampling executes real items) to the end of the runs, so an item
 * sampled and then run again, or never run, shows up. No assertion depends on
 * timing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "amorsize.h"

/* test_util.c provides amz_test_run(); its header pulls in the internal API, which
 * this suite must not use, so the one declaration is repeated here. */
int amz_test_run(void);

/* ------------------------------------------------------------------------- */
/* Counting kernel                                                           */
/* ------------------------------------------------------------------------- */

typedef struct api_task {
  uint64_t n;
  _Atomic uint32_t *count;    /* executions per item, over every plan and run */
  _Atomic uint64_t calls;     /* kernel calls */
  _Atomic uint64_t bad_calls; /* empty or out-of-range ranges */
  uint64_t fail_begin, fail_end; /* items whose ranges fail with fail_code */
  int fail_code;
  unsigned work;              /* busy-loop iterations per item */
  _Atomic uint64_t sink;
  /* EBUSY probe: when busy_plan is set, the first kernel call runs it again. */
  amz_plan_t *_Atomic busy_plan;
  _Atomic int busy_tried, busy_rc, busy_result_null, busy_msg_ok;
} api_task_t;

static int api_task_init(api_task_t *t, uint64_t n) {
  memset(t, 0, sizeof *t);
  t->n = n;
  t->work = 64;
  t->count = calloc(n ? n : 1, sizeof *t->count);
  return t->count ? 0 : -1;
}

static void api_task_free(api_task_t *t) {
  free((void *)t->count);
  t->count = NULL;
}

static int kernel(uint64_t b, uint64_t e, void *arg) {
  api_task_t *t = arg;
  atomic_fetch_add_explicit(&t->calls, 1, memory_order_relaxed);
  if (b >= e || e > t->n) {
    atomic_fetch_add_explicit(&t->bad_calls, 1, memory_order_relaxed);
    return 0;
  }
  amz_plan_t *busy = atomic_load(&t->busy_plan);
  if (busy && !atomic_exchange(&t->busy_tried, 1)) {
    /* The plan is running (this kernel call is part of its run): a second amz_run
     * on it must be refused, not nested. */
    amz_result_t *r = (amz_result_t *)&t->sink; /* any non-NULL value */
    int rc = amz_run(busy, &r);
    atomic_store(&t->busy_rc, rc);
    atomic_store(&t->busy_result_null, r == NULL);
    atomic_store(&t->busy_msg_ok, amz_last_error()[0] != '\0');
    if (rc == 0) amz_result_destroy(r);
  }
  uint64_t acc = b;
  for (uint64_t i = b; i < e; i++) {
    atomic_fetch_add_explicit(&t->count[i], 1, memory_order_relaxed);
    for (unsigned k = 0; k < t->work; k++) acc = acc * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  atomic_fetch_add_explicit(&t->sink, acc, memory_order_relaxed);
  if (t->fail_code && b < t->fail_end && t->fail_begin < e) return t->fail_code;
  return 0;
}

/* Items whose count is not `want`. */
static uint64_t count_not(const api_task_t *t, uint32_t want) {
  uint64_t bad = 0;
  for (uint64_t i = 0; i < t->n; i++)
    if (atomic_load_explicit(&t->count[i], memory_order_relaxed) != want) bad++;
  return bad;
}

/* Items whose count is exactly `want`. */
static uint64_t count_eq(const api_task_t *t, uint32_t want) { return t->n - count_not(t, want); }

/* Small sampling budgets keep the suite fast; the cache directory comes from the
 * environment (ctest sets AMZ_CACHE_DIR; main disables the cache otherwise). */
static amz_options_t *fast_opts(void) {
  amz_options_t *o = NULL;
  if (amz_options_create(&o) != 0) return NULL;
  if (amz_options_set_sampling(o, 0.05, 0.05) != 0) {
    amz_options_destroy(o);
    return NULL;
  }
  return o;
}

/* ------------------------------------------------------------------------- */
/* Error-reporting helpers                                                   */
/* ------------------------------------------------------------------------- */

/* Puts a known text into amz_last_error(), so that a check can tell a fresh detail
 * from a stale one. */
static void mark_last_error(void) {
  amz_schedule_t s;
  amz_schedule_parse("zz-marker", &s);
}

static void expect_err(int rc, int code, const char *n1, const char *n2, int line,
                       const char *text) {
  const char *msg = amz_last_error();
  int ok = rc == code && msg && msg[0] != '\0' && !strstr(msg, "zz-marker") &&
           (!n1 || strstr(msg, n1)) && (!n2 || strstr(msg, n2));
  CU_assertImplementation(ok, (unsigned)line, text, __FILE__, "", CU_FALSE);
  if (!ok)
    fprintf(stderr, "  line %d: %s returned %d (%s), expected %d (%s); last error \"%s\"; "
                    "wanted \"%s\"%s%s%s\n",
            line, text, rc, amz_error_name(rc), code, amz_error_name(code), msg ? msg : "(null)",
            n1 ? n1 : "", n2 ? " and \"" : "", n2 ? n2 : "", n2 ? "\"" : "");
}

/* The call returns `code` and leaves a fresh amz_last_error() containing n1 (and n2). */
#define EXPECT_ERR(call, code, n1) \
  do { mark_last_error(); int rc_ = (call); expect_err(rc_, code, n1, NULL, __LINE__, #call); } while (0)
#define EXPECT_ERR2(call, code, n1, n2) \
  do { mark_last_error(); int rc_ = (call); expect_err(rc_, code, n1, n2, __LINE__, #call); } while (0)

/* ------------------------------------------------------------------------- */
/* Result checks                                                             */
/* ------------------------------------------------------------------------- */

/* Seconds on the monotonic clock, to bound the library's own timings. */
static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Structural checks every result satisfies: per-worker totals add up, chunk records
 * are well formed, and measured terms add up to their total. */
static void check_result(const amz_result_t *r, uint64_t n, uint64_t items_run,
                         int first_run) {
  int W = amz_result_workers(r);
  CU_ASSERT(W >= 1);
  CU_ASSERT_EQUAL(amz_result_items_done(r) + amz_result_items_failed(r), n);
  uint64_t items = 0, chunks = 0;
  for (int w = 0; w < W; w++) {
    amz_worker_stats_t s;
    CU_ASSERT_EQUAL(amz_result_worker(r, w, &s), 0);
    items += s.items;
    chunks += s.chunks;
  }
  CU_ASSERT_EQUAL(items, items_run);
  size_t nc = amz_result_chunk_count(r);
  /* A first run's records include the sampling blocks as well. */
  if (first_run) {
    CU_ASSERT(nc >= chunks);
  } else {
    CU_ASSERT_EQUAL(nc, chunks);
  }
  int prev_w = -1, order_ok = 1, shape_ok = 1;
  double prev_t = 0.0;
  for (size_t i = 0; i < nc; i++) {
    amz_chunk_info_t c;
    CU_ASSERT_EQUAL(amz_result_chunk(r, i, &c), 0);
    if (!(c.begin < c.end && c.end <= n && c.t_start <= c.t_end && c.worker >= 0)) shape_ok = 0;
    /* Documented order: by worker, then by time. */
    if (c.worker < prev_w || (c.worker == prev_w && c.t_start < prev_t)) order_ok = 0;
    prev_w = c.worker;
    prev_t = c.t_start;
  }
  CU_ASSERT(shape_ok);
  /* The order of a first run (sampling blocks included) depends on which worker
   * sampled what; test_first_run_chunk_order covers it deterministically enough. */
  if (!first_run) CU_ASSERT(order_ok);
  amz_terms_t m;
  CU_ASSERT_EQUAL(amz_result_terms(r, &m), 0);
  double sum = m.startup + m.compute + m.dispatch + m.imbalance + m.serial;
  CU_ASSERT_DOUBLE_EQUAL(sum, m.total, 1e-9 + 1e-6 * m.total);
  /* The run's wall time spans every chunk of the run (times from the run's start;
   * sampling blocks, before it, have negative times). */
  double last_end = 0.0;
  for (size_t i = 0; i < nc; i++) {
    amz_chunk_info_t c;
    if (amz_result_chunk(r, i, &c) == 0 && c.t_start >= 0 && c.t_end > last_end)
      last_end = c.t_end;
  }
  CU_ASSERT(amz_result_seconds(r) > 0.0);
  CU_ASSERT(amz_result_seconds(r) >= last_end - 1e-9);
}

/* ------------------------------------------------------------------------- */
/* Plans and runs                                                            */
/* ------------------------------------------------------------------------- */

static void test_plan_and_runs_exactly_once(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"exactly once", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  double t0 = mono_s();
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  double create_s = mono_s() - t0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(plan);

  /* Sampling ran real items, once each, and the plan knows how many. */
  uint64_t sampled = amz_plan_sampled_items(plan);
  CU_ASSERT(sampled >= 1 && sampled < t.n);
  CU_ASSERT_EQUAL(count_eq(&t, 1), sampled);
  CU_ASSERT_EQUAL(count_eq(&t, 0), t.n - sampled);
  CU_ASSERT(amz_plan_workers(plan) >= 1);
  CU_ASSERT(amz_plan_schedule(plan) != AMZ_SCHED_AUTO);
  CU_ASSERT(amz_plan_chunk(plan) >= 1);
  /* Probing and sampling real items take time, within the call's. */
  CU_ASSERT(amz_plan_setup_seconds(plan) > 0.0);
  CU_ASSERT(amz_plan_setup_seconds(plan) <= create_s);

  /* First run: exactly the items sampling did not do. */
  amz_result_t *r = NULL;
  int W = amz_plan_workers(plan);
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
  CU_ASSERT_EQUAL(amz_result_failure_count(r), 0);
  CU_ASSERT_EQUAL(amz_result_workers(r), W);
  CU_ASSERT_DOUBLE_EQUAL(amz_result_setup_seconds(r), amz_plan_setup_seconds(plan), 1e-12);
  check_result(r, t.n, t.n - sampled, 1);
  amz_result_destroy(r);

  /* Later runs: every item once more, sampling not repeated. */
  for (uint32_t run = 2; run <= 3; run++) {
    r = NULL;
    W = amz_plan_workers(plan);
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(count_not(&t, run), 0);
    CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
    CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
    CU_ASSERT_EQUAL(amz_result_workers(r), W);
    CU_ASSERT_DOUBLE_EQUAL(amz_result_setup_seconds(r), 0.0, 0.0);
    check_result(r, t.n, t.n, 0);
    amz_result_destroy(r);
  }
  CU_ASSERT_EQUAL(atomic_load(&t.bad_calls), 0);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

static void test_amz_for(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"amz_for", t.n, kernel, &t};
  amz_result_t *r = NULL;
  double t0 = mono_s();
  CU_ASSERT_EQUAL(amz_for(&task, o, &r), 0);
  double for_s = mono_s() - t0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  /* Sampled items included: the result covers all N, each run once. */
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
  /* amz_for's set-up and run both happen within the call. */
  CU_ASSERT(amz_result_setup_seconds(r) > 0.0);
  CU_ASSERT(amz_result_setup_seconds(r) + amz_result_seconds(r) <= for_s);
  amz_result_destroy(r);

  /* NULL options mean defaults (with the default sampling budget). */
  r = NULL;
  CU_ASSERT_EQUAL(amz_for(&task, NULL, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(count_not(&t, 2), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
  amz_result_destroy(r);
  CU_ASSERT_EQUAL(atomic_load(&t.bad_calls), 0);
  amz_options_destroy(o);
  api_task_free(&t);
}

static void test_zero_items(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 0), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"empty", 0, kernel, &t};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&task, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_items_done(r), 0);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
  CU_ASSERT_EQUAL(amz_result_failure_count(r), 0);
  amz_result_destroy(r);

  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  CU_ASSERT_EQUAL(amz_plan_sampled_items(plan), 0);
  CU_ASSERT(amz_plan_workers(plan) >= 1);
  for (int run = 0; run < 2; run++) {
    r = NULL;
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(amz_result_items_done(r), 0);
    CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
    check_result(r, 0, 0, run == 0);
    amz_result_destroy(r);
  }
  /* An empty loop still explains itself. */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(amz_plan_explain(plan, f), 0);
  r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_EQUAL(amz_result_explain(r, f), 0);
  amz_result_destroy(r);
  fclose(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Decision"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Bottlenecks"));
  free(buf);
  /* Nothing to do means the kernel is never called. */
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

static void test_one_item(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 1), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"one", 1, kernel, &t};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&task, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_items_done(r), 1);
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  amz_result_destroy(r);

  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  for (uint32_t run = 2; run <= 3; run++) {
    r = NULL;
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(amz_result_items_done(r), 1);
    CU_ASSERT_EQUAL(count_not(&t, run), 0);
    amz_result_destroy(r);
  }
  CU_ASSERT_EQUAL(atomic_load(&t.bad_calls), 0);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

static void test_forced_options(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  /* Three workers: more than a small CI machine has cores, still honored. */
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 3), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 64), 0);
  amz_task_t task = {"forced", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  /* The plan does not depend on the options object once made. */
  amz_options_destroy(o);
  for (uint32_t run = 1; run <= 2; run++) {
    /* Re-planning after a run must keep the constraints. */
    CU_ASSERT_EQUAL(amz_plan_workers(plan), 3);
    CU_ASSERT_EQUAL(amz_plan_schedule(plan), AMZ_SCHED_DYNAMIC);
    CU_ASSERT_EQUAL(amz_plan_chunk(plan), 64);
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(amz_result_workers(r), 3);
    CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
    CU_ASSERT_EQUAL(count_not(&t, run), 0);
    if (run == 2) {
      /* DYNAMIC with chunk 64 over all items: exactly ceil(N / 64) chunks. */
      uint64_t chunks = 0;
      for (int w = 0; w < 3; w++) {
        amz_worker_stats_t s;
        CU_ASSERT_EQUAL(amz_result_worker(r, w, &s), 0);
        chunks += s.chunks;
      }
      CU_ASSERT_EQUAL(chunks, (t.n + 63) / 64);
    }
    amz_result_destroy(r);
  }
  amz_plan_destroy(plan);
  api_task_free(&t);
}

static void test_every_schedule_forced(void) {
  static const uint64_t ns[] = {3, 5000};
  for (size_t in = 0; in < 2; in++)
    for (int s = AMZ_SCHED_AUTO; s <= AMZ_SCHED_AWF; s++)
      for (int with_chunk = 0; with_chunk < 2; with_chunk++) {
        /* STATIC takes no chunk (that combination is the ECONFLICT test). */
        if (s == AMZ_SCHED_STATIC && with_chunk) continue;
        api_task_t t;
        CU_ASSERT_EQUAL_FATAL(api_task_init(&t, ns[in]), 0);
        amz_options_t *o = fast_opts();
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        int W = in == 0 ? 8 : 2; /* N < P for the tiny loop */
        CU_ASSERT_EQUAL(amz_options_set_workers(o, W), 0);
        CU_ASSERT_EQUAL(amz_options_set_schedule(o, (amz_schedule_t)s), 0);
        if (with_chunk) CU_ASSERT_EQUAL(amz_options_set_chunk(o, 5), 0);
        amz_task_t task = {amz_schedule_name((amz_schedule_t)s), t.n, kernel, &t};
        amz_plan_t *plan = NULL;
        int rc = amz_plan_create(&task, o, &plan);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc != 0) {
          fprintf(stderr, "  %s N=%llu: %s\n", amz_schedule_name((amz_schedule_t)s),
                  (unsigned long long)t.n, amz_last_error());
          amz_options_destroy(o);
          api_task_free(&t);
          continue;
        }
        if (s == AMZ_SCHED_AUTO) {
          CU_ASSERT(amz_plan_schedule(plan) != AMZ_SCHED_AUTO);
        } else {
          CU_ASSERT_EQUAL(amz_plan_schedule(plan), (amz_schedule_t)s);
        }
        CU_ASSERT_EQUAL(amz_plan_workers(plan), W);
        if (s == AMZ_SCHED_STATIC) {
          CU_ASSERT_EQUAL(amz_plan_chunk(plan), (t.n + (uint64_t)W - 1) / (uint64_t)W);
        } else if (with_chunk && s != AMZ_SCHED_AUTO) {
          CU_ASSERT_EQUAL(amz_plan_chunk(plan), 5);
        }
        for (uint32_t run = 1; run <= 2; run++) {
          amz_result_t *r = NULL;
          CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
          CU_ASSERT_PTR_NOT_NULL_FATAL(r);
          CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
          CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
          /* Items move between workers only under static blocks, each counted
           * once, by the worker that ran it; the reserved words stay zero. */
          uint64_t taken = 0;
          for (int w = 0; w < amz_result_workers(r); w++) {
            amz_worker_stats_t ws;
            memset(&ws, 0xAB, sizeof ws);
            CU_ASSERT_EQUAL(amz_result_worker(r, w, &ws), 0);
            CU_ASSERT(ws.taken <= ws.items);
            for (int q = 0; q < 3; q++) CU_ASSERT_EQUAL(ws.reserved[q], 0);
            taken += ws.taken;
          }
          /* The explanation says how many items moved between static blocks (the
           * run's schedule is on its first line; the plan may re-plan after it). */
          char *text = NULL;
          size_t len = 0;
          FILE *f = open_memstream(&text, &len);
          CU_ASSERT_EQUAL(amz_result_explain(r, f), 0);
          fclose(f);
          char *nl = strchr(text, '\n');
          if (nl) *nl = '\0';
          int ran_static = strstr(text, " workers, static (") != NULL;
          if (nl) *nl = '\n';
          int said = strstr(text, taken ? "static blocks: workers that had finished their own "
                                          "took "
                                        : "static blocks: each worker ran its own block") != NULL;
          CU_ASSERT_EQUAL(said, ran_static);
          if (!ran_static) CU_ASSERT_EQUAL(taken, 0);
          CU_ASSERT(taken <= t.n);
          free(text);
          uint64_t bad = count_not(&t, run);
          CU_ASSERT_EQUAL(bad, 0);
          if (bad)
            fprintf(stderr, "  %s N=%llu run %u: %llu items not run exactly once\n",
                    amz_schedule_name((amz_schedule_t)s), (unsigned long long)t.n, run,
                    (unsigned long long)bad);
          amz_result_destroy(r);
        }
        CU_ASSERT_EQUAL(atomic_load(&t.bad_calls), 0);
        amz_plan_destroy(plan);
        amz_options_destroy(o);
        api_task_free(&t);
      }
}

static void test_task_copied(void) {
  /* The task is copied (name included) except for arg: changing the caller's struct
   * and name buffer after amz_plan_create changes nothing. */
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 1000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  char name[32] = "copied-task-name";
  amz_task_t task = {name, t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  task.n_items = 7;
  task.fn = NULL;
  strcpy(name, "overwritten");
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), 1000);
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(amz_plan_explain(plan, f), 0);
  fclose(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "copied-task-name"));
  CU_ASSERT_PTR_NULL(strstr(buf, "overwritten"));
  free(buf);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* A kernel whose every call takes a while (a sleep, so it costs no CPU): sampling
 * then hands its concurrent blocks to every worker, not only to the caller. */
static int sleepy_kernel(uint64_t b, uint64_t e, void *arg) {
  api_task_t *t = arg;
  struct timespec ts = {0, 300000};
  nanosleep(&ts, NULL);
  for (uint64_t i = b; i < e && e <= t->n; i++)
    atomic_fetch_add_explicit(&t->count[i], 1, memory_order_relaxed);
  return 0;
}

static void test_first_run_chunk_order(void) {
  /* amz_result_chunk documents the order "by worker, then by time", and a first
   * run's records include the sampling blocks. Two workers sample concurrently, so
   * some sampling blocks belong to worker 1; they must still come after all of
   * worker 0's records (sampling blocks and run chunks alike). */
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 2000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 100), 0);
  amz_task_t task = {"sleepy", t.n, sleepy_kernel, &t};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_for(&task, o, &r), 0);
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  size_t nc = amz_result_chunk_count(r);
  int prev_w = -1, order_ok = 1;
  double prev_t = 0.0;
  size_t first_bad = 0;
  for (size_t i = 0; i < nc; i++) {
    amz_chunk_info_t c;
    CU_ASSERT_EQUAL(amz_result_chunk(r, i, &c), 0);
    if (order_ok && (c.worker < prev_w || (c.worker == prev_w && c.t_start < prev_t))) {
      order_ok = 0;
      first_bad = i;
    }
    prev_w = c.worker;
    prev_t = c.t_start;
  }
  CU_ASSERT(order_ok);
  if (!order_ok)
    fprintf(stderr, "  first run: chunk %zu of %zu breaks the order by worker, then time\n",
            first_bad, nc);
  amz_result_destroy(r);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Failures                                                                  */
/* ------------------------------------------------------------------------- */

/* Checks a failed run's result against the failing items [fb, fe) with code 7. */
static void check_failed_result(const amz_result_t *r, uint64_t n, uint64_t fb, uint64_t fe) {
  CU_ASSERT_EQUAL(amz_result_items_done(r) + amz_result_items_failed(r), n);
  size_t nf = amz_result_failure_count(r);
  CU_ASSERT(nf >= 1);
  uint64_t covered = 0, total = 0, prev_end = 0;
  for (size_t i = 0; i < nf; i++) {
    uint64_t b = 0, e = 0;
    int code = 0;
    CU_ASSERT_EQUAL(amz_result_failure(r, i, &b, &e, &code), 0);
    CU_ASSERT_EQUAL(code, 7);
    CU_ASSERT(b < e && e <= n);
    /* Each failed range is one the kernel failed: it holds failing items. */
    CU_ASSERT(b < fe && fb < e);
    /* Sorted by begin and disjoint. */
    if (i > 0) CU_ASSERT(b >= prev_end);
    prev_end = e;
    total += e - b;
    uint64_t lo = b > fb ? b : fb, hi = e < fe ? e : fe;
    if (hi > lo) covered += hi - lo;
  }
  /* Together they contain every failing item, and the failed count is their size. */
  CU_ASSERT_EQUAL(covered, fe - fb);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), total);
}

static void test_failing_kernel(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  t.fail_begin = 1000;
  t.fail_end = 1010;
  t.fail_code = 7;
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  /* Chunks of one item make the later runs' failures exactly the failing items. */
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 1), 0);
  amz_task_t task = {"failing", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  /* Kernel failures while sampling are not plan errors. */
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);

  amz_result_t *r = NULL;
  EXPECT_ERR(amz_run(plan, &r), AMZ_EITEMS, "failed");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  /* The failing items ran too (the kernel failed after processing them). */
  CU_ASSERT_EQUAL(count_not(&t, 1), 0);
  check_failed_result(r, t.n, 1000, 1010);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(amz_result_explain(r, f), 0);
  fclose(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "failed"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Bottlenecks"));
  /* The findings as data: the failures come first, and every finding is a line of
   * the explanation's Bottlenecks section. */
  size_t nf = amz_result_finding_count(r);
  CU_ASSERT_FATAL(nf >= 1);
  amz_finding_t fd;
  CU_ASSERT_EQUAL_FATAL(amz_result_finding(r, 0, &fd), 0);
  CU_ASSERT_EQUAL(fd.kind, AMZ_FINDING_FAILURES);
  CU_ASSERT_EQUAL(fd.severity, AMZ_SEVERITY_HIGH);
  CU_ASSERT_EQUAL(fd.value, (double)amz_result_items_failed(r));
  char want[128];
  snprintf(want, sizeof want, "failures: %llu items failed in %zu range(s)",
           (unsigned long long)amz_result_items_failed(r), amz_result_failure_count(r));
  CU_ASSERT_PTR_NOT_NULL(strstr(fd.text, want));
  const char *section = strstr(buf, "\nBottlenecks\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(section);
  for (size_t i = 0; i < nf; i++) {
    CU_ASSERT_EQUAL_FATAL(amz_result_finding(r, i, &fd), 0);
    char line[2048];
    snprintf(line, sizeof line, "  [%s] %s\n", amz_severity_name(fd.severity), fd.text);
    CU_ASSERT_PTR_NOT_NULL(strstr(section, line));
    if (fd.severity != AMZ_SEVERITY_INFO && !isnan(fd.thresholds[0]) && fd.kind != AMZ_FINDING_PREDICTION)
      CU_ASSERT(fd.value >= fd.thresholds[fd.severity - 1]);
  }
  EXPECT_ERR(amz_result_finding(r, nf, &fd), AMZ_ERANGE, "out of range");
  EXPECT_ERR(amz_result_finding(r, 0, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_finding(NULL, 0, &fd), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL(amz_result_finding_count(NULL), 0);
  free(buf);
  amz_result_destroy(r);

  /* Second run, no sampling: ten one-item failures, exactly the failing items. */
  r = NULL;
  EXPECT_ERR(amz_run(plan, &r), AMZ_EITEMS, "failed");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(count_not(&t, 2), 0);
  check_failed_result(r, t.n, 1000, 1010);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 10);
  CU_ASSERT_EQUAL(amz_result_items_done(r), t.n - 10);
  CU_ASSERT_EQUAL(amz_result_failure_count(r), 10);
  for (size_t i = 0; i < amz_result_failure_count(r); i++) {
    uint64_t b = 0, e = 0;
    int code = 0;
    CU_ASSERT_EQUAL(amz_result_failure(r, i, &b, &e, &code), 0);
    CU_ASSERT_EQUAL(b, 1000 + i);
    CU_ASSERT_EQUAL(e, 1001 + i);
    CU_ASSERT_EQUAL(code, 7);
  }
  /* Every failing chunk carries the code in its record. */
  size_t failed_chunks = 0;
  for (size_t i = 0; i < amz_result_chunk_count(r); i++) {
    amz_chunk_info_t c;
    CU_ASSERT_EQUAL(amz_result_chunk(r, i, &c), 0);
    int fails = c.begin < 1010 && 1000 < c.end;
    CU_ASSERT_EQUAL(c.status, fails ? 7 : 0);
    failed_chunks += fails;
  }
  CU_ASSERT_EQUAL(failed_chunks, 10);
  amz_result_destroy(r);
  amz_plan_destroy(plan);

  /* amz_for reports the same way, with a result. */
  r = NULL;
  EXPECT_ERR(amz_for(&task, o, &r), AMZ_EITEMS, "failed");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(count_not(&t, 3), 0);
  check_failed_result(r, t.n, 1000, 1010);
  amz_result_destroy(r);

  /* Every item failing, on a plan left to choose everything: sampling meets only
   * failures, which the first run must report along with its own. */
  amz_options_destroy(o);
  o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  t.fail_begin = 0;
  t.fail_end = t.n;
  r = NULL;
  EXPECT_ERR(amz_for(&task, o, &r), AMZ_EITEMS, "failed");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(count_not(&t, 4), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), 0);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), t.n);
  check_failed_result(r, t.n, 0, t.n);
  amz_result_destroy(r);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* fork() after the plan's threads started: the child's run used to wait forever for
 * helpers that stayed in the parent. It runs on threads of its own now, and the
 * parent's plan is untouched. (Not under ThreadSanitizer, which ends a child of a
 * threaded process that starts threads.) */
static void test_fork_after_run(void) {
#if defined(__SANITIZE_THREAD__)
  printf("\n  skipped under ThreadSanitizer (it ends children of threaded processes) ");
  return;
#else
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_options_set_workers(o, 2);
  amz_task_t task = {"fork", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0); /* the pool's threads exist now */
  amz_result_destroy(r);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(30); /* a hang ends the child with SIGALRM: the parent sees it */
    amz_result_t *rc_r = NULL;
    int rc = amz_run(plan, &rc_r);
    int ok = rc == 0 && rc_r && amz_result_items_done(rc_r) == t.n &&
             amz_result_workers(rc_r) == 2;
    amz_result_destroy(rc_r);
    amz_plan_destroy(plan);
    _exit(ok ? 0 : 1);
  }
  CU_ASSERT_FATAL(pid > 0);
  int st = 0;
  CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
  CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
    fprintf(stderr, "  forked child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0); /* the parent goes on */
  CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
#endif
}

static void test_busy(void) {
  /* A second amz_run on a running plan (here from inside its own kernel) returns
   * AMZ_EBUSY with a NULL result, and does not disturb the run. */
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 5000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"busy", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  for (uint32_t run = 1; run <= 2; run++) {
    atomic_store(&t.busy_tried, 0);
    atomic_store(&t.busy_plan, plan);
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    atomic_store(&t.busy_plan, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* Sampling takes at most a tenth of the items: the first run calls the kernel
     * too, so the nested call was tried in both runs. */
    CU_ASSERT_EQUAL(atomic_load(&t.busy_tried), 1);
    CU_ASSERT_EQUAL(atomic_load(&t.busy_rc), AMZ_EBUSY);
    CU_ASSERT_EQUAL(atomic_load(&t.busy_result_null), 1);
    CU_ASSERT_EQUAL(atomic_load(&t.busy_msg_ok), 1);
    /* The refused call ran nothing: the run's items ran exactly once. */
    CU_ASSERT_EQUAL(count_not(&t, run), 0);
    CU_ASSERT_EQUAL(amz_result_items_done(r), t.n);
    amz_result_destroy(r);
  }
  /* Not busy any more once the run returned. */
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_EQUAL(count_not(&t, 3), 0);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Hooks                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct hook_seq {
  _Atomic long seq;
  const amz_plan_t *_Atomic ready_plan;
  const amz_result_t *_Atomic finish_result;
  _Atomic long ready_n, ready_seq;
  _Atomic long finish_n, finish_seq;
  _Atomic long chunk_n, chunk_min, chunk_max;
  _Atomic long progress_n, progress_min, progress_max;
  _Atomic long progress_busy, progress_overlap;
  _Atomic uint64_t progress_last_done, progress_last_total;
  _Atomic long error_n;
} hook_seq_t;

static void seq_reset(hook_seq_t *h) {
  long s = atomic_load(&h->seq);
  memset(h, 0, sizeof *h);
  atomic_store(&h->seq, s);
  atomic_store(&h->chunk_min, 1L << 60);
  atomic_store(&h->progress_min, 1L << 60);
}

static void atomic_min_l(_Atomic long *a, long v) {
  long old = atomic_load(a);
  while (v < old && !atomic_compare_exchange_weak(a, &old, v)) {
  }
}

static void atomic_max_l(_Atomic long *a, long v) {
  long old = atomic_load(a);
  while (v > old && !atomic_compare_exchange_weak(a, &old, v)) {
  }
}

static void h_plan_ready(const amz_plan_t *plan, void *user) {
  hook_seq_t *h = user;
  atomic_store(&h->ready_seq, atomic_fetch_add(&h->seq, 1));
  atomic_fetch_add(&h->ready_n, 1);
  atomic_store(&h->ready_plan, plan);
}

static void h_chunk(const amz_chunk_info_t *c, void *user) {
  (void)c;
  hook_seq_t *h = user;
  long s = atomic_fetch_add(&h->seq, 1);
  atomic_fetch_add(&h->chunk_n, 1);
  atomic_min_l(&h->chunk_min, s);
  atomic_max_l(&h->chunk_max, s);
}

static void h_progress(const amz_progress_t *p, void *user) {
  hook_seq_t *h = user;
  if (atomic_exchange(&h->progress_busy, 1)) atomic_fetch_add(&h->progress_overlap, 1);
  long s = atomic_fetch_add(&h->seq, 1);
  atomic_fetch_add(&h->progress_n, 1);
  atomic_min_l(&h->progress_min, s);
  atomic_max_l(&h->progress_max, s);
  atomic_store(&h->progress_last_done, p->items_done);
  atomic_store(&h->progress_last_total, p->items_total);
  atomic_store(&h->progress_busy, 0);
}

static void h_finish(const amz_result_t *r, void *user) {
  hook_seq_t *h = user;
  atomic_store(&h->finish_seq, atomic_fetch_add(&h->seq, 1));
  atomic_fetch_add(&h->finish_n, 1);
  atomic_store(&h->finish_result, r);
}

static void h_error(uint64_t b, uint64_t e, int code, int worker, void *user) {
  (void)b, (void)e, (void)code, (void)worker;
  hook_seq_t *h = user;
  atomic_fetch_add(&h->error_n, 1);
}

/* The order of one run's hooks: chunks and progress strictly after `after` and
 * before on_finish, which is the last. Progress ends with all the run's items. */
static void check_run_hooks(hook_seq_t *h, long after, const amz_result_t *r) {
  uint64_t chunks = 0, run_items = 0;
  for (int w = 0; w < amz_result_workers(r); w++) {
    amz_worker_stats_t s;
    CU_ASSERT_EQUAL(amz_result_worker(r, w, &s), 0);
    chunks += s.chunks;
    run_items += s.items;
  }
  CU_ASSERT_EQUAL(atomic_load(&h->finish_n), 1);
  CU_ASSERT_PTR_EQUAL(atomic_load(&h->finish_result), r);
  CU_ASSERT_EQUAL((uint64_t)atomic_load(&h->chunk_n), chunks);
  CU_ASSERT(atomic_load(&h->progress_n) >= 1);
  CU_ASSERT_EQUAL(atomic_load(&h->progress_overlap), 0);
  CU_ASSERT_EQUAL(atomic_load(&h->progress_last_total), run_items);
  CU_ASSERT_EQUAL(atomic_load(&h->progress_last_done), run_items);
  long fin = atomic_load(&h->finish_seq);
  if (atomic_load(&h->chunk_n) > 0) {
    CU_ASSERT(atomic_load(&h->chunk_min) > after);
    CU_ASSERT(atomic_load(&h->chunk_max) < fin);
  }
  CU_ASSERT(atomic_load(&h->progress_min) > after);
  CU_ASSERT(atomic_load(&h->progress_max) < fin);
  /* on_finish is the last hook of the run. */
  CU_ASSERT_EQUAL(fin, atomic_load(&h->seq) - 1);
  CU_ASSERT_EQUAL(atomic_load(&h->error_n), 0);
}

static void test_hooks_order(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  hook_seq_t *h = calloc(1, sizeof *h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  seq_reset(h);
  amz_hooks_t hooks = {h_plan_ready, h_chunk, h_progress, h_finish, h_error};
  CU_ASSERT_EQUAL(amz_options_set_hooks(o, &hooks, h), 0);
  /* Progress as often as possible, to exercise its serialization. */
  CU_ASSERT_EQUAL(amz_options_set_progress_interval(o, 0.0), 0);
  /* Chunks of 16 so that there are many chunk hooks. */
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 16), 0);
  amz_task_t task = {"hooks", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  CU_ASSERT_EQUAL(atomic_load(&h->ready_n), 1);
  CU_ASSERT_PTR_EQUAL(atomic_load(&h->ready_plan), plan);
  /* Sampling calls no run hook: on_plan_ready is the first hook. */
  CU_ASSERT_EQUAL(atomic_load(&h->ready_seq), 0);
  CU_ASSERT_EQUAL(atomic_load(&h->chunk_n), 0);
  CU_ASSERT_EQUAL(atomic_load(&h->progress_n), 0);
  CU_ASSERT_EQUAL(atomic_load(&h->finish_n), 0);
  uint64_t sampled = amz_plan_sampled_items(plan);

  for (int run = 1; run <= 2; run++) {
    long after = atomic_load(&h->seq) - 1;
    seq_reset(h);
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    check_run_hooks(h, after, r);
    /* The run's items: all but the sampled ones on the first run. */
    CU_ASSERT_EQUAL(atomic_load(&h->progress_last_total), run == 1 ? t.n - sampled : t.n);
    CU_ASSERT_EQUAL(atomic_load(&h->ready_n), 0); /* only amz_plan_create calls it */
    amz_result_destroy(r);
  }
  amz_plan_destroy(plan);

  /* amz_for: ready, then the run's hooks, then finish. */
  seq_reset(h);
  long start = atomic_load(&h->seq);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&task, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(atomic_load(&h->ready_n), 1);
  CU_ASSERT_EQUAL(atomic_load(&h->ready_seq), start);
  check_run_hooks(h, atomic_load(&h->ready_seq), r);
  CU_ASSERT_EQUAL(count_not(&t, 3), 0);
  amz_result_destroy(r);
  free(h);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Plan introspection and explanations                                       */
/* ------------------------------------------------------------------------- */

static int terms_add_up(const amz_terms_t *t) {
  double sum = t->startup + t->compute + t->dispatch + t->imbalance + t->serial;
  double d = sum - t->total;
  return (d < 0 ? -d : d) <= 1e-12 + 1e-9 * (t->total < 0 ? -t->total : t->total);
}

static void test_candidates_and_terms(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"candidates", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  amz_terms_t terms;
  CU_ASSERT_EQUAL(amz_plan_terms(plan, &terms), 0);
  CU_ASSERT(terms_add_up(&terms));
  CU_ASSERT_DOUBLE_EQUAL(amz_plan_predicted_seconds(plan), terms.total, 1e-15);
  CU_ASSERT(amz_plan_predicted_speedup(plan) > 0.0);
  size_t n = amz_plan_candidate_count(plan);
  CU_ASSERT(n >= 1);
  int chosen_found = 0;
  double prev = -1.0;
  for (size_t i = 0; i < n; i++) {
    amz_candidate_t c;
    CU_ASSERT_EQUAL(amz_plan_candidate(plan, i, &c), 0);
    CU_ASSERT(c.workers >= 1);
    CU_ASSERT(c.schedule > AMZ_SCHED_AUTO && c.schedule <= AMZ_SCHED_AWF);
    CU_ASSERT(terms_add_up(&c.terms));
    CU_ASSERT_DOUBLE_EQUAL(c.predicted_s, c.terms.total, 1e-15);
    /* Sorted by predicted time, fastest first. */
    CU_ASSERT(c.predicted_s >= prev);
    prev = c.predicted_s;
    if (c.workers == amz_plan_workers(plan) && c.schedule == amz_plan_schedule(plan))
      chosen_found = 1;
  }
  CU_ASSERT(chosen_found);
  /* The measured workload: what sampling saw, as the explanation prints it. */
  amz_workload_info_t wi;
  memset(&wi, 0xAB, sizeof wi);
  CU_ASSERT_EQUAL(amz_plan_workload(plan, &wi), 0);
  CU_ASSERT_EQUAL(wi.sampled_items, amz_plan_sampled_items(plan));
  CU_ASSERT(wi.mean_item_s > 0 && wi.median_item_s > 0 && wi.max_item_s >= wi.median_item_s);
  CU_ASSERT(wi.contention >= 1.0 && wi.contention_workers >= 1);
  CU_ASSERT(wi.cpu_ratio > 0 && wi.rel_error >= 0 && wi.cv >= 0);
  for (int k = 0; k < 4; k++) CU_ASSERT(wi.reserved[k] == 0);
  EXPECT_ERR(amz_plan_workload(plan, NULL), AMZ_EINVAL, "amz_plan_workload");
  EXPECT_ERR(amz_plan_workload(NULL, &wi), AMZ_EINVAL, "amz_plan_workload");
  /* Growth: the reserved words of every struct the library fills are zero, even
   * over a caller's struct full of garbage. */
  amz_candidate_t c;
  memset(&terms, 0xAB, sizeof terms);
  memset(&c, 0xAB, sizeof c);
  CU_ASSERT_EQUAL(amz_plan_terms(plan, &terms), 0);
  CU_ASSERT_EQUAL(amz_plan_candidate(plan, 0, &c), 0);
  for (int k = 0; k < 4; k++)
    CU_ASSERT(terms.reserved[k] == 0 && c.reserved[k] == 0 && c.terms.reserved[k] == 0);
  EXPECT_ERR(amz_plan_candidate(plan, n, &c), AMZ_ERANGE, "out of range");
  char idx[32];
  snprintf(idx, sizeof idx, "%zu", (size_t)4242 + n);
  EXPECT_ERR(amz_plan_candidate(plan, 4242 + n, &c), AMZ_ERANGE, idx);
  /* The prediction's interval holds the point; the run's result carries the one
   * its plan gave it. */
  double lo = -1, hi = -1, rlo = -1, rhi = -1;
  CU_ASSERT_EQUAL(amz_plan_predicted_interval(plan, &lo, &hi), 0);
  CU_ASSERT(lo > 0 && lo < amz_plan_predicted_seconds(plan));
  CU_ASSERT(hi > amz_plan_predicted_seconds(plan));
  EXPECT_ERR(amz_plan_predicted_interval(NULL, &lo, &hi), AMZ_EINVAL,
             "amz_plan_predicted_interval");
  EXPECT_ERR(amz_plan_predicted_interval(plan, NULL, &hi), AMZ_EINVAL,
             "amz_plan_predicted_interval");
  EXPECT_ERR(amz_plan_predicted_interval(plan, &lo, NULL), AMZ_EINVAL,
             "amz_plan_predicted_interval");
  /* A run (which may re-plan: the candidate count can change), and the structs
   * of its result. */
  amz_result_t *res = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_run(plan, &res), 0);
  CU_ASSERT_EQUAL(amz_result_predicted_interval(res, &rlo, &rhi), 0);
  CU_ASSERT_DOUBLE_EQUAL(rlo, lo, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(rhi, hi, 0.0);
  EXPECT_ERR(amz_result_predicted_interval(NULL, &rlo, &rhi), AMZ_EINVAL,
             "amz_result_predicted_interval");
  EXPECT_ERR(amz_result_predicted_interval(res, &rlo, NULL), AMZ_EINVAL,
             "amz_result_predicted_interval");
  amz_worker_stats_t ws;
  memset(&ws, 0xAB, sizeof ws);
  memset(&terms, 0xAB, sizeof terms);
  CU_ASSERT_EQUAL(amz_result_worker(res, 0, &ws), 0);
  CU_ASSERT_EQUAL(amz_result_terms(res, &terms), 0);
  for (int k = 0; k < 4; k++) CU_ASSERT(terms.reserved[k] == 0);
  for (int k = 0; k < 3; k++) CU_ASSERT(ws.reserved[k] == 0);
  for (size_t i = 0; i < amz_result_finding_count(res); i++) {
    amz_finding_t f;
    memset(&f, 0xAB, sizeof f);
    CU_ASSERT_EQUAL(amz_result_finding(res, i, &f), 0);
    for (int k = 0; k < 4; k++) CU_ASSERT(f.reserved[k] == 0);
  }
  amz_result_destroy(res);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* Writes an explanation into memory; returns the text (caller frees) or NULL. */
static char *explain_plan(const amz_plan_t *p, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  *rc = amz_plan_explain(p, f);
  fclose(f);
  return buf;
}

static char *explain_result(const amz_result_t *r, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  *rc = amz_result_explain(r, f);
  fclose(f);
  return buf;
}

static void test_explain(void) {
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 20000), 0);
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"explained loop", t.n, kernel, &t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  static const char *const sections[] = {"Workload", "Resources", "Decision", "Prediction",
                                         "Best rejected alternatives", "Constraints",
                                         "Recommendations"};
  int rc = -1;
  char *text = explain_plan(plan, &rc);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_EQUAL(rc, 0);
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    CU_ASSERT_PTR_NOT_NULL(strstr(text, sections[i]));
    if (!strstr(text, sections[i])) fprintf(stderr, "  plan text lacks \"%s\"\n", sections[i]);
  }
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "explained loop"));
  /* No constraint was given: the section says so rather than listing any. */
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "none"));
  /* The prediction's interval and what it is made of. */
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "(aimed at 9 runs in 10); widest part: "));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "run-to-run +/-"));
  free(text);

  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_run(plan, &r), 0);
  rc = -1;
  text = explain_result(r, &rc);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "Bottlenecks"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "explained loop"));
  free(text);

  /* A re-planned plan still explains itself, with every section. */
  rc = -1;
  text = explain_plan(plan, &rc);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_EQUAL(rc, 0);
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    CU_ASSERT_PTR_NOT_NULL(strstr(text, sections[i]));
  free(text);

  /* A stream that cannot be written: AMZ_EIO, with a detail. */
  FILE *ro = fopen("/dev/null", "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
  EXPECT_ERR(amz_plan_explain(plan, ro), AMZ_EIO, "write");
  clearerr(ro);
  EXPECT_ERR(amz_result_explain(r, ro), AMZ_EIO, "write");
  fclose(ro);

  /* Constraints are listed with their origin. */
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_CYCLIC), 0);
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  text = explain_plan(plan, &rc);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "workers = 2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "schedule = cyclic"));
  free(text);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);

  /* A loop too short to sample beyond its calibration blocks: an uncertain mean is
   * not blamed on the sampling budget. */
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 30), 0);
  o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t tiny = {"tiny loop", t.n, kernel, &t};
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&tiny, o, &plan), 0);
  text = explain_plan(plan, &rc);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "whole loop under 2 ms"));
  CU_ASSERT_PTR_NULL(strstr(text, "allow a larger sampling budget"));
  if (strstr(text, "known only to"))
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "the loop is too short to sample beyond its first calls"));
  free(text);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

/* ------------------------------------------------------------------------- */
/* NULL accessors, bad inputs, error strings                                 */
/* ------------------------------------------------------------------------- */

static void test_null_accessors(void) {
  /* Documented defaults for a NULL plan or result. */
  CU_ASSERT_EQUAL(amz_plan_workers(NULL), 0);
  CU_ASSERT_EQUAL(amz_plan_schedule(NULL), AMZ_SCHED_AUTO);
  CU_ASSERT_EQUAL(amz_plan_chunk(NULL), 0);
  CU_ASSERT_DOUBLE_EQUAL(amz_plan_predicted_seconds(NULL), -1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz_plan_predicted_speedup(NULL), -1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz_result_seconds(NULL), -1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(amz_result_predicted_seconds(NULL), -1.0, 0.0);
  /* Counts and sizes of nothing are zero. */
  CU_ASSERT_EQUAL(amz_plan_sampled_items(NULL), 0);
  CU_ASSERT_EQUAL(amz_plan_candidate_count(NULL), 0);
  CU_ASSERT_DOUBLE_EQUAL(amz_result_setup_seconds(NULL), 0.0, 0.0);
  CU_ASSERT_EQUAL(amz_result_items_done(NULL), 0);
  CU_ASSERT_EQUAL(amz_result_items_failed(NULL), 0);
  CU_ASSERT_EQUAL(amz_result_workers(NULL), 0);
  CU_ASSERT_EQUAL(amz_result_failure_count(NULL), 0);
  CU_ASSERT_EQUAL(amz_result_chunk_count(NULL), 0);
  /* Destroy functions accept NULL. */
  amz_options_destroy(NULL);
  amz_plan_destroy(NULL);
  amz_result_destroy(NULL);
  /* Static strings. */
  const char *v = amz_version_string();
  int maj = -1, min = -1, pat = -1;
  CU_ASSERT_PTR_NOT_NULL_FATAL(v);
  CU_ASSERT_EQUAL(sscanf(v, "%d.%d.%d", &maj, &min, &pat), 3);
  /* The numeric version is the string's, and the headers' (this test is built with
   * the library it runs). */
  CU_ASSERT_EQUAL(amz_version(), maj * 10000 + min * 100 + pat);
  CU_ASSERT_EQUAL(amz_version(), AMZ_VERSION_NUMBER);
  CU_ASSERT_EQUAL(maj, AMZ_VERSION_MAJOR);
  CU_ASSERT_EQUAL(min, AMZ_VERSION_MINOR);
  CU_ASSERT_EQUAL(pat, AMZ_VERSION_PATCH);
  CU_ASSERT_STRING_EQUAL(amz_schedule_name((amz_schedule_t)99), "invalid");
  CU_ASSERT_STRING_EQUAL(amz_schedule_name((amz_schedule_t)-1), "invalid");
  static const char *const names[] = {"auto", "static", "cyclic", "dynamic",
                                      "guided", "factoring", "awf"};
  for (int s = 0; s < AMZ_SCHED_COUNT; s++) {
    CU_ASSERT_STRING_EQUAL(amz_schedule_name((amz_schedule_t)s), names[s]);
    amz_schedule_t out = (amz_schedule_t)-1;
    CU_ASSERT_EQUAL(amz_schedule_parse(names[s], &out), 0);
    CU_ASSERT_EQUAL(out, (amz_schedule_t)s);
  }
  amz_schedule_t out = AMZ_SCHED_AUTO;
  CU_ASSERT_EQUAL(amz_schedule_parse("FaCtOrInG", &out), 0);
  CU_ASSERT_EQUAL(out, AMZ_SCHED_FACTORING);
}

static void test_bad_inputs(void) {
  amz_options_t *o = NULL;
  amz_schedule_t s;
  /* Options. */
  EXPECT_ERR(amz_options_create(NULL), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL_FATAL(amz_options_create(&o), 0);
  EXPECT_ERR(amz_options_set_workers(NULL, 2), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_workers(o, -1), AMZ_EINVAL, "-1");
  EXPECT_ERR(amz_options_set_workers(o, 5000), AMZ_EINVAL, "5000");
  EXPECT_ERR(amz_options_set_workers(o, 4097), AMZ_EINVAL, "4097");
  EXPECT_ERR(amz_options_set_schedule(NULL, AMZ_SCHED_STATIC), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_schedule(o, (amz_schedule_t)99), AMZ_ESCHED, "99");
  EXPECT_ERR(amz_options_set_schedule(o, (amz_schedule_t)-3), AMZ_ESCHED, "-3");
  EXPECT_ERR(amz_options_set_schedule(o, (amz_schedule_t)AMZ_SCHED_COUNT), AMZ_ESCHED, "7");
  EXPECT_ERR(amz_options_set_chunk(NULL, 4), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_sampling(NULL, 0.1, 0.1), AMZ_EINVAL, "NULL");
  EXPECT_ERR2(amz_options_set_sampling(o, 0.0, 0.1), AMZ_EINVAL, "budget", "got 0");
  EXPECT_ERR2(amz_options_set_sampling(o, -1.0, 0.1), AMZ_EINVAL, "budget", "-1");
  EXPECT_ERR2(amz_options_set_sampling(o, 0.1, 0.0), AMZ_EINVAL, "error", "got 0");
  EXPECT_ERR2(amz_options_set_sampling(o, 0.1, 1.5), AMZ_EINVAL, "error", "1.5");
  EXPECT_ERR2(amz_options_set_sampling(o, 0.1, 1.0), AMZ_EINVAL, "error", "got 1");
  EXPECT_ERR(amz_options_set_hooks(NULL, NULL, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_progress_interval(NULL, 1.0), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_progress_interval(o, -1.0), AMZ_EINVAL, "-1");
  EXPECT_ERR(amz_options_set_cache_dir(NULL, "/tmp"), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_options_set_use_env(NULL, 0), AMZ_EINVAL, "NULL");
  /* Valid boundaries are accepted. */
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 0), 0);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 4096), 0);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 0), 0);
  CU_ASSERT_EQUAL(amz_options_set_progress_interval(o, 0.0), 0);
  CU_ASSERT_EQUAL(amz_options_set_hooks(o, NULL, NULL), 0);
  CU_ASSERT_EQUAL(amz_options_set_sampling(o, 0.05, 0.05), 0);

  /* Schedule names. */
  EXPECT_ERR(amz_schedule_parse("bogus", &s), AMZ_ESCHED, "bogus");
  EXPECT_ERR(amz_schedule_parse("", &s), AMZ_ESCHED, "''");
  EXPECT_ERR(amz_schedule_parse(NULL, &s), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_schedule_parse("static", NULL), AMZ_EINVAL, "NULL");

  /* Plan creation. */
  api_task_t t;
  CU_ASSERT_EQUAL_FATAL(api_task_init(&t, 1000), 0);
  amz_task_t task = {"bad inputs", t.n, kernel, &t};
  amz_task_t no_fn = {"no kernel", 10, NULL, NULL};
  amz_plan_t *plan = (amz_plan_t *)&t; /* non-NULL: must be cleared on failure */
  EXPECT_ERR(amz_plan_create(NULL, o, &plan), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(plan);
  plan = (amz_plan_t *)&t;
  EXPECT_ERR2(amz_plan_create(&no_fn, o, &plan), AMZ_EINVAL, "fn", "no kernel");
  CU_ASSERT_PTR_NULL(plan);
  EXPECT_ERR(amz_plan_create(&task, o, NULL), AMZ_EINVAL, "plan");
  /* STATIC with a chunk contradicts itself. */
  amz_options_t *bad = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_options_create(&bad), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(bad, AMZ_SCHED_STATIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(bad, 8), 0);
  plan = (amz_plan_t *)&t;
  EXPECT_ERR2(amz_plan_create(&task, bad, &plan), AMZ_ECONFLICT, "static", "8");
  CU_ASSERT_PTR_NULL(plan);
  amz_result_t *r = (amz_result_t *)&t;
  EXPECT_ERR2(amz_for(&task, bad, &r), AMZ_ECONFLICT, "static", "8");
  CU_ASSERT_PTR_NULL(r);
  amz_options_destroy(bad);
  /* No bad call ran the kernel. */
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);

  /* amz_for. */
  r = (amz_result_t *)&t;
  EXPECT_ERR(amz_for(NULL, o, &r), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&t;
  EXPECT_ERR(amz_for(&no_fn, o, &r), AMZ_EINVAL, "fn");
  CU_ASSERT_PTR_NULL(r);
  EXPECT_ERR(amz_for(&task, o, NULL), AMZ_EINVAL, "result");
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);

  /* Plan accessors and runs; the failed setters left the options usable. */
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  amz_terms_t terms;
  amz_candidate_t cand;
  EXPECT_ERR(amz_plan_terms(NULL, &terms), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_plan_terms(plan, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_plan_candidate(NULL, 0, &cand), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_plan_candidate(plan, 0, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_plan_candidate(plan, (size_t)-1, &cand), AMZ_ERANGE, "out of range");
  EXPECT_ERR(amz_plan_explain(NULL, stdout), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_plan_explain(plan, NULL), AMZ_EINVAL, "NULL");
  r = (amz_result_t *)&t;
  EXPECT_ERR(amz_run(NULL, &r), AMZ_EINVAL, "plan");
  CU_ASSERT_PTR_NULL(r);
  EXPECT_ERR(amz_run(plan, NULL), AMZ_EINVAL, "result");

  /* Result accessors. */
  r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_run(plan, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  uint64_t b, e;
  int code;
  amz_chunk_info_t ci;
  amz_worker_stats_t ws;
  char needle[64];
  EXPECT_ERR(amz_result_failure(NULL, 0, &b, &e, &code), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL(amz_result_failure_count(r), 0);
  EXPECT_ERR2(amz_result_failure(r, 0, &b, &e, &code), AMZ_ERANGE, "failure", "index 0");
  EXPECT_ERR(amz_result_failure(r, 4243, &b, &e, &code), AMZ_ERANGE, "4243");
  size_t nc = amz_result_chunk_count(r);
  EXPECT_ERR(amz_result_chunk(NULL, 0, &ci), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_chunk(r, 0, NULL), AMZ_EINVAL, "NULL");
  snprintf(needle, sizeof needle, "index %zu", nc);
  EXPECT_ERR2(amz_result_chunk(r, nc, &ci), AMZ_ERANGE, "chunk", needle);
  snprintf(needle, sizeof needle, "%zu", nc + 4244);
  EXPECT_ERR(amz_result_chunk(r, nc + 4244, &ci), AMZ_ERANGE, needle);
  int W = amz_result_workers(r);
  EXPECT_ERR(amz_result_worker(NULL, 0, &ws), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_worker(r, 0, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_worker(r, -1, &ws), AMZ_ERANGE, "worker -1");
  snprintf(needle, sizeof needle, "worker %d", W);
  EXPECT_ERR(amz_result_worker(r, W, &ws), AMZ_ERANGE, needle);
  EXPECT_ERR(amz_result_terms(NULL, &terms), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_terms(r, NULL), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_explain(NULL, stdout), AMZ_EINVAL, "NULL");
  EXPECT_ERR(amz_result_explain(r, NULL), AMZ_EINVAL, "NULL");
  /* In-range reads still work after the failed ones. */
  CU_ASSERT_EQUAL(amz_result_worker(r, W - 1, &ws), 0);
  if (nc > 0) CU_ASSERT_EQUAL(amz_result_chunk(r, nc - 1, &ci), 0);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  api_task_free(&t);
}

static void *fresh_thread(void *arg) {
  int *ok = arg;
  /* A thread on which nothing failed yet has an empty detail... */
  ok[0] = amz_last_error()[0] == '\0';
  /* ...and its own detail once something fails there. */
  amz_schedule_t s;
  ok[1] = amz_schedule_parse("thread-local-bogus", &s) == AMZ_ESCHED &&
          strstr(amz_last_error(), "thread-local-bogus") != NULL;
  return NULL;
}

static void test_last_error_thread_local(void) {
  mark_last_error();
  int ok[2] = {0, 0};
  pthread_t th;
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, fresh_thread, ok), 0);
  pthread_join(th, NULL);
  CU_ASSERT(ok[0]);
  CU_ASSERT(ok[1]);
  /* The other thread's failure did not touch this thread's detail. */
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "zz-marker"));
  CU_ASSERT_PTR_NULL(strstr(amz_last_error(), "thread-local-bogus"));
}

static void test_error_strings(void) {
  /* Every code of the map has its message and its name; unknown codes have the
   * documented fallbacks. */
  static const struct {
    int code;
    const char *msg, *name;
  } map[] = {
#define XX(name, value, msg) {value, msg, "AMZ_" #name},
      AMZ_ERROR_MAP(XX)
#undef XX
  };
  size_t n = sizeof map / sizeof map[0];
  CU_ASSERT_EQUAL(n, 17);
  for (size_t i = 0; i < n; i++) {
    CU_ASSERT_STRING_EQUAL(amz_strerror(map[i].code), map[i].msg);
    CU_ASSERT_STRING_EQUAL(amz_error_name(map[i].code), map[i].name);
    CU_ASSERT(map[i].code < 0);
    for (size_t j = 0; j < i; j++) CU_ASSERT(map[i].code != map[j].code);
  }
  CU_ASSERT_EQUAL(AMZ_EINVAL, -1);
  CU_ASSERT_EQUAL(AMZ_ERANGE, -12);
  CU_ASSERT_EQUAL(AMZ_EEXIST, -13);
  CU_ASSERT_EQUAL(AMZ_EFORMAT, -14);
  CU_ASSERT_EQUAL(AMZ_EMISMATCH, -15);
  CU_ASSERT_EQUAL(AMZ_ETIMEOUT, -16);
  CU_ASSERT_EQUAL(AMZ_ENOTSUP, -17);
  CU_ASSERT_STRING_EQUAL(amz_strerror(12345), "unknown error");
  CU_ASSERT_STRING_EQUAL(amz_strerror(-18), "unknown error");
  CU_ASSERT_STRING_EQUAL(amz_error_name(12345), "AMZ_UNKNOWN");
  CU_ASSERT_STRING_EQUAL(amz_error_name(-18), "AMZ_UNKNOWN");
  CU_ASSERT_STRING_EQUAL(amz_error_name(AMZ_OK), "AMZ_OK");
  CU_ASSERT_PTR_NOT_NULL(amz_strerror(AMZ_OK));
  CU_ASSERT_STRING_NOT_EQUAL(amz_strerror(AMZ_OK), "unknown error");
}

int main(void) {
  /* The environment must not steer these tests (AMZ_WORKERS would override forced
   * options), and outside ctest the probe cache must not land in $HOME. */
  unsetenv("AMZ_WORKERS");
  unsetenv("AMZ_SCHEDULE");
  unsetenv("AMZ_CHUNK");
  setenv("AMZ_CACHE_DIR", "", 0);
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("api", NULL, NULL);
  if (!s) return 1;
  CU_add_test(s, "plan + 3 runs: every item exactly once per run", test_plan_and_runs_exactly_once);
  CU_add_test(s, "amz_for: every item exactly once", test_amz_for);
  CU_add_test(s, "N = 0", test_zero_items);
  CU_add_test(s, "N = 1", test_one_item);
  CU_add_test(s, "forced workers, schedule, chunk are honored", test_forced_options);
  CU_add_test(s, "every schedule forced runs exactly once", test_every_schedule_forced);
  CU_add_test(s, "task copied except arg", test_task_copied);
  CU_add_test(s, "first run: chunks ordered by worker, then time", test_first_run_chunk_order);
  CU_add_test(s, "failing kernel: AMZ_EITEMS and failed ranges", test_failing_kernel);
  CU_add_test(s, "amz_run on a running plan: AMZ_EBUSY", test_busy);
  CU_add_test(s, "fork after the threads started: the child runs", test_fork_after_run);
  CU_add_test(s, "hooks order", test_hooks_order);
  CU_add_test(s, "candidates and terms", test_candidates_and_terms);
  CU_add_test(s, "explanations", test_explain);
  CU_add_test(s, "accessors on NULL and static strings", test_null_accessors);
  CU_add_test(s, "bad inputs: codes and details", test_bad_inputs);
  CU_add_test(s, "error strings", test_error_strings);
  CU_add_test(s, "amz_last_error is per thread", test_last_error_thread_local);
  return amz_test_run();
}
