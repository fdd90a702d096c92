/**
 * What a hub feature (profile, latency, events, discovery) plugs into the hub with.
 *
 * The hub owns connections, authentication, validation plumbing and flow control; a feature
 * owns its events. Handlers receive untrusted payloads and must validate them; whatever they
 * throw becomes an error reply (`error:message` and a failed ack) and nothing else stops.
 */
import type { Socket } from 'socket.io';
import type { Ack, FlameNode, ProfileType, ViewSettings } from '../../lib/protocol.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';

/** Per-connection state every feature can keep data in (under its own key). */
export interface ViewerData {
  features: Map<string, unknown>;
  /** Flow control: per stream key, whether a message is in flight and the newest pending one. */
  streams: Map<string, { inFlight: boolean; pending: { event: string; payload: unknown } | null; seq: number; sentAtMs: number }>;
}

/** Event maps stay open here: each feature validates its own payloads (lib/validate.ts style). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenEvents = Record<string, (...args: any[]) => void>;
export type HubSocket = Socket<OpenEvents, OpenEvents, Record<string, never>, ViewerData>;

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
  sendLatest(socket: HubSocket, stream: string, event: string, payload: object): void;
  /** Plain broadcast to every viewer (small, rare messages such as status). */
  broadcast(event: string, payload: unknown): void;
  /**
   * Stores an update in the session's recording, when one is running (a no-op otherwise).
   * `kind` names the update (e.g. 'profile.interval'); `payload` must be plain JSON data.
   */
  record(kind: string, payload: unknown): void;
  /** True while the session records (a feature may then record its current state once). */
  recording(): boolean;
}

export type Handler = (socket: HubSocket, payload: unknown) => unknown | Promise<unknown>;

export interface HubFeature {
  /** Client events handled, by name. The return value (awaited) is the ack's `value`. */
  handlers: Record<string, Handler>;
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
