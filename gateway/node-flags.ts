/**
 * Node flags the daemon runs with in production (systemd/edge-gateway.service passes them in
 * NODE_OPTIONS; the test harness and the benchmark spawn the daemon with them too, so what is
 * measured is what is deployed).
 *
 * --max-semi-space-size=1: V8's young generation otherwise grows to tens of MB under a steady
 * stream of short-lived readings. At the intersection load this took peak RSS from ~120 MB to
 * ~89 MB with no measurable change in CPU (npm run bench, 2026-11-25). Cannot be set at run time:
 * v8.setFlagsFromString comes too late for the heap's layout.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
