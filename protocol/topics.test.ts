import { describe, expect, it } from 'vitest';
import {
  agentIdentity,
  alertTopic,
  cmdFilter,
  cmdResultTopic,
  cmdTopic,
  eventTopic,
  MAX_TOPIC_DEPTH,
  parseAgentIdentity,
  parseTopic,
  statusTopic,
  telemetryTopic,
} from './topics.ts';

describe('topic builders', () => {
  it('build the documented topics', () => {
    expect(statusTopic('tich-son', 'pi-1')).toBe('ioc/v1/tich-son/pi-1/status');
    expect(telemetryTopic('tich-son', 'pi-1')).toBe('ioc/v1/tich-son/pi-1/telemetry');
    expect(eventTopic('tich-son', 'pi-1')).toBe('ioc/v1/tich-son/pi-1/event');
    expect(cmdTopic('tich-son', 'pi-1', 'probe-now')).toBe('ioc/v1/tich-son/pi-1/cmd/probe-now');
    expect(cmdFilter('tich-son', 'pi-1')).toBe('ioc/v1/tich-son/pi-1/cmd/#');
    expect(cmdResultTopic('tich-son', 'pi-1', 'c1')).toBe('ioc/v1/tich-son/pi-1/cmd-result/c1');
    expect(alertTopic('tich-son', 'a-1')).toBe('ioc/v1/alerts/tich-son/a-1');
  });

  it.each([
    ['Tich-Son', 'pi-1'],
    ['tich son', 'pi-1'],
    ['', 'pi-1'],
    ['a'.repeat(65), 'pi-1'],
    ['tich-son', 'pi/1'],
    ['tich-son', '+'],
    ['tich-son', '#'],
    ['alerts', 'pi-1'],
    ['xã-tích-sơn', 'pi-1'],
  ])('refuse bad slugs %s / %s', (site, agent) => {
    expect(() => statusTopic(site, agent)).toThrow(TypeError);
  });

  it('refuses wildcards in command names and ids', () => {
    expect(() => cmdTopic('s', 'a', 'x/#')).toThrow(TypeError);
    expect(() => cmdResultTopic('s', 'a', '+')).toThrow(TypeError);
  });
});

describe('parseTopic', () => {
  it('parses what the builders make', () => {
    expect(parseTopic(statusTopic('s-1', 'a'))).toEqual({ kind: 'status', site: 's-1', agent: 'a' });
    expect(parseTopic(telemetryTopic('s-1', 'a'))).toEqual({ kind: 'telemetry', site: 's-1', agent: 'a' });
    expect(parseTopic(eventTopic('s-1', 'a'))).toEqual({ kind: 'event', site: 's-1', agent: 'a' });
    expect(parseTopic(cmdTopic('s-1', 'a', 'probe-now'))).toEqual({ kind: 'cmd', site: 's-1', agent: 'a', name: 'probe-now' });
    expect(parseTopic(cmdResultTopic('s-1', 'a', 'x1'))).toEqual({ kind: 'cmd-result', site: 's-1', agent: 'a', id: 'x1' });
    expect(parseTopic(alertTopic('s-1', 'al-9'))).toEqual({ kind: 'alert', site: 's-1', alertId: 'al-9' });
  });

  it.each([
    'ioc/v1/s/a',
    'ioc/v2/s/a/status',
    'ioc/v1/S/a/status',
    'ioc/v1/s/a/other',
    'ioc/v1/s/a/status/extra',
    'ioc/v1/s/a/cmd/x/y',
    'ioc/v1/s/+/telemetry',
    'ioc/v1/s/#',
    'ioc/v1/alerts/s',
    'ioc/v1/alerts/s/id/x',
    '/ioc/v1/s/a/status',
    'ioc/v1//a/status',
    `ioc/v1/${'x'.repeat(600)}/a/status`,
  ])('rejects %s', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('never accepts more than the maximum depth', () => {
    const deep = ['ioc', 'v1', 's', 'a', 'cmd', 'x', 'y'].join('/');
    expect(deep.split('/').length).toBeGreaterThan(MAX_TOPIC_DEPTH);
    expect(parseTopic(deep)).toBeNull();
  });
});

describe('agent identity', () => {
  it('round-trips', () => {
    expect(parseAgentIdentity(agentIdentity('phuong-tich-son', 'pi-1'))).toEqual({ site: 'phuong-tich-son', agent: 'pi-1' });
  });
  it.each(['phuong-tich-son', 'a/b/c', 'A/b', '/b', 'alerts/pi-1', ''])('rejects %s', (id) => {
    expect(parseAgentIdentity(id)).toBeNull();
  });
});
