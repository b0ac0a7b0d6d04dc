/** Route table: every protected page behind the auth guard and its gate permission. */
import { Suspense, lazy, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { Layout } from "../components/Layout";
import { Forbidden, SkeletonRows } from "../components/Runtime";
import { AlertDetailPage } from "../pages/AlertDetail";
import { AlertsPage } from "../pages/Alerts";
import { CaseDetailPage } from "../pages/CaseDetail";
import { CasesPage } from "../pages/Cases";
import { DetectionsPage } from "../pages/Detections";
import { LoginPage } from "../pages/Login";
import { NotAvailablePage } from "../pages/NotAvailable";
import { ProfilePage } from "../pages/Profile";
import { SettingsPage } from "../pages/Settings";
import { SiemPage } from "../pages/Siem";
import { AuthGuard } from "./AuthGuard";
import { landingPath } from "./nav";
import { useSession } from "./session";

// Recharts is only needed by the overview: keep it out of the other pages' first load.
const OverviewPage = lazy(() => import("../pages/Overview").then((m) => ({ default: m.OverviewPage })));

function Gate({ permission, children }: { permission: string; children: ReactNode }) {
  const { can } = useSession();
  return can(permission) ? <>{children}</> : <Forbidden permission={permission} />;
}

function Home() {
  const { can } = useSession();
  return can("dashboard:read") ? (
    <Suspense fallback={<div className="p-5"><SkeletonRows /></div>}>
      <OverviewPage />
    </Suspense>
  ) : <Navigate to={landingPath(can)} replace />;
}

const PENDING: Array<{ path: string; title: string; permission: string; feature: string; endpoints: string[] }> = [
  { path: "/approvals", title: "Approvals", permission: "approvals:read", feature: "The human approval queue for response actions", endpoints: ["GET /api/v1/approvals", "/ws/approvals"] },
  { path: "/investigations/*", title: "Investigations", permission: "agents:read", feature: "AI agent investigations", endpoints: ["GET /api/v1/investigations"] },
  { path: "/reports", title: "Reports", permission: "reports:read", feature: "Case report generation", endpoints: ["GET /api/v1/reports"] },
  { path: "/threat-intel", title: "Threat Intel", permission: "iocs:read", feature: "The IOC database and enrichment", endpoints: ["GET /api/v1/iocs"] },
  { path: "/ueba", title: "UEBA", permission: "siem:read", feature: "User behaviour analytics", endpoints: ["GET /api/v1/entities/users"] },
  { path: "/network/*", title: "Network Command Center", permission: "alerts:read", feature: "Network attack correlation", endpoints: ["GET /api/v1/network/attacks", "GET /api/v1/agents/mesh"] },
  { path: "/agents", title: "Agents", permission: "agents:read", feature: "The AI agent fleet", endpoints: ["GET /api/v1/agents"] },
  { path: "/cps/*", title: "CPS/IoT", permission: "cps:read", feature: "CPS/IoT device monitoring and attestation", endpoints: ["GET /api/v1/cps/devices", "/ws/cps"] },
  { path: "/endpoints", title: "Endpoints", permission: "siem:read", feature: "The endpoint inventory", endpoints: ["GET /api/v1/entities/hosts"] },
  { path: "/soar", title: "SOAR", permission: "playbooks:read", feature: "Playbooks, executions and automation rules", endpoints: ["GET /api/v1/playbooks", "GET /api/v1/executions"] },
  { path: "/sites", title: "Sites", permission: "sites:read", feature: "Federation across sites", endpoints: ["GET /api/v1/sites", "GET /api/v1/system/topology"] },
  { path: "/firmware", title: "Firmware", permission: "firmware:read", feature: "The firmware registry and rollouts", endpoints: ["GET /api/v1/firmware/bundles"] },
];

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route element={<AuthGuard><Layout /></AuthGuard>}>
        <Route index element={<Home />} />
        <Route path="/alerts" element={<Gate permission="alerts:read"><AlertsPage /></Gate>} />
        <Route path="/alerts/:id" element={<Gate permission="alerts:read"><AlertDetailPage /></Gate>} />
        <Route path="/cases" element={<Gate permission="cases:read"><CasesPage /></Gate>} />
        <Route path="/cases/:id" element={<Gate permission="cases:read"><CaseDetailPage /></Gate>} />
        <Route path="/siem" element={<Gate permission="siem:read"><SiemPage /></Gate>} />
        <Route path="/detections" element={<Gate permission="siem:read"><DetectionsPage /></Gate>} />
        <Route path="/settings" element={<Gate permission="settings:manage"><SettingsPage /></Gate>} />
        <Route path="/profile" element={<ProfilePage />} />
        {PENDING.map((p) => (
          <Route key={p.path} path={p.path} element={<Gate permission={p.permission}><NotAvailablePage title={p.title} feature={p.feature} endpoints={p.endpoints} /></Gate>} />
        ))}
        <Route path="*" element={<section className="p-8"><h1 className="text-xl">Page not found</h1></section>} />
      </Route>
    </Routes>
  );
}
