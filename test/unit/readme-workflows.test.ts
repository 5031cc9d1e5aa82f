/**
 * The workflows a newcomer copies (the README's YAML snippets and examples/workflows/) against action.yml: the
 * inputs they pass and the outputs they read exist, the job may ask for an OIDC token, tokens reach scripts only
 * through env:, and the README shows the example files verbatim, so the two cannot drift apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface ActionYml {
  inputs: Record<string, { required?: boolean }>;
  outputs: Record<string, unknown>;
}

type Mapping = Record<string, unknown>;

interface Snippet {
  /** README.md:LINE or the example's path. */
  name: string;
  text: string;
}

interface Job {
  id: string;
  node: Mapping;
  steps: Mapping[];
  /** The permissions the job runs with; absent for a bare list of steps, which has no job around it. */
  permissions?: { effective: unknown };
}

interface Workflow extends Snippet {
  jobs: Job[];
}

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

const action = parse(read('action.yml')) as ActionYml;
const declaredInputs = new Set(Object.keys(action.inputs));
const requiredInputs = Object.entries(action.inputs).flatMap(([name, input]) =>
  input.required ? [name] : [],
);
const declaredOutputs = new Set(Object.keys(action.outputs));

const EXAMPLES = 'examples/workflows/';
const readme = read('README.md');
const examples: Snippet[] = readdirSync(new URL(EXAMPLES, root))
  .filter((file) => /\.ya?ml$/.test(file))
  .sort()
  .map((file) => ({ name: `${EXAMPLES}${file}`, text: read(`${EXAMPLES}${file}`) }));

