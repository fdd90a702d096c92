/**
 * Every message the server sends to browsers over socket.io, by name, with its schema. Apart
 * from lib/schema/messages.ts (which re-exports it, next to the client requests) so that the
 * dashboard, which checks each message it receives against these schemas
 * (components/session/serverMessages.ts), imports only the schemas of what it receives
 * (`compare:progress` is defined here for that reason: recording.ts is mostly requests).
 */
import * as v from 'valibot';
import { check, type Result } from './core.ts';
import { ErrorMessageSchema, FlameTreeInPlaceSchema, HelloSchema, ProfileFrameSchema, ProfileStatusSchema } from './view.ts';
import { LatencyFrameMessageSchema, LatencyProbeListSchema } from './latency.ts';
import { EventBatchSchema, EventProbeListSchema, EventRowsInPlaceSchema } from './events.ts';
import { FollowViewSchema, SessionClosedSchema, SessionStateSchema, ViewerLinkInfoSchema, ViewerLinkRemovedSchema } from './session.ts';

/**
 * `compare:progress`, to the socket that asked, while a comparison runs: ms of recording time
 * read (both windows together), first `done: 0`, last `done: total`. `requestId` numbers the
 * hub's comparisons (1, 2, …); the final result comes in the `compare:windows` reply.
 */
export const CompareProgressSchema = v.object({ requestId: v.number(), done: v.number(), total: v.number() });
export type CompareProgress = v.InferOutput<typeof CompareProgressSchema>;

const message = <S extends v.GenericSchema>(schema: S) => ({ schema, flowControlled: false as const });
/** A message the client must acknowledge once applied (server/hub flow control). */
const flowControlled = <S extends v.GenericSchema>(schema: S) => ({ schema, flowControlled: true as const });

/** Server -> client messages. */
export const SERVER_MESSAGES = {
  hello: message(HelloSchema),
  'error:message': message(ErrorMessageSchema),
  'profile:status': message(ProfileStatusSchema),
  'profile:frame': flowControlled(ProfileFrameSchema),
  'latency:probes': message(LatencyProbeListSchema),
  'latency:frame': flowControlled(LatencyFrameMessageSchema),
  'events:probes': message(EventProbeListSchema),
  'events:batch': flowControlled(EventBatchSchema),
  'session:state': message(SessionStateSchema),
  'link:added': message(ViewerLinkInfoSchema),
  'link:removed': message(ViewerLinkRemovedSchema),
  'follow:view': message(FollowViewSchema),
  'session:closed': message(SessionClosedSchema),
  'compare:progress': message(CompareProgressSchema),
} as const;

export type ServerMessageName = keyof typeof SERVER_MESSAGES;
export type ServerMessage<E extends ServerMessageName> = v.InferOutput<(typeof SERVER_MESSAGES)[E]['schema']>;

/** socket.io's map of the events the server emits; flow-controlled ones carry an acknowledgement callback. */
export type ServerToClientEvents = {
  [E in ServerMessageName]: (typeof SERVER_MESSAGES)[E]['flowControlled'] extends true
    ? (payload: ServerMessage<E>, ack: () => void) => void
    : (payload: ServerMessage<E>) => void;
};

/**
 * How the dashboard checks what it receives: each message's schema, except for the two big ones
 * that flow all the time, whose bulk (every node of a flame graph, every row of a batch) is
 * checked in place with the same rules, without a copy (FlameTreeInPlaceSchema,
 * EventRowsInPlaceSchema; costs in bench/collector-events.ts). Everything else in them is
 * checked as its schema says.
 */
const RECEIVED = {
  ...SERVER_MESSAGES,
  'profile:frame': flowControlled(v.object({ ...ProfileFrameSchema.entries, tree: FlameTreeInPlaceSchema })),
  'events:batch': flowControlled(v.object({ ...EventBatchSchema.entries, rows: EventRowsInPlaceSchema })),
} as const satisfies Record<ServerMessageName, unknown>;

/** True for a name the server sends. */
export function isServerMessageName(name: string): name is ServerMessageName {
  return Object.hasOwn(SERVER_MESSAGES, name);
}

/**
 * Checks a message the server sent against its schema: the checked payload, or one line naming
 * the message and the field (`profile:frame: tree.c[3].v must be a number, got "x"`).
 */
export function checkServerMessage<E extends ServerMessageName>(event: E, payload: unknown): Result<ServerMessage<E>> {
  return check(RECEIVED[event].schema, payload, { context: event }) as Result<ServerMessage<E>>;
}
