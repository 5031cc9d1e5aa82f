import { readFileSync } from 'node:fs';
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // dist/cli/index.js → package.json two levels up, in the repository and in the published package alike.
  version: () =>
    (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version,
});
