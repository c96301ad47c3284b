/*
 * `amorsize html`: one self-contained page that shows one or several run profiles.
 *
 * The page carries its own CSS and draws every chart as inline SVG, so that it can be
 * mailed, attached to a ticket or archived next to the profile and still open years
 * later without a network. It is also well-formed XML (XHTML served as HTML), which
 * lets tests check it with an XML parser and lets users post-process it with XSLT or
 * any XML library.
 *
 * Everything is written straight to the stream, in one pass per section. The only
 * memory used in proportion to the input is the timeline's aggregation grid (rows x
 * pixel columns, bounded) and a few small per-worker indexes, so a profile with a
 * million chunks over thousands of workers renders in a fraction of a second into a
 * page of well under a megabyte.
 *
 * Output is a pure function of the profiles and the paths (no clock, no randomness), so
 * that golden-file tests can compare pages byte for byte. Numbers go through printf,
 * so the tool must keep the C numeric locale: a decimal comma would break the SVG.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "html.h"

/* ------------------------------------------------------------------------------ */
/* Summary                                                                         */
/* ------------------------------------------------------------------------------ */

/* The sign and colour of a prediction error: slower than predicted is bad news. */
static const char *error_class(double e) {
  double v = html_pct(e);
  return v > 0 ? "up" : v < 0 ? "down" : "none";
}

static void kpi(FILE *out, const char *label, const char *value, const char *sub,
                const char *sub_class) {
  fprintf(out, "<div class=\"kpi\"><div class=\"l\">%s</div><div class=\"v\">", label);
  html_put_text(out, value);
  fputs("</div>", out);
  if (sub) {
    fprintf(out, "<div class=\"s%s%s\">", sub_class ? " " : "", sub_class ? sub_class : "");
    html_put_text(out, sub);
    fputs("</div>", out);
  }
  fputs("</div>\n", out);
}

/* A row of the details list; value is profile text, escaped, or "none" when empty. */
static void kv_text(FILE *out, const char *key, const char *value, int as_code) {
  fprintf(out, "<dt>%s</dt><dd>", key);
  if (!value || !value[0]) {
    fputs("<span class=\"none\">none</span>", out);
  } else {
    if (as_code) fputs("<code>", out);
    html_put_text(out, value);
    if (as_code) fputs("</code>", out);
  }
  fputs("</dd>\n", out);
}

/* The schedule as one phrase: static splits evenly and has no chunk parameter. */
static void schedule_phrase(char *buf, size_t len, const char *schedule, uint64_t chunk) {
  if (chunk == 0)
    snprintf(buf, len, "%s", schedule);
  else
    snprintf(buf, len, "%s, chunk %llu", schedule, (unsigned long long)chunk);
}

static void summary(FILE *out, const amz_profile_t *p, const amz_cli_stats_t *st) {
  const amz_profile_info_t *in = amz_profile_info(p);
  char a[48], b[48], v[96], s[128];

  fputs("<div class=\"kpis\">\n", out);
  kpi(out, "Wall time", html_secs(a, sizeof a, in->wall_s), "measured run", NULL);
  if (in->predicted_s > 0) {
    double e = html_pct(st->pred_error);
    if (e == 0) snprintf(s, sizeof s, "run as predicted");
    else snprintf(s, sizeof s, "run %.1f%% %s", fabs(e), e > 0 ? "slower" : "faster");
    kpi(out, "Predicted", html_secs(a, sizeof a, in->predicted_s), s, error_class(st->pred_error));
  } else {
    kpi(out, "Predicted", "n/a", "no prediction recorded", NULL);
  }
  /* Efficiency and speedup divide by the wall time, which a run of nothing lacks. */
  int timed = in->wall_s > 0;
  if (timed) snprintf(v, sizeof v, "%.1f%%", html_pct(st->efficiency));
  else snprintf(v, sizeof v, "n/a");
  snprintf(s, sizeof s, "kernel time / (workers \xC3\x97 wall)");
  kpi(out, "Efficiency", v, s, NULL);
  if (timed) snprintf(v, sizeof v, "%.2f\xC3\x97", html_fin(st->speedup));
  else snprintf(v, sizeof v, "n/a");
  kpi(out, "Speedup", v, "kernel time / wall", NULL);
  snprintf(v, sizeof v, "%d", st->workers);
  snprintf(s, sizeof s, "%d rank%s \xC3\x97 %d thread%s", in->ranks_used,
           in->ranks_used == 1 ? "" : "s", in->threads, in->threads == 1 ? "" : "s");
  kpi(out, "Workers", v, s, NULL);
  snprintf(s, sizeof s, "%s done, %llu failed", amz_cli_count(b, sizeof b, in->items_done),
           (unsigned long long)in->items_failed);
  kpi(out, "Items", amz_cli_count(a, sizeof a, in->n_items), s, in->items_failed ? "up" : NULL);
  fputs("</div>\n<dl class=\"kv\">\n", out);

  kv_text(out, "Task", in->task, 0);
  snprintf(v, sizeof v, "%s%s%s", in->kind, strcmp(in->kind, "mpi") == 0 ? ", " : "",
           strcmp(in->kind, "mpi") == 0 ? in->mode : "");
  kv_text(out, "Kind", v, 0);
  snprintf(v, sizeof v, "%d used of %d launched, on %d node%s; %d thread%s per rank",
           in->ranks_used, in->ranks_launched, in->nodes, in->nodes == 1 ? "" : "s", in->threads,
           in->threads == 1 ? "" : "s");
  kv_text(out, "Ranks", v, 0);
  schedule_phrase(v, sizeof v, in->schedule, in->chunk);
  kv_text(out, "Schedule", v, 0);
  snprintf(v, sizeof v, "%s of %s", amz_cli_count(a, sizeof a, in->items_done),
           amz_cli_count(b, sizeof b, in->n_items));
  fprintf(out, "<dt>Items done</dt><dd>%s", v);
  fprintf(out, ", <span class=\"%s\">%s failed</span>", in->items_failed ? "up" : "none",
          amz_cli_count(a, sizeof a, in->items_failed));
  if (in->sampled_items)
    fprintf(out, " (%s while sampling)", amz_cli_count(a, sizeof a, in->sampled_items));
  fputs("</dd>\n", out);
  fprintf(out, "<dt>Chunks</dt><dd>%s run", amz_cli_count(a, sizeof a, in->chunks_total));
  if (in->chunks_dropped)
    fprintf(out, ", %s beyond the record bound (not in the chunk table)",
            amz_cli_count(a, sizeof a, in->chunks_dropped));
  fputs("</dd>\n", out);
  fprintf(out, "<dt>Wall vs predicted</dt><dd>%s measured, %s predicted",
          html_secs(a, sizeof a, in->wall_s), html_secs(b, sizeof b, in->predicted_s));
  if (in->predicted_s > 0)
    fprintf(out, " (<span class=\"%s\">%+.1f%%</span>)", error_class(st->pred_error),
            html_pct(st->pred_error));
  if (in->predicted_hi_s > 0) {
    fprintf(out, "; interval %s to %s (widest part: ", html_secs(a, sizeof a, in->predicted_lo_s),
            html_secs(b, sizeof b, in->predicted_hi_s));
    html_put_text(out, in->predicted_widest);
    fprintf(out, "), the run fell %s",
            in->wall_s > in->predicted_hi_s   ? "above it"
            : in->wall_s < in->predicted_lo_s ? "below it"
                                              : "inside");
  }
  fputs("</dd>\n", out);
  fprintf(out,
          "<dt>Efficiency</dt><dd>%.1f%%: the workers ran the kernel that share of the wall "
          "time (speedup over workers)</dd>\n<dt>Lower bound</dt><dd>%s: the larger of the "
          "busy time per worker and the costliest item; no schedule beats it</dd>\n",
          html_pct(st->efficiency), html_secs(a, sizeof a, st->lower_bound_s));
  fprintf(out,
          "<dt>Speedup</dt><dd>%.2f\xC3\x97: kernel time %s summed over workers, over the wall "
          "time (predicted serial time %s)</dd>\n",
          html_fin(st->speedup), html_secs(a, sizeof a, st->busy_s),
          html_secs(b, sizeof b, in->predicted_serial_s));
  fprintf(out, "<dt>Setup</dt><dd>%s (probe, sampling and planning); mean item %s</dd>\n",
          html_secs(a, sizeof a, in->setup_s), html_secs(b, sizeof b, in->mean_item_s));
  kv_text(out, "Plan: why", in->plan_why, 0);
  kv_text(out, "Created", in->created, 0);
  kv_text(out, "Host", in->host, 0);
  const amz_profile_node_t *nodes;
  if (amz_profile_nodes(p, &nodes) > 0) {
    char mem[48];
    snprintf(mem, sizeof mem, "%.1f GiB", html_fin((double)nodes[0].mem_bytes / 1073741824.0));
    fprintf(out, "<dt>Machine</dt><dd>");
    html_put_text(out, nodes[0].cpu_model);
    fprintf(out, "%s%d cores, %d PUs, %s RAM%s</dd>\n", nodes[0].cpu_model[0] ? "; " : "",
            nodes[0].cores, nodes[0].pus, mem,
            nodes[0].shared ? "; ranks' bindings overlap (oversubscribed)" : "");
  }
  if (in->slurm_job_id[0]) kv_text(out, "Slurm job", in->slurm_job_id, 0);
  if (in->mpi_library[0]) kv_text(out, "MPI library", in->mpi_library, 0);
  kv_text(out, "Command line", in->command_line, 1);
  snprintf(v, sizeof v, "Amorsize %s, schema %d, run %d of its plan", in->library_version,
           in->schema_version, in->run_index);
  kv_text(out, "Written by", v, 0);
  fputs("</dl>\n", out);
}

