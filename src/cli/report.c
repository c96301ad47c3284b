/* `amorsize report`: what ran, the decision and why, predicted against measured per
 * term, bottlenecks with severity and advice, efficiency and the lower bound.
 * Everything comes from the profile: the report of a job can be read anywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "internal.h"

#define T(x) amz_cli_seconds((char[32]){0}, 32, (x))

/* The binding finding: the share of a node's CPUs that no rank may use, for LOW,
 * MEDIUM and HIGH (src/python/amorsize/findings.py holds the same). */
static const double BINDING_IDLE_LOW = 0.1, BINDING_IDLE_MED = 0.25, BINDING_IDLE_HIGH = 0.5;

static const amz_profile_term_t *term(const amz_profile_t *p, const char *name) {
  const amz_profile_term_t *t;
  size_t n = amz_profile_terms(p, &t);
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0) return &t[i];
  return NULL;
}

static double measured(const amz_profile_t *p, const char *name) {
  const amz_profile_term_t *t = term(p, name);
  return t ? t->measured_s : 0.0;
}

/* Per rank: when its last run chunk ended. Ranks that end early waited for the last. */
static void rank_ends(const amz_profile_t *p, double *mean, double *last, int *n_ranks) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_chunk_t *c;
  size_t nc = amz_profile_chunks(p, &c);
  *mean = *last = 0;
  *n_ranks = 0;
  if (in->ranks_used < 2) return;
  double *end = calloc((size_t)in->ranks_launched, sizeof *end);
  if (!end) return;
  for (size_t i = 0; i < nc; i++)
    if (!c[i].sampled && c[i].t_end > end[c[i].rank]) end[c[i].rank] = c[i].t_end;
  for (int r = 0; r < in->ranks_launched; r++) {
    if (end[r] <= 0) continue;
    *mean += end[r];
    if (end[r] > *last) *last = end[r];
    (*n_ranks)++;
  }
  if (*n_ranks) *mean /= *n_ranks;
  free(end);
}

static void decision(FILE *o, const amz_profile_t *p) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_candidate_t *c;
  size_t n = amz_profile_candidates(p, &c);
  fprintf(o, "\nDecision\n  %s\n", in->plan_why[0] ? in->plan_why : "(no reason recorded)");
  if (n == 0) {
    fprintf(o, "  no candidates recorded (the options fixed the plan)\n");
    return;
  }
  /* Best candidate per rank count, then per thread count on one rank: the curve
   * the choice was made on. */
  int multi = 0;
  for (size_t i = 1; i < n; i++)
    if (c[i].ranks != c[0].ranks) multi = 1;
  fprintf(o, "  %zu candidates considered; the best per %s count:\n", n,
          multi ? "rank" : "thread");
  fprintf(o, "    %5s %7s %-9s %8s %12s %9s\n", "ranks", "threads", "schedule", "chunk",
          "predicted", "vs chosen");
  double chosen_s = 0;
  for (size_t i = 0; i < n; i++)
    if (c[i].chosen) chosen_s = c[i].predicted_s;
  /* Candidates come fastest first: the first of each count is its best. The chosen
   * one is shown even when a faster one of its count lost on the tie rules. */
  int seen[64], n_seen = 0;
  for (size_t i = 0; i < n; i++) {
    int key = multi ? c[i].ranks : c[i].threads, dup = 0;
    for (int k = 0; k < n_seen; k++) dup |= seen[k] == key;
    if (dup && !c[i].chosen) continue;
    if (!dup && n_seen < 64) seen[n_seen++] = key;
    else if (!dup) continue;
    fprintf(o, "  %s %5d %7d %-9s %8llu %12s %+8.1f%%\n", c[i].chosen ? "*" : " ", c[i].ranks,
            c[i].threads, c[i].schedule, (unsigned long long)c[i].chunk, T(c[i].predicted_s),
            chosen_s > 0 ? 100.0 * (c[i].predicted_s - chosen_s) / chosen_s : 0.0);
  }
  fprintf(o, "  (* = chosen; 'amorsize html' draws the whole curve)\n");
}

