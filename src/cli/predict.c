/* `amorsize simulate` and `amorsize predict`: what-if studies with the simulator
 * (amorsize_sim.h). `simulate` runs a synthetic workload on a modelled machine;
 * `predict` takes the workload and the machine's measured costs from a recorded run
 * and asks how the loop would do at a scale that was never launched, and how many
 * nodes are worth requesting.
 *
 * The text output shows every input with where it came from, so that a prediction
 * can be checked against what the user knows of the machine; CSV and JSON carry the
 * results (one row per schedule, one per count of the sweep). Everything printed
 * except the simulation's own wall time is a pure function of the inputs. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "extension.h"

/* Seconds as the other commands print them, and long spans without an exponent
 * ("1000 s", "2.5 h"): what-if studies reach hours of work. */
static const char *secs(char *buf, size_t len, double s) {
  if (s >= 36000) snprintf(buf, len, "%.3g h", s / 3600);
  else if (s >= 999.5) snprintf(buf, len, "%.0f s", s); /* not "1e+03 s" */
  else amz_cli_seconds(buf, len, s);
  return buf;
}
#define T(x) secs((char[32]){0}, 32, (x))

/* ---- command lines ---------------------------------------------------------------- */

const char amz_cli_help_simulate[] =
    "usage: amorsize simulate --shape SHAPE --items N --nodes N --ranks-per-node R\n"
    "                         [OPTIONS] [--format text|csv|json]\n"
    "\n"
    "Simulates a synthetic loop on a modelled machine with each schedule (static,\n"
    "cyclic, dynamic, guided, factoring) over a grid of chunk sizes, and prints each\n"
    "schedule's best chunk with its makespan, efficiency, idle time, chunks,\n"
    "batches and refills, the busiest rank and the node counter's load; the chosen\n"
    "plan; and the simulation's own time. No profile is needed.\n"
    "\n"
    "workload:\n"
    "  --shape S             uniform, increasing, lognormal, mandelbrot or bimodal\n"
    "  --items N             items of the loop (1e7 is accepted)\n"
    "  --mean-us M           mean cost of one item in microseconds (default 100)\n"
    "  --cv X                random item-to-item variation, sd / mean, 0 to 10\n"
    "                        (default: lognormal 1, the others 0)\n"
    "  --fraction P          bimodal: share of costly items, in (0, 1) (default 0.1)\n"
    "  --ratio R             bimodal: costly / cheap item cost, >= 1 (default 10)\n"
    "  --seed S              seed of the random variation (default 1)\n"
    "machine:\n"
    "  --nodes N --ranks-per-node R [--threads-per-rank T (default 1)]\n"
    "  --latency-us L        one-way latency between nodes (default 2)\n"
    "  --bandwidth-gbs B     bandwidth between nodes in GB/s (default 10)\n"
    "  --speed-spread S      node speeds spread over [1 - S, 1 + S], 0 to 0.9 (default 0)\n"
    "plan:\n"
    "  --schedule NAME       simulate this schedule only (its best chunk)\n"
    "  --chunk C             with --schedule: this chunk only (items; the minimum for\n"
    "                        guided and factoring)\n"
    "  --sweep               add the curve over node counts 1, 2, 4 ... --nodes and the\n"
    "                        count worth requesting\n";

const char amz_cli_help_predict[] =
    "usage: amorsize predict FILE [--nodes N] [--ranks-per-node R] [OPTIONS]\n"
    "                        [--format text|csv|json]\n"
    "\n"
    "Predicts the recorded loop at another scale by simulation. The workload comes\n"
    "from the run's chunks (each item costs its chunk's duration over its items;\n"
    "items no chunk recorded, such as sampled ones, from the model's cost profile),\n"
    "the machine's costs from the profile's measurements (latencies, bandwidth, the\n"
    "node counter, the per-chunk cost), defaults where the run could not measure\n"
    "them. Prints each input with its source, the predicted time and efficiency with\n"
    "the best plan, each schedule's best, the hot spots, and the sweep over node\n"
    "counts 1, 2, 4 ... N with the count worth requesting: the largest whose\n"
    "efficiency is at least 0.8 and whose last doubling still gave 1.5x.\n"
    "\n"
    "  --nodes N             nodes to predict (default 64)\n"
    "  --ranks-per-node R    default: as recorded; a one-rank run: its node's cores\n"
    "  --threads-per-rank T  default: as recorded (1 when R defaults to the cores)\n"
    "  --latency-us L        override the measured latency between nodes\n"
    "  --bandwidth-gbs B     override the measured bandwidth between nodes, GB/s\n"
    "  --speed-spread S      node speeds spread over [1 - S, 1 + S], 0 to 0.9\n"
    "  --items N             the loop with N items (the recorded costs stretched)\n"
    "  --cv X                per-item variation (default: from the model, at most 3)\n"
    "  --schedule NAME       predict with this schedule only\n"
    "  --no-sweep            skip the sweep over node counts\n"
    "  --no-verify           read a profile whose checksum no longer matches\n";

