/*
 * Fuzz target for the checkpoint reader: the header and record parsers on a buffer,
 * the same bytes read from a file, and the file opened for writing as a run's lead
 * process opens it.
 *
 * An input is one mode byte followed by the file's bytes. The mode byte says what is
 * repaired before the reader sees the bytes, so that mutations get past the
 * checksums and reach the checks behind them (a file someone crafted rather than
 * damaged), and which item count the open is asked for:
 *   bit 0  the header's 'crc32' line is recomputed over the bytes before it;
 *   bit 1  every slot that starts with the record magic gets its CRC recomputed;
 *   bits 2-3  N for the open: 0 and 1 the header's 'items' value (1000 when there is
 *          none), 2 that value + 1 (another task's N), 3 the constant 1000.
 *
 * Every answer is checked (abort() with a message on a violation, so libFuzzer and
 * the test suite both catch it): each call returns 0 or AMZ_EFORMAT, AMZ_EIO,
 * AMZ_EMISMATCH, AMZ_ENOMEM or AMZ_EBUSY, with a non-empty amz_last_error() on
 * failure; an accepted checkpoint's ranges are non-empty, sorted, disjoint and within
 * [0, N), and add up to info.completed; the file reader agrees with the buffer
 * parsers; the open answers what the file reader predicts, and leaves every file it
 * does not create byte for byte as it was.
 *
 * Built two ways:
 * - with libFuzzer (clang, -DAMORSIZE_LIBFUZZER=ON): the usual LLVMFuzzerTestOneInput;
 *   `fuzz_checkpoint --write-seeds DIR` from the other build gives it a corpus;
 * - otherwise with its own bounded driver, which the test suite runs:
 *     fuzz_checkpoint [--iterations N] [--seconds S] [--seed X] [--keep-going] [--stats]
 *     fuzz_checkpoint --write-seeds DIR
 *     fuzz_checkpoint --replay INPUT...
 *   It writes its seed checkpoints with the library itself (one and two writers, one
 *   and two sessions, a full extent, escaped task names, N = 2^64 - 1), mutates them
 *   (header fields, records with and without a fresh CRC, bit flips, byte runs,
 *   truncation, splices, interesting values) and prints how the reader answered.
 *   A violation stops it (--keep-going counts them instead) and leaves the input in
 *   fuzz_checkpoint-violation-PID.bin for --replay.
 * Scratch files go to $AMZ_FUZZ_DIR, else /dev/shm, else /tmp (AMZ_FUZZ_KEEP=1 keeps
 * the last one).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

#define HDR AMZ__CKPT_HEADER
#define REC AMZ__CKPT_RECORD
#define MAGIC_LINE "AMORSIZE-CHECKPOINT\n"
#define FALLBACK_N 1000
#define BLOCK_END (HDR + (1u << 20)) /* where the file reader's first block ends */

static char scratch[256];
static int keep_going;
#ifndef AMZ_LIBFUZZER
static int replaying; /* --replay: the input is a file already */
#endif
static const uint8_t *cur_data; /* the input being run, mode byte included */
static size_t cur_size;
static unsigned long inputs, big_inputs, hdr_resealed, rec_resealed, violations;
static unsigned long read_ok, read_format, read_other, records_seen, damaged_seen;
static unsigned long open_ok, open_created, open_format, open_mismatch, open_io, open_nomem,
    open_busy;

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static uint32_t crc(const void *buf, size_t len) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

/* Where the scratch files go: $AMZ_FUZZ_DIR, else /dev/shm where there is one, else
 * /tmp. An open that creates a checkpoint syncs the file and its directory; on tmpfs
 * that costs nothing, on a disk it can take most of the run's time. */
static const char *scratch_dir(void) {
  const char *d = getenv("AMZ_FUZZ_DIR");
  if (d && d[0]) return d;
  return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void remove_scratch(void) {
  if (scratch[0] && !getenv("AMZ_FUZZ_KEEP")) unlink(scratch);
}

/* A broken invariant: say which, keep the input for a replay, and stop (unless
 * --keep-going, which counts them instead, to see how often one is hit). */
static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz_checkpoint: invariant violated: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (last error: '%s')\n", amz_last_error());
  va_end(ap);
  violations++;
#ifndef AMZ_LIBFUZZER
  if (violations == 1 && !replaying) {
    /* libFuzzer keeps its own crash input; the driver keeps the first one here. */
    char name[64];
    snprintf(name, sizeof name, "fuzz_checkpoint-violation-%ld.bin", (long)getpid());
    FILE *f = fopen(name, "wb");
    if (f) {
      if (cur_size) fwrite(cur_data, 1, cur_size, f);
      fclose(f);
      fprintf(stderr, "fuzz_checkpoint: input saved as %s (replay with --replay %s)\n", name,
              name);
    }
  }
#endif
  if (!keep_going) {
    remove_scratch();
    abort();
  }
}

/* amz_last_error() is never cleared by a success: blank it before each call so that
 * "a failure explains itself" is checked on that call's own text. */
static void clear_error(void) { amz__fail(0, "%s", ""); }

static void check_rc(const char *who, int rc) {
  if (rc != 0 && rc != AMZ_EFORMAT && rc != AMZ_EIO && rc != AMZ_EMISMATCH &&
      rc != AMZ_ENOMEM && rc != AMZ_EBUSY)
    violation("%s returned %d (%s), not one of its documented codes", who, rc, amz_error_name(rc));
  if (rc != 0 && amz_last_error()[0] == '\0')
    violation("%s failed with %s and left amz_last_error() empty", who, amz_error_name(rc));
}

/* A normalized set of completed ranges: non-empty, sorted, disjoint (adjacent ones
 * merged), within [0, n_items), adding up to completed. */