/* ------------------------------------------------------------------------------ */
/* Timeline                                                                        */
/* ------------------------------------------------------------------------------ */

typedef struct wkey {
  int rank, thread;
} wkey_t;

static int wkey_cmp(const void *a, const void *b) {
  const wkey_t *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  if (x->thread != y->thread) return x->thread < y->thread ? -1 : 1;
  return 0;
}

/* The index of (rank, thread) in the sorted keys; keys cover every chunk's worker. */
static size_t wkey_find(const wkey_t *k, size_t n, int rank, int thread) {
  size_t lo = 0, hi = n;
  wkey_t want = {rank, thread};
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = wkey_cmp(&k[mid], &want);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return 0; /* unreachable: every chunk's key was inserted */
}

/* A drawn row: one worker, or several merged when there are too many to draw. */
typedef struct grow {
  int rank0, rank1;     /* ranks of the first and last worker in the row */
  int thread0, thread1; /* threads of the first and last worker */
  int workers;          /* workers merged into the row */
} grow_t;

/* How workers map to rows. */
enum { ROWS_WORKER, ROWS_THREADS, ROWS_RANK, ROWS_RANKS };

static void row_label(char *buf, size_t len, const grow_t *r, int how) {
  switch (how) {
  case ROWS_WORKER: snprintf(buf, len, "r%d t%d", r->rank0, r->thread0); break;
  case ROWS_THREADS:
    if (r->thread0 == r->thread1) snprintf(buf, len, "r%d t%d", r->rank0, r->thread0);
    else snprintf(buf, len, "r%d t%d\xE2\x80\x93%d", r->rank0, r->thread0, r->thread1);
    break;
  case ROWS_RANK: snprintf(buf, len, "r%d", r->rank0); break;
  default:
    if (r->rank0 == r->rank1) snprintf(buf, len, "r%d", r->rank0);
    else snprintf(buf, len, "r%d\xE2\x80\x93%d", r->rank0, r->rank1);
  }
}

/* Each chunk as its own rect with a tooltip: only for small tables, where it shows
 * individual chunk boundaries and lets the reader hover for details. */
static void gantt_detail(FILE *out, const amz_profile_chunk_t *c, size_t nc, const wkey_t *keys,
                         size_t nk, const int *row_of, double t0, double span, double y0,
                         double rh, unsigned char *parity) {
  char a[40], b[40], d[40];
  for (size_t i = 0; i < nc; i++) {
    int row = row_of[wkey_find(keys, nk, c[i].rank, c[i].thread)];
    double x = GANTT_L + (c[i].t_start - t0) / span * GANTT_PW;
    double w = (c[i].t_end - c[i].t_start) / span * GANTT_PW;
    if (!(w >= 0.6)) w = 0.6; /* a zero-length chunk stays visible as a hairline */
    const char *cls = c[i].status ? "cf" : c[i].sampled ? "cs" : parity[row] ? "c1" : "c0";
    if (!c[i].status && !c[i].sampled) parity[row] ^= 1;
    fprintf(out,
            "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
            "<title>r%d t%d: items [%llu, %llu), %s to %s (%s)",
            cls, html_co(x), html_co(y0 + row * rh + 1.5), html_co(w), html_co(rh - 3), c[i].rank, c[i].thread,
            (unsigned long long)c[i].begin, (unsigned long long)c[i].end,
            html_secs(a, sizeof a, c[i].t_start), html_secs(b, sizeof b, c[i].t_end),
            html_secs(d, sizeof d, c[i].t_end - c[i].t_start));
    if (c[i].sampled) fputs(", sampling block", out);
    if (c[i].status) fprintf(out, ", failed with status %d", c[i].status);
    else fputs(", status 0", out);
    fputs("</title></rect>\n", out);
  }
}

/* The busy share of every (row, pixel column), split by kind, drawn as runs of equal
 * shade. Kinds: 0 run, 1 sampling, 2 failed. Each run becomes a subpath of the row's
 * path for its shade, which keeps the output near 20 bytes per run however many
 * chunks fall into a column. */
static int gantt_aggregate(FILE *out, const amz_profile_chunk_t *c, size_t nc,
                           const wkey_t *keys, size_t nk, const int *row_of, const grow_t *rows,
                           size_t nrows, double t0, double span, double y0, double rh) {
  const size_t cols = GANTT_PW;
  double *acc = calloc(nrows * cols * 3, sizeof *acc);
  unsigned char *shade = malloc(cols);
  if (!acc || !shade) {
    free(acc);
    free(shade);
    return -1;
  }
  /* acc holds, per row, column and kind, the busy time in units of one column's width,
   * so that a column fully busy on every worker of its row adds up to the row's worker
   * count. */
  double dt = span / (double)cols;
  for (size_t i = 0; i < nc; i++) {
    int row = row_of[wkey_find(keys, nk, c[i].rank, c[i].thread)];
    int kind = c[i].status ? 2 : c[i].sampled ? 1 : 0;
    double x0 = (c[i].t_start - t0) / dt, x1 = (c[i].t_end - t0) / dt;
    if (!(x0 >= 0)) x0 = 0;
    if (!(x1 <= (double)cols)) x1 = (double)cols;
    if (x1 < x0) x1 = x0;
    size_t first = (size_t)x0, last = (size_t)ceil(x1);
    if (first >= cols) first = cols - 1;
    if (last <= first) last = first + 1;
    if (last > cols) last = cols;
    double *a = acc + ((size_t)row * cols) * 3;
    for (size_t col = first; col < last; col++) {
      double ov = fmin(x1, (double)col + 1) - fmax(x0, (double)col);
      /* A failed chunk shorter than a column must still turn its column red. */
      if (kind == 2 && ov < 1e-3) ov = 1e-3;
      if (ov > 0) a[col * 3 + (size_t)kind] += ov;
    }
  }
  static const char kind_char[3] = {'g', 's', 'f'};
  for (size_t r = 0; r < nrows; r++) {
    const double *a = acc + (r * cols) * 3;
    double cap = rows[r].workers > 0 ? (double)rows[r].workers : 1;
    /* Shade code: 0 = nothing, else kind * 4 + level with level 1..4. */
    for (size_t col = 0; col < cols; col++) {
      double run = a[col * 3], smp = a[col * 3 + 1], bad = a[col * 3 + 2];
      double f = (run + smp + bad) / cap;
      if (f > 1) f = 1;
      int kind = bad > 0 ? 2 : smp > run ? 1 : 0;
      int level = f <= 0.02 ? 0 : f <= 0.25 ? 1 : f <= 0.5 ? 2 : f <= 0.75 ? 3 : 4;
      if (kind == 2 && level == 0) level = 1;
      shade[col] = level ? (unsigned char)(kind * 4 + level) : 0;
    }
    int y = (int)lround(y0 + (double)r * rh + 1), h = (int)lround(rh - 2);
    if (h < 1) h = 1;
    for (int code = 1; code <= 12; code++) {
      int opened = 0;
      for (size_t col = 0; col < cols;) {
        if (shade[col] != code) {
          col++;
          continue;
        }
        size_t end = col;
        while (end < cols && shade[end] == code) end++;
        if (!opened) {
          fprintf(out, "<path class=\"%c%d\" d=\"", kind_char[(code - 1) / 4], (code - 1) % 4 + 1);
          opened = 1;
        }
        fprintf(out, "M%zu %dh%zuv%dh-%zuz", GANTT_L + col, y, end - col, h, end - col);
        col = end;
      }
      if (opened) fputs("\"/>\n", out);
    }
  }
  free(acc);
  free(shade);
  return 0;
}

