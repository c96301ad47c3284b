/* Human-readable explanations of a plan (the decision) and a result (what happened,
 * predicted vs. measured, bottlenecks with severities and advice). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define T(x) amz__fmt_seconds((char[32]){0}, 32, (x))

#define B(x) amz__fmt_bytes((char[32]){0}, 32, (x))

static void describe_choice(FILE *o, int w, amz_schedule_t s, uint64_t chunk, uint64_t n) {
  fprintf(o, "%d worker%s, %s", w, w == 1 ? "" : "s", amz_schedule_name(s));
  switch (s) {
    case AMZ_SCHED_STATIC:
      fprintf(o, " (blocks of ~%llu items)", (unsigned long long)(w ? n / (uint64_t)w : n));
      break;
    case AMZ_SCHED_CYCLIC:
    case AMZ_SCHED_DYNAMIC:
      fprintf(o, ", chunk %llu", (unsigned long long)chunk);
      break;
    default:
      fprintf(o, ", min chunk %llu", (unsigned long long)chunk);
  }
}

static const char *biggest_term_increase(const amz_terms_t *a, const amz_terms_t *ref,
                                         double *delta) {
  const char *names[5] = {"start-up", "compute", "dispatch", "imbalance", "serial part"};
  double d[5] = {a->startup - ref->startup, a->compute - ref->compute,
                 a->dispatch - ref->dispatch, a->imbalance - ref->imbalance,
                 a->serial - ref->serial};
  int best = 0;
  for (int i = 1; i < 5; i++)
    if (d[i] > d[best]) best = i;
  *delta = d[best];
  return names[best];
}

static void terms_line(FILE *o, const char *label, double v, double total) {
  fprintf(o, "    %-12s %10s  %5.1f%%\n", label, T(v), total > 0 ? 100.0 * v / total : 0.0);
}

/* The interval lines of the Prediction section, shared with the MPI explanation. */
void amz__explain_interval(const amz_plan_t *p, FILE *o) {
  const amz__interval_t *iv = &p->next_iv;
  if (!(p->next_terms.total > 0)) return;
  fprintf(o, "  interval %s to %s (aimed at 9 runs in 10); widest part: %s\n", T(iv->lo_s),
          T(iv->hi_s), iv->widest);
  fprintf(o, "    sampling +/-%.1f%%, run-to-run +/-%.1f%%, load +/-%.1f%%", 100.0 * iv->sampling,
          100.0 * iv->noise, 100.0 * iv->load);
  if (iv->tail_s > 0) fprintf(o, ", +%s for the longest item seen", T(iv->tail_s));
  fprintf(o, "\n");
}

