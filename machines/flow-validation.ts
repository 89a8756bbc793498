import { attendantFindings } from './attendant-validation.js';
import { compileFlow, FlowCompileError } from './compile.js';
import type { FlowDefinition, MessageDefinition, SubflowDefinition } from './flow-definition.js';
import { normalizeForMatch } from './keywords.js';
import { templateVariables } from './templating.js';
import { ACTION_ERROR_VARIABLE, actionTemplates, resultVariableOf } from './actions.js';

export type FindingKind =
  | 'compile_error'
  | 'empty_subflow'
  | 'shared_keyword'
  | 'unreachable_message'
  | 'menu_without_exit'
  | 'unknown_variable'
  // SPEC §10 settings that do nothing (machines/attendant-validation.ts)
  | 'attendant_setting'
  /** Added by the shell, which knows the configuration (SPEC §8). */
  | 'action_not_configured';

/** `error`: the flow cannot run or strands contacts; `warning`: it runs, probably not as meant. */
export type FindingSeverity = 'error' | 'warning';

export interface Finding {
  kind: FindingKind;
  severity: FindingSeverity;
  message: string;
  subflowId?: number;
  messageId?: number;
  /** shared_keyword: the normalized keyword and every subflow listing it, in flow order */
  keyword?: string;
  subflowIds?: number[];
  variable?: string;
}

/** Names the templates may always use; SPEC §2 rule 7. */
export const builtInVariables: readonly string[] = ['contact_name', 'contact_number'];

type Ordered = { orderIndex: number; id: number };
const byOrder = (a: Ordered, b: Ordered) => a.orderIndex - b.orderIndex || a.id - b.id;

type Subflow = Omit<SubflowDefinition, 'messages'> & { messages: MessageDefinition[] };

const label = (subflow: Subflow) => `subflow ${subflow.id} "${subflow.name}"`;
const waits = (message: MessageDefinition) => message.waitForFile || message.waitForResponse;
const isMenu = (subflow: Subflow, index: number) => {
  const message = subflow.messages[index];
  return message !== undefined && !message.waitForFile && message.waitForResponse && index === subflow.messages.length - 1;
};

function compileFindings(definition: FlowDefinition): Finding[] {
  try {
    compileFlow(definition);
    return [];
  } catch (error) {
    if (!(error instanceof FlowCompileError)) throw error;
    return error.problems.map((problem) => ({ kind: 'compile_error', severity: 'error', message: problem }));
  }
}

/**
 * Keyword → subflows claiming it, in flow order. The matcher gives a tie to the earliest subflow,
 * so only the first claimant of a keyword can ever be entered through it.
 */
function keywordClaims(subflows: readonly Subflow[]): Map<string, number[]> {
  const claims = new Map<string, number[]>();
  for (const subflow of subflows) {
    for (const keyword of new Set(subflow.triggerKeywords.map(normalizeForMatch))) {
      if (keyword === '') continue;
      const owners = claims.get(keyword) ?? [];
      owners.push(subflow.id);
      claims.set(keyword, owners);
    }
  }
  return claims;
}

/**
 * Positions a conversation can occupy, walked like the compiled machine moves: the greeting, each
 * message's successor (none after a menu), the parent's first message past a subflow's end, and,
 * once anything waits, the first message of every subflow a keyword can select.
 */
function reachableMessages(runnable: readonly Subflow[], keywordEntries: ReadonlySet<number>): Set<number> {
  const byId = new Map(runnable.map((subflow) => [subflow.id, subflow]));
  const seen = new Set<number>();
  const queue: Array<{ subflow: Subflow; index: number }> = [];
  const enter = (subflow: Subflow | undefined, index: number) => {
    const message = subflow?.messages[index];
    if (!subflow || !message || seen.has(message.id)) return;
    seen.add(message.id);
    queue.push({ subflow, index });
    // SPEC §10: out of hours a subflow gives way to another; past its re-prompt limit a message
    // falls back to one.
    if (index === 0 && subflow.businessHoursOnly) enter(byId.get(subflow.outOfHoursSubflowId ?? -1), 0);
    if (message.maxReprompts != null) enter(byId.get(message.fallbackSubflowId ?? -1), 0);
  };
  let keywordsLive = false;
  enter(runnable[0], 0);
  while (queue.length > 0) {
    const { subflow, index } = queue.shift()!;
    const message = subflow.messages[index]!;
    if (waits(message) && !keywordsLive) {
      keywordsLive = true;
      for (const id of keywordEntries) enter(byId.get(id), 0);
    }
    if (isMenu(subflow, index)) continue;
    if (index + 1 < subflow.messages.length) enter(subflow, index + 1);
    else if (subflow.parentSubflowId !== null) enter(byId.get(subflow.parentSubflowId), 0);
  }
  return seen;
}

