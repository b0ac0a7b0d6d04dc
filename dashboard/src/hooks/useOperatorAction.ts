/** An operator write that may run as `?preview=true`: previews are shown, real runs invalidate. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client";
import type { Preview } from "../api/types";
import { useToast } from "../components/Toasts";

interface Options<T> {
  path: string;
  body?: unknown;
  invalidate: string[][];
  onDone?: (result: T) => void;
}

export function useOperatorAction<T>({ path, body, invalidate, onDone }: Options<T>) {
  const client = useQueryClient();
  const toast = useToast();
  const [preview, setPreview] = useState<Preview | null>(null);
  const mutation = useMutation({
    mutationFn: (asPreview: boolean) =>
      api<T | Preview>(path, { method: "POST", body: body ?? {}, query: asPreview ? { preview: true } : undefined }),
    onSuccess: (result) => {
      if (result && typeof result === "object" && "preview" in result) {
        setPreview(result as Preview);
        return;
      }
      invalidate.forEach((queryKey) => void client.invalidateQueries({ queryKey }));
      onDone?.(result as T);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  return {
    run: () => mutation.mutate(false),
    preview: () => mutation.mutate(true),
    busy: mutation.isPending,
    lastPreview: preview,
    clearPreview: () => setPreview(null),
  };
}
