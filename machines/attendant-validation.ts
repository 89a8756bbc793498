import type { Finding } from './flow-validation.js';
import type { FlowDefinition, MessageDefinition, SubflowDefinition } from './flow-definition.js';

// `GET /api/flows/:id/validate` findings for SPEC §10 settings that run but do nothing, or not
// what was probably meant. (Loops of out-of-hours subflows are compile errors.)

type Subflow = SubflowDefinition;
const label = (subflow: Subflow) => `subflow ${subflow.id} "${subflow.name}"`;
const waits = (message: MessageDefinition) => message.waitForFile || message.waitForResponse;

export function attendantFindings(definition: FlowDefinition): Finding[] {
  const findings: Finding[] = [];
  const runnable = new Map(definition.subflows.filter((subflow) => subflow.messages.length > 0).map((subflow) => [subflow.id, subflow]));
  const add = (subflow: Subflow, message: MessageDefinition | undefined, text: string) =>
    findings.push({
      kind: 'attendant_setting',
      severity: 'warning',
      message: text,
      subflowId: subflow.id,
      ...(message ? { messageId: message.id } : {}),
    });
  const close = definition.closeAfterMinutes ?? null;

  for (const subflow of definition.subflows) {
    const last = [...subflow.messages].sort((a, b) => a.orderIndex - b.orderIndex || a.id - b.id).at(-1);
    if (subflow.businessHoursOnly && !runnable.has(subflow.outOfHoursSubflowId ?? -1)) {
      add(subflow, undefined, `${label(subflow)} is business-hours-only but names no out-of-hours subflow with messages: it is entered at any hour`);
    }
    if (!subflow.businessHoursOnly && subflow.outOfHoursSubflowId != null) {
      add(subflow, undefined, `${label(subflow)} names an out-of-hours subflow but is not business-hours-only: the out-of-hours subflow is never used`);
    }
    for (const message of subflow.messages) {
      const where = `message ${message.id} of ${label(subflow)}`;
      if (message.reminderAfterMinutes != null) {
        if (!waits(message)) add(subflow, message, `${where} has a reminder but waits for nothing: it is never sent`);
        else if (subflow.handoff && message === last) add(subflow, message, `${where} hands the conversation to a human: its reminder is never sent`);
        else if (close !== null && message.reminderAfterMinutes >= close) {
          add(subflow, message, `${where} reminds after ${message.reminderAfterMinutes} min, but the flow closes silent conversations after ${close} min: it is never sent`);
        }
      }
      const hasLimit = message.maxReprompts != null;
      const hasFallback = message.fallbackSubflowId != null;
      if (hasLimit !== hasFallback) {
        add(subflow, message, `${where} needs both max_reprompts and fallback_subflow_id for the re-prompt limit; it has only one`);
      } else if (hasLimit && !runnable.has(message.fallbackSubflowId ?? -1)) {
        add(subflow, message, `${where} falls back to subflow ${message.fallbackSubflowId}, which is not an active subflow with messages of this flow: there is no limit`);
      } else if (hasLimit && !message.waitForFile && !(message.waitForResponse && message === last)) {
        add(subflow, message, `${where} has a re-prompt limit but is never re-prompted (only a menu or a file request is): it does nothing`);
      }
    }
  }
  return findings;
}
