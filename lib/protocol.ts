/**
 * The probeboard wire protocol between the hub (server/hub) and browsers, over socket.io.
 *
 * Every message is defined once, as a schema in lib/schema/ (the types here are inferred from
 * those schemas and re-exported under the names the code uses); lib/schema/messages.ts lists
 * every message with its payload and reply, and the socket.io event maps below come from it.
 * Documented field by field in docs/protocol.md (checked against the schemas by
 * lib/schema/protocol-doc.test.ts). Bump PROTOCOL_VERSION on any incompatible change; the
 * server sends it in `hello` and a client that does not understand it must say so rather than
 * draw a wrong picture.
 *
 * Isomorphic: imported by the server and by the UI; no Node or DOM APIs here.
 */
import type { OffCpuSettings, ProfileSettings, ProfileType, ProfileUnit, ViewSettings } from './schema/view.ts';

export const PROTOCOL_VERSION = 1;

export {
  BLOCK_STATES,
  MAX_BLOCK_US,
  MAX_COMM_LEN,
  MAX_HZ,
  MIN_HZ,
  PROFILE_TYPES,
  STACK_MODES,
  TIME_WINDOWS,
} from './schema/view.ts';
export type {
  BlockState,
  ErrorMessage,
  FlameModule,
  FlameNode,
  FrameKind,
  Hello,
  OffCpuSettings,
  ProfileFrame,
  ProfileHealth,
  ProfileSettings,
  ProfileStatus,
  ProfileTarget,
  ProfileType,
  ProfileUnit,
  StackErrorCounts,
  StackMode,
  TimeWindow,
  ViewSettings,
} from './schema/view.ts';
export type { Ack, ClientToServerEvents, ServerToClientEvents, RequestName, ReplyOf, RequestPayload } from './schema/messages.ts';

export const DEFAULT_VIEW: ViewSettings = { window: '10s', stackMode: 'all', hideIdle: true, perThread: false };

export const DEFAULT_OFFCPU_SETTINGS: OffCpuSettings = { wakers: false, minBlockUs: 1, maxBlockUs: null, state: 'all' };

/** Unit of a flame graph's widths (FlameNode.v) for a profile type: samples, or µs of time. */
export function profileUnit(type: ProfileType | undefined): ProfileUnit {
  return type === 'offcpu' || type === 'wall' ? 'us' : 'samples';
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = { running: true, hz: 99, target: { kind: 'all' } };