/* A bad option value: names the option, the value and what was expected. */
static int bad_value(const char *cmd, const char *opt, const char *value, const char *expected) {
  fprintf(stderr, "amorsize %s: %s '%s': expected %s\n(run 'amorsize %s --help' for the options)\n",
          cmd, opt, value, expected, cmd);
  return AMZ_CLI_USAGE;
}

static int parse_double(const char *s, double lo, double hi, int lo_open, double *out) {
  if (!s || !*s) return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !isfinite(v)) return -1;
  if (v > hi || v < lo || (lo_open && v == lo)) return -1;
  *out = v;
  return 0;
}

/* A count, as digits or in floating notation when it is a whole number ("1e7"). */
static int parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  uint64_t v;
  if (amz__parse_u64(s, &v) != 0) {
    double d;
    if (parse_double(s, 0, 9007199254740992.0, 0, &d) != 0 || d != floor(d)) return -1;
    v = (uint64_t)d;
  }
  if (v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  uint64_t v;
  if (parse_count(s, (uint64_t)lo, (uint64_t)hi, &v) != 0) return -1;
  *out = (int)v;
  return 0;
}

/* The options both commands share: the machine, the schedule and the format. */
typedef struct opts {
  const char *cmd;
  amz_cli_scale_opts_t sc;
  amz_schedule_t schedule;
  int have_chunk, sweep, no_sweep, no_verify;
  uint64_t chunk;
  amz_cli_fmt_t fmt;
  /* simulate */
  const char *shape_name;
  amz_sim_shape_t shape;
  uint64_t items, seed;
  double mean_us, cv, fraction, ratio;
  const char *file;
} opts_t;

