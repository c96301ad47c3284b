/* `amorsize`: reads Amorsize HDF5 profiles (report, chunks, workers, compare, html),
 * predicts runs at other scales by simulation (simulate, predict) and shows what the
 * model sees of this machine (probe). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "cli.h"
#include "extension.h"

static const char *const usage_main =
    "usage: amorsize COMMAND [OPTIONS] [FILE...]\n"
    "\n"
    "Reads the HDF5 profiles Amorsize runs write (amz_options_set_profile, AMZ_PROFILE).\n"
    "\n"
    "commands:\n"
    "  report FILE              the run, the decision and why, predicted against measured\n"
    "                           per term, bottlenecks with advice, efficiency\n"
    "  chunks FILE              every recorded chunk (text, csv or json)\n"
    "  workers FILE             per rank and thread totals (text, csv or json)\n"
    "  findings FILE            the bottlenecks as data: kind, severity, share, value,\n"
    "                           thresholds, advice (text, csv or json)\n"
    "  compare FILE FILE...     runs side by side with speedup and efficiency\n"
    "  html FILE... -o OUT      one self-contained HTML page with SVG charts\n"
    "  predict FILE --nodes N   the recorded loop at another scale, simulated: time,\n"
    "                           efficiency, best plan, and the node count worth requesting\n"
    "  simulate --shape S ...   a synthetic loop on a modelled machine, per schedule\n"
    "  probe                    what this machine looks like to the model\n"
    "  help [COMMAND]           this text, or a command's\n"
    "\n"
    "options: --version; 'amorsize COMMAND --help' for a command's options.\n"
    "\n"
    "exit codes:\n"
    "  0   success\n"
    "  1   the command failed (cannot write its output, the probe failed, no recorded\n"
    "      work to predict from)\n"
    "  2   an input file is missing, unreadable, not a profile, damaged, truncated or of\n"
    "      a newer schema (one line on stderr says which and why)\n"
    "  64  bad command line (an unknown command or option, a bad option value)\n";

static const struct {
  const char *name, *help;
} command_help[] = {
    {"report", "usage: amorsize report [--no-verify] FILE\n"
               "\n"
               "Prints the run's summary, the planner's decision and the best candidate per\n"
               "rank (or thread) count, predicted against measured time per model term,\n"
               "the model's inputs, the nodes, the failures, and the bottlenecks with\n"
               "severity (LOW, MEDIUM, HIGH) and advice. Efficiency is the kernel time over\n"
               "the workers and the wall time (speedup / workers); the lower bound is the\n"
               "kernel time over the workers, or the longest item if larger.\n"
               "\n"
               "  --no-verify   read a profile whose checksum no longer matches (changed\n"
               "                after writing, e.g. an attribute added with h5py)\n"},
    {"chunks", "usage: amorsize chunks [--format text|csv|json] [--limit N] [--no-verify] FILE\n"
               "\n"
               "Every recorded chunk: rank, thread, node, items [begin, end), start and end\n"
               "in seconds since the run started (sampling blocks are negative: they ran\n"
               "before), duration, status (0 or the kernel's code) and whether it was a\n"
               "sampling block. --limit N prints the first N rows only.\n"},
    {"workers", "usage: amorsize workers [--format text|csv|json] [--no-verify] FILE\n"
                "\n"
                "Per rank and thread: items, chunks, failed ranges, and seconds busy in the\n"
                "kernel, dispatching between chunks, idle (start-up delay and the tail),\n"
                "and moving data (MPI map mode).\n"},
    {"findings", "usage: amorsize findings [--format text|csv|json] [--no-verify] FILE\n"
                 "       amorsize findings --rules [--format text|csv|json]\n"
                 "\n"
                 "The run's bottleneck analysis, one row per finding in the report's order:\n"
                 "kind (dispatch, imbalance, ...), severity (HIGH, MEDIUM, LOW, or INFO for\n"
                 "notes), the share of the wall time it cost, the measured value the rule\n"
                 "judged, the rule's thresholds (low, medium, high) and the advice. A field\n"
                 "a rule does not have is empty in CSV and null in JSON. The text format\n"
                 "prints the report's Bottlenecks lines. Programs read the same through\n"
                 "amz_profile_finding() (amorsize_profile.h).\n"
                 "\n"
                 "  --rules   no profile: every kind of finding with its thresholds (the\n"
                 "            library's table; amz_finding_thresholds())\n"},
    {"compare", "usage: amorsize compare [--format text|csv|json] [--no-verify] FILE FILE...\n"
                "\n"
                "One row per profile: task, items, ranks x threads, schedule, chunk, wall,\n"
                "predicted, prediction error, speedup against the first file's wall time,\n"
                "and efficiency (kernel time over workers and wall time). Use it for sweeps of\n"
                "task sizes or rank counts.\n"},
    {"html", "usage: amorsize html [--no-verify] [--nodes N] [--ranks-per-node R] FILE...\n"
             "                     -o OUT.html\n"
             "\n"
             "Writes one self-contained HTML page (inline SVG, no scripts) with, per run:\n"
             "a per-worker timeline of the chunks, the overhead breakdown, predicted\n"
             "against actual, the predicted time over the candidates' rank counts, and\n"
             "the prediction at scale (efficiency and speed-up over node counts up to\n"
             "--nodes, default 64, with --ranks-per-node ranks each, default as recorded;\n"
             "see 'amorsize predict'); and for several files a comparison chart. '-o -'\n"
             "writes to stdout.\n"},
    {"predict", amz_cli_help_predict},
    {"simulate", amz_cli_help_simulate},
    {"probe", "usage: amorsize probe [--format text|json] [--no-cache]\n"
              "\n"
              "Probes this machine as a plan would: the topology and binding the process\n"
              "really has (hwloc, cgroup limits) and the measured costs the model uses\n"
              "(thread start, pool wake-up, per-chunk dispatch). Costs come from the cache\n"
              "($AMZ_CACHE_DIR, else ~/.cache/amorsize) unless --no-cache.\n"},
};

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "amorsize: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(run 'amorsize --help' for the commands)\n");
  return AMZ_CLI_USAGE;
}

static const char *help_of(const char *cmd) {
  for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
    if (strcmp(command_help[i].name, cmd) == 0) return command_help[i].help;
  return NULL;
}

static int open_profile(const char *path, unsigned flags, amz_profile_t **p) {
  if (amz_profile_open(path, flags, p) != 0) {
    fprintf(stderr, "amorsize: %s\n", amz_last_error());
    return AMZ_CLI_INPUT;
  }
  return AMZ_CLI_OK;
}

/* ---- chunks and workers ---------------------------------------------------------- */

