// The scenarios of the benchmark (issue 10). Each returns report rows, one per database:
// { id, scenario, database, ours, peer, ratio, target, met, errors, notes }.
//
// Comparisons alternate A/B: every target is warmed first (its warm-up errors count), then each round
// runs every target once in the same order — this server on SQLite, on PostgreSQL, then the peer — so
// drift on a shared machine (another job starting, thermal limits) lands on all of them.
import { parse, print, Kind } from 'graphql';
import { readFileSync } from 'node:fs';
import { cannon, combine, percentile, round } from './load.mjs';
import { createDeviceCodes, pollDeviceCodes } from './device.mjs';
import { basicAuth, httpClient, signIn } from './http.mjs';
import { authGate } from './servers.mjs';
import { seedPostgres, seedSqlite } from './seed.mjs';

const FORM = 'application/x-www-form-urlencoded';

/** Warm every target, then `rounds` rounds over all targets in order; one combined result per target. */
async function alternate(targets, measure, { warmS, durationS, rounds }) {
  const warm = new Map();
  for (const t of targets) warm.set(t, await measure(t, warmS));
  const runs = new Map(targets.map((t) => [t, []]));
  for (let r = 0; r < rounds; r++) for (const t of targets) runs.get(t).push(await measure(t, durationS));
  return new Map(targets.map((t) => [t, withWarmErrors(combine(runs.get(t)), warm.get(t))]));
}

/** Errors seen while warming are errors of the scenario too (speed is not measured then, correctness is). */
function withWarmErrors(result, warm) {
  const w = combine([warm]);
  if (w.errors === 0) return result;
  const kinds = { ...result.error_kinds };
  for (const [k, n] of Object.entries(w.error_kinds)) kinds[k] = (kinds[k] ?? 0) + n;
  return { ...result, errors: result.errors + w.errors, error_kinds: kinds, error_samples: [...w.error_samples, ...result.error_samples].slice(0, 5) };
}

const json = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

/** A JWT's header, to check once that both servers sign access tokens with ES256. */
const jwtHeader = (token) => json(Buffer.from(String(token).split('.')[0] ?? '', 'base64url').toString());

const checkTokenResponse = (status, body) => (status !== 200 ? body.slice(0, 160) : typeof json(body)?.access_token === 'string' ? null : `no access_token: ${body.slice(0, 160)}`);
const checkActive = (status, body) => (status !== 200 ? body.slice(0, 160) : body.includes('"active":true') ? null : `not active: ${body.slice(0, 160)}`);

// ---------------------------------------------------------------------------------------------------
// Setup: one confidential client on each of our servers (dynamic registration) and a token of each kind.

export async function prepareOurs(server) {
  const http = httpClient(server.url);
  const reg = await http.postJson(
    '/oauth/register',
    { client_name: 'bench', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'profile' },
    { authorization: `Bearer ${server.registrationToken}` },
  );
  const client = json(reg.body);
  if (reg.status !== 201 && reg.status !== 200) throw new Error(`${server.label}: registration failed: ${reg.status} ${reg.body}`);
  const auth = basicAuth(client.client_id, client.client_secret);
  const tokenRes = await http.postForm('/oauth/token', { grant_type: 'client_credentials' }, { authorization: auth });
  const accessToken = json(tokenRes.body)?.access_token;
  if (!accessToken) throw new Error(`${server.label}: client_credentials failed: ${tokenRes.status} ${tokenRes.body}`);
  if (jwtHeader(accessToken)?.alg !== 'ES256') throw new Error(`${server.label}: access token not signed ES256: ${JSON.stringify(jwtHeader(accessToken))}`);
  return { kind: 'ours', database: server.dialect, server, http, url: server.url, auth, accessToken };
}

