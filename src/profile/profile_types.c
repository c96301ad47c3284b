/* The HDF5 types of the profile's table rows. The field names given here are the
 * schema (docs/PROFILE_FORMAT.md): the reader matches fields by name, so the order
 * in the file does not matter to it, nor to h5py or pandas. */
#include <stddef.h>

#include "profile.h"

hid_t amz__h5t_str(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  H5Tset_size(t, len);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

#define FIELD(t, S, f, ht) H5Tinsert(t, #f, offsetof(S, f), ht)

hid_t amz__h5t_chunk(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_chunk_t));
  if (t < 0) return t;
  FIELD(t, amz__row_chunk_t, rank, H5T_NATIVE_INT32);
  FIELD(t, amz__row_chunk_t, thread, H5T_NATIVE_INT32);
  FIELD(t, amz__row_chunk_t, node, H5T_NATIVE_INT32);
  FIELD(t, amz__row_chunk_t, begin, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_chunk_t, end, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_chunk_t, t_start, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_chunk_t, t_end, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_chunk_t, status, H5T_NATIVE_INT32);
  FIELD(t, amz__row_chunk_t, sampled, H5T_NATIVE_INT8);
  return t;
}

hid_t amz__h5t_worker(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_worker_t));
  if (t < 0) return t;
  FIELD(t, amz__row_worker_t, rank, H5T_NATIVE_INT32);
  FIELD(t, amz__row_worker_t, thread, H5T_NATIVE_INT32);
  FIELD(t, amz__row_worker_t, node, H5T_NATIVE_INT32);
  FIELD(t, amz__row_worker_t, items, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_worker_t, chunks, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_worker_t, busy_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_worker_t, dispatch_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_worker_t, idle_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_worker_t, data_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_worker_t, failures, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_worker_t, taken, H5T_NATIVE_UINT64);
  return t;
}

hid_t amz__h5t_cand(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_cand_t));
  if (t < 0) return t;
  hid_t s = amz__h5t_str(AMZ__SCHED_NAME_LEN);
  FIELD(t, amz__row_cand_t, ranks, H5T_NATIVE_INT32);
  FIELD(t, amz__row_cand_t, threads, H5T_NATIVE_INT32);
  FIELD(t, amz__row_cand_t, schedule, s);
  FIELD(t, amz__row_cand_t, chunk, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_cand_t, predicted_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, startup_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, compute_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, dispatch_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, imbalance_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, serial_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, data_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_cand_t, chosen, H5T_NATIVE_INT8);
  H5Tclose(s);
  return t;
}

hid_t amz__h5t_term(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_term_t));
  if (t < 0) return t;
  hid_t s = amz__h5t_str(AMZ__SCHED_NAME_LEN);
  FIELD(t, amz__row_term_t, term, s);
  FIELD(t, amz__row_term_t, predicted_s, H5T_NATIVE_DOUBLE);
  FIELD(t, amz__row_term_t, measured_s, H5T_NATIVE_DOUBLE);
  H5Tclose(s);
  return t;
}

hid_t amz__h5t_node(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_node_t));
  if (t < 0) return t;
  hid_t h = amz__h5t_str(64), c = amz__h5t_str(96);
  FIELD(t, amz__row_node_t, node, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, host, h);
  FIELD(t, amz__row_node_t, cpu_model, c);
  FIELD(t, amz__row_node_t, ranks, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, ranks_used, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, cores, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, pus, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, numa_nodes, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, shared, H5T_NATIVE_INT32);
  FIELD(t, amz__row_node_t, mem_bytes, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_node_t, pus_bound, H5T_NATIVE_INT32);
  H5Tclose(h);
  H5Tclose(c);
  return t;
}

hid_t amz__h5t_failure(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(amz__row_failure_t));
  if (t < 0) return t;
  FIELD(t, amz__row_failure_t, begin, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_failure_t, end, H5T_NATIVE_UINT64);
  FIELD(t, amz__row_failure_t, code, H5T_NATIVE_INT32);
  return t;
}
