import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameColor, frameRgb } from './colors.ts';

test('deterministic per (name, kind)', () => {
  assert.equal(frameColor('main', 'u'), frameColor('main', 'u'));
  assert.notEqual(frameColor('main', 'u'), frameColor('main', 'k'));
  assert.match(frameColor('x', 'j'), /^rgb\(\d+,\d+,\d+\)$/);
});

test('palettes: user warm, kernel blue, JIT green, synthetic grey', () => {
  for (const name of ['main', 'do_syscall_64', 'LazyCompile:*fib', '[unknown]', 'a', '']) {
    const [ur, ug, ub] = frameRgb(name, 'u');
    assert.ok(ur >= 205 && ub <= 55 && ug <= 230, `user ${name}`);
    const [kr, kg, kb] = frameRgb(name, 'k');
    assert.ok(kb > kg && kg > kr && kb >= 215, `kernel ${name}`);
    const [jr, jg, jb] = frameRgb(name, 'j');
    assert.ok(jg > jr && jg > jb, `jit ${name}`);
    const [xr, xg, xb] = frameRgb(name, 'x');
    assert.ok(xr === xg && xg === xb, `synthetic ${name}`);
  }
});
