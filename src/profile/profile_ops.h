/*
 * The profile component's entry points, as the core reaches them. The profile
 * writer and reader (profile_read.c, profile_write.c, profile_seal.c,
 * profile_types.c) need HDF5, and a parallel HDF5 needs MPI: in a shared build they
 * are their own library, libamorsize_profile, which the core loads (profile_load.c)
 * the first time a profile is written or read, so that a program that never asks
 * for one loads neither HDF5 nor MPI. The library exports one table of these
 * operations; the core's public amz_profile_* functions forward to it. A static
 * build links the profile sources into the core and takes the table directly.
 */
#ifndef AMORSIZE_PROFILE_OPS_H
#define AMORSIZE_PROFILE_OPS_H

#include "amorsize_profile.h"
#include "common.h"

/* Changes whenever the table below changes: a profile library of another
 * layout is refused, not called. */
#define AMZ__PROFILE_OPS_ABI 1

typedef struct amz__profile_ops {
  int abi;                 /* AMZ__PROFILE_OPS_ABI */
  unsigned long version;   /* AMZ_VERSION_NUMBER the library was built as */
  /* Writes the profile of a finished threads-only run (plan.c). */
  int (*after_run)(amz_plan_t *plan, amz_result_t *res);
  /* The reader: the public functions of amorsize_profile.h, same contracts. */
  int (*open)(const char *path, unsigned flags, amz_profile_t **out);
  void (*close)(amz_profile_t *p);
  const amz_profile_info_t *(*info)(const amz_profile_t *p);
  const amz_profile_model_t *(*model)(const amz_profile_t *p);
  size_t (*chunks)(const amz_profile_t *p, const amz_profile_chunk_t **rows);
  size_t (*workers)(const amz_profile_t *p, const amz_profile_worker_t **rows);
  size_t (*candidates)(const amz_profile_t *p, const amz_profile_candidate_t **rows);
  size_t (*terms)(const amz_profile_t *p, const amz_profile_term_t **rows);
  size_t (*nodes)(const amz_profile_t *p, const amz_profile_node_t **rows);
  size_t (*failures)(const amz_profile_t *p, const amz_profile_failure_t **rows);
  size_t (*finding_count)(const amz_profile_t *p);
  int (*finding)(const amz_profile_t *p, size_t i, amz_finding_t *out);
} amz__profile_ops_t;

/* Defined by the profile component (profile_read.c). */
extern const amz__profile_ops_t amz__profile_ops __attribute__((visibility("default")));

/* (profile_load.c) The profile component's table, loaded on first use; NULL when
 * this build or this installation has none (then amz_last_error() says why, and
 * the caller returns AMZ_ENOTSUP). Thread-safe. */
const amz__profile_ops_t *amz__profile_ops_get(void);

#endif /* AMORSIZE_PROFILE_OPS_H */
