/*
 * The `amorsize` command-line tool: shared declarations of its commands. The tool
 * reads profiles only through the public reader API (amorsize_profile.h).
 */
#ifndef AMORSIZE_CLI_H
#define AMORSIZE_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "amorsize_profile.h"
#include "amorsize_sim.h"

/* Exit codes, documented in `amorsize --help` and docs/CLI.md. */
enum {
  AMZ_CLI_OK = 0,
  AMZ_CLI_FAIL = 1,  /* the command ran but failed (cannot write the output, probe failed,
                        nothing to predict from) */
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
  double efficiency;      /* busy / (workers x wall) = speedup / workers (1 = perfect) */
  double speedup;         /* kernel time / wall: the parallelism the run achieved */
  double pred_error;      /* (wall - predicted) / predicted; 0 when nothing predicted */
  double t_min, t_max;    /* time span of the chunk table (sampling included) */
  size_t run_chunks;      /* rows that are run chunks (not sampling blocks) */
} amz_cli_stats_t;

void amz_cli_stats(const amz_profile_t *p, amz_cli_stats_t *s);

/* Human-readable seconds ("1.23 ms") into buf. */
const char *amz_cli_seconds(char *buf, size_t len, double s);
/* v with thousands separators ("1,000,000") into buf; returns buf. */
const char *amz_cli_count(char *buf, size_t len, uint64_t v);

/* ---- records (records.c): rows as CSV or JSON ------------------------------------ */

typedef enum { AMZ_CLI_TEXT, AMZ_CLI_CSV, AMZ_CLI_JSON } amz_cli_fmt_t;

/* One field of a table row: the column's name (CSV header, JSON key) and its value.
 * Every command that prints CSV or JSON describes its rows this way, so that both
 * formats always carry the same columns in the same order. */
typedef enum {
  AMZ_CLI_F_INT,
  AMZ_CLI_F_U64,
  AMZ_CLI_F_NUM,
  AMZ_CLI_F_STR,
  AMZ_CLI_F_BOOL,
  AMZ_CLI_F_OPT /* a double that may be absent (NaN): empty in CSV, null in JSON */
} amz_cli_field_kind_t;
typedef struct amz_cli_field {
  const char *name;
  amz_cli_field_kind_t kind;
  long long i;
  unsigned long long u;
  double d;
  const char *s;
} amz_cli_field_t;

#define FI(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_INT, .i = (v)})
#define FU(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_U64, .u = (v)})
#define FD(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_NUM, .d = (v)})
#define FS(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_STR, .s = (v)})
#define FB(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_BOOL, .i = (v)})
#define FO(n, v) ((amz_cli_field_t){.name = (n), .kind = AMZ_CLI_F_OPT, .d = (v)})

/* The CSV header, or the JSON array's opening bracket. */
void amz_cli_records_begin(FILE *o, amz_cli_fmt_t fmt, const amz_cli_field_t *f, size_t n);
void amz_cli_records_row(FILE *o, amz_cli_fmt_t fmt, const amz_cli_field_t *f, size_t n,
                         size_t row);
void amz_cli_records_end(FILE *o, amz_cli_fmt_t fmt);
void amz_cli_json_str(FILE *o, const char *s);
/* A double with 9 significant digits (reads back exactly); 0 for NaN or infinity. */
void amz_cli_num(FILE *o, double v);
/* Flushes the output: AMZ_CLI_OK, or AMZ_CLI_FAIL with a line on stderr. */
int amz_cli_finish(FILE *o);

/* ---- prediction at scale (common.c) ----------------------------------------------
 * A recorded run's workload and machine as the simulator's inputs (amorsize_sim.h),
 * the sweep over node counts, and its knee. `predict` prints them; `html` draws them. */

/* Where a value of the prediction's inputs came from. */
typedef enum { AMZ_CLI_MEASURED, AMZ_CLI_DEFAULT, AMZ_CLI_FLAG } amz_cli_source_t;
const char *amz_cli_source_name(amz_cli_source_t s);

/* What the command line asks for; a negative value (0 for counts) = not given. */
typedef struct amz_cli_scale_opts {
  int nodes, ranks_per_node, threads_per_rank;
  double latency_s, bandwidth, speed_spread, cv;
  uint64_t items;
} amz_cli_scale_opts_t;

void amz_cli_scale_opts_init(amz_cli_scale_opts_t *o);

