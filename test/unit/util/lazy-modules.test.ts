import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { lazyFunction, lazyMembers, seedLazyModule } from '../../../src/util/lazy-modules.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lazy-modules-'));
  mkdirSync(path.join(dir, 'node_modules/heavy'), { recursive: true });
  // The heavy module counts its loads in a global, so the test sees when it really loads.
  writeFileSync(
    path.join(dir, 'node_modules/heavy/index.js'),
    `globalThis.heavyLoads = (globalThis.heavyLoads ?? 0) + 1;
     class Heavy { constructor(x) { this.x = x; } }
     module.exports = function heavy(a, b) { return a + b; };
     module.exports.Heavy = Heavy;
     module.exports.pack = (v) => 'packed ' + v;`,
  );
  writeFileSync(path.join(dir, 'user.js'), `module.exports = require('heavy');`);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete (globalThis as { heavyLoads?: number }).heavyLoads;
});

const loads = () => (globalThis as { heavyLoads?: number }).heavyLoads ?? 0;

it('loads the real module only when a function stand-in is first called', () => {
  const user = path.join(dir, 'user.js');
  seedLazyModule(user, 'heavy', lazyFunction);
  const heavy = createRequire(user)('./user.js') as (a: number, b: number) => number;
  expect(loads()).toBe(0);
  expect(heavy(2, 3)).toBe(5);
  expect(loads()).toBe(1);
  expect(heavy(4, 5)).toBe(9);
  expect(loads()).toBe(1);
});

it('constructs the real class through `new` on the stand-in', () => {
  const user = path.join(dir, 'user.js');
  writeFileSync(
    path.join(dir, 'node_modules/heavy/class.js'),
    `module.exports = require('./index.js').Heavy;`,
  );
  seedLazyModule(path.join(dir, 'node_modules/heavy/index.js'), './class.js', lazyFunction);
  const Heavy = createRequire(user)('heavy/class.js') as new (x: number) => { x: number };
  expect(loads()).toBe(0);
  const made = new Heavy(7);
  expect(made.x).toBe(7);
  expect(made.constructor.name).toBe('Heavy');
});

it('forwards named members, and leaves a module that is loaded already alone', () => {
  const user = path.join(dir, 'user.js');
  seedLazyModule(user, 'heavy', lazyMembers(['pack']));
  const heavy = createRequire(user)('heavy') as { pack(v: string): string };
  expect(loads()).toBe(0);
  expect(heavy.pack('it')).toBe('packed it');
  expect(loads()).toBe(1);
  seedLazyModule(user, 'heavy', lazyFunction); // real one cached now: no stand-in
  expect(typeof (createRequire(user)('heavy') as { Heavy?: unknown }).Heavy).toBe('function');
});

it('does nothing for a module that cannot be found', () => {
  expect(() =>
    seedLazyModule(path.join(dir, 'user.js'), 'no-such-module', lazyFunction),
  ).not.toThrow();
});
