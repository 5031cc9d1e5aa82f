import { describe, expect, it } from 'vitest';
import { parseCount, parseMinutes, parseModuleVersion, parseShard } from '../../src/workers/settings.js';

describe('worker settings', () => {
  it('takes whole counts within bounds', () => {
    expect(parseCount('', 'max-parallel', 3, 1, 64)).toBe(3);
    expect(parseCount(' 8 ', 'max-parallel', 3, 1, 64)).toBe(8);
    for (const bad of ['0', '65', '1.5', 'two', '-1'])
      expect(() => parseCount(bad, 'max-parallel', 3, 1, 64)).toThrow(
        /^Input 'max-parallel' must be a whole number from 1 to 64/,
      );
  });
  it('takes minutes with decimals, up to a day', () => {
    expect(parseMinutes('', 'timeout-minutes')).toBe(30);
    expect(parseMinutes('0.5', 'timeout-minutes')).toBe(0.5);
    expect(parseMinutes('.25', 'timeout-minutes')).toBe(0.25);
    for (const bad of ['0', '-1', '1441', '1e3', 'ten'])
      expect(() => parseMinutes(bad, 'timeout-minutes')).toThrow(
        /^Input 'timeout-minutes' must be a number of minutes/,
      );
  });
  it('takes a shard as i/n', () => {
    expect(parseShard('', 'shard')).toBeUndefined();
    expect(parseShard('2 / 4', 'shard')).toEqual({ index: 2, total: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1/257', '2', 'a/b'])
      expect(() => parseShard(bad, 'shard')).toThrow(/^Input 'shard' must be i\/n/);
  });
  it('takes a module release version, not a prerelease that Import-Module -RequiredVersion cannot load', () => {
    expect(parseModuleVersion('', 'module-version')).toBeUndefined();
    expect(parseModuleVersion(' 3.7.2 ', 'module-version')).toBe('3.7.2');
    expect(parseModuleVersion('3.9.0.1', 'module-version')).toBe('3.9.0.1');
    for (const bad of ['3.8.0-Preview1', '3', 'latest', "3.7'; Remove-Item"])
      expect(() => parseModuleVersion(bad, 'module-version')).toThrow(
        /^Input 'module-version' must be an ExchangeOnlineManagement release version/,
      );
  });
});
