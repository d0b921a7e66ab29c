import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('schema/config.schema.json', () => {
  it('is what the zod schema generates (run "npm run schema" after changing src/config/schema.ts)', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'schema/config.schema.json'), 'utf8'))).toEqual(configJsonSchema());
  });

  it('describes sources, topics, fetch and publish and rejects unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(['sources', 'topics', 'fetch', 'publish']);
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
