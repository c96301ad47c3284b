# Sourced by demo.sh and test.sh: makes sure the Debian packages the project needs
# are installed. As root it installs what is missing with apt-get; otherwise it
# prints the exact command and exits non-zero.
AMZ_PACKAGES=(cmake gcc make pkg-config libhwloc-dev libcunit1-dev libopenmpi-dev openmpi-bin iproute2 util-linux libhdf5-openmpi-dev hdf5-tools zlib1g-dev gfortran)

amz_ensure_packages() {
  local missing=() p
  for p in "${AMZ_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
