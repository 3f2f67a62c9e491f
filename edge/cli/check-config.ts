// `ioc-edge check-config`: validates an agent config (with the env overrides) without running it.
import { ConfigError, loadEdgeConfig } from '../config.ts';
import { envValue, help, parseCommand, str, usageError, type CliIo } from './args.ts';

export async function checkConfig(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('check-config', args, true);
  if (parsed === undefined) return help('check-config', io);
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && str(values, 'config') !== undefined)) throw usageError('check-config takes one FILE', 'check-config');
  const file = str(values, 'config') ?? positionals[0] ?? envValue(io.env, 'IOC_EDGE_CONFIG');
  if (file === undefined) throw usageError('check-config needs a FILE', 'check-config');
  try {
    const cfg = await loadEdgeConfig(file === '-' ? '/dev/stdin' : file, io.env);
    io.out(`OK ${file}: site=${cfg.site} agent=${cfg.agent} collectors=${cfg.collectors.length}`);
    return 0;
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      io.err(`invalid config ${file}:`);
      for (const issue of err.issues) io.err(`  ${issue}`);
      return 1;
    }
    throw err;
  }
}
