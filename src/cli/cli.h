/*
 * The `amorsize` command-line tool: shared declarations of its commands. The tool
 * reads profiles only through the public reader API (amorsize_profile.h).
 */
#ifndef AMORSIZE_CLI_H
#define AMORSIZE_CLI_H

#include <stdio.h>

#include "amorsize_profile.h"

/* Exit codes, documented in `amorsize --help` and docs/CLI.md. */
enum {
  AMZ_CLI_OK = 0,
  AMZ_CLI_FAIL = 1,  /* the command ran but failed (cannot write the output, probe failed) */
  AMZ_CLI_INPUT = 2, /* an input profile is missing, unreadable, corrupt or of a newer schema */
  AMZ_CLI_USAGE = 64 /* bad command line (EX_USAGE) */
};

/* Figures derived from a profile, shared by report, compare and html. */
typedef struct amz_cli_stats {
  int workers;            /* worker rows: ranks used x threads */
  double busy_s;          /* kernel time summed over workers */
  double dispatch_s, idle_s, data_s; /* summed over workers */
  double longest_item_s;  /* the costliest sampled item: a lower bound's floor */
  double lower_bound_s;   /* max(busy / workers, longest item): no plan beats it */
  double efficiency;      /* lower_bound / wall (1 = perfect) */
  double speedup;         /* kernel time / wall: the parallelism the run achieved */
  double pred_error;      /* (wall - predicted) / predicted; 0 when nothing predicted */
  double t_min, t_max;    /* time span of the chunk table (sampling included) */
  size_t run_chunks;      /* rows that are run chunks (not sampling blocks) */
} amz_cli_stats_t;

void amz_cli_stats(const amz_profile_t *p, amz_cli_stats_t *s);

/* Human-readable seconds ("1.23 ms") into buf. */
const char *amz_cli_seconds(char *buf, size_t len, double s);

/* The commands. Each returns an exit code. */
int amz_cli_report(FILE *out, const amz_profile_t *p, const char *path);
int amz_cli_html(FILE *out, const amz_profile_t *const *profiles, const char *const *paths,
                 size_t n);

#endif /* AMORSIZE_CLI_H */
