import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, asApiError } from "../api";

/** A resource read from the API: the last value, the last failure, and whether a read is under way. */
export interface Resource<T> {
  data: T | null;
  error: ApiError | null;
  isLoading: boolean;
  reload(): void;
}

/**
 * Reads `load` at once, again every `refreshMs` (0: never) and on `reload()`, keeping the last value
 * while a new read is under way and after a failed one (the failure is shown beside it). A refused
 * session is handed to `onUnauthorized` instead.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: { refreshMs?: number; onUnauthorized?: () => void } = {},
): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [isLoading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const latest = useRef({ load, onUnauthorized: options.onUnauthorized });
  latest.current = { load, onUnauthorized: options.onUnauthorized };

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` is the reload trigger.
  useEffect(() => {
    const aborted = new AbortController();
    setLoading(true);
    latest.current.load(aborted.signal).then(
      (value) => {
        if (aborted.signal.aborted) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (aborted.signal.aborted) return;
        const apiError = asApiError(failure);
        if (apiError.isUnauthorized) latest.current.onUnauthorized?.();
        setError(apiError);
        setLoading(false);
      },
    );
    return () => aborted.abort();
  }, [generation]);

  const refreshMs = options.refreshMs ?? 0;
  useEffect(() => {
    if (refreshMs <= 0) return;
    const timer = setInterval(() => setGeneration((n) => n + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { data, error, isLoading, reload };
}
