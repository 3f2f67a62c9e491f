// Token check per CONNECT: scrypt records (as registries before HMAC held them, the default N=16384) against HMAC
// records, through Registry.verify: wall time and CPU (all threads of this process: scrypt runs on libuv's pool) per
// connect, for the right token and for a refusal. `npx tsx bench/token-verify.ts` alone, or in `npm run bench`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../hub/agents/registry.ts';
import { DEFAULT_SCRYPT, generateToken, hashToken } from '../hub/agents/token.ts';
import { fmt } from './stats.ts';

export interface VerifyFigures {
  agents: number;
  /** µs per verify, wall and CPU. */
  okWallUs: number;
  okCpuUs: number;
  refusedWallUs: number;
  refusedCpuUs: number;
}

export interface TokenVerifyFigures {
  scrypt: VerifyFigures;
  hmac: VerifyFigures;
  /** File writes the migration of the scrypt agents took, and the seconds their checks spanned. */
  migrationWrites: number;
  migrationSpanS: number;
}

const site = { slug: 'xa-a', name: 'Xã A', code: '00001', province: 'phu-tho', provinceName: 'Tỉnh Phú Thọ', area: '', areaName: '' };

async function timed(n: number, fn: (i: number) => Promise<boolean>): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const wallUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / n };
}

async function measure(dir: string, kind: 'scrypt' | 'hmac', agents: number): Promise<{ figures: VerifyFigures; writes: number }> {
  const path = join(dir, `${kind}.json`);
  const tokens = Array.from({ length: agents }, () => generateToken());
  if (kind === 'scrypt') {
    const records = [];
    for (const [i, t] of tokens.entries()) records.push({ site: site.slug, agent: `pi-${i}`, tokenHash: await hashToken(t, DEFAULT_SCRYPT), createdAt: new Date().toISOString() });
    writeFileSync(path, JSON.stringify({ version: 1, sites: [site], agents: records }), { mode: 0o600 });
  } else {
    const reg = await Registry.open(path, { secretPath: join(dir, 'hub-secret') });
    await reg.upsertSite(site);
    const enrolled = await reg.enrollMany(tokens.map((_, i) => ({ site: site.slug, agent: `pi-${i}` })));
    for (const [i, e] of enrolled.entries()) tokens[i] = e.token;
  }
  // Refusals first, while every record is still in its own form (a scrypt refusal costs one scrypt).
  const reg = await Registry.open(path, { secretPath: join(dir, 'hub-secret'), migrationFlushMs: 1000 });
  const wrong = generateToken();
  const refused = await timed(agents, (i) => reg.verify(site.slug, `pi-${i}`, wrong));
  const ok = await timed(agents, (i) => reg.verify(site.slug, `pi-${i}`, tokens[i] ?? ''));
  await reg.close();
  return { figures: { agents, okWallUs: ok.wallUs, okCpuUs: ok.cpuUs, refusedWallUs: refused.wallUs, refusedCpuUs: refused.cpuUs }, writes: reg.writes };
}

export async function runTokenVerifyBench(opts: { scryptAgents?: number; hmacAgents?: number } = {}): Promise<TokenVerifyFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-token-'));
  try {
    const scrypt = await measure(dir, 'scrypt', opts.scryptAgents ?? 100);
    const hmac = await measure(dir, 'hmac', opts.hmacAgents ?? 10_000);
    return { scrypt: scrypt.figures, hmac: hmac.figures, migrationWrites: scrypt.writes, migrationSpanS: (scrypt.figures.okWallUs * scrypt.figures.agents) / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printTokenVerify(r: TokenVerifyFigures): void {
  const row = (label: string, f: VerifyFigures): string =>
    `  ${label.padEnd(34)} ${fmt(f.agents).padStart(6)} agents · right token ${fmt(f.okWallUs, 1)} µs wall, ${fmt(f.okCpuUs, 1)} µs CPU · wrong token ${fmt(f.refusedWallUs, 1)} µs wall, ${fmt(f.refusedCpuUs, 1)} µs CPU`;
  console.log(`\ntoken check per CONNECT (Registry.verify, one after another; CPU of this process, all threads)`);
  console.log(row(`scrypt N=${DEFAULT_SCRYPT.N} (before; then migrated)`, r.scrypt));
  console.log(row('hmac-sha256 (now)', r.hmac));
  console.log(`  ratio scrypt/hmac CPU per connect: ${fmt(r.scrypt.okCpuUs / r.hmac.okCpuUs)}× · 3,025 agents' checks: ${fmt((r.scrypt.okCpuUs * 3025) / 1e6, 1)} s CPU before, ${fmt((r.hmac.okCpuUs * 3025) / 1e6, 3)} s after`);
  console.log(`  the ${fmt(r.scrypt.agents)} scrypt records, verified over ${fmt(r.migrationSpanS, 1)} s, migrated to HMAC in ${r.migrationWrites} registry write(s) (at most one a second)`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) printTokenVerify(await runTokenVerifyBench());
