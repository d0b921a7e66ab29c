import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { formatDuration, parseDuration } from '../src/model/duration.js';
import type { ProxyRoute } from '../src/model/source.js';
import { writeConfigDir } from './helpers/config.js';

function problemsOf(files: Record<string, string>): string[] {
  const dir = writeConfigDir(files);
  try {
    loadConfig(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(
      (problem) => `${problem.file.split('/').pop()}:${problem.line}:${problem.column}: ${problem.path}: ${problem.message}`,
    );
  }
  throw new Error('expected a ConfigError');
}

const SOURCES = `sources:
  - id: arabnews-japan
    url: https://www.arabnews.com/cat/japan/rss.xml
    title: Arab News Japan
    every: 15m
`;

describe('loadConfig', () => {
  it('merges every *.yml file of the folder', () => {
    const dir = writeConfigDir({
      'sources.yml': SOURCES,
      'topics.yml': `topics:\n  - slug: japan-us-security\n    title: Japan–US security\n    query: 'japan AND (defense OR security)'\n`,
      'notes.txt': 'not yaml: ignored',
    });
    const config = loadConfig(dir);
    expect(config.sources).toEqual([
      {
        id: 'arabnews-japan',
        url: 'https://www.arabnews.com/cat/japan/rss.xml',
        title: 'Arab News Japan',
        pollSeconds: 900,
        priority: 0,
        tags: [],
        shortUrlHosts: [],
        network: { kind: 'public-only' },
      },
    ]);
    expect(config.topics.map((topic) => [topic.slug, topic.limit])).toEqual([['japan-us-security', 50]]);
  });

  it.each([
    ['true', { kind: 'any' }],
    ['false', { kind: 'public-only' }],
    ['[127.0.0.2, "10.0.0.0/8", "[fd00::1]"]', { kind: 'allow-list', entries: ['127.0.0.2', '10.0.0.0/8', 'fd00::1'] }],
  ])('reads allowPrivateNetwork: %s', (value, policy) => {
    const dir = writeConfigDir({ 'sources.yml': `sources:\n  - id: a\n    url: http://intranet.example/feed\n    allowPrivateNetwork: ${value}\n` });
    expect(loadConfig(dir).sources[0]!.network).toEqual(policy);
  });

  it('reads every: auto, and gives fetch.every (from whichever file) to the sources without their own', () => {
    const config = loadConfig(
      writeConfigDir({
        'a.yml':
          'sources:\n  - id: wire\n    url: https://wire.example/feed\n    every: auto\n  - id: plain\n    url: https://plain.example/feed\n  - id: slow\n    url: https://slow.example/feed\n    every: 2h\n',
        'z.yml': 'fetch:\n  every: 30m\n',
      }),
    );
    expect(config.sources.map(({ id, pollSeconds, adaptivePoll }) => [id, pollSeconds, adaptivePoll])).toEqual([
      ['wire', 900, true],
      ['plain', 1800, undefined],
      ['slow', 7200, undefined],
    ]);
    const auto = loadConfig(writeConfigDir({ 'a.yml': 'fetch:\n  every: auto\nsources:\n  - id: wire\n    url: https://wire.example/feed\n' }));
    expect(auto.sources[0]).toMatchObject({ pollSeconds: 900, adaptivePoll: true });
    expect(problemsOf({ 'a.yml': 'fetch:\n  every: often\nsources:\n  - id: a\n    url: https://a.example/feed\n    every: 15\n' })).toEqual([
      'a.yml:2:10: fetch.every: expected a duration such as 30s, 15m, 1h or 1d, or auto',
      'a.yml:6:12: sources[0].every: expected a duration such as 30s, 15m, 1h or 1d, or auto',
    ]);
  });

  describe('proxy', () => {
    /** A source taking the fetch block's proxy, one going straight, one with its own. */
    const PROXIED_SOURCES = [
      'sources:',
      '  - id: wire',
      '    url: https://wire.example/feed.xml',
      '  - id: intranet',
      '    url: http://intranet.example/feed.xml',
      '    proxy: false',
      '  - id: onion',
      '    url: http://news.example.onion/feed.xml',
      '    proxy: socks5h://127.0.0.1:9050',
    ];
    /** A topic whose webhook (or webhooks) the lines after it give. */
    const TOPIC_WITH_WEBHOOK = [
      'publish:',
      '  publicUrl: https://feeds.example.org',
      'topics:',
      '  - slug: japan',
      '    title: Japan',
      '    query: japan',
      '    webhook:',
    ];
    it('gives every source fetch.proxy, from whichever file, unless it has its own or says proxy: false', () => {
      process.env.WIREFEED_TEST_PROXY_PASSWORD = 'p@ss';
      try {
        const config = loadConfig(
          writeConfigDir({
            'a.yml': `${PROXIED_SOURCES.join('\n')}\n`,
            'z.yml': `fetch:\n  proxy: http://desk:\${WIREFEED_TEST_PROXY_PASSWORD}@proxy.example:3128\n`,
          }),
        );
        const desk = { protocol: 'http', host: 'proxy.example', port: 3128, username: 'desk', password: 'p@ss', display: 'http://proxy.example:3128' };
        expect(config.fetch.proxy).toEqual(desk);
        expect(config.sources.map((source) => [source.id, source.proxy])).toEqual([
          ['wire', desk],
          ['intranet', undefined],
          ['onion', { protocol: 'socks5h', host: '127.0.0.1', port: 9050, display: 'socks5h://127.0.0.1:9050' }],
        ]);
      } finally {
        delete process.env.WIREFEED_TEST_PROXY_PASSWORD;
      }
    });

    it("takes the environment's proxies (HTTPS_PROXY and the rest) where no file sets fetch.proxy, for sources and webhooks alike", () => {
      const files = (fetchBlock: string) => ({
        'sources.yml': [fetchBlock, ...PROXIED_SOURCES, ...TOPIC_WITH_WEBHOOK, '      url: https://hooks.example/wire', ''].join('\n'),
      });
      const env = { HTTPS_PROXY: 'proxy.corp.example:3128', NO_PROXY: '.corp.example', PATH: '/usr/bin' };
      const config = loadConfig(writeConfigDir(files('')), env);
      const fromEnvironment = {
        kind: 'environment',
        https: { protocol: 'http', host: 'proxy.corp.example', port: 3128, display: 'http://proxy.corp.example:3128 (HTTPS_PROXY)' },
        bypass: [{ kind: 'domain', name: 'corp.example', subdomainsOnly: true }],
      };
      expect(config.fetch.proxy).toEqual(fromEnvironment);
      expect(config.sources.map((source) => source.proxy)).toEqual([fromEnvironment, undefined, expect.objectContaining({ protocol: 'socks5h' })]);
      expect(config.topics[0]!.webhooks![0]!.proxy).toEqual(fromEnvironment);
      // fetch.proxy, a URL or false, says it all: the environment is not read (not even a value it could not use).
      const refused = { ...env, HTTP_PROXY: 'https://proxy.corp.example:443' };
      expect(loadConfig(writeConfigDir(files('fetch:\n  proxy: false')), refused).fetch.proxy).toBeUndefined();
      expect(loadConfig(writeConfigDir(files('fetch:\n  proxy: http://squid.example:3128')), refused).fetch.proxy).toMatchObject({ host: 'squid.example' });
      expect(() => loadConfig(writeConfigDir(files('')), refused)).toThrow(
        "the environment variable HTTP_PROXY (https://proxy.corp.example:443) must be an http://, socks5:// or socks5h:// URL, not https://: mend it, or set fetch.proxy in the config (false to fetch without the environment's proxies)",
      );
      expect(loadConfig(writeConfigDir(files('')), { PATH: '/usr/bin' }).fetch.proxy).toBeUndefined();
    });

    it('sends webhooks through fetch.proxy too, unless a webhook says proxy: false or names its own', () => {
      const config = loadConfig(
        writeConfigDir({
          'a.yml': [
            'fetch:',
            '  proxy: http://proxy.example:3128',
            ...TOPIC_WITH_WEBHOOK,
            '      - name: slack',
            '        url: https://hooks.slack.example/services/T0/B0/x',
            '        format: slack',
            '      - name: apprise',
            '        url: http://apprise:8000/notify/wire',
            '        format: apprise',
            '        proxy: false',
            '      - name: tor',
            '        url: http://hooks.example.onion/wire',
            '        proxy: socks5h://127.0.0.1:9050',
            '',
          ].join('\n'),
        }),
      );
      expect(config.topics[0]!.webhooks!.map((webhook) => [webhook.name, (webhook.proxy as ProxyRoute | undefined)?.display])).toEqual([
        ['slack', 'http://proxy.example:3128'],
        ['apprise', undefined],
        ['tor', 'socks5h://127.0.0.1:9050'],
      ]);
    });

    it('names a proxy URL it cannot use at its line, never echoing its password', () => {
      delete process.env.WIREFEED_TEST_UNSET;
      const problems = problemsOf({
        'a.yml': [
          'fetch:',
          '  proxy: https://desk:s3cret@proxy.example:443',
          'sources:',
          '  - id: a',
          '    url: https://a.example/feed',
          '    proxy: socks5://proxy.example',
          '  - id: b',
          '    url: https://b.example/feed',
          `    proxy: http://desk:\${WIREFEED_TEST_UNSET}@proxy.example:3128`,
          '  - id: c',
          '    url: https://c.example/feed',
          '    proxy: true',
          '',
        ].join('\n'),
      });
      expect(problems).toEqual([
        'a.yml:2:10: fetch.proxy: must be an http://, socks5:// or socks5h:// URL, not https://',
        "a.yml:6:12: sources[0].proxy: must give the proxy's port (http://proxy.example:3128)",
        'a.yml:9:12: sources[1].proxy: the environment variable WIREFEED_TEST_UNSET is not set',
        'a.yml:12:12: sources[2].proxy: must be a proxy URL (http://proxy.example:3128), or false to go without fetch.proxy',
      ]);
      expect(problems.join('\n')).not.toContain('s3cret');
      expect(problemsOf({ 'b.yml': 'fetch:\n  proxy: true\n' })).toEqual([
        "b.yml:2:10: fetch.proxy: must be a proxy URL (http://proxy.example:3128), or false to fetch without the environment's proxies (HTTPS_PROXY and the rest)",
      ]);
    });
  });

  describe('credentials', () => {
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    const sourceOf = (lines: string) => loadConfig(writeConfigDir({ 'sources.yml': `sources:\n  - id: a\n${lines}` })).sources[0]!;

    it('sends username and password as Basic credentials and headers as given, names in lower case, from the environment', () => {
      process.env.WIREFEED_TEST_PASSWORD = 'hunter2';
      process.env.WIREFEED_TEST_KEY = 'k-123';
      try {
        const source = sourceOf(
          `    url: https://wire.example/feed.xml\n    username: wirefeed\n    password: \${WIREFEED_TEST_PASSWORD}\n    headers:\n      X-Api-Key: key=\${WIREFEED_TEST_KEY};v=1\n`,
        );
        expect(source.url).toBe('https://wire.example/feed.xml');
        expect(source.credentials).toEqual({
          origin: 'https://wire.example',
          headers: { authorization: basic('wirefeed:hunter2'), 'x-api-key': 'key=k-123;v=1' },
        });
      } finally {
        delete process.env.WIREFEED_TEST_PASSWORD;
        delete process.env.WIREFEED_TEST_KEY;
      }
    });

    it('takes credentials written into the URL out of it, so the store, logs and pages never show them', () => {
      const source = sourceOf('    url: https://wire%40feeds:s%3Acret@wire.example:8443/feed.xml\n');
      expect(source.url).toBe('https://wire.example:8443/feed.xml');
      expect(source.credentials).toEqual({ origin: 'https://wire.example:8443', headers: { authorization: basic('wire@feeds:s:cret') } });
      // A URL without them is kept exactly as written: it is the source's identity in the store.
      expect(sourceOf('    url: HTTPS://Wire.example/feed.xml\n')).toMatchObject({ url: 'HTTPS://Wire.example/feed.xml' });
      expect(sourceOf('    url: HTTPS://Wire.example/feed.xml\n').credentials).toBeUndefined();
      // Malformed percent-encoding is taken as written; a URL that does not parse is left for its fetch to fail.
      expect(sourceOf('    url: https://wire:50%zz@wire.example/feed.xml\n').credentials?.headers).toEqual({ authorization: basic('wire:50%zz') });
      expect(sourceOf('    url: "http://"\n')).toMatchObject({ url: 'http://' });
    });

    it('names the line of every mistake', () => {
      delete process.env.WIREFEED_TEST_UNSET;
      process.env.WIREFEED_TEST_TWO_LINES = 'a\r\nInjected: yes';
      try {
        expect(
          problemsOf({
            'a.yml': [
              'sources:',
              '  - id: a',
              '    url: https://a.example/feed',
              `    password: \${WIREFEED_TEST_UNSET}`,
              '    headers:',
              '      Host: b.example',
              `      X-Key: \${WIREFEED_TEST_TWO_LINES}`,
              '      "Bad Name": x',
              '      X-Desk: 東京',
              '  - id: b',
              '    url: https://b.example/feed',
              '    username: me',
              '    headers: { authorization: Bearer x }',
              '  - id: c',
              '    url: file:c.xml',
              '    username: "me:you"',
              '',
            ].join('\n'),
          }),
        ).toEqual([
          // In the file's order, whichever check found them.
          'a.yml:4:15: sources[0].password: the environment variable WIREFEED_TEST_UNSET is not set',
          'a.yml:4:15: sources[0].password: needs a username beside it',
          'a.yml:6:13: sources[0].headers.Host: is set by Wirefeed itself',
          'a.yml:7:14: sources[0].headers.X-Key: must be one line a header can carry (no line breaks, control characters or characters beyond Latin-1)',
          'a.yml:8:19: sources[0].headers.Bad Name: expected a header name such as X-Api-Key',
          'a.yml:9:15: sources[0].headers.X-Desk: must be one line a header can carry (no line breaks, control characters or characters beyond Latin-1)',
          'a.yml:12:15: sources[1].username: and an Authorization header cannot both be given',
          'a.yml:15:10: sources[2].url: must be an http(s):// URL to send credentials or headers',
          'a.yml:16:15: sources[2].username: must be one line without ":"',
        ]);
      } finally {
        delete process.env.WIREFEED_TEST_TWO_LINES;
      }
      expect(problemsOf({ 'a.yml': 'sources:\n  - id: a\n    url: https://a.example/feed\n    password: x\n' })).toEqual([
        'a.yml:4:15: sources[0].password: needs a username beside it',
      ]);
    });
  });

  it("reads fullText as Readability's (true) or as the source's own rules, and names a selector it cannot match", () => {
    const source = (lines: string) =>
      loadConfig(writeConfigDir({ 'sources.yml': `sources:\n  - id: a\n    url: https://a.example/feed\n${lines}` })).sources[0]!;
    expect(source('    fullText: true\n').fullText).toEqual({});
    expect(source('    fullText: false\n').fullText).toBeUndefined();
    expect(source("    fullText:\n      select: 'article .body p'\n      remove: '.share, aside'\n").fullText).toEqual({
      select: 'article .body p',
      remove: '.share, aside',
    });
    expect(
      problemsOf({
        'a.yml': "sources:\n  - id: a\n    url: https://a.example/feed\n    fullText:\n      select: 'div['\n      remove: '::before'\n      wait: 2s\n",
      }),
    ).toEqual([
      'a.yml:5:15: sources[0].fullText.select: is not a CSS selector Wirefeed can match (Expected name, found )',
      'a.yml:6:15: sources[0].fullText.remove: is not a CSS selector Wirefeed can match (Pseudo-elements are not supported by css-select)',
      'a.yml:7:7: sources[0].fullText.wait: unknown key "wait"; allowed here: select, remove',
    ]);
  });

  it("reads a web page source's scrape rules, its time zone canonical, and names a selector, zone or key it cannot take", () => {
    const source = (lines: string) =>
      loadConfig(writeConfigDir({ 'sources.yml': `sources:\n  - id: a\n    url: https://a.example/news\n${lines}` })).sources[0]!;
    expect(source("    scrape:\n      items: 'ul.news-list > li'\n      date: .date\n      timeZone: asia/tokyo\n      dateOrder: day-first\n").scrape).toEqual(
      {
        items: 'ul.news-list > li',
        date: '.date',
        timeZone: 'Asia/Tokyo',
        dateOrder: 'day-first',
      },
    );
    expect(source('').scrape).toBeUndefined();
    expect(
      problemsOf({
        'a.yml':
          "sources:\n  - id: a\n    url: https://a.example/news\n    scrape:\n      title: h3\n      link: 'a['\n      timeZone: Tokyo\n      next: .pager\n",
      }),
    ).toEqual([
      'a.yml:5:7: sources[0].scrape.items: "items" is missing (string required)',
      'a.yml:6:13: sources[0].scrape.link: is not a CSS selector Wirefeed can match (Expected name, found )',
      'a.yml:7:17: sources[0].scrape.timeZone: expected a time zone such as Asia/Tokyo, Europe/London or UTC',
      'a.yml:8:7: sources[0].scrape.next: unknown key "next"; allowed here: format, items, title, link, date, summary, image, author, categories, timeZone, dateOrder',
    ]);
  });

  it('reads the rules of a JSON listing as dot paths, and names one it cannot follow', () => {
    const json = 'sources:\n  - id: nhk\n    url: https://news.example.jp/api/latest.json\n    scrape:\n      format: json\n      items: channel.item\n';
    expect(loadConfig(writeConfigDir({ 'sources.yml': `${json}      image: imgPath\n` })).sources[0]!.scrape).toEqual({
      format: 'json',
      items: 'channel.item',
      image: 'imgPath',
    });
    expect(problemsOf({ 'a.yml': `${json}      link: 'links..0'\n      format2: x\n` })).toEqual([
      'a.yml:7:13: sources[0].scrape.link: is not a dot path Wirefeed can follow (expected names joined by ".", such as data.items)',
      'a.yml:8:7: sources[0].scrape.format2: unknown key "format2"; did you mean "format"?',
    ]);
    // A dot path is read as a CSS selector where the format is not json.
    expect(problemsOf({ 'a.yml': json.replace('format: json', 'format: html').replace('channel.item', '$.channel') })).toEqual([
      expect.stringMatching(/^a\.yml:6:14: sources\[0\]\.scrape\.items: is not a CSS selector Wirefeed can match/),
    ]);
  });

  describe('topic webhooks', () => {
    const topicLines = (webhook: string) =>
      ['topics:', '  - slug: security', '    title: Security', '    query: defense', ...webhook.split('\n'), ''].join('\n');

    it('reads the URL and secret, with their environment references', () => {
      process.env.WIREFEED_TEST_HOOK_TOKEN = 'T0K3N';
      try {
        const config = loadConfig(
          writeConfigDir({
            'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org\n',
            'topics.yml': topicLines(
              `    webhook:\n      url: https://chat.example/hooks/\${WIREFEED_TEST_HOOK_TOKEN}\n      secret: whsec_\${WIREFEED_TEST_HOOK_TOKEN}\n` +
                `  - slug: alerts\n    title: Alerts\n    query: alert\n    webhook:\n      url: https://discord.example/api/webhooks/1/\${WIREFEED_TEST_HOOK_TOKEN}\n      format: discord\n` +
                `      headers:\n        Authorization: Bearer \${WIREFEED_TEST_HOOK_TOKEN}\n        X-Team: desk`,
            ),
          }),
        );
        expect(config.topics[0]!.webhooks).toEqual([{ name: '', url: 'https://chat.example/hooks/T0K3N', secret: 'whsec_T0K3N' }]);
        expect(config.topics[1]!.webhooks).toEqual([
          {
            name: '',
            url: 'https://discord.example/api/webhooks/1/T0K3N',
            format: 'discord',
            headers: { authorization: 'Bearer T0K3N', 'x-team': 'desk' },
          },
        ]);
      } finally {
        delete process.env.WIREFEED_TEST_HOOK_TOKEN;
      }
    });

    it('asks an ntfy webhook for the topic its URL must end with', () => {
      const publish = 'publish:\n  publicUrl: https://feeds.example.org\n';
      expect(problemsOf({ 'publish.yml': publish, 'topics.yml': topicLines('    webhook:\n      url: https://ntfy.sh/\n      format: ntfy') })).toEqual([
        'topics.yml:6:12: topics[0].webhook.url: must end with the ntfy topic: https://ntfy.sh/<topic>',
      ]);
      const config = loadConfig(
        writeConfigDir({
          'publish.yml': publish,
          'topics.yml': topicLines('    webhook:\n      url: https://ntfy.sh/wirefeed_security-1\n      format: ntfy'),
        }),
      );
      expect(config.topics[0]!.webhooks).toEqual([{ name: '', url: 'https://ntfy.sh/wirefeed_security-1', format: 'ntfy' }]);
    });

    it('reads a list of webhooks, and asks for names that tell them apart', () => {
      const publish = 'publish:\n  publicUrl: https://feeds.example.org\n';
      const config = loadConfig(
        writeConfigDir({
          'publish.yml': publish,
          'topics.yml': topicLines(
            '    webhook:\n      - url: https://hooks.example/archive\n      - name: desk-chat\n        url: https://chat.example/hook\n        format: slack',
          ),
        }),
      );
      expect(config.topics[0]!.webhooks).toEqual([
        { name: '', url: 'https://hooks.example/archive' },
        { name: 'desk-chat', url: 'https://chat.example/hook', format: 'slack' },
      ]);
      const list = (...webhooks: string[]) => topicLines(`    webhook:\n${webhooks.map((webhook) => `      - ${webhook}`).join('\n')}`);
      expect(problemsOf({ 'publish.yml': publish, 'topics.yml': list('url: https://a.example/1', 'url: https://a.example/2') })).toEqual([
        "topics.yml:7:9: topics[0].webhook[1]: needs a name: one of a topic's webhooks may go unnamed, not two",
      ]);
      expect(
        problemsOf({
          'publish.yml': publish,
          'topics.yml': list(
            '{ name: desk, url: https://a.example/1 }',
            '{ name: desk, url: https://a.example/2 }',
            '{ name: Desk Chat, url: https://a.example/3 }',
          ),
        }),
      ).toEqual([
        'topics.yml:7:17: topics[0].webhook[1].name: a second webhook named "desk"',
        'topics.yml:8:17: topics[0].webhook[2].name: must be 1-40 lower-case letters, digits and "-"',
      ]);
    });

    it('names the line of every mistake, and asks for publish.publicUrl in any file', () => {
      delete process.env.WIREFEED_TEST_UNSET;
      expect(
        problemsOf({ 'topics.yml': topicLines(`    webhook:\n      url: ftp://hooks.example/x\n      secret: \${WIREFEED_TEST_UNSET}\n      retries: 3`) }),
      ).toEqual([
        'topics.yml:6:12: topics[0].webhook.url: must be an absolute http(s) URL',
        'topics.yml:7:15: topics[0].webhook.secret: the environment variable WIREFEED_TEST_UNSET is not set',
        'topics.yml:8:7: topics[0].webhook.retries: unknown key "retries"; allowed here: name, url, secret, format, headers, proxy',
      ]);
      expect(
        problemsOf({
          'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org\n',
          'topics.yml': topicLines(
            '    webhook:\n      url: https://hooks.example/x\n      headers:\n        Content-Type: text/plain\n        Webhook-Signature: x\n        X-Ok: fine',
          ),
        }),
      ).toEqual([
        'topics.yml:8:23: topics[0].webhook.headers.Content-Type: is set by Wirefeed itself',
        'topics.yml:9:28: topics[0].webhook.headers.Webhook-Signature: is set by Wirefeed itself',
      ]);
      expect(
        problemsOf({
          'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org\n',
          'topics.yml': topicLines('    webhook:\n      url: https://hooks example/x'),
        }),
      ).toEqual(['topics.yml:6:12: topics[0].webhook.url: must be an absolute http(s) URL']);
      expect(problemsOf({ 'topics.yml': topicLines('    webhook:\n      url: https://hooks.example/x') })).toEqual([
        "topics.yml:5:5: topics[0].webhook: needs publish.publicUrl: a webhook's stories link to the topic's feeds and pages there",
      ]);
    });
  });

  it('takes worker.alerts as a webhook, through fetch.proxy unless it says, and names its line without publish.publicUrl', () => {
    const worker = 'worker:\n  alerts:\n    url: https://ntfy.example/wirefeed-ops\n    format: ntfy\n';
    expect(problemsOf({ 'worker.yml': worker })).toEqual(['worker.yml:2:3: worker.alerts: needs publish.publicUrl: an alert links to the sources page there']);
    const settings = (extra: string) =>
      loadConfig(
        writeConfigDir({
          'worker.yml': worker + extra,
          'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org/\nfetch:\n  proxy: http://proxy.example:3128\n',
        }),
      ).worker.alerts;
    expect(settings('')).toMatchObject({ url: 'https://ntfy.example/wirefeed-ops', format: 'ntfy', proxy: { host: 'proxy.example', port: 3128 } });
    expect(settings('    proxy: false\n')!.proxy).toBeUndefined();
    expect(
      problemsOf({ 'worker.yml': 'worker:\n  alerts:\n    url: ftp://ops.example/x\n', 'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org/\n' }),
    ).toEqual(['worker.yml:3:10: worker.alerts.url: must be an absolute http(s) URL']);
  });

  it('takes fetch.websub with publish.publicUrl (from any file), and names its line without', () => {
    expect(problemsOf({ 'fetch.yml': 'fetch:\n  every: 10m\n  websub: true\n' })).toEqual([
      'fetch.yml:3:3: fetch.websub: needs publish.publicUrl: a hub pushes to a callback URL there',
    ]);
    const dir = writeConfigDir({ 'fetch.yml': 'fetch:\n  websub: true\n', 'publish.yml': 'publish:\n  publicUrl: https://feeds.example.org/\n' });
    expect(loadConfig(dir).fetch.websub).toBe(true);
    expect(problemsOf({ 'fetch.yml': 'fetch:\n  websub: yes please\n' })).toHaveLength(1);
  });

  it('rejects an allowPrivateNetwork entry that is not an address or range', () => {
    expect(problemsOf({ 'sources.yml': 'sources:\n  - id: a\n    url: http://x.example/\n    allowPrivateNetwork: [intranet, 10.0.0.0/33]\n' })).toEqual([
      'sources.yml:4:27: sources[0].allowPrivateNetwork[0]: expected an IP address or CIDR range',
      'sources.yml:4:37: sources[0].allowPrivateNetwork[1]: expected an IP address or CIDR range',
    ]);
  });

  it('reads topic options: exclude, sources, language, limit, backfill', () => {
    const dir = writeConfigDir({
      'topics.yml': `topics:
  - slug: jp
    title: Japan
    query: japan
    exclude: economy
    sources: [wire, nhk]
    language: EN
    limit: 20
    backfill: 7d
`,
    });
    expect(loadConfig(dir).topics[0]).toEqual({
      slug: 'jp',
      title: 'Japan',
      query: 'japan',
      exclude: 'economy',
      sources: ['wire', 'nhk'],
      language: ['en'],
      limit: 20,
      backfillDays: 7,
    });
  });

  it('checks an exclude query like the main one', () => {
    expect(problemsOf({ 'topics.yml': `topics:\n  - slug: t\n    title: T\n    query: japan\n    exclude: '(economy'\n` })).toEqual([
      'topics.yml:5:15: topics[0].exclude: query: missing ")" for "(" opened at column 1',
    ]);
  });

  it('refuses a regex RE2 cannot run in linear time, at the file, line and column of the pattern', () => {
    expect(problemsOf({ 'topics.yml': `topics:\n  - slug: t\n    title: T\n    query: 'japan /(?<=kishida )fumio/'\n` })).toEqual([
      'topics.yml:4:19: topics[0].query: query: invalid regular expression: lookbehind (?<= is not supported (patterns run in linear time, without lookaround or backreferences) at column 7',
    ]);
  });

  it('reads fetch limits, with defaults for what is left out', () => {
    const dir = writeConfigDir({ 'settings.yml': 'fetch:\n  timeout: 30s\n  maxSize: 2MiB\n  perHost: 4\n', 'sources.yml': SOURCES });
    expect(loadConfig(dir).fetch).toEqual({
      timeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      maxBytes: 2 * 1024 * 1024,
      maxRedirects: 5,
      perHost: 4,
      concurrency: 8,
      maxItems: 1000,
      maxItemChars: 256 * 1024,
      every: 900,
      websub: false,
    });
  });

  it('reports a bad fetch limit and a second fetch block', () => {
    expect(problemsOf({ 'a.yml': 'fetch:\n  maxSize: lots\n' })).toEqual([
      'a.yml:2:12: fetch.maxSize: expected a size such as 15MiB, 512KiB or a number of bytes',
    ]);
    expect(problemsOf({ 'a.yml': 'fetch:\n  perHost: 3\n', 'b.yml': 'fetch:\n  perHost: 4\n' })).toEqual([
      expect.stringMatching(/^b\.yml:1:1: fetch: a second fetch block \(the first is in .*a\.yml\)$/),
    ]);
  });

  it("reads the digests' time zone, canonical, and reports one the runtime does not know at its line", () => {
    expect(loadConfig(writeConfigDir({ 'sources.yml': SOURCES })).publish.timeZone).toBe('UTC');
    const dir = writeConfigDir({
      'publish.yml': 'publish:\n  timeZone: europe/london\n',
      'sources.yml': SOURCES,
      'topics.yml':
        'topics:\n  - slug: tokyo\n    title: Tokyo desk\n    query: japan\n    timeZone: Asia/Tokyo\n  - slug: plain\n    title: Plain\n    query: japan\n',
    });
    const config = loadConfig(dir);
    expect(config.publish.timeZone).toBe('Europe/London');
    expect(config.topics.map((topic) => topic.timeZone)).toEqual(['Asia/Tokyo', undefined]);
    expect(
      problemsOf({
        'a.yml': 'publish:\n  timeZone: Mars/Olympus\n',
        'b.yml': "topics:\n  - slug: t\n    title: T\n    query: japan\n    timeZone: '+09:00'\n",
      }),
    ).toEqual([
      'a.yml:2:13: publish.timeZone: expected a time zone such as Asia/Tokyo, Europe/London or UTC',
      'b.yml:5:15: topics[0].timeZone: expected a time zone such as Asia/Tokyo, Europe/London or UTC',
    ]);
  });

  it('reads the hour digests are read at, as minutes after midnight, and reports a time that is not one at its line', () => {
    expect(loadConfig(writeConfigDir({ 'sources.yml': SOURCES })).publish.digestAtMinutes).toBe(0);
    const config = loadConfig(
      writeConfigDir({
        'publish.yml': "publish:\n  digestAt: '06:30'\n",
        'sources.yml': SOURCES,
        'topics.yml':
          "topics:\n  - slug: evening\n    title: Evening\n    query: japan\n    digestAt: '18:00'\n  - slug: plain\n    title: Plain\n    query: japan\n",
      }),
    );
    expect(config.publish.digestAtMinutes).toBe(390);
    expect(config.topics.map((topic) => topic.digestAtMinutes)).toEqual([1_080, undefined]);
    expect(
      problemsOf({ 'a.yml': "publish:\n  digestAt: '24:00'\n", 'b.yml': 'topics:\n  - slug: t\n    title: T\n    query: japan\n    digestAt: 6am\n' }),
    ).toEqual([
      'a.yml:2:13: publish.digestAt: expected a time of day such as 06:00 (24-hour clock)',
      'b.yml:5:15: topics[0].digestAt: expected a time of day such as 06:00 (24-hour clock)',
    ]);
  });

  it('reads the access token from the environment, and refuses a short one, one with spaces, and one beside a hub', () => {
    process.env.WIREFEED_TEST_TOKEN = '0123456789abcdef0123';
    try {
      const dir = writeConfigDir({ 'publish.yml': `publish:\n  token: \${WIREFEED_TEST_TOKEN}\n`, 'sources.yml': SOURCES });
      expect(loadConfig(dir).publish.tokens).toEqual(['0123456789abcdef0123']);
      expect(loadConfig(writeConfigDir({ 'sources.yml': SOURCES })).publish.tokens).toEqual([]);
      const readers = writeConfigDir({
        'publish.yml': `publish:\n  token:\n    - \${WIREFEED_TEST_TOKEN}\n    - tokyo-desk-reader-0001\n`,
        'sources.yml': SOURCES,
      });
      expect(loadConfig(readers).publish.tokens).toEqual(['0123456789abcdef0123', 'tokyo-desk-reader-0001']);
      expect(problemsOf({ 'a.yml': 'publish:\n  token: [tokyo-desk-reader-0001, short]\n' })).toEqual([
        'a.yml:2:35: publish.token[1]: must be at least 16 characters (a random one: openssl rand -hex 16)',
      ]);
      expect(problemsOf({ 'a.yml': 'publish:\n  token: short\n' })).toEqual([
        'a.yml:2:10: publish.token: must be at least 16 characters (a random one: openssl rand -hex 16)',
      ]);
      expect(problemsOf({ 'a.yml': "publish:\n  token: 'a token with spaces in it'\n" })).toEqual([
        'a.yml:2:10: publish.token: must be printable ASCII without spaces (it goes into URLs and headers)',
      ]);
      expect(
        problemsOf({ 'a.yml': `publish:\n  token: \${WIREFEED_TEST_TOKEN}\n  hub: https://hub.example.org/\n  publicUrl: https://feeds.example.org\n` }),
      ).toEqual(['a.yml:3:8: publish.hub: cannot be used with token: a WebSub hub fetches the feeds without it']);
    } finally {
      delete process.env.WIREFEED_TEST_TOKEN;
    }
  });

  it("reads a topic's own tokens, and refuses a short one, and any beside a hub, at their lines", () => {
    process.env.WIREFEED_TEST_TOKEN = '0123456789abcdef0123';
    const topic = (token: string) => `topics:\n  - slug: partner\n    title: Partner\n    query: japan\n    token: ${token}\n`;
    try {
      const topics = (token: string) => loadConfig(writeConfigDir({ 'sources.yml': SOURCES, 'topics.yml': topic(token) })).topics;
      expect(topics(`\${WIREFEED_TEST_TOKEN}`)[0]!.tokens).toEqual(['0123456789abcdef0123']);
      expect(topics(`[osaka-partner-desk-01, '\${WIREFEED_TEST_TOKEN}']`)[0]!.tokens).toEqual(['osaka-partner-desk-01', '0123456789abcdef0123']);
      expect(problemsOf({ 'a.yml': topic('short') })).toEqual([
        'a.yml:5:12: topics[0].token: must be at least 16 characters (a random one: openssl rand -hex 16)',
      ]);
      expect(problemsOf({ 'a.yml': topic('osaka-partner-desk-01'), 'b.yml': 'publish:\n  hub: https://hub.example.org/\n' })).toEqual([
        'a.yml:5:5: topics[0].token: cannot be used with publish.hub: a WebSub hub fetches the feeds without it',
      ]);
    } finally {
      delete process.env.WIREFEED_TEST_TOKEN;
    }
  });

  it('reads worker settings, with defaults for what is left out', () => {
    expect(loadConfig(writeConfigDir({ 'sources.yml': SOURCES })).worker).toEqual({
      tick: '*/30 * * * * *',
      leaseSeconds: 20,
      batch: 100,
      minIntervalSeconds: 60,
    });
    const dir = writeConfigDir({ 'worker.yml': "worker:\n  tick: '*/5 * * * * *'\n  lease: 1m\n  minInterval: 10s\n", 'sources.yml': SOURCES });
    expect(loadConfig(dir).worker).toEqual({ tick: '*/5 * * * * *', leaseSeconds: 60, batch: 100, minIntervalSeconds: 10 });
  });

  it('reports a bad worker setting at its line', () => {
    expect(problemsOf({ 'a.yml': 'worker:\n  tick: every minute\n  lease: 0s\n' })).toEqual([
      'a.yml:2:9: worker.tick: expected a cron expression such as "*/30 * * * * *"',
      'a.yml:3:10: worker.lease: must be longer than 0s',
    ]);
  });

  it('reads retention settings, with defaults for what is left out', () => {
    expect(loadConfig(writeConfigDir({ 'sources.yml': SOURCES })).retention).toEqual({
      fetchLogSeconds: 30 * 86_400,
      clusteringSeconds: 30 * 86_400,
      itemsSeconds: 180 * 86_400,
      keepPerSource: 50,
      archivedKeysSeconds: null,
    });
    expect(problemsOf({ 'store.yml': 'retention:\n  archivedKeys: 2y\n' })).toEqual([
      'store.yml:2:17: retention.archivedKeys: expected a duration such as 365d, or never',
    ]);
    const keys = writeConfigDir({ 'store.yml': 'retention:\n  fetchLog: 7d\n  keepPerSource: 0\n  archivedKeys: 730d\n', 'sources.yml': SOURCES });
    expect(loadConfig(keys).retention).toEqual({
      fetchLogSeconds: 7 * 86_400,
      clusteringSeconds: 30 * 86_400,
      itemsSeconds: 180 * 86_400,
      keepPerSource: 0,
      archivedKeysSeconds: 730 * 86_400,
    });
    const kept = (items: string) =>
      loadConfig(writeConfigDir({ 'store.yml': `retention:\n  items: ${items}\n`, 'sources.yml': SOURCES })).retention.itemsSeconds;
    expect(kept('never')).toBeNull();
    expect(kept('90d')).toBe(90 * 86_400);
  });

  it("reads a source's own retention, which may not end before retention.clustering's, set in any file", () => {
    const sources = `sources:
  - id: wire
    url: https://wire.example/rss
    retention: { items: 30d, keepPerSource: 500 }
  - id: archive
    url: https://archive.example/rss
    retention:
      items: never
  - id: slow
    url: https://slow.example/rss
    retention: { keepPerSource: 0 }
`;
    expect(loadConfig(writeConfigDir({ 'sources.yml': sources })).retention.sources).toEqual([
      { sourceId: 'wire', itemsSeconds: 30 * 86_400, keepPerSource: 500 },
      { sourceId: 'archive', itemsSeconds: null },
      { sourceId: 'slow', keepPerSource: 0 },
    ]);
    expect(problemsOf({ 'sources.yml': sources, 'store.yml': 'retention:\n  clustering: 45d\n' })).toEqual([
      'sources.yml:4:25: sources[0].retention.items: must not be shorter than retention.clustering (45d): stories would be archived from under their candidates',
    ]);
    expect(problemsOf({ 'sources.yml': sources.replace('items: 30d', 'items: 2d').replace('keepPerSource: 500', 'keep: 5') })).toEqual([
      'sources.yml:4:25: sources[0].retention.items: must be at least 3d: a new item is compared with items up to 48 hours older than it',
      'sources.yml:4:29: sources[0].retention.keep: unknown key "keep"; allowed here: items, keepPerSource',
    ]);
  });

  it("reads a source's quietAfter: a duration, or never", () => {
    const sources = (after: string) => ({ 'sources.yml': `sources:\n  - id: desk\n    url: https://desk.example/rss\n    quietAfter: ${after}\n` });
    const quietAfter = (after: string) => loadConfig(writeConfigDir(sources(after))).sources[0]!.quietAfter;
    expect(quietAfter('2d')).toBe(2 * 86_400);
    expect(quietAfter('1d12h')).toBe(36 * 3600);
    expect(quietAfter('never')).toBe('never');
    expect(loadConfig(writeConfigDir({ 'sources.yml': 'sources:\n  - id: desk\n    url: https://desk.example/rss\n' })).sources[0]!.quietAfter).toBeUndefined();
    expect(problemsOf(sources('a while'))).toEqual(['sources.yml:4:17: sources[0].quietAfter: expected a duration such as 365d, or never']);
    expect(problemsOf(sources('0s'))).toEqual(['sources.yml:4:17: sources[0].quietAfter: must be longer than 0s']);
  });

  it('reports a retention too short for clustering, and a second retention block', () => {
    expect(problemsOf({ 'a.yml': 'retention:\n  fetchLog: 0s\n  clustering: 2d\n' })).toEqual([
      'a.yml:2:13: retention.fetchLog: must be longer than 0s',
      'a.yml:3:15: retention.clustering: must be at least 3d: a new item is compared with items up to 48 hours older than it',
    ]);
    expect(problemsOf({ 'a.yml': 'retention:\n  items: 1d\n' })).toEqual([
      'a.yml:2:10: retention.items: must be at least 3d: a new item is compared with items up to 48 hours older than it',
    ]);
    // More digits than a duration reads (parseDuration's bound) are refused, not read as no retention at all.
    expect(problemsOf({ 'a.yml': 'retention:\n  items: 99999999999d\n' })).toEqual([
      'a.yml:2:10: retention.items: expected a duration such as 90d or 365d, or never',
    ]);
    expect(problemsOf({ 'a.yml': 'retention:\n  items: forever\n  keepPerSource: -1\n' })).toEqual([
      'a.yml:2:10: retention.items: expected a duration such as 90d or 365d, or never',
      'a.yml:3:18: retention.keepPerSource: Too small: expected number to be >=0',
    ]);
    expect(problemsOf({ 'a.yml': 'retention:\n  clustering: 200d\n' })).toEqual([
      'a.yml:2:15: retention.clustering: must not be longer than retention.items (180d, the default): stories are archived from under their candidates',
    ]);
    expect(problemsOf({ 'a.yml': 'retention:\n  items: 60d\n  clustering: 90d\n' })).toEqual([
      'a.yml:3:15: retention.clustering: must not be longer than retention.items (60d): stories are archived from under their candidates',
    ]);
    const forever = writeConfigDir({ 'store.yml': 'retention:\n  items: never\n  clustering: 400d\n', 'sources.yml': SOURCES });
    expect(loadConfig(forever).retention.clusteringSeconds).toBe(400 * 86_400);
    expect(problemsOf({ 'a.yml': 'retention:\n  clustering: 3d\n', 'b.yml': 'retention:\n  fetchLog: 1d\n' })).toEqual([
      expect.stringMatching(/^b\.yml:1:1: retention: a second retention block \(the first is in .*a\.yml\)$/),
    ]);
  });

  it('resolves file: URLs against the folder of the YAML file', () => {
    const dir = writeConfigDir({ 'sources.yml': 'sources:\n  - id: local\n    url: file:../seeds/a.xml\n' });
    expect(loadConfig(dir).sources[0]!.url).toBe(new URL('../seeds/a.xml', pathToFileURL(join(dir, 'sources.yml'))).href);
  });

  it.each([
    [
      'a bad query, pointing at the column inside the quoted query',
      { 'topics.yml': `topics:\n  - slug: t\n    title: T\n    query: 'japan AND (defense OR'\n` },
      [`topics.yml:4:34: topics[0].query: query: unexpected end of query at column 22`],
    ],
    [
      "a bad query in a source's keep rule, at its column",
      { 'sources.yml': `sources:\n  - id: a\n    url: https://a.example/feed\n    keep: 'title:(japan OR'\n` },
      [`sources.yml:4:27: sources[0].keep: query: unexpected end of query at column 16`],
    ],
    [
      'an unexpected closing parenthesis',
      { 'topics.yml': `topics:\n  - slug: t\n    title: T\n    query: japan AND defense)\n` },
      [`topics.yml:4:29: topics[0].query: query: unexpected ")" at column 18`],
    ],
    [
      'a missing required key, at its parent',
      { 'topics.yml': `topics:\n  - slug: t\n    query: japan\n` },
      [`topics.yml:2:5: topics[0].title: "title" is missing (string required)`],
    ],
    [
      'a bad source id and URL scheme',
      { 'sources.yml': `sources:\n  - id: Arab News\n    url: ftp://example.org/feed\n` },
      [`sources.yml:2:9: sources[0].id: must be lower-case letters, digits and "-"`, `sources.yml:3:10: sources[0].url: must be an http(s):// or file: URL`],
    ],
    [
      'an unknown key',
      { 'sources.yml': `sources:\n  - id: a\n    url: https://example.org/feed\n    intervall: 5m\n` },
      [
        `sources.yml:4:5: sources[0].intervall: unknown key "intervall"; allowed here: id, url, title, every, priority, tags, shortUrlHosts, allowPrivateNetwork, fullText, scrape, keep, exclude, username, password, headers, proxy, paused, quietAfter, retention`,
      ],
    ],
    [
      'a misspelt key, with a suggestion',
      { 'topics.yml': `topics:\n  - slug: t\n    titel: T\n    query: japan\n` },
      [`topics.yml:2:5: topics[0].title: "title" is missing (string required)`, `topics.yml:3:5: topics[0].titel: unknown key "titel"; did you mean "title"?`],
    ],
    [
      'two misspelt keys, each with its suggestion',
      { 'sources.yml': `sources:\n  - id: a\n    url: https://example.org/feed\n    evry: 5m\n    tilte: A\n` },
      [
        `sources.yml:4:5: sources[0].evry: unknown key "evry"; did you mean "every"?`,
        `sources.yml:5:5: sources[0].tilte: unknown key "tilte"; did you mean "title"?`,
      ],
    ],
    ['a misspelt top-level block', { 'settings.yml': `fetsh:\n  timeout: 10s\n` }, [`settings.yml:1:1: fetsh: unknown key "fetsh"; did you mean "fetch"?`]],
    [
      'a bad duration',
      { 'sources.yml': `sources:\n  - id: a\n    url: https://example.org/feed\n    every: often\n` },
      [`sources.yml:4:12: sources[0].every: expected a duration such as 30s, 15m, 1h or 1d, or auto`],
    ],
    [
      'a YAML syntax error',
      { 'sources.yml': `sources:\n  - id: a\n   url: [unclosed\n` },
      [`sources.yml:3:1: : Sequence item without - indicator`, expect.stringMatching(/^sources\.yml:4:1: : /)],
    ],
  ])('reports %s with file:line:column', (_name, files, expected) => {
    expect(problemsOf(files)).toEqual(expected);
  });

  it('reports a duplicate source id across files at the second occurrence', () => {
    const problems = problemsOf({ 'a.yml': SOURCES, 'b.yml': SOURCES });
    expect(problems).toEqual([expect.stringMatching(/^b\.yml:2:9: sources\[0\]\.id: duplicate source id "arabnews-japan" \(first in .*a\.yml\)$/)]);
  });

  it('lists every problem of every file at once', () => {
    const problems = problemsOf({
      'a.yml': `sources:\n  - id: ok\n    url: nope\n`,
      'b.yml': `topics:\n  - slug: x\n    title: X\n    query: '('\n`,
    });
    expect(problems).toHaveLength(2);
  });

  it('formats the message as file:line:column: path: message', () => {
    const dir = writeConfigDir({ 'topics.yml': `topics:\n  - slug: t\n    title: T\n    query: '"open phrase'\n` });
    expect(() => loadConfig(dir)).toThrow(/topics\.yml:4:13: topics\[0\]\.query: query: unterminated phrase \(missing closing "\) at column 1$/);
  });

  it('fails clearly when the folder does not exist', () => {
    expect(() => loadConfig('/nonexistent/wirefeed')).toThrow(/config folder not found/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h30m', 5400],
    ['2d', 172800],
    ['15', undefined],
    ['1w', undefined],
    ['', undefined],
  ])('%s -> %s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each([
    [900, '15m'],
    [90, '90s'],
    [5400, '90m'],
    [7200, '2h'],
    [30 * 86_400, '30d'],
  ])('formatDuration(%s) -> %s, read back as it', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });
});