static void check_ranges(const char *who, const amz__rangeset_t *s, uint64_t n_items,
                         uint64_t completed) {
  uint64_t sum = 0;
  for (size_t i = 0; i < s->n; i++) {
    uint64_t b = s->v[i].begin, e = s->v[i].end;
    if (b >= e) violation("%s: range %zu is [%" PRIu64 ", %" PRIu64 "), empty", who, i, b, e);
    if (e > n_items)
      violation("%s: range %zu is [%" PRIu64 ", %" PRIu64 "), beyond N = %" PRIu64, who, i, b, e,
                n_items);
    if (i > 0 && b <= s->v[i - 1].end)
      violation("%s: range %zu [%" PRIu64 ", %" PRIu64 ") does not follow [%" PRIu64 ", %" PRIu64
                ") (unsorted, overlapping or not merged)", who, i, b, e, s->v[i - 1].begin,
                s->v[i - 1].end);
    sum += e - b;
  }
  if (sum != completed)
    violation("%s: info.completed is %" PRIu64 " but the ranges hold %" PRIu64 " items", who,
              completed, sum);
}

/* Two accepted readings of the same bytes agree on everything. */
static void check_same(const char *who, const amz__ckpt_info_t *a, const amz__rangeset_t *da,
                       const amz__ckpt_info_t *b, const amz__rangeset_t *db) {
  if (a->n_items != b->n_items || strcmp(a->task, b->task) != 0 || a->records != b->records ||
      a->damaged != b->damaged || a->completed != b->completed)
    violation("%s disagree: N %" PRIu64 "/%" PRIu64 ", task '%s'/'%s', records %" PRIu64
              "/%" PRIu64 ", damaged %" PRIu64 "/%" PRIu64 ", completed %" PRIu64 "/%" PRIu64,
              who, a->n_items, b->n_items, a->task, b->task, a->records, b->records, a->damaged,
              b->damaged, a->completed, b->completed);
  int same = da->n == db->n;
  for (size_t i = 0; same && i < da->n; i++)
    same = da->v[i].begin == db->v[i].begin && da->v[i].end == db->v[i].end;
  if (!same) violation("%s disagree on the ranges (%zu and %zu ranges)", who, da->n, db->n);
}

/* The header as amz__ckpt_open writes it for task "fuzz" (no escapes needed). */
static void canonical_header(unsigned char *h, uint64_t n) {
  memset(h, 0, HDR);
  int k = snprintf((char *)h, HDR, MAGIC_LINE "version %d\nitems %" PRIu64 "\ntask fuzz\n",
                   AMZ__CKPT_VERSION, n);
  uint32_t c = crc(h, (size_t)k);
  snprintf((char *)h + k, HDR - (size_t)k, "crc32 %08" PRIx32 "\n", c);
}

/* Start of the line "key ..." in the header region, or -1. */
static long find_line(const unsigned char *buf, size_t n, const char *key) {
  size_t end = n < HDR ? n : HDR, kl = strlen(key);
  for (size_t i = 0; i + kl <= end; i++)
    if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, key, kl) == 0) return (long)i;
  return -1;
}

/* The header's 'items' value read loosely (digits then a newline), for choosing N. */
static uint64_t loose_items(const unsigned char *buf, size_t n) {
  long at = find_line(buf, n, "items ");
  size_t end = n < HDR ? n : HDR;
  if (at < 0) return FALLBACK_N;
  uint64_t v = 0;
  size_t i = (size_t)at + 6;
  if (i >= end || buf[i] < '0' || buf[i] > '9') return FALLBACK_N;
  for (; i < end && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (uint64_t)(buf[i] - '0');
  return i < end && buf[i] == '\n' ? v : FALLBACK_N;
}

/* Mode bit 0: a fresh CRC over the bytes before the 'crc32' line, in its 8 digits. */
static int reseal_header(unsigned char *buf, size_t n) {
  long at = find_line(buf, n, "crc32 ");
  if (at < 0 || (size_t)at + 14 > n || (size_t)at + 14 > HDR) return 0;
  char d[9];
  snprintf(d, sizeof d, "%08" PRIx32, crc(buf, (size_t)at));
  memcpy(buf + at + 6, d, 8);
  return 1;
}

static void reseal_record(unsigned char *r) { put32(r + 4, crc(r + 8, REC - 8)); }

/* Mode bit 1: every slot that carries the magic gets a matching CRC. */
static int reseal_records(unsigned char *buf, size_t n) {
  int any = 0;
  for (size_t i = HDR; i + REC <= n; i += REC)
    if (memcmp(buf + i, "AZCK", 4) == 0) {
      reseal_record(buf + i);
      any = 1;
    }
  return any;
}

static int write_all(const char *path, const unsigned char *buf, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, buf + done, n - done);
    if (w <= 0) break;
    done += (size_t)w;
  }
  close(fd);
  return done == n ? 0 : -1;
}

