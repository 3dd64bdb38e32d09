#!/usr/bin/env bash
# Builds the container image from the project's Dockerfile without a Docker engine, with Debian's
# buildah, and without pulling from any image registry: the Node base image is made here, from a
# Debian root filesystem (mmdebstrap, Debian packages only) plus this machine's Node and npm.
#
# Usage: scripts/build-image.sh [--smoke-test]
#   --smoke-test   then start the image's entrypoint in a buildah container and wait for /readyz
# Environment:
#   IMAGE          tag of the result               (default localhost/keda-otlp-scaler:dev)
#   BASE_IMAGE     tag of the Node base image      (default localhost/keda-otlp-scaler-node-base:<node version>)
#   APT_SOURCES    apt sources for the base root   (default this machine's Debian sources)
#   REBUILD_BASE=1 make the base image again even when it exists
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
smoke=false
for arg in "$@"; do
  case "$arg" in
    --smoke-test) smoke=true ;;
    *) echo "unknown argument: $arg (usage: $0 [--smoke-test])" >&2; exit 2 ;;
  esac
done

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p process.versions.node)
image=${IMAGE:-localhost/keda-otlp-scaler:dev}
base=${BASE_IMAGE:-localhost/keda-otlp-scaler-node-base:$node_version}
# vfs works wherever the build runs, including inside another container where overlay mounts fail.
buildah=(buildah --storage-driver vfs)

log() { printf '\n== %s\n' "$*" >&2; }

install_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing from Debian: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

apt_sources() {
  if [ -n "${APT_SOURCES:-}" ]; then echo "$APT_SOURCES"; return; fi
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$f" ]; then echo "$f"; return; fi
  done
  echo "no Debian apt sources found; set APT_SOURCES to a .sources or .list file" >&2
  exit 1
}

# The layout of the official Node images (/usr/local/bin/node, npm beside it), so the Dockerfile
# runs unchanged on either base.
make_base() {
  local work npm_dir ctr
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)

  log "Debian root filesystem (mmdebstrap, minbase)"
  mmdebstrap --variant=minbase --include=ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$work/rootfs.tar" "$(apt_sources)" </dev/null

  log "Node $node_version and npm from this machine"
  mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules" "$work/node/usr/local/etc"
  cp "$node_bin" "$work/node/usr/local/bin/node"
  # Distribution builds of node may carry debug symbols (10+ MB) the image has no use for.
  if command -v strip >/dev/null; then strip --strip-all "$work/node/usr/local/bin/node"; fi
  cp -a "$npm_dir" "$work/node/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
  tar -C "$work/node" -cf "$work/node.tar" .

  log "base image $base"
  ctr=$("${buildah[@]}" from scratch)
  "${buildah[@]}" add "$ctr" "$work/rootfs.tar" /
  "${buildah[@]}" add "$ctr" "$work/node.tar" /
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd node --label "org.opencontainers.image.description=Debian bookworm with Node $node_version" "$ctr"
  "${buildah[@]}" commit --rm "$ctr" "$base" >/dev/null
}

# npm inside the build trusts what this machine trusts (its CA bundle may hold a TLS-inspecting
# proxy's CA that Debian's bundle lacks). The bundle and an npmrc naming it are mounted for the
# RUN steps only, so neither ends up in the image.
build_image() {
  local bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt} mounts=() npmrc
  if [ -s "$bundle" ]; then
    npmrc=$(mktemp)
    echo 'cafile=/run/host-ca/ca-certificates.crt' >"$npmrc"
    chmod 644 "$npmrc"
    mounts=(--volume "$bundle:/run/host-ca/ca-certificates.crt:ro" --volume "$npmrc:/usr/local/etc/npmrc:ro")
  fi
  log "image $image from $root/Dockerfile"
  "${buildah[@]}" bud --isolation chroot --pull-never --layers=false "${mounts[@]}" \
    --build-arg "NODE_IMAGE=$base" -t "$image" -f "$root/Dockerfile" "$root"
  [ -z "${npmrc:-}" ] || rm -f "$npmrc"
}

