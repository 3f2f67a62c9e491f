// The hostile-agent suite's baseline: the bystander alone, so that a failing attack test can be told
// apart from a bystander that fails on its own.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../../testkit/stack.ts';
import { bystanderProblems, startBystander } from '../../testkit/bystander.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: 2 });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

it('a well-behaved agent alone lands every point with a short PUBACK', async () => {
  const agent = stack.agents[0];
  if (agent === undefined) throw new Error('no agent');
  const b = await startBystander({ mqttUrl: stack.mqttUrl, influx: stack.influx, agent });
  await new Promise((r) => setTimeout(r, 3000));
  const r = await b.finish();
  expect(r.sent).toBeGreaterThan(20);
  expect(bystanderProblems(r, 500)).toEqual([]);
});
