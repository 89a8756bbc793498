// SPEC §10 constructs as machine transitions, with a fake clock: the timer effects a step returns
// are "scheduled" in memory and fed back with `fireTimer` when the fake clock reaches them, the
// way the runtime's timer stage does it from conversation_timers.
import { expect } from 'chai';
import {
  compileFlow,
  fireTimer,
  isWithinBusinessHours,
  startConversation,
  stepConversation,
  businessHoursSchema,
  type BusinessHours,
  type Effect,
  type FlowDefinition,
  type StepResult,
  type UserInput,
} from '../../machines/index.js';
import { contact, flowOf, msg, say, sent, sub } from './helpers.js';

const MIN = 60_000;

/** A conversation driven by a fake clock: inputs at `clock`, timers fired when it passes them. */
function harness(definition: FlowDefinition, businessHours: BusinessHours | null = null) {
  const flow = compileFlow(definition);
  let clock = Date.UTC(2026, 10, 30, 13, 0); // Monday 10:00 in São Paulo
  let snapshot: unknown = null;
  let done = false;
  const timers = new Map<string, { due: number; type: string }>();
  const log: string[] = [];

  function apply(step: StepResult) {
    for (const effect of step.effects) {
      if (effect.kind === 'timer_cancelled') timers.delete(effect.sendId);
      if (effect.kind === 'timer') timers.set(effect.sendId, { due: clock + effect.delayMs, type: effect.event.type });
    }
    log.push(...sent(step.effects.filter((effect: Effect) => effect.kind !== 'timer' && effect.kind !== 'timer_cancelled')));
    snapshot = step.snapshot;
    done = step.done;
  }
  const input = (text: string): UserInput => ({ type: 'USER_INPUT', text, file: null, at: clock, cooldownMs: 0, businessHours });

  return {
    flow,
    log,
    timers,
    get done() {
      return done;
    },
    get snapshot() {
      return snapshot;
    },
    setClock(at: number) {
      clock = at;
    },
    send(text: string) {
      apply(snapshot === null ? startConversation(flow, contact, input(text)) : stepConversation(flow, snapshot, input(text)));
    },
    /** Moves the fake clock on, firing every timer that comes due on the way, in due order. */
    advance(ms: number) {
      const until = clock + ms;
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].due - b[1].due)[0];
        if (!next || next[1].due > until || done) break;
        timers.delete(next[0]);
        clock = next[1].due;
        apply(fireTimer(flow, snapshot, { type: next[1].type, at: clock, cooldownMs: 0, businessHours }));
      }
      clock = until;
    },
  };
}

