/*
 * Every bad input of every call of amorsize_mpi.h, run under mpiexec (2 ranks in
 * CTest; any number works): NULL communicator, task, options, plan, result and
 * buffers, MPI_COMM_NULL, bad ranks and roots, item_bytes 0 or huge, map-mode tasks
 * without a kernel or without rank 0's buffers, plans given to the wrong runner,
 * and ranks that disagree (a bad argument on one rank only, different n_items,
 * different options, a malformed environment on one rank).
 *
 * For every case: (a) the documented code, on every rank (collective calls agree
 * on their status, so every rank's code is compared with every other's); (b) a
 * fresh, non-empty amz_last_error() on every rank, naming the bad value on the rank
 * that had it; (c) no crash and no hang (CTest's TIMEOUT, and an alarm here); (d) a
 * failed call changed nothing: outputs cleared, buffers and results unchanged, the
 * plan's first run still runs every item exactly once.
 *
 * Every case is checked: a library that differs from its header fails the test.
 * Rank 0 prints "bad inputs tried: N" at the end.
 *
 *   mpiexec -n 2 test_mpi_badinput
 */
#include <CUnit/Basic.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "amorsize_mpi.h"
#include "mpi_cunit.h"

static int rank, size;
static unsigned long tried;

/* ------------------------------------------------------------------------- */
/* Checks                                                                     */
/* ------------------------------------------------------------------------- */

static void mark_last_error(void) {
  amz_schedule_t s;
  amz_schedule_parse("zz-marker", &s);
}

