// The split into the `unit` and `system` vitest projects (testkit/test-projects.ts) follows what each test
// does: a unit test imports nothing that starts a server or a process, and every system pattern still names a
// file (a test moved to a new folder or renamed is not silently counted as unit).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../testkit/paths.ts';
import { SYSTEM_TESTS, UNIT_EXCEPTIONS, allTestFiles, globToRegExp, projectOf, testFilesOf } from '../testkit/test-projects.ts';

/** Imports that start servers or processes: Node's process and socket modules, MQTT, the broker, the testkit starters. */
const STARTERS = [
  /^node:(child_process|net|http|https|dgram|tls)$/,
  /^(mqtt|aedes|smtp-server|nodemailer)$/,
  /\/testkit\/(stack|test-broker|influxd|child-process|free-port|alerts-stack|agent-process|fault|bystander|mqtt-client|storm|mail-sink)\.ts$/,
  /\/fake-gpiod\.ts$/,
];

/** The module specifiers a file imports for their values (`import type` starts nothing). */
function valueImports(text: string): string[] {
  return [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] ?? '');
}

describe('the unit and system test projects', () => {
  const files = allTestFiles(PROJECT_ROOT);

  it('put every test file in exactly one project', () => {
    expect(files.length).toBeGreaterThan(100);
    const unit = testFilesOf('unit', PROJECT_ROOT);
    const system = testFilesOf('system', PROJECT_ROOT);
    expect(unit.length).toBeGreaterThan(40);
    expect(system.length).toBeGreaterThan(40);
    expect([...unit, ...system].sort()).toEqual(files);
    expect(projectOf('edge/collectors/http/http.test.ts'), 'a system test moved into a folder stays system').toBe('system');
    expect(projectOf('edge/queue/queue-model.test.ts')).toBe('unit');
  });

  it('a unit test imports nothing that starts a server or a process', () => {
    const offenders = testFilesOf('unit', PROJECT_ROOT).flatMap((f) =>
      valueImports(readFileSync(join(PROJECT_ROOT, f), 'utf8'))
        .filter((spec) => STARTERS.some((s) => s.test(spec)))
        .map((spec) => `${f} imports ${spec}: list it in SYSTEM_TESTS (testkit/test-projects.ts)`),
    );
    expect(offenders).toEqual([]);
    // the check is not blind: system tests do import them
    expect(valueImports(readFileSync(join(PROJECT_ROOT, 'test/pipeline.test.ts'), 'utf8')).filter((spec) => STARTERS.some((s) => s.test(spec))).length).toBeGreaterThan(0);
  });

  it('every system pattern and every unit exception names a test file that exists', () => {
    const unmatched = SYSTEM_TESTS.filter((g) => !files.some((f) => globToRegExp(g).test(f)));
    expect(unmatched).toEqual([]);
    expect(UNIT_EXCEPTIONS.filter((f) => !files.includes(f))).toEqual([]);
  });
});
