/**
 * Zero-length transitions, applied synchronously.
 *
 * d3-flame-graph always animates through d3-transition, even with `transitionDuration(0)`: every
 * frame of every update gets transition objects, a timer, and a transform interpolation (which
 * makes the browser parse and consolidate an SVG transform list per frame), and nothing reaches
 * the DOM before the next animation frame. For a 10,000-frame live update that was most of the
 * cost. Inside containers marked with IMMEDIATE_CLASS, `selection.transition()` returns a stand-in
 * that applies `attr`/`style`/`text` at once and ignores timing. Everything else on the page
 * keeps real d3 transitions.
 */
import { selection, type Selection } from 'd3-selection';
import 'd3-transition'; // installs selection.prototype.transition, which we wrap

export const IMMEDIATE_CLASS = 'pb-d3-immediate';

type AnySelection = Selection<Element, unknown, Element | null, unknown>;
type Value = string | number | boolean | null | ((this: Element, d: unknown, i: number, nodes: Element[]) => unknown);

/** The subset of d3's Transition API that d3-flame-graph uses, applied immediately. */
class ImmediateTransition {
  constructor(private readonly target: AnySelection) {}
  duration(): this {
    return this;
  }
  delay(): this {
    return this;
  }
  ease(): this {
    return this;
  }
  attr(name: string, value: Value): this {
    this.target.attr(name, value as never);
    return this;
  }
  style(name: string, value: Value, priority?: 'important' | null): this {
    this.target.style(name, value as never, priority ?? undefined);
    return this;
  }
  text(value: Value): this {
    this.target.text(value as never);
    return this;
  }
  on(): this {
    return this;
  }
  transition(): this {
    return this;
  }
  selection(): AnySelection {
    return this.target;
  }
}

let installed = false;

/** Installs the wrapper once (idempotent). */
export function installImmediateTransitions(): void {
  if (installed) return;
  installed = true;
  const proto = selection.prototype as unknown as { transition: (this: AnySelection, name?: unknown) => unknown };
  const original = proto.transition;
  proto.transition = function (this: AnySelection, name?: unknown) {
    const node = this.node();
    if (node && typeof node.closest === 'function' && node.closest(`.${IMMEDIATE_CLASS}`)) {
      return new ImmediateTransition(this);
    }
    return original.call(this, name);
  };
}
