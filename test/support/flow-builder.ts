// Writes a template → flow → subflows → messages straight into the tables, for tests of the
// runtime that should not depend on the admin API.
import type { Database } from '../../src/db/knex.js';
import type { SubflowSpec } from './admin-flow-builder.js';

// The same flow description the admin-API builder takes, written here without the API.
export type { MessageSpec as MessageRowSpec, SubflowSpec as SubflowRowSpec } from './admin-flow-builder.js';

export interface InsertedFlow {
  flowId: number;
  subflowIds: Record<string, number>;
  messageIds: Record<string, number[]>;
}

export async function insertFlow(
  db: Database,
  subflows: SubflowSpec[],
  options: { isDefault?: boolean; name?: string } = {},
): Promise<InsertedFlow> {
  const [template] = await db('flow_templates').insert({ name: `${options.name ?? 'Flow'} template` }).returning('id');
  const [flow] = await db('flows')
    .insert({ template_id: template.id, name: options.name ?? 'Flow', is_default: options.isDefault ?? true })
    .returning('id');
  const subflowIds: Record<string, number> = {};
  const messageIds: Record<string, number[]> = {};
  for (const [index, spec] of subflows.entries()) {
    const [subflow] = await db('subflows')
      .insert({
        flow_id: flow.id,
        name: spec.name,
        order_index: index,
        trigger_keywords: spec.keywords ?? [],
        parent_subflow_id: spec.parent ? subflowIds[spec.parent] : null,
      })
      .returning('id');
    subflowIds[spec.name] = subflow.id;
    messageIds[spec.name] = [];
    for (const [order, message] of spec.messages.entries()) {
      const [row] = await db('flow_messages')
        .insert({
          subflow_id: subflow.id,
          message_text: message.text,
          order_index: order,
          wait_for_response: message.waitForResponse ?? true,
          wait_for_file: message.waitForFile ?? false,
          expected_file_types: message.expectedFileTypes ?? [],
          delay_seconds: message.delaySeconds ?? 0,
          save_response_as: message.saveResponseAs ?? null,
        })
        .returning('id');
      messageIds[spec.name]!.push(row.id);
    }
  }
  return { flowId: flow.id, subflowIds, messageIds };
}

let sequence = 0;

/** An inbound row as the webhook stores it (status 'received'). */
export async function insertInbound(
  db: Database,
  row: {
    contactId: number;
    body: string;
    ticketId?: number;
    name?: string;
    mediaType?: 'text' | 'application';
    mediaPath?: string | null;
    mediaUrl?: string | null;
  },
): Promise<number> {
  sequence += 1;
  const [inserted] = await db('message_history')
    .insert({
      contact_id: row.contactId,
      ticket_id: row.ticketId ?? row.contactId + 1000,
      direction: 'inbound',
      body: row.body,
      media_type: row.mediaType ?? 'text',
      media_path: row.mediaPath ?? null,
      media_url: row.mediaUrl ?? null,
      contact_name: row.name ?? 'Maria Souza',
      contact_number: '5511999990000',
      gosac_message_id: `RT-${process.pid}-${Date.now()}-${sequence}`,
      status: 'received',
    })
    .returning('id');
  return inserted.id;
}
