/*
 * Checkpoint log: a durable record of the item ranges a run completed, so that a job
 * killed at any moment (SIGKILL, walltime) and started again executes only what was
 * not completed.
 *
 * Layout (integers little-endian):
 *
 *   [0, 4096)     header, text lines padded with NUL bytes:
 *                   AMORSIZE-CHECKPOINT
 *                   version 1
 *                   items <N>
 *                   task <name, bytes outside printable ASCII and '%' as %XX>
 *                   crc32 <8 hex digits: CRC-32 of the header bytes before this line>
 *   [4096, ...)   extents of 64 KiB, each 2048 slots of one 32-byte record:
 *                   u32 magic "AZCK", u32 CRC-32 of bytes [8, 32),
 *                   u64 begin, u64 end (a completed range), u32 writer, u32 session
 *
 * Every process that writes (one per MPI rank) owns whole extents: the j-th record
 * of writer r of W in a session starting at extent B goes to extent
 * B + (j / 2048) * W + r, slot j % 2048. Slots are claimed with one atomic add, so
 * the threads of a rank write with one pwrite() each and no lock, and ranks write
 * the one shared file without talking to each other. A record is written when its
 * range completes, before its worker takes the next chunk: data handed to the
 * kernel survives the death of the process (SIGKILL), and fdatasync() at most
 * once per interval (batched, at most a few percent of one worker's time) makes it
 * survive the loss of the node as well.
 *
 * The reader needs no session table: it scans every slot. Empty slots (holes,
 * zeros) are skipped; a slot with the magic and a bad CRC is a record torn by a
 * crash and counted as damaged (its items simply run again); a record with a good
 * CRC whose range does not fit in [0, N) is corruption and the file is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

#define MAGIC_LINE "AMORSIZE-CHECKPOINT\n"
#define REC_MAGIC 0x4b435a41u /* "AZCK" read as little-endian */
#define SLOTS (AMZ__CKPT_EXTENT / AMZ__CKPT_RECORD)

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint32_t crc(const void *buf, size_t len) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The task name as stored: printable ASCII except '%' kept, the rest %XX. A name
 * whose escaped form does not fit keeps what fits followed by '#' and the FNV-1a
 * hash of the whole name (16 hex digits), so that two long names that share a
 * prefix are still told apart. */
static void escape_name(const char *name, char *out, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  /* One length for every caller, so that the same name always escapes the same. */
  if (len > 3 * AMZ__CKPT_NAME_MAX + 1) len = 3 * AMZ__CKPT_NAME_MAX + 1;
  const unsigned char *s = (const unsigned char *)(name ? name : "");
  size_t k = 0, need = 0;
  for (const unsigned char *t = s; *t; t++) need += *t > 32 && *t < 127 && *t != '%' ? 1 : 3;
  size_t limit = need < len ? len : len - 17; /* room for "#" + 16 digits when cut */
  for (; *s; s++) {
    if (k + 4 > limit) break;
    if (*s > 32 && *s < 127 && *s != '%') {
      out[k++] = (char)*s;
    } else {
      out[k++] = '%';
      out[k++] = hex[*s >> 4];
      out[k++] = hex[*s & 15];
    }
  }
  if (need >= len) {
    const char *all = name ? name : "";
    uint64_t h = amz__fnv1a(AMZ__FNV_BASIS, all, strlen(all));
    k += (size_t)snprintf(out + k, len - k, "#%016llx", (unsigned long long)h);
  }
  out[k] = '\0';
}

/* The header for an already escaped task name: the one canonical form. */
static size_t make_header_esc(unsigned char *h, const char *esc, uint64_t n) {
  memset(h, 0, AMZ__CKPT_HEADER);
  int k = snprintf((char *)h, AMZ__CKPT_HEADER, MAGIC_LINE "version %d\nitems %" PRIu64
                   "\ntask %s\n", AMZ__CKPT_VERSION, n, esc);
  uint32_t c = crc(h, (size_t)k);
  k += snprintf((char *)h + k, AMZ__CKPT_HEADER - (size_t)k, "crc32 %08" PRIx32 "\n", c);
  return (size_t)k;
}

