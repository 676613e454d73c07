import { z } from 'zod';

/** A whole number within bounds, from an environment string. */
export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** 1/0, true/false, yes/no, on/off (any case) as a boolean. */
export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off', '']))
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));
