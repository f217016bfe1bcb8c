/**
 * The PostgreSQL queue's names and defaults, without pg: importing them (the scenario runner, the
 * fault scripts) loads no database driver. The queue itself is src/engine/queue/pg-boss.ts.
 */

/** Default fallback poll (ms) while notifications flow: pg-boss fetches and waiters' re-reads. */
export const PG_POLL_MS = 1_000;

/** The pg-boss queue (job name) that carries background operations. */
export const OPERATION_JOB = 'checkout-operation';

/** The pg-boss schema for an engine schema. */
export function bossSchemaFor(schema: string): string {
  if (schema === 'public') return 'pgboss';
  const name = `${schema}_pgboss`;
  return name.length <= 63 ? name : `pgboss_${schema.slice(-50)}`;
}
