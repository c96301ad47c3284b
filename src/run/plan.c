/* Plan objects: create (probe + sample + plan), accessors, run, refine, amz_for. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int sample_workers(const amz_plan_t *p) {
  int P = p->cons.workers > 0 ? p->cons.workers : p->machine.topo.usable_cores;
  if (P < 1) P = 1;
  if (p->task.n_items > 0 && (uint64_t)P > p->task.n_items) P = (int)p->task.n_items;
  return P;
}

static double remaining_fraction(const amz_plan_t *p) {
  if (p->runs > 0 || p->task.n_items == 0) return 1.0;
  return 1.0 - (double)amz__rangeset_items(&p->skip_first) / (double)p->task.n_items;
}

/* amz_run searches the candidates again after runs 1, 2, 4, 8, ...: the model
 * sharpens quickly, then a time-step loop should not pay for planning every step. */
static int searches_after_run(int run) { return (run & (run - 1)) == 0; }

/* Predicts the installed choice for the next run and the serial reference. */
static int predict_choice(amz_plan_t *p) {
  int rc = amz__model_predict(&p->wl, &p->machine, p->workers, p->schedule, p->chunk,
                              remaining_fraction(p), p->pool.n_helpers, &p->next_terms);
  if (rc == 0)
    rc = amz__model_predict(&p->wl, &p->machine, p->workers, p->schedule, p->chunk, 1.0,
                            p->pool.n_helpers, &p->full_terms);
  /* After runs 1, 2, 4, 8, ... amz_run searches again before it returns. That
   * search is not in the run's measured time (the result is built before it), so
   * it is not in the prediction either: it is the plan's own cost (search_s in the
   * profile), as the first plan's is set-up time. */
  amz_terms_t serial;
  if (rc == 0)
    rc = amz__model_predict(&p->wl, &p->machine, 1, AMZ_SCHED_STATIC, 0, 1.0, 0, &serial);
  p->serial_pred_s = serial.total;
  return rc;
}

void amz__plan_interval(amz_plan_t *p) {
  double slow = amz__model_slowdown(&p->wl, &p->machine, p->workers);
  amz__model_interval(&p->wl, &p->next_terms, slow, p->runs == 0, p->run_err, p->n_run_err,
                      &p->next_iv);
}

/* Runs the search with the current workload and installs the choice. */
static int decide(amz_plan_t *p) {
  amz__decision_free(&p->dec);
  double t0 = amz__clock_now(p->opts.clock);
  int rc = amz__plan_search(&p->wl, &p->machine, &p->cons, p->pool.n_helpers, &p->dec);
  if (rc != 0) return rc;
  p->search_s = amz__clock_now(p->opts.clock) - t0;
  const amz_candidate_t *c = &p->dec.cands[p->dec.chosen];
  p->workers = c->workers;
  p->ranks = 1;
  p->schedule = c->schedule;
  p->chunk = c->chunk;
  return predict_choice(p);
}

/* Whether a finished run triggers a new search: on the schedule above, or whenever
 * the prediction missed by more than 20%. */
int amz__should_replan(int runs, double measured, double predicted) {
  if (searches_after_run(runs)) return 1;
  return predicted > 0 && fabs(measured - predicted) > 0.2 * predicted;
}

int amz__plan_init(amz_plan_t *p, const amz_task_t *task, const amz_options_t *opts) {
  if (opts) {
    p->opts = *opts;
    p->opts.cache_dir = NULL; /* the plan never needs the options' own string */
  } else {
    amz__options_defaults(&p->opts);
  }
  if (!p->opts.clock) p->opts.clock = &amz__real_clock;
  p->opts.profile = NULL;
  p->task = *task;
  p->name = strdup(task->name ? task->name : "(unnamed)");
  p->task.name = p->name;
  if (!p->name) return amz__fail(AMZ_ENOMEM, "cannot copy the task's name");
  p->opts.checkpoint = NULL;
  p->ckpt.fd = -1;
  int mode; /* a malformed AMZ_PROGRESS is an error now, not at the first run */
  int rc = amz__progress_mode_resolve(&p->opts, &mode);
  if (rc == 0) rc = amz__plan_profile_resolve(p, opts);
  return rc != 0 ? rc : amz__plan_ckpt_resolve(p, opts);
}

