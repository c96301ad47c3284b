/* Reliability: failure isolation with retries, checkpoint and resume, the
 * checkpoint reader on damaged files, bounded recording memory. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "amorsize_profile.h"
#include "test_util.h"

/* ---- a kernel that counts executions and fails where told ---------------- */

typedef struct kern {
  uint64_t n;
  _Atomic uint32_t *runs;     /* successful executions per item */
  _Atomic uint32_t *attempts; /* calls that contained the item */
  int bad_mod, bad_rem;       /* items with i % bad_mod == bad_rem always fail */
  int transient_mod;          /* items with i % transient_mod == 0 fail on their first call */
  uint64_t fail_from;         /* items >= fail_from fail (simulates a job cut short) */
} kern_t;

static void kern_init(kern_t *k, uint64_t n) {
  memset(k, 0, sizeof *k);
  k->n = n;
  k->runs = calloc(n ? n : 1, sizeof *k->runs);
  k->attempts = calloc(n ? n : 1, sizeof *k->attempts);
  k->fail_from = UINT64_MAX;
}

static void kern_free(kern_t *k) {
  free((void *)k->runs);
  free((void *)k->attempts);
}

static int kern_fn(uint64_t b, uint64_t e, void *arg) {
  kern_t *k = arg;
  int code = 0;
  for (uint64_t i = b; i < e; i++) {
    uint32_t a = atomic_fetch_add(&k->attempts[i], 1);
    if (k->bad_mod && (int)(i % (uint64_t)k->bad_mod) == k->bad_rem) code = 7;
    if (k->transient_mod && i % (uint64_t)k->transient_mod == 0 && a == 0) code = 9;
    if (i >= k->fail_from) code = 5;
  }
  if (code) return code;
  for (uint64_t i = b; i < e; i++) atomic_fetch_add(&k->runs[i], 1);
  volatile double x = 0;
  for (int j = 0; j < 50; j++) x += j;
  return 0;
}

static amz_options_t *opts_new(int workers, amz_schedule_t s, uint64_t chunk) {
  amz_options_t *o = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_options_create(&o), 0);
  amz_options_set_use_env(o, 0);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  if (workers) amz_options_set_workers(o, workers);
  if (s != AMZ_SCHED_AUTO) amz_options_set_schedule(o, s);
  if (chunk) amz_options_set_chunk(o, chunk);
  amz_options_set_sampling(o, 0.02, 0.05);
  return o;
}

/* Every failure range holds only always-bad items, each bad item is in one, and
 * done + failed = N. */
static void check_failures(const amz_result_t *r, const kern_t *k) {
  uint64_t failed = 0;
  size_t nf = amz_result_failure_count(r);
  for (size_t i = 0; i < nf; i++) {
    uint64_t b, e;
    int code;
    CU_ASSERT_EQUAL(amz_result_failure(r, i, &b, &e, &code), 0);
    CU_ASSERT_EQUAL(code, 7);
    for (uint64_t x = b; x < e; x++) CU_ASSERT((int)(x % (uint64_t)k->bad_mod) == k->bad_rem);
    failed += e - b;
  }
  uint64_t bad = 0;
  for (uint64_t i = 0; i < k->n; i++) {
    int is_bad = (int)(i % (uint64_t)k->bad_mod) == k->bad_rem;
    bad += is_bad;
    if (is_bad) {
      CU_ASSERT_EQUAL(atomic_load(&k->runs[i]), 0);
    } else {
      CU_ASSERT(atomic_load(&k->runs[i]) >= 1);
    }
  }
  CU_ASSERT_EQUAL(failed, bad);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), bad);
  CU_ASSERT_EQUAL(amz_result_items_done(r) + amz_result_items_failed(r), k->n);
}

