/* Reading a profile back (include/amorsize_profile.h).
 *
 * Three layers of checks, so that no file makes the reader or its callers crash:
 * the seal (profile_seal.c: magic, length, CRC-32) before HDF5 sees the file; then
 * every attribute and table is checked for presence, type class and shape before it
 * is read (HDF5 converts matching fields by name); then the values are checked for
 * the ranges the rest of the program relies on (indexes, item bounds, finite
 * times). Anything else is AMZ_EFORMAT with the file, the object and the reason. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* The largest table the reader accepts, in rows: beyond any real run's records
 * (2^20 per rank and run), and a bound on what a damaged size field can allocate. */
#define MAX_ROWS ((hsize_t)1 << 28)
#define MAX_STRING ((size_t)1 << 20)

struct amz_profile {
  amz_profile_info_t info;
  amz_profile_model_t model;
  amz_profile_chunk_t *chunks;
  size_t n_chunks;
  amz_profile_worker_t *workers;
  size_t n_workers;
  amz_profile_candidate_t *cands;
  size_t n_cands;
  amz__row_cand_t *cand_rows; /* the candidates' schedule strings */
  amz_profile_term_t *terms;
  size_t n_terms;
  amz__row_term_t *term_rows;
  amz_profile_node_t *nodes;
  size_t n_nodes;
  amz__row_node_t *node_rows;
  amz_profile_failure_t *failures;
  size_t n_failures;
  double *cost_profile;
  char **strs; /* strings the info and model point to */
  size_t n_strs;
  amz__findings_t findings; /* the bottleneck analysis (judge) */
};

typedef struct rctx {
  const char *path;
  amz_profile_t *p;
  int rc;
} rctx_t;

static int failf(rctx_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(rctx_t *c, int code, const char *fmt, ...) {
  if (c->rc) return c->rc;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->rc = amz__fail(code, "%s: %s", c->path, msg);
  return c->rc;
}

static const char *keep(rctx_t *c, char *s) {
  if (!s) {
    failf(c, AMZ_ENOMEM, "out of memory");
    return "";
  }
  char **v = realloc(c->p->strs, (c->p->n_strs + 1) * sizeof *v);
  if (!v) {
    free(s);
    failf(c, AMZ_ENOMEM, "out of memory");
    return "";
  }
  c->p->strs = v;
  v[c->p->n_strs++] = s;
  return s;
}

/* A string of the file as the reader hands it out: valid UTF-8 (each maximal
 * invalid subsequence replaced by U+FFFD, as Unicode recommends and Python's
 * "replace" does) with control characters written as escapes (\x1b, \u009b), so
 * that no profile string can move a terminal's cursor, retitle it or break a
 * JSON or CSV line. `newlines` keeps line feeds (the `slurm` attribute's lines).
 * Returns a new string, or NULL when out of memory. */
static char *clean(const char *in, int newlines) {
  const unsigned char *s = (const unsigned char *)in;
  size_t n = strlen(in);
  char *out = malloc(6 * n + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n;) {
    unsigned b = s[i];
    size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
                 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    size_t k = 1; /* bytes of a valid prefix */
    while (len > 1 && k < len && i + k < n) {
      unsigned c = s[i + k], lo = 0x80, hi = 0xBF;
      if (k == 1 && b == 0xE0) lo = 0xA0;
      if (k == 1 && b == 0xED) hi = 0x9F;
      if (k == 1 && b == 0xF0) lo = 0x90;
      if (k == 1 && b == 0xF4) hi = 0x8F;
      if (c < lo || c > hi) break;
      k++;
    }
    if (len == 0 || k < len) { /* invalid: one U+FFFD for the maximal subpart */
      memcpy(o, "\xEF\xBF\xBD", 3);
      o += 3;
      i += k;
      continue;
    }
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) << 6 | (s[i + 1] & 0x3F) : 0;
    if ((cp < 0x20 && !(newlines && cp == '\n')) || cp == 0x7F)
      o += sprintf(o, "\\x%02x", (unsigned)cp);
    else if (len == 2 && cp >= 0x80 && cp <= 0x9F)
      o += sprintf(o, "\\u%04x", (unsigned)cp);
    else {
      memcpy(o, s + i, len);
      o += len;
    }
    i += len;
  }
  *o = '\0';
  return out;
}

/* keep() of a cleaned copy of s. */
static const char *keep_clean(rctx_t *c, const char *s, int newlines) {
  return keep(c, s ? clean(s, newlines) : NULL);
}

/* ---- attributes ------------------------------------------------------------------ */

enum { OPTIONAL = 0, REQUIRED = 1 };

/* Opens attribute name of loc after checking its class and that it holds one
 * value; -1 when absent (and optional) or on failure (c->rc set). */
static hid_t open_attr(rctx_t *c, hid_t loc, const char *where, const char *name,
                       H5T_class_t cls, int required) {
  if (c->rc) return -1;
  htri_t ex = H5Aexists(loc, name);
  if (ex <= 0) {
    if (required) failf(c, AMZ_EFORMAT, "missing attribute '%s' of %s", name, where);
    return -1;
  }
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  if (a < 0) {
    failf(c, AMZ_EFORMAT, "unreadable attribute '%s' of %s", name, where);
    return -1;
  }
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  H5T_class_t have = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  hssize_t npts = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  static const char *const cname[] = {"integer", "float", "time", "string", "bitfield",
                                      "opaque", "compound", "reference", "enum", "vlen",
                                      "array"};
  if (have != cls) {
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s is a %s, expected a %s", name, where,
          have >= 0 && have < 11 ? cname[have] : "value of unknown class",
          cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : "string");
  } else if (npts != 1) {
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s has %lld values, expected one", name, where,
          (long long)npts);
  }
  if (c->rc) {
    H5Aclose(a);
    return -1;
  }
  return a;
}