int amz__plan_ckpt_resolve(amz_plan_t *p, const amz_options_t *opts) {
  const char *path = opts ? opts->checkpoint : NULL;
  p->ckpt_from = "amz_options_set_checkpoint";
  if (p->opts.use_env) {
    const char *v = getenv("AMZ_CHECKPOINT");
    if (v) {
      path = v[0] ? v : NULL; /* "" turns a checkpoint the program asked for off */
      p->ckpt_from = "AMZ_CHECKPOINT";
      if (strlen(v) >= AMZ__PATH_MAX)
        return amz__fail(AMZ_EENV, "AMZ_CHECKPOINT is %zu bytes long; at most %d are supported",
                         strlen(v), AMZ__PATH_MAX - 1);
    }
  }
  if (!path) return 0;
  p->ckpt_path = strdup(path);
  return p->ckpt_path ? 0 : amz__fail(AMZ_ENOMEM, "cannot copy the checkpoint path");
}

int amz__plan_skip_first(amz_plan_t *p) {
  amz__rangeset_free(&p->skip_first);
  if (amz__rangeset_union(&p->sampled, &p->resumed, &p->skip_first) != 0)
    return amz__fail(AMZ_ENOMEM, "cannot merge the sampled and resumed items");
  return 0;
}

int amz__plan_ckpt_end(amz_plan_t *p) {
  if (!p->ckpt_open) return 0;
  int rc = amz__ckpt_flush(&p->ckpt);
  amz__ckpt_close(&p->ckpt);
  p->ckpt_open = 0;
  p->machine.costs.chunk_log_s = 0.0; /* later runs log nothing */
  p->cons.max_chunk_s = 0.0;
  return rc;
}

/* Opens the checkpoint before sampling (sampled items are logged too) and reads
 * what earlier jobs completed. */
static int ckpt_begin(amz_plan_t *p) {
  if (!p->ckpt_path) return 0;
  p->ckpt_open = 1;
  int rc = amz__ckpt_open(&p->ckpt, p->ckpt_path, p->name, p->task.n_items, 1, &p->resumed,
                          &p->ckpt_info);
  if (rc != 0)
    return amz__fail(rc, "%s: %s", p->ckpt_from, amz_last_error());
  return 0;
}

int amz__plan_profile_resolve(amz_plan_t *p, const amz_options_t *opts) {
  const char *path = opts ? opts->profile : NULL;
  int overwrite = opts ? opts->profile_overwrite : 0;
  const char *from = "amz_options_set_profile";
  if (p->opts.use_env) {
    const char *v = getenv("AMZ_PROFILE");
    if (v) {
      path = v[0] ? v : NULL; /* "" turns a profile the program asked for off */
      from = "AMZ_PROFILE";
    }
    if ((v = getenv("AMZ_PROFILE_OVERWRITE")) != NULL) {
      if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        return amz__fail(AMZ_EENV, "AMZ_PROFILE_OVERWRITE must be 0 or 1, got '%s'", v);
      overwrite = v[0] == '1';
    }
  }
  p->profile_overwrite = overwrite;
  if (!path) return 0;
  char probe[4096];
  if (amz__profile_expand(path, 1, probe, sizeof probe) != 0)
    return amz__fail(strcmp(from, "AMZ_PROFILE") == 0 ? AMZ_EENV : AMZ_EINVAL, "%s: %s", from,
                     amz_last_error());
  p->profile = strdup(path);
  return p->profile ? 0 : amz__fail(AMZ_ENOMEM, "cannot copy the profile path");
}

/* The threads-only plan's steps of creation: the profile check and the checkpoint,
 * this machine's probe, sampling on the pool, the threads-only search. */
static int local_open(void *ext, amz_plan_t *p, int rc) {
  (void)ext;
  if (rc == 0) rc = amz__profile_precheck(p);
  if (rc == 0) rc = ckpt_begin(p);
  return rc;
}

static int local_probe(void *ext, amz_plan_t *p, const char *cache_dir) {
  (void)ext;
  if (p->opts.machine) {
    p->machine = *p->opts.machine;
    return 0;
  }
  int rc = amz__topology_probe_in(&p->machine.topo, cache_dir);
  if (rc == 0) rc = amz__costs_probe(&p->machine.topo, cache_dir, &p->machine.costs);
  return rc;
}

