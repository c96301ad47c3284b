/*
 * Mandelbrot rows across MPI ranks: Amorsize chooses how many ranks and threads to
 * use and how to hand out the rows, runs them, gathers the image on rank 0, writes
 * it as a PGM file, and explains the plan and what happened.
 *
 * The image is the upper half-plane (y in [0, 1.5]): rows near the real axis cost
 * far more than rows at the top, so an equal split of the rows between two ranks
 * gives one of them most of the work.
 *
 *   mpirun -np 2 ./mandelbrot_mpi [rows] [columns] [output.pgm]
 *
 * Exit status 0 when every row was computed exactly once (the image's checksum is
 * compared with a serial computation on rank 0 when the image is small).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amorsize_mpi.h"

typedef struct image {
  int rows, cols, max_iter;
  unsigned short *pixels;
} image_t;

static int mandelbrot_rows(uint64_t begin, uint64_t end, void *arg) {
  image_t *img = arg;
  for (uint64_t r = begin; r < end; r++) {
    double y = 1.5 * (double)r / img->rows;
    for (int c = 0; c < img->cols; c++) {
      double x = -2.0 + 2.6 * c / img->cols, zr = 0, zi = 0;
      int k = 0;
      while (k < img->max_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + x;
        zi = 2 * zr * zi + y;
        zr = t;
        k++;
      }
      img->pixels[r * (uint64_t)img->cols + (uint64_t)c] = (unsigned short)k;
    }
  }
  return 0;
}

static int write_pgm(const char *path, const image_t *img) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fprintf(f, "P5\n%d %d\n255\n", img->cols, img->rows);
  /* Row 0 is the real axis: write it last so the image stands upright. */
  for (int r = img->rows - 1; r >= 0; r--)
    for (int c = 0; c < img->cols; c++) {
      unsigned k = img->pixels[(size_t)r * (size_t)img->cols + (size_t)c];
      fputc(k >= (unsigned)img->max_iter ? 0 : 255 - (int)(255u * k / (unsigned)img->max_iter), f);
    }
  return fclose(f);
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  image_t img = {argc > 1 ? atoi(argv[1]) : 1600, argc > 2 ? atoi(argv[2]) : 1600, 500, NULL};
  const char *out = argc > 3 ? argv[3] : "mandelbrot.pgm";
  if (img.rows <= 0 || img.cols <= 0) {
    if (rank == 0) fprintf(stderr, "usage: %s [rows > 0] [columns > 0] [output.pgm]\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  img.pixels = calloc((size_t)img.rows * (size_t)img.cols, sizeof *img.pixels);
  if (!img.pixels) MPI_Abort(MPI_COMM_WORLD, 1);

  amz_task_t task = {"mandelbrot rows", (uint64_t)img.rows, mandelbrot_rows, &img};
  amz_plan_t *plan = NULL;
  int rc = amz_mpi_plan_create(MPI_COMM_WORLD, &task, NULL, &plan);
  if (rc != 0) {
    if (rank == 0) fprintf(stderr, "amz_mpi_plan_create: %s: %s\n", amz_strerror(rc), amz_last_error());
    MPI_Finalize();
    return 1;
  }
  if (rank == 0) amz_plan_explain(plan, stdout);

  amz_result_t *res = NULL;
  rc = amz_mpi_run(plan, &res);
  if (rc != 0 && rc != AMZ_EITEMS) {
    fprintf(stderr, "rank %d: amz_mpi_run: %s: %s\n", rank, amz_strerror(rc), amz_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  /* Every rank holds the rows it ran (and sampled): collect them on rank 0. */
  int grc = amz_mpi_gather_items(MPI_COMM_WORLD, res, img.pixels,
                                 (size_t)img.cols * sizeof *img.pixels, 0);
  if (grc != 0 && rank == 0)
    fprintf(stderr, "amz_mpi_gather_items: %s: %s\n", amz_strerror(grc), amz_last_error());
  /* Each rank's own account, printed in rank order by rank 0. */
  unsigned long long mine[3] = {amz_result_local_items_done(res),
                                amz_result_local_items_failed(res),
                                (unsigned long long)amz_result_mpi_excluded(res)};
  unsigned long long *all = rank == 0 ? malloc(3 * sizeof *all * (size_t)size) : NULL;
  MPI_Gather(mine, 3, MPI_UNSIGNED_LONG_LONG, all, 3, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  int ok = 1;
  if (rank == 0) {
    printf("\n");
    amz_result_explain(res, stdout);
    printf("\nper rank:\n");
    unsigned long long total = 0;
    for (int r = 0; r < size; r++) {
      printf("  rank %d: %llu rows done, %llu failed%s\n", r, all[3 * r], all[3 * r + 1],
             all[3 * r + 2] ? " (excluded from the run; rows it sampled)" : "");
      total += all[3 * r] + all[3 * r + 1];
    }
    unsigned long long sum = 0;
    for (size_t i = 0; i < (size_t)img.rows * (size_t)img.cols; i++) sum += img.pixels[i];
    /* Exactly once: the ranks' rows add up to the image, and the image matches a
     * serial computation (for images small enough to recompute quickly). */
    ok = grc == 0 && total == (unsigned long long)img.rows &&
         amz_result_items_done(res) == (uint64_t)img.rows;
    if ((size_t)img.rows * (size_t)img.cols <= 1000000) {
      image_t ref = img;
      ref.pixels = calloc((size_t)img.rows * (size_t)img.cols, sizeof *ref.pixels);
      if (ref.pixels) {
        mandelbrot_rows(0, (uint64_t)img.rows, &ref);
        int same = memcmp(ref.pixels, img.pixels, (size_t)img.rows * (size_t)img.cols * sizeof *ref.pixels) == 0;
        printf("serial check: %s\n", same ? "image identical" : "IMAGE DIFFERS");
        ok = ok && same;
        free(ref.pixels);
      }
    }
    if (write_pgm(out, &img) == 0)
      printf("wrote %s (%d x %d)\n", out, img.cols, img.rows);
    else
      fprintf(stderr, "cannot write %s\n", out);
    printf("checksum %llu; rows done %llu of %d on %d rank%s: %s\n", sum,
           (unsigned long long)amz_result_items_done(res), img.rows, amz_result_ranks(res),
           amz_result_ranks(res) == 1 ? "" : "s", ok ? "OK" : "FAILED");
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  free(all);
  amz_result_destroy(res);
  amz_plan_destroy(plan); /* collective for MPI plans */
  free(img.pixels);
  MPI_Finalize();
  return ok ? 0 : 1;
}
