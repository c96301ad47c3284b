/*
 * The core's side of the profile component (profile_ops.h): the public reader
 * functions of amorsize_profile.h and the serial writer's entry, forwarded to the
 * component's table. In a shared build the table lives in libamorsize_profile,
 * loaded from the directory libamorsize itself was loaded from, the first time a
 * profile is written or read; libamorsize therefore needs neither HDF5 nor MPI. A
 * static build links the component in (AMZ_PROFILE_LINKED); a build without
 * profiles (AMZ_NO_PROFILE) answers AMZ_ENOTSUP with the reason.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "profile_ops.h"
#include "profile_path.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const amz__profile_ops_t *g_ops;
static char g_why[AMZ__PATH_MAX + 512];

#if defined(AMZ_NO_PROFILE)
static void load(void) {
  snprintf(g_why, sizeof g_why, "this build reads and writes no profiles (configured with "
                                "AMORSIZE_PROFILE=OFF, without HDF5)");
}
#elif defined(AMZ_PROFILE_LINKED)
static void load(void) { g_ops = &amz__profile_ops; }
#else
/* libamorsize_profile beside this library: the same directory, the same version. */
static void load(void) {
  Dl_info self;
  if (!dladdr((void *)&amz__profile_ops_get, &self) || !self.dli_fname) {
    snprintf(g_why, sizeof g_why, "cannot tell where libamorsize was loaded from, to load %s "
                                  "beside it", AMZ__PROFILE_SONAME);
    return;
  }
  char path[AMZ__PATH_MAX];
  const char *slash = strrchr(self.dli_fname, '/');
  int dir_len = slash ? (int)(slash - self.dli_fname) : 1;
  snprintf(path, sizeof path, "%.*s/%s", dir_len, slash ? self.dli_fname : ".",
           AMZ__PROFILE_SONAME);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(g_why, sizeof g_why, "cannot load the profile library: %s (it is installed with "
                                  "libamorsize, in the same directory)", dlerror());
    return;
  }
  const amz__profile_ops_t *ops = dlsym(h, "amz__profile_ops");
  if (!ops) {
    snprintf(g_why, sizeof g_why, "%s has no profile operations (amz__profile_ops): %s", path,
             dlerror());
  } else if (ops->abi != AMZ__PROFILE_OPS_ABI || ops->version != AMZ_VERSION_NUMBER) {
    snprintf(g_why, sizeof g_why, "%s is of amorsize version %lu (operations %d), libamorsize "
                                  "of version %lu (operations %d): install both from one build",
             path, ops->version, ops->abi, (unsigned long)AMZ_VERSION_NUMBER, AMZ__PROFILE_OPS_ABI);
  } else {
    g_ops = ops; /* kept loaded for the life of the process */
    return;
  }
  dlclose(h);
}
#endif

const amz__profile_ops_t *amz__profile_ops_get(void) {
  pthread_once(&g_once, load);
  if (!g_ops) amz__fail(AMZ_ENOTSUP, "%s", g_why);
  return g_ops;
}

int amz__profile_after_run(amz_plan_t *p, amz_result_t *r) {
  if (!p->profile) return 0;
  const amz__profile_ops_t *ops = amz__profile_ops_get();
  if (!ops)
    return amz__fail(AMZ_ENOTSUP, "cannot write profile '%s': %s", p->profile, g_why);
  return ops->after_run(p, r);
}

/* ---- the reader API ----------------------------------------------------------------
 * A handle exists only once a table did: the accessors of a non-NULL handle find it
 * loaded; a NULL handle gets the reader's answer for NULL without loading anything. */

int amz_profile_open(const char *path, unsigned flags, amz_profile_t **out) {
  const amz__profile_ops_t *ops = amz__profile_ops_get();
  if (!ops) {
    if (out) *out = NULL;
    return amz__fail(AMZ_ENOTSUP, "cannot open profile '%s': %s", path ? path : "(null)", g_why);
  }
  return ops->open(path, flags, out);
}

void amz_profile_close(amz_profile_t *p) {
  if (p) g_ops->close(p);
}

