/*
 * The watchdog (amz_options_set_timeout, AMZ_TIMEOUT): a kernel call that does not
 * return is reported with its worker and items, and the run either returns
 * AMZ_ETIMEOUT (the plan is then lost) or ends the process. Calls that are long but
 * within the factor of their prediction are not taken for stuck ones.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

/* Items sleep `us` microseconds; once armed, the call that holds item `stuck`
 * blocks until released. */
typedef struct gate {
  unsigned us;
  uint64_t stuck;
  int block_all; /* armed: every call blocks */
  _Atomic int armed, released, entered, returned;
} gate_t;

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int gate_fn(uint64_t b, uint64_t e, void *arg) {
  gate_t *g = arg;
  if (atomic_load(&g->armed) && (g->block_all || (b <= g->stuck && g->stuck < e))) {
    atomic_store(&g->entered, 1);
    while (!atomic_load(&g->released)) sleep_s(0.002);
    atomic_store(&g->returned, 1);
    return 0;
  }
  if (g->us) sleep_s(1e-6 * (double)g->us * (double)(e - b));
  return 0;
}

/* Lets a stuck call return and gives its thread the time to end. */
static void release(gate_t *g) {
  atomic_store(&g->released, 1);
  for (int i = 0; i < 5000 && atomic_load(&g->entered) && !atomic_load(&g->returned); i++)
    sleep_s(0.001);
  sleep_s(0.05);
}

static amz_options_t *opts(int workers, amz_schedule_t s, uint64_t chunk) {
  amz_options_t *o = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_options_create(&o), 0);
  amz_options_set_use_env(o, 0);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_workers(o, workers);
  amz_options_set_schedule(o, s);
  if (chunk) amz_options_set_chunk(o, chunk);
  amz_options_set_sampling(o, 0.02, 0.05);
  return o;
}

static int has(const char *text) {
  int ok = strstr(amz_last_error(), text) != NULL;
  if (!ok) fprintf(stderr, "\n  last error lacks \"%s\": %s\n", text, amz_last_error());
  return ok;
}

/* A call stuck in a run: AMZ_ETIMEOUT within the bound (plus the watcher's period),
 * naming task, worker and items; the plan cannot run again; it is destroyed after
 * the call returns. */
static void test_stuck_run_returns(void) {
  gate_t g = {.us = 0, .stuck = 137};
  amz_options_t *o = opts(2, AMZ_SCHED_DYNAMIC, 4);
  CU_ASSERT_EQUAL(amz_options_set_timeout(o, 0.3, 0, AMZ_TIMEOUT_ERROR), 0);
  amz_task_t t = {"watch", 400, gate_fn, &g};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(p, &r), 0); /* the first run skips what sampling ran */
  amz_result_destroy(r);
  r = NULL;
  atomic_store(&g.armed, 1);
  double t0 = now_s();
  int rc = amz_run(p, &r);
  double el = now_s() - t0;
  CU_ASSERT_EQUAL(rc, AMZ_ETIMEOUT);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT(el >= 0.3 && el < 10.0);
  CU_ASSERT(has("timeout: task 'watch'"));
  CU_ASSERT(has("items [136, 140)"));
  CU_ASSERT(has("the limit is 0.3 s (the seconds bound)"));
  CU_ASSERT(has("thread "));
  CU_ASSERT(atomic_load(&g.entered));
  CU_ASSERT(!atomic_load(&g.returned));
  /* Lost: every later run says so at once. */
  t0 = now_s();
  CU_ASSERT_EQUAL(amz_run(p, &r), AMZ_ETIMEOUT);
  CU_ASSERT(now_s() - t0 < 0.2);
  CU_ASSERT(has("cannot run again"));
  CU_ASSERT(has("items [136, 140)"));
  CU_ASSERT_PTR_NULL(r);
  release(&g);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* A call stuck while sampling, with AMZ_TIMEOUT from the environment: the plan is
 * not made. It is destroyed while the call is still stuck; the call's thread ends
 * later, when the call returns. */