static int gantt(FILE *out, const amz_profile_t *p, const amz_cli_stats_t *st) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_chunk_t *c;
  const amz_profile_worker_t *w;
  size_t nc = amz_profile_chunks(p, &c), nw = amz_profile_workers(p, &w);
  fputs("<h3>Timeline per worker</h3>\n", out);
  if (nc == 0) {
    fputs("<p class=\"note\">The profile holds no chunks: there is no timeline to draw.</p>\n",
          out);
    return 0;
  }

  /* The rows are the union of the worker table and the chunks' workers, so that a
   * worker that got no chunk still shows as an empty row (a symptom worth seeing). */
  size_t cap = nw + 1;
  for (size_t i = 1; i < nc; i++)
    if (c[i].rank != c[i - 1].rank || c[i].thread != c[i - 1].thread) cap++;
  wkey_t *keys = malloc(cap * sizeof *keys);
  if (!keys) return -1;
  size_t nk = 0;
  for (size_t i = 0; i < nw; i++) keys[nk++] = (wkey_t){w[i].rank, w[i].thread};
  for (size_t i = 0; i < nc; i++)
    if (i == 0 || c[i].rank != c[i - 1].rank || c[i].thread != c[i - 1].thread)
      keys[nk++] = (wkey_t){c[i].rank, c[i].thread};
  qsort(keys, nk, sizeof *keys, wkey_cmp);
  size_t u = 0;
  for (size_t i = 0; i < nk; i++)
    if (u == 0 || wkey_cmp(&keys[u - 1], &keys[i]) != 0) keys[u++] = keys[i];
  nk = u;

  /* Too many workers for one row each: merge whole ranks when there are several, and
   * runs of threads when there is one rank, so that rows keep meaning something. */
  size_t nranks = 0;
  for (size_t i = 0; i < nk; i++)
    if (i == 0 || keys[i].rank != keys[i - 1].rank) nranks++;
  int how = nk <= GANTT_MAX_ROWS ? ROWS_WORKER
            : nranks == 1        ? ROWS_THREADS
            : nranks <= GANTT_MAX_ROWS ? ROWS_RANK
                                       : ROWS_RANKS;
  size_t group = how == ROWS_THREADS ? (nk + GANTT_MAX_ROWS - 1) / GANTT_MAX_ROWS
                 : how == ROWS_RANKS ? (nranks + GANTT_MAX_ROWS - 1) / GANTT_MAX_ROWS
                                     : 1;
  int *row_of = malloc(nk * sizeof *row_of);
  grow_t rows[GANTT_MAX_ROWS];
  unsigned char parity[GANTT_MAX_ROWS] = {0};
  if (!row_of) {
    free(keys);
    return -1;
  }
  size_t nrows = 0, rank_ord = 0;
  for (size_t i = 0; i < nk; i++) {
    if (i > 0 && keys[i].rank != keys[i - 1].rank) rank_ord++;
    size_t r = how == ROWS_WORKER ? i : how == ROWS_THREADS ? i / group : rank_ord / group;
    if (r >= nrows) {
      nrows = r + 1;
      rows[r] = (grow_t){keys[i].rank, keys[i].rank, keys[i].thread, keys[i].thread, 0};
    }
    rows[r].rank1 = keys[i].rank;
    rows[r].thread1 = keys[i].thread;
    rows[r].workers++;
    row_of[i] = (int)r;
  }

  /* The time range always includes the run's start and its measured end. */
  double t0 = fmin(st->t_min, 0), t1 = fmax(st->t_max, in->wall_s);
  double span = t1 - t0;
  if (!(span > 0)) span = 1e-6;
  t1 = t0 + span;
  double rh = nrows <= 8 ? 24 : nrows <= 16 ? 18 : nrows <= 32 ? 13 : 9;
  double y0 = 28, ph = rh * (double)nrows;
  int detail = how == ROWS_WORKER && nc < GANTT_DETAIL_MAX;

  if (detail)
    fputs("<ul class=\"legend\"><li><span class=\"sw c0\"></span>run chunk</li>"
          "<li><span class=\"sw cs\"></span>sampling block (before the run)</li>"
          "<li><span class=\"sw cf\"></span>failed chunk</li></ul>\n",
          out);
  else
    fputs("<ul class=\"legend\"><li><span class=\"sw g1\"></span><span class=\"sw g2\"></span>"
          "<span class=\"sw g3\"></span><span class=\"sw g4\"></span>share of time busy, "
          "low to high</li><li><span class=\"sw s4\"></span>sampling (before the run)</li>"
          "<li><span class=\"sw f4\"></span>failed chunks</li></ul>\n",
          out);
  html_svg_open(out, (int)ceil(y0 + ph + 44), "Timeline of chunks per worker");
  for (size_t r = 0; r < nrows; r += 2)
    fprintf(out, "<rect class=\"zb\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>\n",
            (int)GANTT_L, html_co(y0 + (double)r * rh), (int)GANTT_PW, html_co(rh));
  html_time_axis(out, GANTT_L, GANTT_PW, t0, t1, y0 - 4, y0 + ph + 2, "time since the run started");
  char label[64];
  double fs = rh >= 13 ? 11 : 8.5;
  for (size_t r = 0; r < nrows; r++) {
    row_label(label, sizeof label, &rows[r], how);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" style=\"font-size:%.1fpx\">%s",
            (int)GANTT_L - 8, html_co(y0 + (double)r * rh + rh / 2 + fs * 0.35), fs, label);
    if (rows[r].workers > 1) fprintf(out, "<title>%d workers</title>", rows[r].workers);
    fputs("</text>\n", out);
  }

  int rc = 0;
  if (detail) {
    gantt_detail(out, c, nc, keys, nk, row_of, t0, span, y0, rh, parity);
  } else {
    rc = gantt_aggregate(out, c, nc, keys, nk, row_of, rows, nrows, t0, span, y0, rh);
  }

  /* Markers for the start of the run (after sampling) and its measured end. */
  double xs = GANTT_L + (0 - t0) / span * GANTT_PW;
  double xe = GANTT_L + (in->wall_s - t0) / span * GANTT_PW;
  if (t0 < 0) {
    fprintf(out, "<line class=\"mk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", html_co(xs),
            html_co(y0 - 12), html_co(xs), html_co(y0 + ph));
    fprintf(out, "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">run start</text>\n",
            html_co(xs + 4), html_co(y0 - 14), xs > GANTT_L + GANTT_PW - 80 ? "end" : "start");
  }
  if (in->wall_s > 0 && xe - xs > 70) {
    fprintf(out, "<line class=\"mk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", html_co(xe),
            html_co(y0 - 12), html_co(xe), html_co(y0 + ph));
    fprintf(out,
            "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">end of run</text>\n",
            html_co(xe - 4), html_co(y0 - 14));
  }
  fputs("</svg>\n<figcaption>", out);
  char a[32];
  if (detail) {
    fprintf(out, "%s chunk%s on %zu worker%s, one bar each; hover over a bar for its items and "
                 "times.",
            amz_cli_count(a, sizeof a, nc), nc == 1 ? "" : "s", nk, nk == 1 ? "" : "s");
  } else {
    fprintf(out, "%s chunks on %zu workers, drawn as the share of time each row was busy in "
                 "each pixel column.",
            amz_cli_count(a, sizeof a, nc), nk);
    if (how == ROWS_THREADS)
      fprintf(out, " %zu workers are more than %d rows: each row merges %zu threads.", nk,
              (int)GANTT_MAX_ROWS, group);
    else if (how == ROWS_RANK)
      fprintf(out, " %zu workers are more than %d rows: one row per rank, its threads merged.",
              nk, (int)GANTT_MAX_ROWS);
    else if (how == ROWS_RANKS)
      fprintf(out, " %zu ranks are more than %d rows: each row merges %zu ranks.", nranks,
              (int)GANTT_MAX_ROWS, group);
  }
  if (t0 < 0) fputs(" Times before 0 are sampling, before the planned run started.", out);
  if (in->chunks_dropped)
    fprintf(out, " %s chunks beyond the record bound are not in the profile and not drawn.",
            amz_cli_count(a, sizeof a, in->chunks_dropped));
  fputs("</figcaption></figure>\n", out);
  free(row_of);
  free(keys);
  return rc;
}

