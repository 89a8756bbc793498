// Inspection frames in the shape @statelyai/inspect 0.7 gives them (DESIGN: its own helpers drop
// rootId/parentId or set rootId 'anonymous', so they are built here). Everything personal is
// masked before a frame exists: the contact's number keeps its last 4 digits, and message texts,
// saved variables and file names are left out unless INSPECT_SHOW_TEXT is on (SPEC §9).
import { randomUUID } from 'node:crypto';
import type { StatelyActorEvent, StatelyEventEvent, StatelySnapshotEvent } from '@statelyai/inspect';
import type { UserInput } from '../../machines/index.js';

/** The @statelyai/inspect version whose frames these are. */
export const INSPECT_PROTOCOL_VERSION = '0.7.2';

export interface MaskOptions {
  /** INSPECT_SHOW_TEXT: message texts, variables and file names go out as they are. */
  readonly showText: boolean;
}

export interface InspectedSnapshot {
  readonly status: string;
  readonly value: unknown;
  readonly context: unknown;
}

export type ActorFrame = Omit<StatelyActorEvent, 'snapshot' | 'id'> & { readonly snapshot: InspectedSnapshot; readonly id: string };
export type EventFrame = StatelyEventEvent;
export type SnapshotFrame = Omit<StatelySnapshotEvent, 'snapshot'> & { readonly snapshot: InspectedSnapshot };
export type InspectionFrame = ActorFrame | EventFrame | SnapshotFrame;

/** Stable across steps, processes and replicas. */
export const sessionIdOf = (conversationId: number): string => `conversation:${conversationId}`;

/** `5511999990000` → `*********0000`. */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  if (digits.length === 0) return '';
  const kept = digits.slice(-4);
  return `${'*'.repeat(Math.max(digits.length - kept.length, 0))}${kept}`;
}

const HIDDEN = '(hidden)';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The conversation context with the number masked, and the name and variables unless texts are shown. */
export function maskContext(context: unknown, options: MaskOptions): unknown {
  if (!isRecord(context)) return context;
  const masked: Record<string, unknown> = { ...context };
  if (isRecord(context.contact)) {
    const contact = context.contact;
    const name = typeof contact.name === 'string' ? contact.name : '';
    masked.contact = {
      ...contact,
      number: typeof contact.number === 'string' ? maskNumber(contact.number) : contact.number,
      name: options.showText || name === '' ? name : `${name.trim().charAt(0)}.`,
    };
  }
  if (isRecord(context.variables) && !options.showText) {
    masked.variables = Object.fromEntries(Object.keys(context.variables).map((key) => [key, HIDDEN]));
  }
  return masked;
}

/** A persisted snapshot as the inspector shows it: status, value and masked context, nothing else. */
export function maskSnapshot(persisted: unknown, options: MaskOptions): InspectedSnapshot {
  const snapshot = isRecord(persisted) ? persisted : {};
  return {
    status: typeof snapshot.status === 'string' ? snapshot.status : 'active',
    value: snapshot.value ?? null,
    context: maskContext(snapshot.context, options),
  };
}

/** The input event without its text (and file name) unless texts are shown. */
export function maskInput(input: UserInput, options: MaskOptions): { type: string; [key: string]: unknown } {
  const file = input.file
    ? { name: options.showText ? input.file.name : HIDDEN, mimeType: input.file.mimeType }
    : null;
  return options.showText
    ? { type: input.type, text: input.text, file, at: input.at }
    : { type: input.type, textLength: input.text.length, file, at: input.at };
}

interface FrameBase {
  readonly conversationId: number;
  /** epoch ms */
  readonly at: number;
}

function base(conversationId: number, at: number) {
  const sessionId = sessionIdOf(conversationId);
  return { sessionId, rootId: sessionId, createdAt: String(at), id: randomUUID(), _version: INSPECT_PROTOCOL_VERSION };
}

/**
 * `@xstate.actor`: the conversation as an actor, with its flow version's machine config (as JSON
 * text) and its snapshot as stored.
 */
export function actorFrame(input: FrameBase & { readonly machineConfig: unknown; readonly snapshot: unknown; readonly options: MaskOptions }): ActorFrame {
  const config = isRecord(input.machineConfig) ? input.machineConfig : {};
  return {
    type: '@xstate.actor',
    name: typeof config.id === 'string' ? config.id : sessionIdOf(input.conversationId),
    ...base(input.conversationId, input.at),
    parentId: undefined,
    definition: definitionOf(input.machineConfig),
    snapshot: maskSnapshot(input.snapshot, input.options),
  };
}

// A version's machine config is one object for the life of the process (compiled once, or read
// once per viewer): its JSON text is made once.
const definitions = new WeakMap<object, string>();

/** The machine config as the JSON text `definition` carries. */
export function definitionOf(machineConfig: unknown): string {
  if (!isRecord(machineConfig)) return JSON.stringify(machineConfig ?? null);
  let text = definitions.get(machineConfig);
  if (text === undefined) {
    text = JSON.stringify(machineConfig);
    definitions.set(machineConfig, text);
  }
  return text;
}

/** `@xstate.event`: the input a committed step consumed. */
export function eventFrame(input: FrameBase & { readonly input: UserInput; readonly options: MaskOptions }): EventFrame {
  return {
    type: '@xstate.event',
    ...base(input.conversationId, input.at),
    sourceId: undefined,
    event: maskInput(input.input, input.options),
  };
}

/** `@xstate.snapshot`: the snapshot the committed step left, with the event that led there. */
export function snapshotFrame(input: FrameBase & { readonly input: UserInput; readonly snapshot: unknown; readonly options: MaskOptions }): SnapshotFrame {
  return {
    type: '@xstate.snapshot',
    ...base(input.conversationId, input.at),
    event: maskInput(input.input, input.options),
    snapshot: maskSnapshot(input.snapshot, input.options),
  };
}

/** What one committed step batch publishes: frames grouped per conversation, with what viewers filter on. */
export interface InspectionItem<F = InspectionFrame> {
  readonly conversationId: number;
  readonly contactId: number;
  readonly flowId: number;
  readonly frames: F[];
}

/**
 * The wire format of one published batch: a header line, `[[conversationId, contactId, flowId,
 * frameCount], …]`, then one serialised frame per line (JSON text never holds a raw newline). A
 * receiver routes by the header and forwards each frame's text as it is: frames are serialised
 * once, by the worker that made them.
 */
export function encodeItems(items: readonly InspectionItem[]): string {
  const header = items.map((item) => [item.conversationId, item.contactId, item.flowId, item.frames.length]);
  const lines = [JSON.stringify(header)];
  for (const item of items) for (const frame of item.frames) lines.push(JSON.stringify(frame));
  return lines.join('\n');
}

/** `encodeItems` read back, frames left as text; undefined for anything else. */
export function decodeItems(text: string): Array<InspectionItem<string>> | undefined {
  const lines = text.split('\n');
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(header)) return undefined;
  const items: Array<InspectionItem<string>> = [];
  let next = 1;
  for (const entry of header) {
    if (!Array.isArray(entry) || entry.length !== 4 || !entry.every((value) => typeof value === 'number')) return undefined;
    const [conversationId, contactId, flowId, count] = entry as [number, number, number, number];
    const frames = lines.slice(next, next + count);
    if (frames.length !== count) return undefined;
    next += count;
    items.push({ conversationId, contactId, flowId, frames });
  }
  return items;
}
