/**
 * After ncc: it minifies the entry file but not the chunks it splits off for dynamic imports (MSAL, loaded
 * while the OIDC request is in flight). Minify those too, because reading and compiling an unminified 800 kB
 * chunk is a measurable part of every run. Output is deterministic, so the dist/ freshness check still holds.
 * Then mark each bundle directory as ES modules, keeping the version: ncc points the CLI's read of the root
 * package.json (for --version) at dist/cli/package.json.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
for (const dir of [dist, join(dist, 'cli')]) {
  for (const name of readdirSync(dir)) {
    if (!/^\d+\.index\.js$/.test(name)) continue;
    const file = join(dir, name);
    const result = await minify(readFileSync(file, 'utf8'), {
      module: true,
      ecma: 2022,
      compress: { passes: 1 },
      mangle: true,
      format: { comments: false },
    });
    if (result.code === undefined) throw new Error(`terser produced nothing for ${file}`);
    writeFileSync(file, result.code);
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module', version })}\n`);
}
