/**
 * The layers of src/ and the one rule between them: a module imports only from its own folder and from layers below
 * its own. Read from the source with TypeScript's own import scanner, so a new arrow upwards fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Bottom first. Units in one layer (worker, server) do not import each other. */
const LAYERS: string[][] = [
  ['model'], // domain types and tiny helpers: imports nothing of the project
  ['log'],
  ['db'],
  ['fetch'],
  ['parse'],
  ['normalize'],
  ['dedup'],
  ['topics'],
  ['config'],
  ['store'],
  ['discover'],
  ['metrics'],
  ['publish'], // renders topic feeds: for the server's responses and the worker's webhooks
  ['worker', 'server'],
  ['app'], // wires one process
  ['commands'], // one file per CLI command
  ['cli'], // only dispatches
];

/** "fetch" for src/fetch/http.ts, "app" for src/app.ts. */
const unitOf = (file: string) => relative(SRC, file).split(/[\\/]/)[0]!.replace(/\.ts$/, '');
const layerOf = new Map(LAYERS.flatMap((units, index) => units.map((unit) => [unit, index] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface Arrow {
  from: string;
  to: string;
}

/** Every relative import (type-only ones too) of every module in src/, resolved to the file it names. */
function importArrows(): Arrow[] {
  return sourceFiles(SRC).flatMap((file) =>
    ts
      .preProcessFile(readFileSync(file, 'utf8'), true, true)
      .importedFiles.map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => ({ from: file, to: resolve(dirname(file), name.replace(/\.js$/, '.ts')) })),
  );
}

/** Why an arrow breaks the layering, or undefined when it runs downward (or stays in its folder). */
function violation(arrow: Arrow): string | undefined {
  const from = unitOf(arrow.from);
  const to = unitOf(arrow.to);
  if (from === to) return undefined;
  const fromLayer = layerOf.get(from);
  const toLayer = layerOf.get(to);
  if (fromLayer === undefined) return `${from} is in no layer: add it to LAYERS`;
  if (toLayer === undefined) return `${to} is in no layer: add it to LAYERS`;
  if (toLayer === fromLayer) return `${from} and ${to} are side by side and must not import each other`;
  if (toLayer > fromLayer) return `${from} (layer ${fromLayer}) imports ${to} (layer ${toLayer}), which is above it`;
  return undefined;
}

describe('the layers of src/', () => {
  const arrows = importArrows();

  it('reads the imports it checks', () => {
    expect(arrows.length).toBeGreaterThan(100);
    expect(arrows.some((arrow) => unitOf(arrow.from) === 'worker' && unitOf(arrow.to) === 'store')).toBe(true);
  });

  it('every import runs downward', () => {
    const broken = arrows.flatMap((arrow) => {
      const reason = violation(arrow);
      return reason ? [`${relative(SRC, arrow.from)} -> ${relative(SRC, arrow.to)}: ${reason}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('the model imports nothing but itself, not even packages', () => {
    const outside = sourceFiles(join(SRC, 'model')).flatMap((file) =>
      ts
        .preProcessFile(readFileSync(file, 'utf8'), true, true)
        .importedFiles.filter((imported) => !imported.fileName.startsWith('./'))
        .map((imported) => `${relative(SRC, file)} imports ${imported.fileName}`),
    );
    expect(outside).toEqual([]);
  });

  it('keeps functions under 60 lines, or says why in their doc comment ("Why it is long: …")', () => {
    const MAX_LINES = 60;
    const unexplained = sourceFiles(SRC).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const found: string[] = [];
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line - source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          // The comment before the function, or before the statement that holds it (const f = () => …).
          const holder = ts.isVariableDeclaration(node.parent) ? node.parent.parent.parent : node;
          const comments = ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? [];
          const why = comments.some((range) => /why it is long:/i.test(text.slice(range.pos, range.end).replace(/\s*\n\s*\*?\s*/g, ' ')));
          if (lines > MAX_LINES && !why)
            found.push(`${relative(SRC, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} (${lines} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      return found;
    });
    expect(unexplained).toEqual([]);
  });

  it('keeps cli.ts a dispatcher', () => {
    expect(readFileSync(join(SRC, 'cli.ts'), 'utf8').split('\n').length).toBeLessThan(80);
  });

  it('the check itself tells an upward arrow from a downward one', () => {
    const at = (path: string) => join(SRC, path);
    expect(violation({ from: at('store/items.ts'), to: at('db/client.ts') })).toBeUndefined();
    expect(violation({ from: at('fetch/http.ts'), to: at('fetch/guard.ts') })).toBeUndefined();
    expect(violation({ from: at('topics/preview.ts'), to: at('app.ts') })).toMatch(/above it/);
    expect(violation({ from: at('worker/websub.ts'), to: at('server/page.ts') })).toMatch(/side by side/);
    expect(violation({ from: at('model/topic.ts'), to: at('config/load.ts') })).toMatch(/above it/);
    expect(violation({ from: at('brand-new/thing.ts'), to: at('model/topic.ts') })).toMatch(/no layer/);
  });
});
