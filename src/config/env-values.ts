import { z } from 'zod';
import { parseByteSize } from './byte-size.js';

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

/**
 * A size such as `512m` or `1048576` (bytes) within bounds, from an environment string;
 * `hint` is the error's wording of the allowed range, with an example.
 */
export const byteSize = (fallback: string, min: number, max: number, hint: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const bytes = parseByteSize(value);
      if (bytes === undefined || bytes < min || bytes > max) {
        ctx.addIssue({ code: 'custom', message: hint });
        return z.NEVER;
      }
      return bytes;
    });