static int bottlenecks(FILE *o, const amz_profile_t *p, const char *path,
                       const amz_cli_stats_t *st) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_model_t *m = amz_profile_model(p);
  double wall = in->wall_s > 0 ? in->wall_s : 1e-12;
  int found = 0;
  const char *sev;
  int fixed_sched = strcmp(in->schedule, "static") == 0 || strcmp(in->schedule, "cyclic") == 0;
  fprintf(o, "\nBottlenecks\n");
  if (in->items_failed > 0) {
    fprintf(o, "  [HIGH] failures: %llu items failed in %zu range(s); 'amorsize chunks %s' lists "
               "the chunks with their status codes.\n",
            (unsigned long long)in->items_failed, amz_profile_failures(p, NULL), path);
    found++;
  }
  double mean_end, last_end;
  int nr;
  rank_ends(p, &mean_end, &last_end, &nr);
  if (nr > 1 && last_end > 0 && (sev = amz__severity((last_end - mean_end) / last_end, 0.05, 0.10, 0.25))) {
    fprintf(o, "  [%s] ranks: they end %.0f%% before the last one on average; %s\n", sev,
            100.0 * (last_end - mean_end) / last_end,
            fixed_sched ? "their blocks cost unequal amounts: a dynamic schedule balances "
                          "them (AMZ_SCHEDULE=factoring)."
                        : "a node or rank is slower than the others, or its last chunks were "
                          "large: a smaller minimum chunk evens the finish.");
    found++;
  }
  double su = measured(p, "startup"), di = measured(p, "dispatch"),
         im = measured(p, "imbalance"), da = measured(p, "data"), se = measured(p, "serial");
  if ((sev = amz__severity(su / wall, 0.05, 0.10, 0.25))) {
    fprintf(o, "  [%s] start-up: %.0f%% of the run (%s) before the workers started; the loop "
               "is short for %d workers: give each call more items, or reuse the plan so "
               "its threads stay warm.\n",
            sev, 100.0 * su / wall, T(su), st->workers);
    found++;
  }
  if ((sev = amz__severity(di / wall, 0.02, 0.05, 0.15))) {
    double per = st->run_chunks ? st->dispatch_s / (double)st->run_chunks : 0;
    fprintf(o, "  [%s] dispatch: %.0f%% of the run between chunks (%s per chunk, %zu chunks); "
               "use larger chunks, e.g. AMZ_CHUNK=%llu.\n",
            sev, 100.0 * di / wall, T(per), st->run_chunks,
            (unsigned long long)(in->chunk ? in->chunk * 4 : 4));
    found++;
  }
  if ((sev = amz__severity(im / wall, 0.05, 0.10, 0.25))) {
    fprintf(o, "  [%s] imbalance: workers idle %.0f%% of the run at the end; %s\n", sev,
            100.0 * im / wall,
            fixed_sched ? "costs are uneven: a dynamic schedule (factoring, guided) balances "
                          "them."
                        : "the last chunks are too large: a smaller (minimum) chunk evens the "
                          "finish.");
    found++;
  }
  if ((sev = amz__severity(da / wall, 0.05, 0.15, 0.35))) {
    fprintf(o, "  [%s] data movement: %.0f%% of the run moving items' data (%s); fewer, "
               "larger chunks move data in fewer messages, and kernels that read their "
               "inputs where they live (range mode) move none.\n",
            sev, 100.0 * da / wall, T(da));
    found++;
  }
  if ((sev = amz__severity(se / wall, 0.05, 0.15, 0.35))) {
    fprintf(o, "  [%s] serial part: %.0f%% of the run (%s) outside the parallel region "
               "(setup, collectives, result assembly); longer loops amortize it.\n",
            sev, 100.0 * se / wall, T(se));
    found++;
  }
  if ((sev = amz__severity(m->contention - 1.0, 0.15, 0.3, 0.6))) {
    fprintf(o, "  [%s] memory: items take x%.2f longer with all cores busy than alone; a "
               "shared resource (memory bandwidth, cache) limits scaling: fewer threads may "
               "run as fast, and better locality helps most.\n",
            sev, m->contention);
    found++;
  }
  const amz_profile_node_t *nd;
  size_t nn = amz_profile_nodes(p, &nd);
  for (size_t i = 0; i < nn; i++) {
    int workers = nd[i].ranks_used * in->threads;
    if (nd[i].cores > 0 && workers > nd[i].cores) {
      fprintf(o, "  [HIGH] oversubscription: node %d (%s) runs %d workers on %d cores: they "
                 "take turns; launch fewer ranks or threads per node.\n",
              nd[i].node, nd[i].host, workers, nd[i].cores);
      found++;
      break;
    }
    if (nd[i].shared && nd[i].ranks_used > 1) {
      fprintf(o, "  [LOW] binding: the CPU sets of node %d's ranks overlap, so the OS may put "
                 "two of them on one core; bind each rank to its own cores (mpirun "
                 "--bind-to core, srun --cpu-bind=cores).\n",
              nd[i].node);
      found++;
      break;
    }
  }
  /* CPUs of a node that the launcher's binding gave to no rank (or, threads only, that
   * the process may not use): idle whatever the plan. The first such node is named. */
  for (size_t i = 0; i < nn; i++) {
    int idle = nd[i].pus - nd[i].pus_bound;
    if (nd[i].pus_bound <= 0 || idle <= 0) continue;
    if ((sev = amz__severity((double)idle / nd[i].pus, BINDING_IDLE_LOW, BINDING_IDLE_MED,
                             BINDING_IDLE_HIGH))) {
      if (strcmp(in->kind, "mpi") == 0)
        fprintf(o, "  [%s] binding: node %d (%s): the ranks' bindings cover %d of its %d "
                   "CPUs; %d idle whatever the plan. " AMZ__BINDING_FIX "\n",
                sev, nd[i].node, nd[i].host, nd[i].pus_bound, nd[i].pus, idle);
      else
        fprintf(o, "  [%s] binding: the process is bound to %d of the machine's %d CPUs; "
                   "%d idle whatever the plan. Start it without the binding (taskset, "
                   "numactl, a launcher's) or bind it to more CPUs.\n",
                sev, nd[i].pus_bound, nd[i].pus, idle);
      found++;
    }
    break;
  }
  uint64_t run_items = 0;
  const amz_profile_worker_t *w;
  size_t nw = amz_profile_workers(p, &w);
  for (size_t i = 0; i < nw; i++) run_items += w[i].items;
  if (run_items > 0 && in->mean_item_s > 0 && st->busy_s > 0) {
    double per_item = st->busy_s / (double)run_items;
    double expect = in->mean_item_s * (m->contention > 1 ? m->contention : 1);
    if ((sev = amz__severity(per_item / expect - 1.0, 0.25, 0.5, 1.0))) {
      fprintf(o, "  [%s] contention: items ran x%.2f slower than sampled (%s against %s "
                 "per item): other processes, frequency scaling or oversubscribed cores; "
                 "check the binding and the machine's load.\n",
              sev, per_item / expect, T(per_item), T(expect));
      found++;
    }
  }
  if (in->predicted_serial_s > 0 && in->predicted_serial_s < 1e-3) {
    fprintf(o, "  [%s] too little work: the whole loop is %s of work; fixed costs dominate: "
               "batch several loops into one call.\n",
            in->predicted_serial_s < 1e-4 ? "HIGH" : "MEDIUM", T(in->predicted_serial_s));
    found++;
  }
  if (in->predicted_s > 0 && (sev = amz__severity(fabs(st->pred_error), 0.15, 0.30, 1.0))) {
    /* Which term missed most tells where the model's input was off. */
    const amz_profile_term_t *t;
    size_t n = amz_profile_terms(p, &t);
    const char *worst = NULL;
    double gap = 0;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(t[i].name, "total") == 0) continue;
      double g = fabs(t[i].measured_s - t[i].predicted_s);
      if (g > gap) {
        gap = g;
        worst = t[i].name;
      }
    }
    fprintf(o, "  [%s] prediction: the run took %+.0f%% against the prediction; the %s term "
               "missed most (%s). A second run of the same plan re-plans with the measured "
               "costs.\n",
            sev, 100.0 * st->pred_error, worst ? worst : "total", T(gap));
    found++;
  }
  if (in->chunks_dropped > 0)
    fprintf(o, "  [INFO] %llu chunks ran beyond the record bound and are not in the chunk "
               "table (the totals include them).\n",
            (unsigned long long)in->chunks_dropped);
  if (m->cpu_ratio > 0 && m->cpu_ratio < AMZ__WAITING_CPU_RATIO)
    fprintf(o, "  [INFO] the kernel waits (CPU/wall %.2f): more threads than cores can pay.\n",
            m->cpu_ratio);
  if (m->cpu_ratio > 1.0 + AMZ__OWN_THREADS_MIN_CORES)
    fprintf(o, "  [INFO] the kernel runs threads of its own (CPU/wall %.2f: cores per call), "
               "and the plan counted each worker as that many cores; its thread count "
               "(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) and the workers share the cores.\n",
            m->cpu_ratio);
  if (!found) fprintf(o, "  none: no overhead above its threshold.\n");
  return found;
}

