// The local sign-in source: passwords kept in this database as bcrypt hashes.
import bcrypt from 'bcryptjs';

// bcryptjs is pure JavaScript; cost 10 keeps a login near 100 ms on these machines.
const BCRYPT_COST = 10;
// Compared against when there is no hash to check (no such user, or one without a local password), so
// a miss costs as much time as a wrong password and response timing does not reveal which usernames exist.
const DUMMY_HASH = bcrypt.hashSync('authgate-timing-equaliser', BCRYPT_COST);

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** True when `password` matches `hash`; without a hash it costs the same and is false. */
export async function checkLocalPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && Boolean(hash);
}
