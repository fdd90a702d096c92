/** Scenes of the shared Menu for Menu.ct.ts (rendered by components/ui/testing/render.tsx). */
import { useState } from 'react';
import { useEventLog } from './testing/render.tsx';
import { Menu, MenuItem } from './Menu.tsx';

/** A 'menu' of three actions (the middle one disabled when `disableMiddle`), and a button outside it. */
export function Actions({ disableMiddle = false }: { disableMiddle?: boolean }) {
  const [log, add] = useEventLog();
  return (
    <div>
      <button type="button" data-testid="outside">
        outside
      </button>
      <Menu label="Actions ▾" buttonTestId="menu-button" header={<p data-testid="menu-header">Pick one:</p>}>
        {({ close }) =>
          ['copy', 'paste', 'delete'].map((action) => (
            <MenuItem
              key={action}
              data-testid={`item-${action}`}
              disabled={disableMiddle && action === 'paste'}
              onClick={() => {
                add(action);
                close();
              }}
            >
              {action}
            </MenuItem>
          ))
        }
      </Menu>
      {log}
    </div>
  );
}

/** A 'dialog' with a form, open state controlled by the scene (as the sessions menu does). */
export function Dialog() {
  const [log, add] = useEventLog();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  return (
    <div>
      <button type="button" data-testid="outside">
        outside
      </button>
      <p data-testid="open-state">{open ? 'open' : 'closed'}</p>
      <Menu
        kind="dialog"
        title="New session"
        label="Sessions ▾"
        buttonTestId="dialog-button"
        open={open}
        onOpenChange={(next) => {
          add(`open ${next}`);
          setOpen(next);
        }}
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add(`create ${name}`);
          }}
        >
          <input aria-label="Name" data-testid="dialog-name" value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" data-testid="dialog-create">
            New
          </button>
        </form>
      </Menu>
      {log}
    </div>
  );
}
