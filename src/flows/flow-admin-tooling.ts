import { z } from 'zod';
import {
  compileFlow,
  FlowCompileError,
  previewWithTimers,
  validateFlow,
  type BusinessHours,
  type PreviewItem,
  type CompiledFlow,
  type FileInput,
  type FlowDefinition,
  type Finding,
  type UserInput,
} from '../../machines/index.js';
import { unconfiguredActionFindings } from '../actions/action-services.js';
import type { Config } from '../config.js';
import type { Database } from '../db/knex.js';
import { NotFoundError, UnprocessableError } from '../shared/errors.js';
import { loadFlowDefinition } from './flow-definition-loader.js';

// The editor's tools over the current draft of a flow (its active rows as they are now), all pure
// once the definition is loaded: nothing here touches a conversation or sends anything.

const text = (max: number) => z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be text') }).max(max, `must be at most ${max} characters`);

export const previewRequestSchema = z.object({
  inputs: z
    .array(
      z.object({
        text: text(4096).optional(),
        file: z
          .object({
            name: text(255).trim().min(1, 'must not be empty'),
            mime_type: text(255).nullable().optional(),
          })
          .nullable()
          .optional(),
        // SPEC §10: the contact stays silent this long (reminders and closing come due).
        wait_minutes: z
          .number({ error: 'must be a number of minutes' })
          .min(0, 'must be at least 0')
          .max(525_600, 'must be at most 525600')
          .optional()
          .describe('instead of text/file: the contact stays silent this many minutes (fractions allowed); due reminders and closing show as this step\'s replies'),
      }).refine((input) => input.wait_minutes === undefined || (input.text === undefined && !input.file), 'an input either waits (wait_minutes) or says something (text, file), not both'),
      { error: (issue) => (issue.input === undefined ? 'required' : 'must be a list of inputs') },
    )
    .min(1, 'must hold at least one input')
    .max(100, 'must hold at most 100 inputs'),
  contact_name: text(200).optional(),
  contact_number: text(64).optional(),
  at: z.iso
    .datetime({ offset: true, error: 'must be an ISO date-time such as 2026-12-25T10:00:00-03:00' })
    .optional()
    .describe('when the first input arrives (default: now); business hours (the BUSINESS_HOURS setting) are checked against each input\'s time'),
});
export type PreviewRequest = z.output<typeof previewRequestSchema>;

export const findingSchema = z.object({
  kind: z.enum(['compile_error', 'empty_subflow', 'shared_keyword', 'unreachable_message', 'menu_without_exit', 'unknown_variable', 'attendant_setting', 'action_not_configured']),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  subflow_id: z.int().optional(),
  message_id: z.int().optional(),
  keyword: z.string().optional(),
  subflow_ids: z.array(z.int()).optional(),
  variable: z.string().optional(),
});
export const validationReportSchema = z.object({
  flow_id: z.int(),
  is_default: z.boolean().describe('the active default flow: when it does not compile, new contacts go unanswered'),
  compiles: z.boolean(),
  valid: z.boolean().describe('true when there is no finding of severity error'),
  findings: z.array(findingSchema),
});
export const previewAnswerSchema = z.object({
  flow_id: z.int(),
  steps: z.array(
    z.object({
      input: z.object({ text: z.string(), file: z.object({ name: z.string() }).nullable(), wait_minutes: z.number().optional() }),
      replies: z.array(
        z.object({
          text: z.string(),
          reason: z.enum(['flow', 'reprompt', 'wrong_file_type', 'reminder', 'close']),
          message_id: z.int(),
          subflow_id: z.int(),
          delay_seconds: z.number(),
        }),
      ),
      started: z.boolean(),
      completed: z.boolean(),
      handed_off: z.boolean().describe('SPEC §10: the conversation was handed to a human (paused) at this step'),
      position: z.object({ subflow_id: z.int(), message_id: z.int() }).nullable(),
      variables: z.record(z.string(), z.string()),
      actions: z
        .array(z.object({ type: z.string(), message_id: z.int(), index: z.int(), result_variable: z.string().nullable() }))
        .describe('SPEC §8 actions this input would run, in order; the preview runs none and takes each as succeeded'),
    }),
  ),
});

export interface FlowTooling {
  machine(flowId: number): Promise<Record<string, unknown>>;
  validate(flowId: number): Promise<z.output<typeof validationReportSchema>>;
  preview(flowId: number, request: PreviewRequest): Promise<z.output<typeof previewAnswerSchema>>;
}

