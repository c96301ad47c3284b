/*
 * The drawing primitives of `amorsize html` (declared in html.h): text escaped for
 * XML, numbers formatted for labels and coordinates, the style sheet, SVG frames,
 * time axes and horizontal bar charts. They write straight to the stream and keep no
 * state, so that the page stays a pure function of the profiles.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "html.h"

/* ------------------------------------------------------------------------------ */
/* Text and numbers                                                                */
/* ------------------------------------------------------------------------------ */

/* Writes s as XML character data that is also safe inside a double- or single-quoted
 * attribute. Profiles carry strings from the user's program and environment (task
 * names, command lines, host names), which may hold markup characters, control
 * characters that XML forbids, or bytes that are not UTF-8; each of the latter two
 * becomes U+FFFD so that the page stays well-formed whatever the input. At most max
 * bytes of s are read (SIZE_MAX for all); a cut never splits a character. */
void html_put_text_n(FILE *out, const char *s, size_t max) {
  static const char repl[] = "\xEF\xBF\xBD";
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  size_t used = 0;
  while (*p && used < max) {
    unsigned char c = *p;
    if (c < 0x80) {
      switch (c) {
      case '&': fputs("&amp;", out); break;
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\'': fputs("&#39;", out); break;
      default:
        /* XML 1.0 allows tab, newline and carriage return among the C0 controls. */
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) fputs(repl, out);
        else fputc(c, out);
      }
      p++;
      used++;
      continue;
    }
    /* A multi-byte sequence: check the lead byte, the continuation bytes and the
     * ranges that rule out overlong forms, surrogates and code points above U+10FFFF
     * (RFC 3629, table 3-7 of the Unicode standard). */
    size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    int ok = len > 0;
    for (size_t i = 1; ok && i < len; i++)
      if ((p[i] & 0xC0) != 0x80) ok = 0;
    if (ok && len >= 3) {
      unsigned char d = p[1];
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
          (c == 0xF4 && d > 0x8F))
        ok = 0;
      /* U+FFFE and U+FFFF are not XML characters. */
      if (c == 0xEF && d == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) ok = 0;
    }
    if (ok && used + len > max) break;
    if (ok) {
      fwrite(p, 1, len, out);
      p += len;
      used += len;
    } else {
      fputs(repl, out);
      p++;
      used++;
    }
  }
  if (*p && used >= max) fputs("\xE2\x80\xA6", out); /* an ellipsis marks the cut */
}

void html_put_text(FILE *out, const char *s) { html_put_text_n(out, s, SIZE_MAX); }

/* The last path component, which is what a chart label has room for. */
const char *html_base_name(const char *path) {
  const char *b = path ? path : "";
  for (const char *q = b; *q; q++)
    if (*q == '/' && q[1]) b = q + 1;
  return b;
}

/* A number safe to print into an SVG attribute or a label: NaN and infinities become
 * 0, magnitudes are clamped far beyond any chart, and -0 becomes 0 so that "-0.0"
 * never appears. The reader validates profile values as finite, but divisions by a
 * zero wall time or item count would still produce non-finite values here. */
double html_fin(double v) {
  if (!isfinite(v)) return 0;
  if (v > 1e12) return 1e12;
  if (v < -1e12) return -1e12;
  return v == 0 ? 0 : v;
}

/* A coordinate rounded to the 0.1 unit that the page prints, with -0 normalised after
 * the rounding (rounding -0.04 gives -0). */
double html_co(double v) {
  double r = round(html_fin(v) * 10) / 10;
  return r == 0 ? 0 : r;
}

/* A percentage of ratio r rounded to 0.1, as html_co() does for coordinates. */
double html_pct(double r) {
  double v = round(html_fin(r) * 1000) / 10;
  return v == 0 ? 0 : v;
}

/* A share as a percentage; a share too small to show at 0.1% resolution but not zero
 * reads "<0.1%" rather than a misleading "0.0%". With xml set the '<' is escaped, for
 * text written straight into the page. */
const char *html_share(char *buf, size_t len, double r, int xml) {
  double v = html_pct(r);
  if (v == 0 && html_fin(r) > 0) snprintf(buf, len, "%s0.1%%", xml ? "&lt;" : "<");
  else snprintf(buf, len, "%.1f%%", v);
  return buf;
}

/* Seconds in the tool's usual units, with "us" written as the proper micro sign: the
 * page declares UTF-8, unlike the terminal the text commands may write to. */
