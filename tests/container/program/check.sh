#!/bin/sh
# Prints what the program sees, one key=value per line (read by tests/container_test.ts).
home_writable=no
if touch "$HOME/.chameleon-probe" 2>/dev/null; then
  home_writable=yes
  rm -f "$HOME/.chameleon-probe"
fi
cat <<END
context=${CHAMELEON_CONTEXT:-unset}
uid=$(id -u)
gid=$(id -g)
groups=$(id -G)
whoami=$(whoami 2>/dev/null || echo none)
home=$HOME
home_writable=$home_writable
omp=${OMP_NUM_THREADS:-unset}
ml_num_cpus=${ML_NUM_CPUS:-unset}
ml_model_dir=${ML_MODEL_DIR:-unset}
sm_current_host=${SM_CURRENT_HOST:-unset}
sigpipe_ignored=$(grep '^SigIgn' /proc/self/status | cut -f2)
END
