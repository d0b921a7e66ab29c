import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFeedBody } from '../src/fetch/decode.js';
import { parseFeed } from '../src/parse/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/encodings/${name}`, import.meta.url));
const JAPANESE_TITLE = '日米防衛相が会談　指揮統制の連携強化で一致';

describe('decodeFeedBody', () => {
  it.each([
    ['shift_jis-declared.xml', undefined, 'shift_jis', 'xml-declaration'],
    ['shift_jis-declared.xml', 'application/rss+xml; charset=Shift_JIS', 'shift_jis', 'http'],
    ['shift_jis-undeclared.xml', 'text/xml; charset="shift_jis"', 'shift_jis', 'http'],
    ['shift_jis-undeclared.xml', undefined, 'shift_jis', 'sniff'],
    ['euc-jp-declared.xml', undefined, 'euc-jp', 'xml-declaration'],
    ['euc-jp-declared.xml', "application/xml;charset='euc-jp'", 'euc-jp', 'http'],
    ['euc-jp-undeclared.xml', undefined, 'euc-jp', 'sniff'],
    ['iso-2022-jp-declared.xml', undefined, 'iso-2022-jp', 'xml-declaration'],
    ['utf-16le-bom.xml', 'text/xml; charset=utf-8', 'utf-16le', 'bom'],
  ])('%s with Content-Type %j decodes as %s (by %s)', async (file, contentType, encoding, by) => {
    const decoded = decodeFeedBody(fixture(file), contentType);
    expect(decoded).toMatchObject({ encoding, by });
    const feed = await parseFeed(decoded.text);
    expect(feed.items[0]!.title).toBe(JAPANESE_TITLE);
    expect(feed.title).toBe('時事ドットコム');
  });

  it('decodes windows-1252 punctuation correctly (Node 20 TextDecoder reads it as latin1)', async () => {
    const feed = await parseFeed(decodeFeedBody(fixture('windows-1252-declared.xml')).text);
    expect(feed.title).toBe('Café Wire');
    expect(feed.items[0]!.title).toBe('“Two-plus-two” talks – Tokyo’s view €');
  });

  it('decodes ISO-8859-7', async () => {
    const feed = await parseFeed(decodeFeedBody(fixture('iso-8859-7-declared.xml')).text);
    expect(feed.items[0]!.title).toBe('Ιαπωνία');
  });

  it('lets the HTTP charset override the XML declaration', () => {
    const bytes = Buffer.from('<?xml version="1.0" encoding="iso-8859-1"?><rss><channel><title>caf\u00c3\u00a9</title></channel></rss>', 'latin1');
    expect(decodeFeedBody(bytes, 'application/xml; charset=utf-8').text).toContain('<title>café</title>');
    expect(decodeFeedBody(bytes).text).toContain('<title>cafÃ©</title>');
  });

  it('repairs windows-1252 characters that arrived as C1 controls', () => {
    expect(decodeFeedBody(Buffer.from('<p>don\u0092t</p>', 'utf8')).text).toBe('<p>don’t</p>');
  });

  it('reads UTF-32 and byte-pattern UTF-16 without a BOM', () => {
    const text = '<?xml version="1.0" encoding="utf-16"?><rss/>';
    const utf16be = Buffer.from(text, 'utf16le').swap16();
    expect(decodeFeedBody(utf16be)).toMatchObject({ text, encoding: 'utf-16be', by: 'xml-declaration' });
    const utf32le = Buffer.alloc(text.length * 4);
    for (const [index, char] of [...text].entries()) utf32le.writeUInt32LE(char.codePointAt(0)!, index * 4);
    expect(decodeFeedBody(utf32le)).toMatchObject({ text, encoding: 'utf-32le' });
  });

  it("reads a web page's <meta> charset, as browsers prescan for it, and only a web page's", () => {
    // "Токио" in windows-1251: without the <meta>, the bytes are not UTF-8 and the sniff takes windows-1252.
    const tokyo = Buffer.from([0xd2, 0xee, 0xea, 0xe8, 0xee]);
    const page = (head: string) => Buffer.concat([Buffer.from(`${head}<title>`), tokyo, Buffer.from('</title>')]);
    const cases: Array<[string, string | undefined, string]> = [
      ['<!DOCTYPE html><html><head><meta charset="windows-1251">', 'windows-1251', 'meta'],
      ['<!-- generated --> <html lang="ru"><head><meta http-equiv="Content-Type" content="text/html; charset=cp1251">', 'windows-1251', 'meta'],
      ['<!doctype html><meta charset=utf-16>', 'utf-8', 'meta'],
      ['<html><head><meta charset="bogus">', undefined, 'sniff'],
      // A feed whose text holds a page's <meta> is not a page.
      ['<rss><channel><description>&lt;meta charset="windows-1251"&gt; <meta charset="windows-1251"></description>', undefined, 'sniff'],
    ];
    for (const [head, encoding, by] of cases) expect(decodeFeedBody(page(head)), head).toMatchObject({ by, ...(encoding ? { encoding } : {}) });
    expect(decodeFeedBody(page('<html><meta charset="windows-1251">')).text).toContain('<title>Токио</title>');
    // The HTTP charset still wins.
    expect(decodeFeedBody(page('<html><meta charset="windows-1251">'), 'text/html; charset=iso-8859-5')).toMatchObject({ by: 'http' });
  });

  it('ignores an unknown charset label and falls back to the declaration or UTF-8', () => {
    expect(decodeFeedBody(Buffer.from('<rss>é</rss>'), 'text/xml; charset=bogus-8')).toMatchObject({ text: '<rss>é</rss>', encoding: 'utf-8' });
  });
});
