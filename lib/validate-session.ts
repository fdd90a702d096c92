/**
 * Validation of the session messages a browser sends (lib/protocol-session.ts).
 * Like lib/validate.ts: a typed value or a one-line reason naming the wrong field; never throws.
 */
import { STACK_MODES, TIME_WINDOWS, type StackMode, type TimeWindow } from './protocol.ts';
import { MAX_FOLLOW_NAME, MAX_FOLLOW_PATH, MAX_SEARCH, type FollowView } from './protocol-session.ts';
import { isRecord, unknownKeys, type Checked } from './validate.ts';

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function checkPath(input: unknown, field: string): Checked<string[]> {
  if (!Array.isArray(input)) return fail(`follow.${field} must be an array of frame names`);
  if (input.length > MAX_FOLLOW_PATH) return fail(`follow.${field} is deeper than ${MAX_FOLLOW_PATH} frames`);
  for (const name of input) {
    if (typeof name !== 'string' || name.length > MAX_FOLLOW_NAME) {
      return fail(`follow.${field} must hold frame names of at most ${MAX_FOLLOW_NAME} characters`);
    }
  }
  return { ok: true, value: input as string[] };
}

/** The presenter's view (`follow:set`). */
export function checkFollowView(input: unknown): Checked<FollowView> {
  if (!isRecord(input)) return fail('follow view must be an object');
  const extra = unknownKeys(input, ['window', 'stackMode', 'hideIdle', 'zoom', 'search', 'selected', 'focus', 'icicle']);
  if (extra) return fail(`follow view: ${extra}`);
  if (!TIME_WINDOWS.includes(input.window as TimeWindow)) return fail(`follow.window must be one of ${TIME_WINDOWS.join(', ')}`);
  if (!STACK_MODES.includes(input.stackMode as StackMode)) return fail(`follow.stackMode must be one of ${STACK_MODES.join(', ')}`);
  if (typeof input.hideIdle !== 'boolean') return fail('follow.hideIdle must be true or false');
  if (typeof input.icicle !== 'boolean') return fail('follow.icicle must be true or false');
  const zoom = checkPath(input.zoom, 'zoom');
  if (!zoom.ok) return zoom;
  let selected: string[] | null = null;
  if (input.selected !== null) {
    const checked = checkPath(input.selected, 'selected');
    if (!checked.ok) return checked;
    selected = checked.value;
  }
  if (typeof input.search !== 'string' || input.search.length > MAX_SEARCH) {
    return fail(`follow.search must be a string of at most ${MAX_SEARCH} characters`);
  }
  if (input.focus !== null && (typeof input.focus !== 'string' || input.focus.length > 64)) {
    return fail('follow.focus must be null or a probe id');
  }
  return {
    ok: true,
    value: {
      window: input.window as TimeWindow,
      stackMode: input.stackMode as StackMode,
      hideIdle: input.hideIdle,
      icicle: input.icicle,
      zoom: zoom.value,
      search: input.search,
      selected,
      focus: input.focus as string | null,
    },
  };
}
