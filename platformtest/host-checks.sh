# Host-side checks of the scenarios, sourced by run: what the guest cannot see itself, chiefly the
# events our services published to the host's broker. check_SCENARIO FACTS EVENTS prints the reason
# and returns non-zero on failure. FACTS holds key=value lines the guest wrote; EVENTS is one
# CloudEvent per line as `szpool events --json` prints it.

fact_of() { sed -n "s/^$2=//p" "$1" | tail -1; }

# events_of EVENTS TYPE POOL: the data of every event of TYPE for POOL, one JSON per line.
events_of() {
  jq -c --arg t "$2" --arg p "$3" 'select(.type == $t and .subject == $p) | .data' "$1"
}

check_1-lifecycle() {
  local facts=$1 events=$2 pool grown
  pool=$(fact_of "$facts" pool_id)
  grown=$(events_of "$events" io.szpool.pool.grown.v1 "$pool")
  [[ $(wc -l <<< "$grown") == 1 && -n $grown ]] || { echo "expected one PoolGrown of $pool, got: [$grown]"; return 1; }
  jq -e --argjson b "$(fact_of "$facts" size_before)" --argjson a "$(fact_of "$facts" size_after)" \
    '.sizeBytesBefore == $b and .sizeBytesAfter == $a and .trigger == "operator" and .vdevIndex == 1 and (.chunkIds | length) == 6' \
    <<< "$grown" > /dev/null || { echo "PoolGrown does not say $(fact_of "$facts" size_before) -> $(fact_of "$facts" size_after) by the operator: $grown"; return 1; }
  for type in created scrubbed exported imported; do
    [[ -n $(events_of "$events" "io.szpool.pool.$type.v1" "$pool") ]] || { echo "no io.szpool.pool.$type.v1 for $pool"; return 1; }
  done
}

check_4-autogrow() {
  local facts=$1 events=$2 pool grown alert
  pool=$(fact_of "$facts" pool_id)
  alert=$(events_of "$events" io.szpool.pool.capacity-alert.v1 "$pool")
  [[ -n $alert ]] || { echo "no PoolCapacityAlert for $pool"; return 1; }
  jq -e '.thresholdPercent == 30 and .allocatedBytes * 100 >= .sizeBytes * 30' <<< "$(head -1 <<< "$alert")" > /dev/null \
    || { echo "PoolCapacityAlert does not show 30% crossed: $alert"; return 1; }
  grown=$(events_of "$events" io.szpool.pool.grown.v1 "$pool")
  [[ $(wc -l <<< "$grown") == 1 && -n $grown ]] || { echo "expected one PoolGrown of $pool, got: [$grown]"; return 1; }
  jq -e --argjson b "$(fact_of "$facts" size_before)" \
    '.trigger == "capacity-alert" and .sizeBytesBefore == $b and .sizeBytesAfter > $b' <<< "$grown" > /dev/null \
    || { echo "PoolGrown is not a capacity-alert growth from $(fact_of "$facts" size_before): $grown"; return 1; }
}

# The pool degraded (a chunk missing at import) and healed (all chunks back): PoolHealthChanged
# events say so, in that order.
check_2-damage() {
  local facts=$1 events=$2 pool changes
  pool=$(fact_of "$facts" pool_id)
  changes=$(events_of "$events" io.szpool.pool.health-changed.v1 "$pool" | jq -r '"\(.previous)>\(.health)"' | tr '\n' ' ')
  [[ $changes == *"ONLINE>DEGRADED "*"DEGRADED>ONLINE "* ]] \
    || { echo "PoolHealthChanged of $pool should show ONLINE>DEGRADED then DEGRADED>ONLINE, got: [$changes]"; return 1; }
}
