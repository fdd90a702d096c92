/**
 * What a hub feature (profile, latency, events, discovery) plugs into the hub with.
 *
 * The hub owns connections, authentication, validation and flow control; a feature owns its
 * events. The hub checks every request's payload against its schema (lib/schema/messages.ts)
 * before the handler runs, so handlers get typed values; whatever they throw becomes an error
 * reply (`error:message` and a failed ack) and nothing else stops.
 */
import type { Socket } from 'socket.io';
import type { Ack, FlameNode, ProfileType, ViewSettings } from '../../lib/protocol.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type {
  CheckedPayload,
  ClientToServerEvents,
  ReplyOf,
  RequestName,
  ServerMessage,
  ServerMessageName,
  ServerToClientEvents,
} from '../../lib/schema/messages.ts';

/** Per-connection state every feature can keep data in (under its own key). */
export interface ViewerData {
  features: Map<string, unknown>;
  /** Flow control: per stream key, whether a message is in flight and the newest pending one. */
  streams: Map<string, { inFlight: boolean; pending: { event: string; payload: unknown } | null; seq: number; sentAtMs: number }>;
}

/** The socket.io event maps of lib/schema/messages.ts, the same ones the dashboard's socket has. */
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ViewerData>;

/** The server messages a client acknowledges (flow-controlled through `sendLatest`). */
export type FlowControlledName = {
  [E in ServerMessageName]: Parameters<ServerToClientEvents[E]>[1] extends () => void ? E : never;
}[ServerMessageName];

/** A refusal meant for the user (sent back as is). */
export class RequestError extends Error {}

export interface HubContext {
  /** Every connected socket. */
  sockets(): Iterable<HubSocket>;
  /**
   * Flow-controlled send: at most one unacknowledged message per (socket, stream) in flight and
   * one pending (the newest; older pending ones are dropped and counted). `payload.seq` is
   * stamped per stream. The client must call the acknowledgement callback.
   */
  sendLatest<E extends FlowControlledName>(socket: HubSocket, stream: string, event: E, payload: Omit<ServerMessage<E>, 'seq'>): void;
  /** Plain broadcast to every viewer (small, rare messages such as status). */
  broadcast<E extends ServerMessageName>(event: E, payload: ServerMessage<E>): void;
  /**
   * Stores an update in the session's recording, when one is running (a no-op otherwise).
   * `kind` names the update (e.g. 'profile.interval'); `payload` must be plain JSON data.
   */
  record(kind: string, payload: unknown): void;
  /** True while the session records (a feature may then record its current state once). */
  recording(): boolean;
}

/**
 * The handler of request `E`: it gets the payload already checked against the request's schema
 * (the hub checks it before any handler runs) and returns the reply's value (or a promise of it).
 */
export type RequestHandler<E extends RequestName> = (socket: HubSocket, payload: CheckedPayload<E>) => ReplyOf<E> | Promise<ReplyOf<E>>;

/** A handler of an event outside the protocol (tests' own events): its payload is unchecked. */
export type Handler = (socket: HubSocket, payload: never) => unknown;

/** Handlers by event: the protocol's requests typed by lib/schema/messages.ts, any other event open. */
export type RequestHandlers = { [E in RequestName]?: RequestHandler<E> } & { [event: string]: Handler | undefined };

export interface HubFeature {
  /** Client events handled, by name. The return value (awaited) is the ack's `value`. */
  handlers: RequestHandlers;
  /**
   * The handlers a read-only viewer may call (per-connection view changes). Every other handler
   * needs an operator: the hub refuses it before the feature sees it.
   */
  viewerHandlers?: readonly string[];
  /** Sends the initial state to a new viewer. */
  onConnect?(socket: HubSocket): void;
  onDisconnect?(socket: HubSocket): void;
  close?(): Promise<void>;
  exports?: FeatureExports;
  /** A recording just started: record the current state (probe lists, newest frames) once. */
  onRecordingStart?(): void;
}

/**
 * The current pictures a feature offers to exports (HTTP `/api/sessions/:id/export`, recording
 * snapshots): plain values, computed on request.
 */
export interface FeatureExports {
  /**
   * The flame graph of one view of the current window. `type` says what widths count: samples
   * (cpu) or µs (offcpu, wall; lib/protocol.ts profileUnit).
   */
  flame?(view: ViewSettings): { tree: FlameNode; totalSamples: number; windowStartMs: number; windowEndMs: number; hz: number; type: ProfileType };
  /** The newest frame of a latency probe, or null when there is no such probe. */
  latency?(id: string): LatencyProbeFrame | null;
}

export type FeatureFactory = (context: HubContext) => HubFeature;

export type AckFn = (reply: Ack<unknown>) => void;
