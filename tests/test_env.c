/*
 * Environment overrides: AMZ_WORKERS, AMZ_SCHEDULE and AMZ_CHUNK are read by
 * amz_plan_create, win over the options unless amz_options_set_use_env(opts, 0), and
 * are parsed strictly: a malformed value is an error (AMZ_EENV) whose detail names
 * the variable and quotes the value, never a silent default.
 *
 * Every test starts and ends with the three variables unset (suite setup and
 * teardown), so a failing test cannot leak its environment into the next one.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "amorsize.h"

/* From test_util.c; its header would pull in the internal API, not needed here. */
int amz_test_run(void);

static void clear_env(void) {
  unsetenv("AMZ_WORKERS");
  unsetenv("AMZ_SCHEDULE");
  unsetenv("AMZ_CHUNK");
}

/* ------------------------------------------------------------------------- */
/* A small counting kernel                                                   */
/* ------------------------------------------------------------------------- */

#define N_ITEMS 4000

static _Atomic uint32_t g_count[N_ITEMS];
static _Atomic uint64_t g_calls;

static int kernel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  atomic_fetch_add(&g_calls, 1);
  for (uint64_t i = b; i < e && i < N_ITEMS; i++) {
    atomic_fetch_add_explicit(&g_count[i], 1, memory_order_relaxed);
    /* A little work per item, so that sampling measures something. */
    for (volatile int k = 0; k < 50; k++) {
    }
  }
  return 0;
}

static void reset_counts(void) {
  for (size_t i = 0; i < N_ITEMS; i++) atomic_store(&g_count[i], 0);
  atomic_store(&g_calls, 0);
}

/* Items not executed exactly `want` times. */
static size_t count_not(uint32_t want) {
  size_t bad = 0;
  for (size_t i = 0; i < N_ITEMS; i++)
    if (atomic_load(&g_count[i]) != want) bad++;
  return bad;
}

static const amz_task_t k_task = {"env", N_ITEMS, kernel, NULL};

static amz_options_t *fast_opts(void) {
  amz_options_t *o = NULL;
  if (amz_options_create(&o) != 0) return NULL;
  if (amz_options_set_sampling(o, 0.05, 0.05) != 0) {
    amz_options_destroy(o);
    return NULL;
  }
  return o;
}

static void setup(void) {
  clear_env();
  reset_counts();
}

static void teardown(void) { clear_env(); }

/* Creates a plan with the current environment, runs it once and checks that every
 * item ran exactly once; returns the plan (caller destroys) or NULL. */
static amz_plan_t *plan_and_run(const amz_options_t *o) {
  reset_counts();
  amz_plan_t *plan = NULL;
  int rc = amz_plan_create(&k_task, o, &plan);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) {
    fprintf(stderr, "  amz_plan_create: %s: %s\n", amz_error_name(rc), amz_last_error());
    return NULL;
  }
  int W = amz_plan_workers(plan);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT_EQUAL(amz_result_items_done(r), N_ITEMS);
  CU_ASSERT_EQUAL(amz_result_workers(r), W);
  CU_ASSERT_EQUAL(count_not(1), 0);
  amz_result_destroy(r);
  return plan;
}

/* The plan's explanation, in memory (caller frees). */
static char *explain(const amz_plan_t *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int rc = amz_plan_explain(p, f);
  fclose(f);
  CU_ASSERT_EQUAL(rc, 0);
  return buf;
}

/* ------------------------------------------------------------------------- */
/* Valid overrides                                                           */
/* ------------------------------------------------------------------------- */

