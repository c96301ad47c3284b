#!/usr/bin/env bash
# Emulated multi-node MPI test (DESIGN.md section 5): two network namespaces joined
# by a veth pair act as two nodes with their own network stacks; Open MPI launches
# into the second one through a launch agent, so ranks on different "nodes" form
# separate shared-memory groups and talk over TCP.
#
#   multinode.sh MPIEXEC TEST_MPI MANDELBROT_MPI
#   multinode.sh --exec MPIEXEC PROGRAM [ARGS...]
#
# Runs 2 nodes x 2 ranks: the MPI suite with --expect-nodes 2 (two node groups,
# batches refilled across nodes, every node ran chunks, results exactly once), the
# same with MPI_THREAD_FUNNELED (batches dealt in advance), and the Mandelbrot
# example (image identical to a serial computation).
# With --exec it runs one MPI program on the same 2 nodes x 2 ranks instead and
# exits with its status (scripts/emulated_run.sh: benchmarks on emulated nodes).
# Needs root (namespaces); exits 77 = skipped, with the reason, otherwise.
# Creates and removes its own namespaces; touches no address outside them.
set -u
exec_mode=0
if [ "${1:-}" = --exec ]; then
  [ $# -ge 3 ] || { echo "usage: $0 --exec MPIEXEC PROGRAM [ARGS...]" >&2; exit 2; }
  exec_mode=1 mpiexec=$2
  shift 2
else
  mpiexec=$1 test_mpi=$2 mandel=$3
fi

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "emulated nodes need root (network namespaces); run as root"
command -v ip >/dev/null || skip "'ip' (iproute2) is not installed"
command -v unshare >/dev/null || skip "'unshare' (util-linux) is not installed"
# The nodes are reached through Open MPI's rsh agent and TCP settings (--mca).
"$mpiexec" --version 2>&1 | grep -q "Open MPI\|OpenRTE" ||
  skip "the emulated nodes are started with Open MPI's launcher options; $mpiexec is not Open MPI's"

tag=amz$$
nsA=${tag}a nsB=${tag}b
nodeA=${tag}-node0 nodeB=${tag}-node1
ipA=10.213.$(( $$ % 200 )).1 ipB=10.213.$(( $$ % 200 )).2
work=$(mktemp -d)

cleanup() {
  ip netns del "$nsA" 2>/dev/null
  ip netns del "$nsB" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$nsA" 2>"$work/err" || skip "cannot create a network namespace: $(cat "$work/err")"
ip netns add "$nsB" || skip "cannot create a second network namespace"
ip link add "${tag}v0" type veth peer name "${tag}v1" 2>"$work/err" ||
  skip "cannot create a veth pair: $(cat "$work/err")"
ip link set "${tag}v0" netns "$nsA"
ip link set "${tag}v1" netns "$nsB"
ip -n "$nsA" addr add "$ipA/24" dev "${tag}v0"
ip -n "$nsB" addr add "$ipB/24" dev "${tag}v1"
for ns in "$nsA" "$nsB"; do ip -n "$ns" link set lo up; done
ip -n "$nsA" link set "${tag}v0" up
ip -n "$nsB" link set "${tag}v1" up
# Reachability without ping: a connection to a closed port is refused at once
# when the peer answers, and times out when it does not.
ip netns exec "$nsA" timeout 3 bash -c "exec 3<>/dev/tcp/$ipB/9" 2>"$work/err"
grep -q refused "$work/err" || skip "the two namespaces cannot reach each other: $(cat "$work/err")"

# Open MPI resolves node names: give each namespace a hosts file through a
# private mount namespace, never the machine's /etc/hosts.
printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "$ipA" "$nodeA" "$ipB" "$nodeB" >"$work/hosts"
printf '%s slots=2\n%s slots=2\n' "$nodeA" "$nodeB" >"$work/hostfile"
cat >"$work/agent" <<EOF
#!/bin/sh
# Launch agent: runs Open MPI's daemon command in the named node's namespace.
host=\$1; shift
case "\$host" in
  $nodeA) ns=$nsA ;;
  $nodeB) ns=$nsB ;;
  *) echo "agent: unknown node \$host" >&2; exit 1 ;;
esac
# The command is a shell command line, as ssh would run it: eval it there.
exec ip netns exec "\$ns" unshare --uts --mount sh -c 'mount --bind "\$0" /etc/hosts && hostname "\$1" && shift && eval "\$*"' "$work/hosts" "\$host" "\$@"
EOF
chmod +x "$work/agent"

run_in_A() {
  ip netns exec "$nsA" unshare --uts --mount sh -c \
    "mount --bind '$work/hosts' /etc/hosts && hostname '$nodeA' && exec \"\$@\"" sh "$@"
}

mpiargs=(--hostfile "$work/hostfile" --map-by node --bind-to none -n 4
  --mca plm_rsh_agent "$work/agent"
  --mca btl self,vader,tcp --mca btl_tcp_if_include "$ipA/24"
  --mca oob_tcp_if_include "$ipA/24")

if [ $exec_mode = 1 ]; then
  run_in_A "$mpiexec" "${mpiargs[@]}" "$@"
  exit $?
fi

status=0
echo "== MPI suite on 2 emulated nodes x 2 ranks"
run_in_A "$mpiexec" "${mpiargs[@]}" "$test_mpi" --expect-nodes 2 >"$work/suite.log" 2>&1 || status=1
cat "$work/suite.log"
grep -q "0 failed assertion(s) over all ranks" "$work/suite.log" || status=1

echo "== MPI suite on 2 emulated nodes x 2 ranks, MPI_THREAD_FUNNELED (batches dealt in advance)"
run_in_A "$mpiexec" "${mpiargs[@]}" "$test_mpi" --expect-nodes 2 --funneled >"$work/funneled.log" 2>&1 || status=1
grep -E "node [0-9]:|mpi suite|FAILED" "$work/funneled.log"
grep -q "0 failed assertion(s) over all ranks" "$work/funneled.log" || status=1

echo "== Mandelbrot example on 2 emulated nodes x 2 ranks"
run_in_A "$mpiexec" "${mpiargs[@]}" "$mandel" 400 400 "$work/m.pgm" >"$work/mandel.log" 2>&1 || status=1
grep -E "launched|node [0-9]|between nodes|distribution|serial check|rows done|rank [0-9]:" "$work/mandel.log"
ok=1
grep -q "serial check: image identical" "$work/mandel.log" || ok=0
grep -q "on 2 nodes" "$work/mandel.log" || { echo "expected 2 nodes in the plan"; ok=0; }
# The probe must measure the link, not the scheduler: with 4 ranks on 2 cores, ranks
# spinning outside the ping-pong made it report a tick (4 ms) instead of microseconds.
lat=$(grep -Eo "between nodes +latency [0-9.]+ [a-z]+" "$work/mandel.log" | awk '{print $4, $5}')
case "$lat" in
  *" us" | *" ns") echo "network probe between emulated nodes: $lat" ;;
  *) echo "the network probe measured '$lat' between nodes; expected microseconds"; ok=0 ;;
esac
[ $ok = 1 ] || { status=1; echo "-- mandelbrot_mpi output:"; tail -40 "$work/mandel.log"; }

[ $status = 0 ] && echo "multinode: OK" || echo "multinode: FAILED"
exit $status
