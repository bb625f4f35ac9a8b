/**
 * The run log (algo_runs): a run row is written RUNNING and committed at once, then closed
 * SUCCESS or FAILED. A run whose process dies cannot close its own row, so each run records its
 * owner and proves it is alive for as long as it runs (docs/operations.md "Abandoned runs"):
 * - where the dialect has a session lock (PostgreSQL), the run's process holds an advisory lock
 *   keyed by the run id on a connection of its own, taken before the row is committed and freed
 *   when the run is closed or the connection ends (a killed process's connection ends with it);
 * - elsewhere (SQLite, a file on this host) the row names the owner's pid, host and process start
 *   time, and the process is looked up.
 * `closeAbandonedRuns` closes the RUNNING rows whose owner is gone; the next run and `bkt db
 * check` call it.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { NotFoundError, StorageError } from '../errors.js';
import { isUuid, newUuid } from './ids.js';
import { requireAlgoVersion } from './params.js';
import { decodeBool, decodeJson, rowCodec } from './row-codec.js';
import type { ReservedConnection, SqlContext } from './sql.js';
import type { AbandonedRun, FinishRunInput, RunFilter, RunRow, StartRunInput } from './store.js';

export const RUNS = rowCodec<RunRow>('algo_runs');

/** Who runs a run: stored as input_summary_json.owner. */
export interface RunOwner {
  pid: number;
  hostname: string;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is told apart. */
  process_started?: string;
  /** The advisory lock key the owner holds (PostgreSQL). */
  lock_key?: string;
}

/** A run's lock key: the first 64 bits of its uuid as a signed integer, in text. */
export function runLockKey(runId: string): string {
  return BigInt.asIntN(64, BigInt(`0x${runId.replace(/-/g, '').slice(0, 16)}`)).toString();
}

/** /proc/<pid>/stat's state and start time, or null where there is no /proc (or no such process). */
function procStat(pid: number | 'self'): { state: string; started: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], started: rest[19] };
  } catch {
    return null;
  }
}

/** Whether the owner's process still runs on this host: it exists, is not a zombie, and started when the owner did. */
function ownerProcessAlive(owner: RunOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists, owned by another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(owner.pid);
  if (stat === null) return procStat('self') === null; // no /proc at all: trust kill(0)
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.process_started === undefined || stat.started === owner.process_started;
}

function ownerOf(summary: Record<string, unknown>): RunOwner | null {
  const owner = summary.owner as Partial<RunOwner> | undefined;
  if (!owner || typeof owner !== 'object' || typeof owner.pid !== 'number' || typeof owner.hostname !== 'string') return null;
  return owner as RunOwner;
}

/** The run log of one store: its rows, and the owner locks of the runs this process has open. */
export class RunLog {
  /** Runs started by this store and not closed yet: their owner, and the connection holding their lock. */
  private readonly open = new Map<string, { owner: RunOwner; lease: ReservedConnection | null }>();

  constructor(private readonly ctx: SqlContext) {}

  /** Insert a RUNNING row owned by this process and commit it; abandoned runs are closed first. */
  async start(input: StartRunInput): Promise<string> {
    const id = newUuid();
    await this.closeAbandoned(`run ${id} at its start`);
    const stat = procStat('self');
    const owner: RunOwner = { pid: process.pid, hostname: hostname(), ...(stat ? { process_started: stat.started } : {}) };
    const lock = this.ctx.dialect.runOwnerLock;
    let lease: ReservedConnection | null = null;
    try {
      if (lock) {
        // Held before the row is visible, so nobody can find the row without its lock.
        owner.lock_key = runLockKey(id);
        lease = await this.ctx.driver.reserveConnection();
        await lease.query(lock.acquire, [owner.lock_key]);
      }
      await this.ctx.driver.transaction(async (tx) => {
        const v = await requireAlgoVersion(this.ctx, tx);
        if (!v.algo_params_id) throw new StorageError(`${this.ctx.display}: no active algo_params row for bkt v1`, 'Run "bkt db migrate" first');
        await tx.run(
          `INSERT INTO algo_runs (id, algo_version_id, params_id, user_id, session_id, "trigger", status, started_at, input_summary_json, output_summary_json)
           VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, '{}')`,
          [id, v.algo_version_id, v.algo_params_id, input.user_id ?? null, input.session_id ?? null, input.trigger, new Date().toISOString(), JSON.stringify({ ...input.input_summary, owner })],
        );
      });
    } catch (error) {
      await lease?.release();
      throw error;
    }
    this.open.set(id, { owner, lease });
    return id;
  }

  /** input_summary_json as written: the caller's summary with the run's owner kept. */
  private async inputSummary(runId: string, summary: Record<string, unknown>): Promise<string> {
    let owner: RunOwner | null = this.open.get(runId)?.owner ?? null;
    if (!owner) {
      const rows = await this.ctx.driver.query('SELECT input_summary_json FROM algo_runs WHERE id = ?', [runId]);
      owner = rows.length ? ownerOf(decodeJson(rows[0].input_summary_json)) : null;
    }
    return JSON.stringify(owner ? { ...summary, owner } : summary);
  }

