/** What a previewed action would do, as returned by the API (`effects`). */
import type { Preview } from "../api/types";

export function PreviewPanel({ preview, onClose }: { preview: Preview | null; onClose: () => void }) {
  if (!preview) return null;
  return (
    <div data-testid="preview-result" className="card mb-4 border-sky-800">
      <div className="flex items-center">
        <h2 className="font-medium">Preview ({preview.mode}) — nothing was changed</h2>
        <button className="btn ml-auto" onClick={onClose}>Dismiss</button>
      </div>
      <pre className="mt-2 overflow-x-auto text-xs text-slate-300">{JSON.stringify(preview.effects, null, 2)}</pre>
    </div>
  );
}