static int local_sample(void *ext, amz_plan_t *p) {
  (void)ext;
  amz__sampler_params_t sp = {.task = &p->task,
                              .workers = sample_workers(p),
                              .max_seconds = p->opts.sample_seconds,
                              .rel_error = p->opts.sample_rel_error,
                              .clock = p->opts.clock,
                              .pool = &p->pool,
                              .hooks = p->opts.has_hooks ? &p->opts.hooks : NULL,
                              .hooks_user = p->opts.hooks_user,
                              .retries = p->cons.retries,
                              .ckpt = p->ckpt_open ? &p->ckpt : NULL,
                              .exclude = &p->resumed,
                              .retry_calls = &p->sample_retry_calls,
                              .recovered = &p->sample_recovered,
                              .watch = amz__plan_watch(p)};
  int rc = amz__sample(&sp, &p->wl, &p->sampled, &p->sampled_failed, &p->sample_recs,
                       &p->n_sample_recs, &p->sample_rec_workers);
  p->wl.sample_cores = p->machine.topo.usable_cores;
  return rc;
}

static int local_decide(void *ext, amz_plan_t *p) {
  (void)ext;
  return decide(p);
}

static const amz__create_ops_t local_create_ops = {.open = local_open,
                                                   .probe = local_probe,
                                                   .sample = local_sample,
                                                   .decide = local_decide};

int amz_plan_create(const amz_task_t *task, const amz_options_t *opts, amz_plan_t **plan) {
  if (!plan) return amz__fail(AMZ_EINVAL, "amz_plan_create: plan (the output) is NULL");
  *plan = NULL;
  if (!task) return amz__fail(AMZ_EINVAL, "amz_plan_create: task is NULL");
  if (!task->fn)
    return amz__fail(AMZ_EINVAL, "amz_plan_create: task '%s' has a NULL kernel (fn)",
                     task->name ? task->name : "(unnamed)");
  amz_plan_t *p = calloc(1, sizeof *p);
  if (!p) return amz__fail(AMZ_ENOMEM, "amz_plan_create: out of memory");
  int rc = amz__plan_init(p, task, opts);
  double t0 = amz__clock_now(p->opts.clock);
  return amz__plan_make(p, &local_create_ops, NULL, opts, rc, t0, plan);
}

int amz__plan_make(amz_plan_t *p, const amz__create_ops_t *ops, void *ext,
                   const amz_options_t *opts, int rc, double t0, amz_plan_t **plan) {
#define AGREE(x) (ops->agree ? ops->agree(ext, (x)) : (x))
  if (rc == 0) rc = amz__constraints_resolve(&p->opts, &p->cons);
  rc = ops->open(ext, p, rc);
  /* Probe: the machine's topology and measured costs, cached in the cache
   * directory (the options', else AMZ_CACHE_DIR, XDG_CACHE_HOME or ~/.cache). */
  char dir[512];
  if (opts && opts->cache_set)
    snprintf(dir, sizeof dir, "%s", opts->cache_dir ? opts->cache_dir : "");
  else
    amz__default_cache_dir(dir, sizeof dir);
  if (rc == 0) rc = ops->probe(ext, p, dir);
  /* Every chunk writes a checkpoint record: its measured cost enters the model. */
  if (rc == 0 && p->ckpt_open) {
    p->machine.costs.chunk_log_s = p->ckpt.write_cost_s;
    p->cons.max_chunk_s = AMZ__CKPT_CHUNK_S; /* a kill loses about a second per worker */
  }
  if (rc == 0) {
    /* Threads start only when sampling needs them: a loop too short to sample in
     * parallel never pays for them. */
    rc = amz__pool_init(&p->pool, 0);
    p->pool_ready = rc == 0;
    rc = AGREE(rc);
  }
  /* Sample, then decide. */
  if (rc == 0) rc = ops->sample(ext, p);
  if (rc == 0) rc = AGREE(amz__plan_skip_first(p));
  if (rc == 0) rc = ops->decide(ext, p);
  if (rc == 0) amz__plan_interval(p);
  if (rc == 0 && ops->ready) rc = ops->ready(ext, p);
#undef AGREE
  return amz__plan_created(p, rc, t0, plan);
}