static int cmd_chunks(FILE *o, const amz_profile_t *p, amz_cli_fmt_t fmt, uint64_t limit) {
  const amz_profile_chunk_t *c;
  size_t n = amz_profile_chunks(p, &c);
  if (limit && limit < n) n = (size_t)limit;
  if (fmt == AMZ_CLI_TEXT)
    fprintf(o, "%5s %6s %4s %12s %12s %8s %12s %12s %12s %6s %7s\n", "rank", "thread", "node",
            "begin", "end", "items", "t_start_s", "t_end_s", "duration_s", "status", "sampled");
  for (size_t i = 0; i < n || (i == 0 && fmt != AMZ_CLI_TEXT); i++) {
    const amz_profile_chunk_t *x = i < n ? &c[i] : &(amz_profile_chunk_t){0};
    unsigned long long b = x->begin, e = x->end;
    double d = x->t_end - x->t_start;
    if (fmt == AMZ_CLI_TEXT) {
      fprintf(o, "%5d %6d %4d %12llu %12llu %8llu %12.6f %12.6f %12.6f %6d %7s\n", x->rank,
              x->thread, x->node, b, e, e - b, x->t_start, x->t_end, d, x->status,
              x->sampled ? "yes" : "no");
      continue;
    }
    const amz_cli_field_t f[] = {FI("rank", x->rank),       FI("thread", x->thread),
                         FI("node", x->node),       FU("begin", b),
                         FU("end", e),              FU("items", e - b),
                         FD("t_start", x->t_start), FD("t_end", x->t_end),
                         FD("duration", d),         FI("status", x->status),
                         FB("sampled", x->sampled)};
    size_t nf = sizeof f / sizeof f[0];
    if (i == 0) amz_cli_records_begin(o, fmt, f, nf);
    if (i < n) amz_cli_records_row(o, fmt, f, nf, i);
  }
  if (fmt != AMZ_CLI_TEXT) amz_cli_records_end(o, fmt);
  return amz_cli_finish(o);
}

