/* Options, their environment overrides (parsed strictly) and schedule names. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char *const sched_names[AMZ_SCHED_COUNT] = {
    "auto", "static", "cyclic", "dynamic", "guided", "factoring", "awf"};

const char *amz_schedule_name(amz_schedule_t s) {
  if ((int)s < 0 || (int)s >= AMZ_SCHED_COUNT) return "invalid";
  return sched_names[s];
}

int amz_schedule_parse(const char *name, amz_schedule_t *out) {
  if (!name || !out) return amz__fail(AMZ_EINVAL, "amz_schedule_parse: NULL argument");
  for (int i = 0; i < AMZ_SCHED_COUNT; i++)
    if (strcasecmp(name, sched_names[i]) == 0) {
      *out = (amz_schedule_t)i;
      return 0;
    }
  return amz__fail(AMZ_ESCHED,
                   "unknown schedule '%s'; expected one of auto, static, cyclic, dynamic, "
                   "guided, factoring, awf",
                   name);
}

void amz__options_defaults(amz_options_t *o) {
  memset(o, 0, sizeof *o);
  o->sample_seconds = 0.25;
  o->sample_rel_error = 0.03;
  o->progress_interval = 0.5;
  o->progress_delay = 1.0;
  o->use_env = 1;
  o->retries = -1;
}

int amz_options_create(amz_options_t **opts) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_create: opts is NULL");
  amz_options_t *o = malloc(sizeof *o);
  if (!o) return amz__fail(AMZ_ENOMEM, "amz_options_create: out of memory");
  amz__options_defaults(o);
  *opts = o;
  return 0;
}

void amz_options_destroy(amz_options_t *opts) {
  if (!opts) return;
  free(opts->cache_dir);
  free(opts->profile);
  free(opts->checkpoint);
  free(opts);
}

int amz_options_set_ranks(amz_options_t *opts, int ranks) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_ranks: opts is NULL");
  if (ranks < 0)
    return amz__fail(AMZ_EINVAL, "ranks must be >= 0 (0 = choose), got %d", ranks);
  opts->ranks = ranks;
  return 0;
}

int amz_options_set_workers(amz_options_t *opts, int workers) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_workers: opts is NULL");
  if (workers < 0 || workers > AMZ__MAX_WORKERS)
    return amz__fail(AMZ_EINVAL, "workers must be in [0, %d] (0 = choose), got %d",
                     AMZ__MAX_WORKERS, workers);
  opts->workers = workers;
  return 0;
}

int amz_options_set_schedule(amz_options_t *opts, amz_schedule_t schedule) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_schedule: opts is NULL");
  if ((int)schedule < 0 || (int)schedule >= AMZ_SCHED_COUNT)
    return amz__fail(AMZ_ESCHED, "schedule must be an amz_schedule_t in [0, %d], got %d",
                     AMZ_SCHED_COUNT - 1, (int)schedule);
  opts->schedule = schedule;
  return 0;
}

int amz_options_set_chunk(amz_options_t *opts, uint64_t items) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_chunk: opts is NULL");
  opts->chunk = items;
  return 0;
}

int amz_options_set_sampling(amz_options_t *opts, double max_seconds, double rel_error) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_sampling: opts is NULL");
  if (!(max_seconds > 0.0) || max_seconds > 3600.0)
    return amz__fail(AMZ_EINVAL, "sampling budget must be in (0, 3600] seconds, got %g",
                     max_seconds);
  if (!(rel_error > 0.0 && rel_error < 1.0))
    return amz__fail(AMZ_EINVAL, "sampling error target must be in (0, 1), got %g",
                     rel_error);
  opts->sample_seconds = max_seconds;
  opts->sample_rel_error = rel_error;
  return 0;
}

int amz_options_set_hooks(amz_options_t *opts, const amz_hooks_t *hooks, void *user) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_hooks: opts is NULL");
  if (hooks) {
    opts->hooks = *hooks;
    opts->has_hooks = 1;
  } else {
    memset(&opts->hooks, 0, sizeof opts->hooks);
    opts->has_hooks = 0;
  }
  opts->hooks_user = user;
  return 0;
}

int amz_options_set_progress_interval(amz_options_t *opts, double seconds) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_progress_interval: opts is NULL");
  if (!(seconds >= 0.0))
    return amz__fail(AMZ_EINVAL, "progress interval must be >= 0 seconds, got %g", seconds);
  opts->progress_interval = seconds;
  return 0;
}

int amz_options_set_cache_dir(amz_options_t *opts, const char *dir) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_cache_dir: opts is NULL");
  char *copy = NULL;
  if (dir && dir[0]) {
    copy = strdup(dir);
    if (!copy) return amz__fail(AMZ_ENOMEM, "amz_options_set_cache_dir: out of memory");
  }
  free(opts->cache_dir);
  opts->cache_dir = copy;
  opts->cache_set = 1;
  return 0;
}

int amz_options_set_profile(amz_options_t *opts, const char *path) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_profile: opts is NULL");
  char *copy = NULL;
  if (path && path[0]) {
#ifdef AMZ_NO_PROFILE
    return amz__fail(AMZ_ENOTSUP,
                     "amz_options_set_profile('%s'): this build writes no profiles "
                     "(configured with AMORSIZE_PROFILE=OFF, without HDF5)",
                     path);
#endif
    char probe[4096];
    int rc = amz__profile_expand(path, 1, probe, sizeof probe);
    if (rc != 0) return rc;
    copy = strdup(path);
    if (!copy) return amz__fail(AMZ_ENOMEM, "amz_options_set_profile: out of memory");
  }
  free(opts->profile);
  opts->profile = copy;
  return 0;
}

int amz_options_set_profile_overwrite(amz_options_t *opts, int overwrite) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_profile_overwrite: opts is NULL");
  opts->profile_overwrite = overwrite != 0;
  return 0;
}

int amz_options_set_progress_line(amz_options_t *opts, int mode) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_progress_line: opts is NULL");
  if (mode != AMZ_PROGRESS_AUTO && mode != AMZ_PROGRESS_ON && mode != AMZ_PROGRESS_OFF)
    return amz__fail(AMZ_EINVAL,
                     "progress line mode must be AMZ_PROGRESS_AUTO (0), _ON (1) or _OFF (2), "
                     "got %d",
                     mode);
  opts->progress_line = mode;
  return 0;
}

int amz_options_set_retries(amz_options_t *opts, int retries) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_retries: opts is NULL");
  if (retries < 0 || retries > AMZ__MAX_RETRIES)
    return amz__fail(AMZ_EINVAL, "retries must be in [0, %d] (extra attempts for a failing "
                     "item), got %d", AMZ__MAX_RETRIES, retries);
  opts->retries = retries;
  return 0;
}

int amz_options_set_checkpoint(amz_options_t *opts, const char *path) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_checkpoint: opts is NULL");
  char *copy = NULL;
  if (path && path[0]) {
    if (strlen(path) >= AMZ__PATH_MAX)
      return amz__fail(AMZ_EINVAL, "checkpoint path is %zu bytes long; at most %d are supported",
                       strlen(path), AMZ__PATH_MAX - 1);
    copy = strdup(path);
    if (!copy) return amz__fail(AMZ_ENOMEM, "amz_options_set_checkpoint: out of memory");
  }
  free(opts->checkpoint);
  opts->checkpoint = copy;
  opts->checkpoint_set = 1;
  return 0;
}

int amz_options_set_timeout(amz_options_t *opts, double seconds, double factor,
                            amz_timeout_action_t action) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_timeout: opts is NULL");
  if (!(seconds >= 0 && seconds <= AMZ__TIMEOUT_MAX_S))
    return amz__fail(AMZ_EINVAL, "timeout seconds must be in [0, %g] (0 = no seconds bound), "
                                 "got %g", AMZ__TIMEOUT_MAX_S, seconds);
  if (!(factor == 0 || (factor >= 1 && factor <= AMZ__TIMEOUT_MAX_S)))
    return amz__fail(AMZ_EINVAL, "timeout factor must be 0 (none) or in [1, %g] (times the "
                                 "predicted time of a call), got %g", AMZ__TIMEOUT_MAX_S, factor);
  if (action != AMZ_TIMEOUT_ERROR && action != AMZ_TIMEOUT_ABORT)
    return amz__fail(AMZ_EINVAL, "timeout action must be AMZ_TIMEOUT_ERROR (0) or "
                                 "AMZ_TIMEOUT_ABORT (1), got %d", (int)action);
  opts->timeout_s = seconds;
  opts->timeout_factor = factor;
  opts->timeout_abort = action == AMZ_TIMEOUT_ABORT;
  return 0;
}

/* DIGITS[.DIGITS] followed by `unit` (or by nothing when unit_optional), positive
 * and at most AMZ__TIMEOUT_MAX_S: no sign, exponent, space or hexadecimal. */
