// The batching of the group commit (GroupCommit in db/issuance-writer.ts), with a writer the test
// answers by hand: what is sent when, and what each submitter gets back.
import { GroupCommit } from '../../src/db/issuance-writer.js';

/** A batch writer whose batches the test answers one by one. */
function handWriter() {
  const calls: { items: number[]; answer: (results: string[]) => void; fail: (err: Error) => void }[] = [];
  const writeBatch = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => calls.push({ items, answer: resolve, fail: reject }));
  return { calls, writeBatch };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('what arrives while a batch is written goes out as the next batch, at most inFlight at once', async () => {
  const w = handWriter();
  const commit = new GroupCommit(w.writeBatch, { maxBatch: 10, inFlight: 2 });
  const first = [commit.submit(1), commit.submit(2)];
  await turn();
  const second = [commit.submit(3)];
  await turn();
  const third = [commit.submit(4), commit.submit(5)];
  await turn();
  // Two in flight: 4 and 5 wait for a slot.
  expect(w.calls.map((c) => c.items)).toEqual([[1, 2], [3]]);
  w.calls[0]!.answer(['a', 'b']);
  expect(await Promise.all(first)).toEqual(['a', 'b']);
  expect(w.calls.map((c) => c.items)).toEqual([[1, 2], [3], [4, 5]]);
  w.calls[1]!.answer(['c']);
  w.calls[2]!.answer(['d', 'e']);
  expect(await Promise.all([...second, ...third])).toEqual(['c', 'd', 'e']);
});

test("the next batch is sent before the answered batch's submitters go on", async () => {
  const w = handWriter();
  const commit = new GroupCommit(w.writeBatch, { maxBatch: 10, inFlight: 1 });
  const first = commit.submit(1);
  await turn();
  const queued = commit.submit(2);
  await turn();
  expect(w.calls).toHaveLength(1);
  // What the first submitter sees as soon as it resumes: the second batch already on its way.
  const seenOnResume = first.then((result) => ({ result, batchesSent: w.calls.length }));
  w.calls[0]!.answer(['one']);
  expect(await seenOnResume).toEqual({ result: 'one', batchesSent: 2 });
  w.calls[1]!.answer(['two']);
  expect(await queued).toBe('two');
});

test('a failed batch is retried item by item, keeping its slot: one bad item fails alone', async () => {
  const w = handWriter();
  const commit = new GroupCommit(w.writeBatch, { maxBatch: 10, inFlight: 1 });
  const results = [1, 2, 3].map((n) => commit.submit(n).then((r) => `ok ${r}`, (err: Error) => `failed ${err.message}`));
  await turn();
  const later = commit.submit(4);
  await turn();
  w.calls[0]!.fail(new Error('batch'));
  await turn();
  // The retries, one at a time; the item submitted meanwhile waits for the slot.
  expect(w.calls.map((c) => c.items)).toEqual([[1, 2, 3], [1]]);
  w.calls[1]!.answer(['x']);
  await turn();
  w.calls[2]!.fail(new Error('item 2'));
  await turn();
  w.calls[3]!.answer(['z']);
  expect(await Promise.all(results)).toEqual(['ok x', 'failed item 2', 'ok z']);
  await turn();
  expect(w.calls.map((c) => c.items)).toEqual([[1, 2, 3], [1], [2], [3], [4]]);
  w.calls[4]!.answer(['w']);
  expect(await later).toBe('w');
});

test('drained() resolves once every submitted item is answered', async () => {
  const w = handWriter();
  const commit = new GroupCommit(w.writeBatch, { maxBatch: 1, inFlight: 1 });
  const results: string[] = [];
  void commit.submit(1).then((r) => results.push(r));
  void commit.submit(2).then((r) => results.push(r));
  let drained = false;
  const done = commit.drained().then(() => (drained = true));
  await turn();
  w.calls[0]!.answer(['a']);
  await turn();
  expect(drained).toBe(false);
  w.calls[1]!.answer(['b']);
  await done;
  expect(results).toEqual(['a', 'b']);
});
