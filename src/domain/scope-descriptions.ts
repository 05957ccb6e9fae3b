// What a consent page tells a person each scope means.
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm your identity',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Stay signed in (keep access when you are not using it)',
  read: 'Read your data',
  write: 'Change your data',
  admin: 'Administer this server with your admin rights',
};

/** The scopes this server knows; an administrator may give a client only these. */
export const KNOWN_SCOPES: readonly string[] = Object.keys(DESCRIPTIONS);

export function describeScopes(scopes: string[]): { scope: string; description: string }[] {
  return scopes.map((scope) => ({ scope, description: DESCRIPTIONS[scope] ?? `Access "${scope}"` }));
}
