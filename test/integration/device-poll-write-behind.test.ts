// Device polls cost no database write: each code's poll time is kept in memory and written behind,
// every second, for other instances and restarts to read (services/device-codes.ts). Many codes' polls
// are written in slices, one statement after another, so no single flush holds the event loop; a slice
// that fails is written at the next flush, and none of the others is lost with it.
import type { OAuthClient } from '../../src/db/client.js';
import { sha256Hex } from '../../src/domain/crypto.js';
import { AuthorizationPending } from '../../src/domain/errors.js';
import type { PollState } from '../../src/db/issuance-writer.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CODES = 450;
const req = { ip: '127.0.0.1', userAgent: 'jest' };

describe('device poll times, written behind the polls', () => {
  let server: TestServer;
  let client: OAuthClient;
  /** The size of every recordPolls call the service makes; the call numbered `failCall` (from 1) fails. */
  const slices: number[] = [];
  let failCall = 0;

  beforeAll(async () => {
    server = await startTestServer();
    client = (await server.authgate.services.clients.findByClientId(server.cliClientId))!;
    const internals = server.authgate.services.deviceCodes as unknown as { pollStore: { recordPolls(p: PollState[]): Promise<void> }; pollFlush: NodeJS.Timeout };
    // The tests flush themselves: the once-a-second flush would otherwise write some polls in between.
    clearInterval(internals.pollFlush);
    // Observes the real store (it still writes): the service holds it privately.
    const store = internals.pollStore;
    const write = store.recordPolls.bind(store);
    store.recordPolls = async (polls) => {
      slices.push(polls.length);
      if (slices.length === failCall) throw new Error('the database is away (test)');
      return write(polls);
    };
  });
  afterAll(() => server.close());

  /** Authorizes `n` device codes for the CLI client and polls each once (all pending). */
  async function pollMany(n: number): Promise<{ deviceCode: string; polledAfter: number }[]> {
    const { deviceCodes } = server.authgate.services;
    const codes = [];
    for (let i = 0; i < n; i++) codes.push((await deviceCodes.authorize(client, 'read', [], req)).deviceCode);
    const polled = [];
    for (const deviceCode of codes) {
      const polledAfter = Date.now();
      await expect(deviceCodes.exchange(deviceCode, client, [], req)).rejects.toBeInstanceOf(AuthorizationPending);
      polled.push({ deviceCode, polledAfter });
    }
    return polled;
  }

  async function storedPollTimes(deviceCodes: string[]): Promise<(Date | null)[]> {
    const rows = await server.authgate.db.deviceCode.findMany({ where: { deviceCodeHash: { in: deviceCodes.map(sha256Hex) } }, select: { deviceCodeHash: true, lastPolledAt: true } });
    const byHash = new Map(rows.map((r) => [r.deviceCodeHash, r.lastPolledAt]));
    return deviceCodes.map((c) => byHash.get(sha256Hex(c)) ?? null);
  }

  test("a flush writes every code's poll time, at most 200 to a statement", async () => {
    await server.authgate.services.deviceCodes.flushPolls(); // whatever start-up left
    const polled = await pollMany(CODES);
    expect(await storedPollTimes(polled.map((p) => p.deviceCode))).toEqual(polled.map(() => null));

    slices.length = 0;
    await server.authgate.services.deviceCodes.flushPolls();
    expect(slices).toEqual([200, 200, 50]);
    const stored = await storedPollTimes(polled.map((p) => p.deviceCode));
    stored.forEach((at, i) => {
      expect(at).not.toBeNull();
      expect(at!.getTime()).toBeGreaterThanOrEqual(polled[i]!.polledAfter);
    });
  });

  test('a slice that fails is written at the next flush; the slices around it are written at once', async () => {
    const polled = await pollMany(CODES);
    slices.length = 0;
    const { deviceCodes } = server.authgate.services;
    // The first slice is written, the second fails, the third is written.
    failCall = 2;
    await deviceCodes.flushPolls();
    failCall = 0;
    const afterFirst = await storedPollTimes(polled.map((p) => p.deviceCode));
    const missing = afterFirst.map((at, i) => (at === null ? i : -1)).filter((i) => i >= 0);
    expect(slices).toEqual([200, 200, 50]);
    expect(missing).toEqual(Array.from({ length: 200 }, (_, i) => 200 + i));

    await deviceCodes.flushPolls();
    expect(slices).toEqual([200, 200, 50, 200]);
    expect((await storedPollTimes(polled.map((p) => p.deviceCode))).every((at) => at !== null)).toBe(true);
  });
});
