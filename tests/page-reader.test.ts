/** The page reader's thread: articles and listings read off the main thread, one at a time, a slow one abandoned at its deadline. */
import { afterEach, describe, expect, it } from 'vitest';
import { PageReader } from '../src/normalize/page-reader.js';

const PARAGRAPH =
  'Tokyo, June 2 (Jiji Press)--Japanese Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin reaffirmed their plan to strengthen command and control coordination.';
const page = (paragraphs: number) =>
  `<html><body><nav><a href="/">Home</a></nav><article><h1>Defense chiefs meet</h1>${Array.from({ length: paragraphs }, (_, index) => `<p>${PARAGRAPH} (${index})</p>`).join('')}</article></body></html>`;

const readers: PageReader[] = [];
const reader = (deadlineMs?: number) => {
  const created = new PageReader(deadlineMs);
  readers.push(created);
  return created;
};
afterEach(async () => {
  await Promise.all(readers.splice(0).map((created) => created.close()));
});

describe('PageReader', () => {
  it('reads pages in its thread, in the order asked, as extractArticle does', async () => {
    const articles = reader();
    const [three, five] = await Promise.all([articles.read(page(3), 'https://jen.jiji.example/a'), articles.read(page(5), 'https://jen.jiji.example/b')]);
    expect(three?.text).toContain(`${PARAGRAPH} (2)`);
    expect(three?.text).not.toContain('(3)');
    expect(five?.text).toContain(`${PARAGRAPH} (4)`);
    expect(five?.html).not.toContain('Home');
  });

  it('abandons a page at its deadline, and reads the next one in a new thread', async () => {
    // A deadline shorter than starting the thread: the first page is abandoned, whatever it holds.
    const articles = reader(1);
    expect(await articles.read(page(3), 'https://jen.jiji.example/a')).toBeUndefined();
    const patient = reader();
    expect((await patient.read(page(3), 'https://jen.jiji.example/a'))?.text).toContain(PARAGRAPH);
  });

  it('reads listing pages in the same thread, and says why one gives no items', async () => {
    const pages = reader();
    const listing = '<html lang="en"><body><ul><li><a href="/a">Yen slips</a></li><li><a href="/b">Nikkei ends higher</a></li></ul></body></html>';
    const [feed, article] = await Promise.all([
      pages.listing(listing, 'https://jen.jiji.example/list', { items: 'li' }),
      pages.read(page(3), 'https://jen.jiji.example/a'),
    ]);
    expect(feed).toMatchObject({
      format: 'html',
      language: 'en',
      items: [
        { link: '/a', title: 'Yen slips' },
        { link: '/b', title: 'Nikkei ends higher' },
      ],
    });
    expect(article?.text).toContain(PARAGRAPH);
    await expect(pages.listing(listing, 'https://jen.jiji.example/list', { items: 'ol > li' })).rejects.toThrow(
      "no element on the page matches scrape.items 'ol > li'",
    );
    const hasty = reader(1);
    await expect(hasty.listing(listing, 'https://jen.jiji.example/list', { items: 'li' })).rejects.toThrow(/took too long, or the reader failed/);
  });

  it('answers a page it had not read yet when it is closed, and starts no thread for it', async () => {
    const articles = reader();
    const reading = articles.read(page(3), 'https://jen.jiji.example/a');
    await articles.close();
    expect(await reading).toBeUndefined();
  });
});
