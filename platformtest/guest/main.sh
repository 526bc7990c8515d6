#!/bin/bash
# Runs inside the guest (started by the image's /init.sh): brings up udev, the kernel modules and
# the network, starts our services with the linux and zfs drivers against the host's broker, runs
# the scenarios named in config.env and writes one result line per scenario to out/results.
set -u
SHARE=/mnt/host
OUT=$SHARE/out
# shellcheck disable=SC1091
. "$SHARE/config.env"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
BOOT=$(cut -d' ' -f1 /proc/uptime)
say() { echo "[guest $(cut -d' ' -f1 /proc/uptime)s] $*"; }
timing() { echo "$1 $2" >> "$OUT/timings"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

say "kernel $(uname -r), booted to init in ${BOOT}s"
timing boot "$BOOT"

# cryptsetup waits for udev to confirm each dm device; a fresh /run (init.sh) plus a running udevd
# makes that confirmation arrive.
t=$(now)
UDEVD=$(command -v systemd-udevd || echo /lib/systemd/systemd-udevd)
"$UDEVD" --daemon
udevadm trigger --action=add
udevadm settle --timeout=120
for m in loop dm_crypt zfs; do
  modprobe "$m" || { say "modprobe $m failed"; echo "setup FAIL 0 modprobe $m" >> "$OUT/results"; exit 1; }
done
say "udev and modules in $(since "$t")s; zfs $(cat /sys/module/zfs/version)"
# qemu's user network: the host is 10.0.2.2 (net.ifnames=0 keeps the name eth0; udev loaded virtio_net).
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
timing udev-and-modules "$(since "$t")"

# Chunk files, service data and pools live on a scratch disk: the root image is a read-only
# snapshot and 9p is no place for loop devices.
mkfs.ext4 -q -F /dev/vdb
mkdir -p /srv/szpool
mount /dev/vdb /srv/szpool
cp -a "$SHARE/apps" /srv/szpool/apps
install -m 0600 "$SHARE/secret/passphrase" /root/passphrase
if [[ -d $SHARE/in/device-data ]]; then
  # Chunks that the host made (scenario 3) are handed to this host's service as they are.
  mkdir -p /srv/szpool/device
  cp -a --sparse=always "$SHARE/in/device-data/." /srv/szpool/device/
fi

JAVA_OPTS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xmx384m)
PIDS=()
T_START=$(now)
# start_service NAME OPTIONS...: starts it in the background; await_service waits for its health.
# Both services start together: under TCG each spends minutes in start-up, and neither needs the
# other to become ready.
start_service() {
  local name=$1
  shift
  say "starting $name"
  java "${JAVA_OPTS[@]}" -Dkafka.bootstrap.servers="$KAFKA" -Dszpool.host-id="$GUEST_HOST_ID" \
    -Dquarkus.log.file.enabled=false "$@" \
    -jar "/srv/szpool/apps/$name/quarkus-run.jar" > "$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_${name//-/_}=$!"
}
await_service() {
  local name=$1 port=$2 pid_var=PID_${1//-/_} limit start=$SECONDS
  limit=$(within_budget "$SERVICE_START_TIMEOUT")
  until curl -sf -o /dev/null "http://127.0.0.1:$port/q/health/ready"; do
    if ! kill -0 "${!pid_var}" 2>/dev/null || (( SECONDS - start > limit )); then
      say "$name did not become ready within $limit s; see $name.log"
      if kill -0 "${!pid_var}" 2>/dev/null && (( limit < SERVICE_START_TIMEOUT )); then
        # Still starting when the budget ran out: nothing is known to be wrong.
        SETUP_BUDGET_CUT=1
        echo "setup NOTRUN $(since "$T_START") $name still starting at the budget's end" >> "$OUT/results"
      else
        echo "setup FAIL $(since "$T_START") $name did not start" >> "$OUT/results"
      fi
      return 1
    fi
    sleep 2
  done
  say "$name ready $(since "$T_START")s after the services were started"
  timing "start-$name" "$(since "$T_START")"
}

stop_services() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}

# The budget (config.env): GUEST_DEADLINE in seconds of uptime, 0 for none; ESTIMATES "name:s ...".
uptime_s() { cut -d. -f1 /proc/uptime; }
# within_budget LIMIT: LIMIT, or the seconds left before the deadline if fewer.
within_budget() {
  local left
  (( ${GUEST_DEADLINE:-0} )) || { echo "$1"; return; }
  left=$(( GUEST_DEADLINE - $(uptime_s) ))
  (( left < 1 )) && left=1
  (( left < $1 )) && echo "$left" || echo "$1"
}
estimate_of() { tr ' ' '\n' <<< "${ESTIMATES:-}" | awk -F: -v s="$1" '$1 == s { print $2 }'; }

ok=1
SETUP_BUDGET_CUT=0
start_service crypto-device-service -Dszpool.device.driver=linux \
  -Dszpool.device.data-dir=/srv/szpool/device -Dszpool.device.passphrase-file=/root/passphrase
if [[ $NEEDS_POOL == yes ]]; then
  start_service pool-service -Dszpool.pool.driver=zfs -Dszpool.pool.data-dir=/srv/szpool/pool \
    "${POOL_SERVICE_OPTS[@]}"
fi
await_service crypto-device-service 8082 || ok=0
if (( ok )) && [[ $NEEDS_POOL == yes ]]; then
  await_service pool-service 8081 || ok=0
fi

if (( ok )); then
  for s in $SCENARIOS; do
    est=$(estimate_of "$s")
    if (( ${GUEST_DEADLINE:-0} )) && (( $(uptime_s) + ${est:-0} > GUEST_DEADLINE )); then
      echo "$s NOTRUN - not run: budget (${est:-?} s expected, $(( GUEST_DEADLINE - $(uptime_s) )) s left)" >> "$OUT/results"
      say "scenario $s: not run: budget"
      continue
    fi
    t=$(now)
    limit=$(within_budget "$SCENARIO_TIMEOUT")
    say "scenario $s"
    timeout "$limit" bash "$SHARE/guest/scenarios/$s.sh" > "$OUT/scenario-$s.log" 2>&1
    rc=$?
    status=PASS
    (( rc == 0 )) || status=FAIL
    reason=$(grep -m1 ' FAIL ' "$OUT/scenario-$s.log" | sed 's/.* FAIL //')
    if (( rc == 124 )); then
      reason="timed out after $limit s"
      if (( limit < SCENARIO_TIMEOUT )); then
        # Cut short by the budget, not by its own hang timeout: unfinished, not failed.
        status=NOTRUN
        reason="not run: budget (stopped at the budget's end after $limit s, unfinished)"
      fi
    fi
    echo "$s $status $(since "$t") ${reason:-}" >> "$OUT/results"
    say "scenario $s: $status in $(since "$t")s ${reason:-}"
  done
elif (( SETUP_BUDGET_CUT )); then
  for s in $SCENARIOS; do
    echo "$s NOTRUN - not run: budget (the services were still starting)" >> "$OUT/results"
  done
fi

stop_services
zpool list -H 2>/dev/null | sed 's/^/[guest] zpool left: /'
say "done"