static void test_stuck_sampling_env(void) {
  gate_t g = {.us = 0, .block_all = 1};
  atomic_store(&g.armed, 1);
  amz_options_t *o = opts(2, AMZ_SCHED_DYNAMIC, 0);
  amz_options_set_use_env(o, 1);
  setenv("AMZ_TIMEOUT", "0.25s,error", 1);
  amz_task_t t = {"watch-sampling", 2000, gate_fn, &g};
  amz_plan_t *p = (amz_plan_t *)&g;
  double t0 = now_s();
  int rc = amz_plan_create(&t, o, &p);
  double el = now_s() - t0;
  unsetenv("AMZ_TIMEOUT");
  CU_ASSERT_EQUAL(rc, AMZ_ETIMEOUT);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT(el >= 0.25 && el < 10.0);
  CU_ASSERT(has("timeout: task 'watch-sampling'"));
  CU_ASSERT(has("the limit is 0.25 s"));
  release(&g);
  amz_options_destroy(o);
}

/* The sampler's worker 0 judges the sample; the others wait for its judgement
 * when nothing is left to hand out. With worker 0 stuck in a call, the run must be
 * given up all the same: the waiting workers leave when it is. Worker 0 makes the
 * first call (the calibration runs on it alone); later, after 40 calls, its calls
 * block. The others sample up to the 10% limit and wait. A 5 s sampling budget
 * leaves the watchdog as the only way out. */
typedef struct first_stuck {
  pthread_t first;
  _Atomic int have_first, released, entered, returned;
  _Atomic unsigned calls;
} first_stuck_t;

static int first_stuck_fn(uint64_t b, uint64_t e, void *arg) {
  first_stuck_t *f = arg;
  unsigned n = atomic_fetch_add(&f->calls, 1);
  if (n == 0) {
    f->first = pthread_self();
    atomic_store(&f->have_first, 1);
  } else if (n >= 40 && atomic_load(&f->have_first) && pthread_equal(pthread_self(), f->first)) {
    atomic_store(&f->entered, 1);
    while (!atomic_load(&f->released)) sleep_s(0.002);
    atomic_store(&f->returned, 1);
    return 0;
  }
  sleep_s(50e-6 * (double)(e - b));
  return 0;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "\n  the sampler did not give up its stuck worker 0 in 30 s\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(1);
}

static first_stuck_t g_fs; /* not on the stack: the stuck call reads it after the test */

static void test_stuck_judge_while_sampling(void) {
  amz_options_t *o = opts(2, AMZ_SCHED_DYNAMIC, 0);
  amz_options_set_sampling(o, 5.0, 1e-9);
  CU_ASSERT_EQUAL(amz_options_set_timeout(o, 0.25, 0, AMZ_TIMEOUT_ERROR), 0);
  amz_task_t t = {"watch-judge", 4000, first_stuck_fn, &g_fs};
  amz_plan_t *p = NULL;
  signal(SIGALRM, on_alarm);
  alarm(30);
  double t0 = now_s();
  int rc = amz_plan_create(&t, o, &p);
  double el = now_s() - t0;
  alarm(0);
  CU_ASSERT_EQUAL(rc, AMZ_ETIMEOUT);
  CU_ASSERT_PTR_NULL(p);
  CU_ASSERT(atomic_load(&g_fs.entered));
  CU_ASSERT(el >= 0.25 && el < 3.0);
  CU_ASSERT(has("timeout: task 'watch-judge'"));
  /* Lets the stuck call return (its thread then ends) before the next test. */
  atomic_store(&g_fs.released, 1);
  for (int i = 0; i < 5000 && !atomic_load(&g_fs.returned); i++) sleep_s(0.001);
  CU_ASSERT(atomic_load(&g_fs.returned));
  sleep_s(0.05);
  amz_options_destroy(o);
}

