/**
 * README.md and TROUBLESHOOTING.md as a newcomer reads them: the first screen keeps its two commands, the
 * troubleshooting sections live only in TROUBLESHOOTING.md (README links to each, repeats none), and every link
 * inside README, or from README into TROUBLESHOOTING.md, lands on something.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TROUBLES } from '../../src/core/troubleshooting.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const readme = read('README.md');
const troubleshooting = read('TROUBLESHOOTING.md');

/** Markdown outside fenced code blocks, where headings and paragraphs are prose. */
const prose = (markdown: string): string => markdown.replace(/^```[\s\S]*?^```$/gm, '');
const headings = (markdown: string): string[] =>
  [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] ?? '').trim());
const normalize = (text: string): string => text.replace(/\s+/g, ' ').trim().toLowerCase();

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');

/** Paragraphs long enough that finding one in both files means a section was copied. */
function paragraphs(markdown: string): string[] {
  return prose(markdown)
    .split(/\n\s*\n/)
    .map(normalize)
    .filter((p) => p.length >= 60 && !p.startsWith('<!--') && !p.startsWith('|'));
}

describe('README and TROUBLESHOOTING.md', () => {
  it('keeps the first screen: the demo and test commands come first', () => {
    const first = /^```sh\n([\s\S]*?)```$/m.exec(readme);
    expect(
      first?.[1]
        ?.split('\n')
        .filter(Boolean)
        .map((line) => line.split('#')[0]?.trim()),
    ).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    expect(readme.indexOf(first?.[0] ?? '')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('share no section: no heading of one is a heading of the other', () => {
    const readmeHeadings = new Set(headings(readme).map(normalize));
    const shared = headings(troubleshooting)
      .slice(1) // the document's title
      .filter((heading) => readmeHeadings.has(normalize(heading)));
    expect(shared).toEqual([]);
  });

  it('share no paragraph', () => {
    const readmeParagraphs = new Set(paragraphs(readme));
    expect(paragraphs(troubleshooting).filter((p) => readmeParagraphs.has(p))).toEqual([]);
  });

  it('README links every troubleshooting section, and only sections that exist', () => {
    const anchors = [...troubleshooting.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]);
    expect(anchors).toEqual(Object.values(TROUBLES).map((t) => t.id));
    const linked = [...readme.matchAll(/\]\(TROUBLESHOOTING\.md#([^)]+)\)/g)].map((m) => m[1]);
    expect(linked.filter((id) => !anchors.includes(id))).toEqual([]);
    expect(anchors.filter((id) => !linked.includes(id))).toEqual([]);
  });

  it("README's own #links land on its headings", () => {
    const targets = new Set(headings(readme).map(slug));
    const links = [...prose(readme).matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !targets.has(link))).toEqual([]);
  });

  it('README has one Versions section and one section per front end', () => {
    const sections = headings(readme);
    for (const name of [
      'Versions',
      'The GitHub Action',
      'CLI',
      'Library',
      'Cmdlets without PowerShell',
      'Pulumi',
      'Troubleshooting',
    ])
      expect(
        sections.filter((h) => h === name),
        name,
      ).toHaveLength(1);
  });
});
