/** Text helpers of the domain model, as tables of cases. */
import { describe, expect, it } from 'vitest';
import { trimEndOf } from '../src/model/text.js';

describe('trimEndOf', () => {
  it.each([
    ['https://feeds.example.org///', '/', 'https://feeds.example.org'],
    ['https://feeds.example.org', '/', 'https://feeds.example.org'],
    ['sources: \t', ' \t', 'sources:'],
    ['///', '/', ''],
    ['', '/', ''],
    [`x${'/'.repeat(100_000)}a`, '/', `x${'/'.repeat(100_000)}a`],
    [`x${'/'.repeat(100_000)}`, '/', 'x'],
  ])('%#: %j without trailing %j', (text, characters, expected) => expect(trimEndOf(text, characters)).toBe(expected));
});