int amz_cli_report(FILE *o, const amz_profile_t *p, const char *path) {
  const amz_profile_info_t *in = amz_profile_info(p);
  amz_cli_stats_t st;
  amz_cli_stats(p, &st);
  fprintf(o, "Amorsize profile %s (schema %d, amorsize %s, written %s)\n", path,
          in->schema_version, in->library_version, in->created);
  fprintf(o, "  task \"%s\": %llu items, run %d of its plan, %s mode\n", in->task,
          (unsigned long long)in->n_items, in->run_index, in->mode);
  if (strcmp(in->kind, "mpi") == 0)
    fprintf(o, "  ran %d rank%s x %d thread%s on %d node%s (%d launched), %s, chunk %llu\n",
            in->ranks_used, in->ranks_used == 1 ? "" : "s", in->threads,
            in->threads == 1 ? "" : "s", in->nodes, in->nodes == 1 ? "" : "s",
            in->ranks_launched, in->schedule, (unsigned long long)in->chunk);
  else
    fprintf(o, "  ran %d thread%s, %s, chunk %llu\n", in->threads, in->threads == 1 ? "" : "s",
            in->schedule, (unsigned long long)in->chunk);
  fprintf(o, "  host %s", in->host[0] ? in->host : "?");
  if (in->slurm_job_id[0]) fprintf(o, ", Slurm job %s", in->slurm_job_id);
  if (in->mpi_library[0]) fprintf(o, "\n  MPI: %s", in->mpi_library);
  fprintf(o, "\n  command: %s\n", in->command_line[0] ? in->command_line : "?");
  if (in->slurm[0]) {
    /* The allocation, one variable per line as the job saw it. */
    fprintf(o, "  Slurm:");
    for (const char *l = in->slurm; *l;) {
      const char *nl = strchr(l, '\n');
      int len = nl ? (int)(nl - l) : (int)strlen(l);
      fprintf(o, " %.*s", len, l);
      l += len + (nl ? 1 : 0);
    }
    fprintf(o, "\n");
  }

  fprintf(o, "\nSummary\n");
  fprintf(o, "  wall %s, predicted %s (error %+.1f%%)\n", T(in->wall_s), T(in->predicted_s),
          100.0 * st.pred_error);
  fprintf(o, "  items done %llu, failed %llu", (unsigned long long)in->items_done,
          (unsigned long long)in->items_failed);
  if (in->sampled_items)
    fprintf(o, " (%llu of them while sampling, before the run)", (unsigned long long)in->sampled_items);
  fprintf(o, "\n");
  if (in->items_resumed)
    fprintf(o, "  resumed: %llu items were completed by earlier jobs (checkpoint %s) and not run "
               "again\n", (unsigned long long)in->items_resumed, in->checkpoint);
  else if (in->checkpoint[0])
    fprintf(o, "  checkpoint %s: completed chunks were logged for a rerun to skip\n", in->checkpoint);
  if (in->retry_calls)
    fprintf(o, "  retries: %llu kernel calls isolated the failures; %llu items succeeded when "
               "run again\n", (unsigned long long)in->retry_calls,
            (unsigned long long)in->items_recovered);
  if (in->setup_s > 0) fprintf(o, "  probe + sampling + planning took %s before the run\n", T(in->setup_s));
  fprintf(o, "  efficiency %.2f: the %d workers ran the kernel %.0f%% of the wall time\n",
          st.efficiency, st.workers, 100.0 * st.efficiency);
  fprintf(o, "  speedup x%.2f (kernel time over wall time); the whole loop alone on one "
             "thread was predicted at %s\n",
          st.speedup, T(in->predicted_serial_s));
  fprintf(o, "  lower bound %s (kernel time %s over %d workers, or the longest item %s)",
          T(st.lower_bound_s), T(st.busy_s), st.workers, T(st.longest_item_s));
  if (in->wall_s > 0 && st.lower_bound_s > 0)
    fprintf(o, "; the wall time is x%.2f the bound", in->wall_s / st.lower_bound_s);
  fprintf(o, "\n");
  fprintf(o, "  %zu chunks in the run (%llu executed%s)\n", st.run_chunks,
          (unsigned long long)in->chunks_total, in->chunks_dropped ? ", some not recorded" : "");

  decision(o, p);

  fprintf(o, "\nPredicted against measured\n  %-10s %11s %11s %11s %7s\n", "term", "predicted",
          "measured", "difference", "share");
  const amz_profile_term_t *t;
  size_t nt = amz_profile_terms(p, &t);
  for (size_t i = 0; i < nt; i++) {
    if (strcmp(t[i].name, "data") == 0 && t[i].predicted_s == 0 && t[i].measured_s == 0) continue;
    fprintf(o, "  %-10s %11s %11s %11s %6.1f%%\n", t[i].name, T(t[i].predicted_s),
            T(t[i].measured_s), T(t[i].measured_s - t[i].predicted_s),
            in->wall_s > 0 ? 100.0 * t[i].measured_s / in->wall_s : 0.0);
  }

  const amz_profile_model_t *m = amz_profile_model(p);
  fprintf(o, "\nModel inputs\n");
  fprintf(o, "  sampled %llu items in %llu blocks (%s): mean %s, median %s per item, cv %.2f, "
             "trend %+.2f\n",
          (unsigned long long)m->sampled_items, (unsigned long long)m->sample_blocks,
          T(m->sample_wall_s), T(m->mean_s), T(m->median_s), m->cv, m->trend);
  fprintf(o, "  CPU/wall %.2f, contention x%.2f, standard error %.1f%%%s%s\n", m->cpu_ratio,
          m->contention, 100.0 * m->rel_error, m->stop_reason[0] ? "; stopped: " : "",
          m->stop_reason);
  fprintf(o, "  costs: thread start %s, pool wake %s, per chunk static %s, shared counter %s\n",
          T(m->thread_start_s), T(m->pool_wake_s), T(m->chunk_static_s), T(m->chunk_atomic_s));
  if (m->latency_shm_s > 0)
    fprintf(o, "  network: in a node %s latency, %.2f GB/s; node counter %s\n",
            T(m->latency_shm_s), m->bandwidth_shm / 1e9, T(m->counter_s));
  if (m->latency_net_s > 0)
    fprintf(o, "  network: between nodes %s latency, %.2f GB/s\n", T(m->latency_net_s),
            m->bandwidth_net / 1e9);

  const amz_profile_node_t *nd;
  size_t nn = amz_profile_nodes(p, &nd);
  fprintf(o, "\nNodes\n  %4s %-20s %6s %5s %6s %s\n", "node", "host", "ranks", "used", "cores",
          "cpu");
  for (size_t i = 0; i < nn && i < 32; i++)
    fprintf(o, "  %4d %-20s %6d %5d %6d %s%s\n", nd[i].node, nd[i].host, nd[i].ranks,
            nd[i].ranks_used, nd[i].cores, nd[i].cpu_model, nd[i].shared ? " (bindings overlap)" : "");
  if (nn > 32) fprintf(o, "  ... %zu more nodes\n", nn - 32);

  const amz_profile_failure_t *f;
  size_t nf = amz_profile_failures(p, &f);
  if (nf) {
    fprintf(o, "\nFailures\n");
    for (size_t i = 0; i < nf && i < 10; i++)
      fprintf(o, "  [%llu, %llu) code %d\n", (unsigned long long)f[i].begin,
              (unsigned long long)f[i].end, f[i].code);
    if (nf > 10) fprintf(o, "  ... %zu more failed ranges\n", nf - 10);
  }
  bottlenecks(o, p, path, &st);
  return ferror(o) ? AMZ_CLI_FAIL : AMZ_CLI_OK;
}
