/**
 * Release checks, for .github/workflows/release.yml and CI's dry run:
 *   node scripts/release.ts [--tag vX.Y.Z] [--notes FILE]
 * Without --tag it checks the tag the current version would get (the dry run). Writes the CHANGELOG section to
 * FILE (the release notes) and, under GitHub Actions, tag, version, major and move-major (whether the major tag
 * moves, from the repository's tags) to $GITHUB_OUTPUT. Dist freshness is checked apart (CI's dist check and the
 * workflow's build step), since it needs a build.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { changelogSection, checkTagMatchesVersion, movesMajorTag, parseReleaseTag } from './release-lib.ts';

const root = new URL('../', import.meta.url);
const { values } = parseArgs({ options: { tag: { type: 'string' }, notes: { type: 'string' } } });
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };

try {
  const tag = parseReleaseTag(values.tag ?? `v${pkg.version}`);
  checkTagMatchesVersion(tag, pkg.version);
  const notes = changelogSection(readFileSync(new URL('CHANGELOG.md', root), 'utf8'), tag.version);
  if (values.notes) writeFileSync(values.notes, notes);
  const tags = execFileSync('git', ['tag', '--list', 'v*'], { cwd: root, encoding: 'utf8' }).split('\n');
  const moveMajor = movesMajorTag(tag, tags);
  const output = process.env['GITHUB_OUTPUT'];
  if (output)
    appendFileSync(
      output,
      `tag=${tag.tag}\nversion=${tag.version}\nmajor=${tag.major}\nmove-major=${String(moveMajor)}\n`,
    );
  const mode = values.tag ? 'release' : 'dry run';
  console.log(
    `${mode}: ${tag.tag} matches package.json; CHANGELOG.md has its section (${notes.split('\n').length - 1} lines); ` +
      (moveMajor ? `${tag.major} moves to it` : `${tag.major} stays: a newer ${tag.major}.x tag exists`),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
