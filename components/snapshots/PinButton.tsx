'use client';
/**
 * "Pin" (operators): saves the current picture as a named snapshot on the server
 * (`snapshot:pin`). The name field opens under the button, prefilled.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import type { SnapshotSummary } from '../../lib/protocol-session.ts';
import type { RequestPayload } from '../../lib/protocol.ts';

/** A `snapshot:pin` request without its name (the button asks for it). */
type PinRequest = RequestPayload<'snapshot:pin'> extends infer R ? (R extends unknown ? Omit<R, 'name'> : never) : never;
import { buttonClass, inputClass } from '../controls/Field.tsx';
import { Menu } from '../ui/Menu.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';

export function PinButton({
  send,
  request,
  defaultName,
  disabled,
  testId = RECORDING_TEST_IDS.flamePin,
}: {
  send: ProfileSession['send'];
  /** The pin request without its name: `{kind:'flame', view}` or `{kind:'histogram', probe}`. */
  request: PinRequest;
  defaultName: () => string;
  disabled?: boolean;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onOpenChange = useCallback(
    (next: boolean) => {
      // Each opening starts from a fresh default name.
      if (next) {
        setName(defaultName());
        setError(null);
      }
      setOpen(next);
    },
    [defaultName],
  );

  async function pin(e: FormEvent, close: () => void) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const reply = await send('snapshot:pin', { ...request, name: name.trim() } as RequestPayload<'snapshot:pin'>);
      if (!reply.ok) {
        setError(reply.error);
        return;
      }
      setDone(reply.value?.name ?? name);
      close();
      window.dispatchEvent(new CustomEvent('probeboard:snapshots-changed'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Menu
      kind="dialog"
      title="Pin a snapshot"
      label="📌 Pin"
      buttonTestId={testId}
      buttonTitle={done ? `Pinned "${done}"` : 'Pin this picture as a snapshot (listed under Snapshots)'}
      disabled={disabled}
      open={open}
      onOpenChange={onOpenChange}
      panelClassName="w-72 p-3"
    >
      {({ close }) => (
        <form noValidate onSubmit={(e) => void pin(e, close)} className="flex flex-col gap-2">
          <input
            data-testid={RECORDING_TEST_IDS.pinName}
            aria-label="Snapshot name"
            value={name}
            maxLength={80}
            onChange={(e) => setName(e.target.value)}
            className={inputClass}
          />
          <button type="submit" data-testid={RECORDING_TEST_IDS.pinSave} disabled={busy || name.trim() === ''} className={buttonClass}>
            Save snapshot
          </button>
          {error && (
            <p role="alert" data-testid={RECORDING_TEST_IDS.pinError} className="text-xs text-rose-400">
              {error}
            </p>
          )}
        </form>
      )}
    </Menu>
  );
}
