'use client';
/**
 * The dashboard's one dropdown: a button that opens a popover below it (right-aligned).
 *
 * - kind 'menu': a list of actions. The popover holds `role="menu"` with `MenuItem`s
 *   (`role="menuitem"`); ArrowDown/ArrowUp/Home/End move between the enabled items, opening puts
 *   the focus on the first one (ArrowUp on the button: the last one), Tab closes the menu.
 *   Text around the list (a caption, an error) goes in `header`/`footer`, outside the menu role.
 * - kind 'dialog': a panel with its own form or list (sessions, viewer links, recordings):
 *   `role="dialog"`, named by `title`; opening puts the focus on its first control.
 *
 * Both: `aria-haspopup`, `aria-expanded` and `aria-controls` on the button; Escape closes and
 * returns the focus to the button, so does `close()` (an item's action done); a pointer press
 * outside closes and leaves the focus where the press put it. Open state is the component's own,
 * or controlled with `open`/`onOpenChange` (menus that poll the server while open).
 */
import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type KeyboardEvent as ReactKeyboardEvent,
  type ReactNode,
} from 'react';
import { buttonClass } from '../controls/Field.tsx';
import { useDismiss, type DismissCause } from './useDismiss.ts';

export type MenuKind = 'menu' | 'dialog';

export interface MenuControls {
  /** Closes the popover and puts the focus back on the button. */
  close(): void;
}

export interface MenuProps {
  /** The button's content (visible text). */
  label: ReactNode;
  kind?: MenuKind;
  /** Accessible name of a 'dialog' popover (a 'menu' is named by its button). */
  title?: string;
  /** data-testid of the button. */
  buttonTestId?: string;
  /** Hover text of the button. */
  buttonTitle?: string;
  /** Classes added to the shared button look. */
  buttonClassName?: string;
  disabled?: boolean;
  /** Width, padding and layout of the popover (its frame and position are shared). */
  panelClassName?: string;
  /** 'menu' only: shown above and below the items, outside `role="menu"`. */
  header?: ReactNode;
  footer?: ReactNode;
  /** Controlled open state (both or neither). */
  open?: boolean;
  onOpenChange?(open: boolean): void;
  /** The popover's content, or a function of the controls (to close after an action). */
  children: ReactNode | ((controls: MenuControls) => ReactNode);
}

const PANEL_CLASS = 'absolute right-0 z-20 mt-2 rounded-lg border border-slate-600 bg-slate-900 shadow-xl';
const FOCUSABLE = 'button:not(:disabled), [href], input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';
const ITEM = '[role="menuitem"]:not(:disabled):not([aria-disabled="true"])';

export function Menu({
  label,
  kind = 'menu',
  title,
  buttonTestId,
  buttonTitle,
  buttonClassName = '',
  disabled = false,
  panelClassName = '',
  header,
  footer,
  open: controlledOpen,
  onOpenChange,
  children,
}: MenuProps) {
  const [ownOpen, setOwnOpen] = useState(false);
  const open = controlledOpen ?? ownOpen;
  const setOpen = useCallback(
    (next: boolean) => {
      if (controlledOpen === undefined) setOwnOpen(next);
      onOpenChange?.(next);
    },
    [controlledOpen, onOpenChange],
  );
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const buttonId = useId();
  const panelId = useId();
  // Where the focus goes once the popover is on screen: first item/control, or last item.
  const focusOnOpen = useRef<'first' | 'last'>('first');

  const close = useCallback(() => {
    setOpen(false);
    button.current?.focus();
  }, [setOpen]);

  const dismiss = useCallback((cause: DismissCause) => (cause === 'escape' ? close() : setOpen(false)), [close, setOpen]);
  useDismiss(root, open, dismiss);

  useEffect(() => {
    if (!open || !panel.current) return;
    const targets = [...panel.current.querySelectorAll<HTMLElement>(kind === 'menu' ? ITEM : FOCUSABLE)];
    (focusOnOpen.current === 'last' ? targets.at(-1) : targets[0])?.focus();
    focusOnOpen.current = 'first';
  }, [open, kind]);

  function onButtonKey(e: ReactKeyboardEvent<HTMLButtonElement>) {
    if (kind !== 'menu' || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
    e.preventDefault();
    focusOnOpen.current = e.key === 'ArrowUp' ? 'last' : 'first';
    if (open) {
      const items = [...(panel.current?.querySelectorAll<HTMLElement>(ITEM) ?? [])];
      (e.key === 'ArrowUp' ? items.at(-1) : items[0])?.focus();
    } else setOpen(true);
  }

  function onMenuKey(e: ReactKeyboardEvent<HTMLDivElement>) {
    if (e.key === 'Tab') return setOpen(false);
    const items = [...e.currentTarget.querySelectorAll<HTMLElement>(ITEM)];
    if (items.length === 0) return;
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next =
      e.key === 'ArrowDown' ? (at + 1) % items.length
      : e.key === 'ArrowUp' ? (at <= 0 ? items.length - 1 : at - 1)
      : e.key === 'Home' ? 0
      : e.key === 'End' ? items.length - 1
      : null;
    if (next === null) return;
    e.preventDefault();
    items[next].focus();
  }

  const controls: MenuControls = { close };
  const content = typeof children === 'function' ? children(controls) : children;
  return (
    <div ref={root} className="relative">
      <button
        ref={button}
        id={buttonId}
        type="button"
        data-testid={buttonTestId}
        title={buttonTitle}
        aria-haspopup={kind}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        disabled={disabled}
        onClick={() => setOpen(!open)}
        onKeyDown={onButtonKey}
        className={buttonClass + (buttonClassName ? ' ' + buttonClassName : '')}
      >
        {label}
      </button>
      {open &&
        (kind === 'menu' ? (
          <div ref={panel} className={PANEL_CLASS + ' ' + panelClassName}>
            {header}
            <div id={panelId} role="menu" aria-labelledby={buttonId} aria-orientation="vertical" onKeyDown={onMenuKey} className="flex flex-col gap-1">
              {content}
            </div>
            {footer}
          </div>
        ) : (
          <div ref={panel} id={panelId} role="dialog" aria-label={title} className={PANEL_CLASS + ' ' + panelClassName}>
            {content}
          </div>
        ))}
    </div>
  );
}

/**
 * One action of a 'menu' Menu. Roving focus: items are reached with the arrow keys, not Tab
 * (tabIndex -1). The action decides whether the menu closes (the children function's
 * `close`), so an action that fails can leave its error on show.
 */
export function MenuItem({ className = '', children, ...rest }: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'role' | 'type'>) {
  return (
    <button
      {...rest}
      type="button"
      role="menuitem"
      tabIndex={-1}
      className={'rounded px-2 py-1 text-left text-sm text-slate-200 hover:bg-slate-800 focus:bg-slate-800 focus:outline-none disabled:opacity-50 ' + className}
    >
      {children}
    </button>
  );
}
