import { z } from 'zod';

// Query strings arrive as text: numbers are coerced, and every problem names its parameter.

export const queryWholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** limit/offset paging shared by the list routes; the total goes out in `X-Total-Count`. */
export const pagingQueryFields = {
  limit: queryWholeNumber(1, 200).default(50).describe('page size, 1..200 (default 50)'),
  offset: queryWholeNumber(0, 1_000_000_000).default(0).describe('rows to skip (default 0)'),
};

export const contactIdQueryField = queryWholeNumber(1, Number.MAX_SAFE_INTEGER).optional().describe('only this GOSAC contact');
