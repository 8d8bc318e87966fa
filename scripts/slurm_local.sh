#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing `leadbench sweep --slurm` against a real
# controller: munged, slurmctld and slurmd with a minimal configuration (one node with this machine's
# CPUs and memory, one partition, no accounting, no cgroups), all state under one folder.
#   bash scripts/slurm_local.sh start [DIR]   # installs slurm-wlm and munge if missing; prints the
#                                             # SLURM_CONF line to export for sbatch/squeue/scancel
#   bash scripts/slurm_local.sh stop [DIR]
#   bash scripts/slurm_local.sh status [DIR]
# DIR defaults to ${TMPDIR:-/tmp}/leadbench-slurm. `start` exits 3 when the daemons cannot start here
# (no root, no munge), with the reason; the Slurm test then skips. Needs root (the daemons run as root).
set -euo pipefail
cmd=${1:-status}
DIR=${2:-${TMPDIR:-/tmp}/leadbench-slurm}
CONF=$DIR/slurm.conf

cannot() {
  echo "slurm_local: cannot start a local Slurm here: $*" >&2
  exit 3
}

stop_daemons() {
  for name in slurmd slurmctld munged; do
    local pidfile=$DIR/$name.pid
    if [ -f "$pidfile" ]; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

case "$cmd" in
  start)
    [ "$(id -u)" -eq 0 ] || cannot "the daemons need root (run as root, or skip)"
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
      echo "slurm_local: installing slurm-wlm and munge" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends slurm-wlm munge >/dev/null 2>&1; } || cannot "apt-get install slurm-wlm munge failed"
    fi
    stop_daemons
    mkdir -p "$DIR"/{state,spool,munge,log}
    chmod 700 "$DIR/munge"
    # munge: its own key, socket and state in DIR (the system's munged is not touched).
    [ -f "$DIR/munge/munge.key" ] || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$DIR/munge/munge.key"
    SOCKET=$DIR/munge/munge.socket
    munged --force --key-file="$DIR/munge/munge.key" --socket="$SOCKET" --pid-file="$DIR/munged.pid" \
      --seed-file="$DIR/munge/seed" --log-file="$DIR/log/munged.log" 2>"$DIR/log/munged.err" ||
      cannot "munged did not start: $(tail -2 "$DIR/log/munged.err" "$DIR/log/munged.log" 2>/dev/null | tr '\n' ' ')"
    NODE=$(hostname -s)
    CPUS=$(nproc)
    MEM=$(awk '/MemTotal/ {print int($2 / 1024) - 1024}' /proc/meminfo)
    cat > "$CONF" <<EOF
ClusterName=leadbench-local
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    export SLURM_CONF=$CONF
    slurmctld -f "$CONF" 2>"$DIR/log/slurmctld.err" || cannot "slurmctld did not start: $(tail -3 "$DIR/log/slurmctld.err" | tr '\n' ' ')"
    slurmd -f "$CONF" 2>"$DIR/log/slurmd.err" || cannot "slurmd did not start: $(tail -3 "$DIR/log/slurmd.err" | tr '\n' ' ')"
    # Wait until the node is up (idle or mixed).
    for _ in $(seq 60); do
      state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
      case "$state" in idle* | mixed* | allocated*) echo "export SLURM_CONF=$CONF"; exit 0 ;; esac
      sleep 0.5
    done
    cannot "the node did not come up (sinfo says '${state:-nothing}'; logs in $DIR/log)"
    ;;
  stop)
    stop_daemons
    echo "slurm_local: stopped ($DIR)"
    ;;
  status)
    if [ -f "$CONF" ]; then SLURM_CONF=$CONF sinfo 2>&1 || true; else echo "slurm_local: not started in $DIR"; fi
    ;;
  *)
    echo "usage: bash scripts/slurm_local.sh start|stop|status [DIR]" >&2
    exit 2
    ;;
esac
