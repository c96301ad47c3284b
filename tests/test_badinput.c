/*
 * Every bad input of every public call of amorsize.h and amorsize_profile.h, through
 * the public headers only: each pointer argument NULL (one at a time), integers and
 * doubles out of range (negative, zero where invalid, huge, NaN, +/-inf), invalid
 * enum values, indexes past the end, malformed and over-long strings, objects in
 * the wrong state, damaged files, and malformed environment variables.
 *
 * For every case the test checks (a) the documented return code, or the documented
 * sentinel of an accessor; (b) for fallible calls, a fresh, non-empty
 * amz_last_error() that names the bad value or argument where the header promises
 * it; (c) that nothing crashes (under AddressSanitizer too); (d) that a failed call
 * changed nothing: outputs are cleared or left alone, options keep their valid
 * values, a plan or result reads the same before and after, and no kernel ran.
 *
 * Every case is checked: a library that differs from its header fails the test.
 * The program ends with one line "bad inputs tried: N".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "amorsize.h"
#include "amorsize_profile.h"

/* test_util.c provides amz_test_run(); its header pulls in the internal API, which
 * this suite must not use, so the one declaration is repeated here. */
int amz_test_run(void);

/* ------------------------------------------------------------------------- */
/* Counting bad inputs                                                        */
/* ------------------------------------------------------------------------- */

/* Bad inputs tried, per public header; each suite points `tally` at its own. */
static unsigned long n_core, n_env, n_profile;
static unsigned long *tally = &n_core;

#define TRIED() ((*tally)++)

/* Puts a known text into amz_last_error(), so that a check can tell a fresh detail
 * from a stale one. */
static void mark_last_error(void) {
  amz_schedule_t s;
  amz_schedule_parse("zz-marker", &s);
}

/* Whether a failing call left the documented code and a fresh detail that holds
 * n1 and n2 (either may be NULL). */
static int fail_ok(int rc, int code, const char *n1, const char *n2) {
  const char *msg = amz_last_error();
  return rc == code && msg && msg[0] != '\0' && !strstr(msg, "zz-marker") &&
         (!n1 || strstr(msg, n1)) && (!n2 || strstr(msg, n2));
}

static void report(int ok, int rc, int code, const char *n1, const char *n2, int line,
                   const char *text) {
  CU_assertImplementation(ok, (unsigned)line, text, __FILE__, "", CU_FALSE);
  if (!ok) {
    const char *msg = amz_last_error();
    fprintf(stderr, "  line %d: %s returned %d (%s), expected %d (%s); last error \"%.200s\"",
            line, text, rc, amz_error_name(rc), code, amz_error_name(code), msg ? msg : "(null)");
    if (code != 0 && (n1 || n2))
      fprintf(stderr, "; wanted \"%s\"%s%s%s", n1 ? n1 : "", n2 ? " and \"" : "", n2 ? n2 : "",
              n2 ? "\"" : "");
    fputc('\n', stderr);
  }
}

static void expect_fail(int rc, int code, const char *n1, const char *n2, int line,
                        const char *text) {
  report(fail_ok(rc, code, n1, n2), rc, code, n1, n2, line, text);
}

/* A bad input: the call returns `code` with a fresh detail containing n1 (and n2). */
#define BAD(call, code, n1) BAD2(call, code, n1, NULL)
#define BAD2(call, code, n1, n2)                               \
  do {                                                         \
    TRIED();                                                   \
    mark_last_error();                                         \
    int rc_ = (call);                                          \
    expect_fail(rc_, code, n1, n2, __LINE__, #call);           \
  } while (0)

/* A bad-looking input that the header documents as valid: the call returns 0. */
#define ACCEPTED(call)                                                      \
  do {                                                                      \
    TRIED();                                                                \
    int rc_ = (call);                                                       \
    report(rc_ == 0, rc_, 0, NULL, NULL, __LINE__, #call " (documented valid)"); \
  } while (0)

/* An accessor given a bad input returns its documented sentinel. */
#define SENTINEL(expr, want)                                                       \
  do {                                                                             \
    TRIED();                                                                       \
    int ok_ = (expr) == (want);                                                    \
    CU_assertImplementation(ok_, __LINE__, #expr " == " #want, __FILE__, "", CU_FALSE); \
    if (!ok_) fprintf(stderr, "  line %d: %s is not %s\n", __LINE__, #expr, #want);   \
  } while (0)

#define SENTINEL_STR(expr, want)                                                         \
  do {                                                                                   \
    TRIED();                                                                             \
    const char *s_ = (expr);                                                             \
    int ok_ = s_ && strcmp(s_, want) == 0;                                               \
    CU_assertImplementation(ok_, __LINE__, #expr " == \"" want "\"", __FILE__, "", CU_FALSE); \
    if (!ok_) fprintf(stderr, "  line %d: %s is \"%s\", not \"%s\"\n", __LINE__, #expr,      \
                      s_ ? s_ : "(null)", want);                                          \
  } while (0)

/* A second look at an input already counted: the detail must hold n1. */
#define DETAIL(call, code, n1)                                                     \
  do {                                                                             \
    int rc_ = (call);                                                              \
    CU_ASSERT_EQUAL(rc_, code);                                                    \
    if (!strstr(amz_last_error(), n1))                                             \
      fprintf(stderr, "  line %d: detail \"%.160s\" lacks \"%s\"\n", __LINE__,     \
              amz_last_error(), n1);                                               \
    CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), n1));                          \
  } while (0)

/* ------------------------------------------------------------------------- */
/* Kernels, options, files                                                    */
/* ------------------------------------------------------------------------- */

enum { N = 1000 };

typedef struct bad_task {
  uint64_t n;
  _Atomic uint32_t count[N]; /* executions per item */
  _Atomic uint64_t calls;
  _Atomic uint64_t out_of_range; /* ranges outside [0, n) or empty */
  uint64_t fail_begin, fail_end; /* ranges overlapping these items fail */
  int fail_code;
  /* When set, the first kernel call runs this plan again (AMZ_EBUSY probe). */
  amz_plan_t *_Atomic busy_plan;
  _Atomic int busy_tried, busy_rc, busy_result_null, busy_msg_ok;
} bad_task_t;

static void bt_init(bad_task_t *t, uint64_t n) {
  memset(t, 0, sizeof *t);
  t->n = n;
}

static int kernel(uint64_t b, uint64_t e, void *arg) {
  bad_task_t *t = arg;
  atomic_fetch_add(&t->calls, 1);
  if (b >= e || e > t->n) {
    atomic_fetch_add(&t->out_of_range, 1);
    return 0;
  }
  amz_plan_t *busy = atomic_load(&t->busy_plan);
  if (busy && !atomic_exchange(&t->busy_tried, 1)) {
    amz_result_t *r = (amz_result_t *)t; /* any non-NULL value: must be cleared */
    mark_last_error();
    int rc = amz_run(busy, &r);
    atomic_store(&t->busy_rc, rc);
    atomic_store(&t->busy_result_null, r == NULL);
    atomic_store(&t->busy_msg_ok, fail_ok(rc, AMZ_EBUSY, "already running", NULL));
    if (rc == 0) amz_result_destroy(r);
  }
  for (uint64_t i = b; i < e; i++) atomic_fetch_add(&t->count[i], 1);
  if (t->fail_code && b < t->fail_end && t->fail_begin < e) return t->fail_code;
  return 0;
}

/* For loops too long to count: does nothing, counts calls. */
static _Atomic uint64_t nop_calls;
static int nop_kernel(uint64_t b, uint64_t e, void *arg) {
  (void)b;
  (void)e;
  (void)arg;
  atomic_fetch_add(&nop_calls, 1);
  return 0;
}

static uint64_t items_not(const bad_task_t *t, uint32_t want) {
  uint64_t bad = 0;
  for (uint64_t i = 0; i < t->n; i++) bad += atomic_load(&t->count[i]) != want;
  return bad;
}

/* Small sampling budget, no progress line; the environment only where asked. */
static amz_options_t *quiet_opts(int use_env) {
  amz_options_t *o = NULL;
  if (amz_options_create(&o) != 0) return NULL;
  if (amz_options_set_sampling(o, 0.02, 0.05) != 0 ||
      amz_options_set_progress_line(o, AMZ_PROGRESS_OFF) != 0 ||
      amz_options_set_use_env(o, use_env) != 0) {
    amz_options_destroy(o);
    return NULL;
  }
  return o;
}

static char tmpdir[256];

static const char *tmp_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmpdir, name);
  return buf;
}

static int write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = len ? fwrite(data, 1, len, f) : 0;
  return fclose(f) == 0 && put == len ? 0 : -1;
}

/* Reads a whole file; *len receives its size. NULL on failure. */
static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) *len = (size_t)sz;
  return buf;
}

/* A string of `len` characters: "/" + 'a's (a path longer than any limit). */
static char *long_string(size_t len, const char *prefix) {
  char *s = malloc(len + 1);
  if (!s) return NULL;
  memset(s, 'a', len);
  size_t p = strlen(prefix);
  memcpy(s, prefix, p < len ? p : len);
  s[len] = '\0';
  return s;
}

