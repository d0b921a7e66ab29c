/**
 * The /regex/ of a topic query, run by RE2 (re2js, a pure JavaScript port): matching time is linear in the text
 * whatever the pattern, so no query, from a config file or from a request, can hang ingestion the way
 * /(a+)+$/ did with JavaScript's backtracking RegExp. RE2 has no lookaround and no backreferences.
 */
import { RE2JS } from 're2js';

/** A compiled pattern: whether it matches, and where (UTF-16 offsets, as JavaScript strings index). */
export interface TextPattern {
  test(text: string): boolean;
  ranges(text: string): Array<[number, number]>;
}

export class RegexSyntaxError extends Error {}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0 };

/** Compiles a query's regex with flags among i, m, s, u (Unicode is always on); throws RegexSyntaxError. */
export function compileRegex(pattern: string, flags: string): TextPattern {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(
      pattern,
      [...flags].reduce((bits, flag) => bits | (FLAG_BITS[flag] ?? 0), 0),
    );
  } catch (error) {
    // RE2 words a lookbehind as "invalid named capture"; say what is really missing.
    const unsupported = /\(\?<?[=!]|\\[1-9]/.exec(pattern)?.[0];
    if (unsupported) {
      const kind = unsupported.startsWith('\\') ? 'backreference' : unsupported.includes('<') ? 'lookbehind' : 'lookahead';
      throw new RegexSyntaxError(`${kind} ${unsupported} is not supported (patterns run in linear time, without lookaround or backreferences)`);
    }
    throw new RegexSyntaxError((error as Error).message.replace(/^error parsing regexp: /, ''));
  }
  return {
    test: (text) => compiled.test(text),
    ranges: (text) => {
      const ranges: Array<[number, number]> = [];
      const matcher = compiled.matcher(text);
      while (matcher.find()) if (matcher.end() > matcher.start()) ranges.push([matcher.start(), matcher.end()]);
      return ranges;
    },
  };
}

/** A pattern over a built-in RegExp: for the term patterns we generate from escaped words, never for user input. */
export function trustedPattern(regexp: RegExp): TextPattern {
  const global = new RegExp(regexp.source, `${regexp.flags.replace('g', '')}g`);
  return {
    test: (text) => regexp.test(text),
    ranges: (text) => [...text.matchAll(global)].filter((match) => match[0].length > 0).map((match) => [match.index!, match.index! + match[0].length]),
  };
}
