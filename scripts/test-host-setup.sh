#!/usr/bin/env bash
# Prepare this host (Debian 12, root, no systemd) for the integration tests and CI:
# Podman + Docker engines, their API sockets, a second Podman API service that runs
# every container under gVisor (runsc), and the offline sandbox test image.
#
# Idempotent: every step checks first and only does work that is missing, so a
# second run takes seconds.
#
# Usage:  eval "$(bash scripts/test-host-setup.sh)"
# Only `export` lines go to stdout; all progress and tool output goes to stderr.
#
# The engine facts below were measured on machines identical to ours and CI's
# (Debian 12, cgroup v1 "hybrid", no systemd, Podman 4.3.1, Docker 20.10.24); README,
# "Engine problems we have met", lists them for users.
set -euo pipefail

# Keep the real stdout on fd 3 for the final exports and send everything else,
# including the output of every tool we call, to stderr.
exec 3>&1 1>&2

readonly PODMAN_SOCK=/run/podman/podman.sock
readonly PODMAN_PIDFILE=/run/podman/podman-service.pid
readonly PODMAN_LOG=/var/log/podman-service.log
# gVisor: its own Podman API service on its own socket, so the shared service is never
# restarted for it. Podman 4.3 ignores the runtime a Docker-API client asks for
# (HostConfig.Runtime) and containers.conf has no per-runtime flags, so this service makes
# runsc the default runtime and passes runsc its flags:
# - network=none: runsc's own network stack with loopback only; with the default
#   (network=sandbox) it refuses to start here ("cannot run with network enabled in root
#   network namespace"), under Podman and Docker alike;
# - oci-seccomp: apply the container's seccomp profile inside gVisor too.
readonly GVISOR_SOCK=/run/podman/podman-gvisor.sock
readonly GVISOR_PIDFILE=/run/podman/podman-gvisor-service.pid
readonly GVISOR_LOG=/var/log/podman-gvisor-service.log
readonly GVISOR_SERVICE=(podman --runtime runsc --runtime-flag network=none --runtime-flag oci-seccomp
  system service --time=0 "unix://$GVISOR_SOCK")
readonly DOCKER_SOCK=/var/run/docker.sock
readonly DOCKER_LOG=/var/log/dockerd.log
readonly IMAGE=localhost/mcp-sandbox:test
readonly CONTAINERS_CONF=/etc/containers/containers.conf
readonly WAIT_SECONDS=30

# /usr/local/bin/docker is a Docker 28 client that shadows the docker.io client;
# use the client that matches dockerd 20.10, always against dockerd's socket
# (a caller may already have DOCKER_HOST pointing at Podman from a previous run).
readonly DOCKER_CLI=/usr/bin/docker
# (main unsets DOCKER_CONTEXT: the CLI refuses -H together with a context.)
docker_cli() { "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" "$@"; }

readonly START_TIME=$SECONDS
log() { printf '[test-host-setup +%3ds] %s\n' "$((SECONDS - START_TIME))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Set by the steps below, read by later steps.
CONF_CHANGED=0
IMAGE_BUILT=0

# --------------------------------------------------------------------------
# Packages
# --------------------------------------------------------------------------

# podman/docker.io pull in conmon, containerd, tini, iptables and a network stack
# as hard dependencies. Of podman's *recommends* (skipped by
# --no-install-recommends) only catatonit is needed: it is Podman's `--init`
# binary (/usr/libexec/podman/catatonit). uidmap, slirp4netns and fuse-overlayfs
# are only for rootless Podman; we run as root with --network none on ext4, where
# the kernel overlay driver works.
# runsc is gVisor (Debian's build, 20221219), for the gVisor engine.
# flake8 and mypy lint and type-check the Python in sandbox/ (npm run lint).
readonly PACKAGES=(podman runc catatonit runsc debootstrap docker.io curl ca-certificates
  flake8 mypy)

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: all present"
    return
  fi
  log "packages: installing ${missing[*]}"
  # No init system here: keep maintainer scripts from trying to start dockerd
  # with its default (iptables, docker0 bridge) settings; we start it ourselves.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  {
    apt-get update -q &&
      apt-get install -y -q --no-install-recommends "${missing[@]}"
  } || rc=$?
  ((created_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get failed (exit $rc)"
}

# --------------------------------------------------------------------------
# Podman configuration
# --------------------------------------------------------------------------

# Podman's default runtime crun fails here ("cgroups in hybrid mode not supported") -> runc.
# Podman's default rlimits exceed the host's hard limits ("error setting rlimit
# type 7") -> explicit defaults, applied to CLI and API-created containers.
write_containers_conf() {
  local want
  want='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=8192:8192"]
[engine]
runtime = "runc"'
  if [[ -f $CONTAINERS_CONF ]] && [[ "$(cat "$CONTAINERS_CONF")" == "$want" ]]; then
    log "containers.conf: up to date"
    return
  fi
  log "containers.conf: writing $CONTAINERS_CONF"
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  printf '%s\n' "$want" >"$CONTAINERS_CONF"
  CONF_CHANGED=1
}

# --------------------------------------------------------------------------
# Engine daemons
# --------------------------------------------------------------------------

ping_sock() {
  curl -sf --max-time 3 --unix-socket "$1" http://d/_ping >/dev/null 2>&1
}

wait_for_sock() { # sock name
  local i
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    ping_sock "$1" && return 0
    sleep 0.5
  done
  return 1
}

# Start a daemon in its own session, detached from our stdio, so it survives
# this script and does not keep the caller's `$(...)` pipe open (fd 3 closed).
spawn_detached() { # logfile cmd...
  local logfile=$1
  shift
  mkdir -p "$(dirname "$logfile")"
  # From /: a service keeps its working directory, and so do the conmon processes it
  # starts; they fail ("Failed to get working directory") once a caller's checkout is gone.
  (
    cd /
    setsid nohup "$@" >>"$logfile" 2>&1 </dev/null 3>&- &
    echo $!
  )
}

podman_service_pids() {
  # Prefer our pidfile; fall back to the exact command line we start.
  if [[ -f $PODMAN_PIDFILE ]] && kill -0 "$(cat "$PODMAN_PIDFILE")" 2>/dev/null; then
    cat "$PODMAN_PIDFILE"
  else
    pgrep -f "podman system service --time=0 unix://$PODMAN_SOCK" || true
  fi
}

stop_podman_service() {
  local pids pid i
  pids=$(podman_service_pids)
  [[ -n $pids ]] || return 0
  log "podman service: stopping (pid $pids)"
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 20; i++)); do
    ping_sock "$PODMAN_SOCK" || break
    sleep 0.5
  done
  rm -f "$PODMAN_PIDFILE"
}

