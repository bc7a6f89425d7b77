// Deadline plumbing shared by the pipe modes: every await on a port goes through it, so one that ignores the signal
// cannot hang the run past the deadline.

/** Resolves like `promise`, or rejects as soon as `signal` aborts (a port that ignores the signal can't hang us). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}
