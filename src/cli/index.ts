import { readFileSync } from 'node:fs';
import { runCli } from './main.js';

// `exo-login invoke … | head`: once the reader has closed the pipe nobody wants more rows; stop quietly, as
// tools killed by SIGPIPE do, rather than crash on the unhandled EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // ncc bundles this read as dist/cli/package.json, which scripts/post-build.ts writes with the version.
  version: () =>
    (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version,
});
