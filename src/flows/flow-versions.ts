import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { CoreDeps } from '../app-deps.js';
import { compileFlow, flowDefinitionSchema, type CompiledFlow, type FlowDefinition } from '../../machines/index.js';
import { findDefaultFlowId, loadFlowDefinition } from './flow-definition-loader.js';

type Runner = Knex | Knex.Transaction;

export interface FlowVersion {
  readonly versionId: number;
  readonly flowId: number;
  readonly flow: CompiledFlow;
}

export interface FlowVersionStore {
  /**
   * The version new conversations start on: the active default flow as it is now, stored once per
   * distinct content. Undefined when there is no active default flow. Throws FlowCompileError when
   * the flow as edited cannot run.
   */
  forNewConversation(db?: Runner): Promise<FlowVersion | undefined>;
  /** A stored version by id (a conversation's pinned version). Throws when missing or broken. */
  get(versionId: number, db?: Runner): Promise<FlowVersion>;
}

export class FlowVersionMissingError extends Error {
  constructor(versionId: number) {
    super(`flow version ${versionId} does not exist`);
    this.name = 'FlowVersionMissingError';
  }
}

/** Object keys sorted at every level, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

export function contentHash(definition: FlowDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

export function createFlowVersionStore(deps: Pick<CoreDeps, 'db' | 'logger'>): FlowVersionStore {
  // Versions are immutable, so a compiled machine never goes stale: nothing to invalidate.
  const compiled = new Map<number, FlowVersion>();

  function remember(versionId: number, flowId: number, flow: CompiledFlow): FlowVersion {
    const version = { versionId, flowId, flow };
    compiled.set(versionId, version);
    return version;
  }

  return {
    async forNewConversation(db = deps.db) {
      const flowId = await findDefaultFlowId(db);
      if (flowId === undefined) return undefined;
      const definition = await loadFlowDefinition(db, flowId);
      if (!definition) return undefined;
      const hash = contentHash(definition);
      const existing = (await db('flow_versions').where({ flow_id: flowId, content_hash: hash }).first('id')) as
        | { id: number }
        | undefined;
      const cached = existing ? compiled.get(existing.id) : undefined;
      if (cached) return cached;

      // Compile before storing: a flow that cannot run must not become a version anyone pins.
      const flow = compileFlow(definition);
      if (existing) return remember(existing.id, flowId, flow);
      await db.raw(
        `INSERT INTO flow_versions (flow_id, content_hash, definition, machine_config)
         VALUES (?, ?, ?::jsonb, ?::jsonb)
         ON CONFLICT (flow_id, content_hash) DO NOTHING`,
        [flowId, hash, JSON.stringify(definition), JSON.stringify(flow.config)],
      );
      const stored = (await db('flow_versions').where({ flow_id: flowId, content_hash: hash }).first('id')) as {
        id: number;
      };
      deps.logger.debug({ flowId, versionId: stored.id }, 'flow version ready');
      return remember(stored.id, flowId, flow);
    },

    async get(versionId, db = deps.db) {
      const cached = compiled.get(versionId);
      if (cached) return cached;
      const row = (await db('flow_versions').where({ id: versionId }).first('flow_id', 'definition')) as
        | { flow_id: number; definition: unknown }
        | undefined;
      if (!row) throw new FlowVersionMissingError(versionId);
      const definition = flowDefinitionSchema.parse(row.definition);
      return remember(versionId, row.flow_id, compileFlow(definition));
    },
  };
}
