// Password hashes for users a test writes straight into the database, made as the server makes them
// (bcrypt at the server's cost, through PasswordHasher) but on the test's own thread: a pool without
// worker threads has nothing to start or close. The servers under test check them on their own pools.
import { PasswordHasher } from '../../src/identity/password-hasher.js';

const onThisThread = new PasswordHasher({ workers: 0 });

export function hashPassword(password: string): Promise<string> {
  return onThisThread.hash(password);
}
