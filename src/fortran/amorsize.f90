!> @file amorsize.f90
!> @brief Fortran 2008 interface to Amorsize: `use amorsize`.
!>
!> The C API (amorsize.h, amorsize_mpi.h) through iso_c_binding, plus Fortran-style
!> wrappers for names and messages. Handles (options, plans, results) are type(c_ptr);
!> create them with the *_create calls and free them with the *_destroy calls, as in C.
!> Every function returns an integer(c_int) status: AMZ_OK or an AMZ_E* code, with
!> amz_last_error() giving the detail.
!>
!> The kernel is a bind(c) function over the half-open item range [begin, end) with
!> 0-based item indexes (add 1 for Fortran arrays):
!>
!>     integer(c_int) function kernel(begin, end, arg) bind(c)
!>       integer(c_int64_t), value :: begin, end
!>       type(c_ptr), value :: arg
!>
!> MPI communicators are passed as Fortran handles: the integer of `use mpi`
!> (MPI_COMM_WORLD) or `comm%MPI_VAL` of `use mpi_f08`. The library's MPI calls are
!> collective as in C (see amorsize_mpi.h).
module amorsize
  use, intrinsic :: iso_c_binding
  implicit none
  private

  ! ---- error codes (amorsize.h, AMZ_ERROR_MAP) ----
  integer(c_int), parameter, public :: AMZ_OK = 0, AMZ_EINVAL = -1, AMZ_ENOMEM = -2, &
       AMZ_EENV = -3, AMZ_ESCHED = -4, AMZ_ESYS = -5, AMZ_ETOPO = -6, AMZ_EITEMS = -7, &
       AMZ_EBUSY = -8, AMZ_ECONFLICT = -9, AMZ_EMPI = -10, AMZ_EIO = -11, AMZ_ERANGE = -12, &
       AMZ_EEXIST = -13, AMZ_EFORMAT = -14, AMZ_EMISMATCH = -15, &
       AMZ_ETIMEOUT = -16, AMZ_ENOTSUP = -17

  ! ---- schedules (amz_schedule_t) ----
  integer(c_int), parameter, public :: AMZ_SCHED_AUTO = 0, AMZ_SCHED_STATIC = 1, &
       AMZ_SCHED_CYCLIC = 2, AMZ_SCHED_DYNAMIC = 3, AMZ_SCHED_GUIDED = 4, &
       AMZ_SCHED_FACTORING = 5, AMZ_SCHED_AWF = 6

  ! ---- timeout actions (amz_timeout_action_t) ----
  integer(c_int), parameter, public :: AMZ_TIMEOUT_ERROR = 0, AMZ_TIMEOUT_ABORT = 1

  !> Root of amz_mpi_gather_items that gathers to every rank.
  integer(c_int), parameter, public :: AMZ_MPI_ALL = -1

  !> The task, laid out as C's amz_task_t. Build it with amz_task().
  type, bind(c), public :: amz_task_t
    type(c_ptr) :: name = c_null_ptr
    integer(c_int64_t) :: n_items = 0
    type(c_funptr) :: fn = c_null_funptr
    type(c_ptr) :: arg = c_null_ptr
  end type amz_task_t

  !> The kernel's interface.
  abstract interface
    integer(c_int) function amz_kernel(begin, end, arg) bind(c)
      import :: c_int, c_int64_t, c_ptr
      integer(c_int64_t), value :: begin, end
      type(c_ptr), value :: arg
    end function amz_kernel
  end interface
  public :: amz_kernel

  ! ---- the C calls, bound as they are ----
  interface
    integer(c_int) function amz_options_create(opts) bind(c, name="amz_options_create")
      import :: c_int, c_ptr
      type(c_ptr), intent(out) :: opts
    end function
    subroutine amz_options_destroy(opts) bind(c, name="amz_options_destroy")
      import :: c_ptr
      type(c_ptr), value :: opts
    end subroutine
    integer(c_int) function amz_options_set_workers(opts, workers) bind(c, name="amz_options_set_workers")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: workers
    end function
    integer(c_int) function amz_options_set_ranks(opts, ranks) bind(c, name="amz_options_set_ranks")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: ranks
    end function
    integer(c_int) function amz_options_set_schedule(opts, schedule) bind(c, name="amz_options_set_schedule")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: schedule
    end function
    integer(c_int) function amz_options_set_chunk(opts, items) bind(c, name="amz_options_set_chunk")
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: opts
      integer(c_int64_t), value :: items
    end function
    integer(c_int) function amz_options_set_sampling(opts, max_seconds, rel_error) &
        bind(c, name="amz_options_set_sampling")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: opts
      real(c_double), value :: max_seconds, rel_error
    end function
    integer(c_int) function amz_options_set_use_env(opts, use_env) bind(c, name="amz_options_set_use_env")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: use_env
    end function
    integer(c_int) function amz_options_set_profile_overwrite(opts, overwrite) &
        bind(c, name="amz_options_set_profile_overwrite")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: overwrite
    end function
    integer(c_int) function amz_options_set_retries(opts, retries) &
        bind(c, name="amz_options_set_retries")
      import :: c_int, c_ptr
      type(c_ptr), value :: opts
      integer(c_int), value :: retries
    end function
    integer(c_int) function amz_options_set_timeout(opts, seconds, factor, action) &
        bind(c, name="amz_options_set_timeout")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: opts
      real(c_double), value :: seconds, factor
      integer(c_int), value :: action
    end function
    integer(c_int) function c_options_set_checkpoint(opts, path) &
        bind(c, name="amz_options_set_checkpoint")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: opts
      character(kind=c_char), dimension(*) :: path
    end function
    integer(c_int64_t) function amz_result_items_resumed(result) &
        bind(c, name="amz_result_items_resumed")
      import :: c_int64_t, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function c_options_set_profile(opts, path) bind(c, name="amz_options_set_profile")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: opts
      character(kind=c_char), dimension(*) :: path
    end function

    integer(c_int) function amz_plan_create(task, opts, plan) bind(c, name="amz_plan_create")
      import :: c_int, c_ptr, amz_task_t
      type(amz_task_t), intent(in) :: task
      type(c_ptr), value :: opts
      type(c_ptr), intent(out) :: plan
    end function
    integer(c_int) function amz_run(plan, result) bind(c, name="amz_run")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
      type(c_ptr), intent(out) :: result
    end function
    integer(c_int) function amz_for(task, opts, result) bind(c, name="amz_for")
      import :: c_int, c_ptr, amz_task_t
      type(amz_task_t), intent(in) :: task
      type(c_ptr), value :: opts
      type(c_ptr), intent(out) :: result
    end function
    subroutine amz_plan_destroy(plan) bind(c, name="amz_plan_destroy")
      import :: c_ptr
      type(c_ptr), value :: plan
    end subroutine
    integer(c_int) function amz_plan_workers(plan) bind(c, name="amz_plan_workers")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
    end function
    integer(c_int) function amz_plan_ranks(plan) bind(c, name="amz_plan_ranks")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
    end function
    integer(c_int) function amz_plan_schedule(plan) bind(c, name="amz_plan_schedule")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
    end function
    integer(c_int64_t) function amz_plan_chunk(plan) bind(c, name="amz_plan_chunk")
      import :: c_int64_t, c_ptr
      type(c_ptr), value :: plan
    end function
    real(c_double) function amz_plan_predicted_seconds(plan) bind(c, name="amz_plan_predicted_seconds")
      import :: c_double, c_ptr
      type(c_ptr), value :: plan
    end function
    ! The next run falls inside [lo_s, hi_s] about 9 times in 10; 0 or AMZ_EINVAL.
    integer(c_int) function amz_plan_predicted_interval(plan, lo_s, hi_s) &
         bind(c, name="amz_plan_predicted_interval")
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: plan
      real(c_double), intent(out) :: lo_s, hi_s
    end function
    integer(c_int) function amz_plan_explain(plan) bind(c, name="amz_f_plan_explain")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
    end function

    real(c_double) function amz_result_seconds(result) bind(c, name="amz_result_seconds")
      import :: c_double, c_ptr
      type(c_ptr), value :: result
    end function
    real(c_double) function amz_result_predicted_seconds(result) bind(c, name="amz_result_predicted_seconds")
      import :: c_double, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function amz_result_predicted_interval(result, lo_s, hi_s) &
         bind(c, name="amz_result_predicted_interval")
      import :: c_int, c_double, c_ptr
      type(c_ptr), value :: result
      real(c_double), intent(out) :: lo_s, hi_s
    end function
    integer(c_int64_t) function amz_result_items_done(result) bind(c, name="amz_result_items_done")
      import :: c_int64_t, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int64_t) function amz_result_items_failed(result) bind(c, name="amz_result_items_failed")
      import :: c_int64_t, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function amz_result_workers(result) bind(c, name="amz_result_workers")
      import :: c_int, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function amz_result_ranks(result) bind(c, name="amz_result_ranks")
      import :: c_int, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int64_t) function amz_result_local_items_done(result) bind(c, name="amz_result_local_items_done")
      import :: c_int64_t, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function amz_result_mpi_excluded(result) bind(c, name="amz_result_mpi_excluded")
      import :: c_int, c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_int) function amz_result_explain(result) bind(c, name="amz_f_result_explain")
      import :: c_int, c_ptr
      type(c_ptr), value :: result
    end function
    subroutine amz_result_destroy(result) bind(c, name="amz_result_destroy")
      import :: c_ptr
      type(c_ptr), value :: result
    end subroutine

    integer(c_int) function amz_mpi_plan_create(comm, task, opts, plan) bind(c, name="amz_f_mpi_plan_create")
      import :: c_int, c_ptr, amz_task_t
      integer(c_int), value :: comm
      type(amz_task_t), intent(in) :: task
      type(c_ptr), value :: opts
      type(c_ptr), intent(out) :: plan
    end function
    integer(c_int) function amz_mpi_run(plan, result) bind(c, name="amz_mpi_run")
      import :: c_int, c_ptr
      type(c_ptr), value :: plan
      type(c_ptr), intent(out) :: result
    end function
    integer(c_int) function amz_mpi_for(comm, task, opts, result) bind(c, name="amz_f_mpi_for")
      import :: c_int, c_ptr, amz_task_t
      integer(c_int), value :: comm
      type(amz_task_t), intent(in) :: task
      type(c_ptr), value :: opts
      type(c_ptr), intent(out) :: result
    end function

    !> amz_mpi_allreduce with Fortran handles (use mpi): every rank's partial result
    !> on every rank, excluded ranks included; waits without spinning. Buffers by
    !> c_loc (MPI_IN_PLACE is not accepted here: pass two buffers).
    integer(c_int) function amz_mpi_allreduce(comm, sendbuf, recvbuf, count, datatype, op) &
        bind(c, name="amz_f_mpi_allreduce")
      import :: c_int, c_ptr
      integer(c_int), value :: comm
      type(c_ptr), value :: sendbuf, recvbuf
      integer(c_int), value :: count, datatype, op
    end function

    integer(c_int) function amz_mpi_gather_items(comm, result, buf, item_bytes, root) &
        bind(c, name="amz_f_mpi_gather_items")
      import :: c_int, c_ptr, c_size_t
      integer(c_int), value :: comm
      type(c_ptr), value :: result, buf
      integer(c_size_t), value :: item_bytes
      integer(c_int), value :: root
    end function

    type(c_ptr) function c_last_error() bind(c, name="amz_last_error")
      import :: c_ptr
    end function
    type(c_ptr) function c_strerror(code) bind(c, name="amz_strerror")
      import :: c_ptr, c_int
      integer(c_int), value :: code
    end function
    type(c_ptr) function c_result_profile_path(result) bind(c, name="amz_result_profile_path")
      import :: c_ptr
      type(c_ptr), value :: result
    end function
    integer(c_size_t) function c_strlen(s) bind(c, name="strlen")
      import :: c_size_t, c_ptr
      type(c_ptr), value :: s
    end function
    type(c_ptr) function c_strdup(s) bind(c, name="strdup")
      import :: c_ptr, c_char
      character(kind=c_char), dimension(*) :: s
    end function
    subroutine c_free(p) bind(c, name="free")
      import :: c_ptr
      type(c_ptr), value :: p
    end subroutine
  end interface

  public :: amz_options_create, amz_options_destroy, amz_options_set_workers, &
       amz_options_set_ranks, amz_options_set_schedule, amz_options_set_chunk, &
       amz_options_set_sampling, amz_options_set_use_env, amz_options_set_profile, &
       amz_options_set_profile_overwrite, amz_options_set_retries, amz_options_set_checkpoint, &
       amz_options_set_timeout, &
       amz_result_items_resumed, amz_plan_create, amz_run, amz_for, &
       amz_plan_destroy, amz_plan_workers, amz_plan_ranks, amz_plan_schedule, amz_plan_chunk, &
       amz_plan_predicted_seconds, amz_plan_predicted_interval, amz_plan_explain, &
       amz_result_seconds, amz_result_predicted_seconds, amz_result_predicted_interval, &
       amz_result_items_done, amz_result_items_failed, &
       amz_result_workers, amz_result_ranks, amz_result_local_items_done, &
       amz_result_mpi_excluded, amz_result_explain, amz_result_destroy, amz_result_profile_path, &
       amz_mpi_plan_create, amz_mpi_run, amz_mpi_for, amz_mpi_gather_items, amz_mpi_allreduce, &
       amz_last_error, amz_strerror, amz_task, &
       amz_task_free

