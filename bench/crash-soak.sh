#!/usr/bin/env bash
# Crash soak: the CI crash test (crates/server/tests/server/crash.rs) for many cycles.
# Each cycle runs a concurrent create/modify/delete load from several signed
# clients, kills `vpngw serve` with SIGKILL at a random moment, restarts it and
# checks every acknowledged write and the database itself.
#
#   bench/crash-soak.sh [cycles] [clients]      (default 200 cycles, 8 clients)
#
# A failure prints VPNGW_CRASH_SEED=…; rerun with that seed to replay the
# same load and kill times (timing still varies).
set -euo pipefail
cd "$(dirname "$0")/.."
export VPNGW_CRASH_CYCLES="${1:-200}"
export VPNGW_CRASH_CLIENTS="${2:-8}"
exec cargo test --release -p vpngw --test server crash::acknowledged_writes_survive_sigkill -- --nocapture