/* The Workload section, shared with the MPI explanation. */
void amz__explain_workload(const amz_plan_t *p, FILE *o) {
  const amz__workload_t *wl = &p->wl;
  const uint64_t N = p->task.n_items;
  fprintf(o, "Workload\n");
  fprintf(o, "  items                %llu\n", (unsigned long long)N);
  fprintf(o, "  sampled              %llu items in %zu blocks of ~%llu (%.1f%%) on %d thread%s, "
             "in %s; stop: %s\n",
          (unsigned long long)wl->sampled_items, wl->sampled_blocks,
          (unsigned long long)wl->block_items,
          N ? 100.0 * (double)wl->sampled_items / (double)N : 0.0, wl->sample_workers,
          wl->sample_workers == 1 ? "" : "s", T(wl->sample_wall_s),
          wl->stop_reason ? wl->stop_reason : "-");
  fprintf(o, "  cost per item        mean %s (+/- %.1f%%), median %s, MAD %s, 10%%-trimmed mean %s, "
             "CV %.2f, longest %s\n",
          T(wl->mean_s), 100.0 * wl->rel_error, T(wl->median_s), T(wl->mad_s),
          T(wl->trimmed_mean_s), wl->cv, T(wl->max_item_s));
  {
    /* The profile's last tenth against its first tenth says more than the slope. */
    uint64_t tenth = N / 10 ? N / 10 : 1;
    double first = amz__workload_range_cost(wl, 0, tenth);
    double last = amz__workload_range_cost(wl, N > tenth ? N - tenth : 0, N);
    fprintf(o, "  index-cost trend     fitted slope %+.2f x mean over the range; last tenth costs "
               "x%.2f the first%s\n",
            wl->trend, first > 0 ? last / first : 1.0,
            fabs(wl->trend) > 0.3 ? " (cost depends on the index: equal blocks would be uneven)"
                                  : "");
  }
  fprintf(o, "  CPU/wall in kernel   %.2f%s\n", wl->cpu_ratio,
          wl->cpu_ratio < AMZ__WAITING_CPU_RATIO
              ? " (the kernel mostly waits: more threads than cores can pay)"
          : wl->cpu_ratio > 1.0 + AMZ__OWN_THREADS_MIN_CORES
              ? " (the kernel runs threads of its own: cores per call)"
              : "");
  if (wl->runq_share >= 0.05)
    fprintf(o, "  waiting for a CPU    %.0f%% of the kernel's time (other processes share its "
               "cores; not counted as the kernel waiting)\n",
            100.0 * wl->runq_share);
  fprintf(o, "  contention           x%.2f per item with %d worker%s busy (measured x%.2f)%s\n",
          wl->contention, wl->contention_workers, wl->contention_workers == 1 ? "" : "s",
          wl->contention_raw,
          wl->contention > 1.15 ? " (shared resources, likely memory bandwidth)" : "");
  fprintf(o, "  serial estimate      %s for all items on one worker\n\n", T(p->serial_pred_s));
}