contains

  !> Copies a C string into a Fortran string ("" for NULL).
  function from_c(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function from_c

  !> The detail of the calling thread's most recent failure.
  function amz_last_error() result(s)
    character(len=:), allocatable :: s
    s = from_c(c_last_error())
  end function amz_last_error

  !> The message of an error code.
  function amz_strerror(code) result(s)
    integer(c_int), intent(in) :: code
    character(len=:), allocatable :: s
    s = from_c(c_strerror(code))
  end function amz_strerror

  !> The profile file a run wrote, or "" when none.
  function amz_result_profile_path(result) result(s)
    type(c_ptr), intent(in) :: result
    character(len=:), allocatable :: s
    s = from_c(c_result_profile_path(result))
  end function amz_result_profile_path

  !> Logs completed chunks to a checkpoint file ("" = none): a killed job started
  !> again with the same task name and N runs only what was not completed.
  integer(c_int) function amz_options_set_checkpoint(opts, path) result(rc)
    type(c_ptr), intent(in) :: opts
    character(len=*), intent(in) :: path
    rc = c_options_set_checkpoint(opts, trim(path)//c_null_char)
  end function amz_options_set_checkpoint

  !> Writes a profile of each run to path ("" = none); %r, %j as in C.
  integer(c_int) function amz_options_set_profile(opts, path) result(rc)
    type(c_ptr), intent(in) :: opts
    character(len=*), intent(in) :: path
    rc = c_options_set_profile(opts, trim(path)//c_null_char)
  end function amz_options_set_profile

  !> A task of n items for kernel with arg passed through (c_null_ptr for none). The
  !> name is copied to C memory the task owns: free it with amz_task_free once the
  !> plan is made (the library keeps its own copy).
  function amz_task(name, n_items, kernel, arg) result(t)
    character(len=*), intent(in) :: name
    integer(c_int64_t), intent(in) :: n_items
    procedure(amz_kernel) :: kernel
    type(c_ptr), intent(in) :: arg
    type(amz_task_t) :: t
    t%name = c_strdup(trim(name)//c_null_char)
    t%n_items = n_items
    t%fn = c_funloc(kernel)
    t%arg = arg
  end function amz_task

  !> Frees the name amz_task copied.
  subroutine amz_task_free(t)
    type(amz_task_t), intent(inout) :: t
    call c_free(t%name)
    t%name = c_null_ptr
  end subroutine amz_task_free

end module amorsize
