/**
 * src/ outside src/cli names options by their option path in backticks (`fromDate`,
 * `columns.user`), never as CLI flags, so a library caller reads the name it passed; the CLI
 * translates them (src/cli/option-flags.ts). This test reads every string literal and template of
 * those modules with the TypeScript parser (comments may describe CLI behaviour with flags) and
 * fails on one that spells a flag (`--from-date`, or `--${name}` built from a name). A whole bkt
 * command line quoted for the reader to run (`Run "bkt db migrate --db x"`) is a command, not an
 * option name, and may keep its flags.
 *
 * RESULT_TEXT lists the strings that are result data rather than errors: a skipped concept's
 * reason, an activation decision's reason, a validation check's message. They are written to
 * params files, JUnit reports and the database by the library itself, so the CLI cannot translate
 * them where it prints (as it does errors, in src/cli/base-command.ts); they keep the flag until
 * result text gets its own way of naming options. Each entry must still match a string of its
 * module, so a fixed or moved one has to leave the list.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');
const CLI = join(SRC, 'cli');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path === CLI ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every string a module spells: string literals, and templates with each `${...}` kept as `${}`. */
export function stringsOf(source: string, fileName = 'module.ts'): { line: number; text: string }[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    let text: string | null = null;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((span) => `\${}${span.literal.text}`).join('');
    if (text !== null) out.push({ line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1, text });
    // A template's parts are read whole above; its placeholders may hold further strings.
    if (ts.isTemplateExpression(node)) for (const span of node.templateSpans) visit(span.expression);
    else ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** The flags a string spells outside a quoted bkt command line; empty when it spells none. */
export function flagsIn(text: string): string[] {
  const withoutCommands = text.replace(/\bbkt [a-z$][^"'`<]*/g, '');
  return [...withoutCommands.matchAll(/(?<![\w-])--(?:[A-Za-z][\w-]*|\$\{\})/g)].map((m) => m[0]);
}

/** Result data that still names flags (see the module comment): file, and the exact string. */
const RESULT_TEXT: readonly [string, string][] = [
  ['src/model/concept-fit-start.ts', '${} attempts < --min-attempts ${}'],
  ['src/model/concept-fit-start.ts', '${} learners < --min-users ${}'],
  ['src/jobs/activation.ts', '${}: worse by ${} > margin ${}, activated by --force'],
  ['src/quality/validate.ts', 'off (--min-answers-to-master 1)'],
  ['src/quality/validate.ts', 'no attempts of this concept in --input: held-out thresholds not checked'],
  ['src/quality/validate.ts', 'no row of --input could be scored: no concept there has parameters'],
];

describe('src/ strings name options, not flags', () => {
  it('finds flags in strings and templates, not in comments or quoted bkt commands', () => {
    const found = stringsOf(
      [
        '// --comment-flag is fine',
        "const a = 'Check the --input path';",
        'const b = `--${name} needs a column`;',
        'const c = `Run "bkt db migrate --db ${path}" first`;',
        "const d = 'Fit some first: bkt fit --input a.csv --out p.json';",
        'const e = `no row of ${f(`--nested`)} matched`;',
        "const f = 'Check `input`, and a-- b, x--y';",
        'const g = `See bkt ${command} --help`;',
      ].join('\n'),
    ).flatMap((s) => flagsIn(s.text).map((flag) => `${s.line}:${flag}`));
    expect(found).toEqual(['2:--input', '3:--${}', '6:--nested']);
  });

  it('no module of src/ outside src/cli spells a --flag in a string (but the listed result text)', () => {
    const allowed = new Set(RESULT_TEXT.map(([file, text]) => `${file}\0${text}`));
    const seen = new Set<string>();
    const offenders = sourceFiles(SRC).flatMap((path) =>
      stringsOf(readFileSync(path, 'utf8'), path).flatMap((s) => {
        const key = `${relative(ROOT, path)}\0${s.text}`;
        if (allowed.has(key)) {
          seen.add(key);
          return [];
        }
        return flagsIn(s.text).map((flag) => `${relative(ROOT, path)}:${s.line} ${flag} in ${JSON.stringify(s.text)}`);
      }),
    );
    expect(offenders).toEqual([]);
    expect([...allowed].filter((key) => !seen.has(key)).map((key) => key.replace('\0', ': '))).toEqual([]);
  });
});