function compileOr422(definition: FlowDefinition): CompiledFlow {
  try {
    return compileFlow(definition);
  } catch (error) {
    if (error instanceof FlowCompileError) {
      throw new UnprocessableError(error.problems.map((problem) => `flow: ${problem}`));
    }
    throw error;
  }
}

export function createFlowTooling(deps: {
  readonly db: Database;
  /** BUSINESS_HOURS for the preview; absent: always open. */
  readonly settings?: { current(): Promise<{ readonly BUSINESS_HOURS: BusinessHours | null }> };
  /** Which services flow actions can reach (validate, SPEC §8); absent: no such finding. */
  readonly config?: Pick<Config, 'pontta' | 'google'>;
}): FlowTooling {
  async function draft(flowId: number): Promise<FlowDefinition> {
    const definition = await loadFlowDefinition(deps.db, flowId);
    if (!definition) throw new NotFoundError(`flow ${flowId} not found`);
    return definition;
  }

  return {
    async machine(flowId) {
      return compileOr422(await draft(flowId)).config;
    },

    async validate(flowId) {
      const definition = await draft(flowId);
      const findings: Finding[] = [
        ...validateFlow(definition),
        ...(deps.config ? unconfiguredActionFindings(definition, deps.config) : []).map((finding) => ({
          kind: 'action_not_configured' as const,
          severity: 'error' as const,
          message: finding.message,
          subflowId: finding.subflowId,
          messageId: finding.messageId,
        })),
      ];
      const flow = (await deps.db('flows').where({ id: flowId }).first('is_default')) as { is_default: boolean } | undefined;
      return {
        flow_id: flowId,
        is_default: flow?.is_default === true,
        compiles: !findings.some((finding) => finding.kind === 'compile_error'),
        valid: !findings.some((finding) => finding.severity === 'error'),
        findings: findings.map((finding) => ({
          kind: finding.kind,
          severity: finding.severity,
          message: finding.message,
          ...(finding.subflowId === undefined ? {} : { subflow_id: finding.subflowId }),
          ...(finding.messageId === undefined ? {} : { message_id: finding.messageId }),
          ...(finding.keyword === undefined ? {} : { keyword: finding.keyword }),
          ...(finding.subflowIds === undefined ? {} : { subflow_ids: finding.subflowIds }),
          ...(finding.variable === undefined ? {} : { variable: finding.variable }),
        })),
      };
    },

    async preview(flowId, request) {
      const flow = compileOr422(await draft(flowId));
      const contact = { id: 0, name: request.contact_name ?? '', number: request.contact_number ?? '' };
      const businessHours = deps.settings ? (await deps.settings.current()).BUSINESS_HOURS : null;
      // Each input is taken as arriving after the cooldown (1 ms apart), so every re-prompt shows;
      // a wait moves the clock on.
      let clock = request.at ? Date.parse(request.at) : Date.now();
      const items: PreviewItem[] = request.inputs.map((input) => {
        if (input.wait_minutes !== undefined) {
          const waitMs = Math.round(input.wait_minutes * 60_000);
          clock += waitMs;
          return { waitMs };
        }
        clock += 1;
        const entry: UserInput = {
          type: 'USER_INPUT',
          text: input.text ?? '',
          file: input.file ? fileInput(input.file) : null,
          at: clock,
          cooldownMs: 0,
          businessHours,
        };
        return { input: entry };
      });
      const steps = previewWithTimers(flow, contact, items);
      const inputs = items.map((item) => ('input' in item ? item.input : null));
      return {
        flow_id: flowId,
        steps: steps.map((step, index) => ({
          input: {
            text: inputs[index]?.text ?? '',
            file: inputs[index]?.file ? { name: inputs[index].file.name } : null,
            ...(request.inputs[index]?.wait_minutes === undefined ? {} : { wait_minutes: request.inputs[index].wait_minutes }),
          },
          replies: step.replies.map((reply) => ({
            text: reply.text,
            reason: reply.reason,
            message_id: reply.messageId,
            subflow_id: reply.subflowId,
            delay_seconds: reply.delaySeconds,
          })),
          started: step.started,
          completed: step.completed,
          handed_off: step.handedOff,
          position: step.position ? { subflow_id: step.position.subflowId, message_id: step.position.messageId } : null,
          variables: step.variables,
          actions: step.actions.map((action) => ({
            type: action.type,
            message_id: action.messageId,
            index: action.index,
            result_variable: action.resultVariable,
          })),
        })),
      };
    },
  };
}

// The runtime names a WhatsApp file after its media path; the preview only has the name.
function fileInput(file: { name: string; mime_type?: string | null | undefined }): FileInput {
  return { name: file.name, mimeType: file.mime_type ?? null, url: null, path: file.name };
}
