import { readFileSync } from 'node:fs';

const fixturesFolder = new URL('../fixtures/webhooks/', import.meta.url);

/** A GOSAC webhook body from test/fixtures/webhooks (real-looking, with every extra field). */
export function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesFolder), 'utf8'));
}

let sequence = 0;
function nextMessageId(): string {
  sequence += 1;
  return `TEST${process.pid}${Date.now().toString(36)}${sequence}`.toUpperCase();
}

interface Sender {
  contactId: number;
  name?: string;
  number?: string;
  ticketId?: number;
}

function basePayload(sender: Sender): any {
  const payload = fixture('text');
  payload.data.id = nextMessageId();
  payload.data.contactId = sender.contactId;
  payload.data.ticketId = sender.ticketId ?? sender.contactId + 100_000;
  payload.data.contact.id = sender.contactId;
  payload.data.contact.name = sender.name ?? 'Maria Souza';
  payload.data.contact.number = sender.number ?? `55119${String(sender.contactId).padStart(8, '0')}`;
  payload.data.ticket.id = payload.data.ticketId;
  payload.data.ticket.contactId = sender.contactId;
  return payload;
}

export function textMessage(sender: Sender, body: string): any {
  const payload = basePayload(sender);
  payload.data.body = body;
  return payload;
}

export function fileMessage(sender: Sender, fileName: string, caption = fileName): any {
  const payload = basePayload(sender);
  payload.data.mediaType = 'application';
  payload.data.body = caption;
  payload.data.mediaPath = fileName;
  payload.data.mediaUrl = `https://tenant.example/api/public/media/${encodeURIComponent(fileName)}`;
  return payload;
}
