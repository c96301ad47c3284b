#!/usr/bin/env bash
# What the project needs to build and test, and how to get what is missing.
#
#   ./scripts/deps.sh            report: each component, found or missing, and where
#                                to get it (Debian package, Spack spec, cluster module)
#
# Sourced by demo.sh and test.sh, it defines amz_ensure_packages [EXTRA_DEBIAN...]:
# on Debian as root it installs the missing packages with apt-get; on Debian as
# another user it prints the report and the exact apt-get command and exits 1;
# elsewhere (a cluster with modules, Spack, another distribution) it checks the
# components themselves and exits 1 with the report only when one is missing.
AMZ_PACKAGES=(cmake gcc make pkg-config libhwloc-dev libcunit1-dev libopenmpi-dev openmpi-bin iproute2 util-linux libhdf5-openmpi-dev hdf5-tools zlib1g-dev gfortran)

# One line per component: NAME|REQUIRED-FOR|CHECK (shell, exit 0 = found)|DEBIAN|SPACK|MODULE
_amz_components() {
  cat <<'EOF'
CMake >= 3.25|build|_amz_cmake_ok|cmake|cmake|cmake
C11 compiler|build|command -v "${CC:-cc}" >/dev/null|gcc|gcc|gcc
pkg-config|build|command -v pkg-config >/dev/null|pkg-config|pkgconf|-
hwloc|build|pkg-config --exists hwloc|libhwloc-dev|hwloc|hwloc
zlib|build|pkg-config --exists zlib|zlib1g-dev|zlib|zlib
MPI (mpicc)|MPI layer|command -v "${MPI_C_COMPILER:-mpicc}" >/dev/null|libopenmpi-dev openmpi-bin (or libmpich-dev mpich)|openmpi (or mpich)|openmpi (or mpich, intel-mpi, cray-mpich)
parallel HDF5 of that MPI|profiles|_amz_hdf5_ok|libhdf5-openmpi-dev (or libhdf5-mpich-dev)|hdf5+mpi ^openmpi|hdf5 (the build for the loaded MPI; sets HDF5_ROOT)
CUnit|tests only|_amz_cunit_ok|libcunit1-dev|cunit|-
Fortran compiler|Fortran, optional|command -v "${FC:-gfortran}" >/dev/null|gfortran|gcc|gcc
EOF
}

_amz_cmake_ok() {
  local v
  v=$(cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [ -n "$v" ] && set -- $v && { [ "$1" -gt 3 ] || { [ "$1" = 3 ] && [ "$2" -ge 25 ]; }; }
}
_amz_hdf5_ok() {
  pkg-config --exists hdf5-openmpi || pkg-config --exists hdf5-mpich ||
    command -v h5pcc >/dev/null || [ -n "${HDF5_ROOT:-}" ]
}
_amz_cunit_ok() {
  pkg-config --exists cunit || [ -f /usr/include/CUnit/Basic.h ] ||
    [ -f /usr/local/include/CUnit/Basic.h ]
}

# Prints the report; returns the number of missing components needed to build.
amz_deps_report() {
  local name need check deb spack module missing=0
  printf '%-40s %-8s %s\n' "component (needed for)" "status" "how to get it"
  while IFS='|' read -r name need check deb spack module; do
    if eval "$check" 2>/dev/null; then
      printf '%-40s %s\n' "$name ($need)" "found"
    else
      printf '%-40s %-8s Debian: %s; Spack: %s; module: %s\n' "$name ($need)" "MISSING" \
        "$deb" "$spack" "$module"
      case "$need" in build | "MPI layer" | profiles) missing=$((missing + 1)) ;; esac
    fi
  done < <(_amz_components)
  return "$missing"
}

# Prints the Debian packages of AMZ_PACKAGES and of the arguments that are not
# installed, one per line.
_amz_missing_debian() {
  local p
  for p in "${AMZ_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

amz_ensure_packages() {
  if ! command -v dpkg-query >/dev/null; then
    # Not Debian: check the components themselves (modules, Spack, a prefix).
    amz_deps_report >/dev/null && return 0
    echo "error: components the build needs are missing:" >&2
    amz_deps_report >&2
    echo "load them (module load ...), install them (spack install ...), or set" \
         "PKG_CONFIG_PATH / HDF5_ROOT / MPI_C_COMPILER to where they are; docs/INSTALL.md" >&2
    exit 1
  fi
  local missing
  mapfile -t missing < <(_amz_missing_debian "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "without root: build the components under a prefix of your own (docs/INSTALL.md);" \
         "what the build itself needs:" >&2
    amz_deps_report >&2 || true
    exit 1
  fi
  echo "== installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Run directly: the report, and on Debian the packages still missing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  amz_deps_report
  rc=$?
  if command -v dpkg-query >/dev/null; then
    mapfile -t missing < <(_amz_missing_debian)
    if [ ${#missing[@]} -gt 0 ]; then
      echo
      echo "Debian packages missing: ${missing[*]}"
      echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
  fi
  [ "$rc" = 0 ] && echo && echo "everything the build needs is there"
  exit "$rc"
fi
