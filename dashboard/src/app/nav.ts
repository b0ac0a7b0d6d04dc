/** Sidebar groups and the permission gating each page (spec §24.1, §24.3). */

export interface NavItem {
  path: string;
  label: string;
  permission: string | null;
}

export interface NavGroup {
  title: string;
  items: NavItem[];
}

export const NAV: NavGroup[] = [
  {
    title: "Operations",
    items: [
      { path: "/", label: "Overview", permission: "dashboard:read" },
      { path: "/alerts", label: "Alerts", permission: "alerts:read" },
      { path: "/cases", label: "Cases", permission: "cases:read" },
      { path: "/approvals", label: "Approvals", permission: "approvals:read" },
      { path: "/investigations", label: "Investigations", permission: "agents:read" },
      { path: "/reports", label: "Reports", permission: "reports:read" },
    ],
  },
  {
    title: "Intelligence",
    items: [
      { path: "/threat-intel", label: "Threat Intel", permission: "iocs:read" },
      { path: "/siem", label: "SIEM", permission: "siem:read" },
      { path: "/detections", label: "Detections", permission: "siem:read" },
      { path: "/ueba", label: "UEBA", permission: "siem:read" },
      { path: "/network", label: "Network", permission: "alerts:read" },
    ],
  },
  {
    title: "Infrastructure",
    items: [
      { path: "/agents", label: "Agents", permission: "agents:read" },
      { path: "/cps", label: "CPS/IoT", permission: "cps:read" },
      { path: "/endpoints", label: "Endpoints", permission: "siem:read" },
      { path: "/soar", label: "SOAR", permission: "playbooks:read" },
    ],
  },
  {
    title: "System",
    items: [
      { path: "/sites", label: "Sites", permission: "sites:read" },
      { path: "/firmware", label: "Firmware", permission: "firmware:read" },
      { path: "/settings", label: "Settings", permission: "settings:manage" },
    ],
  },
];

/** Where to land after sign-in: `/` with dashboard:read, else the first permitted page. */
export function landingPath(can: (permission: string) => boolean): string {
  for (const item of NAV.flatMap((g) => g.items)) {
    if (item.permission === null || can(item.permission)) return item.path;
  }
  return "/profile";
}
