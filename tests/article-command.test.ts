/**
 * `wirefeed article URL`: a page's article read as full text would read it, to try a source's rules (or new ones) on
 * one of its pages. Through the real CLI against a real HTTP server on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const LEDE = 'Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines stationed in Okinawa to Guam in December.';
const BODY = 'About 100 members of a logistics battalion will move first, Defense Minister Kihara Minoru told reporters on Saturday.';
const SHARE = 'Share this story on social media';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer((request, response) => {
    if (request.url === '/news/marines') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><html><head><title>Marines to Move</title></head><body><nav><a href="/">Home</a></nav>
<div class="story"><p class="lede">${LEDE}</p><div class="share">${SHARE}</div><div class="body"><p>${BODY}</p><p>Escape \u001b[31mred\u001b[0m and \u202eflipped.</p></div></div></body></html>`,
      );
    } else response.writeHead(404).end();
  });
});
afterAll(() => server.close());

const configDir = () =>
  writeConfigDir({
    'sources.yml': `sources:\n  - id: jiji\n    url: ${server.url}/feed.xml\n    allowPrivateNetwork: [127.0.0.1]\n    fullText:\n      select: '.story'\n      remove: '.share'\n`,
  });
const article = async (args: string[]) => {
  const cli = runCli(['article', ...args], { LOG_LEVEL: 'silent' });
  return { code: await cli.exited, ...cli.output() };
};

describe('wirefeed article', () => {
  it("reads a page by its source's rules, and by rules given on the command line", async () => {
    const dir = configDir();
    const bySource = await article([`${server.url}/news/marines`, '--source', 'jiji', '--config', dir]);
    expect(bySource.code, bySource.stderr).toBe(0);
    expect(bySource.stdout).toContain(LEDE);
    expect(bySource.stdout).toContain(BODY);
    expect(bySource.stdout).not.toContain(SHARE);
    expect(bySource.stderr).toMatch(/^read \d+ characters from http:\/\/127\.0\.0\.1:\d+\/news\/marines \(select '\.story', remove '\.share'\)$/m);
    // No character of the page reaches the terminal as a control sequence or a reordering mark.
    for (const char of ['\u001b', '\u202e']) expect(bySource.stdout).not.toContain(char);
    expect(bySource.stdout).toContain('Escape [31mred[0m and flipped.');

    const byOptions = await article([`${server.url}/news/marines`, '--source', 'jiji', '--select', '.body p', '--json', '--config', dir]);
    expect(byOptions.code, byOptions.stderr).toBe(0);
    const read = JSON.parse(byOptions.stdout);
    expect(read).toMatchObject({ rules: { select: '.body p', remove: '.share' } });
    expect(read.text).not.toContain(LEDE);
    expect(read.text).toContain(BODY);
  });

  it('says what went wrong: no article, an address the source may not reach, a bad selector, an unknown source', async () => {
    const dir = configDir();
    const none = await article([`${server.url}/news/marines`, '--source', 'jiji', '--select', '.no-such', '--config', dir]);
    expect([none.code, none.stderr.trim()]).toEqual([1, `no article on ${server.url}/news/marines (select '.no-such', remove '.share')`]);
    const refused = await article([`${server.url}/news/marines`, '--config', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot fetch .*; give --source ID to fetch it as that source may/);
    const bad = await article([`${server.url}/news/marines`, '--source', 'jiji', '--remove', 'div[', '--config', dir]);
    expect(bad.stderr).toContain('--remove is not a CSS selector Wirefeed can match (Expected name, found )');
    const unknown = await article([`${server.url}/news/marines`, '--source', 'kyodo', '--config', dir]);
    expect(unknown.stderr).toContain('no source with id "kyodo"');
  });
});
