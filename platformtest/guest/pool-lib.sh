# Helpers of the pool scenarios: our pool status against what zpool itself prints.

# expect_kernel_layout POOL VDEVS: zpool shows VDEVS raidz2 vdevs of 6 szpool devices each.
expect_kernel_layout() {
  local got
  got=$(zpool status -P "$1" | grep -c '^\s*raidz2-')
  expect_eq "raidz2 vdevs in zpool status" "$got" "$2"
  got=$(zpool status -P "$1" | grep -c '/dev/mapper/szpool-')
  expect_eq "szpool devices in zpool status" "$got" $(( $2 * 6 ))
}

# Our status (GET /pools/NAME) against zpool list -Hp and zpool status -P: size, allocated,
# health, and every device's state and read/write/checksum counts. Waits up to 30 s for the
# service's once-a-second refresh to catch up with a pool that is still settling.
expect_status_matches_zpool() {
  local pool=$1 tries=0 diff
  while :; do
    diff=$(status_diff "$pool") && break
    (( ++tries < 15 )) || fail "our status of $pool differs from zpool: $diff"
    sleep 2
  done
  echo "  ok: our status of $pool matches zpool (size, allocated, health, $(zpool status -P "$pool" | grep -c /dev/mapper/) devices)"
}

status_diff() {
  local pool=$1 view ours theirs
  view=$(curl -sf "$POOL_API/pools/$pool") || { echo "GET /pools/$pool failed"; return 1; }
  ours=$(jq -r '"\(.sizeBytes) \(.allocatedBytes) \(.health)"' <<< "$view")
  theirs=$(zpool list -Hp -o size,alloc,health "$pool" | tr '\t' ' ')
  [[ $ours == "$theirs" ]] || { echo "size/alloc/health ours '$ours', zpool '$theirs'"; return 1; }
  ours=$(jq -r '.vdevs[].devices[] | "\(.deviceAddress) \(.state) \(.readErrors) \(.writeErrors) \(.checksumErrors)"' <<< "$view" | sort)
  theirs=$(zpool status -Pp "$pool" | awk '$1 ~ /^\/dev\/mapper\/szpool-/ { print $1, $2, $3, $4, $5 }' | sort)
  [[ $ours == "$theirs" ]] || { echo "devices ours [$ours], zpool [$theirs]"; return 1; }
}

allocated_at_least() {
  local got
  got=$(curl -sf "$POOL_API/pools/$1" | jq .allocatedBytes)
  (( got >= $2 ))
}

vdevs_at_least() {
  (( $(zpool status -P "$1" | grep -c '^\s*raidz2-') >= $2 ))
}

# create_pool NAME: a pool of 6 chunks of 128 MiB through our API; prints its status and records
# its pool id for the host-side event checks.
create_pool() {
  local view
  view=$(api POST "$POOL_API/pools" 201 "{\"name\":\"$1\",\"width\":6,\"chunkSizeBytes\":$((128 * 1024 * 1024)),\"vdevs\":1}")
  fact pool_id "$(jq -r .poolId <<< "$view")"
  echo "$view"
}

pool_health_is() { [[ $(curl -sf "$POOL_API/pools/$1" | jq -r .health) == "$2" ]]; }
zpool_health_is() { [[ $(zpool list -H -o health "$1") == "$2" ]]; }