static int cmd_workers(FILE *o, const amz_profile_t *p, amz_cli_fmt_t fmt) {
  const amz_profile_worker_t *w;
  size_t n = amz_profile_workers(p, &w);
  if (fmt == AMZ_CLI_TEXT)
    fprintf(o, "%5s %6s %4s %12s %8s %12s %12s %12s %12s %8s %12s\n", "rank", "thread", "node",
            "items", "chunks", "busy_s", "dispatch_s", "idle_s", "data_s", "failures", "taken");
  amz_profile_worker_t sum = {0};
  for (size_t i = 0; i < n || (i == 0 && fmt != AMZ_CLI_TEXT); i++) {
    const amz_profile_worker_t *x = i < n ? &w[i] : &(amz_profile_worker_t){0};
    if (i < n) {
      sum.items += x->items;
      sum.chunks += x->chunks;
      sum.failures += x->failures;
      sum.busy_s += x->busy_s;
      sum.dispatch_s += x->dispatch_s;
      sum.idle_s += x->idle_s;
      sum.data_s += x->data_s;
      sum.taken += x->taken;
    }
    if (fmt == AMZ_CLI_TEXT) {
      fprintf(o, "%5d %6d %4d %12llu %8llu %12.6f %12.6f %12.6f %12.6f %8llu %12llu\n", x->rank,
              x->thread, x->node, (unsigned long long)x->items, (unsigned long long)x->chunks,
              x->busy_s, x->dispatch_s, x->idle_s, x->data_s, (unsigned long long)x->failures,
              (unsigned long long)x->taken);
      continue;
    }
    const amz_cli_field_t f[] = {FI("rank", x->rank),           FI("thread", x->thread),
                         FI("node", x->node),           FU("items", x->items),
                         FU("chunks", x->chunks),       FD("busy_s", x->busy_s),
                         FD("dispatch_s", x->dispatch_s), FD("idle_s", x->idle_s),
                         FD("data_s", x->data_s),       FU("failures", x->failures),
                         FU("taken", x->taken)};
    size_t nf = sizeof f / sizeof f[0];
    if (i == 0) amz_cli_records_begin(o, fmt, f, nf);
    if (i < n) amz_cli_records_row(o, fmt, f, nf, i);
  }
  if (fmt == AMZ_CLI_TEXT)
    fprintf(o, "%-17s %12llu %8llu %12.6f %12.6f %12.6f %12.6f %8llu %12llu\n", "total",
            (unsigned long long)sum.items, (unsigned long long)sum.chunks, sum.busy_s,
            sum.dispatch_s, sum.idle_s, sum.data_s, (unsigned long long)sum.failures,
            (unsigned long long)sum.taken);
  else
    amz_cli_records_end(o, fmt);
  return amz_cli_finish(o);
}

/* ---- findings -------------------------------------------------------------------- */

static int cmd_findings(FILE *o, const amz_profile_t *p, amz_cli_fmt_t fmt) {
  if (fmt == AMZ_CLI_TEXT) {
    int rc = amz_cli_findings_text(o, p, "");
    return rc == AMZ_CLI_OK ? amz_cli_finish(o) : rc;
  }
  size_t n = amz_profile_finding_count(p);
  for (size_t i = 0; i < n || i == 0; i++) {
    amz_finding_t f = {.share = NAN, .value = NAN, .thresholds = {NAN, NAN, NAN}, .text = ""};
    if (i < n && amz_profile_finding(p, i, &f) != 0) {
      fprintf(stderr, "amorsize: %s\n", amz_last_error());
      return AMZ_CLI_FAIL;
    }
    const amz_cli_field_t r[] = {
        FS("kind", amz_finding_kind_name(f.kind)), FS("severity", amz_severity_name(f.severity)),
        FO("share", f.share),        FO("value", f.value),
        FO("low", f.thresholds[0]),  FO("medium", f.thresholds[1]),
        FO("high", f.thresholds[2]), FS("text", f.text)};
    size_t nr = sizeof r / sizeof r[0];
    if (i == 0) amz_cli_records_begin(o, fmt, r, nr);
    if (i < n) amz_cli_records_row(o, fmt, r, nr, i);
  }
  amz_cli_records_end(o, fmt);
  return amz_cli_finish(o);
}

