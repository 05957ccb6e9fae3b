// Revocations racing issuance (issue 6): "revoke all" for a client, a consent revocation, a user
// disable and a family revocation, each fired while refreshes, code exchanges and a device poll from
// that grant are in flight. Afterwards nothing issued from the grant is active, and no code or device
// code approved before the revocation yields tokens. 20 repetitions each, with the revocation landing
// at a random moment of the stream.
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex } from '../../src/domain/crypto.js';
import type { OAuthClient, User } from '../../src/db/client.js';
import {
  approvedDeviceCode,
  createIntrospector,
  exchangeCode,
  freshGrantParties,
  isActive,
  issueCode,
  pollDevice,
  refresh,
  req,
  tokensFromCode,
  type Introspector,
  type Tokens,
} from '../helpers/grants.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const REPETITIONS = 20;
const STREAM_LENGTH = 4;

describe('revocation racing issuance', () => {
  let server: TestServer;
  let rs: Introspector;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true', REFRESH_TOKEN_ROTATION_GRACE: '0' });
    rs = await createIntrospector(server);
  });
  afterAll(() => server.close());

  /** Refreshes with the newest token until refused; every token it got is recorded in `seen`. */
  async function stream(client: OAuthClient, start: Tokens, seen: string[]): Promise<string> {
    let current = start.refresh_token;
    for (let i = 0; i < STREAM_LENGTH; i++) {
      const res = await refresh(server, client, current);
      if (res.status !== 200) break;
      seen.push(String(res.json.access_token), String(res.json.refresh_token));
      current = String(res.json.refresh_token);
    }
    return current;
  }

  async function allInactive(tokens: string[]): Promise<void> {
    const states = await Promise.all(tokens.map((t) => isActive(server, rs, t)));
    expect(states.filter(Boolean)).toHaveLength(0);
  }

  /**
   * One repetition for a revocation of the whole grant of `user` for `client`: two refresh streams,
   * two code exchanges and a device poll race the revocation.
   */
  async function raceWholeGrant(revoke: (user: User, client: OAuthClient) => Promise<unknown>): Promise<void> {
    const { user, client } = await freshGrantParties(server);
    const families = [await tokensFromCode(server, user, client), await tokensFromCode(server, user, client)];
    const codes = [await issueCode(server, user, client), await issueCode(server, user, client)];
    const deviceCode = await approvedDeviceCode(server, user, client);
    const seen = families.flatMap((f) => [f.access_token, f.refresh_token]);
    const collect = async (res: Promise<{ status: number; json: Record<string, unknown> }>) => {
      const r = await res;
      if (r.status === 200) seen.push(String(r.json.access_token), String(r.json.refresh_token));
    };

    await Promise.all([
      sleep(Math.random() * 20).then(() => revoke(user, client)),
      ...families.map((f) => stream(client, f, seen)),
      ...codes.map((code) => sleep(Math.random() * 20).then(() => collect(exchangeCode(server, client, code)))),
      sleep(Math.random() * 20).then(() => collect(pollDevice(server, client, deviceCode))),
    ]);

    await allInactive(seen);
    const db = server.authgate.db;
    expect(await db.token.count({ where: { userId: user.id, clientId: client.id, status: 'active' } })).toBe(0);
    // Nothing approved before the revocation mints tokens afterwards (the poll interval is reset so the
    // device's answer is about the grant, not about polling too fast).
    for (const code of codes) expect((await exchangeCode(server, client, code)).status).toBe(400);
    await server.authgate.services.deviceCodes.setLastPoll(deviceCode, null);
    const poll = await pollDevice(server, client, deviceCode);
    expect(poll.status).toBe(400);
    expect(await db.token.count({ where: { userId: user.id, clientId: client.id, status: 'active' } })).toBe(0);
  }

  test(`"revoke all" for a client racing refreshes, code exchanges and a device poll (x${REPETITIONS})`, async () => {
    for (let rep = 0; rep < REPETITIONS; rep++) {
      await raceWholeGrant((_user, client) => server.authgate.services.revocation.revokeAllForClient(client.id, { userId: null }, req));
    }
  });

  test(`a consent revocation racing refreshes, code exchanges and a device poll (x${REPETITIONS})`, async () => {
    for (let rep = 0; rep < REPETITIONS; rep++) {
      await raceWholeGrant(async (user, client) => {
        const authorization = await server.authgate.db.userAuthorization.findUniqueOrThrow({ where: { userId_clientId: { userId: user.id, clientId: client.id } } });
        return server.authgate.services.revocation.revokeUserAuthorization(user.id, authorization.id, req);
      });
    }
  });

  test(`a user disable racing refreshes, code exchanges and a device poll; enabling again brings nothing back (x${REPETITIONS})`, async () => {
    for (let rep = 0; rep < REPETITIONS; rep++) {
      let disabled: User | undefined;
      await raceWholeGrant(async (user) => {
        disabled = user;
        return server.authgate.services.revocation.revokeAllForUser(user.id, { userId: null }, req, { disable: true });
      });
      const db = server.authgate.db;
      await db.user.update({ where: { id: disabled!.id }, data: { active: true } });
      expect(await db.token.count({ where: { userId: disabled!.id, status: 'active' } })).toBe(0);
    }
    const event = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'USER_TOKENS_REVOKED' } });
    expect(event.severity).toBe('WARNING');
  });

  test(`a family revocation racing that family's refreshes; another family of the same grant lives on (x${REPETITIONS})`, async () => {
    const db = server.authgate.db;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const { user, client } = await freshGrantParties(server);
      const target = await tokensFromCode(server, user, client);
      const sibling = await tokensFromCode(server, user, client);
      const { familyId } = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(target.refresh_token) } });
      const seen = [target.access_token, target.refresh_token];
      const siblingSeen: string[] = [];
      const [, last, siblingLast] = await Promise.all([
        sleep(Math.random() * 20).then(() => server.authgate.services.revocation.revokeFamily(familyId, { userId: null }, req)),
        stream(client, target, seen),
        stream(client, sibling, siblingSeen),
      ]);
      await allInactive(seen);
      expect(await db.token.count({ where: { familyId, status: 'active' } })).toBe(0);
      expect((await refresh(server, client, last)).status).toBe(400);
      expect(await isActive(server, rs, siblingLast)).toBe(true);
    }
  });
});
