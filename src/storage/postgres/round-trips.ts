/**
 * Round trips to PostgreSQL, counted where the engine's pool sends each statement (one
 * `client.query` is one round trip: node-postgres sends the next only after the server answered
 * the last). Cost guards and the bench read it (`PostgresStore.roundTrips`); it records nothing
 * while nobody traces.
 */

/** One traced run: the SQL text of every round trip it saw, in order. */
export interface RoundTripTrace {
  /** Stops tracing; returns the SQL of every round trip made meanwhile (by anyone on this store's pool). */
  stop(): string[];
}

/** Counts every round trip of one store's pool. */
export class RoundTripCounter {
  /** Round trips since the store opened. */
  total = 0;
  private readonly traces = new Set<string[]>();

  /** Called by the pool for each statement it sends. */
  record(text: string): void {
    this.total++;
    for (const t of this.traces) t.push(text);
  }

  /** Starts recording the SQL of each round trip until `stop()`. */
  trace(): RoundTripTrace {
    const seen: string[] = [];
    this.traces.add(seen);
    return {
      stop: () => {
        this.traces.delete(seen);
        return seen;
      },
    };
  }
}
