import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { asApiError } from "../api";

/**
 * A button whose action is asked again before it runs: a small panel says what will happen (with
 * any fields the action needs), then Confirm runs it and reports how it went.
 */
export function ConfirmAction({
  label,
  question,
  confirmLabel = "Confirm",
  children,
  canConfirm = true,
  isAvailable = true,
  onConfirm,
  onDone,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  children?: ReactNode;
  canConfirm?: boolean;
  /** False once the action no longer applies (a run that ended): the button goes, the outcome stays. */
  isAvailable?: boolean;
  onConfirm(): Promise<string>;
  onDone?(): void;
}) {
  const [isOpen, setOpen] = useState(false);
  const [isBusy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  // Opened from the keyboard, the panel takes the focus: its first field or button.
  useEffect(() => {
    if (isOpen) panel.current?.querySelector<HTMLElement>("input, textarea, select, button")?.focus();
  }, [isOpen]);
  const confirm = async () => {
    setBusy(true);
    try {
      const text = await onConfirm();
      setOutcome({ ok: true, text });
      setOpen(false);
      onDone?.();
    } catch (error) {
      setOutcome({ ok: false, text: asApiError(error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="confirm-action">
      {isAvailable && (
        <button
          type="button"
          onClick={() => {
            setOpen(true);
            setOutcome(null);
          }}
          aria-expanded={isOpen}
        >
          {label}
        </button>
      )}
      {isAvailable && isOpen && (
        <div className="confirm-action__panel" role="dialog" aria-labelledby={titleId} ref={panel}>
          <p id={titleId}>{question}</p>
          {children}
          <div className="confirm-action__buttons">
            <button type="button" onClick={confirm} disabled={isBusy || !canConfirm}>
              {confirmLabel}
            </button>
            <button type="button" onClick={() => setOpen(false)} disabled={isBusy}>
              Back
            </button>
          </div>
        </div>
      )}
      {outcome && (
        <p className={outcome.ok ? "confirm-action__done" : "alert"} role={outcome.ok ? "status" : "alert"}>
          {outcome.text}
        </p>
      )}
    </div>
  );
}
