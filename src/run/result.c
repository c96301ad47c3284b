/* Result objects: assembled from the executor's records, read through accessors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_chunk(const void *a, const void *b) {
  const amz_chunk_info_t *x = a, *y = b;
  if (x->worker != y->worker) return x->worker - y->worker;
  if (x->t_start != y->t_start) return x->t_start < y->t_start ? -1 : 1;
  return (x->begin > y->begin) - (x->begin < y->begin);
}

/* A recorded chunk for the slow-worker rule; sampling blocks (negative times) are not
 * the run's. */
static int run_chunk(const void *ctx, size_t i, amz__chunk_obs_t *out) {
  const amz_chunk_info_t *c = (const amz_chunk_info_t *)ctx + i;
  if (c->t_start < 0) return 0;
  *out = (amz__chunk_obs_t){c->worker, c->begin, c->end, c->t_end - c->t_start};
  return 1;
}

void amz__result_slowest(amz_result_t *r, const amz__workload_t *wl) {
  const amz__result_ext_t *x = r->ext;
  int fixed = amz__blocks_fixed(r->schedule, x ? x->ranks : 1);
  if (amz__slowest_worker(wl, run_chunk, r->chunks, r->n_chunks, r->workers, fixed, &r->slow))
    r->slow = (amz__slow_t){0}; /* out of memory: not known, no finding */
}

int amz__result_build(amz_plan_t *p, const amz__exec_out_t *ex, int first, amz_result_t **out) {
  amz_result_t *r = calloc(1, sizeof *r);
  if (!r) return amz__fail(AMZ_ENOMEM, "cannot allocate the result");
  r->task_name = strdup(p->name);
  r->n_items = p->task.n_items;
  r->workers = p->workers;
  r->schedule = p->schedule;
  r->chunk = amz_plan_chunk(p);
  r->run_index = p->runs + 1;
  r->setup_s = first ? p->setup_s : 0.0;
  r->predicted = p->next_terms;
  r->mean_item_s = p->wl.mean_s;
  r->contention = p->wl.contention;
  r->cpu_ratio = p->wl.cpu_ratio;
  r->serial_pred_s = p->serial_pred_s;
  r->usable_cores = p->machine.topo.usable_cores;

  size_t nsamp = first ? p->n_sample_recs : 0, n = nsamp;
  for (int w = 0; w < ex->workers; w++) n += ex->w[w].n_chunks;
  r->chunks = malloc((n ? n : 1) * sizeof *r->chunks);
  r->wstats = calloc(ex->workers > 0 ? (size_t)ex->workers : 1, sizeof *r->wstats);
  r->wdata_s = calloc(ex->workers > 0 ? (size_t)ex->workers : 1, sizeof *r->wdata_s);
  if (!r->task_name || !r->chunks || !r->wstats || !r->wdata_s) {
    amz_result_destroy(r);
    return amz__fail(AMZ_ENOMEM, "cannot allocate the result's records");
  }
  size_t k = 0;
  for (size_t i = 0; i < nsamp; i++) {
    const amz__chunk_rec_t *c = &p->sample_recs[i];
    r->chunks[k++] = (amz_chunk_info_t){c->begin, c->end, p->sample_rec_workers[i],
                                        c->status, c->t_start, c->t_end};
  }
  uint64_t executed = first ? amz__rangeset_items(&p->sampled) : 0;
  double par_end = ex->t_par_begin + ex->parallel_s;
  int rc = 0;
  for (int w = 0; w < ex->workers; w++) {
    const amz__worker_rec_t *wr = &ex->w[w];
    for (size_t i = 0; i < wr->n_chunks; i++) {
      const amz__chunk_rec_t *c = &wr->chunks[i];
      r->chunks[k++] = (amz_chunk_info_t){c->begin, c->end, w, c->status, c->t_start, c->t_end};
    }
    amz_worker_stats_t *s = &r->wstats[w];
    s->items = wr->items;
    s->chunks = wr->chunks_total;
    s->failures = wr->failures;
    s->busy_s = wr->busy_s;
    s->dispatch_s = wr->dispatch_s;
    s->taken = wr->stolen;
    r->wdata_s[w] = wr->data_s;
    s->idle_s = (wr->t_first - ex->t_par_begin) + (par_end - wr->t_last);
    executed += wr->items;
    r->retry_calls += wr->sink.retry_calls;
    r->items_recovered += wr->sink.recovered;
    for (size_t i = 0; i < wr->failed.n && rc == 0; i++)
      rc = amz__rangeset_add(&r->failures, wr->failed.v[i].begin, wr->failed.v[i].end,
                             wr->failed.v[i].code);
  }
  r->n_chunks = k;
  /* Sampling blocks came in sampling order with workers mixed: order everything by
   * worker, then time (sampling times are negative, so they lead each worker). */
  if (nsamp > 0) qsort(r->chunks, k, sizeof *r->chunks, cmp_chunk);
  if (first)
    for (size_t i = 0; i < p->sampled_failed.n && rc == 0; i++)
      rc = amz__rangeset_add(&r->failures, p->sampled_failed.v[i].begin,
                             p->sampled_failed.v[i].end, p->sampled_failed.v[i].code);
  if (rc != 0) {
    amz_result_destroy(r);
    return amz__fail(AMZ_ENOMEM, "cannot record the failed ranges");
  }
  amz__rangeset_sort(&r->failures);
  if (first) {
    r->sampled_items = amz__rangeset_items(&p->sampled);
    r->items_resumed = amz__rangeset_items(&p->resumed);
    r->retry_calls += p->sample_retry_calls;
    r->items_recovered += p->sample_recovered;
    if (p->ckpt_path && !(r->checkpoint_path = strdup(p->ckpt_path))) {
      amz_result_destroy(r);
      return amz__fail(AMZ_ENOMEM, "cannot copy the checkpoint path");
    }
  }
  r->items_failed = amz__rangeset_items(&r->failures);
  /* Counted from what really ran, not from N: tests compare done + failed with N.
   * Items an earlier job completed (checkpoint) count as done. */
  r->items_done = executed + r->items_resumed - r->items_failed;
  *out = r;
  return 0;
}