# Runs the image's entrypoint in a buildah container (chroot isolation shares this machine's
# network and process table) on free ports, waits for /readyz to answer 200, then stops the
# scaler with SIGTERM as Kubernetes would and checks that it shut down cleanly.
smoke_test() {
  local ctr run_pid scaler_pid out port_grpc port_otlp_http port_http i ready=false stopped=false queried=false
  read -r port_grpc port_otlp_http port_http < <(node -e '
    const net = require("node:net");
    const take = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
    Promise.all([take(), take(), take()]).then((p) => console.log(p.join(" ")));')
  out=$(mktemp)
  ctr=$("${buildah[@]}" from --pull-never "$image")
  log "smoke test: $image on ports $port_grpc $port_otlp_http $port_http"
  "${buildah[@]}" run --isolation chroot --user 10001:10001 "$ctr" -- \
    /usr/local/bin/node /app/dist/src/main.js --listen-address 127.0.0.1 \
    --otlp-grpc-port "$port_grpc" --otlp-http-port "$port_otlp_http" --http-port "$port_http" >"$out" 2>&1 &
  run_pid=$!
  for i in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:$port_http/readyz" 2>/dev/null; then ready=true; break; fi
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 1
  done
  if $ready; then
    curl -sS -o /dev/null -w 'GET /healthz -> %{http_code}\n' "http://127.0.0.1:$port_http/healthz" || true
    curl -sS -o /dev/null -w 'GET /metrics -> %{http_code}\n' "http://127.0.0.1:$port_http/metrics" || true
    curl -sS -o /dev/null -w 'GET / (web page) -> %{http_code}\n' "http://127.0.0.1:$port_http/" || true
    # One gauge point over OTLP/HTTP JSON, read back through PromQL: the image decodes, stores, queries.
    local now body answer
    now=$(node -p 'String(BigInt(Date.now()) * 1000000n)')
    body='{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"smoke-test"}}]},"scopeMetrics":[{"metrics":[{"name":"smoke.test.value","gauge":{"dataPoints":[{"asDouble":42,"timeUnixNano":"'"$now"'"}]}}]}]}]}'
    curl -sS -o /dev/null -w 'POST /v1/metrics -> %{http_code}\n' -H 'Content-Type: application/json' \
      --data "$body" "http://127.0.0.1:$port_otlp_http/v1/metrics" || true
    answer=$(curl -sS "http://127.0.0.1:$port_http/api/v1/query?query=sum(smoke_test_value%7Bjob%3D%22smoke-test%22%7D)" || true)
    echo "PromQL sum(smoke_test_value{job=\"smoke-test\"}) -> $answer"
    case "$answer" in *'"42"'*) queried=true ;; esac
  fi
  # The scaler logs its pid when listening; it is signalled directly, checked first to be ours.
  scaler_pid=$(node -e '
    for (const line of require("node:fs").readFileSync(process.argv[1], "utf8").split("\n")) {
      try { const r = JSON.parse(line); if (r.msg === "keda-otlp-scaler listening") { console.log(r.pid); break; } } catch {}
    }' "$out" || true)
  if [ -n "$scaler_pid" ] && grep -q 'dist/src/main.js' "/proc/$scaler_pid/cmdline" 2>/dev/null; then
    kill -TERM "$scaler_pid"
    for i in $(seq 1 20); do
      kill -0 "$run_pid" 2>/dev/null || { stopped=true; break; }
      sleep 0.5
    done
  fi
  $stopped || kill -TERM "$run_pid" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
  "${buildah[@]}" rm "$ctr" >/dev/null
  echo "--- scaler output"; cat "$out"; echo "---"
  rm -f "$out"
  if ! $ready; then echo "smoke test failed: /readyz never answered" >&2; return 1; fi
  if ! $queried; then echo "smoke test failed: a pushed OTLP point did not come back from PromQL" >&2; return 1; fi
  if ! $stopped; then echo "smoke test failed: the scaler did not stop on SIGTERM" >&2; return 1; fi
  echo "smoke test passed: /readyz answered 200, an OTLP point came back from PromQL, SIGTERM stopped the scaler"
}

install_tools
if [ "${REBUILD_BASE:-0}" = 1 ] || ! "${buildah[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  make_base
fi
previous=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)
build_image
current=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "$image")
# The old build lost its tag to the new one; vfs keeps every layer whole, so it is removed.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then "${buildah[@]}" rmi "$previous" >/dev/null 2>&1 || true; fi
"${buildah[@]}" images "$image"
if $smoke; then smoke_test; fi