/* Every kind of finding and its thresholds: the library's table. */
static int cmd_rules(FILE *o, amz_cli_fmt_t fmt) {
  if (fmt == AMZ_CLI_TEXT) fprintf(o, "%-18s %8s %8s %8s\n", "kind", "low", "medium", "high");
  for (int k = 0; k < AMZ_FINDING_KIND_COUNT; k++) {
    double th[3];
    if (amz_finding_thresholds((amz_finding_kind_t)k, th) != 0) {
      fprintf(stderr, "amorsize: %s\n", amz_last_error());
      return AMZ_CLI_FAIL;
    }
    const char *name = amz_finding_kind_name((amz_finding_kind_t)k);
    if (fmt == AMZ_CLI_TEXT) {
      fprintf(o, "%-18s", name);
      for (int t = 0; t < 3; t++)
        isnan(th[t]) ? fprintf(o, " %8s", "-") : fprintf(o, " %8g", th[t]);
      fputc('\n', o);
      continue;
    }
    const amz_cli_field_t r[] = {FS("kind", name), FO("low", th[0]), FO("medium", th[1]),
                                 FO("high", th[2])};
    if (k == 0) amz_cli_records_begin(o, fmt, r, 4);
    amz_cli_records_row(o, fmt, r, 4, (size_t)k);
  }
  if (fmt != AMZ_CLI_TEXT) amz_cli_records_end(o, fmt);
  return amz_cli_finish(o);
}

/* ---- compare --------------------------------------------------------------------- */

static int cmd_compare(FILE *o, amz_profile_t **ps, char **paths, int n, amz_cli_fmt_t fmt) {
  double base = amz_profile_info(ps[0])->wall_s;
  if (fmt == AMZ_CLI_TEXT)
    fprintf(o, "%-24s %-18s %10s %11s %-9s %7s %10s %10s %7s %8s %6s\n", "file", "task", "items",
            "ranks x thr", "schedule", "chunk", "wall", "predicted", "error", "speedup", "eff");
  for (int i = 0; i < n; i++) {
    const amz_profile_info_t *in = amz_profile_info(ps[i]);
    amz_cli_stats_t st;
    amz_cli_stats(ps[i], &st);
    double speedup = in->wall_s > 0 ? base / in->wall_s : 0;
    if (fmt == AMZ_CLI_TEXT) {
      char rt[32], tb[2][32];
      snprintf(rt, sizeof rt, "%d x %d", in->ranks_used, in->threads);
      fprintf(o, "%-24.24s %-18.18s %10llu %11s %-9s %7llu %10s %10s %+6.1f%% %7.2fx %6.2f\n",
              paths[i], in->task, (unsigned long long)in->n_items, rt, in->schedule,
              (unsigned long long)in->chunk, amz_cli_seconds(tb[0], sizeof tb[0], in->wall_s),
              amz_cli_seconds(tb[1], sizeof tb[1], in->predicted_s), 100.0 * st.pred_error,
              speedup, st.efficiency);
      continue;
    }
    const amz_cli_field_t f[] = {FS("file", paths[i]),          FS("task", in->task),
                         FU("n_items", in->n_items),    FI("ranks", in->ranks_used),
                         FI("threads", in->threads),    FS("schedule", in->schedule),
                         FU("chunk", in->chunk),        FD("wall_s", in->wall_s),
                         FD("predicted_s", in->predicted_s), FD("error", st.pred_error),
                         FD("speedup", speedup),        FD("efficiency", st.efficiency)};
    size_t nf = sizeof f / sizeof f[0];
    if (i == 0) amz_cli_records_begin(o, fmt, f, nf);
    amz_cli_records_row(o, fmt, f, nf, (size_t)i);
  }
  if (fmt == AMZ_CLI_TEXT)
    fprintf(o, "(speedup: the first file's wall time over each run's; eff: each run's kernel "
               "time over its workers and wall time)\n");
  else
    amz_cli_records_end(o, fmt);
  return amz_cli_finish(o);
}