/* The next argument: the value of "--opt value" or "--opt=value". NULL when absent. */
static const char *take(int argc, char **argv, int *i, const char *opt) {
  const char *a = argv[*i];
  size_t n = strlen(opt);
  if (strncmp(a, opt, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) return "";
  return argv[++*i];
}

static int is_opt(const char *a, const char *opt) {
  size_t n = strlen(opt);
  return strncmp(a, opt, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* Parses argv[2...]; returns -1 to go on, else the exit code (help, a bad line). */
static int parse(int argc, char **argv, opts_t *o, int predict) {
  const char *cmd = o->cmd, *v;
  int simulate = !predict;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(predict ? amz_cli_help_predict : amz_cli_help_simulate, stdout);
      return amz_cli_finish(stdout);
    }
    if (is_opt(a, "--format")) {
      v = take(argc, argv, &i, "--format");
      if (strcmp(v, "text") == 0) o->fmt = AMZ_CLI_TEXT;
      else if (strcmp(v, "csv") == 0) o->fmt = AMZ_CLI_CSV;
      else if (strcmp(v, "json") == 0) o->fmt = AMZ_CLI_JSON;
      else return bad_value(cmd, "--format", v, "text, csv or json");
    } else if (is_opt(a, "--nodes")) {
      v = take(argc, argv, &i, "--nodes");
      if (parse_int(v, 1, 1 << 24, &o->sc.nodes) != 0)
        return bad_value(cmd, "--nodes", v, "a whole number of nodes from 1 to 16777216");
    } else if (is_opt(a, "--ranks-per-node")) {
      v = take(argc, argv, &i, "--ranks-per-node");
      if (parse_int(v, 1, 1 << 20, &o->sc.ranks_per_node) != 0)
        return bad_value(cmd, "--ranks-per-node", v, "a whole number from 1 to 1048576");
    } else if (is_opt(a, "--threads-per-rank")) {
      v = take(argc, argv, &i, "--threads-per-rank");
      if (parse_int(v, 1, 1 << 16, &o->sc.threads_per_rank) != 0)
        return bad_value(cmd, "--threads-per-rank", v, "a whole number from 1 to 65536");
    } else if (is_opt(a, "--latency-us")) {
      v = take(argc, argv, &i, "--latency-us");
      if (parse_double(v, 0, 1e6, 0, &o->sc.latency_s) != 0)
        return bad_value(cmd, "--latency-us", v, "microseconds from 0 to 1000000");
      o->sc.latency_s *= 1e-6;
    } else if (is_opt(a, "--bandwidth-gbs")) {
      v = take(argc, argv, &i, "--bandwidth-gbs");
      if (parse_double(v, 0, 1e5, 1, &o->sc.bandwidth) != 0)
        return bad_value(cmd, "--bandwidth-gbs", v, "GB/s, more than 0 and at most 100000");
      o->sc.bandwidth *= 1e9;
    } else if (is_opt(a, "--speed-spread")) {
      v = take(argc, argv, &i, "--speed-spread");
      if (parse_double(v, 0, 0.9, 0, &o->sc.speed_spread) != 0)
        return bad_value(cmd, "--speed-spread", v, "a spread from 0 to 0.9");
    } else if (is_opt(a, "--schedule")) {
      v = take(argc, argv, &i, "--schedule");
      if (amz_schedule_parse(v, &o->schedule) != 0)
        return bad_value(cmd, "--schedule", v,
                         "static, cyclic, dynamic, guided, factoring, awf or auto");
    } else if (is_opt(a, "--cv")) {
      v = take(argc, argv, &i, "--cv");
      double cv;
      if (parse_double(v, 0, 10, 0, &cv) != 0)
        return bad_value(cmd, "--cv", v, "a coefficient of variation from 0 to 10");
      o->sc.cv = o->cv = cv;
    } else if (is_opt(a, "--items")) {
      v = take(argc, argv, &i, "--items");
      if (parse_count(v, 1, (uint64_t)1 << 50, &o->items) != 0)
        return bad_value(cmd, "--items", v, "a whole number of items from 1 to 2^50");
      o->sc.items = o->items;
    } else if (simulate && is_opt(a, "--shape")) {
      v = take(argc, argv, &i, "--shape");
      o->shape_name = v;
      if (amz_sim_shape_parse(v, &o->shape) != 0 || o->shape == AMZ_SIM_TABLE)
        return bad_value(cmd, "--shape", v,
                         "uniform, increasing, lognormal, mandelbrot or bimodal");
    } else if (simulate && is_opt(a, "--mean-us")) {
      v = take(argc, argv, &i, "--mean-us");
      if (parse_double(v, 0, 1e12, 1, &o->mean_us) != 0)
        return bad_value(cmd, "--mean-us", v, "microseconds, more than 0 and at most 1e12");
    } else if (simulate && is_opt(a, "--fraction")) {
      v = take(argc, argv, &i, "--fraction");
      if (parse_double(v, 0, 1, 1, &o->fraction) != 0 || o->fraction >= 1)
        return bad_value(cmd, "--fraction", v, "a share of costly items in (0, 1)");
    } else if (simulate && is_opt(a, "--ratio")) {
      v = take(argc, argv, &i, "--ratio");
      if (parse_double(v, 1, 1e6, 0, &o->ratio) != 0)
        return bad_value(cmd, "--ratio", v, "a cost ratio from 1 to 1000000");
    } else if (simulate && is_opt(a, "--seed")) {
      v = take(argc, argv, &i, "--seed");
      if (amz__parse_u64(v, &o->seed) != 0)
        return bad_value(cmd, "--seed", v, "a whole number from 0 to 2^64 - 1");
    } else if (simulate && is_opt(a, "--chunk")) {
      v = take(argc, argv, &i, "--chunk");
      if (parse_count(v, 1, (uint64_t)1 << 50, &o->chunk) != 0)
        return bad_value(cmd, "--chunk", v, "a positive number of items per chunk");
      o->have_chunk = 1;
    } else if (simulate && strcmp(a, "--sweep") == 0) {
      o->sweep = 1;
    } else if (predict && strcmp(a, "--no-sweep") == 0) {
      o->no_sweep = 1;
    } else if (predict && strcmp(a, "--no-verify") == 0) {
      o->no_verify = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "amorsize %s: unknown option '%s'\n", cmd, a);
      fputs(predict ? amz_cli_help_predict : amz_cli_help_simulate, stderr);
      return AMZ_CLI_USAGE;
    } else if (predict && !o->file) {
      o->file = a;
    } else {
      fprintf(stderr, "amorsize %s: %s\n", cmd,
              predict ? "takes one profile file" : "takes no files (it needs no profile)");
      fputs(predict ? amz_cli_help_predict : amz_cli_help_simulate, stderr);
      return AMZ_CLI_USAGE;
    }
  }
  if (predict && !o->file) {
    fprintf(stderr, "amorsize predict: needs a profile file\n");
    fputs(amz_cli_help_predict, stderr);
    return AMZ_CLI_USAGE;
  }
  if (simulate) {
    const char *missing = !o->shape_name       ? "--shape"
                          : !o->items          ? "--items"
                          : !o->sc.nodes       ? "--nodes"
                          : !o->sc.ranks_per_node ? "--ranks-per-node"
                                               : NULL;
    if (missing) {
      fprintf(stderr, "amorsize simulate: %s is required\n(run 'amorsize simulate --help' for "
                      "the options)\n", missing);
      return AMZ_CLI_USAGE;
    }
    if ((o->fraction > 0 || o->ratio > 0) && o->shape != AMZ_SIM_BIMODAL) {
      fprintf(stderr, "amorsize simulate: --fraction and --ratio apply to --shape bimodal, "
                      "not to '%s'\n", o->shape_name);
      return AMZ_CLI_USAGE;
    }
    if (o->have_chunk && o->schedule == AMZ_SCHED_AUTO) {
      fprintf(stderr, "amorsize simulate: --chunk needs --schedule (a chunk size means "
                      "something different to each schedule)\n");
      return AMZ_CLI_USAGE;
    }
  }
  return -1;
}

