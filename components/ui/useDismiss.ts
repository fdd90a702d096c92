'use client';
/**
 * Closes a popover on a pointer press outside `ref` or on Escape. `close` learns which, so a
 * popover can put the focus back on its button after Escape (after an outside press the focus
 * stays where the press put it).
 */
import { useEffect, type RefObject } from 'react';

export type DismissCause = 'outside' | 'escape';

export function useDismiss(ref: RefObject<HTMLElement | null>, open: boolean, close: (cause: DismissCause) => void): void {
  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (ref.current && e.target instanceof Node && !ref.current.contains(e.target)) close('outside');
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close('escape');
    };
    // Capture: a press on something that stops propagation still closes the popover.
    document.addEventListener('pointerdown', onPointer, true);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer, true);
      document.removeEventListener('keydown', onKey);
    };
  }, [ref, open, close]);
}