static unsigned char *slurp(const char *path, size_t *n) {
  *n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  unsigned char *b = NULL;
  if (fstat(fd, &st) == 0 && (b = malloc((size_t)st.st_size + 1)) != NULL) {
    size_t got = 0;
    while (got < (size_t)st.st_size) {
      ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    *n = got;
  }
  close(fd);
  return b;
}

/* --stats: how often each refusal was given (digits and quoted text squashed), to
 * see which checks the inputs reach. */
static int want_stats;
static struct tally {
  char msg[160];
  unsigned long n;
} tally[64];

static void count_message(const char *who) {
  if (!want_stats) return;
  char m[160];
  size_t k = snprintf(m, sizeof m, "%s: ", who) > 0 ? strlen(m) : 0;
  int quoted = 0;
  for (const char *e = amz_last_error(); *e && k + 2 < sizeof m; e++) {
    if (*e == '\'') {
      /* Paths and task names squashed; the header's keys kept. */
      const char *q = quoted ? NULL : strchr(e + 1, '\'');
      int key = q && q - e <= 8;
      for (const char *c = e + 1; key && c < q; c++)
        key = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
      if (key && strncmp(e, "'fuzz'", 6) != 0) {
        while (e < q && k + 2 < sizeof m) m[k++] = *e++;
      } else {
        if (!quoted) m[k++] = '\'', m[k++] = '*';
        quoted = !quoted;
      }
    }
    if (quoted) continue;
    if (*e >= '0' && *e <= '9') {
      if (k == 0 || m[k - 1] != '#') m[k++] = '#';
      continue;
    }
    m[k++] = *e;
  }
  m[k] = '\0';
  for (size_t i = 0; i < sizeof tally / sizeof tally[0]; i++) {
    if (tally[i].n == 0) snprintf(tally[i].msg, sizeof tally[i].msg, "%s", m);
    if (strcmp(tally[i].msg, m) == 0) {
      tally[i].n++;
      return;
    }
  }
}

static void count_open(int rc, int created) {
  switch (rc) {
    case 0: open_ok++, open_created += created != 0; break;
    case AMZ_EFORMAT: open_format++; break;
    case AMZ_EMISMATCH: open_mismatch++; break;
    case AMZ_EIO: open_io++; break;
    case AMZ_ENOMEM: open_nomem++; break;
    default: open_busy++;
  }
}

/* The parsers on a buffer, as read_file() drives them: the header, then the records
 * behind it. Returns the status; *info and *done hold the reading on success. */
static int parse_buffer(const unsigned char *buf, size_t n, uint64_t alt_n, amz__ckpt_info_t *info,
                        amz__rangeset_t *done) {
  clear_error();
  int rc = amz__ckpt_parse_header(buf, n, info);
  check_rc("amz__ckpt_parse_header", rc);
  if (rc != 0) {
    /* The record checks do not depend on the header: run them anyway, against the
     * N the open will be asked for. */
    amz__ckpt_info_t ri;
    memset(&ri, 0, sizeof ri);
    amz__rangeset_t rd = {0};
    size_t off = n < HDR ? n : HDR;
    clear_error();
    int rrc = amz__ckpt_parse_records(buf + off, n - off, off, alt_n, &rd, &ri);
    check_rc("amz__ckpt_parse_records", rrc);
    if (rrc == 0) {
      if (rd.n != ri.records)
        violation("parse_records: %" PRIu64 " records counted, %zu ranges added", ri.records, rd.n);
      amz__rangeset_normalize(&rd);
      check_ranges("parse_records (no header)", &rd, alt_n, amz__rangeset_items(&rd));
    }
    amz__rangeset_free(&rd);
    return rc;
  }
  clear_error();
  rc = amz__ckpt_parse_records(buf + HDR, n - HDR, HDR, info->n_items, done, info);
  check_rc("amz__ckpt_parse_records", rc);
  if (rc != 0) return rc;
  if (done->n != info->records)
    violation("parse_records: %" PRIu64 " records counted, %zu ranges added", info->records,
              done->n);
  amz__rangeset_normalize(done);
  info->completed = amz__rangeset_items(done);
  check_ranges("parse_records", done, info->n_items, info->completed);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scratch[0]) {
    snprintf(scratch, sizeof scratch, "%s/amz-fuzz-ckpt-%ld.ckpt", scratch_dir(), (long)getpid());
    atexit(remove_scratch);
  }
  if (size == 0) return 0;
  cur_data = data;
  cur_size = size;
  int mode = data[0];
  size_t n = size - 1;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) return 0;
  memcpy(buf, data + 1, n);
  inputs++;
  big_inputs += n > BLOCK_END;
  if (mode & 1) hdr_resealed += (unsigned long)reseal_header(buf, n);
  if (mode & 2) rec_resealed += (unsigned long)reseal_records(buf, n);
  uint64_t want_n = loose_items(buf, n);
  if (((mode >> 2) & 3) == 2) want_n++;
  if (((mode >> 2) & 3) == 3) want_n = FALLBACK_N;

  /* 1. The buffer parsers. */
  amz__ckpt_info_t mi;
  amz__rangeset_t mdone = {0};
  int mrc = parse_buffer(buf, n, want_n, &mi, &mdone);

  /* 2. The same bytes from a file. */
  if (write_all(scratch, buf, n) != 0) {
    fprintf(stderr, "fuzz_checkpoint: cannot write %s\n", scratch);
    amz__rangeset_free(&mdone);
    free(buf);
    return 0;
  }
  amz__ckpt_info_t fi;
  amz__rangeset_t fdone = {0};
  clear_error();
  int frc = amz__ckpt_read(scratch, &fdone, &fi);
  check_rc("amz__ckpt_read", frc);
  if (frc == 0) {
    read_ok++;
    records_seen += fi.records;
    damaged_seen += fi.damaged;
    check_ranges("amz__ckpt_read", &fdone, fi.n_items, fi.completed);
  } else {
    if (frc == AMZ_EFORMAT) read_format++;
    else read_other++;
    count_message("read");
    /* A refused record is named by its byte offset in the file: it must be there,
     * with the magic, a good CRC and a range that does not fit. */
    const char *at = strstr(amz_last_error(), "record at byte ");
    unsigned long long off;
    if (at && sscanf(at, "record at byte %llu", &off) == 1) {
      int bad = n < HDR + REC || off < HDR || off % REC != 0 || off > n - REC;
      const unsigned char *r = bad ? NULL : buf + off;
      if (!bad) bad = memcmp(r, "AZCK", 4) != 0 || get32(r + 4) != crc(r + 8, REC - 8);
      if (!bad && mrc != AMZ_EFORMAT) bad = 1; /* the buffer parse refuses it too */
      if (!bad && get64(r + 8) < get64(r + 16) && get64(r + 16) <= mi.n_items) bad = 1;
      if (bad) violation("amz__ckpt_read refused the record at byte %llu, which is not a valid "
                         "record out of range (%zu bytes)", off, n);
    }
  }
  int resources = frc == AMZ_EIO || frc == AMZ_ENOMEM || mrc == AMZ_ENOMEM;
  if (!resources && frc != mrc)
    violation("amz__ckpt_read answered %s, the buffer parsers %s", amz_error_name(frc),
              amz_error_name(mrc));
  if (frc == 0 && mrc == 0)
    check_same("amz__ckpt_read and the buffer parsers", &fi, &fdone, &mi, &mdone);

  /* 3. Opened by a run's lead process for task "fuzz" with N = want_n. What it must
   * answer follows from the reading above. */
  unsigned char canon[HDR];
  canonical_header(canon, want_n);
  int expect_created = n == 0 || (n < HDR && memcmp(buf, canon, n) == 0);
  int expect = expect_created ? 0
               : n < HDR      ? AMZ_EFORMAT
               : frc != 0     ? frc
               : fi.n_items != want_n || strcmp(fi.task, "fuzz") != 0 ? AMZ_EMISMATCH
                                                                       : 0;
  amz__ckpt_t ck;
  amz__ckpt_info_t oi;
  amz__rangeset_t odone = {0};
  clear_error();
  int orc = amz__ckpt_open(&ck, scratch, "fuzz", want_n, 1, &odone, &oi);
  check_rc("amz__ckpt_open", orc);
  amz__ckpt_close(&ck);
  if (ck.fd != -1 || ck.path != NULL) violation("amz__ckpt_close left fd %d or a path", ck.fd);
  count_open(orc, orc == 0 && oi.created);
  if (orc != 0) count_message("open");
  if (orc != expect && !(resources || orc == AMZ_EIO || orc == AMZ_ENOMEM))
    violation("amz__ckpt_open answered %s where %s was expected (%zu bytes, read: %s)",
              amz_error_name(orc), amz_error_name(expect), n, amz_error_name(frc));
  if (orc == 0) {
    check_ranges("amz__ckpt_open", &odone, oi.n_items, oi.completed);
    if (oi.n_items != want_n)
      violation("amz__ckpt_open accepted N = %" PRIu64 " for a run of %" PRIu64, oi.n_items,
                want_n);
    if (!oi.created != !expect_created)
      violation("amz__ckpt_open %s the file (%zu bytes)", oi.created ? "created" : "did not create",
                n);
    if (!oi.created && frc == 0)
      check_same("amz__ckpt_open and amz__ckpt_read", &oi, &odone, &fi, &fdone);
  }
  /* The open writes a header into an empty file or a header cut short, and leaves
   * every other file exactly as it found it (it appends records only when logging). */
  size_t after_n;
  unsigned char *after = slurp(scratch, &after_n);
  if (after) {
    int created = orc == 0 && oi.created;
    const unsigned char *want = created ? canon : buf;
    size_t want_len = created ? HDR : n;
    if (after_n != want_len || memcmp(after, want, want_len) != 0) {
      size_t at = 0;
      while (at < after_n && at < want_len && after[at] == want[at]) at++;
      violation("amz__ckpt_open (%s%s) changed the file: %zu bytes, expected %zu; first "
                "difference at byte %zu", amz_error_name(orc), created ? ", created" : "",
                after_n, want_len, at);
    }
    free(after);
  }
  amz__rangeset_free(&odone);
  amz__rangeset_free(&fdone);
  amz__rangeset_free(&mdone);
  free(buf);
  return 0;
}

