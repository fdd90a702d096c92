'use client';
/** A labelled control with its error right underneath (never a broken page). */
import type { ReactNode } from 'react';

export function Field({
  label,
  htmlFor,
  error,
  errorTestId,
  hint,
  children,
}: {
  label: string;
  htmlFor?: string;
  error?: string | null;
  errorTestId?: string;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={htmlFor} className="text-[11px] font-medium uppercase tracking-wide text-slate-400">
        {label}
      </label>
      {children}
      {hint && !error && <p className="text-[11px] text-slate-500">{hint}</p>}
      {error && (
        <p role="alert" data-testid={errorTestId} className="text-xs text-rose-400">
          {error}
        </p>
      )}
    </div>
  );
}

export const inputClass =
  'w-full rounded-md border border-slate-600 bg-slate-900 px-2 py-1 text-sm text-slate-100 placeholder:text-slate-500 ' +
  'focus:border-sky-400 focus:outline-none focus:ring-1 focus:ring-sky-400 disabled:cursor-not-allowed disabled:opacity-50';

export const buttonClass =
  'rounded-md border border-slate-600 bg-slate-800 px-3 py-1 text-sm text-slate-100 hover:bg-slate-700 ' +
  'focus:outline-none focus-visible:ring-1 focus-visible:ring-sky-400 disabled:cursor-not-allowed disabled:opacity-50';
