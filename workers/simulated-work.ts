/**
 * The work a demo worker pretends to do: waits `workMs` in steps of `heartbeatMs`, calling
 * `heartbeat(progress)` between steps (so work of 3.5 heartbeat intervals sends 3 heartbeats, and
 * work shorter than one interval sends none). Stops at once when `signal` aborts, rejecting with the
 * signal's AbortError; a real worker would do its processing where this waits. It waits with the
 * global `setTimeout`, so tests drive it with fake timers.
 */

export interface SimulatedWork {
  readonly workMs: number;
  readonly heartbeatMs: number;
  readonly signal: AbortSignal;
  /** Percent done, 1..99. */
  readonly heartbeat: (progress: number) => Promise<void>;
}

export async function simulateWork(work: SimulatedWork): Promise<void> {
  work.signal.throwIfAborted();
  let done = 0;
  while (done < work.workMs) {
    const step = Math.min(work.heartbeatMs, work.workMs - done);
    await delay(step, work.signal);
    done += step;
    if (done < work.workMs) {
      await work.heartbeat(Math.min(99, Math.max(1, Math.floor((done * 100) / work.workMs))));
      work.signal.throwIfAborted();
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's AbortError as soon as it aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DOMException('The operation was aborted', 'AbortError'));
      return;
    }
    const aborted = (): void => {
      clearTimeout(timer);
      reject(new DOMException('The operation was aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
