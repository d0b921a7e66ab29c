/** A topic's new stories as Slack and Discord messages and ntfy notifications: what they show, and that no title can mention, link or format. */
import { describe, expect, it } from 'vitest';
import { type FeedEntry, ownEntry } from '../src/model/story.js';
import { appriseMessage, DISCORD_MAX_CHARS, discordMessage, NOTIFICATION_MAX_BYTES, ntfyMessage, slackMessage } from '../src/publish/chat.js';
import type { Channel } from '../src/publish/render.js';
import { ntfyTarget } from '../src/publish/webhook.js';

const channel: Channel = {
  title: 'Japan–US security',
  description: 'Security',
  pageUrl: 'https://feeds.example.org/topics/japan-us-security',
  feedUrl: (format) => `https://feeds.example.org/topics/japan-us-security.${format}`,
};

const entry = (title: string, url: string | null, extra: Partial<FeedEntry> = {}): FeedEntry =>
  ownEntry({
    storyId: 's1',
    publishedAt: new Date('2024-06-02T00:06:19Z'),
    title,
    url,
    language: 'en',
    sourceId: 'jiji-press',
    sourceTitle: 'JIJI Press',
    ...extra,
  });

const FORUM = entry('Japan, U.S. to Set Up Forum on Joint Arms Production', 'https://jen.jiji.com/jc/eng?g=eco&k=2024060200130', {
  alsoReportedBy: [
    { sourceId: 'arabnews', sourceTitle: 'Arab News', title: 'Japan, US agree on arms forum', url: 'https://arab.news/abc' },
    { sourceId: 'japantoday', sourceTitle: null, title: 'Arms forum', url: null },
  ],
});
const HOSTILE = entry('<!channel> @everyone **Alert** [click](https://evil.example) `x` & <https://evil.example|here>', 'https://evil.example/a|b>c (d)');

describe('slackMessage', () => {
  it('lists each story linking its outlet, with who else carried it, under a link to the topic', () => {
    expect(JSON.parse(slackMessage(channel, [FORUM])).text.split('\n')).toEqual([
      '*<https://feeds.example.org/topics/japan-us-security|Japan–US security>*: 1 new story',
      '• <https://jen.jiji.com/jc/eng?g=eco&amp;k=2024060200130|Japan, U.S. to Set Up Forum on Joint Arms Production> — JIJI Press (also Arab News, japantoday)',
    ]);
  });

  it("escapes a title's and a link's control characters: no mention, no link of their own", () => {
    const [, line] = JSON.parse(slackMessage(channel, [HOSTILE])).text.split('\n');
    expect(line).toBe(
      '• <https://evil.example/a%7Cb%3Ec%20%28d%29|&lt;!channel&gt; @everyone **Alert** [click](https://evil.example) `x` &amp; &lt;https://evil.example|here&gt;> — JIJI Press',
    );
  });

  it("links a story without an http(s) page to its place on the topic's page", () => {
    const [, line] = JSON.parse(slackMessage(channel, [entry('Typhoon nears Okinawa', 'javascript:alert(1)')])).text.split('\n');
    expect(line).toBe('• <https://feeds.example.org/topics/japan-us-security#story-s1|Typhoon nears Okinawa> — JIJI Press');
  });
});

describe('discordMessage', () => {
  it('lists each story with its link unpreviewed, and lets no text ping anyone', () => {
    const message = JSON.parse(discordMessage(channel, [FORUM, HOSTILE]));
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.content.split('\n')).toEqual([
      '**[Japan–US security](<https://feeds.example.org/topics/japan-us-security>)**: 2 new stories',
      '- [Japan, U.S. to Set Up Forum on Joint Arms Production](<https://jen.jiji.com/jc/eng?g=eco&k=2024060200130>) — JIJI Press \\(also Arab News, japantoday\\)',
      '- [\\<!channel\\> \\@everyone \\*\\*Alert\\*\\* \\[click\\]\\(https\\://evil.example\\) \\`x\\` & \\<https\\://evil.example\\|here\\>](<https://evil.example/a%7Cb%3Ec%20%28d%29>) — JIJI Press',
    ]);
  });

  it(`fits in ${DISCORD_MAX_CHARS} characters, saying how many more stories there are, and cuts a long title`, () => {
    const many = Array.from({ length: 50 }, (_, index) => entry(`Story ${index} ${'about the alliance '.repeat(4)}`, `https://jen.jiji.com/${index}`));
    const content: string = JSON.parse(discordMessage(channel, many)).content;
    expect(content.length).toBeLessThanOrEqual(DISCORD_MAX_CHARS);
    const lines = content.split('\n');
    const shown = lines.filter((line) => line.startsWith('- ')).length;
    expect(shown).toBeGreaterThan(5);
    expect(lines.at(-1)).toBe(`…and ${50 - shown} more on the topic's page`);
    // Every story fits: no "more" line.
    expect(JSON.parse(discordMessage(channel, many.slice(0, 3))).content).not.toContain('more on the');
    const long: string = JSON.parse(discordMessage(channel, [entry('Defense '.repeat(100), 'https://jen.jiji.com/long')])).content;
    // 300 characters with the ellipsis.
    expect(long).toContain(`[${'Defense '.repeat(37)}Def…]`);
  });
});