/* ---- results ---------------------------------------------------------------------- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Operations per second, short: "4.21M". */
static const char *rate(char *buf, size_t len, double v) {
  const char *u = "";
  if (v >= 1e9) v /= 1e9, u = "G";
  else if (v >= 1e6) v /= 1e6, u = "M";
  else if (v >= 1e3) v /= 1e3, u = "k";
  snprintf(buf, len, "%.3g%s", v, u);
  return buf;
}
#define RATE(x) rate((char[32]){0}, 32, (x))

/* A schedule and its chunk as words: "factoring, minimum chunk 4". */
static const char *plan_words(char *buf, size_t len, const amz_sim_choice_t *c) {
  const char *s = amz_schedule_name(c->schedule);
  unsigned long long k = c->chunk;
  if (c->schedule == AMZ_SCHED_STATIC) snprintf(buf, len, "static (one block per worker)");
  else if (c->schedule == AMZ_SCHED_GUIDED || c->schedule == AMZ_SCHED_FACTORING)
    snprintf(buf, len, "%s, minimum chunk %llu", s, k);
  else snprintf(buf, len, "%s, chunk %llu", s, k);
  return buf;
}
#define PLAN(c) plan_words((char[64]){0}, 64, (c))

/* The chunk column: "blocks" for static, "min K" for the decreasing schedules. */
static const char *chunk_cell(char *buf, size_t len, const amz_sim_choice_t *c) {
  if (c->schedule == AMZ_SCHED_STATIC) snprintf(buf, len, "blocks");
  else if (c->schedule == AMZ_SCHED_GUIDED || c->schedule == AMZ_SCHED_FACTORING)
    snprintf(buf, len, "min %llu", (unsigned long long)c->chunk);
  else snprintf(buf, len, "%llu", (unsigned long long)c->chunk);
  return buf;
}

#define COUNT(x) amz_cli_count((char[40]){0}, 40, (x))

static int same_plan(const amz_sim_choice_t *a, const amz_sim_choice_t *b) {
  return a->schedule == b->schedule && a->chunk == b->chunk;
}

/* What was simulated, for the output. */
typedef struct outcome {
  const amz_sim_machine_t *m;
  amz_sim_choice_t per[AMZ_SCHED_COUNT]; /* schedule AUTO where not simulated */
  amz_sim_choice_t best;
  amz_cli_sweep_point_t sweep[AMZ_CLI_SWEEP_MAX];
  size_t nsweep, knee;
  double wall_s;
} outcome_t;

static const char *machine_words(char *buf, size_t len, const amz_sim_machine_t *m) {
  long long w = (long long)m->nodes * m->ranks_per_node * m->threads_per_rank;
  snprintf(buf, len, "%d node%s x %d rank%s x %d thread%s (%lld worker%s)", m->nodes,
           m->nodes == 1 ? "" : "s", m->ranks_per_node, m->ranks_per_node == 1 ? "" : "s",
           m->threads_per_rank, m->threads_per_rank == 1 ? "" : "s", w, w == 1 ? "" : "s");
  return buf;
}

static void schedules_text(FILE *o, const outcome_t *r) {
  fprintf(o, "\nSchedules, each with its best chunk (* = chosen)\n");
  fprintf(o, "  %-10s %9s %10s %5s %10s %10s %10s %16s %14s %8s\n", "schedule", "chunk",
          "makespan", "eff", "idle mean", "idle max", "chunks", "batches/refills",
          "busiest ops/s", "counter");
  for (int s = AMZ_SCHED_STATIC; s < AMZ_SCHED_COUNT; s++) {
    const amz_sim_choice_t *c = &r->per[s];
    if (c->schedule == AMZ_SCHED_AUTO) continue;
    const amz_sim_result_t *x = &c->result;
    char ck[32], br[48];
    snprintf(br, sizeof br, "%llu/%llu", (unsigned long long)x->batches,
             (unsigned long long)x->refills);
    fprintf(o, "%c %-10s %9s %10s %5.2f %10s %10s %10llu %16s %14s %7.1f%%\n",
            same_plan(c, &r->best) ? '*' : ' ', amz_schedule_name(c->schedule),
            chunk_cell(ck, sizeof ck, c), T(x->makespan_s), x->efficiency, T(x->idle_mean_s),
            T(x->idle_max_s), (unsigned long long)x->chunks, br, RATE(x->busiest_ops_per_s),
            100.0 * x->counter_busy);
  }
  fprintf(o, "  (eff: all work over all workers, against the makespan; busiest ops/s: the "
             "busiest rank's messages\n   and counter operations; counter: share of the run "
             "the busiest node counter was held)\n");
}

