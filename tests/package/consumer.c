/* An out-of-tree program using the installed package: plans and runs a loop over
 * the ranks of MPI_COMM_WORLD and checks that every item ran once. */
#include <amorsize_mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int square(uint64_t b, uint64_t e, void *arg) {
  uint64_t *v = arg;
  for (uint64_t i = b; i < e; i++) v[i] = i * i;
  return 0;
}

int main(int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  enum { N = 100000 };
  uint64_t *v = calloc(N, sizeof *v);
  amz_task_t task = {"consumer", N, square, v};
  amz_result_t *r = NULL;
  int rc = amz_mpi_for(MPI_COMM_WORLD, &task, NULL, &r);
  if (rc == 0) rc = amz_mpi_gather_items(MPI_COMM_WORLD, r, v, sizeof *v, 0);
  int ok = rc == 0;
  if (rank == 0) {
    for (uint64_t i = 0; i < N && ok; i++) ok = v[i] == i * i;
    printf("consumer (amorsize %s): %s\n", amz_version_string(), ok ? "OK" : amz_last_error());
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  amz_result_destroy(r);
  free(v);
  MPI_Finalize();
  return ok ? 0 : 1;
}
