/* `amorsize report`: what ran, the decision and why, predicted against measured per
 * term, bottlenecks with severity and advice, efficiency and the lower bound.
 * Everything comes from the profile: the report of a job can be read anywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define T(x) amz_cli_seconds((char[32]){0}, 32, (x))

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

int amz_cli_findings_text(FILE *o, const amz_profile_t *p, const char *indent) {
  size_t n = amz_profile_finding_count(p);
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    amz_finding_t f;
    if (amz_profile_finding(p, i, &f) != 0) {
      fprintf(stderr, "amorsize: %s\n", amz_last_error());
      return AMZ_CLI_FAIL;
    }
    fprintf(o, "%s[%s] %s\n", indent, amz_severity_name(f.severity), f.text);
    found += f.severity != AMZ_SEVERITY_INFO;
  }
  if (!found) fprintf(o, "%snone: no overhead above its threshold.\n", indent);
  return AMZ_CLI_OK;
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
  if (in->predicted_hi_s > 0)
    fprintf(o, "  predicted interval %s to %s (widest part: %s): the run fell %s\n",
            T(in->predicted_lo_s), T(in->predicted_hi_s), in->predicted_widest,
            in->wall_s > in->predicted_hi_s   ? "above it"
            : in->wall_s < in->predicted_lo_s ? "below it"
                                              : "inside");
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
  /* Static blocks with a way out: the items that moved between workers (files
   * written before the field existed read 0, and say nothing). */
  const amz_profile_worker_t *w;
  size_t nw = amz_profile_workers(p, &w);
  uint64_t taken = 0;
  for (size_t i = 0; i < nw; i++) taken += w[i].taken;
  if (taken > 0)
    fprintf(o, "  static blocks: workers that had finished their own took %llu item%s (%.1f%%) "
               "from the others' blocks\n",
            (unsigned long long)taken, taken == 1 ? "" : "s",
            in->n_items ? 100.0 * (double)taken / (double)in->n_items : 0.0);

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
  fprintf(o, "\nBottlenecks\n");
  if (amz_cli_findings_text(o, p, "  ") != AMZ_CLI_OK) return AMZ_CLI_FAIL;
  return ferror(o) ? AMZ_CLI_FAIL : AMZ_CLI_OK;
}