#ifndef AMZ_LIBFUZZER
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static uint64_t below(uint64_t k) { return k ? next() % k : 0; }
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

typedef struct seed {
  unsigned char *b;
  size_t n;
  const char *what;
} seed_t;

/* Writes a real checkpoint with the library: `sessions` runs one after the other,
 * each with `writers` processes (the lead opens with lead=1, the others as MPI ranks
 * do, with lead=0 and amz__ckpt_set_writer), each logging `per_writer` ranges. The
 * ranges tile [0, n) in chunks, as a run's workers complete them; a later session
 * also repeats a few (items run again after a crash). */
static int build_seed(const char *path, const char *task, uint64_t n, int sessions, int writers,
                      int per_writer, seed_t *out) {
  unlink(path);
  uint64_t cursor = n > 1000000 ? n - 1000000 : 0;
  for (int s = 0; s < sessions; s++) {
    amz__ckpt_t ck[4];
    amz__rangeset_t done = {0};
    amz__ckpt_info_t info;
    int rc = amz__ckpt_open(&ck[0], path, task, n, 1, &done, &info);
    amz__rangeset_free(&done);
    if (rc != 0) {
      fprintf(stderr, "fuzz_checkpoint: seed '%s': %s\n", path, amz_last_error());
      amz__ckpt_close(&ck[0]);
      return -1;
    }
    uint64_t base = ck[0].base;
    for (int w = 1; w < writers; w++)
      if (amz__ckpt_open(&ck[w], path, task, n, 0, NULL, &info) != 0) {
        fprintf(stderr, "fuzz_checkpoint: seed writer %d: %s\n", w, amz_last_error());
        for (int k = 0; k <= w; k++) amz__ckpt_close(&ck[k]);
        return -1;
      }
    for (int w = 0; w < writers; w++) amz__ckpt_set_writer(&ck[w], w, writers, base);
    for (int j = 0; j < per_writer; j++)
      for (int w = 0; w < writers; w++) {
        uint64_t b, e;
        if (s > 0 && below(8) == 0 && cursor > 0) { /* a range run again */
          b = below(cursor);
          e = b + 1 + below(cursor - b);
        } else {
          if (cursor >= n) cursor = 0;
          b = cursor;
          uint64_t left = n - b, len = 1 + below(left < 40 ? left : 40);
          e = b + len;
          cursor = e + (below(4) == 0 ? below(10) : 0); /* sometimes a gap: not yet done */
          if (cursor > n) cursor = n;
        }
        amz__ckpt_log(&ck[w], b, e);
      }
    int frc = 0;
    for (int w = 0; w < writers; w++) {
      if (amz__ckpt_flush(&ck[w]) != 0) frc = -1;
      amz__ckpt_close(&ck[w]);
    }
    if (frc != 0) {
      fprintf(stderr, "fuzz_checkpoint: seed flush: %s\n", amz_last_error());
      return -1;
    }
  }
  out->b = slurp(path, &out->n);
  unlink(path);
  return out->b ? 0 : -1;
}

