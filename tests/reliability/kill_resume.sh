#!/bin/bash
# Kill -9 in the middle of a run, again and again, then let it finish; check that
# every item ran at least once and that only chunks in flight ran twice.
#
#   kill_resume.sh WORKER [--mpi NP] [KILLS]
#
# With --mpi the ranks start with $MPIEXEC (default: mpiexec on the PATH).
# WORKER is the ckpt_worker binary. Each attempt runs under a fresh event directory;
# attempts 1..KILLS are killed with SIGKILL (every rank, as a batch system does at the
# time limit) after a delay that varies from attempt to attempt, so that kills land
# in sampling, in the run and near its end. The last attempt runs to the end.
#
# No wait is unbounded: a launcher that outlives its killed ranks by LAUNCHER_GRACE
# seconds is killed as well (a batch system kills the whole job; Open MPI's abort
# path very rarely hangs after SIGKILLed ranks), and a final attempt that runs past
# FINAL_LIMIT seconds fails the test with the process tree and stacks printed.
set -u
worker=$1
shift
np=0
if [ "${1:-}" = "--mpi" ]; then
  np=$2
  shift 2
fi
kills=${1:-5}
n=400000
item_us=20
root=$(mktemp -d /tmp/amz-kill.XXXXXX)
trap 'rm -rf "$root"' EXIT
ckpt=$root/run.ckpt
py=/usr/bin/python3
[ -x "$py" ] || py=python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AMZ_CACHE_DIR=$root/cache

LAUNCHER_GRACE=${LAUNCHER_GRACE:-30}
FINAL_LIMIT=${FINAL_LIMIT:-180}

# wait_for PID SECONDS: 0 once PID has exited (its status in $status), 1 if it is
# still running after SECONDS.
status=0
wait_for() {
  local t
  for ((t = 0; t < $2 * 10; t++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1" 2>/dev/null
      status=$?
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# What is left of a run, for the log: the process tree, the launcher's and every
# worker's stacks.
dump_state() {
  echo "---- processes"
  ps -eo pid,ppid,stat,etime,wchan:20,args --forest | grep -E "mpiexec|orted|prterun|hydra|$(basename "$worker")" | grep -v grep
  local p
  for p in "$launcher" $(pgrep -x "$(basename "$worker")"); do
    echo "---- stacks of $p"
    if command -v gdb >/dev/null; then
      timeout 30 gdb -p "$p" -batch -ex "thread apply all bt 12" 2>/dev/null | grep -E '^(Thread|#)'
    else
      cat "/proc/$p/task/"*/stat 2>/dev/null
    fi
  done
}

# A launcher past its time: log what is left, then kill it and its ranks.
kill_launcher() {
  dump_state
  pkill -9 -P "$launcher" 2>/dev/null
  kill -9 "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
}

launch() { # $1 = event dir
  if [ "$np" -gt 0 ]; then
    "${MPIEXEC:-mpiexec}" --oversubscribe --bind-to none -n "$np" "$worker" --mpi $n $item_us "$1" "$ckpt" &
  else
    "$worker" $n $item_us "$1" "$ckpt" &
  fi
  launcher=$!
}

delays=(0.15 0.5 0.9 0.3 1.2 0.7 0.05 1.0)
dirs=()
injected=0
for ((k = 1; k <= kills; k++)); do
  d=$root/a$k
  mkdir -p "$d"
  dirs+=("$d")
  launch "$d"
  # Wait until every process has started (its pid file), then let it run a while.
  want=$((np > 0 ? np : 1))
  for ((t = 0; t < 300; t++)); do
    [ "$(ls "$d" | grep -c '^pid\.')" -ge "$want" ] && break
    sleep 0.05
  done
  sleep "${delays[$(((k - 1) % ${#delays[@]}))]}"
  pids=$(cat "$d"/pid.* 2>/dev/null)
  if kill -9 $pids 2>/dev/null; then
    injected=$((injected + 1))
    echo "attempt $k: killed $(echo $pids | wc -w) process(es) with SIGKILL"
  else
    echo "attempt $k: finished before the kill"
  fi
  if ! wait_for "$launcher" "$LAUNCHER_GRACE"; then
    echo "attempt $k: the launcher (pid $launcher) was still running ${LAUNCHER_GRACE} s after the kill; killing it too"
    kill_launcher
  fi
done
d=$root/final
mkdir -p "$d"
dirs+=("$d")
launch "$d"
if ! wait_for "$launcher" "$FINAL_LIMIT"; then
  echo "kill_resume: the final attempt was still running after ${FINAL_LIMIT} s"
  kill_launcher
  exit 1
fi
rc=$status
if [ $rc -ne 0 ]; then
  echo "kill_resume: the final attempt failed with status $rc"
  exit 1
fi
echo "kill_resume: $injected SIGKILL(s) injected"
"$py" "$(dirname "$0")/check_kill.py" $n "${dirs[@]}"
