/** Network Analyzer shapes (generated OpenAPI schema) and the attack → query rule. */
import type { components } from "../../api/schema";

type S = components["schemas"];

export type AnalyzeRequest = S["AnalyzeRequest"];
export type Analysis = S["AnalyzeResponse"];
export type AnalyzerRange = NonNullable<AnalyzeRequest["time_range"]>;

export const RANGES: AnalyzerRange[] = ["15m", "1h", "24h", "7d", "all"];

/** The traffic between an attack's endpoints, either direction (the API builds the same query). */
export function attackQuery(src?: string | null, dst?: string | null): string {
  return [src, dst].filter(Boolean).map((ip) => `(src_ip:"${ip}" OR dst_ip:"${ip}")`).join(" AND ");
}

/** "last 24h", or "all stored events" for the unbounded range. */
export function rangeLabel(range: string): string {
  return range === "all" ? "all stored events" : `last ${range}`;
}
