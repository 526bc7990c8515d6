# Shared by the bench scripts (source it): free ports, waiting for a listener, CPU accounting.
# Each script names its own messages' prefix in $bench_name before sourcing.

bench_fail() {
    echo "${bench_name:-bench}: $*" >&2
    exit 1
}

# port VAR [FIXED]: VAR = FIXED, or a port nothing listens on, below the kernel's ephemeral range
# (so no outgoing connection takes it meanwhile) and not given to another VAR of this run. Two runs
# side by side then never meet on a port.
bench_taken=" "
port() {
    local -n chosen=$1
    local candidate i
    if [[ -n ${2:-} ]]; then
        chosen=$2
        bench_taken+="$2 "
        return 0
    fi
    for i in $(seq 500); do
        candidate=$((20000 + RANDOM % 12000))
        [[ $bench_taken == *" $candidate "* ]] && continue
        ss -Htln "sport = :$candidate" | grep -q . && continue
        chosen=$candidate
        bench_taken+="$candidate "
        return 0
    done
    bench_fail "no free port found for $1"
}

wait_for_port() {
    local i
    for i in $(seq 2400); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    bench_fail "nothing listens on port $1"
}

# utime + stime of processes (all their threads, living and ended), in clock ticks.
ticks() {
    local total=0 pid t
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
        total=$((total + t))
    done
    echo "$total"
}

# thread_ticks LABEL PID...: one line per living thread, "LABEL/<thread name> TID utime stime",
# the name with its numbers dropped so that pools of threads add up (nbd-conn-3-worker ->
# nbd-conn--worker; names are cut at 15 characters by the kernel).
thread_ticks() {
    local label=$1 pid task
    shift
    for pid in "$@"; do
        for task in /proc/"$pid"/task/*; do
            [[ -r $task/stat ]] || continue
            # comm may hold spaces: it is whatever sits between the first "(" and the last ")".
            awk -v label="$label" -v tid="${task##*/}" '{
                line = $0
                name = substr(line, index(line, "(") + 1)
                name = substr(name, 1, match(name, /\) [A-Z] /) - 1)
                rest = substr(line, match(line, /\) [A-Z] /) + 2)
                split(rest, f, " ")
                gsub(/[0-9]+/, "", name)
                gsub(/ /, "_", name)
                print label "/" name, tid, f[12], f[13]
            }' "$task/stat" 2>/dev/null
        done
    done
}

# thread_watch FILE LABEL=PID...: appends thread_ticks of the processes every half second until
# killed, so that threads which start and end during a measurement (an NBD connection's) are
# counted too. Run it in the background; take one snapshot before starting it.
thread_watch() {
    local file=$1 spec
    shift
    # $$ is the script's own pid also in this background subshell: stop when the script is gone.
    while kill -0 $$ 2>/dev/null; do
        for spec in "$@"; do
            thread_ticks "${spec%%=*}" "${spec#*=}"
        done >>"$file"
        sleep 0.5
    done
}

# cpu_split BEFORE WATCHED BYTES: the CPU seconds per GiB written, by thread group, user and
# system, from a snapshot taken before and thread_watch's samples (a thread's last sample counts;
# what a thread did in its last half second before it ended is missing).
cpu_split() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" -v bytes="$3" '
        FNR == NR { bn[$2] = $1; bu[$2] = $3; bs[$2] = $4; next }
        { name[$2] = $1; au[$2] = $3; as[$2] = $4 }
        END {
            for (t in au) {
                # A thread id taken again by a new thread starts from zero.
                if (bn[t] != name[t]) { bu[t] = 0; bs[t] = 0 }
                u[name[t]] += au[t] - bu[t]; s[name[t]] += as[t] - bs[t]
            }
            scale = 1073741824 / bytes / hz
            for (k in u) {
                if ((u[k] + s[k]) * scale >= 0.05)
                    printf "  %-40s %6.2f user %6.2f sys %6.2f cpu-s/GiB\n", k, u[k] * scale, s[k] * scale, (u[k] + s[k]) * scale
            }
        }' "$1" "$2" | sort -k7 -rn
}
