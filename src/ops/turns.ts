// Work gathered during one turn of the event loop and done together once the turn's I/O is done.
//
// A turn handles every socket that was ready together: each one's callback and its microtasks run to
// the end before the next socket's. Work that each request would otherwise do in the middle of its own
// handling (a signature, writing its answer) is instead queued here and done back to back in one
// setImmediate callback, which Node runs after the turn's I/O callbacks. Two hot paths use it, each
// measured with the bench's load (see the README's Performance section and test/bench/MEASUREMENTS.md):
// JWT signatures (keys/jwt.ts), so the signing code stays in the processor's caches; and the answers of
// the direct routes (http/direct-routes.ts), so the answers of a turn leave in one burst.

/**
 * Returns `add(item)`. Items added during one turn are handed to `each` in the order they were added,
 * one after the other, in a single setImmediate callback. An item whose `each` throws is handed to
 * `failed` and the rest still run. Items added while a batch runs (by `each` itself, say) wait for the
 * next batch.
 */
export function atEndOfTurn<T>(each: (item: T) => void, failed: (item: T, err: unknown) => void): (item: T) => void {
  let waiting: T[] = [];
  const runWaiting = () => {
    const batch = waiting;
    waiting = [];
    for (const item of batch) {
      try {
        each(item);
      } catch (err) {
        failed(item, err);
      }
    }
  };
  return (item) => {
    if (waiting.length === 0) setImmediate(runWaiting);
    waiting.push(item);
  };
}
