/*
 * Running a CUnit registry on every rank of MPI_COMM_WORLD (shared by the MPI test
 * programs; static functions only).
 */
#ifndef AMZ_MPI_CUNIT_H
#define AMZ_MPI_CUNIT_H

#include <CUnit/Basic.h>
#include <mpi.h>
#include <stdio.h>

/* Runs the registered tests on this rank (rank 0 verbose, the others silent; the
 * others list their failed assertions on stderr), cleans the registry up and
 * returns the failed assertions summed over all ranks (collective). *ran gets the
 * number of tests this rank ran. */
static unsigned mpi_cunit_run(int rank, unsigned *ran) {
  CU_basic_set_mode(rank == 0 ? CU_BRM_VERBOSE : CU_BRM_SILENT);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  *ran = CU_get_number_of_tests_run();
  if (failed && rank != 0) {
    fprintf(stderr, "rank %d: %u assertion(s) failed:\n", rank, failed);
    for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
      fprintf(stderr, "  rank %d: %s:%u: %s (%s)\n", rank, f->strFileName, f->uiLineNumber,
              f->strCondition, f->pTest ? f->pTest->pName : "?");
  }
  unsigned all = 0;
  MPI_Allreduce(&failed, &all, 1, MPI_UNSIGNED, MPI_SUM, MPI_COMM_WORLD);
  CU_cleanup_registry();
  return all;
}

#endif