int amz__plan_created(amz_plan_t *p, int rc, double t0, amz_plan_t **plan) {
  if (rc != 0) {
    /* amz__fail already recorded the detail where the failure happened; keep it. */
    amz_plan_destroy(p);
    return rc;
  }
  p->setup_s = amz__clock_now(p->opts.clock) - t0;
  if (p->opts.has_hooks && p->opts.hooks.on_plan_ready)
    p->opts.hooks.on_plan_ready(p, p->opts.hooks_user);
  *plan = p;
  return 0;
}

void amz_plan_destroy(amz_plan_t *p) {
  if (!p) return;
  if (p->ext_ops && p->ext_ops->destroy) p->ext_ops->destroy(p->ext);
  if (p->pool_ready) amz__pool_destroy(&p->pool);
  amz__decision_free(&p->dec);
  amz__rangeset_free(&p->sampled);
  amz__rangeset_free(&p->sampled_failed);
  amz__rangeset_free(&p->resumed);
  amz__rangeset_free(&p->skip_first);
  if (p->ckpt_open) amz__ckpt_close(&p->ckpt);
  free(p->ckpt_path);
  free(p->sample_recs);
  free(p->sample_rec_workers);
  free(p->profile);
  free(p->profile_last);
  free(p->name);
  free(p);
}

int amz_plan_workers(const amz_plan_t *p) { return p ? p->workers : 0; }
amz_schedule_t amz_plan_schedule(const amz_plan_t *p) {
  return p ? p->schedule : AMZ_SCHED_AUTO;
}
uint64_t amz_plan_chunk(const amz_plan_t *p) {
  if (!p) return 0;
  if (p->schedule == AMZ_SCHED_STATIC) {
    uint64_t W = (uint64_t)p->workers * (uint64_t)(p->ranks > 0 ? p->ranks : 1);
    return p->task.n_items / W + (p->task.n_items % W != 0);
  }
  return p->chunk ? p->chunk : 1;
}
double amz_plan_predicted_seconds(const amz_plan_t *p) { return p ? p->next_terms.total : -1.0; }
int amz_plan_predicted_interval(const amz_plan_t *p, double *lo_s, double *hi_s) {
  if (!p || !lo_s || !hi_s)
    return amz__fail(AMZ_EINVAL, "amz_plan_predicted_interval: NULL argument");
  *lo_s = p->next_iv.lo_s;
  *hi_s = p->next_iv.hi_s;
  return 0;
}
double amz_plan_predicted_speedup(const amz_plan_t *p) {
  if (!p) return -1.0;
  return p->full_terms.total > 0 ? p->serial_pred_s / p->full_terms.total : 1.0;
}
uint64_t amz_plan_sampled_items(const amz_plan_t *p) {
  return p ? amz__rangeset_items(&p->sampled) : 0;
}
double amz_plan_setup_seconds(const amz_plan_t *p) { return p ? p->setup_s : -1.0; }

int amz_plan_workload(const amz_plan_t *p, amz_workload_info_t *out) {
  if (!p || !out) return amz__fail(AMZ_EINVAL, "amz_plan_workload: NULL argument");
  const amz__workload_t *wl = &p->wl;
  *out = (amz_workload_info_t){.sampled_items = wl->sampled_items,
                               .mean_item_s = wl->mean_s,
                               .median_item_s = wl->median_s,
                               .max_item_s = wl->max_item_s,
                               .cv = wl->cv,
                               .rel_error = wl->rel_error,
                               .trend = wl->trend,
                               .cpu_ratio = wl->cpu_ratio,
                               .contention = wl->contention,
                               .contention_workers = wl->contention_workers};
  return 0;
}

int amz_plan_terms(const amz_plan_t *p, amz_terms_t *out) {
  if (!p || !out) return amz__fail(AMZ_EINVAL, "amz_plan_terms: NULL argument");
  *out = p->next_terms;
  return 0;
}

size_t amz_plan_candidate_count(const amz_plan_t *p) { return p ? p->dec.n_cands : 0; }

int amz_plan_candidate(const amz_plan_t *p, size_t i, amz_candidate_t *out) {
  if (!p || !out) return amz__fail(AMZ_EINVAL, "amz_plan_candidate: NULL argument");
  if (i >= p->dec.n_cands)
    return amz__fail(AMZ_ERANGE, "candidate index %zu out of range [0, %zu)", i,
                     p->dec.n_cands);
  *out = p->dec.cands[i];
  return 0;
}