/** Every ```yaml block of a Markdown text, named by the line its content starts on. */
function yamlBlocks(markdown: string): Snippet[] {
  return [...markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((match) => ({
    name: `README.md:${markdown.slice(0, match.index).split('\n').length + 1}`,
    text: match[1] ?? '',
  }));
}

const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stepsOf = (value: unknown): Mapping[] => (Array.isArray(value) ? value.filter(isMapping) : []);

/** A workflow, a job fragment (a mapping with steps:) or a bare list of steps; undefined for other YAML. */
function asWorkflow(snippet: Snippet): Workflow | undefined {
  const doc: unknown = parse(snippet.text);
  if (isMapping(doc) && isMapping(doc['jobs'])) {
    const jobs = Object.entries(doc['jobs']).flatMap(([id, node]): Job[] =>
      isMapping(node)
        ? [
            {
              id,
              node,
              steps: stepsOf(node['steps']),
              // A job-level permissions: block replaces the workflow-level one.
              permissions: { effective: 'permissions' in node ? node['permissions'] : doc['permissions'] },
            },
          ]
        : [],
    );
    return { ...snippet, jobs };
  }
  if (isMapping(doc) && Array.isArray(doc['steps']))
    return {
      ...snippet,
      jobs: [
        {
          id: '(job)',
          node: doc,
          steps: stepsOf(doc['steps']),
          permissions: { effective: doc['permissions'] },
        },
      ],
    };
  if (Array.isArray(doc) && stepsOf(doc).some((step) => 'uses' in step || 'run' in step))
    return { ...snippet, jobs: [{ id: '(steps)', node: { steps: doc }, steps: stepsOf(doc) }] };
  return undefined;
}

const isExoLogin = (step: Mapping): boolean =>
  typeof step['uses'] === 'string' && /^(exo-login\/exo-login@.+|\.\/?)$/.test(step['uses']);

const exoSteps = (workflow: Workflow): { job: Job; step: Mapping; where: string }[] =>
  workflow.jobs.flatMap((job) =>
    job.steps.flatMap((step, i) =>
      isExoLogin(step) ? [{ job, step, where: `${workflow.name} jobs.${job.id}.steps[${i}]` }] : [],
    ),
  );

/** Every string in a YAML value, keys excepted. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (isMapping(value)) return Object.values(value).flatMap(strings);
  return [];
}

/** [id, name] of every steps.<id>.outputs.<name> (or outputs['name']) in a text. */
function outputReferences(text: string, context: 'steps' | 'needs'): [string, string][] {
  const pattern = new RegExp(
    `\\b${context}\\.([\\w-]+)\\.outputs(?:\\.([\\w-]+)|\\[\\s*'([^']+)'\\s*\\])`,
    'g',
  );
  return [...text.matchAll(pattern)].map((m) => [m[1] ?? '', m[2] ?? m[3] ?? '']);
}

const grantsIdToken = (permissions: unknown): boolean =>
  permissions === 'write-all' || (isMapping(permissions) && permissions['id-token'] === 'write');

const readmeSnippets = yamlBlocks(readme);
const readmeWorkflows = readmeSnippets.flatMap((snippet) => asWorkflow(snippet) ?? []);
const exampleWorkflows = examples.map((example) => {
  const workflow = asWorkflow(example);
  if (!workflow) throw new Error(`${example.name} is not a workflow`);
  return workflow;
});
const workflows = [...readmeWorkflows, ...exampleWorkflows];

const withNewline = (text: string): string => text.replace(/\n*$/, '\n');

describe('README and examples/workflows', () => {
  it('finds the workflows it checks: every example and at least three README snippets run exo-login', () => {
    expect(examples.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        `${EXAMPLES}exchange-audit.yml`,
        `${EXAMPLES}matrix.yml`,
        `${EXAMPLES}parallel-checks.yml`,
      ]),
    );
    for (const workflow of exampleWorkflows)
      expect(exoSteps(workflow).length, workflow.name).toBeGreaterThan(0);
    expect(readmeWorkflows.filter((w) => exoSteps(w).length > 0).length).toBeGreaterThanOrEqual(3);
  });

  it('passes exo-login only inputs action.yml declares, and every required one', () => {
    const problems = workflows.flatMap(exoSteps).flatMap(({ step, where }) => {
      const given = isMapping(step['with']) ? Object.keys(step['with']) : [];
      return [
        ...given
          .filter((name) => !declaredInputs.has(name))
          .map((name) => `${where}: unknown input '${name}'`),
        ...requiredInputs
          .filter((name) => !given.includes(name))
          .map((name) => `${where}: required input '${name}' missing`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('reads only outputs action.yml declares, of steps and jobs that exist', () => {
    const problems = workflows.flatMap((workflow) => {
      const jobOutputs = new Map(
        workflow.jobs.map((job) => [
          job.id,
          isMapping(job.node['outputs']) ? Object.keys(job.node['outputs']) : [],
        ]),
      );
      return workflow.jobs.flatMap((job) => {
        const where = `${workflow.name} jobs.${job.id}`;
        const ids = new Map(job.steps.map((step) => [step['id'], step]));
        const text = strings(job.node).join('\n');
        return [
          ...outputReferences(text, 'steps').flatMap(([id, name]) => {
            const step = ids.get(id);
            if (!step) return [`${where}: steps.${id} is no step of this job`];
            return isExoLogin(step) && !declaredOutputs.has(name)
              ? [`${where}: steps.${id}.outputs.${name} is not an output of action.yml`]
              : [];
          }),
          ...outputReferences(text, 'needs').flatMap(([id, name]) =>
            jobOutputs.get(id)?.includes(name)
              ? []
              : [`${where}: needs.${id}.outputs.${name} is not declared`],
          ),
        ];
      });
    });
    expect(problems).toEqual([]);
  });

  it('gives every job that runs exo-login id-token: write, at job or workflow level', () => {
    const problems = workflows.flatMap(exoSteps).flatMap(({ job, where }) =>
      // A bare list of steps has no job: it must be an excerpt of an example file, whose job is checked.
      job.permissions && !grantsIdToken(job.permissions.effective)
        ? [`${where}: the job's permissions lack id-token: write`]
        : [],
    );
    expect(problems).toEqual([]);
  });

  it('never writes a token into a script body: tokens reach scripts through env:', () => {
    const problems = workflows.flatMap((workflow) =>
      workflow.jobs.flatMap((job) =>
        job.steps.flatMap((step, i) => {
          const scripts = [
            step['run'],
            isExoLogin(step) && isMapping(step['with']) ? step['with']['run'] : undefined,
          ];
          return scripts
            .filter((script): script is string => typeof script === 'string')
            .flatMap((script) => [...script.matchAll(/\$\{\{([\s\S]*?)\}\}/g)])
            .filter((expression) => /access[-_]token/i.test(expression[1] ?? ''))
            .map((expression) => `${workflow.name} jobs.${job.id}.steps[${i}]: ${expression[0]} in a script`);
        }),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('shows examples/workflows/exchange-audit.yml as the usage block, verbatim', () => {
    const usage = /<!-- usage:start -->\n```yaml\n([\s\S]*?)```\n<!-- usage:end -->/.exec(readme);
    expect(usage, 'README.md has a ```yaml block between the usage markers').not.toBeNull();
    expect(withNewline(usage?.[1] ?? '')).toBe(withNewline(read(`${EXAMPLES}exchange-audit.yml`)));
  });

  it('shows in README only exo-login snippets that are an example file or an excerpt of one', () => {
    const problems = readmeWorkflows
      .filter((workflow) => exoSteps(workflow).length > 0)
      .filter((workflow) => !examples.some((example) => example.text.includes(workflow.text)))
      .map((workflow) => `${workflow.name} is not text found in ${EXAMPLES}`);
    expect(problems).toEqual([]);
  });

  it('links every example workflow from README', () => {
    const unlinked = examples.filter((example) => !readme.includes(`](${example.name})`)).map((e) => e.name);
    expect(unlinked).toEqual([]);
  });
});
