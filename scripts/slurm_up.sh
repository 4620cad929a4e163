#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine (Debian, as root), for the submitit
# launcher test and for trying `hydra/launcher=submitit_slurm` by hand:
#   munged (as user munge) -> slurmctld -> slurmd, one node named `hostname -s`, partition `debug`.
# Installs slurm-wlm and munge with apt-get when they are missing. Idempotent: a cluster that is
# already up with the same slurm.conf is left alone. Stop it with scripts/slurm_down.sh.
# Exits non-zero, saying why, when the node is not idle within SLURM_UP_TIMEOUT seconds (60).
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MUNGE_KEY=/etc/munge/munge.key
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm/slurmctld
SPOOL_DIR=/var/spool/slurmd
RUN_DIR=/run/slurm
TIMEOUT=${SLURM_UP_TIMEOUT:-60}
HOST=$(hostname -s)
SLURMD_SINCE=0  # when this run started slurmd (0: it was already running)

die() { echo "slurm_up: error: $*" >&2; exit 1; }
say() { echo "slurm_up: $*"; }

# Is the process in pid file $1 alive and named $2? (A stale pid file may name another process.)
running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] \
    && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null  # not a zombie
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null
  then return; fi
  [ "$(id -u)" = 0 ] || die "slurm-wlm/munge are missing and installing them needs root"
  say "installing slurm-wlm munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi  # up: keep its key
  # The Debian package may have made a shorter key; nothing uses it while munged is down.
  if [ "$(stat -c %s "$MUNGE_KEY" 2>/dev/null)" != 1024 ]; then
    say "creating $MUNGE_KEY"
    install -d -o munge -g munge -m 700 /etc/munge
    dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
  fi
  chown munge:munge "$MUNGE_KEY"
  chmod 400 "$MUNGE_KEY"
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "munged does not answer (see /var/log/munge/munged.log)"
}

# Memory the node offers jobs: 80 % of what the machine has, so slurmd never finds less.
real_memory_mb() {
  awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo
}

slurm_conf() {
  cat <<EOF
# Written by scripts/slurm_up.sh: a single-node cluster for tests; rerun the script to refresh.
ClusterName=trainmap
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$HOST CPUs=$(nproc) RealMemory=$(real_memory_mb) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

# Write slurm.conf; a changed file means daemons started from the old one must restart.
write_conf() {
  local new
  new=$(slurm_conf)
  if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new" ]; then return; fi
  say "writing $CONF"
  install -d /etc/slurm
  printf '%s\n' "$new" >"$CONF"
  if running "$RUN_DIR/slurmctld.pid" slurmctld || running "$RUN_DIR/slurmd.pid" slurmd; then
    say "slurm.conf changed: restarting the SLURM daemons"
    bash "$(dirname "$0")/slurm_down.sh" --keep-munge
  fi
}

start_slurm() {
  install -d "$LOG_DIR" "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR"
  if ! running "$RUN_DIR/slurmctld.pid" slurmctld; then
    say "starting slurmctld"
    slurmctld
  fi
  if ! running "$RUN_DIR/slurmd.pid" slurmd; then
    say "starting slurmd"
    SLURMD_SINCE=$(date +%s)
    slurmd
  fi
}

# Has slurmd registered since we started it? A restarted slurmctld reports the node state it
# saved (often idle) before the new slurmd has said a word.
registered() {
  local started
  started=$(scontrol show node -o "$HOST" 2>/dev/null | grep -o 'SlurmdStartTime=[^ ]*' || true)
  started=$(date -d "${started#*=}" +%s 2>/dev/null || echo 0)
  [ "$started" -ge "$SLURMD_SINCE" ]
}

wait_until_idle() {
  local state="" deadline=$((SECONDS + TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(sinfo -h -N -n "$HOST" -o '%t' 2>/dev/null || true)
    case "$state" in
      idle | mix | alloc)
        if registered; then
          say "node $HOST is $state (partition debug, $(nproc) CPUs)"
          return
        fi
        ;;
    esac
    sleep 0.5
  done
  echo "slurm_up: last lines of $LOG_DIR/slurmctld.log and slurmd.log:" >&2
  tail -n 5 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
  die "node $HOST not idle after ${TIMEOUT}s (sinfo state: '${state:-no answer}')"
}

install_packages
start_munge
write_conf
start_slurm
wait_until_idle