/* After a run: the executed chunks are a census of the items' real cost. With many
 * chunks they replace the profile; with few (static) they rescale it and, where
 * they depart from it, shape it. The model of contention, CPU share and item spread
 * stays from sampling. */
#define CENSUS_MAX ((size_t)1 << 16)
/* A measured range departs from the model when its cost differs by more than this
 * from the run's level: chunk times of a plain run vary by a few percent. */
#define FIT_MIN_DEV 0.15

static void refine(void *run, amz_plan_t *p, const amz__run_state_t *st,
                   const amz_result_t *res) {
  (void)run;
  (void)res;
  const amz__exec_out_t *ex = st->ex;
  size_t n = 0;
  for (int w = 0; w < ex->workers; w++) n += ex->w[w].n_chunks;
  if (n == 0 || p->task.n_items == 0) return;
  double slow = amz__model_slowdown(&p->wl, &p->machine, ex->workers);
  double rem = remaining_fraction(p);
  if (n >= 128) {
    /* A systematic sample of at most CENSUS_MAX records (every stride-th, across
     * all workers) measures the profile as well as all of them, in bounded memory. */
    size_t stride = (n + CENSUS_MAX - 1) / CENSUS_MAX, take = (n + stride - 1) / stride, seen = 0;
    amz__sample_t *s = malloc(take * sizeof *s);
    if (!s) return;
    size_t k = 0;
    for (int w = 0; w < ex->workers; w++)
      for (size_t i = 0; i < ex->w[w].n_chunks; i++) {
        if (seen++ % stride != 0) continue;
        const amz__chunk_rec_t *c = &ex->w[w].chunks[i];
        if (c->end <= c->begin) continue;
        /* On a first run the sampled items were cut out of the chunks: scale the
         * chunk's time up to all of its items. */
        double wall = (c->t_end - c->t_start) / slow / (rem > 0 ? rem : 1.0);
        s[k++] = (amz__sample_t){c->begin, c->end, wall, wall * p->wl.cpu_ratio, 0, 0.0, 0.0, 0.0, 0};
      }
    /* The census replaces what it measures better than the sample: the cost level
     * and profile. Contention, CPU share, item spread and the sampling record stay. */
    amz__workload_t c;
    amz__workload_from_samples(&c, p->task.n_items, s, k);
    free(s);
    amz__workload_t *wl = &p->wl;
    wl->mean_s = c.mean_s;
    wl->median_s = c.median_s;
    wl->mad_s = c.mad_s;
    wl->trimmed_mean_s = c.trimmed_mean_s;
    wl->cv = c.cv;
    wl->trend = c.trend;
    if (c.max_item_s > wl->max_item_s) wl->max_item_s = c.max_item_s;
    wl->bins = c.bins;
    memcpy(wl->density, c.density, sizeof wl->density);
    memcpy(wl->cumulative, c.cumulative, sizeof wl->cumulative);
    wl->shape_runs++;
  } else {
    /* Too few chunks for a census: they still tell the cost of their ranges. The
     * level follows their total; where a range of the run departs from the model by
     * more than a noise margin (static blocks, one of which holds a costly item the
     * sample missed), the profile follows the ranges. */
    amz__sample_t *s = malloc(n * sizeof *s);
    if (!s) return;
    size_t k = 0;
    for (int w = 0; w < ex->workers; w++)
      for (size_t i = 0; i < ex->w[w].n_chunks; i++) {
        const amz__chunk_rec_t *c = &ex->w[w].chunks[i];
        if (c->end <= c->begin) continue;
        double wall = (c->t_end - c->t_start) / slow;
        /* On a first run the chunk skipped the sampled items it spans. */
        double have = (double)(c->end - c->begin);
        uint64_t skipped =
            p->runs == 0 ? amz__rangeset_items_in(&p->skip_first, c->begin, c->end) : 0;
        if (skipped < c->end - c->begin) wall *= have / (have - (double)skipped);
        s[k++] = (amz__sample_t){c->begin, c->end, wall, 0, 0, 0.0, 0.0, 0.0, 0};
      }
    amz__workload_fit_ranges(&p->wl, s, k, FIT_MIN_DEV);
    p->wl.shape_runs++;
    free(s);
  }
}

/* The threads-only run's operations: the result of this process's executor run,
 * the serial profile writer, the census refinement, the threads-only search. */
