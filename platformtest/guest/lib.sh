# Helpers for the scenario scripts, sourced by each of them inside the guest.
# A scenario is a bash script that exits 0 when every step held; the first failed step ends it
# with a message that says what was expected and what the guest saw.
set -euo pipefail
SHARE=/mnt/host
OUT=$SHARE/out
# shellcheck disable=SC1091
. "$SHARE/config.env"
DEVICE_API=http://127.0.0.1:8082
POOL_API=http://127.0.0.1:8081
FACTS=$OUT/facts-$(basename "$0" .sh)

step() { echo "[$(date +%T)] STEP $*"; }
# To stderr: inside $(api ...) stdout is the caller's captured value, not the log.
fail() { echo "[$(date +%T)] FAIL $*" >&2; exit 1; }
# A fact for the host-side checks after the guest powered off (events on the host's broker).
fact() { echo "$1=$2" >> "$FACTS"; }

# api METHOD URL EXPECTED_STATUS [JSON_BODY]: prints the answer's body; fails on another status.
api() {
  local method=$1 url=$2 want=$3 body=${4:-} answer code
  answer=$(mktemp)
  if [[ -n $body ]]; then
    code=$(curl -sS -o "$answer" -w '%{http_code}' --max-time "${API_TIMEOUT:-900}" -X "$method" \
      -H 'Content-Type: application/json' -d "$body" "$url") || code=curl-failed
  else
    code=$(curl -sS -o "$answer" -w '%{http_code}' --max-time "${API_TIMEOUT:-900}" -X "$method" "$url") \
      || code=curl-failed
  fi
  if [[ $code != "$want" ]]; then
    echo "$method $url -> $code, expected $want: $(head -c 2000 "$answer")" >&2
    rm -f "$answer"
    fail "$method $url answered $code, expected $want"
  fi
  cat "$answer"
  rm -f "$answer"
}

# expect_eq WHAT GOT WANT
expect_eq() {
  if [[ "$2" != "$3" ]]; then fail "$1: got '$2', expected '$3'"; fi
  echo "  ok: $1 = $2"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 2 s until it succeeds.
wait_for() {
  local limit=$1 what=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start > limit )); then fail "$what: not within $limit s"; fi
    sleep 2
  done
  echo "  ok: $what (after $(( SECONDS - start )) s)"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# A 64-byte XTS key from the hex that `szpool key dump` prints, without xxd (not in the image).
hex_to_file() {
  local hex
  hex=$(tr -d ' \n' < "$1")
  [[ ${#hex} == 128 ]] || fail "key $1 is not 128 hex digits"
  (umask 077; printf '%b' "$(sed 's/../\\x&/g' <<< "$hex")" > "$2")
}