int amz_plan_explain(const amz_plan_t *p, FILE *o) {
  if (!p || !o) return amz__fail(AMZ_EINVAL, "amz_plan_explain: NULL argument");
  const amz__workload_t *wl = &p->wl;
  const amz__topology_t *t = &p->machine.topo;
  const amz__costs_t *c = &p->machine.costs;
  const uint64_t N = p->task.n_items;
  if (p->ext_ops && p->ext_ops->explain) return p->ext_ops->explain(p, o);
  fprintf(o, "Amorsize plan for \"%s\" (amorsize %s)\n\n", p->name, AMZ_VERSION_STRING);
  amz__explain_workload(p, o);

  fprintf(o, "Resources\n");
  fprintf(o, "  host                 %s, %s\n", t->host, t->cpu_model);
  fprintf(o, "  cores                %d physical / %d PUs on the machine; bound to PUs %s "
             "(%d core%s)\n",
          t->cores_total, t->pus_total, t->binding, t->cores_bound, t->cores_bound == 1 ? "" : "s");
  if (t->cpu_quota > 0)
    fprintf(o, "  cgroup CPU quota     %.2f cores\n", t->cpu_quota);
  else
    fprintf(o, "  cgroup CPU quota     none\n");
  fprintf(o, "  memory               %s, cgroup limit %s; %d NUMA node%s, largest cache %s\n",
          B(t->mem_total), B(t->mem_limit), t->numa_nodes, t->numa_nodes == 1 ? "" : "s",
          B(t->l3_bytes));
  fprintf(o, "  usable for compute   %d core%s\n", t->usable_cores, t->usable_cores == 1 ? "" : "s");
  fprintf(o, "  measured costs       thread start %s, pool wake %s, per chunk: static %s, "
             "shared counter %s (%s contended), AWF %s%s\n\n",
          T(c->thread_start_s), T(c->pool_wake_s), T(c->chunk_static_s), T(c->chunk_atomic_s),
          T(c->chunk_contended_s), T(c->chunk_awf_s),
          c->from_cache ? " [from cache]" : "");

  fprintf(o, "Decision\n  ");
  describe_choice(o, p->workers, p->schedule, amz_plan_chunk(p), N);
  fprintf(o, "\n  why: %s\n", p->dec.why);
  if (p->runs > 0) fprintf(o, "  (re-planned with the model refined by %d run%s)\n", p->runs,
                           p->runs == 1 ? "" : "s");
  fprintf(o, "\n");

  const amz_terms_t *nt = &p->next_terms;
  fprintf(o, "Prediction for the next run%s\n",
          p->runs == 0 ? " (sampled items are already done)" : "");
  fprintf(o, "  time %s, speedup x%.2f over serial (%.0f%% efficiency)\n", T(nt->total),
          amz_plan_predicted_speedup(p),
          100.0 * amz_plan_predicted_speedup(p) / (p->workers ? p->workers : 1));
  amz__explain_interval(p, o);
  terms_line(o, "start-up", nt->startup, nt->total);
  terms_line(o, "compute", nt->compute, nt->total);
  terms_line(o, "dispatch", nt->dispatch, nt->total);
  terms_line(o, "imbalance", nt->imbalance, nt->total);
  terms_line(o, "serial", nt->serial, nt->total);
  fprintf(o, "\n");

  fprintf(o, "Best rejected alternatives (full run of all items)\n");
  const amz_candidate_t *ch = &p->dec.cands[p->dec.chosen];
  int shown = 0;
  for (size_t i = 0; i < p->dec.n_cands && shown < 5; i++) {
    if (i == p->dec.chosen) continue;
    const amz_candidate_t *a = &p->dec.cands[i];
    /* Skip near-duplicates of a shown alternative: same workers and schedule. */
    int dup = 0;
    for (size_t j = 0; j < i; j++)
      if (j != p->dec.chosen && p->dec.cands[j].workers == a->workers &&
          p->dec.cands[j].schedule == a->schedule)
        dup = 1;
    if (dup) continue;
    fprintf(o, "  ");
    describe_choice(o, a->workers, a->schedule, a->chunk, N);
    double rel = ch->predicted_s > 0 ? a->predicted_s / ch->predicted_s - 1.0 : 0.0;
    if (a->predicted_s < ch->predicted_s && a->workers > ch->workers) {
      fprintf(o, ": %s, %.1f%% faster but uses %d workers instead of %d (within 2%%)\n",
              T(a->predicted_s), -100.0 * rel, a->workers, ch->workers);
    } else if (a->predicted_s < ch->predicted_s && ch->schedule == AMZ_SCHED_STATIC) {
      fprintf(o, ": %s, %.2f%% faster; static blocks preferred within 0.5%% (each worker "
                 "keeps its own block unless it falls behind)\n",
              T(a->predicted_s), -100.0 * rel);
    } else if (a->predicted_s < ch->predicted_s) {
      fprintf(o, ": %s, %.2f%% faster but commits %llu items at once (the choice: %llu); "
                 "within 1%% the fewest is preferred\n",
              T(a->predicted_s), -100.0 * rel,
              (unsigned long long)amz__cand_exposure(a, N),
              (unsigned long long)amz__cand_exposure(ch, N));
    } else {
      double d;
      const char *term = biggest_term_increase(&a->terms, &ch->terms, &d);
      fprintf(o, ": %s, +%.1f%% (mostly %s %+.3g%%)\n", T(a->predicted_s), 100.0 * rel, term,
              ch->predicted_s > 0 ? 100.0 * d / ch->predicted_s : 0.0);
    }
    shown++;
  }
  if (shown == 0) fprintf(o, "  none (the constraints left a single candidate)\n");
  fprintf(o, "  (%zu candidates evaluated, workers 1..%d)\n\n", p->dec.n_cands, p->dec.max_workers);

  fprintf(o, "Constraints\n");
  int any = 0;
  if (p->cons.workers_from) {
    fprintf(o, "  workers = %d (from %s)\n", p->cons.workers, p->cons.workers_from);
    any = 1;
  }
  if (p->cons.schedule_from) {
    fprintf(o, "  schedule = %s (from %s)\n", amz_schedule_name(p->cons.schedule),
            p->cons.schedule_from);
    any = 1;
  }
  if (p->cons.chunk_from) {
    fprintf(o, "  chunk = %llu (from %s)\n", (unsigned long long)p->cons.chunk, p->cons.chunk_from);
    any = 1;
  }
  if (p->cons.retries_from) {
    fprintf(o, "  retries = %d (from %s): failing ranges are split to single items, each "
               "run again up to %d times\n", p->cons.retries, p->cons.retries_from, p->cons.retries);
    any = 1;
  }
  if (p->cons.timeout_from) {
    fprintf(o, "  timeout = %s", T(p->cons.timeout_s));
    if (p->cons.timeout_factor > 0)
      fprintf(o, " and %gx the predicted time of a call", p->cons.timeout_factor);
    fprintf(o, " (from %s): a kernel call past it is reported and %s\n", p->cons.timeout_from,
            p->cons.timeout_abort ? "the job is aborted" : "the run returns AMZ_ETIMEOUT");
    any = 1;
  }
  if (!any) fprintf(o, "  none: everything chosen by the model\n");
  fprintf(o, "\n");

  if (p->ckpt_path) {
    fprintf(o, "Checkpoint\n  %s (from %s)", p->ckpt_path, p->ckpt_from);
    if (p->runs > 0)
      fprintf(o, ": closed after the first run (later runs log nothing)\n");
    else if (p->ckpt_info.created)
      fprintf(o, ": new; every completed chunk is logged (%s per record, counted in the "
                 "dispatch cost)\n", T(p->machine.costs.chunk_log_s));
    else
      fprintf(o, ": resuming; %llu of %llu items were completed by earlier jobs (%llu "
                 "records) and are skipped\n",
              (unsigned long long)amz__rangeset_items(&p->resumed), (unsigned long long)N,
              (unsigned long long)p->ckpt_info.records);
    if (p->ckpt_info.damaged)
      fprintf(o, "  %llu damaged record slots were skipped (torn by a crash): their items run "
                 "again\n", (unsigned long long)p->ckpt_info.damaged);
    if (p->runs == 0 && p->cons.max_chunk_s > 0 && p->cons.schedule == AMZ_SCHED_AUTO &&
        p->cons.chunk == 0)
      fprintf(o, "  no chunk is planned to take over %s (a kill loses the chunks in flight)\n",
              T(p->cons.max_chunk_s));
    fprintf(o, "\n");
  }

  fprintf(o, "Recommendations\n");
  int rec = 0;
  /* One process bound to part of the machine (taskset, a launcher): the plan can
   * use only the bound cores. MPI plans say it per node, in their own section. */
  const amz__topology_t *tp = &p->machine.topo;
  if (!p->ext && tp->pus_bound > 0 && tp->pus_bound < tp->pus_total &&
      !(tp->cpu_quota > 0 && tp->cpu_quota < (double)tp->cores_bound)) {
    fprintf(o, "  - The process is bound to %d of the machine's %d CPUs (CPUs %s): the plan uses "
               "at most those. If no other process needs the rest, start it without the "
               "binding (taskset, numactl, or the launcher's binding option).\n",
            tp->pus_bound, tp->pus_total, tp->binding);
    rec++;
  }
  if (p->dec.serial_best) {
    fprintf(o, "  - The loop is too short to gain from threads (serial %s); give it more work "
               "per call or keep it serial.\n", T(p->serial_pred_s));
    rec++;
  }
  if (wl->contention > 1.3)
    fprintf(o, "  - Items run x%.2f slower when all cores work: the kernel is limited by a shared "
               "resource (memory bandwidth); improving locality helps more than threads.\n",
            wl->contention), rec++;
  if (wl->rel_error > 0.1 && wl->stop_reason && strcmp(wl->stop_reason, AMZ__STOP_TINY) == 0)
    fprintf(o, "  - The mean item cost is known only to +/- %.0f%%: the loop is too short to "
               "sample beyond its first calls; the next run is predicted from this one.\n",
            100.0 * wl->rel_error), rec++;
  else if (wl->rel_error > 0.1)
    fprintf(o, "  - The mean item cost is known only to +/- %.0f%%: allow a larger sampling "
               "budget (amz_options_set_sampling) for a sharper prediction.\n",
            100.0 * wl->rel_error), rec++;
  if (p->cons.workers_from || p->cons.schedule_from || p->cons.chunk_from) {
    amz__constraints_t free_c = {0};
    amz__decision_t d;
    if (amz__plan_search(wl, &p->machine, &free_c, p->pool.n_helpers, &d) == 0) {
      const amz_candidate_t *b = &d.cands[d.chosen];
      if (b->predicted_s < 0.95 * ch->predicted_s) {
        fprintf(o, "  - Without the constraints the model would choose ");
        describe_choice(o, b->workers, b->schedule, b->chunk, N);
        fprintf(o, ": %s instead of %s.\n", T(b->predicted_s), T(ch->predicted_s));
        rec++;
      }
      amz__decision_free(&d);
    }
  }
  if (rec == 0) fprintf(o, "  none: the plan is the model's best and the inputs are well measured.\n");
  return (fflush(o) != 0 || ferror(o)) ? amz__fail(AMZ_EIO, "amz_plan_explain: write failed") : 0;
}

