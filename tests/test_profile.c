/* Profiles of threaded runs: write, read back through the public reader, compare
 * with the run's result; overwrite rules and placeholders; a run whose profile
 * cannot be written; kill -9 while profiles are written; and the reader's answer to
 * damaged, truncated, foreign, newer and mistyped files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amorsize_profile.h"
#include "profile.h"
#include "test_util.h"

static char dir[256];

static void path_in(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", dir, name);
}

/* ---- a kernel with uneven costs and one failing range ------------------------- */

typedef struct {
  _Atomic unsigned *tally;
  uint64_t fail_b, fail_e;
} kctx_t;

static int kernel(uint64_t b, uint64_t e, void *arg) {
  kctx_t *k = arg;
  volatile double x = 0;
  int rc = 0;
  for (uint64_t i = b; i < e; i++) {
    for (uint64_t j = 0; j < 20 + (i % 97) * 4; j++) x += (double)j * 1e-9;
    if (k->tally) k->tally[i]++;
    if (i >= k->fail_b && i < k->fail_e) rc = 7;
  }
  return rc;
}

static amz_options_t *opts_with(const char *profile) {
  amz_options_t *o = NULL;
  amz_options_create(&o);
  amz_options_set_sampling(o, 0.05, 0.05);
  amz_options_set_use_env(o, 0);
  if (profile) amz_options_set_profile(o, profile);
  return o;
}

/* Writes a profile of a small run to path (overwriting). */
static int make_profile(const char *path) {
  kctx_t k = {NULL, 100, 104};
  amz_task_t t = {"fixture", 2000, kernel, &k};
  amz_options_t *o = opts_with(path);
  amz_options_set_profile_overwrite(o, 1);
  amz_result_t *r = NULL;
  int rc = amz_for(&t, o, &r);
  amz_options_destroy(o);
  amz_result_destroy(r);
  return rc == AMZ_EITEMS ? 0 : rc;
}

static int cmp_chunk(const void *a, const void *b) {
  const amz_profile_chunk_t *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The run's chunks tile [0, n) exactly (a first run's chunks span the sampled
 * items, which it skips), and the sampling blocks do not overlap. */
static int chunks_tile(const amz_profile_t *p, uint64_t n) {
  const amz_profile_chunk_t *c;
  size_t k = amz_profile_chunks(p, &c), m = 0, s = 0;
  amz_profile_chunk_t *v = malloc((k ? k : 1) * sizeof *v);
  amz_profile_chunk_t *w = malloc((k ? k : 1) * sizeof *w);
  if (!v || !w) return 0;
  for (size_t i = 0; i < k; i++) {
    if (c[i].sampled) w[s++] = c[i];
    else v[m++] = c[i];
  }
  qsort(v, m, sizeof *v, cmp_chunk);
  qsort(w, s, sizeof *w, cmp_chunk);
  uint64_t pos = 0;
  int ok = 1;
  for (size_t i = 0; i < m && ok; i++) {
    if (v[i].begin == v[i].end) continue;
    ok = v[i].begin == pos;
    pos = v[i].end;
  }
  ok = ok && pos == n;
  for (size_t i = 1; i < s && ok; i++) ok = w[i].begin >= w[i - 1].end;
  free(v);
  free(w);
  return ok;
}

/* ---- round trip ------------------------------------------------------------------ */

