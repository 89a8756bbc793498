// The send stage's two statements over message_history (docs/decisions/0004): the claim of due
// replies, one per contact, and the batched write of what GOSAC answered.
import type { Knex } from 'knex';
import type { Database } from '../db/knex.js';
import { preparedStatement } from '../db/prepared-statement.js';
import { MAX_UNCERTAIN_ATTEMPTS, UNCERTAIN_FAILURE_REASON } from './send-policy.js';

/** A reply claimed for sending: its lease is ours until `claimedUntil`. */
export interface ClaimedReply {
  readonly kind: 'send';
  readonly id: number;
  readonly contactId: number;
  /** For log lines about it. */
  readonly conversationId: number | null;
  readonly ticketId: number | null;
  readonly body: string;
  /** Counting this call. */
  readonly attempts: number;
  /** Counting an expired lease found by this claim. */
  readonly uncertainAttempts: number;
  /** The lease as PostgreSQL prints it (exact to the microsecond): an outcome is written only while the row still holds it. */
  readonly claimedUntil: string;
}

/** A reply the claim failed instead of sending: its lease had expired once too often. */
export interface GivenUpReply {
  readonly kind: 'given_up';
  readonly id: number;
  readonly contactId: number;
  readonly conversationId: number | null;
  readonly uncertainAttempts: number;
}

export interface ClaimResult {
  readonly replies: readonly ClaimedReply[];
  readonly givenUp: readonly GivenUpReply[];
  /**
   * Milliseconds until the next pending reply becomes due or a lease runs out (0 when one already
   * has); null when nothing is pending. Measured by the database clock, which stamps due times.
   */
  readonly nextDueInMs: number | null;
}

/** What to write for one claimed reply. */
export type OutcomeWrite =
  | { readonly id: number; readonly claimedUntil: string; readonly kind: 'sent'; readonly status: 'sent' | 'dry_run' }
  | {
      readonly id: number;
      readonly claimedUntil: string;
      readonly kind: 'retry';
      readonly delayMs: number;
      readonly error: string;
      readonly uncertain: boolean;
    }
  | { readonly id: number; readonly claimedUntil: string; readonly kind: 'failed'; readonly error: string; readonly uncertain: boolean }
  /** Never sent (claimed as the stage stopped): unleased, the attempt uncounted. */
  | { readonly id: number; readonly claimedUntil: string; readonly kind: 'release' };

export interface OutboxRepository {
  /**
   * One statement: leases up to `limit` due replies, each its contact's lowest pending id, for
   * `leaseMs`, and says when the next one will be due.
   */
  claim(limit: number, leaseMs: number): Promise<ClaimResult>;
  /**
   * One statement for the whole batch. Each row is written only while it is still pending under
   * the lease it was claimed with; the result says, per item, whether it was.
   */
  recordOutcomes(outcomes: readonly OutcomeWrite[]): Promise<boolean[]>;
}