static void test_retries_isolate(void) {
  const amz_schedule_t scheds[] = {AMZ_SCHED_STATIC, AMZ_SCHED_DYNAMIC, AMZ_SCHED_GUIDED,
                                   AMZ_SCHED_FACTORING, AMZ_SCHED_AWF};
  for (size_t s = 0; s < sizeof scheds / sizeof scheds[0]; s++) {
    kern_t k;
    kern_init(&k, 20000);
    k.bad_mod = 997;
    k.bad_rem = 13;
    amz_options_t *o = opts_new(2, scheds[s], scheds[s] == AMZ_SCHED_STATIC ? 0 : 64);
    CU_ASSERT_EQUAL(amz_options_set_retries(o, 2), 0);
    amz_task_t t = {"isolate", k.n, kern_fn, &k};
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_for(&t, o, &r), AMZ_EITEMS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    check_failures(r, &k);
    /* Each bad item alone was run 1 + 2 retries times at least. */
    for (uint64_t i = 13; i < k.n; i += 997) CU_ASSERT(atomic_load(&k.attempts[i]) >= 3);
    CU_ASSERT(amz_result_retry_calls(r) > 0);
    amz_result_destroy(r);
    amz_options_destroy(o);
    kern_free(&k);
  }
}

static void test_retries_recover_transient(void) {
  kern_t k;
  kern_init(&k, 5000);
  k.transient_mod = 50;
  amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, 32);
  CU_ASSERT_EQUAL(amz_options_set_retries(o, 1), 0);
  amz_task_t t = {"transient", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), k.n);
  CU_ASSERT(amz_result_items_recovered(r) >= k.n / 50);
  for (uint64_t i = 0; i < k.n; i++) CU_ASSERT(atomic_load(&k.runs[i]) >= 1);
  amz_result_destroy(r);
  amz_options_destroy(o);
  kern_free(&k);
}

static void test_retries_off_keeps_ranges(void) {
  kern_t k;
  kern_init(&k, 4096);
  k.bad_mod = 1000;
  k.bad_rem = 5;
  amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, 64);
  amz_task_t t = {"no-retry", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), AMZ_EITEMS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  /* Without retries the whole failing range is reported, as the kernel said. */
  CU_ASSERT(amz_result_items_failed(r) > 5);
  CU_ASSERT_EQUAL(amz_result_retry_calls(r), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r) + amz_result_items_failed(r), k.n);
  for (uint64_t i = 0; i < k.n; i++) CU_ASSERT(atomic_load(&k.attempts[i]) == 1);
  amz_result_destroy(r);
  amz_options_destroy(o);
  kern_free(&k);
}

static void test_retries_options_env(void) {
  amz_options_t *o = opts_new(1, AMZ_SCHED_AUTO, 0);
  CU_ASSERT_EQUAL(amz_options_set_retries(o, -1), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "-1"));
  CU_ASSERT_EQUAL(amz_options_set_retries(o, 101), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_retries(NULL, 1), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_retries(o, 100), 0);
  amz_options_set_use_env(o, 1);
  kern_t k;
  kern_init(&k, 100);
  amz_task_t t = {"env", k.n, kern_fn, &k};
  amz_plan_t *p = NULL;
  const char *bad[] = {"-1", "x", "101", "", " 1 2", "1e3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("AMZ_RETRIES", bad[i], 1);
    CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EENV);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "AMZ_RETRIES"));
  }
  setenv("AMZ_RETRIES", "3", 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), 0);
  amz_plan_destroy(p);
  unsetenv("AMZ_RETRIES");
  amz_options_destroy(o);
  kern_free(&k);
}

/* ---- checkpoint ----------------------------------------------------------- */

static char tmpdir[256];

static void path_in_tmp(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmpdir, name);
  unlink(buf);
}