/* Whether v is the same on every rank of MPI_COMM_WORLD. */
static int same_everywhere(long long v) {
  long long lo = v, hi = v;
  MPI_Allreduce(&v, &lo, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&v, &hi, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

/* The detail is fresh and non-empty; on a rank that had the bad input (`mine`) it
 * contains n1 (and n2); elsewhere it says another rank failed, or names the bad
 * input itself (values every rank sees, like different n_items). */
static void expect_fail(int rc, int code, int mine, const char *n1, const char *n2,
                        int collective, int line, const char *text) {
  const char *msg = amz_last_error();
  int fresh = msg && msg[0] != '\0' && !strstr(msg, "zz-marker");
  int named = (!n1 || strstr(msg, n1)) && (!n2 || strstr(msg, n2));
  int ok = rc == code && fresh && (mine ? named : (named || strstr(msg, "another rank")));
  CU_assertImplementation(ok, (unsigned)line, text, __FILE__, "", CU_FALSE);
  if (!ok)
    fprintf(stderr, "  rank %d, line %d: %s returned %d (%s), expected %d (%s); last error "
                    "\"%.200s\"; wanted \"%s\"%s%s\n",
            rank, line, text, rc, amz_error_name(rc), code, amz_error_name(code),
            msg ? msg : "(null)", n1 ? n1 : "", n2 ? " and " : "", n2 ? n2 : "");
  if (collective) {
    /* Every rank returned the same code (and nobody is still inside the call). */
    int same = same_everywhere(rc);
    CU_assertImplementation(same, (unsigned)line, "same code on every rank", __FILE__, "",
                            CU_FALSE);
    if (!same) fprintf(stderr, "  rank %d, line %d: %s returned %d here, not the same on "
                               "every rank\n", rank, line, text, rc);
  }
}

/* A collective call, bad on every rank. */
#define BAD(call, code, n1) BAD_ON(1, call, code, n1, NULL)
#define BAD2(call, code, n1, n2) BAD_ON(1, call, code, n1, n2)
/* A collective call, bad where `mine` is true. */
#define BAD_ON(mine, call, code, n1, n2)                                  \
  do {                                                                    \
    tried++;                                                              \
    mark_last_error();                                                    \
    int rc_ = (call);                                                     \
    expect_fail(rc_, code, mine, n1, n2, 1, __LINE__, #call);             \
  } while (0)
/* A local call (an accessor) with a bad input on this rank. */
#define BAD_LOCAL(call, code, n1)                                         \
  do {                                                                    \
    tried++;                                                              \
    mark_last_error();                                                    \
    int rc_ = (call);                                                     \
    expect_fail(rc_, code, 1, n1, NULL, 0, __LINE__, #call);              \
  } while (0)
/* An accessor's sentinel for a bad input. */
#define SENTINEL(expr, want)                                                            \
  do {                                                                                  \
    tried++;                                                                            \
    int ok_ = (expr) == (want);                                                         \
    CU_assertImplementation(ok_, __LINE__, #expr " == " #want, __FILE__, "", CU_FALSE);  \
    if (!ok_) fprintf(stderr, "  rank %d, line %d: %s is not %s\n", rank, __LINE__, #expr, \
                      #want);                                                           \
  } while (0)

/* ------------------------------------------------------------------------- */
/* Kernels and options                                                        */
/* ------------------------------------------------------------------------- */

enum { N = 1000 };

/* Range mode: counts executions per item on this rank and writes out[i] = 3i + 1. */
typedef struct tally {
  uint64_t n;
  _Atomic uint32_t *count;
  uint32_t *out;
  _Atomic uint64_t calls, out_of_range;
} tally_t;

static int tally_init(tally_t *t, uint64_t n) {
  memset(t, 0, sizeof *t);
  t->n = n;
  t->count = calloc(n ? n : 1, sizeof *t->count);
  t->out = calloc(n ? n : 1, sizeof *t->out);
  return t->count && t->out ? 0 : -1;
}

static void tally_free(tally_t *t) {
  free((void *)t->count);
  free(t->out);
}

static int tally_fn(uint64_t b, uint64_t e, void *arg) {
  tally_t *t = arg;
  atomic_fetch_add(&t->calls, 1);
  if (b >= e || e > t->n) {
    atomic_fetch_add(&t->out_of_range, 1);
    return 0;
  }
  for (uint64_t i = b; i < e; i++) {
    atomic_fetch_add(&t->count[i], 1);
    t->out[i] = (uint32_t)(3 * i + 1);
  }
  return 0;
}

/* Items whose executions summed over every rank are not `want`. */
static uint64_t items_not(const tally_t *t, uint32_t want) {
  uint32_t *mine = malloc(t->n * sizeof *mine), *sum = malloc(t->n * sizeof *sum);
  if (!mine || !sum) {
    free(mine);
    free(sum);
    return UINT64_MAX;
  }
  for (uint64_t i = 0; i < t->n; i++) mine[i] = atomic_load(&t->count[i]);
  MPI_Allreduce(mine, sum, (int)t->n, MPI_UINT32_T, MPI_SUM, MPI_COMM_WORLD);
  uint64_t bad = 0;
  for (uint64_t i = 0; i < t->n; i++) bad += sum[i] != want;
  free(mine);
  free(sum);
  return bad;
}

/* Map mode: out = 2 * in. */
static int map_fn(uint64_t b, uint64_t e, const void *in, void *out, void *arg) {
  (void)arg;
  const uint64_t *x = in;
  uint64_t *y = out;
  for (uint64_t i = 0; i < e - b; i++) y[i] = 2 * x[i];
  return 0;
}

/* Small sampling budget, no progress line, no environment (unless asked). */
static amz_options_t *quiet_opts(int use_env) {
  amz_options_t *o = NULL;
  if (amz_options_create(&o) != 0) return NULL;
  amz_options_set_sampling(o, 0.02, 0.05);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_use_env(o, use_env);
  return o;
}

/* ------------------------------------------------------------------------- */
/* Plan creation: arguments, disagreement, environment                         */
/* ------------------------------------------------------------------------- */

static void test_plan_create(void) {
  tally_t t;
  CU_ASSERT_EQUAL_FATAL(tally_init(&t, N), 0);
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"mpi bad plan", N, tally_fn, &t};
  amz_task_t no_fn = {"mpi no kernel", N, NULL, &t};
  amz_plan_t *p = (amz_plan_t *)&t; /* non-NULL: a failure must clear it */
  amz_result_t *r = (amz_result_t *)&t;
  const int last = rank == size - 1;

  /* Bad on every rank. */
  BAD(amz_mpi_plan_create(MPI_COMM_NULL, &task, o, &p), AMZ_EINVAL, "MPI_COMM_NULL");
  BAD(amz_mpi_plan_create(MPI_COMM_WORLD, NULL, o, &p), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(p);
  p = (amz_plan_t *)&t;
  BAD(amz_mpi_plan_create(MPI_COMM_WORLD, NULL, NULL, &p), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(p);
  p = (amz_plan_t *)&t;
  BAD2(amz_mpi_plan_create(MPI_COMM_WORLD, &no_fn, o, &p), AMZ_EINVAL, "fn", "mpi no kernel");
  CU_ASSERT_PTR_NULL(p);
  BAD(amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, NULL), AMZ_EINVAL, "plan");
  BAD(amz_mpi_plan_create(MPI_COMM_WORLD, NULL, NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_mpi_for(MPI_COMM_NULL, &task, o, &r), AMZ_EINVAL, "MPI_COMM_NULL");
  if (size > 1) {
    /* An intercommunicator: refused on every rank (it used to hang). */
    MPI_Comm half, inter;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 == 0 ? 1 : 0, 78, &inter);
    p = (amz_plan_t *)&t;
    BAD(amz_mpi_plan_create(inter, &task, o, &p), AMZ_EINVAL, "intercommunicator");
    CU_ASSERT_PTR_NULL(p);
    p = (amz_plan_t *)&t;
    MPI_Comm_free(&inter);
    MPI_Comm_free(&half);
    /* Another task name on one rank: every rank plans the same loop or none. */
    amz_task_t other = {"mpi bad plan, another loop", N, tally_fn, &t};
    p = (amz_plan_t *)&t;
    BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, last ? &other : &task, o, &p),
           AMZ_ECONFLICT, "task name differs", NULL);
    CU_ASSERT_PTR_NULL(p);
    p = (amz_plan_t *)&t;
  }
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&t;
  BAD(amz_mpi_for(MPI_COMM_WORLD, NULL, o, &r), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&t;
  BAD(amz_mpi_for(MPI_COMM_WORLD, &no_fn, o, &r), AMZ_EINVAL, "fn");
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);

  /* Bad on one rank only: every rank fails with the same code. */
  p = (amz_plan_t *)&t;
  BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, last ? NULL : &p), AMZ_EINVAL,
         "plan", NULL);
  if (!last) CU_ASSERT_PTR_NULL(p);
  p = (amz_plan_t *)&t;
  BAD_ON(rank == 0, amz_mpi_plan_create(MPI_COMM_WORLD, rank == 0 ? NULL : &task, o, &p),
         AMZ_EINVAL, "task", NULL);
  CU_ASSERT_PTR_NULL(p);
  BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, last ? &no_fn : &task, o, &p), AMZ_EINVAL,
         "fn", NULL);
  CU_ASSERT_PTR_NULL(p);
  r = (amz_result_t *)&t;
  BAD_ON(last, amz_mpi_for(MPI_COMM_WORLD, last ? &no_fn : &task, o, &r), AMZ_EINVAL, "fn",
         NULL);
  CU_ASSERT_PTR_NULL(r);

  /* More ranks than launched, on every rank or on one. */
  amz_options_t *many = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(many);
  const int bad_ranks[] = {size + 1, size + 100, INT_MAX};
  char needle[64];
  for (size_t i = 0; i < sizeof bad_ranks / sizeof *bad_ranks; i++) {
    CU_ASSERT_EQUAL(amz_options_set_ranks(many, bad_ranks[i]), 0);
    snprintf(needle, sizeof needle, "ranks = %d", bad_ranks[i]);
    BAD2(amz_mpi_plan_create(MPI_COMM_WORLD, &task, many, &p), AMZ_EINVAL, needle, "launched");
    CU_ASSERT_PTR_NULL(p);
  }
  BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, &task, last ? many : o, &p), AMZ_EINVAL,
         "launched", NULL);
  amz_options_destroy(many);

  /* Different n_items per rank: every rank sees the range and names it. */
  if (size > 1) {
    const uint64_t odd_n[] = {N - 1, 0, UINT64_MAX};
    for (size_t i = 0; i < sizeof odd_n / sizeof *odd_n; i++) {
      amz_task_t odd = {"mpi odd", rank == 0 ? N : odd_n[i], tally_fn, &t};
      p = (amz_plan_t *)&t;
      BAD2(amz_mpi_plan_create(MPI_COMM_WORLD, &odd, o, &p), AMZ_EINVAL, "n_items", "differs");
      CU_ASSERT_PTR_NULL(p);
      r = (amz_result_t *)&t;
      BAD(amz_mpi_for(MPI_COMM_WORLD, &odd, o, &r), AMZ_EINVAL, "n_items");
      CU_ASSERT_PTR_NULL(r);
    }
    /* Different options per rank: refused with the option named, on every rank.
     * The header asks for "equivalent options" and lists no code for this case
     * (only AMZ_EMPI for ranks that computed different plans); the library's
     * agreement check answers AMZ_ECONFLICT, the code of "contradictory options". */
    for (int k = 0; k < 5; k++) {
      static const char *const what[] = {"workers", "schedule", "chunk", "retries", "sampling"};
      amz_options_t *d = quiet_opts(0);
      CU_ASSERT_PTR_NOT_NULL_FATAL(d);
      if (last) {
        if (k == 0) amz_options_set_workers(d, 2);
        if (k == 1) amz_options_set_schedule(d, AMZ_SCHED_GUIDED);
        if (k == 2) amz_options_set_chunk(d, 7);
        if (k == 3) amz_options_set_retries(d, 3);
        if (k == 4) amz_options_set_sampling(d, 0.03, 0.05);
      }
      p = (amz_plan_t *)&t;
      BAD(amz_mpi_plan_create(MPI_COMM_WORLD, &task, d, &p), AMZ_ECONFLICT, what[k]);
      CU_ASSERT_PTR_NULL(p);
      amz_options_destroy(d);
    }
  }
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0); /* nothing ran */

  /* A malformed environment, on every rank or on one only. */
  amz_options_t *env = quiet_opts(1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(env);
  static const char *const malformed[] = {"",   " ",   "-1",  "1x", "0x10", "1e3",
                                          "99999999999999999999", "abc", "2147483648"};
  for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
    setenv("AMZ_RANKS", malformed[i], 1);
    snprintf(needle, sizeof needle, "'%s'", malformed[i]);
    BAD2(amz_mpi_plan_create(MPI_COMM_WORLD, &task, env, &p), AMZ_EENV, "AMZ_RANKS", needle);
    CU_ASSERT_PTR_NULL(p);
    unsetenv("AMZ_RANKS");
  }
  /* A well-formed AMZ_RANKS above the ranks launched is the ranks option's error. */
  snprintf(needle, sizeof needle, "%d", size + 1);
  setenv("AMZ_RANKS", needle, 1);
  BAD2(amz_mpi_plan_create(MPI_COMM_WORLD, &task, env, &p), AMZ_EINVAL, "AMZ_RANKS", "launched");
  BAD(amz_mpi_plan_create(MPI_COMM_WORLD, &task, NULL, &p), AMZ_EINVAL, "launched");
  unsetenv("AMZ_RANKS");
  static const char *const vars[] = {"AMZ_WORKERS", "AMZ_SCHEDULE", "AMZ_CHUNK", "AMZ_RETRIES",
                                     "AMZ_PROGRESS", "AMZ_PROFILE_OVERWRITE", "AMZ_RANKS",
                                     "AMZ_PROFILE"};
  for (size_t v = 0; v < sizeof vars / sizeof *vars; v++) {
    const char *value = strcmp(vars[v], "AMZ_PROFILE") == 0 ? "run-%q.h5" : "1x";
    if (last) setenv(vars[v], value, 1);
    BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, &task, env, &p), AMZ_EENV, vars[v], NULL);
    CU_ASSERT_PTR_NULL(p);
    r = (amz_result_t *)&t;
    BAD_ON(last, amz_mpi_for(MPI_COMM_WORLD, &task, env, &r), AMZ_EENV, vars[v], NULL);
    CU_ASSERT_PTR_NULL(r);
    unsetenv(vars[v]);
  }
  /* An over-long AMZ_CHECKPOINT on one rank. */
  char *longpath = malloc(5001);
  CU_ASSERT_PTR_NOT_NULL_FATAL(longpath);
  memset(longpath, 'c', 5000);
  memcpy(longpath, "/tmp/", 5);
  longpath[5000] = '\0';
  if (last) setenv("AMZ_CHECKPOINT", longpath, 1);
  BAD_ON(last, amz_mpi_plan_create(MPI_COMM_WORLD, &task, env, &p), AMZ_EENV, "AMZ_CHECKPOINT",
         NULL);
  unsetenv("AMZ_CHECKPOINT");
  free(longpath);
  amz_options_destroy(env);
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);

  /* A profile that exists (rank 0's path counts): refused early on every rank. */
  char path[256];
  snprintf(path, sizeof path, "/tmp/amz-mpi-badinput-%ld.h5", (long)getppid());
  if (rank == 0) {
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  amz_options_t *po = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(po);
  CU_ASSERT_EQUAL(amz_options_set_profile(po, path), 0);
  BAD_ON(rank == 0, amz_mpi_plan_create(MPI_COMM_WORLD, &task, po, &p), AMZ_EEXIST, path, NULL);
  CU_ASSERT_PTR_NULL(p);
  amz_options_destroy(po);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) unlink(path);
  CU_ASSERT_EQUAL(atomic_load(&t.calls), 0);
  CU_ASSERT_EQUAL(atomic_load(&t.out_of_range), 0);

  /* NULL output of amz_mpi_for: the run is refused everywhere, nothing leaks. */
  BAD(amz_mpi_for(MPI_COMM_WORLD, &task, o, NULL), AMZ_EINVAL, "result");
  amz_options_destroy(o);
  tally_free(&t);
}

