/** The SOAR page frame: title, runtime banner and the Playbooks / Executions / Rules tabs. */
import type { ReactNode } from "react";
import { useSearchState } from "../../hooks/useSearchState";
import { Page } from "../../components/Runtime";

export const SOAR_TABS = { playbooks: "Playbooks", executions: "Executions", rules: "Automation rules" } as const;
export type SoarTab = keyof typeof SOAR_TABS;

export function useSoarTab(): SoarTab {
  const tab = useSearchState().get("tab");
  return tab in SOAR_TABS ? (tab as SoarTab) : "playbooks";
}

export function SoarShell({ unavailable, toolbar, children }: { unavailable: boolean; toolbar?: ReactNode; children: ReactNode }) {
  const { set } = useSearchState();
  const tab = useSoarTab();
  return (
    <Page title="SOAR" unavailable={unavailable} toolbar={toolbar}>
      <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-800">
        {(Object.keys(SOAR_TABS) as SoarTab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className="tab" onClick={() => set({ tab: t, status: null })}>{SOAR_TABS[t]}</button>
        ))}
      </div>
      {children}
    </Page>
  );
}
