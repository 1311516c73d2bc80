#!/usr/bin/env bash
# A second Docker engine on this machine, in a network namespace of its own: a stand-in for a
# second host in the scale-out tests (docs/scale-out.md; ../shared/notes/swarm-facts.md).
#
#   tests/swarm/node.sh start NAME INDEX   # netns NAME at 10.250.0.INDEX (2-254) on bridge pgs-swbr
#   tests/swarm/node.sh stop NAME          # stops its engine (and so its containers)
#   tests/swarm/node.sh destroy NAME       # stop, then remove its namespace, link and data
#
# Nodes share one bridge on the host (10.250.0.1/24), so they reach each other and the host
# reaches them; they reach further out through the host (NAT), as hosts reach a package mirror. The engine listens on unix:///run/NAME/docker.sock only, keeps its data under /var/lib/NAME,
# its own containerd namespace and cgroup parent, and the host's storage driver and MTU.
# `start` prints the engine's socket URL; it is idempotent.
set -euo pipefail
cmd="${1:?usage: node.sh start NAME INDEX | stop NAME | destroy NAME}"
name="${2:?node name}"
run="/run/$name"
sock="unix://$run/docker.sock"

engine_up() { DOCKER_HOST="$sock" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

stop() {
  if [ -f "$run/docker.pid" ]; then
    local pid; pid=$(cat "$run/docker.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$run/docker.pid"
  fi
}

case "$cmd" in
start)
  index="${3:?index (2-254): the node is 10.250.0.INDEX}"
  mkdir -p "$run" "/var/lib/$name"
  if ! ip link show pgs-swbr >/dev/null 2>&1; then
    ip link add pgs-swbr type bridge
    ip addr add 10.250.0.1/24 dev pgs-swbr
    ip link set pgs-swbr up mtu 1400
  fi
  # Docker's FORWARD policy is DROP; bridged traffic passes it when br_netfilter is loaded.
  iptables -C FORWARD -i pgs-swbr -o pgs-swbr -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i pgs-swbr -o pgs-swbr -j ACCEPT
  # Out through the host, as a host reaches a package mirror (the engines build images).
  iptables -t nat -C POSTROUTING -s 10.250.0.0/24 ! -o pgs-swbr -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s 10.250.0.0/24 ! -o pgs-swbr -j MASQUERADE
  iptables -C FORWARD -i pgs-swbr ! -o pgs-swbr -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -i pgs-swbr ! -o pgs-swbr -j ACCEPT
  iptables -C FORWARD -o pgs-swbr -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null \
    || iptables -I FORWARD -o pgs-swbr -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  if ! ip netns list | grep -qw "$name"; then
    ip netns add "$name"
    ip link add "$name-h" type veth peer name "$name-n"
    ip link set "$name-n" netns "$name"
    ip link set "$name-h" master pgs-swbr mtu 1400 up
    ip netns exec "$name" ip addr add "10.250.0.$index/24" dev "$name-n"
    ip netns exec "$name" ip link set "$name-n" up mtu 1400
    ip netns exec "$name" ip link set lo up
    ip netns exec "$name" ip route add default via 10.250.0.1
  fi
  if ! engine_up; then
    driver=$(docker info --format '{{.Driver}}')
    cat >"$run/daemon.json" <<JSON
{"data-root": "/var/lib/$name/docker", "exec-root": "$run/exec", "pidfile": "$run/docker.pid",
 "hosts": ["$sock"], "storage-driver": "$driver", "mtu": 1400,
 "containerd-namespace": "$name", "containerd-plugins-namespace": "$name-plugins",
 "cgroup-parent": "/$name", "log-driver": "json-file"}
JSON
    # nsenter, not `ip netns exec` (which remounts /sys, and dockerd then finds no devices cgroup).
    nsenter --net="/var/run/netns/$name" dockerd --config-file "$run/daemon.json" >"$run/dockerd.log" 2>&1 &
    for _ in $(seq 300); do engine_up && break; sleep 0.1; done
    engine_up || { tail -20 "$run/dockerd.log" >&2; echo "the engine of $name did not start" >&2; exit 1; }
  fi
  echo "$sock"
  ;;
stop) stop ;;
destroy)
  stop
  ip netns del "$name" 2>/dev/null || true
  ip link del "$name-h" 2>/dev/null || true
  # The bridge goes with the last node on it.
  if ip link show pgs-swbr >/dev/null 2>&1 && [ -z "$(ls /sys/class/net/pgs-swbr/brif 2>/dev/null)" ]; then
    ip link del pgs-swbr
    iptables -D FORWARD -i pgs-swbr -o pgs-swbr -j ACCEPT 2>/dev/null || true
    iptables -t nat -D POSTROUTING -s 10.250.0.0/24 ! -o pgs-swbr -j MASQUERADE 2>/dev/null || true
    iptables -D FORWARD -i pgs-swbr ! -o pgs-swbr -j ACCEPT 2>/dev/null || true
    iptables -D FORWARD -o pgs-swbr -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  fi
  # What the engine left mounted (its network namespace handles, container file systems).
  awk -v a="$run/" -v b="/var/lib/$name/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts \
    | sort -r | xargs -r -n1 umount -l
  rm -rf "/var/lib/$name" "$run"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
