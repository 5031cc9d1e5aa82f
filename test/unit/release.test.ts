/**
 * The release checks (scripts/release-lib.ts), the repository's own CHANGELOG.md against them (the version in
 * package.json has a dated section, so the dry run on every pull request passes), and the shape of release.yml
 * and dependabot.yml: only tag pushes publish or push tags.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  changelogSection,
  checkTagMatchesVersion,
  movesMajorTag,
  parseReleaseTag,
} from '../../scripts/release-lib.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

const CHANGELOG = `# Changelog

## [Unreleased]

### Added

- Something new.

## [1.2.0] - 2026-11-30

### Fixed

- A bug.

## [1.1.0]

- Undated.

## [1.0.0] - 2026-10-01

[Unreleased]: https://example.test/compare/v1.2.0...HEAD
[1.2.0]: https://example.test/releases/tag/v1.2.0
`;

describe('release tag', () => {
  it('reads vX.Y.Z and its major tag', () => {
    expect(parseReleaseTag('v1.2.3')).toEqual({ tag: 'v1.2.3', version: '1.2.3', major: 'v1' });
    expect(parseReleaseTag('v0.10.0').major).toBe('v0');
  });

  it.each(['1.2.3', 'v1.2', 'v1.2.3-rc.1', 'v01.2.3', 'v1.2.3+build', 'vx.y.z', ''])('refuses %j', (tag) => {
    expect(() => parseReleaseTag(tag)).toThrow(/is not of the form vX\.Y\.Z/);
  });

  it("must name package.json's version", () => {
    expect(() => checkTagMatchesVersion(parseReleaseTag('v1.0.0'), '1.0.0')).not.toThrow();
    expect(() => checkTagMatchesVersion(parseReleaseTag('v1.0.1'), '1.0.0')).toThrow(
      /^Tag v1\.0\.1 does not match package\.json's version 1\.0\.0: set "version": "1\.0\.1"/,
    );
  });
});

describe('changelog section', () => {
  it('is the body under the version heading, up to the next heading', () => {
    expect(changelogSection(CHANGELOG, '1.2.0')).toBe('### Fixed\n\n- A bug.\n');
  });

  it('stops at the link definitions of the last section', () => {
    const last = `## [2.0.0] - 2026-12-01\n\n- Last.\n\n[2.0.0]: https://example.test/v2.0.0\n`;
    expect(changelogSection(last, '2.0.0')).toBe('- Last.\n');
  });

  it('refuses a missing, undated or empty section, naming the version', () => {
    expect(() => changelogSection(CHANGELOG, '9.9.9')).toThrow(/no '## \[9\.9\.9\] - YYYY-MM-DD' section/);
    expect(() => changelogSection(CHANGELOG, '1.1.0')).toThrow(/needs its release date/);
    expect(() => changelogSection(CHANGELOG, '1.0.0')).toThrow(/section for 1\.0\.0 is empty/);
  });

  it('does not take 1.2.0 for 1.2.0x or a regex', () => {
    expect(() => changelogSection('## [1.2.00] - 2026-01-01\n\n- x\n', '1.2.0')).toThrow(
      /no '## \[1\.2\.0\]/,
    );
    expect(() => changelogSection('## [1x2x0] - 2026-01-01\n\n- x\n', '1.2.0')).toThrow(/no '## \[1\.2\.0\]/);
  });
});

describe('major tag', () => {
  const tag = parseReleaseTag('v1.2.4');
  it('moves to the newest release of its major version', () => {
    expect(movesMajorTag(tag, ['v1', 'v1.2.3', 'v1.2.4', 'v0.9.0', 'v2.0.0'])).toBe(true);
    expect(movesMajorTag(tag, [])).toBe(true);
  });

  it('stays on a newer release when an older line gets a patch', () => {
    expect(movesMajorTag(tag, ['v1.3.0', 'v1.2.4'])).toBe(false);
    expect(movesMajorTag(tag, ['v1.2.10'])).toBe(false);
    expect(movesMajorTag(parseReleaseTag('v1.2.10'), ['v1.2.9'])).toBe(true);
  });

  it('ignores tags that are not releases', () => {
    expect(movesMajorTag(tag, ['v1.9.0-rc.1', 'v1.x', 'latest', ''])).toBe(true);
  });
});

describe("this repository's CHANGELOG.md", () => {
  const changelog = read('CHANGELOG.md');
  const { version } = JSON.parse(read('package.json')) as { version: string };

  it("has a dated section for package.json's version, which the release dry run turns into notes", () => {
    expect(changelogSection(changelog, version)).toMatch(/^### /m);
  });

  it('keeps an Unreleased section on top and a link for every version heading', () => {
    const headings = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(headings[0]).toBe('Unreleased');
    for (const heading of headings)
      expect(changelog, heading).toMatch(new RegExp(`^\\[${heading}\\]: https://`, 'm'));
  });
});

describe('release.yml', () => {
  interface Step {
    name?: string;
    run?: string;
    uses?: string;
    if?: string;
    env?: Record<string, string>;
  }
  interface Job {
    if?: string;
    needs?: string | string[];
    permissions?: Record<string, string>;
    environment?: string;
    steps: Step[];
  }
  const workflow = parse(read('.github/workflows/release.yml')) as {
    on: { push: { tags: string[] }; pull_request: unknown; workflow_dispatch: unknown };
    permissions: Record<string, string>;
    jobs: Record<string, Job>;
  };
  const jobs = workflow.jobs;
  const needs = (job: Job): string[] => [job.needs ?? []].flat();
  /** A job runs on a tag push only if it, or a job it needs, says so. */
  const tagOnly = (name: string): boolean => {
    const job = jobs[name];
    if (!job) return false;
    if (job.if?.includes("github.event_name == 'push'") && job.if.includes("github.ref_type == 'tag'"))
      return true;
    return needs(job).some(tagOnly);
  };
  const text = (step: Step): string => JSON.stringify(step);

  it('runs on vX.Y.Z tags, and as a dry run on pull requests and by hand', () => {
    expect(workflow.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(workflow.on).toHaveProperty('pull_request');
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('publishes, releases and pushes tags only in jobs that run on a tag push', () => {
    const acting = Object.entries(jobs).flatMap(([name, job]) =>
      job.steps.some((step) =>
        /npm publish (?!--dry-run)|gh release (create|edit)|git push/.test(step.run ?? ''),
      )
        ? [name]
        : [],
    );
    expect(acting.sort()).toEqual(['github-release', 'publish']);
    for (const name of acting) expect(tagOnly(name), name).toBe(true);
    expect(tagOnly('check')).toBe(false);
  });

  it('the dry run (check job) gets no write permission and no secret', () => {
    const check = jobs['check'];
    expect(check?.permissions).toBeUndefined();
    expect(check?.steps.filter((step) => text(step).includes('secrets.'))).toEqual([]);
  });

  it('publish runs in the npm environment with id-token for provenance; the token reaches only the publish step', () => {
    const publish = jobs['publish'];
    expect(publish?.environment).toBe('npm');
    expect(publish?.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const withToken = (publish?.steps ?? []).filter((step) => step.env?.['NODE_AUTH_TOKEN'] !== undefined);
    expect(withToken.map((step) => step.run)).toEqual([
      'npm publish --provenance --access public "release/exo-login-$VERSION.tgz"',
    ]);
    expect(needs(jobs['github-release'] ?? { steps: [] })).toContain('publish');
  });
});

describe('dependabot.yml', () => {
  it('updates npm at the root and in the Pulumi example, and GitHub Actions; dev dependencies grouped', () => {
    const config = parse(read('.github/dependabot.yml')) as {
      updates: { 'package-ecosystem': string; directory: string; groups?: Record<string, unknown> }[];
    };
    expect(config.updates.map((u) => `${u['package-ecosystem']} ${u.directory}`)).toEqual([
      'npm /',
      'npm /examples/pulumi',
      'github-actions /',
    ]);
    expect(config.updates[0]?.groups?.['dev-dependencies']).toMatchObject({
      'dependency-type': 'development',
    });
  });
});