static void test_round_trip(void) {
  char path[512];
  path_in(path, sizeof path, "round.h5");
  unlink(path);
  const uint64_t N = 6000;
  _Atomic unsigned *tally = calloc(N, sizeof *tally);
  kctx_t k = {tally, 1234, 1240};
  amz_task_t t = {"round trip", N, kernel, &k};
  amz_options_t *o = opts_with(path);
  amz_plan_t *plan = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &plan), 0);
  size_t nc = amz_plan_candidate_count(plan);
  amz_candidate_t chosen;
  amz_plan_candidate(plan, 0, &chosen);
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL(amz_run(plan, &r), AMZ_EITEMS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_STRING_EQUAL(amz_result_profile_path(r), path);

  amz_profile_t *p = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_profile_open(path, 0, &p), 0);
  const amz_profile_info_t *in = amz_profile_info(p);
  CU_ASSERT_EQUAL(in->schema_version, AMZ_PROFILE_SCHEMA_VERSION);
  CU_ASSERT_STRING_EQUAL(in->library_version, amz_version_string());
  CU_ASSERT_STRING_EQUAL(in->task, "round trip");
  CU_ASSERT_STRING_EQUAL(in->kind, "threads");
  CU_ASSERT_STRING_EQUAL(in->mode, "range");
  CU_ASSERT_EQUAL(in->n_items, N);
  CU_ASSERT_EQUAL(in->items_done, amz_result_items_done(r));
  CU_ASSERT_EQUAL(in->items_failed, amz_result_items_failed(r));
  CU_ASSERT_EQUAL(in->items_done + in->items_failed, N);
  CU_ASSERT_EQUAL(in->threads, amz_result_workers(r));
  CU_ASSERT_EQUAL(in->ranks_used, 1);
  CU_ASSERT_EQUAL(in->nodes, 1);
  CU_ASSERT_EQUAL(in->run_index, 1);
  CU_ASSERT_DOUBLE_EQUAL(in->wall_s, amz_result_seconds(r), 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(in->predicted_s, amz_result_predicted_seconds(r), 1e-12);
  double lo, hi;
  CU_ASSERT_EQUAL(amz_result_predicted_interval(r, &lo, &hi), 0);
  CU_ASSERT(lo > 0 && lo <= in->predicted_s && hi >= in->predicted_s);
  CU_ASSERT_DOUBLE_EQUAL(in->predicted_lo_s, lo, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(in->predicted_hi_s, hi, 1e-12);
  CU_ASSERT(in->predicted_widest[0] != '\0');
  CU_ASSERT(in->created[0] != '\0' && strchr(in->created, 'T') != NULL);
  CU_ASSERT(strstr(in->command_line, "test_profile") != NULL);
  CU_ASSERT_EQUAL(in->chunks_dropped, 0);

  /* Chunks: the result's, row for row, and they tile [0, N). */
  const amz_profile_chunk_t *c;
  size_t n = amz_profile_chunks(p, &c);
  CU_ASSERT_EQUAL(n, amz_result_chunk_count(r));
  for (size_t i = 0; i < n; i++) {
    amz_chunk_info_t ci;
    amz_result_chunk(r, i, &ci);
    if (c[i].begin != ci.begin || c[i].end != ci.end || c[i].thread != ci.worker ||
        c[i].status != ci.status || c[i].t_start != ci.t_start || c[i].t_end != ci.t_end ||
        c[i].rank != 0 || c[i].node != 0 || c[i].sampled != (ci.t_start < 0)) {
      CU_FAIL("chunk row differs from the result");
      break;
    }
  }
  CU_ASSERT(chunks_tile(p, N));
  for (uint64_t i = 0; i < N; i++)
    if (tally[i] != 1) {
      CU_FAIL("an item did not run exactly once");
      break;
    }
  uint64_t failed_rows = 0;
  for (size_t i = 0; i < n; i++) failed_rows += c[i].status == 7;
  CU_ASSERT(failed_rows >= 1);

  const amz_profile_worker_t *w;
  CU_ASSERT_EQUAL(amz_profile_workers(p, &w), (size_t)amz_result_workers(r));
  for (int i = 0; i < amz_result_workers(r); i++) {
    amz_worker_stats_t s;
    amz_result_worker(r, i, &s);
    CU_ASSERT_EQUAL(w[i].items, s.items);
    CU_ASSERT_EQUAL(w[i].chunks, s.chunks);
    CU_ASSERT_DOUBLE_EQUAL(w[i].busy_s, s.busy_s, 0);
    CU_ASSERT_DOUBLE_EQUAL(w[i].idle_s, s.idle_s, 0);
    CU_ASSERT_EQUAL(w[i].taken, s.taken);
    CU_ASSERT_EQUAL(w[i].thread, i);
  }

  const amz_profile_failure_t *f;
  size_t nf = amz_profile_failures(p, &f);
  CU_ASSERT_EQUAL(nf, amz_result_failure_count(r));
  for (size_t i = 0; i < nf; i++) {
    uint64_t b, e;
    int code;
    amz_result_failure(r, i, &b, &e, &code);
    CU_ASSERT(f[i].begin == b && f[i].end == e && f[i].code == code);
  }

  /* The findings: judged from the file by the result's rules. The failures come
   * first, with the same figures, and quote the path the profile was opened with. */
  amz_finding_t pf, rf;
  CU_ASSERT_FATAL(amz_profile_finding_count(p) >= 1 && amz_result_finding_count(r) >= 1);
  CU_ASSERT_EQUAL_FATAL(amz_profile_finding(p, 0, &pf), 0);
  CU_ASSERT_EQUAL_FATAL(amz_result_finding(r, 0, &rf), 0);
  CU_ASSERT(pf.kind == AMZ_FINDING_FAILURES && rf.kind == AMZ_FINDING_FAILURES);
  CU_ASSERT(pf.severity == rf.severity && pf.value == rf.value);
  CU_ASSERT_PTR_NOT_NULL(strstr(pf.text, path));
  CU_ASSERT_EQUAL(amz_profile_finding(p, amz_profile_finding_count(p), &pf), AMZ_ERANGE);
  CU_ASSERT_EQUAL(amz_profile_finding(NULL, 0, &pf), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_profile_finding_count(NULL), 0);

  const amz_profile_candidate_t *cd;
  CU_ASSERT_EQUAL(amz_profile_candidates(p, &cd), nc);
  int n_chosen = 0;
  for (size_t i = 0; i < nc; i++) n_chosen += cd[i].chosen;
  CU_ASSERT_EQUAL(n_chosen, 1);
  CU_ASSERT_EQUAL(cd[0].threads, chosen.workers);
  CU_ASSERT_DOUBLE_EQUAL(cd[0].predicted_s, chosen.predicted_s, 1e-15);

  amz_terms_t pr, me;
  amz_result_terms(r, &me);
  amz_plan_terms(plan, &pr); /* the next run's: differs; only the shape is checked */
  const amz_profile_term_t *tm;
  CU_ASSERT_EQUAL(amz_profile_terms(p, &tm), 7);
  CU_ASSERT_STRING_EQUAL(tm[0].name, "startup");
  CU_ASSERT_STRING_EQUAL(tm[6].name, "total");
  CU_ASSERT_DOUBLE_EQUAL(tm[1].measured_s, me.compute, 0);
  CU_ASSERT_DOUBLE_EQUAL(tm[6].measured_s, me.total, 0);
  CU_ASSERT_DOUBLE_EQUAL(tm[6].predicted_s, amz_result_predicted_seconds(r), 0);

  const amz_profile_node_t *nd;
  CU_ASSERT_EQUAL(amz_profile_nodes(p, &nd), 1);
  CU_ASSERT(nd[0].cores >= 1 && nd[0].ranks == 1 && nd[0].host[0] != '\0');
  const amz_profile_model_t *m = amz_profile_model(p);
  CU_ASSERT(m->sampled_items == amz_plan_sampled_items(plan));
  CU_ASSERT(m->bins > 0 && m->cost_profile != NULL && m->mean_s > 0);
  amz_profile_close(p);
  amz_result_destroy(r);

  /* A second run of the same plan replaces the file its own first run wrote. */
  CU_ASSERT_EQUAL(amz_run(plan, &r), AMZ_EITEMS);
  CU_ASSERT_EQUAL_FATAL(amz_profile_open(path, 0, &p), 0);
  CU_ASSERT_EQUAL(amz_profile_info(p)->run_index, 2);
  CU_ASSERT_EQUAL(amz_profile_info(p)->sampled_items, 0);
  CU_ASSERT(chunks_tile(p, N));
  amz_profile_close(p);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  free(tally);
}

static void test_placeholders_and_overwrite(void) {
  char pat[512], p1[512], p2[512];
  path_in(pat, sizeof pat, "run%r.h5");
  path_in(p1, sizeof p1, "run1.h5");
  path_in(p2, sizeof p2, "run2.h5");
  unlink(p1);
  unlink(p2);
  kctx_t k = {NULL, 0, 0};
  amz_task_t t = {"runs", 500, kernel, &k};
  amz_options_t *o = opts_with(pat);
  amz_plan_t *plan = NULL;
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &plan), 0);
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  amz_result_destroy(r);
  CU_ASSERT_EQUAL(amz_run(plan, &r), 0);
  CU_ASSERT_STRING_EQUAL(amz_result_profile_path(r), p2);
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  CU_ASSERT(access(p1, R_OK) == 0 && access(p2, R_OK) == 0);

  /* run1.h5 exists now: a new plan refuses before running anything... */
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &plan), AMZ_EEXIST);
  CU_ASSERT(strstr(amz_last_error(), "run1.h5") != NULL);
  CU_ASSERT(strstr(amz_last_error(), "AMZ_PROFILE_OVERWRITE") != NULL);
  /* ...unless overwriting is allowed. */
  amz_options_set_profile_overwrite(o, 1);
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  amz_result_destroy(r);
  amz_options_destroy(o);

  /* A file that appears between the plan and the run is not replaced either. */
  char p3[512];
  path_in(p3, sizeof p3, "late.h5");
  unlink(p3);
  o = opts_with(p3);
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &plan), 0);
  FILE *fp = fopen(p3, "w");
  fputs("user data\n", fp);
  fclose(fp);
  CU_ASSERT_EQUAL(amz_run(plan, &r), AMZ_EEXIST);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) CU_ASSERT_EQUAL(amz_result_items_done(r), 500);
  CU_ASSERT_PTR_NULL(amz_result_profile_path(r));
  char buf[32] = "";
  fp = fopen(p3, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, fp));
  fclose(fp);
  CU_ASSERT_STRING_EQUAL(buf, "user data\n");
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
}

