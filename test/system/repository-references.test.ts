// The repository explains itself: no file sends the reader to a document a clone does not have,
// every relative Markdown link in the docs resolves, and every `<doc>.md § <Heading>` reference
// (the convention comments use to point into docs/) names a heading the document has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SELF = relative(ROOT, fileURLToPath(import.meta.url)).split(sep).join('/');
const SKIPPED = new Set(['package-lock.json', SELF]);

/** Names of documents that exist only outside the repository (built up so that they read as patterns). */
const OUTSIDE: { what: string; pattern: RegExp }[] = [
  { what: 'a design document outside the repository', pattern: new RegExp(['DESIGN', 'md'].join('\\.')) },
  { what: 'a conventions document outside the repository', pattern: new RegExp(['CONVENTIONS', 'md'].join('\\.')) },
  { what: 'a numbered section of an outside reference', pattern: /\breference\s*,?\s*§/i },
  { what: 'a path outside the repository', pattern: /\/work\/shared\b/ },
  { what: 'an outside reference file', pattern: /reference\/genesys-cloud\.md/ },
];

/** Markdown files whose relative links must resolve. */
const MARKDOWN = [/^README\.md$/, /^CONTRIBUTING\.md$/, /^docs\/[^/]+\.md$/, /^infra\/docs\/[^/]+\.md$/, /^services\/[^/]+\/README\.md$/, /^shared\/[^/]+\/README\.md$/];

/** Tracked files plus new ones not ignored (so a file is checked before its first commit), that exist now. */
function repositoryFiles(): string[] {
  let out: string;
  try {
    out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`this test reads the file list from git (run it in a clone): ${(err as Error).message}`);
  }
  return [...new Set(out.split('\0').filter(Boolean))]
    .filter((f) => !SKIPPED.has(f))
    .filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile())
    .sort();
}

/** A text file's content, or undefined for binaries and very large files. */
function readText(file: string): string | undefined {
  const path = join(ROOT, file);
  if (statSync(path).size > 4 * 1024 * 1024) return undefined;
  const buf = readFileSync(path);
  if (buf.subarray(0, 8000).includes(0)) return undefined;
  return buf.toString('utf8');
}

/** Every reference to an outside document in `text`, as `line: text`. */
export function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const { what, pattern } of OUTSIDE) {
      if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 160)}`);
    }
    // `../shared/…` is fine while it stays inside the repository (a test importing a sibling package's
    // helper); a chain of `../` that climbs out of it is not.
    for (const m of line.matchAll(/((?:\.\.\/)+)shared\//g)) {
      const target = resolve(ROOT, dirname(file), m[1]!);
      if (target !== ROOT && !target.startsWith(ROOT + sep)) found.push(`${file}:${i + 1}: a path outside the repository: ${line.trim().slice(0, 160)}`);
    }
  });
  return found;
}

/** Markdown with fenced code blocks and inline code blanked out (their content is not links). */
function withoutCode(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The headings of a Markdown document: their texts and their anchors (with GitHub's -1, -2 for repeats). */
export function headingsOf(markdown: string): { texts: Set<string>; anchors: Set<string> } {
  const texts = new Set<string>();
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const blanked = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '));
  for (const m of blanked.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!;
    texts.add(text.replace(/`/g, '').trim().toLowerCase());
    const slug = slugOf(text);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return { texts, anchors };
}

const headingCache = new Map<string, ReturnType<typeof headingsOf>>();
function headingsOfFile(path: string): ReturnType<typeof headingsOf> {
  let h = headingCache.get(path);
  if (!h) {
    h = headingsOf(readFileSync(path, 'utf8'));
    headingCache.set(path, h);
  }
  return h;
}

/** Every relative link of a Markdown file that does not resolve to a file, or to a heading of it. */
export function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  const text = withoutCode(markdown);
  for (const m of text.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const line = text.slice(0, m.index).split('\n').length;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURI(pathPart));
    if (path !== ROOT && !path.startsWith(ROOT + sep)) {
      broken.push(`${file}:${line}: link leaves the repository: ${target}`);
      continue;
    }
    if (!existsSync(path)) {
      broken.push(`${file}:${line}: no such file: ${target}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && path.endsWith('.md') && !headingsOfFile(path).anchors.has(anchor.toLowerCase())) {
      broken.push(`${file}:${line}: no heading #${anchor} in ${relative(ROOT, path)}`);
    }
  }
  return broken;
}

