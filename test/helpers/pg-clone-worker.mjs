// Worker thread of test/helpers/pg-template.ts: runs one SQL script per request on its own
// connection and wakes the waiting (blocked) test thread through the shared flag.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

const client = new pg.Client({ connectionString: workerData.url });
const connected = client.connect();

parentPort.on('message', async ({ sql, flag, port }) => {
  const done = new Int32Array(flag);
  try {
    await connected;
    await client.query(sql);
    await client.query('reset all'); // the script's SETs (search_path and others) end with it
    port.postMessage({ ok: true });
  } catch (e) {
    port.postMessage({ ok: false, error: String(e?.stack ?? e) });
  }
  port.close();
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});