static size_t make_header(unsigned char *h, const char *task, uint64_t n) {
  char esc[3 * AMZ__CKPT_NAME_MAX + 1];
  escape_name(task, esc, sizeof esc);
  return make_header_esc(h, esc, n);
}

/* One "key value\n" line at *pos; the value is copied into val (NUL-terminated). */
static int header_line(const char *h, size_t len, size_t *pos, const char *key, char *val,
                       size_t vlen) {
  size_t kl = strlen(key), p = *pos;
  if (p + kl + 1 > len || memcmp(h + p, key, kl) != 0 || h[p + kl] != ' ') return -1;
  p += kl + 1;
  size_t v = 0;
  while (p < len && h[p] != '\n' && h[p] != '\0') {
    if (v + 1 >= vlen) return -1;
    val[v++] = h[p++];
  }
  if (p >= len || h[p] != '\n' || v == 0) return -1;
  val[v] = '\0';
  *pos = p + 1;
  return 0;
}

int amz__ckpt_parse_header(const unsigned char *buf, size_t len, amz__ckpt_info_t *info) {
  memset(info, 0, sizeof *info);
  const char *h = (const char *)buf;
  size_t ml = strlen(MAGIC_LINE), pos = ml;
  if (len < AMZ__CKPT_HEADER || memcmp(h, MAGIC_LINE, ml) != 0)
    return amz__fail(AMZ_EFORMAT, "not an Amorsize checkpoint (no '%.19s' header)", MAGIC_LINE);
  char v[3 * AMZ__CKPT_NAME_MAX + 8], items[32], name[sizeof v], crcs[16];
  uint64_t version = 0;
  if (header_line(h, AMZ__CKPT_HEADER, &pos, "version", v, sizeof v) != 0 ||
      amz__parse_u64(v, &version) != 0)
    return amz__fail(AMZ_EFORMAT, "checkpoint header: malformed 'version' line");
  if (version != AMZ__CKPT_VERSION)
    return amz__fail(AMZ_EFORMAT, "checkpoint version %" PRIu64 " is not supported (this "
                     "library reads version %d)", version, AMZ__CKPT_VERSION);
  if (header_line(h, AMZ__CKPT_HEADER, &pos, "items", items, sizeof items) != 0 ||
      amz__parse_u64(items, &info->n_items) != 0)
    return amz__fail(AMZ_EFORMAT, "checkpoint header: malformed 'items' line");
  if (header_line(h, AMZ__CKPT_HEADER, &pos, "task", name, sizeof name) != 0)
    return amz__fail(AMZ_EFORMAT, "checkpoint header: malformed 'task' line");
  size_t body = pos;
  if (header_line(h, AMZ__CKPT_HEADER, &pos, "crc32", crcs, sizeof crcs) != 0 ||
      strlen(crcs) != 8)
    return amz__fail(AMZ_EFORMAT, "checkpoint header: malformed 'crc32' line");
  char *end;
  unsigned long want = strtoul(crcs, &end, 16);
  if (*end != '\0' || (uint32_t)want != crc(buf, body))
    return amz__fail(AMZ_EFORMAT, "checkpoint header is damaged (CRC-32 mismatch)");
  for (size_t i = pos; i < AMZ__CKPT_HEADER; i++)
    if (buf[i] != 0) return amz__fail(AMZ_EFORMAT, "checkpoint header: stray bytes after the CRC");
  snprintf(info->task, sizeof info->task, "%s", name);
  /* Only the canonical spelling is accepted (no leading zeros, spaces or lower-case
   * hex): one file, one reading. */
  unsigned char canon[AMZ__CKPT_HEADER];
  make_header_esc(canon, info->task, info->n_items);
  if (memcmp(canon, buf, AMZ__CKPT_HEADER) != 0)
    return amz__fail(AMZ_EFORMAT, "checkpoint header is not in canonical form");
  return 0;
}

