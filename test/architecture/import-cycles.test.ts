/**
 * The module graph of src/: the shared store layer imports no backend, nothing outside src/store
 * reaches the SQL driver layer, and no module reaches itself through its imports, whether static
 * (`import`, `export ... from`, type-only imports included) or dynamic (`import('...')`). A cycle makes module initialisation order matter and hides a layering
 * mistake (e.g. an interface file that also opens the backends implementing it).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative specifiers a module imports: static imports and re-exports (type-only too) and dynamic import(). */
export function importSpecifiers(source: string): string[] {
  // Comments may quote import statements; strings and templates are left alone (a specifier is one).
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]);
  return found.filter((s) => s.startsWith('.'));
}

/** The module graph of src/: file -> files it imports (relative imports resolved, `.js` -> `.ts`). */
function moduleGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = importSpecifiers(readFileSync(file, 'utf8'))
      .map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'))
      .filter((t) => t.startsWith(SRC));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return out;
}

describe('module graph of src/', () => {
  it('finds every kind of import (so the cycle check below can fail)', () => {
    const source = `import { a } from './a.js';\nimport type { B } from "../b.js";\nexport * from './c.js';\nexport { d } from './d.js';\nimport './e.js';\nconst f = await import('./f.js');\n// import { g } from './g.js';\nimport { h } from 'node:fs';`;
    expect(importSpecifiers(source).sort()).toEqual(['../b.js', './a.js', './c.js', './d.js', './e.js', './f.js']);
    expect(cycles(new Map([['x', ['y']], ['y', ['x']], ['z', ['x']]]))).toEqual([['x', 'y']]);
  });

  it('keeps SQL inside src/store: the shared store layer imports no backend except through the factory', () => {
    const graph = moduleGraph();
    const store = join(SRC, 'store');
    const isBackend = (f: string) => f.startsWith(join(store, 'sqlite')) || f.startsWith(join(store, 'postgres'));
    const shared = [...graph.keys()].filter((f) => f.startsWith(store) && !isBackend(f) && !f.endsWith('open-store.ts'));
    expect(shared.length).toBeGreaterThan(8);
    expect(shared.flatMap((f) => graph.get(f)!.filter(isBackend).map((t) => `${relative(ROOT, f)} -> ${relative(ROOT, t)}`))).toEqual([]);
    // Outside src/store nothing reaches the driver layer.
    const driverLayer = [join(store, 'sql.ts'), join(store, 'sql-store.ts')];
    const outside = [...graph.keys()].filter((f) => !f.startsWith(store));
    expect(outside.flatMap((f) => graph.get(f)!.filter((t) => driverLayer.includes(t) || isBackend(t)).map((t) => `${relative(ROOT, f)} -> ${relative(ROOT, t)}`))).toEqual([]);
  });

  it('has no import cycle, static or dynamic', () => {
    const graph = moduleGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });
});
