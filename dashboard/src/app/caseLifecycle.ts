/** Mirror of aurorasoc/services/case_lifecycle.py so the console offers only legal moves (the API still decides). */

const FORWARD = ["open", "in_progress", "pending_approval", "contained", "eradicated", "recovered", "resolved", "closed"];
const RETURNS = new Set(["contained", "eradicated", "recovered", "resolved"]);
const NEEDS_CLOSE = new Set(["resolved", "closed"]);

function normalise(status: string): string {
  return status === "investigating" || status === "escalated" ? "in_progress" : status;
}

export function allowedNext(status: string): string[] {
  const current = normalise(status);
  if (current === "closed") return ["in_progress"];
  const later = FORWARD.slice(FORWARD.indexOf(current) + 1);
  return RETURNS.has(current) ? ["in_progress", ...later] : later;
}

export function needsClose(current: string, target: string): boolean {
  return NEEDS_CLOSE.has(target) || normalise(current) === "closed";
}