/* A stream whose writes fail: opened read-only. */
static FILE *unwritable_stream(void) { return fopen("/dev/null", "r"); }

/* A stream whose writes fail with ENOSPC at once (unbuffered /dev/full); NULL when
 * the machine has no /dev/full. */
static FILE *full_stream(void) {
  FILE *f = fopen("/dev/full", "w");
  if (f) setvbuf(f, NULL, _IONBF, 0);
  return f;
}

/* Text written by an explain call, for before/after comparisons. */
static char *explain_text(int (*fn)(const void *, FILE *), const void *obj) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int rc = fn(obj, f);
  fclose(f);
  if (rc != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}
static int plan_explain_v(const void *p, FILE *f) { return amz_plan_explain(p, f); }
static int result_explain_v(const void *r, FILE *f) { return amz_result_explain(r, f); }

/* ------------------------------------------------------------------------- */
/* Error codes, schedule names                                                */
/* ------------------------------------------------------------------------- */

static void test_error_strings_and_names(void) {
  tally = &n_core;
  static const int bad_codes[] = {1, 2, 77, -18, -100, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof bad_codes / sizeof *bad_codes; i++) {
    SENTINEL_STR(amz_strerror(bad_codes[i]), "unknown error");
    SENTINEL_STR(amz_error_name(bad_codes[i]), "AMZ_UNKNOWN");
  }
  static const int bad_scheds[] = {-1, AMZ_SCHED_COUNT, 99, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof bad_scheds / sizeof *bad_scheds; i++)
    SENTINEL_STR(amz_schedule_name((amz_schedule_t)bad_scheds[i]), "invalid");

  /* amz_schedule_parse: a failure leaves the output alone. */
  amz_schedule_t s = AMZ_SCHED_GUIDED;
  BAD(amz_schedule_parse(NULL, &s), AMZ_EINVAL, "NULL");
  BAD(amz_schedule_parse("static", NULL), AMZ_EINVAL, "NULL");
  BAD(amz_schedule_parse(NULL, NULL), AMZ_EINVAL, "NULL");
  static const char *const bad_names[] = {"",        " ",       "bogus", " static", "static ",
                                          "stat",    "dynamic\n", "7",   "-1",      "awf2",
                                          "guided,4", "AUTO!"};
  char quoted[64];
  for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
    snprintf(quoted, sizeof quoted, "'%s'", bad_names[i]);
    BAD(amz_schedule_parse(bad_names[i], &s), AMZ_ESCHED, quoted);
  }
  char *longname = long_string(5000, "x");
  CU_ASSERT_PTR_NOT_NULL_FATAL(longname);
  BAD(amz_schedule_parse(longname, &s), AMZ_ESCHED, "'xaaaa");
  /* The 5000-byte name and what was expected both fit in the detail. */
  DETAIL(amz_schedule_parse(longname, &s), AMZ_ESCHED, "expected one of");
  free(longname);
  CU_ASSERT_EQUAL(s, AMZ_SCHED_GUIDED);
}

/* ------------------------------------------------------------------------- */
/* Options                                                                    */
/* ------------------------------------------------------------------------- */

