import { z } from 'zod';

// GOSAC builds differ: ids arrive as numbers or numeric strings, optional fields as null or
// missing, and every object carries many fields we do not use. The schema accepts all of that and
// hands the intake service one normalised shape.

const numericId = z.union([
  z.number().int().nonnegative(),
  z.string().trim().regex(/^\d+$/, 'must be a number').transform(Number),
]);
const optionalNumericId = numericId.nullish().transform((value) => value ?? null);
// PostgreSQL text cannot hold NUL; a customer's message containing one is still a message to
// keep, so NUL becomes U+FFFD instead of a refused (or failed) webhook.
const withoutNul = (text: string) => text.replaceAll('\u0000', '\uFFFD');
const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value) => (value === null || value === undefined ? null : withoutNul(String(value))));
const optionalFlag = z.boolean().nullish().transform((value) => value ?? false);

const contactSchema = z.looseObject({
  name: optionalText,
  number: optionalText,
});

const ticketSchema = z.looseObject({
  id: optionalNumericId,
  status: optionalText,
  userId: optionalNumericId,
});

export const messageDataSchema = z.looseObject({
  // GOSAC ids are a few dozen characters; the unique index cannot hold a key of kilobytes.
  id: z.union([
    z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters').transform(withoutNul),
    z.number().transform(String),
  ]),
  body: optionalText.transform((value) => value ?? ''),
  mediaType: optionalText.transform((value) => (value ?? 'text').trim().toLowerCase() || 'text'),
  mediaUrl: optionalText,
  mediaPath: optionalText,
  // Some builds name the MIME type; most send none.
  mimetype: optionalText,
  mimeType: optionalText,
  fromMe: optionalFlag,
  fromGroup: optionalFlag,
  ticketId: optionalNumericId,
  contactId: numericId,
  contact: contactSchema.nullish().transform((value) => value ?? null),
  ticket: ticketSchema.nullish().transform((value) => value ?? null),
});

export const webhookPayloadSchema = z.looseObject({
  type: z.string(),
  data: messageDataSchema,
});

export type WebhookMessage = z.output<typeof messageDataSchema>;
export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

/** The event type, when the body is an object that names one; used before full validation. */
export function eventTypeOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const type = (body as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}