/* ------------------------------------------------------------------------------ */
/* Overheads, prediction, candidates                                               */
/* ------------------------------------------------------------------------------ */

/* The known terms, in the reader's order, and what each one means. A name the page
 * does not know (a newer writer) still shows, in the neutral colour. */
static const char *const term_names[] = {"startup", "compute", "dispatch",
                                         "imbalance", "serial", "data"};
static const char *const term_help[] = {
    "waking the pool or starting threads",
    "work divided by the effective parallelism, contention included",
    "handing out and recording chunks on the critical worker",
    "the tail: the last worker finishing after the mean",
    "setup and result assembly outside the parallel region",
    "moving items' inputs and outputs between ranks"};

static int term_index(const char *name) {
  for (int i = 0; i < 6; i++)
    if (strcmp(name, term_names[i]) == 0) return i;
  return 6;
}


/* Segment i of the share bar: the measured terms (total and empty ones skipped),
 * then, for i == nt, the wall time no term accounts for (when it is visible).
 * Returns 0 for a segment that is not drawn. */
static int share_segment(const amz_profile_term_t *t, size_t nt, size_t i, double rest,
                         double denom, double *v, int *k, const char **name) {
  if (i < nt) {
    if (strcmp(t[i].name, "total") == 0 || !(t[i].measured_s > 0)) return 0;
    *v = t[i].measured_s;
    *k = term_index(t[i].name);
    *name = t[i].name;
    return 1;
  }
  if (!(rest > denom * 1e-3)) return 0;
  *v = rest;
  *k = 6;
  *name = "other";
  return 1;
}

static int overheads(FILE *out, const amz_profile_t *p) {
  const amz_profile_info_t *in = amz_profile_info(p);
  const amz_profile_term_t *t;
  size_t nt = amz_profile_terms(p, &t);
  char pc[16];
  fputs("<h3>Overhead breakdown</h3>\n", out);
  bar_group_t *g = calloc(nt ? nt : 1, sizeof *g);
  if (!g) return -1;
  size_t ng = 0;
  for (size_t i = 0; i < nt; i++) {
    if (strcmp(t[i].name, "total") == 0) continue;
    if (strcmp(t[i].name, "data") == 0 && t[i].predicted_s == 0 && t[i].measured_s == 0) continue;
    int k = term_index(t[i].name);
    g[ng].label = t[i].name;
    g[ng].tooltip = k < 6 ? term_help[k] : NULL;
    g[ng].bars = 2;
    g[ng].v[0] = t[i].predicted_s;
    g[ng].v[1] = t[i].measured_s;
    g[ng].cls[0] = "pr";
    g[ng].cls[1] = "me";
    if (in->wall_s > 0)
      snprintf(g[ng].note, sizeof g[ng].note, "%s of wall",
               html_share(pc, sizeof pc, t[i].measured_s / in->wall_s, 0));
    ng++;
  }
  if (ng == 0) {
    fputs("<p class=\"note\">The profile lists no cost-model terms.</p>\n", out);
    free(g);
    return 0;
  }
  fputs("<ul class=\"legend\"><li><span class=\"sw pr\"></span>predicted</li>"
        "<li><span class=\"sw me\"></span>measured</li></ul>\n",
        out);
  html_bar_chart(out, "Predicted and measured cost-model terms", g, ng);
  fputs("<figcaption>The cost model's terms for this run; hover over a term's name for what "
        "it covers.</figcaption></figure>\n",
        out);
  free(g);

  /* The measured terms as shares of the wall time, in one stacked bar. When they do
   * not add up to the wall time the rest shows as "other"; when they exceed it (the
   * terms are measured separately) the bar is scaled to their sum. */
  double sum = 0;
  for (size_t i = 0; i < nt; i++)
    if (strcmp(t[i].name, "total") != 0 && t[i].measured_s > 0) sum += t[i].measured_s;
  double denom = fmax(in->wall_s, sum);
  if (!(denom > 0)) {
    fputs("<p class=\"note\">The wall time is 0: there are no shares to draw.</p>\n", out);
    return 0;
  }
  char a[40];
  html_svg_open(out, 62, "Measured terms as shares of the wall time");
  html_chart_title(out, 0, 14, "Share of the wall time (measured)");
  double x = 0, bw = SVG_W;
  for (size_t i = 0; i <= nt; i++) {
    double v;
    int k;
    const char *name;
    if (!share_segment(t, nt, i, in->wall_s - sum, denom, &v, &k, &name)) continue;
    double w = v / denom * bw;
    fprintf(out, "<rect class=\"t%d\" x=\"%.1f\" y=\"24\" width=\"%.1f\" height=\"26\">", k,
            html_co(x), html_co(w));
    fputs("<title>", out);
    html_put_text(out, name);
    fprintf(out, ": %s, %s</title></rect>\n", html_secs(a, sizeof a, v),
            html_share(pc, sizeof pc, v / denom, 1));
    if (w > 46)
      fprintf(out, "<text class=\"in\" x=\"%.1f\" y=\"41\">%.1f%%</text>\n", html_co(x + 6),
              html_pct(v / denom));
    x += w;
  }
  fputs("</svg>\n<ul class=\"legend\">", out);
  for (size_t i = 0; i <= nt; i++) {
    double v;
    int k;
    const char *name;
    if (!share_segment(t, nt, i, in->wall_s - sum, denom, &v, &k, &name)) continue;
    if (k == 6) name = "other (not attributed)";
    fprintf(out, "<li><span class=\"sw t%d\"></span>", k);
    html_put_text(out, name);
    fprintf(out, " %s (%s)</li>", html_secs(a, sizeof a, v), html_share(pc, sizeof pc, v / denom, 1));
  }
  fputs("</ul></figure>\n", out);
  return 0;
}

static void prediction(FILE *out, const amz_profile_t *p, const amz_cli_stats_t *st) {
  const amz_profile_info_t *in = amz_profile_info(p);
  fputs("<h3>Predicted vs actual</h3>\n", out);
  bar_group_t g[3];
  memset(g, 0, sizeof g);
  g[0] = (bar_group_t){.label = "predicted", .bars = 1, .v = {in->predicted_s}, .cls = {"pr"}};
  g[1] = (bar_group_t){.label = "measured (wall)", .bars = 1, .v = {in->wall_s}, .cls = {"me"}};
  g[2] = (bar_group_t){.label = "lower bound",
                       .tooltip = "the larger of the busy time per worker and the costliest "
                                  "item: no plan beats it",
                       .bars = 1,
                       .v = {st->lower_bound_s},
                       .cls = {"lb"}};
  if (in->predicted_s > 0)
    snprintf(g[1].note, sizeof g[1].note, "%+.1f%% vs predicted", html_pct(st->pred_error));
  if (in->wall_s > 0)
    snprintf(g[2].note, sizeof g[2].note, "wall = %.2f\xC3\x97 this",
             st->lower_bound_s > 0 ? in->wall_s / st->lower_bound_s : 0.0);
  html_bar_chart(out, "Predicted and measured wall time", g, 3);
  fputs("<figcaption>The prediction the plan made for this run, the measured wall time, and "
        "the lower bound no schedule can beat.</figcaption></figure>\n",
        out);
}

