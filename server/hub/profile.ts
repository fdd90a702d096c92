/**
 * Hub feature: the shared live flame graph.
 *
 * Each viewer has its own view (window, stack mode, idle); sampling settings are shared.
 * Each interval one tree is built per distinct view in use, not per viewer.
 */
import { DEFAULT_VIEW, type ViewSettings } from '../../lib/protocol.ts';
import type { ProfilePipeline } from '../pipeline/profile.ts';
import type { FeatureFactory, HubSocket } from './feature.ts';
import { PROFILE_INTERVAL, PROFILE_STATUS } from './recording.ts';
import { recordedInterval } from '../symbolizer/interned.ts';

const KEY = 'profile';

function viewOf(socket: HubSocket): ViewSettings {
  return (socket.data.features.get(KEY) as ViewSettings | undefined) ?? DEFAULT_VIEW;
}

export function profileFeature(pipeline: ProfilePipeline): FeatureFactory {
  return (hub) => {
    const sendFrame = (socket: HubSocket, view: ViewSettings) =>
      hub.sendLatest(socket, KEY, 'profile:frame', pipeline.frame(view));

    const stopInterval = pipeline.onInterval((_endMs, interval) => {
      if (hub.recording()) hub.record(PROFILE_INTERVAL, recordedInterval(interval));
      const byView = new Map<string, { view: ViewSettings; sockets: HubSocket[] }>();
      for (const socket of hub.sockets()) {
        const view = viewOf(socket);
        const key = JSON.stringify(view);
        let group = byView.get(key);
        if (!group) byView.set(key, (group = { view, sockets: [] }));
        group.sockets.push(socket);
      }
      for (const { view, sockets } of byView.values()) {
        const frame = pipeline.frame(view);
        for (const socket of sockets) hub.sendLatest(socket, KEY, 'profile:frame', frame);
      }
    });
    const stopStatus = pipeline.onStatus((status) => {
      hub.broadcast('profile:status', status);
      hub.record(PROFILE_STATUS, status);
    });

    return {
      onConnect(socket) {
        socket.data.features.set(KEY, { ...DEFAULT_VIEW });
        socket.emit('profile:status', pipeline.status());
        sendFrame(socket, DEFAULT_VIEW);
      },
      viewerHandlers: ['view:set'],
      onRecordingStart() {
        hub.record(PROFILE_STATUS, pipeline.status());
      },
      exports: {
        flame: (view) => {
          const frame = pipeline.frame(view);
          return {
            tree: frame.tree,
            totalSamples: frame.totalSamples,
            windowStartMs: frame.windowStartMs,
            windowEndMs: frame.windowEndMs,
            hz: frame.settings.hz,
            type: frame.settings.type ?? 'cpu',
          };
        },
      },
      handlers: {
        // Payloads arrive checked by the hub (lib/schema/view.ts ViewSettingsSchema, ProfileChangeSchema).
        'view:set': (socket, view) => {
          socket.data.features.set(KEY, view);
          const stream = socket.data.streams.get(KEY);
          if (stream) stream.pending = null; // a frame of the old view is no longer wanted
          sendFrame(socket, view);
          return undefined;
        },
        'profile:configure': async (_socket, change) => pipeline.configure(change),
      },
      async close() {
        stopInterval();
        stopStatus();
      },
    };
  };
}