double amz_result_seconds(const amz_result_t *r) { return r ? r->wall_s : -1.0; }
double amz_result_predicted_seconds(const amz_result_t *r) {
  return r ? r->predicted.total : -1.0;
}
int amz_result_predicted_interval(const amz_result_t *r, double *lo_s, double *hi_s) {
  if (!r || !lo_s || !hi_s)
    return amz__fail(AMZ_EINVAL, "amz_result_predicted_interval: NULL argument");
  *lo_s = r->predicted_iv.lo_s;
  *hi_s = r->predicted_iv.hi_s;
  return 0;
}
double amz_result_setup_seconds(const amz_result_t *r) { return r ? r->setup_s : 0.0; }
uint64_t amz_result_items_done(const amz_result_t *r) { return r ? r->items_done : 0; }
uint64_t amz_result_items_failed(const amz_result_t *r) { return r ? r->items_failed : 0; }
int amz_result_workers(const amz_result_t *r) { return r ? r->workers : 0; }
size_t amz_result_failure_count(const amz_result_t *r) { return r ? r->failures.n : 0; }

int amz_result_failure(const amz_result_t *r, size_t i, uint64_t *begin, uint64_t *end,
                       int *code) {
  if (!r) return amz__fail(AMZ_EINVAL, "amz_result_failure: result is NULL");
  if (i >= r->failures.n)
    return amz__fail(AMZ_ERANGE, "failure index %zu out of range [0, %zu)", i, r->failures.n);
  if (begin) *begin = r->failures.v[i].begin;
  if (end) *end = r->failures.v[i].end;
  if (code) *code = r->failures.v[i].code;
  return 0;
}

size_t amz_result_chunk_count(const amz_result_t *r) { return r ? r->n_chunks : 0; }

int amz_result_chunk(const amz_result_t *r, size_t i, amz_chunk_info_t *out) {
  if (!r || !out) return amz__fail(AMZ_EINVAL, "amz_result_chunk: NULL argument");
  if (i >= r->n_chunks)
    return amz__fail(AMZ_ERANGE, "chunk index %zu out of range [0, %zu)", i, r->n_chunks);
  *out = r->chunks[i];
  return 0;
}

int amz_result_worker(const amz_result_t *r, int w, amz_worker_stats_t *out) {
  if (!r || !out) return amz__fail(AMZ_EINVAL, "amz_result_worker: NULL argument");
  if (w < 0 || w >= r->workers)
    return amz__fail(AMZ_ERANGE, "worker %d out of range [0, %d)", w, r->workers);
  *out = r->wstats[w];
  return 0;
}