static int64_t attr_int(rctx_t *c, hid_t loc, const char *where, const char *name,
                        int64_t lo, int64_t hi, int required) {
  hid_t a = open_attr(c, loc, where, name, H5T_INTEGER, required);
  if (a < 0) return lo;
  int64_t v = lo;
  /* Unsigned values above INT64_MAX would wrap: read those as unsigned first. */
  uint64_t u = 0;
  hid_t t = H5Aget_type(a);
  int is_signed = H5Tget_sign(t) == H5T_SGN_2;
  H5Tclose(t);
  herr_t e = is_signed ? H5Aread(a, H5T_NATIVE_INT64, &v) : H5Aread(a, H5T_NATIVE_UINT64, &u);
  H5Aclose(a);
  if (e < 0) {
    failf(c, AMZ_EFORMAT, "unreadable attribute '%s' of %s", name, where);
    return lo;
  }
  if (!is_signed) {
    if (u > (uint64_t)INT64_MAX) {
      failf(c, AMZ_EFORMAT, "attribute '%s' of %s is %llu, expected at most %lld", name, where,
            (unsigned long long)u, (long long)hi);
      return lo;
    }
    v = (int64_t)u;
  }
  if (v < lo || v > hi) {
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s is %lld, expected %lld to %lld", name, where,
          (long long)v, (long long)lo, (long long)hi);
    return lo;
  }
  return v;
}

static uint64_t attr_u64(rctx_t *c, hid_t loc, const char *where, const char *name, int required) {
  hid_t a = open_attr(c, loc, where, name, H5T_INTEGER, required);
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a);
  int is_signed = H5Tget_sign(t) == H5T_SGN_2;
  H5Tclose(t);
  uint64_t u = 0;
  int64_t v = 0;
  herr_t e = is_signed ? H5Aread(a, H5T_NATIVE_INT64, &v) : H5Aread(a, H5T_NATIVE_UINT64, &u);
  H5Aclose(a);
  if (e < 0) failf(c, AMZ_EFORMAT, "unreadable attribute '%s' of %s", name, where);
  if (is_signed && v < 0)
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s is %lld, expected a count >= 0", name, where,
          (long long)v);
  return is_signed ? (uint64_t)(v < 0 ? 0 : v) : u;
}

static double attr_f64(rctx_t *c, hid_t loc, const char *where, const char *name, int required) {
  hid_t a = open_attr(c, loc, where, name, H5T_FLOAT, required);
  if (a < 0) return 0.0;
  double v = 0.0;
  if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
    failf(c, AMZ_EFORMAT, "unreadable attribute '%s' of %s", name, where);
  H5Aclose(a);
  if (!c->rc && !isfinite(v)) {
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s is not a finite number", name, where);
    v = 0.0;
  }
  return v;
}

/* A fixed-length string attribute; "" when absent and optional. */
static const char *attr_str(rctx_t *c, hid_t loc, const char *where, const char *name,
                            int required) {
  hid_t a = open_attr(c, loc, where, name, H5T_STRING, required);
  if (a < 0) return "";
  hid_t t = H5Aget_type(a);
  char *out = NULL;
  if (H5Tis_variable_str(t) != 0) {
    /* Variable-length strings live in HDF5's global heap, which has no checksum:
     * crafted heap objects crashed or hung HDF5's reader. The writer never uses
     * them, so they are refused before HDF5 reads the heap. */
    failf(c, AMZ_EFORMAT, "attribute '%s' of %s is a variable-length string; profiles hold "
                          "fixed-length strings", name, where);
  } else {
    size_t n = H5Tget_size(t);
    if (n == 0 || n > MAX_STRING) {
      failf(c, AMZ_EFORMAT, "attribute '%s' of %s is a string of %zu bytes", name, where, n);
    } else {
      hid_t m = H5Tcopy(t);
      H5Tset_size(m, n + 1);
      H5Tset_strpad(m, H5T_STR_NULLTERM);
      out = calloc(1, n + 2);
      if (out && H5Aread(a, m, out) < 0) {
        free(out);
        out = NULL;
        failf(c, AMZ_EFORMAT, "unreadable attribute '%s' of %s", name, where);
      }
      H5Tclose(m);
    }
  }
  H5Tclose(t);
  H5Aclose(a);
  if (c->rc) {
    free(out);
    return "";
  }
  const char *kept = keep_clean(c, out, strcmp(name, "slurm") == 0);
  free(out);
  return kept;
}

/* ---- tables ---------------------------------------------------------------------- */

/* 1 when loc has an object `name` of `type` (a dataset or a group), 0 when it has
 * none or one of another type. A profile holds its objects itself: a soft or
 * external link is refused (an external link would make HDF5 open another file),
 * and an object HDF5 cannot describe is refused rather than taken as absent. */
static int has_object(rctx_t *c, hid_t loc, const char *name, H5O_type_t type) {
  const char *what = type == H5O_TYPE_GROUP ? "group" : "table";
  if (c->rc || H5Lexists(loc, name, H5P_DEFAULT) <= 0) return 0;
  H5L_info_t li;
  if (H5Lget_info(loc, name, &li, H5P_DEFAULT) < 0) {
    failf(c, AMZ_EFORMAT, "unreadable %s '%s'", what, name);
    return 0;
  }
  if (li.type == H5L_TYPE_EXTERNAL) {
    char val[512] = "";
    const char *file = "?", *obj = NULL;
    unsigned fl = 0;
    if (li.u.val_size > 0 && li.u.val_size <= sizeof val &&
        H5Lget_val(loc, name, val, sizeof val, H5P_DEFAULT) >= 0 &&
        H5Lunpack_elink_val(val, li.u.val_size, &fl, &file, &obj) < 0)
      file = "?";
    char *safe = clean(file, 0);
    failf(c, AMZ_EFORMAT, "%s '%s' is an external link to '%s': a profile holds its data "
                          "itself", what, name, safe ? safe : "?");
    free(safe);
    return 0;
  }
  if (li.type != H5L_TYPE_HARD) {
    failf(c, AMZ_EFORMAT, "%s '%s' is a soft link: a profile has none", what, name);
    return 0;
  }
  H5O_info_t oi;
  if (H5Oget_info_by_name2(loc, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    failf(c, AMZ_EFORMAT, "unreadable %s '%s'", what, name);
    return 0;
  }
  return oi.type == type;
}

/* Refuses a dataset whose data is not plain storage of this file: data kept in
 * an external file (which a crafted profile could point at any local file), a
 * virtual dataset (data mapped from other files), or a filter the writer never
 * uses. Checked before a byte of the data is read. */
static void check_storage(rctx_t *c, hid_t ds, const char *name) {
  hid_t pl = H5Dget_create_plist(ds);
  if (pl < 0) {
    failf(c, AMZ_EFORMAT, "unreadable table '%s'", name);
    return;
  }
  int n_ext = H5Pget_external_count(pl);
  if (n_ext != 0) {
    char file[256] = "?";
    off_t off;
    hsize_t size;
    if (n_ext < 0 || H5Pget_external(pl, 0, sizeof file, file, &off, &size) < 0)
      snprintf(file, sizeof file, "?");
    file[sizeof file - 1] = '\0';
    char *safe = clean(file, 0);
    failf(c, AMZ_EFORMAT, "table '%s' keeps its data in an external file ('%s'): a profile "
                          "holds its data itself", name, safe ? safe : "?");
    free(safe);
  } else if (H5Pget_layout(pl) == H5D_VIRTUAL) {
    failf(c, AMZ_EFORMAT, "table '%s' is a virtual dataset: a profile holds its data itself",
          name);
  } else {
    int nf = H5Pget_nfilters(pl);
    for (int i = 0; i < nf && !c->rc; i++) {
      unsigned flags, cd[8];
      size_t ncd = 8;
      H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
      if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32)
        failf(c, AMZ_EFORMAT, "table '%s' is stored through HDF5 filter %d; profiles use "
                              "only deflate, shuffle, fletcher32", name, (int)id);
    }
  }
  H5Pclose(pl);
}