static int count_tmp_files(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static void test_write_failure_keeps_result(void) {
  char sub[512], path[600];
  path_in(sub, sizeof sub, "gone");
  mkdir(sub, 0700);
  snprintf(path, sizeof path, "%s/p.h5", sub);
  kctx_t k = {NULL, 0, 0};
  amz_task_t t = {"gone", 800, kernel, &k};
  amz_options_t *o = opts_with(path);
  amz_plan_t *plan = NULL;
  amz_result_t *r = NULL;
  CU_ASSERT_EQUAL_FATAL(amz_plan_create(&t, o, &plan), 0);
  rmdir(sub);
  CU_ASSERT_EQUAL(amz_run(plan, &r), AMZ_EIO);
  CU_ASSERT(strstr(amz_last_error(), "p.h5") != NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(amz_result_items_done(r), 800);
  CU_ASSERT_PTR_NULL(amz_result_profile_path(r));
  amz_result_destroy(r);
  amz_plan_destroy(plan);
  amz_options_destroy(o);
  CU_ASSERT_EQUAL(count_tmp_files(), 0);
}

static void test_bad_options(void) {
  amz_options_t *o = opts_with(NULL);
  CU_ASSERT_EQUAL(amz_options_set_profile(NULL, "x.h5"), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_profile_overwrite(NULL, 1), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_profile(o, "run%q.h5"), AMZ_EINVAL);
  CU_ASSERT(strstr(amz_last_error(), "%q") != NULL);
  CU_ASSERT_EQUAL(amz_options_set_profile(o, "run%"), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_profile(o, NULL), 0);
  CU_ASSERT_EQUAL(amz_options_set_profile(o, ""), 0);
  kctx_t k = {NULL, 0, 0};
  amz_task_t t = {"env", 300, kernel, &k};
  amz_plan_t *plan = NULL;
  amz_result_t *r = NULL;
  /* Directory missing, or the path a directory: refused at plan creation. */
  amz_options_set_profile(o, "/nonexistent-dir-amz/x.h5");
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &plan), AMZ_EIO);
  CU_ASSERT(strstr(amz_last_error(), "/nonexistent-dir-amz") != NULL);
  amz_options_set_profile(o, dir);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &plan), AMZ_EIO);
  CU_ASSERT(strstr(amz_last_error(), "directory") != NULL);
  amz_options_set_profile(o, NULL);

  /* The environment, when used. */
  char envp[512];
  path_in(envp, sizeof envp, "env.h5");
  unlink(envp);
  amz_options_set_use_env(o, 1);
  setenv("AMZ_PROFILE", envp, 1);
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_STRING_EQUAL(amz_result_profile_path(r), envp);
  amz_result_destroy(r);
  setenv("AMZ_PROFILE_OVERWRITE", "2", 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &plan), AMZ_EENV);
  CU_ASSERT(strstr(amz_last_error(), "AMZ_PROFILE_OVERWRITE") && strstr(amz_last_error(), "'2'"));
  setenv("AMZ_PROFILE_OVERWRITE", "1", 1);
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  amz_result_destroy(r);
  setenv("AMZ_PROFILE", "bad%x", 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &plan), AMZ_EENV);
  CU_ASSERT(strstr(amz_last_error(), "AMZ_PROFILE") != NULL);
  /* AMZ_PROFILE= (empty) turns off a profile the program asked for. */
  setenv("AMZ_PROFILE", "", 1);
  amz_options_set_profile(o, envp);
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT_PTR_NULL(amz_result_profile_path(r));
  amz_result_destroy(r);
  unsetenv("AMZ_PROFILE");
  unsetenv("AMZ_PROFILE_OVERWRITE");
  amz_options_destroy(o);
}

