/**
 * The discovery and live-events parts of the wire protocol (hub features server/hub/discovery.ts
 * and server/hub/events.ts <-> the dashboard's probe picker and events section). The messages
 * are defined in lib/schema/events.ts; this module re-exports their types and limits under the
 * names the code uses. Documented field by field in docs/protocol.md.
 *
 * Event probes are shared by every viewer (like latency probes): one viewer adds a probe,
 * everyone sees its rows. Times are wall-clock ms since the epoch.
 */
export { DISCOVERY_LIMIT, MAX_DISCOVERY_TEXT, MAX_EVENT_PROBES, MAX_EVENT_SPEC_LENGTH } from './schema/events.ts';
export type {
  DiscoveredObject,
  DiscoveredProcess,
  DiscoveredSymbol,
  DiscoveredTracepoint,
  DiscoveredUsdt,
  DiscoverObjectsRequest,
  DiscoverProcessesRequest,
  DiscoverSymbolsRequest,
  DiscoverTracepointsRequest,
  DiscoverUsdtRequest,
  DiscoveryList,
  EventBatch,
  EventFieldValue,
  EventProbeInfo,
  EventProbeList,
  EventProbeState,
  EventRow,
  EventsAdded,
  EventsAddRequest,
  EventsRemoveRequest,
} from './schema/events.ts';

/** The server sends each viewer at most one batch per probe this often (ms). */
export const EVENTS_BATCH_INTERVAL_MS = 250;
/** Most rows in one batch (the newest ones; the rest are counted in `skipped`). */
export const EVENTS_BATCH_ROWS = 2500;
/** Rows the server keeps per probe (a ring: the newest ones). */
export const EVENTS_RING_ROWS = 5000;
