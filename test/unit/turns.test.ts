// atEndOfTurn (src/ops/turns.ts): what is queued during one turn of the event loop is done together
// once the turn's I/O callbacks have run, in order; a failing item fails alone; nothing is lost.
import { atEndOfTurn } from '../../src/ops/turns.js';

const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

test('items of one turn run together after the turn, in the order they were added', async () => {
  const done: string[] = [];
  const add = atEndOfTurn<string>((item) => done.push(item), () => undefined);
  add('a');
  await Promise.resolve(); // a microtask of the same turn: not a new batch
  add('b');
  add('c');
  expect(done).toEqual([]);
  await nextImmediate();
  expect(done).toEqual(['a', 'b', 'c']);
});

test('an item that throws goes to `failed`; the others of its turn still run', async () => {
  const done: number[] = [];
  const failures: [number, unknown][] = [];
  const add = atEndOfTurn<number>(
    (n) => {
      if (n === 2) throw new Error('two');
      done.push(n);
    },
    (n, err) => failures.push([n, err]),
  );
  for (const n of [1, 2, 3]) add(n);
  await nextImmediate();
  expect(done).toEqual([1, 3]);
  expect(failures).toEqual([[2, new Error('two')]]);
});

test('items added while a batch runs are done in the next batch, and later turns start new ones', async () => {
  const done: string[] = [];
  const add = atEndOfTurn<string>((item) => {
    done.push(item);
    if (item === 'first') add('added while running');
  }, () => undefined);
  add('first');
  await nextImmediate();
  expect(done).toEqual(['first']);
  await nextImmediate();
  expect(done).toEqual(['first', 'added while running']);
  add('later');
  await nextImmediate();
  expect(done).toEqual(['first', 'added while running', 'later']);
});
