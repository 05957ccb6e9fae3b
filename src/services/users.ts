import type { Db, User } from '../db/client.js';

// Passwords are checked by the sign-in sources (src/identity/); SignInService decides which one.
export { hashPassword } from '../identity/local.js';

export class UserService {
  constructor(private readonly db: Db) {}

  /** The user behind a session or token, or null when missing or disabled. */
  async findActive(id: string): Promise<User | null> {
    const user = await this.db.user.findUnique({ where: { id } });
    return user?.active ? user : null;
  }
}
