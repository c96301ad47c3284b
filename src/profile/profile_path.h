/*
 * Profile paths: the pattern's expansion, the private temporary directory a
 * profile is written in and its commit (profile_path.c, base layer), and the
 * core's checks before and writes after a run (profile_load.c). The HDF5 side is
 * in profile.h. Not installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_PROFILE_PATH_H
#define AMORSIZE_PROFILE_PATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"

/* A profile is written as PATH.tmp.XXXXXX/profile.h5, then moved to PATH. */
#define AMZ__PROFILE_TMP_SUFFIX ".tmp.XXXXXX"
#define AMZ__PROFILE_TMP_FILE "/profile.h5"

/* The path a run writes: the pattern with %r (run index), %j (SLURM_JOB_ID, else
 * "nojob") and %% expanded. Returns 0, or AMZ_EINVAL naming an unknown '%x' or a
 * path longer than len. */
int amz__profile_expand(const char *pattern, int run, char *out, size_t len);
/* Creates the private directory a profile is written in, PATH.tmp.XXXXXX (mode
 * 0700, random name), and names the file in it: dir and tmp. Returns 0, AMZ_EINVAL
 * (path too long) or AMZ_EIO. */
int amz__profile_tmp_create(const char *path, char *dir, size_t dlen, char *tmp, size_t tlen);
/* Removes what is left of it: tmp if present, then dir. Nothing when dir is "". */
void amz__profile_tmp_remove(const char *dir, const char *tmp);
/* Moves tmp to path; refuses to replace an existing file unless overwrite is set.
 * Returns 0, AMZ_EEXIST or AMZ_EIO; tmp is removed on failure. */
int amz__profile_commit(const char *tmp, const char *path, int overwrite);
/* (profile_load.c) Checks at plan creation that the first run's profile can be written: the
 * directory exists and is writable, and the file does not exist unless overwrite
 * is set. Returns 0, AMZ_EEXIST or AMZ_EIO. */
AMZ__EXT int amz__profile_precheck(const amz_plan_t *plan);
/* (profile_load.c) Serial runs (amz_run): writes, seals and commits the profile of
 * res through the profile library when the plan asks for one; records the path in
 * res. Returns 0 or the profile's error; the result is valid either way. */
int amz__profile_after_run(amz_plan_t *plan, amz_result_t *res);

#endif /* AMORSIZE_PROFILE_PATH_H */