static void test_checkpoint_complete_then_nothing(void) {
  char ck[512];
  path_in_tmp(ck, sizeof ck, "complete.ckpt");
  kern_t k;
  kern_init(&k, 30000);
  amz_options_t *o = opts_new(2, AMZ_SCHED_AUTO, 0);
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(o, ck), 0);
  amz_task_t t = {"complete", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_EQUAL(amz_result_items_done(r), k.n);
  CU_ASSERT_EQUAL(amz_result_items_resumed(r), 0);
  amz_result_destroy(r);
  for (uint64_t i = 0; i < k.n; i++) CU_ASSERT_EQUAL(atomic_load(&k.runs[i]), 1);
  /* The log covers everything. */
  amz__rangeset_t done = {0};
  amz__ckpt_info_t info;
  CU_ASSERT_EQUAL(amz__ckpt_read(ck, &done, &info), 0);
  CU_ASSERT_EQUAL(info.completed, k.n);
  CU_ASSERT_EQUAL(info.damaged, 0);
  CU_ASSERT_EQUAL(done.n, 1);
  amz__rangeset_free(&done);
  /* A rerun runs nothing, and says so. */
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_items_resumed(r), k.n);
  CU_ASSERT_EQUAL(amz_result_items_done(r), k.n);
  CU_ASSERT_EQUAL(amz_result_items_failed(r), 0);
  for (uint64_t i = 0; i < k.n; i++) CU_ASSERT_EQUAL(atomic_load(&k.attempts[i]), 1);
  amz_result_destroy(r);
  amz_options_destroy(o);
  kern_free(&k);
}

/* A job cut short (its items from some point on failed: never logged) resumes:
 * the second job runs exactly the items the first did not complete. */
static void test_checkpoint_resume_runs_the_rest(void) {
  const amz_schedule_t scheds[] = {AMZ_SCHED_AUTO, AMZ_SCHED_STATIC, AMZ_SCHED_DYNAMIC,
                                   AMZ_SCHED_GUIDED, AMZ_SCHED_AWF};
  for (size_t s = 0; s < sizeof scheds / sizeof scheds[0]; s++) {
    char ck[512];
    path_in_tmp(ck, sizeof ck, "resume.ckpt");
    kern_t k;
    kern_init(&k, 50000);
    k.fail_from = 31234;
    uint64_t chunk = scheds[s] == AMZ_SCHED_DYNAMIC ? 100 : 0;
    amz_options_t *o = opts_new(2, scheds[s], chunk);
    amz_options_set_checkpoint(o, ck);
    amz_task_t t = {"resume", k.n, kern_fn, &k};
    amz_result_t *r = NULL;
    CU_ASSERT_EQUAL(amz_for(&t, o, &r), AMZ_EITEMS);
    uint64_t done1 = amz_result_items_done(r);
    amz_result_destroy(r);
    CU_ASSERT(done1 <= k.fail_from);
    k.fail_from = UINT64_MAX;
    uint32_t *before = malloc(k.n * sizeof *before);
    for (uint64_t i = 0; i < k.n; i++) before[i] = atomic_load(&k.runs[i]);
    CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(amz_result_items_resumed(r), done1);
    CU_ASSERT_EQUAL(amz_result_items_done(r), k.n);
    /* Exactly once overall: completed items were not run again. */
    uint64_t again = 0;
    for (uint64_t i = 0; i < k.n; i++) {
      CU_ASSERT_EQUAL(atomic_load(&k.runs[i]), 1);
      again += before[i] > 0 && atomic_load(&k.runs[i]) > before[i];
    }
    CU_ASSERT_EQUAL(again, 0);
    free(before);
    amz_result_destroy(r);
    amz_options_destroy(o);
    kern_free(&k);
  }
}

