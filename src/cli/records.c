/* Table rows as CSV or JSON, and the end of a command's output: the writers every
 * command that prints records shares, so that the formats stay alike. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli.h"

void amz_cli_json_str(FILE *o, const char *s) {
  fputc('"', o);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(o, "\\%c", *p);
    else if (*p == '\n') fputs("\\n", o);
    else if (*p == '\t') fputs("\\t", o);
    else if (*p < 0x20) fprintf(o, "\\u%04x", *p);
    else fputc(*p, o);
  }
  fputc('"', o);
}

/* CSV fields with commas, quotes or line breaks are quoted (RFC 4180). */
static void csv_str(FILE *o, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, o);
    return;
  }
  fputc('"', o);
  for (; *s; s++) {
    if (*s == '"') fputc('"', o);
    fputc(*s, o);
  }
  fputc('"', o);
}

/* Doubles printed so that they read back exactly and stay valid JSON. */
void amz_cli_num(FILE *o, double v) {
  if (!isfinite(v)) v = 0;
  fprintf(o, "%.9g", v);
}

int amz_cli_finish(FILE *o) {
  if (fflush(o) != 0 || ferror(o)) {
    fprintf(stderr, "amorsize: cannot write the output: %s\n", strerror(errno));
    return AMZ_CLI_FAIL;
  }
  return AMZ_CLI_OK;
}

void amz_cli_records_begin(FILE *o, amz_cli_fmt_t fmt, const amz_cli_field_t *f, size_t n) {
  if (fmt == AMZ_CLI_JSON) {
    fputs("[", o);
    return;
  }
  for (size_t k = 0; k < n; k++) fprintf(o, "%s%s", f[k].name, k + 1 < n ? "," : "\n");
}

void amz_cli_records_row(FILE *o, amz_cli_fmt_t fmt, const amz_cli_field_t *f, size_t n,
                         size_t row) {
  if (fmt == AMZ_CLI_JSON) fprintf(o, "%s\n {", row ? "," : "");
  for (size_t k = 0; k < n; k++) {
    if (fmt == AMZ_CLI_JSON) fprintf(o, "%s\"%s\": ", k ? ", " : "", f[k].name);
    else if (k) fputc(',', o);
    switch (f[k].kind) {
      case AMZ_CLI_F_INT: fprintf(o, "%lld", f[k].i); break;
      case AMZ_CLI_F_U64: fprintf(o, "%llu", f[k].u); break;
      case AMZ_CLI_F_NUM: amz_cli_num(o, f[k].d); break;
      case AMZ_CLI_F_STR:
        fmt == AMZ_CLI_JSON ? amz_cli_json_str(o, f[k].s) : csv_str(o, f[k].s);
        break;
      case AMZ_CLI_F_BOOL:
        if (fmt == AMZ_CLI_JSON) fputs(f[k].i ? "true" : "false", o);
        else fprintf(o, "%d", f[k].i != 0);
        break;
      case AMZ_CLI_F_OPT:
        if (isfinite(f[k].d)) amz_cli_num(o, f[k].d);
        else if (fmt == AMZ_CLI_JSON) fputs("null", o);
        break;
    }
  }
  fputs(fmt == AMZ_CLI_JSON ? "}" : "\n", o);
}

void amz_cli_records_end(FILE *o, amz_cli_fmt_t fmt) {
  if (fmt == AMZ_CLI_JSON) fputs("\n]\n", o);
}