int amz_result_explain(const amz_result_t *r, FILE *o) {
  if (!r || !o) return amz__fail(AMZ_EINVAL, "amz_result_explain: NULL argument");
  const amz_terms_t *pr = &r->predicted, *me = &r->measured;
  const amz__result_ext_t *x = r->ext;
  if (x && x->excluded) {
    fprintf(o, "Amorsize run %d of \"%s\": this rank (%d) was excluded by the plan\n  %s\n",
            r->run_index, r->task_name, x->rank, x->why);
    if (x->local_done || x->local_failed)
      fprintf(o, "  it ran %llu sampled items while planning (%llu failed)\n",
              (unsigned long long)(x->local_done + x->local_failed),
              (unsigned long long)x->local_failed);
    return (fflush(o) != 0 || ferror(o)) ? amz__fail(AMZ_EIO, "amz_result_explain: write failed") : 0;
  }
  int all_workers = r->workers * (x ? x->ranks : 1);
  fprintf(o, "Amorsize run %d of \"%s\": %llu items, ", r->run_index, r->task_name,
          (unsigned long long)r->n_items);
  if (x)
    fprintf(o, "%d rank%s x %d thread%s, %s, chunk %llu", x->ranks, x->ranks == 1 ? "" : "s",
            r->workers, r->workers == 1 ? "" : "s", amz_schedule_name(r->schedule),
            (unsigned long long)r->chunk);
  else
    describe_choice(o, r->workers, r->schedule, r->chunk, r->n_items);
  fprintf(o, "\n");
  if (x)
    fprintf(o, "  %d node%s; this rank (%d): %llu items done, %llu failed, %s; totals below are "
               "over all ranks\n",
            x->nodes, x->nodes == 1 ? "" : "s", x->rank, (unsigned long long)x->local_done,
            (unsigned long long)x->local_failed, T(x->local_wall_s));
  fprintf(o, "  wall %s, predicted %s (error %+.1f%%)", T(r->wall_s), T(pr->total),
          pr->total > 0 ? 100.0 * (r->wall_s - pr->total) / pr->total : 0.0);
  if (r->setup_s > 0) fprintf(o, "; probe+sample+plan %s before it", T(r->setup_s));
  fprintf(o, "\n");
  if (r->profile_path)
    fprintf(o, "  profile %s ('amorsize report %s' reads it)\n", r->profile_path, r->profile_path);
  fprintf(o, "  items done %llu, failed %llu", (unsigned long long)r->items_done,
          (unsigned long long)r->items_failed);
  if (r->sampled_items) fprintf(o, " (%llu done while sampling)", (unsigned long long)r->sampled_items);
  fprintf(o, "\n");
  if (r->serial_pred_s > 0 && r->wall_s > 0 && r->run_index > 1) {
    double sp = r->serial_pred_s / r->wall_s;
    fprintf(o, "  speedup x%.2f over the predicted serial time, efficiency %.0f%%\n", sp,
            100.0 * sp / all_workers);
  }
  for (size_t i = 0; i < r->failures.n && i < 10; i++)
    fprintf(o, "  failed [%llu, %llu) with code %d\n", (unsigned long long)r->failures.v[i].begin,
            (unsigned long long)r->failures.v[i].end, r->failures.v[i].code);
  if (r->failures.n > 10) fprintf(o, "  ... and %zu more failed ranges\n", r->failures.n - 10);

  fprintf(o, "\n  %-12s %10s %10s %9s\n", "term", "predicted", "measured", "diff");
  const char *names[7] = {"start-up", "compute", "dispatch", "imbalance", "serial", "data", "total"};
  double pv[7] = {pr->startup, pr->compute, pr->dispatch, pr->imbalance, pr->serial, pr->data, pr->total};
  double mv[7] = {me->startup, me->compute, me->dispatch, me->imbalance, me->serial, me->data, me->total};
  for (int i = 0; i < 7; i++) {
    if (i == 5 && pv[i] == 0 && mv[i] == 0) continue; /* no data moved */
    fprintf(o, "  %-12s %10s %10s %9s\n", names[i], T(pv[i]), T(mv[i]), T(mv[i] - pv[i]));
  }

  /* Static blocks with a way out: how many items moved between workers. */
  uint64_t taken = 0;
  for (int w = 0; w < r->workers; w++) taken += r->wstats[w].taken;
  int show_taken = r->schedule == AMZ_SCHED_STATIC && r->workers > 1;
  fprintf(o, "\n  %-6s %12s %8s %10s %10s %10s%s%s\n", "worker", "items", "chunks", "busy",
          "dispatch", "idle", show_taken ? "      taken" : "",
          x ? "  (this rank's threads)" : "");
  for (int w = 0; w < r->workers && w < 64; w++) {
    const amz_worker_stats_t *s = &r->wstats[w];
    fprintf(o, "  %-6d %12llu %8llu %10s %10s %10s", w, (unsigned long long)s->items,
            (unsigned long long)s->chunks, T(s->busy_s), T(s->dispatch_s), T(s->idle_s));
    if (show_taken) fprintf(o, " %10llu", (unsigned long long)s->taken);
    fprintf(o, "\n");
  }
  if (r->workers > 64) fprintf(o, "  ... %d more workers\n", r->workers - 64);
  if (show_taken && taken)
    fprintf(o, "  static blocks: workers that had finished their own took %llu item%s (%.1f%%) "
               "from the others' blocks\n",
            (unsigned long long)taken, taken == 1 ? "" : "s",
            r->n_items ? 100.0 * (double)taken / (double)r->n_items : 0.0);
  else if (show_taken)
    fprintf(o, "  static blocks: each worker ran its own block\n");

  if (x && x->per_rank) {
    fprintf(o, "\n  %-6s %4s %12s %8s %10s %10s %10s %10s\n", "rank", "node", "items", "chunks",
            "busy", "dispatch", "data", "end");
    for (int i = 0; i < x->ranks && i < 64; i++) {
      const amz__rank_row_t *w = &x->per_rank[i];
      fprintf(o, "  %-6d %4d %12llu %8llu %10s %10s %10s %10s\n", w->rank, w->node,
              (unsigned long long)w->items, (unsigned long long)w->chunks, T(w->busy_s),
              T(w->dispatch_s), T(w->data_s), T(w->wall_s));
    }
    if (x->ranks > 64) fprintf(o, "  ... %d more ranks\n", x->ranks - 64);
  }

  amz__findings_print(o, &r->findings);
  return (fflush(o) != 0 || ferror(o)) ? amz__fail(AMZ_EIO, "amz_result_explain: write failed") : 0;
}