ensure_podman_service() {
  # The API service reads containers.conf only at start (measured).
  if ((CONF_CHANGED)) && ping_sock "$PODMAN_SOCK"; then
    log "podman service: config changed, restarting"
    stop_podman_service
  fi
  if ping_sock "$PODMAN_SOCK"; then
    log "podman service: running"
    return
  fi
  log "podman service: starting (log $PODMAN_LOG)"
  mkdir -p "$(dirname "$PODMAN_SOCK")"
  rm -f "$PODMAN_SOCK" # a stale socket file makes the listener fail
  # --time=0: never exit on idle; tests may pause longer than the default 5 s.
  spawn_detached "$PODMAN_LOG" podman system service --time=0 "unix://$PODMAN_SOCK" >"$PODMAN_PIDFILE"
  wait_for_sock "$PODMAN_SOCK" || die "podman service did not answer within ${WAIT_SECONDS}s; see $PODMAN_LOG"
  log "podman service: up (pid $(cat "$PODMAN_PIDFILE"))"
}

# The gVisor service: started if it does not answer, restarted if it runs with other
# flags than GVISOR_SERVICE (an older version of this script). Only ever this service.
gvisor_service_pid() {
  [[ -f $GVISOR_PIDFILE ]] || return 0
  local pid
  pid=$(cat "$GVISOR_PIDFILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
  return 0
}

ensure_gvisor_podman_service() {
  local pid want
  pid=$(gvisor_service_pid)
  want=$(printf '%s ' "${GVISOR_SERVICE[@]}")
  if [[ -n $pid ]] && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" != "$want" ]]; then
    log "gvisor podman service: other flags, restarting (pid $pid)"
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 20; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    rm -f "$GVISOR_PIDFILE"
  fi
  if ping_sock "$GVISOR_SOCK"; then
    log "gvisor podman service: running"
    return
  fi
  log "gvisor podman service: starting (log $GVISOR_LOG)"
  mkdir -p "$(dirname "$GVISOR_SOCK")"
  rm -f "$GVISOR_SOCK"
  spawn_detached "$GVISOR_LOG" "${GVISOR_SERVICE[@]}" >"$GVISOR_PIDFILE"
  wait_for_sock "$GVISOR_SOCK" || die "gvisor podman service did not answer within ${WAIT_SECONDS}s; see $GVISOR_LOG"
  log "gvisor podman service: up (pid $(cat "$GVISOR_PIDFILE"))"
}

ensure_dockerd() {
  if ping_sock "$DOCKER_SOCK"; then
    log "dockerd: running"
    return
  fi
  log "dockerd: starting (log $DOCKER_LOG)"
  rm -f "$DOCKER_SOCK"
  # No systemd, so the package does not start it. Sandboxes run
  # with --network none: skip iptables and the docker0 bridge entirely.
  spawn_detached "$DOCKER_LOG" dockerd --iptables=false --ip6tables=false --bridge=none >/dev/null
  wait_for_sock "$DOCKER_SOCK" || die "dockerd did not answer within ${WAIT_SECONDS}s; see $DOCKER_LOG"
  log "dockerd: up"
}

# --------------------------------------------------------------------------
# Sandbox test image (no registry reachable: build from Debian packages)
# --------------------------------------------------------------------------

debian_mirror() {
  local m=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $m && -f /etc/apt/sources.list ]]; then
    # First non-security `deb` line; skip an optional [options] block.
    m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { if ($i !~ /security/) { print $i; exit } break } }' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