static int parse_amount(const char *tok, size_t len, char unit, int unit_optional, double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, tok, len);
  buf[len] = '\0';
  size_t i = 0, digits = 0;
  while (isdigit((unsigned char)buf[i])) i++, digits++;
  if (buf[i] == '.') {
    i++;
    while (isdigit((unsigned char)buf[i])) i++, digits++;
  }
  if (digits == 0) return -1;
  if (buf[i] == unit) buf[i++] = '\0';
  else if (!unit_optional) return -1;
  if (buf[i] != '\0') return -1;
  double v = strtod(buf, NULL);
  if (!(v > 0 && v <= AMZ__TIMEOUT_MAX_S)) return -1;
  *out = v;
  return 0;
}

int amz__timeout_parse(const char *v, double *seconds, double *factor, int *abort_job) {
  *seconds = 0;
  *factor = 0;
  *abort_job = 0;
  if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0) return 0;
  int have_s = 0, have_x = 0, have_action = 0;
  const char *p = v;
  for (;;) {
    size_t len = strcspn(p, ",");
    if (len == 5 && strncmp(p, "error", 5) == 0 && !have_action) {
      have_action = 1;
    } else if (len == 5 && strncmp(p, "abort", 5) == 0 && !have_action) {
      have_action = 1;
      *abort_job = 1;
    } else if (len > 0 && p[len - 1] == 'x' && !have_x) {
      if (parse_amount(p, len, 'x', 0, factor) != 0 || *factor < 1) return -1;
      have_x = 1;
    } else if (!have_s && parse_amount(p, len, 's', 1, seconds) == 0) {
      have_s = 1;
    } else {
      return -1;
    }
    if (p[len] == '\0') break;
    p += len + 1;
  }
  return have_s || have_x ? 0 : -1;
}

