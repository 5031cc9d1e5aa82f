/**
 * Imported first by the benchmarks that measure the current src/ (not a possibly stale lib/): src uses `.js`
 * specifiers and a few non-erasable constructs (enums), so the script re-runs itself with
 * --experimental-transform-types, and `./x.js` resolves to `./x.ts`.
 */
import { spawnSync } from 'node:child_process';
import { registerHooks } from 'node:module';

const FLAG = '--experimental-transform-types';
const main = process.argv[1] ?? '';
if (!process.execArgv.includes(FLAG)) {
  const again = spawnSync(process.execPath, [FLAG, '--no-warnings', main, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(again.status ?? 1);
}
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (/^\.\.?\/.*\.js$/.test(specifier)) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});