/* kill -9 at random moments while a plan writes a profile per run: every file
 * under a final name opens and verifies; only temporary names are left behind. */
static void test_kill_during_writes(void) {
  char sub[512];
  path_in(sub, sizeof sub, "killed");
  mkdir(sub, 0700);
  srand(12345);
  int killed = 0;
  for (int round = 0; round < 6; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      char pat[600];
      snprintf(pat, sizeof pat, "%s/r%d-%%r.h5", sub, round);
      kctx_t k = {NULL, 0, 0};
      amz_task_t t = {"killed", 20000, kernel, &k};
      amz_options_t *o = opts_with(pat);
      amz_plan_t *plan = NULL;
      if (amz_plan_create(&t, o, &plan) != 0) _exit(3);
      for (;;) {
        amz_result_t *r = NULL;
        amz_run(plan, &r);
        amz_result_destroy(r);
      }
    }
    /* Wait for the child's first profile (slow machines, valgrind), then kill it
     * at a random moment of the runs and writes that follow. */
    char first[700];
    snprintf(first, sizeof first, "%s/r%d-1.h5", sub, round);
    for (int k = 0; k < 6000 && access(first, F_OK) != 0; k++) {
      struct timespec poll = {0, 10000000L};
      nanosleep(&poll, NULL);
    }
    struct timespec ts = {0, (long)(rand() % 400) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    killed += WIFSIGNALED(st);
  }
  CU_ASSERT_EQUAL(killed, 6);
  DIR *d = opendir(sub);
  int finals = 0, bad = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.")) continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", sub, e->d_name);
    amz_profile_t *pr = NULL;
    finals++;
    if (amz_profile_open(p, 0, &pr) != 0) {
      bad++;
      fprintf(stderr, "  %s\n", amz_last_error());
    }
    amz_profile_close(pr);
  }
  if (d) closedir(d);
  printf("\n  kill -9: %d finished profiles, %d damaged\n", finals, bad);
  CU_ASSERT(finals > 0);
  CU_ASSERT_EQUAL(bad, 0);
}