int amz__ckpt_parse_records(const unsigned char *buf, size_t len, uint64_t offset,
                            uint64_t n_items, amz__rangeset_t *done, amz__ckpt_info_t *info) {
  for (size_t i = 0; i + AMZ__CKPT_RECORD <= len; i += AMZ__CKPT_RECORD) {
    const unsigned char *r = buf + i;
    if (get32(r) != REC_MAGIC) {
      for (int k = 0; k < AMZ__CKPT_RECORD; k++)
        if (r[k]) {
          info->damaged++; /* neither empty nor a record: torn or overwritten */
          break;
        }
      continue;
    }
    if (get32(r + 4) != crc(r + 8, AMZ__CKPT_RECORD - 8)) {
      info->damaged++;
      continue;
    }
    uint64_t b = get64(r + 8), e = get64(r + 16);
    if (b >= e || e > n_items)
      return amz__fail(AMZ_EFORMAT, "checkpoint record at byte %" PRIu64 " holds range [%" PRIu64
                       ", %" PRIu64 "), not a non-empty range within [0, %" PRIu64 ")",
                       offset + i, b, e, n_items);
    info->records++;
    if (amz__rangeset_add(done, b, e, 0) != 0)
      return amz__fail(AMZ_ENOMEM, "out of memory reading the checkpoint's records");
  }
  if (len % AMZ__CKPT_RECORD) info->damaged++;
  return 0;
}

/* Reads the whole file: header, then records in 1 MiB blocks. */
static int read_file(int fd, const char *path, amz__rangeset_t *done, amz__ckpt_info_t *info,
                     uint64_t size) {
  unsigned char *buf = malloc(1 << 20);
  if (!buf) return amz__fail(AMZ_ENOMEM, "cannot allocate the checkpoint read buffer");
  ssize_t got = pread(fd, buf, AMZ__CKPT_HEADER, 0);
  int rc = 0;
  if (got != AMZ__CKPT_HEADER) {
    rc = got < 0 ? amz__fail(AMZ_EIO, "cannot read checkpoint '%s': %s", path, strerror(errno))
                 : amz__fail(AMZ_EFORMAT, "checkpoint '%s' is %" PRIu64 " bytes, shorter than its "
                             "%d-byte header", path, size, AMZ__CKPT_HEADER);
    goto out;
  }
  if ((rc = amz__ckpt_parse_header(buf, AMZ__CKPT_HEADER, info)) != 0) {
    rc = amz__fail(rc, "checkpoint '%s': %s", path, amz_last_error());
    goto out;
  }
  for (uint64_t off = AMZ__CKPT_HEADER; off < size;) {
    size_t want = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
    got = pread(fd, buf, want, (off_t)off);
    if (got <= 0) {
      rc = amz__fail(AMZ_EIO, "cannot read checkpoint '%s' at byte %" PRIu64 ": %s", path, off,
                     got < 0 ? strerror(errno) : "unexpected end of file");
      goto out;
    }
    if ((rc = amz__ckpt_parse_records(buf, (size_t)got, off, info->n_items, done, info)) != 0) {
      rc = amz__fail(rc, "checkpoint '%s': %s", path, amz_last_error());
      goto out;
    }
    off += (uint64_t)got;
  }
  amz__rangeset_normalize(done);
  info->completed = amz__rangeset_items(done);
out:
  free(buf);
  return rc;
}

int amz__ckpt_read(const char *path, amz__rangeset_t *done, amz__ckpt_info_t *info) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return amz__fail(AMZ_EIO, "cannot open checkpoint '%s': %s", path, strerror(errno));
  struct stat st;
  int rc = fstat(fd, &st) != 0
               ? amz__fail(AMZ_EIO, "cannot stat checkpoint '%s': %s", path, strerror(errno))
               : read_file(fd, path, done, info, (uint64_t)st.st_size);
  close(fd);
  return rc;
}