static void test_options(void) {
  tally = &n_core;
  char path[512], ckpt[512], want_profile[512], needle[64];
  BAD(amz_options_create(NULL), AMZ_EINVAL, "NULL");

  /* Every setter with NULL options. */
  amz_hooks_t hooks = {0};
  BAD(amz_options_set_workers(NULL, 2), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_ranks(NULL, 2), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_schedule(NULL, AMZ_SCHED_STATIC), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_chunk(NULL, 4), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_sampling(NULL, 0.1, 0.1), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_hooks(NULL, &hooks, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_hooks(NULL, NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_progress_interval(NULL, 1.0), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_cache_dir(NULL, "/tmp"), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_cache_dir(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_progress_line(NULL, AMZ_PROGRESS_OFF), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_profile(NULL, "x.h5"), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_profile(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_profile_overwrite(NULL, 1), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_retries(NULL, 1), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_timeout(NULL, 60, 0, AMZ_TIMEOUT_ERROR), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_checkpoint(NULL, "x.ckpt"), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_checkpoint(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_options_set_use_env(NULL, 1), AMZ_EINVAL, "NULL");
  TRIED(); /* documented: accepts NULL */
  amz_options_destroy(NULL);

  /* `o` gets valid settings first; every bad value below must leave them, which
   * the plan made from `o` at the end shows. `scratch` takes the values the header
   * documents as valid, so that they do not disturb `o`. */
  amz_options_t *o = quiet_opts(0), *scratch = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(scratch);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(o, AMZ_SCHED_DYNAMIC), 0);
  CU_ASSERT_EQUAL(amz_options_set_chunk(o, 16), 0);
  CU_ASSERT_EQUAL(amz_options_set_retries(o, 1), 0);
  CU_ASSERT_EQUAL(amz_options_set_profile(o, tmp_path(path, sizeof path, "keep-%r.h5")), 0);
  tmp_path(want_profile, sizeof want_profile, "keep-1.h5");
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(o, tmp_path(ckpt, sizeof ckpt, "keep.ckpt")), 0);

  static const int bad_workers[] = {-1, -4096, INT_MIN, 4097, 5000, INT_MAX};
  for (size_t i = 0; i < sizeof bad_workers / sizeof *bad_workers; i++) {
    snprintf(needle, sizeof needle, "%d", bad_workers[i]);
    BAD(amz_options_set_workers(o, bad_workers[i]), AMZ_EINVAL, needle);
  }
  static const int bad_ranks[] = {-1, -2, INT_MIN};
  for (size_t i = 0; i < sizeof bad_ranks / sizeof *bad_ranks; i++) {
    snprintf(needle, sizeof needle, "%d", bad_ranks[i]);
    BAD(amz_options_set_ranks(o, bad_ranks[i]), AMZ_EINVAL, needle);
  }
  /* Ranks above any machine: valid here (only amz_mpi_plan_create can judge). */
  ACCEPTED(amz_options_set_ranks(scratch, INT_MAX));
  static const int bad_scheds[] = {-1, -3, AMZ_SCHED_COUNT, 99, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof bad_scheds / sizeof *bad_scheds; i++) {
    snprintf(needle, sizeof needle, "%d", bad_scheds[i]);
    BAD(amz_options_set_schedule(o, (amz_schedule_t)bad_scheds[i]), AMZ_ESCHED, needle);
  }
  ACCEPTED(amz_options_set_chunk(scratch, UINT64_MAX));

  /* Sampling: the budget must be > 0, the error target in (0, 1). */
  static const struct {
    double v;
    const char *shown;
  } bad_budget[] = {{0.0, "got 0"}, {-0.0, "0"}, {-1.0, "-1"}, {-1e-300, "-1e-300"},
                    {-INFINITY, "-inf"}, {NAN, "nan"}},
    bad_err[] = {{0.0, "got 0"},  {-0.5, "-0.5"}, {1.0, "got 1"}, {1.5, "1.5"},
                 {NAN, "nan"},    {INFINITY, "inf"}, {-INFINITY, "-inf"}, {1e300, "1e+300"}};
  for (size_t i = 0; i < sizeof bad_budget / sizeof *bad_budget; i++)
    BAD2(amz_options_set_sampling(o, bad_budget[i].v, 0.05), AMZ_EINVAL, "budget",
         bad_budget[i].shown);
  for (size_t i = 0; i < sizeof bad_err / sizeof *bad_err; i++)
    BAD2(amz_options_set_sampling(o, 0.05, bad_err[i].v), AMZ_EINVAL, "error", bad_err[i].shown);
  /* Both bad: either may be named, but the call fails. */
  BAD(amz_options_set_sampling(o, NAN, NAN), AMZ_EINVAL, "nan");
  /* Budgets above the documented 3600 s. */
  BAD(amz_options_set_sampling(scratch, 7200.0, 0.05), AMZ_EINVAL, "3600");
  BAD(amz_options_set_sampling(scratch, 1e300, 0.05), AMZ_EINVAL, "3600");
  BAD(amz_options_set_sampling(scratch, INFINITY, 0.05), AMZ_EINVAL, "3600");

  /* Progress interval: >= 0. */
  static const struct {
    double v;
    const char *shown;
  } bad_interval[] = {{-1.0, "-1"}, {-1e-300, "-1e-300"}, {-INFINITY, "-inf"}, {NAN, "nan"}};
  for (size_t i = 0; i < sizeof bad_interval / sizeof *bad_interval; i++)
    BAD(amz_options_set_progress_interval(o, bad_interval[i].v), AMZ_EINVAL, bad_interval[i].shown);
  ACCEPTED(amz_options_set_progress_interval(scratch, INFINITY));
  ACCEPTED(amz_options_set_progress_interval(scratch, 1e300));
  ACCEPTED(amz_options_set_progress_interval(scratch, 0.0));

  /* Cache directory: any string, NULL and "" included (they disable the cache). */
  char *longdir = long_string(5000, "/nonexistent-amz-cache/");
  CU_ASSERT_PTR_NOT_NULL_FATAL(longdir);
  ACCEPTED(amz_options_set_cache_dir(scratch, longdir));
  ACCEPTED(amz_options_set_cache_dir(scratch, NULL));
  ACCEPTED(amz_options_set_cache_dir(scratch, ""));
  free(longdir);

  static const int bad_modes[] = {-1, 3, 99, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof bad_modes / sizeof *bad_modes; i++) {
    snprintf(needle, sizeof needle, "got %d", bad_modes[i]);
    BAD(amz_options_set_progress_line(o, bad_modes[i]), AMZ_EINVAL, needle);
  }

  /* Profile paths: an unknown placeholder is refused and named. */
  static const struct {
    const char *path, *named;
  } bad_profiles[] = {{"run-%q.h5", "%q"},   {"run-%.h5", "%."},   {"run-%", "'run-%'"},
                      {"%%%", "'%%%'"},      {"a%1b", "%1"},       {"%R.h5", "%R"},
                      {"%J-%r.h5", "%J"},    {"%r-% .h5", "% "}};
  for (size_t i = 0; i < sizeof bad_profiles / sizeof *bad_profiles; i++)
    BAD2(amz_options_set_profile(o, bad_profiles[i].path), AMZ_EINVAL, "placeholder",
         bad_profiles[i].named);
  /* Over-long: AMZ_EINVAL (the header lists the code; the reason is not listed). */
  char *longprofile = long_string(5000, "/tmp/");
  CU_ASSERT_PTR_NOT_NULL_FATAL(longprofile);
  BAD(amz_options_set_profile(o, longprofile), AMZ_EINVAL, "profile path '/tmp/aaaa");
  /* The over-long value and the reason both fit in the detail. */
  DETAIL(amz_options_set_profile(o, longprofile), AMZ_EINVAL, "longer");
  ACCEPTED(amz_options_set_profile(scratch, NULL));
  ACCEPTED(amz_options_set_profile(scratch, ""));
  ACCEPTED(amz_options_set_profile(scratch, "%%-%r-%j.h5"));
  /* Any int is a flag. */
  ACCEPTED(amz_options_set_profile_overwrite(scratch, -1));
  ACCEPTED(amz_options_set_profile_overwrite(scratch, INT_MIN));
  ACCEPTED(amz_options_set_profile_overwrite(scratch, 2));
  ACCEPTED(amz_options_set_use_env(scratch, -7));

  static const int bad_retries[] = {-1, 101, 1000, INT_MAX, INT_MIN};
  for (size_t i = 0; i < sizeof bad_retries / sizeof *bad_retries; i++) {
    snprintf(needle, sizeof needle, "got %d", bad_retries[i]);
    BAD(amz_options_set_retries(o, bad_retries[i]), AMZ_EINVAL, needle);
  }
  ACCEPTED(amz_options_set_retries(scratch, 100));
  ACCEPTED(amz_options_set_retries(scratch, 0));

  /* Timeouts: seconds in [0, 1e9], a factor 0 or in [1, 1e9], one of two actions. */
  static const double bad_seconds[] = {-1, -1e-9, 1.5e9, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof bad_seconds / sizeof *bad_seconds; i++)
    BAD(amz_options_set_timeout(o, bad_seconds[i], 0, AMZ_TIMEOUT_ERROR), AMZ_EINVAL,
        "timeout seconds");
  static const double bad_factors[] = {-1, 0.5, 0.999, 2e9, INFINITY, NAN};
  for (size_t i = 0; i < sizeof bad_factors / sizeof *bad_factors; i++)
    BAD(amz_options_set_timeout(o, 60, bad_factors[i], AMZ_TIMEOUT_ERROR), AMZ_EINVAL,
        "timeout factor");
  BAD(amz_options_set_timeout(o, 60, 0, (amz_timeout_action_t)2), AMZ_EINVAL, "got 2");
  BAD(amz_options_set_timeout(o, 60, 0, (amz_timeout_action_t)-1), AMZ_EINVAL, "got -1");
  ACCEPTED(amz_options_set_timeout(scratch, 0, 0, AMZ_TIMEOUT_ERROR));
  ACCEPTED(amz_options_set_timeout(scratch, 1e9, 1e9, AMZ_TIMEOUT_ABORT));
  ACCEPTED(amz_options_set_timeout(scratch, 0, 1, AMZ_TIMEOUT_ERROR));

  /* Checkpoint paths of 4096 bytes or more. */
  char *ck4096 = long_string(4096, "/tmp/"), *ck4095 = long_string(4095, "/tmp/");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ck4096);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ck4095);
  BAD(amz_options_set_checkpoint(o, ck4096), AMZ_EINVAL, "4096");
  BAD(amz_options_set_checkpoint(o, longprofile), AMZ_EINVAL, "5000");
  ACCEPTED(amz_options_set_checkpoint(scratch, ck4095));
  ACCEPTED(amz_options_set_checkpoint(scratch, NULL));
  ACCEPTED(amz_options_set_checkpoint(scratch, ""));
  free(ck4096);
  free(ck4095);
  free(longprofile);

  /* Nothing the bad calls touched changed `o`: the plan keeps its workers,
   * schedule and chunk, the run writes the profile and checkpoint asked for. */
  bad_task_t *t = calloc(1, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bt_init(t, N);
  amz_task_t task = {"options kept", N, kernel, t};
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &plan), 0);
  CU_ASSERT_EQUAL(amz_plan_workers(plan), 2);
  CU_ASSERT_EQUAL(amz_plan_schedule(plan), AMZ_SCHED_DYNAMIC);
  CU_ASSERT_EQUAL(amz_plan_chunk(plan), 16);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT_EQUAL(amz_result_items_done(r), N);
  CU_ASSERT_EQUAL(items_not(t, 1), 0);
  CU_ASSERT_PTR_NOT_NULL(amz_result_profile_path(r));
  if (amz_result_profile_path(r)) CU_ASSERT_STRING_EQUAL(amz_result_profile_path(r), want_profile);
  CU_ASSERT_EQUAL(access(want_profile, F_OK), 0);
  CU_ASSERT_EQUAL(access(ckpt, F_OK), 0);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  free(t);
  amz_options_destroy(o);
  amz_options_destroy(scratch);
}

/* ------------------------------------------------------------------------- */
/* Plan creation, amz_for                                                      */
/* ------------------------------------------------------------------------- */