/* ---- damaged and foreign files -------------------------------------------------- */

static size_t file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

static void copy_prefix(const char *src, const char *dst, size_t n) {
  FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
  char buf[4096];
  while (n > 0 && a && b) {
    size_t k = fread(buf, 1, n < sizeof buf ? n : sizeof buf, a);
    if (k == 0) break;
    fwrite(buf, 1, k, b);
    n -= k;
  }
  if (a) fclose(a);
  if (b) fclose(b);
}

static void expect_open(const char *path, unsigned flags, int code, const char *needle) {
  amz_profile_t *p = (amz_profile_t *)0x1;
  int rc = amz_profile_open(path, flags, &p);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_PTR_NULL(p);
  if (rc != code || (needle && !strstr(amz_last_error(), needle)))
    fprintf(stderr, "  %s: got %s \"%s\", wanted %s with \"%s\"\n", path, amz_error_name(rc),
            amz_last_error(), amz_error_name(code), needle ? needle : "");
  else if (needle)
    CU_ASSERT(strstr(amz_last_error(), needle) != NULL);
  amz_profile_close(rc == 0 ? p : NULL);
}

static void patch_byte(const char *path, long off, unsigned char v) {
  int fd = open(path, O_WRONLY);
  pwrite(fd, &v, 1, off);
  close(fd);
}

/* Changes the byte at off whatever it holds (a fixed value may already be there:
 * the profile's timings differ from run to run). */
static void flip_byte(const char *path, long off) {
  int fd = open(path, O_RDWR);
  unsigned char v = 0;
  if (pread(fd, &v, 1, off) == 1) {
    v ^= 0xff;
    pwrite(fd, &v, 1, off);
  }
  close(fd);
}