/* ------------------------------------------------------------------------- */
/* Map mode                                                                   */
/* ------------------------------------------------------------------------- */

static int plain_fn(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

/* amz_mpi_allreduce: every bad argument, on every rank or on one; valid arguments
 * that disagree between ranks; the buffers are left alone on failure. */
static void test_allreduce(void) {
  const int last = rank == size - 1;
  double in[4] = {1, 2, 3, 4}, out[4] = {-1, -1, -1, -1};
  BAD(amz_mpi_allreduce(MPI_COMM_NULL, in, out, 4, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
      "MPI_COMM_NULL");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, in, out, -1, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
      "count is -1");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, in, out, INT_MIN, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
      "count is");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, NULL, out, 4, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
      "sendbuf is NULL");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, in, NULL, 4, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
      "recvbuf is NULL");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, in, out, 4, MPI_DATATYPE_NULL, MPI_SUM), AMZ_EINVAL,
      "MPI_DATATYPE_NULL");
  BAD(amz_mpi_allreduce(MPI_COMM_WORLD, in, out, 4, MPI_DOUBLE, MPI_OP_NULL), AMZ_EINVAL,
      "MPI_OP_NULL");
  /* Bad on one rank only: the others return the same code. */
  BAD_ON(last, amz_mpi_allreduce(MPI_COMM_WORLD, in, last ? NULL : out, 4, MPI_DOUBLE, MPI_SUM),
         AMZ_EINVAL, "recvbuf is NULL", NULL);
  BAD_ON(last, amz_mpi_allreduce(MPI_COMM_WORLD, in, out, last ? -3 : 4, MPI_DOUBLE, MPI_SUM),
         AMZ_EINVAL, "count is -3", NULL);
  if (size > 1) {
    /* Valid, but not the same everywhere: MPI would read past a buffer. */
    BAD_ON(last, amz_mpi_allreduce(MPI_COMM_WORLD, in, out, last ? 3 : 4, MPI_DOUBLE, MPI_SUM),
           AMZ_EINVAL, "count differs between ranks (from 3 to 4", NULL);
    BAD_ON(last, amz_mpi_allreduce(MPI_COMM_WORLD, in, out, 4, last ? MPI_FLOAT : MPI_DOUBLE,
                                   MPI_SUM),
           AMZ_EINVAL, "size differs between ranks (from 4 to 8 bytes", NULL);
    BAD_ON(last, amz_mpi_allreduce(MPI_COMM_WORLD, last ? MPI_IN_PLACE : in, out, 4, MPI_DOUBLE,
                                   MPI_SUM),
           AMZ_EINVAL, "MPI_IN_PLACE on some ranks only", NULL);
    MPI_Comm half, inter;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 == 0 ? 1 : 0, 78, &inter);
    BAD(amz_mpi_allreduce(inter, in, out, 4, MPI_DOUBLE, MPI_SUM), AMZ_EINVAL,
        "intercommunicator");
    MPI_Comm_free(&inter);
    MPI_Comm_free(&half);
  }
  /* Nothing failed wrote into out. */
  int untouched = 1;
  for (int i = 0; i < 4; i++) untouched &= out[i] == -1;
  CU_ASSERT_TRUE(untouched);
  /* And a valid call still works. */
  CU_ASSERT_EQUAL(amz_mpi_allreduce(MPI_COMM_WORLD, in, out, 4, MPI_DOUBLE, MPI_SUM), 0);
  CU_ASSERT_DOUBLE_EQUAL(out[3], 4.0 * size, 0.0);
}

