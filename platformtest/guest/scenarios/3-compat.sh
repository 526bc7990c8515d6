#!/bin/bash
# Scenario 3, on-disk compatibility both ways between the embedded driver (host) and dm-crypt
# (this guest's kernel):
#  a) the chunk the host wrote through the embedded driver opens with plain cryptsetup and the key
#     that `szpool key dump` printed on the host (the recovery recipe of the README),
#  b) our linux driver attaches that same chunk file as it is and reads the same plaintext,
#  c) a chunk our linux driver provisions here is written through dm-crypt and handed back to the
#     host, whose embedded driver must read the same bytes (checked by platformtest/run).
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"
IN=$SHARE/in/compat
id=$(cat "$IN/chunk-id")
want=$(cat "$IN/plaintext.sha256")
chunk=/srv/szpool/device/chunks/$id
[[ -f $chunk ]] || fail "the host's chunk $id was not handed to the guest"

step "a) cryptsetup alone opens the host's embedded chunk with the key from szpool key dump"
key=/root/compat-host.key
hex_to_file "$SHARE/secret/compat-host.key" "$key"
loop=$(losetup --find --show --read-only "$chunk")
cryptsetup open --readonly --type plain --cipher aes-xts-plain64 --key-size 512 --sector-size 4096 \
  --key-file "$key" "$loop" platformtest-compat
got=$(sha /dev/mapper/platformtest-compat)
cryptsetup close platformtest-compat
losetup --detach "$loop"
rm -f "$key"
expect_eq "sha256 of the plaintext through dm-crypt" "$got" "$want"

step "b) our linux driver attaches the host's chunk file as it is"
view=$(api POST "$DEVICE_API/chunks/$id/attach" 200)
dev=$(jq -r .deviceAddress <<< "$view")
expect_eq "device address" "$dev" "/dev/mapper/szpool-$id"
expect_eq "sha256 of the plaintext through the linux driver" "$(sha "$dev")" "$want"
view=$(api POST "$DEVICE_API/chunks/$id/detach" 200)
expect_eq "attached after detach" "$(jq -r .attached <<< "$view")" false
[[ ! -e $dev ]] || fail "$dev still exists after detach"
[[ -z $(losetup --associated "$chunk") ]] || fail "a loop device still holds $chunk after detach"
echo "  ok: no dm mapping and no loop device left"

step "c) a chunk provisioned and written through our linux driver, for the host to read"
size=$((64 * 1024 * 1024))
view=$(api POST "$DEVICE_API/chunks" 201 \
  "{\"poolId\":\"$COMPAT_GUEST_POOL\",\"count\":1,\"sizeBytes\":$size,\"requestId\":\"compat-guest-1\"}")
gid=$(jq -r '.chunks[0].chunkId' <<< "$view")
gdev=$(jq -r '.chunks[0].deviceAddress' <<< "$view")
expect_eq "device address" "$gdev" "/dev/mapper/szpool-$gid"
expect_eq "cipher in the kernel" "$(cryptsetup status "szpool-$gid" | awk '$1 == "cipher:" { print $2 }')" aes-xts-plain64
expect_eq "sector size in the kernel" "$(cryptsetup status "szpool-$gid" | awk '$1 == "sector" { print $3 }')" 4096
plain=/srv/szpool/compat-guest.plain
head -c "$size" /dev/urandom > "$plain"
dd if="$plain" of="$gdev" bs=1M oflag=direct conv=fsync status=none
expect_eq "read back through dm-crypt" "$(sha "$gdev")" "$(sha "$plain")"
api POST "$DEVICE_API/chunks/$gid/detach" 200 > /dev/null
# The same request id again provisions nothing new (idempotent provisioning).
again=$(api POST "$DEVICE_API/chunks" 201 \
  "{\"poolId\":\"$COMPAT_GUEST_POOL\",\"count\":1,\"sizeBytes\":$size,\"requestId\":\"compat-guest-1\"}")
expect_eq "chunk of a repeated request" "$(jq -r '.chunks[0].chunkId' <<< "$again")" "$gid"
if cmp -s <(head -c 1048576 "/srv/szpool/device/chunks/$gid") <(head -c 1048576 "$plain"); then
  fail "the chunk file holds the plaintext"
fi
mkdir -p "$OUT/compat/records" "$OUT/compat/keys" "$OUT/compat/chunks"
cp "/srv/szpool/device/records/$gid.json" "$OUT/compat/records/"
cp "/srv/szpool/device/keys/$COMPAT_GUEST_POOL.slot" "$OUT/compat/keys/"
cp --sparse=always "/srv/szpool/device/chunks/$gid" "$OUT/compat/chunks/"
echo "$gid" > "$OUT/compat/chunk-id"
sha "$plain" > "$OUT/compat/plaintext.sha256"
rm -f "$plain"
echo "  ok: chunk $gid handed to the host"