BUILD_DIR=""
cleanup_build_dir() {
  [[ -n $BUILD_DIR && -d $BUILD_DIR ]] || return 0
  # debootstrap mounts /proc etc. inside the root; never rm -rf through a mount.
  local mnt
  awk -v d="$BUILD_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" || true; done
  rm -rf --one-file-system "$BUILD_DIR"
  BUILD_DIR=""
}
trap cleanup_build_dir EXIT

build_image() {
  if podman image exists "$IMAGE"; then
    log "image: $IMAGE present in podman"
    return
  fi
  local mirror root
  mirror=$(debian_mirror)
  BUILD_DIR=$(mktemp -d /var/tmp/mcp-sandbox-rootfs.XXXXXX)
  root=$BUILD_DIR/root
  log "image: debootstrap bookworm from $mirror into $root (about a minute)"
  # minbase + python stack only; debootstrap needs no container networking,
  # the most robust option for CI (`podman build` would need container networking).
  debootstrap --variant=minbase \
    --include=python3,python3-pip,python3-numpy,python3-pandas,python3-matplotlib \
    bookworm "$root" "$mirror"
  [[ -x $root/usr/bin/python3 ]] || die "debootstrap produced no /usr/bin/python3"
  # Package caches are dead weight in a read-only sandbox image.
  rm -f "$root"/var/cache/apt/archives/*.deb
  rm -rf "$root"/var/lib/apt/lists/*
  log "image: importing into podman as $IMAGE"
  # An imported image has no config at all; give it the standard PATH so both
  # engines resolve `python3` the same way.
  tar -C "$root" -c . |
    podman import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - "$IMAGE" >/dev/null
  cleanup_build_dir
  IMAGE_BUILT=1
}

verify_podman_image() {
  log "image: verifying in podman (uid 65534, read-only root, no network)"
  local out
  out=$(podman run --rm --read-only --user 65534:65534 --network none "$IMAGE" \
    python3 -c 'import numpy, pandas, matplotlib; print("ok")') ||
    die "image check failed in podman"
  [[ $out == ok ]] || die "image check in podman printed: $out"
}

load_image_into_docker() {
  # Reload when we just rebuilt it, so Docker never tests a stale image.
  if ((IMAGE_BUILT == 0)) && docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
    log "image: $IMAGE present in docker"
    return
  fi
  log "image: loading into docker"
  local out id
  out=$(podman save "$IMAGE" | docker_cli load)
  log "docker load: $out"
  if ! docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
    # Podman's archive may carry a different name; tag whatever was loaded.
    id=$(sed -n 's/^Loaded image\( ID\)\?: //p' <<<"$out" | tail -n1)
    [[ -n $id ]] || die "could not tell which image docker loaded"
    docker_cli tag "$id" "$IMAGE"
  fi
  docker_cli image inspect "$IMAGE" >/dev/null || die "$IMAGE not usable in docker"
}

# Through the gVisor service's API, as the tests use it: the kernel must be gVisor's.
verify_gvisor() {
  log "gvisor: verifying that its service runs containers under runsc"
  local out
  out=$(podman --remote --url "unix://$GVISOR_SOCK" run --rm --network none --user 65534:65534 \
    "$IMAGE" python3 -c 'import os; print(os.uname().version)') ||
    die "gvisor check failed; see $GVISOR_LOG"
  [[ $out == "#1 SMP Sun Jan 10 15:06:54 PST 2016" ]] ||
    die "the gvisor service's containers report kernel '$out', not gVisor's"
}

verify_docker_image() {
  log "image: verifying in docker"
  local out
  out=$(docker_cli run --rm --read-only --user 65534:65534 --network none "$IMAGE" \
    python3 -c 'print(1)') || die "image check failed in docker"
  [[ $out == 1 ]] || die "image check in docker printed: $out"
}

# --------------------------------------------------------------------------

main() {
  [[ $(id -u) == 0 ]] || die "must run as root"
  unset DOCKER_HOST DOCKER_CONTEXT CONTAINER_HOST
  install_packages
  write_containers_conf
  ensure_podman_service
  ensure_gvisor_podman_service
  ensure_dockerd
  build_image
  verify_podman_image
  verify_gvisor
  load_image_into_docker
  verify_docker_image
  log "done"
  cat >&3 <<EOF
export MCP_BRIDGE_TEST_PODMAN_HOST=unix://$PODMAN_SOCK
export MCP_BRIDGE_TEST_DOCKER_HOST=unix://$DOCKER_SOCK
export MCP_BRIDGE_TEST_GVISOR_HOST=unix://$GVISOR_SOCK
export DOCKER_HOST=unix://$PODMAN_SOCK
export MCP_BRIDGE_IMAGE=$IMAGE
EOF
}

main "$@"
