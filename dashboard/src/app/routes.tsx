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
import { FirmwarePage } from "../pages/Firmware";
import { LoginPage } from "../pages/Login";
import { ApprovalsPage } from "../pages/Approvals";
import { ENDPOINTS, EntitiesPage, UEBA } from "../pages/Entities";
import { ProfilePage } from "../pages/Profile";
import { ReportsPage } from "../pages/Reports";
import { SoarPage } from "../pages/soar/SoarPage";
import { ThreatIntelPage } from "../pages/intel/ThreatIntelPage";
import { AgentsPage } from "../pages/agents/AgentsPage";
import { InvestigationDetailPage } from "../pages/agents/InvestigationDetail";
import { InvestigationsPage } from "../pages/agents/InvestigationsPage";
import { CpsDeviceRoute, CpsRoute } from "../pages/cps";
import { SettingsPage } from "../pages/Settings";
import { SiemPage } from "../pages/Siem";
import { SitesPage } from "../pages/Sites";
import { NetworkPage } from "../pages/network/NetworkPage";
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
        <Route path="/investigations" element={<Gate permission="agents:read"><InvestigationsPage /></Gate>} />
        <Route path="/investigations/:id" element={<Gate permission="agents:read"><InvestigationDetailPage /></Gate>} />
        <Route path="/agents" element={<Gate permission="agents:read"><AgentsPage /></Gate>} />
        <Route path="/cps" element={<Gate permission="cps:read"><CpsRoute /></Gate>} />
        <Route path="/cps/devices/:id" element={<Gate permission="cps:read"><CpsDeviceRoute /></Gate>} />
        <Route path="/firmware" element={<Gate permission="firmware:read"><FirmwarePage /></Gate>} />
        <Route path="/settings" element={<Gate permission="settings:manage"><SettingsPage /></Gate>} />
        <Route path="/profile" element={<ProfilePage />} />
        {/* /network/analyzer (no analyze endpoint yet) falls back to the command center. */}
        <Route path="/network/*" element={<Gate permission="alerts:read"><NetworkPage /></Gate>} />
        <Route path="/sites" element={<Gate permission="sites:read"><SitesPage /></Gate>} />
        <Route path="*" element={<section className="p-8"><h1 className="text-xl">Page not found</h1></section>} />
      </Route>
    </Routes>
  );
}