static int make_seeds(seed_t *seeds, int max) {
  char path[256];
  snprintf(path, sizeof path, "%s/amz-fuzz-ckpt-%ld-seed.ckpt", scratch_dir(), (long)getpid());
  static const struct {
    const char *task;
    uint64_t n;
    int sessions, writers, per_writer;
    const char *what;
  } spec[] = {
      {"fuzz", 1000, 1, 1, 40, "1 session, 1 writer"},
      {"fuzz", 1000, 2, 1, 30, "2 sessions, 1 writer"},
      {"fuzz", 5000, 1, 2, 25, "1 session, 2 writers"},
      {"fuzz", 5000, 2, 2, 20, "2 sessions, 2 writers"},
      {"fuzz", 1000, 1, 1, 2100, "a writer past one extent"},
      {"fuzz", 1000, 1, 1, 0, "a header alone"},
      {"fuzz", 1, 1, 1, 1, "N = 1"},
      {"fuzz", UINT64_MAX, 1, 1, 20, "N = 2^64 - 1"},
      {"fu zz%/\t\xff", 1000, 1, 1, 10, "an escaped task name"},
      {"fuzz", 300, 2, 1, 15, "2 sessions, small N"},
  };
  int k = 0;
  for (size_t i = 0; i < sizeof spec / sizeof spec[0] && k < max; i++) {
    if (build_seed(path, spec[i].task, spec[i].n, spec[i].sessions, spec[i].writers,
                   spec[i].per_writer, &seeds[k]) != 0) {
      unlink(path);
      while (k > 0) free(seeds[--k].b);
      return -1;
    }
    seeds[k++].what = spec[i].what;
  }
  return k;
}

/* ---- mutations ---------------------------------------------------------- */

typedef struct text {
  char s[8192];
  size_t k;
} text_t;

static void add(text_t *t, const char *s, size_t len) {
  if (len > sizeof t->s - t->k) len = sizeof t->s - t->k;
  memcpy(t->s + t->k, s, len);
  t->k += len;
}
static void adds(text_t *t, const char *s) { add(t, s, strlen(s)); }

typedef struct str {
  const char *s;
  size_t len;
} str_t;
#define S(x) {x, sizeof x - 1}

static str_t pick(const str_t *v, size_t n) { return v[below(n)]; }

/* A header rebuilt from its fields with one or more of them (or its structure)
 * changed; half of the time its CRC line is right, so the field checks are reached. */
