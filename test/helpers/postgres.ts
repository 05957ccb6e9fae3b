// A throwaway PostgreSQL database per test suite, on the server named by TEST_POSTGRES_URL, so suites
// never see each other's rows and can run in parallel against one server.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** Connection URL of the new database: TEST_POSTGRES_URL with its path replaced. */
  url: string;
  /** Drops the database, closing whatever connections are still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error('createTestDatabase needs TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)');
  return url;
}

/** The URL without its password, for error messages. */
function shown(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // A short connect timeout: a wrong TEST_POSTGRES_URL should fail the suite quickly, not at jest's timeout.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.name : String(err);
    throw new Error(`TEST_POSTGRES_URL is set but PostgreSQL at ${shown(url)} is unreachable: ${reason}`, { cause: err });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = adminUrl();
  const name = `authgate_test_${randomBytes(8).toString('hex')}`;
  await withAdmin(base, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