static void test_damaged_files(void) {
  char good[512], bad[512];
  path_in(good, sizeof good, "good.h5");
  path_in(bad, sizeof bad, "bad.h5");
  CU_ASSERT_EQUAL_FATAL(make_profile(good), 0);
  size_t size = file_size(good);
  CU_ASSERT_FATAL(size > 1024);
  amz_profile_t *p = NULL;
  CU_ASSERT_EQUAL(amz_profile_open(good, 0, &p), 0);
  amz_profile_close(p);

  /* Truncated anywhere. */
  size_t cuts[] = {0, 1, 17, 100, 511, 512, 600, 2048, size / 2, size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    copy_prefix(good, bad, cuts[i]);
    expect_open(bad, 0, AMZ_EFORMAT,
                cuts[i] == 0 ? "empty" : cuts[i] < 17 ? "not an Amorsize profile" : "truncated");
  }
  /* Random bytes; a text file; bytes appended. */
  FILE *f = fopen(bad, "wb");
  srand(7);
  for (int i = 0; i < 100000; i++) fputc(rand() & 0xff, f);
  fclose(f);
  expect_open(bad, 0, AMZ_EFORMAT, "not an Amorsize profile");
  copy_prefix(good, bad, size);
  f = fopen(bad, "ab");
  fputs("tail", f);
  fclose(f);
  expect_open(bad, 0, AMZ_EFORMAT, "appended");
  /* One flipped byte anywhere after the header: the CRC catches it. */
  long offs[] = {512, 700, (long)size / 3, (long)size / 2, (long)size - 1};
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    copy_prefix(good, bad, size);
    flip_byte(bad, offs[i]);
    expect_open(bad, 0, AMZ_EFORMAT, "damaged");
  }
  /* A newer schema, a damaged header. */
  copy_prefix(good, bad, size);
  patch_byte(bad, 24, '2'); /* "schema 1" -> "schema 2" */
  expect_open(bad, 0, AMZ_EFORMAT, "newer");
  copy_prefix(good, bad, size);
  patch_byte(bad, 36, 'x'); /* inside the bytes line */
  expect_open(bad, 0, AMZ_EFORMAT, "header");
  /* Missing file, a directory, NULL arguments, unknown flags. */
  char none[512];
  path_in(none, sizeof none, "missing.h5");
  expect_open(none, 0, AMZ_EIO, "missing.h5");
  expect_open(dir, 0, AMZ_EIO, "not a regular file");
  CU_ASSERT_EQUAL(amz_profile_open(NULL, 0, &p), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_profile_open(good, 0, NULL), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_profile_open(good, 4, &p), AMZ_EINVAL);
  CU_ASSERT(strstr(amz_last_error(), "0x4") != NULL);
  /* The accessors accept NULL. */
  CU_ASSERT_PTR_NULL(amz_profile_info(NULL));
  CU_ASSERT_PTR_NULL(amz_profile_model(NULL));
  const amz_profile_chunk_t *c = (void *)1;
  CU_ASSERT_EQUAL(amz_profile_chunks(NULL, &c), 0);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_EQUAL(amz_profile_workers(NULL, NULL), 0);
  amz_profile_close(NULL);

  /* A valid HDF5 file of another program. */
  hid_t h = H5Fcreate(bad, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t d = 4;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t ds = H5Dcreate2(h, "data", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Fclose(h);
  expect_open(bad, 0, AMZ_EFORMAT, "another program");
}

/* Opens a copy of the good profile for editing with HDF5; reseal after closing. */
static hid_t edit_copy(const char *good, const char *bad) {
  copy_prefix(good, bad, file_size(good));
  return H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
}

static void test_mistyped_files(void) {
  char good[512], bad[512];
  path_in(good, sizeof good, "good.h5");
  path_in(bad, sizeof bad, "bad.h5");
  CU_ASSERT_EQUAL_FATAL(make_profile(good), 0);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

  /* An edit with the checksum not renewed: refused, but readable on request. */
  hid_t f = edit_copy(good, bad);
  hid_t sp = H5Screate(H5S_SCALAR);
  int one = 1;
  hid_t a = H5Acreate2(f, "note_by_user", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, &one);
  H5Aclose(a);
  H5Fclose(f);
  expect_open(bad, 0, AMZ_EFORMAT, "damaged");
  amz_profile_t *p = NULL;
  CU_ASSERT_EQUAL(amz_profile_open(bad, AMZ_PROFILE_NO_VERIFY, &p), 0);
  amz_profile_close(p);

  /* n_items as a string. */
  f = edit_copy(good, bad);
  H5Adelete(f, "n_items");
  hid_t st = amz__h5t_str(8);
  a = H5Acreate2(f, "n_items", st, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, st, "12345678");
  H5Aclose(a);
  H5Tclose(st);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "'n_items'");

  /* A missing attribute, a missing group, a table of plain integers. */
  f = edit_copy(good, bad);
  H5Adelete(f, "wall_s");
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "missing attribute 'wall_s'");
  f = edit_copy(good, bad);
  H5Ldelete(f, "model", H5P_DEFAULT);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "missing group 'model'");
  f = edit_copy(good, bad);
  H5Ldelete(f, "chunks", H5P_DEFAULT);
  hsize_t n = 3;
  hid_t s1 = H5Screate_simple(1, &n, NULL);
  hid_t ds = H5Dcreate2(f, "chunks", H5T_NATIVE_INT, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(ds);
  H5Sclose(s1);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "'chunks' is not a table");

  /* Values out of range: a rank that was never launched, NaN times, items past N. */
  for (int which = 0; which < 3; which++) {
    f = edit_copy(good, bad);
    ds = H5Dopen2(f, "chunks", H5P_DEFAULT);
    hid_t t = amz__h5t_chunk();
    hid_t fs = H5Dget_space(ds);
    hsize_t rows = 0;
    H5Sget_simple_extent_dims(fs, &rows, NULL);
    amz__row_chunk_t *v = calloc(rows, sizeof *v);
    H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (which == 0) v[rows / 2].rank = 999;
    if (which == 1) v[rows / 2].t_end = NAN;
    if (which == 2) v[rows / 2].end = 1u << 30;
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    free(v);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(ds);
    H5Fclose(f);
    amz__profile_seal(bad);
    expect_open(bad, 0, AMZ_EFORMAT, which == 0 ? "out of range" : which == 1 ? "not an interval"
                                                                            : "outside");
  }
  H5Sclose(sp);
}

