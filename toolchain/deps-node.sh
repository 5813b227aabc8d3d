#!/bin/sh
# Install the Node test peers (aedes, mqtt-packet, playwright-core) in
# test/node/node_modules exactly as test/node/package-lock.json pins them.
#
# Idempotent: `npm ci` runs only when node_modules is missing or older than
# the lockfile (a stamp file written after a successful install records
# that).  Quiet unless it fails; retried twice.  Needs node and npm on PATH.
# No browser is downloaded: browser tests use Debian's /usr/bin/chromium.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/test/node
STAMP=$DIR/node_modules/.dmqtt-stamp
LOG=$ROOT/build/deps/deps-node.log

die() { echo "deps-node: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node is not on PATH (toolchain/deps.sh installs it)"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH (toolchain/deps.sh installs it)"
[ -f "$DIR/package-lock.json" ] || die "missing $DIR/package-lock.json"

# Up to date: stamp exists and is newer than both package files.
current() {
	[ -f "$STAMP" ] && [ ! "$DIR/package-lock.json" -nt "$STAMP" ] &&
		[ ! "$DIR/package.json" -nt "$STAMP" ]
}
current && exit 0

# Tests running in parallel may all call this: one installs, the others
# wait and then find the stamp.
mkdir -p "$(dirname "$LOG")"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$(dirname "$LOG")/deps-node.lock"
	flock 9
	current && exit 0
fi
: >"$LOG"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
i=0
until (cd "$DIR" && npm ci --no-audit --no-fund) >>"$LOG" 2>&1; do
	i=$((i + 1))
	if [ $i -gt 2 ]; then
		tail -n 30 "$LOG" >&2
		die "npm ci failed 3 times; see $LOG"
	fi
	echo "deps-node: npm ci failed, retrying ($i/2)" >>"$LOG"
	sleep 3
done
# Smoke: the ESM entry points load.
(cd "$DIR" && node --input-type=module -e \
	"import { Aedes } from 'aedes'; import 'mqtt-packet'; import 'playwright-core'; if (typeof Aedes.createBroker !== 'function') process.exit(1)") \
	>>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "installed modules do not load; see $LOG"; }
touch "$STAMP"
