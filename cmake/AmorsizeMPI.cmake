# The MPI family in use, the launcher that belongs to it, and the parallel HDF5
# built for it. Included by the top-level CMakeLists.txt after find_package(MPI).
#
# Sets:
#   AMZ_MPI_FAMILY    openmpi, mpich (MPICH and its derivatives: Intel MPI,
#                     MVAPICH, Cray MPICH) or other;
#   AMZ_MPIEXEC       the launcher of that MPI (MPIEXEC_EXECUTABLE when it is one,
#                     else the same-suffix launcher beside the compiler wrapper);
#   AMZ_HDF5_TARGET   the imported target of the parallel HDF5 (AMORSIZE_PROFILE only);
#   AMZ_HDF5_LIBS     its libraries, for the pkg-config file.
#
# HDF5 is found, in order: AMORSIZE_HDF5_PKG (a pkg-config module), the pkg-config
# module Debian names after the family (hdf5-openmpi, hdf5-mpich), then CMake's
# FindHDF5 preferring a parallel build (HDF5_ROOT, h5pcc on the PATH: a module on
# a cluster). A build whose HDF5 needs another MPI library than the one found
# would load two MPI libraries into one process and abort at run time: configure
# stops with the two names instead.

set(AMORSIZE_HDF5_PKG "" CACHE STRING
  "pkg-config module of the parallel HDF5 built for the MPI in use (default: hdf5-openmpi or hdf5-mpich after the MPI family, else CMake's FindHDF5 with HDF5_ROOT)")

# --- The family, from the library's version string (or the library's name).
set(_amz_ver "${MPI_C_LIBRARY_VERSION_STRING}")
if(_amz_ver MATCHES "Open MPI")
  set(AMZ_MPI_FAMILY openmpi)
elseif(_amz_ver MATCHES "MPICH|MVAPICH|Intel\\(R\\) MPI")
  set(AMZ_MPI_FAMILY mpich)
elseif(MPI_C_LIBRARIES MATCHES "libmpich")
  set(AMZ_MPI_FAMILY mpich)
elseif(MPI_C_LIBRARIES MATCHES "openmpi")
  set(AMZ_MPI_FAMILY openmpi)
else()
  set(AMZ_MPI_FAMILY other)
endif()
string(REGEX REPLACE "[\n\r].*" "" _amz_ver_line "${_amz_ver}")
message(STATUS "MPI: ${AMZ_MPI_FAMILY} family (${_amz_ver_line}), compiler ${MPI_C_COMPILER}")

# Debian installs each MPI's wrappers and launchers with a suffix (mpicc.mpich,
# mpiexec.mpich, mpifort.mpich); the suffix of the C compiler names the others.
get_filename_component(_amz_cc_name "${MPI_C_COMPILER}" NAME)
get_filename_component(AMZ_MPI_BINDIR "${MPI_C_COMPILER}" DIRECTORY)
set(AMZ_MPI_SUFFIX "")
if(_amz_cc_name MATCHES "^mpi[a-z]*(\\.[A-Za-z0-9_]+)$")
  set(AMZ_MPI_SUFFIX "${CMAKE_MATCH_1}")
endif()

# --- The launcher. `mpiexec --version` names its family.
function(_amz_launcher_family exe out)
  execute_process(COMMAND ${exe} --version OUTPUT_VARIABLE o ERROR_VARIABLE e
    RESULT_VARIABLE rc TIMEOUT 30)
  if("${o}${e}" MATCHES "Open MPI|OpenRTE")
    set(${out} openmpi PARENT_SCOPE)
  elseif("${o}${e}" MATCHES "HYDRA|MPICH|Intel\\(R\\) MPI")
    set(${out} mpich PARENT_SCOPE)
  else()
    set(${out} other PARENT_SCOPE)
  endif()
endfunction()

set(AMZ_MPIEXEC "${MPIEXEC_EXECUTABLE}")
if(AMZ_MPIEXEC AND NOT AMZ_MPI_FAMILY STREQUAL "other")
  _amz_launcher_family("${AMZ_MPIEXEC}" _amz_fam)
  if(_amz_fam STREQUAL "other")
    # srun, a vendor's wrapper: it may well start this MPI's programs.
    message(STATUS "MPI: launcher ${AMZ_MPIEXEC} (family not recognised: used as it is)")
  elseif(NOT _amz_fam STREQUAL AMZ_MPI_FAMILY)
    # Debian's alternatives: mpicc.mpich goes with mpiexec.mpich.
    unset(_amz_other)
    if(AMZ_MPI_SUFFIX)
      find_program(_amz_other NAMES mpiexec${AMZ_MPI_SUFFIX} mpirun${AMZ_MPI_SUFFIX}
        HINTS ${AMZ_MPI_BINDIR} NO_CACHE)
    endif()
    if(_amz_other)
      _amz_launcher_family("${_amz_other}" _amz_fam2)
    endif()
    if(_amz_other AND _amz_fam2 STREQUAL AMZ_MPI_FAMILY)
      message(STATUS "MPI: launcher ${_amz_other} (${MPIEXEC_EXECUTABLE} is ${_amz_fam})")
      set(AMZ_MPIEXEC "${_amz_other}")
    else()
      message(FATAL_ERROR
        "The MPI launcher '${MPIEXEC_EXECUTABLE}' belongs to ${_amz_fam}, but the MPI "
        "library (${MPI_C_LIBRARIES}) is ${AMZ_MPI_FAMILY}: the tests would start "
        "programs with the wrong launcher. Pass -DMPIEXEC_EXECUTABLE=<the mpiexec of "
        "the MPI that ${MPI_C_COMPILER} belongs to>.")
    endif()
  endif()
