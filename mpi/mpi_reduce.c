/*
 * Reductions of per-rank partial results (sums, counts, histograms) over the
 * communicator a plan was created on. Every rank takes part, excluded ones too:
 * they ran the items they sampled. A rank waits without spinning, so a rank that
 * the plan excluded and that reaches the reduction first does not take a core
 * from the ranks still running (Open MPI's blocking collectives poll).
 */
#include <stdint.h>

#include "mpi_internal.h"

int amz_mpi_allreduce(MPI_Comm comm, const void *sendbuf, void *recvbuf, int count,
                      MPI_Datatype type, MPI_Op op) {
  static const char fn[] = "amz_mpi_allreduce";
  int rc = amz__mpi_intracomm(comm, fn);
  if (rc != 0) return rc;
  int me = 0, tsize = 0;
  MPI_Comm_rank(comm, &me);
  if (count < 0)
    rc = amz__fail(AMZ_EINVAL, "%s: count is %d; expected 0 or more elements", fn, count);
  else if (type == MPI_DATATYPE_NULL)
    rc = amz__fail(AMZ_EINVAL, "%s: type is MPI_DATATYPE_NULL; expected a committed datatype",
                   fn);
  else if (op == MPI_OP_NULL)
    rc = amz__fail(AMZ_EINVAL, "%s: op is MPI_OP_NULL; expected an operation such as MPI_SUM",
                   fn);
  else if (count > 0 && (!sendbuf || !recvbuf))
    rc = amz__fail(AMZ_EINVAL, "%s: %s is NULL with count %d (sendbuf may be MPI_IN_PLACE)", fn,
                   sendbuf ? "recvbuf" : "sendbuf", count);
  else if (MPI_Type_size(type, &tsize) != MPI_SUCCESS || tsize <= 0)
    rc = amz__fail(AMZ_EINVAL, "%s: type has size %d; expected a datatype of at least one byte",
                   fn, tsize);
  rc = amz__mpi_agree(comm, rc);
  if (rc != 0) return rc;
  /* Arguments that must agree, minima and negated maxima in one reduction: a rank
   * with another count or element size would make MPI read past a buffer, and
   * MPI_IN_PLACE must be given on every rank or on none. */
  int in_place = sendbuf == MPI_IN_PLACE;
  int64_t v[6] = {count, tsize, in_place, -(int64_t)count, -(int64_t)tsize, -(int64_t)in_place};
  int64_t m[6];
  MPI_Request req;
  rc = amz__mpi_check(MPI_Iallreduce(v, m, 6, MPI_INT64_T, MPI_MIN, comm, &req),
                      "MPI_Iallreduce(reduction arguments)");
  if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  if (rc == 0 && m[0] != -m[3])
    rc = amz__fail(AMZ_EINVAL, "%s: count differs between ranks (from %lld to %lld; %d on rank %d)",
                   fn, (long long)m[0], (long long)-m[3], count, me);
  else if (rc == 0 && m[1] != -m[4])
    rc = amz__fail(AMZ_EINVAL, "%s: the datatype's size differs between ranks (from %lld to "
                               "%lld bytes; %d on rank %d)",
                   fn, (long long)m[1], (long long)-m[4], tsize, me);
  else if (rc == 0 && m[2] != -m[5])
    rc = amz__fail(AMZ_EINVAL, "%s: sendbuf is MPI_IN_PLACE on some ranks only (%s on rank %d); "
                               "give it on every rank or on none",
                   fn, in_place ? "given" : "not given", me);
  rc = amz__mpi_agree(comm, rc);
  if (rc != 0 || count == 0) return rc;
  rc = amz__mpi_check(MPI_Iallreduce(sendbuf, recvbuf, count, type, op, comm, &req),
                      "MPI_Iallreduce(values)");
  if (rc == 0) rc = amz__mpi_wait_polite(&req, NULL);
  return amz__mpi_agree(comm, rc);
}
