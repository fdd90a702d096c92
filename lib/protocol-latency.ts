/**
 * The latency part of the wire protocol (hub feature server/hub/latency.ts <-> the dashboard's
 * latency section). Isomorphic: no Node or DOM APIs. Documented in docs/protocol.md.
 *
 * Probes are shared by every viewer: one viewer adds a probe, everyone sees it.
 * All durations are nanoseconds.
 */
import type { Ack } from './protocol.ts';
import type { LatencyProbeFrame } from './latency-view.ts';

export type { LatencyProbeFrame } from './latency-view.ts';

/** Most latency probes live at once on one server (a further add is refused). */
export const MAX_LATENCY_PROBES = 16;
/** Longest spec text accepted. */
export const MAX_SPEC_LENGTH = 512;

/**
 * running: attached and read every interval.
 * stale: still attached, but the traced binary was deleted or replaced (it watches the old file).
 * ended: detached by the server (the traced process exited, or reading failed); `error` says why.
 *        Its last frame stays visible until a viewer removes it.
 */
export type LatencyProbeState = 'running' | 'stale' | 'ended';

/** One probe in `latency:probes`. */
export interface LatencyProbeInfo {
  /** Server-assigned id (`lat-N`), stable while the probe is listed. */
  id: string;
  /** Canonical spec text. */
  spec: string;
  /** The `--pid` filter, or null. */
  pid: number | null;
  /** The `--comm` filter, or null. */
  comm: string | null;
  /** Linear parts per log2 bucket the probe counts (percentiles within 1/subBuckets); absent in recordings made before it existed. */
  subBuckets?: number;
  state: LatencyProbeState;
  /** Why the probe is stale or ended; null while running. */
  error: string | null;
  /** Wall-clock ms since the epoch when it was added. */
  addedAtMs: number;
}

/** Server -> client `latency:probes`: the whole list, sent on connection and on every change. */
export interface LatencyProbeList {
  probes: LatencyProbeInfo[];
  /** Most live (running or stale) probes at once. */
  max: number;
}

/** Client -> server `latency:add`. */
export interface LatencyAddRequest {
  /** A probe spec (lib/probe-spec.ts grammar), e.g. `uprobe:c:malloc`. */
  spec: string;
  /** Only this process (tgid); it must exist. */
  pid?: number;
  /** Only threads with this command name (at most 15 bytes). */
  comm?: string;
  /** Linear parts per log2 bucket, 1..16 (default 8): percentiles within 1/N of the truth. */
  subBuckets?: number;
}

/** Value of a successful `latency:add` acknowledgement. */
export interface LatencyAdded {
  id: string;
  /** Canonical spec text. */
  spec: string;
}

/** Client -> server `latency:remove`. */
export interface LatencyRemoveRequest {
  id: string;
}

/** Server -> client `latency:frame`: one probe's picture, flow-controlled per probe. */
export type LatencyFrameMessage = LatencyProbeFrame & {
  /** 1, 2, 3… per connection and probe. */
  seq: number;
};

export interface LatencyServerToClientEvents {
  'latency:probes': (list: LatencyProbeList) => void;
  /** Flow-controlled per probe: the client must call `ack` once it has applied the frame. */
  'latency:frame': (frame: LatencyFrameMessage, ack: () => void) => void;
}

export interface LatencyClientToServerEvents {
  'latency:add': (request: LatencyAddRequest, ack?: (reply: Ack<LatencyAdded>) => void) => void;
  'latency:remove': (request: LatencyRemoveRequest, ack?: (reply: Ack) => void) => void;
}