static size_t mutate_header_text(unsigned char *buf, size_t n, size_t cap) {
  if (cap < HDR) return n;
  uint64_t items = loose_items(buf, n);
  char task[4200] = "fuzz";
  long at = find_line(buf, n, "task ");
  if (at >= 0) {
    size_t i = (size_t)at + 5, k = 0, end = n < HDR ? n : HDR;
    while (i < end && buf[i] != '\n' && buf[i] != '\0' && k + 1 < sizeof task)
      task[k++] = (char)buf[i++];
    task[k] = '\0';
  }
  char ver[64] = "1", its[96], tsk[sizeof task];
  snprintf(its, sizeof its, "%" PRIu64, items);
  snprintf(tsk, sizeof tsk, "%s", task);
  int mask = 0;
  while (mask == 0) { /* usually one or two fields */
    mask = (int)below(64);
    mask &= (int)below(64);
  }
  if (mask & 1) {
    static const str_t v[] = {S("1"), S("01"), S(" 1"), S("1 "), S("0"), S("2"), S("001"),
                              S("1\r"), S(""), S("x"), S("+1"), S("-1"), S("4294967297"),
                              S("18446744073709551617"), S("1.0"), S("\t1"), S("\v1"),
                              S("99999999999999999999999")};
    str_t p = pick(v, sizeof v / sizeof v[0]);
    snprintf(ver, sizeof ver, "%.*s", (int)p.len, p.s);
  }
  if (mask & 2) {
    switch (below(12)) {
      case 0: snprintf(its, sizeof its, "%" PRIu64, items - 1); break;
      case 1: snprintf(its, sizeof its, "%" PRIu64, items + 1); break;
      case 2: snprintf(its, sizeof its, "%" PRIu64, (uint64_t)below(3)); break;
      case 3: snprintf(its, sizeof its, "%" PRIu64, UINT64_MAX - below(2)); break;
      case 4: snprintf(its, sizeof its, "18446744073709551616"); break;
      case 5: snprintf(its, sizeof its, "0%" PRIu64, items); break;
      case 6: snprintf(its, sizeof its, " %" PRIu64, items); break;
      case 7: snprintf(its, sizeof its, "%" PRIu64 " ", items); break;
      case 8: snprintf(its, sizeof its, "+%" PRIu64, items); break;
      case 9: snprintf(its, sizeof its, "%" PRIu64 "x", items); break;
      case 10: {
        static const str_t v[] = {S("-1"), S(""), S("0x10"), S("1e3"), S("999999999999999999999"),
                                  S("1000\r"), S("\t1000"), S(" ")};
        str_t p = pick(v, sizeof v / sizeof v[0]);
        snprintf(its, sizeof its, "%.*s", (int)p.len, p.s);
        break;
      }
      default: snprintf(its, sizeof its, "%" PRIu64, next()); break;
    }
  }
  if (mask & 4) {
    static const str_t v[] = {S(""), S("%"), S("%4"), S("%ZZ"), S("%41%42"), S("fu%7Azz"),
                              S("fu zz"), S("fuzz "), S("fuzz\r"), S("\xff\xfe"), S("%00"),
                              S("fu%0Azz"), S("FUZZ"), S("fuzz\t"), S("fu%20zz%25%2F%09%FF")};
    if (below(4) == 0) {
      /* Names about the length of the name buffer (3 * 255 + 8), and longer ones. */
      static const size_t lens[] = {771, 772, 773, 774, 800, 3000, 4100};
      size_t len = lens[below(sizeof lens / sizeof lens[0])];
      memset(tsk, below(2) ? 'a' : '%', len);
      tsk[len] = '\0';
    } else {
      str_t p = pick(v, sizeof v / sizeof v[0]);
      snprintf(tsk, sizeof tsk, "%.*s", (int)p.len, p.s);
    }
  }
  text_t t = {.k = 0};
  static const str_t magic[] = {S("AMORSIZE-CHECKPOINT\r\n"), S("AMORSIZE-CHECKPOINT"),
                                S("AMORSIZE-CHECKPOINX\n"), S(""), S("amorsize-checkpoint\n"),
                                S(" AMORSIZE-CHECKPOINT\n"), S("AMORSIZE-CHECKPOINT\n\n")};
  if (mask & 8) {
    str_t m = pick(magic, sizeof magic / sizeof magic[0]);
    add(&t, m.s, m.len);
  } else {
    adds(&t, MAGIC_LINE);
  }
  static const str_t seps[] = {S("  "), S("\t"), S(""), S("="), S(" \n")};
  static const str_t ends[] = {S("\r\n"), S(""), S("\n\n"), {"\0", 1}, S(" \n")};
  const char *key[3] = {"version", "items", "task"}, *val[3] = {ver, its, tsk};
  int order[4] = {0, 1, 2, -1}, lines = 3;
  if (mask & 16) {
    switch (below(4)) {
      case 0: { /* two lines swapped */
        int a = (int)below(3), b = (int)below(3), x = order[a];
        order[a] = order[b], order[b] = x;
        break;
      }
      case 1: order[below(3)] = order[2], lines = 2; break; /* a line dropped */
      case 2: order[3] = order[below(3)], lines = 4; break; /* a line twice */
      default: order[3] = 3, lines = 4; break;               /* a line no one knows */
    }
  }
  for (int i = 0; i < lines; i++) {
    int f = order[i];
    if (f == 3) {
      adds(&t, below(2) ? "extra 1\n" : "VERSION 1\n");
      continue;
    }
    adds(&t, key[f]);
    str_t sep = {" ", 1}, end = {"\n", 1};
    if ((mask & 32) && below(3) == 0) sep = pick(seps, sizeof seps / sizeof seps[0]);
    if ((mask & 32) && below(3) == 0) end = pick(ends, sizeof ends / sizeof ends[0]);
    add(&t, sep.s, sep.len);
    adds(&t, val[f]);
    add(&t, end.s, end.len);
  }
  /* The CRC line: right half of the time, else one of its near misses. */
  uint32_t c = crc(t.s, t.k);
  char line[64];
  switch (below(2) ? 0 : 1 + below(13)) {
    case 0: snprintf(line, sizeof line, "crc32 %08" PRIx32 "\n", c); break;
    case 1: snprintf(line, sizeof line, "crc32 %08" PRIX32 "\n", c); break;
    case 2: snprintf(line, sizeof line, "crc32 %08" PRIx32 "\n", c ^ (1u << below(32))); break;
    case 3: snprintf(line, sizeof line, "crc32 %07" PRIx32 "\n", c >> 4); break;
    case 4: snprintf(line, sizeof line, "crc32 %08" PRIx32 "0\n", c); break;
    case 5: snprintf(line, sizeof line, "crc32  %07" PRIx32 "\n", c & 0xfffffff); break;
    case 6: snprintf(line, sizeof line, "crc32 +%07" PRIx32 "\n", c & 0xfffffff); break;
    case 7: snprintf(line, sizeof line, "crc32 -%07" PRIx32 "\n", (0u - c) & 0xfffffff); break;
    case 8: snprintf(line, sizeof line, "crc32 0x%06" PRIx32 "\n", c & 0xffffff); break;
    case 9: snprintf(line, sizeof line, "crc32 zzzzzzzz\n"); break;
    case 10: snprintf(line, sizeof line, "crc32 %08" PRIx32, c); break;
    case 11: snprintf(line, sizeof line, "crc32 %08" PRIx32 "\r\n", c); break;
    default: line[0] = '\0'; break;
  }
  adds(&t, line);
  if (n < HDR) n = HDR;
  memset(buf, 0, HDR);
  memcpy(buf, t.s, t.k < HDR ? t.k : HDR);
  if (below(8) == 0 && t.k < HDR) {
    size_t at = t.k + below(HDR - t.k);
    buf[at] = (unsigned char)(1 + below(255));
  }
  return n;
}

/* Digits and separators of the header text changed in place; half of the time the
 * CRC line is recomputed afterwards. */
static void mutate_header_bytes(unsigned char *buf, size_t n) {
  size_t end = 0;
  while (end < n && end < HDR && buf[end]) end++;
  if (end == 0) return;
  static const unsigned char v[] = "0123456789abcdefABCDEF \n\r\t%+-x";
  for (int i = 0, k = 1 + (int)below(3); i < k; i++) {
    size_t at = below(end);
    buf[at] = below(8) == 0 ? (unsigned char)next() : v[below(sizeof v - 1)];
  }
  if (below(2)) reseal_header(buf, n);
}

static uint64_t interesting_u64(uint64_t items) {
  switch (below(11)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return items - 1;
    case 3: return items;
    case 4: return items + 1;
    case 5: return UINT64_MAX;
    case 6: return UINT64_MAX - 1;
    case 7: return (uint64_t)1 << 32;
    case 8: return (uint64_t)1 << 63;
    case 9: return below(items);
    default: return next();
  }
}

/* One record slot changed: a field set to an interesting value, the magic broken,
 * the slot emptied, or a fresh valid record written (also past the end of the file,
 * leaving a hole). Half of the time the CRC is made to match again, so the range
 * checks behind it are reached. */
