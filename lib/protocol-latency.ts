/**
 * The latency part of the wire protocol (hub feature server/hub/latency.ts <-> the dashboard's
 * latency section). The messages are defined in lib/schema/latency.ts; this module re-exports
 * their types and limits under the names the code uses. Documented in docs/protocol.md.
 *
 * Probes are shared by every viewer: one viewer adds a probe, everyone sees it.
 * All durations are nanoseconds.
 */
export type { LatencyProbeFrame } from './latency-view.ts';
export { MAX_LATENCY_PROBES, MAX_SPEC_LENGTH } from './schema/latency.ts';
export type {
  LatencyAddRequest,
  LatencyAdded,
  LatencyFrameMessage,
  LatencyProbeInfo,
  LatencyProbeList,
  LatencyProbeState,
  LatencyRemoveRequest,
} from './schema/latency.ts';