static void hotspots_text(FILE *o, const outcome_t *r) {
  const amz_sim_result_t *x = &r->best.result;
  fprintf(o, "\nHot spots of the chosen plan\n");
  if (r->best.schedule == AMZ_SCHED_STATIC || r->best.schedule == AMZ_SCHED_CYCLIC) {
    fprintf(o, "  none: %s preassigns every chunk (no messages, no shared counter)\n",
            amz_schedule_name(r->best.schedule));
    return;
  }
  int rpn = r->m->ranks_per_node;
  char role[96] = "";
  if (x->busiest_rank == 0 && r->m->nodes > 1)
    snprintf(role, sizeof role, " (it serves the nodes' refills and holds the global counter)");
  else if (x->busiest_rank % rpn == 0)
    snprintf(role, sizeof role, " (node %d's first rank: it holds the node's counter)",
             x->busiest_rank / rpn);
  fprintf(o, "  busiest rank: rank %d, %s operations in its memory, %s ops/s%s\n",
          x->busiest_rank, COUNT(x->busiest_ops), RATE(x->busiest_ops_per_s), role);
  fprintf(o, "  busiest node counter: %s operations, %s ops/s, held %.1f%% of the run%s\n",
          COUNT(x->counter_ops_max), RATE(x->counter_ops_per_s), 100.0 * x->counter_busy,
          x->counter_busy > 0.5 ? ": it limits the run; a larger chunk claims it less often" : "");
  fprintf(o, "  %s messages, %s refills; workers waited %s for batches in all\n",
          COUNT(x->messages), COUNT(x->refills), T(x->wait_s));
}

static void sweep_text(FILE *o, const outcome_t *r) {
  const amz_sim_machine_t *m = r->m;
  fprintf(o, "\nSweep over node counts (%d rank%s x %d thread%s per node; * = worth requesting)\n",
          m->ranks_per_node, m->ranks_per_node == 1 ? "" : "s", m->threads_per_rank,
          m->threads_per_rank == 1 ? "" : "s");
  fprintf(o, "  %8s %10s %10s %8s %5s  %s\n", "nodes", "ranks", "time", "speedup", "eff", "plan");
  for (size_t i = 0; i < r->nsweep; i++) {
    const amz_cli_sweep_point_t *p = &r->sweep[i];
    fprintf(o, "%c %8d %10lld %10s %7.2fx %5.2f  %s\n", i == r->knee ? '*' : ' ', p->nodes,
            (long long)p->nodes * m->ranks_per_node, T(p->plan.result.makespan_s), p->speedup,
            p->plan.result.efficiency, PLAN(&p->plan));
  }
  char why[256];
  fprintf(o, "worth requesting: %s\n",
          amz_cli_knee_why(why, sizeof why, r->sweep, r->nsweep, r->knee, m->ranks_per_node));
}

/* One row per simulated schedule, then one per count of the sweep. */
static void records(FILE *o, amz_cli_fmt_t fmt, const outcome_t *r) {
  size_t row = 0;
  const amz_sim_machine_t *m = r->m;
  for (int pass = 0; pass < 2; pass++) {
    size_t n = pass == 0 ? AMZ_SCHED_COUNT : r->nsweep;
    for (size_t i = 0; i < n; i++) {
      const amz_sim_choice_t *c = pass == 0 ? &r->per[i] : &r->sweep[i].plan;
      if (pass == 0 && (i == 0 || c->schedule == AMZ_SCHED_AUTO)) continue;
      const amz_sim_result_t *x = &c->result;
      int nodes = pass == 0 ? m->nodes : r->sweep[i].nodes;
      const amz_cli_field_t f[] = {
          FS("table", pass == 0 ? "schedule" : "sweep"),
          FI("nodes", nodes),
          FI("ranks_per_node", m->ranks_per_node),
          FI("threads_per_rank", m->threads_per_rank),
          FS("schedule", amz_schedule_name(c->schedule)),
          FU("chunk", c->chunk),
          FB("chosen", pass == 0 && same_plan(c, &r->best)),
          FB("knee", pass == 1 && i == r->knee),
          FD("makespan_s", x->makespan_s),
          FD("ideal_s", x->ideal_s),
          FD("efficiency", x->efficiency),
          FD("speedup", pass == 1 ? r->sweep[i].speedup : 0),
          FD("idle_mean_s", x->idle_mean_s),
          FD("idle_max_s", x->idle_max_s),
          FU("chunks", x->chunks),
          FU("batches", x->batches),
          FU("refills", x->refills),
          FU("messages", x->messages),
          FI("busiest_rank", x->busiest_rank),
          FD("busiest_ops_per_s", x->busiest_ops_per_s),
          FD("counter_ops_per_s", x->counter_ops_per_s),
          FD("counter_busy", x->counter_busy)};
      size_t nf = sizeof f / sizeof f[0];
      if (row == 0) amz_cli_records_begin(o, fmt, f, nf);
      amz_cli_records_row(o, fmt, f, nf, row++);
    }
  }
  amz_cli_records_end(o, fmt);
}

