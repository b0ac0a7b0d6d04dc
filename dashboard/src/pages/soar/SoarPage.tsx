/** SOAR (/soar): Playbooks, Executions and Automation rules tabs, one read per tab. */
import { ExecutionsTab } from "./ExecutionsTab";
import { PlaybooksTab } from "./PlaybooksTab";
import { RulesTab } from "./RulesTab";
import { useSoarTab } from "./SoarShell";

export function SoarPage() {
  const tab = useSoarTab();
  if (tab === "executions") return <ExecutionsTab />;
  if (tab === "rules") return <RulesTab />;
  return <PlaybooksTab />;
}
