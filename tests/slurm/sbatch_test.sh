#!/usr/bin/env bash
# Runs examples/slurm/mandelbrot.sbatch as Slurm would, without Slurm: the job's
# SLURM_* variables are set and `srun` is a stand-in that launches the ranks with
# mpiexec. Like Slurm 22.05 and later, the stand-in gives each rank one CPU unless
# srun is told otherwise (-c N, --cpus-per-task=N or SRUN_CPUS_PER_TASK): a script
# that relies on srun inheriting the batch's --cpus-per-task fails here, as its
# ranks would be starved on a real cluster. Checks that the job writes its profile
# under the job id and that the report (in the job's output) shows the Slurm
# provenance.
#   sbatch_test.sh BUILD_DIR MPIEXEC SBATCH_SCRIPT
set -euo pipefail
build=$(realpath "$1") mpiexec=$2 script=$(realpath "$3")
work=$(mktemp -d /tmp/amz-sbatch-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
cat >"$work/bin/srun" <<SRUN
#!/usr/bin/env bash
# srun stand-in: read -c / --cpus-per-task (as Slurm >= 22.05, not inherited from
# the batch script), drop srun's other options, start SLURM_NTASKS ranks.
cpus=\${SRUN_CPUS_PER_TASK:-1}
while [ \$# -gt 0 ] && [ "\${1#-}" != "\$1" ]; do
  case "\$1" in
    -c) cpus=\$2; shift ;;
    -c*) cpus=\${1#-c} ;;
    --cpus-per-task=*) cpus=\${1#--cpus-per-task=} ;;
    --cpus-per-task) cpus=\$2; shift ;;
  esac
  shift
done
if [ "\$cpus" != "\${SLURM_CPUS_PER_TASK:-1}" ]; then
  echo "srun stand-in: each rank would get \$cpus CPU(s), the job asked for \$SLURM_CPUS_PER_TASK per task (srun does not inherit --cpus-per-task since Slurm 22.05: pass -c)" >&2
  exit 1
fi
exec "$mpiexec" --oversubscribe --bind-to none -n "\$SLURM_NTASKS" "\$@"
SRUN
chmod +x "$work/bin/srun"
cd "$work"
PATH="$work/bin:$PATH" BUILD="$build" SIZE=300 SLURM_JOB_ID=31337 SLURM_JOB_NAME=amz-mandelbrot \
  SLURM_NTASKS=2 SLURM_JOB_NUM_NODES=1 SLURM_CPUS_PER_TASK=2 SLURM_CPU_BIND=cores \
  bash "$script" >job.out 2>&1 || { cat job.out; echo "FAIL: the job failed"; exit 1; }
cat job.out
[ -f mandelbrot-31337.h5 ] || { echo "FAIL: no profile mandelbrot-31337.h5"; exit 1; }
grep -q "Slurm job 31337" job.out || { echo "FAIL: the report lacks the job id"; exit 1; }
grep -q "SLURM_CPUS_PER_TASK=2" job.out || { echo "FAIL: the report lacks the Slurm variables"; exit 1; }
echo "sbatch_test: job 31337 wrote mandelbrot-31337.h5 and its report: OK"
