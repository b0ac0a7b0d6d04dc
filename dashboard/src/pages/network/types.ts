/** Network attack, mesh and site shapes, taken from the generated OpenAPI schema. */
import type { components } from "../../api/schema";

type S = components["schemas"];

export type Attack = S["NetworkAttackOut"];
export type AttackDetail = S["NetworkAttackDetail"];
export type Mesh = S["MeshOut"];
export type Topology = S["TopologyOut"];
export type Site = S["SiteOut"];
export type SiteLink = S["SiteLinkOut"];

/** Filter values the API accepts (spec §13.8). */
export const CATEGORIES = ["c2_beacon", "lateral_movement", "credential_access", "exfiltration", "recon", "other"];
export const FAMILIES = ["ids", "pcap", "dns", "flow", "proxy", "other"];
export { ATTACK_STATUSES as STATUSES } from "../../api/enums";

// The API's category keys as the analyst reads them (c2_beacon covers the whole command-and-control tactic).
const LABELS: Record<string, string> = { c2_beacon: "command and control", recon: "reconnaissance" };

export function label(value: string): string {
  return LABELS[value] ?? value.replace(/_/g, " ");
}

export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}