describe('SPEC §10 constructs (machines/attendant.ts)', () => {
  describe('reminder', () => {
    const definition = flowOf(sub(1, [say(1, 'oi'), msg(2, 'menu', { reminderAfterMinutes: 0.05, reminderText: 'ainda aí?' })]), sub(2, [msg(3, 'nome?')], { triggerKeywords: ['1'] }));

    it('is an after transition in the drawn machine', () => {
      const { config } = compileFlow(definition);
      const menu = (config['states'] as any).sf_1.states.msg_2;
      expect(menu.initial).to.equal('silence');
      expect(Object.keys(menu.states.silence.after)).to.deep.equal(['3000']);
    });

    it('is sent once after that much silence', () => {
      const h = harness(definition);
      h.send('Oi');
      expect(h.log).to.deep.equal(['flow:1:oi', 'flow:2:menu']);
      h.advance(2_999);
      expect(h.log).to.have.length(2);
      h.advance(1);
      expect(h.log).to.deep.equal(['flow:1:oi', 'flow:2:menu', 'reminder:2:ainda aí?']);
      h.advance(60 * MIN);
      expect(h.log).to.have.length(3);
    });

    it('is not sent after an answer, and restarts on an input that stays on the message', () => {
      const h = harness(definition);
      h.send('Oi');
      h.advance(2_000);
      h.send('hã'); // a re-prompt: the silence starts again
      h.advance(2_500);
      expect(h.log).to.deep.equal(['flow:1:oi', 'flow:2:menu', 'reprompt:2:menu']);
      h.advance(500);
      expect(h.log.at(-1)).to.equal('reminder:2:ainda aí?');
      const other = harness(definition);
      other.send('Oi');
      other.send('1');
      other.advance(10 * MIN);
      expect(other.log).to.deep.equal(['flow:1:oi', 'flow:2:menu', 'keyword:2:1', 'flow:3:nome?']);
    });

    it('defaults to the message text', () => {
      const h = harness(flowOf(sub(1, [msg(1, 'menu', { reminderAfterMinutes: 1 })])));
      h.send('Oi');
      h.advance(MIN);
      expect(h.log).to.deep.equal(['flow:1:menu', 'reminder:1:menu']);
    });
  });

  describe('closing', () => {
    const definition: FlowDefinition = {
      ...flowOf(sub(1, [msg(1, 'menu', { reminderAfterMinutes: 1 })]), sub(2, [msg(2, 'nome?')], { triggerKeywords: ['1'] })),
      closeAfterMinutes: 2,
      closeText: 'tchau',
    };

    it('closes a silent conversation with its text after the reminder, into the final closed state', () => {
      const h = harness(definition);
      h.send('Oi');
      h.advance(2 * MIN);
      expect(h.log).to.deep.equal(['flow:1:menu', 'reminder:1:menu', 'close:1:tchau', 'closed']);
      expect(h.done).to.equal(true);
      expect((h.snapshot as { value: unknown }).value).to.equal('closed');
    });

    it('counts from the last input, on every waiting message', () => {
      const h = harness(definition);
      h.send('Oi');
      h.advance(MIN + 59_000);
      h.send('1');
      h.advance(MIN + 59_000);
      expect(h.done).to.equal(false);
      h.advance(1_000);
      expect(h.log.slice(-2)).to.deep.equal(['close:2:tchau', 'closed']);
    });

    it('leaves out a reminder that would come when (or after) the conversation closes', () => {
      const { config } = compileFlow({ ...definition, subflows: [sub(1, [msg(1, 'menu', { reminderAfterMinutes: 5 })])] });
      expect(Object.keys((config['states'] as any).sf_1.states.msg_1.states.silence.after)).to.deep.equal(['120000']);
    });
  });

  describe('re-prompt limit', () => {
    const definition = flowOf(
      sub(1, [msg(1, 'menu', { maxReprompts: 2, fallbackSubflowId: 3 })]),
      sub(2, [msg(2, 'nome?')], { triggerKeywords: ['1'] }),
      sub(3, [msg(3, 'ajuda')]),
    );

    it('the third invalid answer in a row goes to the fallback; a keyword still wins', () => {
      const h = harness(definition);
      h.send('Oi');
      h.send('x');
      h.send('y');
      expect(h.log).to.deep.equal(['flow:1:menu', 'reprompt:1:menu', 'reprompt:1:menu']);
      h.send('z');
      expect(h.log.at(-1)).to.equal('flow:3:ajuda');
      const other = harness(definition);
      other.send('Oi');
      other.send('x');
      other.send('y');
      other.send('1');
      expect(other.log.at(-1)).to.equal('flow:2:nome?');
    });

    it('counts again from zero when the message is entered anew', () => {
      const back = flowOf(
        sub(1, [msg(1, 'menu', { maxReprompts: 1, fallbackSubflowId: 3 })], { triggerKeywords: ['menu'] }),
        sub(3, [msg(3, 'ajuda')]),
      );
      const h = harness(back);
      h.send('Oi');
      h.send('x');
      h.send('menu');
      h.send('y');
      expect(h.log).to.deep.equal(['flow:1:menu', 'reprompt:1:menu', 'keyword:1:menu', 'flow:1:menu', 'reprompt:1:menu']);
    });
  });

  describe('business hours', () => {
    const hours = businessHoursSchema.parse({
      timezone: 'America/Sao_Paulo',
      week: { mon: [['08:00', '12:00'], ['13:00', '18:00']], sat: [['08:00', '12:00']] },
      holidays: ['2026-12-25'],
    });
    const definition = flowOf(
      sub(1, [msg(1, 'menu')]),
      sub(2, [say(2, 'atendente')], { triggerKeywords: ['2'], businessHoursOnly: true, outOfHoursSubflowId: 3 }),
      sub(3, [say(3, 'fora do horário')]),
    );

    it('evaluates the schedule in its time zone, with holidays closed', () => {
      expect(isWithinBusinessHours(hours, Date.UTC(2026, 10, 30, 11, 0))).to.equal(true); // Mon 08:00 local
      expect(isWithinBusinessHours(hours, Date.UTC(2026, 10, 30, 10, 59))).to.equal(false); // Mon 07:59
      expect(isWithinBusinessHours(hours, Date.UTC(2026, 10, 30, 15, 30))).to.equal(false); // lunch 12:30
      expect(isWithinBusinessHours(hours, Date.UTC(2026, 11, 1, 13, 0))).to.equal(false); // Tuesday: no windows
      expect(isWithinBusinessHours(hours, Date.UTC(2026, 11, 25, 13, 0))).to.equal(false); // Friday holiday
      expect(isWithinBusinessHours(null, 0)).to.equal(true);
    });

    it('refuses unknown time zones, bad times and overlapping windows', () => {
      const problems = (value: unknown) => {
        const parsed = businessHoursSchema.safeParse(value);
        return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      };
      expect(problems({ timezone: 'Mars/Olympus', week: {} })).to.deep.equal(['timezone: unknown time zone "Mars/Olympus"']);
      expect(problems({ timezone: 'UTC', week: { mon: [['8:00', '25:00']] } })).to.have.length(2);
      expect(problems({ timezone: 'UTC', week: { mon: [['08:00', '12:00'], ['11:00', '13:00']] } })).to.deep.equal(['week.mon: windows must not overlap']);
      expect(problems({ timezone: 'UTC', week: { mon: [['12:00', '08:00']] } })).to.deep.equal(['week.mon.0: must end after it starts']);
      expect(problems({ timezone: 'UTC', week: {}, holidays: ['2026-02-30'] })).to.deep.equal(['holidays.0: must be a real calendar date']);
    });

    it('enters the subflow in hours and the out-of-hours subflow outside them, by the input time', () => {
      const inHours = harness(definition, hours);
      inHours.setClock(Date.UTC(2026, 10, 30, 14, 0)); // Mon 11:00
      inHours.send('Oi');
      inHours.send('2');
      expect(inHours.log.slice(-3)).to.deep.equal(['keyword:2:2', 'flow:2:atendente', 'completed']);

      const holiday = harness(definition, hours);
      holiday.setClock(Date.UTC(2026, 11, 25, 14, 0)); // Christmas, Friday 11:00
      holiday.send('Oi');
      holiday.send('2');
      expect(holiday.log.slice(-3)).to.deep.equal(['keyword:2:2', 'flow:3:fora do horário', 'completed']);
    });

    it('draws the check as a transient state of the subflow; loops of out-of-hours subflows do not compile', () => {
      const { config } = compileFlow(definition);
      expect((config['states'] as any).sf_2.initial).to.equal('hours_check');
      expect(() =>
        compileFlow(flowOf(sub(1, [msg(1, 'a')], { businessHoursOnly: true, outOfHoursSubflowId: 2 }), sub(2, [msg(2, 'b')], { businessHoursOnly: true, outOfHoursSubflowId: 1 }))),
      ).to.throw(/out-of-hours subflows form a loop/);
    });
  });

  describe('hand-off', () => {
    it('the last message of a handoff subflow hands over and rests there with no timers', () => {
      const definition: FlowDefinition = {
        ...flowOf(sub(1, [msg(1, 'menu', { reminderAfterMinutes: 1 })]), sub(2, [say(2, 'um atendente já vem')], { triggerKeywords: ['2'], handoff: true })),
        closeAfterMinutes: 5,
      };
      const h = harness(definition);
      h.send('Oi');
      h.send('2');
      expect(h.log).to.deep.equal(['flow:1:menu', 'keyword:2:2', 'flow:2:um atendente já vem', 'handoff:2']);
      expect(h.timers.size).to.equal(0);
      expect(h.done).to.equal(false);
      h.advance(60 * MIN);
      expect(h.log).to.have.length(4);
    });
  });

  it('compiles flows without §10 fields exactly as before (no silence states, no new guards)', () => {
    const { config } = compileFlow(flowOf(sub(1, [say(1, 'oi'), msg(2, 'menu')])));
    const json = JSON.stringify(config);
    expect(json).to.not.match(/silence|hours_check|repromptLimitReached|closed/);
  });
});