static int local_build(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
                       amz_result_t **out) {
  (void)run;
  if (rc != 0) return rc;
  const amz__exec_out_t *ex = st->ex;
  amz_result_t *res = NULL;
  rc = amz__result_build(p, ex, st->first, &res);
  if (rc != 0) return rc;
  res->wall_s = amz__clock_now(p->opts.clock) - st->t0;
  /* Measured terms: per-worker means, so that they add up to the wall time. */
  amz_terms_t *m = &res->measured;
  double par_end = ex->t_par_begin + ex->parallel_s;
  for (int w = 0; w < ex->workers; w++) {
    m->startup += ex->w[w].t_first - ex->t_par_begin;
    m->compute += ex->w[w].busy_s;
    m->dispatch += ex->w[w].dispatch_s;
    m->imbalance += par_end - ex->w[w].t_last;
  }
  m->startup /= ex->workers;
  m->compute /= ex->workers;
  m->dispatch /= ex->workers;
  m->imbalance /= ex->workers;
  m->serial = res->wall_s - ex->parallel_s;
  if (m->serial < 0) m->serial = 0;
  m->total = res->wall_s;
  *out = res;
  return 0;
}

static int local_record(void *run, amz_plan_t *p, int rc, const amz__run_state_t *st,
                        amz_result_t *res) {
  (void)run;
  res->profile_rc = amz__profile_after_run(p, res);
  if (res->profile_rc == 0 && st->ckpt_rc != 0)
    res->profile_rc = amz__fail(st->ckpt_rc, "%s", st->ckpt_msg);
  return rc;
}

static const amz__run_ops_t local_ops = {.fn = "amz_run",
                                         .build = local_build,
                                         .record = local_record,
                                         .refine = refine,
                                         .decide = decide,
                                         .predict = predict_choice};

int amz_run(amz_plan_t *p, amz_result_t **result) {
  if (!result) return amz__fail(AMZ_EINVAL, "amz_run: result (the output) is NULL");
  *result = NULL;
  if (!p) return amz__fail(AMZ_EINVAL, "amz_run: plan is NULL");
  if (p->ext_ops)
    return amz__fail(AMZ_EINVAL, "amz_run: plan '%s' is an %s plan; run it with %s", p->name,
                     p->ext_ops->kind, p->ext_ops->run_with);
  if (atomic_exchange(&p->running, 1))
    return amz__fail(AMZ_EBUSY, "amz_run: plan '%s' is already running on another thread",
                     p->name);
  return amz__plan_run(p, &local_ops, NULL, 1, result);
}

