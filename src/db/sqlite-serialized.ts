// Prisma's better-sqlite3 adapter has ONE connection. Its interactive transactions take a mutex, but
// queries outside a transaction do not: while a transaction is open (between its awaits), any other
// request's query runs on the same connection, inside that transaction. It then reads uncommitted rows,
// and its writes are rolled back with that transaction if it fails. This wrapper makes every query
// outside a transaction wait for the open transaction to end, as on a database with real connections.
// (As on PostgreSQL, code inside a transaction must use the transaction client, never the outer one.)
import type { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';

type Factory = PrismaBetterSqlite3;
type Adapter = Awaited<ReturnType<Factory['connect']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;

/** One holder at a time: a transaction from BEGIN to COMMIT/ROLLBACK, or one statement. */
class Turn {
  private tail: Promise<void> = Promise.resolve();
  take(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.tail;
    this.tail = before.then(() => mine);
    return before.then(() => release);
  }
}

/**
 * The adapter's own connection, for the few writes that bypass Prisma's query engine (the group
 * commit of issued tokens, db/issuance-writer.ts): `exclusive` runs synchronous better-sqlite3 calls
 * in a turn of their own, so they never land inside a transaction Prisma has open, nor it in theirs.
 */
export interface SqliteConnection {
  exclusive<T>(fn: (database: BetterSqlite3.Database) => T): Promise<T>;
}

export function serializeSqliteAdapter(factory: Factory, onConnect?: (connection: SqliteConnection) => void): Factory {
  return new Proxy(factory, {
    get(target, prop, receiver) {
      if (prop === 'connect') {
        return async () => serialize(await target.connect(), onConnect);
      }
      if (prop === 'connectToShadowDb') {
        return async () => serialize(await target.connectToShadowDb());
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function serialize(adapter: Adapter, onConnect?: (connection: SqliteConnection) => void): Adapter {
  const turn = new Turn();
  if (onConnect) {
    // The adapter keeps its better-sqlite3 Database in a public `client` field (adapter-better-sqlite3 7.x).
    const database = (adapter as unknown as { client: BetterSqlite3.Database }).client;
    onConnect({
      async exclusive(fn) {
        const release = await turn.take();
        try {
          return fn(database);
        } finally {
          release();
        }
      },
    });
  }
  const alone =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const release = await turn.take();
      try {
        return await fn(...args);
      } finally {
        release();
      }
    };
  const wrapped = {
    queryRaw: alone(adapter.queryRaw.bind(adapter)),
    executeRaw: alone(adapter.executeRaw.bind(adapter)),
    executeScript: alone(adapter.executeScript.bind(adapter)),
    async startTransaction(...args: Parameters<Adapter['startTransaction']>): Promise<Transaction> {
      const release = await turn.take();
      let tx: Transaction;
      try {
        tx = await adapter.startTransaction(...args);
      } catch (err) {
        release();
        throw err;
      }
      let released = false;
      const end = (fn: () => Promise<void>) => async () => {
        try {
          await fn();
        } finally {
          if (!released) {
            released = true;
            release();
          }
        }
      };
      return new Proxy(tx, {
        get(target, prop, receiver) {
          if (prop === 'commit') return end(() => target.commit());
          if (prop === 'rollback') return end(() => target.rollback());
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(wrapped, prop)) return wrapped[prop as keyof typeof wrapped];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