const amz_profile_info_t *amz_profile_info(const amz_profile_t *p) {
  return p ? g_ops->info(p) : NULL;
}

const amz_profile_model_t *amz_profile_model(const amz_profile_t *p) {
  return p ? g_ops->model(p) : NULL;
}

#define ROWS(fn, op, type)                                 \
  size_t fn(const amz_profile_t *p, const type **rows) { \
    if (p) return g_ops->op(p, rows);                    \
    if (rows) *rows = NULL;                              \
    return 0;                                            \
  }
ROWS(amz_profile_chunks, chunks, amz_profile_chunk_t)
ROWS(amz_profile_workers, workers, amz_profile_worker_t)
ROWS(amz_profile_candidates, candidates, amz_profile_candidate_t)
ROWS(amz_profile_terms, terms, amz_profile_term_t)
ROWS(amz_profile_nodes, nodes, amz_profile_node_t)
ROWS(amz_profile_failures, failures, amz_profile_failure_t)

size_t amz_profile_finding_count(const amz_profile_t *p) {
  return p ? g_ops->finding_count(p) : 0;
}

int amz_profile_finding(const amz_profile_t *p, size_t i, amz_finding_t *out) {
  if (!p) return amz__fail(AMZ_EINVAL, "amz_profile_finding: profile is NULL");
  return g_ops->finding(p, i, out);
}

int amz__profile_precheck(const amz_plan_t *p) {
  if (!p->profile) return 0;
#ifdef AMZ_NO_PROFILE
  return amz__fail(AMZ_ENOTSUP,
                   "a profile is asked for ('%s', from AMZ_PROFILE or "
                   "amz_options_set_profile), but this build writes no profiles (configured "
                   "with AMORSIZE_PROFILE=OFF, without HDF5): unset AMZ_PROFILE or rebuild "
                   "with AMORSIZE_PROFILE=ON",
                   p->profile);
#endif
  /* The profile component loads now, not after the run. */
  if (!amz__profile_ops_get()) {
    char why[512];
    snprintf(why, sizeof why, "%s", amz_last_error());
    return amz__fail(AMZ_ENOTSUP, "a profile is asked for ('%s', from AMZ_PROFILE or "
                                  "amz_options_set_profile), but %s", p->profile, why);
  }
  char path[PATH_MAX];
  int rc = amz__profile_expand(p->profile, p->runs + 1, path, sizeof path);
  if (rc != 0) return rc;
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return amz__fail(AMZ_EIO, "profile path '%s' is a directory; expected a file name",
                       path);
    if (!p->profile_overwrite)
      return amz__fail(AMZ_EEXIST,
                       "profile '%s' exists and is not overwritten; remove it, use %%r in "
                       "the path, or allow overwriting (amz_options_set_profile_overwrite, "
                       "AMZ_PROFILE_OVERWRITE=1)",
                       path);
  }
  /* The temporary directory beside the profile has a longer name: a name that
   * leaves it no room fails here, not after the run. */
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  size_t room = NAME_MAX - (sizeof AMZ__PROFILE_TMP_SUFFIX - 1);
  if (strlen(base) > room)
    return amz__fail(AMZ_EINVAL, "profile name '%s' is %zu bytes; at most %zu (its temporary "
                                 "directory NAME" AMZ__PROFILE_TMP_SUFFIX " must fit in %d)", base,
                     strlen(base), room, NAME_MAX);
  if (strlen(path) + sizeof AMZ__PROFILE_TMP_SUFFIX + sizeof AMZ__PROFILE_TMP_FILE > PATH_MAX)
    return amz__fail(AMZ_EINVAL, "profile path '%s' is %zu bytes; at most %zu", path,
                     strlen(path), (size_t)PATH_MAX - sizeof AMZ__PROFILE_TMP_SUFFIX - sizeof AMZ__PROFILE_TMP_FILE);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  if (access(dir, W_OK | X_OK) != 0)
    return amz__fail(AMZ_EIO, "cannot write profile '%s': directory '%s': %s", path, dir,
                     strerror(errno));
  return 0;
}