static void test_map_mode(void) {
  uint64_t *in = NULL, *out = NULL;
  if (rank == 0) {
    in = calloc(N, sizeof *in);
    out = calloc(N, sizeof *out);
    CU_ASSERT_FATAL(in && out);
    for (uint64_t i = 0; i < N; i++) in[i] = i;
  }
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  const size_t B = sizeof(uint64_t);
  amz_map_task_t good = {"mpi map", N, B, B, in, out, map_fn, NULL};
  amz_map_task_t no_fn = good, no_in = good, no_out = good, none = good;
  no_fn.fn = NULL;
  no_in.input = NULL;
  no_out.output = NULL;
  none.input = NULL;
  none.output = NULL;
  amz_plan_t *p = (amz_plan_t *)&o;
  amz_result_t *r = (amz_result_t *)&o;

  BAD(amz_mpi_map_plan_create(MPI_COMM_NULL, &good, o, &p), AMZ_EINVAL, "MPI_COMM_NULL");
  BAD(amz_mpi_map_plan_create(MPI_COMM_WORLD, NULL, o, &p), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(p);
  BAD(amz_mpi_map_plan_create(MPI_COMM_WORLD, &good, o, NULL), AMZ_EINVAL, "plan");
  BAD(amz_mpi_map_plan_create(MPI_COMM_WORLD, NULL, NULL, NULL), AMZ_EINVAL, "NULL");
  p = (amz_plan_t *)&o;
  BAD2(amz_mpi_map_plan_create(MPI_COMM_WORLD, &no_fn, o, &p), AMZ_EINVAL, "fn", "mpi map");
  CU_ASSERT_PTR_NULL(p);
  /* Rank 0 without its buffers (the other ranks' are ignored). */
  BAD_ON(rank == 0, amz_mpi_map_plan_create(MPI_COMM_WORLD, &no_in, o, &p), AMZ_EINVAL, "input",
         NULL);
  BAD_ON(rank == 0, amz_mpi_map_plan_create(MPI_COMM_WORLD, &no_out, o, &p), AMZ_EINVAL,
         "output", NULL);
  BAD_ON(rank == 0, amz_mpi_map_plan_create(MPI_COMM_WORLD, &none, o, &p), AMZ_EINVAL, "buffer",
         NULL);
  CU_ASSERT_PTR_NULL(p);
  /* Different n_items per rank. */
  if (size > 1) {
    amz_map_task_t odd = good;
    if (rank != 0) odd.n_items = N + 1;
    BAD(amz_mpi_map_plan_create(MPI_COMM_WORLD, &odd, o, &p), AMZ_EINVAL, "n_items");
    /* Item sizes that differ (rank 0 would move items of the wrong size). */
    amz_map_task_t wide = good, narrow = good;
    if (rank != 0) wide.bytes_in = 2 * B;
    if (rank != 0) narrow.bytes_out = B / 2;
    BAD2(amz_mpi_map_plan_create(MPI_COMM_WORLD, &wide, o, &p), AMZ_EINVAL, "bytes_in from 8 to 16",
         "item sizes differ");
    BAD2(amz_mpi_map_plan_create(MPI_COMM_WORLD, &narrow, o, &p), AMZ_EINVAL,
         "bytes_out from 4 to 8", "item sizes differ");
    CU_ASSERT_PTR_NULL(p);
    /* Rank 0 plans a map-mode loop, the others a plain loop of the same name and N. */
    amz_task_t plain = {"mpi map", N, plain_fn, NULL};
    BAD(rank == 0 ? amz_mpi_map_plan_create(MPI_COMM_WORLD, &good, o, &p)
                  : amz_mpi_plan_create(MPI_COMM_WORLD, &plain, o, &p),
        AMZ_EINVAL, "map-mode loop");
    CU_ASSERT_PTR_NULL(p);
  }
  /* A checkpoint in map mode: "not combinable" (amz_options_set_checkpoint); the
   * header gives no code, the library answers AMZ_ECONFLICT. */
  amz_options_t *ck = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
  char path[256];
  snprintf(path, sizeof path, "/tmp/amz-mpi-badinput-%ld.ckpt", (long)getppid());
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(ck, path), 0);
  BAD(amz_mpi_map_plan_create(MPI_COMM_WORLD, &good, ck, &p), AMZ_ECONFLICT, "map mode");
  CU_ASSERT_PTR_NULL(p);
  amz_options_destroy(ck);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) unlink(path);

  BAD(amz_mpi_map_for(MPI_COMM_NULL, &good, o, &r), AMZ_EINVAL, "MPI_COMM_NULL");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&o;
  BAD(amz_mpi_map_for(MPI_COMM_WORLD, NULL, o, &r), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&o;
  BAD(amz_mpi_map_for(MPI_COMM_WORLD, &no_fn, o, &r), AMZ_EINVAL, "fn");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&o;
  BAD_ON(rank == 0, amz_mpi_map_for(MPI_COMM_WORLD, &no_in, o, &r), AMZ_EINVAL, "input", NULL);
  CU_ASSERT_PTR_NULL(r);
  /* Nothing was written to rank 0's outputs by the failed calls (all refused before
   * sampling, which runs real items). */
  if (rank == 0) {
    uint64_t touched = 0;
    for (uint64_t i = 0; i < N; i++) touched += out[i] != 0;
    CU_ASSERT_EQUAL(touched, 0);
  }
  /* A NULL output is refused after planning (sampling wrote the sampled items'
   * outputs: they are real work), on every rank. */
  BAD(amz_mpi_map_for(MPI_COMM_WORLD, &good, o, NULL), AMZ_EINVAL, "result");
  /* The same task, given properly, maps every item. */
  r = NULL;
  CU_ASSERT_EQUAL(amz_mpi_map_for(MPI_COMM_WORLD, &good, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (rank == 0) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < N; i++) bad += out[i] != 2 * i;
    CU_ASSERT_EQUAL(bad, 0);
  }
  amz_result_destroy(r);
  amz_options_destroy(o);
  free(in);
  free(out);
}