/* Long calls within the factor are not stuck: 20 ms items in cyclic chunks of 20
 * (0.4 s a call) under a 0.15 s bound and 3x; a blocked call is stuck after 3x its
 * prediction, about 1.2 s. */
static void test_factor_bound(void) {
  gate_t g = {.us = 20000, .stuck = 5};
  amz_options_t *o = opts(2, AMZ_SCHED_CYCLIC, 20);
  CU_ASSERT_EQUAL(amz_options_set_timeout(o, 0.15, 3, AMZ_TIMEOUT_ERROR), 0);
  amz_task_t t = {"watch-factor", 40, gate_fn, &g};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  /* The explanation says what is watched. */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  CU_ASSERT_EQUAL(amz_plan_explain(p, f), 0);
  fclose(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "timeout = 150 ms and 3x the predicted time of a call "
                                      "(from option): a kernel call past it is reported and "
                                      "the run returns AMZ_ETIMEOUT"));
  if (!strstr(text, "timeout = ")) fprintf(stderr, "\n%s\n", text);
  free(text);
  amz_result_t *r = NULL;
  int rc = amz_run(p, &r);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc != 0) fprintf(stderr, "\n  unexpected: %s\n", amz_last_error());
  amz_result_destroy(r);
  atomic_store(&g.armed, 1);
  double t0 = now_s();
  rc = amz_run(p, &r);
  double el = now_s() - t0;
  CU_ASSERT_EQUAL(rc, AMZ_ETIMEOUT);
  CU_ASSERT(has("items [0, 20)"));
  CU_ASSERT(has("3x its predicted"));
  CU_ASSERT(el > 0.8 && el < 20.0);
  release(&g);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* Calls in flight on other workers when the run is given up are waited for (up
 * to their own limit): when amz_run returns, only the stuck call still runs, so
 * the caller may free what the others used. */
typedef struct busy {
  gate_t g;
  _Atomic int in_flight;
} busy_t;

static int busy_fn(uint64_t b, uint64_t e, void *arg) {
  busy_t *k = arg;
  atomic_fetch_add(&k->in_flight, 1);
  int rc = gate_fn(b, e, &k->g);
  atomic_fetch_sub(&k->in_flight, 1);
  return rc;
}