static void test_checkpoint_refusals(void) {
  char ck[512], other[512];
  path_in_tmp(ck, sizeof ck, "refuse.ckpt");
  kern_t k;
  kern_init(&k, 1000);
  amz_options_t *o = opts_new(1, AMZ_SCHED_AUTO, 0);
  amz_options_set_checkpoint(o, ck);
  amz_task_t t = {"refuse", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  amz_result_destroy(r);
  amz_plan_t *p = NULL;
  /* Another N, another name. */
  amz_task_t t2 = {"refuse", 999, kern_fn, &k};
  CU_ASSERT_EQUAL(amz_plan_create(&t2, o, &p), AMZ_EMISMATCH);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "999"));
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "1000"));
  amz_task_t t3 = {"other name", k.n, kern_fn, &k};
  CU_ASSERT_EQUAL(amz_plan_create(&t3, o, &p), AMZ_EMISMATCH);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "other%20name"));
  /* In use by another open plan. */
  amz_plan_t *holder = NULL;
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &holder), 0);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EBUSY);
  amz_plan_destroy(holder);
  /* Not a checkpoint: refused and left untouched. */
  path_in_tmp(other, sizeof other, "foreign.dat");
  FILE *f = fopen(other, "w");
  for (int i = 0; i < 10000; i++) fputs("precious user data\n", f);
  fclose(f);
  struct stat st0, st1;
  stat(other, &st0);
  amz_options_set_checkpoint(o, other);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "foreign.dat"));
  stat(other, &st1);
  CU_ASSERT_EQUAL(st0.st_size, st1.st_size);
  CU_ASSERT_EQUAL(st0.st_mtime, st1.st_mtime);
  /* A short foreign file too. */
  f = fopen(other, "w");
  fputs("hello", f);
  fclose(f);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EFORMAT);
  stat(other, &st1);
  CU_ASSERT_EQUAL(st1.st_size, 5);
  /* A directory that does not exist. */
  amz_options_set_checkpoint(o, "/nonexistent-amz-dir/x.ckpt");
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "/nonexistent-amz-dir/x.ckpt"));
  /* Environment: AMZ_CHECKPOINT wins, "" turns it off. */
  amz_options_set_use_env(o, 1);
  setenv("AMZ_CHECKPOINT", "", 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), 0);
  amz_plan_destroy(p);
  setenv("AMZ_CHECKPOINT", other, 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "AMZ_CHECKPOINT"));
  unsetenv("AMZ_CHECKPOINT");
  CU_ASSERT_EQUAL(amz_options_set_checkpoint(NULL, ck), AMZ_EINVAL);
  amz_options_destroy(o);
  kern_free(&k);
}

/* Shared job directories: the checkpoint's mode follows the umask (a group can
 * resume the job), and task names longer than the header holds are still told
 * apart when they share a long prefix. */
