/* C side of the Fortran module (amorsize.f90): the few calls whose C arguments have
 * no interoperable Fortran form. MPI communicators arrive as Fortran handles
 * (MPI_Fint, as `use mpi` gives them, or `comm%MPI_VAL` with mpi_f08) and are
 * converted with MPI_Comm_f2c; explanations go to C's stdout, flushed so that they
 * interleave with Fortran's own output in order. */
#include <stdio.h>

#include "amorsize_mpi.h"

#if defined(__GNUC__)
#define AMZ_F_API __attribute__((visibility("default")))
#else
#define AMZ_F_API
#endif

AMZ_F_API int amz_f_mpi_plan_create(MPI_Fint comm, const amz_task_t *task,
                                    const amz_options_t *opts, amz_plan_t **plan) {
  return amz_mpi_plan_create(MPI_Comm_f2c(comm), task, opts, plan);
}

AMZ_F_API int amz_f_mpi_for(MPI_Fint comm, const amz_task_t *task, const amz_options_t *opts,
                            amz_result_t **result) {
  return amz_mpi_for(MPI_Comm_f2c(comm), task, opts, result);
}

AMZ_F_API int amz_f_plan_explain(const amz_plan_t *plan) {
  fflush(stdout);
  int rc = amz_plan_explain(plan, stdout);
  fflush(stdout);
  return rc;
}

AMZ_F_API int amz_f_result_explain(const amz_result_t *result) {
  fflush(stdout);
  int rc = amz_result_explain(result, stdout);
  fflush(stdout);
  return rc;
}

AMZ_F_API int amz_f_mpi_allreduce(MPI_Fint comm, const void *sendbuf, void *recvbuf, int count,
                                  MPI_Fint type, MPI_Fint op) {
  return amz_mpi_allreduce(MPI_Comm_f2c(comm), sendbuf, recvbuf, count, MPI_Type_f2c(type),
                           MPI_Op_f2c(op));
}

AMZ_F_API int amz_f_mpi_gather_items(MPI_Fint comm, const amz_result_t *result, void *buf,
                                     size_t item_bytes, int root) {
  return amz_mpi_gather_items(MPI_Comm_f2c(comm), result, buf, item_bytes, root);
}
