/** Route entries for /cps: the CPS pages (and Recharts) load only when an operator opens them. */
import { Suspense, lazy, type ReactNode } from "react";
import { SkeletonRows } from "../../components/Runtime";

const CpsPage = lazy(() => import("./CpsPage").then((m) => ({ default: m.CpsPage })));
const DeviceDetailPage = lazy(() => import("./DeviceDetailPage").then((m) => ({ default: m.DeviceDetailPage })));

function Loading({ children }: { children: ReactNode }) {
  return <Suspense fallback={<div className="p-5"><SkeletonRows /></div>}>{children}</Suspense>;
}

export function CpsRoute() {
  return <Loading><CpsPage /></Loading>;
}

export function CpsDeviceRoute() {
  return <Loading><DeviceDetailPage /></Loading>;
}
