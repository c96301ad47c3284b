/*
 * Failure isolation: a kernel reports one code for a whole range, so a range that
 * failed is bisected to find which of its items fail, and items that fail alone
 * are given a bounded number of further attempts (a transient fault - a busy file
 * system, a lost connection - often passes). The kernel must tolerate running an
 * item again after a failed call: re-running is what a retry is.
 *
 * Kernel calls for one item that always fails, in a chunk of C items:
 * 1 + ceil(log2 C) + retries. A kernel that fails everywhere costs about
 * (2 + retries) times its normal run.
 */
#include "internal.h"

static void failed_for_good(amz__sink_t *s, uint64_t b, uint64_t e, int rc) {
  if (s && s->fail) s->fail(s->ctx, b, e, rc);
}

int amz__run_failed(const amz_task_t *t, int retries, amz__ckpt_t *ck, uint64_t b, uint64_t e,
                    int rc, amz__sink_t *sink) {
  if (retries <= 0) {
    failed_for_good(sink, b, e, rc);
    return rc;
  }
  if (e - b == 1) {
    for (int k = 0; k < retries; k++) {
      if (sink) sink->retry_calls++;
      rc = amz__kernel_call(t, b, e, sink);
      if (rc == 0) {
        if (ck) amz__ckpt_log(ck, b, e);
        if (sink) sink->recovered++;
        return 0;
      }
    }
    failed_for_good(sink, b, e, rc);
    return rc;
  }
  uint64_t mid = b + (e - b) / 2;
  uint64_t lo[2] = {b, mid}, hi[2] = {mid, e};
  int first = 0;
  for (int h = 0; h < 2; h++) {
    if (sink) sink->retry_calls++;
    int r = amz__kernel_call(t, lo[h], hi[h], sink);
    if (r == 0) {
      if (ck) amz__ckpt_log(ck, lo[h], hi[h]);
      if (sink) sink->recovered += hi[h] - lo[h];
      continue;
    }
    r = amz__run_failed(t, retries, ck, lo[h], hi[h], r, sink);
    if (r != 0 && first == 0) first = r;
  }
  return first;
}
