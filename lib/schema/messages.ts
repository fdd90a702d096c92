/**
 * Every socket.io message, by name, with its schema: the requests a browser sends (payload and
 * reply) and the messages the server sends (SERVER_MESSAGES, in server-messages.ts so that the
 * dashboard, which checks them, does not bundle the request schemas). The socket.io event maps of the server
 * (server/hub/feature.ts) and of the dashboard (components/session/useProfileSession.ts) are
 * derived from these two tables, and docs/protocol.md is checked against them
 * (lib/schema/protocol-doc.test.ts), so a message exists in one place.
 */
import * as v from 'valibot';
import { check, type CheckOptions, type Result } from './core.ts';
import { ProfileChangeSchema, ProfileSettingsSchema, ViewSettingsSchema } from './view.ts';
import { LatencyAddedSchema, LatencyAddRequestSchema, LatencyProbeListSchema, LatencyRemoveRequestSchema } from './latency.ts';
import {
  DiscoveredObjectSchema,
  DiscoveredProcessSchema,
  DiscoveredSymbolSchema,
  DiscoveredTracepointSchema,
  DiscoveredUsdtSchema,
  DiscoverObjectsRequestSchema,
  DiscoverProcessesRequestSchema,
  DiscoverSymbolsRequestSchema,
  DiscoverTracepointsRequestSchema,
  DiscoverUsdtRequestSchema,
  discoveryList,
  EventsAddedSchema,
  EventsAddRequestSchema,
  EventsRemoveRequestSchema,
} from './events.ts';
import {
  FollowViewSchema,
  LinkCreateRequestSchema,
  LinkRevokeRequestSchema,
  NoPayloadSchema,
  SessionCloseRequestSchema,
  SessionCreateRequestSchema,
  SessionOpenedSchema,
  SessionStateSchema,
  SessionSummarySchema,
  ViewerLinkCreatedSchema,
  ViewerLinkInfoSchema,
  ReplayStateSchema,
} from './session.ts';
import {
  CompareWindowsReplySchema,
  CompareWindowsRequestSchema,
  RecordingDeleteRequestSchema,
  RecordingStartedSchema,
  RecordingSummarySchema,
  RecordStartRequestSchema,
  ReplayControlSchema,
  ReplayOpenedSchema,
  ReplayOpenRequestSchema,
  SnapshotIdRequestSchema,
  SnapshotPinRequestSchema,
  SnapshotRecordSchema,
  SnapshotSummarySchema,
} from './recording.ts';

export { SERVER_MESSAGES, type ServerMessage, type ServerMessageName, type ServerToClientEvents } from './server-messages.ts';

/** Reply to every client request (socket.io acknowledgement). */
export type Ack<T = undefined> = { ok: true; value?: T } | { ok: false; error: string };

const NoReply = v.undefined();
const request = <P extends v.GenericSchema, R extends v.GenericSchema>(payload: P, reply: R) => ({ payload, reply });

/** Client -> server requests: what each takes, and the value of its successful reply. */
export const CLIENT_REQUESTS = {
  // profile (server/hub/profile.ts)
  'view:set': request(ViewSettingsSchema, NoReply),
  'profile:configure': request(ProfileChangeSchema, ProfileSettingsSchema),
  // latency (server/hub/latency.ts)
  'latency:add': request(LatencyAddRequestSchema, LatencyAddedSchema),
  'latency:remove': request(LatencyRemoveRequestSchema, NoReply),
  // events and discovery (server/hub/events.ts, discovery.ts)
  'events:add': request(EventsAddRequestSchema, EventsAddedSchema),
  'events:remove': request(EventsRemoveRequestSchema, NoReply),
  'discover:tracepoints': request(DiscoverTracepointsRequestSchema, discoveryList(DiscoveredTracepointSchema)),
  'discover:processes': request(DiscoverProcessesRequestSchema, discoveryList(DiscoveredProcessSchema)),
  'discover:objects': request(DiscoverObjectsRequestSchema, discoveryList(DiscoveredObjectSchema)),
  'discover:symbols': request(DiscoverSymbolsRequestSchema, discoveryList(DiscoveredSymbolSchema)),
  'discover:usdt': request(DiscoverUsdtRequestSchema, discoveryList(DiscoveredUsdtSchema)),
  // sessions and links
  'session:state': request(NoPayloadSchema, SessionStateSchema),
  'session:list': request(NoPayloadSchema, v.array(SessionSummarySchema)),
  'session:create': request(SessionCreateRequestSchema, SessionOpenedSchema),
  'session:close': request(SessionCloseRequestSchema, NoReply),
  'link:create': request(LinkCreateRequestSchema, ViewerLinkCreatedSchema),
  'link:revoke': request(LinkRevokeRequestSchema, ViewerLinkInfoSchema),
  'follow:set': request(FollowViewSchema, NoReply),
  // recording, replay, snapshots, compare
  'record:start': request(RecordStartRequestSchema, RecordingStartedSchema),
  'record:stop': request(NoPayloadSchema, RecordingSummarySchema),
  'recordings:list': request(NoPayloadSchema, v.array(RecordingSummarySchema)),
  'recording:delete': request(RecordingDeleteRequestSchema, NoReply),
  'replay:open': request(ReplayOpenRequestSchema, ReplayOpenedSchema),
  'replay:control': request(ReplayControlSchema, ReplayStateSchema),
  'snapshot:pin': request(SnapshotPinRequestSchema, SnapshotSummarySchema),
  'snapshots:list': request(NoPayloadSchema, v.array(SnapshotSummarySchema)),
  'snapshot:get': request(SnapshotIdRequestSchema, SnapshotRecordSchema),
  'snapshot:delete': request(SnapshotIdRequestSchema, NoReply),
  'compare:windows': request(CompareWindowsRequestSchema, CompareWindowsReplySchema),
} as const;

export type RequestName = keyof typeof CLIENT_REQUESTS;
/** A request's payload as the client sends it (what the schema takes). */
export type RequestPayload<E extends RequestName> = v.InferInput<(typeof CLIENT_REQUESTS)[E]['payload']>;
/** A request's payload once checked (what a handler gets). */
export type CheckedPayload<E extends RequestName> = v.InferOutput<(typeof CLIENT_REQUESTS)[E]['payload']>;
/** The value of a request's successful reply. */
export type ReplyOf<E extends RequestName> = v.InferOutput<(typeof CLIENT_REQUESTS)[E]['reply']>;

/** socket.io's map of the events a client may send (payload, then the acknowledgement). */
export type ClientToServerEvents = {
  [E in RequestName]: (payload: RequestPayload<E>, ack: (reply: Ack<ReplyOf<E>>) => void) => void;
};


/** True for a name a client may send. */
export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(CLIENT_REQUESTS, name);
}

/**
 * Checks the payload of request `event` against its schema. Errors name the request:
 * `latency:add: pid must be a whole number from 1 to 4194304, got 0`.
 */
export function checkRequest<E extends RequestName>(event: E, payload: unknown, options: CheckOptions = {}): Result<CheckedPayload<E>> {
  return check(CLIENT_REQUESTS[event].payload, payload, { context: event, ...options }) as Result<CheckedPayload<E>>;
}