static void test_checkpoint_shared(void) {
  char ck[512];
  path_in_tmp(ck, sizeof ck, "shared.ckpt");
  unlink(ck);
  kern_t k;
  kern_init(&k, 500);
  amz_options_t *o = opts_new(1, AMZ_SCHED_AUTO, 0);
  amz_options_set_checkpoint(o, ck);
  mode_t old = umask(002);
  amz_task_t t = {"shared", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  amz_result_destroy(r);
  umask(old);
  struct stat st;
  CU_ASSERT_EQUAL_FATAL(stat(ck, &st), 0);
  CU_ASSERT_EQUAL(st.st_mode & 0777, 0664);
  if ((st.st_mode & 0777) != 0664) fprintf(stderr, "  checkpoint mode %o\n", st.st_mode & 0777);
  unlink(ck);
  /* Two names of 600 bytes that differ only at the end. */
  char a[601], b[601];
  memset(a, 'n', 600);
  a[600] = '\0';
  memcpy(b, a, sizeof a);
  b[599] = 'm';
  amz_task_t ta = {a, k.n, kern_fn, &k}, tb = {b, k.n, kern_fn, &k};
  CU_ASSERT_EQUAL(amz_for(&ta, o, &r), 0);
  amz_result_destroy(r);
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL(amz_plan_create(&tb, o, &p), AMZ_EMISMATCH);
  CU_ASSERT_EQUAL(amz_plan_create(&ta, o, &p), 0); /* the same long name resumes */
  amz_plan_destroy(p);
  unlink(ck);
  amz_options_destroy(o);
  kern_free(&k);
}

static void test_checkpoint_damage(void) {
  char ck[512];
  path_in_tmp(ck, sizeof ck, "damage.ckpt");
  kern_t k;
  kern_init(&k, 20000);
  amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, 50);
  amz_options_set_checkpoint(o, ck);
  amz_task_t t = {"damage", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  amz_result_destroy(r);
  /* Tear one record (a byte of its range): it is skipped, its items run again. */
  int fd = open(ck, O_RDWR);
  unsigned char rec[32];
  off_t off = 4096;
  for (;; off += 32) {
    CU_ASSERT_EQUAL_FATAL(pread(fd, rec, 32, off), 32);
    if (rec[0] == 'A') break;
  }
  uint64_t b = 0, e = 0;
  for (int i = 7; i >= 0; i--) b = (b << 8) | rec[8 + i];
  for (int i = 7; i >= 0; i--) e = (e << 8) | rec[16 + i];
  rec[9] ^= 0x5a;
  CU_ASSERT_EQUAL(pwrite(fd, rec, 32, off), 32);
  close(fd);
  amz__rangeset_t done = {0};
  amz__ckpt_info_t info;
  CU_ASSERT_EQUAL(amz__ckpt_read(ck, &done, &info), 0);
  CU_ASSERT_EQUAL(info.damaged, 1);
  CU_ASSERT_EQUAL(info.completed, k.n - (e - b));
  amz__rangeset_free(&done);
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_EQUAL(amz_result_items_resumed(r), k.n - (e - b));
  for (uint64_t i = 0; i < k.n; i++)
    CU_ASSERT_EQUAL(atomic_load(&k.runs[i]), (i >= b && i < e) ? 2u : 1u);
  amz_result_destroy(r);
  /* A record with a valid CRC but a range beyond N is corruption: refused. */
  fd = open(ck, O_RDWR);
  struct stat st;
  fstat(fd, &st);
  unsigned char bad[32] = {0};
  uint64_t vals[2] = {5, k.n + 1};
  bad[0] = 'A', bad[1] = 'Z', bad[2] = 'C', bad[3] = 'K';
  for (int v = 0; v < 2; v++)
    for (int i = 0; i < 8; i++) bad[8 + 8 * v + i] = (unsigned char)(vals[v] >> (8 * i));
  uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), bad + 8, 24);
  for (int i = 0; i < 4; i++) bad[4 + i] = (unsigned char)(c >> (8 * i));
  CU_ASSERT_EQUAL(pwrite(fd, bad, 32, st.st_size), 32);
  close(fd);
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "20001"));
  /* A header cut short by a crash while creating: no record can exist; start over. */
  fd = open(ck, O_RDWR | O_TRUNC);
  CU_ASSERT_EQUAL(write(fd, "AMORSIZE-CHECKPOINT\nvers", 24), 24);
  close(fd);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), 0);
  amz_plan_destroy(p);
  /* A damaged header is refused. */
  fd = open(ck, O_RDWR);
  CU_ASSERT_EQUAL(pwrite(fd, "X", 1, 30), 1);
  close(fd);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "header"));
  amz_options_destroy(o);
  kern_free(&k);
}

/* Failures with a checkpoint: failed items are not logged, so a rerun tries them
 * again (and here they now succeed). */
static void test_checkpoint_failed_items_rerun(void) {
  char ck[512];
  path_in_tmp(ck, sizeof ck, "failed.ckpt");
  kern_t k;
  kern_init(&k, 8000);
  k.bad_mod = 500;
  k.bad_rem = 7;
  amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, 40);
  amz_options_set_checkpoint(o, ck);
  amz_options_set_retries(o, 1);
  amz_task_t t = {"failed-rerun", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), AMZ_EITEMS);
  check_failures(r, &k);
  uint64_t failed = amz_result_items_failed(r);
  amz_result_destroy(r);
  k.bad_mod = 0;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_EQUAL(amz_result_items_resumed(r), k.n - failed);
  for (uint64_t i = 0; i < k.n; i++) CU_ASSERT_EQUAL(atomic_load(&k.runs[i]), 1);
  amz_result_destroy(r);
  amz_options_destroy(o);
  kern_free(&k);
}