/* Simulates at the target (all schedules, one, or one chunk), then the sweep. */
static int run_all(const char *cmd, const amz_sim_costs_t *c, const amz_sim_machine_t *m,
                   const opts_t *o, int sweep, outcome_t *r) {
  double t0 = now_s();
  r->m = m;
  for (int s = 0; s < AMZ_SCHED_COUNT; s++) r->per[s] = (amz_sim_choice_t){.schedule = AMZ_SCHED_AUTO};
  int rc;
  amz_cli_progress_tty((void *)cmd, 0, 1, "simulating the schedules");
  if (o->have_chunk) {
    amz_schedule_t s = o->schedule == AMZ_SCHED_AWF ? AMZ_SCHED_FACTORING : o->schedule;
    r->best = (amz_sim_choice_t){.schedule = s, .chunk = o->chunk};
    rc = amz_simulate_costs(c, m, s, o->chunk, NULL, &r->best.result);
    r->per[s] = r->best;
  } else {
    rc = amz_sim_choose(c, m, o->schedule, &r->best, r->per);
  }
  amz_cli_progress_tty((void *)cmd, 1, 1, "");
  if (rc == 0 && sweep) {
    int counts[AMZ_CLI_SWEEP_MAX];
    r->nsweep = amz_cli_sweep_counts(m->nodes, counts);
    rc = amz_cli_sweep(c, m, o->schedule, o->have_chunk ? &o->chunk : NULL, counts, r->nsweep,
                       r->sweep, amz_cli_progress_tty, (void *)cmd);
    r->knee = amz_cli_knee(r->sweep, r->nsweep);
  }
  r->wall_s = now_s() - t0;
  if (rc != 0) {
    fprintf(stderr, "amorsize %s: %s\n", cmd, amz_last_error());
    return rc == AMZ_EINVAL ? AMZ_CLI_USAGE : AMZ_CLI_FAIL;
  }
  return AMZ_CLI_OK;
}

static void machine_costs_text(FILE *o, const amz_sim_machine_t *m) {
  fprintf(o, "  latency %s between nodes, %s inside a node; bandwidth %.3g GB/s\n",
          T(m->latency_s), T(m->latency_node_s), m->bandwidth / 1e9);
  fprintf(o, "  per chunk %s; node counter operation %s; a refill is served in %s after a "
             "%s poll wait\n",
          T(m->chunk_s), T(m->counter_s), T(m->serve_s), T(m->poll_s));
  if (m->speed_spread > 0)
    fprintf(o, "  node speeds spread over [%.2f, %.2f]\n", 1 - m->speed_spread,
            1 + m->speed_spread);
  else
    fprintf(o, "  node speeds equal\n");
}

static void chosen_text(FILE *o, const char *head, const outcome_t *r) {
  const amz_sim_result_t *x = &r->best.result;
  fprintf(o, "\n%s: %s with %s, efficiency %.2f\n", head, T(x->makespan_s), PLAN(&r->best),
          x->efficiency);
  fprintf(o, "  ideal %s (all work over all workers); start and end of the run %s; idle %s "
             "per rank on average, %s at most (rank %d)\n",
          T(x->ideal_s), T(x->serial_s), T(x->idle_mean_s), T(x->idle_max_s), x->idle_max_rank);
}

/* ---- simulate ----------------------------------------------------------------------- */