static size_t mutate_record(unsigned char *buf, size_t n, size_t cap) {
  if (n < HDR || cap < HDR + REC) return n;
  uint64_t items = loose_items(buf, n);
  size_t slots = (n - HDR) / REC, slot = 0;
  int found = 0;
  for (int tries = 0; tries < 8 && slots > 0 && !found; tries++) {
    slot = below(slots);
    found = memcmp(buf + HDR + slot * REC, "AZCK", 4) == 0;
  }
  if (!found || below(8) == 0) slot = below(slots + 64); /* maybe past the end */
  size_t at = HDR + slot * REC;
  if (at + REC > cap) return n;
  if (at + REC > n) {
    memset(buf + n, 0, at + REC - n);
    n = at + REC;
  }
  unsigned char *r = buf + at;
  int reseal = (int)below(2);
  switch (below(10)) {
    case 0: put64(r + 8, interesting_u64(items)); break;
    case 1: put64(r + 16, interesting_u64(items)); break;
    case 2: {
      uint64_t b = interesting_u64(items), e = below(2) ? b + below(3) : interesting_u64(items);
      put64(r + 8, b), put64(r + 16, e);
      break;
    }
    case 3: put32(r + 24, below(2) ? (uint32_t)below(4) : UINT32_MAX); break;
    case 4: put32(r + 28, below(2) ? (uint32_t)below(4) : (uint32_t)(UINT32_MAX - below(2))); break;
    case 5: {
      size_t at = below(4);
      r[at] ^= (unsigned char)(1u << below(8));
      reseal = 0;
      break;
    }
    case 6: memset(r, 0, REC); break;
    case 7: {
      size_t at = 8 + below(REC - 8);
      r[at] ^= (unsigned char)(1u << below(8));
      break;
    }
    default: { /* a fresh record of a valid range */
      uint64_t b = below(items), e = b + 1 + below(items - b < 50 ? items - b : 50);
      memcpy(r, "AZCK", 4);
      put64(r + 8, b), put64(r + 16, e);
      put32(r + 24, (uint32_t)below(3)), put32(r + 28, (uint32_t)below(3));
      reseal = 1;
    }
  }
  if (reseal) reseal_record(r);
  return n;
}

/* One to eight mutations of a copy of a seed (mostly few). Offsets favour the header
 * text a quarter of the time: it is 70 bytes of a file of thousands. */
static size_t mutate(unsigned char *buf, size_t n, size_t cap, const seed_t *seeds, int n_seeds) {
  int k = 1 + (int)below(1 + below(8));
  for (int i = 0; i < k; i++) {
    size_t text = 0;
    while (text < n && text < HDR && buf[text]) text++;
    size_t at = n == 0 ? 0 : below(4) == 0 && text > 0 ? below(text) : below(n);
    switch (below(16)) {
      case 0:
      case 1: n = mutate_header_text(buf, n, cap); break;
      case 2: mutate_header_bytes(buf, n); break;
      case 3:
      case 4:
      case 5: n = mutate_record(buf, n, cap); break;
      case 6: { /* a record copied to another slot: duplicate and overlapping ranges */
        if (n < HDR + REC) break;
        size_t slots = (n - HDR) / REC, from = HDR + below(slots) * REC;
        size_t to = HDR + below(slots + 8) * REC;
        if (below(4) == 0) to += below(REC); /* off the record grid */
        if (to + REC > cap) break;
        if (to + REC > n) memset(buf + n, 0, to + REC - n), n = to + REC;
        memmove(buf + to, buf + from, REC);
        break;
      }
      case 7:
        if (n) buf[at] ^= (unsigned char)(1u << below(8));
        break;
      case 8: { /* interesting values over 1, 2, 4 or 8 bytes */
        static const unsigned char v[] = {0x00, 0xff, 0x7f, 0x80, 0x01, '0', '9', ' ', '\n', '%'};
        size_t w = (size_t)1 << below(4);
        unsigned char c = v[below(sizeof v)];
        for (size_t j = 0; j < w && at + j < n; j++) buf[at + j] = c;
        break;
      }
      case 9: { /* truncation, mostly at a size that is not whole records */
        size_t cut;
        switch (below(4)) {
          case 0: cut = below(n + 1); break;
          case 1: cut = below(text + 2); break;
          case 2: cut = HDR - 1 + below(3); break;
          default: cut = n > HDR ? n - 1 - below(REC - 1) : below(n + 1);
        }
        if (cut < n) n = cut;
        break;
      }
      case 10: { /* a splice from another seed: its header, or a block of its records */
        const seed_t *o = &seeds[below((uint64_t)n_seeds)];
        if (below(2) && o->n >= HDR && n >= HDR) {
          memcpy(buf, o->b, HDR);
        } else if (o->n > 0) {
          size_t from = below(o->n), len = 1 + below(4096);
          if (at + len > cap) len = cap - at;
          if (from + len > o->n) len = o->n - from;
          memcpy(buf + at, o->b + from, len);
          if (at + len > n) n = at + len;
        }
        break;
      }
      case 11: { /* bytes inserted: everything behind moves off the record grid */
        size_t len = 1 + below(below(2) ? 31 : 4096);
        if (n + len <= cap) {
          memmove(buf + at + len, buf + at, n - at);
          for (size_t j = 0; j < len; j++) buf[at + j] = below(2) ? 0 : (unsigned char)next();
          n += len;
        }
        break;
      }
      case 12: { /* bytes deleted */
        size_t len = 1 + below(below(2) ? 31 : 4096);
        if (at + len > n) len = n - at;
        memmove(buf + at, buf + at + len, n - at - len);
        n -= len;
        break;
      }
      case 13: { /* the file extended: zeros (a hole), or random bytes */
        size_t len = 1 + below(below(4) == 0 ? 70000 : 100);
        if (below(16) == 0 && n < BLOCK_END - 2 * REC) {
          /* Past the reader's first 1 MiB block, ending on either side of the
           * boundary, with a record beside it: the block loop and its offsets. */
          size_t end = BLOCK_END - 2 * REC + below(4 * REC);
          memset(buf + n, 0, end - n);
          n = end;
          size_t at = BLOCK_END - REC + REC * below(2);
          if (at + REC <= n) {
            uint64_t items = loose_items(buf, n), b = interesting_u64(items);
            memcpy(buf + at, "AZCK", 4);
            put64(buf + at + 8, b), put64(buf + at + 16, b + 1 + below(3));
            put32(buf + at + 24, 0), put32(buf + at + 28, 0);
            reseal_record(buf + at);
          }
          break;
        }
        if (n + len > cap) len = cap - n;
        int zero = (int)below(2);
        for (size_t j = 0; j < len; j++) buf[n + j] = zero ? 0 : (unsigned char)next();
        n += len;
        break;
      }
      case 14: /* a copy of a block from elsewhere in the file */
        if (n) {
          size_t from = below(n), len = 1 + below(64);
          for (size_t j = 0; j < len && at + j < n && from + j < n; j++)
            buf[at + j] = buf[from + j];
        }
        break;
      default: /* a run of random bytes */
        for (size_t j = 0, len = 1 + below(32); j < len && at + j < n; j++)
          buf[at + j] = (unsigned char)next();
    }
  }
  return n;
}

