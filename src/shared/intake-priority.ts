// Intake first (ADR 0009). GOSAC waits for our answer to every webhook, while a reply can come a
// moment later; in a process that both takes webhooks and steps conversations, both share one
// JavaScript thread. So while webhooks pile up, background batches take turns: one at a time,
// and after a batch of n inputs the next one waits until n × `webhooksPerInput` more webhooks
// were answered (at most `maxWaitMs`). Stepping an input and sending its reply cost a few
// webhooks' worth of CPU, so webhooks get most of the thread during a flood, and the replies
// catch up after it. Without a pile-up batches run at once: the rule never leaves the thread idle.
// Nor does it once no webhook has been waiting for `quietMs`: then webhooks stopped coming, as
// they do when the conversations are the ones waiting, each for its reply (a busy hour of
// conversations at full speed is a closed loop, and holding replies back only slows it down).
//
// "Piling up" is the number of webhooks waiting for an answer, averaged over the last
// `averageMs` (answers leave in groups: one group commit answers dozens, so the count itself
// swings from dozens to none many times a second; and conversations at full speed send their
// webhooks in bursts, a batch of replies bringing a batch of answers, which is not a flood),
// while the thread is busy (`busyAt` of the last window): webhooks that wait on a slow disk
// would not be answered sooner by holding the batches back. The flood is over once both are
// below half their thresholds.

import { performance } from 'node:perf_hooks';
import { createWakeSignal } from './wake-signal.js';

export interface IntakePriority {
  /** A webhook request arrived; call the returned function once it is answered (twice is harmless). */
  begin(): () => void;
  /** Runs a background batch now, or, while webhooks pile up, at its turn; `claimed` is its size. */
  run<T extends { readonly claimed: number }>(batch: () => Promise<T>): Promise<T>;
}

export interface IntakePriorityOptions {
  /** Average number of webhooks waiting for an answer from which intake is falling behind. */
  readonly congestedAt: number;
  /** Time constant of that average, and the window the thread's busyness is measured over. */
  readonly averageMs: number;
  /** Share of a window the event loop spent running code, from which the thread counts as busy. */
  readonly busyAt: number;
  /** Webhooks answered per input a batch took, before the next batch's turn during a flood. */
  readonly webhooksPerInput: number;
  /** Longest wait for a turn, so replies never stop for long during a flood. */
  readonly maxWaitMs: number;
  /** No webhook waiting for this long: nobody is served by holding a batch back. */
  readonly quietMs: number;
}

// 16 webhooks waiting on average is ~3,000 webhooks/s at the 5 ms a webhook takes when the
// thread is free (Little's law), or a thread so busy that each waits 50 ms at 300/s: a flood,
// not a busy hour (300 conversations at full speed average ~9). Intake alone at its ceiling
// keeps the loop ~90 % busy, so 0.8 holds the rule through a flood. A step and its reply cost
// about three webhooks of CPU (bench/README.md): 20 webhooks per input leaves webhooks ~85 % of it.
// Clients that flood us send their next webhook within a millisecond of an answer; 5 ms without
// any means they are not sending.
export const INTAKE_PRIORITY: IntakePriorityOptions = { congestedAt: 16, averageMs: 100, busyAt: 0.8, webhooksPerInput: 20, maxWaitMs: 1_000, quietMs: 5 };

/** The event loop's utilisation over the last completed window of `windowMs`, from node's own counters. */
export function eventLoopBusyness(windowMs: number): () => number {
  let mark = performance.eventLoopUtilization();
  let last = 0;
  return () => {
    const delta = performance.eventLoopUtilization(mark);
    if (delta.idle + delta.active >= windowMs) {
      last = delta.utilization;
      mark = performance.eventLoopUtilization();
    }
    return last;
  };
}

/** For processes that take no webhooks (ROLE=worker): batches always run at once. */
export const noIntakePriority: IntakePriority = {
  begin: () => () => {},
  run: (batch) => batch(),
};

export function createIntakePriority(
  options: IntakePriorityOptions = INTAKE_PRIORITY,
  now: () => number = () => performance.now(),
  busyness: () => number = eventLoopBusyness(options.averageMs),
): IntakePriority {
  let waiting = 0;
  /** Since when no webhook has been waiting; undefined while one is. */
  let quietSince: number | undefined = now();
  // Time-weighted moving average of `waiting`, brought up to date at every change and check.
  let average = 0;
  let averagedAt = now();
  let turnTaken = false;
  /** Webhooks still to answer before the next turn during a flood. */
  let debt = 0;
  let lastTurnEnded = Number.NEGATIVE_INFINITY;
  // Poked when something a waiting batch looks at changed: a debt paid, the flood over, a turn ended.
  const change = createWakeSignal();

  function updateAverage(): number {
    const at = now();
    const weight = Math.exp(-(at - averagedAt) / options.averageMs);
    average = average * weight + waiting * (1 - weight);
    averagedAt = at;
    return average;
  }
  // Hysteresis: a flood is declared at both thresholds and over only well below them, so one
  // quieter window does not let every waiting batch out at once.
  let flooded = false;
  function flooding(): boolean {
    const pile = updateAverage();
    const busy = busyness();
    flooded = flooded
      ? pile >= options.congestedAt / 2 && busy >= options.busyAt / 2
      : pile >= options.congestedAt && busy >= options.busyAt;
    return flooded;
  }

  return {
    begin() {
      updateAverage();
      waiting += 1;
      quietSince = undefined;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        updateAverage();
        waiting -= 1;
        if (waiting === 0) quietSince = now();
        if (debt > 0) debt -= 1;
        if (debt === 0 || !flooding()) change.poke();
      };
    },
    async run(batch) {
      for (;;) {
        if (!flooding()) return batch();
        const at = now();
        const waitedOut = at - lastTurnEnded >= options.maxWaitMs;
        const quietFor = quietSince === undefined ? 0 : at - quietSince;
        if (!turnTaken && (debt === 0 || waitedOut || quietFor >= options.quietMs)) break;
        // A flood that ends while nobody is answered is seen at the latest a time constant later.
        const untilQuiet = quietSince === undefined ? options.averageMs : options.quietMs - quietFor;
        await change.wait(Math.max(1, Math.min(options.averageMs, untilQuiet, turnTaken ? options.maxWaitMs : lastTurnEnded + options.maxWaitMs - at)));
      }
      turnTaken = true;
      let claimed = 0;
      try {
        const report = await batch();
        claimed = report.claimed;
        return report;
      } finally {
        debt = claimed * options.webhooksPerInput;
        lastTurnEnded = now();
        turnTaken = false;
        change.poke();
      }
    },
  };
}
