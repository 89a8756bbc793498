import type { Knex } from 'knex';
import { compileFlow, FlowCompileError } from '../../machines/index.js';
import { ValidationError } from '../shared/errors.js';
import { findDefaultFlowId, loadFlowDefinition } from './flow-definition-loader.js';

type Runner = Knex | Knex.Transaction;

/**
 * Whether new contacts can be answered at all: `ok` when the active default flow compiles,
 * `missing` when there is no active default flow, `broken` with the compile problems otherwise.
 * The runtime leaves a contact's messages in the inbox in the last two cases.
 */
export type DefaultFlowState =
  | { readonly status: 'ok'; readonly flowId: number }
  | { readonly status: 'missing' }
  | { readonly status: 'broken'; readonly flowId: number; readonly problems: readonly string[] };

/** The default flow as it is now in `db` (a transaction sees its own uncommitted writes). */
export async function checkDefaultFlow(db: Runner): Promise<DefaultFlowState> {
  const flowId = await findDefaultFlowId(db);
  if (flowId === undefined) return { status: 'missing' };
  const definition = await loadFlowDefinition(db, flowId);
  if (!definition) return { status: 'missing' };
  try {
    compileFlow(definition);
    return { status: 'ok', flowId };
  } catch (error) {
    if (error instanceof FlowCompileError) return { status: 'broken', flowId, problems: error.problems };
    throw error;
  }
}

/** One line saying why contacts go unanswered, or null when the default flow is fine. */
export function describeDefaultFlowProblem(state: DefaultFlowState): string | null {
  switch (state.status) {
    case 'ok':
      return null;
    case 'missing':
      return 'no active default flow';
    case 'broken':
      return `default flow ${state.flowId} cannot compile: ${state.problems.join('; ')}`;
  }
}

/**
 * The compile problems a write would leave in the default flow, or null when it may commit.
 * Refused: breaking a default flow that compiles, making a flow that does not compile the default
 * in place of one that does, and adding new problems to a default flow that is already broken.
 * Allowed: everything that leaves a compiling default (or none: deleting the default is an
 * explicit choice /ready reports), and steps on the way to a working default when there is none
 * yet (a new install's default flow is created empty, then filled).
 */
export function problemsIntroduced(before: DefaultFlowState, after: DefaultFlowState): readonly string[] | null {
  if (after.status !== 'broken') return null;
  if (before.status === 'ok') return after.problems;
  if (before.status === 'broken' && before.flowId === after.flowId) {
    const fresh = after.problems.filter((problem) => !before.problems.includes(problem));
    return fresh.length > 0 ? fresh : null;
  }
  return null;
}

/** 400: the admin write would leave contacts unanswered; its transaction is rolled back. */
export class DefaultFlowWouldBreakError extends ValidationError {
  constructor(flowId: number, problems: readonly string[]) {
    super(problems.map((problem) => `default_flow: flow ${flowId} would not compile: ${problem}`));
  }
}

export interface DefaultFlowHealth {
  /** The default flow's state, computed at most once per `ttlMs` (concurrent callers share it). */
  current(): Promise<DefaultFlowState>;
}

/**
 * A short-lived cache of checkDefaultFlow for GET /ready, which load balancers poll. A failed
 * check (database away) is not cached: the next poll tries again.
 */
export function createDefaultFlowHealth(
  deps: { readonly db: Runner },
  options: { readonly ttlMs?: number; readonly now?: () => number } = {},
): DefaultFlowHealth {
  const ttlMs = options.ttlMs ?? 2_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; state: Promise<DefaultFlowState> } | undefined;
  return {
    current() {
      const at = now();
      if (cached && at - cached.at < ttlMs) return cached.state;
      const state = checkDefaultFlow(deps.db);
      const entry = { at, state };
      cached = entry;
      state.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return state;
    },
  };
}