/* Whether the segment from (x0, y0) to (x1, y1) passes through the box [bx0, bx1] x
 * [by0, by1]. Sampling it is exact enough at chart resolution and simpler than
 * clipping. */
static int seg_hits_box(double x0, double y0, double x1, double y1, double bx0, double by0,
                        double bx1, double by1) {
  for (int i = 0; i <= 32; i++) {
    double t = i / 32.0, x = x0 + (x1 - x0) * t, y = y0 + (y1 - y0) * t;
    if (x >= bx0 && x <= bx1 && y >= by0 && y <= by1) return 1;
  }
  return 0;
}

/* The scales of the candidate chart: counts to x, on a log2 scale when they span more
 * than 8x so that 1, 2, 4 ... 1024 spread evenly, and seconds to y from 0. */
typedef struct cplot {
  double L, PW, T, PH; /* the plot area */
  double xlo, xhi, ytop;
  int logx;
} cplot_t;

static double cplot_x(const cplot_t *c, double v) {
  double u = 0.5;
  if (c->xhi > c->xlo)
    u = c->logx ? (log2(fmax(v, 1)) - log2(c->xlo)) / (log2(c->xhi) - log2(c->xlo))
                : (v - c->xlo) / (c->xhi - c->xlo);
  return c->L + 14 + (c->PW - 28) * u; /* the inset keeps end points off the frame */
}

static double cplot_y(const cplot_t *c, double s) {
  return c->T + c->PH - html_fin(s) / c->ytop * c->PH;
}

/* One point of the candidate curve: the best candidate at one rank (or thread) count. */
typedef struct cpoint {
  int x;
  const amz_profile_candidate_t *best;
} cpoint_t;

static int cpoint_cmp(const void *a, const void *b) {
  const cpoint_t *x = a, *y = b;
  return x->x < y->x ? -1 : x->x > y->x;
}

static int candidates(FILE *out, const amz_profile_t *p) {
  const amz_profile_candidate_t *k;
  size_t nk = amz_profile_candidates(p, &k);
  int by_threads = 1;
  for (size_t i = 1; i < nk; i++)
    if (k[i].ranks != k[0].ranks) by_threads = 0;
  fprintf(out, "<h3>Predicted time by %s count</h3>\n", by_threads ? "thread" : "rank");
  if (nk == 0) {
    fputs("<p class=\"note\">The profile lists no candidate plans.</p>\n", out);
    return 0;
  }
  cpoint_t *pt = malloc(nk * sizeof *pt);
  if (!pt) return -1;
  size_t np = 0;
  const amz_profile_candidate_t *chosen = NULL;
  for (size_t i = 0; i < nk; i++) {
    if (k[i].chosen && !chosen) chosen = &k[i];
    int x = by_threads ? k[i].threads : k[i].ranks;
    size_t j = 0;
    while (j < np && pt[j].x != x) j++;
    if (j == np) pt[np++] = (cpoint_t){x, &k[i]};
    else if (k[i].predicted_s < pt[j].best->predicted_s) pt[j].best = &k[i];
  }
  qsort(pt, np, sizeof *pt, cpoint_cmp);

  const double L = 76, R = 24, T = 16, H = 300, B = 44, PW = SVG_W - L - R, PH = H - T - B;
  double xlo = pt[0].x >= 1 ? pt[0].x : 1, xhi = pt[np - 1].x >= 1 ? pt[np - 1].x : 1;
  int logx = xhi > 8 * xlo;
  double ymax = 0;
  for (size_t i = 0; i < np; i++) ymax = fmax(ymax, html_fin(pt[i].best->predicted_s));
  if (chosen) ymax = fmax(ymax, html_fin(chosen->predicted_s));
  if (!(ymax > 0)) ymax = 1e-6;
  double ystep = html_nice_step(ymax * 1.05, 5), ytop = ceil(ymax * 1.05 / ystep - 1e-9) * ystep;
  time_unit_t yu = html_unit_for(ytop);

  const cplot_t sc = {L, PW, T, PH, xlo, xhi, ytop, logx};

  const char *what = by_threads ? "threads" : "ranks";
  char a[48], b[48];
  html_svg_open(out, (int)H, by_threads ? "Best predicted time by thread count"
                                   : "Best predicted time by rank count");
  for (int i = 0; i <= 40; i++) {
    double v = i * ystep;
    if (v > ytop + ystep * 1e-9) break;
    fprintf(out,
            "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            i == 0 ? "ax" : "gr", html_co(L), html_co(cplot_y(&sc, v)), html_co(L + PW), html_co(cplot_y(&sc, v)),
            html_co(L - 8), html_co(cplot_y(&sc, v) + 4), html_tick_label(a, sizeof a, v, ystep, yu));
  }
  fprintf(out,
          "<text class=\"at\" transform=\"translate(14 %.1f) rotate(-90)\" "
          "text-anchor=\"middle\">best predicted time</text>\n",
          html_co(T + PH / 2));

  /* X ticks: powers of two on a log axis, every count when there are few, else nice
   * integer steps. */
  if (logx) {
    int e0 = (int)ceil(log2(xlo) - 1e-9), e1 = (int)floor(log2(xhi) + 1e-9);
    int every = (e1 - e0) / 10 + 1;
    for (int e = e0; e <= e1 && e < 31; e += every) {
      double v = ldexp(1, e);
      fprintf(out,
              "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
              html_co(cplot_x(&sc, v)), html_co(T), html_co(cplot_x(&sc, v)), html_co(T + PH), html_co(cplot_x(&sc, v)),
              html_co(T + PH + 16), v);
    }
  } else if (np <= 16) {
    for (size_t i = 0; i < np; i++)
      fprintf(out, "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
              html_co(cplot_x(&sc, (double)pt[i].x)), html_co(T + PH + 16), pt[i].x);
  } else {
    double step = fmax(1, round(html_nice_step(xhi - xlo, 6)));
    for (double v = ceil(xlo / step) * step; v <= xhi; v += step)
      fprintf(out,
              "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
              html_co(cplot_x(&sc, v)), html_co(T), html_co(cplot_x(&sc, v)), html_co(T + PH), html_co(cplot_x(&sc, v)),
              html_co(T + PH + 16), v);
  }
  fprintf(out, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%s</text>\n",
          html_co(L + PW / 2), html_co(H - 6), what, logx ? " (log scale)" : "");

  /* Ideal scaling from the smallest count: time proportional to 1 / count. */
  if (np >= 2 && pt[0].best->predicted_s > 0) {
    double k0 = pt[0].best->predicted_s * xlo;
    fputs("<polyline class=\"id\" points=\"", out);
    for (int i = 0; i <= 48; i++) {
      double v = logx ? xlo * pow(xhi / xlo, i / 48.0) : xlo + (xhi - xlo) * i / 48.0;
      fprintf(out, "%s%.1f,%.1f", i ? " " : "", html_co(cplot_x(&sc, v)), html_co(cplot_y(&sc, k0 / v)));
    }
    fputs("\"/>\n", out);
  }
  if (np >= 2) {
    fputs("<polyline class=\"ln\" points=\"", out);
    for (size_t i = 0; i < np; i++)
      fprintf(out, "%s%.1f,%.1f", i ? " " : "", html_co(cplot_x(&sc, (double)pt[i].x)),
              html_co(cplot_y(&sc, pt[i].best->predicted_s)));
    fputs("\"/>\n", out);
  }
  for (size_t i = 0; i < np; i++) {
    const amz_profile_candidate_t *c = pt[i].best;
    schedule_phrase(b, sizeof b, c->schedule, c->chunk);
    fprintf(out,
            "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>%d rank%s \xC3\x97 %d "
            "thread%s, ",
            html_co(cplot_x(&sc, (double)pt[i].x)), html_co(cplot_y(&sc, c->predicted_s)), c->ranks,
            c->ranks == 1 ? "" : "s", c->threads, c->threads == 1 ? "" : "s");
    html_put_text(out, b);
    fprintf(out, ": %s</title></circle>\n", html_secs(a, sizeof a, c->predicted_s));
  }
  if (chosen) {
    double cx = cplot_x(&sc, (double)(by_threads ? chosen->threads : chosen->ranks));
    double cy = cplot_y(&sc, chosen->predicted_s);
    char text[160];
    schedule_phrase(b, sizeof b, chosen->schedule, chosen->chunk);
    snprintf(text, sizeof text, "chosen: %d \xC3\x97 %d, %s, %s", chosen->ranks, chosen->threads, b,
             html_secs(a, sizeof a, chosen->predicted_s));
    /* Four places for the label around the point (right or left of it, above or below);
     * the first whose estimated box stays inside the plot and clear of both curves
     * wins, else the first that fits. 6.4 units per byte approximates the bold 11 px
     * face; a little slack is harmless. */
    double tw = 6.4 * (double)strlen(text), best_x = cx + 10, best_y = cy - 12;
    int best_end = 0, found = 0;
    for (int opt = 0; opt < 4 && found < 2; opt++) {
      int end = (opt / 2) ^ (cx > L + PW * 0.6);
      double ly = opt % 2 ? cy + 22 : cy - 12;
      double bx0 = end ? cx - 10 - tw : cx + 10, bx1 = bx0 + tw, by0 = ly - 11, by1 = ly + 3;
      if (bx0 < L || bx1 > L + PW || by0 < T || by1 > T + PH) continue;
      int clear = 1;
      for (size_t q = 0; clear && q + 1 < np; q++)
        clear = !seg_hits_box(cplot_x(&sc, (double)pt[q].x), cplot_y(&sc, pt[q].best->predicted_s),
                              cplot_x(&sc, (double)pt[q + 1].x),
                              cplot_y(&sc, pt[q + 1].best->predicted_s), bx0, by0, bx1, by1);
      if (clear && np >= 2 && pt[0].best->predicted_s > 0) {
        double k0 = pt[0].best->predicted_s * xlo;
        for (int q = 0; clear && q < 48; q++) {
          double v0 = logx ? xlo * pow(xhi / xlo, q / 48.0) : xlo + (xhi - xlo) * q / 48.0;
          double v1 =
              logx ? xlo * pow(xhi / xlo, (q + 1) / 48.0) : xlo + (xhi - xlo) * (q + 1) / 48.0;
          clear = !seg_hits_box(cplot_x(&sc, v0), cplot_y(&sc, k0 / v0), cplot_x(&sc, v1),
                                cplot_y(&sc, k0 / v1), bx0, by0, bx1, by1);
        }
      }
      if (clear || !found) {
        best_x = end ? cx - 10 : cx + 10;
        best_y = ly;
        best_end = end;
        found = clear ? 2 : 1;
      }
    }
    fprintf(out,
            "<circle class=\"ch\" cx=\"%.1f\" cy=\"%.1f\" r=\"6.5\"><title>chosen</title>"
            "</circle>\n",
            html_co(cx), html_co(cy));
    fprintf(out, "<text class=\"chl halo\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", html_co(best_x),
            html_co(best_y), best_end ? "end" : "start");
    html_put_text(out, text);
    fputs("</text>\n", out);
  }
  fputs("</svg>\n<ul class=\"legend\"><li><span class=\"sw ln\"></span>best candidate at each "
        "count</li>",
        out);
  if (np >= 2) fputs("<li><span class=\"sw id\"></span>ideal scaling from the smallest</li>", out);
  if (chosen) fputs("<li><span class=\"sw ch\"></span>chosen plan</li>", out);
  fprintf(out, "</ul><figcaption>The fastest predicted plan at each %s count among the %zu "
               "candidate%s the planner evaluated%s.</figcaption></figure>\n",
          by_threads ? "thread" : "rank", nk, nk == 1 ? "" : "s",
          by_threads && k[0].ranks == 1 ? " (all on one rank)" : "");
  free(pt);
  return 0;
}