/* Median cost of rewriting the header's first record-sized bytes with themselves
 * (as read back: the file does not change): what one record costs to hand to the
 * kernel (the page cache). */
static double measure_write(int fd) {
  unsigned char h[AMZ__CKPT_RECORD];
  if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h) return 2e-6;
  double t[9];
  for (int i = 0; i < 9; i++) {
    int64_t t0 = now_ns();
    if (pwrite(fd, h, AMZ__CKPT_RECORD, 0) != AMZ__CKPT_RECORD) return 2e-6;
    t[i] = (double)(now_ns() - t0) * 1e-9;
  }
  return amz__median(t, 9);
}

static int sync_dir(const char *path) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int amz__ckpt_open(amz__ckpt_t *ck, const char *path, const char *task, uint64_t n, int lead,
                   amz__rangeset_t *done, amz__ckpt_info_t *info) {
  memset(ck, 0, sizeof *ck);
  ck->fd = -1;
  memset(info, 0, sizeof *info);
  ck->path = strdup(path);
  if (!ck->path) return amz__fail(AMZ_ENOMEM, "cannot copy the checkpoint path");
  ck->writers = 1;
  ck->interval_s = AMZ__CKPT_SYNC_S;
  atomic_flag_clear(&ck->syncing);
  /* 0666 less the umask, as any file a program creates: under umask 002 the group
   * of a shared job directory can resume the job. */
  int fd = open(path, O_RDWR | O_CLOEXEC | (lead ? O_CREAT : 0), 0666);
  if (fd < 0)
    return amz__fail(AMZ_EIO, "cannot open checkpoint '%s' for writing: %s", path, strerror(errno));
  ck->fd = fd;
  if (!lead) return 0;
  /* Two jobs appending to one checkpoint would each skip what the other did. */
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return amz__fail(AMZ_EBUSY, "checkpoint '%s' is in use by another running process", path);
    /* Without a lock two jobs could append to one log and each skip the other's
     * work. File systems without locks (NFS without a lock daemon, Lustre mounted
     * without flock) are refused unless the user says that one job at a time uses
     * the file. */
    const char *ov = getenv("AMZ_CHECKPOINT_NOLOCK");
    if (!(ov && strcmp(ov, "1") == 0))
      return amz__fail(AMZ_EIO, "cannot lock checkpoint '%s': %s; on a file system without "
                                "locks, set AMZ_CHECKPOINT_NOLOCK=1 if only one job at a time "
                                "uses it", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0)
    return amz__fail(AMZ_EIO, "cannot stat checkpoint '%s': %s", path, strerror(errno));
  unsigned char h[AMZ__CKPT_HEADER];
  make_header(h, task, n);
  /* A creation cut short (the header is written and synced before any record) left
   * a prefix of the header: nothing completed yet, start it again. Any other short
   * file is not ours and is left untouched. */
  if (st.st_size > 0 && st.st_size < AMZ__CKPT_HEADER) {
    unsigned char old[AMZ__CKPT_HEADER];
    ssize_t got = pread(fd, old, (size_t)st.st_size, 0);
    if (got != st.st_size || memcmp(old, h, (size_t)got) != 0)
      return amz__fail(AMZ_EFORMAT, "'%s' (%lld bytes) is not an Amorsize checkpoint; it was "
                       "left untouched", path, (long long)st.st_size);
    st.st_size = 0;
  }
  if (st.st_size == 0) {
    if (pwrite(fd, h, AMZ__CKPT_HEADER, 0) != AMZ__CKPT_HEADER || fdatasync(fd) != 0 ||
        sync_dir(path) != 0)
      return amz__fail(AMZ_EIO, "cannot write the header of checkpoint '%s': %s", path,
                       strerror(errno ? errno : EIO));
    info->created = 1;
    info->n_items = n;
    escape_name(task, info->task, sizeof info->task);
  } else {
    int rc = read_file(fd, path, done, info, (uint64_t)st.st_size);
    if (rc != 0) return rc;
    char esc[sizeof info->task];
    escape_name(task, esc, sizeof esc);
    if (info->n_items != n || strcmp(info->task, esc) != 0)
      return amz__fail(AMZ_EMISMATCH,
                       "checkpoint '%s' belongs to task '%s' with %" PRIu64 " items, but this "
                       "run is task '%s' with %" PRIu64 " items; remove the file to start "
                       "afresh, or give this run another checkpoint path",
                       path, info->task, info->n_items, esc, n);
  }
  /* A session appends after everything written so far, in whole extents. */
  uint64_t body = (uint64_t)st.st_size > AMZ__CKPT_HEADER ? (uint64_t)st.st_size - AMZ__CKPT_HEADER : 0;
  ck->base = (body + AMZ__CKPT_EXTENT - 1) / AMZ__CKPT_EXTENT;
  ck->write_cost_s = measure_write(fd);
  return 0;
}

