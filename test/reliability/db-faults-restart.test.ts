/**
 * Database faults: a PostgreSQL server restart in the middle of a run. The test starts a PRIVATE,
 * throwaway cluster (initdb into a temp folder, its own port) so stopping it disturbs no one else,
 * and removes it at the end. While the server is down, calls — in the library and over HTTP — get
 * SERVICE_UNAVAILABLE 503 at once (a refused connection; connect_timeout bounds a silent one), a call
 * caught in the middle of a transaction by the shutdown included; once the server is back the same
 * engine (no restart, no new engine) serves the same calls, the session exactly as it was.
 * Needs PostgreSQL's server binaries (initdb, pg_ctl: Debian's postgresql package, as on CI); as root
 * the cluster runs as the `postgres` user. Without them the test fails; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import { StorageFault } from '../../src/errors.js';
import { errorOf } from '../helpers/engine.js';
import { PASSWORD, startTestServer, V, type TestServer } from '../http/helpers.js';

/** The newest PostgreSQL server binaries installed (Debian layout), or PG_BINDIR. */
function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error(`No PostgreSQL server binaries (initdb) under ${root}; install postgresql or set PG_BINDIR.`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A throwaway PostgreSQL cluster: initdb, start, stop, start again, remove. */
class PrivateCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'dbfault-pg-'));
  private readonly data = join(this.dir, 'data');
  private readonly bin = binDir();
  private readonly asRoot = process.getuid?.() === 0;
  constructor(readonly port: number) {
    if (this.asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(this.dir, uid, gid);
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: string[]): void {
    const cmd = join(this.bin, tool);
    const [file, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  }

  init(): void {
    this.run('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  }

  start(): void {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
    this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  remove(): void {
    try {
      this.stop('immediate');
    } catch {
      /* already stopped */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let cluster: PrivateCluster;

beforeAll(async () => {
  cluster = new PrivateCluster(await freePort());
  cluster.init();
  cluster.start();
}, 120_000);

afterAll(() => cluster?.remove());

const CLAIM = { expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' };

describe('PostgreSQL server restart mid-run (private cluster)', { timeout: 30_000 }, () => {
  it('calls during the outage fail fast with SERVICE_UNAVAILABLE 503 (library and HTTP, one caught mid-transaction); after the restart the same engine serves them', async () => {
    const errors: unknown[] = [];
    const location = `${cluster.url}?schema=restart&connect_timeout=2`;
    const t: TestServer = await startTestServer(location, { engine: { onError: (e) => errors.push(e) } });
    const engine: CheckoutEngine = t.engine;
    const { ids } = t;
    const buyer = { userId: ids.buyer! };
    const claim = () =>
      engine.invoke('updateCheckoutSessionStateAction', [{ checkoutSessionId: ids.session, ...CLAIM }], buyer).then((r) => r[0]!);
    const session = async () => {
      const s = await engine.getRecord('CartCheckoutSession', ids.session!);
      return { State: s.State, NextState: s.NextState, IsProcessing: s.IsProcessing };
    };
    try {
      const token = await t.token('buyer@acme.example', PASSWORD);
      const before = await session();
      const soql = `${V}/query?q=${encodeURIComponent(`SELECT Id, State FROM CartCheckoutSession WHERE Id = '${ids.session}'`)}`;
      expect((await t.call('GET', soql, { token })).status).toBe(200);

      // A call in the middle of its transaction (waiting for a row another client locked) when the server stops.
      const admin = new pg.Client({ connectionString: cluster.url });
      admin.on('error', () => {});
      await admin.connect();
      await admin.query('begin');
      await admin.query(`select 1 from restart."CartCheckoutSession" where "Id" = $1 for update`, [ids.session]);
      const inFlight = claim();
      for (let i = 0; ; i++) {
        await admin.query('select pg_stat_clear_snapshot()');
        const { rows } = await admin.query(
          `select 1 from pg_stat_activity where application_name = 'checkout-engine' and wait_event_type = 'Lock'`,
        );
        if (rows.length) break;
        if (i > 400) throw new Error('the claim never waited for the lock');
        await new Promise((r) => setTimeout(r, 25));
      }
      cluster.stop('fast');
      await admin.end().catch(() => {});

      const r = await inFlight; // its connection was cut; the re-runs found the server gone
      expect(errorOf(r)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(errorOf(r).message).toMatch(/database is unavailable/);

      // Calls while the server is down: a clear error, no hang.
      const down = await claim().then(
        () => null,
        (e: unknown) => e,
      );
      expect(down).toBeInstanceOf(StorageFault);
      expect(down).toMatchObject({ key: 'STORAGE_UNAVAILABLE', code: 'SERVICE_UNAVAILABLE', status: 503, committed: false });
      const viaHttp = await t.call('GET', soql, { token });
      expect(viaHttp.status).toBe(503);
      expect(viaHttp.body).toEqual([
        { errorCode: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/^The database is unavailable/), fields: [] },
      ]);

      cluster.start();

      // The same engine and server, without a restart of either.
      expect(await session()).toEqual(before);
      expect((await t.call('GET', soql, { token })).body.records[0].State).toBe(before.State);
      const ok = await claim();
      expect(ok.isSuccess, JSON.stringify(ok.errors)).toBe(true);
      expect((await session()).NextState).toBe('cartToOrder');
      expect(errors.every((e) => !(e instanceof TypeError))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
