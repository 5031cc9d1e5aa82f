import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import {
  argument,
  field,
  input,
  listed,
  oneLine,
  option,
  quoted,
  settingLabel,
  settingRef,
} from '../../src/core/names.js';
import { parseClientId } from '../../src/core/validate.js';

describe('setting names', () => {
  it('formats each kind once, at the start of a sentence and inside one', () => {
    expect(settingLabel(input('tenant-id'))).toBe("Input 'tenant-id'");
    expect(settingLabel(option('tenant-id', 'AZURE_TENANT_ID'))).toBe(
      'Option --tenant-id (or AZURE_TENANT_ID)',
    );
    expect(settingLabel(option('--tenant-id', 'AZURE_TENANT_ID'), false)).toBe('Option --tenant-id');
    expect(settingLabel(argument('SCRIPT'))).toBe('Argument SCRIPT');
    expect(settingLabel(field('tenantId'))).toBe("Option 'tenantId'");
    expect(settingRef(input('environment'))).toBe("'environment'");
    expect(settingRef(option('environment', 'EXO_ENVIRONMENT'))).toBe('--environment (or EXO_ENVIRONMENT)');
  });
});

describe('echoed values (issue 9.7)', () => {
  it('quotes short values whole and escapes control characters', () => {
    expect(quoted('abc')).toBe("'abc'");
    expect(quoted('a\nb\u0007')).toBe("'a\\nb\\u0007'");
    // The runner reads its legacy ##[command] form anywhere in a line: an echoed value must not hold one.
    expect(quoted('##[stop-commands]x')).toBe("'##\\u005bstop-commands]x'");
    expect(oneLine('a ##[error]b')).toBe('a ##\\u005berror]b');
  });
  it('cuts long values and says how long they were', () => {
    const shown = quoted('y'.repeat(100_000));
    expect(shown).toBe(`'${'y'.repeat(60)}…' (100000 characters)`);
  });
  it('an input error echoes at most a line, whatever the value', () => {
    const error = new InputError(input('client-id'), 'x');
    expect(error.message).toBe("Input 'client-id' x");
    const message = (() => {
      try {
        parseClientId('z'.repeat(100_000), input('client-id'));
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^Input 'client-id' must be the application \(client\) ID/);
    expect(message.length).toBeLessThan(250);
  });
  it('summarises long lists', () => {
    expect(listed(['a'])).toBe("'a'");
    expect(listed(['a', 'b', 'c'])).toBe("'a', 'b' and 'c'");
    const many = Array.from({ length: 3000 }, (_, i) => `dir/file-${i}.txt`);
    const text = listed(many);
    expect(text).toMatch(/^'dir\/file-0\.txt', 'dir\/file-1\.txt', .* and 2995 more$/);
    expect(text.length).toBeLessThan(200);
  });
});

describe('outside text', () => {
  it('cannot start a new line or carry terminal escapes', () => {
    expect(oneLine('a\u001b[31mred\u2028::warning::x')).toBe('a\\u001b[31mred\\u2028::warning::x');
  });
});
