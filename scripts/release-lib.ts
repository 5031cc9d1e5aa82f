/**
 * The checks a release runs before anything leaves the repository, as pure functions: the tag names the version
 * package.json declares, and CHANGELOG.md has a dated section for it, which becomes the GitHub release's notes.
 * scripts/release.ts runs them for the release workflow and for CI's dry run.
 */

export interface ReleaseTag {
  tag: string;
  version: string;
  /** The floating tag that moves with every release of this major version, e.g. v1. */
  major: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** A release tag is vX.Y.Z exactly: prereleases and build metadata are not released through the workflow. */
export function parseReleaseTag(tag: string): ReleaseTag {
  const match = /^v(.*)$/.exec(tag);
  const version = match?.[1] ?? '';
  const parts = SEMVER.exec(version);
  if (!parts)
    throw new Error(`Release tag '${tag}' is not of the form vX.Y.Z (for example v1.2.3, no leading zeros).`);
  return { tag, version, major: `v${parts[1] ?? ''}` };
}

/** The tag must name package.json's version, or npm and the action's users would see two different versions. */
export function checkTagMatchesVersion(tag: ReleaseTag, packageVersion: string): void {
  if (tag.version !== packageVersion)
    throw new Error(
      `Tag ${tag.tag} does not match package.json's version ${packageVersion}: set "version": "${tag.version}" and commit, or tag v${packageVersion}.`,
    );
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The body of `## [X.Y.Z] - YYYY-MM-DD` in a Keep a Changelog file: everything up to the next `## ` heading or
 * the link definitions at the end.
 */
export function changelogSection(changelog: string, version: string): string {
  const lines = changelog.split(/\r?\n/);
  const heading = new RegExp(`^## \\[${escape(version)}\\](.*)$`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start === -1)
    throw new Error(
      `CHANGELOG.md has no '## [${version}] - YYYY-MM-DD' section: move the Unreleased entries under it.`,
    );
  const suffix = heading.exec(lines[start] ?? '')?.[1] ?? '';
  if (!/^ - \d{4}-\d{2}-\d{2}$/.test(suffix))
    throw new Error(
      `CHANGELOG.md's '## [${version}]' heading needs its release date: '## [${version}] - YYYY-MM-DD'.`,
    );
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^## /.test(line) || /^\[[^\]]+\]: /.test(line));
  const body = (end === -1 ? rest : rest.slice(0, end)).join('\n').trim();
  if (!body) throw new Error(`CHANGELOG.md's section for ${version} is empty: list what changed.`);
  return `${body}\n`;
}

/**
 * Whether the major tag should move to this release: only when it is the newest vX.Y.Z of its major version, so
 * a patch release of an older minor line (a backport) does not pull `@v1` users back.
 */
export function movesMajorTag(tag: ReleaseTag, existingTags: readonly string[]): boolean {
  const key = (version: string): number[] => version.split('.').map(Number);
  const newer = existingTags.flatMap((name) => {
    if (name === tag.tag) return [];
    try {
      const other = parseReleaseTag(name);
      return other.major === tag.major ? [other.version] : [];
    } catch {
      return [];
    }
  });
  return !newer.some((version) => {
    const [a, b] = [key(version), key(tag.version)];
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    return false;
  });
}
