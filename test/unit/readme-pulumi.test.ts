import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('README "Pulumi" section', () => {
  it('shows the example program as it is, so the program readers copy is the one CI type-checks', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Pulumi\n'), readme.indexOf('\n## Troubleshooting\n'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(readFileSync(resolve(root, 'examples/pulumi/index.ts'), 'utf8'));
  });
});
