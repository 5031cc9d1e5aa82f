import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ignoredInputsWarning, parseInputs, WORKER_ONLY_INPUT_DEFAULTS } from '../../src/action/inputs.js';
import { Input } from '../../src/action/names.js';

const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

/** What the runner passes: action.yml's defaults, then the workflow's `with:` values. */
function inputs(set: Partial<Record<Input, string>> = {}, defaults = true) {
  const values: Record<string, string> = {
    ...(defaults &&
      Object.fromEntries(Object.entries(action.inputs).map(([name, i]) => [name, i.default ?? '']))),
    [Input.TenantId]: 'contoso.onmicrosoft.com',
    [Input.ClientId]: '0f3c5a8e-1b2d-4c6e-8f0a-9b1c2d3e4f5a',
    ...set,
  };
  return parseInputs((name) => values[name] ?? '');
}

describe('worker inputs without workers', () => {
  it("knows action.yml's defaults of the worker-only inputs", () => {
    for (const [name, fallback] of WORKER_ONLY_INPUT_DEFAULTS)
      expect(action.inputs[name]?.default, name).toBe(fallback);
  });

  it('ignores nothing when they are left at their defaults, or not passed at all', () => {
    expect(inputs().ignoredInputs).toEqual([]);
    expect(inputs({}, false).ignoredInputs).toEqual([]);
    expect(inputs({ [Input.MaxParallel]: ' 3 ', [Input.FailFast]: 'false' }).ignoredInputs).toEqual([]);
  });

  it('lists those set to anything else, in action.yml order', () => {
    const parsed = inputs({
      [Input.ModuleVersion]: '3.7.2',
      [Input.TimeoutMinutes]: '10',
      [Input.WorkingDirectory]: 'checks',
      [Input.FailFast]: 'true',
      [Input.MaxParallel]: '5',
    });
    expect(parsed.workers).toBeUndefined();
    expect(parsed.ignoredInputs).toEqual([
      Input.MaxParallel,
      Input.TimeoutMinutes,
      Input.FailFast,
      Input.WorkingDirectory,
      Input.ModuleVersion,
    ]);
  });

  it('ignores nothing when there are workers, from scripts or from run', () => {
    for (const work of [{ [Input.Scripts]: 'a.ps1' }, { [Input.Run]: 'Get-Mailbox' }]) {
      const parsed = inputs({ ...work, [Input.MaxParallel]: '5' });
      expect(parsed.workers?.maxParallel).toBe(5);
      expect(parsed.ignoredInputs).toEqual([]);
    }
  });

  it('says so in one line', () => {
    expect(ignoredInputsWarning([])).toBeUndefined();
    expect(ignoredInputsWarning([Input.MaxParallel, Input.TimeoutMinutes])).toBe(
      "Inputs max-parallel, timeout-minutes apply to workers, and neither 'scripts' nor 'run' is set: they are ignored.",
    );
    expect(ignoredInputsWarning([Input.FailFast])).toBe(
      "Input fail-fast applies to workers, and neither 'scripts' nor 'run' is set: it is ignored.",
    );
  });
});
