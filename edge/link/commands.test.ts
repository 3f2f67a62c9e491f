import { describe, expect, it } from 'vitest';
import { cmdResultTopic, cmdTopic, commandResultSchema, statusTopic } from '../../protocol/index.ts';
import { silentLogger } from '../logger.ts';
import { CommandDispatcher } from './commands.ts';

const AT = 1_763_900_000_000;
const cmd = (id: string, name: string): Buffer => Buffer.from(JSON.stringify({ id, name, issuedAt: AT }));

describe('CommandDispatcher', () => {
  const d = new CommandDispatcher('xa-a', 'pi-1', silentLogger(), () => AT + 5);
  d.handle('probe-now', async () => ({ collectors: 3 }));
  d.handle('noop', async () => undefined);
  d.handle('fail', async () => {
    throw new Error('x'.repeat(2000));
  });

  it('answers on cmd-result/{id} with the handler result, its error (cut to 1024 chars) or unknown command', async () => {
    const ok = await d.dispatch(cmdTopic('xa-a', 'pi-1', 'probe-now'), cmd('c1', 'probe-now'));
    expect(ok?.topic).toBe(cmdResultTopic('xa-a', 'pi-1', 'c1'));
    expect(commandResultSchema.parse(JSON.parse(ok?.payload ?? '{}'))).toEqual({ id: 'c1', ok: true, at: AT + 5, result: { collectors: 3 } });
    expect(JSON.parse((await d.dispatch(cmdTopic('xa-a', 'pi-1', 'noop'), cmd('c2', 'noop')))?.payload ?? '{}')).toEqual({ id: 'c2', ok: true, at: AT + 5 });
    const failed = commandResultSchema.parse(JSON.parse((await d.dispatch(cmdTopic('xa-a', 'pi-1', 'fail'), cmd('c3', 'fail')))?.payload ?? '{}'));
    expect(failed).toMatchObject({ id: 'c3', ok: false });
    expect(failed.error).toHaveLength(1024);
    expect(JSON.parse((await d.dispatch(cmdTopic('xa-a', 'pi-1', 'reboot'), cmd('c4', 'reboot')))?.payload ?? '{}')).toEqual({ id: 'c4', ok: false, at: AT + 5, error: 'unknown command: reboot' });
  });

  it('ignores what is not a command to this agent, and malformed commands', async () => {
    expect(await d.dispatch(cmdTopic('xa-a', 'pi-2', 'probe-now'), cmd('c1', 'probe-now'))).toBeUndefined();
    expect(await d.dispatch(cmdTopic('xa-b', 'pi-1', 'probe-now'), cmd('c1', 'probe-now'))).toBeUndefined();
    expect(await d.dispatch(statusTopic('xa-a', 'pi-1'), cmd('c1', 'probe-now'))).toBeUndefined();
    expect(await d.dispatch(cmdTopic('xa-a', 'pi-1', 'probe-now'), Buffer.from('{"id":'))).toBeUndefined();
    expect(await d.dispatch(cmdTopic('xa-a', 'pi-1', 'probe-now'), Buffer.from(JSON.stringify({ id: 'c1', name: 'probe-now' })))).toBeUndefined();
  });
});
