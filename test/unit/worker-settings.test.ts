import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helpText } from '../../src/cli/help.js';
import { input, option } from '../../src/core/names.js';
import {
  defaultText,
  parseCount,
  parseMaxParallel,
  parseMinutes,
  parseModuleVersion,
  parseShard,
  WORKER_SETTINGS,
  type WorkerSettingKey,
} from '../../src/workers/settings.js';

describe('worker settings', () => {
  it('takes whole counts within bounds', () => {
    expect(parseCount('', input('max-parallel'), 3, 1, 64)).toBe(3);
    expect(parseCount(' 8 ', input('max-parallel'), 3, 1, 64)).toBe(8);
    for (const bad of ['0', '65', '1.5', 'two', '-1'])
      expect(() => parseCount(bad, input('max-parallel'), 3, 1, 64)).toThrow(
        /^Input 'max-parallel' must be a whole number from 1 to 64/,
      );
  });
  it('takes minutes with decimals, up to a day', () => {
    expect(parseMinutes('', input('timeout-minutes'))).toBe(30);
    expect(parseMinutes('0.5', input('timeout-minutes'))).toBe(0.5);
    expect(parseMinutes('.25', input('timeout-minutes'))).toBe(0.25);
    for (const bad of ['0', '-1', '1441', '1e3', 'ten'])
      expect(() => parseMinutes(bad, input('timeout-minutes'))).toThrow(
        /^Input 'timeout-minutes' must be a number of minutes/,
      );
  });
  it('takes a shard as i/n', () => {
    expect(parseShard('', input('shard'))).toBeUndefined();
    expect(parseShard('2 / 4', input('shard'))).toEqual({ index: 2, total: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1/257', '2', 'a/b'])
      expect(() => parseShard(bad, input('shard'))).toThrow(/^Input 'shard' must be i\/n/);
  });
  it('cites the workflow expression for the input, and a command-line example for the option (issue 9.12)', () => {
    expect(() => parseShard('5/4', input('shard'))).toThrow(/e\.g\. '\$\{\{ matrix\.shard \}\}\/4'/);
    let message = '';
    try {
      parseShard('5/4', option('shard'));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Option --shard must be i\/n .*e\.g\. 2\/4/);
    expect(message).not.toContain('matrix');
  });
  it('takes a module release version, not a prerelease that Import-Module -RequiredVersion cannot load', () => {
    expect(parseModuleVersion('', input('module-version'))).toBeUndefined();
    expect(parseModuleVersion(' 3.7.2 ', input('module-version'))).toBe('3.7.2');
    expect(parseModuleVersion('3.9.0.1', input('module-version'))).toBe('3.9.0.1');
    for (const bad of ['3.8.0-Preview1', '3', 'latest', "3.7'; Remove-Item"])
      expect(() => parseModuleVersion(bad, input('module-version'))).toThrow(
        /^Input 'module-version' must be an ExchangeOnlineManagement release version/,
      );
  });
});

describe('the table of worker settings', () => {
  const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  it("is what action.yml's inputs default to, under the same names", () => {
    for (const key of Object.keys(WORKER_SETTINGS) as WorkerSettingKey[]) {
      const { name } = WORKER_SETTINGS[key];
      expect(action.inputs[name], name).toBeDefined();
      expect(action.inputs[name]?.default ?? '', name).toBe(defaultText(key));
    }
  });
  it('is what the parsers fall back to and where they draw the line', () => {
    const { maxParallel, timeoutMinutes, shard } = WORKER_SETTINGS;
    expect(parseMaxParallel('', input('max-parallel'))).toBe(maxParallel.default);
    expect(parseMaxParallel(String(maxParallel.max), input('max-parallel'))).toBe(maxParallel.max);
    expect(() => parseMaxParallel(String(maxParallel.max + 1), input('max-parallel'))).toThrow();
    expect(() => parseMaxParallel(String(maxParallel.min - 1), input('max-parallel'))).toThrow();
    expect(parseMinutes('', input('timeout-minutes'))).toBe(timeoutMinutes.default);
    expect(() => parseMinutes(String(timeoutMinutes.max + 1), input('timeout-minutes'))).toThrow();
    expect(parseShard(`${shard.max}/${shard.max}`, input('shard'))).toEqual({
      index: shard.max,
      total: shard.max,
    });
    expect(() => parseShard(`1/${shard.max + 1}`, input('shard'))).toThrow();
  });
  it("is what exo-login run's help says", () => {
    const { maxParallel, timeoutMinutes } = WORKER_SETTINGS;
    expect(helpText('run')).toContain(
      `--max-parallel N        workers at once, ${maxParallel.min}–${maxParallel.max} (default ${maxParallel.default})`,
    );
    expect(helpText('run')).toContain(`(default ${timeoutMinutes.default})`);
  });
});