/* deflate expands at most 1032:1 and shuffle keeps sizes: a table that declares
 * more bytes than its storage holds even at that ratio has rows that were never
 * written. Refused before anything is allocated for them. */
#define MAX_RATIO 1100

/* Rows read at a time: a bounded transfer however large the table. */
#define BLOCK_ROWS ((hsize_t)1 << 20)

/* Table fields added within schema 1: a file written before them lacks them, and
 * they read as 0. Every other field of the memory type is required. */
static int optional_field(const char *field) {
  static const char *const added[] = {"pus_bound", "taken"};
  for (size_t i = 0; field && i < sizeof added / sizeof added[0]; i++)
    if (strcmp(field, added[i]) == 0) return 1;
  return 0;
}

/* A copy of the compound memory type mtype whose string members have the
 * character set of the same members of the file type ft (optional fields the file
 * lacks left out); -1 on failure. */
static hid_t matching_cset(hid_t mtype, hid_t ft) {
  hid_t out = H5Tcreate(H5T_COMPOUND, H5Tget_size(mtype));
  int n = H5Tget_nmembers(mtype);
  for (int i = 0; out >= 0 && i < n; i++) {
    char *field = H5Tget_member_name(mtype, (unsigned)i);
    hid_t t = H5Tget_member_type(mtype, (unsigned)i);
    int idx = field ? H5Tget_member_index(ft, field) : -1;
    if (t >= 0 && idx >= 0 && H5Tget_class(t) == H5T_STRING) {
      hid_t f = H5Tget_member_type(ft, (unsigned)idx);
      H5T_cset_t cs = f >= 0 ? H5Tget_cset(f) : H5T_CSET_ERROR;
      if (f >= 0) H5Tclose(f);
      if (cs == H5T_CSET_ERROR || H5Tset_cset(t, cs) < 0) idx = -1;
    }
    if (field && t >= 0 && idx < 0 && optional_field(field)) {
      /* Not in this file: left out of the read, the row keeps its 0. */
    } else if (!field || t < 0 || idx < 0 ||
               H5Tinsert(out, field, H5Tget_member_offset(mtype, (unsigned)i), t) < 0) {
      H5Tclose(out);
      out = -1;
    }
    if (t >= 0) H5Tclose(t);
    if (field) H5free_memory(field);
  }
  return out;
}

/* Reads table `name` of loc into *rows with memory type mtype (row_size bytes),
 * after checking that it is a 1-D compound with every field of mtype (but the
 * optional_field() ones, which read as 0 when absent), each of the same class. */