/**
 * Every `<path>.md § <Heading>` whose document or heading does not exist. The path is taken from the
 * repository root, else from the file's folder; the heading runs to the next `)`, `]`, `,`, `.`,
 * `;`, `:`, backtick, `*` or the end of the line.
 */
export function brokenSectionReferences(file: string, text: string): string[] {
  const broken: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/([A-Za-z0-9_./-]+\.md)\s+§\s*([^)\],.;:`*\n]+)/g)) {
      const doc = m[1]!;
      const heading = m[2]!.trim();
      const path = [resolve(ROOT, doc), resolve(ROOT, dirname(file), doc)].find((p) => existsSync(p));
      if (!path) {
        broken.push(`${file}:${i + 1}: § reference to a missing document: ${doc} § ${heading}`);
        continue;
      }
      const { texts, anchors } = headingsOfFile(path);
      if (!texts.has(heading.toLowerCase()) && !anchors.has(slugOf(heading))) {
        broken.push(`${file}:${i + 1}: no heading "${heading}" in ${relative(ROOT, path)}`);
      }
    }
  });
  return broken;
}

test('the detectors find what they must and let the rest be', () => {
  const design = ['DESIGN', 'md'].join('.');
  assert.equal(outsideReferences('a.ts', `// see ${design} § Keys`).length, 1);
  assert.equal(outsideReferences('a.ts', `// the reference${' '}§2 says`).length, 1);
  assert.equal(outsideReferences('services/x/test/a.ts', "import '../../../shared/client/test/h.js';").length, 0, 'inside the repository');
  assert.equal(outsideReferences('services/x/test/a.ts', "import '../../../../shared/h.js';").length, 1, 'climbs out of the repository');
  assert.equal(outsideReferences('a.ts', '// RFC 6749 §5.2: error body').length, 0);
  assert.equal(slugOf('Token path'), 'token-path');
  assert.equal(slugOf('Broker (`services/broker/src/config.ts`, `brokerConfigSchema`)'), 'broker-servicesbrokersrcconfigts-brokerconfigschema');
  assert.deepEqual(brokenLinks('README.md', '[a](CONTRIBUTING.md) [b](https://example.com) `[c](nope.md)`'), []);
  assert.equal(brokenLinks('README.md', '[a](does-not-exist.md)').length, 1);
  assert.equal(brokenLinks('README.md', '[a](docs/architecture.md#no-such-heading)').length, 1);
  assert.deepEqual(brokenSectionReferences('x/y.ts', '// see docs/architecture.md § Token path).'), []);
  assert.equal(brokenSectionReferences('x/y.ts', '// see docs/architecture.md § No such heading).').length, 1);
  assert.equal(brokenSectionReferences('x/y.ts', '// see docs/nowhere.md § Anything.').length, 1);
});

test('no file refers to a document outside the repository', () => {
  const found: string[] = [];
  const files = repositoryFiles();
  assert.ok(files.length > 100, `git lists ${files.length} files`);
  for (const file of files) {
    const text = readText(file);
    if (text !== undefined) found.push(...outsideReferences(file, text));
  }
  assert.deepEqual(found, [], `references to documents a clone does not have:\n${found.join('\n')}`);
});

test('every relative link in the docs resolves', () => {
  const docs = repositoryFiles().filter((f) => MARKDOWN.some((p) => p.test(f)));
  for (const required of ['README.md', 'CONTRIBUTING.md', 'docs/architecture.md', 'docs/genesys-behaviour.md']) {
    assert.ok(docs.includes(required), `${required} exists`);
  }
  const broken = docs.flatMap((file) => brokenLinks(file, readFileSync(join(ROOT, file), 'utf8')));
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});

test('every "<doc>.md § Heading" names a heading of that document', () => {
  const broken: string[] = [];
  let references = 0;
  for (const file of repositoryFiles()) {
    const text = readText(file);
    if (text === undefined) continue;
    references += [...text.matchAll(/\.md\s+§/g)].length;
    broken.push(...brokenSectionReferences(file, text));
  }
  assert.ok(references > 10, `found ${references} § references`);
  assert.deepEqual(broken, [], `§ references to missing headings:\n${broken.join('\n')}`);
});