int amz_cli_simulate(int argc, char **argv) {
  opts_t o = {.cmd = "simulate", .mean_us = 100, .cv = -1, .seed = 1};
  amz_cli_scale_opts_init(&o.sc);
  int rc = parse(argc, argv, &o, 0);
  if (rc >= 0) return rc;

  amz_sim_workload_t w;
  amz_sim_workload_defaults(&w, o.shape, o.items, o.mean_us * 1e-6);
  if (o.cv >= 0) w.cv = o.cv;
  if (o.fraction > 0) w.bimodal_fraction = o.fraction;
  if (o.ratio > 0) w.bimodal_ratio = o.ratio;
  w.seed = o.seed;
  amz_sim_machine_t m;
  amz_sim_machine_defaults(&m, o.sc.nodes, o.sc.ranks_per_node);
  if (o.sc.threads_per_rank > 0) m.threads_per_rank = o.sc.threads_per_rank;
  if (o.sc.latency_s >= 0) m.latency_s = o.sc.latency_s;
  if (o.sc.bandwidth > 0) m.bandwidth = o.sc.bandwidth;
  if (o.sc.speed_spread >= 0) m.speed_spread = o.sc.speed_spread;
  if ((long long)m.nodes * m.ranks_per_node * m.threads_per_rank > ((1LL << 31) - 1)) {
    fprintf(stderr, "amorsize simulate: %d nodes x %d ranks x %d threads: expected fewer than "
                    "2^31 workers\n", m.nodes, m.ranks_per_node, m.threads_per_rank);
    return AMZ_CLI_USAGE;
  }
  amz_sim_costs_t *c;
  if (amz_sim_costs_create(&w, &c) != 0) {
    fprintf(stderr, "amorsize simulate: %s\n", amz_last_error());
    return AMZ_CLI_USAGE;
  }
  outcome_t *r = calloc(1, sizeof *r);
  if (!r) {
    amz_sim_costs_destroy(c);
    fprintf(stderr, "amorsize simulate: out of memory\n");
    return AMZ_CLI_FAIL;
  }
  rc = run_all("simulate", c, &m, &o, o.sweep, r);
  amz_sim_costs_destroy(c);
  if (rc != AMZ_CLI_OK) {
    free(r);
    return rc;
  }
  FILE *out = stdout;
  if (o.fmt != AMZ_CLI_TEXT) {
    records(out, o.fmt, r);
  } else {
    double cv = w.cv >= 0 ? w.cv : o.shape == AMZ_SIM_LOGNORMAL ? 1.0 : 0.0;
    fprintf(out, "Workload\n  %s: %s items, mean %s per item (%s of work in all)\n",
            amz_sim_shape_name(o.shape), COUNT(o.items), T(w.mean_s),
            T(w.mean_s * (double)o.items));
    fprintf(out, "  random variation cv %.3g%s", cv, w.cv < 0 ? " (the shape's default)" : "");
    if (o.shape == AMZ_SIM_BIMODAL)
      fprintf(out, "; %.3g%% of the items cost %.3gx the others", 100.0 * w.bimodal_fraction,
              w.bimodal_ratio);
    fprintf(out, "; seed %llu\n", (unsigned long long)w.seed);
    char mw[128];
    fprintf(out, "\nMachine\n  %s\n", machine_words(mw, sizeof mw, &m));
    machine_costs_text(out, &m);
    schedules_text(out, r);
    chosen_text(out, o.have_chunk ? "Simulated" : "Chosen by simulation", r);
    hotspots_text(out, r);
    if (o.sweep) sweep_text(out, r);
    fprintf(out, "\nsimulated in %s\n", T(r->wall_s));
  }
  free(r);
  return amz_cli_finish(out);
}

/* ---- predict ------------------------------------------------------------------------ */

static void source_line(FILE *o, const char *what, const char *value, amz_cli_source_t src,
                        const char *note) {
  fprintf(o, "  %-22s %-10s %s%s%s%s\n", what, value, amz_cli_source_name(src),
          note && *note ? " (" : "", note ? note : "", note && *note ? ")" : "");
}

