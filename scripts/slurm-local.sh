#!/usr/bin/env bash
# rlhub — a real single-node Slurm (22.05, Debian's slurm-wlm) for tests and for trying
# `rlhub grid --executor slurm` on one machine. No systemd, nothing under /etc: every file (MUNGE
# key and socket, slurm.conf, state, spool, logs, pid files) lives in .slurm/ of the checkout.
#
#   scripts/slurm-local.sh up      # install if missing, start munged + slurmctld + slurmd, wait for idle
#   eval "$(scripts/slurm-local.sh up)"   # …and export SLURM_CONF in this shell
#   scripts/slurm-local.sh down    # stop exactly the daemons `up` started (by their PIDs)
#   scripts/slurm-local.sh status
#
# Settings follow docs/scaleout facts: proctrack/linuxproc and task/none (no cgroup.conf needed),
# no accounting database, batch_sched_delay=0. Ports: SLURM_LOCAL_PORT (slurmctld, default 6817)
# and SLURM_LOCAL_PORT+1 (slurmd).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${SLURM_LOCAL_DIR:-$ROOT/.slurm}"
PORT="${SLURM_LOCAL_PORT:-6817}"
CPUS="${SLURM_LOCAL_CPUS:-$(nproc)}"
CONF="$DIR/slurm.conf"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "slurm-local: $*" >&2; }

install() {
    local missing=""
    for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        log "installing$missing"
        $SUDO apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
}

write_config() {
    mkdir -p "$DIR"/{munge,state,spool,log,run}
    chmod 755 "$DIR/munge"
    [ -f "$DIR/munge/munge.key" ] || { mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 \
        || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none; }
    chmod 400 "$DIR/munge/munge.key"
    local mem; mem=$(awk '/MemTotal/ {print int($2/1024*0.8)}' /proc/meminfo)
    cat > "$CONF" <<CONF
# Written by scripts/slurm-local.sh — a single-node cluster living in $DIR.
ClusterName=rlhub-local
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
ReturnToService=2
MinJobAge=300
KillWait=5
NodeName=localhost CPUs=$CPUS RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

up() {
    install
    if alive "$DIR/run/slurmctld.started" && alive "$DIR/run/slurmd.started"; then
        log "already up"
    else
        write_config
        # Each daemon runs in the foreground as a background child of this script, so its PID is
        # known and `down` stops exactly it.
        alive "$DIR/run/munged.started" || {
            munged --foreground --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
                --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/seed" \
                </dev/null >>"$DIR/log/munged.out" 2>&1 &
            echo $! > "$DIR/run/munged.started"; }
        for _ in $(seq 50); do [ -S "$DIR/munge/munge.socket" ] && break; sleep 0.1; done
        SLURM_CONF="$CONF" slurmctld -D -i -f "$CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1 &
        echo $! > "$DIR/run/slurmctld.started"
        SLURM_CONF="$CONF" slurmd -D -N localhost -f "$CONF" </dev/null >>"$DIR/log/slurmd.out" 2>&1 &
        echo $! > "$DIR/run/slurmd.started"
    fi
    for _ in $(seq 200); do
        state=$(SLURM_CONF="$CONF" sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
        case "$state" in idle|mixed|allocated) break ;; esac
        sleep 0.1
    done
    case "$state" in
        idle|mixed|allocated) log "node localhost $state" ;;
        *) log "node not idle (state '${state:-?}'); see $DIR/log/"; exit 1 ;;
    esac
    echo "export SLURM_CONF=$CONF"
}

down() {
    for d in slurmd slurmctld munged; do
        f="$DIR/run/$d.started"
        if alive "$f"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
    done
    for d in slurmd slurmctld munged; do
        f="$DIR/run/$d.started"
        for _ in $(seq 100); do alive "$f" || break; sleep 0.1; done
        if alive "$f"; then kill -KILL "$(cat "$f")" 2>/dev/null || true; fi
        rm -f "$f"
    done
    log "down"
}

status() {
    for d in munged slurmctld slurmd; do
        if alive "$DIR/run/$d.started"; then echo "$d: pid $(cat "$DIR/run/$d.started")"; else echo "$d: stopped"; fi
    done
    [ -f "$CONF" ] && SLURM_CONF="$CONF" sinfo 2>/dev/null || true
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
