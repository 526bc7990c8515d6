#!/bin/sh
# PID 1 of the guest. Kept minimal and stable because it is baked into the cached image: all
# scenario logic comes from the 9p share (guest/main.sh), so changing a scenario never rebuilds
# the image. Powers off in every case, so a failing scenario never leaves qemu running.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# A fresh /run: a stale /run/udev/control left by the initramfs makes cryptsetup wait forever.
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /mnt/host
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /mnt/host \
  && [ -x /mnt/host/guest/main.sh ]; then
  # The log goes to the share (kept by the runner) and to the serial console (the host's qemu log).
  { /mnt/host/guest/main.sh; echo $? > /mnt/host/out/exit; } 2>&1 | tee /mnt/host/out/guest.log > /dev/console
else
  echo "szpool-platformtest: no 9p share with guest/main.sh" > /dev/console
fi
sync
echo o > /proc/sysrq-trigger
sleep 30