static void test_plan_create(void) {
  tally = &n_core;
  char path[512], other[512];
  bad_task_t *t = calloc(1, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bt_init(t, N);
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"bad plan", N, kernel, t};
  amz_task_t no_fn = {"no kernel here", N, NULL, t};
  amz_task_t no_fn_no_name = {NULL, N, NULL, t};
  amz_plan_t *plan = (amz_plan_t *)t; /* non-NULL: a failure must clear it */
  amz_result_t *r = (amz_result_t *)t;

  BAD(amz_plan_create(NULL, o, &plan), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(plan);
  plan = (amz_plan_t *)t;
  BAD(amz_plan_create(NULL, NULL, &plan), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(plan);
  plan = (amz_plan_t *)t;
  BAD2(amz_plan_create(&no_fn, o, &plan), AMZ_EINVAL, "fn", "no kernel here");
  CU_ASSERT_PTR_NULL(plan);
  plan = (amz_plan_t *)t;
  BAD(amz_plan_create(&no_fn_no_name, NULL, &plan), AMZ_EINVAL, "fn");
  CU_ASSERT_PTR_NULL(plan);
  BAD(amz_plan_create(&task, o, NULL), AMZ_EINVAL, "plan");
  BAD(amz_plan_create(NULL, NULL, NULL), AMZ_EINVAL, "NULL");

  BAD(amz_for(NULL, o, &r), AMZ_EINVAL, "task");
  CU_ASSERT_PTR_NULL(r);
  r = (amz_result_t *)t;
  BAD2(amz_for(&no_fn, o, &r), AMZ_EINVAL, "fn", "no kernel here");
  CU_ASSERT_PTR_NULL(r);
  BAD(amz_for(&task, o, NULL), AMZ_EINVAL, "result");
  BAD(amz_for(NULL, NULL, NULL), AMZ_EINVAL, "NULL");

  /* Contradictory options: STATIC takes no chunk. */
  amz_options_t *conflict = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(conflict);
  CU_ASSERT_EQUAL(amz_options_set_schedule(conflict, AMZ_SCHED_STATIC), 0);
  static const uint64_t chunks[] = {1, 8, UINT64_MAX};
  char needle[64];
  for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
    CU_ASSERT_EQUAL(amz_options_set_chunk(conflict, chunks[i]), 0);
    snprintf(needle, sizeof needle, "%llu", (unsigned long long)chunks[i]);
    plan = (amz_plan_t *)t;
    BAD2(amz_plan_create(&task, conflict, &plan), AMZ_ECONFLICT, "static", needle);
    CU_ASSERT_PTR_NULL(plan);
    r = (amz_result_t *)t;
    BAD2(amz_for(&task, conflict, &r), AMZ_ECONFLICT, "static", needle);
    CU_ASSERT_PTR_NULL(r);
  }
  amz_options_destroy(conflict);

  /* Profiles that cannot be written are refused before anything runs. */
  amz_options_t *po = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(po);
  tmp_path(path, sizeof path, "exists.h5");
  CU_ASSERT_EQUAL_FATAL(write_file(path, "x", 1), 0);
  CU_ASSERT_EQUAL(amz_options_set_profile(po, path), 0);
  plan = (amz_plan_t *)t;
  BAD(amz_plan_create(&task, po, &plan), AMZ_EEXIST, path);
  CU_ASSERT_PTR_NULL(plan);
  r = (amz_result_t *)t;
  BAD(amz_for(&task, po, &r), AMZ_EEXIST, path);
  CU_ASSERT_PTR_NULL(r);
  /* The existing file was not touched. */
  size_t len = 0;
  unsigned char *data = read_file(path, &len);
  CU_ASSERT(data && len == 1 && data[0] == 'x');
  free(data);
  CU_ASSERT_EQUAL(amz_options_set_profile(po, tmpdir), 0); /* a directory */
  BAD2(amz_plan_create(&task, po, &plan), AMZ_EIO, tmpdir, "directory");
  tmp_path(path, sizeof path, "no-such-dir/p.h5");
  CU_ASSERT_EQUAL(amz_options_set_profile(po, path), 0);
  BAD2(amz_plan_create(&task, po, &plan), AMZ_EIO, path, "no-such-dir");
  BAD2(amz_for(&task, po, &r), AMZ_EIO, path, "no-such-dir");
  CU_ASSERT_PTR_NULL(r);
  amz_options_destroy(po);

  /* Checkpoints that are not checkpoints are refused and never modified. */
  amz_options_t *co = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(co);
  static const char short_text[] = "not a checkpoint\n";
  char long_text[10000];
  for (size_t i = 0; i < sizeof long_text; i++) long_text[i] = (char)('a' + i % 26);
  long_text[sizeof long_text - 1] = '\n';
  const struct {
    const char *name;
    const void *data;
    size_t len;
  } foreign[] = {{"short.txt", short_text, sizeof short_text - 1},
                 {"long.txt", long_text, sizeof long_text}};
  for (size_t i = 0; i < 2; i++) {
    tmp_path(path, sizeof path, foreign[i].name);
    CU_ASSERT_EQUAL_FATAL(write_file(path, foreign[i].data, foreign[i].len), 0);
    CU_ASSERT_EQUAL(amz_options_set_checkpoint(co, path), 0);
    plan = (amz_plan_t *)t;
    BAD2(amz_plan_create(&task, co, &plan), AMZ_EFORMAT, path, "not an Amorsize checkpoint");
    CU_ASSERT_PTR_NULL(plan);
    r = (amz_result_t *)t;
    BAD(amz_for(&task, co, &r), AMZ_EFORMAT, path);
    CU_ASSERT_PTR_NULL(r);
    data = read_file(path, &len);
    CU_ASSERT(data && len == foreign[i].len && memcmp(data, foreign[i].data, len) == 0);
    free(data);
  }
  /* A directory, and a file in a missing directory: the header gives no code for a
   * checkpoint that cannot be opened; AMZ_EIO is the one it gives for profiles. */
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(co, tmpdir), 0);
  BAD(amz_plan_create(&task, co, &plan), AMZ_EIO, tmpdir);
  tmp_path(path, sizeof path, "no-such-dir/c.ckpt");
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(co, path), 0);
  BAD(amz_plan_create(&task, co, &plan), AMZ_EIO, path);
  CU_ASSERT_EQUAL(atomic_load(&t->calls), 0); /* no failed call ran the kernel */

  /* A checkpoint of another task or another N: AMZ_EMISMATCH, naming both. */
  tmp_path(path, sizeof path, "owned.ckpt");
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(co, path), 0);
  bad_task_t *owner_t = calloc(1, sizeof *owner_t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(owner_t);
  bt_init(owner_t, N);
  amz_task_t owner = {"ckpt-owner", N, kernel, owner_t};
  r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_for(&owner, co, &r), 0);
  amz_result_destroy(r);
  data = read_file(path, &len);
  CU_ASSERT_PTR_NOT_NULL(data);
  amz_task_t renamed = {"ckpt-intruder", N, kernel, t};
  amz_task_t resized = {"ckpt-owner", N - 1, kernel, t};
  plan = (amz_plan_t *)t;
  BAD2(amz_plan_create(&renamed, co, &plan), AMZ_EMISMATCH, "ckpt-owner", "ckpt-intruder");
  CU_ASSERT_PTR_NULL(plan);
  BAD2(amz_plan_create(&resized, co, &plan), AMZ_EMISMATCH, "1000", "999");
  r = (amz_result_t *)t;
  BAD(amz_for(&renamed, co, &r), AMZ_EMISMATCH, path);
  CU_ASSERT_PTR_NULL(r);
  size_t len2 = 0;
  unsigned char *data2 = read_file(path, &len2);
  CU_ASSERT(data && data2 && len == len2 && memcmp(data, data2, len) == 0);
  free(data);
  free(data2);
  /* In use by another plan that has not run yet: AMZ_EBUSY. */
  tmp_path(other, sizeof other, "busy.ckpt");
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(co, other), 0);
  amz_plan_t *holder = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&owner, co, &holder), 0);
  uint64_t owner_calls = atomic_load(&owner_t->calls);
  plan = (amz_plan_t *)t;
  BAD2(amz_plan_create(&owner, co, &plan), AMZ_EBUSY, other, "in use");
  CU_ASSERT_PTR_NULL(plan);
  CU_ASSERT_EQUAL(atomic_load(&owner_t->calls), owner_calls);
  amz_plan_destroy(holder);
  amz_options_destroy(co);
  CU_ASSERT_EQUAL(atomic_load(&t->calls), 0);
  CU_ASSERT_EQUAL(atomic_load(&t->out_of_range), 0);
  free(owner_t);

  /* Huge values the header documents as valid. n_items = 2^63 with a kernel that
   * does nothing: planning (sampling included) works. */
  amz_task_t huge = {"huge n", (uint64_t)1 << 63, nop_kernel, NULL};
  plan = NULL;
  TRIED();
  int rc = amz_plan_create(&huge, o, &plan);
  CU_ASSERT_EQUAL(rc, 0);
  amz_plan_destroy(plan);
  /* N = UINT64_MAX plans (the model's simulation must not wrap). */
  amz_task_t max = {"max n", UINT64_MAX, nop_kernel, NULL};
  ACCEPTED(amz_plan_create(&max, o, &plan));
  amz_plan_destroy(plan);
  plan = NULL;

  /* A huge chunk (documented: any value, 0 = choose) with every chunked schedule
   * runs each item exactly once. */
  for (int s = AMZ_SCHED_CYCLIC; s <= AMZ_SCHED_AWF; s++) {
    bad_task_t *h = calloc(1, sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    bt_init(h, N);
    amz_options_t *ho = quiet_opts(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ho);
    CU_ASSERT_EQUAL(amz_options_set_schedule(ho, (amz_schedule_t)s), 0);
    CU_ASSERT_EQUAL(amz_options_set_chunk(ho, UINT64_MAX), 0);
    amz_task_t ht = {"huge chunk", N, kernel, h};
    r = NULL;
    TRIED();
    rc = amz_for(&ht, ho, &r);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(amz_result_items_done(r), N);
    CU_ASSERT_EQUAL(items_not(h, 1), 0);
    CU_ASSERT_EQUAL(atomic_load(&h->out_of_range), 0);
    if (rc != 0 || items_not(h, 1) != 0)
      fprintf(stderr, "  schedule %s with chunk UINT64_MAX: rc %d, %llu items not run once\n",
              amz_schedule_name((amz_schedule_t)s), rc, (unsigned long long)items_not(h, 1));
    amz_result_destroy(r);
    amz_options_destroy(ho);
    free(h);
  }
  amz_options_destroy(o);
  free(t);
}

/* ------------------------------------------------------------------------- */
/* Plan accessors and amz_run                                                  */
/* ------------------------------------------------------------------------- */

typedef struct plan_snap {
  int workers;
  amz_schedule_t schedule;
  uint64_t chunk, sampled;
  double predicted, speedup, setup;
  size_t n_cands;
  amz_candidate_t first, last;
  amz_terms_t terms;
} plan_snap_t;

/* Candidate i, copied field by field (a returned struct's padding is unspecified). */
static void cand_get(const amz_plan_t *p, size_t i, amz_candidate_t *out) {
  amz_candidate_t c;
  memset(out, 0, sizeof *out);
  if (amz_plan_candidate(p, i, &c) != 0) return;
  out->workers = c.workers;
  out->schedule = c.schedule;
  out->chunk = c.chunk;
  out->predicted_s = c.predicted_s;
  out->terms = c.terms;
  out->ranks = c.ranks;
}

static void plan_snapshot(const amz_plan_t *p, plan_snap_t *s) {
  memset(s, 0, sizeof *s);
  s->workers = amz_plan_workers(p);
  s->schedule = amz_plan_schedule(p);
  s->chunk = amz_plan_chunk(p);
  s->sampled = amz_plan_sampled_items(p);
  s->predicted = amz_plan_predicted_seconds(p);
  s->speedup = amz_plan_predicted_speedup(p);
  s->setup = amz_plan_setup_seconds(p);
  s->n_cands = amz_plan_candidate_count(p);
  if (s->n_cands) {
    cand_get(p, 0, &s->first);
    cand_get(p, s->n_cands - 1, &s->last);
  }
  amz_plan_terms(p, &s->terms);
}

