#!/usr/bin/env bash
# Start and stop a throw-away, single-node Slurm cluster for tests.
#
#   eval "$(tests/slurm/cluster.sh start STATE_DIR)"   # exports SLURM_CONF
#   ... sbatch / squeue / scontrol as usual ...
#   tests/slurm/cluster.sh stop STATE_DIR
#
# Everything the cluster writes (munge key and socket, slurm.conf, spool and
# state directories, logs, pid files) lives in STATE_DIR, so nothing global is
# touched apart from installing Debian's slurm-wlm and munge packages when they
# are missing. Must run as root (the daemons run as root, SlurmUser=root).
#
# Environment knobs (all optional):
#   SLURM_TEST_MAX_ARRAY_SIZE  MaxArraySize (default 1001: indices 0..1000)
#   SLURM_TEST_CTLD_PORT       SlurmctldPort (default: first free from 16817)
#   SLURM_TEST_SLURMD_PORT     SlurmdPort    (default: first free after it)
#   SLURM_TEST_CPUS            CPUs of the node (default: nproc)
#   SLURM_TEST_START_TIMEOUT   seconds to wait for the node to be idle (60)
#
# stdout of `start` carries only the `export ...` lines meant for eval; all
# progress and diagnostics go to stderr.
set -euo pipefail

SLURM_PKGS=(slurm-wlm slurmctld slurmd slurm-client munge)

log() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: cluster.sh start STATE_DIR   # prints export lines for eval
       cluster.sh stop  STATE_DIR
EOF
    exit 2
}

# ---------------------------------------------------------------- install --

# True when every package is installed (dpkg status "install ok installed").
pkgs_installed() {
    local p status
    for p in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || return 1
    done
}

install_packages() {
    if pkgs_installed "${SLURM_PKGS[@]}"; then
        return 0
    fi
    log "installing ${SLURM_PKGS[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # The packages' maintainer scripts would start the system-wide munged,
    # slurmctld and slurmd (with /etc configs). We only want our private
    # daemons, so forbid service starts for the duration of the install, but
    # only when the machine has no policy of its own (never replace one).
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        added_policy=1
    fi
    local rc=0
    {
        # A fresh machine may have no package lists yet: update then.
        if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
            apt-get update
        fi
        apt-get install -y --no-install-recommends "${SLURM_PKGS[@]}" ||
            { apt-get update && apt-get install -y --no-install-recommends "${SLURM_PKGS[@]}"; }
    } >&2 || rc=$?
    if ((added_policy)); then rm -f "$policy"; fi
    ((rc == 0)) || die "apt-get install of ${SLURM_PKGS[*]} failed (rc=$rc)"
}

# ------------------------------------------------------------------ ports --

# True when something accepts TCP connections on 127.0.0.1:$1. Slurm daemons
# listen on all addresses, so a loopback probe is enough to see a clash.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# First port >= $1 that is free and not in the space-separated list $2.
free_port() {
    local p=$1 taken=" ${2:-} "
    while ((p < 65000)); do
        if [[ $taken != *" $p "* ]] && ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
        p=$((p + 1))
    done
    die "no free TCP port found from $1"
}

# ------------------------------------------------------------- processes --

# Is pid $1 alive and is it one of ours: its command line must mention
# program $2 and a path inside state dir $3 (every daemon we start gets such
# a path as an argument; the trailing slash keeps /tmp/x from matching
# /tmp/xy). Guards against a recycled pid from a stale pid file.
pid_is_ours() {
    local pid=$1 prog=$2 dir=$3 cmd
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$prog"* && $cmd == *"$dir/"* ]]
}

# slurmstepd processes spawned by our slurmd: they carry our marker variable
# in their environment (inherited from slurmd), which nothing else has.
our_stepds() {
    local dir=$1 p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd* ]] || continue
        # Zombies have exited already (and have no readable environ).
        is_gone "${p#/proc/}" && continue
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null |
            grep -qxF "SLURM_TEST_CLUSTER_DIR=$dir"; then
            echo "${p#/proc/}"
        fi
    done
}

# True when pid $1 has exited: no /proc entry, or a zombie waiting for its
# parent (init, for our daemonized processes) to reap it.
is_gone() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ -z $st || $st == Z ]]
}

# Terminate pid $1 (TERM, then KILL after $2 seconds) and wait until it has
# exited. Our daemons are not our children (they daemonize), so poll /proc.
terminate() {
    local pid=$1 grace=$2 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 10; i++)); do
        is_gone "$pid" && break
        sleep 0.1
    done
    if ! is_gone "$pid"; then
        log "pid $pid ignored SIGTERM for ${grace}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            is_gone "$pid" && break
            sleep 0.1
        done
        is_gone "$pid" || { log "pid $pid still running after SIGKILL"; return 1; }
    fi
    return 0
}

