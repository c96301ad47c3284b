/*
 * The profile API in a build configured with AMORSIZE_PROFILE=OFF (no HDF5): every
 * call that would write or read a profile fails with AMZ_ENOTSUP and says why, so a
 * program written for either build links against both.
 */
#include <stddef.h>

#include "amorsize_profile.h"
#include "internal.h"

#define NO_PROFILES "this build reads and writes no profiles (configured with AMORSIZE_PROFILE=OFF, without HDF5)"

int amz_profile_open(const char *path, unsigned flags, amz_profile_t **out) {
  (void)flags;
  if (out) *out = NULL;
  return amz__fail(AMZ_ENOTSUP, "cannot open profile '%s': %s", path ? path : "(null)",
                   NO_PROFILES);
}

void amz_profile_close(amz_profile_t *p) { (void)p; }

const amz_profile_info_t *amz_profile_info(const amz_profile_t *p) {
  (void)p;
  return NULL;
}

const amz_profile_model_t *amz_profile_model(const amz_profile_t *p) {
  (void)p;
  return NULL;
}

/* No handle can exist: every table is empty. */
#define NO_ROWS(fn, type)                              \
  size_t fn(const amz_profile_t *p, const type **rows) { \
    (void)p;                                           \
    if (rows) *rows = NULL;                            \
    return 0;                                          \
  }
NO_ROWS(amz_profile_chunks, amz_profile_chunk_t)
NO_ROWS(amz_profile_workers, amz_profile_worker_t)
NO_ROWS(amz_profile_candidates, amz_profile_candidate_t)
NO_ROWS(amz_profile_terms, amz_profile_term_t)
NO_ROWS(amz_profile_nodes, amz_profile_node_t)
NO_ROWS(amz_profile_failures, amz_profile_failure_t)

size_t amz_profile_finding_count(const amz_profile_t *p) {
  (void)p;
  return 0;
}

int amz_profile_finding(const amz_profile_t *p, size_t i, amz_finding_t *out) {
  (void)p;
  (void)out;
  return amz__fail(AMZ_ENOTSUP, "no profile finding %zu: %s", i, NO_PROFILES);
}

/* Not reached: amz__profile_precheck() refuses a plan that asks for a profile. */
int amz__profile_after_run(amz_plan_t *p, amz_result_t *r) {
  (void)r;
  return p && p->profile ? amz__fail(AMZ_ENOTSUP, "cannot write profile '%s': %s", p->profile,
                                     NO_PROFILES)
                         : 0;
}
