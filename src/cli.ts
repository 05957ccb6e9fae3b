// The command line, as AuthGate's: `server` (the default) starts the server, `-v`/`--version` prints the
// version and build information, `-h`/`--help` the subcommands and the configuration reference (generated
// from the table the configuration reader uses). Anything else is an error with the usage, exit code 2.
import { readFileSync } from 'node:fs';
import { configurationReference } from './config/authgate-compat.js';

export type Command = { kind: 'server' } | { kind: 'version' } | { kind: 'help' } | { kind: 'error'; message: string };

export function parseCommandLine(args: readonly string[]): Command {
  if (args.length === 0) return { kind: 'server' };
  if (args.length === 1) {
    const [arg] = args;
    if (arg === 'server') return { kind: 'server' };
    if (arg === '-v' || arg === '--version') return { kind: 'version' };
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
  }
  if (args.length === 2 && args[0] === 'server' && (args[1] === '-h' || args[1] === '--help')) return { kind: 'help' };
  const unknown = args.find((arg) => !['server', '-v', '--version', '-h', '--help'].includes(arg));
  return { kind: 'error', message: unknown === undefined ? `unexpected arguments: ${args.join(' ')}` : `unknown argument: ${unknown}` };
}

export const USAGE = `Usage: authgate [command]

Commands:
  server          Start the authorization server (the default when no command is given)

Options:
  -v, --version   Print the version and build information, then exit
  -h, --help      Print this help and the configuration reference, then exit`;

export function helpText(): string {
  return `AuthGate-TS: an OAuth 2.0 / OpenID Connect authorization server compatible with AuthGate.\n\n${USAGE}\n\n${configurationReference()}\n`;
}

interface BuildInfo {
  commit?: string;
  builtAt?: string;
}

/**
 * Version from package.json; the commit and build time from build-info.json, which `npm run build`
 * writes next to the compiled files (absent when built another way: then "unknown", never guessed);
 * the Node.js version is the runtime's.
 */
export function versionText(distDir: URL): string {
  const pkg = readJson<{ name?: string; version?: string }>(new URL('../package.json', distDir)) ?? {};
  const build = readJson<BuildInfo>(new URL('./build-info.json', distDir)) ?? {};
  return [
    `${pkg.name ?? 'authgate-ts'} ${pkg.version ?? 'unknown'}`,
    `commit: ${build.commit ?? 'unknown'}`,
    `built: ${build.builtAt ?? 'unknown'}`,
    `node: ${process.version} (${process.platform}/${process.arch})`,
  ].join('\n') + '\n';
}

function readJson<T>(url: URL): T | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
