import { useEffect, useRef } from "react";

/**
 * Calls `reload` whenever `key` changes after the first render (a filter in the address changed),
 * so a `useResource` reads again with the new filter.
 */
export function useReloadOn(key: string, reload: () => void): void {
  const seen = useRef(key);
  useEffect(() => {
    if (seen.current === key) return;
    seen.current = key;
    reload();
  }, [key, reload]);
}
