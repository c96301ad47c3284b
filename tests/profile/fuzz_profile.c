/*
 * Fuzz target for the profile reader, and the report and HTML pages drawn from
 * whatever the reader accepts.
 *
 * An input is one mode byte followed by the file's bytes, which are written to a
 * file and opened. When the mode byte is odd the file is first resealed (a fresh,
 * valid CRC-32 header is written over it), so that the mutation gets past the
 * checksum and reaches HDF5's parser and our type and range checks: the path of a
 * file someone crafted rather than damaged.
 *
 * Built two ways:
 * - with libFuzzer (clang, -DAMORSIZE_LIBFUZZER=ON): the usual LLVMFuzzerTestOneInput;
 * - otherwise with its own bounded driver, which the test suite runs:
 *     fuzz_profile [--iterations N] [--seconds S] [--seed X] SEED.h5...
 *   It mutates the seed profiles (bit flips, byte runs, truncation, splices,
 *   interesting values) and prints how the reader answered.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "profile.h"

static char scratch[256];
static unsigned long accepted, refused_seal, refused_format, refused_other, leaked;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scratch[0]) snprintf(scratch, sizeof scratch, "/tmp/amz-fuzz-%ld.h5", (long)getpid());
  if (size == 0) return 0;
  int mode = data[0];
  data++;
  size--;
  FILE *f = fopen(scratch, "wb");
  if (!f) return 0;
  if (size && fwrite(data, 1, size, f) != size) {
    fclose(f);
    return 0;
  }
  fclose(f);
  int resealed = (mode & 1) && size > AMZ__PROFILE_HEADER;
  if (resealed) amz__profile_seal(scratch);
  amz_profile_t *p = NULL;
  int rc = amz_profile_open(scratch, 0, &p);
  if (rc == 0) {
    accepted++;
    /* Everything a command does with an accepted profile must be safe too. */
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
      amz_cli_report(sink, p, scratch);
      const amz_profile_t *one[1] = {p};
      const char *name[1] = {scratch};
      amz_cli_html(sink, one, name, 1);
      fclose(sink);
    }
    amz_profile_close(p);
  } else if (rc == AMZ_EFORMAT) {
    if (strstr(amz_last_error(), "CRC") || strstr(amz_last_error(), "header") ||
        strstr(amz_last_error(), "truncated") || strstr(amz_last_error(), "not an Amorsize"))
      refused_seal++;
    else
      refused_format++;
  } else {
    refused_other++;
  }
  ssize_t open_ids = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids > 0) {
    leaked++;
    if (getenv("AMZ_FUZZ_VERBOSE"))
      fprintf(stderr, "open HDF5 ids after input: %zd (%s)\n", open_ids, amz_last_error());
  }
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

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = len > 0 ? malloc((size_t)len) : NULL;
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = b ? (size_t)len : 0;
  return b;
}

/* One to eight mutations of a copy of seed. Offsets favour the HDF5 structures
 * near the start of the file (superblock, root object header) half of the time. */
static size_t mutate(unsigned char *buf, size_t n, size_t cap) {
  int k = 1 + (int)(next() % 8);
  for (int i = 0; i < k && n > 0; i++) {
    size_t at = next() % 2 ? AMZ__PROFILE_HEADER + next() % 4096 : next() % n;
    if (at >= n) at = next() % n;
    switch (next() % 7) {
      case 0: buf[at] ^= (unsigned char)(1u << (next() % 8)); break;
      case 1: buf[at] = (unsigned char)next(); break;
      case 2: { /* interesting values over 1, 2, 4 or 8 bytes */
        static const unsigned char v[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
        size_t w = (size_t)1 << (next() % 4);
        unsigned char c = v[next() % sizeof v];
        for (size_t j = 0; j < w && at + j < n; j++) buf[at + j] = c;
        break;
      }
      case 3: n = at + 1; break; /* truncate */
      case 4: { /* copy a block from elsewhere in the file */
        size_t from = next() % n, len = 1 + next() % 64;
        for (size_t j = 0; j < len && at + j < n && from + j < n; j++) buf[at + j] = buf[from + j];
        break;
      }
      case 5: { /* insert bytes */
        size_t len = 1 + next() % 16;
        if (n + len <= cap) {
          memmove(buf + at + len, buf + at, n - at);
          for (size_t j = 0; j < len; j++) buf[at + j] = (unsigned char)next();
          n += len;
        }
        break;
      }
      default: /* a run of random bytes */
        for (size_t j = 0, len = 1 + next() % 32; j < len && at + j < n; j++)
          buf[at + j] = (unsigned char)next();
    }
  }
  return n;
}

int main(int argc, char **argv) {
  long iterations = 2000;
  double seconds = 60;
  const char *seeds[16];
  int n_seeds = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) iterations = atol(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) rng = strtoull(argv[++i], NULL, 0) | 1;
    else if (n_seeds < 16) seeds[n_seeds++] = argv[i];
  }
  H5dont_atexit(); /* as the CLI: crafted files can upset HDF5's exit handler */
  if (n_seeds == 0) {
    fprintf(stderr, "usage: %s [--iterations N] [--seconds S] [--seed X] SEED.h5...\n", argv[0]);
    return 64;
  }
  unsigned char *seed[16];
  size_t seed_n[16], cap = 0;
  for (int i = 0; i < n_seeds; i++) {
    seed[i] = slurp(seeds[i], &seed_n[i]);
    if (!seed[i]) {
      fprintf(stderr, "cannot read seed %s\n", seeds[i]);
      return 1;
    }
    if (seed_n[i] > cap) cap = seed_n[i];
  }
  cap += 4097;
  unsigned char *buf = malloc(cap);
  if (!buf) return 1;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long done = 0, resealed = 0;
  for (; done < iterations; done++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > seconds) break;
    int s = (int)(next() % (uint64_t)n_seeds);
    memcpy(buf + 1, seed[s], seed_n[s]);
    size_t n = mutate(buf + 1, seed_n[s], cap - 1);
    /* Half of the inputs are resealed. */
    buf[0] = (unsigned char)(next() % 2);
    resealed += buf[0];
    LLVMFuzzerTestOneInput(buf, n + 1);
  }
  if (!getenv("AMZ_FUZZ_KEEP")) unlink(scratch);
  printf("fuzz_profile: %ld inputs (%ld resealed): %lu accepted, %lu refused by the seal, "
         "%lu refused by the format checks, %lu other errors; no crash\n",
         done, resealed, accepted, refused_seal, refused_format, refused_other);
  for (int i = 0; i < n_seeds; i++) free(seed[i]);
  free(buf);
  return done > 0 ? 0 : 1;
}
#endif
