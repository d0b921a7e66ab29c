/** Case- and diacritic-insensitive form of text, used for matching and comparison (not for display). */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Japanese, Chinese and Korean text has no spaces between words, so terms in it match as substrings. */
export function containsCjk(text: string): boolean {
  return CJK.test(text);
}