/** Everything the editor should warn about before a flow goes live. Pure; never throws on bad flows. */
export function validateFlow(definition: FlowDefinition): Finding[] {
  const findings: Finding[] = compileFindings(definition);
  const subflows: Subflow[] = [...definition.subflows]
    .sort(byOrder)
    .map((subflow) => ({ ...subflow, messages: [...subflow.messages].sort(byOrder) }));
  const runnable = subflows.filter((subflow) => subflow.messages.length > 0);

  for (const subflow of subflows) {
    if (subflow.messages.length > 0) continue;
    findings.push({
      kind: 'empty_subflow',
      severity: 'warning',
      message: `${label(subflow)} has no messages: conversations skip it${subflow.triggerKeywords.length > 0 ? ' and its keywords do nothing' : ''}`,
      subflowId: subflow.id,
    });
  }

  const claims = keywordClaims(runnable);
  const keywordEntries = new Set<number>();
  for (const [keyword, owners] of claims) {
    if (owners[0] !== undefined) keywordEntries.add(owners[0]);
    if (owners.length < 2) continue;
    findings.push({
      kind: 'shared_keyword',
      severity: 'warning',
      message: `keyword "${keyword}" is claimed by subflows ${owners.join(', ')}; only subflow ${owners[0]} (the first) ever gets it`,
      keyword,
      subflowIds: owners,
    });
  }

  const reachable = reachableMessages(runnable, keywordEntries);
  for (const subflow of runnable) {
    subflow.messages.forEach((message, index) => {
      if (!reachable.has(message.id)) {
        findings.push({
          kind: 'unreachable_message',
          severity: 'warning',
          message: `message ${message.id} of ${label(subflow)} can never be reached`,
          subflowId: subflow.id,
          messageId: message.id,
        });
        return;
      }
      // A menu moves on only through a keyword; one that can only lead back here strands the contact.
      if (isMenu(subflow, index) && ![...keywordEntries].some((id) => id !== subflow.id)) {
        findings.push({
          kind: 'menu_without_exit',
          severity: 'error',
          message: `message ${message.id} of ${label(subflow)} waits for a reply as the last of its subflow (a menu), but no keyword leads anywhere else: contacts stay there forever`,
          subflowId: subflow.id,
          messageId: message.id,
        });
      }
    });
  }

  const saved = new Set(builtInVariables);
  for (const subflow of subflows) {
    for (const message of subflow.messages) {
      const name = message.saveResponseAs?.trim() ?? '';
      if (name !== '') saved.add(name);
      for (const action of message.actions ?? []) {
        saved.add(ACTION_ERROR_VARIABLE);
        const result = resultVariableOf(action);
        if (result) saved.add(result);
      }
    }
  }
  for (const subflow of subflows) {
    for (const message of subflow.messages) {
      const texts = [message.text, ...(message.actions ?? []).flatMap(actionTemplates)];
      for (const variable of new Set(texts.flatMap(templateVariables))) {
        if (saved.has(variable)) continue;
        findings.push({
          kind: 'unknown_variable',
          severity: 'warning',
          message: `message ${message.id} of ${label(subflow)} uses {{${variable}}}, which no message saves: it is sent as empty text`,
          subflowId: subflow.id,
          messageId: message.id,
          variable,
        });
      }
    }
  }
  findings.push(...attendantFindings(definition));
  return findings;
}
