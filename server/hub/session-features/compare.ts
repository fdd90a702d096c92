/**
 * Window comparison as a hub-level feature: `compare:windows` (operator-only) returns the flame
 * graphs of two time ranges of one recording, built from its profile intervals.
 */
import { DEFAULT_VIEW } from '../../../lib/protocol.ts';
import { checkView } from '../../../lib/validate.ts';
import { RequestError } from '../feature.ts';
import { flameOfRecording, recordingRange } from '../recording.ts';
import type { HubLevelFeatureFactory } from './feature.ts';

export const compareFeature: HubLevelFeatureFactory = (hub) => ({
  handlers: {
    'compare:windows': (_socket, _session, payload) => {
      const request = payload as { recordingId?: unknown; before?: unknown; after?: unknown; view?: unknown };
      if (typeof request.recordingId !== 'string') throw new RequestError('compare:windows takes {recordingId, before: {fromMs, toMs}, after: {fromMs, toMs}, view?}');
      const view = checkView(request.view ?? { ...DEFAULT_VIEW, window: 'all' });
      if (!view.ok) throw new RequestError(view.error);
      const before = recordingRange(request.before, 'before');
      const after = recordingRange(request.after, 'after');
      try {
        return {
          before: flameOfRecording(hub.store(), request.recordingId, before, view.value),
          after: flameOfRecording(hub.store(), request.recordingId, after, view.value),
        };
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
    },
  },
});
