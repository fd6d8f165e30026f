#!/bin/sh
# PID 1 inside user-mode Linux (root = the host's / over hostfs). Loads the link kinds the host
# kernel lacks, runs the command the runner left in $mvlan_uml_dir/argv, writes its output and exit
# code there for the host, and powers off. Mounts made here stay inside UML.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
dir=${mvlan_uml_dir:?mvlan_uml_dir must be on the UML command line}
exec >"$dir/init.log" 2>&1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 tmpfs /run   # scratch that hides the host's /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
# UML's modules live outside /lib/modules; point a private module root at them, never the host's.
mkdir -p /run/modroot/lib/modules
ln -s "/usr/lib/uml/modules/$(uname -r)" "/run/modroot/lib/modules/$(uname -r)"
modprobe -d /run/modroot -a 8021q dummy macvlan veth || echo "modprobe failed"

set --
while IFS= read -r word; do set -- "$@" "$word"; done <"$dir/argv"
echo "running: $*"
"$@" >"$dir/output.tmp" 2>&1
rc=$?
mv "$dir/output.tmp" "$dir/output"
echo "$rc" >"$dir/rc.tmp" && mv "$dir/rc.tmp" "$dir/rc"   # rc appears only once complete
sync
poweroff -f
