#!/bin/bash
# Scenario 1, the life of a pool on OpenZFS through our services: 6 chunks from the linux driver,
# a raidz2 pool from the zfs driver, data written and read back, scrub, status as zpool shows it,
# grow by a second raidz2 vdev, export, detach every chunk, attach them again, import, data intact.
# zpool itself is only read here, as the ground truth our parsed status must agree with.
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../pool-lib.sh"
POOL=lifecycle
CHUNK=$((128 * 1024 * 1024))

step "bad input gets problem details and leaves nothing behind"
api POST "$POOL_API/pools" 400 '{"name":"bad/name","width":6,"chunkSizeBytes":134217728}' > /dev/null
api POST "$POOL_API/pools" 400 '{"name":"narrow","width":2,"chunkSizeBytes":134217728}' > /dev/null
api GET "$POOL_API/pools/no-such-pool" 404 > /dev/null
[[ -z $(zpool list -H -o name 2>/dev/null) ]] || fail "a refused request left a pool: $(zpool list -H)"
echo "  ok: 400, 400, 404 and no pool in the kernel"

step "create a raidz2 pool of 6 linux-driver chunks"
view=$(api POST "$POOL_API/pools" 201 "{\"name\":\"$POOL\",\"width\":6,\"chunkSizeBytes\":$CHUNK,\"vdevs\":1}")
expect_eq "driver" "$(jq -r .driver <<< "$view")" zfs
expect_eq "health" "$(jq -r .health <<< "$view")" ONLINE
expect_eq "devices" "$(jq '[.vdevs[].devices[]] | length' <<< "$view")" 6
expect_eq "devices that are dm-crypt mappings" \
  "$(jq '[.vdevs[].devices[].deviceAddress | select(startswith("/dev/mapper/szpool-"))] | length' <<< "$view")" 6
api POST "$POOL_API/pools" 409 "{\"name\":\"$POOL\",\"width\":6,\"chunkSizeBytes\":$CHUNK}" > /dev/null
echo "  ok: the same name again is 409"
expect_kernel_layout "$POOL" 1
for dev in $(jq -r '.vdevs[].devices[].deviceAddress' <<< "$view"); do
  [[ $(cryptsetup status "$dev" | awk '$1 == "cipher:" { print $2 }') == aes-xts-plain64 ]] \
    || fail "$dev is not aes-xts-plain64: $(cryptsetup status "$dev")"
done
echo "  ok: every device is a plain aes-xts-plain64 mapping"
expect_status_matches_zpool "$POOL"

step "a snapshot of linux-driver chunks is refused: the kernel writes them without us"
refused=$(api POST "$DEVICE_API/snapshots" 409 "{\"poolId\":\"$(jq -r .poolId <<< "$view")\"}")
expect_eq "refusal names the driver" "$(jq -r .detail <<< "$refused" | grep -o 'runs the linux driver')" \
  "runs the linux driver"
[[ -z $(ls -A /srv/szpool/device/snapshots 2>/dev/null) ]] \
  || fail "the refused snapshot left files: $(ls /srv/szpool/device/snapshots)"
echo "  ok: 409 and no snapshot folder left"

step "write data, read it back"
mnt=$(zfs get -H -o value mountpoint "$POOL")
head -c $((96 * 1024 * 1024)) /dev/urandom > /srv/szpool/lifecycle.data
want=$(sha /srv/szpool/lifecycle.data)
cp /srv/szpool/lifecycle.data "$mnt/data"
rm /srv/szpool/lifecycle.data
zpool sync "$POOL"
echo 3 > /proc/sys/vm/drop_caches
expect_eq "sha256 read back" "$(sha "$mnt/data")" "$want"
# The ticker reads zpool every second: wait until our allocated bytes saw the write.
wait_for 60 "allocated bytes show the 96 MiB" allocated_at_least "$POOL" $((96 * 1024 * 1024))
expect_status_matches_zpool "$POOL"

step "scrub"
scrubbed=$(api POST "$POOL_API/pools/$POOL/scrub" 200)
echo "  PoolScrubbed: $scrubbed"
expect_eq "errors repaired" "$(jq .errorsRepaired <<< "$scrubbed")" 0
expect_eq "errors unrecoverable" "$(jq .errorsUnrecoverable <<< "$scrubbed")" 0
(( $(jq .bytesScanned <<< "$scrubbed") >= 96 * 1024 * 1024 )) || fail "scrub scanned less than the data: $scrubbed"
zpool status "$POOL" | grep -q 'scan: scrub repaired 0B' || fail "zpool shows no finished scrub: $(zpool status "$POOL")"
view=$(api GET "$POOL_API/pools/$POOL" 200)
expect_eq "scan in our status" "$(jq -r '.scan.state' <<< "$view")" finished
expect_status_matches_zpool "$POOL"

step "grow by a second raidz2 vdev"
before=$(jq .sizeBytes <<< "$view")
view=$(api POST "$POOL_API/pools/$POOL/grow" 200 '{"vdevs":1}')
after=$(jq .sizeBytes <<< "$view")
(( after > before )) || fail "size did not grow: $before -> $after"
expect_eq "vdevs" "$(jq '.vdevs | length' <<< "$view")" 2
expect_kernel_layout "$POOL" 2
expect_status_matches_zpool "$POOL"
fact pool_id "$(jq -r .poolId <<< "$view")"
fact size_before "$before"
fact size_after "$(zpool list -Hp -o size "$POOL")"

step "export, detach every chunk, attach them again, import"
chunks=$(jq -r '.vdevs[].devices[].chunkId' <<< "$view")
view=$(api POST "$POOL_API/pools/$POOL/export" 200)
expect_eq "state after export" "$(jq -r .state <<< "$view")" exported
api POST "$POOL_API/pools/$POOL/export" 409 > /dev/null
echo "  ok: export again is 409"
zpool list "$POOL" > /dev/null 2>&1 && fail "the kernel still has $POOL after export"
for c in $chunks; do api POST "$DEVICE_API/chunks/$c/detach" 200 > /dev/null; done
[[ -z $(ls /dev/mapper | grep '^szpool-' || true) ]] || fail "mappings left after detach: $(ls /dev/mapper)"
echo "  ok: 12 chunks detached, no szpool mapping left"
for c in $chunks; do api POST "$DEVICE_API/chunks/$c/attach" 200 > /dev/null; done
# pool-service learns the (same) addresses from ChunkAttached before it can import.
view=$(api POST "$POOL_API/pools/$POOL/import" 200)
expect_eq "health after import" "$(jq -r .health <<< "$view")" ONLINE
# Importing an imported pool is a no-op by design (PoolManager.importPool): 200, the same pool.
again=$(api POST "$POOL_API/pools/$POOL/import" 200)
expect_eq "import again: same pool, still ONLINE" "$(jq -r '"\(.poolId) \(.health)"' <<< "$again")" "$(jq -r .poolId <<< "$view") ONLINE"
echo 3 > /proc/sys/vm/drop_caches
expect_eq "sha256 after export and import" "$(sha "$mnt/data")" "$want"
expect_status_matches_zpool "$POOL"