// A row is claimable when it is pending, due, not leased (or its lease ran out: its worker died
// mid-call), and no lower id of its contact is pending (the contact's line). SKIP LOCKED leaves the
// rows another worker is claiming right now to that worker. A row whose expired lease makes it
// the second unknown outcome is failed here instead of being sent a third time. A NULL due_at
// (rows written before due times existed) counts as due. The last two subqueries see the same
// snapshot as the claim: the earliest future due time, and the earliest lease still running.
const CLAIM_SQL = `
WITH candidate AS (
  SELECT m.id,
         CASE WHEN m.claimed_until IS NULL THEN 0 ELSE 1 END AS expired_lease,
         m.uncertain_attempts + CASE WHEN m.claimed_until IS NULL THEN 0 ELSE 1 END >= :maxUncertain AS gives_up
  FROM message_history m
  WHERE m.status = 'pending'
    AND m.direction = 'outbound'
    AND (m.due_at <= now() OR m.due_at IS NULL)
    AND (m.claimed_until IS NULL OR m.claimed_until < now())
    AND NOT EXISTS (
      SELECT 1 FROM message_history earlier
      WHERE earlier.contact_id = m.contact_id
        AND earlier.status = 'pending'
        AND earlier.id < m.id
    )
  ORDER BY m.due_at NULLS FIRST, m.id
  LIMIT :limit
  FOR UPDATE OF m SKIP LOCKED
),
claimed AS (
  UPDATE message_history m
  SET uncertain_attempts = m.uncertain_attempts + candidate.expired_lease,
      status = CASE WHEN candidate.gives_up THEN 'failed' ELSE 'pending' END,
      attempts = CASE WHEN candidate.gives_up THEN m.attempts ELSE m.attempts + 1 END,
      claimed_until = CASE WHEN candidate.gives_up THEN NULL ELSE now() + make_interval(secs => :leaseSeconds) END,
      last_error = CASE WHEN candidate.gives_up THEN :givenUpReason ELSE m.last_error END
  FROM candidate
  WHERE m.id = candidate.id
  RETURNING m.id, m.contact_id, m.conversation_id, m.ticket_id, m.body, m.attempts, m.uncertain_attempts, m.status,
            m.claimed_until::text AS lease
),
next_due AS (
  SELECT least(
    (SELECT min(due_at) FROM message_history WHERE status = 'pending' AND due_at > now()),
    (SELECT min(claimed_until) FROM message_history
      WHERE status = 'pending' AND due_at <= now() AND claimed_until >= now())
  ) AS at
)
SELECT claimed.*,
       ceil(extract(epoch FROM (next_due.at - now())) * 1000)::float8 AS next_due_in_ms
FROM next_due LEFT JOIN claimed ON true
`;

interface ClaimRow {
  id: number | null;
  contact_id: number | null;
  conversation_id: number | string | null;
  ticket_id: number | null;
  body: string | null;
  attempts: number | null;
  uncertain_attempts: number | null;
  status: string | null;
  lease: string | null;
  next_due_in_ms: number | null;
}

const conversationOf = (row: Pick<ClaimRow, 'conversation_id'>) => (row.conversation_id === null ? null : Number(row.conversation_id));

/** A row that holds a send lease, as the claim and a step batch's write (ADR 0013) both answer it. */
export interface LeasedRow {
  id: number;
  contact_id: number;
  conversation_id: number | string | null;
  ticket_id: number | null;
  body: string | null;
  attempts: number | null;
  uncertain_attempts: number | null;
  lease: string;
}

export function leasedReply(row: LeasedRow): ClaimedReply {
  return {
    kind: 'send',
    id: row.id,
    contactId: row.contact_id,
    conversationId: conversationOf(row),
    ticketId: row.ticket_id,
    body: row.body ?? '',
    attempts: row.attempts ?? 0,
    uncertainAttempts: row.uncertain_attempts ?? 0,
    claimedUntil: row.lease,
  };
}

function decodeClaim(rows: readonly ClaimRow[]): ClaimResult {
  const replies: ClaimedReply[] = [];
  const givenUp: GivenUpReply[] = [];
  for (const row of rows) {
    if (row.id === null || row.contact_id === null) continue; // the LEFT JOIN's row when nothing was claimed
    if (row.status === 'failed') {
      givenUp.push({ kind: 'given_up', id: row.id, contactId: row.contact_id, conversationId: conversationOf(row), uncertainAttempts: row.uncertain_attempts ?? 0 });
      continue;
    }
    if (row.lease === null) throw new Error(`claimed reply ${row.id} has no lease`);
    replies.push(leasedReply({ ...row, id: row.id, contact_id: row.contact_id, lease: row.lease }));
  }
  const next = rows[0]?.next_due_in_ms ?? null;
  const nextDueInMs = next === null ? null : Math.max(0, next);
  return { replies, givenUp, nextDueInMs };
}