static int replay(int argc, char **argv, int first) {
  replaying = 1;
  for (int i = first; i < argc; i++) {
    size_t n;
    unsigned char *b = slurp(argv[i], &n);
    if (!b) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    unsigned long r0 = read_ok, o0 = open_ok;
    LLVMFuzzerTestOneInput(b, n);
    printf("%s: read %s, open %s\n", argv[i], read_ok > r0 ? "accepted" : "refused",
           open_ok > o0 ? "accepted" : "refused");
    free(b);
  }
  return violations ? 1 : 0;
}

int main(int argc, char **argv) {
  long iterations = 2000;
  double seconds = 60;
  const char *seed_dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) iterations = atol(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      rng = (strtoull(argv[++i], NULL, 0) + 1) * 0x9e3779b97f4a7c15ULL | 1; /* never 0 */
    else if (strcmp(argv[i], "--keep-going") == 0) keep_going = 1;
    else if (strcmp(argv[i], "--stats") == 0) want_stats = 1;
    else if (strcmp(argv[i], "--write-seeds") == 0 && i + 1 < argc) seed_dir = argv[++i];
    else if (strcmp(argv[i], "--replay") == 0) return replay(argc, argv, i + 1);
    else {
      fprintf(stderr,
              "usage: %s [--iterations N] [--seconds S] [--seed X] [--keep-going] [--stats]\n"
              "       %s --write-seeds DIR\n       %s --replay INPUT...\n",
              argv[0], argv[0], argv[0]);
      return 64;
    }
  }
  seed_t seeds[16];
  uint64_t seed_rng = rng;
  rng = 88172645463325252ULL; /* the same seeds whatever --seed says */
  int n_seeds = make_seeds(seeds, 16);
  rng = seed_rng;
  if (n_seeds <= 0) return 1;
  size_t cap = 0;
  for (int i = 0; i < n_seeds; i++)
    if (seeds[i].n > cap) cap = seeds[i].n;
  cap += 128 * 1024;
  if (cap < BLOCK_END + 4 * REC) cap = BLOCK_END + 4 * REC;
  if (seed_dir) {
    /* As libFuzzer inputs: mode byte 0 (nothing resealed, N from the header). */
    int rc = 0;
    for (int i = 0; i < n_seeds && rc == 0; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/seed-%02d.bin", seed_dir, i);
      FILE *f = fopen(path, "wb");
      if (!f || fputc(0, f) == EOF || fwrite(seeds[i].b, 1, seeds[i].n, f) != seeds[i].n) {
        fprintf(stderr, "cannot write %s\n", path);
        rc = 1;
      } else {
        printf("%s: %zu bytes, %s\n", path, seeds[i].n, seeds[i].what);
      }
      if (f) fclose(f);
    }
    for (int i = 0; i < n_seeds; i++) free(seeds[i].b);
    return rc;
  }
  unsigned char *buf = malloc(cap + 1);
  if (!buf) return 1;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double elapsed = 0;
  long done = 0;
  for (; done < iterations; done++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    elapsed = (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
    if (elapsed > seconds) break;
    const seed_t *s = &seeds[below((uint64_t)n_seeds)];
    memcpy(buf + 1, s->b, s->n);
    /* One input in 16 is a seed as written: the reader must take all of them. */
    size_t n = below(16) == 0 ? s->n : mutate(buf + 1, s->n, cap, seeds, n_seeds);
    /* Resealing: the header one input in 4, the records one in 4; N for the open
     * mostly the header's, sometimes another. */
    int mode = below(4) == 0;
    mode |= (below(4) == 0) << 1;
    mode |= (int)below(4) << 2;
    buf[0] = (unsigned char)mode;
    LLVMFuzzerTestOneInput(buf, n + 1);
  }
  clock_gettime(CLOCK_MONOTONIC, &t);
  elapsed = (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
  printf("fuzz_checkpoint: %ld inputs in %.1f s from %d seeds (%lu past the first 1 MiB "
         "block; %lu header CRCs and %lu record CRCs resealed); read: %lu accepted (%lu "
         "records, %lu damaged slots), %lu refused (format), %lu other; open: %lu accepted "
         "(%lu created), %lu refused (format), %lu mismatch, %lu io, %lu nomem, %lu busy; "
         "%lu invariant violations\n",
         done, elapsed, n_seeds, big_inputs, hdr_resealed, rec_resealed, read_ok, records_seen,
         damaged_seen, read_format, read_other, open_ok, open_created, open_format,
         open_mismatch, open_io, open_nomem, open_busy, violations);
  for (size_t i = 0; want_stats && i < sizeof tally / sizeof tally[0] && tally[i].n; i++)
    printf("%8lu  %s\n", tally[i].n, tally[i].msg);
  for (int i = 0; i < n_seeds; i++) free(seeds[i].b);
  free(buf);
  return done > 0 && violations == 0 ? 0 : 1;
}
#endif