export async function preparePeer(peer) {
  const http = httpClient(peer.url);
  const auth = basicAuth(peer.clientId, peer.clientSecret);
  const jwtRes = await http.postForm('/token', { grant_type: 'client_credentials', scope: 'read', resource: peer.resource }, { authorization: auth });
  const jwt = json(jwtRes.body)?.access_token;
  if (jwtHeader(jwt)?.alg !== 'ES256') throw new Error(`peer: access token not an ES256 JWT: ${jwtRes.status} ${jwtRes.body}`);
  // Without resource=: an opaque token, the only kind node-oidc-provider introspects (see oidc-provider-server.mjs).
  const opaqueRes = await http.postForm('/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: auth });
  const opaqueToken = json(opaqueRes.body)?.access_token;
  if (!opaqueToken || jwtHeader(opaqueToken)) throw new Error(`peer: expected an opaque token: ${opaqueRes.status} ${opaqueRes.body}`);
  const refused = await http.postForm('/token/introspection', { token: jwt }, { authorization: auth });
  return { kind: 'peer', server: peer, http, url: peer.url, auth, resource: peer.resource, opaqueToken, jwtIntrospection: `${refused.status} ${refused.body}` };
}

// ---------------------------------------------------------------------------------------------------

function ratioRow(id, scenario, target, minRatio, ours, peer, notes) {
  const ratio = peer.rps > 0 ? round(ours.rps / peer.rps, 2) : null;
  const errors = ours.errors + peer.errors;
  return { id, scenario, database: target.database, ours, peer, ratio, target: `ratio ≥ ${minRatio}`, met: ratio !== null && ratio >= minRatio && errors === 0, errors, notes };
}

/** 1. client_credentials issuance, Basic auth; the peer gets resource= and issues an ES256 JWT. */
export async function clientCredentials(ours, peer, cfg) {
  const results = await alternate([...ours, peer], (t, durationS) =>
    cannon(t.url, {
      method: 'POST',
      path: t.kind === 'ours' ? '/oauth/token' : '/token',
      headers: { 'content-type': FORM, authorization: t.auth },
      body: t.kind === 'ours' ? 'grant_type=client_credentials' : `grant_type=client_credentials&scope=read&resource=${encodeURIComponent(t.resource)}`,
      connections: cfg.concurrency,
      durationS,
      check: checkTokenResponse,
    }), cfg);
  return ours.map((t) => ratioRow(1, 'client_credentials issuance', t, 1.5, results.get(t), results.get(peer)));
}

/** 2. Introspection of an active token, client authenticated. */
export async function introspection(ours, peer, cfg) {
  const results = await alternate([...ours, peer], (t, durationS) =>
    cannon(t.url, {
      method: 'POST',
      path: t.kind === 'ours' ? '/oauth/introspect' : '/token/introspection',
      headers: { 'content-type': FORM, authorization: t.auth },
      body: `token=${encodeURIComponent(t.kind === 'ours' ? t.accessToken : t.opaqueToken)}`,
      connections: cfg.concurrency,
      durationS,
      check: checkActive,
    }), cfg);
  const note = 'peer introspects an opaque client_credentials token: node-oidc-provider 9 refuses its JWT access tokens (unsupported_token_type)';
  return ours.map((t) => ratioRow(2, 'introspection (active token)', t, 2, results.get(t), results.get(peer), note));
}

/** 3. tokeninfo with a Bearer token. No peer equivalent. */
export async function tokenInfo(ours, cfg) {
  const results = await alternate(ours, (t, durationS) =>
    cannon(t.url, { path: '/oauth/tokeninfo', headers: { authorization: `Bearer ${t.accessToken}` }, connections: cfg.concurrency, durationS, check: checkActive }), cfg);
  return ours.map((t) => {
    const r = results.get(t);
    return { id: 3, scenario: 'tokeninfo', database: t.database, ours: r, peer: null, ratio: null, target: '≥ 10,000 rps, p99 < 10 ms', met: r.rps >= 10_000 && r.p99_ms < 10 && r.errors === 0, errors: r.errors };
  });
}

/** 4. Device-flow polling: many pending codes, each polled at its interval (device.mjs). One database at a time. */
export async function devicePolling(ours, cfg) {
  const rows = [];
  for (const t of ours) {
    const { codes, setup } = await createDeviceCodes(t.http, t.server.cliClientId, cfg.deviceCodes, Math.min(16, cfg.concurrency));
    cfg.log(`  ${t.database}: ${codes.length} codes created`);
    // Devices each have their own connection; 256 sockets are enough that the pool is not what limits
    // 2,000 polls/s at the target latency (2,000/s × 25 ms = 50 in flight), whatever the server does.
    const devices = httpClient(t.url, { maxSockets: 256 });
    const run = await pollDeviceCodes(devices, t.server.cliClientId, codes, { warmS: cfg.warmS, durationS: cfg.devicePollS }).finally(() => devices.close());
    const r = withWarmErrors(withWarmErrors(combine([run.measurement]), setup), run.warm);
    const fiveXx = r.error_kinds.server_error ?? 0;
    rows.push({
      id: 4,
      scenario: `device polling (${codes.length} codes)`,
      database: t.database,
      ours: { ...r, nominal_rps: run.nominalRps, interval_s: codes[0]?.interval, slow_down: run.slowDown, responses_5xx: fiveXx },
      peer: null,
      ratio: null,
      target: 'p99 < 25 ms, no 5xx, all authorization_pending',
      met: r.p99_ms < 25 && r.errors === 0 && fiveXx === 0 && codes.length === cfg.deviceCodes,
      errors: r.errors,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// GraphQL as the admin, with the session cookie /login gives (a query needs no CSRF token; a mutation
// needs a JSON body and no foreign Origin, which this is: src/graphql/yoga.ts).

async function adminSession(t) {
  const res = await signIn(t.http, t.server.admin.username, t.server.admin.password);
  if (!res.ok) throw new Error(`${t.server.label}: admin sign-in failed: ${res.why}`);
  return res.cookie;
}

async function graphql(t, cookie, query, variables) {
  const res = await t.http.postJson('/graphql', { query, variables }, { cookie });
  const body = json(res.body);
  if (res.status !== 200 || !body?.data || body.errors) throw new Error(`${t.server.label}: GraphQL failed: ${res.status} ${res.body.slice(0, 300)}`);
  return body.data;
}

const CREATE_USER = `mutation ($input: CreateUserInput!) { createUser(input: $input) { user { id username } } }`;

/**
 * 5. Password logins (20 looping sessions: GET /login, POST /login) while scenario 1's load runs.
 * Target: scenario 1's p99 with the logins under twice its p99 without. Rounds alternate
 * without/with on each database.
 */
export async function loginsUnderLoad(ours, cfg) {
  const accounts = new Map();
  for (const t of ours) {
    const cookie = await adminSession(t);
    const list = Array.from({ length: cfg.logins }, (_, i) => ({ username: `bench-login-${i}`, password: `bench-password-${i}-${Math.random().toString(36).slice(2)}` }));
    await Promise.all(list.map(({ username, password }) => graphql(t, cookie, CREATE_USER, { input: { username, password, email: `${username}@example.test` } })));
    accounts.set(t, list);
    cfg.log(`  ${t.database}: ${list.length} accounts created`);
  }
  const cc = (t, durationS) =>
    cannon(t.url, {
      method: 'POST',
      path: '/oauth/token',
      headers: { 'content-type': FORM, authorization: t.auth },
      body: 'grant_type=client_credentials',
      connections: cfg.concurrency,
      durationS,
      check: checkTokenResponse,
    });
  const withLogins = async (t, durationS) => {
    const logins = { ok: 0, latencies: [], failed: 0, samples: [] };
    let stop = false;
    // Its own connections: a login must not wait behind another's socket in the setup client's pool.
    const http = httpClient(t.url, { maxSockets: cfg.logins });
    const loop = async ({ username, password }) => {
      while (!stop) {
        try {
          const r = await signIn(http, username, password);
          if (r.ok) {
            logins.ok++;
            logins.latencies.push(r.ms);
          } else {
            logins.failed++;
            if (logins.samples.length < 5) logins.samples.push(r.why);
          }
        } catch (err) {
          logins.failed++;
          if (logins.samples.length < 5) logins.samples.push(err.message);
        }
      }
    };
    const loops = accounts.get(t).map(loop);
    const m = await cc(t, durationS);
    stop = true;
    await Promise.all(loops);
    http.close();
    m.logins = logins;
    return m;
  };
  // Warm with the scenario's load: the token load with the logins (bcrypt, session writes, templates);
  // the token load alone was warmed by scenario 1.
  const warm = new Map();
  for (const t of ours) warm.set(t, await withLogins(t, cfg.warmS));
  cfg.log('  warmed');
  const runs = new Map(ours.map((t) => [t, { without: [], with: [] }]));
  for (let r = 0; r < cfg.rounds; r++) {
    for (const t of ours) {
      runs.get(t).without.push(await cc(t, cfg.durationS));
      runs.get(t).with.push(await withLogins(t, cfg.durationS));
      cfg.log(`  round ${r + 1} ${t.database} done`);
    }
  }
  return ours.map((t) => {
    const without = combine(runs.get(t).without);
    const withL = withWarmErrors(combine(runs.get(t).with), warm.get(t));
    const all = [warm.get(t), ...runs.get(t).with].map((m) => m.logins);
    const measured = runs.get(t).with.map((m) => m.logins);
    const latencies = measured.flatMap((l) => l.latencies).sort((a, b) => a - b);
    const loginErrors = all.reduce((n, l) => n + l.failed, 0);
    const logins = {
      sessions: cfg.logins,
      ok: measured.reduce((n, l) => n + l.ok, 0),
      per_s: round(measured.reduce((n, l) => n + l.ok, 0) / Math.max(1e-9, runs.get(t).with.reduce((n, m) => n + m.seconds, 0)), 1),
      p50_ms: round(percentile(latencies, 50), 1),
      p99_ms: round(percentile(latencies, 99), 1),
      failed: loginErrors,
      samples: all.flatMap((l) => l.samples).slice(0, 5),
    };
    const ratio = without.p99_ms > 0 ? round(withL.p99_ms / without.p99_ms, 2) : null;
    // No successful login at all means the scenario did not run as specified.
    const errors = without.errors + withL.errors + loginErrors + (logins.ok === 0 ? 1 : 0);
    return {
      id: 5,
      scenario: `client_credentials p99 with ${cfg.logins} looping logins`,
      database: t.database,
      ours: { ...withL, p99_without_logins_ms: without.p99_ms, rps_without_logins: without.rps, logins },
      peer: null,
      ratio,
      target: 'p99 with < 2× p99 without',
      met: ratio !== null && ratio < 2 && errors === 0,
      errors,
    };
  });
}

/** The users-page query exactly as src/web/operations/admin-users.graphql has it (with its fragments). */
export function adminUsersQuery(file = 'src/web/operations/admin-users.graphql') {
  const doc = parse(readFileSync(file, 'utf8'));
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === 'AdminUsers');
  if (!op) throw new Error(`no AdminUsers query in ${file}`);
  const fragments = new Map(doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const needed = new Set();
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (node.kind === Kind.FRAGMENT_SPREAD && !needed.has(node.name.value)) {
      needed.add(node.name.value);
      visit(fragments.get(node.name.value));
    }
    for (const value of Object.values(node)) if (Array.isArray(value)) value.forEach(visit); else if (value && typeof value === 'object' && value.kind) visit(value);
  };
  visit(op);
  return [op, ...[...needed].map((n) => fragments.get(n))].map(print).join('\n\n');
}

/**
 * Scenario 6's server instances, one per database, each on a fresh database of its own: started once
 * (the server creates its tables, admin and CLI client) and stopped, ready to be seeded. Done at the
 * beginning of the run, beside the other startups. `onCleanup` receives what undoes them.
 */
export async function createAdminInstances(databases, onCleanup) {
  return Promise.all(
    databases.map(async ({ database, makeUrl }) => {
      const db = makeUrl ? await makeUrl() : undefined;
      const server = authGate({ label: `authgate-admin (${database})`, databaseUrl: db?.url });
      onCleanup(async () => {
        await server.remove();
        await db?.drop();
      });
      await server.start();
      await server.stop();
      return { database, server, db };
    }),
  );
}

/**
 * 6. The admin users page's query (first page of 25, no filter, as GET /admin/users asks) against a
 * database seeded with many users, tokens and audit events. On its own instances and databases
 * (createAdminInstances), seeded while stopped, so the rows do not slow the other scenarios and
 * scenario 7's memory is the protocol process's. A latency target, so it runs at
 * BENCH_ADMIN_CONCURRENCY (default 1: one admin loading the page; at 32 connections p50 would be mostly
 * queueing). The instances are removed at the end.
 */
export async function adminUsersPage(prepared, cfg) {
  const query = adminUsersQuery();
  const targets = [];
  try {
    // Seeding one after the other: better-sqlite3 is synchronous and would stall the PostgreSQL writer.
    for (const p of prepared) {
      const t0 = performance.now();
      if (p.server.dialect === 'sqlite') await seedSqlite(p.server.sqliteFile, cfg.seed);
      else await seedPostgres(p.db.url, cfg.seed);
      p.seedSeconds = round((performance.now() - t0) / 1000, 1);
      cfg.log(`  ${p.database}: seeded in ${p.seedSeconds} s`);
    }
    await Promise.all(prepared.map((p) => p.server.start()));
    for (const p of prepared) {
      const t = { kind: 'ours', database: p.database, server: p.server, http: httpClient(p.server.url), url: p.server.url, seedSeconds: p.seedSeconds };
      targets.push(t);
      t.cookie = await adminSession(t);
    }
    const body = JSON.stringify({ query, variables: { first: 25, filter: {} } });
    const minUsers = cfg.seed.users;
    const results = await alternate(targets, (t, durationS) =>
      cannon(t.url, {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', cookie: t.cookie },
        body,
        connections: cfg.adminConcurrency,
        durationS,
        check: (status, resBody) => {
          const users = json(resBody)?.data?.users;
          if (status !== 200 || json(resBody)?.errors) return resBody.slice(0, 200);
          return users?.edges?.length === 25 && users.totalCount > minUsers ? null : `unexpected page: ${resBody.slice(0, 200)}`;
        },
      }), cfg);
    return targets.map((t) => {
      const r = results.get(t);
      return {
        id: 6,
        scenario: `admin users page (${cfg.seed.users} users, ${cfg.seed.tokens} tokens, ${cfg.seed.auditEvents} audit)`,
        database: t.database,
        ours: { ...r, concurrency: cfg.adminConcurrency, seed_seconds: t.seedSeconds, rss_mb: t.server.rssMb(), server_log_errors: t.server.errorLines().length },
        peer: null,
        ratio: null,
        target: 'p50 < 50 ms',
        met: r.p50_ms < 50 && r.errors === 0,
        errors: r.errors,
      };
    });
  } finally {
    for (const t of targets) t.http.close();
    for (const p of prepared) {
      await p.server.remove();
      await p.db?.drop();
    }
  }
}

/** 7. Resident memory after the run: this server's protocol process (scenarios 1–5), and the peer's. */
export function memory(ours, peer) {
  const peerMb = peer.server.rssMb();
  return ours.map((t) => {
    const mb = t.server.rssMb();
    return {
      id: 7,
      scenario: 'resident memory after the run (VmRSS)',
      database: t.database,
      ours: { rss_mb: mb },
      peer: { rss_mb: peerMb },
      ratio: round(mb / peerMb, 2),
      target: '< 200 MB',
      met: mb < 200,
      errors: 0,
    };
  });
}
