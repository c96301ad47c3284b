/* The progress line: on the process that owns the terminal (rank 0 under MPI), a
 * throttled one-line status on stderr with the throughput and the time left, from
 * the model and from the rate so far:
 *
 *   amorsize: rows   45%  720/1600 items  2.1k items/s  1.2 s  ETA 0.4 s (model), 0.5 s (rate)
 *
 * It rides on the executor's progress hook (throttled by the progress interval),
 * wrapping the user's own hooks so that they still see their own argument. Off by
 * default unless stderr is a terminal and $CI is unset; runs shorter than a second
 * print nothing, longer ones end with "amorsize: TASK done in 2.31 s". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int amz__progress_mode_resolve(const amz_options_t *o, int *mode) {
  *mode = o->progress_line;
  if (o->use_env) {
    const char *v = getenv("AMZ_PROGRESS");
    if (v) {
      if (strcmp(v, "auto") == 0) *mode = AMZ_PROGRESS_AUTO;
      else if (strcmp(v, "on") == 0) *mode = AMZ_PROGRESS_ON;
      else if (strcmp(v, "off") == 0) *mode = AMZ_PROGRESS_OFF;
      else return amz__fail(AMZ_EENV, "AMZ_PROGRESS must be auto, on or off, got '%s'", v);
    }
  }
  return 0;
}

static void on_progress(const amz_progress_t *pr, void *arg) {
  amz__progress_line_t *pl = arg;
  if (pl->user && pl->user->on_progress) pl->user->on_progress(pr, pl->user_arg);
  /* Runs shorter than a second stay silent: iterative codes call short loops often. */
  if (!pl->shown && pr->elapsed_s < pl->delay_s) return;
  char el[32], eta_m[32], eta_r[32];
  double frac = pr->items_total ? (double)pr->items_done / (double)pr->items_total : 1.0;
  double rate = pr->items_per_s;
  const char *unit = "";
  if (rate >= 1e6) {
    rate /= 1e6;
    unit = "M";
  } else if (rate >= 1e3) {
    rate /= 1e3;
    unit = "k";
  }
  double model_left = pl->predicted_s - pr->elapsed_s;
  fprintf(pl->out, "\ramorsize: %.24s %4.0f%%  %llu/%llu items  %.1f%s items/s  %s", pl->task,
          100.0 * frac, (unsigned long long)pr->items_done, (unsigned long long)pr->items_total,
          rate, unit, amz__fmt_seconds(el, sizeof el, pr->elapsed_s));
  if (pr->items_done < pr->items_total) {
    fprintf(pl->out, "  ETA %s (model)",
            amz__fmt_seconds(eta_m, sizeof eta_m, model_left > 0 ? model_left : 0));
    if (isfinite(pr->eta_s))
      fprintf(pl->out, ", %s (rate)", amz__fmt_seconds(eta_r, sizeof eta_r, pr->eta_s));
  }
  fputs("   ", pl->out); /* covers the tail of a longer previous line */
  fflush(pl->out);
  pl->shown = 1;
}

static void on_chunk_done(const amz_chunk_info_t *c, void *arg) {
  amz__progress_line_t *pl = arg;
  pl->user->on_chunk_done(c, pl->user_arg);
}

static void on_error(uint64_t b, uint64_t e, int code, int worker, void *arg) {
  amz__progress_line_t *pl = arg;
  pl->user->on_error(b, e, code, worker, pl->user_arg);
}

int amz__progress_line_begin(amz__progress_line_t *pl, const amz_plan_t *p, int owner,
                             const amz_hooks_t **hooks, void **hooks_user) {
  memset(pl, 0, sizeof *pl);
  *hooks = p->opts.has_hooks ? &p->opts.hooks : NULL;
  *hooks_user = p->opts.hooks_user;
  int mode = AMZ_PROGRESS_OFF;
  int rc = amz__progress_mode_resolve(&p->opts, &mode);
  if (rc != 0) return rc;
  pl->out = p->opts.progress_out ? p->opts.progress_out : stderr;
  int on = mode == AMZ_PROGRESS_ON ||
           (mode == AMZ_PROGRESS_AUTO && isatty(fileno(pl->out)) && !getenv("CI"));
  if (!owner || !on) return 0;
  pl->active = 1;
  pl->user = *hooks;
  pl->user_arg = *hooks_user;
  pl->task = p->name;
  pl->predicted_s = p->next_terms.total;
  pl->delay_s = p->opts.progress_delay;
  pl->hooks.on_progress = on_progress;
  pl->hooks.on_chunk_done = pl->user && pl->user->on_chunk_done ? on_chunk_done : NULL;
  pl->hooks.on_error = pl->user && pl->user->on_error ? on_error : NULL;
  *hooks = &pl->hooks;
  *hooks_user = pl;
  return 0;
}

void amz__progress_line_end(amz__progress_line_t *pl, double wall_s, int rc) {
  if (!pl->active) return;
  char w[32];
  if (pl->shown)
    fprintf(pl->out, "\ramorsize: %.24s %s in %s%40s\n", pl->task, rc == 0 ? "done" : "stopped",
            amz__fmt_seconds(w, sizeof w, wall_s), "");
  fflush(pl->out);
}