/* ---- hostile structures: what a profile never holds ------------------------------ */

/* Replaces dataset `name` of the copy f by one of type t and n rows created with
 * dataset-creation list dcpl (H5P_DEFAULT for a plain one); returns it open. */
static hid_t recreate(hid_t f, const char *name, hid_t t, hsize_t n, hid_t dcpl) {
  H5Ldelete(f, name, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Sclose(sp);
  return ds;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_profile: a reader hung (FIFO?)\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(3);
}

static void test_hostile_files(void) {
  char good[512], bad[512], secret[512], other[512];
  path_in(good, sizeof good, "good.h5");
  path_in(bad, sizeof bad, "bad.h5");
  path_in(secret, sizeof secret, "secret.txt");
  path_in(other, sizeof other, "other.h5");
  CU_ASSERT_EQUAL_FATAL(make_profile(good), 0);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  FILE *sf = fopen(secret, "w");
  for (int i = 0; i < 64; i++) fputs("root:x:0:0:root:/root:/bin/bash\n", sf);
  fclose(sf);

  /* /overheads declared to live in another file: refused before it is read (it
   * used to list that file's lines as overhead terms). */
  hid_t f = edit_copy(good, bad);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), t = amz__h5t_term();
  H5Pset_external(dcpl, secret, 0, H5F_UNLIMITED);
  H5Dclose(recreate(f, "overheads", t, 7, dcpl));
  H5Pclose(dcpl);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "external file");
  expect_open(bad, AMZ_PROFILE_NO_VERIFY, AMZ_EFORMAT, "secret.txt");

  /* /system an external link, /failures a soft link. */
  hid_t o = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t nt = amz__h5t_node();
  H5Dclose(recreate(o, "system", nt, 1, H5P_DEFAULT));
  H5Fclose(o);
  f = edit_copy(good, bad);
  H5Ldelete(f, "system", H5P_DEFAULT);
  H5Lcreate_external(other, "/system", f, "system", H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "external link");
  f = edit_copy(good, bad);
  H5Ldelete(f, "failures", H5P_DEFAULT);
  H5Lcreate_soft("/chunks", f, "failures", H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "soft link");

  /* /failures a virtual dataset mapped from another file. */
  hid_t ft = amz__h5t_failure();
  hsize_t one = 1;
  o = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(recreate(o, "x", ft, 1, H5P_DEFAULT));
  H5Fclose(o);
  f = edit_copy(good, bad);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t vs = H5Screate_simple(1, &one, NULL), ss = H5Screate_simple(1, &one, NULL);
  H5Pset_virtual(dcpl, vs, other, "/x", ss);
  H5Dclose(recreate(f, "failures", ft, 1, dcpl));
  H5Sclose(vs);
  H5Sclose(ss);
  H5Pclose(dcpl);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "virtual dataset");

  /* A variable-length string attribute: HDF5's global heap (no checksum) is never
   * read; an enlarged heap object used to crash or hang the reader. */
  f = edit_copy(good, bad);
  H5Adelete(f, "task");
  hid_t vt = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  H5Tset_size(vt, H5T_VARIABLE);
  char *big = malloc(4001);
  memset(big, 'x', 4000);
  big[4000] = '\0';
  hid_t a = H5Acreate2(f, "task", vt, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, vt, &big);
  H5Aclose(a);
  free(big);
  H5Tclose(vt);
  H5Sclose(sp);
  H5Fclose(f);
  amz__profile_seal(bad);
  expect_open(bad, 0, AMZ_EFORMAT, "variable-length string");

  /* 2^25 declared /chunks rows, none written: a few KB on disk. Refused from its
   * size before anything is allocated (it used to allocate 3.7 GB, then accept
   * the all-zero rows). */
  f = edit_copy(good, bad);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hsize_t chunk = 32768;
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_deflate(dcpl, 1);
  hid_t ct = amz__h5t_chunk();
  H5Dclose(recreate(f, "chunks", ct, (hsize_t)1 << 25, dcpl));
  H5Pclose(dcpl);
  H5Fclose(f);
  amz__profile_seal(bad);
  CU_ASSERT(file_size(bad) < (1u << 20));
  expect_open(bad, 0, AMZ_EFORMAT, "never written");

  /* A FIFO: refused without waiting for a writer. */
  unlink(bad);
  CU_ASSERT_EQUAL_FATAL(mkfifo(bad, 0600), 0);
  signal(SIGALRM, on_alarm);
  alarm(20);
  expect_open(bad, 0, AMZ_EIO, "not a regular file");
  alarm(0);
  unlink(bad);
  H5Tclose(t);
  H5Tclose(nt);
  H5Tclose(ft);
  H5Tclose(ct);
}

