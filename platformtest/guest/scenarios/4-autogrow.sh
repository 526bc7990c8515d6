#!/bin/bash
# Scenario 4, capacity alert -> auto-grow on OpenZFS: a pool filled past its threshold grows by a
# raidz2 vdev of new linux-driver chunks by itself (PoolCapacityAlert, then PoolGrown with trigger
# capacity-alert: checked on the host's broker by host-checks.sh).
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../pool-lib.sh"
POOL=autogrow

step "create a pool and set its alert threshold to 30%"
create_pool "$POOL" > /dev/null
api PUT "$POOL_API/pools/$POOL/policy" 400 '{"thresholdPercent":150}' > /dev/null
echo "  ok: a threshold of 150% is 400"
view=$(api PUT "$POOL_API/pools/$POOL/policy" 200 '{"autoGrow":true,"thresholdPercent":30}')
expect_eq "threshold" "$(jq .autoGrow.thresholdPercent <<< "$view")" 30
size=$(zpool list -Hp -o size "$POOL")
fact size_before "$size"

step "fill it past 30% allocated"
mnt=$(zfs get -H -o value mountpoint "$POOL")
# zpool's allocated counts parity (2 of every 6 columns): data of 30% of the raw size puts
# allocated near 45%, past the threshold; after one more vdev it is near 22%, below the threshold
# minus the hysteresis, so exactly one growth is expected.
bytes=$(( size * 30 / 100 ))
head -c "$bytes" /dev/urandom > "$mnt/fill"
zpool sync "$POOL"
echo "  wrote $bytes bytes; zpool: $(zpool list -H -o size,alloc,cap "$POOL" | tr '\t' ' ')"

step "the pool grows by itself"
wait_for 900 "a second raidz2 vdev in the kernel" vdevs_at_least "$POOL" 2
expect_kernel_layout "$POOL" 2
fact size_after "$(zpool list -Hp -o size "$POOL")"
view=$(api GET "$POOL_API/pools/$POOL" 200)
expect_eq "vdevs in our status" "$(jq '.vdevs | length' <<< "$view")" 2
expect_status_matches_zpool "$POOL"
want=$(sha "$mnt/fill")
echo 3 > /proc/sys/vm/drop_caches
expect_eq "data after the grow" "$(sha "$mnt/fill")" "$want"