const char *html_secs(char *buf, size_t len, double s) {
  amz_cli_seconds(buf, len, html_fin(s));
  size_t n = strlen(buf);
  if (n >= 3 && strcmp(buf + n - 3, " us") == 0 && n + 2 <= len) {
    buf[n - 2] = '\xC2';
    buf[n - 1] = '\xB5';
    buf[n] = 's';
    buf[n + 1] = '\0';
  }
  return buf;
}


/* A tick step of 1, 2 or 5 times a power of ten that cuts span into about target
 * intervals: the usual "nice numbers" choice, which keeps tick labels short. */
double html_nice_step(double span, int target) {
  if (!(span > 0) || !isfinite(span)) return 1;
  double raw = span / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
  double m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return m * mag;
}

time_unit_t html_unit_for(double span) {
  span = fabs(html_fin(span));
  if (span < 2e-6) return (time_unit_t){1e-9, "ns"};
  if (span < 2e-3) return (time_unit_t){1e-6, "\xC2\xB5s"};
  if (span < 2) return (time_unit_t){1e-3, "ms"};
  if (span < 1200) return (time_unit_t){1, "s"};
  return (time_unit_t){60, "min"};
}

/* A tick label: v in unit u with as many decimals as the step needs. */
const char *html_tick_label(char *buf, size_t len, double v, double step, time_unit_t u) {
  double s = step / u.scale;
  int dec = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (dec < 0) dec = 0;
  if (dec > 6) dec = 6;
  double x = html_fin(v / u.scale);
  if (fabs(x) < s * 1e-6) x = 0; /* a tick at zero computed as -1e-19 prints as 0 */
  snprintf(buf, len, "%.*f %s", x == 0 ? 0 : dec, x, u.name);
  return buf;
}

/* ------------------------------------------------------------------------------ */
/* Page frame                                                                      */
/* ------------------------------------------------------------------------------ */

/* The style sheet. It avoids '<', '>' and '&' so that it is valid XML character data
 * without a CDATA section (which the HTML parser would not understand). Colours: one
 * blue family for measured work, a light slate for predictions and sampling, red only
 * for failures, orange only for the chosen plan. */
