import type { Task } from 'graphile-worker';
import type { ConversationRuntime } from '../../conversations/conversation-runtime.js';
import type { Logger } from '../../shared/logger.js';
import { contactIdOf } from '../job-queue.js';

/** process_contact: answers everything a contact sent since the last run (the debounced batch). */
export function createProcessContactTask(deps: { runtime: ConversationRuntime; logger: Logger }): Task {
  return async (payload, helpers) => {
    const contactId = contactIdOf(payload);
    const outcome = await deps.runtime.processContact(contactId, { signal: helpers.abortSignal });
    deps.logger.debug({ contactId, outcome }, 'process_contact done');
  };
}
