/**
 * Route table: every protected page behind the auth guard and its gate permission.
 *
 * The alert queue (the analyst's first stop) and the login page ship in the entry bundle; every
 * other page is a lazy chunk, so a cold load of `/alerts` parses only what it renders.
 */
import { Suspense, lazy, type ComponentType, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { Layout } from "../components/Layout";
import { Forbidden, SkeletonRows } from "../components/Runtime";
import { AlertsPage } from "../pages/Alerts";
import { LoginPage } from "../pages/Login";
import { AuthGuard } from "./AuthGuard";
import { landingPath } from "./nav";
import { useSession } from "./session";

function lazyPage<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  return lazy(() => load().then((m) => ({ default: m[name] })));
}

const OverviewPage = lazyPage(() => import("../pages/Overview"), "OverviewPage");
const AlertDetailPage = lazyPage(() => import("../pages/AlertDetail"), "AlertDetailPage");
const CasesPage = lazyPage(() => import("../pages/Cases"), "CasesPage");
const CaseDetailPage = lazyPage(() => import("../pages/CaseDetail"), "CaseDetailPage");
const SiemPage = lazyPage(() => import("../pages/Siem"), "SiemPage");
const DetectionsPage = lazyPage(() => import("../pages/Detections"), "DetectionsPage");
const CoveragePage = lazyPage(() => import("../pages/detections/CoveragePage"), "CoveragePage");
const PacksPage = lazyPage(() => import("../pages/detections/Packs"), "PacksPage");
const ApprovalsPage = lazyPage(() => import("../pages/Approvals"), "ApprovalsPage");
const ReportsPage = lazyPage(() => import("../pages/Reports"), "ReportsPage");
const SoarPage = lazyPage(() => import("../pages/soar/SoarPage"), "SoarPage");
const EndpointsPage = lazyPage(() => import("../pages/Entities"), "EndpointsPage");
const UebaPage = lazyPage(() => import("../pages/Entities"), "UebaPage");
const ThreatIntelPage = lazyPage(() => import("../pages/intel/ThreatIntelPage"), "ThreatIntelPage");
const InvestigationsPage = lazyPage(() => import("../pages/agents/InvestigationsPage"), "InvestigationsPage");
const InvestigationDetailPage = lazyPage(() => import("../pages/agents/InvestigationDetail"), "InvestigationDetailPage");
const AgentsPage = lazyPage(() => import("../pages/agents/AgentsPage"), "AgentsPage");
const CpsPage = lazyPage(() => import("../pages/cps/CpsPage"), "CpsPage");
const DeviceDetailPage = lazyPage(() => import("../pages/cps/DeviceDetailPage"), "DeviceDetailPage");
const FirmwarePage = lazyPage(() => import("../pages/Firmware"), "FirmwarePage");
const SettingsPage = lazyPage(() => import("../pages/Settings"), "SettingsPage");
const ProfilePage = lazyPage(() => import("../pages/Profile"), "ProfilePage");
const NetworkPage = lazyPage(() => import("../pages/network/NetworkPage"), "NetworkPage");
const NetworkAnalyzerPage = lazyPage(() => import("../pages/network/NetworkAnalyzer"), "NetworkAnalyzerPage");
const SitesPage = lazyPage(() => import("../pages/Sites"), "SitesPage");

function Loading({ children }: { children: ReactNode }) {
  return <Suspense fallback={<div className="p-5"><SkeletonRows /></div>}>{children}</Suspense>;
}

function Gate({ permission, children }: { permission: string; children: ReactNode }) {
  const { can } = useSession();
  return can(permission) ? <Loading>{children}</Loading> : <Forbidden permission={permission} />;
}

function Home() {
  const { can } = useSession();
  return can("dashboard:read") ? <Loading><OverviewPage /></Loading> : <Navigate to={landingPath(can)} replace />;
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
        <Route path="/detections/coverage" element={<Gate permission="siem:read"><CoveragePage /></Gate>} />
        <Route path="/detections/packs" element={<Gate permission="siem:read"><PacksPage /></Gate>} />
        <Route path="/approvals" element={<Gate permission="approvals:read"><ApprovalsPage /></Gate>} />
        <Route path="/reports" element={<Gate permission="reports:read"><ReportsPage /></Gate>} />
        <Route path="/soar" element={<Gate permission="playbooks:read"><SoarPage /></Gate>} />
        <Route path="/endpoints" element={<Gate permission="siem:read"><EndpointsPage /></Gate>} />
        <Route path="/ueba" element={<Gate permission="siem:read"><UebaPage /></Gate>} />
        <Route path="/threat-intel" element={<Gate permission="iocs:read"><ThreatIntelPage /></Gate>} />
        <Route path="/investigations" element={<Gate permission="agents:read"><InvestigationsPage /></Gate>} />
        <Route path="/investigations/:id" element={<Gate permission="agents:read"><InvestigationDetailPage /></Gate>} />
        <Route path="/agents" element={<Gate permission="agents:read"><AgentsPage /></Gate>} />
        <Route path="/cps" element={<Gate permission="cps:read"><CpsPage /></Gate>} />
        <Route path="/cps/devices/:id" element={<Gate permission="cps:read"><DeviceDetailPage /></Gate>} />
        <Route path="/firmware" element={<Gate permission="firmware:read"><FirmwarePage /></Gate>} />
        <Route path="/settings" element={<Gate permission="settings:manage"><SettingsPage /></Gate>} />
        <Route path="/profile" element={<Loading><ProfilePage /></Loading>} />
        <Route path="/network/analyzer" element={<Gate permission="agents:read"><NetworkAnalyzerPage /></Gate>} />
        <Route path="/network/*" element={<Gate permission="alerts:read"><NetworkPage /></Gate>} />
        <Route path="/sites" element={<Gate permission="sites:read"><SitesPage /></Gate>} />
        <Route path="*" element={<section className="p-8"><h1 className="text-xl">Page not found</h1></section>} />
      </Route>
    </Routes>
  );
}