void amz__ckpt_set_writer(amz__ckpt_t *ck, int writer, int writers, uint64_t base) {
  ck->writer = (uint32_t)writer;
  ck->writers = (uint32_t)writers;
  ck->base = base;
}

static void set_error(amz__ckpt_t *ck, int err) {
  int expected = 0;
  atomic_compare_exchange_strong(&ck->err, &expected, err ? err : EIO);
}

void amz__ckpt_log(amz__ckpt_t *ck, uint64_t b, uint64_t e) {
  if (atomic_load_explicit(&ck->err, memory_order_relaxed)) return;
  unsigned char r[AMZ__CKPT_RECORD];
  uint64_t j = atomic_fetch_add_explicit(&ck->slots, 1, memory_order_relaxed);
  uint64_t extent = ck->base + (j / SLOTS) * ck->writers + ck->writer;
  put32(r, REC_MAGIC);
  put64(r + 8, b);
  put64(r + 16, e);
  put32(r + 24, ck->writer);
  put32(r + 28, (uint32_t)ck->base);
  put32(r + 4, crc(r + 8, AMZ__CKPT_RECORD - 8));
  off_t off = (off_t)(AMZ__CKPT_HEADER + extent * AMZ__CKPT_EXTENT + (j % SLOTS) * AMZ__CKPT_RECORD);
  if (pwrite(ck->fd, r, sizeof r, off) != (ssize_t)sizeof r) {
    set_error(ck, errno);
    return;
  }
  int64_t t = now_ns();
  if (t < atomic_load_explicit(&ck->next_sync_ns, memory_order_relaxed)) return;
  if (atomic_flag_test_and_set_explicit(&ck->syncing, memory_order_acquire)) return;
  /* Batched durability: one fdatasync per interval, by whichever worker gets here
   * first; the interval stretches to 50 syncs' time on slow file systems, so that
   * syncing costs at most 2% of one worker. */
  if (fdatasync(ck->fd) != 0) set_error(ck, errno);
  int64_t t1 = now_ns();
  double cost = (double)(t1 - t) * 1e-9, wait = ck->interval_s;
  if (50.0 * cost > wait) wait = 50.0 * cost;
  atomic_store_explicit(&ck->next_sync_ns, t1 + (int64_t)(wait * 1e9), memory_order_relaxed);
  atomic_flag_clear_explicit(&ck->syncing, memory_order_release);
}

int amz__ckpt_flush(amz__ckpt_t *ck) {
  if (ck->fd < 0) return 0;
  if (!atomic_load(&ck->err) && fdatasync(ck->fd) != 0) set_error(ck, errno);
  int err = atomic_load(&ck->err);
  if (err)
    return amz__fail(AMZ_EIO, "checkpoint '%s' could not be written (%s): the run went on, "
                     "but a rerun would execute again what completed after the failure",
                     ck->path, strerror(err));
  return 0;
}

void amz__ckpt_close(amz__ckpt_t *ck) {
  if (ck->fd >= 0) close(ck->fd);
  ck->fd = -1;
  free(ck->path);
  ck->path = NULL;
}
