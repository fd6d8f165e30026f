#!/bin/bash
# PID 1 inside user-mode Linux for tests/e2e/uml_engine.sh (root = the host's / over hostfs).
# Everything mounted here stays inside UML: tmpfs over all the engine and the plugin write, so the
# host's files are only read. Starts mvlan and a Docker engine, imports the busybox image, runs
# the scenario (bounded by the deadline the runner set), leaves its exit status in $dir/rc for
# the host, and powers off. Logs: $dir/init.log (this), dockerd.log, mvlan.log, test.log.
dir=${mvlan_uml_dir:?mvlan_uml_dir must be on the UML command line}
exec >"$dir/init.log" 2>&1
t0=$(date +%s)
ts() { echo "[t+$(($(date +%s) - t0))s] $*"; }
finish() { # STATUS: hand the result to the host and power off
  echo "$1" >"$dir/rc.tmp" && mv "$dir/rc.tmp" "$dir/rc" # rc appears only once complete
  ts "status $1; powering off"
  sync
  poweroff -f
}
scenario='' lib='' mvlan_bin='' image_tar='' scenario_end=0 argv=() # set by the runner's config:
engine=20 dockerd_bin=/usr/sbin/dockerd docker_bin=/usr/bin/docker containerd_bin=/usr/bin/containerd
ctr_bin=/usr/bin/ctr engine_path=''
# shellcheck source=/dev/null
source "$dir/config" || finish 1
# Not /usr/local. Engine 20: all of it is Debian 12's. Engines 28 and 29: their trees come first (containerd
# finds containerd-shim-runc-v2 there, and runc if the tree has one; else Debian's /usr/sbin/runc).
export PATH=${engine_path:+$engine_path:}/usr/sbin:/usr/bin:/sbin:/bin
ts "init: $(uname -sr), scenario $scenario, engine $engine ($dockerd_bin)"

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null # the kernel may have mounted it already
if [[ $(stat -f -c %T /dev) != tmpfs ]]; then ts "/dev is not a devtmpfs"; finish 1; fi # never the host's
ln -sfn /proc/self/fd /dev/fd # bash's <(...)
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
for m in /run /tmp /etc/docker /var/lib/docker /var/lib/containerd /root; do
  [[ -d $m ]] && mount -t tmpfs -o mode=755 "uml-${m//\//-}" "$m"
done
chmod 1777 /tmp
ts "tmpfs mounted"
mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
for c in $(awk 'NR>1 && $4==1 {print $1}' /proc/cgroups); do
  mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || ts "cgroup $c: mount failed"
done
hostname umlhost
ip link set lo up
# UML's modules live outside /lib/modules (which the host may not even have): a private module
# root, used by the kernel's own module requests and iptables' too (/proc/sys/kernel/modprobe).
mkdir -p /run/modroot/lib/modules
ln -s "/usr/lib/uml/modules/$(uname -r)" "/run/modroot/lib/modules/$(uname -r)"
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/modroot "$@"\n' >/run/modprobe
chmod 755 /run/modprobe
echo /run/modprobe >/proc/sys/kernel/modprobe
/run/modprobe -a 8021q dummy macvlan veth ip_tables iptable_filter iptable_nat && ts "modules loaded" ||
  ts "modprobe failed"
# The engine's DNS rules in each container: the legacy iptables backend (the bind is UML-internal).
mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi

export HOME=/root TMPDIR=/tmp DOCKER_CONFIG=/run/docker-config
mkdir -p /run/docker/plugins /run/docker-uml/data /run/docker-uml/exec /run/mvlan-state "$DOCKER_CONFIG"
export MVLAN_UML_SOCK=unix:///run/docker-uml/docker.sock MVLAN_UML_DIR=$dir

# mvlan and containerd start side by side; dockerd needs containerd.
ts "starting mvlan and containerd"
"$mvlan_bin" serve --socket /run/docker/plugins/mvlan.sock --state-dir /run/mvlan-state \
  --log-level debug >"$dir/mvlan.log" 2>&1 </dev/null &
echo $! >/run/mvlan.pid
# containerd on its own, waited for as long as it takes: the one dockerd would start gets a fixed
# timeout, which a loaded host's UML can miss ("timeout waiting for containerd to start").
# Without CRI (Kubernetes' API, of no use to dockerd, and slow to start in UML): containerd 1.6
# reads config version 2; 2.x reads version 3, where CRI is three plugins (a version-2 file would
# be migrated in memory at every start, with the two new CRI plugins left enabled).
mkdir -p /run/containerd-uml
if [[ $engine == 20 ]]; then
  printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