  async update(runId: string, summaries: { input_summary?: Record<string, unknown>; output_summary?: Record<string, unknown> }): Promise<void> {
    const input = summaries.input_summary ? await this.inputSummary(runId, summaries.input_summary) : null;
    await this.ctx.driver.transaction(async (tx) => {
      if (input !== null) await tx.run('UPDATE algo_runs SET input_summary_json = ? WHERE id = ?', [input, runId]);
      if (summaries.output_summary) await tx.run('UPDATE algo_runs SET output_summary_json = ? WHERE id = ?', [JSON.stringify(summaries.output_summary), runId]);
    });
  }

  /** Close a run (status, completed_at = now, summaries, error), then free its owner lock. */
  async finish(runId: string, input: FinishRunInput): Promise<void> {
    const summary = input.input_summary ? await this.inputSummary(runId, input.input_summary) : null;
    await this.ctx.driver.transaction(async (tx) => {
      if (summary !== null) await tx.run('UPDATE algo_runs SET input_summary_json = ? WHERE id = ?', [summary, runId]);
      const n = await tx.run('UPDATE algo_runs SET status = ?, completed_at = ?, output_summary_json = ?, error_message = ? WHERE id = ?', [
        input.status,
        new Date().toISOString(),
        JSON.stringify(input.output_summary),
        input.error_message ?? null,
        runId,
      ]);
      if (n === 0) throw new NotFoundError(`run ${runId}: no such algo_runs row`);
    });
    await this.release(runId);
  }

  private async release(runId: string): Promise<void> {
    const open = this.open.get(runId);
    if (!open) return;
    this.open.delete(runId);
    const lock = this.ctx.dialect.runOwnerLock;
    if (open.lease && lock) {
      try {
        await open.lease.query(lock.release, [open.owner.lock_key!]);
      } finally {
        await open.lease.release();
      }
    }
  }

  async get(runId: string): Promise<RunRow | null> {
    if (!isUuid(runId)) return null;
    const rows = await this.ctx.driver.query(`SELECT ${RUNS.select} FROM algo_runs WHERE id = ?`, [runId.toLowerCase()]);
    return rows.length ? RUNS.decode(rows[0]) : null;
  }

  async *stream(filter: RunFilter = {}): AsyncIterable<RunRow> {
    const sql = `SELECT ${RUNS.select} FROM algo_runs ${filter.status ? 'WHERE status = ?' : ''} ORDER BY started_at, id`;
    for await (const r of this.ctx.driver.iterate(sql, filter.status ? [filter.status] : [])) yield RUNS.decode(r);
  }

  /** See Store.closeAbandonedRuns. */
  async closeAbandoned(foundBy: string): Promise<AbandonedRun[]> {
    const lock = this.ctx.dialect.runOwnerLock;
    const here = hostname();
    const running = await this.ctx.driver.query("SELECT id, started_at, input_summary_json FROM algo_runs WHERE status = 'RUNNING' ORDER BY started_at, id");
    const closed: AbandonedRun[] = [];
    for (const row of running) {
      const id = String(row.id).toLowerCase();
      const owner = ownerOf(decodeJson(row.input_summary_json));
      if (!owner || this.open.has(id)) continue;
      let gone: string | null = null;
      if (lock) {
        if (owner.lock_key === undefined) continue;
        gone = `its process (pid ${owner.pid} on ${owner.hostname}) no longer holds the run's lock`;
      } else {
        if (owner.hostname !== here || ownerProcessAlive(owner)) continue;
        gone = `its process (pid ${owner.pid} on ${owner.hostname}) is gone`;
      }
      const foundAt = new Date().toISOString();
      const message = `abandoned: ${gone}; found ${foundAt} by ${foundBy}`;
      const done = await this.ctx.driver.transaction(async (tx) => {
        // The lock, taken inside this transaction, is free only when its owner's session has ended;
        // it is held until commit, so the row cannot be closed twice.
        if (lock && !decodeBool((await tx.query<{ free: unknown }>(lock.tryInTransaction, [owner.lock_key!]))[0].free)) return false;
        const n = await tx.run("UPDATE algo_runs SET status = 'FAILED', completed_at = ?, error_message = ? WHERE id = ? AND status = 'RUNNING'", [foundAt, message, id]);
        return n > 0;
      });
      if (done) closed.push({ id, started_at: row.started_at instanceof Date ? row.started_at.toISOString() : String(row.started_at), found_at: foundAt, error_message: message });
    }
    return closed;
  }

  /** Free the locks of runs still open (the store is closing: their rows stay RUNNING and are later found abandoned). */
  async close(): Promise<void> {
    for (const runId of [...this.open.keys()]) await this.release(runId).catch(() => undefined);
  }
}
