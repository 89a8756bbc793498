// Group commit in the intake service: many webhooks at once are written in shared batches, and
// every one still gets its own, correct answer (SPEC §3 rules 8-9, debounce).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createIntakeService } from '../../src/conversations/intake-service.js';
import { createHttpApp } from '../../src/http/app.js';
import { createWebhookRouter } from '../../src/http/routes/webhook-routes.js';
import { buildTestDeps } from '../support/test-deps.js';
import type { TestDatabase } from '../support/test-database.js';
import { textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';
import { createPgListener } from '../../src/shared/pg-listener.js';
import { createWakeNotifier, INBOX_CHANNEL } from '../../src/shared/wake-channels.js';

describe('webhook intake under concurrency (group commit)', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let server: Server;
  let url: string;

  before(async () => {
    deps = await buildTestDeps({ DEBOUNCE_TIME: '2000' });
    const app = createHttpApp(deps, [createWebhookRouter({ ...deps, intake: createIntakeService(deps) })]);
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await deps.testDb.drop();
  });

  const post = async (payload: unknown) => {
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as { status?: string; errors?: string[] } };
  };
  /** Per contact with waiting messages: how many, and when the contact is due (its newest window). */
  const inboxOf = async (contactIds: number[]) =>
    (
      await deps.db.raw(
        `SELECT contact_id::int AS contact_id, count(*)::int AS n, max(due_at) AS due_at FROM message_history
         WHERE status = 'received' AND contact_id = ANY(?::bigint[]) GROUP BY contact_id`,
        [contactIds],
      )
    ).rows as Array<{ contact_id: number; n: number; due_at: Date }>;

  it('answers 200 concurrent webhooks with repeated ids and contacts correctly', async () => {
    const contacts = Array.from({ length: 20 }, (_, index) => 710_000 + index);
    // An id stored before the burst: every copy of it in the burst is a duplicate.
    const earlier = textMessage({ contactId: contacts[0]! }, 'antes');
    expect((await post(earlier)).body).to.deep.equal({ status: 'queued' });

    const distinct = Array.from({ length: 150 }, (_, index) =>
      textMessage({ contactId: contacts[index % contacts.length]! }, `mensagem ${index}`),
    );
    const burst = [...distinct];
    for (let index = 0; index < 45; index += 1) burst.push(distinct[(index * 7) % distinct.length]);
    for (let index = 0; index < 5; index += 1) burst.push(earlier);
    // Shuffled deterministically so copies land in the same batch and in different ones.
    burst.sort((a, b) => ((a.data.body.length * 31 + Number(a.data.id.at(-1) ?? 0)) % 7) - ((b.data.body.length * 31 + Number(b.data.id.at(-1) ?? 0)) % 7));
    expect(burst).to.have.length(200);

    const answers = await Promise.all(burst.map((payload) => post(payload)));

    const queuedPerId = new Map<string, number>();
    answers.forEach((response, index) => {
      expect(response.status).to.equal(200);
      expect(response.body.status).to.be.oneOf(['queued', 'duplicate']);
      const id = burst[index].data.id as string;
      if (response.body.status === 'queued') queuedPerId.set(id, (queuedPerId.get(id) ?? 0) + 1);
    });
    // Exactly one "queued" per new id, none for the id seen before.
    expect(queuedPerId.size).to.equal(150);
    expect([...queuedPerId.values()].every((n) => n === 1)).to.equal(true);
    expect(queuedPerId.has(earlier.data.id)).to.equal(false);

    // Every accepted row stored once, with its own text.
    const rows = await deps.db('message_history').whereIn('contact_id', contacts).select('gosac_message_id', 'body');
    expect(rows).to.have.length(151);
    const bodyOf = new Map(rows.map((row: { gosac_message_id: string; body: string }) => [row.gosac_message_id, row.body]));
    for (const payload of distinct) expect(bodyOf.get(payload.data.id)).to.equal(payload.data.body);

    // Every contact waits in the inbox with its own messages.
    const inbox = await inboxOf(contacts);
    expect(inbox.map((row) => row.contact_id)).to.have.members(contacts);
    expect(inbox.reduce((sum, row) => sum + row.n, 0)).to.equal(151);
  });

  it('stores every message of a burst from one contact', async () => {
    const contactId = 720_001;
    const messages = Array.from({ length: 30 }, (_, index) => textMessage({ contactId }, `parte ${index}`));
    const answers = await Promise.all(messages.map((payload) => post(payload)));
    expect(answers.every((response) => response.body.status === 'queued')).to.equal(true);
    const stored = await deps.db('message_history').where({ contact_id: contactId }).orderBy('id').pluck('body');
    expect(stored).to.have.members(messages.map((payload) => payload.data.body));
    expect((await inboxOf([contactId]))[0]?.n).to.equal(30);
  });

  it('stores the messages of one batch in the order they reached it (the inbox is read in id order)', async () => {
    const intake = createIntakeService(deps);
    const contactId = 720_004;
    const messages = Array.from({ length: 40 }, (_, index) => textMessage({ contactId }, `parte ${index}`));
    const answers = await Promise.all(messages.map((payload) => intake.receive(payload)));
    expect(answers.every((answer) => (answer.body as { status: string }).status === 'queued')).to.equal(true);
    const stored = await deps.db('message_history').where({ contact_id: contactId }).orderBy('id').pluck('body');
    expect(stored).to.deep.equal(messages.map((payload) => payload.data.body));
  });

  it('answers exactly one "queued" for ids that PostgreSQL stores as the same text (lone surrogates)', async () => {
    const contactId = 720_005;
    // Sent as UTF-8, each of these becomes "\ufffd": one id to the database.
    const ids = ['\ud800', '\udc00', '\ud800', '\ufffd'];
    const answers = await Promise.all(
      ids.map((id) => {
        const payload = textMessage({ contactId }, `id ${JSON.stringify(id)}`);
        payload.data.id = id;
        return post(payload);
      }),
    );
    const statuses = answers.map((response) => response.body.status);
    expect(statuses.filter((status) => status === 'queued')).to.have.length(1);
    expect(statuses.filter((status) => status === 'duplicate')).to.have.length(3);
    expect(await deps.db('message_history').where({ contact_id: contactId })).to.have.length(1);
  });

  it('pushes the contact\'s due time to now + DEBOUNCE_TIME with each new message', async () => {
    const contactId = 720_002;
    await post(textMessage({ contactId }, 'um'));
    const [first] = await inboxOf([contactId]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await post(textMessage({ contactId }, 'dois'));
    const [second] = await inboxOf([contactId]);
    expect(second!.n).to.equal(2);
    expect(second!.due_at.getTime() - first!.due_at.getTime()).to.be.within(250, 1_000);
    const seconds = (await deps.db.raw(
      "SELECT extract(epoch from max(due_at) - now()) AS s FROM message_history WHERE contact_id = ? AND status = 'received'",
      [contactId],
    )).rows[0].s;
    expect(Number(seconds)).to.be.within(1.5, 2.1);
  });

  it('tells the step engine once per batch that stored something, never for a duplicate', async () => {
    let told = 0;
    const intake = createIntakeService({ ...deps, onQueued: () => (told += 1) });
    const contactId = 720_003;
    const first = textMessage({ contactId }, 'um');
    expect((await intake.receive(first)).body).to.deep.equal({ status: 'queued' });
    expect(told).to.equal(1);
    expect((await intake.receive(first)).body).to.deep.equal({ status: 'duplicate' });
    expect(told, 'a duplicate stores nothing and wakes nobody').to.equal(1);
    await Promise.all(Array.from({ length: 10 }, (_, index) => intake.receive(textMessage({ contactId }, `parte ${index}`))));
    expect(told).to.be.within(2, 11);
  });

  it('wakes the workers of other processes with NOTIFY after the commit, coalescing a burst', async () => {
    const listener = createPgListener(deps.databaseUrl, deps.logger);
    let notified = 0;
    await listener.listen(INBOX_CHANNEL, () => {
      notified += 1;
    });
    try {
      const notifier = createWakeNotifier(deps.db, INBOX_CHANNEL);
      notifier.notify();
      await eventually(async () => void expect(notified).to.equal(1), 2_000, 20);
      for (let index = 0; index < 50; index += 1) notifier.notify();
      await eventually(async () => void expect(notified).to.be.at.least(2), 2_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // One in flight and one more for everything asked meanwhile (PostgreSQL may fold equal ones).
      expect(notified).to.be.within(2, 3);
    } finally {
      await listener.close();
    }
  });

  it('answers one webhook whose row the database refuses on its own, without failing its batch', async () => {
    await deps.db.raw(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.body = 'boom' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22003'; END IF;
        RETURN NEW;
      END $$`);
    await deps.db.raw(
      'CREATE TRIGGER refuse_boom BEFORE INSERT ON message_history FOR EACH ROW EXECUTE FUNCTION refuse_boom()',
    );
    try {
      const contacts = Array.from({ length: 20 }, (_, index) => 730_000 + index);
      const burst = contacts.map((contactId, index) => textMessage({ contactId }, index === 7 ? 'boom' : `ok ${index}`));
      const answers = await Promise.all(burst.map((payload) => post(payload)));
      answers.forEach((response, index) => {
        if (index === 7) expect(response).to.deep.equal({ status: 400, body: { errors: ['number out of range'] } });
        else expect(response).to.deep.equal({ status: 200, body: { status: 'queued' } });
      });
      expect(await deps.db('message_history').whereIn('contact_id', contacts)).to.have.length(19);
      const inbox = await inboxOf(contacts);
      expect(inbox.map((row) => row.contact_id)).to.have.members(contacts.filter((_, index) => index !== 7));
    } finally {
      await deps.db.raw('DROP TRIGGER refuse_boom ON message_history');
      await deps.db.raw('DROP FUNCTION refuse_boom()');
    }
  });
});
