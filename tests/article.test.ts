/** Reading the article of a web page (full text of short items): what is kept, what is dropped, what is refused. */
import { describe, expect, it } from 'vitest';
import { extractArticle } from '../src/normalize/article.js';

const STORY = [
  'Tokyo, June 2 (Jiji Press)--Japanese Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin reaffirmed their plan to strengthen command and control coordination between the two countries.',
  'Meeting in Singapore on the sidelines of the Shangri-La Dialogue, the two agreed to speed up talks on upgrading U.S. Forces Japan into a joint force headquarters.',
  'Kihara said the alliance faced "the most severe and complex security environment since the end of World War II."',
];

const page = (body: string, head = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination</title>${head}</head><body>${body}</body></html>`;
const article = (extra = '') =>
  `<article><h1>Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination</h1>${STORY.map((paragraph) => `<p>${paragraph}</p>`).join('')}${extra}</article>`;
const chrome = (inner: string) =>
  `<header><nav><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/business">Business</a></nav></header><main>${inner}</main><footer><p>Copyright JIJI Press Ltd. All rights reserved.</p></footer>`;

describe('extractArticle', () => {
  it("keeps the story's paragraphs and drops the page around them", () => {
    const read = extractArticle(page(chrome(article())), 'https://jen.jiji.example/news/2024/06/02/defense');
    expect(read?.text).toContain(STORY[1]);
    expect(read?.text).toContain('the most severe and complex security environment');
    expect(read?.html).not.toMatch(/Home|Politics|Copyright/);
  });

  it('sanitizes what it keeps, and makes its links absolute', () => {
    const hostile = `<p>${STORY[0]} <a href="javascript:alert(1)">more</a> <a href="/news/related">related</a></p><img src="/img/kihara.jpg" onerror="alert(2)" alt="Kihara"><iframe src="https://evil.example/"></iframe>`;
    const read = extractArticle(page(chrome(article(hostile)), '<script>var a = 1 < 2 && 3 > 2;</script>'), 'https://jen.jiji.example/news/a');
    expect(read?.html).not.toMatch(/javascript:|onerror|<iframe|<script/i);
    expect(read?.html).toContain('href="https://jen.jiji.example/news/related"');
    expect(read?.html).toContain('src="https://jen.jiji.example/img/kihara.jpg"');
  });

  it.each([
    [
      'a page with no article (an index of links)',
      page(chrome(`<ul>${Array.from({ length: 40 }, (_, i) => `<li><a href="/n/${i}">Headline ${i}</a></li>`).join('')}</ul>`)),
    ],
    ['a paywall notice', page(chrome('<p>Subscribe to read this story.</p>'))],
    ['an empty page', ''],
    ['a page nested deeper than any real one', page(`${'<div>'.repeat(50_000)}${article()}`)],
    ['a page of more elements than any real one', page(`${'<span>x</span>'.repeat(5_000)}${article()}`)],
  ])('reads nothing from %s', (_name, html) => {
    // The deep and the crowded page are refused by a linear scan before any parse (50,000 nested elements took the
    // parser 39 s): were they parsed, this test would run into its timeout.
    expect(extractArticle(html, 'https://jen.jiji.example/news/a')).toBeUndefined();
  });

  it('finds the story inside scripts and styles it leaves out, an unclosed script ending the page', () => {
    const scripted = page(chrome(`<script>if (a < b) { document.write("<div>") }</script><style>p > a { color: red }</style>${article()}<script>unclosed`));
    expect(extractArticle(scripted, 'https://jen.jiji.example/news/a')?.text).toContain(STORY[2]!.slice(0, 40));
  });
});
