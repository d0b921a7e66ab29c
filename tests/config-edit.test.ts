/** Pausing and resuming a source in the YAML that defines it: the rest of the file kept byte for byte. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pauseSourceInConfig, setSourcePaused } from '../src/config/edit.js';
import { loadConfig } from '../src/config/load.js';
import { writeConfigDir } from './helpers/config.js';

const SOURCES = `# Wire sources
sources:
  - id: jiji-press          # JIJI's own feed
    url: https://jen.jiji.com/rss
    every: 5m
  - { id: kyodo, url: https://english.kyodonews.net/rss/all.xml }
  - id: arabnews
    url: https://www.arabnews.com/rss.xml
    paused: true # back in June
  - url: https://japantoday.com/feed
    id: japan-today
    paused: false
topics: []`;

describe('setSourcePaused', () => {
  it.each<[string, string, boolean, string | false | undefined]>([
    [
      'a block entry gets a line after its id, at its keys’ column',
      'jiji-press',
      true,
      "  - id: jiji-press          # JIJI's own feed\n    paused: true\n    url:",
    ],
    ['a flow entry gets the key before its brace', 'kyodo', true, '  - { id: kyodo, url: https://english.kyodonews.net/rss/all.xml, paused: true }\n'],
    ['resuming takes the line out, its comment with it', 'arabnews', false, '  - id: arabnews\n    url: https://www.arabnews.com/rss.xml\n  - url:'],
    ['an entry saying false is set to true in place', 'japan-today', true, '    id: japan-today\n    paused: true\ntopics: []'],
    ['a paused entry is left as it is', 'arabnews', true, false],
    ['an entry not paused is left as it is', 'kyodo', false, false],
    ['no such source', 'nhk', true, undefined],
  ])('%s', (_case, id, paused, expected) => {
    const edit = setSourcePaused(SOURCES, id, paused);
    if (expected === undefined) return expect(edit).toBeUndefined();
    if (expected === false) return expect(edit).toEqual({ text: SOURCES, changed: false });
    expect(edit!.changed).toBe(true);
    expect(edit!.text).toContain(expected);
    // Nothing else changed: the other entries' lines are all still there.
    const untouched = SOURCES.split('\n').filter((line) => !line.includes('paused') && !line.includes(id));
    for (const line of untouched) expect(edit!.text).toContain(line);
  });
});

describe('pauseSourceInConfig', () => {
  it('edits the file that defines the source, which then loads paused, and back', () => {
    const dir = writeConfigDir({ 'a.yml': 'topics: []\n', 'wires.yml': `${SOURCES}\n` });
    expect(pauseSourceInConfig(dir, 'jiji-press', true)).toEqual({ file: join(dir, 'wires.yml'), changed: true });
    expect(loadConfig(dir).sources.find((source) => source.id === 'jiji-press')!.paused).toBe(true);
    expect(pauseSourceInConfig(dir, 'jiji-press', true).changed).toBe(false);
    expect(pauseSourceInConfig(dir, 'jiji-press', false).changed).toBe(true);
    expect(readFileSync(join(dir, 'wires.yml'), 'utf8')).toBe(`${SOURCES}\n`);
    expect(() => pauseSourceInConfig(dir, 'nhk', true)).toThrow(/^no source with id "nhk" in /);
  });
});
