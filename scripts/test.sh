#!/usr/bin/env bash
# The whole test suite: installs the Debian packages the suites need, the npm dependencies, builds,
# lints, then runs every suite. Suites start their own PostgreSQL, Redis and other services.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
# The npm dependencies and the build go on while apt installs the Debian packages: neither needs
# the other, and both spend much of their time waiting on the network.
deps_log=$(mktemp)
(
  if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    npm run --silent build
  else
    # `npm ci` runs the package's `prepare` script, which is the build: no second build after it.
    stamp=$(mktemp)
    npm ci --no-audit --no-fund
    [ dist/cli/main.js -nt "$stamp" ] || npm run --silent build
    rm -f "$stamp"
  fi
) >"$deps_log" 2>&1 &
deps_pid=$!

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v promtool >/dev/null || need+=(prometheus)
command -v git >/dev/null || need+=(git)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v chromium >/dev/null || need+=(chromium)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v docker-compose >/dev/null || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing Debian packages: ${need[*]} (run as root to install)" >&2; exit 1; fi
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The postgresql package starts a cluster of its own; the suites never use it.
if command -v service >/dev/null && service postgresql status >/dev/null 2>&1; then service postgresql stop >/dev/null 2>&1 || true; fi

packages_done=$SECONDS
deps_status=0
wait "$deps_pid" || deps_status=$?
cat "$deps_log"
rm -f "$deps_log"
if [ "$deps_status" != 0 ]; then echo "npm dependencies or build failed (exit $deps_status)" >&2; exit 1; fi
deps_done=$SECONDS
# The type check and the linters run beside the suites (which only need the build): the suites
# leave CPU idle while they wait on services, and these fill it. Their output follows the suites'.
checks=$(mktemp)
(npx tsc -p tsconfig.json --noEmit && npx biome check . && npx tsx scripts/check-boundaries.ts) >"$checks" 2>&1 &
checks_pid=$!
report=$(mktemp)
# The reliability suites record their counts here; the table is printed after the run.
export RELIABILITY_TALLY
RELIABILITY_TALLY=$(mktemp)
# The services suites record the CPU seconds each file cost here (test/setup/cpu-per-file.ts).
export CPU_TALLY
CPU_TALLY=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
suites_done=$SECONDS
checks_status=0
wait "$checks_pid" || checks_status=$?
cat "$checks"
rm -f "$checks"
if [ "$checks_status" != 0 ]; then
  echo "type check or lint failed (exit $checks_status)"
  status=1
fi
npx tsx scripts/reliability-table.ts "$RELIABILITY_TALLY" || true
rm -f "$RELIABILITY_TALLY"
# The closing lines, whatever the reporter printed above: each failure with the first line of its
# message (so a log's tail names it), then one plain line of counts. A file whose setup failed fails
# none of its tests (they are skipped), so failed files are listed and counted too.
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const first = (m) => String(m ?? "").split("\n").find((l) => l.trim()) ?? "";
  const rel = (f) => require("path").relative(process.cwd(), f);
  // The slowest files, so a log tail tells where the run spent its time.
  const took = r.testResults.map((f) => [rel(f.name), Math.round((f.endTime - f.startTime) / 1000)]);
  for (const [name, s] of took.sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`slow: ${s}s ${name}`);
  // And the files that cost the most CPU (their process and the processes they started), which is
  // what the run shares among its files.
  const cpu = require("fs").readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const total = cpu.reduce((sum, c) => sum + c.cpu, 0);
  for (const c of cpu.sort((a, b) => b.cpu - a.cpu).slice(0, 15)) console.log(`cpu: ${c.cpu}s ${c.file}`);
  if (cpu.length > 0) console.log(`cpu: ${total}s in ${cpu.length} services files`);
  for (const f of r.testResults.filter((f) => f.status === "failed")) {
    const failed = f.assertionResults.filter((a) => a.status === "failed");
    if (failed.length === 0) console.log(`FAILED ${rel(f.name)}: ${first(f.message)}`);
    for (const a of failed) console.log(`FAILED ${rel(f.name)} > ${a.fullName}: ${first(a.failureMessages[0])}`);
  }
  const extra = [];
  const failedFiles = r.testResults.filter((f) => f.status === "failed").length;
  if (failedFiles > 0) extra.push(`${failedFiles} file(s) failed`);
  if (r.numPendingTests > 0) extra.push(`${r.numPendingTests} skipped`);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${extra.length ? `; ${extra.join(", ")}` : ""}`)' "$report" "$CPU_TALLY" || true
rm -f "$report" "$CPU_TALLY"
echo "time: Debian packages $((packages_done - started))s, npm and build $((deps_done - started))s (beside them), suites $((suites_done - deps_done))s, total $((SECONDS - started))s"
exit "$status"
