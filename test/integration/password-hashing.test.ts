// Sign-in through the server's password hashing pool (src/identity/password-hasher.ts): passwords are
// checked on worker threads, a thread lost during a sign-in answers "try again" (503) instead of
// hanging, the next sign-in gets a new thread, and closing the server ends the threads.
import { ScriptedBrowser } from '../helpers/browser.js';
import { hashPassword } from '../helpers/passwords.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

/** Resolves with what `probe` finds, checking between turns of the event loop (deadline 5 s). */
async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('signing in through the hashing threads (PASSWORD_HASH_WORKERS=2)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PASSWORD_HASH_WORKERS: '2' });
  });
  afterAll(() => server.close());

  test('right password signs in, wrong or unknown does not; the work ran on the threads', async () => {
    const hash = await hashPassword('carol-password-1');
    await server.authgate.db.user.create({ data: { username: 'carol', passwordHash: hash } });
    const results = await Promise.all([
      new ScriptedBrowser(server.url).login('admin', ADMIN_PASSWORD),
      new ScriptedBrowser(server.url).login('carol', 'carol-password-1'),
      new ScriptedBrowser(server.url).login('carol', 'not-carols'),
      new ScriptedBrowser(server.url).login('nobody', 'carol-password-1'),
    ]);
    expect(results.map((page) => page.status)).toEqual([302, 302, 401, 401]);
    const threads = server.authgate.passwords.threads();
    expect(threads.length).toBe(2);
    expect(threads.every((thread) => !thread.busy)).toBe(true);
  }, 30_000);

  test('a thread lost during a sign-in: that sign-in answers 503 "try again", the retry signs in', async () => {
    const browser = new ScriptedBrowser(server.url);
    const form = await browser.get('/login');
    const answer = browser.submit(form, '/login', { username: 'admin', password: ADMIN_PASSWORD });
    const busy = await waitFor(() => server.authgate.passwords.threads().find((thread) => thread.busy));
    await busy.worker.terminate();
    const page = await answer;
    expect(page.status).toBe(503);
    expect(page.html).toContain('The password could not be checked just now. Please try again.');

    const retry = await browser.submit(await browser.get('/login'), '/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(retry.status).toBe(302);
    expect(retry.location).toBe('/');
  }, 30_000);
});

test('closing the server ends its hashing threads', async () => {
  const server = await startTestServer({ PASSWORD_HASH_WORKERS: '1' });
  try {
    // The first-run seed hashed the admin's password on the pool.
    expect(server.authgate.passwords.threads().length).toBe(1);
    expect((await new ScriptedBrowser(server.url).login('admin', ADMIN_PASSWORD)).status).toBe(302);
  } finally {
    await server.close();
  }
  expect(server.authgate.passwords.threads()).toEqual([]);
}, 30_000);

test('PASSWORD_HASH_WORKERS=0: passwords are checked on the main thread, and no thread starts', async () => {
  const server = await startTestServer({ PASSWORD_HASH_WORKERS: '0' });
  try {
    expect((await new ScriptedBrowser(server.url).login('admin', ADMIN_PASSWORD)).status).toBe(302);
    expect((await new ScriptedBrowser(server.url).login('admin', 'wrong-password')).status).toBe(401);
    expect(server.authgate.passwords.threads()).toEqual([]);
  } finally {
    await server.close();
  }
}, 30_000);
