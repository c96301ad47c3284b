! Amorsize from Fortran, across MPI ranks: a series whose terms cost more the larger
! the index, planned and run with `use amorsize`. Every rank computes its items into
! its copy of the array; amz_mpi_gather_items brings them to rank 0 (ranks the plan
! left out wait there without spinning a core, unlike a plain MPI_Allreduce), and
! rank 0 checks the result against a serial computation, term by term.
!
!   mpirun -np 2 fortran_mpi [N]          (build: CMake target fortran_mpi, or
!                                          mpifort fortran_mpi.f90 -I<include> -lamorsize_fortran ...)
module series
  use, intrinsic :: iso_c_binding
  implicit none
contains
  !> Term i (0-based) of the series: about 50 + i/4 inner steps, so late items cost more.
  pure real(c_double) function term(i)
    integer(c_int64_t), intent(in) :: i
    integer(c_int64_t) :: k
    real(c_double) :: x
    x = 0
    do k = 1, 50 + i / 4
      x = x + sin(real(k, c_double) * 1.0e-3_c_double * real(i + 1, c_double)) / real(k, c_double)
    end do
    term = x
  end function term

  !> The kernel: items [begin, end) into the array arg points to (1-based in Fortran).
  !> Threads of one rank call it at once on disjoint ranges: it keeps no state.
  integer(c_int) function kernel(begin, end, arg) bind(c)
    integer(c_int64_t), value :: begin, end
    type(c_ptr), value :: arg
    real(c_double), pointer :: v(:)
    integer(c_int64_t) :: i
    call c_f_pointer(arg, v, [end])
    do i = begin, end - 1
      v(i + 1) = term(i)
    end do
    kernel = 0
  end function kernel
end module series

program fortran_mpi
  use mpi
  use amorsize
  use series
  use, intrinsic :: iso_c_binding
  implicit none
  integer :: provided, ierr, rank, nranks, n, bad
  character(len=32) :: arg
  real(c_double), allocatable, target :: values(:)
  type(amz_task_t) :: task
  type(c_ptr) :: opts, plan, res
  integer(c_int) :: rc
  integer(c_int64_t) :: i, done
  integer(c_int64_t), target :: local, counted
  real(c_double) :: lo, hi, predicted

  call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided, ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nranks, ierr)
  n = 20000
  if (command_argument_count() >= 1) then
    call get_command_argument(1, arg)
    read (arg, *) n
  end if
  allocate (values(n))
  values = 0

  rc = amz_options_create(opts)
  task = amz_task("fortran series", int(n, c_int64_t), kernel, c_loc(values))
  rc = amz_mpi_plan_create(MPI_COMM_WORLD, task, opts, plan)
  call amz_task_free(task)
  if (rc /= AMZ_OK) then
    print '(a,i0,a,a)', 'rank ', rank, ': plan failed: ', amz_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
  end if
  if (rank == 0) rc = amz_plan_explain(plan)

  rc = amz_mpi_run(plan, res)
  if (rc /= AMZ_OK) then
    print '(a,i0,a,a)', 'rank ', rank, ': run failed: ', amz_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
  end if
  print '(a,i0,a,i0,a)', 'rank ', rank, ': ', amz_result_local_items_done(res), ' items'
  if (rank == 0) rc = amz_result_explain(res)
  done = amz_result_items_done(res)

  ! Every item ran on exactly one rank, sampled ones on excluded ranks included: the
  ! ranks' local counts add up to n (a reduction over every rank, as for a sum).
  local = amz_result_local_items_done(res)
  rc = amz_mpi_allreduce(MPI_COMM_WORLD, c_loc(local), c_loc(counted), 1, MPI_INTEGER8, MPI_SUM)
  if (rc /= AMZ_OK) then
    print '(a,i0,a,a)', 'rank ', rank, ': allreduce failed: ', amz_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
  end if

  ! Each item ran on exactly one rank: rank 0 collects them all.
  rc = amz_mpi_gather_items(MPI_COMM_WORLD, res, c_loc(values), c_sizeof(values(1)), 0)
  if (rc /= AMZ_OK) then
    print '(a,i0,a,a)', 'rank ', rank, ': gather failed: ', amz_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
  end if
  if (rank == 0) then
    bad = 0
    do i = 0, n - 1
      ! Bit for bit: the same function on the same input.
      if (transfer(values(i + 1), 0_c_int64_t) /= transfer(term(i), 0_c_int64_t)) bad = bad + 1
    end do
    print '(a,es22.15)', 'sum of the series ', sum(values)
    rc = amz_result_predicted_interval(res, lo, hi)
    predicted = amz_result_predicted_seconds(res)
    if (rc /= 0 .or. .not. (lo <= predicted .and. predicted <= hi)) then
      print '(a,es10.3,a,es10.3,a,es10.3)', 'fortran: predicted ', predicted, &
           ' outside its interval ', lo, ' to ', hi
      bad = bad + 1
    end if
    if (bad == 0 .and. done == n .and. counted == n) then
      print '(a,i0,a,i0,a,i0,a)', 'fortran: items done ', done, ' of ', n, ' on ', &
           amz_result_ranks(res), ' ranks, every term equal to the serial one: OK'
    else
      print '(a,i0,a)', 'fortran: ', bad, ' terms differ from the serial computation: FAILED'
    end if
  end if
  call amz_result_destroy(res)
  call amz_plan_destroy(plan)
  call amz_options_destroy(opts)
  call MPI_Finalize(ierr)
end program fortran_mpi