# Give init a moment to reap the zombies of pids "$@" so `pgrep` right after
# `stop` comes back empty (some inits reap only every couple of seconds). An
# unreaped zombie is harmless, so this never fails.
wait_reaped() {
    local i pid left
    for ((i = 0; i < 40; i++)); do
        left=0
        for pid in "$@"; do [[ -e /proc/$pid ]] && left=1; done
        ((left)) || return 0
        sleep 0.1
    done
    return 0
}

stop_cluster() {
    local dir=$1 pid rc=0 name

    # Cancel any job still known to our controller first, so slurmstepd and
    # job processes go away through Slurm itself rather than being orphaned.
    if [[ -f $dir/run/slurmctld.pid ]] &&
        pid_is_ours "$(cat "$dir/run/slurmctld.pid")" slurmctld "$dir"; then
        local jobs
        jobs=$(SLURM_CONF=$dir/slurm.conf timeout 10 squeue -h -o %A 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086 # word splitting of job ids wanted
            SLURM_CONF=$dir/slurm.conf timeout 10 scancel $jobs 2>/dev/null || true
            for _ in $(seq 50); do
                [[ -z $(our_stepds "$dir") ]] && break
                sleep 0.2
            done
        fi
    fi

    # Stop order: slurmd (no new steps), slurmctld, then munged which both
    # need until the end.
    local stopped=()
    for name in slurmd slurmctld munged; do
        local pidfile=$dir/run/$name.pid
        [[ -f $pidfile ]] || continue
        pid=$(cat "$pidfile" 2>/dev/null || true)
        if pid_is_ours "$pid" "$name" "$dir"; then
            log "stopping $name (pid $pid)"
            terminate "$pid" 20 || rc=1
            stopped+=("$pid")
        fi
        rm -f "$pidfile"
    done

    # Steps that survived the scancel (e.g. controller was already dead).
    for pid in $(our_stepds "$dir"); do
        log "stopping leftover slurmstepd (pid $pid)"
        terminate "$pid" 5 || rc=1
        stopped+=("$pid")
    done
    wait_reaped "${stopped[@]}"
    return "$rc"
}

# ------------------------------------------------------------------ start --

show_logs() {
    local dir=$1 f
    for f in "$dir/log/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
        if [[ -f $f ]]; then
            printf '==> %s (last 40 lines) <==\n' "$f" >&2
            tail -n 40 "$f" >&2 || true
        else
            printf '==> %s: not written <==\n' "$f" >&2
        fi
    done
}

# Called on any failure during start: show why, and leave nothing running.
start_failed() {
    local dir=$1
    log "start failed; logs follow"
    set +e
    show_logs "$dir"
    stop_cluster "$dir" >/dev/null 2>&1 || true
}

write_slurm_conf() {
    local dir=$1 node=$2 cpus=$3 mem=$4 ctld_port=$5 slurmd_port=$6 max_array=$7
    cat >"$dir/slurm.conf" <<EOF
# Generated by tests/slurm/cluster.sh: single-node throw-away test cluster.
ClusterName=testcluster
# Everything talks over loopback; the name is the one slurmd registers with.
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root

# Private munged socket: daemons and clients both read it from here, so
# clients need nothing but SLURM_CONF.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket

StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Keep /etc/slurm/plugstack.conf (SPANK plugins) out of the picture.
PlugStackConfig=$dir/plugstack.conf

# No cgroups: they are often unavailable in containers and sandboxes.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
# No mail on this machine; silences "Configured MailProg is invalid".
MailProg=/bin/true
SwitchType=switch/none

# One CPU per task by default; memory is not a consumable (no CR_*_Memory),
# so jobs without --mem do not each reserve the whole node.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Re-run the main scheduler every second (default 60 s) so throttled array
# tasks and dependent jobs start soon after a slot or dependency frees up,
# and try batch jobs at once on submit (default delay 3 s).
SchedulerParameters=sched_interval=1,batch_sched_delay=0
MaxArraySize=$max_array
MaxJobCount=100000

# Short timeouts so start/stop and job turnover are quick.
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
KillWait=5
InactiveLimit=0
MinJobAge=300
Waittime=0
ReturnToService=2

# Trust the node definition below rather than the probed hardware, so a
# CPU count lower than the hardware's (or a cgroup-limited nproc) cannot
# leave the node drained with a "Low socket*core*thread count" reason.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start_cluster() {
    local dir=$1
    [[ $(id -u) == 0 ]] || die "must run as root (daemons run as SlurmUser=root)"

    install_packages

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ $dir != *[[:space:]]* ]] || die "STATE_DIR must not contain spaces: $dir"
    if [[ -f $dir/run/slurmctld.pid ]] &&
        pid_is_ours "$(cat "$dir/run/slurmctld.pid")" slurmctld "$dir"; then
        die "a cluster is already running in $dir (stop it first)"
    fi
    # A Unix socket path is limited to 107 bytes.
    ((${#dir} + 20 < 107)) || die "STATE_DIR path too long for a unix socket: $dir"

    # Any failure from here on (set -e or die) ends in the EXIT trap, which
    # prints the logs and stops whatever was already started.
    START_DIR=$dir
    START_OK=0
    trap '[[ $START_OK == 1 ]] || start_failed "$START_DIR"' EXIT

    mkdir -p "$dir"/{munge,run,log,spool/ctld,spool/d}
    # munged refuses group/other-writable directories on its paths, and the
    # key must be readable by its owner only. The socket dir stays 0755 so
    # non-root clients can reach the socket.
    chmod 0755 "$dir" "$dir/run" "$dir/log"
    chmod 0700 "$dir/spool/ctld"
    mkdir -p "$dir/munge/etc" "$dir/munge/lib"
    chmod 0700 "$dir/munge/etc" "$dir/munge/lib"
    chmod 0755 "$dir/munge"
    rm -f "$dir/munge/etc/munge.key"
    head -c 1024 /dev/urandom >"$dir/munge/etc/munge.key"
    chmod 0400 "$dir/munge/etc/munge.key"
    : >"$dir/plugstack.conf"

    local node cpus mem max_array ctld_port slurmd_port timeout
    # The node name must be what slurmd would call itself (short hostname);
    # we pass it with -N anyway so a name mismatch cannot bite.
    node=$(hostname -s 2>/dev/null || true)
    [[ -n $node ]] || node=localhost
    cpus=${SLURM_TEST_CPUS:-$(nproc)}
    mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024}' /proc/meminfo)
    max_array=${SLURM_TEST_MAX_ARRAY_SIZE:-1001}
    timeout=${SLURM_TEST_START_TIMEOUT:-60}
    ctld_port=${SLURM_TEST_CTLD_PORT:-$(free_port 16817)}
    slurmd_port=${SLURM_TEST_SLURMD_PORT:-$(free_port $((ctld_port + 1)) "$ctld_port")}
    ! port_busy "$ctld_port" || die "SlurmctldPort $ctld_port is in use"
    ! port_busy "$slurmd_port" || die "SlurmdPort $slurmd_port is in use"

    write_slurm_conf "$dir" "$node" "$cpus" "$mem" "$ctld_port" "$slurmd_port" "$max_array"
    export SLURM_CONF=$dir/slurm.conf
    # Marker inherited by slurmd and its slurmstepds: lets `stop` find steps
    # of this cluster and nothing else.
    export SLURM_TEST_CLUSTER_DIR=$dir

    log "starting munged"
    # munged daemonizes once its socket is ready.
    munged \
        --key-file="$dir/munge/etc/munge.key" \
        --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/run/munged.pid" \
        --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/lib/munged.seed" </dev/null >&2
    munge -n -S "$dir/munge/munge.socket" | unmunge -S "$dir/munge/munge.socket" >/dev/null

    log "starting slurmctld (port $ctld_port)"
    # -c: fresh state; -i: ignore any stale state files in the dir. Daemon
    # output goes to stderr, never stdout, which the caller's $(...) reads.
    slurmctld -c -i -f "$dir/slurm.conf" </dev/null >&2
    log "starting slurmd (port $slurmd_port, node $node, $cpus CPUs)"
    slurmd -f "$dir/slurm.conf" -N "$node" </dev/null >&2

    local state="" waited=0
    while ((waited < timeout * 2)); do
        state=$(sinfo -h -n "$node" -o '%t' 2>/dev/null || true)
        [[ $state == idle ]] && break
        sleep 0.5
        waited=$((waited + 1))
    done
    if [[ $state != idle ]]; then
        log "node $node not idle after ${timeout}s (state: '${state:-unknown}')"
        false
    fi

    START_OK=1
    log "cluster up in $dir (${SECONDS}s)"
    printf 'export SLURM_CONF=%q\n' "$dir/slurm.conf"
}

# ------------------------------------------------------------------- main --

(($# == 2)) || usage
case $1 in
start) start_cluster "$2" ;;
stop)
    [[ -d $2 ]] || die "no such STATE_DIR: $2"
    stop_cluster "$(cd "$2" && pwd -P)"
    ;;
*) usage ;;
esac
