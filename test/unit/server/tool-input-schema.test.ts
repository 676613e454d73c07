import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  executorArgumentSchemas,
  executorTools,
} from '../../../src/server/executor/definitions.js';
import { parseRunPythonArgs } from '../../../src/server/run-python-args.js';
import { runPythonTool } from '../../../src/server/run-python-tool.js';

/**
 * Every tool's advertised inputSchema against the validation of its arguments: each type,
 * bound, pattern and required field the schema states is exactly what validation accepts
 * and refuses, so a client that follows the schema is never refused and a bound cannot
 * exist on one side only. The probes are derived from the advertised schema itself.
 */

type Arguments = Record<string, unknown>;

interface PropertySchema {
  type?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: PropertySchema;
}

/** The keywords these probes understand; a schema using another one fails the test. */
const KNOWN_KEYWORDS = new Set([
  'type',
  'description',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
]);

/** For each pattern the tools advertise: a string it matches and one it does not. */
const PATTERN_PROBES: Record<string, { matching: string; notMatching: string }> = {
  '\\S': { matching: ' x ', notMatching: ' \n\t\u00a0' },
  '^[\\w.-]{1,64}$': { matching: 'a.b-c_1', notMatching: 'a/b' },
};

const limits = { defaultTimeoutSeconds: 30, maxTimeoutSeconds: 120 };
const executorSchemas = executorArgumentSchemas(limits.defaultTimeoutSeconds);

const tools: { tool: Tool; accepts: (args: Arguments) => boolean }[] = [
  { tool: runPythonTool(limits), accepts: (args) => parseRunPythonArgs(args, limits).ok },
  ...executorTools(limits.defaultTimeoutSeconds).map((tool) => ({
    tool,
    accepts: (args: Arguments) =>
      executorSchemas[tool.name as keyof typeof executorSchemas].safeParse(args).success,
  })),
];

function validString(schema: PropertySchema): string {
  const base = schema.pattern === undefined ? 'x' : patternProbe(schema.pattern).matching;
  return base.padEnd(schema.minLength ?? 0, 'x');
}

function patternProbe(pattern: string): { matching: string; notMatching: string } {
  const probe = PATTERN_PROBES[pattern];
  if (!probe) throw new Error(`no probe strings for the pattern ${pattern}: add them`);
  return probe;
}

function validValue(schema: PropertySchema): unknown {
  switch (schema.type ?? 'untyped') {
    case 'string':
      return validString(schema);
    case 'integer':
      return schema.minimum ?? schema.maximum ?? 0;
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => validValue(schema.items ?? {}));
    default:
      throw new Error(`no valid value for the type ${String(schema.type)}: add one`);
  }
}

const TYPE_SAMPLES: [string, unknown][] = [
  ['string', 'x'],
  ['integer', 7],
  ['boolean', true],
  ['array', []],
  ['object', {}],
  ['null', null],
];

/** Values of the wrong JSON type for a property of `type`. */
function wrongTypes(type: string | undefined): unknown[] {
  return TYPE_SAMPLES.filter(([name]) => name !== type).map(([, sample]) => sample);
}

/** [value, accepted?] pairs at and just beyond each bound the property advertises. */
function boundProbes(schema: PropertySchema): [unknown, boolean][] {
  const probes: [unknown, boolean][] = [];
  if (schema.type === 'integer') {
    probes.push([1.5, false]);
    if (schema.minimum === undefined) probes.push([Number.MIN_SAFE_INTEGER, true]);
    else probes.push([schema.minimum, true], [schema.minimum - 1, false]);
    if (schema.maximum === undefined) probes.push([Number.MAX_SAFE_INTEGER, true]);
    else probes.push([schema.maximum, true], [schema.maximum + 1, false]);
  }
  if (schema.type === 'string') {
    const minLength = schema.minLength ?? 0;
    if (schema.pattern === undefined) probes.push(['x'.repeat(minLength), true]);
    if (minLength > 0) probes.push(['x'.repeat(minLength - 1), false]);
    if (schema.maxLength !== undefined) {
      probes.push(['x'.repeat(schema.maxLength), true], ['x'.repeat(schema.maxLength + 1), false]);
    }
    if (schema.pattern !== undefined) {
      const { matching, notMatching } = patternProbe(schema.pattern);
      probes.push([matching, true], [notMatching, false]);
    }
  }
  if (schema.type === 'array') {
    const item = validValue(schema.items ?? {});
    if (schema.maxItems !== undefined) {
      probes.push(
        [Array.from({ length: schema.maxItems }, () => item), true],
        [Array.from({ length: schema.maxItems + 1 }, () => item), false],
      );
    }
    for (const wrong of wrongTypes(schema.items?.type)) probes.push([[wrong], false]);
  }
  return probes;
}

describe.each(tools)('$tool.name: advertised inputSchema = validation', ({ tool, accepts }) => {
  const schema = tool.inputSchema;
  const properties = (schema.properties ?? {}) as Record<string, PropertySchema>;
  const required = new Set(schema.required ?? []);
  const valid: Arguments = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, validValue(property)]),
  );

  it('uses only keywords the probes understand, and names no dialect', () => {
    expect(Object.keys(schema).sort()).toEqual(
      ['properties', 'required', 'type'].filter((key) => key in schema),
    );
    expect(schema.type).toBe('object');
    for (const property of Object.values(properties)) {
      for (const keyword of Object.keys(property)) expect(KNOWN_KEYWORDS).toContain(keyword);
      expect(property.description).toBeTruthy();
    }
  });

  it('accepts arguments built from the schema, and keys it does not name', () => {
    expect(accepts(valid)).toBe(true);
    // No additionalProperties: false is advertised, and none is enforced.
    expect(accepts({ ...valid, not_a_parameter: 1 })).toBe(true);
  });

  it.each(Object.keys(properties))('%s: required exactly when advertised so', (name) => {
    const without = Object.fromEntries(Object.entries(valid).filter(([key]) => key !== name));
    expect(accepts(without)).toBe(!required.has(name));
  });

  it.each(Object.entries(properties))('%s: refuses every other type', (name, property) => {
    for (const wrong of wrongTypes(property.type)) {
      expect(accepts({ ...valid, [name]: wrong }), JSON.stringify(wrong)).toBe(false);
    }
  });

  it.each(Object.entries(properties))(
    '%s: accepts up to each bound, not beyond',
    (name, property) => {
      for (const [value, accepted] of boundProbes(property)) {
        const shown = JSON.stringify(value)?.slice(0, 60);
        expect(accepts({ ...valid, [name]: value }), shown).toBe(accepted);
      }
    },
  );
});

describe('the advertised schemas', () => {
  it('state the bounds validation enforces, e.g. the history limit', () => {
    const history = executorTools(30).find((tool) => tool.name === 'get_execution_history');
    expect(history?.inputSchema.properties?.limit).toMatchObject({ minimum: 1, maximum: 1000 });
  });

  it('name the clamped timeout maximum in the description, not as a bound', () => {
    const timeout = runPythonTool(limits).inputSchema.properties?.timeout;
    expect(timeout).toMatchObject({ description: 'Seconds (default 30, at most 120)' });
    expect(parseRunPythonArgs({ code: 'x', timeout: 121 }, limits)).toMatchObject({
      ok: true,
      args: { timeoutSeconds: 120 },
    });
  });
});
