import { containsCjk } from './fold.js';

/** A BCP 47 primary tag from a declared language ("en-US" -> "en"), or undefined when it is not one. */
export function primaryLanguage(tag: string | undefined): string | undefined {
  const match = /^\s*([a-z]{2,3})(?:[-_][a-z0-9]+)*\s*$/i.exec(tag ?? '');
  return match ? match[1]!.toLowerCase() : undefined;
}

/**
 * Guesses the language from the script when the feed declares none: kana means Japanese, Hangul Korean, Han alone
 * Chinese, and mostly-Latin text "und-Latn" (Latin script, language undetermined). Characters are counted only in text
 * with East Asian script: most items have none, and counting is an array of one-character matches per script.
 */
export function guessLanguage(text: string): string | undefined {
  const sample = text.slice(0, 2000);
  if (!containsCjk(sample)) return /\p{Script=Latin}/u.test(sample) ? 'und-Latn' : undefined;
  const count = (pattern: RegExp) => sample.match(pattern)?.length ?? 0;
  const kana = count(/[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
  const hangul = count(/\p{Script=Hangul}/gu);
  const han = count(/\p{Script=Han}/gu);
  const latin = count(/\p{Script=Latin}/gu);
  if (kana > 0 && kana + han >= latin) return 'ja';
  if (hangul > 0 && hangul >= latin) return 'ko';
  if (han > 0 && han >= latin) return 'zh';
  if (latin > 0) return 'und-Latn';
  return undefined;
}