int amz_result_terms(const amz_result_t *r, amz_terms_t *out) {
  if (!r || !out) return amz__fail(AMZ_EINVAL, "amz_result_terms: NULL argument");
  *out = r->measured;
  return 0;
}

void amz_result_destroy(amz_result_t *r) {
  if (!r) return;
  free(r->task_name);
  free(r->chunks);
  free(r->wstats);
  free(r->wdata_s);
  free(r->profile_path);
  free(r->checkpoint_path);
  amz__rangeset_free(&r->failures);
  amz__findings_free(&r->findings);
  if (r->ext) {
    amz__rangeset_free(&r->ext->local_ranges);
    free(r->ext->per_rank);
    free(r->ext);
  }
  free(r);
}

const char *amz_result_profile_path(const amz_result_t *r) { return r ? r->profile_path : NULL; }

uint64_t amz_result_items_resumed(const amz_result_t *r) { return r ? r->items_resumed : 0; }
uint64_t amz_result_items_recovered(const amz_result_t *r) { return r ? r->items_recovered : 0; }
uint64_t amz_result_retry_calls(const amz_result_t *r) { return r ? r->retry_calls : 0; }

/* ---- findings --------------------------------------------------------------------- */

int amz__result_judge(amz_result_t *r) {
  const amz__result_ext_t *x = r->ext;
  if (x && x->excluded) return 0;
  const amz_terms_t *pr = &r->predicted, *me = &r->measured;
  amz__facts_t f = {
      .wall_s = r->wall_s,
      .startup_s = me->startup,
      .dispatch_s = me->dispatch,
      .imbalance_s = me->imbalance,
      .data_s = me->data,
      .serial_s = me->serial,
      .predicted_s = pr->total,
      .fixed_schedule = amz__blocks_fixed(r->schedule, x ? x->ranks : 1),
      .workers = r->workers * (x ? x->ranks : 1),
      .chunk = r->chunk,
      .items_failed = r->items_failed,
      .failed_ranges = r->failures.n,
      .failures_path = r->profile_path,
      .mean_item_s = r->mean_item_s,
      .contention = r->contention,
      .serial_pred_s = r->serial_pred_s,
      .cpu_ratio = r->cpu_ratio,
      .chunks_dropped = x ? x->ranges_lost : 0,
      .mpi = x != NULL,
      .threads = r->workers,
      .slow = r->slow,
  };
  /* The term that missed most, named as the profile's /terms names them. */
  static const char *const names[6] = {"startup", "compute", "dispatch", "imbalance",
                                       "serial", "data"};
  const double pv[6] = {pr->startup, pr->compute, pr->dispatch, pr->imbalance, pr->serial, pr->data};
  const double mv[6] = {me->startup, me->compute, me->dispatch, me->imbalance, me->serial, me->data};
  for (int i = 0; i < 6; i++)
    if (fabs(mv[i] - pv[i]) > f.worst_gap_s) {
      f.worst_gap_s = fabs(mv[i] - pv[i]);
      f.worst_term = names[i];
    }
  if (x && x->per_rank) {
    /* Every rank's totals (the same on every rank): the run over all of them. */
    double mean = 0;
    for (int i = 0; i < x->ranks; i++) {
      const amz__rank_row_t *w = &x->per_rank[i];
      f.run_chunks += w->chunks;
      f.run_items += w->items;
      f.busy_total_s += w->busy_s;
      f.dispatch_total_s += w->dispatch_s;
      mean += w->wall_s;
      if (w->wall_s > f.rank_end_last_s) f.rank_end_last_s = w->wall_s;
    }
    f.ranks_ended = x->ranks;
    f.rank_end_mean_s = x->ranks ? mean / x->ranks : 0;
  } else {
    for (int w = 0; w < r->workers; w++) {
      f.run_chunks += r->wstats[w].chunks;
      f.run_items += r->wstats[w].items;
      f.busy_total_s += r->wstats[w].busy_s;
      f.dispatch_total_s += r->wstats[w].dispatch_s;
    }
  }
  return amz__findings_judge(&f, &r->findings);
}

size_t amz_result_finding_count(const amz_result_t *r) { return r ? r->findings.n : 0; }

int amz_result_finding(const amz_result_t *r, size_t i, amz_finding_t *out) {
  if (!r) return amz__fail(AMZ_EINVAL, "amz_result_finding: result is NULL");
  return amz__findings_get(&r->findings, i, out, "amz_result_finding");
}