else
  printf 'version = 3\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]\n'
fi >/run/containerd-uml/config.toml
"$containerd_bin" --config /run/containerd-uml/config.toml --root /run/containerd-uml/root \
  --state /run/containerd-uml/state --address /run/containerd-uml/containerd.sock \
  >"$dir/containerd.log" 2>&1 </dev/null &
containerd_pid=$!
until curl -sf -o /dev/null --max-time 5 --unix-socket /run/docker/plugins/mvlan.sock --data-binary '' \
  -H 'Content-Type:' http://mvlan/Plugin.Activate; do
  kill -0 "$(cat /run/mvlan.pid)" 2>/dev/null || { ts "mvlan exited"; finish 1; }
  (($(date +%s) < scenario_end)) || { ts "mvlan did not answer before the deadline"; finish 124; }
  sleep 0.2
done
ts "mvlan up (pid $(cat /run/mvlan.pid))"
until "$ctr_bin" --address /run/containerd-uml/containerd.sock version >/dev/null 2>&1; do
  kill -0 $containerd_pid 2>/dev/null || { ts "containerd exited"; finish 1; }
  (($(date +%s) < scenario_end)) || { ts "containerd did not answer before the deadline"; finish 124; }
  sleep 0.5
done
ts "containerd up"
ts "starting dockerd"
# Engine 29 adds a time namespace to every container, which Debian 12's runc 1.1.5 does not know.
if [[ $engine == 29 ]]; then echo '{"features": {"time-namespaces": false}}'; else echo '{}'; fi \
  >/run/docker-uml/daemon.json
# The engine's own firewall rules serve bridge networks and published ports, neither used here:
# off, for 28 too, whose --ip6tables defaults to on (UML loads no ip6tables module). The rules
# for the containers' DNS resolver come anyway, through the legacy backend bound above.
"$dockerd_bin" --containerd /run/containerd-uml/containerd.sock \
  --data-root /run/docker-uml/data --exec-root /run/docker-uml/exec -H "$MVLAN_UML_SOCK" \
  --pidfile /run/docker-uml/docker.pid --storage-driver=vfs --bridge=none \
  --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
  --config-file /run/docker-uml/daemon.json >"$dir/dockerd.log" 2>&1 </dev/null &
dockerd_pid=$!
until "$docker_bin" -H "$MVLAN_UML_SOCK" version >/dev/null 2>&1; do
  kill -0 $dockerd_pid 2>/dev/null || { ts "dockerd exited"; finish 1; }
  (($(date +%s) < scenario_end)) || { ts "dockerd did not answer before the deadline"; finish 124; }
  sleep 0.5
done
ts "dockerd up: $("$docker_bin" -H "$MVLAN_UML_SOCK" version --format 'server {{.Server.Version}}, client {{.Client.Version}}' 2>&1)"
left=$((scenario_end - $(date +%s)))
((left > 0)) || { ts "no time left for the image import"; finish 124; }
timeout "$left" "$docker_bin" -H "$MVLAN_UML_SOCK" import "$image_tar" busybox:e2e >/dev/null ||
  { rc=$?; ts "docker import failed (status $rc)"; ((rc == 124)) && finish 124; finish 1; }
ts "image busybox:e2e imported"

left=$((scenario_end - $(date +%s)))
((left > 0)) || { ts "no time left for the scenario"; finish 124; }
ts "running the scenario (${left}s left)"
# The scenario's own timer (USR1) lets it log where it was; timeout is the backstop.
MVLAN_IN_UML=1 MVLAN_UML_LIB=$lib MVLAN_UML_ENGINE=$engine MVLAN_UML_DOCKER=$docker_bin \
  MVLAN_UML_BIN=$mvlan_bin MVLAN_UML_DEADLINE=$left MVLAN_UML_BOOT=$(($(date +%s) - t0)) \
  timeout --kill-after=3 $((left + 5)) bash "$scenario" "${argv[@]}" >"$dir/test.log" 2>&1 </dev/null
rc=$?
ts "scenario ended with status $rc"
finish "$rc"
