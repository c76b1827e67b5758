/** Under a supervisor's usual grace (Kubernetes 30 s, systemd 90 s), so the exit is ours and logged. */
const STOP_DEADLINE_MS = 25_000;

/**
 * Exits 1 with a line if the stop that begins now has not finished by the deadline. A database that
 * stopped answering (PGlite after a refused fsync, a partitioned server) would hold it forever.
 * Nothing acknowledged is at stake: a 200 went out only after its commit, and an event still held
 * comes back when its lease expires.
 */
export function armStopDeadline(): void {
  setTimeout(() => {
    console.error(`shutdown did not finish within ${STOP_DEADLINE_MS / 1000} s: exiting`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
}