static void *read_table(rctx_t *c, hid_t loc, const char *name, const char *label, hid_t mtype,
                        size_t row_size, size_t *n_out) {
  *n_out = 0;
  if (c->rc) return NULL;
  if (!has_object(c, loc, name, H5O_TYPE_DATASET)) {
    if (!c->rc) failf(c, AMZ_EFORMAT, "missing table '%s'", label);
    return NULL;
  }
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  if (ds < 0) {
    failf(c, AMZ_EFORMAT, "unreadable table '%s'", label);
    return NULL;
  }
  hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds), mt = -1;
  void *rows = NULL;
  check_storage(c, ds, name);
  if (c->rc) goto out;
  if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
    failf(c, AMZ_EFORMAT, "table '%s' is not a table of records (compound type)", label);
    goto out;
  }
  int nm = H5Tget_nmembers(mtype);
  for (int i = 0; i < nm && !c->rc; i++) {
    char *field = H5Tget_member_name(mtype, (unsigned)i);
    int idx = field ? H5Tget_member_index(ft, field) : -1;
    if (idx < 0 && optional_field(field)) {
      /* A field added within schema 1, absent from an older file. */
    } else if (idx < 0) {
      failf(c, AMZ_EFORMAT, "table '%s' has no field '%s'", label, field ? field : "?");
    } else {
      H5T_class_t want = H5Tget_member_class(mtype, (unsigned)i);
      H5T_class_t have = H5Tget_member_class(ft, (unsigned)idx);
      if (want != have) {
        failf(c, AMZ_EFORMAT, "field '%s' of table '%s' has the wrong type (%s expected)",
              field, label,
              want == H5T_INTEGER ? "integer" : want == H5T_FLOAT ? "float" : "string");
      } else if (have == H5T_STRING) {
        /* Variable-length strings live in HDF5's global heap, which has no checksum. */
        hid_t member = H5Tget_member_type(ft, (unsigned)idx);
        if (member < 0 || H5Tis_variable_str(member) != 0)
          failf(c, AMZ_EFORMAT, "field '%s' of table '%s' is a variable-length string; "
                                "profiles hold fixed-length strings", field, label);
        if (member >= 0) H5Tclose(member);
      }
    }
    if (field) H5free_memory(field);
  }
  if (c->rc) goto out;
  if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1) {
    failf(c, AMZ_EFORMAT, "table '%s' is not one-dimensional", label);
    goto out;
  }
  hsize_t dims = 0;
  H5Sget_simple_extent_dims(sp, &dims, NULL);
  if (dims > MAX_ROWS) {
    failf(c, AMZ_EFORMAT, "table '%s' has %llu rows, more than the reader's limit %llu", label,
          (unsigned long long)dims, (unsigned long long)MAX_ROWS);
    goto out;
  }
  size_t file_row = H5Tget_size(ft);
  hsize_t stored = H5Dget_storage_size(ds);
  if (dims > 0 && (double)stored * MAX_RATIO < (double)dims * (double)file_row) {
    failf(c, AMZ_EFORMAT, "table '%s' declares %llu rows (%llu bytes) but stores %llu bytes: "
                          "rows that were never written", label, (unsigned long long)dims,
          (unsigned long long)(dims * file_row), (unsigned long long)stored);
    goto out;
  }
  /* HDF5 does not convert strings between character sets: the memory type's
   * strings take the file's (ASCII or UTF-8), field by field. */
  mt = matching_cset(mtype, ft);
  if (mt < 0) {
    failf(c, AMZ_EFORMAT, "unreadable table '%s'", label);
    goto out;
  }
  rows = calloc(dims ? dims : 1, row_size);
  if (!rows) {
    failf(c, AMZ_ENOMEM, "out of memory for %llu rows of '%s'", (unsigned long long)dims, label);
    goto out;
  }
  for (hsize_t at = 0; at < dims; at += BLOCK_ROWS) {
    hsize_t count = dims - at < BLOCK_ROWS ? dims - at : BLOCK_ROWS;
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t e = ms < 0 ? -1 : H5Sselect_hyperslab(sp, H5S_SELECT_SET, &at, NULL, &count, NULL);
    if (e >= 0)
      e = H5Dread(ds, mt, ms, sp, H5P_DEFAULT, (char *)rows + (size_t)at * row_size);
    if (ms >= 0) H5Sclose(ms);
    if (e < 0) {
      failf(c, AMZ_EFORMAT, "cannot read table '%s' (damaged data?)", label);
      free(rows);
      rows = NULL;
      goto out;
    }
  }
  *n_out = (size_t)dims;
out:
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  return rows;
}

static void *table_of(rctx_t *c, hid_t loc, const char *name, hid_t (*fn)(void), size_t row,
                      size_t *n) {
  /* Messages name the table by its path in the file. */
  const char *label = strcmp(name, "candidates") == 0 ? "plan/candidates" : name;
  if (c->rc) return NULL;
  hid_t t = fn();
  if (t < 0) {
    failf(c, AMZ_ENOMEM, "cannot build the HDF5 type of '%s'", name);
    return NULL;
  }
  void *rows = read_table(c, loc, name, label, t, row, n);
  H5Tclose(t);
  return rows;
}

static int finite_span(double a, double b) { return isfinite(a) && isfinite(b) && b >= a; }

/* ---- the profile ----------------------------------------------------------------- */

static void read_info(rctx_t *c, hid_t f) {
  amz_profile_info_t *i = &c->p->info;
  const char *R = "the file (root)";
  i->schema_version = (int)attr_int(c, f, R, "schema_version", 1, AMZ_PROFILE_SCHEMA_VERSION,
                                    REQUIRED);
  i->library_version = attr_str(c, f, R, "library_version", REQUIRED);
  i->created = attr_str(c, f, R, "created", REQUIRED);
  i->task = attr_str(c, f, R, "task", REQUIRED);
  i->kind = attr_str(c, f, R, "kind", REQUIRED);
  i->mode = attr_str(c, f, R, "mode", REQUIRED);
  i->schedule = attr_str(c, f, R, "schedule", REQUIRED);
  i->command_line = attr_str(c, f, R, "command_line", OPTIONAL);
  i->host = attr_str(c, f, R, "host", OPTIONAL);
  i->slurm_job_id = attr_str(c, f, R, "slurm_job_id", OPTIONAL);
  i->slurm = attr_str(c, f, R, "slurm", OPTIONAL);
  i->mpi_library = attr_str(c, f, R, "mpi_library", OPTIONAL);
  i->n_items = attr_u64(c, f, R, "n_items", REQUIRED);
  i->chunk = attr_u64(c, f, R, "chunk", REQUIRED);
  i->items_done = attr_u64(c, f, R, "items_done", REQUIRED);
  i->items_failed = attr_u64(c, f, R, "items_failed", REQUIRED);
  i->sampled_items = attr_u64(c, f, R, "sampled_items", REQUIRED);
  /* Added within schema 1: absent from files of earlier versions (read as 0, ""). */
  i->items_resumed = attr_u64(c, f, R, "items_resumed", OPTIONAL);
  i->items_recovered = attr_u64(c, f, R, "items_recovered", OPTIONAL);
  i->retry_calls = attr_u64(c, f, R, "retry_calls", OPTIONAL);
  i->checkpoint = attr_str(c, f, R, "checkpoint", OPTIONAL);
  i->chunks_total = attr_u64(c, f, R, "chunks_total", REQUIRED);
  i->chunks_dropped = attr_u64(c, f, R, "chunks_dropped", REQUIRED);
  i->run_index = (int)attr_int(c, f, R, "run_index", 1, INT32_MAX, REQUIRED);
  i->ranks_launched = (int)attr_int(c, f, R, "ranks_launched", 1, INT32_MAX, REQUIRED);
  i->ranks_used = (int)attr_int(c, f, R, "ranks_used", 1, i->ranks_launched, REQUIRED);
  i->nodes = (int)attr_int(c, f, R, "nodes", 1, i->ranks_used, REQUIRED);
  i->threads = (int)attr_int(c, f, R, "threads", 1, AMZ__MAX_WORKERS, REQUIRED);
  i->wall_s = attr_f64(c, f, R, "wall_s", REQUIRED);
  i->predicted_s = attr_f64(c, f, R, "predicted_s", REQUIRED);
  i->predicted_serial_s = attr_f64(c, f, R, "predicted_serial_s", REQUIRED);
  i->predicted_lo_s = attr_f64(c, f, R, "predicted_lo_s", OPTIONAL);
  i->predicted_hi_s = attr_f64(c, f, R, "predicted_hi_s", OPTIONAL);
  i->predicted_widest = attr_str(c, f, R, "predicted_widest", OPTIONAL);
  i->setup_s = attr_f64(c, f, R, "setup_s", REQUIRED);
  i->mean_item_s = attr_f64(c, f, R, "mean_item_s", REQUIRED);
  amz_schedule_t s;
  if (!c->rc && amz_schedule_parse(i->schedule, &s) != 0)
    failf(c, AMZ_EFORMAT, "attribute 'schedule' is '%.40s', not a schedule name", i->schedule);
  if (!c->rc && strcmp(i->kind, "threads") != 0 && strcmp(i->kind, "mpi") != 0)
    failf(c, AMZ_EFORMAT, "attribute 'kind' is '%.40s', expected threads or mpi", i->kind);
  if (!c->rc && strcmp(i->mode, "range") != 0 && strcmp(i->mode, "map") != 0)
    failf(c, AMZ_EFORMAT, "attribute 'mode' is '%.40s', expected range or map", i->mode);
  if (!c->rc && (i->items_done > i->n_items || i->items_failed > i->n_items - i->items_done))
    failf(c, AMZ_EFORMAT, "items done %llu + failed %llu exceed n_items %llu",
          (unsigned long long)i->items_done, (unsigned long long)i->items_failed,
          (unsigned long long)i->n_items);
  if (!c->rc && (i->wall_s < 0 || i->predicted_s < 0 || i->setup_s < 0))
    failf(c, AMZ_EFORMAT, "negative times in the root attributes");
  if (!c->rc && (i->predicted_lo_s < 0 || i->predicted_lo_s > i->predicted_hi_s))
    failf(c, AMZ_EFORMAT, "predicted interval [%g, %g] s: expected 0 <= low <= high",
          i->predicted_lo_s, i->predicted_hi_s);
}

