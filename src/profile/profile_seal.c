/* The seal of a profile: a 512-byte text header in the HDF5 user block, written
 * after the file is complete, with the schema version, the file's length and a
 * CRC-32 of everything after the header. HDF5 tools skip the user block; our reader
 * checks the seal before the HDF5 library parses a byte, so damaged or truncated
 * files never reach a parser that is not built for hostile input. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "profile.h"

#define HEADER 512
#define MAGIC "AMORSIZE-PROFILE\n"

static const unsigned char hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* CRC-32 of bytes [HEADER, size) of fd. Returns 0 or -1 (errno set). */
static int crc_of(int fd, uint64_t size, uint32_t *out) {
  static const size_t BUF = 1 << 20;
  unsigned char *buf = malloc(BUF);
  if (!buf) return -1;
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t pos = HEADER;
  while (pos < size) {
    size_t want = size - pos < BUF ? (size_t)(size - pos) : BUF;
    ssize_t got = pread(fd, buf, want, (off_t)pos);
    if (got <= 0) {
      if (got == 0) errno = EIO;
      free(buf);
      return -1;
    }
    crc = crc32(crc, buf, (uInt)got);
    pos += (uint64_t)got;
  }
  free(buf);
  *out = (uint32_t)crc;
  return 0;
}

int amz__profile_seal(const char *path) {
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return amz__fail(AMZ_EIO, "cannot seal profile '%s': %s", path, strerror(errno));
  struct stat st;
  uint32_t crc = 0;
  int rc = 0;
  if (fstat(fd, &st) != 0 || crc_of(fd, (uint64_t)st.st_size, &crc) != 0) {
    rc = amz__fail(AMZ_EIO, "cannot seal profile '%s': %s", path, strerror(errno));
  } else {
    char h[HEADER];
    memset(h, 0, sizeof h);
    snprintf(h, sizeof h,
             MAGIC "schema %d\nbytes %" PRIu64 "\ncrc32 %08" PRIx32 "\n"
                   "# An HDF5 file with this 512-byte user block: h5py, h5dump and HDFView\n"
                   "# read it as is. 'amorsize report FILE' explains it; the layout is in\n"
                   "# docs/PROFILE_FORMAT.md. The CRC-32 covers bytes 512 to the end.\n",
             AMZ_PROFILE_SCHEMA_VERSION, (uint64_t)st.st_size, crc);
    if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h || fsync(fd) != 0)
      rc = amz__fail(AMZ_EIO, "cannot seal profile '%s': %s", path, strerror(errno));
  }
  close(fd);
  return rc;
}

/* Strict "key value\n" line parser over the header text. */
static int header_field(const char *h, const char *key, int hex, uint64_t *out) {
  size_t kl = strlen(key);
  for (const char *line = h; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, key, kl) != 0 || line[kl] != ' ') continue;
    const char *v = line + kl + 1;
    char *end = NULL;
    if (!(hex ? isxdigit((unsigned char)*v) : (*v >= '0' && *v <= '9'))) return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, hex ? 16 : 10);
    if (errno != 0 || *end != '\n') return -1;
    *out = x;
    return 0;
  }
  return -1;
}

int amz__profile_verify(const char *path, unsigned flags, int *schema) {
  /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever. The
   * regular-file check below refuses it; reads of a regular file ignore the flag. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return amz__fail(AMZ_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return amz__fail(AMZ_EIO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return amz__fail(AMZ_EIO, "%s: not a regular file", path);
  }
  char h[HEADER + 1];
  memset(h, 0, sizeof h);
  ssize_t got = pread(fd, h, HEADER, 0);
  int rc = 0;
  uint64_t schema_v = 0, bytes = 0, crc = 0;
  if (got < 0) {
    rc = amz__fail(AMZ_EIO, "%s: cannot read: %s", path, strerror(errno));
  } else if (got >= 8 && memcmp(h, hdf5_signature, 8) == 0) {
    rc = amz__fail(AMZ_EFORMAT,
                   "%s: an HDF5 file, but not an Amorsize profile (no Amorsize header; "
                   "written by another program?)",
                   path);
  } else if ((size_t)got < strlen(MAGIC) || memcmp(h, MAGIC, strlen(MAGIC)) != 0) {
    rc = amz__fail(AMZ_EFORMAT, "%s: not an Amorsize profile (%s)", path,
                   got == 0 ? "empty file" : "unknown first bytes");
  } else if (got < HEADER) {
    rc = amz__fail(AMZ_EFORMAT, "%s: truncated: %zd bytes, shorter than the profile header",
                   path, got);
  } else if (memchr(h, '\0', HEADER) == NULL ||
             header_field(h, "schema", 0, &schema_v) != 0 ||
             header_field(h, "bytes", 0, &bytes) != 0 || header_field(h, "crc32", 1, &crc) != 0 ||
             crc > UINT32_MAX) {
    rc = amz__fail(AMZ_EFORMAT, "%s: damaged Amorsize header (schema, bytes, crc32 lines)",
                   path);
  } else if (schema_v > AMZ_PROFILE_SCHEMA_VERSION) {
    rc = amz__fail(AMZ_EFORMAT,
                   "%s: schema version %llu is newer than this reader's (%d); read it with a "
                   "newer amorsize",
                   path, (unsigned long long)schema_v, AMZ_PROFILE_SCHEMA_VERSION);
  } else if (schema_v < 1) {
    rc = amz__fail(AMZ_EFORMAT, "%s: schema version %llu is not a released version", path,
                   (unsigned long long)schema_v);
  } else if (!(flags & AMZ_PROFILE_NO_VERIFY)) {
    uint32_t have = 0;
    if ((uint64_t)st.st_size < bytes)
      rc = amz__fail(AMZ_EFORMAT, "%s: truncated: %llu of %llu bytes", path,
                     (unsigned long long)st.st_size, (unsigned long long)bytes);
    else if ((uint64_t)st.st_size > bytes)
      rc = amz__fail(AMZ_EFORMAT, "%s: %llu bytes, but the header says %llu: data was appended "
                                  "or the file was changed",
                     path, (unsigned long long)st.st_size, (unsigned long long)bytes);
    else if (crc_of(fd, bytes, &have) != 0)
      rc = amz__fail(AMZ_EIO, "%s: cannot read: %s", path, strerror(errno));
    else if (have != (uint32_t)crc)
      rc = amz__fail(AMZ_EFORMAT,
                     "%s: damaged: CRC-32 %08x, the header says %08llx (changed after "
                     "writing? --no-verify reads it anyway)",
                     path, have, (unsigned long long)crc);
  }
  close(fd);
  if (rc == 0 && schema) *schema = (int)schema_v;
  return rc;
}