/* ------------------------------------------------------------------------- */
/* Runs, plan and result accessors                                            */
/* ------------------------------------------------------------------------- */

typedef struct snap {
  uint64_t done, failed, local_done, local_failed;
  double seconds, local_seconds;
  int ranks, excluded, workers;
  size_t n_ranges, n_chunks;
  uint64_t first_b, first_e;
  amz_rank_stats_t rank0;
} snap_t;

static void snapshot(const amz_result_t *r, snap_t *s) {
  memset(s, 0, sizeof *s);
  s->done = amz_result_items_done(r);
  s->failed = amz_result_items_failed(r);
  s->local_done = amz_result_local_items_done(r);
  s->local_failed = amz_result_local_items_failed(r);
  s->seconds = amz_result_seconds(r);
  s->local_seconds = amz_result_local_seconds(r);
  s->ranks = amz_result_ranks(r);
  s->excluded = amz_result_mpi_excluded(r);
  s->workers = amz_result_workers(r);
  s->n_ranges = amz_result_local_range_count(r);
  s->n_chunks = amz_result_chunk_count(r);
  if (s->n_ranges) amz_result_local_range(r, 0, &s->first_b, &s->first_e);
  amz_rank_stats_t rs;
  if (!s->excluded && amz_result_rank(r, 0, &rs) == 0) {
    /* Field by field: the padding of a returned struct is unspecified. */
    s->rank0.rank = rs.rank;
    s->rank0.node = rs.node;
    s->rank0.threads = rs.threads;
    s->rank0.items = rs.items;
    s->rank0.chunks = rs.chunks;
    s->rank0.busy_s = rs.busy_s;
    s->rank0.dispatch_s = rs.dispatch_s;
    s->rank0.data_s = rs.data_s;
    s->rank0.wall_s = rs.wall_s;
  }
}

