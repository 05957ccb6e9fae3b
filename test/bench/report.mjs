// The bench's output: one plain-text table on stdout, and the same rows (with everything measured) as
// JSON under test/bench/results/ (git-ignored), with the machine and the commit they were taken on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const fmt = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits }));

/** What the "this server" / "peer" cells say, per kind of scenario. */
function describe(row, side) {
  const r = row[side];
  if (!r) return '—';
  if (r.failed) return `failed: ${r.failed}`;
  // Every connection has a request in flight when a round ends; worth saying only when more requests
  // were left waiting than were answered (the percentiles then rest on their ages, lower bounds).
  const unanswered = r.unfinished > r.requests ? `, ${r.unfinished} unanswered at round end` : '';
  return summary(row.id, r) + unanswered;
}

function summary(id, r) {
  switch (id) {
    case 4:
      return `p50 ${fmt(r.p50_ms)} p99 ${fmt(r.p99_ms)} ms, ${fmt(r.rps, 0)}/${fmt(r.nominal_rps, 0)} polls/s`;
    case 5:
      return `p99 ${fmt(r.p99_ms)} ms (${fmt(r.p99_without_logins_ms)} without), ${fmt(r.rps, 0)} rps, ${fmt(r.logins.per_s)} logins/s`;
    case 6:
      return `p50 ${fmt(r.p50_ms)} p99 ${fmt(r.p99_ms)} ms, ${fmt(r.rps, 0)} rps`;
    case 7:
      return `${fmt(r.rss_mb)} MB`;
    default:
      return `${fmt(r.rps, 0)} rps, p50 ${fmt(r.p50_ms)} p99 ${fmt(r.p99_ms)} ms`;
  }
}

export function printTable(rows) {
  const header = ['scenario', 'db', 'this server', 'peer', 'ratio', 'target', 'met', 'errors'];
  const cells = rows.map((row) => [
    `${row.id}. ${row.scenario}`,
    row.database,
    describe(row, 'ours'),
    describe(row, 'peer'),
    row.ratio === null || row.ratio === undefined ? '—' : fmt(row.ratio, 2),
    row.target,
    row.met ? 'yes' : 'NO',
    String(row.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => v.padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model ?? 'unknown',
    cpu_count: cpus.length,
    total_memory_mb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load_average_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Writes the run as JSON; returns the file's path. Latency arrays are not kept, only their figures. */
export function writeResults(run) {
  const dir = join(process.cwd(), 'test/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${run.mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ ...run, git_commit: gitCommit() }, null, 2) + '\n');
  return file;
}

/** The README's table: one row per scenario, a column per database, from a results file. */
export function markdownTable(run) {
  const databases = [...new Set(run.scenarios.map((r) => r.database))].filter((d) => d !== '—');
  const ids = [...new Set(run.scenarios.map((r) => r.id))];
  const out = [
    `| Scenario | Target | ${databases.map((d) => `This server (${d === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`).join(' | ')} | node-oidc-provider | Met |`,
    `|---|---|${databases.map(() => '---').join('|')}|---|---|`,
  ];
  for (const id of ids) {
    const rows = run.scenarios.filter((r) => r.id === id);
    const first = rows[0];
    const cell = (db) => {
      const r = rows.find((x) => x.database === db);
      if (!r) return '—';
      const ratio = r.ratio === null || r.ratio === undefined ? '' : ` (ratio ${fmt(r.ratio, 2)})`;
      return describe(r, 'ours') + ratio;
    };
    const met = databases.map((db) => rows.find((x) => x.database === db)?.met ? 'yes' : 'no').join(' / ');
    out.push(`| ${first.id}. ${first.scenario} | ${first.target} | ${databases.map(cell).join(' | ')} | ${describe(first, 'peer')} | ${met} |`);
  }
  return out.join('\n');
}

// `node test/bench/report.mjs <results.json>` prints that run's table as Markdown (for the README).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  console.log(markdownTable(JSON.parse(readFileSync(process.argv[2], 'utf8'))));
}