/* The explanation and the profile say what was resumed and what retries did. */
static void test_checkpoint_explain_and_profile(void) {
  char ck[512], prof[512];
  path_in_tmp(ck, sizeof ck, "explain.ckpt");
  path_in_tmp(prof, sizeof prof, "explain.h5");
  kern_t k;
  kern_init(&k, 12000);
  k.fail_from = 9000;
  amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, 100);
  amz_options_set_checkpoint(o, ck);
  amz_task_t t = {"explained", k.n, kern_fn, &k};
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), AMZ_EITEMS);
  uint64_t done1 = amz_result_items_done(r);
  amz_result_destroy(r);
  k.fail_from = UINT64_MAX;
  k.bad_mod = 1000;
  k.bad_rem = 9500 % 1000;
  amz_options_set_retries(o, 2);
  amz_options_set_profile(o, prof);
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  CU_ASSERT_EQUAL(amz_plan_explain(p, m), 0);
  fclose(m);
  char want[128];
  snprintf(want, sizeof want, "resuming; %llu of 12000 items", (unsigned long long)done1);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "retries = 2 (from option)"));
  if (!strstr(text, want)) fprintf(stderr, "%s\n", text);
  free(text);
  CU_ASSERT_EQUAL(amz_run(p, &r), AMZ_EITEMS);
  CU_ASSERT_EQUAL(amz_result_items_resumed(r), done1);
  amz_result_destroy(r);
  amz_plan_destroy(p);
  amz_profile_t *pr = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_profile_open(prof, 0, &pr), 0);
  const amz_profile_info_t *in = amz_profile_info(pr);
  CU_ASSERT_EQUAL(in->items_resumed, done1);
  CU_ASSERT_STRING_EQUAL(in->checkpoint, ck);
  CU_ASSERT(in->retry_calls > 0);
  CU_ASSERT_EQUAL(in->items_done + in->items_failed, k.n);
  /* The failures table lists single bad items, each with its code. */
  const amz_profile_failure_t *f;
  size_t nf = amz_profile_failures(pr, &f);
  CU_ASSERT(nf >= 2);
  for (size_t i = 0; i < nf; i++) {
    CU_ASSERT_EQUAL(f[i].end - f[i].begin, 1);
    CU_ASSERT_EQUAL(f[i].begin % 1000, 500);
    CU_ASSERT_EQUAL(f[i].code, 7);
  }
  amz_profile_close(pr);
  amz_options_destroy(o);
  kern_free(&k);
}

static int spin20(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double want = 20e-6 * (double)(e - b);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) < want);
  return 0;
}

/* With a checkpoint, no chunk is planned to take over a second: a kill must not
 * lose a worker's whole share (a static plan of a 4 s loop would). */
static void test_checkpoint_bounds_chunks(void) {
  char ck[512];
  path_in_tmp(ck, sizeof ck, "bounded-chunks.ckpt");
  amz_options_t *o = opts_new(2, AMZ_SCHED_AUTO, 0);
  amz_options_set_checkpoint(o, ck);
  amz_task_t t = {"bounded-chunks", 200000, spin20, NULL};
  amz_plan_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
  amz_schedule_t s = amz_plan_schedule(p);
  uint64_t c = amz_plan_chunk(p), largest = c;
  if (s == AMZ_SCHED_GUIDED) largest = t.n_items / 2;
  if (s == AMZ_SCHED_FACTORING || s == AMZ_SCHED_AWF) largest = t.n_items / 4;
  /* 1 s of 20 us items is 50000; the sampled mean may be off by a fraction. */
  CU_ASSERT(largest <= 75000);
  if (largest > 75000)
    fprintf(stderr, "plan: %s, chunk %llu\n", amz_schedule_name(s), (unsigned long long)c);
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  amz_plan_explain(p, m);
  fclose(m);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "no chunk is planned to take over"));
  free(text);
  amz_plan_destroy(p);
  amz_options_destroy(o);
}

/* ---- bounded recording memory ------------------------------------------- */

