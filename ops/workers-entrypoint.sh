#!/bin/sh
# Entrypoint of the compose file's `workers` service: its sandboxes are containers of the HOST's
# Docker engine (the socket is mounted in), and that engine reads every bind mount's source on the
# host. So whatever the runtime mounts into a sandbox (the data directory with the workspaces, the
# orchestrator package, the node binary) must sit at the same path here and on the host:
# WORKERS_HOST_DIR is a host folder mounted at its own path. The package and node are copied there
# once per image build, then the CLI runs from that copy (`serve --roles workers`).
set -eu
: "${WORKERS_HOST_DIR:?set WORKERS_HOST_DIR: a host folder mounted at the same path}"
shared="$WORKERS_HOST_DIR/runtime"
build="$(cat /opt/orchestrator/.build-id)"
if [ "$(cat "$shared/.build-id" 2>/dev/null || true)" != "$build" ]; then
  rm -rf "$shared.new"
  mkdir -p "$shared.new/node/bin"
  cp -a /opt/orchestrator "$shared.new/app"
  cp -a "$(command -v node)" "$shared.new/node/bin/node"
  printf '%s\n' "$build" >"$shared.new/.build-id"
  rm -rf "$shared"
  mv "$shared.new" "$shared"
fi
exec /usr/bin/tini -- "$shared/node/bin/node" --enable-source-maps "$shared/app/bin/orchestrator.js" "$@"