describe('ntfyMessage', () => {
  it("titles the notification with the topic, lists the stories as plain text, and opens the one story's page", () => {
    expect(JSON.parse(ntfyMessage(channel, [FORUM], 'wirefeed-security'))).toEqual({
      topic: 'wirefeed-security',
      title: 'Japan–US security: 1 new story',
      message: '• Japan, U.S. to Set Up Forum on Joint Arms Production — JIJI Press (also Arab News, japantoday)',
      click: 'https://jen.jiji.com/jc/eng?g=eco&k=2024060200130',
      tags: ['newspaper'],
    });
    // Several: the tap opens the topic's page; a hostile title is text as written (ntfy renders no markup here).
    const several = JSON.parse(ntfyMessage(channel, [FORUM, HOSTILE], 'wirefeed-security'));
    expect(several.click).toBe(channel.pageUrl);
    expect(several.message.split('\n')[1]).toBe(`• ${HOSTILE.title} — JIJI Press`);
    expect(several).not.toHaveProperty('markdown');
  });

  it(`fits in ${NOTIFICATION_MAX_BYTES} bytes of Japanese text, saying how many more stories there are`, () => {
    const many = Array.from({ length: 50 }, (_, index) =>
      entry(`日米防衛相会談 ${index} ${'同盟の抑止力強化で一致'.repeat(5)}`, `https://www.jiji.com/${index}`),
    );
    const { message } = JSON.parse(ntfyMessage(channel, many, 't'));
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(NOTIFICATION_MAX_BYTES);
    const shown = message.split('\n').filter((line: string) => line.startsWith('• ')).length;
    expect(shown).toBeGreaterThan(5);
    expect(message.split('\n').at(-1)).toBe(`…and ${50 - shown} more on the topic's page`);
  });

  it.each([
    ['https://ntfy.sh/wirefeed-security', 'https://ntfy.sh/', 'wirefeed-security'],
    ['https://push.example.org/ntfy/desk_1', 'https://push.example.org/ntfy/', 'desk_1'],
    ['https://push.example.org/desk?auth=QmFzaWMg', 'https://push.example.org/?auth=QmFzaWMg', 'desk'],
  ])('publishes %s to %s as topic %s', (url, root, topic) => {
    expect(ntfyTarget(url)).toEqual({ root, topic });
  });
});

describe('appriseMessage', () => {
  it("sends plain text: a line per story with its page, then the topic's page", () => {
    expect(JSON.parse(appriseMessage(channel, [FORUM, HOSTILE]))).toEqual({
      title: 'Japan–US security: 2 new stories',
      body: [
        '• Japan, U.S. to Set Up Forum on Joint Arms Production — JIJI Press (also Arab News, japantoday)',
        'https://jen.jiji.com/jc/eng?g=eco&k=2024060200130',
        `• ${HOSTILE.title} — JIJI Press`,
        'https://evil.example/a%7Cb%3Ec%20%28d%29',
        channel.pageUrl,
      ].join('\n'),
      type: 'info',
      format: 'text',
    });
  });

  it(`fits in ${NOTIFICATION_MAX_BYTES} bytes, counting the stories left out, and keeps the topic's page`, () => {
    const many = Array.from({ length: 50 }, (_, index) =>
      entry(`日米防衛相会談 ${index} ${'同盟の抑止力強化で一致'.repeat(5)}`, `https://www.jiji.com/${index}`),
    );
    const { body } = JSON.parse(appriseMessage(channel, many));
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(NOTIFICATION_MAX_BYTES);
    const lines = body.split('\n');
    const shown = lines.filter((line: string) => line.startsWith('• ')).length;
    expect(lines.slice(-2)).toEqual([`…and ${50 - shown} more on the topic's page`, channel.pageUrl]);
  });
});
