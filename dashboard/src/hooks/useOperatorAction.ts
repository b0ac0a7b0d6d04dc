/** An operator write that may run as `?preview=true`: previews are shown, real runs invalidate. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { isPreview, previewQuery } from "../api/client";
import type { Preview } from "../api/types";
import { useToast } from "../components/Toasts";

interface Options<R> {
  /** The typed call; `query` carries `preview=true` for a preview and is undefined for the real run. */
  request: (query: ReturnType<typeof previewQuery>) => Promise<R>;
  invalidate: string[][];
  onDone?: (result: Exclude<R, Preview>) => void;
}

export function useOperatorAction<R>({ request, invalidate, onDone }: Options<R>) {
  const client = useQueryClient();
  const toast = useToast();
  const [preview, setPreview] = useState<Preview | null>(null);
  const mutation = useMutation({
    mutationFn: (asPreview: boolean) => request(previewQuery(asPreview)),
    onSuccess: (result) => {
      if (isPreview(result)) {
        setPreview(result);
        return;
      }
      invalidate.forEach((queryKey) => void client.invalidateQueries({ queryKey }));
      onDone?.(result as Exclude<R, Preview>);
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