/* ------------------------------------------------------------------------------ */
/* Prediction at scale                                                             */
/* ------------------------------------------------------------------------------ */

/* The target of the prediction charts: the command line's, else the default of
 * amz_cli_derive (64 nodes laid out as the recorded one). */
typedef struct scale_target {
  int nodes, ranks_per_node;
} scale_target_t;

/* The sweep costs simulations in proportion to the chunks they run (at most the loop's
 * items, or 4096 per worker) plus their workers. Beyond this budget (about ten seconds)
 * or this many workers the page would keep its reader waiting, or take more memory
 * than a page is worth: it says so and points to `amorsize predict`, which shows its
 * progress. */
#define SCALE_BUDGET 2e7
#define SCALE_MAX_WORKERS (1 << 20)

/* Efficiency (left axis, 0 to 100%) and speed-up against one node (right axis) over
 * the node counts of the sweep, on a log2 scale, with the knee marked. */
static int scale_chart(FILE *out, const amz_profile_t *p, const scale_target_t *tg) {
  fputs("<h3>Prediction at scale</h3>\n", out);
  amz_cli_scale_opts_t o;
  amz_cli_scale_opts_init(&o);
  o.nodes = tg->nodes;
  o.ranks_per_node = tg->ranks_per_node;
  amz_cli_derived_t d;
  char why[256];
  if (amz_cli_derive(p, &o, &d, why, sizeof why) != 0) {
    amz_cli_derived_free(&d);
    if (strcmp(why, "out of memory") == 0) return -1;
    fputs("<p class=\"note\">No prediction: ", out);
    html_put_text(out, why);
    fputs(".</p>\n", out);
    return 0;
  }
  const amz_sim_machine_t *m = &d.m;
  int counts[AMZ_CLI_SWEEP_MAX];
  size_t n = amz_cli_sweep_counts(m->nodes, counts);
  double load = 0;
  for (size_t i = 0; i < n; i++) {
    double w = (double)counts[i] * m->ranks_per_node * m->threads_per_rank;
    load += fmin((double)d.w.n_items, 4096.0 * w) + 4.0 * w;
  }
  long long workers = (long long)m->nodes * m->ranks_per_node * m->threads_per_rank;
  if (workers > SCALE_MAX_WORKERS || load > SCALE_BUDGET) {
    amz_cli_derived_free(&d);
    fprintf(out, "<p class=\"note\">The sweep up to %d nodes \xC3\x97 %d ranks would take "
                 "long to simulate here; <code>amorsize predict</code> runs it with progress "
                 "and prints the same figures.</p>\n",
            m->nodes, m->ranks_per_node);
    return 0;
  }
  amz_sim_costs_t *c = NULL;
  amz_cli_sweep_point_t pt[AMZ_CLI_SWEEP_MAX];
  int rc = amz_sim_costs_create(&d.w, &c);
  if (rc == 0)
    rc = amz_cli_sweep(c, m, AMZ_SCHED_AUTO, NULL, counts, n, pt, amz_cli_progress_tty,
                       (void *)"amorsize html");
  amz_sim_costs_destroy(c);
  if (rc != 0) {
    amz_cli_derived_free(&d);
    if (rc == AMZ_ENOMEM) return -1;
    fputs("<p class=\"note\">No prediction: ", out);
    html_put_text(out, amz_last_error());
    fputs(".</p>\n", out);
    return 0;
  }
  size_t knee = amz_cli_knee(pt, n);

  const double L = 76, R = 64, T = 16, H = 300, B = 44, PW = SVG_W - L - R, PH = H - T - B;
  double xhi = counts[n - 1] >= 2 ? counts[n - 1] : 2;
  const cplot_t sx = {L, PW, T, PH, 1, xhi, 1, 1};
  double smax = 1;
  for (size_t i = 0; i < n; i++) smax = fmax(smax, html_fin(pt[i].speedup));
  double sstep = html_nice_step(smax * 1.05, 5), stop = ceil(smax * 1.05 / sstep - 1e-9) * sstep;
#define EY(e) (T + PH - fmin(fmax(html_fin(e), 0), 1) * PH)
#define SY(v) (T + PH - html_fin(v) / stop * PH)
  char a[48], b[64], lab[96];
  html_svg_open(out, (int)H, "Predicted efficiency and speed-up by node count");
  for (int i = 0; i <= 5; i++) {
    double e = i / 5.0;
    fprintf(out,
            "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n",
            i == 0 ? "ax" : "gr", html_co(L), html_co(EY(e)), html_co(L + PW), html_co(EY(e)), html_co(L - 8),
            html_co(EY(e) + 4), 100 * e);
  }
  for (int i = 0; i <= 40; i++) {
    double v = i * sstep;
    if (v > stop + sstep * 1e-9) break;
    fprintf(out, "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\">%g\xC3\x97</text>\n", html_co(L + PW + 8),
            html_co(SY(v) + 4), v);
  }
  fprintf(out,
          "<text class=\"at\" transform=\"translate(14 %.1f) rotate(-90)\" "
          "text-anchor=\"middle\">efficiency</text>\n"
          "<text class=\"at\" transform=\"translate(%.1f %.1f) rotate(90)\" "
          "text-anchor=\"middle\">speed-up vs 1 node</text>\n",
          html_co(T + PH / 2), html_co(SVG_W - 10), html_co(T + PH / 2));
  fprintf(out, "<line class=\"mk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", html_co(L),
          html_co(EY(AMZ_CLI_KNEE_EFFICIENCY)), html_co(L + PW), html_co(EY(AMZ_CLI_KNEE_EFFICIENCY)));
  for (size_t i = 0; i < n; i++) {
    int every = n > 12 ? 2 : 1;
    if (i % (size_t)every && i + 1 < n) continue;
    double x = cplot_x(&sx, counts[i]);
    fprintf(out,
            "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
            html_co(x), html_co(T), html_co(x), html_co(T + PH), html_co(x), html_co(T + PH + 16), counts[i]);
  }
  fprintf(out, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">nodes of %d "
               "rank%s \xC3\x97 %d thread%s (log scale)</text>\n",
          html_co(L + PW / 2), html_co(H - 6), m->ranks_per_node, m->ranks_per_node == 1 ? "" : "s",
          m->threads_per_rank, m->threads_per_rank == 1 ? "" : "s");
  for (int line = 0; line < 2 && n >= 2; line++) {
    fprintf(out, "<polyline class=\"%s\" points=\"", line ? "sp" : "ln");
    for (size_t i = 0; i < n; i++)
      fprintf(out, "%s%.1f,%.1f", i ? " " : "", html_co(cplot_x(&sx, counts[i])),
              html_co(line ? SY(pt[i].speedup) : EY(pt[i].plan.result.efficiency)));
    fputs("\"/>\n", out);
  }
  for (size_t i = 0; i < n; i++) {
    const amz_sim_choice_t *ch = &pt[i].plan;
    schedule_phrase(b, sizeof b, amz_schedule_name(ch->schedule), ch->chunk);
    snprintf(lab, sizeof lab, "%d node%s (%lld ranks): %s, speed-up %.2f\xC3\x97, efficiency %.2f, ",
             counts[i], counts[i] == 1 ? "" : "s", (long long)counts[i] * m->ranks_per_node,
             html_secs(a, sizeof a, ch->result.makespan_s), html_fin(pt[i].speedup),
             html_fin(ch->result.efficiency));
    for (int line = 0; line < 2; line++) {
      fprintf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>", line ? "sq" : "pt",
              html_co(cplot_x(&sx, counts[i])),
              html_co(line ? SY(pt[i].speedup) : EY(ch->result.efficiency)));
      html_put_text(out, lab);
      html_put_text(out, b);
      fputs("</title></circle>\n", out);
    }
  }
  double kx = cplot_x(&sx, counts[knee]), ky = EY(pt[knee].plan.result.efficiency);
  int right = kx > L + PW * 0.6;
  fprintf(out,
          "<circle class=\"ch\" cx=\"%.1f\" cy=\"%.1f\" r=\"6.5\"><title>worth requesting"
          "</title></circle>\n<text class=\"chl halo\" x=\"%.1f\" y=\"%.1f\" "
          "text-anchor=\"%s\">worth requesting: %d node%s</text>\n",
          html_co(kx), html_co(ky), html_co(right ? kx - 10 : kx + 10), html_co(ky > T + 30 ? ky - 12 : ky + 22),
          right ? "end" : "start", counts[knee], counts[knee] == 1 ? "" : "s");
