/**
 * Recompute runs started over HTTP. A run is not tied to its request: it goes on when the client
 * stops waiting (a proxy's timeout, `?wait=false`), its progress is in its algo_runs row, and its
 * final response is kept here for GET /runs/{run_id}. A graceful shutdown aborts the runs still
 * going (each stops after the concept being written and is closed FAILED) and waits for them.
 */
import { recompute, type RecomputeInput, type RecomputeResult } from '../jobs/recompute.js';
import { BKT_ALGO_KEY, BKT_ALGO_VERSION, type Store } from '../store/store.js';

/** The response of POST /recompute (the app's fields, plus errors, params ids and interrupted). */
export interface RecomputeResponse {
  run_id: string;
  algo_version: string;
  concepts_processed: number;
  concepts_fitted: number;
  concepts_skipped: number;
  metrics_summary: Record<string, Record<string, unknown>>;
  dry_run: boolean;
  activated: boolean;
  errors: Record<string, string>;
  params_ids: string[];
  interrupted: boolean;
}

/** The app's response shape from the job's result. */
export function recomputeResponse(result: RecomputeResult, activate: boolean): RecomputeResponse {
  // The app's shape has one "errors" map of concepts without new parameters: skips (too little
  // data), refusals and errors together, which the job counts apart.
  const notFitted = { ...result.summary.skipped_concepts, ...result.summary.refusals, ...result.summary.errors };
  const skipped = Object.keys(notFitted).length;
  return {
    run_id: result.run_id,
    algo_version: `${BKT_ALGO_KEY}:${BKT_ALGO_VERSION}`,
    concepts_processed: result.summary.concepts_processed,
    concepts_fitted: result.summary.concepts_processed - skipped,
    concepts_skipped: skipped,
    metrics_summary: result.metrics,
    dry_run: result.dry_run,
    activated: activate && !result.dry_run && result.params_ids.length > 0,
    errors: notFitted,
    params_ids: result.params_ids,
    interrupted: result.summary.interrupted,
  };
}

interface ActiveRun {
  abort: AbortController;
  done: Promise<RecomputeResponse>;
}

/** Finished responses kept for GET /runs (the run row itself stays in the database). */
const KEPT_RESULTS = 100;

export class RecomputeRuns {
  private readonly active = new Map<string, ActiveRun>();
  private readonly finished = new Map<string, RecomputeResponse>();
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly onError: (runId: string, error: unknown) => void,
  ) {}

  /**
   * Start a run. Resolves with its run id once the RUNNING row is committed, and the promise of
   * its response. Rejects when the run fails before its row exists (bad options, store down).
   */
  async start(input: RecomputeInput): Promise<{ runId: string; done: Promise<RecomputeResponse> }> {
    const abort = new AbortController();
    let announce!: (id: string) => void;
    const started = new Promise<string>((resolve) => (announce = resolve));
    // recompute() starts its run row itself: watch the store's startRun to learn the id at once.
    const store = watchStartRun(this.store, announce);
    const job = recompute(store, input, {}, { signal: abort.signal });
    const first = await Promise.race([started, job.then(() => null)]);
    // A job that settled before announcing rejected (a resolved job always announced first).
    const runId = first ?? (await started);
    const done = job.then((result) => recomputeResponse(result, input.activate ?? false));
    this.active.set(runId, { abort, done });
    done
      .then((response) => {
        this.finished.set(runId, response);
        while (this.finished.size > KEPT_RESULTS) this.finished.delete(this.finished.keys().next().value!);
      })
      .catch((e) => this.onError(runId, e))
      .finally(() => this.active.delete(runId));
    return { runId, done };
  }

  /** The final response of a run this process ran, when it has finished. */
  result(runId: string): RecomputeResponse | null {
    return this.finished.get(runId) ?? null;
  }

  /**
   * The final response of a run whose row is already closed: a job of this process that has
   * committed its last row may still be settling, so wait for it (never long: only its response
   * is left to build). Null when another process ran it, or it failed.
   */
  async settledResult(runId: string): Promise<RecomputeResponse | null> {
    const active = this.active.get(runId);
    if (active) await active.done.catch(() => undefined);
    return this.result(runId);
  }

  get running(): number {
    return this.active.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Abort every run still going and wait until each has closed its run row. */
  async close(): Promise<void> {
    this.closing = true;
    const runs = [...this.active.values()];
    for (const r of runs) r.abort.abort();
    await Promise.allSettled(runs.map((r) => r.done));
  }
}

function watchStartRun(store: Store, announce: (id: string) => void): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'startRun') {
        return async (...args: Parameters<Store['startRun']>) => {
          const id = await target.startRun(...args);
          announce(id);
          return id;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