/* Shared directories: a symlink planted where the old temporary name would be is
 * never followed, the final file is a plain file, nothing is left behind; a name
 * with no room for its temporary directory fails at plan creation. */
static void test_shared_directory(void) {
  char path[512], victim[512], planted[600];
  path_in(path, sizeof path, "shared.h5");
  path_in(victim, sizeof victim, "victim.txt");
  FILE *f = fopen(victim, "w");
  fputs("precious\n", f);
  fclose(f);
  /* Every name the old writer could have used (PATH.tmp.PID). */
  for (long pid = (long)getpid(); pid <= (long)getpid(); pid++) {
    snprintf(planted, sizeof planted, "%s.tmp.%ld", path, pid);
    CU_ASSERT_EQUAL(symlink(victim, planted), 0);
  }
  unlink(path);
  CU_ASSERT_EQUAL(make_profile(path), 0);
  struct stat st;
  CU_ASSERT_EQUAL(lstat(path, &st), 0);
  CU_ASSERT(S_ISREG(st.st_mode));
  CU_ASSERT_EQUAL(file_size(victim), 9);
  amz_profile_t *p = NULL;
  CU_ASSERT_EQUAL(amz_profile_open(path, 0, &p), 0);
  amz_profile_close(p);
  unlink(planted);
  CU_ASSERT_EQUAL(count_tmp_files(), 0);
  /* The profile's mode follows the umask. */
  mode_t old = umask(002);
  unlink(path);
  CU_ASSERT_EQUAL(make_profile(path), 0);
  umask(old);
  CU_ASSERT_EQUAL(stat(path, &st), 0);
  CU_ASSERT_EQUAL(st.st_mode & 0777, 0664);
  /* A 250-byte name: refused before the run, naming the limit. */
  char lname[600], base[251];
  memset(base, 'p', 250);
  base[250] = '\0';
  path_in(lname, sizeof lname, base);
  amz_options_t *o = opts_with(lname);
  kctx_t k = {NULL, 100, 104};
  amz_task_t t = {"fixture", 2000, kernel, &k};
  amz_plan_t *pl = NULL;
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &pl), AMZ_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(amz_last_error(), "at most 244"));
  amz_options_destroy(o);
  /* SOURCE_DATE_EPOCH past the year 9999 is ignored: a real four-digit year. */
  setenv("SOURCE_DATE_EPOCH", "99999999999999999", 1);
  unlink(path);
  CU_ASSERT_EQUAL(make_profile(path), 0);
  unsetenv("SOURCE_DATE_EPOCH");
  CU_ASSERT_EQUAL(amz_profile_open(path, 0, &p), 0);
  if (p) {
    const char *cr = amz_profile_info(p)->created;
    CU_ASSERT(strlen(cr) == 20 && cr[0] == '2' && cr[4] == '-');
    amz_profile_close(p);
  }
  unlink(victim);
}

int main(void) {
  unsetenv("AMZ_PROFILE");
  unsetenv("AMZ_PROFILE_OVERWRITE");
  setenv("AMZ_CACHE_DIR", "", 0);
  snprintf(dir, sizeof dir, "/tmp/amz-test-profile-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("profile", NULL, NULL);
  if (!s) return 1;
  CU_add_test(s, "round trip: reader sees the result, chunks tile [0, N)", test_round_trip);
  CU_add_test(s, "%r, no overwrite unless asked, late files kept", test_placeholders_and_overwrite);
  CU_add_test(s, "write failure: result kept, AMZ_EIO, no temporary left", test_write_failure_keeps_result);
  CU_add_test(s, "bad options and environment", test_bad_options);
  CU_add_test(s, "kill -9 while writing: no damaged final file", test_kill_during_writes);
  CU_add_test(s, "truncated, random, flipped, newer, foreign files", test_damaged_files);
  CU_add_test(s, "mistyped, missing and out-of-range fields", test_mistyped_files);
  CU_add_test(s, "external data, links, virtual, vlen, unwritten rows, FIFO", test_hostile_files);
  CU_add_test(s, "shared directories: no symlink followed, umask, long names", test_shared_directory);
  int rc = amz_test_run();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return rc;
}
