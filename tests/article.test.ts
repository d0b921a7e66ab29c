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

  describe("a source's rules: where its article is (select) and what is not part of it (remove)", () => {
    // A site whose story is split around a share bar and a related-links box, which Readability keeps (inside the article).
    const split = page(
      chrome(
        `<div class="story"><div class="lede"><p>${STORY[0]}</p></div><div class="share"><a href="/share">Share this story on social media</a></div>` +
          `<div class="body"><p>${STORY[1]}</p><aside class="related"><a href="/r">Related: more defense news from the region</a></aside><p>${STORY[2]}</p></div></div>`,
      ),
    );
    const url = 'https://jen.jiji.example/news/a';

    it.each([
      [
        'select takes the matching elements in page order',
        { select: '.lede, .body' },
        [STORY[0]!, STORY[1]!, 'Related: more', STORY[2]!],
        ['Share this story', 'Home'],
      ],
      ['remove takes elements out first', { select: '.lede, .body', remove: '.related, .share' }, [STORY[0]!, STORY[2]!], ['Related: more', 'Share this']],
      ['an element inside another selected one is taken once', { select: '.story, .body p' }, [STORY[1]!], []],
      ['remove alone leaves the reading to Readability', { remove: '.related, .share' }, [STORY[1]!], ['Related: more', 'Share this']],
    ])('%s', (_case, rules, kept, dropped) => {
      const text = extractArticle(split, url, rules)?.text ?? '';
      let at = -1;
      for (const part of kept) {
        const found = text.indexOf(part, at + 1);
        expect(found, part).toBeGreaterThan(at);
        at = found;
      }
      for (const part of dropped) expect(text).not.toContain(part);
      expect(text.split(STORY[1]!).length).toBe(2);
    });

    it('takes a short selected article (the operator said where it is), and none where nothing matches', () => {
      const brief = page(chrome('<div class="body"><p>Tokyo, June 2 (Jiji Press)--The two ministers met for 40 minutes.</p></div>'));
      expect(extractArticle(brief, url, { select: '.body' })?.text).toBe('Tokyo, June 2 (Jiji Press)--The two ministers met for 40 minutes.');
      expect(extractArticle(brief, url)).toBeUndefined();
      expect(extractArticle(split, url, { select: '.no-such-class' })).toBeUndefined();
    });

    it('sanitizes what the rules select as it sanitizes Readability', () => {
      const hostile = page(`<div class="body"><p onclick="alert(1)">${STORY[0]}<script>alert(2)</script><a href="javascript:x">x</a></p></div>`);
      expect(extractArticle(hostile, url, { select: '.body' })?.html).not.toMatch(/onclick|<script|javascript:/i);
    });

    it('takes each of a thousand nested matches once', () => {
      // Each match is checked against its own ancestors (a set lookup each), not against every other match.
      const nested = page('<div class="body"><div class="body"><p>Kihara said.</p></div></div>'.repeat(1_000));
      expect(extractArticle(nested, url, { select: '.body, p' })?.text.match(/Kihara said/g)).toHaveLength(1_000);
    });
  });

  it('finds the story inside scripts and styles it leaves out, an unclosed script ending the page', () => {
    const scripted = page(chrome(`<script>if (a < b) { document.write("<div>") }</script><style>p > a { color: red }</style>${article()}<script>unclosed`));
    expect(extractArticle(scripted, 'https://jen.jiji.example/news/a')?.text).toContain(STORY[2]!.slice(0, 40));
  });
});
