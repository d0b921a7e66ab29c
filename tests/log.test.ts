import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../src/log.js';

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 'warn', time: '2024-06-02T08:06:19.123Z', service: 'wirefeed', msg: 'fetch failed', ...fields });

describe('log lines on a terminal', () => {
  it.each([
    [line({ source: 'jiji', status: 404 }), '08:06:19 WARN  fetch failed  source=jiji status=404\n'],
    [line({ source: 'jiji', error: 'HTTP 404' }), '08:06:19 WARN  fetch failed  source=jiji error="HTTP 404"\n'],
    [line({ url: 'https://jen.jiji.example/rss?x=1' }), '08:06:19 WARN  fetch failed  url="https://jen.jiji.example/rss?x=1"\n'],
    [line({ topics: ['japan', 'boj'] }), '08:06:19 WARN  fetch failed  topics=["japan","boj"]\n'],
    [line({}), '08:06:19 WARN  fetch failed\n'],
    ['not json at all\n', 'not json at all\n'],
  ])('%s', (json, expected) => {
    expect(formatLogLine(json)).toBe(expected);
  });

  it('escapes what a hostile feed put in a value: no terminal control sequence or line break gets through', () => {
    const shown = formatLogLine(line({ error: 'bad \x1b[31mred\x1b[0m\nFAKE 00:00:00 INFO  all good', title: '\u202Eevil' }));
    expect(shown).not.toContain('\x1b');
    expect(shown.trimEnd()).not.toContain('\n');
    expect(shown).toContain('error="bad \\u001b[31mred\\u001b[0m\\nFAKE 00:00:00 INFO  all good"');
    expect(shown).toContain('title="\\u202eevil"');
  });

  it('colours only the level, and only when asked', () => {
    expect(formatLogLine(line({}), true)).toBe('08:06:19 \x1b[33mWARN \x1b[0m fetch failed\n');
  });
});