static void test_runs_and_accessors(void) {
  /* Sentinels of NULL handles. amz_plan_ranks(NULL) = 0 is documented; the others
   * are not spelled out for NULL and are checked against the conventions of
   * amorsize.h (counts 0, seconds -1, strings ""). */
  tried++; /* amz_plan_destroy accepts NULL (local then: nothing to free) */
  amz_plan_destroy(NULL);
  SENTINEL(amz_plan_ranks(NULL), 0);
  SENTINEL(amz_mpi_plan_used(NULL), 0);
  SENTINEL(amz_result_local_items_done(NULL), 0);
  SENTINEL(amz_result_local_items_failed(NULL), 0);
  SENTINEL(amz_result_local_seconds(NULL), -1.0);
  SENTINEL(amz_result_local_range_count(NULL), 0);
  SENTINEL(amz_result_ranks(NULL), 0);
  SENTINEL(amz_result_mpi_excluded(NULL), 0);
  const char *why = amz_result_mpi_why(NULL);
  SENTINEL(why != NULL && strcmp(why, "") == 0, 1);

  tally_t t;
  CU_ASSERT_EQUAL_FATAL(tally_init(&t, N), 0);
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL(amz_options_set_ranks(o, size), 0); /* every rank runs */
  amz_task_t task = {"mpi runs", N, tally_fn, &t};

  /* A plan of amz_plan_create is not for amz_mpi_run, and the reverse. */
  amz_plan_t *serial = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &serial), 0);
  amz_result_t *r = (amz_result_t *)&t;
  BAD_LOCAL(amz_mpi_run(serial, &r), AMZ_EINVAL, "amz_mpi_plan_create");
  CU_ASSERT_PTR_NULL(r);
  SENTINEL(amz_plan_ranks(serial), 1);
  SENTINEL(amz_mpi_plan_used(serial), 1);
  amz_result_t *sr = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_run(serial, &sr), 0);
  amz_plan_destroy(serial);
  /* The serial run executed every item on each rank: start counting afresh. */
  tally_free(&t);
  CU_ASSERT_EQUAL_FATAL(tally_init(&t, N), 0);

  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_mpi_plan_create(MPI_COMM_WORLD, &task, o, &p), 0);
  CU_ASSERT_EQUAL(amz_plan_ranks(p), size);
  uint64_t calls_after_plan = atomic_load(&t.calls);
  r = (amz_result_t *)&t;
  BAD_LOCAL(amz_run(p, &r), AMZ_EINVAL, "amz_mpi_run");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)&t;
  BAD(amz_mpi_run(NULL, &r), AMZ_EINVAL, "plan");
  CU_ASSERT_PTR_NULL(r);
  BAD(amz_mpi_run(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_mpi_run(p, NULL), AMZ_EINVAL, "result");
  const int last = rank == size - 1;
  r = (amz_result_t *)&t;
  BAD_ON(last, amz_mpi_run(p, last ? NULL : &r), AMZ_EINVAL, "result", NULL);
  if (!last) CU_ASSERT_PTR_NULL(r);

  /* Plan accessors of an MPI plan (local). */
  amz_terms_t terms;
  amz_candidate_t cand;
  size_t nc = amz_plan_candidate_count(p);
  char needle[64];
  BAD_LOCAL(amz_plan_terms(p, NULL), AMZ_EINVAL, "NULL");
  BAD_LOCAL(amz_plan_candidate(p, 0, NULL), AMZ_EINVAL, "NULL");
  snprintf(needle, sizeof needle, "%zu", nc);
  BAD_LOCAL(amz_plan_candidate(p, nc, &cand), AMZ_ERANGE, needle);
  BAD_LOCAL(amz_plan_candidate(p, SIZE_MAX, &cand), AMZ_ERANGE, "out of range");
  BAD_LOCAL(amz_plan_explain(p, NULL), AMZ_EINVAL, "NULL");
  FILE *ro = fopen("/dev/null", "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
  BAD_LOCAL(amz_plan_explain(p, ro), AMZ_EIO, "write");
  CU_ASSERT_EQUAL(amz_plan_terms(p, &terms), 0);

  /* The failed calls did not use up the first run: it runs every item not sampled,
   * and with sampling that is every item exactly once. */
  CU_ASSERT_EQUAL(atomic_load(&t.calls), calls_after_plan);
  r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_mpi_run(p, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(items_not(&t, 1), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), N);

  /* Result accessors (local). */
  snap_t before, after;
  snapshot(r, &before);
  uint64_t b = 11, e = 12;
  size_t nr = amz_result_local_range_count(r);
  int R = amz_result_ranks(r);
  CU_ASSERT_EQUAL(R, size);
  BAD_LOCAL(amz_result_local_range(NULL, 0, &b, &e), AMZ_EINVAL, "NULL");
  BAD_LOCAL(amz_result_local_range(sr, 0, &b, &e), AMZ_EINVAL, "amz_run");
  const size_t bad_i[] = {nr, nr + 1, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad_i / sizeof *bad_i; i++) {
    snprintf(needle, sizeof needle, "%zu", bad_i[i]);
    BAD_LOCAL(amz_result_local_range(r, bad_i[i], &b, &e), AMZ_ERANGE, needle);
  }
  CU_ASSERT(b == 11 && e == 12);
  amz_rank_stats_t rs, rs_keep;
  memset(&rs, 0x5a, sizeof rs);
  rs_keep = rs;
  BAD_LOCAL(amz_result_rank(NULL, 0, &rs), AMZ_EINVAL, "NULL");
  BAD_LOCAL(amz_result_rank(r, 0, NULL), AMZ_EINVAL, "NULL");
  BAD_LOCAL(amz_result_rank(sr, 0, &rs), AMZ_EINVAL, "amz_run");
  const int bad_r[] = {-1, INT_MIN, R, R + 1, INT_MAX};
  for (size_t i = 0; i < sizeof bad_r / sizeof *bad_r; i++) {
    snprintf(needle, sizeof needle, "%d", bad_r[i]);
    BAD_LOCAL(amz_result_rank(r, bad_r[i], &rs), AMZ_ERANGE, needle);
  }
  CU_ASSERT_EQUAL(memcmp(&rs, &rs_keep, sizeof rs), 0);
  /* Results of amz_run: one rank, not excluded, no why. */
  SENTINEL(amz_result_ranks(sr), 1);
  SENTINEL(amz_result_mpi_excluded(sr), 0);
  why = amz_result_mpi_why(sr);
  SENTINEL(why != NULL && strcmp(why, "") == 0, 1);

  /* amz_mpi_gather_items: every bad argument, on every rank or on one. */
  uint32_t *keep = malloc(N * sizeof *keep);
  CU_ASSERT_PTR_NOT_NULL_FATAL(keep);
  memcpy(keep, t.out, N * sizeof *keep);
  BAD(amz_mpi_gather_items(MPI_COMM_NULL, r, t.out, 4, 0), AMZ_EINVAL, "MPI_COMM_NULL");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, NULL, t.out, 4, 0), AMZ_EINVAL, "result");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, NULL, 4, 0), AMZ_EINVAL, "buf");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, NULL, NULL, 4, 0), AMZ_EINVAL, "NULL");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, 0, 0), AMZ_EINVAL, "item_bytes");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, 0, AMZ_MPI_ALL), AMZ_EINVAL, "item_bytes");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, sr, t.out, 4, 0), AMZ_EINVAL, "amz_run");
  const int bad_root[] = {size, size + 1, -2, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof bad_root / sizeof *bad_root; i++) {
    snprintf(needle, sizeof needle, "root %d", bad_root[i]);
    BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, 4, bad_root[i]), AMZ_EINVAL, needle);
  }
  BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, r, last ? NULL : t.out, 4, 0), AMZ_EINVAL,
         "buf", NULL);
  BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, last ? NULL : r, t.out, 4, 0), AMZ_EINVAL,
         "result", NULL);
  BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, last ? 0 : 4, 0), AMZ_EINVAL,
         "item_bytes", NULL);
  BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, last ? sr : r, t.out, 4, 0), AMZ_EINVAL,
         "amz_run", NULL);
  if (size > 1) {
    /* Valid arguments that disagree: another item size (the root read past a buffer
     * and returned 0), another root (the ranks waited for different roots). */
    BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, last ? 2 : 4, 0), AMZ_EINVAL,
           "item_bytes differs", NULL);
    BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, 4, last ? 1 : 0), AMZ_EINVAL,
           "root differs", NULL);
    BAD_ON(last, amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, 4, last ? AMZ_MPI_ALL : 0),
           AMZ_EINVAL, "root differs", NULL);
    /* An intercommunicator (two groups): refused, not hung. */
    MPI_Comm half, inter;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 == 0 ? 1 : 0, 77, &inter);
    BAD(amz_mpi_gather_items(inter, r, t.out, 4, 0), AMZ_EINVAL, "intercommunicator");
    MPI_Comm_free(&inter);
    MPI_Comm_free(&half);
  }
  /* Huge item sizes: the count limit is checked before any allocation, and a
   * product that would wrap (2^63 bytes per item) is refused too. */
  {
    const size_t huge[] = {(size_t)1 << 40, (size_t)1 << 63, SIZE_MAX};
    for (int k = 0; k < 3; k++) {
      tried++;
      mark_last_error();
      int rc = amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, huge[k], 0);
      CU_ASSERT_TRUE(same_everywhere(rc));
      CU_ASSERT_EQUAL(rc, AMZ_EINVAL);
      CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "limit"));
    }
  }
  /* Failed gathers left every rank's buffer alone. */
  CU_ASSERT_EQUAL(memcmp(keep, t.out, N * sizeof *keep), 0);
  free(keep);
  /* The result reads the same as before the failed calls, and still gathers. */
  snapshot(r, &after);
  CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
  CU_ASSERT_EQUAL(amz_mpi_gather_items(MPI_COMM_WORLD, r, t.out, sizeof *t.out, AMZ_MPI_ALL), 0);
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < N; i++) wrong += t.out[i] != 3 * i + 1;
  CU_ASSERT_EQUAL(wrong, 0);
  amz_result_destroy(r);
  amz_plan_destroy(p);

  /* An excluded rank's result: amz_result_rank refuses it (AMZ_EINVAL). */
  if (size > 1) {
    amz_options_t *one = quiet_opts(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    CU_ASSERT_EQUAL(amz_options_set_ranks(one, 1), 0);
    p = NULL;
    CU_ASSERT_EQUAL_FATAL(amz_mpi_plan_create(MPI_COMM_WORLD, &task, one, &p), 0);
    r = NULL;
    CU_ASSERT_EQUAL(amz_mpi_run(p, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    if (amz_result_mpi_excluded(r)) {
      BAD_LOCAL(amz_result_rank(r, 0, &rs), AMZ_EINVAL, "excluded");
      CU_ASSERT_STRING_NOT_EQUAL(amz_result_mpi_why(r), "");
      CU_ASSERT_EQUAL(amz_mpi_plan_used(p), 0);
    } else {
      CU_ASSERT_EQUAL(amz_result_rank(r, 0, &rs), 0);
      BAD_LOCAL(amz_result_rank(r, 1, &rs), AMZ_ERANGE, "1");
    }
    amz_result_destroy(r);
    amz_plan_destroy(p);
    amz_options_destroy(one);
  }
  fclose(ro);
  amz_result_destroy(sr);
  amz_options_destroy(o);
  CU_ASSERT_EQUAL(atomic_load(&t.out_of_range), 0);
  tally_free(&t);
}

/* The count limit of amz_mpi_gather_items with honest buffers: two items of 1 GiB
 * + 1 byte each (over INT_MAX bytes in all). The buffers are mapped, not touched,
 * so only the packing costs memory (at most 2 GiB over all ranks, briefly). */
static int big_fn(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  return 0;
}

static void test_gather_count_limit(void) {
  const size_t item = ((size_t)1 << 30) + 1;
  const uint64_t n = 2;
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"mpi big items", n, big_fn, NULL};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_mpi_for(MPI_COMM_WORLD, &task, o, &r), 0);
  size_t bytes = (size_t)n * item;
  void *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  CU_ASSERT_FATAL(buf != MAP_FAILED);
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, buf, item, 0), AMZ_EINVAL, "count limit");
  BAD(amz_mpi_gather_items(MPI_COMM_WORLD, r, buf, item, AMZ_MPI_ALL), AMZ_EINVAL, "count limit");
  munmap(buf, bytes);
  amz_result_destroy(r);
  amz_options_destroy(o);
}