const char html_page_css[] =
    ":root{--ink:#1f2933;--mute:#616e7c;--line:#e4e7eb;--bg:#f4f6f8;--card:#fff}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    "main{max-width:1100px;margin:0 auto;padding:28px 24px 40px}\n"
    "header.top h1{font-size:24px;font-weight:650;margin:0;letter-spacing:-.01em}\n"
    "header.top p{margin:2px 0 0;color:var(--mute)}\n"
    "nav.toc{margin:12px 0 0;font-size:13px}\n"
    "nav.toc a{color:#2f6db0;text-decoration:none;margin-right:14px}\n"
    "section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:22px 26px 18px;margin:22px 0;box-shadow:0 1px 2px rgba(16,24,40,.04)}\n"
    "h2{font-size:19px;font-weight:650;margin:0}\n"
    "h2 .idx{color:var(--mute);font-weight:500;margin-right:6px}\n"
    "h3{font-size:12px;font-weight:650;text-transform:uppercase;letter-spacing:.06em;"
    "color:var(--mute);margin:30px 0 10px;padding-bottom:5px;border-bottom:1px solid var(--line)}\n"
    ".path,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}\n"
    ".path{color:var(--mute);word-break:break-all;margin:2px 0 0}\n"
    "code{background:var(--bg);border-radius:4px;padding:1px 5px;word-break:break-all}\n"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;"
    "margin:18px 0 6px}\n"
    ".kpi{border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n"
    ".kpi .l{font-size:12px;color:var(--mute)}\n"
    ".kpi .v{font-size:21px;font-weight:650;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".kpi .s{font-size:12px;color:var(--mute)}\n"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:14px 0 0;"
    "font-size:13px}\n"
    "dl.kv dt{color:var(--mute)}\n"
    "dl.kv dd{margin:0;min-width:0}\n"
    ".up,.kpi .s.up{color:#b83232}.down,.kpi .s.down{color:#2d7d46}.none{color:var(--mute)}\n"
    ".tw{overflow-x:auto}\n"
    "table.t{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}"
    "\n"
    "table.t th{text-align:left;font-weight:600;color:var(--mute);padding:5px 10px;"
    "border-bottom:2px solid var(--line);white-space:nowrap}\n"
    "table.t td{padding:4px 10px;border-bottom:1px solid var(--line);white-space:nowrap}\n"
    "table.t td.w{white-space:normal;min-width:8em}\n"
    "table.t td.w code{word-break:normal;overflow-wrap:anywhere}\n"
    "table.t a{color:#2f6db0;text-decoration:none;font-weight:600}\n"
    "table.t tbody tr:nth-child(even){background:#fafbfc}\n"
    "table.t .n{text-align:right;white-space:nowrap}\n"
    "figure{margin:6px 0 16px}\n"
    "figcaption,p.note{font-size:12px;color:var(--mute);margin:6px 0 0}\n"
    "svg.chart{display:block;width:100%;height:auto}\n"
    "svg.chart text{font-family:inherit;fill:var(--ink);font-size:11px}\n"
    "svg.chart .tl,svg.chart .at{fill:var(--mute)}\n"
    "svg.chart .at{font-size:11.5px}\n"
    "svg.chart .ct{font-size:13px;font-weight:600}\n"
    "svg.chart .vl{font-variant-numeric:tabular-nums}\n"
    "svg.chart .in{fill:#fff;font-size:10.5px}\n"
    ".gr{stroke:#e9ecef;stroke-width:1}\n"
    ".ax{stroke:#9aa5b1;stroke-width:1}\n"
    ".mk{stroke:#52606d;stroke-width:1;stroke-dasharray:4 3}\n"
    ".zb{fill:#f7f9fa}\n"
    "ul.legend{list-style:none;margin:4px 0 6px;padding:0;display:flex;flex-wrap:wrap;"
    "gap:4px 18px;font-size:12px;color:var(--mute)}\n"
    ".sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px}\n"
    /* Timeline: run chunks alternate two blues so that neighbours stay apart. */
    ".c0{fill:#2f6db0}.c1{fill:#5b93cc}.cs{fill:#b4bfcb}.cf{fill:#d14343}\n"
    ".sw.c0{background:#2f6db0}.sw.cs{background:#b4bfcb}.sw.cf{background:#d14343}\n"
    /* Aggregated timeline: four shades per kind for the busy share of a column. */
    ".g1{fill:#2f6db0;fill-opacity:.28}.g2{fill:#2f6db0;fill-opacity:.5}"
    ".g3{fill:#2f6db0;fill-opacity:.75}.g4{fill:#2f6db0}\n"
    ".s1{fill:#8e9baa;fill-opacity:.28}.s2{fill:#8e9baa;fill-opacity:.5}"
    ".s3{fill:#8e9baa;fill-opacity:.75}.s4{fill:#8e9baa}\n"
    ".f1{fill:#d14343;fill-opacity:.45}.f2{fill:#d14343;fill-opacity:.65}"
    ".f3{fill:#d14343;fill-opacity:.85}.f4{fill:#d14343}\n"
    ".sw.g1{background:#2f6db0;opacity:.28}.sw.g2{background:#2f6db0;opacity:.5}"
    ".sw.g3{background:#2f6db0;opacity:.75}.sw.g4{background:#2f6db0}"
    ".sw.s4{background:#8e9baa}.sw.f4{background:#d14343}\n"
    /* Predicted versus measured, and the chosen plan. */
    ".pr{fill:#b3c7dd}.me{fill:#2f6db0}.lb{fill:#7b8794}\n"
    ".sw.pr{background:#b3c7dd}.sw.me{background:#2f6db0}.sw.lb{background:#7b8794}\n"
    ".ln{fill:none;stroke:#2f6db0;stroke-width:2}\n"
    ".id{fill:none;stroke:#9aa5b1;stroke-width:1.2;stroke-dasharray:5 4}\n"
    ".pt{fill:#fff;stroke:#2f6db0;stroke-width:2}\n"
    ".ch{fill:#e07b24;stroke:#fff;stroke-width:2}\n"
    "svg.chart .chl{fill:#b35c10;font-weight:600}\n"
    /* A white halo keeps labels readable where they cross lines. */
    "svg.chart .halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}\n"
    ".sp{fill:none;stroke:#5e9c57;stroke-width:2}.sq{fill:#fff;stroke:#5e9c57;stroke-width:2}\n"
    ".sw.sp{background:#5e9c57;height:3px;vertical-align:3px}"
    ".sw.mk{background:#52606d;height:1px;vertical-align:3px}\n"
    ".sw.ln{background:#2f6db0;height:3px;vertical-align:3px}"
    ".sw.id{background:#9aa5b1;height:2px;vertical-align:3px}"
    ".sw.ch{background:#e07b24;border-radius:50%}\n"
    /* The cost-model terms. */
    ".t0{fill:#7c6bb0}.t1{fill:#2f6db0}.t2{fill:#e0a030}.t3{fill:#d0643c}.t4{fill:#5e9c57}"
    ".t5{fill:#3aa0a0}.t6{fill:#cfd6de}\n"
    ".sw.t0{background:#7c6bb0}.sw.t1{background:#2f6db0}.sw.t2{background:#e0a030}"
    ".sw.t3{background:#d0643c}.sw.t4{background:#5e9c57}.sw.t5{background:#3aa0a0}"
    ".sw.t6{background:#cfd6de}\n"
    "footer{color:var(--mute);font-size:12px;text-align:center;margin-top:8px}\n";

