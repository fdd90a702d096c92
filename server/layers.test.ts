/**
 * The layers import in one direction: no file-level import cycle among the sources of server/,
 * lib/, components/ and app/ (tests excluded), and no import against the data path
 * (kernel → loader → collectors → symbolizer → aggregator → hub → browser; see FORBIDDEN).
 * A cycle or a backward import means two layers each know the other's types; break it by moving
 * the shared type to where both may import it (issue 10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (name === 'node_modules' || name.startsWith('.')) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|tsx)$/.test(name) && !/\.test\.ts$/.test(name) && !name.endsWith('.d.ts')) files.push(full);
    }
  };
  for (const dir of ['server', 'lib', 'components', 'app']) {
    try {
      walk(path.join(ROOT, dir));
    } catch {
      // a directory this checkout does not have
    }
  }
  return files;
}

/** Relative imports and re-exports of each file (static `import … from './x'`, `export … from`). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (known.has(target)) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no file-level import cycle', () => {
  const files = sources();
  assert.ok(files.length > 100, `found ${files.length} source files under ${ROOT}`);
  const found = cycles(importGraph(files)).map((c) => c.map((f) => path.relative(ROOT, f)).sort().join(' <-> '));
  assert.deepEqual(found, [], `import cycles:\n${found.join('\n')}`);
});

/** The layer of a source file: `server/<dir>` for files under server/, else its top directory. */
function layerOf(file: string): string {
  const parts = path.relative(ROOT, file).split(path.sep);
  return parts[0] === 'server' && parts.length > 2 ? `server/${parts[1]}` : parts[0];
}

/**
 * Imports that would point against the data path, by layer. The browser side (lib/, components/)
 * never imports the server; the loader knows no collector; collectors produce symbolized data and
 * know nothing of how it is aggregated or served; the symbolizer and aggregator know no hub.
 */
const FORBIDDEN: Record<string, string[]> = {
  lib: ['server', 'components', 'app'],
  components: ['server', 'app'],
  'server/libbpf': ['server/collectors', 'server/symbolizer', 'server/aggregator', 'server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http'],
  'server/abi': ['server/collectors', 'server/aggregator', 'server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http'],
  'server/probes': ['server/collectors', 'server/aggregator', 'server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http'],
  'server/collectors': ['server/aggregator', 'server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http', 'server/recording'],
  'server/symbolizer': ['server/collectors', 'server/aggregator', 'server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http'],
  'server/aggregator': ['server/hub', 'server/privileged', 'server/pipeline', 'server/cli', 'server/http'],
  'server/recording': ['server/hub', 'server/privileged', 'server/cli', 'server/http'],
};

/** `from -> to : file` for every import that FORBIDDEN rules out. */
export function backwardImports(graph: Map<string, string[]>, layer: (file: string) => string = layerOf): string[] {
  const found: string[] = [];
  for (const [file, deps] of graph) {
    const banned = FORBIDDEN[layer(file)] ?? [];
    for (const dep of deps) if (banned.includes(layer(dep))) found.push(`${layer(file)} -> ${layer(dep)} : ${path.relative(ROOT, file)} imports ${path.relative(ROOT, dep)}`);
  }
  return found;
}

test('no import against the data path', () => {
  const found = backwardImports(importGraph(sources()));
  assert.deepEqual(found, [], `backward imports:\n${found.join('\n')}`);
});

test('the direction check finds a backward import (control)', () => {
  const file = (rel: string) => path.join(ROOT, rel);
  const graph = new Map([
    [file('server/collectors/x.ts'), [file('server/aggregator/y.ts'), file('server/libbpf/z.ts')]],
    [file('server/aggregator/y.ts'), [file('server/symbolizer/w.ts')]],
  ]);
  assert.deepEqual(backwardImports(graph), ['server/collectors -> server/aggregator : server/collectors/x.ts imports server/aggregator/y.ts']);
});

test('the cycle finder finds a cycle (control)', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(cycles(graph).map((c) => c.sort()), [['a', 'b', 'c']]);
});
