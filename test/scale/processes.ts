/**
 * The parent side of the engine child processes (test/scale/engine-child.ts): fork, invoke over
 * IPC, kill -9, close.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEntry } from '../helpers/child-build.js';
import type { ChildMessage, ChildRequest } from './engine-child.js';

const CHILD = fileURLToPath(new URL('./engine-child.ts', import.meta.url));
/** The child as built once for a vitest run, else its .ts under tsx (test/helpers/child-build.ts). */
const CHILD_RUN = childEntry(CHILD);

/** Result of one invocation in a child: the action results and the time the child took. */
export interface Invoked {
  result: {
    isSuccess: boolean;
    errors: { statusCode: string; message: string }[] | null;
    outputValues: Record<string, unknown> | null;
    httpStatus: number;
  }[];
  ms: number;
}

/** One engine process. */
export class EngineProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Invoked) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  /** Operations the child reported at its commit point (with ENGINE_COMMIT_DELAY_MS). */
  readonly atCommit: string[] = [];
  /** Called on every atCommit report. */
  onAtCommit?: (operationId: string) => void;
  private exited = false;

  constructor(
    storage: string,
    env: Record<string, string> = {},
    readonly name = 'engine',
  ) {
    const child: ChildProcess = fork(CHILD_RUN.file, [], {
      execArgv: CHILD_RUN.execArgv,
      env: { ...process.env, ENGINE_STORAGE: storage, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'atCommit') {
          this.atCommit.push(m.operationId);
          this.onAtCommit?.(m.operationId);
        } else {
          const w = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          if (m.type === 'result') w?.resolve({ result: m.result as Invoked['result'], ms: m.ms });
          else w?.reject(new Error(m.error));
        }
      });
    });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${name} died`));
      this.waiting.clear();
    });
  }

  private readonly child: ChildProcess;

  /** The child's pid. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Invokes an action in the child. */
  invoke(action: string, inputs: unknown[], userId: string): Promise<Invoked> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is dead`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ type: 'invoke', id, action, inputs, userId } satisfies ChildRequest);
    });
  }

  /** Runs engine.runCheckout in the child; resolves with the run and the time it took there. */
  checkout(cartId: string, userId: string): Promise<{ result: unknown; ms: number }> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is dead`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: Invoked) => void, reject });
      this.child.send({ type: 'checkout', id, cartId, userId } satisfies ChildRequest);
    });
  }

  /** kill -9: no cleanup, no graceful anything. */
  kill9(): void {
    this.child.kill('SIGKILL');
  }

  /** Closes the engine and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'close' } satisfies ChildRequest);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (!this.exited) this.kill9();
  }
}
