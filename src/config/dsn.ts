// PostgreSQL DSNs as AuthGate takes them in DATABASE_DSN: a postgres:// URL, or libpq's key=value form
// ("host=localhost user=authgate password=secret dbname=authgate port=5432 sslmode=disable"; values may
// be single-quoted with \' and \\ escapes, as libpq documents). Converted to the URL node-postgres reads.
// A key node-postgres would not honour is an error naming the variable, never silently dropped.
import { ConfigError } from '../domain/errors.js';

// libpq keys that node-postgres' connection string honours, mapped to their URL place.
const QUERY_KEYS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'options', 'connect_timeout']);
// GORM DSN examples often carry TimeZone; it sets the session time zone, which this server does not
// depend on (timestamps are stored as instants). Accepted with a warning.
const IGNORED_KEYS = new Set(['timezone']);
const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']);

export function parseKeyValueDsn(name: string, dsn: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let i = 0;
  const n = dsn.length;
  while (i < n) {
    while (i < n && /\s/.test(dsn[i]!)) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && /[A-Za-z0-9_]/.test(dsn[i]!)) i++;
    const key = dsn.slice(keyStart, i);
    while (i < n && /\s/.test(dsn[i]!)) i++;
    if (!key || dsn[i] !== '=') throw new ConfigError(`${name} is not a valid PostgreSQL DSN: expected key=value at "${dsn.slice(keyStart, keyStart + 20)}"`);
    i++;
    while (i < n && /\s/.test(dsn[i]!)) i++;
    let value = '';
    if (dsn[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const ch = dsn[i]!;
        if (ch === '\\' && i + 1 < n) {
          value += dsn[i + 1];
          i += 2;
        } else if (ch === "'") {
          closed = true;
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) throw new ConfigError(`${name} is not a valid PostgreSQL DSN: unterminated quote in the value of ${key}`);
    } else {
      while (i < n && !/\s/.test(dsn[i]!)) {
        if (dsn[i] === '\\' && i + 1 < n) i++;
        value += dsn[i];
        i++;
      }
    }
    if (pairs.has(key)) throw new ConfigError(`${name} is not a valid PostgreSQL DSN: ${key} is given twice`);
    pairs.set(key, value);
  }
  if (pairs.size === 0) throw new ConfigError(`${name} is empty`);
  return pairs;
}

/** The postgres:// URL for DATABASE_DSN; `warnings` receives a line for each key accepted without effect. */
export function postgresUrlFromDsn(name: string, dsn: string, warnings: string[]): string {
  if (/^postgres(ql)?:\/\//.test(dsn)) {
    try {
      new URL(dsn);
    } catch {
      throw new ConfigError(`${name} is not a valid postgres:// URL`);
    }
    return dsn;
  }
  const pairs = parseKeyValueDsn(name, dsn);
  const url = new URL('postgresql://localhost');
  for (const [key, value] of pairs) {
    const lower = key.toLowerCase();
    if (key === 'host' || key === 'hostaddr') {
      // A directory is a Unix socket (libpq); node-postgres takes it as the host query parameter.
      if (value.startsWith('/')) url.searchParams.set('host', value);
      else if (/^[A-Za-z0-9.-]+$|^[0-9a-fA-F:]+$/.test(value)) url.hostname = value.includes(':') ? `[${value}]` : value;
      else throw new ConfigError(`${name}: "${value}" is not a valid ${key}`);
    } else if (key === 'port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new ConfigError(`${name}: port must be a number, got "${value}"`);
      url.port = value;
    } else if (key === 'user') {
      url.username = encodeURIComponent(value);
    } else if (key === 'password') {
      url.password = encodeURIComponent(value);
    } else if (key === 'dbname') {
      if (!value) throw new ConfigError(`${name}: dbname is empty`);
      url.pathname = `/${encodeURIComponent(value)}`;
    } else if (QUERY_KEYS.has(key)) {
      if (key === 'sslmode' && !SSL_MODES.has(value)) throw new ConfigError(`${name}: sslmode must be one of ${[...SSL_MODES].join(', ')}, got "${value}"`);
      if (key === 'connect_timeout' && !/^\d+$/.test(value)) throw new ConfigError(`${name}: connect_timeout must be a number of seconds, got "${value}"`);
      url.searchParams.set(key, value);
    } else if (IGNORED_KEYS.has(lower)) {
      warnings.push(`${name}: ${key} is accepted but has no effect (this server stores instants, not local times)`);
    } else {
      throw new ConfigError(`${name}: the DSN key "${key}" is not supported by this server`);
    }
  }
  return url.toString();
}
