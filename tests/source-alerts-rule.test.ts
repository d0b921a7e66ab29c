/** Source alerts: which changes in sources' health call for one, and how each format says them. */
import { describe, expect, it } from 'vitest';
import { ALERT_AFTER_ERRORS, type AlertRow, alertChanges, droppedAlert, sourceAlert } from '../src/model/alerts.js';
import type { TopicWebhook } from '../src/model/topic.js';
import { alertsBody } from '../src/publish/webhook.js';

const FETCHED = new Date('2024-06-02T09:00:00Z');
const row = (id: string, fields: Partial<AlertRow> = {}): AlertRow => ({
  id,
  title: null,
  lastFetchedAt: FETCHED,
  errorCount: 0,
  goneAt: null,
  lastError: null,
  alerted: null,
  ...fields,
});
const QUIET = { newest: new Date('2024-05-24T09:00:00Z'), silentSeconds: 9 * 86_400, limitSeconds: 6 * 3600, longestGapSeconds: 7200 };

describe('which changes call for an alert', () => {
  it.each([
    ['ok, as it was', row('a'), undefined],
    ['never fetched', row('a', { lastFetchedAt: null, errorCount: 5 }), undefined],
    ['failing fewer times than the threshold', row('a', { errorCount: ALERT_AFTER_ERRORS - 1, lastError: 'HTTP 503' }), undefined],
    ['failing', row('a', { errorCount: ALERT_AFTER_ERRORS, lastError: 'HTTP 503' }), ['failing', 'Failing: HTTP 503 (3 errors in a row)']],
    ['failing, already said', row('a', { errorCount: 9, lastError: 'HTTP 503', alerted: 'failing' }), undefined],
    ['quiet', row('a', { quiet: QUIET }), ['quiet', 'Quiet: nothing new for 9 d (its longest gap in 30 days: 2 h)']],
    ['gone', row('a', { goneAt: FETCHED, errorCount: 1 }), ['gone', 'Gone (410): not fetched again until its URL changes']],
    ['back from failing', row('a', { alerted: 'failing' }), ['recovered', 'Back: fetched without error']],
    ['back from quiet', row('a', { alerted: 'quiet' }), ['recovered', 'Back: new items again']],
    // Failing a little says nothing either way: a quiet source that timed out once is neither back nor failing.
    ['quiet, then failing once', row('a', { alerted: 'quiet', errorCount: 1, lastError: 'timeout' }), undefined],
    ['failing, then failing less', row('a', { alerted: 'failing', errorCount: 1, lastError: 'timeout' }), undefined],
    ['quiet, then failing for real', row('a', { alerted: 'quiet', errorCount: 3, lastError: 'timeout' }), ['failing', 'Failing: timeout (3 errors in a row)']],
  ])('%s', (_name, source, expected) => {
    const [alert, ...rest] = alertChanges([source]);
    expect(rest).toEqual([]);
    expect(alert === undefined ? undefined : [alert.kind, alert.text]).toEqual(expected);
  });

  it('names a source by its title and id, and says what it goes from and to', () => {
    expect(alertChanges([row('jiji', { title: 'JIJI Press', alerted: 'quiet', errorCount: 4, lastError: 'HTTP 500' })])).toEqual([
      { sourceId: 'jiji', name: 'JIJI Press (jiji)', kind: 'failing', from: 'quiet', to: 'failing', text: 'Failing: HTTP 500 (4 errors in a row)' },
    ]);
  });
});

describe('how each format says them', () => {
  const at = new Date('2024-06-02T09:30:00Z');
  // An error text comes from the outside (a server's reason phrase, a TLS message): it must not mention, link or format.
  const alerts = alertChanges([
    row('jiji', { title: 'JIJI Press', errorCount: 3, lastError: 'HTTP 500 <!channel> @everyone **down** [x](https://evil.example)' }),
    row('pacific-wire', { quiet: QUIET }),
  ]).map((alert) => sourceAlert('https://feeds.example.org', alert));
  const webhook = (format: TopicWebhook['format']): TopicWebhook => ({ name: '', url: 'https://ntfy.example/wirefeed-ops', format });

  it('a JSON Feed of the changes, each linking its row on the sources page', () => {
    const feed = JSON.parse(alertsBody('https://feeds.example.org', webhook('jsonfeed'), alerts, at).body);
    expect(feed._wirefeed).toMatchObject({ event: 'source_alerts' });
    expect(feed.title).toBe('Wirefeed alerts');
    expect(feed.items.map((item: { title: string; url: string; authors: Array<{ name: string }> }) => [item.title, item.url, item.authors[0]!.name])).toEqual([
      [
        'Failing: HTTP 500 <!channel> @everyone **down** [x](https://evil.example) (3 errors in a row)',
        'https://feeds.example.org/sources#source-jiji',
        'JIJI Press (jiji)',
      ],
      ['Quiet: nothing new for 9 d (its longest gap in 30 days: 2 h)', 'https://feeds.example.org/sources#source-pacific-wire', 'pacific-wire'],
    ]);
  });

  it('Slack and Discord: a count of the sources changed, and the error text unable to mention or link', () => {
    const slack = JSON.parse(alertsBody('https://feeds.example.org', webhook('slack'), alerts, at).body).text.split('\n');
    expect(slack[0]).toBe('*<https://feeds.example.org/sources|Wirefeed alerts>*: 2 alerts');
    expect(slack[1]).toBe(
      '• <https://feeds.example.org/sources#source-jiji|Failing: HTTP 500 &lt;!channel&gt; @everyone **down** [x](https://evil.example) (3 errors in a row)> — JIJI Press (jiji)',
    );
    const discord = JSON.parse(alertsBody('https://feeds.example.org', webhook('discord'), alerts, at).body);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.content).toContain('Failing\\: HTTP 500 \\<!channel\\> \\@everyone \\*\\*down\\*\\* \\[x\\]\\(https\\://evil.example\\)');
  });

  it("a topic webhook's dropped stories, linking the topic's page", () => {
    const dropped = droppedAlert('https://feeds.example.org/topics/security.html', { slug: 'security', title: 'Japan–US security' }, 'desk', 12, 'HTTP 502');
    const [item] = JSON.parse(alertsBody('https://feeds.example.org', webhook('jsonfeed'), [dropped], at).body).items;
    expect([item.title, item.url, item.authors[0].name]).toEqual([
      'Dropped 12 stories it could not deliver for a day: HTTP 502',
      'https://feeds.example.org/topics/security.html',
      'Japan–US security (security), webhook desk',
    ]);
  });

  it('ntfy: to the server root for the topic, the sources page on tap', () => {
    const message = alertsBody('https://feeds.example.org', webhook('ntfy'), alerts.slice(1), at);
    expect(message.url).toBe('https://ntfy.example/');
    expect(JSON.parse(message.body)).toMatchObject({
      topic: 'wirefeed-ops',
      title: 'Wirefeed alerts: 1 alert',
      message: '• Quiet: nothing new for 9 d (its longest gap in 30 days: 2 h) — pacific-wire',
    });
  });
});
