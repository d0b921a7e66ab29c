import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('schema/config.schema.json', () => {
  it('is what the zod schema generates (run "npm run schema" after changing src/config/schema.ts)', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'schema/config.schema.json'), 'utf8'))).toEqual(configJsonSchema());
  });

  it('describes sources, topics, fetch, publish, worker and retention and rejects unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(['sources', 'topics', 'fetch', 'publish', 'worker', 'retention']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('is referenced by every shipped YAML file, with a path that resolves', () => {
    for (const dir of ['feeds', 'feeds/demo']) {
      for (const file of readdirSync(join(ROOT, dir)).filter((name) => name.endsWith('.yml'))) {
        const first = readFileSync(join(ROOT, dir, file), 'utf8').split('\n')[0]!;
        const target = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
        expect(target, `${dir}/${file}`).toBe(relative(join(ROOT, dir), join(ROOT, 'schema/config.schema.json')));
      }
    }
  });
});

describe('wirefeed init', () => {
  it('writes a starter config that loads, names the schema, and refuses to overwrite', async () => {
    const { mkdtempSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { initConfig } = await import('../src/config/init.js');
    const { loadConfig } = await import('../src/config/load.js');
    const dir = join(mkdtempSync(join(tmpdir(), 'wirefeed-init-')), 'feeds');
    const files = initConfig(dir);
    expect(files.map((file) => relative(dir, file))).toEqual(['sources.yml', 'topics.yml']);
    const config = loadConfig(dir);
    expect(config.sources.map((source) => source.id)).toEqual(['japantoday']);
    expect(config.topics.map((topic) => topic.slug)).toEqual(['japan-us-security']);
    const schemaPath = /\$schema=(\S+)/.exec(readFileSync(join(dir, 'sources.yml'), 'utf8'))![1]!;
    expect(existsSync(resolve(dir, schemaPath))).toBe(true);
    expect(readFileSync(join(dir, 'sources.yml'), 'utf8')).toContain('# allowPrivateNetwork: true');
    expect(() => initConfig(dir)).toThrow(/already holds sources.yml, topics.yml; not overwriting/);
  });
});
