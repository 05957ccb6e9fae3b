import type { Db, User } from '../db/client.js';
import type { Caches } from '../ops/cache.js';

// Passwords are checked by the sign-in sources (src/identity/); SignInService decides which one.

export class UserService {
  constructor(
    private readonly db: Db,
    private readonly caches: Caches,
  ) {}

  /**
   * The user behind a session or token, or null when missing or disabled. Read through the user cache
   * (invalidated by every user write), so the password hash is not in what it returns.
   */
  async findActive(id: string): Promise<User | null> {
    const user = await this.find(id);
    return user?.active ? user : null;
  }

  /** Read through the user cache, active or not (password hash withheld). */
  find(id: string): Promise<User | null> {
    return this.caches.user(id, () => this.db.user.findUnique({ where: { id } }));
  }
}