static void test_plan_accessors_and_run(void) {
  tally = &n_core;
  /* Documented sentinels of a NULL plan. */
  SENTINEL(amz_plan_workers(NULL), 0);
  SENTINEL(amz_plan_schedule(NULL), AMZ_SCHED_AUTO);
  SENTINEL(amz_plan_chunk(NULL), 0);
  SENTINEL(amz_plan_predicted_seconds(NULL), -1.0);
  SENTINEL(amz_plan_predicted_speedup(NULL), -1.0);
  /* Not documented for NULL: no crash, and nothing counted. (amz_plan_setup_seconds
   * gives -1 where amz_result_setup_seconds gives 0.) */
  SENTINEL(amz_plan_sampled_items(NULL), 0);
  SENTINEL(amz_plan_candidate_count(NULL), 0);
  SENTINEL(amz_plan_setup_seconds(NULL) <= 0.0, 1);
  TRIED(); /* documented: accepts NULL */
  amz_plan_destroy(NULL);

  bad_task_t *t = calloc(1, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bt_init(t, N);
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  amz_task_t task = {"plan accessors", N, kernel, t};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&task, o, &p), 0);
  uint64_t calls_after_plan = atomic_load(&t->calls);
  plan_snap_t before, after;
  plan_snapshot(p, &before);
  char *text_before = explain_text(plan_explain_v, p);
  CU_ASSERT_PTR_NOT_NULL(text_before);

  amz_terms_t terms, terms_keep;
  memset(&terms, 0x5a, sizeof terms);
  terms_keep = terms;
  BAD(amz_plan_terms(NULL, &terms), AMZ_EINVAL, "NULL");
  BAD(amz_plan_terms(p, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_plan_terms(NULL, NULL), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL(memcmp(&terms, &terms_keep, sizeof terms), 0);

  amz_candidate_t cand, cand_keep;
  memset(&cand, 0x5a, sizeof cand);
  cand_keep = cand;
  size_t nc = amz_plan_candidate_count(p);
  char needle[64];
  BAD(amz_plan_candidate(NULL, 0, &cand), AMZ_EINVAL, "NULL");
  BAD(amz_plan_candidate(p, 0, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_plan_candidate(NULL, 0, NULL), AMZ_EINVAL, "NULL");
  const size_t bad_idx[] = {nc, nc + 1, nc + 4243, SIZE_MAX / 2, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad_idx / sizeof *bad_idx; i++) {
    snprintf(needle, sizeof needle, "%zu", bad_idx[i]);
    BAD2(amz_plan_candidate(p, bad_idx[i], &cand), AMZ_ERANGE, "candidate", needle);
  }
  CU_ASSERT_EQUAL(memcmp(&cand, &cand_keep, sizeof cand), 0);

  FILE *ro = unwritable_stream(), *full = full_stream();
  CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
  BAD(amz_plan_explain(NULL, stdout), AMZ_EINVAL, "NULL");
  BAD(amz_plan_explain(p, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_plan_explain(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_plan_explain(p, ro), AMZ_EIO, "write");
  if (full) BAD(amz_plan_explain(p, full), AMZ_EIO, "write");

  /* amz_run: NULL arguments clear the output and do not use up the first run. */
  amz_result_t *r = (amz_result_t *)t;
  BAD(amz_run(NULL, &r), AMZ_EINVAL, "plan");
  CU_ASSERT_PTR_NULL(r);
  BAD(amz_run(p, NULL), AMZ_EINVAL, "result");
  BAD(amz_run(NULL, NULL), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL(atomic_load(&t->calls), calls_after_plan);

  plan_snapshot(p, &after);
  CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
  char *text_after = explain_text(plan_explain_v, p);
  CU_ASSERT(text_before && text_after && strcmp(text_before, text_after) == 0);
  free(text_before);
  free(text_after);

  /* A run while the plan runs (from inside its own kernel): AMZ_EBUSY, output
   * cleared, and the outer run still completes every item exactly once. */
  atomic_store(&t->busy_plan, p);
  r = NULL;
  TRIED();
  CU_ASSERT_EQUAL(amz_run(p, &r), 0);
  CU_ASSERT_EQUAL(atomic_load(&t->busy_tried), 1);
  CU_ASSERT_EQUAL(atomic_load(&t->busy_rc), AMZ_EBUSY);
  CU_ASSERT_EQUAL(atomic_load(&t->busy_result_null), 1);
  CU_ASSERT_EQUAL(atomic_load(&t->busy_msg_ok), 1);
  CU_ASSERT_EQUAL(items_not(t, 1), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), N);
  atomic_store(&t->busy_plan, NULL);
  amz_result_destroy(r);

  if (full) fclose(full);
  fclose(ro);
  amz_plan_destroy(p);
  amz_options_destroy(o);
  CU_ASSERT_EQUAL(atomic_load(&t->out_of_range), 0);
  free(t);
}

/* ------------------------------------------------------------------------- */
/* Result accessors                                                           */
/* ------------------------------------------------------------------------- */

typedef struct result_snap {
  double seconds, predicted, setup;
  uint64_t done, failed, resumed, recovered, retry_calls;
  int workers;
  size_t n_failures, n_chunks;
  uint64_t f_begin, f_end;
  int f_code;
  amz_chunk_info_t c_first, c_last;
  amz_worker_stats_t w_first, w_last;
  amz_terms_t terms;
} result_snap_t;

static void result_snapshot(const amz_result_t *r, result_snap_t *s) {
  memset(s, 0, sizeof *s);
  s->seconds = amz_result_seconds(r);
  s->predicted = amz_result_predicted_seconds(r);
  s->setup = amz_result_setup_seconds(r);
  s->done = amz_result_items_done(r);
  s->failed = amz_result_items_failed(r);
  s->resumed = amz_result_items_resumed(r);
  s->recovered = amz_result_items_recovered(r);
  s->retry_calls = amz_result_retry_calls(r);
  s->workers = amz_result_workers(r);
  s->n_failures = amz_result_failure_count(r);
  s->n_chunks = amz_result_chunk_count(r);
  if (s->n_failures) amz_result_failure(r, 0, &s->f_begin, &s->f_end, &s->f_code);
  if (s->n_chunks) {
    amz_result_chunk(r, 0, &s->c_first);
    amz_result_chunk(r, s->n_chunks - 1, &s->c_last);
  }
  if (s->workers > 0) {
    amz_result_worker(r, 0, &s->w_first);
    amz_result_worker(r, s->workers - 1, &s->w_last);
  }
  amz_result_terms(r, &s->terms);
}

static void test_result_accessors(void) {
  tally = &n_core;
  /* Documented sentinels of a NULL result. */
  SENTINEL(amz_result_seconds(NULL), -1.0);
  SENTINEL(amz_result_predicted_seconds(NULL), -1.0);
  SENTINEL(amz_result_setup_seconds(NULL), 0.0);
  SENTINEL(amz_result_items_resumed(NULL), 0);
  SENTINEL(amz_result_items_recovered(NULL), 0);
  SENTINEL(amz_result_retry_calls(NULL), 0);
  SENTINEL(amz_result_profile_path(NULL), NULL);
  /* Counts of nothing (not spelled out for NULL in the header). */
  SENTINEL(amz_result_items_done(NULL), 0);
  SENTINEL(amz_result_items_failed(NULL), 0);
  SENTINEL(amz_result_workers(NULL), 0);
  SENTINEL(amz_result_failure_count(NULL), 0);
  SENTINEL(amz_result_chunk_count(NULL), 0);
  TRIED(); /* documented: accepts NULL */
  amz_result_destroy(NULL);

  /* A result with a failed range, so that every accessor has something to read. */
  bad_task_t *t = calloc(1, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bt_init(t, N);
  t->fail_begin = 500;
  t->fail_end = 503;
  t->fail_code = 42;
  amz_options_t *o = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL(amz_options_set_workers(o, 2), 0);
  amz_task_t task = {"result accessors", N, kernel, t};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&task, o, &r), AMZ_EITEMS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(amz_result_failure_count(r) >= 1);
  result_snap_t before, after;
  result_snapshot(r, &before);
  char *text_before = explain_text(result_explain_v, r);
  CU_ASSERT_PTR_NOT_NULL(text_before);

  uint64_t b = 77, e = 78;
  int code = 79;
  size_t nf = amz_result_failure_count(r), nc = amz_result_chunk_count(r);
  int W = amz_result_workers(r);
  char needle[64];
  BAD(amz_result_failure(NULL, 0, &b, &e, &code), AMZ_EINVAL, "NULL");
  BAD(amz_result_failure(NULL, 0, NULL, NULL, NULL), AMZ_EINVAL, "NULL");
  const size_t bad_f[] = {nf, nf + 1, nf + 4243, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad_f / sizeof *bad_f; i++) {
    snprintf(needle, sizeof needle, "index %zu", bad_f[i]);
    BAD2(amz_result_failure(r, bad_f[i], &b, &e, &code), AMZ_ERANGE, "failure", needle);
  }
  CU_ASSERT(b == 77 && e == 78 && code == 79);
  /* The outputs are optional (documented). */
  ACCEPTED(amz_result_failure(r, 0, NULL, &e, &code));
  ACCEPTED(amz_result_failure(r, 0, &b, NULL, &code));
  ACCEPTED(amz_result_failure(r, 0, &b, &e, NULL));

  amz_chunk_info_t ci, ci_keep;
  memset(&ci, 0x5a, sizeof ci);
  ci_keep = ci;
  BAD(amz_result_chunk(NULL, 0, &ci), AMZ_EINVAL, "NULL");
  BAD(amz_result_chunk(r, 0, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_result_chunk(NULL, 0, NULL), AMZ_EINVAL, "NULL");
  const size_t bad_c[] = {nc, nc + 1, nc + 4244, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad_c / sizeof *bad_c; i++) {
    snprintf(needle, sizeof needle, "index %zu", bad_c[i]);
    BAD2(amz_result_chunk(r, bad_c[i], &ci), AMZ_ERANGE, "chunk", needle);
  }
  CU_ASSERT_EQUAL(memcmp(&ci, &ci_keep, sizeof ci), 0);

  amz_worker_stats_t ws, ws_keep;
  memset(&ws, 0x5a, sizeof ws);
  ws_keep = ws;
  BAD(amz_result_worker(NULL, 0, &ws), AMZ_EINVAL, "NULL");
  BAD(amz_result_worker(r, 0, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_result_worker(NULL, 0, NULL), AMZ_EINVAL, "NULL");
  const int bad_w[] = {-1, -2, INT_MIN, W, W + 1, 4096, INT_MAX};
  for (size_t i = 0; i < sizeof bad_w / sizeof *bad_w; i++) {
    snprintf(needle, sizeof needle, "worker %d", bad_w[i]);
    BAD(amz_result_worker(r, bad_w[i], &ws), AMZ_ERANGE, needle);
  }
  CU_ASSERT_EQUAL(memcmp(&ws, &ws_keep, sizeof ws), 0);

  amz_terms_t terms, terms_keep;
  memset(&terms, 0x5a, sizeof terms);
  terms_keep = terms;
  BAD(amz_result_terms(NULL, &terms), AMZ_EINVAL, "NULL");
  BAD(amz_result_terms(r, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_result_terms(NULL, NULL), AMZ_EINVAL, "NULL");
  CU_ASSERT_EQUAL(memcmp(&terms, &terms_keep, sizeof terms), 0);

  FILE *ro = unwritable_stream(), *full = full_stream();
  CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
  BAD(amz_result_explain(NULL, stdout), AMZ_EINVAL, "NULL");
  BAD(amz_result_explain(r, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_result_explain(NULL, NULL), AMZ_EINVAL, "NULL");
  BAD(amz_result_explain(r, ro), AMZ_EIO, "write");
  if (full) BAD(amz_result_explain(r, full), AMZ_EIO, "write");
  if (full) fclose(full);
  fclose(ro);

  /* The failed calls changed nothing the result reports. */
  result_snapshot(r, &after);
  CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
  CU_ASSERT_EQUAL(after.done + after.failed, N);
  char *text_after = explain_text(result_explain_v, r);
  CU_ASSERT(text_before && text_after && strcmp(text_before, text_after) == 0);
  free(text_before);
  free(text_after);
  amz_result_destroy(r);
  amz_options_destroy(o);
  CU_ASSERT_EQUAL(atomic_load(&t->out_of_range), 0);
  free(t);
}

/* ------------------------------------------------------------------------- */
/* Environment variables                                                      */
/* ------------------------------------------------------------------------- */

static const char *const env_vars[] = {"AMZ_WORKERS",    "AMZ_RANKS",   "AMZ_SCHEDULE",
                                       "AMZ_CHUNK",      "AMZ_RETRIES", "AMZ_PROFILE_OVERWRITE",
                                       "AMZ_PROGRESS",   "AMZ_CHECKPOINT", "AMZ_PROFILE",
                                       "AMZ_TIMEOUT"};

static void unset_all_env(void) {
  for (size_t i = 0; i < sizeof env_vars / sizeof *env_vars; i++) unsetenv(env_vars[i]);
}

/* Malformed for every variable below that reads a number, a name or a flag. */
static const char *const malformed[] = {"",   " ",   "-1",  "1x", "0x10", "1e3",
                                        "99999999999999999999", "abc"};

/* AMZ_<var>=value makes amz_plan_create (and amz_for) fail with AMZ_EENV, naming
 * the variable (and the value, when `quoted`); nothing runs. */
static void env_case(const char *var, const char *value, int quoted, bad_task_t *t,
                     const amz_options_t *o, int line) {
  char needle[160];
  amz_task_t task = {"env", N, kernel, t};
  amz_plan_t *plan = (amz_plan_t *)t;
  setenv(var, value, 1);
  TRIED();
  mark_last_error();
  int rc = amz_plan_create(&task, o, &plan);
  snprintf(needle, sizeof needle, "'%s'", value);
  int ok = fail_ok(rc, AMZ_EENV, var, quoted ? needle : NULL) && plan == NULL;
  char text[256];
  snprintf(text, sizeof text, "amz_plan_create with %s='%.40s'%s", var, value,
           strlen(value) > 40 ? "..." : "");
  report(ok, rc, AMZ_EENV, var, quoted ? needle : NULL, line, text);
  if (rc == 0) amz_plan_destroy(plan);
  unsetenv(var);
}

static void test_environment(void) {
  tally = &n_env;
  unset_all_env();
  bad_task_t *t = calloc(1, sizeof *t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  bt_init(t, N);
  amz_options_t *o = quiet_opts(1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  const size_t nm = sizeof malformed / sizeof *malformed;

  /* Integers: AMZ_WORKERS in [0, 4096], AMZ_RANKS and AMZ_CHUNK >= 0 (AMZ_RANKS is
   * parsed by amz_plan_create too, though only MPI plans use it), AMZ_RETRIES in
   * [0, 100]. */
  static const char *const ints[] = {"AMZ_WORKERS", "AMZ_RANKS", "AMZ_CHUNK", "AMZ_RETRIES"};
  for (size_t v = 0; v < 4; v++)
    for (size_t i = 0; i < nm; i++) env_case(ints[v], malformed[i], 1, t, o, __LINE__);
  env_case("AMZ_WORKERS", "4097", 1, t, o, __LINE__);
  env_case("AMZ_RANKS", "2147483648", 1, t, o, __LINE__);
  env_case("AMZ_CHUNK", "18446744073709551616", 1, t, o, __LINE__);
  env_case("AMZ_RETRIES", "101", 1, t, o, __LINE__);
  env_case("AMZ_RETRIES", "1.5", 1, t, o, __LINE__);

  /* AMZ_TIMEOUT: off, or a comma list of SECONDS[s], FACTORx (>= 1), error|abort,
   * each at most once, with a bound. */
  static const char *const bad_timeouts[] = {
      "",      " ",      "-1",        "0x10",       "1e3",      "abc",   "0.5x", "10,20",
      "abort", "error",  "10,abort,error", "10s5", "nan",      "inf",   "10 ",  ",10",
      "10,",   "0s",     "1e10",      "2000000000", "20x,30x",  "x",     "s",    ".s",
      "10;abort"};
  for (size_t i = 0; i < sizeof bad_timeouts / sizeof *bad_timeouts; i++)
    env_case("AMZ_TIMEOUT", bad_timeouts[i], 1, t, o, __LINE__);

  /* AMZ_SCHEDULE: a schedule name; "" is not one. */
  for (size_t i = 0; i < nm; i++) env_case("AMZ_SCHEDULE", malformed[i], 1, t, o, __LINE__);
  env_case("AMZ_SCHEDULE", "dynamic,4", 1, t, o, __LINE__);
  env_case("AMZ_SCHEDULE", "static ", 1, t, o, __LINE__);

  /* AMZ_PROFILE_OVERWRITE: exactly 0 or 1. AMZ_PROGRESS: auto, on or off ("" is
   * none of them). */
  for (size_t i = 0; i < nm; i++) env_case("AMZ_PROFILE_OVERWRITE", malformed[i], 1, t, o, __LINE__);
  env_case("AMZ_PROFILE_OVERWRITE", "2", 1, t, o, __LINE__);
  env_case("AMZ_PROFILE_OVERWRITE", "true", 1, t, o, __LINE__);
  for (size_t i = 0; i < nm; i++) env_case("AMZ_PROGRESS", malformed[i], 1, t, o, __LINE__);
  env_case("AMZ_PROGRESS", "1", 1, t, o, __LINE__);
  env_case("AMZ_PROGRESS", "yes", 1, t, o, __LINE__);

  /* AMZ_CHECKPOINT: a path under 4096 bytes ("" = off). AMZ_PROFILE: a path whose
   * placeholders are %r, %j, %% ("" = off). */
  char *ck4096 = long_string(4096, "/tmp/"), *long5000 = long_string(5000, "/tmp/");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ck4096);
  CU_ASSERT_PTR_NOT_NULL_FATAL(long5000);
  env_case("AMZ_CHECKPOINT", ck4096, 0, t, o, __LINE__);
  env_case("AMZ_CHECKPOINT", long5000, 0, t, o, __LINE__);
  static const char *const bad_profiles[] = {"run-%q.h5", "run-%", "%%%", "a%1b", "%R.h5"};
  for (size_t i = 0; i < sizeof bad_profiles / sizeof *bad_profiles; i++)
    env_case("AMZ_PROFILE", bad_profiles[i], 1, t, o, __LINE__);
  env_case("AMZ_PROFILE", long5000, 0, t, o, __LINE__);
  setenv("AMZ_PROFILE", long5000, 1);
  amz_task_t long_task = {"env", N, kernel, t};
  amz_plan_t *long_plan = NULL;
  DETAIL(amz_plan_create(&long_task, o, &long_plan), AMZ_EENV, "longer");
  amz_plan_destroy(long_plan);
  unsetenv("AMZ_PROFILE");
  free(ck4096);
  free(long5000);

  /* amz_for fails the same way, and clears its output. */
  for (size_t v = 0; v < sizeof env_vars / sizeof *env_vars; v++) {
    const char *value = strcmp(env_vars[v], "AMZ_PROFILE") == 0   ? "%q"
                        : strcmp(env_vars[v], "AMZ_TIMEOUT") == 0 ? "0.5x"
                                                                  : "1x";
    if (strcmp(env_vars[v], "AMZ_CHECKPOINT") == 0) continue; /* any short path is valid */
    amz_task_t task = {"env for", N, kernel, t};
    amz_result_t *r = (amz_result_t *)t;
    setenv(env_vars[v], value, 1);
    BAD(amz_for(&task, o, &r), AMZ_EENV, env_vars[v]);
    CU_ASSERT_PTR_NULL(r);
    unsetenv(env_vars[v]);
  }
  /* NULL options are the defaults, which read the environment. */
  amz_task_t task = {"env defaults", N, kernel, t};
  amz_plan_t *plan = (amz_plan_t *)t;
  setenv("AMZ_WORKERS", "abc", 1);
  BAD2(amz_plan_create(&task, NULL, &plan), AMZ_EENV, "AMZ_WORKERS", "'abc'");
  CU_ASSERT_PTR_NULL(plan);
  unsetenv("AMZ_WORKERS");
  /* Environment against options: AMZ_SCHEDULE=static with a chunk option, and
   * AMZ_CHUNK with the static option, contradict each other. */
  amz_options_t *oc = quiet_opts(1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(oc);
  CU_ASSERT_EQUAL(amz_options_set_chunk(oc, 8), 0);
  setenv("AMZ_SCHEDULE", "static", 1);
  BAD2(amz_plan_create(&task, oc, &plan), AMZ_ECONFLICT, "AMZ_SCHEDULE", "8");
  unsetenv("AMZ_SCHEDULE");
  CU_ASSERT_EQUAL(amz_options_set_chunk(oc, 0), 0);
  CU_ASSERT_EQUAL(amz_options_set_schedule(oc, AMZ_SCHED_STATIC), 0);
  setenv("AMZ_CHUNK", "12", 1);
  BAD2(amz_plan_create(&task, oc, &plan), AMZ_ECONFLICT, "AMZ_CHUNK", "12");
  unsetenv("AMZ_CHUNK");
  amz_options_destroy(oc);
  CU_ASSERT_EQUAL(atomic_load(&t->calls), 0); /* nothing ran */

  /* The documented "off" values, and use_env = 0, are accepted. */
  setenv("AMZ_PROFILE", "", 1);
  setenv("AMZ_CHECKPOINT", "", 1);
  plan = NULL;
  ACCEPTED(amz_plan_create(&task, o, &plan));
  amz_result_t *r = NULL;
  if (plan) {
    CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
    CU_ASSERT_PTR_NULL(amz_result_profile_path(r));
    CU_ASSERT_EQUAL(amz_result_items_done(r), N);
    amz_result_destroy(r);
    amz_plan_destroy(plan);
  }
  unset_all_env();
  amz_options_t *off = quiet_opts(0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(off);
  for (size_t v = 0; v < sizeof env_vars / sizeof *env_vars; v++) setenv(env_vars[v], "1x%q", 1);
  plan = NULL;
  ACCEPTED(amz_plan_create(&task, off, &plan));
  amz_plan_destroy(plan);
  unset_all_env();
  amz_options_destroy(off);
  amz_options_destroy(o);
  CU_ASSERT_EQUAL(atomic_load(&t->out_of_range), 0);
  free(t);
}

/* ------------------------------------------------------------------------- */
/* Profiles (amorsize_profile.h)                                              */
/* ------------------------------------------------------------------------- */

static char good_profile[512];

/* Writes a damaged copy of the good profile: `len` bytes of it (plus `extra`),
 * with byte `flip` (if < len) inverted and the header text replaced from `hdr`. */
static int write_variant(const char *path, const unsigned char *good, size_t good_len,
                         size_t len, const char *extra, size_t flip, const char *hdr) {
  size_t elen = extra ? strlen(extra) : 0;
  unsigned char *buf = malloc(len + elen + 1);
  if (!buf) return -1;
  memcpy(buf, good, len < good_len ? len : good_len);
  if (extra) memcpy(buf + len, extra, elen);
  if (flip < len) buf[flip] ^= 0xff;
  if (hdr && len >= 512) {
    memset(buf, 0, 512);
    memcpy(buf, hdr, strlen(hdr));
  }
  int rc = write_file(path, buf, len + elen);
  free(buf);
  return rc;
}

static void test_profile_open(void) {
  tally = &n_profile;
  char path[512], needle[600];
  amz_profile_t *pr = (amz_profile_t *)&pr; /* non-NULL: a failure must clear it */

  /* Accessors of a NULL handle. */
  const amz_profile_chunk_t *crow = (const amz_profile_chunk_t *)&pr;
  const amz_profile_worker_t *wrow = (const amz_profile_worker_t *)&pr;
  const amz_profile_candidate_t *krow = (const amz_profile_candidate_t *)&pr;
  const amz_profile_term_t *trow = (const amz_profile_term_t *)&pr;
  const amz_profile_node_t *nrow = (const amz_profile_node_t *)&pr;
  const amz_profile_failure_t *frow = (const amz_profile_failure_t *)&pr;
  SENTINEL(amz_profile_info(NULL), NULL);
  SENTINEL(amz_profile_model(NULL), NULL);
  SENTINEL(amz_profile_chunks(NULL, &crow), 0);
  SENTINEL(amz_profile_chunks(NULL, NULL), 0);
  SENTINEL(amz_profile_workers(NULL, &wrow), 0);
  SENTINEL(amz_profile_workers(NULL, NULL), 0);
  SENTINEL(amz_profile_candidates(NULL, &krow), 0);
  SENTINEL(amz_profile_candidates(NULL, NULL), 0);
  SENTINEL(amz_profile_terms(NULL, &trow), 0);
  SENTINEL(amz_profile_terms(NULL, NULL), 0);
  SENTINEL(amz_profile_nodes(NULL, &nrow), 0);
  SENTINEL(amz_profile_nodes(NULL, NULL), 0);
  SENTINEL(amz_profile_failures(NULL, &frow), 0);
  SENTINEL(amz_profile_failures(NULL, NULL), 0);
  TRIED(); /* documented: accepts NULL */
  amz_profile_close(NULL);

  /* A good profile to damage, written by a real run. */
  CU_ASSERT_FATAL(good_profile[0] != '\0');
  size_t good_len = 0;
  unsigned char *good = read_file(good_profile, &good_len);
  CU_ASSERT_FATAL(good != NULL && good_len > 1024);
  amz_profile_t *ok = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_profile_open(good_profile, 0, &ok), 0);
  const amz_profile_info_t *info = amz_profile_info(ok);
  CU_ASSERT_PTR_NOT_NULL_FATAL(info);
  uint64_t done = info->items_done, n_items = info->n_items;
  size_t chunks = amz_profile_chunks(ok, NULL), terms = amz_profile_terms(ok, NULL);

  /* Arguments. */
  BAD2(amz_profile_open(NULL, 0, &pr), AMZ_EINVAL, "path", "NULL");
  CU_ASSERT_PTR_NULL(pr);
  BAD2(amz_profile_open(good_profile, 0, NULL), AMZ_EINVAL, "out", "NULL");
  BAD(amz_profile_open(NULL, 0, NULL), AMZ_EINVAL, "NULL");
  static const unsigned bad_flags[] = {2u, 3u, 0x80000000u, 0xffffffffu};
  for (size_t i = 0; i < sizeof bad_flags / sizeof *bad_flags; i++) {
    snprintf(needle, sizeof needle, "0x%x", bad_flags[i]);
    pr = (amz_profile_t *)&pr;
    BAD2(amz_profile_open(good_profile, bad_flags[i], &pr), AMZ_EINVAL, "flags", needle);
    CU_ASSERT_PTR_NULL(pr);
  }

  /* Files that cannot be opened or read: AMZ_EIO, naming the file. */
  tmp_path(path, sizeof path, "no-such-file.h5");
  BAD2(amz_profile_open(path, 0, &pr), AMZ_EIO, path, "No such file");
  CU_ASSERT_PTR_NULL(pr);
  BAD(amz_profile_open(path, AMZ_PROFILE_NO_VERIFY, &pr), AMZ_EIO, path);
  BAD(amz_profile_open(tmpdir, 0, &pr), AMZ_EIO, tmpdir);
  CU_ASSERT_PTR_NULL(pr);
  BAD(amz_profile_open(tmpdir, AMZ_PROFILE_NO_VERIFY, &pr), AMZ_EIO, tmpdir);
  BAD(amz_profile_open("/dev/null", 0, &pr), AMZ_EIO, "/dev/null");
  BAD(amz_profile_open("", 0, &pr), AMZ_EIO, "No such file");
  char *longpath = long_string(5000, "/tmp/");
  CU_ASSERT_PTR_NOT_NULL_FATAL(longpath);
  BAD(amz_profile_open(longpath, 0, &pr), AMZ_EIO, "/tmp/aaaaaaaa");
  CU_ASSERT_PTR_NULL(pr);
  DETAIL(amz_profile_open(longpath, 0, &pr), AMZ_EIO, "too long");
  free(longpath);

  /* Files that are not profiles, or damaged ones: AMZ_EFORMAT, naming the file. */
  static const unsigned char hdf5_sig[] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0};
  static const char text[] = "just some text\nover two lines\n";
  char header2[256];
  snprintf(header2, sizeof header2, "AMORSIZE-PROFILE\nschema %d\nbytes %zu\ncrc32 00000000\n",
           AMZ_PROFILE_SCHEMA_VERSION + 1, good_len);
  const struct {
    const char *name, *reason;
    int kind; /* 0: raw bytes, 1: variant of the good profile */
    const void *raw;
    size_t len;
    const char *extra;
    size_t flip;
    const char *hdr;
  } damaged[] = {
      {"empty.h5", "empty", 0, "", 0, NULL, 0, NULL},
      {"text.h5", "not an Amorsize profile", 0, text, sizeof text - 1, NULL, 0, NULL},
      {"hdf5.h5", "HDF5", 0, hdf5_sig, sizeof hdf5_sig, NULL, 0, NULL},
      {"magic-only.h5", "truncated", 0, "AMORSIZE-PROFILE\n", 17, NULL, 0, NULL},
      {"short.h5", "truncated", 1, NULL, 100, NULL, (size_t)-1, NULL},
      {"half.h5", "truncated", 1, NULL, good_len / 2, NULL, (size_t)-1, NULL},
      {"minus1.h5", "truncated", 1, NULL, good_len - 1, NULL, (size_t)-1, NULL},
      {"appended.h5", "appended", 1, NULL, good_len, "tail", (size_t)-1, NULL},
      {"flipped.h5", "CRC", 1, NULL, good_len, NULL, good_len / 2, NULL},
      {"newer.h5", "newer", 1, NULL, good_len, NULL, (size_t)-1, header2},
      {"schema0.h5", "not a released version", 1, NULL, good_len, NULL, (size_t)-1,
       "AMORSIZE-PROFILE\nschema 0\nbytes 1\ncrc32 0\n"},
      {"garbled.h5", "damaged Amorsize header", 1, NULL, good_len, NULL, (size_t)-1,
       "AMORSIZE-PROFILE\nschema x\nbytes y\ncrc32 z\n"},
  };
  for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
    tmp_path(path, sizeof path, damaged[i].name);
    int wrc = damaged[i].kind == 0
                  ? write_file(path, damaged[i].raw, damaged[i].len)
                  : write_variant(path, good, good_len, damaged[i].len, damaged[i].extra,
                                  damaged[i].flip, damaged[i].hdr);
    CU_ASSERT_EQUAL_FATAL(wrc, 0);
    pr = (amz_profile_t *)&pr;
    BAD2(amz_profile_open(path, 0, &pr), AMZ_EFORMAT, path, damaged[i].reason);
    CU_ASSERT_PTR_NULL(pr);
    if (pr) amz_profile_close(pr);
  }
  /* Without the CRC check a truncated file reaches HDF5, which refuses it. */
  tmp_path(path, sizeof path, "half.h5");
  pr = (amz_profile_t *)&pr;
  BAD(amz_profile_open(path, AMZ_PROFILE_NO_VERIFY, &pr), AMZ_EFORMAT, path);
  CU_ASSERT_PTR_NULL(pr);
  if (pr) amz_profile_close(pr);
  /* Foreign files are refused the same way without the CRC check. */
  tmp_path(path, sizeof path, "text.h5");
  BAD(amz_profile_open(path, AMZ_PROFILE_NO_VERIFY, &pr), AMZ_EFORMAT, path);
  tmp_path(path, sizeof path, "empty.h5");
  BAD(amz_profile_open(path, AMZ_PROFILE_NO_VERIFY, &pr), AMZ_EFORMAT, path);

  /* The open handle is unaffected, and the file still opens as before. */
  CU_ASSERT_EQUAL(amz_profile_info(ok)->items_done, done);
  CU_ASSERT_EQUAL(amz_profile_info(ok)->n_items, n_items);
  CU_ASSERT_EQUAL(amz_profile_chunks(ok, NULL), chunks);
  amz_profile_close(ok);
  ok = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_profile_open(good_profile, 0, &ok), 0);
  CU_ASSERT_EQUAL(amz_profile_info(ok)->items_done, done);
  /* Counting only: rows may be NULL (documented for chunks; the same everywhere). */
  const amz_profile_chunk_t *rows = NULL;
  SENTINEL(amz_profile_chunks(ok, NULL), amz_profile_chunks(ok, &rows));
  SENTINEL(amz_profile_terms(ok, NULL), terms);
  SENTINEL(amz_profile_workers(ok, NULL), amz_profile_workers(ok, &wrow));
  SENTINEL(amz_profile_candidates(ok, NULL), amz_profile_candidates(ok, &krow));
  SENTINEL(amz_profile_nodes(ok, NULL), amz_profile_nodes(ok, &nrow));
  SENTINEL(amz_profile_failures(ok, NULL), amz_profile_failures(ok, &frow));
  amz_profile_close(ok);
  free(good);
}

/* Writes the profile the profile suite damages. */
static int make_good_profile(void) {
  bad_task_t *t = calloc(1, sizeof *t);
  amz_options_t *o = quiet_opts(0);
  if (!t || !o) {
    free(t);
    amz_options_destroy(o);
    return -1;
  }
  bt_init(t, N);
  t->fail_begin = 10;
  t->fail_end = 11;
  t->fail_code = 3;
  char path[512];
  int rc = amz_options_set_profile(o, tmp_path(path, sizeof path, "good.h5"));
  amz_task_t task = {"good profile", N, kernel, t};
  amz_result_t *r = NULL;
  if (rc == 0) rc = amz_for(&task, o, &r);
  if (rc == AMZ_EITEMS && amz_result_profile_path(r)) {
    snprintf(good_profile, sizeof good_profile, "%s", amz_result_profile_path(r));
    rc = 0;
  } else {
    fprintf(stderr, "cannot write a profile: %s (%s)\n", amz_error_name(rc), amz_last_error());
    rc = -1;
  }
  amz_result_destroy(r);
  amz_options_destroy(o);
  free(t);
  return rc;
}

int main(void) {
  /* Only the environment suite sets AMZ_* variables; outside ctest the probe cache
   * must not land in $HOME. */
  unset_all_env();
  setenv("AMZ_CACHE_DIR", "", 0);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/amz-badinput-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  if (make_good_profile() != 0) return 1;
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite core = CU_add_suite("bad inputs: amorsize.h", NULL, NULL);
  CU_pSuite env = CU_add_suite("bad inputs: environment", NULL, NULL);
  CU_pSuite prof = CU_add_suite("bad inputs: amorsize_profile.h", NULL, NULL);
  if (!core || !env || !prof) return 1;
  CU_add_test(core, "error strings, schedule names", test_error_strings_and_names);
  CU_add_test(core, "options: NULL and out-of-range values", test_options);
  CU_add_test(core, "amz_plan_create and amz_for", test_plan_create);
  CU_add_test(core, "plan accessors, amz_run", test_plan_accessors_and_run);
  CU_add_test(core, "result accessors", test_result_accessors);
  CU_add_test(env, "malformed AMZ_* variables", test_environment);
  CU_add_test(prof, "amz_profile_open and accessors", test_profile_open);
  int rc = amz_test_run();
  unset_all_env();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  printf("bad inputs per header: amorsize.h %lu (calls %lu, environment %lu), "
         "amorsize_profile.h %lu; result: %s\n",
         n_core + n_env, n_core, n_env, n_profile, rc == 0 ? "OK" : "FAILED");
  printf("bad inputs tried: %lu\n", n_core + n_env + n_profile);
  return rc;
}