#undef EY
#undef SY
  fputs("</svg>\n<ul class=\"legend\"><li><span class=\"sw ln\"></span>efficiency (all work "
        "over all workers, against the time)</li><li><span class=\"sw sp\"></span>speed-up "
        "against 1 node</li><li><span class=\"sw mk\"></span>efficiency 80%</li>"
        "<li><span class=\"sw ch\"></span>worth requesting</li></ul><figcaption>",
        out);
  fputs("Simulated (see <code>amorsize predict</code>) with the workload of this run's "
        "chunks and the machine's measured costs, the best schedule and chunk at each count. ",
        out);
  amz_cli_knee_why(why, sizeof why, pt, n, knee, m->ranks_per_node);
  fputs("Worth requesting: ", out);
  html_put_text(out, why);
  fputs(".</figcaption></figure>\n", out);
  amz_cli_derived_free(&d);
  return 0;
}

/* ------------------------------------------------------------------------------ */
/* Tables                                                                          */
/* ------------------------------------------------------------------------------ */

static void tables(FILE *out, const amz_profile_t *p) {
  const amz_profile_worker_t *w;
  size_t nw = amz_profile_workers(p, &w);
  char a[40], b[40], c[40], d[40], e[40];
  fputs("<h3>Workers</h3>\n", out);
  if (nw == 0) {
    fputs("<p class=\"note\">The profile lists no workers.</p>\n", out);
  } else {
    /* Items taken from other workers' static blocks: a column when any were. */
    int taken = 0;
    for (size_t i = 0; i < nw; i++) taken |= w[i].taken > 0;
    fprintf(out,
            "<div class=\"tw\"><table class=\"t\"><thead><tr><th class=\"n\">rank</th>"
            "<th class=\"n\">thread</th><th class=\"n\">node</th><th class=\"n\">items</th>"
            "<th class=\"n\">chunks</th><th class=\"n\">busy</th><th class=\"n\">dispatch</th>"
            "<th class=\"n\">idle</th>%s</tr></thead><tbody>\n",
            taken ? "<th class=\"n\">taken</th>" : "");
    for (size_t i = 0; i < nw && i < TABLE_WORKERS; i++) {
      fprintf(out,
              "<tr><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
              "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
              "<td class=\"n\">%s</td><td class=\"n\">%s</td>",
              w[i].rank, w[i].thread, w[i].node, amz_cli_count(a, sizeof a, w[i].items),
              amz_cli_count(b, sizeof b, w[i].chunks), html_secs(c, sizeof c, w[i].busy_s),
              html_secs(d, sizeof d, w[i].dispatch_s), html_secs(e, sizeof e, w[i].idle_s));
      if (taken) fprintf(out, "<td class=\"n\">%s</td>", amz_cli_count(a, sizeof a, w[i].taken));
      fputs("</tr>\n", out);
    }
    fputs("</tbody></table></div>\n", out);
    if (nw > TABLE_WORKERS)
      fprintf(out, "<p class=\"note\">The first %d of %zu workers.</p>\n", (int)TABLE_WORKERS, nw);
  }

  const amz_profile_failure_t *f;
  size_t nf = amz_profile_failures(p, &f);
  fputs("<h3>Failures</h3>\n", out);
  if (nf == 0) {
    fputs("<p class=\"note\">No item failed.</p>\n", out);
    return;
  }
  fputs("<div class=\"tw\"><table class=\"t\"><thead><tr><th class=\"n\">first item</th>"
        "<th class=\"n\">end (exclusive)</th><th class=\"n\">items</th><th class=\"n\">code</th>"
        "</tr></thead><tbody>\n",
        out);
  for (size_t i = 0; i < nf && i < TABLE_FAILURES; i++)
    fprintf(out,
            "<tr><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
            "<td class=\"n\">%d</td></tr>\n",
            amz_cli_count(a, sizeof a, f[i].begin), amz_cli_count(b, sizeof b, f[i].end),
            amz_cli_count(c, sizeof c, f[i].end >= f[i].begin ? f[i].end - f[i].begin : 0), f[i].code);
  fputs("</tbody></table></div>\n", out);
  if (nf > TABLE_FAILURES)
    fprintf(out, "<p class=\"note\">The first %d of %zu failed ranges.</p>\n", (int)TABLE_FAILURES,
            nf);
}