static void test_workers(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "1", 1), 0);
  amz_plan_t *p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_workers(p), 1);
  char *text = explain(p);
  CU_ASSERT_PTR_NOT_NULL(text);
  if (text) CU_ASSERT_PTR_NOT_NULL(strstr(text, "workers = 1 (from AMZ_WORKERS)"));
  free(text);
  amz_plan_destroy(p);

  /* The environment wins over the options by default. */
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_workers(p), 1);
  amz_plan_destroy(p);

  /* 0 means "choose": a valid value, not a malformed one. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "0", 1), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT(amz_plan_workers(p) >= 1);
  amz_plan_destroy(p);

  /* NULL options are defaults, environment included. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "1", 1), 0);
  p = plan_and_run(NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_workers(p), 1);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

static void test_schedule(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  /* Names are case-insensitive. */
  static const char *const spellings[] = {"guided", "GUIDED", "Guided"};
  for (size_t i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", spellings[i], 1), 0);
    amz_plan_t *p = plan_and_run(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_GUIDED);
    /* Re-planning after the run keeps the override. */
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_run(p, &r), 0);
    CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_GUIDED);
    CU_ASSERT_EQUAL(count_not(2), 0);
    amz_result_destroy(r);
    amz_plan_destroy(p);
  }
  /* Over an option. */
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_CYCLIC), 0);
  amz_plan_t *p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_GUIDED);
  char *text = explain(p);
  CU_ASSERT_PTR_NOT_NULL(text);
  if (text) CU_ASSERT_PTR_NOT_NULL(strstr(text, "schedule = guided (from AMZ_SCHEDULE)"));
  free(text);
  amz_plan_destroy(p);
  /* "auto" is a valid value too; the plan still resolves to a real schedule. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "auto", 1), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_NOT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_AUTO);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

static void test_chunk(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "dynamic", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "16", 1), 0);
  amz_plan_t *p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_DYNAMIC);
  CU_ASSERT_EQUAL(amz_plan_chunk(p), 16);
  /* A second run executes all items in chunks of 16: ceil(N / 16) chunks. */
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(p, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_chunk_count(r), (N_ITEMS + 15) / 16);
  for (size_t i = 0; i < amz_result_chunk_count(r); i++) {
    amz_chunk_info_t c;
    CU_ASSERT_EQUAL(amz_result_chunk(r, i, &c), 0);
    CU_ASSERT(c.end - c.begin == 16 || c.end == N_ITEMS);
  }
  CU_ASSERT_EQUAL(count_not(2), 0);
  amz_result_destroy(r);
  amz_plan_destroy(p);

  /* The environment's chunk wins over the option's. */
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 100), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_chunk(p), 16);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* ------------------------------------------------------------------------- */
/* Malformed values                                                          */
/* ------------------------------------------------------------------------- */

/* With `var` set to `value`, plan creation (and amz_for) fails with AMZ_EENV, no
 * plan, no kernel call, and a detail naming the variable and quoting the value. */
static void expect_eenv(const amz_options_t *o, const char *var, const char *value) {
  CU_ASSERT_EQUAL_FATAL(setenv(var, value, 1), 0);
  char quoted[96];
  snprintf(quoted, sizeof quoted, "'%s'", value);
  reset_counts();

  amz_plan_t *p = (amz_plan_t *)&g_calls; /* non-NULL: must be cleared */
  int rc = amz_plan_create(&k_task, o, &p);
  const char *msg = amz_last_error();
  int ok = rc == AMZ_EENV && p == NULL && strstr(msg, var) && strstr(msg, quoted);
  CU_ASSERT(ok);
  if (!ok)
    fprintf(stderr, "  %s='%s': amz_plan_create returned %s, plan %p, last error \"%s\"\n", var,
            value, amz_error_name(rc), (void *)p, msg);
  if (rc == 0) amz_plan_destroy(p);

  amz_result_t *r = (amz_result_t *)&g_calls;
  rc = amz_for(&k_task, o, &r);
  msg = amz_last_error();
  ok = rc == AMZ_EENV && r == NULL && strstr(msg, var) && strstr(msg, quoted);
  CU_ASSERT(ok);
  if (!ok)
    fprintf(stderr, "  %s='%s': amz_for returned %s, last error \"%s\"\n", var, value,
            amz_error_name(rc), msg);
  if (rc == 0 || rc == AMZ_EITEMS) amz_result_destroy(r);

  /* The environment is checked before any item runs. */
  CU_ASSERT_EQUAL(atomic_load(&g_calls), 0);
  CU_ASSERT_EQUAL(unsetenv(var), 0);
}

static void test_malformed_workers(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  static const char *const bad[] = {"",    "abc", "-2",  "3x",  "99999", " ",
                                    "0x10", "1e3", "2 3", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_eenv(o, "AMZ_WORKERS", bad[i]);
  /* NULL options read the environment too. */
  expect_eenv(NULL, "AMZ_WORKERS", "abc");
  amz_options_destroy(o);
}

static void test_malformed_schedule(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  static const char *const bad[] = {"fast", "", "dynamic2", "static,4"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_eenv(o, "AMZ_SCHEDULE", bad[i]);
  amz_options_destroy(o);
}

static void test_malformed_chunk(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  static const char *const bad[] = {"-1", "1.5", "lots", "", "18446744073709551616"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_eenv(o, "AMZ_CHUNK", bad[i]);
  amz_options_destroy(o);
}

static void test_malformed_with_others_valid(void) {
  /* One bad variable fails the plan even when the others are fine. */
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "2", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "dynamic", 1), 0);
  expect_eenv(o, "AMZ_CHUNK", "lots");
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "4", 1), 0);
  expect_eenv(o, "AMZ_WORKERS", "many");
  amz_options_destroy(o);
}