/* Opens a chart's SVG element with a title for screen readers and tooltips. */
void html_svg_open(FILE *out, int height, const char *label) {
  fprintf(out,
          "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 %d %d\" "
          "width=\"100%%\" role=\"img\" aria-label=\"",
          (int)SVG_W, height);
  html_put_text(out, label);
  fputs("\">\n", out);
}

/* A left-aligned caption above a chart, as most charts on the page have. */
void html_chart_title(FILE *out, double x, double y, const char *text) {
  fprintf(out, "<text class=\"ct\" x=\"%.1f\" y=\"%.1f\">", html_co(x), html_co(y));
  html_put_text(out, text);
  fputs("</text>\n", out);
}

/* A horizontal time axis at y under a plot from x0 to x0 + w showing [lo, hi], with
 * vertical grid lines up to y_top and about six labelled ticks. */
void html_time_axis(FILE *out, double x0, double w, double lo, double hi, double y_top,
                      double y, const char *title) {
  double span = hi - lo;
  if (!(span > 0)) span = 1;
  double step = html_nice_step(span, 6);
  time_unit_t u = html_unit_for(fmax(fabs(lo), fabs(hi)));
  char b[48];
  double first = ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 40; i++) {
    double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    double x = x0 + (t - lo) / span * w;
    fprintf(out, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", html_co(x),
            html_co(y_top), html_co(x), html_co(y));
    fprintf(out, "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            html_co(x), html_co(y + 15), html_tick_label(b, sizeof b, t, step, u));
  }
  fprintf(out, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", html_co(x0),
          html_co(y), html_co(x0 + w), html_co(y));
  if (title) {
    fprintf(out, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            html_co(x0 + w / 2), html_co(y + 33));
    html_put_text(out, title);
    fputs("</text>\n", out);
  }
}

/* ------------------------------------------------------------------------------ */
/* Horizontal bar charts                                                           */
/* ------------------------------------------------------------------------------ */

/* Draws groups of horizontal bars on one linear time scale from zero, each bar
 * labelled with its value, with a time axis underneath. */
void html_bar_chart(FILE *out, const char *aria, const bar_group_t *g, size_t n) {
  const double bh = 15, gap = 3, group_gap = 14, top = 10;
  double vmax = 0, h = top;
  for (size_t i = 0; i < n; i++) {
    for (int j = 0; j < g[i].bars; j++) vmax = fmax(vmax, html_fin(g[i].v[j]));
    h += g[i].bars * bh + (g[i].bars - 1) * gap + group_gap;
  }
  double axis_y = h - group_gap + 8;
  if (!(vmax > 0)) vmax = 1e-6; /* all zero: draw an axis, and bars of width 0 */
  double step = html_nice_step(vmax, 5), hi = ceil(vmax / step - 1e-9) * step;
  html_svg_open(out, (int)ceil(axis_y + 24), aria);
  html_time_axis(out, BAR_L, BAR_PW, 0, hi, top - 4, axis_y, NULL);
  double y = top;
  char b[40];
  for (size_t i = 0; i < n; i++) {
    double gh = g[i].bars * bh + (g[i].bars - 1) * gap;
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", (int)BAR_L - 10,
            html_co(y + gh / 2 + 4));
    html_put_text_n(out, g[i].label, LABEL_MAX);
    if (g[i].tooltip) {
      fputs("<title>", out);
      html_put_text(out, g[i].tooltip);
      fputs("</title>", out);
    }
    fputs("</text>\n", out);
    for (int j = 0; j < g[i].bars; j++) {
      double v = html_fin(g[i].v[j]), w = v / hi * BAR_PW;
      if (v > 0 && w < 1) w = 1; /* a non-zero value stays visible */
      fprintf(out,
              "<rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\"/>",
              g[i].cls[j], (int)BAR_L, html_co(y), html_co(w), bh);
      fprintf(out, "<text class=\"vl\" x=\"%.1f\" y=\"%.1f\">%s", html_co(BAR_L + w + 6),
              html_co(y + bh - 3.5), html_secs(b, sizeof b, v));
      if (j == g[i].bars - 1 && g[i].note[0]) {
        fputs("<tspan class=\"tl\" dx=\"8\">", out);
        html_put_text(out, g[i].note);
        fputs("</tspan>", out);
      }
      fputs("</text>\n", out);
      y += bh + gap;
    }
    y += group_gap - gap;
  }
  fputs("</svg>", out);
}

