import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Signal handling is process-wide, so each case runs withCancellation in a child Node (which strips the types).
const SIGNALS_TS = pathToFileURL(fileURLToPath(new URL('../../src/front/signals.ts', import.meta.url))).href;

/** A child whose work waits for the cancellation (or ends at once) and whose report then hangs. */
function child(work: 'until-cancelled' | 'hangs' | 'ends'): ChildProcess {
  const script = `
    // src/ imports its siblings as '.js'; type stripping runs the '.ts' files.
    import { registerHooks } from 'node:module';
    registerHooks({
      resolve(specifier, context, next) {
        try {
          return next(specifier, context);
        } catch (error) {
          if (/^\\.\\.?\\/.*\\.js$/.test(specifier)) return next(specifier.slice(0, -3) + '.ts', context);
          throw error;
        }
      },
    });
    const { withCancellation } = await import(${JSON.stringify(SIGNALS_TS)});
    // Signal listeners do not keep Node alive; the action's workers and pipes do.
    setInterval(() => {}, 60_000);
    await withCancellation((signal) => new Promise((resolve) => {
      if (${JSON.stringify(work)} === 'ends') resolve();
      else if (${JSON.stringify(work)} === 'until-cancelled') signal.addEventListener('abort', () => resolve());
      console.log('working');
    }));
    console.log('reporting');
  `;
  return spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(work: Parameters<typeof child>[0]): {
  proc: ChildProcess;
  printed: (line: string) => Promise<void>;
} {
  const proc = child(work);
  children.push(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const printed = async (line: string): Promise<void> => {
    while (!out.split('\n').includes(line)) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`exited before '${line}': ${out}`);
      await sleep(20);
    }
  };
  return { proc, printed };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How the child ended within `ms`, or 'alive'. */
async function ending(proc: ChildProcess, ms: number): Promise<string> {
  if (proc.exitCode !== null || proc.signalCode !== null) return String(proc.signalCode ?? proc.exitCode);
  const exited = once(proc, 'exit').then(([code, signal]) => String(signal ?? code));
  return Promise.race([exited, sleep(ms).then(() => 'alive')]);
}

/** Sends signals far enough apart that the kernel does not merge two pending ones into one. */
async function send(proc: ChildProcess, ...signals: NodeJS.Signals[]): Promise<void> {
  for (const signal of signals) {
    proc.kill(signal);
    await sleep(200);
  }
}

describe('withCancellation', () => {
  it.each([
    ['a hanging report', 'until-cancelled', 'SIGINT'],
    ['work that will not stop', 'hangs', 'SIGTERM'],
  ] as const)(
    'survives two signals after the cancellation and dies of the third, during %s',
    async (_what, work, last) => {
      const { proc, printed } = start(work);
      await printed('working');
      await send(proc, 'SIGINT');
      if (work === 'until-cancelled') await printed('reporting');
      // The runner's SIGTERM and an impatient Ctrl-C must not cut the report short.
      await send(proc, 'SIGINT', 'SIGTERM');
      expect(await ending(proc, 300)).toBe('alive');
      proc.kill(last);
      expect(await ending(proc, 5_000)).toBe(last);
    },
  );

  it('leaves no handler behind when the work ends uncancelled', async () => {
    const { proc, printed } = start('ends');
    await printed('reporting');
    proc.kill('SIGINT');
    expect(await ending(proc, 5_000)).toBe('SIGINT');
  });
});
