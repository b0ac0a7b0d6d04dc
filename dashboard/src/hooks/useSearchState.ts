/** Filters live in the URL (shareable, back button works); setting one resets paging. */
import { useSearchParams } from "react-router-dom";

export function useSearchState() {
  const [params, setParams] = useSearchParams();
  const get = (key: string) => params.get(key) ?? "";
  const set = (changes: Record<string, string | number | null>) => {
    const next = new URLSearchParams(params);
    if (!("skip" in changes)) next.delete("skip");
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, String(value));
    }
    setParams(next, { replace: true });
  };
  return { get, set, skip: Number(params.get("skip") ?? 0) };
}