endif()

# --- The parallel HDF5 of that family (AMORSIZE_PROFILE=OFF: none).
if(AMORSIZE_PROFILE)
  set(_amz_h5_pkg "${AMORSIZE_HDF5_PKG}")
  if(NOT _amz_h5_pkg AND AMZ_MPI_FAMILY MATCHES "openmpi|mpich")
    pkg_check_modules(_AMZ_H5_PROBE QUIET hdf5-${AMZ_MPI_FAMILY})
    if(_AMZ_H5_PROBE_FOUND)
      set(_amz_h5_pkg hdf5-${AMZ_MPI_FAMILY})
    endif()
  endif()
  if(_amz_h5_pkg)
    amz_hdf5_from_pkg(${_amz_h5_pkg})
    set(_amz_h5_files ${HDF5_LINK_LIBRARIES})
    set(_amz_h5_from "pkg-config ${_amz_h5_pkg}")
  else()
    set(HDF5_PREFER_PARALLEL TRUE)
    find_package(HDF5 COMPONENTS C)
    if(NOT HDF5_FOUND OR NOT HDF5_IS_PARALLEL)
      message(FATAL_ERROR
        "No parallel HDF5 found for ${AMZ_MPI_FAMILY} (${MPI_C_COMPILER}). Install the "
        "HDF5 built for this MPI (Debian: libhdf5-openmpi-dev or libhdf5-mpich-dev; a "
        "cluster: `module load hdf5` of the same MPI, or Spack `hdf5+mpi ^<your mpi>`), "
        "then set HDF5_ROOT to its prefix or AMORSIZE_HDF5_PKG to its pkg-config module.")
    endif()
    set(AMZ_HDF5_TARGET hdf5::hdf5)
    set(_amz_h5_files ${HDF5_C_LIBRARIES})
    string(JOIN " " AMZ_HDF5_LIBS ${HDF5_C_LIBRARIES})
    set(_amz_h5_from "FindHDF5 (${HDF5_C_LIBRARIES})")
  endif()
endif()

# --- One MPI library per process: the MPI libraries that HDF5 needs must be the
# ones the MPI compiler links (compared by their ELF sonames).
find_program(AMZ_READELF NAMES readelf)
function(_amz_elf_names file kind out)
  set(names "")
  if(AMZ_READELF AND EXISTS "${file}")
    get_filename_component(real "${file}" REALPATH)
    execute_process(COMMAND ${AMZ_READELF} -d "${real}" OUTPUT_VARIABLE txt
      ERROR_QUIET RESULT_VARIABLE rc)
    string(REGEX MATCHALL "\\(${kind}\\)[^\n]*\\[[^]\n]*\\]" lines "${txt}")
    foreach(l IN LISTS lines)
      string(REGEX REPLACE ".*\\[([^]]*)\\]$" "\\1" n "${l}")
      list(APPEND names "${n}")
    endforeach()
  endif()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

set(AMZ_MPI_SONAMES "")
foreach(_f IN LISTS MPI_C_LIBRARIES)
  _amz_elf_names("${_f}" SONAME _n)
  list(APPEND AMZ_MPI_SONAMES ${_n})
endforeach()

# amz_check_one_mpi(WHAT FIX FILES...): stops configure when one of FILES needs an MPI
# library (by soname) that is not the C compiler's, saying WHAT needs it and FIX.
function(amz_check_one_mpi what fix)
  if(NOT AMZ_MPI_SONAMES)
    return()
  endif()
  foreach(f IN LISTS ARGN)
    _amz_elf_names("${f}" NEEDED needed)
    _amz_elf_names("${f}" SONAME own)
    foreach(n IN LISTS needed own)
      if(n MATCHES "^libmpi(ch|_cray|_intel|_gnu[_0-9]*)?\\.so" AND NOT n IN_LIST AMZ_MPI_SONAMES)
        message(FATAL_ERROR
          "${what} (${f}) needs ${n}, but the MPI in use (${MPI_C_COMPILER}, "
          "${AMZ_MPI_FAMILY} family) is ${AMZ_MPI_SONAMES}: one process would load two "
          "MPI libraries and abort at run time. ${fix}")
      endif()
    endforeach()
  endforeach()
endfunction()

if(NOT AMZ_READELF)
  message(STATUS "MPI: no readelf, the HDF5/MPI match is not checked")
elseif(AMORSIZE_PROFILE)
  amz_check_one_mpi("HDF5 from ${_amz_h5_from}"
    "Use the HDF5 built for this MPI (Debian: libhdf5-${AMZ_MPI_FAMILY}-dev; else set AMORSIZE_HDF5_PKG to its pkg-config module or HDF5_ROOT to its prefix), or the MPI that this HDF5 was built with (MPI_C_COMPILER)."
    ${_amz_h5_files})
endif()
if(AMORSIZE_PROFILE)
  message(STATUS "MPI: HDF5 from ${_amz_h5_from}")
endif()