int amz__plan_run(amz_plan_t *p, const amz__run_ops_t *ops, void *run, int shows_progress,
                  amz_result_t **result) {
  const amz__clock_t *clk = p->opts.clock;
  amz__exec_out_t ex;
  memset(&ex, 0, sizeof ex);
  amz__run_state_t st = {.t0 = amz__clock_now(clk), .first = p->runs == 0, .ex = &ex};
  int rc = amz__pool_check(&p->pool, ops->fn);
  if (rc == 0) rc = amz__pool_grow(&p->pool, p->workers - 1);
  amz__exec_params_t ep = {.task = &p->task,
                           .schedule = p->schedule,
                           .workers = p->workers,
                           .chunk = p->chunk,
                           .skip = st.first ? &p->skip_first : NULL,
                           .progress_interval = p->opts.progress_interval,
                           .clock = clk,
                           .pool = &p->pool,
                           .t_origin = st.t0,
                           .retries = p->cons.retries,
                           .ckpt = st.first && p->ckpt_open ? &p->ckpt : NULL};
  /* 1. The extension's chunk source and helpers. */
  if (ops->prepare) rc = ops->prepare(run, p, rc, &ep);
  /* 2. The executor, under the progress line. */
  amz__progress_line_t line;
  const amz_hooks_t *hooks = NULL;
  void *hooks_user = NULL;
  if (rc == 0) rc = amz__progress_line_begin(&line, p, shows_progress, &hooks, &hooks_user);
  int ran = 0;
  if (rc == 0) {
    ep.hooks = hooks;
    ep.hooks_user = hooks_user;
    ep.watch = amz__plan_watch(p);
    rc = amz__execute(&ep, &ex);
    ran = 1;
    amz__progress_line_end(&line, amz__clock_now(clk) - st.t0, rc);
  }
  if (ops->executed) rc = ops->executed(run, p, rc);
  st.local_wall_s = amz__clock_now(clk) - st.t0;
  /* The first run that executed ends the checkpoint: synced, closed; a write that
   * failed on the way is reported like a profile that could not be written. */
  if (ran && st.first) st.ckpt_rc = amz__plan_ckpt_end(p);
  if (st.ckpt_rc != 0) snprintf(st.ckpt_msg, sizeof st.ckpt_msg, "%s", amz_last_error());
  /* 3. The result, merged with the extension's other processes. */
  amz_result_t *res = NULL;
  rc = ops->build(run, p, rc, &st, &res);
  if (res) {
    res->predicted_iv = p->next_iv;
    /* Outside the run's measured time, before the refinement changes the profile.
     * An MPI result holds this rank's chunks only: its profile judges all ranks. */
    if (rc == 0 && !res->ext) amz__result_slowest(res, &p->wl);
    /* A rerun's miss widens the plan's next intervals (the first run's is the
     * sample's, which the refinement below corrects). */
    if (rc == 0 && !st.first && res->predicted.total > 0) {
      memmove(p->run_err + 1, p->run_err, (AMZ__RUN_ERRORS - 1) * sizeof *p->run_err);
      p->run_err[0] = (res->wall_s - res->predicted.total) / res->predicted.total;
      if (p->n_run_err < AMZ__RUN_ERRORS) p->n_run_err++;
    }
    /* 4. The profile shows the model and the candidates this run was chosen from:
     * it is written before the model is refined and the plan searched again. */
    rc = ops->record(run, p, rc, &st, res);
    /* 5. Refine the model from the run; the next run executes all items: predict it
     * with the refined model, and search again when it is worth it. */
    if (rc == 0) ops->refine(run, p, &st, res);
    p->runs++;
    if (rc == 0)
      rc = amz__should_replan(p->runs, res->wall_s, res->predicted.total) ? ops->decide(p)
                                                                          : ops->predict(p);
    if (rc == 0) amz__plan_interval(p);
  }
  if (ops->cleanup) ops->cleanup(run);
  amz__exec_out_free(&ex);
  return amz__run_finish(p, rc, res, result);
}

const amz__watch_t *amz__plan_watch(amz_plan_t *p) {
  if (!(p->cons.timeout_s > 0)) return NULL;
  amz__watch_t *w = &p->watch;
  w->seconds = p->cons.timeout_s;
  w->factor = p->cons.timeout_factor;
  w->wl = p->wl.mean_s > 0 ? &p->wl : NULL;
  w->abort_job = p->cons.timeout_abort;
  w->task = p->name;
  if (!p->ext) w->rank = -1; /* the MPI layer sets its rank and abort */
  return w;
}

int amz__run_finish(amz_plan_t *p, int rc, amz_result_t *res, amz_result_t **result) {
  atomic_store(&p->running, 0);
  if (rc != 0) {
    amz_result_destroy(res);
    return rc;
  }
  int jrc = amz__result_judge(res);
  if (jrc != 0) {
    amz_result_destroy(res);
    return jrc;
  }
  if (p->opts.has_hooks && p->opts.hooks.on_finish) p->opts.hooks.on_finish(res, p->opts.hooks_user);
  *result = res;
  if (res->items_failed > 0)
    return amz__fail(AMZ_EITEMS, "%llu of %llu items of '%s' failed in %zu ranges%s",
                     (unsigned long long)res->items_failed, (unsigned long long)res->n_items,
                     p->name, res->failures.n, res->ext ? " (all ranks)" : "");
  /* The run is complete and its result valid; only the profile is missing.
   * amz_last_error() still holds the profile writer's detail. */
  return res->profile_rc;
}

int amz_for(const amz_task_t *task, const amz_options_t *opts, amz_result_t **result) {
  if (!result) return amz__fail(AMZ_EINVAL, "amz_for: result (the output) is NULL");
  *result = NULL;
  amz_plan_t *p = NULL;
  int rc = amz_plan_create(task, opts, &p);
  if (rc != 0) return rc;
  rc = amz_run(p, result);
  if (*result) (*result)->setup_s = p->setup_s;
  amz_plan_destroy(p);
  return rc;
}
