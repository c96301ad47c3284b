/*
 * The internal interface of the options object (options.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_OPTIONS_H
#define AMORSIZE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "cost_model.h"
#include "planner.h"

struct amz_options {
  int workers;
  int ranks;               /* MPI plans: ranks to use; 0 = choose */
  amz_schedule_t schedule;
  uint64_t chunk;
  double sample_seconds;
  double sample_rel_error;
  amz_hooks_t hooks;
  void *hooks_user;
  int has_hooks;
  double progress_interval;
  char *cache_dir; /* NULL = default location */
  int cache_set;   /* 1 once set explicitly (NULL then means disabled) */
  char *profile;   /* profile path pattern; NULL = none (AMZ_PROFILE may set one) */
  int profile_overwrite;
  int progress_line;       /* AMZ_PROGRESS_AUTO, _ON or _OFF */
  double progress_delay;   /* seconds of silence before the line shows (1) */
  FILE *progress_out;      /* tests: where the line goes; NULL = stderr */
  int use_env;
  int retries;             /* extra attempts for a failing item; -1 = not set */
  double timeout_s, timeout_factor; /* the watchdog; both 0 = off */
  int timeout_abort;
  char *checkpoint;        /* checkpoint path; NULL = none (AMZ_CHECKPOINT may set one) */
  int checkpoint_set;      /* 1 once set explicitly ("" then means none) */
  const amz__clock_t *clock;      /* tests: fake clock; NULL = real */
  const amz__machine_t *machine;  /* tests: synthetic machine; NULL = probe */
};

void amz__options_defaults(amz_options_t *o);
/* Resolves constraints from options and, when enabled, the environment. */
int amz__constraints_resolve(const amz_options_t *o, amz__constraints_t *c);

#endif /* AMORSIZE_OPTIONS_H */