typedef struct amz_cli_derived {
  amz_sim_workload_t w; /* AMZ_SIM_TABLE over the arrays below */
  uint64_t *seg_end;
  double *seg_item_s;
  uint64_t n_recorded;      /* the profile's items */
  uint64_t items_chunks;    /* of those, costed from the run's chunk records */
  uint64_t items_bins;      /* from the model's cost profile (gaps) */
  uint64_t items_mean;      /* from the model's mean item cost (gaps, no profile) */
  size_t chunks_used;       /* chunk records used */
  double work_s;            /* sum of the per-item costs (after --items) */
  double model_cv;          /* the model's cv of block costs */
  uint64_t block_items;     /* items per sampling block */
  amz_cli_source_t cv_src;
  amz_sim_machine_t m;      /* the target machine */
  amz_cli_source_t src_latency, src_bandwidth, src_latency_node, src_counter, src_chunk,
      src_startup, src_spread, src_nodes, src_ranks, src_threads;
  const char *counter_from; /* "node counter", "shared counter alone" or NULL */
  double counter_raw_s;     /* the measured value before dividing */
  int rec_nodes, rec_ranks, rec_ranks_per_node, rec_threads;
  double rec_wall_s;
} amz_cli_derived_t;

/* Derives the workload and the machine from a profile and the options. Returns 0, or
 * -1 with a reason in why (no recorded work, out of memory). Free with
 * amz_cli_derived_free (also after a failure). */
int amz_cli_derive(const amz_profile_t *p, const amz_cli_scale_opts_t *o, amz_cli_derived_t *d,
                   char *why, size_t why_len);
void amz_cli_derived_free(amz_cli_derived_t *d);

/* One node count of the sweep and the plan amz_sim_choose picks there. */
typedef struct amz_cli_sweep_point {
  int nodes;
  amz_sim_choice_t plan;
  double speedup; /* the first point's makespan over this one's */
} amz_cli_sweep_point_t;

#define AMZ_CLI_SWEEP_MAX 34 /* 1, 2, 4 ... 2^31 and a last count off the doublings */

/* Node counts 1, 2, 4 ... below max_nodes, then max_nodes. Returns how many. */
size_t amz_cli_sweep_counts(int max_nodes, int *counts);

/* Progress of a long computation: done of total steps, what is being done. */
typedef void amz_cli_progress_fn(void *ctx, size_t done, size_t total, const char *what);

/* Runs amz_sim_choose (restricted to schedule unless AUTO) at each count, on machine m
 * with its node count replaced; with chunk (not NULL), simulates that schedule and
 * chunk only. Returns 0 or the simulator's error. */
int amz_cli_sweep(const amz_sim_costs_t *c, const amz_sim_machine_t *m, amz_schedule_t schedule,
                  const uint64_t *chunk, const int *counts, size_t n, amz_cli_sweep_point_t *pts,
                  amz_cli_progress_fn *progress, void *ctx);

/* The node count worth requesting: the largest count whose efficiency is at least
 * AMZ_CLI_KNEE_EFFICIENCY and whose step from the previous count still paid (a
 * speed-up of at least AMZ_CLI_KNEE_GAIN per doubling); the first count when none
 * qualifies. Returns its index. */
#define AMZ_CLI_KNEE_EFFICIENCY 0.8
#define AMZ_CLI_KNEE_GAIN 1.5
size_t amz_cli_knee(const amz_cli_sweep_point_t *pts, size_t n);

/* One line on why (without a trailing newline): "32 nodes (1536 ranks), efficiency
 * 0.91; 64 nodes would gain only 1.30x more (efficiency 0.62)". */
const char *amz_cli_knee_why(char *buf, size_t len, const amz_cli_sweep_point_t *pts, size_t n,
                             size_t knee, int ranks_per_node);

/* A progress callback that writes one line, rewritten in place, to stderr when it is
 * a terminal (ctx: the command's name); nothing otherwise. */
void amz_cli_progress_tty(void *ctx, size_t done, size_t total, const char *what);

/* The commands. Each returns an exit code. */
int amz_cli_report(FILE *out, const amz_profile_t *p, const char *path);
/* The profile's findings as the report's Bottlenecks lines ("[SEVERITY] text", or
 * the "none" line), each after `indent`. AMZ_CLI_OK, or AMZ_CLI_FAIL with a line on
 * stderr. */
int amz_cli_findings_text(FILE *out, const amz_profile_t *p, const char *indent);
int amz_cli_html(FILE *out, const amz_profile_t *const *profiles, const char *const *paths,
                 size_t n);
/* As amz_cli_html, with the prediction section's target machine (0 = the default: 64
 * nodes x the recorded ranks per node, or the node's cores for a one-rank run). */
int amz_cli_html_scale(FILE *out, const amz_profile_t *const *profiles,
                       const char *const *paths, size_t n, int nodes, int ranks_per_node);
/* `simulate` and `predict`: they parse their own options (argv[1] is the command). */
int amz_cli_simulate(int argc, char **argv);
extern const char amz_cli_help_simulate[], amz_cli_help_predict[];
int amz_cli_predict(int argc, char **argv);

#endif /* AMORSIZE_CLI_H */
