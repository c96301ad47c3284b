/*
 * The internal interface of the checkpoint log (checkpoint.c). Not
 * installed; docs/ARCHITECTURE.md says who may include it.
 */
#ifndef AMORSIZE_CHECKPOINT_H
#define AMORSIZE_CHECKPOINT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "amorsize.h"
#include "common.h"
#include "ranges.h"

#define AMZ__CKPT_VERSION 1
#define AMZ__CKPT_HEADER 4096
#define AMZ__CKPT_EXTENT 65536
#define AMZ__CKPT_RECORD 32
#define AMZ__CKPT_NAME_MAX 255
#define AMZ__CKPT_SYNC_S 1.0 /* least seconds between two fdatasync() */
#define AMZ__CKPT_CHUNK_S 1.0 /* with a checkpoint, no chunk planned longer than this */

typedef struct amz__ckpt_info {
  uint64_t n_items;      /* from the header */
  char task[3 * AMZ__CKPT_NAME_MAX + 8]; /* escaped, from the header */
  uint64_t records;      /* valid records */
  uint64_t damaged;      /* torn or overwritten slots, skipped */
  uint64_t completed;    /* items covered by the valid records */
  int created;           /* 1 when this open created the file */
} amz__ckpt_info_t;

typedef struct amz__ckpt {
  int fd;
  char *path;
  uint32_t writer, writers; /* this process's index and the processes writing */
  uint64_t base;            /* first extent of this session */
  _Alignas(64) _Atomic uint64_t slots; /* records claimed by this process */
  _Atomic int64_t next_sync_ns;
  atomic_flag syncing;
  _Atomic int err;          /* errno of the first failed write or sync */
  double interval_s;
  double write_cost_s;      /* measured per record at open (lead) */
} amz__ckpt_t;

/* Opens (lead: creates, locks, validates and reads) the checkpoint. lead fills done
 * with the completed ranges (normalized) and info; a non-lead process only opens
 * the file and gets its place from amz__ckpt_set_writer(). Errors: AMZ_EIO,
 * AMZ_EFORMAT (not a checkpoint or corrupt), AMZ_EMISMATCH (another task or N),
 * AMZ_EBUSY (locked by another process), AMZ_ENOMEM. Close with amz__ckpt_close()
 * also after a failure. */
AMZ__EXT int amz__ckpt_open(amz__ckpt_t *ck, const char *path, const char *task, uint64_t n, int lead,
                   amz__rangeset_t *done, amz__ckpt_info_t *info);
AMZ__EXT void amz__ckpt_set_writer(amz__ckpt_t *ck, int writer, int writers, uint64_t base);
/* Records [b, e) as completed: one pwrite(), and an fdatasync() when the interval
 * has passed. Thread-safe. A write error stops logging; amz__ckpt_flush reports it. */
AMZ__EXT void amz__ckpt_log(amz__ckpt_t *ck, uint64_t b, uint64_t e);
/* fdatasync(); AMZ_EIO when this or any earlier write failed. */
int amz__ckpt_flush(amz__ckpt_t *ck);
void amz__ckpt_close(amz__ckpt_t *ck);
/* Reads a checkpoint without opening it for writing (tools, tests). */
int amz__ckpt_read(const char *path, amz__rangeset_t *done, amz__ckpt_info_t *info);
/* The parser's parts, for the fuzz target: the 4096-byte header, and a block of
 * records found at byte offset `offset` of the file. */
int amz__ckpt_parse_header(const unsigned char *buf, size_t len, amz__ckpt_info_t *info);
int amz__ckpt_parse_records(const unsigned char *buf, size_t len, uint64_t offset,
                            uint64_t n_items, amz__rangeset_t *done, amz__ckpt_info_t *info);

#endif /* AMORSIZE_CHECKPOINT_H */