/* ---- probe ----------------------------------------------------------------------- */

static int cmd_probe(FILE *o, amz_cli_fmt_t fmt, int no_cache) {
#define TS(x) amz_cli_seconds((char[32]){0}, 32, (x))
  amz__topology_t t;
  amz__costs_t c;
  char dir[512] = "";
  if (!no_cache) amz__default_cache_dir(dir, sizeof dir);
  if (amz__topology_probe_in(&t, dir) != 0) {
    fprintf(stderr, "amorsize probe: %s\n", amz_last_error());
    return AMZ_CLI_FAIL;
  }
  if (amz__costs_probe(&t, dir, &c) != 0) {
    fprintf(stderr, "amorsize probe: %s\n", amz_last_error());
    return AMZ_CLI_FAIL;
  }
  if (fmt == AMZ_CLI_JSON) {
    fputs("{\"host\": ", o);
    amz_cli_json_str(o, t.host);
    fputs(", \"cpu_model\": ", o);
    amz_cli_json_str(o, t.cpu_model);
    fprintf(o, ", \"pus\": %d, \"cores\": %d, \"numa_nodes\": %d, \"pus_bound\": %d, "
               "\"cores_bound\": %d, \"cpu_quota\": ",
            t.pus_total, t.cores_total, t.numa_nodes, t.pus_bound, t.cores_bound);
    amz_cli_num(o, t.cpu_quota);
    fprintf(o, ", \"usable_cores\": %d, \"binding\": ", t.usable_cores);
    amz_cli_json_str(o, t.binding);
    fprintf(o, ", \"mem_bytes\": %llu, \"mem_limit_bytes\": %llu, \"l3_bytes\": %llu",
            (unsigned long long)t.mem_total, (unsigned long long)t.mem_limit,
            (unsigned long long)t.l3_bytes);
    const char *names[] = {"thread_start_s", "pool_wake_s", "chunk_static_s", "chunk_atomic_s",
                           "chunk_contended_s", "chunk_awf_s", "run_serial_s"};
    double v[] = {c.thread_start_s, c.pool_wake_s, c.chunk_static_s, c.chunk_atomic_s,
                  c.chunk_contended_s, c.chunk_awf_s, c.run_serial_s};
    for (int i = 0; i < 7; i++) {
      fprintf(o, ", \"%s\": ", names[i]);
      amz_cli_num(o, v[i]);
    }
    fprintf(o, ", \"probe_workers\": %d, \"from_cache\": %s, \"cache\": ", c.probe_workers,
            c.from_cache ? "true" : "false");
    amz_cli_json_str(o, c.cache_path);
    fputs("}\n", o);
    return amz_cli_finish(o);
  }
  char mem[32], lim[32], l3[32];
  fprintf(o, "Machine as the model sees it\n");
  fprintf(o, "  host                 %s\n  cpu                  %s\n", t.host, t.cpu_model);
  fprintf(o, "  machine              %d cores, %d PUs, %d NUMA node%s, %s RAM, L3 %s\n",
          t.cores_total, t.pus_total, t.numa_nodes, t.numa_nodes == 1 ? "" : "s",
          amz__fmt_bytes(mem, sizeof mem, t.mem_total),
          t.l3_bytes ? amz__fmt_bytes(l3, sizeof l3, t.l3_bytes) : "unknown");
  fprintf(o, "  this process         bound to CPUs %s (%d cores, %d PUs)", t.binding,
          t.cores_bound, t.pus_bound);
  if (t.cpu_quota > 0) fprintf(o, ", cgroup quota %.2f cores", t.cpu_quota);
  if (t.mem_limit) fprintf(o, ", memory limit %s", amz__fmt_bytes(lim, sizeof lim, t.mem_limit));
  fprintf(o, "\n  usable for compute   %d core%s\n", t.usable_cores, t.usable_cores == 1 ? "" : "s");
  fprintf(o, "\nMeasured costs (%s)\n",
          c.from_cache ? "from the cache" : dir[0] ? "measured now, cached" : "measured now");
  fprintf(o, "  thread start         %s (create + join one thread)\n", TS(c.thread_start_s));
  fprintf(o, "  pool wake            %s (fork-join of %d workers, empty job)\n",
          TS(c.pool_wake_s), c.probe_workers);
  fprintf(o, "  chunk, preassigned   %s (static, cyclic: clock reads and record)\n",
          TS(c.chunk_static_s));
  fprintf(o, "  chunk, shared counter %s alone, %s contended by %d workers\n",
          TS(c.chunk_atomic_s), TS(c.chunk_contended_s), c.probe_workers);
  fprintf(o, "  chunk, AWF           %s\n", TS(c.chunk_awf_s));
  fprintf(o, "  run setup            %s (fixed part of each run)\n", TS(c.run_serial_s));
  if (c.cache_path[0]) fprintf(o, "  cache file           %s\n", c.cache_path);
  fprintf(o, "\nMPI runs add the network (latency, bandwidth, node counter), measured by\n"
             "amz_mpi_plan_create on the ranks it is given and shown in their profiles.\n");
  return amz_cli_finish(o);
#undef TS
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
  /* A file crafted to pass the checksum can leave HDF5's metadata cache in a state
   * that its exit handler reports over many lines; the tool has said what was wrong
   * in one line already, and the process is ending: skip that handler. */
  H5dont_atexit();
  if (argc < 2) {
    fputs(usage_main, stderr);
    return AMZ_CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage_main, stdout);
    return amz_cli_finish(stdout);
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("amorsize %s (profile schema %d)\n", amz_version_string(), AMZ_PROFILE_SCHEMA_VERSION);
    return amz_cli_finish(stdout);
  }
  if (strcmp(cmd, "help") == 0) {
    const char *h = argc > 2 ? help_of(argv[2]) : usage_main;
    if (!h) return usage_error("unknown command '%s'", argv[2]);
    fputs(h, stdout);
    return amz_cli_finish(stdout);
  }
  const char *help = help_of(cmd);
  if (!help) return usage_error("unknown command '%s'", cmd);
  if (strcmp(cmd, "simulate") == 0) return amz_cli_simulate(argc, argv);
  if (strcmp(cmd, "predict") == 0) return amz_cli_predict(argc, argv);

  amz_cli_fmt_t fmt = AMZ_CLI_TEXT;
  unsigned flags = 0;
  uint64_t limit = 0;
  int no_cache = 0, nodes = 0, ranks_per_node = 0, rules = 0;
  const char *out_path = NULL;
  char **files = calloc((size_t)argc, sizeof *files);
  int nfiles = 0;
  if (!files) return AMZ_CLI_FAIL;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      free(files);
      fputs(help, stdout);
      return amz_cli_finish(stdout);
    } else if (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0) {
      const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
      if (strcmp(cmd, "html") == 0 || strcmp(cmd, "report") == 0 ||
          (strcmp(cmd, "probe") == 0 && strcmp(v, "csv") == 0)) {
        free(files);
        return usage_error("--format does not apply here (got '%s'); see --help", v);
      }
      if (strcmp(v, "text") == 0) fmt = AMZ_CLI_TEXT;
      else if (strcmp(v, "csv") == 0) fmt = AMZ_CLI_CSV;
      else if (strcmp(v, "json") == 0) fmt = AMZ_CLI_JSON;
      else {
        free(files);
        return usage_error("--format must be text, csv or json, got '%s'", v);
      }
    } else if (strcmp(a, "--limit") == 0 && strcmp(cmd, "chunks") == 0) {
      if (i + 1 >= argc || amz__parse_u64(argv[i + 1], &limit) != 0 || limit == 0) {
        free(files);
        return usage_error("--limit needs a positive number of rows, got '%s'",
                           i + 1 < argc ? argv[i + 1] : "");
      }
      i++;
    } else if (strcmp(a, "--no-verify") == 0 && strcmp(cmd, "probe") != 0) {
      flags |= AMZ_PROFILE_NO_VERIFY;
    } else if (strcmp(a, "--no-cache") == 0 && strcmp(cmd, "probe") == 0) {
      no_cache = 1;
    } else if (strcmp(a, "--rules") == 0 && strcmp(cmd, "findings") == 0) {
      rules = 1;
    } else if ((strcmp(a, "--nodes") == 0 || strcmp(a, "--ranks-per-node") == 0) &&
               strcmp(cmd, "html") == 0) {
      uint64_t v = 0;
      if (i + 1 >= argc || amz__parse_u64(argv[i + 1], &v) != 0 || v == 0 ||
          v > (a[2] == 'n' ? (1u << 24) : (1u << 20))) {
        free(files);
        fprintf(stderr, "amorsize html: %s '%s': expected a whole number from 1 to %u\n"
                        "(run 'amorsize html --help' for the options)\n",
                a, i + 1 < argc ? argv[i + 1] : "", a[2] == 'n' ? (1u << 24) : (1u << 20));
        return AMZ_CLI_USAGE;
      }
      *(a[2] == 'n' ? &nodes : &ranks_per_node) = (int)v;
      i++;
    } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && strcmp(cmd, "html") == 0) {
      if (i + 1 >= argc) {
        free(files);
        return usage_error("%s needs a file name", a);
      }
      out_path = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      free(files);
      fprintf(stderr, "amorsize %s: unknown option '%s'\n", cmd, a);
      fputs(help, stderr);
      return AMZ_CLI_USAGE;
    } else {
      files[nfiles++] = argv[i];
    }
  }
  int want_min = strcmp(cmd, "probe") == 0 || rules ? 0 : strcmp(cmd, "compare") == 0 ? 2 : 1;
  int want_max = strcmp(cmd, "probe") == 0 || rules ? 0
                 : strcmp(cmd, "compare") == 0 || strcmp(cmd, "html") == 0 ? argc
                                                                            : 1;
  if (nfiles < want_min || nfiles > want_max) {
    free(files);
    fprintf(stderr, "amorsize %s: %s\n", cmd,
            nfiles < want_min ? (want_min == 2 ? "needs at least two profiles" : "needs a profile file")
                              : "takes no more files here");
    fputs(help, stderr);
    return AMZ_CLI_USAGE;
  }
  if (strcmp(cmd, "html") == 0 && !out_path) {
    free(files);
    return usage_error("html needs -o OUT.html (or -o - for stdout)%s", "");
  }
  if (strcmp(cmd, "probe") == 0) {
    free(files);
    return cmd_probe(stdout, fmt, no_cache);
  }
  if (rules) {
    free(files);
    return cmd_rules(stdout, fmt);
  }

  amz_profile_t **ps = calloc((size_t)nfiles, sizeof *ps);
  int rc = ps ? AMZ_CLI_OK : AMZ_CLI_FAIL;
  for (int i = 0; i < nfiles && rc == AMZ_CLI_OK; i++) rc = open_profile(files[i], flags, &ps[i]);
  if (rc == AMZ_CLI_OK) {
    if (strcmp(cmd, "report") == 0) {
      rc = amz_cli_report(stdout, ps[0], files[0]);
      if (rc == AMZ_CLI_OK) rc = amz_cli_finish(stdout);
    } else if (strcmp(cmd, "chunks") == 0) {
      rc = cmd_chunks(stdout, ps[0], fmt, limit);
    } else if (strcmp(cmd, "workers") == 0) {
      rc = cmd_workers(stdout, ps[0], fmt);
    } else if (strcmp(cmd, "findings") == 0) {
      rc = cmd_findings(stdout, ps[0], fmt);
    } else if (strcmp(cmd, "compare") == 0) {
      rc = cmd_compare(stdout, ps, files, nfiles, fmt);
    } else { /* html */
      FILE *o = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "w");
      if (!o) {
        fprintf(stderr, "amorsize html: cannot write '%s': %s\n", out_path, strerror(errno));
        rc = AMZ_CLI_FAIL;
      } else {
        rc = amz_cli_html_scale(o, (const amz_profile_t *const *)ps,
                                (const char *const *)files, (size_t)nfiles, nodes, ranks_per_node);
        if (rc == AMZ_CLI_OK) rc = amz_cli_finish(o);
        if (o != stdout && fclose(o) != 0 && rc == AMZ_CLI_OK) {
          fprintf(stderr, "amorsize html: cannot write '%s': %s\n", out_path, strerror(errno));
          rc = AMZ_CLI_FAIL;
        }
      }
    }
  }
  for (int i = 0; ps && i < nfiles; i++) amz_profile_close(ps[i]);
  free(ps);
  free(files);
  return rc;
}