// Every row of the batch in one UPDATE: sent (or dry run), back in line with its retry time, or
// failed. The lease guard drops an outcome for a row that is no longer ours (cancelled meanwhile,
// or reclaimed after its lease ran out). A reply that went out after its due time (a slow claim, a
// slow GOSAC), or was put back for a retry, moves the contact's later replies, those due after it,
// by as much: each still goes out its own delay after the one before (ADR 0001), as the contact
// sees them. `planned` is the row as it was before this statement (the FROM list's snapshot).
const RECORD_OUTCOMES_SQL = `
WITH written AS (
  UPDATE message_history m
  SET status = o.status,
      sent_at = CASE WHEN o.status IN ('sent', 'dry_run') THEN now() ELSE m.sent_at END,
      due_at = CASE WHEN o.retry_in_ms IS NULL THEN m.due_at
                    ELSE now() + make_interval(secs => o.retry_in_ms / 1000.0) END,
      claimed_until = NULL,
      attempts = CASE WHEN o.release THEN m.attempts - 1 ELSE m.attempts END,
      last_error = CASE WHEN o.release THEN m.last_error ELSE o.last_error END,
      uncertain_attempts = m.uncertain_attempts + o.uncertain
  FROM unnest(:ids::bigint[], :leases::timestamptz[], :statuses::text[], :retryInMs::bigint[],
              :errors::text[], :uncertainCounts::int[], :releases::boolean[])
    AS o(id, lease, status, retry_in_ms, last_error, uncertain, release)
  JOIN message_history planned ON planned.id = o.id
  WHERE m.id = o.id
    AND m.status = 'pending'
    AND m.claimed_until = o.lease
  RETURNING m.id, m.contact_id, planned.due_at AS planned_at,
            CASE WHEN m.status IN ('sent', 'dry_run') THEN now()
                 WHEN o.retry_in_ms IS NOT NULL THEN m.due_at END AS went_at
),
shifted AS (
  UPDATE message_history later
  SET due_at = later.due_at + (written.went_at - written.planned_at)
  FROM written
  WHERE written.went_at > written.planned_at
    AND later.contact_id = written.contact_id
    AND later.direction = 'outbound'
    AND later.id > written.id
    AND later.status = 'pending'
    AND later.due_at > written.planned_at
  RETURNING later.id
)
SELECT id FROM written
`;

function statusAfter(outcome: OutcomeWrite): string {
  switch (outcome.kind) {
    case 'sent':
      return outcome.status;
    case 'failed':
      return 'failed';
    case 'retry':
    case 'release':
      return 'pending';
  }
}

// Bindings are knex's named ones (`:name`); a name must not be a type that a `::cast` names (text, int …).
export function createOutboxRepository(db: Database | Knex.Transaction): OutboxRepository {
  return {
    async claim(limit, leaseMs) {
      const result = await db.raw<{ rows: ClaimRow[] }>(CLAIM_SQL, {
        limit,
        leaseSeconds: leaseMs / 1000,
        maxUncertain: MAX_UNCERTAIN_ATTEMPTS,
        givenUpReason: UNCERTAIN_FAILURE_REASON,
      }).options(preparedStatement('outbox_claim'));
      return decodeClaim(result.rows);
    },

    async recordOutcomes(outcomes) {
      if (outcomes.length === 0) return [];
      // Not prepared (ADR 0012): its generic plan ran ten times slower on a million-row table.
      const result = await db.raw<{ rows: Array<{ id: number }> }>(RECORD_OUTCOMES_SQL, {
        ids: outcomes.map((outcome) => outcome.id),
        leases: outcomes.map((outcome) => outcome.claimedUntil),
        statuses: outcomes.map(statusAfter),
        retryInMs: outcomes.map((outcome) => (outcome.kind === 'retry' ? Math.max(0, Math.round(outcome.delayMs)) : null)),
        errors: outcomes.map((outcome) => (outcome.kind === 'retry' || outcome.kind === 'failed' ? outcome.error : null)),
        uncertainCounts: outcomes.map((outcome) => ((outcome.kind === 'retry' || outcome.kind === 'failed') && outcome.uncertain ? 1 : 0)),
        releases: outcomes.map((outcome) => outcome.kind === 'release'),
      });
      const written = new Set(result.rows.map((row) => row.id));
      return outcomes.map((outcome) => written.has(outcome.id));
    },
  };
}
