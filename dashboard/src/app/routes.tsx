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
import { ApprovalsPage } from "../pages/Approvals";
import { ENDPOINTS, EntitiesPage, UEBA } from "../pages/Entities";
import { ProfilePage } from "../pages/Profile";
import { ReportsPage } from "../pages/Reports";
import { SoarPage } from "../pages/soar/SoarPage";
import { ThreatIntelPage } from "../pages/intel/ThreatIntelPage";
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
  { path: "/investigations/*", title: "Investigations", permission: "agents:read", feature: "AI agent investigations", endpoints: ["GET /api/v1/investigations"] },
  { path: "/network/*", title: "Network Command Center", permission: "alerts:read", feature: "Network attack correlation", endpoints: ["GET /api/v1/network/attacks", "GET /api/v1/agents/mesh"] },
  { path: "/agents", title: "Agents", permission: "agents:read", feature: "The AI agent fleet", endpoints: ["GET /api/v1/agents"] },
  { path: "/cps/*", title: "CPS/IoT", permission: "cps:read", feature: "CPS/IoT device monitoring and attestation", endpoints: ["GET /api/v1/cps/devices", "/ws/cps"] },
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
        <Route path="/approvals" element={<Gate permission="approvals:read"><ApprovalsPage /></Gate>} />
        <Route path="/reports" element={<Gate permission="reports:read"><ReportsPage /></Gate>} />
        <Route path="/soar" element={<Gate permission="playbooks:read"><SoarPage /></Gate>} />
        <Route path="/endpoints" element={<Gate permission="siem:read"><EntitiesPage key="hosts" kind={ENDPOINTS} /></Gate>} />
        <Route path="/ueba" element={<Gate permission="siem:read"><EntitiesPage key="users" kind={UEBA} /></Gate>} />
        <Route path="/threat-intel" element={<Gate permission="iocs:read"><ThreatIntelPage /></Gate>} />
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