/* ------------------------------------------------------------------------------ */
/* Sections                                                                        */
/* ------------------------------------------------------------------------------ */

static void comparison(FILE *out, const amz_profile_t *const *pr, const char *const *paths,
                       const amz_cli_stats_t *st, size_t n, bar_group_t *g) {
  char a[40], b[40], c[48];
  double wall0 = amz_profile_info(pr[0])->wall_s;
  fprintf(out, "<section class=\"card\" id=\"compare\"><h2>Comparison of %zu runs</h2>\n", n);
  fputs("<div class=\"tw\"><table class=\"t\"><thead><tr><th class=\"n\">#</th><th>file</th>"
        "<th>task</th><th class=\"n\">items</th><th class=\"n\">ranks \xC3\x97 threads</th>"
        "<th>schedule</th><th class=\"n\">wall</th><th class=\"n\">predicted</th>"
        "<th class=\"n\">error</th><th class=\"n\">speedup vs #1</th>"
        "<th class=\"n\">efficiency</th></tr></thead><tbody>\n",
        out);
  for (size_t i = 0; i < n; i++) {
    const amz_profile_info_t *in = amz_profile_info(pr[i]);
    fprintf(out, "<tr><td class=\"n\"><a href=\"#p%zu\">%zu</a></td><td class=\"w\"><code>", i + 1,
            i + 1);
    html_put_text(out, paths[i]);
    fputs("</code></td><td class=\"w\">", out);
    html_put_text(out, in->task);
    schedule_phrase(c, sizeof c, in->schedule, in->chunk);
    fprintf(out, "</td><td class=\"n\">%s</td><td class=\"n\">%d \xC3\x97 %d</td><td>",
            amz_cli_count(a, sizeof a, in->n_items), in->ranks_used, in->threads);
    html_put_text(out, c);
    fprintf(out, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
            html_secs(a, sizeof a, in->wall_s), html_secs(b, sizeof b, in->predicted_s));
    if (in->predicted_s > 0)
      fprintf(out, "<td class=\"n %s\">%+.1f%%</td>", error_class(st[i].pred_error),
              html_pct(st[i].pred_error));
    else
      fputs("<td class=\"n none\">n/a</td>", out);
    if (in->wall_s > 0 && wall0 > 0)
      fprintf(out, "<td class=\"n\">%.2f\xC3\x97</td>", html_fin(wall0 / in->wall_s));
    else
      fputs("<td class=\"n none\">n/a</td>", out);
    fprintf(out, "<td class=\"n\">%.1f%%</td></tr>\n", html_pct(st[i].efficiency));
  }
  fputs("</tbody></table></div>\n", out);

  for (size_t i = 0; i < n; i++) {
    const amz_profile_info_t *in = amz_profile_info(pr[i]);
    memset(&g[i], 0, sizeof g[i]);
    snprintf(g[i].own, sizeof g[i].own, "#%zu %s", i + 1, html_base_name(paths[i]));
    g[i].label = g[i].own;
    g[i].tooltip = paths[i];
    g[i].bars = 2;
    g[i].v[0] = in->predicted_s;
    g[i].v[1] = in->wall_s;
    g[i].cls[0] = "pr";
    g[i].cls[1] = "me";
    if (in->predicted_s > 0)
      snprintf(g[i].note, sizeof g[i].note, "%+.1f%%", html_pct(st[i].pred_error));
  }
  fputs("<h3>Wall time vs predicted</h3>\n<ul class=\"legend\"><li><span class=\"sw pr\"></span>"
        "predicted</li><li><span class=\"sw me\"></span>measured (wall)</li></ul>\n",
        out);
  html_bar_chart(out, "Predicted and measured wall time per run", g, n);
  fputs("<figcaption>Each run's predicted and measured wall time, with the prediction "
        "error.</figcaption></figure>\n</section>\n",
        out);
}

static int profile_section(FILE *out, const amz_profile_t *p, const char *path,
                           const amz_cli_stats_t *st, size_t idx, size_t n,
                           const scale_target_t *tg) {
  const amz_profile_info_t *in = amz_profile_info(p);
  fprintf(out, "<section class=\"card\" id=\"p%zu\">\n<h2>", idx + 1);
  if (n > 1) fprintf(out, "<span class=\"idx\">#%zu</span>", idx + 1);
  html_put_text(out, in->task[0] ? in->task : "(unnamed task)");
  fputs("</h2>\n<p class=\"path\">", out);
  html_put_text(out, path);
  fputs("</p>\n", out);
  summary(out, p, st);
  if (gantt(out, p, st) != 0) return -1;
  if (overheads(out, p) != 0) return -1;
  prediction(out, p, st);
  if (candidates(out, p) != 0) return -1;
  if (scale_chart(out, p, tg) != 0) return -1;
  tables(out, p);
  fputs("</section>\n", out);
  return 0;
}

int amz_cli_html(FILE *out, const amz_profile_t *const *profiles, const char *const *paths,
                 size_t n) {
  return amz_cli_html_scale(out, profiles, paths, n, 0, 0);
}

int amz_cli_html_scale(FILE *out, const amz_profile_t *const *profiles,
                       const char *const *paths, size_t n, int nodes, int ranks_per_node) {
  const scale_target_t tg = {nodes, ranks_per_node};
  amz_cli_stats_t *st = malloc(n * sizeof *st);
  bar_group_t *cmp = n > 1 ? malloc(n * sizeof *cmp) : NULL;
  if (!st || (n > 1 && !cmp)) {
    free(st);
    free(cmp);
    fprintf(stderr, "amorsize html: out of memory\n");
    return AMZ_CLI_FAIL;
  }
  for (size_t i = 0; i < n; i++) amz_cli_stats(profiles[i], &st[i]);

  const amz_profile_info_t *first = amz_profile_info(profiles[0]);
  fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        "<meta name=\"generator\" content=\"amorsize html\"/>\n<title>",
        out);
  if (n == 1) {
    fputs("Amorsize profile: ", out);
    html_put_text(out, first->task[0] ? first->task : html_base_name(paths[0]));
  } else {
    fprintf(out, "Amorsize profiles: %zu runs", n);
  }
  fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", html_page_css);
  fputs("<header class=\"top\"><h1>Amorsize run profile", out);
  fprintf(out, "%s</h1>\n<p>", n > 1 ? "s" : "");
  if (n == 1) {
    html_put_text(out, html_base_name(paths[0]));
    fputs(" \xC2\xB7 ", out);
    html_put_text(out, first->task);
    fputs(" \xC2\xB7 ", out);
    html_put_text(out, first->created);
  } else {
    fprintf(out, "%zu runs compared; times relative to run #1", n);
  }
  fputs("</p>\n", out);
  if (n > 1) {
    fputs("<nav class=\"toc\"><a href=\"#compare\">Comparison</a>", out);
    for (size_t i = 0; i < n; i++) {
      fprintf(out, "<a href=\"#p%zu\">#%zu ", i + 1, i + 1);
      html_put_text_n(out, html_base_name(paths[i]), LABEL_MAX);
      fputs("</a>", out);
    }
    fputs("</nav>\n", out);
  }
  fputs("</header>\n", out);

  int rc = 0;
  if (n > 1) comparison(out, profiles, paths, st, n, cmp);
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = profile_section(out, profiles[i], paths[i], &st[i], i, n, &tg);
  fputs("<footer>Generated by amorsize html from ", out);
  fprintf(out, "%zu profile%s.</footer>\n</main>\n</body>\n</html>\n", n, n == 1 ? "" : "s");
  free(st);
  free(cmp);
  if (rc != 0) {
    fprintf(stderr, "amorsize html: out of memory\n");
    return AMZ_CLI_FAIL;
  }
  if (fflush(out) != 0 || ferror(out)) return AMZ_CLI_FAIL;
  return AMZ_CLI_OK;
}
