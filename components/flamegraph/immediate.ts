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
 *
 * d3-flame-graph also binds its three listeners (click, mouseover, mouseout) to every drawn frame
 * on every update, and d3 removes and re-adds a listener each time: three thousand frames meant
 * eighteen thousand listener calls per update. Inside the same containers, `selection.on(type,
 * handler)` keeps the listener it added first and only swaps the handler that listener calls
 * (the newest handler runs, as with d3's own `on`).
 *
 * d3-flame-graph also sets every attribute of every drawn frame on every update (name, class,
 * height, fill, ...), most of them unchanged. Setting an SVG presentation attribute (fill, width,
 * height, transform) invalidates the element's style even when the value is the same, and style
 * recalculation was the largest single cost of an update on /bench/render. Inside the same
 * containers, `selection.attr(name, value)` writes an attribute only when its value changes
 * (d3's semantics otherwise: a function is called per element, null removes). The same for
 * `selection.style(name, value)` without priority and for the zero-length transition's `text`.
 */
import { selection, type Selection } from 'd3-selection';
import 'd3-transition'; // installs selection.prototype.transition, which we wrap

export const IMMEDIATE_CLASS = 'pb-d3-immediate';

type AnySelection = Selection<Element, unknown, Element | null, unknown>;
type Handler = (this: Element, event: Event, d: unknown) => void;
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
  /** Text content, replaced only where it changes (a label's text node replaced means its layout redone). */
  text(value: Value): this {
    this.target.each(function (this: Element, d: unknown, i: number, nodes: ArrayLike<Element>) {
      const v = typeof value === 'function' ? value.call(this, d, i, nodes as Element[]) : value;
      const text = v === null || v === undefined ? '' : String(v);
      if (this.textContent !== text) this.textContent = text;
    });
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

function inImmediateContainer(target: AnySelection): boolean {
  const node = target.node();
  return node !== null && typeof node.closest === 'function' && node.closest(`.${IMMEDIATE_CLASS}`) !== null;
}

/** A listener as d3-selection 3 records it on `element.__on`; ours also carry `swappable`. */
interface D3Listener {
  type: string;
  name: string;
  value: Handler;
  listener: (this: Element, event: Event) => void;
  options: unknown;
  swappable?: true;
}

/**
 * d3's `on(type, handler)` for one plain event type: the first call per element adds a listener
 * that calls the entry's current handler with (event, datum) as d3 does; later calls swap the
 * handler. Recorded where d3 records it, so `on(type)` and `on(type, null)` keep working.
 */
function swapListener(target: AnySelection, type: string, handler: Handler, options: unknown): void {
  target.each(function () {
    const element = this as Element & { __on?: D3Listener[] };
    const bound = element.__on?.find((entry) => entry.type === type && entry.name === '');
    if (bound?.swappable) {
      bound.value = handler;
      return;
    }
    const entry: D3Listener = {
      type,
      name: '',
      value: handler,
      listener(event) {
        entry.value.call(this, event, (this as Element & { __data__?: unknown }).__data__);
      },
      options,
      swappable: true,
    };
    if (bound) {
      element.removeEventListener(type, bound.listener, bound.options as EventListenerOptions);
      element.__on!.splice(element.__on!.indexOf(bound), 1);
    }
    element.addEventListener(type, entry.listener, options as AddEventListenerOptions);
    (element.__on ??= []).push(entry);
  });
}

/** Installs the wrappers once (idempotent). */
export function installImmediateTransitions(): void {
  if (installed) return;
  installed = true;
  type Method = (this: AnySelection, ...args: unknown[]) => unknown;
  const proto = selection.prototype as unknown as { transition: Method; on: Method; attr: Method };
  const originalTransition = proto.transition;
  const originalOn = proto.on;
  const originalAttr = proto.attr;
  const originalStyle = (proto as unknown as { style: Method }).style;
  (proto as unknown as { style: Method }).style = function (this: AnySelection, ...args: unknown[]) {
    const [name, value] = args;
    if (args.length !== 2 || typeof name !== 'string' || !inImmediateContainer(this)) return originalStyle.apply(this, args);
    return this.each(function (this: Element, d: unknown, i: number, nodes: ArrayLike<Element>) {
      const style = (this as HTMLElement).style;
      const v = typeof value === 'function' ? (value as (this: Element, d: unknown, i: number, nodes: ArrayLike<Element>) => unknown).call(this, d, i, nodes) : value;
      if (v === null || v === undefined) style.removeProperty(name);
      else if (style.getPropertyValue(name) !== String(v)) style.setProperty(name, String(v));
    });
  };
  proto.attr = function (this: AnySelection, ...args: unknown[]) {
    const [name, value] = args;
    // Only plain names set to a value: reading, namespaced names (`xlink:href`) go to d3.
    if (args.length < 2 || typeof name !== 'string' || name.includes(':') || !inImmediateContainer(this)) return originalAttr.apply(this, args);
    return this.each(function (this: Element, d: unknown, i: number, nodes: ArrayLike<Element>) {
      const v = typeof value === 'function' ? (value as (this: Element, d: unknown, i: number, nodes: ArrayLike<Element>) => unknown).call(this, d, i, nodes) : value;
      if (v === null || v === undefined) {
        this.removeAttribute(name);
        return;
      }
      const text = String(v);
      if (this.getAttribute(name) !== text) this.setAttribute(name, text);
    });
  };
  proto.transition = function (this: AnySelection, name?: unknown) {
    if (inImmediateContainer(this)) return new ImmediateTransition(this);
    return originalTransition.call(this, name);
  };
  proto.on = function (this: AnySelection, ...args: unknown[]) {
    const [type, handler, options] = args;
    // Only `on('click', fn)`-style calls: names (`click.foo`), several types, removal and reading go to d3.
    if (typeof type === 'string' && /^[a-z]+$/.test(type) && typeof handler === 'function' && inImmediateContainer(this)) {
      swapListener(this, type, handler as Handler, options);
      return this;
    }
    return originalOn.apply(this, args);
  };
}
