/*
 * The internal interface of the progress line (progress.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_PROGRESS_H
#define AMORSIZE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"

typedef struct amz__progress_line {
  int active, shown;
  const amz_hooks_t *user; /* the user's hooks, called first */
  void *user_arg;
  amz_hooks_t hooks;       /* what the executor calls while the line is active */
  const char *task;
  double predicted_s, delay_s;
  FILE *out;
} amz__progress_line_t;

/* The progress mode from the options and, when used, AMZ_PROGRESS. */
int amz__progress_mode_resolve(const amz_options_t *o, int *mode);
/* Decides whether this run shows the line (owner: rank 0, or the process) and sets
 * the hooks the executor gets. Returns 0 or AMZ_EENV. */
int amz__progress_line_begin(amz__progress_line_t *pl, const amz_plan_t *p, int owner,
                             const amz_hooks_t **hooks, void **hooks_user);
/* Ends the line with the run's time when it was shown. */
void amz__progress_line_end(amz__progress_line_t *pl, double wall_s, int rc);

#endif /* AMORSIZE_PROGRESS_H */
