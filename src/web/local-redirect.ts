// After login we send the user back where they came from, but only to a path on this server:
// anything that could leave the site (absolute URLs, scheme-relative "//host", backslash tricks,
// control characters) falls back to "/".
export function safeLocalPath(target: string | undefined): string {
  if (!target) return '/';
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return '/';
  try {
    const resolved = new URL(target, 'http://local.invalid');
    if (resolved.origin !== 'http://local.invalid') return '/';
    return resolved.pathname + resolved.search;
  } catch {
    return '/';
  }
}
