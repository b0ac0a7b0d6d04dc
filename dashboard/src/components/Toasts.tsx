/** Transient notices: action results, mode blocks (409), failures. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { setModeBlockedListener } from "../api/client";

type Tone = "info" | "error" | "success";
interface Toast {
  id: number;
  text: string;
  tone: Tone;
}

const ToastContext = createContext<(text: string, tone?: Tone) => void>(() => undefined);
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((text: string, tone: Tone = "info") => {
    const id = nextId++;
    setToasts((all) => [...all, { id, text, tone }]);
    window.setTimeout(() => setToasts((all) => all.filter((t) => t.id !== id)), 6000);
  }, []);
  useEffect(() => setModeBlockedListener((text) => push(text, "error")), [push]);
  const tones: Record<Tone, string> = {
    info: "border-sky-700 bg-sky-950",
    error: "border-rose-700 bg-rose-950",
    success: "border-emerald-700 bg-emerald-950",
  };
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="fixed right-4 bottom-4 z-50 flex w-96 flex-col gap-2" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} data-testid="toast" className={`rounded border px-4 py-3 text-sm shadow-lg ${tones[t.tone]}`}>
            {t.text}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast() {
  return useContext(ToastContext);
}
