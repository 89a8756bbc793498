import { expect } from 'chai';
import { addDays, isTimeZone, localDate, startOfLocalDay } from '../../src/shared/time-zone.js';

describe('time zones: day boundaries for analytics', () => {
  it('knows IANA names and refuses offsets and made-up names', () => {
    for (const name of ['America/Sao_Paulo', 'UTC', 'Etc/GMT+3', 'Europe/Berlin', 'America/Argentina/Buenos_Aires']) {
      expect(isTimeZone(name), name).to.equal(true);
    }
    for (const name of ['Mars/Olympus', '+03:00', 'UTC-3', 'GMT+3', '', 'America/Sao Paulo', "x'; DROP TABLE y"]) {
      expect(isTimeZone(name), name).to.equal(false);
    }
  });

  it('finds the first instant of a day, DST nights included', () => {
    const start = (date: string, zone: string) => new Date(startOfLocalDay(date, zone)).toISOString();
    expect(start('2026-11-23', 'America/Sao_Paulo')).to.equal('2026-11-23T03:00:00.000Z');
    expect(start('2026-11-23', 'UTC')).to.equal('2026-11-23T00:00:00.000Z');
    // São Paulo's clocks jumped from 00:00 to 01:00 on 2018-11-04 and fell back at midnight on 2018-02-18.
    expect(start('2018-11-04', 'America/Sao_Paulo')).to.equal('2018-11-04T03:00:00.000Z');
    expect(start('2018-02-18', 'America/Sao_Paulo')).to.equal('2018-02-18T03:00:00.000Z');
    expect(start('2026-03-29', 'Europe/Berlin')).to.equal('2026-03-28T23:00:00.000Z');
    expect(start('2026-10-25', 'Europe/Berlin')).to.equal('2026-10-24T22:00:00.000Z');
  });

  it('reads the local date of an instant and moves dates by days', () => {
    expect(localDate(Date.parse('2026-11-24T01:30:00Z'), 'America/Sao_Paulo')).to.equal('2026-11-23');
    expect(localDate(Date.parse('2026-11-24T01:30:00Z'), 'UTC')).to.equal('2026-11-24');
    expect(addDays('2026-02-28', 1)).to.equal('2026-03-01');
    expect(addDays('2026-01-01', -1)).to.equal('2025-12-31');
  });
});