int main(int argc, char **argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  if (provided < MPI_THREAD_MULTIPLE) {
    fprintf(stderr, "SKIP: this MPI provides thread level %d, the suite needs "
                    "MPI_THREAD_MULTIPLE (%d)\n", provided, MPI_THREAD_MULTIPLE);
    MPI_Finalize();
    return 77;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  /* No rank may hang: a rank still here after 100 s dies, and mpiexec with it
   * (CTest's TIMEOUT is the outer bound). */
  alarm(100);
  static const char *const vars[] = {"AMZ_WORKERS", "AMZ_RANKS", "AMZ_SCHEDULE", "AMZ_CHUNK",
                                     "AMZ_RETRIES", "AMZ_PROGRESS", "AMZ_PROFILE",
                                     "AMZ_PROFILE_OVERWRITE", "AMZ_CHECKPOINT"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
  setenv("AMZ_CACHE_DIR", "", 0);
  CU_initialize_registry();
  CU_pSuite s = CU_add_suite("mpi bad inputs", NULL, NULL);
  CU_add_test(s, "plan creation: arguments, disagreement, environment", test_plan_create);
  CU_add_test(s, "map mode", test_map_mode);
  CU_add_test(s, "runs, plan and result accessors, gather", test_runs_and_accessors);
  CU_add_test(s, "gather over the MPI count limit", test_gather_count_limit);
  CU_add_test(s, "allreduce: arguments and disagreement", test_allreduce);
  unsigned ran = 0, all = mpi_cunit_run(rank, &ran);
  if (rank == 0) {
    printf("\nmpi bad-input suite on %d rank%s: %u test(s), %u failed assertion(s) over all "
           "ranks; result: %s\n",
           size, size == 1 ? "" : "s", ran, all, all == 0 && ran > 0 ? "OK" : "FAILED");
    printf("bad inputs tried: %lu\n", tried);
  }
  MPI_Finalize();
  return all == 0 && ran > 0 ? 0 : 1;
}
