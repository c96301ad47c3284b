#!/usr/bin/env bash
# Runs examples/slurm/mandelbrot.sbatch as Slurm would, without Slurm: the job's
# SLURM_* variables are set and `srun` is a stand-in that launches the ranks with
# mpiexec. Checks that the job writes its profile under the job id and that the
# report (in the job's output) shows the Slurm provenance.
#   sbatch_test.sh BUILD_DIR MPIEXEC SBATCH_SCRIPT
set -euo pipefail
build=$(realpath "$1") mpiexec=$2 script=$(realpath "$3")
work=$(mktemp -d /tmp/amz-sbatch-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
cat >"$work/bin/srun" <<SRUN
#!/usr/bin/env bash
# srun stand-in: drop srun's own options, start SLURM_NTASKS ranks with mpiexec.
while [ \$# -gt 0 ] && [ "\${1#--}" != "\$1" ]; do shift; done
exec "$mpiexec" --oversubscribe --bind-to none -n "\$SLURM_NTASKS" "\$@"
SRUN
chmod +x "$work/bin/srun"
cd "$work"
PATH="$work/bin:$PATH" BUILD="$build" SIZE=300 SLURM_JOB_ID=31337 SLURM_JOB_NAME=amz-mandelbrot \
  SLURM_NTASKS=2 SLURM_JOB_NUM_NODES=1 SLURM_CPUS_PER_TASK=1 SLURM_CPU_BIND=cores \
  bash "$script" >job.out 2>&1 || { cat job.out; echo "FAIL: the job failed"; exit 1; }
cat job.out
[ -f mandelbrot-31337.h5 ] || { echo "FAIL: no profile mandelbrot-31337.h5"; exit 1; }
grep -q "Slurm job 31337" job.out || { echo "FAIL: the report lacks the job id"; exit 1; }
grep -q "SLURM_CPUS_PER_TASK=1" job.out || { echo "FAIL: the report lacks the Slurm variables"; exit 1; }
echo "sbatch_test: job 31337 wrote mandelbrot-31337.h5 and its report: OK"