static void read_chunks(rctx_t *c, hid_t f) {
  amz_profile_t *p = c->p;
  size_t n = 0;
  amz__row_chunk_t *r = table_of(c, f, "chunks", amz__h5t_chunk, sizeof *r, &n);
  if (!r) return;
  p->chunks = calloc(n ? n : 1, sizeof *p->chunks);
  if (!p->chunks) failf(c, AMZ_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && !c->rc; i++) {
    const amz__row_chunk_t *x = &r[i];
    if (x->rank < 0 || x->rank >= p->info.ranks_launched || x->thread < 0 ||
        x->thread >= AMZ__MAX_WORKERS || x->node < 0 || x->node >= p->info.ranks_launched)
      failf(c, AMZ_EFORMAT, "row %zu of 'chunks': rank %d, thread %d or node %d out of range",
            i, x->rank, x->thread, x->node);
    else if (x->begin > x->end || x->end > p->info.n_items)
      failf(c, AMZ_EFORMAT, "row %zu of 'chunks': items [%llu, %llu) outside [0, %llu)", i,
            (unsigned long long)x->begin, (unsigned long long)x->end,
            (unsigned long long)p->info.n_items);
    else if (!finite_span(x->t_start, x->t_end))
      failf(c, AMZ_EFORMAT, "row %zu of 'chunks': times %g to %g are not an interval", i,
            x->t_start, x->t_end);
    else
      p->chunks[i] = (amz_profile_chunk_t){x->rank, x->thread, x->node, x->status,
                                           x->sampled != 0, x->begin, x->end, x->t_start,
                                           x->t_end};
  }
  p->n_chunks = c->rc ? 0 : n;
  free(r);
}

static void read_workers(rctx_t *c, hid_t f) {
  amz_profile_t *p = c->p;
  size_t n = 0;
  amz__row_worker_t *r = table_of(c, f, "workers", amz__h5t_worker, sizeof *r, &n);
  if (!r) return;
  p->workers = calloc(n ? n : 1, sizeof *p->workers);
  if (!p->workers) failf(c, AMZ_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && !c->rc; i++) {
    const amz__row_worker_t *x = &r[i];
    if (x->rank < 0 || x->rank >= p->info.ranks_launched || x->thread < 0 ||
        x->thread >= AMZ__MAX_WORKERS || x->node < 0 || x->node >= p->info.ranks_launched)
      failf(c, AMZ_EFORMAT, "row %zu of 'workers': rank %d, thread %d or node %d out of range",
            i, x->rank, x->thread, x->node);
    else if (!isfinite(x->busy_s) || !isfinite(x->dispatch_s) || !isfinite(x->idle_s) ||
             !isfinite(x->data_s))
      failf(c, AMZ_EFORMAT, "row %zu of 'workers': times are not finite", i);
    else if (x->taken > x->items)
      failf(c, AMZ_EFORMAT, "row %zu of 'workers': %llu items taken, more than its %llu items",
            i, (unsigned long long)x->taken, (unsigned long long)x->items);
    else
      p->workers[i] = (amz_profile_worker_t){x->rank,     x->thread,     x->node,
                                             x->items,    x->chunks,     x->failures,
                                             x->busy_s,   x->dispatch_s, x->idle_s,
                                             x->data_s,   x->taken};
  }
  p->n_workers = c->rc ? 0 : n;
  free(r);
}

