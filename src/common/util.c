/* Helpers without state that every component links its own copy of: number and
 * size formatting, the FNV-1a hash, strict number parsing, the cache directory. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/* Formats seconds with a unit that keeps 3 significant digits. */
const char *amz__fmt_seconds(char *buf, size_t len, double s) {
  double a = fabs(s);
  if (a == 0.0)
    snprintf(buf, len, "0 s");
  else if (a >= 1.0)
    snprintf(buf, len, "%.3g s", s);
  else if (a >= 1e-3)
    snprintf(buf, len, "%.3g ms", s * 1e3);
  else if (a >= 1e-6)
    snprintf(buf, len, "%.3g us", s * 1e6);
  else
    snprintf(buf, len, "%.3g ns", s * 1e9);
  return buf;
}

const char *amz__fmt_bytes(char *buf, size_t len, uint64_t b) {
  if (b == 0) snprintf(buf, len, "none");
  else if (b >= (1ULL << 30)) snprintf(buf, len, "%.1f GiB", (double)b / (1ULL << 30));
  else if (b >= (1ULL << 20)) snprintf(buf, len, "%.1f MiB", (double)b / (1ULL << 20));
  else snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
  return buf;
}

uint64_t amz__fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

int amz__parse_u64(const char *s, uint64_t *out) {
  if (!s) return -1;
  while (isspace((unsigned char)*s)) s++;
  if (!isdigit((unsigned char)*s)) return -1; /* no sign, no empty string */
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0) return -1;
  while (isspace((unsigned char)*end)) end++;
  if (*end != '\0') return -1;
  *out = v;
  return 0;
}

void amz__default_cache_dir(char *buf, size_t len) {
  const char *v;
  buf[0] = '\0';
  if ((v = getenv("AMZ_CACHE_DIR")) != NULL) {
    snprintf(buf, len, "%s", v); /* "" disables */
  } else if ((v = getenv("XDG_CACHE_HOME")) != NULL && v[0]) {
    snprintf(buf, len, "%s/amorsize", v);
  } else if ((v = getenv("HOME")) != NULL && v[0]) {
    snprintf(buf, len, "%s/.cache/amorsize", v);
  }
}

int amz__cache_publish(const char *dir, const char *path, const char *text) {
  /* Create the directory chain (mkdir -p); a failure shows at fopen below. */
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *s = tmp + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(tmp, 0755);
      *s = '/';
    }
  mkdir(tmp, 0755);
  char part[600];
  snprintf(part, sizeof part, "%s.%ld.tmp", path, (long)getpid());
  FILE *f = fopen(part, "w");
  if (!f) return -1;
  size_t len = strlen(text);
  int ok = fwrite(text, 1, len, f) == len;
  if (fclose(f) != 0) ok = 0;
  if (ok && rename(part, path) == 0) return 0; /* atomic: never half a file */
  unlink(part);
  return -1;
}
