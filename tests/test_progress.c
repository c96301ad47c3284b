/* The progress line: shown when asked (or on a terminal), silent otherwise and for
 * short runs, the user's hooks still called with their own argument, strict
 * AMZ_PROGRESS. The line goes to a file here (options' internal progress_out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

typedef struct {
  _Atomic int chunks, progress;
  int magic;
} user_t;

static void u_chunk(const amz_chunk_info_t *c, void *arg) {
  (void)c;
  user_t *u = arg;
  if (u->magic == 4242) u->chunks++;
}
static void u_progress(const amz_progress_t *p, void *arg) {
  (void)p;
  user_t *u = arg;
  if (u->magic == 4242) u->progress++;
}

static int kernel(uint64_t b, uint64_t e, void *arg) {
  (void)arg;
  volatile double x = 0;
  for (uint64_t i = b; i < e; i++)
    for (int j = 0; j < 3000; j++) x += j;
  return 0;
}

/* Runs a loop with the given mode and returns what the line printed (malloc'ed). */
static char *run_with(int mode, double delay, user_t *u, int *rc_out) {
  FILE *f = tmpfile();
  amz_options_t *o = NULL;
  amz_options_create(&o);
  amz_options_set_use_env(o, 0);
  amz_options_set_sampling(o, 0.02, 0.05);
  amz_options_set_progress_line(o, mode);
  amz_options_set_progress_interval(o, 0.0);
  o->progress_out = f;
  o->progress_delay = delay;
  if (u) {
    amz_hooks_t h = {0};
    h.on_chunk_done = u_chunk;
    h.on_progress = u_progress;
    amz_options_set_hooks(o, &h, u);
  }
  amz_task_t t = {"progress", 20000, kernel, NULL};
  amz_result_t *r = NULL;
  *rc_out = amz_for(&t, o, &r);
  amz_result_destroy(r);
  amz_options_destroy(o);
  long n = ftell(f);
  char *buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
  rewind(f);
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) buf[0] = '\0';
  fclose(f);
  return buf;
}

static void test_on(void) {
  int rc;
  user_t u = {0, 0, 4242};
  char *s = run_with(AMZ_PROGRESS_ON, 0.0, &u, &rc);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT(strncmp(s, "\ramorsize: progress ", 20) == 0);
  CU_ASSERT(strstr(s, "items/s") != NULL);
  CU_ASSERT(strstr(s, "100%") != NULL);
  CU_ASSERT(strstr(s, "done in ") != NULL);
  size_t n = strlen(s);
  CU_ASSERT(n > 0 && s[n - 1] == '\n');
  /* One final newline only: the line rewrites itself with \r. */
  CU_ASSERT(strchr(s, '\n') == s + n - 1);
  /* The user's hooks ran, with their own argument. */
  CU_ASSERT(u.chunks > 0);
  CU_ASSERT(u.progress > 0);
  free(s);
}

static void test_silent(void) {
  int rc;
  /* Not a terminal: auto stays silent. Off is off. A short run (1 s delay) too. */
  char *s = run_with(AMZ_PROGRESS_AUTO, 0.0, NULL, &rc);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_STRING_EQUAL(s, "");
  free(s);
  s = run_with(AMZ_PROGRESS_OFF, 0.0, NULL, &rc);
  CU_ASSERT_STRING_EQUAL(s, "");
  free(s);
  s = run_with(AMZ_PROGRESS_ON, 3600.0, NULL, &rc);
  CU_ASSERT_STRING_EQUAL(s, "");
  free(s);
}

static void test_env_and_bad_input(void) {
  amz_options_t *o = NULL;
  amz_options_create(&o);
  CU_ASSERT_EQUAL(amz_options_set_progress_line(NULL, AMZ_PROGRESS_ON), AMZ_EINVAL);
  CU_ASSERT_EQUAL(amz_options_set_progress_line(o, 3), AMZ_EINVAL);
  CU_ASSERT(strstr(amz_last_error(), "got 3") != NULL);
  CU_ASSERT_EQUAL(amz_options_set_progress_line(o, -1), AMZ_EINVAL);
  amz_task_t t = {"env", 100, kernel, NULL};
  amz_plan_t *p = NULL;
  setenv("AMZ_PROGRESS", "yes", 1);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), AMZ_EENV);
  CU_ASSERT(strstr(amz_last_error(), "AMZ_PROGRESS") && strstr(amz_last_error(), "'yes'"));
  /* The environment is ignored when the options say so. */
  amz_options_set_use_env(o, 0);
  CU_ASSERT_EQUAL(amz_plan_create(&t, o, &p), 0);
  amz_plan_destroy(p);
  unsetenv("AMZ_PROGRESS");
  amz_options_destroy(o);
  /* AMZ_PROGRESS=on overrides the option. */
  setenv("AMZ_PROGRESS", "on", 1);
  FILE *f = tmpfile();
  amz_options_create(&o);
  amz_options_set_progress_line(o, AMZ_PROGRESS_OFF);
  amz_options_set_progress_interval(o, 0.0);
  amz_options_set_sampling(o, 0.02, 0.05);
  o->progress_out = f;
  o->progress_delay = 0.0;
  amz_result_t *r = NULL;
  t.n_items = 5000;
  CU_ASSERT_EQUAL(amz_for(&t, o, &r), 0);
  CU_ASSERT(ftell(f) > 0);
  amz_result_destroy(r);
  fclose(f);
  amz_options_destroy(o);
  unsetenv("AMZ_PROGRESS");
}

int main(void) {
  unsetenv("AMZ_PROGRESS");
  unsetenv("AMZ_WORKERS");
  unsetenv("AMZ_SCHEDULE");
  unsetenv("AMZ_CHUNK");
  unsetenv("AMZ_PROFILE");
  setenv("AMZ_CACHE_DIR", "", 0);
  if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
  CU_pSuite s = CU_add_suite("progress", NULL, NULL);
  if (!s) return 1;
  CU_add_test(s, "on: the line, 100%, one final newline, user hooks kept", test_on);
  CU_add_test(s, "auto off a terminal, off, short runs: silent", test_silent);
  CU_add_test(s, "AMZ_PROGRESS strict and overriding; bad modes", test_env_and_bad_input);
  return amz_test_run();
}