static void read_plan(rctx_t *c, hid_t f) {
  amz_profile_t *p = c->p;
  if (c->rc) return;
  if (!has_object(c, f, "plan", H5O_TYPE_GROUP)) {
    if (!c->rc) failf(c, AMZ_EFORMAT, "missing group 'plan'");
    return;
  }
  hid_t g = H5Gopen2(f, "plan", H5P_DEFAULT);
  if (g < 0) {
    failf(c, AMZ_EFORMAT, "unreadable group 'plan'");
    return;
  }
  p->info.plan_why = attr_str(c, g, "group 'plan'", "why", REQUIRED);
  size_t n = 0;
  amz__row_cand_t *r = table_of(c, g, "candidates", amz__h5t_cand, sizeof *r, &n);
  H5Gclose(g);
  if (!r) return;
  p->cand_rows = r;
  p->cands = calloc(n ? n : 1, sizeof *p->cands);
  if (!p->cands) failf(c, AMZ_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && !c->rc; i++) {
    amz__row_cand_t *x = &r[i];
    x->schedule[sizeof x->schedule - 1] = '\0';
    amz_schedule_t s;
    if (x->ranks < 1 || x->threads < 1 || x->threads > AMZ__MAX_WORKERS)
      failf(c, AMZ_EFORMAT, "row %zu of 'plan/candidates': ranks %d or threads %d out of range",
            i, x->ranks, x->threads);
    else if (amz_schedule_parse(x->schedule, &s) != 0) {
      char *safe = clean(x->schedule, 0);
      failf(c, AMZ_EFORMAT, "row %zu of 'plan/candidates': schedule '%s' unknown", i,
            safe ? safe : "?");
      free(safe);
    }
    else if (!isfinite(x->predicted_s))
      failf(c, AMZ_EFORMAT, "row %zu of 'plan/candidates': prediction not finite", i);
    else
      p->cands[i] = (amz_profile_candidate_t){
          .ranks = x->ranks, .threads = x->threads, .schedule = x->schedule,
          .chunk = x->chunk, .predicted_s = x->predicted_s,
          .terms = {.startup = x->startup_s, .compute = x->compute_s,
                    .dispatch = x->dispatch_s, .imbalance = x->imbalance_s,
                    .serial = x->serial_s, .total = x->predicted_s, .data = x->data_s},
          .chosen = x->chosen != 0};
  }
  p->n_cands = c->rc ? 0 : n;
}

static void read_model(rctx_t *c, hid_t f) {
  amz_profile_t *p = c->p;
  amz_profile_model_t *m = &p->model;
  if (c->rc) return;
  if (!has_object(c, f, "model", H5O_TYPE_GROUP)) {
    if (!c->rc) failf(c, AMZ_EFORMAT, "missing group 'model'");
    return;
  }
  hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
  if (g < 0) {
    failf(c, AMZ_EFORMAT, "unreadable group 'model'");
    return;
  }
  const char *W = "group 'model'";
  m->sampled_items = attr_u64(c, g, W, "sampled_items", REQUIRED);
  m->sample_blocks = attr_u64(c, g, W, "sample_blocks", REQUIRED);
  m->block_items = attr_u64(c, g, W, "block_items", REQUIRED);
  m->mean_s = attr_f64(c, g, W, "mean_s", REQUIRED);
  m->median_s = attr_f64(c, g, W, "median_s", REQUIRED);
  m->mad_s = attr_f64(c, g, W, "mad_s", REQUIRED);
  m->cv = attr_f64(c, g, W, "cv", REQUIRED);
  m->max_item_s = attr_f64(c, g, W, "max_item_s", REQUIRED);
  m->trend = attr_f64(c, g, W, "trend", REQUIRED);
  m->cpu_ratio = attr_f64(c, g, W, "cpu_ratio", REQUIRED);
  m->contention = attr_f64(c, g, W, "contention", REQUIRED);
  m->rel_error = attr_f64(c, g, W, "rel_error", REQUIRED);
  m->sample_wall_s = attr_f64(c, g, W, "sample_wall_s", REQUIRED);
  m->stop_reason = attr_str(c, g, W, "stop_reason", OPTIONAL);
  m->thread_start_s = attr_f64(c, g, W, "thread_start_s", REQUIRED);
  m->pool_wake_s = attr_f64(c, g, W, "pool_wake_s", REQUIRED);
  m->chunk_static_s = attr_f64(c, g, W, "chunk_static_s", REQUIRED);
  m->chunk_atomic_s = attr_f64(c, g, W, "chunk_atomic_s", REQUIRED);
  m->chunk_contended_s = attr_f64(c, g, W, "chunk_contended_s", REQUIRED);
  m->chunk_awf_s = attr_f64(c, g, W, "chunk_awf_s", REQUIRED);
  m->latency_shm_s = attr_f64(c, g, W, "latency_shm_s", OPTIONAL);
  m->bandwidth_shm = attr_f64(c, g, W, "bandwidth_shm_Bps", OPTIONAL);
  m->latency_net_s = attr_f64(c, g, W, "latency_net_s", OPTIONAL);
  m->bandwidth_net = attr_f64(c, g, W, "bandwidth_net_Bps", OPTIONAL);
  m->counter_s = attr_f64(c, g, W, "counter_s", OPTIONAL);
  if (!c->rc && has_object(c, g, "cost_profile", H5O_TYPE_DATASET)) {
    hid_t ds = H5Dopen2(g, "cost_profile", H5P_DEFAULT);
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1, sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t n = 0;
    if (ds >= 0) check_storage(c, ds, "cost_profile");
    if (c->rc) {
      /* refused above */
    } else if (t < 0 || sp < 0 || H5Tget_class(t) != H5T_FLOAT ||
               H5Sget_simple_extent_ndims(sp) != 1) {
      failf(c, AMZ_EFORMAT, "'model/cost_profile' is not a 1-D array of floats");
    } else {
      H5Sget_simple_extent_dims(sp, &n, NULL);
      if (n > 4096) {
        failf(c, AMZ_EFORMAT, "'model/cost_profile' has %llu bins, at most 4096 expected",
              (unsigned long long)n);
      } else if (!(p->cost_profile = calloc(n ? n : 1, sizeof(double)))) {
        failf(c, AMZ_ENOMEM, "out of memory");
      } else if (n > 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                  p->cost_profile) < 0) {
        failf(c, AMZ_EFORMAT, "cannot read 'model/cost_profile'");
      } else {
        for (hsize_t i = 0; i < n && !c->rc; i++)
          if (!isfinite(p->cost_profile[i]))
            failf(c, AMZ_EFORMAT, "'model/cost_profile' bin %llu is not finite",
                  (unsigned long long)i);
        m->bins = (size_t)n;
        m->cost_profile = p->cost_profile;
      }
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
  }
  H5Gclose(g);
}