static int tiny_fn(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  volatile uint64_t s = 0;
  for (uint64_t i = b; i < e; i++) s += i;
  return 0;
}

static long maxrss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* 10^8 items in 10^6 chunks, then in 4 * 10^6 chunks (beyond the 2^20 records
 * kept): the memory a run adds stays under the documented bound, whatever N and the
 * chunk count (docs/RELIABILITY.md: 96 bytes per recorded chunk, at most 2^20). */
static void test_bounded_recording(void) {
  long before = maxrss_kib(), grown = 0;
  const uint64_t chunks[] = {100, 25};
  for (int c = 0; c < 2; c++) {
    amz_options_t *o = opts_new(2, AMZ_SCHED_DYNAMIC, chunks[c]);
    amz_task_t t = {"bounded", 100000000ull, tiny_fn, NULL};
    amz_plan_t *p = NULL;
    CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &p), 0);
    for (int run = 0; run < 2; run++) {
      amz_result_t *r = NULL;
      CU_ASSERT_EQUAL(amz_run(p, &r), 0);
      CU_ASSERT_EQUAL(amz_result_items_done(r), t.n_items);
      CU_ASSERT(amz_result_chunk_count(r) <= AMZ__MAX_RECORDS + 4096);
      amz_worker_stats_t w0, w1;
      amz_result_worker(r, 0, &w0);
      amz_result_worker(r, 1, &w1);
      CU_ASSERT_EQUAL(w0.chunks + w1.chunks, t.n_items / chunks[c]);
      amz_result_destroy(r);
    }
    amz_plan_destroy(p);
    amz_options_destroy(o);
    long g = maxrss_kib() - before;
    printf("\n    max RSS growth after %llu chunks per run: %ld KiB ",
           (unsigned long long)(t.n_items / chunks[c]), g);
    grown = g;
  }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  /* Sanitizer runtimes keep freed memory in quarantine and shadow it: RSS is theirs. */
  (void)grown;
  printf("(RSS bound not checked under a sanitizer) ");
#else
  if (getenv("AMZ_MEMCHECK")) /* valgrind's own allocator and bookkeeping, likewise */
    printf("(RSS bound not checked under valgrind) ");
  else
    CU_ASSERT(grown < 112 * 1024);
#endif
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/amz-rel-%d", (int)getpid());
  mkdir(tmpdir, 0700);
  CU_initialize_registry();
  CU_pSuite s = CU_add_suite("reliability", NULL, NULL);
  CU_add_test(s, "checkpoint: umask, long task names", test_checkpoint_shared);
  CU_add_test(s, "retries isolate failing items under every schedule", test_retries_isolate);
  CU_add_test(s, "retries recover transient failures", test_retries_recover_transient);
  CU_add_test(s, "no retries: ranges as the kernel reported", test_retries_off_keeps_ranges);
  CU_add_test(s, "retries: option and AMZ_RETRIES parsed strictly", test_retries_options_env);
  CU_add_test(s, "checkpoint: complete run, rerun runs nothing",
              test_checkpoint_complete_then_nothing);
  CU_add_test(s, "checkpoint: a job cut short resumes exactly the rest",
              test_checkpoint_resume_runs_the_rest);
  CU_add_test(s, "checkpoint: other task/N, in use, foreign file, bad path, env",
              test_checkpoint_refusals);
  CU_add_test(s, "checkpoint: torn record, corrupt record, cut header",
              test_checkpoint_damage);
  CU_add_test(s, "checkpoint: failed items run again on resume",
              test_checkpoint_failed_items_rerun);
  CU_add_test(s, "checkpoint and retries in the explanation and the profile",
              test_checkpoint_explain_and_profile);
  CU_add_test(s, "checkpoint: no chunk planned longer than a second",
              test_checkpoint_bounds_chunks);
  CU_add_test(s, "10^8 items in 10^6 chunks: bounded recording memory",
              test_bounded_recording);
  int rc = amz_test_run();
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return rc;
}
