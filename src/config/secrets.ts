// JWT_SECRET and SESSION_SECRET. In development a missing secret is generated once and kept in
// $DATA_DIR/secrets.json (mode 0600) so restarts keep sessions and tokens valid. In production a
// missing, short or well-known default secret refuses to start: a forgeable token is worse than downtime.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../domain/errors.js';

const MIN_SECRET_LENGTH = 32;

// Placeholders from AuthGate's and common example configs: treated as "not set" in production.
const KNOWN_DEFAULTS = new Set([
  'your-256-bit-secret-change-in-production',
  'session-secret-change-in-production',
  'change-me',
  'changeme',
  'secret',
]);

interface Secrets {
  jwtSecret: string;
  sessionSecret: string;
}

export function resolveSecrets(opts: { env: Record<string, string | undefined>; dataDir: string; production: boolean }): Secrets {
  const given = { JWT_SECRET: opts.env.JWT_SECRET || undefined, SESSION_SECRET: opts.env.SESSION_SECRET || undefined };
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) {
      if (opts.production) throw new ConfigError(`${name} must be set when NODE_ENV=production`);
      continue;
    }
    if (KNOWN_DEFAULTS.has(value)) {
      if (opts.production) throw new ConfigError(`${name} is a well-known default value; set a random secret`);
    }
    if (value.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`${name} must be at least ${MIN_SECRET_LENGTH} characters`);
    }
  }
  if (given.JWT_SECRET && given.SESSION_SECRET) return { jwtSecret: given.JWT_SECRET, sessionSecret: given.SESSION_SECRET };
  const stored = readOrCreateStoredSecrets(opts.dataDir);
  return { jwtSecret: given.JWT_SECRET ?? stored.jwtSecret, sessionSecret: given.SESSION_SECRET ?? stored.sessionSecret };
}

function readOrCreateStoredSecrets(dataDir: string): Secrets {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
      if (typeof parsed.jwtSecret === 'string' && typeof parsed.sessionSecret === 'string') return parsed as Secrets;
    } catch {
      // fall through to the error below
    }
    throw new ConfigError(`${file} is unreadable or malformed; fix it, or set JWT_SECRET and SESSION_SECRET`);
  }
  const secrets: Secrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    sessionSecret: randomBytes(32).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secrets;
}