static void read_rest(rctx_t *c, hid_t f) {
  amz_profile_t *p = c->p;
  size_t n = 0;
  amz__row_term_t *t = table_of(c, f, "overheads", amz__h5t_term, sizeof *t, &n);
  if (t) {
    p->term_rows = t;
    p->terms = calloc(n ? n : 1, sizeof *p->terms);
    if (!p->terms) failf(c, AMZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !c->rc; i++) {
      t[i].term[sizeof t[i].term - 1] = '\0';
      if (!isfinite(t[i].predicted_s) || !isfinite(t[i].measured_s))
        failf(c, AMZ_EFORMAT, "row %zu of 'overheads': not a finite number", i);
      p->terms[i] = (amz_profile_term_t){keep_clean(c, t[i].term, 0), t[i].predicted_s,
                                         t[i].measured_s};
    }
    p->n_terms = c->rc ? 0 : n;
  }
  amz__row_node_t *nd = table_of(c, f, "system", amz__h5t_node, sizeof *nd, &n);
  if (nd) {
    p->node_rows = nd;
    p->nodes = calloc(n ? n : 1, sizeof *p->nodes);
    if (!p->nodes) failf(c, AMZ_ENOMEM, "out of memory");
    if (!c->rc && (n < 1 || n > (size_t)p->info.ranks_launched))
      failf(c, AMZ_EFORMAT, "'system' has %zu nodes, expected 1 to %d (ranks launched)", n,
            p->info.ranks_launched);
    for (size_t i = 0; i < n && !c->rc; i++) {
      amz__row_node_t *x = &nd[i];
      x->host[sizeof x->host - 1] = x->cpu_model[sizeof x->cpu_model - 1] = '\0';
      if (x->node != (int)i || x->ranks < 0 || x->ranks_used < 0 || x->cores < 0 ||
          x->pus_bound < 0)
        failf(c, AMZ_EFORMAT, "row %zu of 'system': node %d or counts out of range", i, x->node);
      p->nodes[i] = (amz_profile_node_t){x->node,  keep_clean(c, x->host, 0),
                                         keep_clean(c, x->cpu_model, 0), x->ranks,
                                         x->ranks_used, x->cores, x->pus, x->numa_nodes,
                                         x->shared, x->mem_bytes, x->pus_bound};
    }
    p->n_nodes = c->rc ? 0 : n;
  }
  amz__row_failure_t *fl = table_of(c, f, "failures", amz__h5t_failure, sizeof *fl, &n);
  if (fl) {
    p->failures = calloc(n ? n : 1, sizeof *p->failures);
    if (!p->failures) failf(c, AMZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !c->rc; i++) {
      if (fl[i].begin >= fl[i].end || fl[i].end > p->info.n_items)
        failf(c, AMZ_EFORMAT, "row %zu of 'failures': items [%llu, %llu) outside [0, %llu)", i,
              (unsigned long long)fl[i].begin, (unsigned long long)fl[i].end,
              (unsigned long long)p->info.n_items);
      p->failures[i] = (amz_profile_failure_t){fl[i].begin, fl[i].end, fl[i].code};
    }
    p->n_failures = c->rc ? 0 : n;
    free(fl);
  }
  /* Node indexes of the rows must name rows of /system. */
  for (size_t i = 0; i < p->n_chunks && !c->rc; i++)
    if ((size_t)p->chunks[i].node >= p->n_nodes)
      failf(c, AMZ_EFORMAT, "row %zu of 'chunks': node %d, but 'system' has %zu nodes", i,
            p->chunks[i].node, p->n_nodes);
  for (size_t i = 0; i < p->n_workers && !c->rc; i++)
    if ((size_t)p->workers[i].node >= p->n_nodes)
      failf(c, AMZ_EFORMAT, "row %zu of 'workers': node %d, but 'system' has %zu nodes", i,
            p->workers[i].node, p->n_nodes);
}

static void prof_close(amz_profile_t *p);

/* A run chunk of the profile for the slow-worker rule (worker = rank x threads +
 * thread); sampling blocks are not the run's. */
static int profile_chunk(const void *ctx, size_t i, amz__chunk_obs_t *out) {
  const amz_profile_t *p = ctx;
  const amz_profile_chunk_t *c = &p->chunks[i];
  if (c->sampled) return 0;
  *out = (amz__chunk_obs_t){c->rank * p->info.threads + c->thread, c->begin, c->end,
                            c->t_end - c->t_start};
  return 1;
}

/* The profile's findings: its facts, from the tables as `amorsize report` shows them,
 * judged by findings.c. `path` is quoted by the failures finding. */
static int judge(amz_profile_t *p, const char *path) {
  const amz_profile_info_t *in = &p->info;
  const amz_profile_model_t *m = &p->model;
  amz_schedule_t sched; /* the load checked the name */
  amz__facts_t f = {
      .wall_s = in->wall_s,
      .predicted_s = in->predicted_s,
      .fixed_schedule = amz_schedule_parse(in->schedule, &sched) == 0 &&
                        amz__blocks_fixed(sched, in->ranks_used),
      .workers = (int)p->n_workers,
      .chunk = in->chunk,
      .items_failed = in->items_failed,
      .failed_ranges = p->n_failures,
      .failures_path = path,
      .mean_item_s = in->mean_item_s,
      .contention = m->contention,
      .serial_pred_s = in->predicted_serial_s,
      .cpu_ratio = m->cpu_ratio,
      .chunks_dropped = in->chunks_dropped,
      .mpi = strcmp(in->kind, "mpi") == 0,
      .nodes = p->nodes,
      .n_nodes = p->n_nodes,
      .threads = in->threads,
  };
  for (size_t i = 0; i < p->n_terms; i++) {
    const amz_profile_term_t *t = &p->terms[i];
    double *to = strcmp(t->name, "startup") == 0     ? &f.startup_s
                 : strcmp(t->name, "dispatch") == 0  ? &f.dispatch_s
                 : strcmp(t->name, "imbalance") == 0 ? &f.imbalance_s
                 : strcmp(t->name, "data") == 0      ? &f.data_s
                 : strcmp(t->name, "serial") == 0    ? &f.serial_s
                                                     : NULL;
    if (to) *to = t->measured_s;
    /* Which term missed most tells where the model's input was off. */
    double gap = fabs(t->measured_s - t->predicted_s);
    if (strcmp(t->name, "total") != 0 && gap > f.worst_gap_s) {
      f.worst_gap_s = gap;
      f.worst_term = t->name;
    }
  }
  for (size_t i = 0; i < p->n_workers; i++) {
    f.busy_total_s += p->workers[i].busy_s;
    f.dispatch_total_s += p->workers[i].dispatch_s;
    f.run_items += p->workers[i].items;
  }
  for (size_t i = 0; i < p->n_chunks; i++) f.run_chunks += !p->chunks[i].sampled;
  /* The slowest worker, over every rank's run chunks (worker = rank x threads +
   * thread). */
  amz__workload_t wl;
  if (in->threads > 0 && in->ranks_launched > 0 &&
      amz__workload_from_density(&wl, in->n_items, m->bins, m->cost_profile) == 0) {
    int rc = amz__slowest_worker(&wl, profile_chunk, p, p->n_chunks,
                                 in->ranks_launched * in->threads, f.fixed_schedule, &f.slow);
    if (rc != 0) return amz__fail(rc, "%s: out of memory", path);
  }
  /* Per rank: when its last run chunk ended. Ranks that end early waited for the last. */
  if (in->ranks_used >= 2 && in->ranks_launched > 0) {
    double *end = calloc((size_t)in->ranks_launched, sizeof *end);
    if (!end) return amz__fail(AMZ_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < p->n_chunks; i++) {
      const amz_profile_chunk_t *c = &p->chunks[i];
      if (!c->sampled && c->rank >= 0 && c->rank < in->ranks_launched && c->t_end > end[c->rank])
        end[c->rank] = c->t_end;
    }
    double sum = 0;
    for (int r = 0; r < in->ranks_launched; r++) {
      if (end[r] <= 0) continue;
      sum += end[r];
      if (end[r] > f.rank_end_last_s) f.rank_end_last_s = end[r];
      f.ranks_ended++;
    }
    if (f.ranks_ended) f.rank_end_mean_s = sum / f.ranks_ended;
    free(end);
  }
  return amz__findings_judge(&f, &p->findings);
}