/* ------------------------------------------------------------------------- */
/* Conflicts and use_env                                                     */
/* ------------------------------------------------------------------------- */

/* Plan creation fails with AMZ_ECONFLICT, naming both sources. */
static void expect_conflict(const amz_options_t *o, const char *from1, const char *from2) {
  reset_counts();
  amz_plan_t *p = (amz_plan_t *)&g_calls;
  int rc = amz_plan_create(&k_task, o, &p);
  const char *msg = amz_last_error();
  int ok = rc == AMZ_ECONFLICT && p == NULL && strstr(msg, "static") && strstr(msg, "8") &&
           strstr(msg, from1) && strstr(msg, from2);
  CU_ASSERT(ok);
  if (!ok)
    fprintf(stderr, "  conflict: amz_plan_create returned %s, last error \"%s\"\n",
            amz_error_name(rc), msg);
  if (rc == 0) amz_plan_destroy(p);
  CU_ASSERT_EQUAL(atomic_load(&g_calls), 0);
}

static void test_conflict(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  /* Both from the environment. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "static", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "8", 1), 0);
  expect_conflict(o, "AMZ_SCHEDULE", "AMZ_CHUNK");
  /* One from the environment, one from the options. */
  CU_ASSERT_EQUAL(unsetenv("AMZ_CHUNK"), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 8), 0);
  expect_conflict(o, "AMZ_SCHEDULE", "option");
  CU_ASSERT_EQUAL(unsetenv("AMZ_SCHEDULE"), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 0), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_STATIC), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "8", 1), 0);
  expect_conflict(o, "option", "AMZ_CHUNK");
  /* The environment's static with no chunk anywhere is fine. */
  CU_ASSERT_EQUAL(unsetenv("AMZ_CHUNK"), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "static", 1), 0);
  amz_plan_t *p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_STATIC);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

static void test_use_env_off(void) {
  amz_options_t *o = fast_opts();
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL(amz_options_set_use_env(o, 0), 0);
  /* Malformed values are not even read. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "abc", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "fast", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "lots", 1), 0);
  amz_plan_t *p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL(p);
  amz_plan_destroy(p);
  /* Valid ones do not override the options. */
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_WORKERS", "1", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_SCHEDULE", "guided", 1), 0);
  CU_ASSERT_EQUAL_FATAL(setenv("AMZ_CHUNK", "16", 1), 0);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_CYCLIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 32), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_workers(p), 2);
  CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_CYCLIC);
  CU_ASSERT_EQUAL(amz_plan_chunk(p), 32);
  amz_plan_destroy(p);
  /* Any non-zero value switches it back on. */
  CU_ASSERT_EQUAL(amz_options_set_use_env(o, 5), 0);
  p = plan_and_run(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(amz_plan_workers(p), 1);
  CU_ASSERT_EQUAL(amz_plan_schedule(p), AMZ_SCHED_GUIDED);
  CU_ASSERT_EQUAL(amz_plan_chunk(p), 16);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

int main(void) {
  /* Outside ctest, keep the probe cache out of $HOME. */
  setenv("AMZ_CACHE_DIR", "", 0);
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite_with_setup_and_teardown("env", NULL, NULL, setup, teardown);
  if (!s) return 1;
  CU_add_test(s, "AMZ_WORKERS=1", test_workers);
  CU_add_test(s, "AMZ_SCHEDULE=guided, any case", test_schedule);
  CU_add_test(s, "AMZ_CHUNK=16 with AMZ_SCHEDULE=dynamic", test_chunk);
  CU_add_test(s, "malformed AMZ_WORKERS: AMZ_EENV", test_malformed_workers);
  CU_add_test(s, "malformed AMZ_SCHEDULE: AMZ_EENV", test_malformed_schedule);
  CU_add_test(s, "malformed AMZ_CHUNK: AMZ_EENV", test_malformed_chunk);
  CU_add_test(s, "one malformed variable among valid ones", test_malformed_with_others_valid);
  CU_add_test(s, "static with a chunk: AMZ_ECONFLICT", test_conflict);
  CU_add_test(s, "use_env 0 ignores the environment", test_use_env_off);
  return amz_test_run();
}