static void test_calls_in_flight_are_waited_for(void) {
  busy_t k = {.g = {.us = 120000, .stuck = 3}}; /* 120 ms a call */
  amz_options_t *o = opts(2, AMZ_SCHED_DYNAMIC, 1);
  CU_ASSERT_EQUAL(amz_options_set_timeout(o, 0.3, 0, AMZ_TIMEOUT_ERROR), 0);
  amz_task_t t = {"watch-in-flight", 40, busy_fn, &k};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  amz_result_t *r = NULL;
  atomic_store(&k.g.armed, 1);
  int rc = amz_run(p, &r);
  if (rc == 0) { /* item 3 ran while sampling: run again, every item runs */
    amz_result_destroy(r);
    r = NULL;
    rc = amz_run(p, &r);
  }
  CU_ASSERT_EQUAL(rc, AMZ_ETIMEOUT);
  /* Only the stuck call is still in the kernel. */
  CU_ASSERT_EQUAL(atomic_load(&k.in_flight), 1);
  if (atomic_load(&k.in_flight) != 1)
    fprintf(stderr, "\n  %d calls still in the kernel\n", atomic_load(&k.in_flight));
  release(&k.g);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* A kernel that runs another plan (unwatched) and then hangs: the inner plan
 * neither takes the outer call's slot nor hides the hang. */
typedef struct nest {
  gate_t g;
  _Atomic int inner_rc;
} nest_t;

static int inner_fn(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

static int outer_fn(uint64_t b, uint64_t e, void *arg) {
  nest_t *k = arg;
  amz_options_t *o = NULL;
  amz_options_create(&o);
  amz_options_set_use_env(o, 0);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_workers(o, 1);
  amz_task_t t = {"inner", 50, inner_fn, NULL};
  amz_result_t *r = NULL;
  int rc = amz_for(&t, o, &r);
  if (rc != 0) atomic_store(&k->inner_rc, rc);
  amz_result_destroy(r);
  amz_options_destroy(o);
  return gate_fn(b, e, &k->g);
}

static void test_kernel_running_another_plan(void) {
  nest_t k = {.g = {.us = 0, .stuck = 7}};
  amz_options_t *o = opts(1, AMZ_SCHED_DYNAMIC, 1);
  /* Each outer call plans and runs a whole inner loop: under valgrind that alone
   * can take longer than 0.3 s, and a call that is merely slow would be taken for
   * the stuck one. */
  double limit = getenv("AMZ_MEMCHECK") ? 5.0 : 0.3;
  CU_ASSERT_EQUAL(amz_options_set_timeout(o, limit, 0, AMZ_TIMEOUT_ERROR), 0);
  amz_task_t t = {"outer", 20, outer_fn, &k};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(p, &r), 0);
  amz_result_destroy(r);
  r = NULL;
  atomic_store(&k.g.armed, 1);
  double t0 = now_s();
  CU_ASSERT_EQUAL(amz_run(p, &r), AMZ_ETIMEOUT);
  CU_ASSERT(now_s() - t0 < limit + 10.0);
  CU_ASSERT(has("task 'outer'"));
  CU_ASSERT(has("items [7, 8)"));
  CU_ASSERT_EQUAL(atomic_load(&k.inner_rc), 0);
  release(&k.g);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* AMZ_TIMEOUT_ABORT ends the process with SIGABRT after printing the diagnosis. */
static void test_abort_ends_process(void) {
  char path[256];
  snprintf(path, sizeof path, "/tmp/amz-watch-abort-%ld.txt", (long)getpid());
  fflush(NULL);
  pid_t pid = fork();
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (!freopen(path, "w", stderr)) _exit(3);
    gate_t g = {.us = 0, .block_all = 1};
    atomic_store(&g.armed, 1);
    amz_options_t *o = NULL;
    amz_options_create(&o);
    amz_options_set_use_env(o, 0);
    amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
    amz_options_set_workers(o, 1);
    amz_options_set_timeout(o, 0.2, 0, AMZ_TIMEOUT_ABORT);
    amz_task_t t = {"watch-abort", 100, gate_fn, &g};
    amz_result_t *r = NULL;
    amz_for(&t, o, &r);
    _exit(4); /* not reached: the watcher aborts */
  }
  int st = 0;
  CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
  CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT))
    fprintf(stderr, "\n  child status %d (exit %d)\n", st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  char buf[4096] = "";
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
  }
  unlink(path);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "amorsize: timeout: task 'watch-abort'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "worker 0"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "in one kernel call on items ["));
  if (!strstr(buf, "amorsize: timeout")) fprintf(stderr, "\n  child's stderr: %s\n", buf);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("watchdog", NULL, NULL);
  if (!s) return CU_get_error();
  CU_add_test(s, "a stuck call in a run: AMZ_ETIMEOUT, plan lost", test_stuck_run_returns);
  CU_add_test(s, "a stuck call while sampling, AMZ_TIMEOUT", test_stuck_sampling_env);
  CU_add_test(s, "a stuck judge while sampling: the others leave",
              test_stuck_judge_while_sampling);
  CU_add_test(s, "long calls within the factor are not stuck", test_factor_bound);
  CU_add_test(s, "calls in flight are waited for", test_calls_in_flight_are_waited_for);
  CU_add_test(s, "a kernel that runs another plan", test_kernel_running_another_plan);
  CU_add_test(s, "abort ends the process with the diagnosis", test_abort_ends_process);
  return amz_test_run();
}