static int prof_open(const char *path, unsigned flags, amz_profile_t **out) {
  if (!out) return amz__fail(AMZ_EINVAL, "amz_profile_open: out (the handle) is NULL");
  *out = NULL;
  if (!path) return amz__fail(AMZ_EINVAL, "amz_profile_open: path is NULL");
  if (flags & ~AMZ_PROFILE_NO_VERIFY)
    return amz__fail(AMZ_EINVAL, "amz_profile_open: unknown flags 0x%x (expected 0 or "
                                 "AMZ_PROFILE_NO_VERIFY)", flags);
  int schema = 0;
  int rc = amz__profile_verify(path, flags, &schema);
  if (rc != 0) return rc;
  amz_profile_t *p = calloc(1, sizeof *p);
  if (!p) return amz__fail(AMZ_ENOMEM, "%s: out of memory", path);
  rctx_t c = {.path = path, .p = p};
  H5E_auto2_t old_fn;
  void *old_data;
  H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    failf(&c, AMZ_EFORMAT, "the HDF5 library cannot open it (damaged file?)");
  } else {
    read_info(&c, f);
    if (!c.rc && p->info.schema_version != schema)
      failf(&c, AMZ_EFORMAT, "schema version %d in the header, %d in the file", schema,
            p->info.schema_version);
    read_chunks(&c, f);
    read_workers(&c, f);
    read_plan(&c, f);
    read_model(&c, f);
    read_rest(&c, f);
    H5Fclose(f);
  }
  H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
  if (c.rc) {
    prof_close(p);
    return c.rc;
  }
  if (!p->info.plan_why) p->info.plan_why = "";
  rc = judge(p, path);
  if (rc != 0) {
    prof_close(p);
    return rc;
  }
  *out = p;
  return 0;
}

static void prof_close(amz_profile_t *p) {
  if (!p) return;
  free(p->chunks);
  free(p->workers);
  free(p->cands);
  free(p->cand_rows);
  free(p->terms);
  free(p->term_rows);
  free(p->nodes);
  free(p->node_rows);
  free(p->failures);
  free(p->cost_profile);
  amz__findings_free(&p->findings);
  for (size_t i = 0; i < p->n_strs; i++) free(p->strs[i]);
  free(p->strs);
  free(p);
}

static const amz_profile_info_t *prof_info(const amz_profile_t *p) { return p ? &p->info : NULL; }
static const amz_profile_model_t *prof_model(const amz_profile_t *p) {
  return p ? &p->model : NULL;
}

#define ACCESSOR(fn, type, arr, cnt)                                 \
  static size_t fn(const amz_profile_t *p, const type **rows) {            \
    if (rows) *rows = p ? p->arr : NULL;                            \
    return p ? p->cnt : 0;                                          \
  }
ACCESSOR(prof_chunks, amz_profile_chunk_t, chunks, n_chunks)
ACCESSOR(prof_workers, amz_profile_worker_t, workers, n_workers)
ACCESSOR(prof_candidates, amz_profile_candidate_t, cands, n_cands)
ACCESSOR(prof_terms, amz_profile_term_t, terms, n_terms)
ACCESSOR(prof_nodes, amz_profile_node_t, nodes, n_nodes)
ACCESSOR(prof_failures, amz_profile_failure_t, failures, n_failures)

static size_t prof_finding_count(const amz_profile_t *p) { return p ? p->findings.n : 0; }

static int prof_finding(const amz_profile_t *p, size_t i, amz_finding_t *out) {
  if (!p) return amz__fail(AMZ_EINVAL, "amz_profile_finding: profile is NULL");
  return amz__findings_get(&p->findings, i, out, "amz_profile_finding");
}

/* The component's table (profile_ops.h): what the core's amz_profile_* forward to. */
const amz__profile_ops_t amz__profile_ops = {
    .abi = AMZ__PROFILE_OPS_ABI,
    .version = AMZ_VERSION_NUMBER,
    .after_run = amz__profile_write_serial,
    .open = prof_open,
    .close = prof_close,
    .info = prof_info,
    .model = prof_model,
    .chunks = prof_chunks,
    .workers = prof_workers,
    .candidates = prof_candidates,
    .terms = prof_terms,
    .nodes = prof_nodes,
    .failures = prof_failures,
    .finding_count = prof_finding_count,
    .finding = prof_finding,
};