int amz_options_set_use_env(amz_options_t *opts, int use_env) {
  if (!opts) return amz__fail(AMZ_EINVAL, "amz_options_set_use_env: opts is NULL");
  opts->use_env = use_env != 0;
  return 0;
}

int amz__constraints_resolve(const amz_options_t *o, amz__constraints_t *c) {
  c->workers = o->workers;
  c->schedule = o->schedule;
  c->chunk = o->chunk;
  c->workers_from = o->workers ? "option" : NULL;
  c->ranks = o->ranks;
  c->ranks_from = o->ranks ? "option" : NULL;
  c->schedule_from = o->schedule != AMZ_SCHED_AUTO ? "option" : NULL;
  c->chunk_from = o->chunk ? "option" : NULL;
  c->retries = o->retries > 0 ? o->retries : 0;
  c->retries_from = o->retries >= 0 ? "option" : NULL;
  c->timeout_s = o->timeout_s;
  c->timeout_factor = o->timeout_factor;
  c->timeout_abort = o->timeout_abort;
  c->timeout_from = o->timeout_s > 0 || o->timeout_factor > 0 ? "option" : NULL;
  if (o->use_env) {
    const char *v;
    uint64_t u;
    if ((v = getenv("AMZ_WORKERS")) != NULL) {
      if (amz__parse_u64(v, &u) != 0 || u > AMZ__MAX_WORKERS)
        return amz__fail(AMZ_EENV,
                         "AMZ_WORKERS must be an integer in [0, %d] (0 = choose), got '%s'",
                         AMZ__MAX_WORKERS, v);
      c->workers = (int)u;
      c->workers_from = u ? "AMZ_WORKERS" : NULL;
    }
    if ((v = getenv("AMZ_RANKS")) != NULL) {
      if (amz__parse_u64(v, &u) != 0 || u > INT32_MAX)
        return amz__fail(AMZ_EENV,
                         "AMZ_RANKS must be a non-negative integer (ranks, 0 = choose), got '%s'",
                         v);
      c->ranks = (int)u;
      c->ranks_from = u ? "AMZ_RANKS" : NULL;
    }
    if ((v = getenv("AMZ_SCHEDULE")) != NULL) {
      amz_schedule_t s;
      if (amz_schedule_parse(v, &s) != 0)
        return amz__fail(AMZ_EENV,
                         "AMZ_SCHEDULE must be one of auto, static, cyclic, dynamic, guided, "
                         "factoring, awf, got '%s'",
                         v);
      c->schedule = s;
      c->schedule_from = s != AMZ_SCHED_AUTO ? "AMZ_SCHEDULE" : NULL;
    }
    if ((v = getenv("AMZ_RETRIES")) != NULL) {
      if (amz__parse_u64(v, &u) != 0 || u > AMZ__MAX_RETRIES)
        return amz__fail(AMZ_EENV,
                         "AMZ_RETRIES must be an integer in [0, %d] (extra attempts for a "
                         "failing item), got '%s'",
                         AMZ__MAX_RETRIES, v);
      c->retries = (int)u;
      c->retries_from = "AMZ_RETRIES";
    }
    if ((v = getenv("AMZ_TIMEOUT")) != NULL) {
      if (amz__timeout_parse(v, &c->timeout_s, &c->timeout_factor, &c->timeout_abort) != 0)
        return amz__fail(AMZ_EENV,
                         "AMZ_TIMEOUT must be 'off' or a comma list of SECONDS[s], FACTORx "
                         "(at least 1) and one of error, abort (e.g. '600', '20x,abort'), "
                         "got '%s'",
                         v);
      c->timeout_from = c->timeout_s > 0 || c->timeout_factor > 0 ? "AMZ_TIMEOUT" : NULL;
    }
    if ((v = getenv("AMZ_CHUNK")) != NULL) {
      if (amz__parse_u64(v, &u) != 0)
        return amz__fail(AMZ_EENV,
                         "AMZ_CHUNK must be a non-negative integer (items, 0 = choose), got '%s'",
                         v);
      c->chunk = u;
      c->chunk_from = u ? "AMZ_CHUNK" : NULL;
    }
  }
  /* A factor alone still waits a floor: short calls vary a lot. */
  if (c->timeout_factor > 0 && c->timeout_s == 0) c->timeout_s = AMZ__TIMEOUT_FLOOR_S;
  if (c->schedule == AMZ_SCHED_STATIC && c->chunk > 0)
    return amz__fail(AMZ_ECONFLICT,
                     "schedule static (from %s) takes no chunk, but chunk = %llu (from %s); "
                     "use cyclic for fixed chunks dealt round-robin",
                     c->schedule_from, (unsigned long long)c->chunk, c->chunk_from);
  return 0;
}
