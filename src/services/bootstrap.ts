// First run: an admin user and a public CLI client, so a new install can log a CLI in at once.
// Runs only when the database has no users; later starts never reseed or overwrite anything.
import { randomInt, randomUUID } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import type { Logger } from '../ops/logger.js';

export const CLI_CLIENT_NAME = 'AuthGate CLI';
// `read write` keep AuthGate's own CLI working unchanged; the OIDC scopes serve standard clients.
export const CLI_CLIENT_SCOPES = 'openid profile email offline_access read write admin';
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export interface SeedResult {
  seeded: boolean;
  adminPassword?: string;
  clientId?: string;
  credentialsFile?: string;
}

export async function seedFirstRun(db: Db, opts: { dataDir: string; adminPassword?: string; logger: Logger; passwords: PasswordHasher }): Promise<SeedResult> {
  if ((await db.user.count()) > 0) return { seeded: false };
  const adminPassword = opts.adminPassword ?? randomPassword(16);
  const clientId = randomUUID();
  const passwordHash = await opts.passwords.hash(adminPassword);
  try {
    await db.$transaction(async (tx) => {
      const admin = await tx.user.create({
        data: { username: 'admin', email: null, fullName: 'Administrator', passwordHash, role: 'admin' },
      });
      await tx.oAuthClient.create({
        data: {
          clientId,
          name: CLI_CLIENT_NAME,
          description: 'Command-line tools signing in with the device flow',
          clientType: 'public',
          allowedScopes: CLI_CLIENT_SCOPES,
          enableDeviceFlow: true,
          createdById: admin.id,
        },
      });
    });
  } catch (err) {
    // Another instance starting at the same moment seeded first: that is fine, use its seed.
    if (isUniqueViolation(err)) return { seeded: false };
    throw err;
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const credentialsFile = join(opts.dataDir, 'authgate-credentials.txt');
  writeFileSync(credentialsFile, `admin_username: admin\nadmin_password: ${adminPassword}\nclient_id: ${clientId}\n`, { mode: 0o600 });
  opts.logger.info('first run: created the admin user and the AuthGate CLI client', { client_id: clientId, credentials_file: credentialsFile });
  return { seeded: true, adminPassword, clientId, credentialsFile };
}

/** A password people can type: no look-alike characters (0/O, 1/l/I). */
export function randomPassword(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}