static void derived_text(FILE *o, const char *path, const amz_profile_t *p,
                         const amz_cli_derived_t *d) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_sim_machine_t *m = &d->m;
  char v[64], note[160];
  fprintf(o, "Prediction for %s: \"%s\", recorded on %d node%s x %d rank%s x %d thread%s in %s\n",
          path, in->task, d->rec_nodes, d->rec_nodes == 1 ? "" : "s", d->rec_ranks,
          d->rec_ranks == 1 ? "" : "s", d->rec_threads, d->rec_threads == 1 ? "" : "s",
          T(d->rec_wall_s));

  fprintf(o, "\nWorkload, from the recorded run\n");
  fprintf(o, "  %s items%s, %s of work in all (%s per item on average)\n", COUNT(d->w.n_items),
          d->w.n_items == d->n_recorded ? " (as recorded)" : " (flag; the recorded costs stretched)",
          T(d->work_s), T(d->work_s / (double)d->w.n_items));
  fprintf(o, "  per-item costs of the %s recorded items: %s from %zu run chunk%s (duration / "
             "items), %s from the model's cost profile, %s at the sampled mean\n",
          COUNT(d->n_recorded), COUNT(d->items_chunks), d->chunks_used,
          d->chunks_used == 1 ? "" : "s", COUNT(d->items_bins), COUNT(d->items_mean));
  if (d->cv_src == AMZ_CLI_FLAG)
    fprintf(o, "  random variation cv %.3g per item (flag)\n", d->w.cv);
  else
    fprintf(o, "  random variation cv %.3g per item (measured: block cv %.3g x sqrt(%llu item%s "
               "per block), at most 3)\n",
            d->w.cv, d->model_cv, (unsigned long long)(d->block_items ? d->block_items : 1),
            d->block_items == 1 ? "" : "s");

  fprintf(o, "\nMachine\n");
  snprintf(v, sizeof v, "%d", m->nodes);
  source_line(o, "nodes", v, d->src_nodes, "");
  snprintf(v, sizeof v, "%d", m->ranks_per_node);
  source_line(o, "ranks per node", v, d->src_ranks,
              d->src_ranks == AMZ_CLI_FLAG ? ""
              : d->rec_ranks == 1          ? "the recorded node's cores"
                                           : "as recorded");
  snprintf(v, sizeof v, "%d", m->threads_per_rank);
  source_line(o, "threads per rank", v, d->src_threads,
              d->src_threads == AMZ_CLI_FLAG                ? ""
              : d->rec_ranks == 1 && d->src_ranks != AMZ_CLI_FLAG ? "one rank per core"
                                                            : "as recorded");
  source_line(o, "latency between nodes", T(m->latency_s), d->src_latency,
              d->src_latency == AMZ_CLI_DEFAULT && d->rec_nodes == 1 ? "the run had one node" : "");
  snprintf(v, sizeof v, "%.3g GB/s", m->bandwidth / 1e9);
  source_line(o, "bandwidth", v, d->src_bandwidth,
              d->src_bandwidth == AMZ_CLI_DEFAULT && d->rec_nodes == 1 ? "the run had one node"
                                                                       : "");
  source_line(o, "latency inside a node", T(m->latency_node_s), d->src_latency_node, "");
  note[0] = '\0';
  if (d->src_counter == AMZ_CLI_MEASURED && strcmp(d->counter_from, "node counter") == 0)
    snprintf(note, sizeof note, "node counter %s with %d rank%s per node on it, / %d",
             T(d->counter_raw_s), d->rec_ranks_per_node, d->rec_ranks_per_node == 1 ? "" : "s",
             d->rec_ranks_per_node);
  else if (d->src_counter == AMZ_CLI_MEASURED)
    snprintf(note, sizeof note, "%s", d->counter_from);
  source_line(o, "counter operation", T(m->counter_s), d->src_counter, note);
  source_line(o, "per chunk", T(m->chunk_s), d->src_chunk, "");
  source_line(o, "start-up", T(m->startup_s), d->src_startup,
              m->threads_per_rank > 1 ? "pool wake-up" : "one thread per rank");
  snprintf(v, sizeof v, "%.2f", m->speed_spread);
  source_line(o, "node speed spread", v, d->src_spread, "");
  source_line(o, "refill service", T(m->serve_s), AMZ_CLI_DEFAULT, "");
  source_line(o, "progress poll wait", T(m->poll_s), AMZ_CLI_DEFAULT, "");
}

int amz_cli_predict(int argc, char **argv) {
  opts_t o = {.cmd = "predict", .cv = -1};
  amz_cli_scale_opts_init(&o.sc);
  int rc = parse(argc, argv, &o, 1);
  if (rc >= 0) return rc;
  amz_profile_t *p;
  if (amz_profile_open(o.file, o.no_verify ? AMZ_PROFILE_NO_VERIFY : 0, &p) != 0) {
    fprintf(stderr, "amorsize: %s\n", amz_last_error());
    return AMZ_CLI_INPUT;
  }
  amz_cli_derived_t d;
  char why[200];
  amz_sim_costs_t *c = NULL;
  outcome_t *r = NULL;
  if (amz_cli_derive(p, &o.sc, &d, why, sizeof why) != 0) {
    fprintf(stderr, "amorsize predict: %s: %s\n", o.file, why);
    rc = AMZ_CLI_FAIL;
  } else if ((long long)d.m.nodes * d.m.ranks_per_node * d.m.threads_per_rank >
             ((1LL << 31) - 1)) {
    fprintf(stderr, "amorsize predict: %d nodes x %d ranks x %d threads: expected fewer than "
                    "2^31 workers\n", d.m.nodes, d.m.ranks_per_node, d.m.threads_per_rank);
    rc = AMZ_CLI_USAGE;
  } else if (amz_sim_costs_create(&d.w, &c) != 0) {
    fprintf(stderr, "amorsize predict: %s: %s\n", o.file, amz_last_error());
    rc = AMZ_CLI_FAIL;
  } else if (!(r = calloc(1, sizeof *r))) {
    fprintf(stderr, "amorsize predict: out of memory\n");
    rc = AMZ_CLI_FAIL;
  } else {
    rc = run_all("predict", c, &d.m, &o, !o.no_sweep, r);
  }
  if (rc == AMZ_CLI_OK) {
    FILE *out = stdout;
    if (o.fmt != AMZ_CLI_TEXT) {
      records(out, o.fmt, r);
    } else {
      derived_text(out, o.file, p, &d);
      char head[160], mw[128];
      snprintf(head, sizeof head, "Predicted at %s", machine_words(mw, sizeof mw, &d.m));
      chosen_text(out, head, r);
      schedules_text(out, r);
      hotspots_text(out, r);
      if (!o.no_sweep) sweep_text(out, r);
      fprintf(out, "\nsimulated in %s\n", T(r->wall_s));
    }
    rc = amz_cli_finish(out);
  }
  free(r);
  amz_sim_costs_destroy(c);
  amz_cli_derived_free(&d);
  amz_profile_close(p);
  return rc;
}
