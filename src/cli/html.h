/*
 * The drawing primitives of `amorsize html` (html_draw.c), shared by its page
 * sections (html.c): XML-safe text, number formatting, the page's style sheet, SVG
 * frames, time axes and horizontal bar charts. Private to the tool.
 */
#ifndef AMORSIZE_CLI_HTML_H
#define AMORSIZE_CLI_HTML_H

#include <stddef.h>
#include <stdio.h>

/* Geometry shared by the charts, in SVG user units (pixels at 100% zoom). Every chart
 * has the same viewBox width so that their plot areas line up down the page. */
enum {
  SVG_W = 980,
  GANTT_L = 76,            /* room for the row labels of the timeline */
  GANTT_PW = 884,          /* plot width: one aggregation column per unit */
  GANTT_MAX_ROWS = 64,     /* more workers than this are merged into rows */
  GANTT_DETAIL_MAX = 2000, /* below this many chunks each gets its own rect */
  BAR_L = 180,             /* room for the labels of horizontal bar charts */
  BAR_PW = 620,            /* their plot width; value labels go to the right */
  TABLE_WORKERS = 64,
  TABLE_FAILURES = 20,
  LABEL_MAX = 40 /* bytes of a path or task shown in a chart label */
};

/* The unit in which an axis spanning span seconds is labelled. */
typedef struct time_unit {
  double scale;     /* seconds per unit */
  const char *name; /* its symbol */
} time_unit_t;

/* One group of up to three bars sharing a label. Values are seconds; note is drawn
 * after the last bar's value (an error percentage, a share). */
typedef struct bar_group {
  const char *label;   /* escaped on output */
  const char *tooltip; /* escaped on output; NULL for none */
  int bars;
  double v[3];
  const char *cls[3]; /* CSS class of each bar (fill colour) */
  char note[64];
  char own[LABEL_MAX + 16]; /* room for a label made up on the fly */
} bar_group_t;

/* ---- text and numbers ------------------------------------------------------ */

/* s as XML character data, safe in attributes; at most max bytes of it. */
void html_put_text_n(FILE *out, const char *s, size_t max);
void html_put_text(FILE *out, const char *s);
/* The last component of a path. */
const char *html_base_name(const char *path);
/* v safe for an attribute or a label: finite, clamped to +-1e12, never -0. */
double html_fin(double v);
/* A coordinate, rounded to the 0.1 unit the page prints. */
double html_co(double v);
/* Ratio r in percent, rounded to 0.1. */
double html_pct(double r);
/* Ratio r as "12.3%" ("<0.1%" when tiny but not 0; xml: '<' escaped) into buf. */
const char *html_share(char *buf, size_t len, double r, int xml);
/* Seconds with a unit (the micro sign for us) into buf. */
const char *html_secs(char *buf, size_t len, double s);
/* A round axis step that cuts span into about target intervals. */
double html_nice_step(double span, int target);
time_unit_t html_unit_for(double span);
const char *html_tick_label(char *buf, size_t len, double v, double step, time_unit_t u);

/* ---- the page and its charts --------------------------------------------------- */

extern const char html_page_css[];
void html_svg_open(FILE *out, int height, const char *label);
void html_chart_title(FILE *out, double x, double y, const char *text);
void html_time_axis(FILE *out, double x0, double w, double lo, double hi, double y_top,
                    double y, const char *title);
void html_bar_chart(FILE *out, const char *aria, const bar_group_t *g, size_t n);

#endif /* AMORSIZE_CLI_HTML_H */
