/* Figures every command derives the same way from a profile. */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "internal.h"

const char *amz_cli_seconds(char *buf, size_t len, double s) {
  return amz__fmt_seconds(buf, len, s);
}

void amz_cli_stats(const amz_profile_t *p, amz_cli_stats_t *s) {
  memset(s, 0, sizeof *s);
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_worker_t *w;
  size_t nw = amz_profile_workers(p, &w);
  s->workers = (int)nw;
  for (size_t i = 0; i < nw; i++) {
    s->busy_s += w[i].busy_s;
    s->dispatch_s += w[i].dispatch_s;
    s->idle_s += w[i].idle_s;
    s->data_s += w[i].data_s;
  }
  const amz_profile_chunk_t *c;
  size_t nc = amz_profile_chunks(p, &c);
  for (size_t i = 0; i < nc; i++) {
    if (i == 0 || c[i].t_start < s->t_min) s->t_min = c[i].t_start;
    if (i == 0 || c[i].t_end > s->t_max) s->t_max = c[i].t_end;
    if (c[i].sampled) continue;
    s->run_chunks++;
  }
  /* No schedule ends before its costliest item does. The sampled maximum stands
   * for it: chunk durations would include preemption and other stalls. */
  s->longest_item_s = amz_profile_model(p)->max_item_s;
  s->lower_bound_s = nw ? s->busy_s / (double)nw : 0;
  if (s->longest_item_s > s->lower_bound_s) s->lower_bound_s = s->longest_item_s;
  s->efficiency = in->wall_s > 0 ? s->lower_bound_s / in->wall_s : 0;
  s->speedup = in->wall_s > 0 ? s->busy_s / in->wall_s : 0;
  s->pred_error = in->predicted_s > 0 ? (in->wall_s - in->predicted_s) / in->predicted_s : 0;
}
